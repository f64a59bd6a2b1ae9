"""Demo: three published care levels and one draft, the hospital's "八不准", and 20 care orders
on the workforce demo's care workers — settled ones over the past weeks (one with a level change,
one with a change of worker, complaints and ratings), orders in care now, and two awaiting the
family's signature."""
from datetime import timedelta
from decimal import Decimal

from flask import current_app

from erp_core.context import acting_as
from erp_core.errors import UserError
from erp_core.types import clock_at, now

from . import services
from .models import DESK, NURSE, CareLevel, CareRule

LEVELS = [
    ("L1", "一级陪护（一对一 · 24小时）", "one_to_one", "24h", "260.00", 10,
     "协助翻身、拍背，每 2 小时一次\n协助进食、饮水\n协助大小便、清洁会阴\n床上擦浴、洗头\n夜间陪护、随叫随到"),
    ("L2", "二级陪护（一对一 · 白天）", "one_to_one", "day", "180.00", 20,
     "协助进食、如厕\n协助下床活动、陪同检查\n整理床单位\n白天 8:00–20:00 在岗"),
    ("L3", "三级陪护（一对多 · 24小时）", "one_to_many", "24h", "120.00", 30,
     "一名护工照护同病室不超过 4 名患者\n协助进食、如厕、翻身\n生活用品整理"),
    ("LN", "夜间陪护（一对一 · 夜间）", "one_to_one", "night", "150.00", 40, "20:00–次日 8:00 在岗\n夜间协助如厕、翻身"),
]
RULES = ["不准从事护理技术操作（输液、注射、吸痰、鼻饲等）", "不准私自调节输液速度和仪器参数",
         "不准向患者及家属索要或收受财物", "不准私自加收费用或推销物品", "不准擅自离岗、串岗",
         "不准在病区吸烟、饮酒、大声喧哗", "不准泄露患者隐私", "不准与患者及家属发生争吵"]
PATIENTS = [("CARD1", "03", "张桂兰", "张伟", "儿子", "13800001001"), ("CARD1", "05", "王建国", "王丽", "女儿", "13800001002"),
            ("CARD1", "08", "赵淑珍", "刘强", "女婿", "13800001003"), ("CARD1", "12", "李秀英", "李军", "儿子", "13800001004"),
            ("CARD1", "15", "陈德明", "陈静", "女儿", "13800001005"), ("ORTH2", "02", "孙玉梅", "周涛", "丈夫", "13800001006"),
            ("ORTH2", "06", "周国强", "周敏", "女儿", "13800001007"), ("ORTH2", "09", "吴凤英", "吴磊", "儿子", "13800001008"),
            ("ORTH2", "11", "郑志华", "郑洁", "女儿", "13800001009"), ("ORTH2", "14", "冯秀珍", "冯涛", "儿子", "13800001010")]


def _user(role):
    from erp_core.demo import role_username
    return current_app.appbuilder.sm.find_user(username=role_username(role))


def _png():
    import base64
    # a tiny white PNG stands for a family's signature on the tablet
    return "data:image/png;base64," + base64.b64encode(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4f20000000049454e44ae426082")).decode()


def load(session):
    from modules.catering.models import Ward
    from sqlalchemy import select
    desk, nurse = _user(DESK) or _user("Admin"), _user(NURSE)
    with acting_as(desk.username if desk else "system"):
        levels = {code: CareLevel(code=code, title=title, ratio=ratio, shift=shift, daily_price=Decimal(price),
                                  sort=sort, duties=duties, published=code != "LN")
                  for code, title, ratio, shift, price, sort, duties in LEVELS}
        session.add_all(levels.values())
        session.add_all(CareRule(sort=i, text=t) for i, t in enumerate(RULES, 1))
        session.flush()
    wards = {w.code: w for w in session.scalars(select(Ward))}
    workers = services.eligible_workers()
    if not workers or not wards:
        return
    one_to_one = [lv for lv in levels.values() if lv.published and lv.ratio == "one_to_one"]
    shared = levels["L3"]
    today = now().replace(hour=9, minute=30, second=0, microsecond=0)
    made = []

    def order(i, start, days, level, worker):
        ward_code, bed, patient, family, relation, phone = PATIENTS[i % len(PATIENTS)]
        ward = wards.get(ward_code) or next(iter(wards.values()))
        with clock_at(start):
            return services.create_order(dict(
                ward=str(ward.id), bed=bed, patient_name=patient, level=str(level.id), worker=str(worker.id),
                start_at=start, planned_end=start + timedelta(days=days), family_name=family,
                family_relation=relation, family_phone=phone,
                deposit=(level.daily_price * 3).quantize(Decimal("1")), payment_method="wechat"), by=desk)

    def settled(i, worker):
        start = today - timedelta(days=40 - (i % 12) * 3, hours=i % 5)
        level = shared if i % 4 == 3 else levels["L2"] if i == 2 else one_to_one[i % len(one_to_one)]
        o = order(i, start, 2, level, worker)
        with clock_at(start + timedelta(minutes=5)):
            services.sign(o, signature=_png(), by=desk)
        if i == 2:          # upgraded after a fall on the second day
            with clock_at(start + timedelta(days=1, hours=3)):
                services.change_level(o, levels["L1"].id, "夜间跌倒后家属要求升级为一级陪护", by=desk)
        if i == 5:          # the first worker was replaced
            with clock_at(start + timedelta(hours=20)):
                services.change_worker(o, workers[(i + 1) % len(workers)].id, "家属要求更换护工", by=desk)
        with clock_at(start + timedelta(days=2, hours=2 + i % 4)):
            services.add_feedback(o, "rating", 5 - i % 4, "", by=desk)
            if i in (1, 6):
                services.add_feedback(o, "complaint", None, "护工夜间多次离岗，呼叫不应", by=nurse or desk)
            services.settle(o, payment_method="wechat", by=desk)
        return o

    def in_care(i, worker):
        start = today - timedelta(days=i % 3 + 1, hours=i % 6)
        o = order(i, start, 7, shared if i % 5 == 4 else one_to_one[i % len(one_to_one)], worker)
        with clock_at(start + timedelta(minutes=10)):
            services.sign(o, signature=_png(), by=desk)
        return o

    def waiting(i, worker):        # a shared worker (one-to-many) for a patient admitted this morning
        return order(i, now() + timedelta(hours=2), 5, shared, worker)

    # ten settled over the past weeks, eight in care now, two awaiting the family's signature;
    # a worker whose certificates did not cover a date, or who is busy, is skipped
    plan = [(settled, 10), (in_care, 8), (waiting, 2)]
    i = 0
    for make, wanted in plan:
        done = 0
        for worker in workers * 2:
            if done == wanted:
                break
            try:
                with session.begin_nested():
                    with acting_as(desk.username):
                        made.append(make(i, worker))
                done += 1
                i += 1
            except UserError as exc:       # refused by a rule: try the next worker
                import os
                if os.environ.get("CARE_DEMO_DEBUG"):
                    print(make.__name__, worker.full_name, exc)
                continue
    session.commit()
    return made
