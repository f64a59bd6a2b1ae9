"""Document: the base every business object derives from (ARCHITECTURE §4).

Declaring ``class Tender(Document)`` with a ``Meta`` gives: a numbered ``name`` from a
naming series, docstatus (Draft/Submitted/Cancelled) with submit/cancel/amend, read-only
after submit, an optimistic-lock ``version``, created/modified stamps, doc events and an
audit row for every change. All of it is enforced in SQLAlchemy session events, so the
UI, the API, services and scripts cannot bypass it.
"""
import re
from datetime import datetime

from flask import current_app, has_app_context
from flask_appbuilder import Model
from flask_babel import gettext as _, lazy_pgettext
from sqlalchemy import Integer, String, Text, event, inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from . import audit, fieldpolicy
from .audit import jsonable
from .context import actor, acting_as
from .errors import Conflict, ValidationError
from .naming import next_name
from .types import UTCDateTime, now

DRAFT, SUBMITTED, CANCELLED = 0, 1, 2
DOCSTATUS_LABELS = {DRAFT: lazy_pgettext("document status", "Draft"),
                    SUBMITTED: lazy_pgettext("document status", "Submitted"),
                    CANCELLED: lazy_pgettext("document status", "Cancelled")}
SYSTEM_FIELDS = ("id", "name", "docstatus", "workflow_state", "version", "created_at", "created_by",
                 "modified_at", "modified_by", "amended_from", "cancel_reason")
# What may still change on a submitted document besides Meta.allow_on_submit.
_ALWAYS_WRITABLE = {"docstatus", "workflow_state", "cancel_reason", "modified_at", "modified_by", "version"}

DOCUMENTS = []  # every Document subclass imported, in import order


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class DocMeta:
    """Normalised ``Meta`` of a document class, with defaults derived from the model."""

    def __init__(self, cls):
        m = cls.__dict__.get("Meta") or type("Meta", (), {})
        get = lambda key, default=None: getattr(m, key, default)  # noqa: E731
        self.cls = cls
        self.title = get("title", cls.__name__)
        self.title_plural = get("title_plural", self.title)
        self.naming = get("naming", f"{cls.__name__.upper()[:6]}-.YYYY.-.#####")
        self.permission = get("permission", cls.__name__)
        self.resource_name = get("resource_name", _snake(cls.__name__))
        self.submittable = get("submittable", False)
        self.allow_on_submit = set(get("allow_on_submit", ()))
        self.children = tuple(get("children", ()))
        self.workflow = get("workflow")
        self.record_rules = dict(get("record_rules", {}))
        self.menu = get("menu", True)          # False: no menu entry (reached from elsewhere)
        self.icon = get("icon", "fa-file-text-o")
        self.api = get("api", True)
        self.views = get("views", True)
        self.order = get("order", ("id", "desc"))
        self.list_columns = get("list_columns")
        self.search_columns = get("search_columns")
        self.show_columns = get("show_columns")
        for retired in ("add_columns", "edit_columns"):
            if hasattr(m, retired):
                raise TypeError(f"{cls.__name__}.Meta.{retired}: forms follow Meta.fields (the field policy)")
        # the field policy: what people may write through the API, forms and import, and when
        self.fields = fieldpolicy.normalise(get("fields"))
        self.state_field = get("state_field", "workflow_state" if get("workflow") else None)
        self.allow_on_submit |= {f for f, p in self.fields.items() if p.on_submit}
        self.label_columns = dict(get("label_columns", {}))
        self.description_columns = dict(get("description_columns", {}))
        self.api_columns = get("api_columns")
        self.view_mixins = tuple(get("view_mixins", ()))
        self.api_mixins = tuple(get("api_mixins", ()))
        self.hidden_fields = get("hidden_fields")   # callable(doc, user) -> set of field names sealed now
        # False: records are created only by the module's services (no generic add/import/delete)
        self.generic_create = get("generic_create", True)
        # home-page counts of records worth a look: [(label, select_fn() -> select of cls, link)]
        self.watch = tuple(get("watch", ()))

    @property
    def add_columns(self):
        return [f for f, p in self.fields.items() if p.create]

    @property
    def edit_columns(self):
        return [f for f, p in self.fields.items() if p.update]


class Document(Model):
    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True, nullable=False)
    docstatus: Mapped[int] = mapped_column(Integer, nullable=False, default=DRAFT, index=True)
    workflow_state: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=now)
    modified_by: Mapped[str] = mapped_column(String(64), nullable=False, default="system")
    amended_from: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __mapper_args__(cls):
        # SQLAlchemy's optimistic lock: every UPDATE checks and bumps `version`.
        return {"version_id_col": cls.version}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if not cls.__dict__.get("__abstract__"):
            cls._meta = DocMeta(cls)
            DOCUMENTS.append(cls)

    def __str__(self):
        title = getattr(self, "title", None)
        return f"{self.name} {title}" if title and self.name else (self.name or f"{type(self).__name__} (new)")

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"

    @property
    def docstatus_label(self):
        return DOCSTATUS_LABELS.get(self.docstatus, "")

    @property
    def state_label(self):
        wf = self._meta.workflow
        if wf and self.workflow_state:
            return wf.state(self.workflow_state).label
        field = self._meta.state_field
        if field and hasattr(type(self), f"{field}_label"):
            return getattr(self, f"{field}_label")
        return self.docstatus_label

    def check_version(self, seen_version):
        """Refuse a stale edit: the user edited ``seen_version`` but the row moved on."""
        if seen_version is None or str(seen_version) == "":
            raise ValidationError(_("The record version is missing; reload the record and try again."))
        # a form's hidden field, a JSON number or an If-Match header (ETag-quoted, W/ prefix)
        text = str(seen_version).strip().removeprefix("W/").strip('"')
        if isinstance(seen_version, bool) or not re.fullmatch(r"[0-9]{1,18}", text):
            raise ValidationError(_("The record version must be a whole number; reload the record and try again."))
        if int(text) != self.version:
            raise Conflict(_("%(doc)s was changed by %(user)s after you opened it; reload it and "
                             "apply your changes again.", doc=self.name, user=self.modified_by))


def plugin_manager():
    if has_app_context() and "houqin" in current_app.extensions:
        return current_app.extensions["houqin"].registry.pm
    return None


def fire(doc, event_name):
    """Run a doc event: the class's own method of that name, then every module's hook."""
    method = getattr(doc, event_name, None)
    if callable(method):
        method()
    pm = plugin_manager()
    if pm is not None:
        pm.hook.houqin_doc_event(doc=doc, event=event_name)


def _stored_row(doc):
    """The row as stored now (for attributes that were expired, e.g. after a commit,
    SQLAlchemy does not know the old value)."""
    state = sa_inspect(doc)
    if not state.persistent and not state.deleted:
        return {}
    cached = doc.__dict__.get("_houqin_stored")
    if cached is None:
        table = state.mapper.local_table
        from sqlalchemy import select
        row = state.session.connection().execute(
            select(table).where(table.c.id == state.identity[0])).mappings().first()
        cached = {a.key: row[a.columns[0].key] for a in state.mapper.column_attrs} if row else {}
        doc.__dict__["_houqin_stored"] = cached
    return cached


def _ref(obj):
    return getattr(obj, "name", None) or getattr(obj, "username", None) or str(getattr(obj, "id", obj))


def changes(doc):
    """``{field: [old, new]}`` of the pending change of ``doc``: columns, and the relations it
    holds itself (many-to-one and many-to-many), so a relation cannot slip past the lock."""
    state = sa_inspect(doc)
    diff = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        new = hist.added[0] if hist.added else None
        old = hist.deleted[0] if hist.deleted else _stored_row(doc).get(attr.key)
        if old != new:
            diff[attr.key] = [old, new]
    for rel in state.mapper.relationships:
        if rel.viewonly or rel.direction.name == "ONETOMANY":
            continue
        hist = state.attrs[rel.key].history
        if not (hist.added or hist.deleted):
            continue
        if rel.uselist:
            added, removed = [_ref(o) for o in hist.added], [_ref(o) for o in hist.deleted]
            if added or removed:
                diff[rel.key] = [removed, added]
        else:
            new = hist.added[0] if hist.added else None
            if hist.deleted:
                old = hist.deleted[0]
                if old is new:
                    continue
                diff[rel.key] = [old and _ref(old), new and _ref(new)]
            else:   # the old value was never loaded: compare the foreign key it held
                held = [getattr(doc, state.mapper.get_property_by_column(l).key) for l, _r in rel.local_remote_pairs]
                target = [None if new is None else getattr(new, sa_inspect(new).mapper.get_property_by_column(r).key)
                          for _l, r in rel.local_remote_pairs]
                if held != target or (new is not None and None in target):
                    diff[rel.key] = [None if all(v is None for v in held) else str(held[0]), new and _ref(new)]
    return diff


def committed_value(doc, field):
    hist = sa_inspect(doc).attrs[field].history
    if hist.deleted:
        return hist.deleted[0]
    if hist.added:
        return _stored_row(doc).get(field, getattr(doc, field))
    return getattr(doc, field)


def snapshot(doc):
    return {a.key: getattr(doc, a.key) for a in sa_inspect(doc).mapper.column_attrs}


# --- enforcement in the session -------------------------------------------------------

def _apply_defaults(doc):
    """Column defaults normally arrive with the INSERT; validate() runs before it, so fill
    the unset ones now (a status default, a zero amount)."""
    for attr in sa_inspect(doc).mapper.column_attrs:
        default = attr.columns[0].default
        if default is None or getattr(doc, attr.key) is not None:
            continue
        if default.is_scalar:
            setattr(doc, attr.key, default.arg)
        elif default.is_callable:
            setattr(doc, attr.key, default.arg(None))


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    who = actor()
    for doc in list(session.new):
        if isinstance(doc, Document):
            _apply_defaults(doc)
            doc.created_by = doc.modified_by = who
            doc.created_at = doc.modified_at = now()
            if doc.docstatus is None:
                doc.docstatus = DRAFT
            wf = doc._meta.workflow
            if wf and not doc.workflow_state:
                doc.workflow_state = wf.initial
            if not doc.name:
                doc.name = next_name(session.connection(), doc._meta.naming)
            fire(doc, "validate")
    for doc in list(session.dirty):
        if not isinstance(doc, Document) or not session.is_modified(doc, include_collections=True):
            continue
        diff = changes(doc)
        if not diff:
            continue
        before = committed_value(doc, "docstatus")
        marker = getattr(doc, "_audit_action", None)
        # a workflow transition's own effect (e.g. recording the award) is the controlled path,
        # also when the effect flushes before the state itself changes
        in_transition = (marker and marker[0] == "transition") or doc.__dict__.get("_houqin_in_transition")
        if "workflow_state" in diff and not in_transition:
            raise ValidationError(_("The state of %(doc)s changes only through its workflow actions.", doc=doc.name))
        if before == CANCELLED:
            raise ValidationError(_("%(doc)s is cancelled and cannot be changed; amend it instead.", doc=doc.name))
        if before == SUBMITTED and not in_transition:
            locked = set(diff) - _ALWAYS_WRITABLE - doc._meta.allow_on_submit
            if locked:
                raise ValidationError(_("%(doc)s is submitted and read-only; cannot change: %(fields)s",
                                        doc=doc.name, fields=", ".join(sorted(locked))))
        doc.modified_by = who
        doc.modified_at = now()
        fire(doc, "validate")
    for doc in session.deleted:
        if isinstance(doc, Document) and doc.docstatus != DRAFT:
            raise ValidationError(_("%(doc)s is not a draft and cannot be deleted; cancel it instead.", doc=doc.name))


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context):
    entries, inserted = [], []
    for doc in session.new:
        if isinstance(doc, Document):
            entries.append(dict(action="create", doctype=type(doc).__name__, doc_id=doc.id,
                                docname=doc.name, data={k: v for k, v in snapshot(doc).items() if v is not None}))
            inserted.append(doc)
    for doc in session.dirty:
        if isinstance(doc, Document):
            diff = {k: v for k, v in changes(doc).items() if k not in ("modified_at", "modified_by", "version")}
            marker = doc.__dict__.pop("_audit_action", None)
            if not diff and not marker:
                continue
            action, extra = marker or ("update", {})
            entries.append(dict(action=action, doctype=type(doc).__name__, doc_id=doc.id,
                                docname=doc.name, data={"changes": diff, **extra}))
    for doc in session.deleted:
        if isinstance(doc, Document):
            entries.append(dict(action="delete", doctype=type(doc).__name__, doc_id=doc.id,
                                docname=doc.name, data=snapshot(doc)))
    audit.append(session.connection(), [dict(e, data=jsonable(e["data"])) for e in entries])
    for doc in session.dirty:
        doc.__dict__.pop("_houqin_stored", None)
    session.info.setdefault("houqin_inserted", []).extend(inserted)


@event.listens_for(Session, "after_flush_postexec")
def _after_flush_postexec(session, flush_context):
    inserted = session.info.pop("houqin_inserted", [])
    for doc in inserted:
        fire(doc, "after_insert")


# --- docstatus services ---------------------------------------------------------------

def _session_of(doc):
    s = Session.object_session(doc)
    if s is None:
        raise ValueError(f"{doc!r} is not in a session")
    return s


def submit(doc, *, by):
    if not doc._meta.submittable:
        raise ValidationError(_("%(doctype)s documents are not submitted.", doctype=doc._meta.title))
    if doc.docstatus != DRAFT:
        raise Conflict(_("%(doc)s is not a draft.", doc=doc.name))
    with acting_as(by):
        fire(doc, "before_submit")
        doc.docstatus = SUBMITTED
        doc._audit_action = ("submit", {})
        _session_of(doc).flush()
        fire(doc, "on_submit")
    return doc


def cancel(doc, reason, *, by):
    if not doc._meta.submittable:
        raise ValidationError(_("%(doctype)s documents are not submitted.", doctype=doc._meta.title))
    if doc.docstatus != SUBMITTED:
        raise Conflict(_("Only a submitted document can be cancelled."))
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required to cancel."))
    with acting_as(by):
        doc.docstatus = CANCELLED
        doc.cancel_reason = reason.strip()
        doc._audit_action = ("cancel", {"reason": reason.strip()})
        _session_of(doc).flush()
        fire(doc, "on_cancel")
    return doc


def amend(doc, *, by):
    """Copy a cancelled document into a new draft named ``<original>-<n>``."""
    if doc.docstatus != CANCELLED:
        raise Conflict(_("Only a cancelled document can be amended."))
    session = _session_of(doc)
    cls = type(doc)
    base = doc.amended_from and re.sub(r"-\d+$", "", doc.name) or doc.name
    n = 1
    while session.query(cls.id).filter(cls.name == f"{base}-{n}").first():
        n += 1
    new = cls(**{k: v for k, v in snapshot(doc).items() if k not in SYSTEM_FIELDS})
    new.name, new.amended_from = f"{base}-{n}", doc.name
    for rel in doc._meta.children:
        for child in getattr(doc, rel):
            mapper = sa_inspect(child).mapper
            # keep links to other records; drop the child's own key and its link to the parent
            parent = cls.__table__
            fks = {c.key for c in mapper.column_attrs if c.columns[0].primary_key
                   or any(fk.column.table is parent for fk in c.columns[0].foreign_keys)}
            getattr(new, rel).append(type(child)(**{c.key: getattr(child, c.key)
                                                    for c in mapper.column_attrs if c.key not in fks}))
    with acting_as(by):
        session.add(new)
        session.flush()
    return new


def locked(session, cls, id):
    """Load a row with ``SELECT ... FOR UPDATE`` (PostgreSQL row lock; SQLite serialises
    writers anyway): use it before checking-then-changing shared state such as stock or
    an asset's availability, so two clerks cannot both succeed."""
    from sqlalchemy import select
    audit.lock_head(session.connection())    # one lock order for every writer: no deadlocks
    return session.scalars(select(cls).where(cls.id == id).with_for_update()
                           .execution_options(populate_existing=True)).first()
