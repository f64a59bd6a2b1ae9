"""Declarative workflows: states, transitions, allowed roles and conditions.

Declared on a document's ``Meta.workflow``. The same ``apply`` runs for UI buttons, API
action endpoints and services, so a refused transition is refused everywhere, with a
reason, and every transition writes one audit row. Each transition's ``action`` is also a
permission (``can_<action>`` on the document), granted by ``run.py sync`` to the roles
listed here.
"""
from dataclasses import dataclass, field
from typing import Callable

from flask_babel import gettext as _

from .context import acting_as, username_of
from .document import CANCELLED, DRAFT, SUBMITTED, fire, _session_of
from .errors import Conflict, PermissionDenied, ValidationError


@dataclass(frozen=True)
class State:
    name: str
    label: object
    docstatus: int = DRAFT        # where the state sits in Draft/Submitted/Cancelled
    style: str = "default"        # bootstrap label colour in lists


@dataclass(frozen=True)
class Transition:
    action: str                   # also the permission: can_<action>
    label: object
    source: tuple
    dest: str
    roles: tuple = ()
    condition: Callable | None = None   # condition(doc) -> None, or a translated reason it is refused
    needs_reason: bool = False
    style: str = "primary"
    run: Callable | None = None          # run(doc, by=..., reason=...) business effect before the state changes

    def __post_init__(self):
        object.__setattr__(self, "source", (self.source,) if isinstance(self.source, str) else tuple(self.source))
        object.__setattr__(self, "roles", tuple(self.roles))


def service(package, name):
    """A condition or effect that lives in ``<package>.services``, looked up when it runs
    (services import the models that declare the workflow): ``service(__package__, "can_award")``."""
    def call(doc, **kw):
        import importlib
        return getattr(importlib.import_module(f"{package}.services"), name)(doc, **kw)
    call.__name__ = name
    return call


@dataclass
class Workflow:
    states: list
    transitions: list
    initial: str = None
    _states: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._states = {s.name: s for s in self.states}
        self.initial = self.initial or self.states[0].name
        for t in self.transitions:
            for name in (*t.source, t.dest):
                if name not in self._states:
                    raise ValueError(f"transition {t.action}: unknown state {name}")

    def state(self, name):
        return self._states[name]

    @property
    def actions(self):
        return sorted({t.action for t in self.transitions})

    def transition(self, doc, action):
        for t in self.transitions:
            if t.action == action and doc.workflow_state in t.source:
                return t
        return None

    def available(self, doc, user):
        """Transitions the user may press now, with a refusal reason (or None) for each."""
        from .permissions import user_can
        out = []
        for t in self.transitions:
            if doc.workflow_state in t.source and user_can(user, t.action, doc._meta.permission):
                out.append((t, t.condition(doc) if t.condition else None))
        return out


def apply(doc, action, *, by, reason=None):
    """Move ``doc`` along its workflow. Raises a 4xx UserError with the reason if refused."""
    from .permissions import user_can
    wf = doc._meta.workflow
    if wf is None:
        raise ValidationError(_("%(doc)s has no workflow.", doc=doc.name))
    if action not in wf.actions:
        raise ValidationError(_("Unknown action: %(action)s", action=action))
    t = wf.transition(doc, action)
    if t is None:
        raise Conflict(_("%(action)s is not possible while %(doc)s is %(state)s.",
                         action=action, doc=doc.name, state=wf.state(doc.workflow_state).label))
    if not user_can(by, action, doc._meta.permission):
        raise PermissionDenied(_("You are not allowed to %(action)s %(doc)s.", action=t.label, doc=doc.name))
    if t.needs_reason and not (reason or "").strip():
        raise ValidationError(_("A reason is required for %(action)s.", action=t.label))
    refusal = t.condition(doc) if t.condition else None
    if refusal:
        raise ValidationError(refusal)
    old, new = wf.state(doc.workflow_state), wf.state(t.dest)
    with acting_as(username_of(by)):
        doc.__dict__["_houqin_in_transition"] = True
        try:
            if t.run:
                t.run(doc, by=by, reason=reason)
            if old.docstatus == DRAFT and new.docstatus == SUBMITTED:
                fire(doc, "before_submit")
            doc.workflow_state = t.dest
            doc.docstatus = new.docstatus
            if new.docstatus == CANCELLED and reason:
                doc.cancel_reason = reason
            doc._audit_action = ("transition", {"action": action, "from": old.name, "to": new.name,
                                                **({"reason": reason} if reason else {})})
            _session_of(doc).flush()
        finally:
            doc.__dict__.pop("_houqin_in_transition", None)
        fire(doc, "on_transition")
        if old.docstatus == DRAFT and new.docstatus == SUBMITTED:
            fire(doc, "on_submit")
        if new.docstatus == CANCELLED and old.docstatus != CANCELLED:
            fire(doc, "on_cancel")
    return doc
