"""Demo data: an admin, one user per declared role, the hospital settings, then each
module's ``houqin_demo_data`` in load order (once per database)."""
import os
import re
import secrets

from .extensions import db
from .models import Settings
from .permissions import declared_roles


def role_username(role):
    return re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_")


def load_demo(app):
    sm = app.appbuilder.sm
    password = os.environ.get("HOUQIN_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
    admin = sm.find_user(username="admin")
    if admin is None:
        sm.add_user("admin", "系统", "管理员", "admin@hospital.local",
                    sm.find_role(app.config["AUTH_ROLE_ADMIN"]), password=password)
    else:
        sm.reset_password(admin.id, password)
    for role in declared_roles(app):
        name = role_username(role)
        if sm.find_user(username=name) is None:
            sm.add_user(name, role, "Demo", f"{name}@hospital.local", sm.find_role(role), password=password)
    settings = db.session.get(Settings, 1)
    if settings is None:
        db.session.add(Settings(id=1, hospital_name="滨江市第一人民医院", department_name="后勤管理中心",
                                address="滨江市健康路 1 号", phone="0571-8888 0000"))
        db.session.commit()
        app.extensions["houqin"].registry.call("houqin_demo_data", session=db.session)
        db.session.commit()
    return password
