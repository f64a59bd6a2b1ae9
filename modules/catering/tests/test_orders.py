import io
from datetime import timedelta
from decimal import Decimal

import pypdf
import pytest

from erp_core import workflow
from erp_core.errors import PermissionDenied, ValidationError
from erp_core.testing import get_user
from erp_core.types import clock_at, now
from modules.catering import services
from modules.catering.models import CLERK, DIETITIAN, KITCHEN, NURSE, Order
from .conftest import order_body


def ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)[:400]
    return resp.json


def pdf_text(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(resp.data)).pages)


def test_totals_to_the_cent(app, session, kitchen_setup):
    o = services.place_order(order_body(kitchen_setup, lines=(("porridge", 3), ("custard", 3)), diet="low_salt"),
                             by=get_user(app, CLERK))
    assert [l.amount for l in o.lines] == [Decimal("18.00"), Decimal("16.50")] and o.total == Decimal("34.50")
    assert o.workflow_state == "placed" and o.deliver_from.hour == 20 and o.deliver_from.minute == 30


def test_diet_and_allergen_conflicts_refused_unless_a_dietitian_overrides(app, session, kitchen_setup):
    clerk, dietitian = get_user(app, CLERK), get_user(app, DIETITIAN)
    with pytest.raises(ValidationError, match="蜂蜜"):
        services.place_order(order_body(kitchen_setup, lines=(("tea", 1),)), by=clerk)          # diabetic: honey, sugar
    with pytest.raises(ValidationError, match="鸡蛋"):
        services.place_order(order_body(kitchen_setup, lines=(("custard", 1),), diet="low_salt", allergies="鸡蛋"),
                             by=clerk)                                                           # the patient's allergy
    with pytest.raises(ValidationError, match="夜宵阳春面"):
        services.place_order(order_body(kitchen_setup, lines=(("noodles", 1),), diet="low_salt"), by=clerk)  # not for the diet
    with pytest.raises(PermissionDenied):
        services.place_order(order_body(kitchen_setup, lines=(("tea", 1),), override_reason="低血糖"), by=clerk)
    o = services.place_order(order_body(kitchen_setup, lines=(("tea", 1),), override_reason="低血糖发作后加餐"),
                             by=dietitian)
    session.commit()
    from erp_core import audit
    row = next(r for r in audit.history(session, o) if r.action == "diet_override")
    assert "低血糖" in row.data and row.user == "t_dietitian" and o.override_reason
    services.place_order(order_body(kitchen_setup, lines=(("noodles", 1),), diet="regular"), by=clerk)  # regular: fine


def test_slot_window_cutoff_and_past_slots(app, session, kitchen_setup):
    clerk = get_user(app, CLERK)
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError):
        services.place_order(order_body(kitchen_setup, day=yesterday), by=clerk)                # past slot
    with pytest.raises(ValidationError, match="11:00"):
        services.place_order(order_body(kitchen_setup, lines=(("lunch_only", 1),), diet="regular"), by=clerk)
    tomorrow = now().date() + timedelta(days=1)
    start, _end = services.window(tomorrow, kitchen_setup["slot"])
    with clock_at(start - timedelta(minutes=91)):
        services.place_order(order_body(kitchen_setup, day=tomorrow.isoformat()), by=clerk)     # just before cut-off
    with clock_at(start - timedelta(minutes=89)):
        with pytest.raises(ValidationError, match="19:00"):
            services.place_order(order_body(kitchen_setup, day=tomorrow.isoformat()), by=clerk)  # closed at 19:00
    with pytest.raises(ValidationError):
        services.place_order(order_body(kitchen_setup, day="2026-13-01"), by=clerk)


def test_workflow_order_delivery_lateness_and_feedback(app, session, kitchen_setup):
    kitchen = get_user(app, KITCHEN)
    o = services.place_order(order_body(kitchen_setup), by=get_user(app, CLERK))
    from erp_core.errors import Conflict
    with pytest.raises(Conflict):
        workflow.apply(o, "dispatch", by=kitchen)                                               # not before prepared
    with pytest.raises(PermissionDenied):
        workflow.apply(o, "accept", by=get_user(app, CLERK))
    for action in ("accept", "prepare", "dispatch"):
        workflow.apply(o, action, by=kitchen)
    with pytest.raises(ValidationError):
        workflow.apply(o, "deliver", by=kitchen)                                                # who received it?
    with pytest.raises(Conflict):
        services.feedback(o, 5, "", by=get_user(app, CLERK))
    with clock_at(o.deliver_until + timedelta(minutes=5)):
        assert o in services.overdue()
        services.deliver(o, "护士 李娜", by=kitchen)
    assert o.workflow_state == "delivered" and o.late and o.received_by == "护士 李娜"
    with pytest.raises(ValidationError):
        services.feedback(o, 6, "", by=get_user(app, CLERK))
    services.feedback(o, 4, "温度合适", by=get_user(app, CLERK))
    session.commit()
    sat = services.satisfaction(o.day.year, o.day.month)
    assert sat["wards"] == [{"name": "心内科一病区", "rating": Decimal("4.00"), "count": 1}]
    assert sat["dishes"][0]["name"] == "小米南瓜粥"
    from modules.catering.hooks import houqin_satisfaction_scores
    assert houqin_satisfaction_scores("catering", o.day.year, o.day.month) == [
        {"source": "膳食满意度 心内科一病区", "respondents": 1, "score": Decimal("100.00")}]
    assert houqin_satisfaction_scores("cleaning", o.day.year, o.day.month) == []


def test_cancel_needs_a_reason_and_stops_at_preparation(app, session, kitchen_setup):
    o = services.place_order(order_body(kitchen_setup), by=get_user(app, CLERK))
    with pytest.raises(ValidationError):
        workflow.apply(o, "cancel_order", by=get_user(app, CLERK))
    workflow.apply(o, "cancel_order", by=get_user(app, CLERK), reason="患者出院")
    assert o.workflow_state == "cancelled" and o.cancel_reason == "患者出院"


def test_ward_nurse_sees_only_her_wards_everywhere(app, session, client, login_as, api_token, kitchen_setup):
    a = services.place_order(order_body(kitchen_setup, ward="A", bed="A-01", patient_name="甲病人"),
                             by=get_user(app, CLERK))
    b = services.place_order(order_body(kitchen_setup, ward="B", bed="B-07", patient_name="乙病人"),
                             by=get_user(app, CLERK))
    session.commit()
    h = api_token(NURSE)
    rows = ok(client.get("/api/v1/order/", headers=h))["result"]
    assert [r["name"] for r in rows] == [a.name]
    assert client.get(f"/api/v1/order/{b.id}", headers=h).status_code == 404
    assert client.put(f"/api/v1/order/{b.id}", headers=h, json={"bed": "x", "version": b.version}).status_code == 404
    assert "乙病人" not in client.get("/api/v1/order/export/?format=csv", headers=h).data.decode("utf-8")
    assert client.post("/api/v1/catering/orders", headers=h, json=order_body(kitchen_setup, ward="B")).status_code == 403
    ok(client.post("/api/v1/catering/orders", headers=h, json=order_body(kitchen_setup, ward="A")), 201)
    assert client.post(f"/api/v1/catering/orders/{b.id}/feedback", headers=h, json={"rating": 5}).status_code == 404
    login_as(NURSE)
    assert "乙病人" not in client.get("/catering/order/list/").data.decode()
    assert "甲病人" in client.get("/catering/order/list/").data.decode()
    assert client.get(f"/catering/order/show/{b.id}").status_code == 404
    assert client.post(f"/catering/order/edit/{b.id}", data={"bed": "x"}).status_code == 404
    assert "乙病人" not in client.get("/catering/order/export/?format=csv").data.decode("utf-8")
    assert client.get(f"/print/catering.order/{b.name}.pdf").status_code == 404
    day = b.day.isoformat()
    assert client.get(f"/print/catering.delivery_list/{day}~night~B.pdf").status_code == 404
    assert "甲病人" in pdf_text(client.get(f"/print/catering.delivery_list/{day}~night~A.pdf"))
    assert client.get(f"/print/catering.delivery_lists/{day}~night.pdf").status_code == 403     # all wards: kitchen
    assert client.get(f"/print/catering.production/{day}~night.pdf").status_code == 403
    session.refresh(b)
    assert b.bed == "B-07"


def test_refused_roles(app, client, api_token, kitchen_setup):
    body = order_body(kitchen_setup)
    assert client.post("/api/v1/catering/orders", headers=api_token(KITCHEN), json=body).status_code == 403
    assert client.post("/api/v1/catering/orders", headers=api_token("Auditor"), json=body).status_code == 403
    assert client.get("/api/v1/kitchen/production?day=2026-01-01&slot=night", headers=api_token(CLERK)).status_code == 403
    assert client.post("/api/v1/dish/", headers=api_token(CLERK), json={"title": "x", "price": "1"}).status_code == 403
    assert client.post("/api/v1/order/", headers=api_token(CLERK), json={}).status_code in (403, 405)


def test_bad_input_is_a_clear_4xx(app, session, client, api_token, kitchen_setup):
    h = api_token(CLERK)
    good = order_body(kitchen_setup)
    cases = [("not json", 400), ([], 400), ({**good, "slot": "nope"}, 404), ({**good, "ward": "Z"}, 404),
             ({**good, "diet": "x"}, 404), ({**good, "lines": []}, 422), ({**good, "lines": "x"}, 422),
             ({**good, "lines": [{"dish": "DISH-9999", "qty": 1}]}, 404),
             ({**good, "lines": [{"dish": good["lines"][0]["dish"], "qty": 0}]}, 422),
             ({**good, "lines": [{"dish": good["lines"][0]["dish"], "qty": "two"}]}, 422),
             ({**good, "lines": [{"dish": good["lines"][0]["dish"], "qty": 1.5}]}, 422),
             ({**good, "day": "tomorrow"}, 422), ({**good, "bed": ""}, 422), ({**good, "payment": "bitcoin"}, 422),
             ({**good, "order_for": "visitor"}, 422), ({**good, "patient_name": {"x": 1}}, 422),
             ({"order_for": "staff", "slot": "night", "day": good["day"], "lines": good["lines"]}, 422)]
    for body, status in cases:
        kw = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
        resp = client.post("/api/v1/catering/orders", headers=h, **kw)
        assert resp.status_code == status, (body, resp.get_data(as_text=True))
        assert resp.json.get("message")
    assert session.query(Order).count() == 0
    ok(client.post("/api/v1/catering/orders", headers=h, json={
        "order_for": "staff", "department": "急诊科", "staff_name": "周医生", "slot": "night", "day": good["day"],
        "lines": [{"dish": kitchen_setup["dishes"]["noodles"].name, "qty": 2}]}), 201)
    assert client.get("/api/v1/catering/satisfaction?year=x", headers=h).status_code == 422


def test_kitchen_sheets_and_batch_print(app, session, client, login_as, api_token, kitchen_setup):
    clerk = get_user(app, CLERK)
    services.place_order(order_body(kitchen_setup, ward="A", lines=(("porridge", 2),)), by=clerk)
    services.place_order(order_body(kitchen_setup, ward="B", bed="03", patient_name="乙病人",
                                    lines=(("porridge", 1), ("custard", 1)), diet="low_salt"), by=clerk)
    c = services.place_order(order_body(kitchen_setup, ward="B", bed="05", lines=(("porridge", 4),)), by=clerk)
    workflow.apply(c, "cancel_order", by=clerk, reason="禁食")
    session.commit()
    day = c.day.isoformat()
    sheet = ok(client.get(f"/api/v1/kitchen/production?day={day}&slot=night", headers=api_token(KITCHEN)))
    assert sheet["orders"] == 2
    assert {d["dish"]: (d["by_diet"], d["total"]) for d in sheet["dishes"]} == {
        "小米南瓜粥": ({"低盐饮食": 1, "糖尿病饮食": 2}, 3), "鸡蛋羹": ({"低盐饮食": 1}, 1)}
    login_as(KITCHEN)
    text = pdf_text(client.get(f"/print/catering.production/{day}~night.pdf"))
    # dish × diet grid with totals per diet and per dish
    assert "厨房生产单" in text and "菜品 低盐饮食 糖尿病饮食 合计" in text and "小米南瓜粥 1 2 3" in text
    assert "合计 2 2 4" in text
    resp = client.get(f"/print/catering.delivery_lists/{day}~night.pdf")
    pages = pypdf.PdfReader(io.BytesIO(resp.data)).pages
    assert len(pages) == 2 and "心内科一病区" in pages[0].extract_text() and "乙病人" in pages[1].extract_text()
    # each ward's list is its own document: its pages are numbered on their own
    assert all("第 1 页 / 共 1 页" in p.extract_text() for p in pages)
    assert client.get("/print/catering.production/bad-key.pdf").status_code == 404
    assert client.get(f"/print/catering.production/{day}~nope.pdf").status_code == 404
    assert "小米南瓜粥" in client.get(f"/catering/kitchen/?day={day}").data.decode()


def test_a_ward_nurse_orders_a_meal_in_her_page(app, session, client, login_as, kitchen_setup):
    login_as(NURSE)
    assert "/catering/order_meal/" in client.get("/catering/order/list/").get_data(as_text=True)
    tomorrow = (now().date() + timedelta(days=1)).isoformat()
    page = client.get(f"/catering/order_meal/?day={tomorrow}&slot=night").get_data(as_text=True)
    assert "小米南瓜粥" in page and "骨科二病区" not in page              # her ward only, the day's menu
    dishes = kitchen_setup["dishes"]
    form = {"day": tomorrow, "slot": "night", "ward": "A", "bed": "12", "patient_name": "王建国",
            "diet": "diabetic", "place": "1"}
    # honey tea on a diabetic diet: refused in words, nothing stored, the form keeps what was typed
    r = client.post("/catering/order_meal/", data={**form, f"qty_{dishes['tea'].name}": "1"})
    assert r.status_code == 422 and "王建国" in r.get_data(as_text=True)
    assert session.query(Order).count() == 0
    r = client.post("/catering/order_meal/", data={**form, f"qty_{dishes['porridge'].name}": "2"})
    assert r.status_code == 302
    order = session.query(Order).one()
    assert (order.ward.code, order.patient_name, order.lines[0].qty) == ("A", "王建国", 2)
    # another ward's order is refused even if posted by hand
    r = client.post("/catering/order_meal/", data={**form, "ward": "B", f"qty_{dishes['porridge'].name}": "1"})
    assert r.status_code == 403 and session.query(Order).count() == 1
    login_as(KITCHEN)
    assert client.get("/catering/order_meal/").status_code == 403


def test_satisfaction_shows_a_ward_nurse_only_her_wards(app, session, client, api_token, kitchen_setup):
    """Issue 18: /api/v1/catering/satisfaction showed every ward's average to a ward nurse."""
    from sqlalchemy import update
    from modules.catering.models import Order
    orders = []
    for ward in ("A", "B"):
        orders.append(services.place_order(order_body(kitchen_setup, ward=ward), by=get_user(app, "Admin")))
    session.commit()
    session.execute(update(Order).values(rating=4))
    session.commit()
    day = orders[0].day
    q = {"year": day.year, "month": day.month}
    nurse = client.get("/api/v1/catering/satisfaction", headers=api_token("Ward Nurse"), query_string=q).json
    assert [w["name"] for w in nurse["wards"]] == ["心内科一病区"]
    admin = client.get("/api/v1/catering/satisfaction", headers=api_token("Admin"), query_string=q).json
    assert sorted(w["name"] for w in admin["wards"]) == sorted(["心内科一病区", "骨科二病区"])
