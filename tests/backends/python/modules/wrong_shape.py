"""Test module: returns O in [B, H, S, D] instead of the harness's [B, S, H, D] (an `error` row naming the layout)."""
import numpy as np

import numpy_reference as ref


def describe():
    return {"name": "test.wrong_shape", "device": "cpu", "passes": ["fwd"]}


prepare = ref.prepare


def forward(state):
    o, lse = ref.forward(state)
    return np.transpose(o, (0, 2, 1, 3)), lse
