"""FAB's security manager, minus what does not belong on a hospital intranet, plus: the
user's permissions loaded once per request (FAB asked the database once per menu entry,
~56 statements per page); changing one's own password needs the current one, and any
password change ends every other session of that user (see websecurity)."""
from flask import flash, g, has_request_context, redirect
from flask_appbuilder import expose
from flask_appbuilder._compat import as_unicode
from flask_appbuilder.security.decorators import no_cache
from flask_appbuilder.security.forms import LoginForm_db, ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_appbuilder.security.views import PermissionViewModelView as FabPermissionViewModelView
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.security.views import RoleModelView as FabRoleModelView
from flask_appbuilder.security.views import UserGroupModelView as FabUserGroupModelView
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import login_user
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, ValidationError


def role_pairs(sm, role_ids):
    """``{role_id: {(permission, view menu)}}`` for ``role_ids``: one statement, cached for
    the request (and never across requests: roles change in the admin UI)."""
    role_ids = tuple(sorted(set(role_ids)))
    cache = g.__dict__.setdefault("_houqin_cache", {}) if has_request_context() else {}
    key = ("houqin_role_pairs", role_ids)
    if key not in cache:
        pv, perm, view = sm.permissionview_model, sm.permission_model, sm.viewmenu_model
        rows = (sm.session.query(assoc_permissionview_role.c.role_id, perm.name, view.name)
                .select_from(assoc_permissionview_role)
                .join(pv, pv.id == assoc_permissionview_role.c.permission_view_id)
                .join(perm, perm.id == pv.permission_id)
                .join(view, view.id == pv.view_menu_id)
                .filter(assoc_permissionview_role.c.role_id.in_(role_ids)).all()) if role_ids else []
        out = {r: set() for r in role_ids}
        for role_id, p, v in rows:
            out[role_id].add((p, v))
        cache[key] = out
    return cache[key]


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


class ChangeMyPasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     widget=BS3PasswordFieldWidget())

    def validate_current_password(self, field):
        user = getattr(g, "user", None)
        if user is None or not user.is_authenticated or not user.password \
                or not check_password_hash(user.password, field.data or ""):
            raise ValidationError(_("The current password is not correct."))


class ResetMyPasswordView(FabResetMyPasswordView):
    # same class name: same endpoint and permission names as FAB's
    form = ChangeMyPasswordForm


class SecurityManager(FabSecurityManager):
    authdbview = AuthDBView
    groupmodelview = UserGroupModelView
    rolemodelview = RoleModelView
    permissionviewmodelview = PermissionViewModelView
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None
    resetmypasswordview = ResetMyPasswordView

    def reset_password(self, userid, password):
        super().reset_password(userid, password)
        from .websecurity import password_changed
        password_changed(userid)

    def get_user_by_id(self, pk):
        # every request loads its user: roles and groups in the same statement, not two more
        from sqlalchemy.orm import joinedload
        model = self.user_model
        return self.session.get(model, pk, options=[joinedload(model.roles), joinedload(model.groups)])

    def _db_roles(self, user):
        roles = [self.get_public_role()] if user is None else self.get_user_roles(user)
        return roles, [r.id for r in roles if r.name not in self.builtin_roles]

    def is_item_public(self, permission_name, view_name):
        """FAB asks this first on every API call and loads the public role and its permissions
        each time (two statements); here the role's pairs come from the request's cache."""
        cache = g.__dict__.setdefault("_houqin_cache", {}) if has_request_context() else {}
        if "public_role_id" not in cache:
            role = self.get_public_role()
            cache["public_role_id"] = role.id if role is not None else None
        rid = cache["public_role_id"]
        return rid is not None and (permission_name, view_name) in role_pairs(self, [rid])[rid]

    def _has_view_access(self, user, permission_name, view_name):
        roles, ids = self._db_roles(user)
        if any(r.name in self.builtin_roles and self._has_access_builtin_roles(r, permission_name, view_name)
               for r in roles):
            return True
        pairs = role_pairs(self, ids)
        return any((permission_name, view_name) in pairs[i] for i in ids)

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        roles, ids = self._db_roles(user)
        result = {name for r in roles if r.name in self.builtin_roles for name in (view_menus_name or [])
                  if self._has_access_builtin_roles(r, permission_name, name)}
        pairs = role_pairs(self, ids)
        for i in ids:
            result.update(v for p, v in pairs[i] if p == permission_name)
        return result
