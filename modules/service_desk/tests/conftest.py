from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from erp_core.context import acting_as
from erp_core.testing import ensure_user
from modules.service_desk.models import (DISPATCHER, FRONT_DESK, LEADER, MANAGER, REQUESTER, TECHNICIAN, Category,
                                         Location, SlaRule, Team, WorkCalendar)

SH = ZoneInfo("Asia/Shanghai")
VENDOR_CODE = "91310000MA1FL0000X"


def at(day, hh, mm=0):
    """2026-12-<day> hh:mm hospital time (2026-12-01 is a Tuesday)."""
    return datetime(2026, 12, day, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def _users(app):
    for role in (TECHNICIAN, REQUESTER, DISPATCHER, LEADER, MANAGER, FRONT_DESK):
        ensure_user(app, role)
    ensure_user(app, TECHNICIAN, "t_tech_b")
    ensure_user(app, REQUESTER, "t_req_b")


@pytest.fixture
def desk(app, session):
    """Office calendar (Mon–Fri 08:00–17:30, lunch 12:00–13:30); water (normal 30/240 on it;
    emergency 15/120 round the clock) under repair; a porter category; home repair.
    Building 1 → 3F → 心内科 (ext. 8301) → rooms 301/302; 4F → 骨科 → room 401.
    Team WATER (own: t_technician, led by t_team_leader) and team VEND (a vendor's: t_tech_b)."""
    sm = app.appbuilder.sm
    u = {n: sm.find_user(username=n) for n in ("t_technician", "t_tech_b", "t_team_leader", "t_requester", "t_req_b")}
    with acting_as("setup"):
        office = WorkCalendar(title="工作日", day_start="08:00", day_end="17:30", lunch_start="12:00",
                              lunch_end="13:30", weekdays="1,2,3,4,5")
        repair = Category(code="repair", title="维修", kind="repair", sort=1)
        water = Category(code="water", title="水", kind="repair", parent=repair, sort=2)
        power = Category(code="power", title="电", kind="repair", parent=repair, sort=3)
        porter = Category(code="porter", title="运送", kind="porter", sort=4)
        home = Category(code="home", title="家庭维修", kind="home_repair", sort=5)
        b1 = Location(code="B1", title="1号楼", level="building")
        f3 = Location(code="B1-3", title="3F", level="floor", parent=b1)
        cardio = Location(code="XNK", title="心内科", level="department", parent=f3, phones="8301, 8302")
        r301 = Location(code="B1-301", title="301", level="room", parent=cardio)
        r302 = Location(code="B1-302", title="302", level="room", parent=cardio)
        f4 = Location(code="B1-4", title="4F", level="floor", parent=b1)
        ortho = Location(code="GK", title="骨科", level="department", parent=f4, phones="8401")
        r401 = Location(code="B1-401", title="401", level="room", parent=ortho)
        own = Team(code="WATER", title="水电班", leader=u["t_team_leader"], calendar=office,
                   technicians=[u["t_technician"]], categories=[repair, home])
        vend = Team(code="VEND", title="外包维修队", vendor_code=VENDOR_CODE, vendor_name="某物业公司",
                    calendar=office, technicians=[u["t_tech_b"]], categories=[porter])
        session.add_all([office, repair, water, power, porter, home, b1, f3, cardio, r301, r302, f4, ortho, r401,
                         own, vend])
        session.flush()
        session.add_all([SlaRule(category=water, urgency="normal", response_minutes=30, resolution_minutes=240,
                                 calendar=office),
                         SlaRule(category=water, urgency="emergency", response_minutes=15, resolution_minutes=120)])
        session.commit()
    return dict(office=office, water=water, power=power, porter=porter, home=home, cardio=cardio, ortho=ortho,
                r301=r301, r302=r302, r401=r401, own=own, vend=vend, **u)
