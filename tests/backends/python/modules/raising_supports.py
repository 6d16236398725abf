"""Test module: its supports() raises (the row must be `error`, the sweep goes on)."""
import numpy_reference as ref


def describe():
    return {"name": "test.raising_supports", "device": "cpu", "passes": ["fwd"]}


def supports(case):
    raise RuntimeError("supports is broken on purpose")


prepare = ref.prepare
forward = ref.forward
