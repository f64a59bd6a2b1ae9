"""Who is acting. Services take ``by=``; web requests default to the logged-in user.

A shared counter login may act on behalf of a clerk who switched in with a PIN: that is
an ``acting_as`` override, so audit rows name the clerk, not the shared account.
"""
import contextvars
from contextlib import contextmanager

_actor = contextvars.ContextVar("houqin_actor", default=None)


def username_of(user):
    if user is None:
        return None
    if isinstance(user, str):
        return user
    return getattr(user, "username", None) or str(user)


def actor():
    """Username of whoever is acting now ("system" outside requests and services)."""
    override = _actor.get()
    if override:
        return override
    try:
        from flask import g, has_request_context
        if has_request_context():
            if getattr(g, "houqin_actor", None):
                return g.houqin_actor
            # the user of a token request acts exactly as the one of a browser session
            from .permissions import request_user
            user = request_user()
            if user is not None:
                return user.username
    except RuntimeError:  # no app context: a script or a test helper
        pass
    return "system"


@contextmanager
def acting_as(user):
    token = _actor.set(username_of(user))
    try:
        yield
    finally:
        _actor.reset(token)
