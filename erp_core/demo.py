"""Demo data: an admin, one user per declared role, the hospital settings, then each
module's ``houqin_demo_data`` in load order (once per database).

Every demo user has the same password, stable across restarts: ``HOUQIN_DEMO_PASSWORD``,
else the one kept in the instance folder (``demo_password``, made on first use)."""
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash

from .config import INSTANCE
from .extensions import db
from .models import Settings
from .permissions import declared_roles


@dataclass
class Demo:
    password: str
    users: list             # usernames, admin first
    data_loaded: bool       # False when this database already had the demo data
    password_source: str    # where the password comes from, for people to read


def role_username(role):
    return re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_")


def demo_password(app):
    """(password, where it comes from)."""
    if os.environ.get("HOUQIN_DEMO_PASSWORD"):
        return os.environ["HOUQIN_DEMO_PASSWORD"], "HOUQIN_DEMO_PASSWORD"
    path = Path(app.config.get("HOUQIN_DEMO_PASSWORD_FILE") or INSTANCE / "demo_password")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9) + "\n")
        path.chmod(0o600)
    return path.read_text().strip(), str(path)


def load_demo(app):
    sm = app.appbuilder.sm
    password, source = demo_password(app)
    wanted = [("admin", app.config["AUTH_ROLE_ADMIN"], "系统", "管理员")]
    wanted += [(role_username(role), role, role, "Demo") for role in declared_roles(app)]
    for name, role, first, last in wanted:
        user = sm.find_user(username=name)
        if user is None:
            sm.add_user(name, first, last, f"{name}@hospital.local", sm.find_role(role), password=password)
        elif not check_password_hash(user.password, password):
            # the password changed (HOUQIN_DEMO_PASSWORD, or an older start's random one)
            sm.reset_password(user.id, password)
    settings = db.session.get(Settings, 1)
    if settings is None:
        db.session.add(Settings(id=1, hospital_name="滨江市第一人民医院", department_name="后勤管理中心",
                                address="滨江市健康路 1 号", phone="0571-8888 0000"))
        db.session.commit()
        app.extensions["houqin"].registry.call("houqin_demo_data", session=db.session)
        db.session.commit()
    return Demo(password, [w[0] for w in wanted], settings is None, source)
