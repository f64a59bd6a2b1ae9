from datetime import timedelta
from decimal import Decimal

import pytest

from erp_core.context import acting_as
from erp_core.testing import ensure_user, get_user
from erp_core.types import now
from modules.catering.models import NURSE, DailyMenu, Diet, Dish, MealSlot, Ward


@pytest.fixture(autouse=True)
def _users(app):
    ensure_user(app, NURSE)
    ensure_user(app, NURSE, "t_nurse_b")


@pytest.fixture
def kitchen_setup(app, session):
    """Ward A (t_ward_nurse) and ward B (t_nurse_b); diets, dishes, a night slot 20:30–21:30
    closing 90 minutes before, and its menu for today and tomorrow."""
    nurse_a, nurse_b = get_user(app, NURSE), app.appbuilder.sm.find_user(username="t_nurse_b")
    with acting_as("setup"):
        a = Ward(code="A", title="心内科一病区", nurses=[nurse_a])
        b = Ward(code="B", title="骨科二病区", nurses=[nurse_b])
        diets = [Diet(code="regular", title="普通饮食", kind="basic"),
                 Diet(code="diabetic", title="糖尿病饮食", kind="therapeutic", contraindications="蔗糖, 蜂蜜"),
                 Diet(code="low_salt", title="低盐饮食", kind="therapeutic", contraindications="高盐")]
        dishes = {"porridge": Dish(title="小米南瓜粥", price=Decimal("6.00"), diets="diabetic, low_salt"),
                  "tea": Dish(title="蜂蜜柚子茶", price=Decimal("8.00"), allergens="蜂蜜, 蔗糖"),
                  "custard": Dish(title="鸡蛋羹", price=Decimal("5.50"), diets="low_salt", allergens="鸡蛋"),
                  "noodles": Dish(title="夜宵阳春面", price=Decimal("10.00"), available_from="20:00",
                                  available_until="23:00"),
                  "lunch_only": Dish(title="午市点心", price=Decimal("7.00"), available_from="11:00",
                                     available_until="14:00")}
        slot = MealSlot(code="night", title="夜宵", start_time="20:30", end_time="21:30", cutoff_minutes=90)
        session.add_all([a, b, *diets, *dishes.values(), slot])
        session.flush()
        for day in (now().date() - timedelta(days=1), now().date(), now().date() + timedelta(days=1)):
            session.add(DailyMenu(day=day, slot=slot, dishes=list(dishes.values())))
        session.commit()
    return {"A": a, "B": b, "dishes": dishes, "slot": slot}


def order_body(setup, ward="A", lines=(("porridge", 2),), diet="diabetic", **kw):
    return {"ward": ward, "bed": "12", "patient_name": "王建国", "diet": diet, "slot": "night",
            "day": (now().date() + timedelta(days=1)).isoformat(),
            "lines": [{"dish": setup["dishes"][d].name, "qty": q} for d, q in lines], **kw}
