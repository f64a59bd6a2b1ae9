"""Actions on the register (assign, leave, removal, replies, replacements) and the pages that are
not generic lists: find by ID card, headcount and turnover, certificate and uniform lists."""
from datetime import date

from flask import redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from erp_core import replica
from erp_core.actions import Action, Input
from erp_core.errors import NotFound, UserError, ValidationError
from erp_core.extensions import db
from erp_core.permissions import request_user, scoped_select
from erp_core.views import ActionApi

from . import services
from .models import ACTIVE, PENDING, REPLIES, Issue, Person, Post, Violation, today


def _posts():
    return {str(p.id): p.title for p in db.session.scalars(select(Post).where(Post.active.is_(True))
                                                           .order_by(Post.code))}


def person_json(p):
    return dict(id=p.id, name=p.name, full_name=p.full_name, id_card=p.id_card, status=p.status,
                post=p.post.code if p.post else None, department=p.department,
                removal_flagged=p.removal_flagged)


def _assign(person, i, user):
    post = db.session.get(Post, int(i["post"]))
    return person_json(services.assign(person, post, i["department"], by=user))


def _find(_d, i, user):
    person = services.find_by_id_card(i["id_card"])
    visible = db.session.scalars(scoped_select(Person, user).where(Person.id == person.id)).first()
    if visible is None:
        raise NotFound(_("Nobody with this ID card number is in the register."))
    return person_json(visible)


class PersonActionsApi(ActionApi):
    resource_name = "workforce"
    class_permission_name = "Person"

    find = Action(_l("Find by ID card"), _find, permission="read", list_of=Person, page="/workforce/find/",
                  inputs=dict(id_card=Input("text", _l("ID card number"), required=True, max_length=18)))
    assign = Action(_l("Assign to a post"), _assign, permission="write", doc=Person, states=(PENDING, ACTIVE),
                    route="/<int:pk>/assign",
                    inputs=dict(post=Input("choice", _l("Post"), required=True, choices=_posts),
                                department=Input("text", _l("Department / ward"), max_length=60)))
    leave = Action(_l("Record leaving"), lambda p, i, u: person_json(services.leave(p, i["exit_date"], by=u)),
                   permission="write", doc=Person, states=(PENDING, ACTIVE), route="/<int:pk>/leave", style="warning",
                   inputs=dict(exit_date=Input("date", _l("Exit date"), required=True)))
    flag_removal = Action(_l("Flag for removal (辞退)"), lambda p, i, u: person_json(
                              services.flag_for_removal(p, i["reason"], by=u)),
                          permission="flag", doc=Person, states=(PENDING, ACTIVE), route="/<int:pk>/flag_removal",
                          style="danger", condition=lambda p: _("Flagged already.") if p.removal_flagged else None,
                          inputs=dict(reason=Input("text", _l("Reason"), required=True, max_length=500)))
    removal_reply = Action(_l("Record the vendor's reply"), lambda p, i, u: person_json(
                               services.record_removal_reply(p, i["reply"], i["outcome"], by=u)),
                           permission="reply", doc=Person, route="/<int:pk>/removal_reply",
                           condition=lambda p: None if p.removal_flagged else _("Not flagged for removal."),
                           inputs=dict(reply=Input("text", _l("Vendor's reply"), required=True, max_length=1000),
                                       outcome=Input("choice", _l("Reply"), required=True, choices=REPLIES)))


class ViolationActionsApi(ActionApi):
    resource_name = "workforce_violations"
    class_permission_name = "Violation"

    reply = Action(_l("Record the vendor's reply"), lambda v, i, u: {"name": services.record_violation_reply(
                       v, i["reply"], by=u).name},
                   permission="reply", doc=Violation, route="/<int:pk>/reply",
                   inputs=dict(reply=Input("text", _l("Vendor's reply"), required=True, max_length=1000)))


def _replace(issue, i, user):
    new = services.replace_issue(issue, i["replaced_on"] or today(), i["next_due"], by=user)
    return {"name": new.name, "replace_due": new.replace_due.isoformat() if new.replace_due else None}


class IssueActionsApi(ActionApi):
    resource_name = "workforce_issues"
    class_permission_name = "Issue"

    replace = Action(_l("Replace"), _replace, permission="write", doc=Issue, route="/<int:pk>/replace",
                     condition=lambda i: _("Replaced already.") if i.replaced_on else None,
                     inputs=dict(replaced_on=Input("date", _l("Replaced on")),
                                 next_due=Input("date", _l("Next replacement by"))))


def _month():
    raw = request.args.get("month") or today().strftime("%Y-%m")
    try:
        year, month = (int(x) for x in raw.split("-"))
        date(year, month, 1)
    except ValueError:
        raise ValidationError(_("Give the month as YYYY-MM."))
    return year, month


class WorkforceView(BaseView):
    route_base = "/workforce"
    default_view = "figures"
    class_permission_name = "Person"
    method_permission_name = {"figures": "read", "find": "read"}

    @expose("/figures/")
    @has_access
    @replica.reads
    def figures(self):
        try:
            year, month = _month()
        except UserError as exc:
            return self.render_template("houqin/refused.html", message=str(exc)), exc.status
        rows = services.figures(year, month)
        return self.render_template("workforce/figures.html", rows=rows, totals=services.totals(rows),
                                    month=f"{year}-{month:02d}")

    @expose("/find/", methods=["GET", "POST"])
    @has_access
    def find(self):
        status, message = 200, None
        if request.method == "POST":
            try:
                person = _find(None, {"id_card": (request.form.get("id_card") or "").strip()}, request_user())
                return redirect(url_for("PersonView.show", pk=person["id"]))
            except UserError as exc:
                status, message = exc.status, str(exc)
        return self.render_template("workforce/find.html", message=message), status


class CertificatesView(BaseView):
    route_base = "/workforce/certificates"
    default_view = "expiring"
    class_permission_name = "Certificate"
    method_permission_name = {"expiring": "read", "expired": "read"}

    @expose("/expiring/")
    @has_access
    def expiring(self):
        rows = db.session.scalars(services.expiring()).all()
        return self.render_template("workforce/certificates.html", rows=rows, title=_("Certificates expiring in 30 days"),
                                    today=today())

    @expose("/expired/")
    @has_access
    def expired(self):
        rows = db.session.scalars(services.expired()).all()
        return self.render_template("workforce/certificates.html", rows=rows, title=_("Expired certificates"),
                                    today=today())


class IssuesView(BaseView):
    route_base = "/workforce/issues"
    default_view = "overdue"
    class_permission_name = "Issue"
    method_permission_name = {"overdue": "read"}

    @expose("/overdue/")
    @has_access
    def overdue(self):
        rows = db.session.scalars(services.overdue_issues()).all()
        return self.render_template("workforce/overdue.html", rows=rows, today=today())


def history(person):
    """What a person's page lists besides the certificates."""
    from erp_core.display import person_name
    from .models import PERSON_STATES, Assignment, Attendance, Training
    return dict(
        today=today(), states=PERSON_STATES, person_name=person_name,
        assignments=db.session.scalars(select(Assignment).where(Assignment.person_id == person.id)
                                       .order_by(Assignment.id)).all(),
        trainings=db.session.scalars(select(Attendance).join(Training).where(Attendance.person_id == person.id)
                                     .order_by(Training.held_on)).all(),
        violations=db.session.scalars(select(Violation).where(Violation.person_id == person.id)
                                      .order_by(Violation.occurred_on)).all(),
        issues=db.session.scalars(select(Issue).where(Issue.person_id == person.id).order_by(Issue.issued_on)).all())
