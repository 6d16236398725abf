"""Test module: one run(state, pass) instead of forward/backward, wrapping the NumPy reference."""
import numpy_reference as ref


def describe():
    return {"name": "test.run_protocol", "device": "cpu", "dtypes": ["fp32", "bf16"]}


prepare = ref.prepare


def run(state, pass_name):
    if pass_name == "fwd":
        return ref.forward(state)
    if pass_name == "bwd":
        return ref.backward(state)
    return ref.forward(state) + ref.backward(state)
