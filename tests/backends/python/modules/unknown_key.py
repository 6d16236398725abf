"""Test module that breaks the protocol: describe() has a key the bridge does not know."""


def describe():
    return {"name": "test.unknown_key", "colour": "blue"}


def prepare(case, q, k, v, dout, mask):
    return None


def forward(state):
    return None
