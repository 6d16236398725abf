"""Test module that cannot even be imported."""
def describe(:
    pass
