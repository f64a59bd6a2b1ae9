"""The login-free QR form (signed token, photo checked by content, size and name, rate limits
in the login limiter's store, the photo kept with the request and its work order) and the
wall's permission."""
import io

import pytest
from sqlalchemy import select

from erp_core import storage
from erp_core.models import Attachment
from modules.service_desk import screens
from modules.service_desk.models import R_DUPLICATE, Request, WorkOrder

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    app.extensions["houqin_login_limiter"].storage.reset()


def url(app, loc):
    with app.test_request_context():
        return screens.qr_url(loc, external=False)


def send(client, u, photo=None, filename="p.png", **form):
    data = {"category": "water", "urgency": "normal", "description": "洗手池下水管漏水", **form}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), filename, "image/png")
    return client.post(u, data=data, content_type="multipart/form-data")


def test_the_form_is_bound_to_its_location_by_a_signed_token(app, client, session, desk):
    u = url(app, desk["r301"])
    token = u.rsplit("/", 1)[1]
    assert token != str(desk["r301"].id) and desk["r301"].code not in token and desk["r301"].qr_token not in token
    page = client.get(u)
    assert page.status_code == 200 and "301" in page.get_data(as_text=True)
    # a forged or altered token, or the bare location token, opens nothing
    for bad in (u[:-2] + ("AA" if not u.endswith("AA") else "BB"), "/service_desk/qr/" + desk["r301"].qr_token,
                "/service_desk/qr/" + str(desk["r301"].id)):
        assert client.get(bad).status_code == 404
        assert send(client, bad).status_code == 404
    assert session.scalars(select(Request)).all() == []


def test_a_report_with_a_photo_becomes_a_work_order_that_keeps_the_photo(app, client, session, desk):
    resp = send(client, url(app, desk["r301"]), photo=PNG, phone="13800000000")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    req = session.scalars(select(Request)).one()
    assert (req.source, req.location_id, req.caller_phone) == ("qr", desk["r301"].id, "13800000000")
    wo = session.scalars(select(WorkOrder).where(WorkOrder.request_id == req.id)).one()
    att = session.scalars(select(Attachment).where(Attachment.doctype == "Request", Attachment.doc_id == req.id)).one()
    assert (att.mimetype, att.filename, storage.content(att)) == ("image/png", "photo.png", PNG)
    assert wo.request.id == att.doc_id            # the order reaches its photo through its request
    # the same problem reported again at the same place is linked, not a second order
    again = send(client, url(app, desk["r301"]))
    assert again.status_code == 201 and req.name in again.get_data(as_text=True)
    second = session.scalars(select(Request).where(Request.id != req.id)).one()
    assert (second.status, second.duplicate_of_id) == (R_DUPLICATE, req.id)
    assert session.scalars(select(WorkOrder)).all() == [wo]


@pytest.mark.parametrize("photo,filename,why", [
    (b"GIF89a" + b"\x00" * 40, "leak.png", "a GIF named .png"),
    (b"%PDF-1.4 ...", "leak.jpg", "a PDF named .jpg"),
    (b"<script>alert(1)</script>", "leak.png", "HTML"),
    (b"MZ\x90\x00" + b"\x00" * 40, "leak.jpeg", "a program"),
    (PNG, "../../etc/passwd.png", "a path"),
    (PNG, "..\\..\\win.ini.png", "a Windows path"),
    (PNG, "a\x00.png", "a NUL byte"),
])
def test_wrong_photos_are_refused_and_nothing_is_written(app, client, session, desk, photo, filename, why):
    resp = send(client, url(app, desk["r301"]), photo=photo, filename=filename)
    assert resp.status_code == 422, why
    assert session.scalars(select(Request)).all() == [] and session.scalars(select(Attachment)).all() == []


def test_an_oversized_photo_is_refused(app, client, session, desk):
    app.config["SERVICE_DESK_PHOTO_MAX"] = 1024 * 1024
    try:
        big = JPEG + b"\x00" * (1024 * 1024)
        assert send(client, url(app, desk["r301"]), photo=big, filename="big.jpg").status_code == 422
        assert session.scalars(select(Request)).all() == []
        ok = JPEG + b"\x00" * 1000
        assert send(client, url(app, desk["r301"]), photo=ok, filename="ok.jpg").status_code == 201
    finally:
        app.config.pop("SERVICE_DESK_PHOTO_MAX")


def test_rate_limit_per_device_and_per_location(app, session, desk):
    app.config.update(SERVICE_DESK_QR_LIMIT_DEVICE="3 per hour", SERVICE_DESK_QR_LIMIT_LOCATION="5 per hour")
    try:
        phone = app.test_client()
        u = url(app, desk["r301"])
        codes = [send(phone, u, description=f"第{i}次").status_code for i in range(4)]
        assert codes == [201, 201, 201, 429]
        # another device may still report here, until the location's own limit
        other = app.test_client()
        assert [send(other, u).status_code for _ in range(3)] == [201, 201, 429]
        # the device limit holds at another room too
        assert send(phone, url(app, desk["r401"])).status_code == 429
        assert send(app.test_client(), url(app, desk["r401"])).status_code == 201
        # counted in the login limiter's shared store (Redis in production)
        assert screens._limiter()[0].storage is app.extensions["houqin_login_limiter"].storage
    finally:
        for k in ("SERVICE_DESK_QR_LIMIT_DEVICE", "SERVICE_DESK_QR_LIMIT_LOCATION"):
            app.config.pop(k)


def test_the_wall_needs_its_read_permission(app, client, login_as, desk):
    assert client.get("/service_desk/wall/").status_code in (302, 401, 403)
    login_as("Technician")
    assert client.get("/service_desk/wall/").status_code in (302, 403)
    assert client.get("/api/v1/service_desk_wall/data").status_code in (401, 403)
    login_as("Dispatcher")
    page = client.get("/service_desk/wall/")
    assert page.status_code == 200
    assert "http://" not in page.get_data(as_text=True) and "https://" not in page.get_data(as_text=True)
    assert client.get("/api/v1/service_desk_wall/data").status_code == 200


def test_the_intake_screen_is_the_dispatchers(app, client, login_as, desk):
    for role in ("Technician", "Auditor", "Requester"):
        login_as(role)
        assert client.get("/service_desk/intake/").status_code in (302, 403), role
        assert client.get("/service_desk/intake/data").status_code in (302, 403), role
    login_as("Dispatcher")
    assert client.get("/service_desk/intake/").status_code == 200
    data = client.get("/service_desk/intake/data").get_json()
    assert {"XNK", "B1-301"} <= {l["code"] for l in data["locations"]}
    assert [t["technicians"] for t in data["teams"] if t["code"] == "WATER"][0][0]["login"] == "t_technician"


def _order(desk, requester, loc="r301"):
    from erp_core.context import acting_as
    from modules.service_desk import services
    with acting_as("t_dispatcher"):
        _req, wo = services.intake(category=desk["water"], location=desk[loc], requester=desk[requester],
                                   description="漏水", by="t_dispatcher")
        services.dispatch(wo, desk["own"], desk["t_technician"], by="t_dispatcher")
    return wo


def test_requesters_and_technicians_see_only_their_own_orders(app, client, session, login_as, desk):
    mine, other = _order(desk, "t_requester"), _order(desk, "t_req_b", "r401")
    session.commit()
    login_as("Requester")
    names = [o["name"] for o in client.get("/service_desk/mine/data").get_json()["orders"]]
    assert names == [mine.name]
    card = client.get("/service_desk/mine/data").get_json()["orders"][0]
    assert card["status_label"] and card["segments"] and card["team"] == "水电班"
    login_as("Technician")
    assert {o["name"] for o in client.get("/service_desk/jobs/data").get_json()["orders"]} == {mine.name, other.name}
    for role, url in (("Front Desk", "/service_desk/jobs/data"), ("Technician", "/service_desk/mine/data"),
                      ("Requester", "/service_desk/jobs/data"), ("Dispatcher", "/service_desk/jobs/data")):
        login_as(role)
        assert client.get(url).status_code in (302, 403), (role, url)   # each phone page is its role's
    client.get("/logout/")
    for url in ("/service_desk/mine/", "/service_desk/jobs/data"):
        assert client.get(url).status_code in (302, 401, 403)


def test_another_technician_sees_none_of_them(app, client, session, login_as, desk):
    _order(desk, "t_requester")
    session.commit()
    login_as("Technician", username="t_tech_b")
    assert client.get("/service_desk/jobs/data").get_json()["orders"] == []


@pytest.mark.parametrize("photo,filename,why", [
    (b"GIF89a" + b"\x00" * 40, "leak.png", "a GIF named .png"),
    (PNG, "../../etc/passwd.png", "a path"),
    (JPEG + b"\x00" * (1024 * 1024), "big.jpg", "over the desk's bound"),
])
def test_the_dispatchers_intake_checks_its_photo_as_the_qr_form_does(app, client, session, login_as, desk,
                                                                       photo, filename, why):
    """One rule and one size bound for both ways a photo comes in; nothing written on refusal."""
    app.config["SERVICE_DESK_PHOTO_MAX"] = 1024 * 1024
    try:
        login_as("Dispatcher")
        data = {"category": "water", "location": desk["r301"].code, "description": "漏水", "source": "hotline",
                "photo": (io.BytesIO(photo), filename, "image/png")}
        resp = client.post("/api/v1/service_desk/intake", data=data, content_type="multipart/form-data")
        assert resp.status_code == 422 and resp.json["message"], (why, resp.status_code, resp.get_data(as_text=True))
        assert session.scalars(select(Request)).all() == [] and session.scalars(select(Attachment)).all() == []
        data["photo"] = (io.BytesIO(PNG), "ok.png", "image/png")
        resp = client.post("/api/v1/service_desk/intake", data=data, content_type="multipart/form-data")
        assert resp.status_code == 201, resp.get_data(as_text=True)
        assert [a.filename for a in session.scalars(select(Attachment))] == ["photo.png"]
    finally:
        app.config.pop("SERVICE_DESK_PHOTO_MAX")
