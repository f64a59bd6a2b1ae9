"""Views and APIs generated from a document's declaration (ARCHITECTURE §1, §7).

``register_documents`` builds, for each document class, a ``<Model>View`` (FAB ModelView)
and a ``<Model>Api`` (FAB ModelRestApi) sharing one permission name, plus its menu entry.
Both read through ``ScopedInterface`` (record rules), both refuse stale edits, both turn a
``UserError`` into a translated 4xx instead of FAB's flash-and-redirect-with-200.
"""
import json
from decimal import Decimal

from flask import Response, abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder.api import BaseApi, safe
from flask_appbuilder.security.decorators import has_access, protect
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import LargeBinary, inspect as sa_inspect, select
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from marshmallow import ValidationError as MarshmallowError
from wtforms import HiddenField

from . import actions, audit, display, document, fieldpolicy, showpage, validation, workflow
from .document import SYSTEM_FIELDS
from .errors import Conflict, NotFound, PermissionDenied, UserError, ValidationError
from .exports import read_table, to_csv, to_xlsx
from .extensions import db
from .permissions import (API_METHOD_ACTIONS, VIEW_METHOD_ACTIONS, ScopedInterface, request_user,
                          scoped_select, user_can)

SYSTEM_LABELS = {
    "name": _l("Number"), "docstatus": _l("Document status"), "docstatus_label": _l("Document status"),
    "workflow_state": _l("State"), "state_label": _l("State"), "version": _l("Version"),
    "created_at": _l("Created at"), "created_by": _l("Created by"), "modified_at": _l("Modified at"),
    "modified_by": _l("Modified by"), "amended_from": _l("Amended from"), "cancel_reason": _l("Cancel reason"),
}
STALE = _l("Someone else changed this record after you opened it; reload it and apply your changes again.")


def form_fields(cls):
    """Editable form fields: plain columns (not keys, not system) and many-to-one relations."""
    mapper = sa_inspect(cls)
    skip = {c.key for c in mapper.column_attrs
            if c.columns[0].foreign_keys or isinstance(c.columns[0].type, LargeBinary)}
    cols = [c.key for c in mapper.column_attrs if c.key not in SYSTEM_FIELDS and c.key not in skip]
    rels = [r.key for r in mapper.relationships if r.direction.name == "MANYTOONE"]
    return cols + rels


def respond(status, payload):
    """A JSON answer whose keys may be anything ('code', 'status' clash with FAB's response())."""
    from flask import jsonify
    return jsonify(payload), status


def set_status(status):
    """Make the page that FAB renders next carry this 4xx status (see app.after_request)."""
    g.houqin_status = status


def user_error_status(exc):
    return exc.status if isinstance(exc, UserError) else 409 if isinstance(exc, StaleDataError) else 400


class DocumentView(ModelView):
    """Base of every generated ModelView."""
    method_permission_name = VIEW_METHOD_ACTIONS
    include_route_methods = {"list", "show", "add", "edit", "delete", "transition", "submit", "cancel",
                             "amend", "action", "export", "import_", "attach", "attachment"}
    show_template = "houqin/show.html"
    list_template = "houqin/list.html"
    page_size = 25

    # -- CRUD with proper errors -------------------------------------------------------
    def _save(self, item, form, adding):
        try:
            form.populate_obj(item)
            self.pre_add(item) if adding else self.pre_update(item)
            self.datamodel.session.add(item)
            self.datamodel.session.commit()
        except (UserError, StaleDataError) as exc:
            self.datamodel.session.rollback()
            flash(str(exc) if isinstance(exc, UserError) else str(STALE), "danger")
            set_status(user_error_status(exc))
            return False
        (self.post_add if adding else self.post_update)(item)
        flash(self.add_row_message if adding else self.edit_row_message, "success")
        return True

    def render_template(self, template, **kwargs):
        if template == self.list_template:     # the collection actions (e.g. "Order a meal") head the list
            kwargs.setdefault("list_actions", actions.for_list(self.datamodel.obj, request_user()))
        return super().render_template(template, **kwargs)

    # -- the field policy on forms: only what this user may write now is shown and accepted
    def _trim(self, form, item, creating):
        cls = self.datamodel.obj
        allowed = set(fieldpolicy.writable(cls, item, request_user(), creating))
        for name in list(form._fields):
            if name in cls._meta.fields and name not in allowed:
                del form[name]
        return form

    # the widgets list only the fields the policy left in the form
    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["add"] = self.add_widget(form=form, include_cols=[c for c in self.add_columns if c in form],
                                         exclude_cols=exclude_cols or [], fieldsets=self.add_fieldsets)
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        widgets = widgets or {}
        widgets["edit"] = self.edit_widget(form=form, include_cols=[c for c in self.edit_columns if c in form],
                                           exclude_cols=exclude_cols or [], fieldsets=self.edit_fieldsets)
        return widgets

    def _refused_post(self, item, creating):
        """Check every posted model field against the policy; flash the refusal (422)."""
        cls = self.datamodel.obj
        posted = {k for k in request.form if k in fieldpolicy.model_fields(cls) or k in cls._meta.fields}
        try:
            fieldpolicy.check(cls, item, posted, request_user(), creating)
        except UserError as exc:
            flash(str(exc), "danger")
            set_status(exc.status)
            return True
        return False

    def _add(self):
        form = self._trim(self.add_form.refresh(), None, True)
        if request.method == "POST":
            if self._refused_post(None, True):
                pass
            elif form.validate():
                self.process_form(form, True)
                if self._save(self.datamodel.obj(), form, True):
                    return None
            else:
                set_status(422)
        return self._get_add_widget(form=form)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        if request.method == "POST":
            form = self._trim(self.edit_form.refresh(request.form), item, False)
            form._id = pk
            if self._refused_post(item, False):
                pass
            elif not form.validate():
                set_status(422)
            else:
                try:
                    item.check_version(form.seen_version.data)
                except UserError as exc:
                    flash(str(exc), "danger")
                    set_status(exc.status)
                else:
                    self.process_form(form, False)
                    del form.seen_version
                    if self._save(item, form, False):
                        return None
                form = self._trim(self.edit_form.refresh(request.form), item, False)
        else:
            form = self._trim(self.edit_form.refresh(obj=item), item, False)
            form.seen_version.data = item.version
        return self._get_edit_widget(form=form)

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.datamodel.session.delete(item)
            self.datamodel.session.commit()
            flash(self.delete_row_message, "success")
        except UserError as exc:
            self.datamodel.session.rollback()
            flash(str(exc), "danger")
        self.update_redirect()

    # -- show page with actions and history ------------------------------------------
    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        user = request_user()
        wf = item._meta.workflow
        printing = current_app.extensions["houqin_print"]
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=self._show(pk),
            related_views=self._related_views, doc=item,
            # a transition that is also a declared action (it needs inputs) is offered as the action
            transitions=[t for t in (wf.available(item, user) if wf else [])
                         if actions.find(type(item), t[0].action) is None],
            can_submit=item._meta.submittable and not wf and item.docstatus == 0
            and user_can(user, "submit", item._meta.permission),
            can_cancel=item._meta.submittable and not wf and item.docstatus == 1
            and user_can(user, "cancel", item._meta.permission),
            can_amend=item.docstatus == 2 and user_can(user, "create", item._meta.permission),
            print_formats=[f for f in printing.for_model(type(item))
                           if user_can(user, "print", f.permission or item._meta.permission)],
            attachments=attachments_of(item), can_attach=user_can(user, "write", item._meta.permission),
            actions=actions.offered(item, user),
            # status bar, key fields, related lists, history sentences (erp_core/showpage.py)
            **showpage.context(self, item, audit.history(self.datamodel.session, item)))

    def _run_action(self, pk, run):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        try:
            result = run(item)
            self.datamodel.session.commit()
            flash(_("Done: %(doc)s", doc=(result or item).name), "success")
            item = result or item
        except UserError as exc:
            self.datamodel.session.rollback()
            flash(str(exc), "danger")
            # 4xx with the message, and a way back to the document
            return self.render_template("houqin/refused.html", message=str(exc),
                                        back=url_for(f"{self.endpoint}.show", pk=pk)), exc.status
        if self.datamodel.get(item.id, self._base_filters) is None:
            # the action took the document out of this user's record rules (handed to another
            # team): its page would be "not found", so back to the list, with the flash
            return redirect(url_for(f"{self.endpoint}.list"))
        return redirect(url_for(f"{self.endpoint}.show", pk=item.id))

    @expose("/transition/<int:pk>/<action>", methods=["POST"])
    @has_access
    def transition(self, pk, action):
        return self._run_action(pk, lambda d: workflow.apply(d, action, by=request_user(),
                                                         reason=request.form.get("reason")))

    @expose("/action/<int:pk>/<name>", methods=["POST"])
    @has_access
    def action(self, pk, name):
        """The button of a declared action on this page (permission checked by the action)."""
        spec = actions.find(self.datamodel.obj, name)
        if spec is None:
            abort(404)
        return self._run_action(pk, lambda d: _doc_or_none(spec.execute(actions.body_of_request(), request_user(), d)))

    @expose("/submit/<int:pk>", methods=["POST"])
    @has_access
    def submit(self, pk):
        return self._run_action(pk, lambda d: document.submit(d, by=request_user()))

    @expose("/cancel/<int:pk>", methods=["POST"])
    @has_access
    def cancel(self, pk):
        return self._run_action(pk, lambda d: document.cancel(d, request.form.get("reason"), by=request_user()))

    @expose("/amend/<int:pk>", methods=["POST"])
    @has_access
    def amend(self, pk):
        return self._run_action(pk, lambda d: document.amend(d, by=request_user()))

    @expose("/export/", methods=["GET"])
    @has_access
    def export(self):
        return export_response(self.datamodel, self.list_columns, self.label_columns,
                               request.args.get("format", "csv"), self._base_filters)

    @expose("/import/", methods=["POST"])
    @has_access
    def import_(self):
        return _ui_import(self)

    @expose("/attach/<int:pk>", methods=["POST"])
    @has_access
    def attach(self, pk):
        """Upload a file to a document from its page (write permission)."""
        return self._run_action(pk, lambda d: attach(d, request.files.get("file")) and None)

    @expose("/attachment/<int:pk>/<int:att_id>", methods=["GET"])
    @has_access
    def attachment(self, pk, att_id):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return attachment_response(item, att_id)


def _doc_or_none(result):
    return result if hasattr(result, "_meta") else None


def _ui_import(view):
    api = current_app.extensions["houqin"].apis[view.datamodel.obj]
    try:
        names = import_rows(api, request.files.get("file"))
    except UserError as exc:
        flash(str(exc), "danger")
        return view.render_template("houqin/refused.html", message=str(exc),
                                    back=url_for(f"{view.endpoint}.list")), exc.status
    flash(_("%(n)s records imported.", n=len(names)), "success")
    return redirect(url_for(f"{view.endpoint}.list"))


def export_response(datamodel, columns, labels, fmt, base_filters=None):
    if fmt not in ("csv", "xlsx"):
        raise ValidationError(_("Unknown export format: %(fmt)s", fmt=fmt))
    _count, items = datamodel.query(base_filters, order_column="id", order_direction="asc")
    cls = datamodel.obj
    hidden = cls._meta.hidden_fields
    user = request_user()
    header = [labels.get(c, c) for c in columns]
    rows = []
    for item in items:
        sealed = hidden(item, user) if hidden else set()
        rows.append(["***" if c in sealed else display.format_value(cls, c, getattr(item, c, None)) for c in columns])
    title = str(cls._meta.title_plural)
    if fmt == "csv":
        return Response(to_csv(header, rows), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={cls.__name__}.csv"})
    return Response(to_xlsx(header, rows, title),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={cls.__name__}.xlsx"})


MAX_ATTACHMENT = 20 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp", "application/zip",
                    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def attachments_of(doc):
    from .models import Attachment
    return db_session().query(Attachment.id, Attachment.filename, Attachment.size, Attachment.uploaded_by,
                              Attachment.uploaded_at).filter_by(doctype=type(doc).__name__, doc_id=doc.id) \
        .order_by(Attachment.id).all()


def db_session():
    from .extensions import db
    return db.session


MB = 1024 * 1024
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class CheckedUpload:
    """An upload that passed ``checked_upload``: its bytes, the type its content says, a safe name."""
    def __init__(self, data, mimetype, filename):
        self.data, self.mimetype, self.filename = data, mimetype, filename


def checked_upload(upload, types=ATTACHMENT_TYPES, limit=MAX_ATTACHMENT, rename=None):
    """Judge an upload by its content (magic bytes), its size and its name, before anything is
    written. A name with a path in it is refused; ``rename`` stores it as "<rename>.<ext>"
    (photos from phones: their names say nothing). Raises a translated ValidationError."""
    if isinstance(upload, CheckedUpload):
        return upload
    if upload is None or not upload.filename:
        raise ValidationError(_("Choose a file to attach."))
    name = upload.filename
    if any(t in name for t in ("/", "\\", "\x00")) or ".." in name or name.startswith("~"):
        raise ValidationError(_("The file name is not allowed: give the file a plain name."))
    data = upload.stream.read(limit + 1)
    if not data:
        raise ValidationError(_("The file is empty."))
    if len(data) > limit:
        raise ValidationError(_("The file is larger than %(mb)s MB.", mb=max(1, limit // MB)))
    kind = validation.sniff(data)
    if upload.mimetype in types and validation.content_matches(data, upload.mimetype):
        kind = upload.mimetype              # the Office types share their container's magic bytes
    if kind not in types:
        raise ValidationError(_("Send one of these: %(kinds)s.", kinds=_kinds(types)))
    if rename:
        name = f"{rename}.{PHOTO_TYPES.get(kind, 'bin')}"
    return CheckedUpload(data, kind, name[-200:])


def _kinds(types):
    labels = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP",
              "application/zip": "ZIP"}
    out = [labels.get(t) or (_("Word") if "word" in t else _("Excel") if "excel" in t or "sheet" in t else t)
           for t in sorted(types)]
    return "、".join(dict.fromkeys(str(o) for o in out))


def attach(doc, upload, types=ATTACHMENT_TYPES, limit=MAX_ATTACHMENT, rename=None):
    """Store an uploaded file with a document (audited), checked as ``checked_upload`` says."""
    from . import storage
    from .context import actor
    from .types import now
    up = checked_upload(upload, types, limit, rename)
    row = storage.save(doctype=type(doc).__name__, doc_id=doc.id, filename=up.filename, mimetype=up.mimetype,
                       data=up.data, uploaded_by=actor(), uploaded_at=now())
    db_session().add(row)
    audit.record(db_session(), doc, "attach", filename=up.filename, size=len(up.data))
    return row


def attachment_response(doc, att_id):
    from .models import Attachment
    row = db_session().get(Attachment, att_id)
    if row is None or row.doctype != type(doc).__name__ or row.doc_id != doc.id:
        raise NotFound(_("Not found."))
    from urllib.parse import quote
    from . import storage
    return Response(storage.content(row), mimetype=row.mimetype, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff"})


def import_rows(api, upload):
    """Create one document per row of an uploaded CSV/Excel file, all or nothing. Columns are
    matched by field name or by label; the API's schema converts and validates each value.
    Returns the names created; raises ValidationError listing the bad rows."""
    if upload is None or not upload.filename:
        raise ValidationError(_("Choose a .csv or .xlsx file to import."))
    try:
        header, rows = read_table(upload.filename, upload.read())
    except ValueError:
        raise ValidationError(_("Only .csv and .xlsx files can be imported."))
    except Exception:
        raise ValidationError(_("The file could not be read as CSV or Excel."))
    fields = list(api.add_columns)
    cls = api.datamodel.obj
    names = {**api.label_columns, **cls._meta.label_columns}      # the labels people see on the form
    by_label = {str(names.get(f, f)): f for f in fields} | {f: f for f in fields}
    model = fieldpolicy.model_fields(cls)
    unknown = [h for h in header if h not in by_label and h not in model]
    if unknown or not header:
        raise ValidationError(_("Unknown columns: %(cols)s. Use: %(known)s", cols=", ".join(unknown) or "-",
                                known=", ".join(fields)))
    # a column naming a field people may not set is refused as a whole, before any row is read
    fieldpolicy.check(cls, None, [by_label.get(h, h) for h in header], request_user(), True)
    session, errors, created = api.datamodel.session, [], []
    labels = {f: str(names.get(f, f)) for f in model}
    for number, row in enumerate(rows, start=2):
        data = {by_label[h]: (str(v).strip() if v != "" else None) for h, v in zip(header, row)}
        item = None
        try:
            data = {k: _related_key(cls, k, v) for k, v in data.items() if v is not None}
            item = api.add_model_schema.load(data)
            session.add(item)
            session.flush()        # a document's validate() runs here and refuses before writing
            created.append(item.name)
        except (UserError, MarshmallowError) as exc:
            if item is not None and item in session:
                session.expunge(item)
            errors.append(_row_error(number, exc, labels))
        except SQLAlchemyError as exc:   # e.g. a duplicate: the transaction is gone, stop here
            errors.append(_("Row %(row)s: %(error)s", row=number, error=getattr(exc, "orig", exc)))
            break
    if errors:
        session.rollback()
        raise ValidationError(" ".join(str(e) for e in errors[:20]))
    session.commit()
    return created


def _row_error(number, exc, labels):
    """"Row 3, column 身份证号: …" for each field an import row was refused on (the schema's
    messages, a FieldRefused's fields), else "Row 3: …"."""
    by_field = exc.messages if isinstance(exc, MarshmallowError) else getattr(exc, "fields", None)
    if not isinstance(by_field, dict) or not by_field:
        return _("Row %(row)s: %(error)s", row=number, error=exc)
    return " ".join(_("Row %(row)s, column %(column)s: %(error)s", row=number, column=labels.get(f, f),
                      error=" ".join(map(str, m)) if isinstance(m, list) else m) for f, m in by_field.items())


def _related_key(cls, field, value):
    """An import cell naming a related record by its number, code or title (as people write
    it) becomes that record's key; a number stays a key. Unknown or ambiguous: refused."""
    rel = sa_inspect(cls).relationships.get(field)
    if rel is None or rel.uselist or str(value).isdigit():
        return value
    target = rel.mapper.class_
    for column in ("name", "code", "title", "legal_name", "full_name"):
        attr = getattr(target, column, None)
        if attr is None or not hasattr(attr, "property") or column not in {c.key for c in rel.mapper.column_attrs}:
            continue
        ids = db.session.scalars(select(target.id).where(attr == str(value)).limit(2)).all()
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise fieldpolicy.FieldRefused({field: _("names more than one record: %(v)s", v=value)},
                                           _("%(v)s names more than one record.", v=value))
    raise fieldpolicy.FieldRefused({field: _("no such record: %(v)s", v=value)}, _("No such record: %(v)s", v=value))


class DocumentApi(validation.RefusalsAs4xx, ModelRestApi):
    """Base of every generated ModelRestApi: JWT or browser session (CSRF checked in app.py)."""
    allow_browser_login = True
    method_permission_name = API_METHOD_ACTIONS
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete", "transition", "submit",
                             "cancel", "amend", "history", "action", "export", "import_", "attachments", "attachment"}

    def _refuse(self, exc):
        self.datamodel.session.rollback()
        if isinstance(exc, StaleDataError):
            return self.response(409, message=str(STALE))
        if isinstance(exc, fieldpolicy.FieldRefused):
            return respond(exc.status, {"message": str(exc), "fields": exc.fields})
        return self.response(exc.status, message=str(exc))

    @staticmethod
    def _body():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationError(_("Request body must be a JSON object."))
        return body

    def _doc(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            raise NotFound(_("Not found."))
        return item

    def _masked(self, result, item):
        hidden = item._meta.hidden_fields
        sealed = hidden(item, request_user()) if hidden else set()
        for field in sealed & set(result):
            result[field] = None
        return result

    def pre_get(self, data):
        item = self.datamodel.get(data["id"], self._base_filters)
        if item is not None:
            self._masked(data["result"], item)

    def get_list_headless(self, **kwargs):
        # ?after=<cursor> ("" for the first page): keyset paging for clients that read a long list
        # through (ScopedInterface._keyset_page); the answer's next_cursor gives the next page
        if "after" not in request.args:
            return super().get_list_headless(**kwargs)
        g.houqin_cursor = request.args["after"]
        try:
            return super().get_list_headless(**kwargs)
        except UserError as exc:         # a bad cursor or an order it cannot page: 422, not a logged 500
            return self._refuse(exc)

    def pre_get_list(self, data):
        if getattr(data.get("count"), "capped", False):     # counted up to the cap only (issue 23)
            data["count_capped"] = True
        if "houqin_cursor" in g:
            data["next_cursor"] = g.get("houqin_next_cursor")
        if self.datamodel.obj._meta.hidden_fields is None:
            return
        cls = self.datamodel.obj     # one statement for the page, not one per row (issue 17.6)
        items = {i.id: i for i in self.datamodel.session.scalars(scoped_select(cls).where(cls.id.in_(data["ids"])))}
        for pk, row in zip(data["ids"], data["result"]):
            item = items.get(pk)
            if item is not None:
                self._masked(row, item)

    def post_headless(self):
        try:
            body = self._body()
            fieldpolicy.check(self.datamodel.obj, None, body, request_user(), True)
            validation.check_body(self.datamodel.obj, body)
            return super().post_headless()
        except (UserError, StaleDataError) as exc:
            return self._refuse(exc)
        except (IntegrityError, DataError) as exc:
            return self._refuse(validation.as_user_error(exc))

    def put_headless(self, pk):
        try:
            item = self._doc(pk)
            body = self._body()
            # who may write what first (the value does not matter then), then the values
            fieldpolicy.check(type(item), item, [k for k in body if k != "version"], request_user(), False)
            validation.check_body(self.datamodel.obj, body)
            item.check_version(body.pop("version", request.headers.get("If-Match")))
            request._cached_json = (body, body)  # FAB re-reads the body: hand it the one without version
            return super().put_headless(pk)
        except (UserError, StaleDataError) as exc:
            return self._refuse(exc)
        except (IntegrityError, DataError) as exc:
            return self._refuse(validation.as_user_error(exc))

    def delete_headless(self, pk):
        try:
            return super().delete_headless(pk)
        except (UserError, StaleDataError) as exc:
            return self._refuse(exc)

    def _run(self, pk, run):
        try:
            item = self._doc(pk)
            result = run(item) or item
            self.datamodel.session.commit()
        except (UserError, StaleDataError) as exc:
            return self._refuse(exc)
        return self.response(200, id=result.id, name=result.name, docstatus=result.docstatus,
                             workflow_state=result.workflow_state, version=result.version)

    def _reason(self):
        body = request.get_json(silent=True)
        return body.get("reason") if isinstance(body, dict) else None

    @expose("/<int:pk>/transition/<action>", methods=["POST"])
    @protect()
    @safe
    def transition(self, pk, action):
        return self._run(pk, lambda d: workflow.apply(d, action, by=request_user(), reason=self._reason()))

    @expose("/<int:pk>/submit", methods=["POST"])
    @protect()
    @safe
    def submit(self, pk):
        return self._run(pk, lambda d: document.submit(d, by=request_user()))

    @expose("/<int:pk>/cancel", methods=["POST"])
    @protect()
    @safe
    def cancel(self, pk):
        return self._run(pk, lambda d: document.cancel(d, self._reason(), by=request_user()))

    @expose("/<int:pk>/amend", methods=["POST"])
    @protect()
    @safe
    def amend(self, pk):
        return self._run(pk, lambda d: document.amend(d, by=request_user()))

    @expose("/<int:pk>/action/<name>", methods=["POST"])
    @protect()
    @safe
    def action(self, pk, name):
        """Any action declared for this document, by its name (permission checked by the action)."""
        spec = actions.find(self.datamodel.obj, name)
        if spec is None:
            return self.response(404, message=_("Not found."))
        return _answer_action(spec, lambda: self._doc(pk))

    @expose("/<int:pk>/history", methods=["GET"])
    @protect()
    @safe
    def history(self, pk):
        try:
            item = self._doc(pk)
        except UserError as exc:
            return self._refuse(exc)
        rows = audit.history(self.datamodel.session, item)
        return self.response(200, result=[dict(ts=r.ts.isoformat(), user=r.user, action=r.action,
                                               data=r.payload()) for r in rows])

    @expose("/export/", methods=["GET"])
    @protect()
    @safe
    def export(self):
        try:
            return export_response(self.datamodel, self.list_columns, self.label_columns,
                                   request.args.get("format", "csv"), self._base_filters)
        except UserError as exc:
            return self._refuse(exc)

    @expose("/<int:pk>/attachments", methods=["GET", "POST"])
    @protect()
    @safe
    def attachments(self, pk):
        """GET: list the document's files; POST multipart ``file``: attach one (needs write)."""
        try:
            item = self._doc(pk)
            if request.method == "POST":
                if not user_can(request_user(), "write", item._meta.permission):
                    raise PermissionDenied(_("You do not have permission to do this."))
                row = attach(item, request.files.get("file"))
                self.datamodel.session.commit()
                return self.response(201, id=row.id, filename=row.filename, size=row.size)
        except UserError as exc:
            return self._refuse(exc)
        return self.response(200, result=[dict(id=a.id, filename=a.filename, size=a.size, uploaded_by=a.uploaded_by,
                                               uploaded_at=a.uploaded_at.isoformat()) for a in attachments_of(item)])

    @expose("/<int:pk>/attachments/<int:att_id>", methods=["GET"])
    @protect()
    @safe
    def attachment(self, pk, att_id):
        try:
            return attachment_response(self._doc(pk), att_id)
        except UserError as exc:
            return self._refuse(exc)

    @expose("/import/", methods=["POST"])
    @protect()
    @safe
    def import_(self):
        """multipart upload ``file`` (.csv or .xlsx): one new document per row, all or nothing."""
        try:
            names = import_rows(self, request.files.get("file"))
        except UserError as exc:
            return self._refuse(exc)
        return self.response(201, created=names)


def _columns(meta, name, default):
    value = getattr(meta, name)
    return list(value) if value is not None else default


def build_view(cls, manifest):
    meta = cls._meta
    fields = form_fields(cls)
    state = ["state_label"] if meta.workflow else ["docstatus_label"] if meta.submittable else []
    list_cols = _columns(meta, "list_columns", ["name"] + fields[:4] + state)
    attrs = dict(
        datamodel=ScopedInterface(cls),
        class_permission_name=meta.permission,
        route_base=f"/{manifest.name}/{meta.resource_name}",
        list_title=meta.title_plural, show_title=meta.title, add_title=meta.title, edit_title=meta.title,
        list_columns=list_cols,
        search_columns=_columns(meta, "search_columns", ["name"] + [f for f in fields if f in
                                                               {c.key for c in sa_inspect(cls).column_attrs}][:4]),
        show_columns=_columns(meta, "show_columns", ["name"] + fields + state +
                              ["created_at", "created_by", "modified_at", "modified_by"]),
        add_columns=meta.add_columns,
        edit_columns=meta.edit_columns + ["seen_version"],
        edit_form_extra_fields={"seen_version": HiddenField()},
        label_columns={**SYSTEM_LABELS, **meta.label_columns},
        description_columns=meta.description_columns,
        base_order=meta.order,
        validators_columns=validation.form_validators(cls),   # the API's bounds on form values too
    )
    attrs.update(display.view_attrs(cls, attrs))     # typed display (erp_core/display.py)
    # FAB fills empty add/edit columns with every column: no policy fields, no such route
    attrs["include_route_methods"] = DocumentView.include_route_methods - (
        ({"add", "import_", "delete"} if not meta.generic_create or not meta.add_columns else set())
        | ({"edit"} if not meta.edit_columns else set()))
    return type(f"{cls.__name__}View", (*meta.view_mixins, DocumentView), attrs)


def build_api(cls, manifest):
    meta = cls._meta
    fields = form_fields(cls)
    cols = _columns(meta, "api_columns", fields)
    attrs = dict(
        datamodel=ScopedInterface(cls),
        class_permission_name=meta.permission,
        resource_name=meta.resource_name,
        list_columns=["id", "name", "docstatus", "workflow_state", "version"] + cols,
        show_columns=["id", "name", "docstatus", "workflow_state", "version", "created_at", "created_by",
                      "modified_at", "modified_by", "amended_from", "cancel_reason"] + cols,
        add_columns=meta.add_columns, edit_columns=meta.edit_columns,
        order_columns=["id", "name", "created_at"] + [c for c in cols if c in
                                                      {a.key for a in sa_inspect(cls).column_attrs}],
        base_order=meta.order,
    )
    attrs.update(display.api_attrs(cls, attrs))      # list relationships eager-loaded
    attrs["include_route_methods"] = DocumentApi.include_route_methods - (
        ({"post", "import_", "delete"} if not meta.generic_create or not meta.add_columns else set())
        | ({"put"} if not meta.edit_columns else set()))
    return type(f"{cls.__name__}Api", (*meta.api_mixins, DocumentApi), attrs)


def register_documents(appbuilder, registry, documents):
    """Add view, API and menu entry for each document, grouped per module in load order."""
    for cls in documents:
        manifest = registry.module_of(cls)
        meta = cls._meta
        if meta.views:
            view = build_view(cls, manifest)
            if meta.menu:
                appbuilder.add_view(view, meta.permission, label=meta.title_plural, icon=meta.icon,
                                    category=manifest.name, category_label=manifest.category or manifest.title)
            else:
                appbuilder.add_view_no_menu(view)
            cls._view = view
        if meta.api:
            cls._api = build_api(cls, manifest)
            ext = current_app.extensions["houqin"]
            ext.apis[cls] = appbuilder.add_api(cls._api)


class ActionApi(validation.RefusalsAs4xx, BaseApi):
    """Base of a module's action endpoints. Each ``Action`` class attribute becomes a route
    (``Action.route``, default ``/<name>``) guarded by ``can_<permission>`` on this API's
    ``class_permission_name``; ``run()`` remains for read-only JSON endpoints."""
    allow_browser_login = True

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        perms = dict(getattr(cls, "method_permission_name", None) or {})
        for name, spec in list(vars(cls).items()):
            if not isinstance(spec, actions.Action):
                continue
            spec.name, spec.perm_name, spec.api = name, cls.class_permission_name, cls
            spec.permission = spec.permission or name
            perms[name] = spec.permission
            actions.REGISTRY.append(spec)
            setattr(cls, name, _action_route(spec))
        cls.method_permission_name = perms

    def run(self, work, status=200, body_required=True):
        """``work(body, user) -> dict``; body is the JSON object sent (or {} for a GET)."""
        try:
            body = actions.body_of_request() if (request.method == "GET" or request.data or body_required) else {}
            validation.check_action_body(body)
            result = work(body, request_user())
            db.session.commit()
        except (UserError, StaleDataError) as exc:
            db.session.rollback()
            return respond(user_error_status(exc), {"message": str(exc)})
        except validation.INPUT_ERRORS as exc:
            db.session.rollback()
            exc = validation.input_error(exc)
            return respond(exc.status, {"message": str(exc)})
        return respond(status, result)


def _action_route(spec):
    def route(self, **kw):
        pk = kw.get("pk")
        if pk is None or spec.doc is None:
            load = lambda: None  # noqa: E731
        else:
            load = lambda: spec.load(pk, request_user()) if spec.load else _scoped_doc(spec.doc, pk)  # noqa: E731
        return _answer_action(spec, load, {k: v for k, v in kw.items() if k != "pk"})
    route.__name__ = spec.name
    route.__doc__ = str(spec.label)
    return expose(spec.route or f"/{spec.name}", methods=list(spec.methods))(protect()(safe(route)))


def _answer_action(spec, load, url_inputs=None):
    """Run ``spec`` for an API request and answer in JSON: the permission before the record
    (its existence does not leak), one transaction, a translated 4xx on a refusal."""
    try:
        user = request_user()
        if not spec.permitted(user):
            raise PermissionDenied(_("You do not have permission to do this."))
        doc = load()
        raw = actions.body_of_request()
        raw.update(url_inputs or {})            # other URL parts are inputs too
        payload = _action_result(spec.execute(raw, user, doc))
        db.session.commit()
    except (UserError, StaleDataError) as exc:
        db.session.rollback()
        return respond(user_error_status(exc), {"message": str(exc) if isinstance(exc, UserError) else str(STALE)})
    except validation.INPUT_ERRORS as exc:
        db.session.rollback()
        exc = validation.input_error(exc)
        return respond(exc.status, {"message": str(exc)})
    return respond(spec.status, payload)


def _action_result(result):
    if hasattr(result, "_meta"):
        return dict(id=result.id, name=result.name, docstatus=result.docstatus,
                    workflow_state=result.workflow_state, version=result.version)
    return result if result is not None else {}


def _scoped_doc(cls, pk):
    from .permissions import scoped_select
    doc = db.session.scalars(scoped_select(cls, request_user()).where(cls.id == pk)).first()
    if doc is None:
        raise NotFound(_("Not found."))
    return doc
