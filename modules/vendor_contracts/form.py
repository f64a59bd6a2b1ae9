"""The monthly assessment form as hospitals print it (序号, area, item, criterion, full marks,
deductions with reasons, item score; the calculation; escalations; payable in figures and
in 大写; 乙方确认 and the management opinion with seal areas). Small helpers live here
until erp_core's print toolkit takes them over."""
import json
from decimal import Decimal

from flask_babel import gettext as _

from erp_core.money import D, cents, half_up

from .engine import _kind_rate, _num, band_text

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ["", "拾", "佰", "仟"]
GROUPS = ["", "万", "亿", "万亿"]


def _four(g):
    out, zero, started = "", False, False
    for pos in (3, 2, 1, 0):
        d = g // 10 ** pos % 10
        if d == 0:
            zero = zero or started
        else:
            out += ("零" if zero else "") + DIGITS[d] + UNITS[pos]
            zero, started = False, True
    return out


def rmb_upper(value):
    """人民币大写 to the cent: 182280.00 -> 壹拾捌万贰仟贰佰捌拾元整; 1.05 -> 壹元零伍分."""
    amount = cents(D(value))
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan, rest = divmod(int(amount * 100), 100)
    jiao, fen = divmod(rest, 10)
    digits = str(yuan)
    groups = [int(digits[max(0, i - 4):i]) for i in range(len(digits), 0, -4)][::-1]
    text, gap = "", False
    for i, g in enumerate(groups):
        if g == 0:
            gap = bool(text)
            continue
        if text and (gap or g < 1000):
            text += "零"
        text += _four(g) + GROUPS[len(groups) - 1 - i]
        gap = False
    text = text + "元" if text else ""
    if not jiao and not fen:
        return (text or "零元") + "整"
    text += DIGITS[jiao] + "角" if jiao else ("零" if text else "")
    return text + (DIGITS[fen] + "分" if fen else "整")


def criterion(item, areas):
    """How an item is scored, in words (never the item's code)."""
    effect = item.get("effect", "deduct")
    if effect == "veto":
        return _("one-vote veto: the sheet fails")
    if effect == "downgrade":
        return _("serious incident: one grade lower")
    if effect == "bonus":
        return _("%(per)s points each, at most %(max)s", per=_num(D(item["per_occurrence"])), max=_num(D(item["max_points"])))
    if effect == "zero":
        return _("found once: the whole item (全扣)")
    parts = []
    kinds = item.get("kinds") or {}
    if kinds:
        parts.append("、".join(f"{k} {_('whole item') if v in ('全扣', 'zero') else _num(D(v))}" for k, v in kinds.items()))
    else:
        parts.append(_("%(per)s per finding", per=_num(D(item["per_occurrence"]))))
    rates = item.get("area_rates") or {}
    if rates:
        parts.append("（" + "、".join(f"{a} {_num(D(r))}" for a, r in rates.items()) + "）")
    return "".join(parts) + _("; stops at 0")


def form_context(a):
    """Rows of the item table, the boxes and the clauses, all from the month's frozen copy."""
    t = a.template_rules()
    areas = t.get("areas") or [""]
    whole = _("Whole site")
    rows = []
    for item in t["items"]:
        found = [f for f in a.findings if f.item_code == item["code"]]
        by_area = [(area, [f for f in found if (f.area or areas[0]) == area]) for area in areas]
        by_area = [(area, fs) for area, fs in by_area if fs] or [(None, [])]
        for area, fs in by_area:
            raw, whole_item, reasons = Decimal(0), False, []
            for f in fs:
                rate, takes_all = _kind_rate(item, f.kind or "", area or areas[0])
                raw += rate * f.count
                whole_item |= takes_all
                why = "，".join(x for x in (f.kind, f.location, f.note, f.source, f.refs) if x) or _("finding")
                sign = "+" if item.get("effect") == "bonus" else "−"
                points = _("whole item") if takes_all else sign + _num(rate * f.count)
                reasons.append(f"{why} ×{f.count}：{points}")
            cap = D(item["max_points"])
            taken = cap if whole_item else min(cap, raw)
            if item.get("effect") == "bonus":
                score = taken
            elif item.get("effect") in ("veto", "downgrade"):
                score = None
            else:
                score = cap - taken
            label = (area or whole) if area is not None else (_("All areas") if len(areas) > 1 else areas[0] or whole)
            rows.append({"area": label, "section": item.get("section", ""), "title": item["title"],
                         "criterion": criterion(item, areas), "max": _num(cap), "reasons": reasons,
                         "score": None if score is None else _num(score), "effect": item.get("effect", "deduct")})
    signed = json.loads(a.signed_snapshot) if a.signed_snapshot else None
    weights = t.get("area_weights") or {}
    total_w = sum((D(w) for w in weights.values()), Decimal(0))
    return {"t": t, "rows": rows, "signed": signed, "areas": [x or whole for x in areas],
            "weights": {a_: _num(half_up(D(w) / total_w * 100, 2)) + "%" for a_, w in weights.items()} if total_w else {},
            "bands_text": "；".join(f"{b['name']} {band_text(b)}" for b in t["bands"]),
            "final_text": _num_fixed(a.final_score, int(t.get("decimals", 1))),
            "draft": a.workflow_state != "approved", "wi": _num(D(t.get("inspection_weight", 1)) * 100) + "%",
            "ws": _num(D(t.get("satisfaction_weight", 0)) * 100) + "%", "upper": rmb_upper(a.payable + a.reward),
            "paid_upper": rmb_upper(a.payable)}


def _num_fixed(value, places):
    if value is None:
        return ""
    return f"{D(value):.{places}f}"

