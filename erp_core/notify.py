"""In-app notifications (issue 21.5): ``notify(recipients, subject, body, link=None, key=None)``.

``recipients``: users (``User`` objects or ids) and role names (every active user holding
the role; a string that is no role's name is taken as a username). ``key`` makes it
idempotent: the same key reaches the same user once, ever ("reminder:WO-0012",
"breach:WO-0012:resolution") — the unique (user, key) index decides, so two workers racing
send one. ``link`` is a path inside the app ("/service_desk/orders/12"). The rows join the
caller's transaction (commit as usual); returns the notifications created.

Each user reads only their own at ``/notifications/`` (count in the navbar).
"""
from datetime import datetime

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import Role, User
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import types
from .types import UTCDateTime


class Notification(Model):
    __tablename__ = "core_notification"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_core_notification_user_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300), nullable=True)
    key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def _users(session, recipients):
    if isinstance(recipients, (str, User, int)):
        recipients = [recipients]
    users = {}
    for r in recipients:
        if isinstance(r, User):
            found = [r]
        elif isinstance(r, int):
            found = [u for u in [session.get(User, r)] if u is not None]
        elif isinstance(r, str):
            role = session.scalar(select(Role).where(Role.name == r))
            found = list(role.user) if role is not None else \
                list(session.scalars(select(User).where(User.username == r)))
            if role is None and not found:
                raise ValueError(f"notify: no role or user named {r!r}")
        else:
            raise TypeError(f"notify: a recipient is a User, a user id or a role name, not {type(r).__name__}")
        for u in found:
            if u.active:
                users[u.id] = u
    return list(users.values())


def notify(recipients, subject, body, link=None, key=None, session=None):
    from .extensions import db
    session = session or db.session
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("notify: the link is a path inside the application (starts with one /)")
    created = []
    for user in _users(session, recipients):
        if key is not None and session.scalar(select(Notification.id).where(
                Notification.user_id == user.id, Notification.key == key)) is not None:
            continue
        note = Notification(user_id=user.id, subject=str(subject)[:200], body=str(body or ""), link=link, key=key,
                            created=types.now())
        try:
            with session.begin_nested():        # a racing sender of the same key wins; this one is skipped
                session.add(note)
        except IntegrityError:
            continue
        created.append(note)
    return created


def unread_count(session, user):
    from sqlalchemy import func
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def unread_for_current_user():
    """For the navbar: the signed-in user's unread count, or None without the permission."""
    from .extensions import db
    from .permissions import request_user, user_can
    user = request_user()
    if user is None or not user_can(user, "read", "Notification"):
        return None
    return unread_count(db.session, user)
