"""Issue 17: a booking is made and edited in the UI. The form's date-time is the hospital's
(typed without a zone it is local time, never a 500), and what the edit form pre-fills is
accepted back unchanged."""
import re
from datetime import timedelta
from decimal import Decimal

from erp_core.types import LOCAL_TZ, now
from modules.convenience.models import Booking, BookingType


def _fields(html):
    """The form's inputs as the browser would post them (text inputs, hidden, selected options)."""
    out = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="submit"' not in tag:
            out[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = [o for o in re.findall(r"<option[^>]*>", body) if "selected" in o]
        out[name] = re.search(r'value="([^"]*)"', chosen[0]).group(1) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        out[name] = body.strip()
    return out


def _why(r):
    html = r.get_data(as_text=True)
    return re.findall(r'class="(?:alert[^"]*|help-block[^"]*|text-danger)"[^>]*>(.*?)</', html, re.S)


def test_booking_made_and_edited_in_the_form(app, client, login_as, session):
    haircut = BookingType(title="理发", kind="haircut", fee=Decimal("20"), slot_minutes=30, capacity=2)
    session.add(haircut)
    session.commit()
    login_as("Front Desk")
    assert client.get("/convenience/booking/add").status_code == 200
    slot = (now() + timedelta(days=2)).astimezone(LOCAL_TZ).replace(hour=10, minute=0, second=0, microsecond=0)
    form = {"booking_type": str(haircut.id), "requester": "吴大爷", "phone": "13700000000", "location": "心内科 5床",
            "note": "自带毛巾"}
    # as the date-time picker writes it: no zone (hospital time), no 500
    r = client.post("/convenience/booking/add", data=form | {"slot_start": slot.strftime("%Y-%m-%d %H:%M:%S")})
    assert r.status_code == 302, _why(r)
    booking = session.query(Booking).one()
    assert booking.slot_start == slot and booking.fee == Decimal("20.00")
    # the edit form shows the time as people write it, and takes it back unchanged
    html = client.get(f"/convenience/booking/edit/{booking.id}").get_data(as_text=True)
    fields = _fields(html)
    assert fields["slot_start"] == slot.strftime("%Y-%m-%d %H:%M"), fields
    fields.pop("csrf_token", None)
    r = client.post(f"/convenience/booking/edit/{booking.id}", data=fields)
    assert r.status_code == 302, _why(r)
    session.expire_all()
    assert session.get(Booking, booking.id).slot_start == slot
    # the stored form of the old pre-fill (with seconds and zone) is read too; nonsense is a 422
    fields["seen_version"] = str(session.get(Booking, booking.id).version)
    r = client.post(f"/convenience/booking/edit/{booking.id}",
                    data=fields | {"slot_start": slot.isoformat(sep=" "), "requester": "吴大爷（改）"})
    assert r.status_code == 302
    fields["seen_version"] = str(session.get(Booking, booking.id).version)
    bad = client.post(f"/convenience/booking/edit/{booking.id}", data=fields | {"slot_start": "明天上午"})
    assert bad.status_code == 422 and "2026-12-03 10:00" in " ".join(_why(bad)), _why(bad)
    bad = client.post("/convenience/booking/add", data=form | {"slot_start": ""})
    assert bad.status_code == 422
    assert session.query(Booking).count() == 1
