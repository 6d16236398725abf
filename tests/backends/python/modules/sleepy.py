"""Test module: slow prepare, 30 ms forward; only the forward may be timed."""
import time

import numpy_reference as ref


def describe():
    return {"name": "test.sleepy", "device": "cpu", "passes": ["fwd"]}


def prepare(case, q, k, v, dout, mask):
    time.sleep(0.5)
    return ref.prepare(case, q, k, v, dout, mask)


def forward(state):
    time.sleep(0.03)
    return ref.forward(state)
