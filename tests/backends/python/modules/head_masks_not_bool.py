"""Test module that breaks the protocol: describe()['head_masks'] is not True or False."""


def describe():
    return {"name": "test.head_masks_not_bool", "head_masks": "yes"}


def prepare(case, q, k, v, dout, mask):
    return None


def forward(state):
    return None
