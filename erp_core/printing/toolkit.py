"""The print toolkit: the Jinja filters and globals every print template uses (registered
once in ``init_app``). Money, 人民币大写, dates the Chinese way, people's names, choice
labels, QR codes, and the draft / reprint marks.
"""
from decimal import ROUND_HALF_UP, Decimal

import segno

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def qr_data_uri(text, scale=4):
    """A full QR code (never Micro QR: phone scanners and zbar cannot read it reliably)
    with the standard 4-module quiet zone, as an SVG data: URI."""
    return segno.make(str(text), error="m", micro=False).svg_data_uri(scale=scale, border=4)


def _group(n):
    """0 < n < 10000 in capital digits, with 零 for inner gaps ("壹仟零伍")."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d:
            if zero and out:
                out += "零"
            out += DIGITS[d] + _UNITS[pos]
            zero = False
        else:
            zero = True
    return out


def _integer(n):
    if n == 0:
        return ""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(_GROUPS):
        raise ValueError("amount too large for 人民币大写")
    out, need_zero = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out += "零"
        out += _group(g) + _GROUPS[i]
        need_zero = False
    return out


def rmb_upper(amount):
    """人民币大写 of an amount, rounded half-up to the cent: 1234.50 -> 壹仟贰佰叁拾肆元伍角整,
    1005.07 -> 壹仟零伍元零柒分, 0 -> 零元整, -3 -> 负叁元整 (as finance offices write it)."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    out = _integer(yuan)
    if out:
        out += "元"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif fen and yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    else:
        out += "整"
    return sign + out


def money(value):
    """"¥1,234.50" (half-up to the cent); empty for None. Put it in a right-aligned cell (.num)."""
    from ..money import yuan
    return "" if value is None or value == "" else yuan(value)


def _zh():
    try:
        from flask_babel import get_locale
        return str(get_locale() or "zh_CN").startswith("zh")
    except Exception:  # outside a request
        return True


def when(value, fmt=None):
    """A date or time as the hospital reads it, in its zone: 2026年11月24日 14:05 on Chinese
    forms, 2026-11-24 14:05 on English ones. ``fmt`` (strftime) overrides."""
    from datetime import date, datetime
    from ..types import LOCAL_TZ
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(LOCAL_TZ)
    if fmt:
        return value.strftime(fmt)
    has_time = isinstance(value, datetime)
    if _zh():
        text = f"{value.year}年{value.month}月{value.day}日"
        return f"{text} {value:%H:%M}" if has_time else text
    return value.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d")


def day(value):
    """The date part only (2026年11月24日 / 2026-11-24)."""
    from datetime import datetime
    from ..types import LOCAL_TZ
    if isinstance(value, datetime):
        value = (value.astimezone(LOCAL_TZ) if value.tzinfo else value).date()
    return when(value)


def period(value):
    """"2026-11" -> 2026年11月 (Chinese) / 2026-11."""
    text = str(value or "")
    year, _sep, month = text.partition("-")
    if _zh() and year.isdigit() and month.isdigit():
        return f"{year}年{int(month)}月"
    return text


def full_name(user):
    """A person's name as signed forms print it, from the FAB user's first_name + last_name
    (Chinese names are written without a space); the login only if the user is unknown."""
    if user is None or user == "":
        return ""
    if isinstance(user, str):
        user = _find_user(user) or user
        if isinstance(user, str):
            return user
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if not (first or last):
        return user.username
    cjk = any("\u3400" <= ch <= "\u9fff" or ch >= "\U00020000" for ch in first + last)
    return f"{first}{last}" if cjk else f"{first} {last}".strip()


def _find_user(username):
    try:
        from flask import g
        cache = g.setdefault("_print_users", {})
    except RuntimeError:
        cache = {}
    if username not in cache:
        from sqlalchemy import select
        from flask_appbuilder.security.sqla.models import User
        from ..extensions import db
        cache[username] = db.session.scalar(select(User).where(User.username == username))
    return cache[username]


def label(code, choices):
    """A stored choice code as its translated label: ``doc.method|label(METHODS)`` where
    ``choices`` is a dict or a list of (code, label) pairs, as the model declares them."""
    if code is None or code == "":
        return ""
    mapping = dict(choices.items() if hasattr(choices, "items") else choices)
    return str(mapping.get(code, code))


def yes_no(value):
    from flask_babel import gettext as _
    return _("Yes") if value else _("No")


def score(value, places=2):
    """A score or ratio shown with ``places`` decimals, half-up (never 87.333333…)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return str(value)
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except ArithmeticError:
        return str(value)       # not a number (a label, a rule in words): as it is
    if not number.is_finite():
        return str(value)
    return str(number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def is_draft(doc):
    """A draft: printed with the 草稿 watermark."""
    if doc is None or isinstance(doc, str):
        return False
    if getattr(doc, "workflow_state", None) == "draft":
        return True
    meta = getattr(doc, "_meta", None)
    return bool(meta and getattr(meta, "submittable", False) and getattr(doc, "docstatus", None) == 0)


FILTERS = {"money": money, "rmb_upper": rmb_upper, "when": when, "day": day, "period": period,
           "person": full_name, "label": label, "yes_no": yes_no, "score": score}
GLOBALS = {"qr_data_uri": qr_data_uri, "is_draft": is_draft, "print_zh": _zh}
