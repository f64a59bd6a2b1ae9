"""Demo data: filled in below."""


def load(session):
    pass
