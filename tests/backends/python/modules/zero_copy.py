"""Test module: refuses inputs that were copied or are writable (the bridge must pass views of the harness's buffers)."""
import numpy_reference as ref


def describe():
    return {"name": "test.zero_copy", "device": "cpu", "passes": ["fwd", "bwd"]}


def prepare(case, q, k, v, dout, mask):
    for name, x in (("q", q), ("k", k), ("v", v), ("dout", dout)):
        if x is None:
            continue
        if x.flags.owndata or x.flags.writeable or x.dtype.name != "float32" or not x.flags.c_contiguous:
            raise AssertionError("%s was copied or is writable: %s" % (name, x.flags))
    if case["pass"] == "bwd" and dout is None:
        raise AssertionError("a bwd pass must receive dout")
    return ref.prepare(case, q, k, v, dout, mask)


forward = ref.forward
backward = ref.backward
