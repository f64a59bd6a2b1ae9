"""Demo: the default category tree, three buildings, eight teams (three of them a vendor's),
SLA rules, and three months of requests (about 35 a day) with their work orders and clock
segments, computed by the same SLA clock (sla.py) and written in bulk, seeded so every run
gives the same centre: ~95 % completed, satisfaction ~4.5, a few breaches."""
import random
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import insert, select

from erp_core.context import acting_as
from erp_core.naming import NamingSeries
from erp_core.types import LOCAL_TZ, now

from . import sla
from .models import (CANCELLED, CLOSED, COMPLETED, DISPATCHED, NEW, ON_SITE, PAUSED, R_CANCELLED, R_CLOSED, R_DUPLICATE,
                     R_OPEN, TECHNICIAN, Category, ClockSegment, Location, Notice, Request, SlaRule, Team,
                     WorkCalendar, WorkOrder)

# code, title, kind, parent code — the list
CATEGORIES = [("repair", "维修", "repair", None), ("water", "给排水", "repair", "repair"),
              ("power", "供电", "repair", "repair"), ("gas", "燃气", "repair", "repair"),
              ("heating", "供暖", "repair", "repair"), ("ac", "空调", "repair", "repair"),
              ("lift", "电梯", "repair", "repair"), ("medgas", "医用气体", "repair", "repair"),
              ("nursecall", "呼叫系统", "repair", "repair"), ("tv", "电视", "repair", "repair"),
              ("phone", "电话", "repair", "repair"), ("cleaning", "保洁", "cleaning", None),
              ("meals", "膳食咨询", "service", None), ("porter", "运送", "porter", None),
              ("home", "家庭维修", "home_repair", None)]
# team code, title, vendor (legal name in vendor_contracts' demo), categories, technicians
TEAMS = [("SD", "水电班", None, ["water", "power", "gas", "heating", "medgas"], ["王师傅", "李师傅", "赵师傅"]),
         ("KT", "空调班", None, ["ac"], ["孙师傅", "周师傅"]),
         ("RD", "弱电班", None, ["nursecall", "tv", "phone"], ["吴师傅", "郑师傅"]),
         ("DT", "电梯维保队", "浙江通达电梯工程有限公司", ["lift"], ["冯工", "陈工"]),
         ("BJ", "保洁中心", "杭州洁康物业服务有限公司", ["cleaning"], ["褚阿姨", "卫阿姨"]),
         ("YS", "运送中心", "杭州洁康物业服务有限公司", ["porter"], ["蒋师傅", "沈师傅", "韩师傅"]),
         ("SS", "膳食科", None, ["meals"], ["杨主管"]),
         ("JX", "家修组", None, ["home"], ["朱师傅"])]
BUILDINGS = [("MZ", "门诊楼", [("内科", "8101"), ("外科", "8102"), ("儿科", "8103"), ("检验科", "8104")]),
             ("ZY", "住院楼", [("心内科", "8201"), ("骨科", "8202"), ("神经内科", "8203"), ("ICU", "8204"),
                              ("产科", "8205"), ("肿瘤科", "8206")]),
             ("YJ", "医技楼", [("放射科", "8301"), ("超声科", "8302"), ("手术室", "8303"), ("药剂科", "8304")])]
WEIGHTS = {"water": 16, "power": 12, "gas": 1, "heating": 3, "ac": 12, "lift": 5, "medgas": 2, "nursecall": 5,
           "tv": 4, "phone": 4, "cleaning": 14, "meals": 4, "porter": 16, "home": 2}
TARGETS = {"emergency": (10, 120), "urgent": (20, 240), "normal": (30, 480)}
DESCRIPTIONS = {"water": ["水龙头漏水", "下水道堵塞", "马桶不出水"], "power": ["插座没电", "灯管不亮", "跳闸"],
                "gas": ["燃气灶打不着"], "heating": ["暖气片不热"], "ac": ["空调不制冷", "空调滴水", "遥控失灵"],
                "lift": ["电梯困人", "电梯异响", "电梯门关不上"], "medgas": ["氧气终端漏气", "负压吸引无力"],
                "nursecall": ["床头呼叫器不响"], "tv": ["电视无信号"], "phone": ["电话无拨号音"],
                "cleaning": ["地面呕吐物需清理", "病房终末消毒", "走廊积水"], "meals": ["治疗饮食咨询", "送餐延误"],
                "porter": ["送病人做CT", "送标本到检验科", "取药", "运送输液泵"], "home": ["家中热水器维修", "家中灯具安装"]}
PORTER = ["patient", "specimens", "drugs", "equipment", "escort"]
RATINGS = [5] * 62 + [4] * 28 + [3] * 6 + [2] * 3 + [1]


def seed_categories(session):
    """The default category tree (editable afterwards)."""
    by_code = {c.code: c for c in session.scalars(select(Category))}
    for i, (code, title, kind, parent) in enumerate(CATEGORIES):
        if code not in by_code:
            by_code[code] = Category(code=code, title=title, kind=kind, parent=by_code.get(parent), sort=i)
            session.add(by_code[code])
    session.flush()
    return by_code


def _vendor_codes(session):
    registry = current_app.extensions["houqin"].registry
    if registry.get("vendor_contracts") is None:
        return {}
    from modules.vendor_contracts.models import Vendor
    return {v.legal_name: v.credit_code for v in session.scalars(select(Vendor))}


def _technicians(names, first_index):
    sm = current_app.appbuilder.sm
    from erp_core.demo import demo_password
    password = demo_password(current_app)[0]
    role = sm.find_role(TECHNICIAN)
    out = []
    for i, full in enumerate(names):
        login = f"tech{first_index + i:02d}"
        user = sm.find_user(username=login) or sm.add_user(login, full, "", f"{login}@hospital.local", role,
                                                           password=password)
        out.append(user)
    return out


def load(session, days=91, per_day=35, seed=20261201):
    if session.scalar(select(Team.id).limit(1)) is not None:
        return
    rng = random.Random(seed)
    with acting_as("admin"):
        office = WorkCalendar(title="工作日", weekdays="1,2,3,4,5", holidays="\n".join(
            f"2026-10-0{d}" for d in range(1, 8)), workdays="2026-09-27, 2026-10-10")
        h24 = WorkCalendar(title="24小时", round_the_clock=True)
        session.add_all([office, h24])
        cats = seed_categories(session)
        locations, rooms = [], []
        for bcode, btitle, depts in BUILDINGS:
            b = Location(code=bcode, title=btitle, level="building")
            locations.append(b)
            for j, (dtitle, phone) in enumerate(depts):
                floor = Location(code=f"{bcode}-{j + 1}F", title=f"{j + 1}F", level="floor", parent=b)
                dept = Location(code=f"{bcode}-{phone}", title=dtitle, level="department", parent=floor, phones=phone)
                locations += [floor, dept]
                for r in range(1, 6):
                    room = Location(code=f"{bcode}-{j + 1}{r:02d}", title=f"{j + 1}{r:02d}", level="room", parent=dept)
                    locations.append(room)
                    rooms.append((room, dept))
        session.add_all(locations)
        vendors = _vendor_codes(session)
        teams, n = {}, 1
        sm = current_app.appbuilder.sm
        demo_tech, demo_leader = sm.find_user(username="technician"), sm.find_user(username="team_leader")
        leaders = [demo_leader] if demo_leader is not None else _technicians(["钱班长"], 0)
        for code, title, vendor, served, names in TEAMS:
            techs = _technicians(names, n)
            if code == "SD" and demo_tech is not None:       # the demo's technician login has orders to see
                techs.append(demo_tech)
            n += len(names)
            t = Team(code=code, title=title, vendor_code=(vendors.get(vendor, "") if vendor else ""),
                     vendor_name=vendor or "", calendar=office if code in ("SS", "JX") else h24,
                     leader=leaders[0] if code == "SD" else techs[0], technicians=techs,
                     categories=[cats[c] for c in served], phone=f"8{n:03d}")
            session.add(t)
            for c in served:
                teams[c] = t
        session.flush()
        rules = {}
        for code in WEIGHTS:
            for urgency, (resp, res) in TARGETS.items():
                if code == "home":
                    resp, res = 240, 2880
                rules[code, urgency] = SlaRule(category=cats[code], urgency=urgency, response_minutes=resp,
                                               resolution_minutes=res, calendar=h24 if urgency == "emergency" else None)
        session.add_all(rules.values())
        today = now()
        session.add_all([
            Notice(kind="outage", title="住院楼明日 9:00–11:00 停水检修", body="请各病区提前储水。",
                   valid_from=today - timedelta(hours=2), valid_until=today + timedelta(days=1), status="published",
                   published_at=today - timedelta(hours=2)),
            Notice(kind="weather", title="暴雨黄色预警", body="地下车库、配电房加强巡查，防汛物资到位。",
                   valid_from=today - timedelta(hours=1), valid_until=today + timedelta(hours=20), status="published",
                   published_at=today - timedelta(hours=1)),
            Notice(kind="roster", title="元旦假期后勤值班表", body="水电班 王师傅 8001；空调班 孙师傅 8002。",
                   valid_from=today + timedelta(days=20), valid_until=today + timedelta(days=35))])
        session.flush()
        _orders(session, rng, cats, teams, rules, rooms, office, h24, today, days, per_day)


def _pick_time(rng, day):
    hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 9, 10, 9, 7, 4, 6, 8, 8, 7, 5, 3, 3, 2, 2, 1, 1])[0]
    return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=LOCAL_TZ)


def _orders(session, rng, cats, teams, rules, rooms, office, h24, today, days, per_day):
    """Simulate each request through the clock, then insert everything in three statements."""
    sm = current_app.appbuilder.sm
    requesters = [u for u in [sm.find_user(username="requester")] if u is not None]
    cals = {office.id: office.spec(), h24.id: sla.ROUND_THE_CLOCK}
    codes, weights = list(WEIGHTS), list(WEIGHTS.values())
    counters, reqs, wos, segs = {}, [], [], []
    base = dict(docstatus=0, version=1, created_by="dispatcher", modified_by="dispatcher")
    open_at = {}
    for d in range(days, -1, -1):
        day = (today - timedelta(days=d)).astimezone(LOCAL_TZ).date()
        for _ in range(rng.randint(per_day - 8, per_day + 8)):
            received = _pick_time(rng, day)
            if received > today:
                continue
            code = rng.choices(codes, weights)[0]
            room, dept = rng.choice(rooms)
            urgency = "emergency" if code == "lift" and rng.random() < 0.3 else rng.choices(
                ["emergency", "urgent", "normal"], [3, 17, 80])[0]
            prefix = f"BX-{received:%Y%m%d}-"
            counters[prefix] = counters.get(prefix, 0) + 1
            req = dict(base, name=f"{prefix}{counters[prefix]:04d}", received_at=received, created_at=received,
                       modified_at=received, source=rng.choices(["hotline", "walk_in", "web", "qr"], [70, 8, 12, 10])[0],
                       caller_phone=dept.phones, caller_name="", requester_id=None, department_id=dept.id,
                       location_id=room.id, category_id=cats[code].id, urgency=urgency,
                       description=rng.choice(DESCRIPTIONS[code]), status=R_OPEN, duplicate_of_id=None, device="")
            key = (code, room.id)
            if key in open_at and open_at[key] > received and rng.random() < 0.7:
                req.update(status=R_DUPLICATE, duplicate_of_id=("ref", open_at[key + ("req",)]))
                reqs.append(req)
                continue
            if requesters and rng.random() < 0.35:
                req["requester_id"] = requesters[0].id
            reqs.append(req)
            team = teams[code]
            rule = rules[code, urgency]
            cal_id = h24.id if urgency == "emergency" else team.calendar_id
            cal = cals[cal_id]
            tech = rng.choice(team.technicians)
            wo, wsegs = _simulate(rng, code, received, today, rule, cal, team, tech, urgency)
            prefix = f"GD-{received:%Y%m%d}-"
            counters[prefix] = counters.get(prefix, 0) + 1
            wo.update(base, name=f"{prefix}{counters[prefix]:04d}", created_at=received, modified_at=received,
                      request_id=("ref", len(reqs) - 1), kind=cats[code].kind, category_id=cats[code].id,
                      location_id=room.id, department_id=dept.id, requester_id=req["requester_id"], urgency=urgency,
                      description=req["description"], received_at=received,
                      month=received.astimezone(LOCAL_TZ).strftime("%Y-%m"), sla_rule_id=rule.id,
                      response_target=rule.response_minutes, resolution_target=rule.resolution_minutes,
                      sla_calendar_id=cal_id, cross_department=code == "porter" and rng.random() < 0.6,
                      porter_kind=rng.choice(PORTER) if code == "porter" else "")
            if wo["status"] in (NEW, DISPATCHED, ON_SITE, PAUSED):
                open_at[key], open_at[key + ("req",)] = today + timedelta(days=1), len(reqs) - 1
            else:
                open_at[key], open_at[key + ("req",)] = wo["completed_at"] or received, len(reqs) - 1
            req["status"] = {CLOSED: R_CLOSED, CANCELLED: R_CANCELLED}.get(wo["status"], R_OPEN)
            wos.append(wo)
            segs.append(wsegs)
    rt, wt, st = Request.__table__, WorkOrder.__table__, ClockSegment.__table__
    first = [r for r in reqs if r["duplicate_of_id"] is None]
    ids = session.execute(insert(rt).returning(rt.c.id, sort_by_parameter_order=True), first).scalars().all()
    req_id = {id(r): i for r, i in zip(first, ids)}
    dups = [dict(r, duplicate_of_id=req_id[id(reqs[r["duplicate_of_id"][1]])]) for r in reqs
            if r["duplicate_of_id"] is not None]
    if dups:
        session.execute(insert(rt), dups)
    for wo in wos:
        wo["request_id"] = req_id[id(reqs[wo["request_id"][1]])]
    cols = {c.key for c in wt.columns}
    full = [{c: wo.get(c) for c in cols if c != "id"} for wo in wos]
    for row in full:
        row["charge"] = row["charge"] or 0
        row["reopen_count"] = row["reopen_count"] or 0
        row["rating_comment"] = row["rating_comment"] or ""
        row["settled_by"], row["payment_method"] = row["settled_by"] or "", row["payment_method"] or ""
        row["rectification_wanted"] = bool(row["rectification_wanted"])
        row["workflow_state"] = row["amended_from"] = row["cancel_reason"] = None
        row["cancel_reason"] = "来电人取消" if row["status"] == CANCELLED else None
    wo_ids = session.execute(insert(wt).returning(wt.c.id, sort_by_parameter_order=True), full).scalars().all()
    rows = [dict(s, work_order_id=i) for i, ss in zip(wo_ids, segs) for s in ss]
    session.execute(insert(st), rows)
    for prefix, count in counters.items():
        session.merge(NamingSeries(key=prefix, current=count))
    session.flush()


def _simulate(rng, code, received, today, rule, cal, team, tech, urgency):
    """One order through dispatch, acceptance, maybe a pause, completion and rating."""
    segs = [dict(team_id=None, state="running", reason="", note="", started_at=received, ended_at=None,
                 started_by="dispatcher")]
    wo = dict(status=NEW, team_id=None, technician_id=None, dispatched_at=None, accepted_at=None, arrived_at=None,
              completed_at=None, closed_at=None, response_mins=None, resolution_mins=None, sla_used_mins=None,
              response_met=None, resolution_met=None, breached_at=None, rating=None, rating_comment="", rated_at=None,
              response_due=None, resolution_due=None, team_due=None, charge=0, reopen_count=0)

    def clock():
        return [sla.Segment(s["state"], s["started_at"], s["ended_at"], s["team_id"], s["reason"]) for s in segs]

    def switch(state, at, reason=""):
        segs[-1]["ended_at"] = at
        if state:
            segs.append(dict(team_id=team.id, state=state, reason=reason, note="", started_at=at, ended_at=None,
                             started_by=tech.username))

    first_working = sla.utc(cal.next_working_instant(received))
    step = lambda lo, hi: timedelta(minutes=rng.uniform(lo, hi))  # noqa: E731
    dispatched = first_working + step(1, 6)
    if dispatched > today or rng.random() < 0.012:
        if dispatched <= today and rng.random() < 0.5:      # cancelled by the caller
            switch(None, received + step(5, 30))
            wo["status"] = CANCELLED
            return wo, segs
        wo.update(response_due=sla.due(clock(), rule.response_minutes, cal),
                  resolution_due=sla.due(clock(), rule.resolution_minutes, cal))
        return wo, segs
    switch("running", dispatched)
    wo.update(status=DISPATCHED, team_id=team.id, technician_id=tech.id, dispatched_at=dispatched)
    accepted = dispatched + step(1, rule.response_minutes * (1.6 if rng.random() < 0.06 else 0.8))
    if accepted > today:
        return _open(wo, clock, rule, cal), segs
    used = sla.minutes(sla.used(clock(), cal, accepted))
    wo.update(status=ON_SITE, accepted_at=accepted, arrived_at=accepted + step(3, 15),
              response_mins=round(sla.minutes(accepted - received)), response_met=used <= rule.response_minutes)
    if not wo["response_met"]:
        wo["breached_at"] = sla.due(clock(), rule.response_minutes, cal)
    work = rule.resolution_minutes * rng.uniform(0.1, 0.6 if rng.random() > 0.08 else 1.5)
    done = cal.add(wo["arrived_at"], work)
    if rng.random() < 0.1:                                  # waiting for parts half-way
        p0 = cal.add(wo["arrived_at"], work / 2)
        p1 = p0 + step(60, 600)
        if p1 < today:
            switch("paused", p0, rng.choice(["parts", "requester", "third_party"]))
            switch("running", p1)
            done = cal.add(p1, work / 2)
    if done > today or rng.random() < 0.045:             # still open, or stuck waiting for a third party
        if done <= today:
            switch("paused", cal.add(wo["arrived_at"], work / 3), "third_party")
            wo["status"] = PAUSED
        return _open(wo, clock, rule, cal), segs
    switch(None, done)
    used = sla.minutes(sla.used(clock(), cal, done))
    wo.update(status=COMPLETED, completed_at=done, resolution_mins=round(sla.minutes(sla.utc(done) - sla.utc(received))),
              sla_used_mins=round(used), resolution_met=used <= rule.resolution_minutes)
    if not wo["resolution_met"] and wo["breached_at"] is None:
        wo["breached_at"] = done
    if code == "home":
        wo["charge"] = rng.choice([30, 50, 80, 120, 150])
    rated = done + step(30, 2000)
    if rng.random() < 0.82 and rated <= today:
        rating = rng.choice(RATINGS) if wo["resolution_met"] else rng.choice([5, 4, 4, 3, 3, 2, 1])
        wo.update(status=CLOSED, rating=rating, rated_at=rated, closed_at=rated,
                  rating_comment="" if rating >= 4 else rng.choice(["来得太慢", "没修好，又坏了", "态度一般"]),
                  rectification_wanted=rating <= 2 and bool(team.vendor_code))
    elif done + timedelta(days=7) <= today:
        wo.update(status=CLOSED, closed_at=done + timedelta(days=7))
    return wo, segs


def _open(wo, clock, rule, cal):
    segments = clock()
    if wo["accepted_at"] is None:
        wo["response_due"] = sla.due(segments, rule.response_minutes, cal)
    wo["resolution_due"] = sla.due(segments, rule.resolution_minutes, cal)
    return wo
