"""Test module: follows the protocol, but its forward raises (the row must be `error` with this message)."""
import numpy_reference as ref


def describe():
    return {"name": "test.raising", "device": "cpu", "passes": ["fwd"]}


prepare = ref.prepare


def forward(state):
    raise ValueError("kernel exploded on purpose")
