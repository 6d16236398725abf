"""Test module: its prepare runs out of memory (the row must be `oom`)."""


def describe():
    return {"name": "test.out_of_memory", "device": "cpu", "passes": ["fwd"]}


def prepare(case, q, k, v, dout, mask):
    raise MemoryError("cannot allocate 1 TiB")


def forward(state):
    return None
