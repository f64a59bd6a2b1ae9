"""Typed display, declared once (ARCHITECTURE §4; issue 17.1).

How a field reads for people is derived from the model and a few ``Meta`` keys:

* ``Meta.choices = {"method": METHODS}`` — code -> translated label (``workflow_state`` and
  ``docstatus`` come from the workflow / docstatus labels without a declaration);
* money: ``Money()`` columns (Numeric(14, 2)); ``Meta.money`` / ``Meta.not_money`` adjust;
* people: ``created_by``/``modified_by`` plus ``Meta.people`` (string columns holding a
  login) and relationships to FAB's ``User`` are shown by full name;
* booleans 是/否, None empty, date-times in the hospital's zone to the minute, dates as
  the locale writes them, related records by their title (``str()``), lists joined.

``format_value(cls, field, value)`` is the one function; list pages, show pages, exports,
history sentences and PDFs (Jinja filter ``display``) call it. The API keeps machine
values.
"""
from datetime import date, datetime, time
from decimal import Decimal

from flask import g, has_request_context
from flask_babel import format_date, gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Boolean, Date, DateTime, Numeric, inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from . import types

PEOPLE_DEFAULT = ("created_by", "modified_by")


def _raw_meta(cls):
    for klass in cls.__mro__:
        meta = klass.__dict__.get("Meta")
        if meta is not None:
            return meta
    return None


def meta_get(cls, key, default=None):
    return getattr(_raw_meta(cls), key, default) if _raw_meta(cls) is not None else default


def choices_of(cls, field):
    """``{code: label}`` for a choice field of ``cls``, or None."""
    declared = meta_get(cls, "choices", {}) or {}
    if field in declared:
        return declared[field]
    meta = getattr(cls, "_meta", None)
    if field == "workflow_state" and meta is not None and meta.workflow:
        return {s.name: s.label for s in meta.workflow.states}
    if field == "docstatus" and meta is not None:
        from .document import DOCSTATUS_LABELS
        return DOCSTATUS_LABELS
    return None


def _column(cls, field):
    try:
        mapper = sa_inspect(cls)
    except Exception:
        return None, None
    attr = mapper.attrs.get(field) if hasattr(mapper.attrs, "get") else None
    if attr is None:
        return None, None
    if isinstance(attr, RelationshipProperty):
        return None, attr
    cols = getattr(attr, "columns", None)
    return (cols[0] if cols else None), None


def kind_of(cls, field):
    """One of: choice, money, bool, datetime, date, person, persons, relation, relations, None."""
    cache = cls.__dict__.get("_houqin_kinds")
    if cache is None:
        cache = {}
        setattr(cls, "_houqin_kinds", cache)
    if field in cache:
        return cache[field]
    kind = None
    if choices_of(cls, field) is not None:
        kind = "choice"
    elif field in PEOPLE_DEFAULT or field in (meta_get(cls, "people", ()) or ()):
        kind = "person"
    else:
        col, rel = _column(cls, field)
        if rel is not None:
            from flask_appbuilder.security.sqla.models import User
            target = rel.mapper.class_
            person = issubclass(target, User)
            many = rel.uselist
            kind = ("persons" if many else "person") if person else ("relations" if many else "relation")
        elif col is not None:
            t = col.type
            impl = getattr(t, "impl", t)
            if field in (meta_get(cls, "money", ()) or ()):
                kind = "money"
            elif isinstance(t, types.UTCDateTime) or isinstance(impl, DateTime):
                kind = "datetime"
            elif isinstance(impl, Boolean):
                kind = "bool"
            elif isinstance(impl, Date):
                kind = "date"
            elif (isinstance(impl, Numeric) and impl.precision == 14 and impl.scale == 2
                  and field not in (meta_get(cls, "not_money", ()) or ())):
                kind = "money"
    cache[field] = kind
    return kind


# --- people ---------------------------------------------------------------------------

def full_name(user):
    if user is None:
        return ""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not first and not last:
        return user.username
    # Chinese names: family name first, no space
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        # family name first (王 + 芳); a "last name" longer than a surname (系统 + 管理员) is a title
        return f"{last}{first}" if len(last) <= 2 else f"{first}{last}"
    return f"{first} {last}".strip()


def _people_map():
    """username -> full name, loaded once per request (one statement)."""
    cache = g.__dict__.setdefault("_houqin_cache", {}) if has_request_context() else {}
    if "people" not in cache:
        from flask import current_app
        sm = current_app.appbuilder.sm
        rows = sm.session.query(sm.user_model.username, sm.user_model.first_name, sm.user_model.last_name).all()
        cache["people"] = {u: full_name(type("U", (), dict(username=u, first_name=f, last_name=l_)))
                           for u, f, l_ in rows}
    return cache["people"]


def person_name(login):
    if not login:
        return ""
    if not isinstance(login, str):
        return full_name(login)
    try:
        return _people_map().get(login, login)
    except Exception:
        return login


# --- values ---------------------------------------------------------------------------

def yuan(value):
    from .money import cents
    return f"¥{cents(value):,.2f}"


def format_datetime_local(value):
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(types.LOCAL_TZ)
    return value.strftime("%Y-%m-%d %H:%M")


def format_date_local(value):
    return value.strftime("%Y-%m-%d") if value else ""


def plain(value):
    """A value of unknown kind, never a Python repr."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return format_datetime_local(value)
    if isinstance(value, date):
        return format_date_local(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    if isinstance(value, (list, tuple, set)) or type(value).__name__ == "InstrumentedList":
        return "、".join(plain(v) for v in value)
    return str(value)


def format_value(cls, field, value):
    """``value`` of ``cls.field`` as people read it (plain text)."""
    kind = kind_of(cls, field) if cls is not None else None
    if value is None or value == "" and kind not in ("choice",):
        return ""
    if kind == "choice":
        labels = choices_of(cls, field) or {}
        label = labels.get(value)
        return str(label) if label is not None else ("" if value in (None, "") else str(value))
    if kind == "money":
        try:
            return yuan(value)
        except Exception:
            return plain(value)
    if kind == "person":
        return person_name(value)
    if kind == "persons":
        return "、".join(full_name(u) for u in value)
    return plain(value)


def formatter(cls, field):
    """A FAB ``formatters_columns`` callable; money comes right-aligned."""
    kind = kind_of(cls, field)

    def fmt(value):
        text = format_value(cls, field, value)
        if kind == "money":
            return Markup('<span class="houqin-money">%s</span>') % text
        return text
    return fmt


def formatters_for(cls, columns):
    return {c: formatter(cls, c) for c in columns}


# --- forms and filters ----------------------------------------------------------------

def choice_fields(cls, columns, label_columns=None, search=False):
    """WTForms SelectFields for the choice fields among ``columns`` (forms and filters)."""
    from wtforms import SelectField
    from wtforms.validators import Optional
    out = {}
    labels = label_columns or {}
    for c in columns:
        if c in ("workflow_state", "docstatus") and not search:
            continue
        ch = choices_of(cls, c)
        if ch is None:
            continue
        col, _rel = _column(cls, c)
        options = [(k, v) for k, v in ch.items()]
        if c == "docstatus":
            options = [(str(k), v) for k, v in ch.items()]
        if search or (col is not None and col.nullable):
            options = [("", "")] + options if not search else options
        try:        # WTForms >= 3.3 wants SelectChoice; older ones take (value, label) pairs
            from wtforms.fields.choices import SelectChoice
            options = [SelectChoice(str(k), v) for k, v in options]
        except ImportError:
            pass
        out[c] = SelectField(labels.get(c, c), choices=options, validators=[Optional()] if search else [])
    return out


def datetime_fields(cls, columns, label_columns=None):
    """Form fields for the date-time columns among ``columns``: written and read as the
    hospital writes a time (``2026-12-03 10:00``, its own zone); what the form pre-fills is
    accepted back unchanged, and a time typed without a zone is hospital time (never naive)."""
    from flask_appbuilder.fieldwidgets import DateTimePickerWidget
    from wtforms import DateTimeField
    from wtforms.validators import InputRequired, Optional
    from wtforms.widgets import html_params

    class LocalPicker(DateTimePickerWidget):
        """FAB's widget writes ``field.data`` (str of an aware datetime) and hangs a date-only
        picker on it that rewrites a typed time away (seen in Chromium); this one is the
        field's text, with the calendar icon and no picker."""
        def __call__(self, field, **kwargs):
            kwargs.setdefault("id", field.id)
            kwargs.setdefault("name", field.name)
            kwargs.setdefault("placeholder", "2026-12-03 10:00")
            return Markup('<div class="input-group"><span class="input-group-addon"><i class="fa fa-calendar"></i>'
                          '</span><input class="form-control" %s /></div>'
                          % html_params(type="text", value=field._value(), autocomplete="off", **kwargs))

    class LocalDateTimeField(DateTimeField):
        def _value(self):
            if self.raw_data:
                return " ".join(self.raw_data)
            return format_datetime_local(self.data) if self.data else ""

        def process_formdata(self, valuelist):
            text = " ".join(valuelist or []).strip()
            if not text:
                self.data = None
                return
            try:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                self.data = None
                raise ValueError(_("Give a date and time written like 2026-12-03 10:00."))
            self.data = types.aware(value)

    out = {}
    for c in columns:
        col, _rel = _column(cls, c)
        if col is None or not isinstance(col.type, (types.UTCDateTime, DateTime)):
            continue
        out[c] = LocalDateTimeField((label_columns or {}).get(c, c), widget=LocalPicker(),
                                    validators=[Optional()] if col.nullable else [InputRequired()])
    return out


# --- history as sentences -------------------------------------------------------------

def _action_sentence(action, who):
    sentences = {"delete": lambda: _("%(who)s deleted the record", who=who),
                 "submit": lambda: _("%(who)s submitted the record", who=who),
                 "cancel": lambda: _("%(who)s cancelled the record", who=who),
                 "print": lambda: _("%(who)s printed the record", who=who),
                 "attach": lambda: _("%(who)s attached a file", who=who),
                 "amend": lambda: _("%(who)s amended the record", who=who)}
    return sentences[action]() if action in sentences else None


ACTION_VERBS = ("delete", "submit", "cancel", "print", "attach", "amend")


def history_sentences(cls, rows, labels=None):
    """Audit rows of one document as ``[(time, [sentence, ...])]``, e.g.
    "王芳 把 状态 从 已发布 改为 已截止". A module names its own audit actions in
    ``Meta.history_actions = {"committee": _l("changed the committee")}`` and the keys of their
    data in ``Meta.history_labels`` (a key without a label is left out once actions are named)."""
    meta = getattr(cls, "_meta", None)
    from .views import SYSTEM_LABELS
    all_labels = {**SYSTEM_LABELS, **(getattr(meta, "label_columns", {}) or {}), **(labels or {})}
    named = meta_get(cls, "history_actions", {}) or {}
    all_labels.update(meta_get(cls, "history_labels", {}) or {})
    out = []
    for r in rows:
        who = person_name(r.user)
        data = r.payload()
        changes = data.get("changes") if isinstance(data.get("changes"), dict) else {}
        parts = []
        if r.action == "create":
            parts.append(_("%(who)s created the record", who=who))
        elif r.action in ACTION_VERBS:
            parts.append(_action_sentence(r.action, who))
            if data.get("filename"):
                parts[-1] += f"：{data['filename']}"
        elif r.action not in ("update", "transition"):
            label = named.get(r.action)
            extra = {k: v for k, v in data.items() if k != "changes"}
            detail = "，".join(f"{all_labels.get(k, k)}：{_history_value(cls, k, v)}" for k, v in extra.items()
                              if not isinstance(v, (dict, list)) and k not in ("sha256", "hash")
                              and (k in all_labels or not named))
            parts.append(_("%(who)s: %(action)s", who=who, action=str(label or r.action))
                         + (f"（{detail}）" if detail else ""))
        if r.action == "transition" and "workflow_state" not in changes and data.get("to"):
            changes = {**changes, "workflow_state": [data.get("from"), data.get("to")]}
        if r.action != "create":
            for field, pair in changes.items():
                if field in ("version", "modified_at", "modified_by", "docstatus") or not isinstance(pair, (list, tuple)):
                    continue
                old, new = (list(pair) + [None, None])[:2]
                label = str(all_labels.get(field, field))
                old_t, new_t = _history_value(cls, field, old), _history_value(cls, field, new)
                if old_t:
                    parts.append(_("%(who)s changed %(field)s from %(old)s to %(new)s", who=who, field=label,
                                   old=old_t, new=new_t or _("(empty)")))
                else:
                    parts.append(_("%(who)s set %(field)s to %(new)s", who=who, field=label,
                                   new=new_t or _("(empty)")))
        if data.get("reason") and r.action in ("cancel", "transition"):
            parts.append(_("reason: %(reason)s", reason=data["reason"]))
        if not parts:
            parts.append(_("%(who)s changed the record", who=who))
        out.append((format_datetime_local(r.ts), parts))
    return out


def _history_value(cls, field, value):
    """Values in audit rows are JSON (ISO strings for times, str for Decimal)."""
    if value is None or value == "":
        return ""
    kind = kind_of(cls, field)
    if kind == "datetime" and isinstance(value, str):
        try:
            return format_datetime_local(datetime.fromisoformat(value))
        except ValueError:
            return value
    if kind == "date" and isinstance(value, str):
        return value[:10]
    if kind == "money":
        try:
            return yuan(Decimal(str(value)))
        except Exception:
            return str(value)
    if kind in ("relation", "relations"):
        return str(value)
    if field.endswith("_id"):
        return _related_title(cls, field, value)
    return format_value(cls, field, value)


def _related_title(cls, field, value):
    """A foreign key in an audit row, shown as the related record's title."""
    try:
        mapper = sa_inspect(cls)
        for rel in mapper.relationships:
            if any(c.key == field for c in rel.local_columns):
                from .extensions import db
                obj = db.session.get(rel.mapper.class_, value)
                if obj is None:
                    return str(value)
                from flask_appbuilder.security.sqla.models import User
                return full_name(obj) if isinstance(obj, User) else str(obj)
    except Exception:
        pass
    return str(value)


def init_app(app):
    """Jinja filters for pages and PDFs: ``{{ doc.price|display(doc, 'price') }}`` or
    ``{{ doc|field('price') }}``; ``{{ amount|yuan }}``; ``{{ login|person }}``."""
    def display(value, doc=None, field=None):
        cls = type(doc) if doc is not None and not isinstance(doc, type) else doc
        return format_value(cls, field, value) if field else plain(value)

    def field(doc, name):
        return format_value(type(doc), name, getattr(doc, name, None))
    app.jinja_env.filters.update(display=display, field=field, yuan=lambda v: "" if v is None else yuan(v),
                                 person=person_name)
    app.jinja_env.globals["format_value"] = format_value


def eager_for(cls, columns):
    """Relationships among ``columns`` (plus ``Meta.list_eager``, for properties that read
    relationships): loaded with the list's rows (issue 17.6)."""
    rels = sa_inspect(cls).relationships
    keys = [c for c in columns if c in rels] + list(meta_get(cls, "list_eager", ()) or ())
    return tuple(dict.fromkeys(keys))


def api_attrs(cls, attrs):
    """The display part of a generated ModelRestApi (called once from ``views.build_api``):
    machine values stay; the list's relationships are loaded with its rows."""
    attrs["datamodel"].eager = eager_for(cls, attrs.get("list_columns", []))
    return {}


def view_attrs(cls, attrs):
    """The display part of a generated ModelView (called once from ``views.build_view``):
    formatters for list and show columns, selects for choice fields in forms and filters,
    the list's relationships loaded with its rows."""
    attrs["datamodel"].eager = eager_for(cls, attrs.get("list_columns", []))
    if getattr(cls, "_meta", None) is not None and cls._meta.workflow and "workflow_state" not in attrs.get(
            "search_columns", []):     # the home page links to lists filtered by state
        attrs["search_columns"] = list(attrs.get("search_columns", [])) + ["workflow_state"]
    columns = list(dict.fromkeys(list(attrs.get("list_columns", [])) + list(attrs.get("show_columns", []))))
    labels = attrs.get("label_columns", {})
    out = {"formatters_columns": formatters_for(cls, columns), "search_columns": attrs.get("search_columns", [])}
    search = choice_fields(cls, attrs.get("search_columns", []), labels, search=True)
    if search:
        out["search_form_extra_fields"] = search
    add = {**choice_fields(cls, attrs.get("add_columns", []), labels),
           **datetime_fields(cls, attrs.get("add_columns", []), labels)}
    if add:
        out["add_form_extra_fields"] = {**attrs.get("add_form_extra_fields", {}), **add}
    edit = {**choice_fields(cls, attrs.get("edit_columns", []), labels),
            **datetime_fields(cls, attrs.get("edit_columns", []), labels)}
    if edit:
        out["edit_form_extra_fields"] = {**attrs.get("edit_form_extra_fields", {}), **edit}
    return out


def finish(appbuilder):
    """After every view is registered: the typed display also on views erp_core does not
    generate (security's users and roles, the audit log), so no page shows a raw value."""
    for view in appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        cls = getattr(datamodel, "obj", None)
        if cls is None or not hasattr(view, "formatters_columns") or not hasattr(view, "list_columns"):
            continue
        from flask_appbuilder.api import BaseApi
        if isinstance(view, BaseApi):      # the API keeps machine values
            continue
        columns = list(dict.fromkeys(list(view.list_columns or []) + list(getattr(view, "show_columns", None) or [])))
        current = dict(view.formatters_columns or {})
        for c in columns:
            if c not in current:
                current[c] = formatter(cls, c)
        view.formatters_columns = current
