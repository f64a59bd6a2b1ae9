"""Generic input validation (issue 18.3): every bad input is a translated 4xx naming the
problem, and nothing is stored.

Three layers, all derived from the model's columns so every module (and every future
one) is covered without declaring anything:

* ``check_body(cls, body)`` — the JSON body of the generated API's POST/PUT, before FAB's
  schema sees it: JSON types by name, numbers finite and within the column's precision
  and scale (``"1.999"`` for a 2-decimal field is refused, not rounded), integral counts
  within the column's range, text within its length and without NUL, dates parseable and
  within ``HOUQIN_DATE_RANGE``, relations as ids, ``version`` an integer.
* a ``before_flush`` guard on every object being written (forms, import, actions,
  services alike): finite numbers that fit their column, text length and NUL, sane dates,
  and end dates not before their start (``*_start``/``*_end``, ``starts_at``/``ends_at``,
  ``valid_from``/``valid_to``…).
* request-level checks for list parameters (``?q=`` Rison, paging, filter values) and error
  handlers turning the database's own refusals (integrity, data errors) into 409/422.
"""
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import prison
from flask import current_app, has_app_context, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import Enum as SAEnum
from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Float, Integer, LargeBinary, Numeric,
                        SmallInteger, String, event, inspect as sa_inspect)
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError

DB_DOWN = (OperationalError, InterfaceError)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from .errors import ValidationError

MAX_TEXT = 100_000
MAX_PAGE = 1_000_000
INT_RANGE = {SmallInteger: 2 ** 15 - 1, BigInteger: 2 ** 63 - 1, Integer: 2 ** 31 - 1}
TEXT_OPERATORS = {"sw", "ew", "ct", "nsw", "new", "nct"}
DATE_PAIRS = [("start", "end"), ("starts_at", "ends_at"), ("start_date", "end_date"), ("valid_from", "valid_to"),
              ("valid_from", "valid_until"), ("date_from", "date_to"), ("start_at", "end_at"),
              ("begins_at", "ends_at"), ("opens_at", "closes_at")]


def _base_type(column_type):
    return column_type.impl if isinstance(column_type, TypeDecorator) else column_type


def date_range():
    lo, hi = (current_app.config.get("HOUQIN_DATE_RANGE", (1900, 2100)) if has_app_context() else (1900, 2100))
    return lo, hi


def label(cls, field):
    api = getattr(cls, "_api", None)
    labels = getattr(api, "label_columns", None) or {}
    text = str(labels.get(field, "")) if labels else ""
    return f"{text} ({field})" if text and text != field else field


def _refuse(cls, field, message):
    raise ValidationError(_("%(field)s: %(problem)s", field=label(cls, field), problem=message))


# --- single values -------------------------------------------------------------------

def check_decimal(value, precision=None, scale=None, *, from_input=True):
    """Returns the Decimal, or raises ValueError with a translated reason."""
    if isinstance(value, bool) or (from_input and not isinstance(value, (int, float, str, Decimal))):
        raise ValueError(_("a number is expected"))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("the number must be finite"))
        value = repr(value)
    try:
        d = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(_("a number is expected"))
    if not d.is_finite():
        raise ValueError(_("the number must be finite"))
    if scale is not None and from_input:
        exponent = d.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -scale:
            raise ValueError(_("at most %(n)s decimal places", n=scale))
    limit = Decimal(10) ** ((precision - (scale or 0)) if precision else 12)
    if abs(d) >= limit:
        raise ValueError(_("the number must be smaller than %(limit)s", limit=f"{limit:,}"))
    return d


def check_integer(value, bound, *, from_input=True):
    if isinstance(value, bool):
        raise ValueError(_("a whole number is expected"))
    if isinstance(value, str) and from_input and re.fullmatch(r"\s*-?\d{1,20}\s*", value):
        value = int(value)
    if isinstance(value, float) and from_input and math.isfinite(value) and value == int(value):
        value = int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if not isinstance(value, int):
        raise ValueError(_("a whole number is expected"))
    if abs(value) > bound:
        raise ValueError(_("the number must be between %(lo)s and %(hi)s", lo=-bound, hi=bound))
    return value


def check_text(value, length, *, from_input=True):
    if not isinstance(value, str):
        raise ValueError(_("text is expected"))
    if "\x00" in value:
        raise ValueError(_("text may not contain NUL characters"))
    if (length or from_input) and len(value) > (length or MAX_TEXT):
        raise ValueError(_("at most %(n)s characters", n=length or MAX_TEXT))
    return value


def check_date(value, with_time):
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00")) if with_time else date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(_("a date written YYYY-MM-DD is expected") if not with_time
                             else _("a date and time written YYYY-MM-DDTHH:MM is expected"))
    if not isinstance(value, (date, datetime)):
        raise ValueError(_("a date is expected"))
    lo, hi = date_range()
    if not lo <= value.year <= hi:
        raise ValueError(_("the year must be between %(lo)s and %(hi)s", lo=lo, hi=hi))
    return value


def sane_day(value):
    """For routes taking a day (``cash_summary/2026-11-24``): a 4xx outside the sane range."""
    try:
        return check_date(value, False)
    except ValueError as exc:
        raise ValidationError(str(exc))


def check_value(column, value, *, from_input=True):
    t = _base_type(column.type)
    if isinstance(t, Float):
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
            raise ValueError(_("a number is expected"))
        try:
            f = float(value)
        except ValueError:
            raise ValueError(_("a number is expected"))
        if not math.isfinite(f) or abs(f) >= 1e15:
            raise ValueError(_("the number must be finite and smaller than 10^15"))
        return value
    if isinstance(t, Numeric):
        return check_decimal(value, t.precision, t.scale, from_input=from_input)
    if isinstance(t, Boolean):
        if not isinstance(value, bool) and (from_input or value not in (0, 1)):
            raise ValueError(_("true or false is expected"))
        return value
    if isinstance(t, Integer):
        bound = next(b for k, b in INT_RANGE.items() if isinstance(t, k))
        return check_integer(value, bound, from_input=from_input)
    if isinstance(t, SAEnum):
        return value
    if isinstance(t, String):
        if not isinstance(value, str) and not from_input:
            return value
        return check_text(value, t.length, from_input=from_input)
    if isinstance(t, DateTime):
        return check_date(value, True)
    if isinstance(t, Date):
        return check_date(value, False)
    return value


# --- HTML forms ----------------------------------------------------------------------

FORM_CHECKED = (Numeric, Float, Integer, String, Date, DateTime)


class ColumnRule:
    """WTForms validator: the column's own bounds on a form's value, as the API applies them
    (``"1.999"`` for a 2-decimal money field is refused, not rounded to 2.00). Numbers are
    judged on the text typed, before WTForms turned it into a Decimal."""
    field_flags = {}

    def __init__(self, column):
        self.column = column

    def __call__(self, form, field):
        from wtforms.validators import StopValidation
        t = _base_type(self.column.type)
        numeric = isinstance(t, (Numeric, Float, Integer)) and not isinstance(t, Boolean)
        raw = field.raw_data[0] if numeric and field.raw_data else field.data
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return
        try:
            check_value(self.column, raw)
        except ValueError as exc:
            field.errors[:] = []            # one message, ours, instead of "Not a valid decimal value"
            raise StopValidation(str(exc))


def form_validators(cls):
    """``validators_columns`` for a generated ModelView: every plain column gets its rule."""
    out = {}
    for attr in sa_inspect(cls).column_attrs:
        column = attr.columns[0]
        t = _base_type(column.type)
        if isinstance(t, FORM_CHECKED) and not isinstance(t, (Boolean, SAEnum)):
            out[attr.key] = [ColumnRule(column)]
    return out


# --- API bodies ----------------------------------------------------------------------

def check_body(cls, body):
    """Check a generated API's JSON body against the model's columns; raises ValidationError."""
    if not isinstance(body, dict):
        raise ValidationError(_("Request body must be a JSON object."))
    if "version" in body:
        v = body["version"]
        if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, str) and v.strip().isdigit())):
            _refuse(cls, "version", _("the record version must be a whole number"))
    mapper = sa_inspect(cls)
    columns = {a.key: a.columns[0] for a in mapper.column_attrs}
    relations = {r.key: r for r in mapper.relationships}
    for key, value in body.items():
        if key in relations:
            rel = relations[key]
            if rel.uselist:
                if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
                    _refuse(cls, key, _("a list of record ids is expected"))
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                        or not 0 < value <= 2 ** 31 - 1):
                _refuse(cls, key, _("a record id (a whole number) is expected"))
            continue
        column = columns.get(key)
        if column is None or key == "version" or isinstance(_base_type(column.type), LargeBinary):
            continue
        if value is None:
            if not column.nullable and not column.primary_key:
                _refuse(cls, key, _("a value is required"))
            continue
        if isinstance(value, (list, dict)):
            _refuse(cls, key, _("a single value is expected, not a list or object"))
        try:
            check_value(column, value)
        except ValueError as exc:
            _refuse(cls, key, str(exc))


# --- every write ---------------------------------------------------------------------

def _check_instance(obj):
    cls = type(obj)
    mapper = sa_inspect(cls, raiseerr=False)
    if mapper is None:
        return
    state = sa_inspect(obj)
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if state.persistent and not state.attrs[attr.key].history.has_changes():
            continue
        value = state.dict.get(attr.key)
        if value is None or isinstance(_base_type(column.type), LargeBinary):
            continue
        try:
            check_value(column, value, from_input=False)
        except ValueError as exc:
            _refuse(cls, attr.key, str(exc))
    names = {a.key for a in mapper.column_attrs}
    for start, end in DATE_PAIRS:
        for prefix in [""] + sorted({n[: -len(end)] for n in names if n.endswith("_" + end)}):
            s_key, e_key = prefix + start, prefix + end
            if s_key in names and e_key in names:
                s, e = state.dict.get(s_key), state.dict.get(e_key)
                if isinstance(s, date) and isinstance(e, date) and type(s) is type(e) and e < s:
                    _refuse(cls, e_key, _("must not be before %(start)s", start=label(cls, s_key)))


@event.listens_for(Session, "before_flush")
def _guard_flush(session, flush_context, instances):
    for obj in list(session.new) + list(session.dirty):
        _check_instance(obj)


# --- request parameters and database refusals ----------------------------------------

def check_list_args(args):
    """``?q=`` (Rison) and FAB's page/page-size arguments; raises ValidationError."""
    for key, value in args.items():
        if key.startswith(("page_", "psize_")) or key in ("page", "page_size"):
            if not re.fullmatch(r"\d{1,7}", value or "") or int(value) > MAX_PAGE:
                raise ValidationError(_("%(arg)s must be a whole number from 0 to %(max)s", arg=key, max=MAX_PAGE))
    q = args.get("q")
    if q is None:
        return
    try:
        parsed = prison.loads(q)
    except Exception:
        raise ValidationError(_("The query parameter q is not valid Rison: %(q)s", q=q[:80]))
    if not isinstance(parsed, dict):
        raise ValidationError(_("The query parameter q must be a Rison object, e.g. (page:0)."))
    for key in ("page", "page_size"):
        v = parsed.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_PAGE):
            raise ValidationError(_("%(arg)s must be a whole number from 0 to %(max)s", arg=key, max=MAX_PAGE))
    filters = parsed.get("filters", [])
    if not isinstance(filters, list):
        raise ValidationError(_("filters must be a list of (col, opr, value)."))
    for f in filters:
        if not isinstance(f, dict) or not isinstance(f.get("col"), str) or not isinstance(f.get("opr"), str):
            raise ValidationError(_("filters must be a list of (col, opr, value)."))
        value = f.get("value")
        if f["opr"] in TEXT_OPERATORS and not isinstance(value, str):
            raise ValidationError(_("The filter %(opr)s on %(col)s needs text, e.g. '%(value)s'.",
                                    opr=f["opr"], col=f["col"], value=value))
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                (not math.isfinite(value) or abs(value) > 2 ** 31):
            raise ValidationError(_("The filter value on %(col)s is out of range.", col=f["col"]))
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError(_("text may not contain NUL characters"))


class _CheckedSchemas:
    """What FAB's ``@rison`` decorator calls as ``jsonschema.validate`` on every list call.
    jsonschema.validate first checks the schema itself against the meta-schema: about half
    of a list API call (7 of 15 ms, measured by bench/). FAB's schemas are its module
    constants: each is checked once, and its validator kept. Same errors, same semantics."""

    def __init__(self, jsonschema):
        self._js, self._validators = jsonschema, {}
        self.ValidationError = jsonschema.ValidationError

    def validate(self, instance, schema, *args, **kwargs):
        entry = self._validators.get(id(schema))
        if entry is None or entry[0] is not schema or args or kwargs:
            cls = self._js.validators.validator_for(schema)
            cls.check_schema(schema)
            entry = (schema, cls(schema, *args, **kwargs))
            if not (args or kwargs):
                self._validators[id(schema)] = entry
        error = self._js.exceptions.best_match(entry[1].iter_errors(instance))
        if error is not None:
            raise error

    def __getattr__(self, name):
        return getattr(self._js, name)


def _speed_up_rison():
    import flask_appbuilder.api as fab_api
    if not isinstance(fab_api.jsonschema, _CheckedSchemas):
        fab_api.jsonschema = _CheckedSchemas(fab_api.jsonschema)


def install(app):
    from .extensions import db
    _speed_up_rison()

    @app.before_request
    def _download_name():
        # FAB's file download joins the name to UPLOAD_FOLDER and splits it on "_sep_"
        if (request.endpoint or "").endswith(".download"):
            name = (request.view_args or {}).get("filename", "")
            if not re.fullmatch(r"[\w-]+_sep_[\w.-]+", name or "") or ".." in name:
                return _db_refusal(_("Not found."), 404)
        return None

    @app.before_request
    def _list_args():
        if request.method == "GET" and request.args:
            try:
                check_list_args(request.args)
            except ValidationError as exc:
                if request.path.startswith("/api/"):
                    return jsonify(message=str(exc)), 400
                return str(exc), 400, {"Content-Type": "text/plain; charset=utf-8"}
        return None

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        db.session.rollback()
        message = _("This conflicts with an existing record (a duplicate or a missing required value).")
        return _db_refusal(message, 409)

    @app.errorhandler(DataError)
    def _data(exc):
        db.session.rollback()
        return _db_refusal(_("A value is out of range for its field."), 422)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _db_down(exc):
        return database_unavailable()

    @app.errorhandler(IsADirectoryError)
    @app.errorhandler(NotADirectoryError)
    def _bad_path(exc):
        return _db_refusal(_("Not found."), 404)


def database_unavailable():
    """The database is restarting or unreachable: 503 with a retry hint, never a traceback.
    The pool (pool_pre_ping) reconnects by itself once the server is back; no app restart."""
    from .extensions import db
    try:
        db.session.rollback()
    except Exception:
        pass
    try:
        db.session.remove()
    except Exception:
        pass
    resp = _db_refusal(_("The database is not available right now; try again in a few seconds."), 503)
    resp = current_app.make_response(resp)
    resp.headers["Retry-After"] = str(current_app.config.get("HOUQIN_RETRY_AFTER", 5))
    return resp


def _db_refusal(message, status):
    from .app import wants_json
    if wants_json():
        return jsonify(message=str(message)), status
    return str(message), status, {"Content-Type": "text/plain; charset=utf-8"}


def as_user_error(exc):
    """A database refusal raised inside a write, as the UserError to answer with."""
    from .errors import Conflict
    if isinstance(exc, IntegrityError):
        return Conflict(_("This conflicts with an existing record (a duplicate or a missing required value)."))
    return ValidationError(_("A value is out of range for its field."))


class RefusalsAs4xx:
    """Mixin for FAB APIs: FAB's ``@safe`` turns any exception into a 500; a UserError
    (or the database refusing a duplicate / an out-of-range value) raised anywhere below an
    endpoint is a translated 4xx instead, with the transaction rolled back."""

    def response_500(self, message=None, **kwargs):
        import sys
        from .errors import UserError
        from .extensions import db
        exc = sys.exc_info()[1]
        if isinstance(exc, DB_DOWN):
            return database_unavailable()
        if isinstance(exc, INPUT_ERRORS):
            exc = input_error(exc)
        if isinstance(exc, UserError):
            db.session.rollback()
            return self.response(exc.status, message=str(exc))
        return super().response_500(message=message, **kwargs)


# --- action bodies (untyped JSON until actions declare typed inputs) -----------------------

INPUT_ERRORS = (TypeError, AttributeError, ValueError, ArithmeticError, KeyError, IndexError,
                IntegrityError, DataError)


def check_action_body(body, depth=0):
    """Bounds on anything an action receives: finite numbers below 10^15, text without NUL
    and at most MAX_TEXT characters, nesting at most 5 deep, at most 1000 entries."""
    if depth > 5:
        raise ValidationError(_("The request is nested too deeply."))
    items = body.items() if isinstance(body, dict) else enumerate(body) if isinstance(body, list) else ()
    if isinstance(body, (dict, list)) and len(body) > 1000:
        raise ValidationError(_("The request has too many entries."))
    for key, value in items:
        if isinstance(value, (dict, list)):
            check_action_body(value, depth + 1)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, (int, float, Decimal)):
            if (isinstance(value, float) and not math.isfinite(value)) or \
                    (isinstance(value, Decimal) and not value.is_finite()) or abs(value) >= 10 ** 15:
                raise ValidationError(_("%(field)s: %(problem)s", field=key,
                                        problem=_("the number must be finite and smaller than 10^15")))
        elif isinstance(value, str):
            try:
                check_text(value, MAX_TEXT)
            except ValueError as exc:
                raise ValidationError(_("%(field)s: %(problem)s", field=key, problem=str(exc)))


def input_error(exc):
    """A wrong-typed or out-of-range value that a service tripped over: a 4xx (logged)."""
    if isinstance(exc, (IntegrityError, DataError)):
        return as_user_error(exc)
    current_app.logger.warning("input refused: %r", exc, exc_info=exc)
    return ValidationError(_("A value in the request has the wrong type or is out of range."))


# --- uploads: judged by content, not by name ----------------------------------------------

MAGIC = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"%PDF-", "application/pdf"),
         (b"PK\x03\x04", "application/zip"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole")]
FAMILY = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "application/zip",
          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "application/zip",
          "application/msword": "application/x-ole", "application/vnd.ms-excel": "application/x-ole"}


def sniff(data):
    """The file type its first bytes say (None if not one we accept)."""
    data = data or b""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def content_matches(data, claimed):
    kind = sniff(data)
    return kind is not None and FAMILY.get(claimed, claimed) == kind
