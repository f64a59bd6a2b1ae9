"""Field policy: which fields of a document people may write through the generic paths,
and when (ARCHITECTURE §4).

Declared once per document in ``Meta.fields``::

    fields = {"title": edit(), "code": ONCE, "price": edit(states=("draft",)),
              "result": edit(on_submit=True), "override": edit(permission="override")}

(a plain list of names means ``edit()`` for each). The generated API (POST/PUT), the HTML
add/edit forms and the CSV/Excel import all ask ``refusals()``; anything else — computed
results, ledgers, states, stamps, hashes — is set only by the document's services. The
default is closed: a column nobody declared is never writable by a generic path, so a field a
module adds later cannot be written by accident.
"""
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect

from .errors import ValidationError


@dataclass(frozen=True)
class Editable:
    create: bool = True            # may be given when the record is created
    update: bool = True            # may change afterwards (False: set once, at creation)
    states: tuple | None = None    # values of Meta.state_field in which it may change (None: any)
    on_submit: bool = False        # stays writable on a submitted document
    permission: str | None = None  # an extra action on the document's permission, e.g. "override"


def edit(**kw):
    return Editable(**kw)


ONCE = Editable(update=False)            # given at creation, then fixed (codes, parties)
LATER = Editable(create=False)           # filled in after creation only

SYSTEM = _l("is set by the system")
UNKNOWN = _l("is not a field of this record")
NOT_ON_CREATE = _l("cannot be given when the record is created")
ONLY_ON_CREATE = _l("can be set only when the record is created")
SUBMITTED = _l("is read-only once submitted")
CANCELLED = _l("is read-only once cancelled")
IN_STATE = _l("cannot be changed in the current state")
NO_PERMISSION = _l("needs a permission you do not have")


def normalise(declared):
    if declared is None:
        return {}
    if isinstance(declared, dict):
        return {k: (v if isinstance(v, Editable) else Editable()) for k, v in declared.items()}
    return {k: Editable() for k in declared}


def model_fields(cls):
    mapper = sa_inspect(cls)
    return {a.key for a in mapper.column_attrs} | {r.key for r in mapper.relationships}


def state_of(doc):
    field = doc._meta.state_field
    return getattr(doc, field) if field else None


def reason(cls, doc, field, user, creating):
    """Why ``user`` may not write ``field`` now (a translated phrase), or None if allowed."""
    from .document import CANCELLED as DOC_CANCELLED, SUBMITTED as DOC_SUBMITTED
    from .permissions import user_can
    policy = cls._meta.fields.get(field)
    if policy is None:
        return SYSTEM if field in model_fields(cls) else UNKNOWN
    if creating:
        if not policy.create:
            return NOT_ON_CREATE
    else:
        if not policy.update:
            return ONLY_ON_CREATE
        if doc.docstatus == DOC_CANCELLED:
            return CANCELLED
        if doc.docstatus == DOC_SUBMITTED and not policy.on_submit:
            return SUBMITTED
        if policy.states is not None and state_of(doc) not in policy.states:
            return IN_STATE
    if policy.permission and not user_can(user, policy.permission, cls._meta.permission):
        return NO_PERMISSION
    return None


def refusals(cls, doc, fields, user, creating):
    """``{field: reason}`` for each of ``fields`` that ``user`` may not write now."""
    out = {}
    for f in fields:
        why = reason(cls, doc, f, user, creating)
        if why is not None:
            out[f] = why
    return out


def writable(cls, doc, user, creating):
    """The declared fields ``user`` may write now, in declaration order."""
    return [f for f in cls._meta.fields if reason(cls, doc, f, user, creating) is None]


class FieldRefused(ValidationError):
    """A 422 that also names the refused fields (the API returns them by field)."""

    def __init__(self, refused, message):
        super().__init__(message)
        self.fields = {k: str(v) for k, v in refused.items()}


def check(cls, doc, fields, user, creating):
    """Raise a 422 naming every field of ``fields`` that may not be written now."""
    refused = refusals(cls, doc, fields, user, creating)
    if refused:
        labels = cls._meta.label_columns
        raise FieldRefused(refused, _("Not saved: %(fields)s.", fields="; ".join(
            f"{labels.get(f, f)} ({f}) {why}" for f, why in refused.items())))
