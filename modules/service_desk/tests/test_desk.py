"""The desk against the database: the clock through a whole order (hand-computed), the
duplicate guard, the record rules on every read path, refusals, figures, jobs, the
assessment evidence. Times: see conftest.at (2026-12-01 is a Tuesday)."""
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from erp_core.context import acting_as
from erp_core.errors import Conflict, PermissionDenied
from erp_core.notify import Notification
from modules.service_desk import figures, jobs, services
from modules.service_desk.models import (MANAGER, CLOSED, COMPLETED, DISPATCHED, PAUSED, R_DUPLICATE, Notice, Request, SlaRule,
                                         WorkOrder)

from .conftest import VENDOR_CODE, at


def take(d, cat="water", loc="r301", when=None, requester="t_requester", description="水龙头漏水", **kw):
    with acting_as("t_dispatcher"):
        return services.intake(category=d[cat], location=d[loc], requester=d.get(requester), caller_phone="8301",
                               description=description, by="t_dispatcher", at=when, **kw)


def finish(d, wo, tech, t_dispatch, t_accept, t_done, team="own"):
    services.dispatch(wo, d[team], d[tech], by="t_dispatcher", at=t_dispatch)
    services.accept(wo, user=d[tech], by=tech, at=t_accept)
    services.arrive(wo, user=d[tech], by=tech, at=t_accept)
    services.complete(wo, "换了阀门", user=d[tech], by=tech, at=t_done)


def test_the_clock_through_an_order(app, session, desk):
    """Raised Tuesday 20:00 (after hours), paused for parts, the rule changed while paused,
    reassigned to a vendor's team, completed late, reopened."""
    d = desk
    req, wo = take(d, when=at(1, 20))
    assert wo.response_due == at(2, 8, 30)           # not 20:30: from Wednesday's 08:00
    assert wo.resolution_due == at(2, 12)            # 240 working minutes: 08:00–12:00
    services.dispatch(wo, d["own"], d["t_technician"], by="t_dispatcher", at=at(2, 8, 10))
    assert wo.team_due == at(2, 13, 40)              # the team's own 240 from 08:10: 230 + 10 after lunch
    services.accept(wo, user=d["t_technician"], by="t", at=at(2, 8, 20))
    assert (wo.response_met, wo.response_mins) == (True, 740)    # 20 working minutes; 12 h 20 min on the wall
    services.arrive(wo, user=d["t_technician"], by="t", at=at(2, 8, 40))
    services.pause(wo, "parts", "等阀门", user=d["t_technician"], by="t", at=at(2, 9))
    assert wo.status == PAUSED and wo.resolution_due is None     # a paused clock has no due time
    faster = SlaRule(category=d["water"], urgency="urgent", response_minutes=30, resolution_minutes=120,
                     calendar=d["office"])
    session.add(faster)
    session.flush()
    services.apply_rule(wo, faster, by="t_dispatcher")           # the rule changes while paused
    services.resume(wo, user=d["t_technician"], by="t", at=at(2, 11))
    assert wo.resolution_due == at(2, 12)            # 60 used before the pause, 60 left from 11:00
    services.reassign(wo, d["vend"], d["t_tech_b"], reason="需外包队更换管道", by="t_dispatcher", at=at(2, 11, 30))
    assert wo.resolution_due == at(2, 12)            # the overall SLA is kept
    assert wo.team_due == at(2, 15)                  # the vendor team's own 120: 30 before lunch, 90 after
    services.accept(wo, user=d["t_tech_b"], by="b", at=at(2, 11, 40))
    assert wo.accepted_at == at(2, 8, 20)            # the first response stays the response
    services.arrive(wo, user=d["t_tech_b"], by="b", at=at(2, 11, 45))
    services.complete(wo, user=d["t_tech_b"], by="b", at=at(2, 14))
    # 60 + 60 (11:00–12:00) + 30 (13:30–14:00) = 150 > 120
    assert (wo.sla_used_mins, wo.resolution_met, wo.resolution_mins) == (150, False, 1080)
    assert wo.breached_at == at(2, 12)
    segs = [(s.state, s.reason, s.started_at, s.ended_at) for s in wo.segments]
    assert ("paused", "parts", at(2, 9), at(2, 11)) in segs
    services.reopen(wo, "还在漏", user=d["t_requester"], by="t_requester", at=at(2, 15))
    assert wo.status == DISPATCHED and wo.reopen_count == 1
    from modules.service_desk import sla
    segments = services.segments_of(wo)
    assert sla.used(segments, d["office"].spec(), at(2, 16)) == timedelta(minutes=210)   # 150 + 15:00–16:00
    assert sla.paused(segments, at(2, 16)) == timedelta(hours=2)                       # only the parts wait
    session.commit()


def test_emergency_runs_round_the_clock(app, session, desk):
    _req, wo = take(desk, when=at(1, 23, 30), urgency="emergency")
    assert wo.response_due == at(1, 23, 45) and wo.resolution_due == at(2, 1, 30)


def test_duplicate_guard_offers_the_open_request(app, session, desk):
    first, _wo = take(desk, when=at(2, 9))
    with pytest.raises(Conflict) as exc:
        take(desk, when=at(2, 9, 5))
    assert first.name in str(exc.value)
    linked, none = take(desk, when=at(2, 9, 6), link_to=first)
    assert linked.status == R_DUPLICATE and linked.duplicate_of_id == first.id and none is None
    _again, wo = take(desk, when=at(2, 9, 7), force=True)
    assert wo is not None
    session.commit()


def test_intake_and_the_steps_through_the_api(app, session, client, desk, api_token):
    h = api_token("Dispatcher")
    body = {"category": "water", "location": "B1-301", "description": "漏水", "caller_phone": "8301",
            "requester": "t_requester"}
    r = client.post("/api/v1/service_desk/intake", headers=h, json=body)
    assert r.status_code == 201, r.json
    order = r.json["work_order"]["name"]
    assert client.post("/api/v1/service_desk/intake", headers=h, json=body).status_code == 409
    assert client.get("/api/v1/service_desk/lookup?phone=8301&category=water&location=B1-301",
                      headers=h).json["duplicate"] == r.json["request"]
    tech, req = api_token("Technician"), api_token("Requester")
    assert client.post("/api/v1/service_desk_order/dispatch", headers=tech,
                       json={"order": order, "team": "WATER"}).status_code == 403
    ok = client.post("/api/v1/service_desk_order/dispatch", headers=h,
                     json={"order": order, "team": "WATER", "technician": "t_technician"})
    assert ok.status_code == 200, ok.json
    assert client.post("/api/v1/service_desk_order/accept", headers=req, json={"order": order}).status_code == 403
    for step in ("accept", "arrive"):
        assert client.post(f"/api/v1/service_desk_order/{step}", headers=tech, json={"order": order}).status_code == 200
    assert client.post("/api/v1/service_desk_order/complete", headers=tech,
                       json={"order": order, "note": "好了"}).status_code == 200
    assert client.post("/api/v1/service_desk_order/rate", headers=tech,
                       json={"order": order, "rating": 5}).status_code == 403       # never the technician
    assert client.post("/api/v1/service_desk_order/rate", headers=req,
                       json={"order": order, "rating": 9}).status_code == 422
    r = client.post("/api/v1/service_desk_order/rate", headers=req, json={"order": order, "rating": 4, "comment": "快"})
    assert r.status_code == 200 and r.json["status"] == CLOSED
    assert client.post("/api/v1/service_desk/intake", headers=api_token("Auditor"), json=body).status_code == 403


def test_home_repair_is_settled_at_the_front_desk(app, session, client, desk, api_token):
    d = desk
    _req, wo = take(d, cat="home", when=at(2, 9), kind="home_repair", slot_start=at(3, 14), slot_end=at(3, 16))
    services.dispatch(wo, d["own"], d["t_technician"], by="x", at=at(3, 13))
    services.accept(wo, user=d["t_technician"], by="x", at=at(3, 13))
    services.arrive(wo, user=d["t_technician"], by="x", at=at(3, 14))
    services.add_note(wo, "material", "水龙头", Decimal("1"), Decimal("85.50"), user=d["t_technician"], by="x")
    services.complete(wo, user=d["t_technician"], by="x", at=at(3, 15))
    assert wo.charge == Decimal("85.50")
    session.commit()
    body = {"order": wo.name, "amount": "85.50", "payment_method": "wechat"}
    assert client.post("/api/v1/service_desk_order/settle", headers=api_token("Technician"), json=body).status_code == 403
    assert client.post("/api/v1/service_desk_order/settle", headers=api_token("Front Desk"),
                       json=dict(body, amount="80.00")).status_code == 422
    assert client.post("/api/v1/service_desk_order/settle", headers=api_token("Front Desk"), json=body).status_code == 200
    assert client.post("/api/v1/service_desk_order/settle", headers=api_token("Front Desk"), json=body).status_code == 409


def test_technician_and_requester_see_only_their_own_on_every_read_path(app, session, client, desk, api_token,
                                                                       login_as):
    d = desk
    _ra, a = take(d, loc="r301", when=at(2, 9))
    _rb, b = take(d, loc="r401", when=at(2, 9), requester="t_req_b", description="乙单")
    services.dispatch(a, d["own"], d["t_technician"], by="x", at=at(2, 9, 5))
    services.dispatch(b, d["vend"], d["t_tech_b"], by="x", at=at(2, 9, 5))
    session.commit()
    for role, mine, other in (("Technician", a, b), ("Requester", a, b)):
        h = api_token(role)
        names = [row["name"] for row in client.get("/api/v1/work_order/?q=(page_size:100)", headers=h).json["result"]]
        assert mine.name in names and other.name not in names, role
        assert client.get(f"/api/v1/work_order/{other.id}", headers=h).status_code == 404
        assert client.get(f"/api/v1/work_order/{mine.id}", headers=h).status_code == 200
        assert other.name not in client.get("/api/v1/work_order/export/?format=csv", headers=h).get_data(as_text=True)
        reqs = client.get("/api/v1/request/?q=(page_size:100)", headers=h).json["result"]
        assert [r["name"] for r in reqs] == [mine.request.name], role
        login_as(role)
        page = client.get("/service_desk/work_order/list/").get_data(as_text=True)
        assert mine.name in page and other.name not in page
        assert client.get(f"/service_desk/work_order/show/{other.id}").status_code == 404
        assert other.name not in client.get("/service_desk/work_order/export/?format=csv").get_data(as_text=True)
    # acting on another's order is "not found" too
    h = api_token("Technician")
    client.get("/logout/")             # the session cookie would win over the token
    assert client.post("/api/v1/service_desk_order/accept", headers=h, json={"order": b.name}).status_code == 404
    assert client.post(f"/api/v1/work_order/{b.id}/action/accept", headers=h, json={}).status_code == 404
    # the team leader sees his team's orders only
    h = api_token("Team Leader")
    names = [row["name"] for row in client.get("/api/v1/work_order/?q=(page_size:100)", headers=h).json["result"]]
    assert names == [a.name]
    login_as("Team Leader")                  # and only those among the figures page's unfinished orders
    page = client.get("/service_desk/figures/").get_data(as_text=True)
    assert a.name in page and b.name not in page
    client.get("/logout/")
    # the wall and the figures need their read permission
    assert client.get("/api/v1/service_desk_wall/data", headers=api_token("Technician")).status_code == 403
    assert client.get("/api/v1/service_desk_wall/data", headers=api_token("Dispatcher")).status_code == 200


def test_figures_by_hand(app, session, client, desk, login_as):
    d = desk
    # November: one order, done on time, rated 4
    _r, f = take(d, loc="r302", when=at(1, 9) - timedelta(days=1))           # Monday 30 November
    finish(d, f, "t_technician", at(1, 9, 5) - timedelta(days=1), at(1, 9, 10) - timedelta(days=1),
           at(1, 10) - timedelta(days=1))
    services.rate(f, 4, user=d["t_requester"], by="r", at=at(1, 11) - timedelta(days=1))
    # December
    _r, a = take(d, loc="r301", when=at(2, 9))
    finish(d, a, "t_technician", at(2, 9, 5), at(2, 9, 10), at(2, 10))       # response 10, resolution 60
    _r, b = take(d, loc="r302", when=at(2, 9))
    finish(d, b, "t_technician", at(2, 9, 5), at(2, 9, 40), at(2, 16))       # response 40 (late), 270 > 240
    _r, c = take(d, cat="power", loc="r401", when=at(2, 10))
    finish(d, c, "t_tech_b", at(2, 10, 5), at(2, 10, 20), at(2, 11), team="vend")   # 20, 60; default 60/1440
    _r, dd = take(d, cat="power", loc="r301", when=at(2, 11))                # open, never dispatched
    _r, e = take(d, loc="r401", when=at(2, 11))
    services.cancel(e, "打错了", by="x", at=at(2, 11, 5))                      # not counted
    services.rate(a, 5, user=d["t_requester"], by="r", at=at(2, 17))
    services.rate(b, 2, user=d["t_requester"], by="r", at=at(2, 17))
    session.commit()
    assert (b.response_met, b.resolution_met, c.resolution_met) == (False, False, True)
    t = figures.table(None, "2026-12")
    assert (t["received"], t["completed"], t["dispatched"]) == (4, 3, 3)
    assert t["completion_rate"] == Decimal("75.0") and t["dispatched_share"] == Decimal("75.0")
    assert t["on_time_rate"] == Decimal("66.7")                               # a and c of a, b, c
    assert t["mean_response"] == Decimal("23.3")                              # (10 + 40 + 20) / 3
    assert t["mean_resolution"] == Decimal("180.0")                           # (60 + 420 + 60) / 3
    assert (t["satisfaction"], t["rated"], t["breaches"]) == (Decimal("3.50"), 2, 1)
    by_cat = {r["key"]: r for r in figures.table("category", "2026-12")}
    assert (by_cat["水"]["received"], by_cat["电"]["received"], by_cat["电"]["completion_rate"]) == (2, 2, Decimal("50.0"))
    by_team = {r["key"]: r for r in figures.table("team", "2026-12")}
    assert (by_team["水电班"]["completed"], by_team["外包维修队"]["completed"]) == (2, 1)
    by_vendor = {r["key"]: r["received"] for r in figures.table("vendor", "2026-12")}
    assert by_vendor == {str(figures.OWN): 2, "某物业公司": 1}
    by_month = {r["key"]: r["received"] for r in figures.table("month")}
    assert by_month == {"2026-11": 1, "2026-12": 4}
    mom = figures.month_over_month("2026-12")
    assert mom["change"]["completion_rate"] == Decimal("-25.0") and mom["before"]["satisfaction"] == Decimal("4.00")
    assert [w.name for w in figures.oversight()["unfinished"]] == [dd.name]
    assert figures.fmt("minutes", Decimal("185.4")) in ("3 h 5 min", "3小时5分钟")
    assert figures.fmt("percent", Decimal("75.0")) == "75.0 %"
    login_as("Logistics Manager")
    page = client.get("/service_desk/figures/?month=2026-12&by=team").get_data(as_text=True)
    assert "外包维修队" in page and "75.0 %" in page and "3小时0分钟" in page
    login_as("Technician")
    assert client.get("/service_desk/figures/?month=2026-12").status_code in (302, 403)


def test_assessment_evidence_for_the_vendors_teams(app, session, desk):
    d = desk
    _r, wo = take(d, loc="r401", when=at(2, 9))
    services.dispatch(wo, d["vend"], d["t_tech_b"], by="x", at=at(2, 9))
    services.accept(wo, user=d["t_tech_b"], by="b", at=at(2, 9, 10))
    services.arrive(wo, user=d["t_tech_b"], by="b", at=at(2, 9, 20))
    services.complete(wo, user=d["t_tech_b"], by="b", at=at(3, 9))          # 480 > 240: breached
    services.rate(wo, 1, "没修好", user=d["t_requester"], by="r", at=at(3, 10))
    _r, own = take(d, loc="r301", when=at(2, 9))                            # the hospital's own team: not counted
    finish(d, own, "t_technician", at(2, 9), at(2, 9), at(3, 9))
    session.commit()
    assert wo.rectification_wanted
    contract = SimpleNamespace(id=0, vendor_id=0, vendor=SimpleNamespace(id=0, credit_code=VENDOR_CODE))   # no such contract row
    got = {e["evidence"]: e for e in services.assessment_evidence(contract, 2026, 12)}
    assert got["service_desk.sla_breach"]["count"] == 1 and got["service_desk.sla_breach"]["refs"] == [wo.name]
    assert got["service_desk.low_rating"]["refs"] == [wo.name]
    assert all(e["count"] == 0 for e in services.assessment_evidence(contract, 2026, 11))
    # through the hook, as vendor_contracts calls it
    pm = app.extensions["houqin"].registry.pm
    results = [e for r in pm.hook.houqin_assessment_evidence(contract=contract, year=2026, month=12) for e in r]
    assert {e["evidence"] for e in results} >= {"service_desk.sla_breach", "service_desk.low_rating"}
    keys = [k for r in pm.hook.houqin_assessment_evidence_keys() for k, _label in r]
    assert "service_desk.low_rating" in keys


def _notes(session, key):
    return session.scalars(select(Notification).where(Notification.key == key)).all()


def test_jobs_warn_escalate_remind_close_and_publish(app, session, desk):
    d = desk
    _r, wo = take(d, when=at(2, 9))                         # resolution due 13:30 + 60 → 14:30? no: 09:00+240
    services.dispatch(wo, d["own"], d["t_technician"], by="x", at=at(2, 9, 5))
    services.accept(wo, user=d["t_technician"], by="t", at=at(2, 9, 10))
    assert wo.resolution_due == at(2, 14, 30)               # 180 before lunch, 60 after 13:30
    session.commit()
    assert jobs.warn_due(at(2, 13, 50)) == 0                # 40 minutes left
    assert jobs.warn_due(at(2, 14, 10)) == 1
    assert jobs.warn_due(at(2, 14, 15)) == 0                # once
    assert [n.user_id for n in _notes(session, f"warn:{wo.id}")] == [d["t_technician"].id]
    assert jobs.escalate_breaches(at(2, 14, 31)) == 1 and wo.breached_at == at(2, 14, 30)
    told = {n.user_id for n in _notes(session, f"breach:{wo.id}")}
    manager = app.appbuilder.sm.find_user(username="t_logistics_manager")
    managers = {u.id for u in app.appbuilder.sm.find_role(MANAGER).user if u.active}   # other tests may add some
    assert manager.id in managers and told == {d["t_team_leader"].id} | managers
    assert jobs.escalate_breaches(at(2, 15)) == 0
    services.arrive(wo, user=d["t_technician"], by="t", at=at(2, 15))
    services.complete(wo, user=d["t_technician"], by="t", at=at(2, 16))
    session.commit()
    assert jobs.remind_ratings(at(2, 20)) == 0              # not before a day has passed
    assert jobs.remind_ratings(at(3, 17)) == 1 and jobs.remind_ratings(at(4, 17)) == 0
    assert len(_notes(session, f"rate:{wo.id}")) == 1
    assert jobs.close_rating_window(at(9, 15)) == 0         # 7 days after 16:00 on the 2nd is the 9th 16:00
    assert jobs.close_rating_window(at(9, 16, 1)) == 1 and wo.status == CLOSED and wo.rating is None
    with pytest.raises(Conflict):
        services.rate(wo, 5, user=d["t_requester"], by="r", at=at(9, 17))
    # notices: scheduled, published when valid, expired after
    with acting_as("t_dispatcher"):
        n = Notice(kind="outage", title="3号楼停水", body="12月5日9:00-12:00", valid_from=at(5, 8), valid_until=at(5, 12))
        session.add(n)
        session.flush()
        services.publish_notice(n, by="t_dispatcher", at=at(4, 9))
    assert n.status == "scheduled"
    assert jobs.publish_notices(at(5, 7)) == 0
    assert jobs.publish_notices(at(5, 8)) == 1 and n.status == "published"
    assert services.current_notices(at(5, 9)) == [n]
    assert len(_notes(session, f"notice:{n.id}")) >= 5
    assert jobs.publish_notices(at(5, 12)) == 1 and n.status == "expired"


def test_only_the_requester_rates_within_the_window(app, session, desk):
    d = desk
    _r, wo = take(d, when=at(2, 9))
    finish(d, wo, "t_technician", at(2, 9), at(2, 9), at(2, 10))
    with pytest.raises(PermissionDenied):
        services.rate(wo, 5, user=d["t_req_b"], by="b", at=at(2, 11))
    with pytest.raises(PermissionDenied):
        services.rate(wo, 5, user=d["t_technician"], by="t", at=at(2, 11))
    with pytest.raises(Conflict):
        services.rate(wo, 5, user=d["t_requester"], by="r", at=at(10, 11))
    services.rate(wo, 5, user=d["t_requester"], by="r", at=at(2, 11))
    assert wo.status == CLOSED and wo.request.status == "closed"


def test_two_dispatchers_taking_the_same_call_end_in_one_request(app, session, desk):
    from erp_core.extensions import db
    from erp_core.testing import is_postgres, parallel
    if not is_postgres(app):
        pytest.skip("needs PostgreSQL for real parallel writers")
    ids = {k: desk[k].id for k in ("water", "r301")}
    session.commit()

    def dispatcher(i):
        from modules.service_desk.models import Category, Location
        with app.app_context():
            try:
                with acting_as(f"d{i}"):
                    services.intake(category=db.session.get(Category, ids["water"]),
                                    location=db.session.get(Location, ids["r301"]), by=f"d{i}")
                    db.session.commit()
                return "taken"
            except Conflict:
                db.session.rollback()
                return "offered"
    assert sorted(parallel(4, dispatcher)) == ["offered", "offered", "offered", "taken"]


def test_the_leader_hands_an_order_to_another_team_from_its_page(app, session, client, desk, login_as):
    """The page proposes the order's own team and offers technicians by name; once the order is
    another team's, the leader lands on his list with the word, not on a 'not found'."""
    d = desk
    _r, wo = take(d, loc="r301", when=at(2, 9))
    services.dispatch(wo, d["own"], d["t_technician"], by="x", at=at(2, 9, 5))
    session.commit()
    login_as("Team Leader", username="t_team_leader")
    page = client.get(f"/service_desk/work_order/show/{wo.id}").get_data(as_text=True)
    form = page[page.index('data-action="reassign"'):]
    form = form[:form.index("</form>")]
    assert '<option value="WATER" selected>水电班</option>' in form and "t_tech_b" in form and "Test（外包维修队）" in form
    resp = client.post(f"/service_desk/work_order/action/{wo.id}/reassign",
                       data={"team": "VEND", "technician": "t_tech_b", "reason": "外包负责"})
    assert resp.status_code == 302 and resp.location.endswith("/service_desk/work_order/list/"), resp.location
    session.expire_all()
    assert (wo.team.code, wo.technician.username) == ("VEND", "t_tech_b")
    assert client.get(f"/service_desk/work_order/show/{wo.id}").status_code == 404
