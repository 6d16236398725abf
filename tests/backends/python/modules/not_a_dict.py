"""Test module that breaks the protocol: describe() returns a list."""


def describe():
    return ["test.not_a_dict"]


def prepare(case, q, k, v, dout, mask):
    return None


def forward(state):
    return None
