"""FAB's security manager, minus what does not belong on a hospital intranet."""
from flask import flash, g, redirect
from flask_appbuilder import expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_appbuilder.security.views import PermissionViewModelView as FabPermissionViewModelView
from flask_appbuilder.security.views import RoleModelView as FabRoleModelView
from flask_appbuilder.security.views import UserGroupModelView as FabUserGroupModelView
from flask_babel import lazy_gettext as _l
from flask_login import login_user


class AuthDBView(FabAuthDBView):
    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        # FAB's POST path checks request.args.get("next", "") — an empty target when the
        # login page was opened without ?next — and logs "Invalid redirect detected" on
        # every such login. Without next, go to the index, as FAB's GET path already does.
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = self._get_safe_next_url()
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(as_unicode(self.invalid_login_message), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form, appbuilder=self.appbuilder)


# FAB labels some columns and search filters of its security pages by prettifying the
# column name ("Users", "Roles"), which no catalogue can translate: label them.
class UserGroupModelView(FabUserGroupModelView):
    label_columns = {"name": _l("Name"), "label": _l("Label"), "description": _l("Description"),
                     "users": _l("Users"), "roles": _l("Roles")}


class RoleModelView(FabRoleModelView):
    label_columns = {**FabRoleModelView.label_columns, "user": _l("Users"), "groups": _l("Groups")}


class PermissionViewModelView(FabPermissionViewModelView):
    label_columns = {**FabPermissionViewModelView.label_columns, "role": _l("Roles")}


class SecurityManager(FabSecurityManager):
    authdbview = AuthDBView
    groupmodelview = UserGroupModelView
    rolemodelview = RoleModelView
    permissionviewmodelview = PermissionViewModelView
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None
