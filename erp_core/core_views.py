"""erp_core's own pages: dashboard, settings, printing, audit log."""
from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, IndexView, ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from . import audit, printing
from .audit import AuditLog
from .dashboard import bar_svg, line_svg
from .errors import NotFound, PermissionDenied, UserError, ValidationError
from .extensions import db
from .models import Settings
from .permissions import get_for, request_user, user_can


def dynamic_permission(fn):
    """Mark an endpoint whose permission depends on its arguments (checked inside);
    the permission-matrix test walks these with their own expectations."""
    fn._houqin_dynamic = True
    return fn


class DashboardView(IndexView):
    index_template = "houqin/index.html"

    @expose("/")
    def index(self):
        user = request_user()
        if user is None:
            # with next, so the login form posts back a target (FAB warns on an empty one)
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login", next=request.path))
        widgets = []
        for w in sorted(current_app.extensions["houqin"].widgets, key=lambda w: w.order):
            if user_can(user, w.action, w.permission):
                widgets.append((w, w.data(user)))
        from .home import for_user
        return self.render_template(self.index_template, appbuilder=self.appbuilder, widgets=widgets,
                                    bar_svg=bar_svg, line_svg=line_svg, home=for_user(user))


class SettingsForm(FlaskForm):
    hospital_name = StringField(_l("Hospital name"), validators=[DataRequired(), Length(max=120)])
    department_name = StringField(_l("Department"), validators=[Length(max=120)])
    address = StringField(_l("Address"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=40)])
    logo = FileField(_l("Logo (PNG or JPEG, at most 512 KB)"), validators=[FileAllowed(["png", "jpg", "jpeg"])])


class SettingsView(BaseView):
    route_base = "/settings"
    default_view = "edit"
    class_permission_name = "Settings"
    method_permission_name = {"edit": "write"}

    @expose("/", methods=["GET", "POST"])
    @has_access
    def edit(self):
        session = db.session
        settings = Settings.current(session)
        form = SettingsForm(obj=settings)
        status = 200
        if request.method == "POST":
            if form.validate_on_submit():
                logo = form.logo.data
                data = logo.read() if logo else None
                from .validation import sniff
                if data is not None and len(data) > 512 * 1024:
                    form.logo.errors = [_("The logo is larger than 512 KB.")]
                    status = 422
                elif data and sniff(data) not in ("image/png", "image/jpeg"):
                    form.logo.errors = [_("The logo must be a PNG or JPEG image (the file's content is not).")]
                    status = 422
                else:
                    for field in ("hospital_name", "department_name", "address", "phone"):
                        setattr(settings, field, getattr(form, field).data or "")
                    if data:
                        settings.logo, settings.logo_mimetype = data, sniff(data)
                    settings.papers = {f.name: request.form[f"paper__{f.name}"] for f in _paper_formats()
                                       if request.form.get(f"paper__{f.name}") in f.papers}
                    session.add(settings)
                    session.commit()
                    flash(_("Settings saved."), "success")
                    return redirect(url_for("SettingsView.edit"))
            else:
                status = 422
        return self.render_template("houqin/settings.html", form=form, settings=settings,
                                    paper_formats=_paper_formats(), paper_labels=PAPER_LABELS), status


PAPER_LABELS = {"a4": _l("A4"), "receipt80": _l("80 mm receipt roll"), "label": _l("Label (90 × 60 mm)")}


def _paper_formats():
    """Print formats that come in more than one paper layout (receipts, slips, tags)."""
    return [f for f in current_app.extensions["houqin_print"] if len(f.papers) > 1]


class AuditLogView(ModelView):
    datamodel = SQLAInterface(AuditLog)
    class_permission_name = "AuditLog"
    method_permission_name = {"list": "read", "show": "read"}
    include_route_methods = {"list", "show"}
    list_title = show_title = _l("Audit log")
    list_columns = ["ts", "user", "action", "doctype", "docname"]
    show_columns = ["ts", "user", "action", "doctype", "docname", "data", "prev_hash", "hash"]
    search_columns = ["user", "action", "doctype", "docname"]
    label_columns = {"ts": _l("Time"), "user": _l("User"), "action": _l("Action"), "doctype": _l("Document type"),
                     "docname": _l("Number"), "data": _l("Details"), "prev_hash": _l("Previous hash"),
                     "hash": _l("Hash")}
    base_order = ("id", "desc")
    formatters_columns = {"data": lambda data: audit_details(data)}


def audit_details(data):
    """An audit row's JSON as people read it: times in the hospital's zone to the minute,
    changes as "field: old → new" (the stored text itself is what the hash covers)."""
    import json
    import re
    from datetime import datetime
    from .display import format_datetime_local

    def value(v):
        if isinstance(v, str) and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", v):
            try:
                return format_datetime_local(datetime.fromisoformat(v))
            except ValueError:
                return v
        if isinstance(v, list):
            return " → ".join(str(value(x)) for x in v)
        if isinstance(v, dict):
            return "; ".join(f"{k}: {value(x)}" for k, x in v.items())
        return "" if v is None else v
    try:
        parsed = json.loads(data or "{}")
    except ValueError:
        return data
    return value(parsed) if isinstance(parsed, dict) else data


def pdf_response(pdf, filename):
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


class PrintView(BaseView):
    """``/print/<format>/<doc name>.pdf``: print permission + record rule + audit row."""
    route_base = "/print"
    class_permission_name = "Print"

    def _format(self, fmt_name):
        try:
            return current_app.extensions["houqin_print"].get(fmt_name)
        except KeyError:
            raise NotFound(_("Unknown print format: %(name)s", name=fmt_name))

    @expose("/<fmt_name>/<path:name>.pdf", methods=["GET"])
    @dynamic_permission
    def document(self, fmt_name, name):
        user = request_user()
        if user is None:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login", next=request.url))
        fmt = self._format(fmt_name)
        settings = Settings.current(db.session)
        if fmt.model is None:          # a blank form: the URL's name is its key (e.g. a template)
            if not user_can(user, "print", fmt.permission):
                raise PermissionDenied(_("You do not have permission to print this."))
            pdf = printing.render_pdf(fmt, name, settings=settings, user=user, paper=request.args.get("paper"),
                                      copy=printing.record_print(db.session, fmt, name, user) if fmt.key else 0)
            db.session.commit()
            return pdf_response(pdf, f"{fmt.name}-{name}.pdf")
        doc = get_for(fmt.model, user, name=name, action="print")
        if fmt.permission and not user_can(user, "print", fmt.permission):
            raise PermissionDenied(_("You do not have permission to print this."))
        copy = printing.record_print(db.session, fmt, doc.name, user)
        pdf = printing.render_pdf(fmt, doc, settings=settings, user=user, copy=copy, paper=request.args.get("paper"))
        audit.record(db.session, doc, "print", format=fmt.name)
        db.session.commit()
        return pdf_response(pdf, f"{doc.name}.pdf")

    @expose("/<fmt_name>/batch", methods=["POST"])
    @dynamic_permission
    def batch(self, fmt_name):
        """Check the user may print every named document, then print them in the background:
        202 with the run's status and PDF addresses (erp_core/printing/batch.py)."""
        from flask import jsonify
        from flask_babel import get_locale
        from . import jobs
        from .printing.batch import JOB
        user = request_user()
        if user is None:
            return Response(status=401)
        fmt = self._format(fmt_name)
        body = request.get_json(silent=True) or {}
        names = body.get("names") if isinstance(body, dict) else None
        if names is None:
            names = request.form.getlist("names")
        if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationError(_("Give the document numbers to print."))
        if len(names) > 2000:
            raise ValidationError(_("At most %(n)s documents in one batch.", n=2000))
        if fmt.model is None:
            raise ValidationError(_("A blank form is printed one at a time."))
        names = list(dict.fromkeys(names))
        for n in names:
            get_for(fmt.model, user, name=n, action="print")      # 404/403 now, not in the job
        paper = body.get("paper") if isinstance(body, dict) else request.form.get("paper")
        run_id = jobs.enqueue(JOB, format=fmt.name, names=names, user_id=user.id, lang=str(get_locale() or "zh_CN"),
                              paper=paper if paper in fmt.papers else None)
        return jsonify(print_job_status(run_id)), 202, {"Location": url_for("PrintJobView.status", run_id=run_id)}


def _own_print_run(run_id):
    """The batch-print run ``run_id`` if the signed-in user asked for it (or is an
    administrator); another user's is a 404."""
    from .context import actor
    from .jobs import JobRun
    from .permissions import is_admin
    from .printing.batch import JOB
    user = request_user()
    run = db.session.get(JobRun, run_id)
    if user is None or run is None or run.name != JOB or not (run.enqueued_by == actor() or is_admin(user)):
        raise NotFound(_("No such print job."))
    return run


def print_job_status(run_id):
    from .jobs import JobRun
    run = db.session.get(JobRun, run_id)
    out = {"run": run.id, "state": run.state, "status": url_for("PrintJobView.status", run_id=run.id)}
    if run.state == "done":
        out["pdf"] = url_for("PrintJobView.pdf", run_id=run.id)
    if run.state == "failed":
        out["message"] = _("The batch could not be printed.")
    return out


class PrintJobView(BaseView):
    """``/print-jobs/<run>``: a batch print's state; ``/print-jobs/<run>.pdf``: its PDF."""
    route_base = "/print-jobs"
    class_permission_name = "Print"

    @expose("/<int:run_id>", methods=["GET"])
    @dynamic_permission
    def status(self, run_id):
        from flask import jsonify
        _own_print_run(run_id)
        return jsonify(print_job_status(run_id))

    @expose("/<int:run_id>.pdf", methods=["GET"])
    @dynamic_permission
    def pdf(self, run_id):
        from sqlalchemy import select
        from .errors import Conflict
        from .models import Attachment
        run = _own_print_run(run_id)
        if run.state != "done":
            raise Conflict(_("The batch is not printed yet."))
        att = db.session.scalar(select(Attachment).where(Attachment.doctype == "JobRun", Attachment.doc_id == run.id))
        if att is None:
            raise NotFound(_("No such print job."))
        from . import storage
        return pdf_response(storage.content(att), att.filename)


JOB_STATES = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}


def _job_title(name):
    from .jobs import title_of
    return title_of(name)


class JobRunView(ModelView):
    """Background job runs (erp_core/jobs.py): what ran, for whom, how it ended; a failed
    run's error is on its page."""
    from .jobs import JobRun
    datamodel = SQLAInterface(JobRun)
    class_permission_name = "JobRun"
    method_permission_name = {"list": "read", "show": "read"}
    include_route_methods = {"list", "show"}
    list_title = show_title = _l("Background jobs")
    list_columns = ["name", "state", "enqueued_by", "enqueued_at", "started_at", "finished_at", "result"]
    show_columns = ["name", "args", "state", "enqueued_by", "enqueued_at", "started_at", "finished_at",
                    "attempts", "result", "error"]
    search_columns = ["name", "state", "enqueued_by"]
    label_columns = {"name": _l("Job"), "args": _l("Arguments"), "state": _l("State"), "enqueued_by": _l("Requested by"),
                     "enqueued_at": _l("Requested at"), "started_at": _l("Started"), "finished_at": _l("Finished"),
                     "attempts": _l("Attempts"), "result": _l("Result"), "error": _l("Error")}
    base_order = ("id", "desc")
    formatters_columns = {"state": lambda s: str(JOB_STATES.get(s, s)), "name": lambda n: _job_title(n)}
    del JobRun


class NotificationView(BaseView):
    """The signed-in user's own notifications; another user's are a 404."""
    route_base = "/notifications"
    default_view = "index"
    class_permission_name = "Notification"
    method_permission_name = {"index": "read", "show": "read", "mark_read": "write", "mark_all_read": "write"}

    def _own(self, note_id):
        from .notify import Notification
        user = request_user()
        note = db.session.get(Notification, note_id)
        if note is None or user is None or note.user_id != user.id:
            raise NotFound(_("No such notification."))
        return note

    @expose("/", methods=["GET"])
    @has_access
    def index(self):
        from sqlalchemy import select
        from .notify import Notification
        user = request_user()
        notes = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(200)).all()
        return self.render_template("houqin/notifications.html", notes=notes, title=_("Notifications"))

    @expose("/<int:note_id>", methods=["GET"])
    @has_access
    def show(self, note_id):
        note = self._own(note_id)
        return self.render_template("houqin/notifications.html", notes=[note], title=note.subject, single=True)

    @expose("/<int:note_id>/read", methods=["POST"])
    @has_access
    def mark_read(self, note_id):
        from .types import now
        note = self._own(note_id)
        if note.read_at is None:
            note.read_at = now()
            db.session.commit()
        if request.form.get("open") and note.link:
            return redirect(note.link)
        return redirect(url_for("NotificationView.index"))

    @expose("/read-all", methods=["POST"])
    @has_access
    def mark_all_read(self):
        from sqlalchemy import update
        from .notify import Notification
        from .types import now
        user = request_user()
        db.session.execute(update(Notification).where(Notification.user_id == user.id,
                                                      Notification.read_at.is_(None)).values(read_at=now()))
        db.session.commit()
        return redirect(url_for("NotificationView.index"))
