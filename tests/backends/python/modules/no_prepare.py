"""Test module that breaks the protocol: no prepare()."""


def describe():
    return {"name": "test.no_prepare"}


def forward(state):
    return None
