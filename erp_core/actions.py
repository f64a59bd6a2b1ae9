"""Actions: business operations (lend, return, approve, open an envelope…) declared once
(ARCHITECTURE §4).

An ``Action`` placed as a class attribute of an ``ActionApi`` gives, from that one declaration:
the API endpoint (its route), the permission (``can_<permission>`` on the API's permission
name, synced like any other), typed input parsing (a 422 naming the input), the state check
(409), one transaction, and an audit row with the real user (session or token alike). An
action bound to a document (``doc=``) is also reachable as
``POST /api/v1/<document>/<pk>/action/<name>`` and as a button with its small form on the
document's page. Authorization happens here, once: services receive an authorized caller.

Times are the server's clock: an input of kind ``datetime`` is refused unless it is
declared (e.g. a supervisor recording another time, with a reason, audited).
"""
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import request
from flask_babel import gettext as _, lazy_gettext as _l

from .errors import Conflict, NotFound, PermissionDenied, UserError, ValidationError

REGISTRY = []   # every declared Action, in declaration order

MAX_MONEY = Decimal("9999999999.99")   # Numeric(12, 2)


@dataclass(frozen=True)
class Input:
    """One typed input of an action."""
    kind: str = "text"        # text, decimal, money, int, bool, date, datetime, choice, list, signature, file
    label: object = None
    required: bool = False
    choices: object = None    # dict code -> label, or a callable returning it (kind "choice")
    max_length: int = 500
    min: object = None
    max: object = None
    default: object = None
    help: object = None
    locator: bool = False     # names the record in the body (a code, a number): not asked on its page
    prefill: object = None    # prefill(doc) -> the value the document's page proposes (its current team)

    def parse(self, name, raw):
        """The typed value of ``raw`` (JSON or form), or a ValidationError naming the input."""
        label = self.label or name
        if raw is None or (isinstance(raw, str) and raw.strip() == "" and self.kind != "text"):
            if self.required:
                raise ValidationError(_("%(field)s is required.", field=label))
            return self.default
        kind = self.kind
        try:
            if kind == "text":
                if isinstance(raw, (dict, list, bool)) or not isinstance(raw, (str, int, Decimal)):
                    raise TypeError
                value = str(raw).strip()
                if "\x00" in value or len(value) > self.max_length:
                    raise ValidationError(_("%(field)s is at most %(n)s characters.", field=label, n=self.max_length))
                if self.required and not value:
                    raise ValidationError(_("%(field)s is required.", field=label))
                return value
            if kind in ("decimal", "money"):
                if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
                    raise TypeError
                value = Decimal(str(raw).strip())
                if not value.is_finite():
                    raise TypeError
                if kind == "money":
                    if value != value.quantize(Decimal("0.01")):
                        raise ValidationError(_("%(field)s has at most two decimals.", field=label))
                    lo, hi = (self.min if self.min is not None else Decimal(0)), (self.max or MAX_MONEY)
                else:
                    lo, hi = self.min, self.max if self.max is not None else Decimal("1e9")
                self._bounds(label, value, lo, hi)
                return value
            if kind == "int":
                if isinstance(raw, bool) or isinstance(raw, float):
                    raise TypeError
                if isinstance(raw, Decimal) and raw != raw.to_integral_value():
                    raise TypeError
                value = int(str(raw).strip()) if not isinstance(raw, int) else raw
                self._bounds(label, value, self.min, self.max if self.max is not None else 10 ** 6)
                return value
            if kind == "bool":
                if isinstance(raw, bool):
                    return raw
                if str(raw).lower() in ("1", "true", "on", "yes", "y"):
                    return True
                if str(raw).lower() in ("0", "false", "off", "no", "n"):
                    return False
                raise TypeError
            if kind == "date":
                value = date.fromisoformat(str(raw).strip()[:10])
                if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
                    raise TypeError
                return value
            if kind == "datetime":
                from .types import aware
                value = aware(datetime.fromisoformat(str(raw).strip()))
                if not 2000 <= value.year <= 2100:
                    raise TypeError
                return value
            if kind == "choice":
                choices = self.choices() if callable(self.choices) else (self.choices or {})
                if str(raw) not in {str(k) for k in choices}:
                    raise ValidationError(_("%(field)s: choose one of %(choices)s.", field=label,
                                            choices=", ".join(str(v) for v in choices.values())))
                return str(raw)
            if kind == "list":
                if not isinstance(raw, list):
                    raise TypeError
                return raw
            if kind == "signature":
                if not isinstance(raw, str) or len(raw) > 2_000_000:
                    raise TypeError
                return raw
            if kind == "file":
                return raw
        except UserError:
            raise
        except (TypeError, ValueError, InvalidOperation, ArithmeticError):
            pass
        raise ValidationError(_("%(field)s is not a valid %(kind)s.", field=label, kind=KIND_LABELS.get(kind, kind)))

    @staticmethod
    def _bounds(label, value, lo, hi):
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValidationError(_("%(field)s must be between %(lo)s and %(hi)s.", field=label,
                                    lo="…" if lo is None else lo, hi="…" if hi is None else hi))


KIND_LABELS = {"text": _l("text"), "decimal": _l("number"), "money": _l("amount of money"),
               "int": _l("whole number"), "bool": _l("yes or no"), "date": _l("date (YYYY-MM-DD)"),
               "datetime": _l("date and time"), "list": _l("list"), "signature": _l("signature"),
               "choice": _l("choice"), "file": _l("file")}


@dataclass
class Action:
    """One business operation. ``run(doc, inputs, user)`` does the work through the module's
    services and returns a JSON-able dict (or the document). For a collection action
    (``doc`` None) ``run`` receives ``None`` as the document."""
    label: object
    run: object
    permission: str | None = None      # action name on the permission; default: the action's name
    inputs: dict = field(default_factory=dict)
    doc: type | None = None            # the document class this action changes
    states: tuple | None = None        # allowed values of doc's Meta.state_field (None: any)
    docstatus: tuple | None = None     # allowed docstatus values (None: any)
    find: object = None                # find(inputs, user) -> doc, for routes that name it in the body
    confirm: object = None             # confirmation text shown before the button posts
    route: str | None = None           # route on its ActionApi; default "/<name>"
    methods: tuple = ("POST",)
    status: int = 200
    button: bool = True                # offered on the document's page
    style: str = "primary"
    name: str = ""                     # set from the attribute name
    perm_name: str = ""                # the permission name (the ActionApi's)
    condition: object = None           # condition(doc) -> None or the reason in words why not now
    api: object = None                 # the ActionApi class it is declared on
    load: object = None                # load(pk, user) -> doc for its own route (default: the record rules)
    list_of: type | None = None        # a collection action offered on this document's list page
    page: str | None = None            # its own page, when the generic form cannot say it (e.g. a menu)

    # -- what the show page needs ------------------------------------------------------
    def allowed_state(self, doc):
        if self.docstatus is not None and doc.docstatus not in self.docstatus:
            return False
        if self.states is not None:
            from .fieldpolicy import state_of
            return state_of(doc) in self.states
        return True

    def blocked(self, doc):
        """Why this action cannot be taken on ``doc`` now (words), or None."""
        if not self.allowed_state(doc):
            return _("Not possible while the record is %(state)s.", state=doc.state_label)
        if self.condition is not None:
            return self.condition(doc)
        return None

    def _check_state(self, doc):
        why = self.blocked(doc)
        if why:
            raise Conflict(why)

    def permitted(self, user):
        from .permissions import user_can
        return user_can(user, self.permission, self.perm_name)

    # -- the one path ------------------------------------------------------------------
    def parse(self, raw):
        unknown = sorted(set(raw) - set(self.inputs))
        if unknown:
            raise ValidationError(_("Unknown inputs: %(names)s. This action takes: %(known)s.",
                                    names=", ".join(unknown), known=", ".join(self.inputs) or "-"))
        return {name: spec.parse(name, raw.get(name)) for name, spec in self.inputs.items()}

    def execute(self, raw, user, doc=None):
        """Authorize, parse, check the state, run, audit. The caller commits."""
        from . import audit
        from .extensions import db
        from .validation import check_action_body
        if user is None or not self.permitted(user):
            raise PermissionDenied(_("You do not have permission to do this."))
        check_action_body(raw)           # bounds on anything received, whichever path it came by
        given = doc is not None
        if given:                      # by its id: the state decides before the inputs are read
            self._check_state(doc)
        inputs = self.parse(raw)
        if self.doc is not None and not given:
            doc = self.find(inputs, user) if self.find is not None else None
            if doc is None:
                raise NotFound(_("Not found."))
            self._check_state(doc)
        # the actor is already the real one (session, token, or the clerk on duty at a counter)
        result = self.run(doc, inputs, user)
        target = result if hasattr(result, "_meta") else doc
        if target is not None and hasattr(target, "_meta"):
            db.session.flush()
            audit.record(db.session, target, "action", name=self.name,
                         inputs={k: v for k, v in inputs.items()
                                 if v is not None and self.inputs[k].kind not in ("signature", "file")})
        return result


def body_of_request():
    """The action's raw inputs from JSON (amounts as Decimal, never float) or a form."""
    if request.method == "GET":
        return dict(request.args)
    if request.is_json or (request.data and not request.form):
        try:
            body = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise UserError(_("Request body must be a JSON object."), status=400)
        return body
    body = {k: v for k, v in request.form.items() if k not in ("csrf_token",)}
    body.update({k: v for k, v in request.files.items()})
    return body


def for_list(cls, user):
    """Collection actions offered on ``cls``'s list page to ``user`` (a form page each)."""
    return [a for a in REGISTRY if a.list_of is cls and a.permitted(user)]


def for_doc(cls):
    return [a for a in REGISTRY if a.doc is cls and a.button]


def offered(doc, user):
    """The actions of ``doc``'s page this user may take, each with why not now (or None)."""
    return [(a, a.blocked(doc)) for a in for_doc(type(doc)) if a.permitted(user)]


def named(perm_name, name):
    """The action ``name`` declared on the ActionApi of permission ``perm_name``."""
    for a in REGISTRY:
        if a.perm_name == perm_name and a.name == name:
            return a
    raise KeyError(f"{perm_name}.{name}")


def find(cls, name):
    for a in REGISTRY:
        if a.doc is cls and a.name == name:
            return a
    return None
