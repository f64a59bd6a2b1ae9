"""Demo: four wards (the demo ward nurse on 心内科一病区), diets with their contraindications,
dishes including 药膳, three off-hours slots with menus for today and tomorrow, last month's
rated orders and today's orders at every step."""
from datetime import timedelta
from decimal import Decimal

from flask import current_app

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.types import clock_at as clock, now

from . import services
from .models import CLERK, DIETITIAN, KITCHEN, NURSE, Diet, Dish, MealSlot, DailyMenu, Ward

DIETS = [("regular", "普通饮食", "basic", ""), ("soft", "软食", "basic", ""), ("liquid", "流质", "therapeutic", "固体"),
         ("low_salt", "低盐饮食", "therapeutic", "高盐, 腌制"), ("low_fat", "低脂饮食", "therapeutic", "油炸, 肥肉"),
         ("diabetic", "糖尿病饮食", "therapeutic", "蔗糖, 蜂蜜"), ("renal", "低蛋白肾病饮食", "therapeutic", "高钾, 豆制品"),
         ("pureed", "匀浆膳", "therapeutic", "固体"), ("tcm", "中医药膳", "tcm", "")]
DISHES = [("小米南瓜粥", "6.00", "regular, soft, low_salt, low_fat, diabetic, renal", "", "", None),
          ("鸡蛋羹", "5.00", "regular, soft, low_salt, low_fat", "鸡蛋", "", None),
          ("清汤馄饨", "12.00", "regular, soft", "小麦, 虾皮, 高盐", "", None),
          ("全麦三明治", "10.00", "regular, diabetic, low_fat", "小麦, 鸡蛋", "", None),
          ("米汤（流质）", "3.00", "liquid, pureed, regular, soft", "", "", None),
          ("营养匀浆", "18.00", "pureed, liquid", "牛奶", "", None),
          ("无糖酸奶", "6.00", "regular, diabetic, low_fat, low_salt", "牛奶", "", None),
          ("蜂蜜柚子茶", "8.00", "regular, soft", "蜂蜜, 蔗糖", "", None),
          ("黄芪炖鸡汤", "28.00", "tcm, regular", "", "性温，味甘；补气固表", None),
          ("山药薏米粥", "9.00", "tcm, regular, soft, diabetic", "", "性平，味甘；健脾祛湿", None),
          ("炸鸡翅", "16.00", "regular", "油炸, 高盐", "", ("20:00", "23:00")),
          ("夜宵阳春面", "10.00", "regular, soft, low_fat", "小麦", "", ("20:00", "23:00"))]
SLOTS = [("early", "早间加餐", "06:30", "07:30", 60), ("afternoon", "午后加餐", "15:00", "16:00", 60),
         ("night", "夜宵", "20:30", "21:30", 90)]
WARDS = [("CARD1", "心内科一病区", "住院部 A 栋 5 楼"), ("ORTH2", "骨科二病区", "住院部 A 栋 8 楼"),
         ("ENDO", "内分泌科病区", "住院部 B 栋 3 楼"), ("NEPH", "肾内科病区", "住院部 B 栋 4 楼")]
PATIENTS = [("CARD1", "05", "王建国", "low_salt", ""), ("CARD1", "12", "李秀英", "low_fat", "花生"),
            ("ORTH2", "03", "张伟", "regular", ""), ("ORTH2", "21", "刘芳", "soft", ""),
            ("ENDO", "08", "陈志强", "diabetic", ""), ("ENDO", "16", "杨丽", "diabetic", "牛奶"),
            ("NEPH", "02", "赵磊", "renal", ""), ("NEPH", "09", "黄敏", "tcm", "")]


def _user(role):
    from erp_core.demo import role_username
    return current_app.appbuilder.sm.find_user(username=role_username(role))


def load(session):
    nurse, clerk, kitchen, dietitian = _user(NURSE), _user(CLERK), _user(KITCHEN), _user(DIETITIAN)
    with acting_as(dietitian.username):
        wards = {c: Ward(code=c, title=t, building=b) for c, t, b in WARDS}
        wards["CARD1"].nurses.append(nurse)
        diets = {c: Diet(code=c, title=t, kind=k, contraindications=ci) for c, t, k, ci in DIETS}
        dishes = [Dish(title=t, price=Decimal(p), diets=d, allergens=a, tcm_properties=tcm,
                       available_from=w[0] if w else None, available_until=w[1] if w else None)
                  for t, p, d, a, tcm, w in DISHES]
        slots = {c: MealSlot(code=c, title=t, start_time=s, end_time=e, cutoff_minutes=m) for c, t, s, e, m in SLOTS}
        session.add_all([*wards.values(), *diets.values(), *dishes, *slots.values()])
        session.flush()
        today = now().date()
        for offset in range(-35, 2):
            day = today + timedelta(days=offset)
            for code, slot in slots.items():
                session.add(DailyMenu(day=day, slot=slot, dishes=[d for d in dishes if d.available_at(slot.starts)]))
        session.flush()
    rated = [5, 4, 5, 3, 4, 5, 2, 4, 5, 4, 4, 5]
    # last month's orders, placed back then (on a moved clock), delivered and rated
    n = 0
    for offset in range(-30, 0, 3):
        day = today + timedelta(days=offset)
        for ward, bed, name, diet, allergies in PATIENTS[: 4 + offset % 4]:
            slot = slots["afternoon"]
            with clock(services.window(day, slot)[0] - timedelta(hours=3)):
                o = _order(session, ward, bed, name, diet, allergies, slot, day, clerk)
            with clock(services.window(day, slot)[0] + timedelta(minutes=20 + 7 * (n % 9))):
                _advance(o, kitchen, "delivered")
                services.feedback(o, rated[n % len(rated)], "温度合适，送餐及时" if rated[n % len(rated)] >= 4 else "送达时偏凉",
                                  by=clerk)
            n += 1
    # tomorrow: orders at every step (the slot is still ahead, so the cut-off holds)
    tomorrow = today + timedelta(days=1)
    steps = ["placed", "accepted", "prepared", "out", "placed", "accepted", "placed", "placed"]
    for (ward, bed, name, diet, allergies), step in zip(PATIENTS, steps):
        o = _order(session, ward, bed, name, diet, allergies, slots["night"], tomorrow, nurse if ward == "CARD1" else clerk)
        _advance(o, kitchen, step)
    services.place_order({"order_for": "staff", "department": "急诊科", "staff_name": "周医生", "slot": "night",
                          "day": tomorrow.isoformat(), "lines": [{"dish": dishes[11].name, "qty": 2}]}, by=clerk)
    # a dietitian's override: honey tea for a diabetic patient, with the reason recorded
    services.place_order({"ward": "ENDO", "bed": "20", "patient_name": "孙洁", "diet": "diabetic", "slot": "afternoon",
                          "day": tomorrow.isoformat(), "lines": [{"dish": dishes[7].name, "qty": 1}],
                          "override_reason": "低血糖发作后加餐，已评估"}, by=dietitian)
    session.flush()


def _order(session, ward, bed, name, diet, allergies, slot, day, by):
    from sqlalchemy import select
    menu = session.scalars(select(DailyMenu).where(DailyMenu.day == day, DailyMenu.slot_id == slot.id)).one()
    d = session.scalars(select(Diet).where(Diet.code == diet)).one()
    fits = [x for x in menu.dishes if not services.conflicts(x, d, allergies)][:2]
    return services.place_order({"ward": ward, "bed": bed, "patient_name": name, "diet": diet, "allergies": allergies,
                                 "slot": slot.code, "day": day.isoformat(), "instructions": "少油" if bed < "10" else "",
                                 "lines": [{"dish": x.name, "qty": 1 + i} for i, x in enumerate(fits)]}, by=by)


def _advance(o, kitchen, step):
    for action, state in (("accept", "accepted"), ("prepare", "prepared"), ("dispatch", "out")):
        if o.workflow_state == step:
            return
        workflow.apply(o, action, by=kitchen)
    if step == "delivered":
        services.deliver(o, "责任护士", by=kitchen)
