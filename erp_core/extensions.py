"""Process-wide singletons that are safe to share between apps (FAB's AppBuilder is not: see app.py)."""
from flask_appbuilder.models.sqla.base import SQLA

from .replica import RoutingSession

db = SQLA(session_options={"class_": RoutingSession})
