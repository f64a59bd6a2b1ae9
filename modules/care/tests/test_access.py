"""The ward record rule on every read path, refused roles, the public price page."""
from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader

from erp_core.testing import get_user
from erp_core.types import clock_at, now
from modules.care import services
from modules.care.models import NURSE

from .conftest import PNG, desk, order_data


def _two_orders(app, session, care):
    with clock_at(now() - timedelta(days=1)):
        a = services.create_order(order_data(care, ward="A", bed="A-01", patient_name="甲病人"), by=desk(app))
        b = services.create_order(order_data(care, worker="李梅", ward="B", bed="B-07", patient_name="乙病人"),
                                  by=desk(app))
        services.sign(a, signature=PNG, by=desk(app))
        services.sign(b, signature=PNG, by=desk(app))
    session.commit()
    return a, b


def pdf_text(resp):
    assert resp.status_code == 200, resp.status_code
    return "".join(p.extract_text() for p in PdfReader(BytesIO(resp.data)).pages)


def test_ward_nurse_sees_only_her_wards_everywhere(app, session, client, login_as, api_token, care):
    a, b = _two_orders(app, session, care)
    h = api_token(NURSE)
    rows = client.get("/api/v1/care_order/", headers=h).json["result"]
    assert [r["name"] for r in rows] == [a.name]
    assert client.get(f"/api/v1/care_order/{a.id}", headers=h).status_code == 200
    assert client.get(f"/api/v1/care_order/{b.id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/care_order/{b.id}/history", headers=h).status_code == 404
    api_csv = client.get("/api/v1/care_order/export/?format=csv", headers=h).data.decode("utf-8")
    assert "甲病人" in api_csv and "乙病人" not in api_csv
    assert client.post(f"/api/v1/care/orders/{b.id}/feedback", headers=h,
                       json={"kind": "rating", "rating": 1}).status_code == 404
    login_as(NURSE)
    page = client.get("/care/care_order/list/").data.decode()
    assert "甲病人" in page and "乙病人" not in page
    assert client.get(f"/care/care_order/show/{a.id}").status_code == 200
    assert client.get(f"/care/care_order/show/{b.id}").status_code == 404
    ui_csv = client.get("/care/care_order/export/?format=csv").data.decode("utf-8")
    assert "甲病人" in ui_csv and "乙病人" not in ui_csv
    assert "甲病人" in pdf_text(client.get(f"/print/care.agreement/{a.name}.pdf"))
    assert client.get(f"/print/care.agreement/{b.name}.pdf").status_code == 404
    ward = client.get("/care/ward/").data.decode()
    assert "甲病人" in ward and "张红" in ward and "乙病人" not in ward and "李梅" not in ward
    home = client.get("/").data.decode()
    assert "甲病人" in home and "乙病人" not in home
    # the other nurse, the other way round
    login_as(NURSE, username="t_nurse_b")
    assert "乙病人" in client.get("/care/ward/").data.decode()
    assert client.get(f"/care/care_order/show/{a.id}").status_code == 404


def test_refused_roles(app, session, client, api_token, care):
    a, _b = _two_orders(app, session, care)
    body = {"bed": "1"}
    for role in ("Ward Nurse", "Vendor Coordinator", "Auditor"):
        assert client.post("/api/v1/care/orders", headers=api_token(role), json=body).status_code == 403, role
        assert client.post(f"/api/v1/care/orders/{a.id}/settle", headers=api_token(role), json={}).status_code == 403
        assert client.post(f"/api/v1/care/orders/{a.id}/worker", headers=api_token(role),
                           json={"worker": "1", "reason": "x"}).status_code == 403
    assert client.post(f"/api/v1/care/orders/{a.id}/violation", headers=api_token("Care Desk"),
                       json={"rule": "1"}).status_code == 403
    assert client.post("/api/v1/care/orders", headers=api_token("Front Desk"), json=body).status_code == 403
    # prices are set by the vendor coordinator, not by the desk that sells them
    level = {"code": "L9", "title": "特级", "ratio": "one_to_one", "shift": "24h", "daily_price": "300.00"}
    assert client.post("/api/v1/care_level/", headers=api_token("Care Desk"), json=level).status_code == 403
    assert client.post("/api/v1/care_level/", headers=api_token("Vendor Coordinator"), json=level).status_code == 201
    assert client.get("/care/ward/", headers=api_token("Auditor")).status_code in (302, 401, 403)


def test_public_price_page_shows_only_published_prices(app, session, client, care):
    _two_orders(app, session, care)
    page = client.get("/care/prices/")
    assert page.status_code == 200
    text = page.data.decode()
    assert "一级陪护" in text and "¥200.00" in text and "¥99.99" in text and "协助翻身" in text
    for hidden in ("内部试行等级", "888", "甲病人", "张红", "滨江康护", "不准", "/care/care_order", "退出", "logout"):
        assert hidden not in text, hidden
