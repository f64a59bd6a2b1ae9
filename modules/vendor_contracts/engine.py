"""The monthly assessment rule engine: score -> grade -> payment, every step explained.

Pure functions over plain data (the template and contract rules as they were snapshot
into the assessment), so an approved month never changes when a template or contract is
edited later, and a vendor can redo the sums with a pencil from the printed steps.

Steps (the order is part of the contract's meaning):
 1. item deductions per area: count x points per occurrence (the area's own rate if set),
    at most the item's maximum (扣完为止); a "zero" finding takes the whole item (全扣);
    a "veto" finding fails the sheet (一票否决);
 2. area score = full marks - deductions (never below 0);
 3. inspection score = areas combined by mean, weighted mean or the worst area;
 4. final score = inspection x weight + satisfaction x weight (satisfaction missing:
    inspection alone);
 5. rounding, half-up to the template's decimals, applied once, here;
 6. grade = the band whose interval holds the score (bounds inclusive or not, as written);
 7. payment: each contract rule gives a deduction (band %, money per point below a
    threshold down to a floor, a formula of the score, fixed fines); payable = fee -
    deductions, never below 0;
 8. retention: a share of the payable held back until the year-end settlement;
 9. gate: nothing is paid before the month is approved.
"""
from decimal import Decimal

from flask_babel import gettext as _

from erp_core.formula import Formula
from erp_core.money import D, cents, half_up

HUNDRED = Decimal(100)


def _num(x):
    """90.00 -> '90', 2.50 -> '2.5' (as a contract writes numbers)."""
    return format(D(x).normalize(), "f")


def band_text(b):
    """'[90, 100]', '[80, 90)': the interval exactly as the contract reads."""
    lo = "-∞" if b.get("lower") is None else f"{_num(D(b['lower']))}"
    hi = "+∞" if b.get("upper") is None else f"{_num(D(b['upper']))}"
    return f"{'[' if b.get('lower_inclusive', True) else '('}{lo}, {hi}{']' if b.get('upper_inclusive') else ')'}"


def in_band(score, b):
    lo, hi = b.get("lower"), b.get("upper")
    if lo is not None and (score < D(lo) or (score == D(lo) and not b.get("lower_inclusive", True))):
        return False
    if hi is not None and (score > D(hi) or (score == D(hi) and not b.get("upper_inclusive", False))):
        return False
    return True


def grade(score, bands):
    for b in bands:
        if in_band(score, b):
            return b
    return None


def check_bands(bands):
    """Bands must not overlap; an error message or None."""
    for i, a in enumerate(bands):
        for b in bands[i + 1:]:
            for edge in [x for x in (a.get("lower"), a.get("upper"), b.get("lower"), b.get("upper")) if x is not None]:
                for probe in (D(edge), D(edge) + Decimal("0.0001"), D(edge) - Decimal("0.0001")):
                    if in_band(probe, a) and in_band(probe, b):
                        return _("Grade bands %(a)s and %(b)s overlap at %(x)s.", a=a["name"], b=b["name"], x=probe)
    return None


def score(template, findings, satisfaction=None):
    """Steps 1-6. ``findings``: [{"item": code, "area": name, "count": n}]. Returns a dict
    with the numbers and the explanation steps."""
    full = D(template.get("full_marks", 100))
    items = {i["code"]: i for i in template["items"]}
    areas = template.get("areas") or [""]
    steps, vetoed = [], []
    per_area = {a: {} for a in areas}
    for f in findings:
        item = items.get(f["item"])
        if item is None:
            raise ValueError(f"unknown item {f['item']}")
        area = f.get("area") or areas[0]
        if area not in per_area:
            raise ValueError(f"unknown area {area}")
        count = int(f.get("count", 1))
        effect = item.get("effect", "deduct")
        if effect == "veto" and count:
            vetoed.append(item)
        rate = D((item.get("area_rates") or {}).get(area, item["per_occurrence"]))
        slot = per_area[area].setdefault(item["code"], {"raw": Decimal(0), "zero": False})
        slot["raw"] += rate * count
        slot["zero"] |= effect == "zero" and count > 0
    area_scores = {}
    for area in areas:
        total = Decimal(0)
        for code, slot in per_area[area].items():
            item = items[code]
            cap = D(item["max_points"])
            taken = cap if slot["zero"] else min(cap, slot["raw"])
            total += taken
            note = _("whole item") if slot["zero"] else (_("capped at the item maximum") if slot["raw"] > cap else "")
            steps.append((_("Deduction"), f"{area} · {item['title']}: {_num(slot['raw'])} → {_num(taken)} {note}".strip(), taken))
        area_scores[area] = max(Decimal(0), full - total)
        steps.append((_("Area score"), f"{area or _('Whole site')}: {_num(full)} − {_num(total)}", area_scores[area]))
    method = template.get("area_combine", "mean")
    values = list(area_scores.values())
    if method == "min":
        inspection = min(values)
    elif method == "weighted":
        weights = {a: D(w) for a, w in (template.get("area_weights") or {}).items()}
        total_w = sum(weights.get(a, Decimal(0)) for a in areas)
        if not total_w:
            raise ValueError("area weights are missing")
        inspection = sum(area_scores[a] * weights.get(a, Decimal(0)) for a in areas) / total_w
    else:
        inspection = sum(values) / len(values)
    steps.append((_("Inspection score"), {"mean": _("mean of areas"), "weighted": _("weighted mean of areas"),
                                          "min": _("worst area")}[method], inspection))
    if vetoed:
        inspection = D(template.get("veto_score", 0))
        steps.append((_("Veto"), _("one-vote veto: %(items)s", items="、".join(i["title"] for i in vetoed)), inspection))
    wi, ws = D(template.get("inspection_weight", 1)), D(template.get("satisfaction_weight", 0))
    if satisfaction is not None and ws and not vetoed:
        final = inspection * wi + D(satisfaction) * ws
        steps.append((_("Blended score"), f"{_num(inspection)} × {_num(wi)} + {_num(D(satisfaction))} × {_num(ws)}", final))
    else:
        final = inspection
    places = int(template.get("decimals", 1))
    final = half_up(final, places)
    steps.append((_("Rounded"), _("half-up to %(n)s decimal places, once, after blending", n=places), final))
    band = grade(final, template["bands"])
    steps.append((_("Grade"), f"{band['name']} {band_text(band)}" if band else _("no band"), final))
    return {"area_scores": area_scores, "inspection": inspection, "final": final, "band": band,
            "vetoed": bool(vetoed), "steps": steps}


def payment(contract, result, incidents=(), approved=False):
    """Steps 7-9. ``contract``: {"monthly_fee", "rules": [...], "retention_percent"}.
    ``incidents``: [{"type": name, "count": n}] priced by the contract's fine rules."""
    fee = cents(D(contract["monthly_fee"]))
    s, band = result["final"], result["band"]
    steps, deductions, fines, actions = [(_("Monthly fee"), "", fee)], Decimal(0), Decimal(0), []
    counts = {}
    for inc in incidents:
        counts[inc["type"]] = counts.get(inc["type"], 0) + int(inc.get("count", 1))
    for rule in contract.get("rules", []):
        kind, amount = rule["kind"], Decimal(0)
        if kind == "band_percent":
            pct = D((rule.get("percents") or {}).get(band["name"], band.get("deduct_percent", 0)) if band else 0)
            amount = fee * pct / HUNDRED
            detail = _("grade %(band)s: %(pct)s%% of the fee", band=band["name"] if band else "-", pct=_num(pct))
            if band and band.get("action"):
                actions.append(band["action"])
        elif kind == "per_point":
            threshold, floor, per = D(rule["threshold"]), D(rule["floor"]), D(rule["amount_per_point"])
            points = max(Decimal(0), threshold - max(s, floor))
            amount = points * per
            detail = _("%(points)s points below %(t)s (counted down to %(f)s) × %(per)s", points=f"{_num(points)}",
                       t=f"{_num(threshold)}", f=f"{_num(floor)}", per=per)
            if s < floor and rule.get("below_floor_action"):
                actions.append(rule["below_floor_action"])
        elif kind == "formula":
            paid_pct = Formula(rule["expression"], ("score",)).evaluate(score=s)
            paid_pct = min(HUNDRED, max(Decimal(0), paid_pct))
            amount = fee * (HUNDRED - paid_pct) / HUNDRED
            detail = _("paid %% = %(expr)s = %(pct)s%%", expr=rule["expression"], pct=f"{_num(paid_pct)}")
        elif kind == "fine":
            n = counts.get(rule["incident"], 0)
            amount = D(rule["amount"]) * n
            detail = _("%(incident)s × %(n)s at %(amount)s", incident=rule["incident"], n=n, amount=D(rule["amount"]))
        else:
            raise ValueError(f"unknown payment rule {kind}")
        amount = cents(amount)
        deductions += amount
        fines += amount if kind == "fine" else 0
        steps.append((_("Deduction"), detail, amount))
    payable = max(Decimal("0.00"), fee - deductions)
    steps.append((_("Payable"), _("fee − deductions, not below zero"), payable))
    retention = cents(payable * D(contract.get("retention_percent", 0)) / HUNDRED)
    if retention:
        steps.append((_("Retention"), _("%(pct)s%% held until the year-end settlement",
                                        pct=f"{_num(D(contract['retention_percent']))}"), retention))
    paid_now = payable - retention if approved else Decimal("0.00")
    steps.append((_("Paid now"), "" if approved else _("nothing is paid before the month is approved"), paid_now))
    return {"fee": fee, "deductions": cents(deductions), "fines": cents(fines), "payable": payable, "retention": retention,
            "paid_now": paid_now, "actions": actions, "steps": steps}


def year_end_retention(held, annual_score, bands, contract):
    """Release the year's retention by the year's overall result: the band of the average
    score says what share of the retention is kept (its band_percent deduction)."""
    band = grade(annual_score, bands)
    pct = D((contract.get("retention_release") or {}).get(band["name"], 0)) if band else HUNDRED
    forfeited = cents(D(held) * pct / HUNDRED)
    return {"band": band, "forfeited": forfeited, "released": cents(D(held)) - forfeited}
