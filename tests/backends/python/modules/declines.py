"""Test module: supports() answers with a reason for causal masks (the row must be `unsupported`)."""
import numpy_reference as ref


def describe():
    return {"name": "test.declines", "device": "cpu", "passes": ["fwd"]}


def supports(case):
    return "no causal today" if case["mask"] == "causal" else True


prepare = ref.prepare
forward = ref.forward
