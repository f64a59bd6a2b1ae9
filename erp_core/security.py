"""FAB's security manager, minus what does not belong on a hospital intranet, plus:
changing one's own password needs the current one, and any password change ends every
other session of that user (see websecurity)."""
from flask import g
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from flask_appbuilder.security.forms import ResetPasswordForm
from flask_appbuilder.security.sqla.manager import SecurityManager as FabSecurityManager
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_babel import gettext as _, lazy_gettext as _l
from werkzeug.security import check_password_hash
from wtforms import PasswordField
from wtforms.validators import DataRequired, ValidationError


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
    # FAB's user statistics chart loads Google Charts from the internet.
    userstatschartview = None
    resetmypasswordview = ResetMyPasswordView

    def reset_password(self, userid, password):
        super().reset_password(userid, password)
        from .websecurity import password_changed
        password_changed(userid)
