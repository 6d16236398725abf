"""Test module that breaks the protocol: lists the bwd pass without a backward()."""


def describe():
    return {"name": "test.no_backward", "passes": ["fwd", "bwd"]}


def prepare(case, q, k, v, dout, mask):
    return None


def forward(state):
    return None
