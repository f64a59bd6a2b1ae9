"""The page of an action that is not taken on one document (sell, store belongings, open a
month): ``/do/<permission name>/<action>`` shows the action's typed form and runs it through
the same declaration as its API — permission, inputs, audit and one transaction."""
from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from . import actions
from .core_views import dynamic_permission
from .errors import UserError
from .extensions import db
from .permissions import request_user


class ActionPageView(BaseView):
    route_base = "/do"
    class_permission_name = "Actions"

    @expose("/<perm_name>/<name>", methods=["GET", "POST"])
    @dynamic_permission
    def page(self, perm_name, name):
        user = request_user()
        if user is None:
            return redirect(url_for(f"{self.appbuilder.sm.auth_view.endpoint}.login", next=request.url))
        try:
            spec = actions.named(perm_name, name)
        except KeyError:
            abort(404)
        if spec.page:
            return redirect(spec.page)
        if not spec.permitted(user):
            return self.render_template("houqin/refused.html",
                                        message=_("You do not have permission to do this.")), 403
        status = 200
        if request.method == "POST":
            result, status = run_on_page(spec, actions.body_of_request(), user)
            if status == 200:
                flash(_("Done: %(what)s", what=result.get("name", spec.label) if isinstance(result, dict)
                        else getattr(result, "name", spec.label)), "success")
                target = spec.list_of or (type(result) if hasattr(result, "_meta") else None)
                view = getattr(target, "_view", None)
                if view is not None:
                    return redirect(url_for(f"{view.__name__}.list"))
        return self.render_template("houqin/action_page.html", a=spec), status


def run_on_page(spec, raw, user):
    """Run ``spec`` from a page's form: ``(result, 200)`` committed, or ``(None, 4xx)`` rolled
    back with the refusal flashed, so the page shows it in words with what was typed."""
    try:
        result = spec.execute(raw, user)
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return None, exc.status
    return result, 200
