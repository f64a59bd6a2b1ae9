"""The price board, the voluntary agreement and the settlement slip, rendered with the print
toolkit and read back as an office would (text, fonts, QR). ``CARE_PNG_DIR`` keeps PNGs to look at."""
import os
import subprocess
from datetime import timedelta
from decimal import Decimal

from erp_core.printing import checks
from erp_core.types import clock_at, now
from modules.care import services

from .conftest import PNG, desk, order_data


def _png(pdf, name):
    folder = os.environ.get("CARE_PNG_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, name + ".pdf")
        with open(path, "wb") as fh:
            fh.write(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-png", path, os.path.join(folder, name)], check=True)


def _pdf(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert not checks.problems(r.data), checks.problems(r.data)
    assert any("WenQuanYi" in f or "CJK" in f for f in checks.embedded_fonts(r.data))
    return r.data, checks.squeeze("".join(checks.page_texts(r.data)))


def test_price_board_agreement_and_settlement_slip(app, session, client, login_as, care):
    start = now() - timedelta(days=2, hours=3)
    with clock_at(start):
        o = services.create_order(order_data(care, level="L2", deposit=Decimal("100.00")), by=desk(app))
    session.commit()
    login_as("Care Desk")
    agreement, text = _pdf(client, f"/print/care.agreement/{o.name}.pdf")
    for words in ("自愿", "二级陪护", "¥150.50", "协助如厕", "不准从事护理技术操作", "不准收受患者财物", "家属", "陪护公司", "病区"):
        assert checks.squeeze(words) in text, words
    _png(agreement, "agreement")
    with clock_at(start + timedelta(minutes=1)):
        services.sign(o, signature=PNG, by=desk(app))
    with clock_at(start + timedelta(days=1, hours=1)):
        services.change_level(o, care["levels"]["L1"].id, "病情变化", by=desk(app))
    services.settle(o, payment_method="cash", by=desk(app))
    session.commit()
    assert client.get(f"/print/care.settlement/{o.name}.pdf").status_code == 200
    slip, text = _pdf(client, f"/print/care.settlement/{o.name}.pdf")
    # day 1 L2 150.50, day 2 L1 200.00 (23 h of it), day 3: 3 h less a minute -> half of L1 100.00
    assert o.charges == Decimal("450.50") and o.balance_due == Decimal("350.50")
    for words in ("¥150.50", "¥200.00", "¥100.00", "¥450.50", "¥100.00", "¥350.50", "肆佰伍拾元伍角整", "叁佰伍拾元伍角整"):
        assert words in text, words
    _png(slip, "settlement")
    board, text = _pdf(client, "/print/care.price_board/current.pdf")
    assert "一级陪护" in text and "¥200.00" in text and "内部试行等级" not in text
    assert checks.decode_qr(board) == ["http://localhost/care/prices/"]
    _png(board, "price_board")


def test_no_settlement_slip_before_settlement(app, session, client, login_as, care):
    o = services.create_order(order_data(care), by=desk(app))
    session.commit()
    login_as("Care Desk")
    assert client.get(f"/print/care.settlement/{o.name}.pdf").status_code == 409
