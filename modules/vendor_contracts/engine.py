"""The monthly assessment rule engine: score -> grade -> payment, every step explained.

Pure functions over plain data (the template and contract rules as they were snapshot
into the assessment), so an approved month never changes when a template or contract is
edited later, and a vendor can redo the sums with a pencil from the printed steps.

Steps (the order is part of the contract's meaning):
 1. item deductions per area: count x points per occurrence (the area's own rate, or the
    rate of the finding's kind when an item has several), all kinds of one item together
    at most the item's maximum (扣完为止); a "zero" finding (or kind) takes the whole item
    whatever else was found (全扣); a "veto" finding fails the sheet (一票否决); a "bonus"
    item adds points up to its own maximum (奖励加分); a "downgrade" finding lowers the
    grade by one band (一票降级);
 2. area score = full marks - deductions + bonus, kept within 0..full marks;
 3. inspection score = areas combined by mean, weighted mean or the worst area;
 4. final score = inspection x weight + satisfaction x weight (satisfaction missing:
    inspection alone);
 5. rounding, half-up to the template's decimals, applied once, here;
 6. grade = the band whose interval holds the score (bounds inclusive or not, as written);
 7. payment, in this stated order: (a) grade deductions (band %, money per point below a
    threshold down to a floor, a formula of the score) in the contract's order; (b) fines
    per incident; (c) escalation clauses applied this month, each named with its amount;
    payable = fee - all of these, never below 0; the band's action (e.g. a rectification
    letter) follows the grade whatever the payment rule's kind;
 8. reward: money for an excellent month, paid on top of the payable;
 9. retention: a share of the payable held back until the year-end settlement;
10. gate: nothing is paid before the month is approved.
All rounding is erp_core.money.half_up (四舍五入).
"""
from decimal import Decimal

from flask_babel import gettext as _, lazy_gettext as _l

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


def _bottom(b):
    return D(b["lower"]) if b.get("lower") is not None else Decimal("-Infinity")


def one_grade_lower(band, bands):
    """The band just below ``band`` (the lowest stays where it is)."""
    lower = sorted((b for b in bands if _bottom(b) < _bottom(band)), key=_bottom)
    return lower[-1] if lower else band


def check_coverage(bands, full_marks, claimed_only=False):
    """Bands must cover 0..full marks exactly once: no gap, no overlap, lower < upper,
    percentages 0-100. An error message or None (checked when the bands are saved).
    ``claimed_only``: only the range from the lowest to the highest bound is checked (a
    band set being built); a contract in force needs the whole range."""
    full = D(full_marks)
    for b in bands:
        lo, hi = b.get("lower"), b.get("upper")
        if lo is not None and hi is not None and D(lo) >= D(hi):
            return _("Grade band %(b)s: the lower bound must be below the upper bound.", b=b["name"])
        if not 0 <= D(b.get("deduct_percent") or 0) <= 100:
            return _("Grade band %(b)s: the deduction is a percentage between 0 and 100.", b=b["name"])
    problem = check_bands(bands)
    if problem or not bands:
        return problem
    # walk the edges: every point of [0, full] must fall in exactly one band
    bottom, top = Decimal(0), full
    if claimed_only:
        lows = [D(b["lower"]) if b.get("lower") is not None else Decimal(0) for b in bands]
        highs = [D(b["upper"]) if b.get("upper") is not None else full for b in bands]
        bottom, top = max(Decimal(0), min(lows)), min(full, max(highs))
    edges = {bottom, top} | {D(x) for b in bands for x in (b.get("lower"), b.get("upper")) if x is not None}
    probes = set()
    for e in sorted(x for x in edges if bottom <= x <= top):
        probes |= {e, e + Decimal("0.00005"), e - Decimal("0.00005")}
    for p in sorted(x for x in probes if bottom <= x <= top):
        if claimed_only and p == top and not any(in_band(top, b) for b in bands):
            continue                                  # the top bound itself may be left out while building
        if grade(p, bands) is None:
            return _("The grade bands leave a gap at %(x)s: every score from 0 to %(full)s needs a grade.",
                     x=_num(half_up(p, 2)), full=_num(full))
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



def _kind_rate(item, kind, area):
    """(points per finding, takes the whole item?) for a finding of ``kind`` in ``area``."""
    kinds = item.get("kinds") or {}
    if kind:
        if kind not in kinds:
            raise ValueError(f"unknown kind {kind} of item {item['code']}")
        rate = kinds[kind]
        if rate in WHOLE:
            return Decimal(0), True
        return D(rate), False
    return D((item.get("area_rates") or {}).get(area, item["per_occurrence"])), item.get("effect") == "zero"


WHOLE = ("全扣", "zero", "all")


def score(template, findings, satisfaction=None):
    """Steps 1-6. ``findings``: [{"item": code, "area": name, "count": n, "kind": name}].
    Returns a dict with the numbers and the explanation steps."""
    full = D(template.get("full_marks", 100))
    items = {i["code"]: i for i in template["items"]}
    areas = template.get("areas") or [""]
    steps, vetoed, downgrades = [], [], []
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
        if effect == "downgrade" and count and item not in downgrades:
            downgrades.append(item)
        rate, whole = _kind_rate(item, f.get("kind") or "", area)
        slot = per_area[area].setdefault(item["code"], {"raw": Decimal(0), "zero": False})
        slot["raw"] += rate * count
        slot["zero"] |= whole and count > 0
    area_scores = {}
    for area in areas:
        total, bonus = Decimal(0), Decimal(0)
        for code, slot in per_area[area].items():
            item = items[code]
            cap = D(item["max_points"])
            taken = cap if slot["zero"] else min(cap, slot["raw"])
            note = _("whole item") if slot["zero"] else (_("capped at the item maximum") if slot["raw"] > cap else "")
            where = f"{area} · {item['title']}" if area else item["title"]
            if item.get("effect") == "bonus":
                bonus += taken
                steps.append((_("Bonus"), f"{where}: {_num(slot['raw'])} → {_num(taken)} {note}".strip(), taken, "item"))
            else:
                total += taken
                steps.append((_("Deduction"), f"{where}: {_num(slot['raw'])} → {_num(taken)} {note}".strip(), taken, "item"))
        area_scores[area] = min(full, max(Decimal(0), full - total + bonus))
        how = f"{_num(full)} − {_num(total)}" + (f" + {_num(bonus)}" if bonus else "")
        steps.append((_("Area score"), f"{area + '：' if area else ''}{how}", area_scores[area]))
    method = template.get("area_combine", "mean")
    values = list(area_scores.values())
    if method == "min":
        inspection = min(values)
        how = _("worst area")
    elif method == "weighted":
        weights = {a: D(w) for a, w in (template.get("area_weights") or {}).items()}
        total_w = sum(weights.get(a, Decimal(0)) for a in areas)
        if not total_w:
            raise ValueError("area weights are missing")
        inspection = sum(area_scores[a] * weights.get(a, Decimal(0)) for a in areas) / total_w
        how = " + ".join(f"{_num(area_scores[a])} × {_num(half_up(weights.get(a, 0) / total_w, 4))}" for a in areas)
    else:
        inspection = sum(values) / len(values)
        how = _("mean of areas") if len(values) > 1 else ""
    steps.append((_("Inspection score"), how, inspection))
    if vetoed:
        inspection = D(template.get("veto_score", 0))
        steps.append((_("Veto"), _("one-vote veto: %(items)s", items="、".join(i["title"] for i in vetoed)), inspection))
    wi, ws = D(template.get("inspection_weight", 1)), D(template.get("satisfaction_weight", 0))
    if satisfaction is not None and ws and not vetoed:
        final = inspection * wi + D(satisfaction) * ws
        steps.append((_("Blended score"), f"{_num(half_up(inspection, 4))} × {_num(wi)} + {_num(D(satisfaction))} × "
                                          f"{_num(ws)}", final))
    else:
        final = inspection
    places = int(template.get("decimals", 1))
    final = half_up(final, places)
    steps.append((_("Rounded"), _("half-up to %(n)s decimal places, once, after blending", n=places), final))
    band = grade(final, template["bands"])
    if band and downgrades:
        lowered = one_grade_lower(band, template["bands"])
        steps.append((_("One grade lower"), _("serious incident: %(items)s; %(a)s → %(b)s",
                                               items="、".join(i["title"] for i in downgrades), a=band["name"],
                                               b=lowered["name"]), final))
        band = lowered
    steps.append((_("Grade"), f"{band['name']} {band_text(band)}" if band else _("no band"), final))
    return {"area_scores": area_scores, "inspection": inspection, "final": final, "band": band,
            "vetoed": bool(vetoed), "downgraded": bool(band and downgrades), "steps": steps}


def escalation_band(rule):
    """An escalation rule's score band, half-open [lower, upper); old rules said only 'below X'."""
    return {"name": rule.get("clause", ""), "lower": rule.get("lower"), "lower_inclusive": True,
            "upper": rule.get("upper", rule.get("fail_below")), "upper_inclusive": False}


def escalations(rules, months):
    """Which escalation clauses this month (the last of ``months``) triggers.

    ``months``: every calendar month of the contract up to this one, in order, as
    {"year", "month", "score"} with score None for a month not assessed (not approved).
    Per clause, a month in its band counts once: the count starts afresh after the clause
    is applied. Consecutive = calendar months: an unassessed month breaks the run unless
    the clause says ``skip_unassessed``. Cumulative counts within the calendar year.
    Clauses are applied in their stated order; a later money clause whose band overlaps an
    earlier applied one is not applied to the same month unless it says ``stacks``."""
    out = []
    for order, rule in enumerate(rules):
        band = escalation_band(rule)
        run = cum = 0
        year = None
        hit = False
        for m in months:
            if m["year"] != year:
                year, cum = m["year"], 0
            s = m["score"]
            hit = False
            if s is None:
                if not rule.get("skip_unassessed"):
                    run = 0
                continue
            if not in_band(D(s), band):
                run = 0
                continue
            run, cum = run + 1, cum + 1
            if (rule.get("consecutive") and run >= int(rule["consecutive"])) or \
                    (rule.get("cumulative") and cum >= int(rule["cumulative"])):
                hit, detail = True, (run, cum)
                run = cum = 0
        if hit and months and months[-1]["score"] is not None:
            amount = cents(D(rule.get("extra_deduction") or 0))
            if amount and not rule.get("stacks"):
                for prior in out:
                    if prior["amount"] and _overlap(band, escalation_band(prior["rule"])):
                        amount = Decimal("0.00")
            out.append({"rule": rule, "order": order + 1, "amount": amount, "run": detail[0], "cum": detail[1],
                        "band": band_text(band)})
    return out


def _overlap(a, b):
    lo = max(D(a["lower"]) if a.get("lower") is not None else Decimal(-1),
             D(b["lower"]) if b.get("lower") is not None else Decimal(-1))
    hi = min(D(a["upper"]) if a.get("upper") is not None else Decimal(10 ** 6),
             D(b["upper"]) if b.get("upper") is not None else Decimal(10 ** 6))
    return lo < hi


def rule_words(rule):
    """A payment formula as a contract would say it (the form prints words, not code)."""
    if rule.get("wording"):
        return rule["wording"]
    return Formula(rule["expression"], ("score",)).words()


def payment(contract, result, incidents=(), approved=False, applied=()):
    """Steps 7-10. ``contract``: {"monthly_fee", "rules": [...], "retention_percent"}.
    ``incidents``: [{"type": name, "count": n}] priced by the contract's fine rules;
    ``applied``: the escalation clauses this month triggers (see ``escalations``)."""
    fee = cents(D(contract["monthly_fee"]))
    s, band = result["final"], result["band"]
    steps, deductions, fines, actions = [(_("Monthly fee"), "", fee)], Decimal(0), Decimal(0), []
    extra, reward = Decimal(0), Decimal(0)
    counts = {}
    for inc in incidents:
        counts[inc["type"]] = counts.get(inc["type"], 0) + int(inc.get("count", 1))
    if band and band.get("action"):
        actions.append(band["action"])            # whatever kind of payment rule the contract has
    ordered = [r for r in contract.get("rules", []) if r["kind"] not in ("fine", "reward")] + \
        [r for r in contract.get("rules", []) if r["kind"] == "fine"]
    for rule in ordered:
        kind, amount = rule["kind"], Decimal(0)
        if kind == "band_percent":
            pct = D((rule.get("percents") or {}).get(band["name"], band.get("deduct_percent", 0)) if band else 0)
            amount = fee * pct / HUNDRED
            detail = _("grade %(band)s: %(pct)s%% of the fee", band=band["name"] if band else "-", pct=_num(pct))
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
            detail = _("paid %% = %(expr)s = %(pct)s%%", expr=rule_words(rule), pct=f"{_num(paid_pct)}")
        elif kind == "fine":
            n = counts.get(rule["incident"], 0)
            amount = D(rule["amount"]) * n
            detail = _("%(incident)s × %(n)s at %(amount)s", incident=rule["incident"], n=n, amount=D(rule["amount"]))
        else:
            raise ValueError(f"unknown payment rule {kind}")
        amount = cents(amount)
        deductions += amount
        fines += amount if kind == "fine" else 0
        steps.append((_("Fine") if kind == "fine" else _("Deduction"), detail, amount))
    for hit in applied:
        rule = hit["rule"]
        extra += hit["amount"]
        deductions += hit["amount"]
        if rule.get("action") != "extra_deduction":
            actions.append(str(ACTIONS.get(rule["action"], rule["action"])) + "：" + rule.get("clause", ""))
        steps.append((_("Escalation"), _("%(clause)s (%(band)s: %(run)s consecutive, %(cum)s this year)",
                                         clause=rule.get("clause", ""), band=hit["band"], run=hit["run"],
                                         cum=hit["cum"]), hit["amount"]))
    payable = max(Decimal("0.00"), fee - deductions)
    steps.append((_("Payable"), _("fee − deductions, not below zero"), payable))
    for rule in contract.get("rules", []):
        if rule["kind"] == "reward" and band and band["name"] == rule.get("grade"):
            reward += cents(D(rule["amount"]))
            steps.append((_("Reward"), _("grade %(band)s: reward paid on top", band=band["name"]), cents(D(rule["amount"]))))
    retention = cents(payable * D(contract.get("retention_percent", 0)) / HUNDRED)
    if retention:
        steps.append((_("Retention"), _("%(pct)s%% held until the year-end settlement",
                                        pct=f"{_num(D(contract['retention_percent']))}"), retention))
    paid_now = payable - retention + reward if approved else Decimal("0.00")
    steps.append((_("Paid now"), _("payable − retention + reward") if approved else
                  _("nothing is paid before the month is approved"), paid_now))
    return {"fee": fee, "deductions": cents(deductions), "fines": cents(fines), "extra": cents(extra),
            "reward": reward, "payable": payable, "retention": retention, "paid_now": paid_now, "actions": actions,
            "steps": steps}


ACTIONS = {"warning": _l("Warning"), "extra_deduction": _l("Extra deduction"),
           "termination_right": _l("Right to terminate")}
RETENTION_RULES = {"full": _l("released in full"), "grade": _l("kept by the year's grade"),
                   "average": _l("released if the year's average reaches the mark"),
                   "failed_months": _l("released unless more failed months than the mark")}


def year_end_retention(held, scores, bands, contract):
    """Release the year's retention by the contract's explicit rule (frozen in the months):
    full; grade (share kept by the band of the average); average (released in full when the
    year's average reaches the mark, else kept); failed_months (released in full when at most
    ``mark`` months failed, else kept). ``scores``: [(final score, passing)] of the months."""
    places = int(contract.get("decimals", 1))
    average = half_up(sum((D(s) for s, _p in scores), Decimal(0)) / len(scores), places)
    failed = sum(1 for _s, p in scores if not p)
    kind = contract.get("retention_rule") or ("grade" if contract.get("retention_release") else "full")
    mark = D(contract.get("retention_mark") or 0)
    band = grade(average, bands)
    steps = [(_("Retention held"), _("%(n)s months", n=len(scores)), cents(D(held))),
             (_("Year average"), _("sum of the months' scores ÷ %(n)s, half-up to %(p)s places", n=len(scores),
                                    p=places), average)]
    if kind == "grade":
        pct = D((contract.get("retention_release") or {}).get(band["name"], 0)) if band else Decimal(0)
        how = _("grade %(band)s keeps %(pct)s%%", band=band["name"] if band else "-", pct=_num(pct))
    elif kind == "average":
        pct = Decimal(0) if average >= mark else HUNDRED
        how = _("average %(avg)s against the mark %(mark)s", avg=_num(average), mark=_num(mark))
    elif kind == "failed_months":
        pct = Decimal(0) if failed <= mark else HUNDRED
        how = _("%(n)s failed months, at most %(mark)s allowed", n=failed, mark=_num(mark))
    else:
        pct, how = Decimal(0), _("released in full")
    forfeited = cents(D(held) * pct / HUNDRED)
    steps += [(_("Kept by the hospital"), how, forfeited), (_("Released"), "", cents(D(held)) - forfeited)]
    return {"band": band, "average": average, "failed": failed, "rule": kind, "forfeited": forfeited,
            "released": cents(D(held)) - forfeited, "steps": steps}
