"""Vendor contract rules: assessments from a snapshot, findings, approval, escalation,
settlement, the year-end retention, and contracts created from a tender award."""
import json
from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.audit import jsonable
from erp_core.context import acting_as, username_of
from erp_core.errors import Conflict, NotFound, ValidationError
from erp_core.document import locked
from erp_core.extensions import db
from erp_core.money import D, cents, half_up
from erp_core.types import now

from . import engine
from .models import Assessment, Contract, Escalation, Finding, Incident, Rectification

MAX_PHOTO = 5 * 1024 * 1024


def satisfaction_from_hooks(contract, year, month):
    """Average of what other modules report (e.g. catering's ward feedback), or None."""
    from erp_core.document import plugin_manager
    pm = plugin_manager()
    hook = getattr(pm.hook, "houqin_satisfaction_scores", None) if pm else None
    if hook is None:
        return None
    rows = [r for result in hook(service_category=contract.service_category, year=year, month=month) for r in result or []]
    weight = sum(int(r.get("respondents", 1)) for r in rows)
    if not weight:
        return None
    return cents(sum(D(r["score"]) * int(r.get("respondents", 1)) for r in rows) / weight)


def create_assessment(contract, year, month, *, by):
    """Open a month: the template and the contract's rules are frozen into it now."""
    if contract.workflow_state != "active":
        raise ValidationError(_("Only an active contract is assessed."))
    if contract.template is None:
        raise ValidationError(_("The contract has no assessment template."))
    contract = locked(db.session, type(contract), contract.id)   # opening a month: one at a time per contract
    first = date(int(year), int(month), 1) if 1 <= int(month) <= 12 and 2000 <= int(year) <= 2100 else None
    if first is None:
        raise ValidationError(_("Give a real year and month."))
    if not (contract.start_date.replace(day=1) <= first <= contract.end_date):
        raise ValidationError(_("%(y)s-%(m)s is outside the contract's period %(start)s – %(end)s.", y=year, m=month,
                                start=contract.start_date, end=contract.end_date))
    exists = db.session.scalar(select(Assessment.name).where(Assessment.contract_id == contract.id,
                                                           Assessment.year == year, Assessment.month == month,
                                                           Assessment.workflow_state != "cancelled"))
    if exists:
        raise Conflict(_("%(contract)s already has an assessment for %(y)s-%(m)s: %(name)s.", contract=contract.name,
                         y=year, m=month, name=exists))
    with acting_as(username_of(by)):
        a = Assessment(contract=contract, year=year, month=month,
                       template_snapshot=json.dumps(contract.template.snapshot(), ensure_ascii=False),
                       contract_snapshot=json.dumps(contract.rules_snapshot(), ensure_ascii=False),
                       satisfaction_score=satisfaction_from_hooks(contract, year, month),
                       inspector_name=username_of(by))
        db.session.add(a)
        db.session.flush()
        prefill_evidence(a, by=by)
        recompute(a)
    return a


def prefill_evidence(a, *, by):
    """Findings from other modules' evidence for the items that take it (frozen template):
    the pre-filled findings of those sources are replaced, except those the assessor
    adjusted; a new row citing the same records (or, without refs, the same note) as an
    adjusted finding is left out, so the adjusted count stands."""
    from .evidence import evidence_rows
    template = a.template_rules()
    items = [i for i in template["items"] if i.get("evidence")]
    if not items:
        return a
    keys = {i["evidence"] for i in items}
    rows = [r for r in evidence_rows(a.contract, a.year, a.month) if r["evidence"] in keys and r["count"] > 0]
    for f in [f for f in a.findings if f.evidence in keys and not f.adjust_reason]:
        a.findings.remove(f)
    kept = [f for f in a.findings if f.evidence in keys]
    area = (template.get("areas") or [""])[0]
    for item in items:
        for r in (r for r in rows if r["evidence"] == item["evidence"]):
            if any(f.item_code == item["code"] and f.evidence == r["evidence"] and _same_records(f, r) for f in kept):
                continue
            a.findings.append(Finding(item_code=item["code"], area=area, count=r["count"], note=r["note"],
                                      evidence=r["evidence"], refs="、".join(r["refs"]), prefilled_count=r["count"],
                                      by=username_of(by)))
    db.session.flush()
    return a


def _same_records(finding, row):
    refs = {x for x in (finding.refs or "").split("、") if x}
    return bool(refs & set(row["refs"])) if refs or row["refs"] else finding.note == row["note"]


def refresh_evidence(a, *, by):
    _editable(a)
    with acting_as(username_of(by)):
        prefill_evidence(a, by=by)
        recompute(a)
    return a


def adjust_finding(a, *, finding, count, reason, by):
    """The assessor's count for a pre-filled finding, with the reason (the action audits it)."""
    _editable(a)
    f = next((f for f in a.findings if f.id == finding), None)
    if f is None:
        raise NotFound(_("%(doc)s has no finding No. %(n)s.", doc=a.name, n=finding))
    if not f.evidence:
        raise ValidationError(_("Finding No. %(n)s was recorded by the inspector, not pre-filled; only pre-filled "
                                "findings are adjusted.", n=finding))
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for changing a pre-filled count."))
    if count is None or count < 0:
        raise ValidationError(_("The count is a whole number, 0 or more."))
    with acting_as(username_of(by)):
        f.count, f.adjust_reason = count, reason.strip()[:300]
        db.session.flush()
        recompute(a)
    return a


def _editable(a):
    if a.workflow_state != "draft":
        raise Conflict(_("%(doc)s is no longer a draft; send it back to change findings.", doc=a.name))


def add_finding(a, *, item_code, area="", count=1, location="", note="", photo=None, photo_type=None, kind="", by):
    _editable(a)
    template = a.template_rules()
    items = {i["code"]: i for i in template["items"]}
    if item_code not in items:
        raise ValidationError(_("Unknown scoring item: %(code)s", code=item_code))
    kinds = items[item_code].get("kinds") or {}
    if kind and kind not in kinds:
        raise ValidationError(_("%(item)s has no kind of finding %(kind)s (it has: %(kinds)s).",
                                item=items[item_code]["title"], kind=kind, kinds="、".join(kinds) or "-"))
    areas = template.get("areas") or [""]
    area = area or areas[0]
    if area not in areas:
        raise ValidationError(_("Unknown area: %(area)s", area=area))
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if count < 1:
        raise ValidationError(_("The count is a positive whole number."))
    from erp_core.validation import sniff
    if photo is not None and (len(photo) > MAX_PHOTO or photo_type not in ("image/jpeg", "image/png", "image/webp")
                              or sniff(photo) != photo_type):
        raise ValidationError(_("The photo must be a JPEG, PNG or WebP image of at most 5 MB."))
    with acting_as(username_of(by)):
        a.findings.append(Finding(item_code=item_code, kind=kind, area=area, count=count, location=location, note=note,
                                  photo=photo, photo_type=photo_type, by=username_of(by)))
        db.session.flush()
        recompute(a)
    return a


def _unrounded(template, result, satisfaction):
    wi, ws = D(template.get("inspection_weight", 1)), D(template.get("satisfaction_weight", 0))
    if satisfaction is not None and ws and not result["vetoed"]:
        return result["inspection"] * wi + D(satisfaction) * ws
    return result["inspection"]


def item_effects(a):
    """For the inspector's page: in words, how one more finding of each item (and kind) in each
    area moves the month's score now — the engine run with that finding added, so caps, area
    averaging and the inspection weight are all in it. {"explain": sentence, area: {key: text}}."""
    template = a.template_rules()
    areas = template.get("areas") or [""]
    base_findings = [{"item": f.item_code, "area": f.area, "count": f.count, "kind": f.kind or ""} for f in a.findings]
    sat = a.satisfaction_score
    try:
        before = engine.score(template, base_findings, sat)
    except (ValueError, ArithmeticError, ValidationError):
        return {"explain": "", "areas": {}}
    base = _unrounded(template, before, sat)
    out = {}
    for area in areas:
        texts = {}
        for item in template["items"]:
            for kind in (item.get("kinds") or {"": None}):
                after = engine.score(template, base_findings + [{"item": item["code"], "area": area, "count": 1,
                                                                  "kind": kind}], sat)
                delta = half_up(_unrounded(template, after, sat) - base, 2)
                effect = item.get("effect", "deduct")
                if effect == "veto":
                    text = _("one-vote veto: the month scores %(score)s", score=engine._num(after["final"]))
                elif effect == "downgrade":
                    text = _("one grade lower")
                elif delta == 0:
                    text = _("already at the item's maximum: no further effect on the score")
                else:
                    rate, whole = engine._kind_rate(item, kind or "", area)
                    move = dict(sign="+" if delta > 0 else "−", delta=engine._num(abs(delta)))
                    if whole:
                        text = _("takes the whole item (%(max)s points) → the month's score %(sign)s%(delta)s",
                                 max=engine._num(item["max_points"]), **move)
                    else:
                        text = _("%(change)s points in this area → the month's score %(sign)s%(delta)s",
                                 change=("+" if effect == "bonus" else "−") + engine._num(rate), **move)
                texts[f"{item['code']}:{kind}" if kind else item["code"]] = text
        out[area] = texts
    method = template.get("area_combine", "mean")
    if len(areas) < 2:
        how = _("the inspection score is this area's score")
    elif method == "min":
        how = _("only the worst area counts")
    elif method == "weighted":
        how = _("the areas are weighted (%(weights)s)", weights="、".join(
            f"{k} {v}" for k, v in (template.get("area_weights") or {}).items()))
    else:
        how = _("the %(n)s areas are averaged, so each counts 1/%(n)s", n=len(areas))
    wi, ws = D(template.get("inspection_weight", 1)), D(template.get("satisfaction_weight", 0))
    blend = _("; the inspection counts %(wi)s and the satisfaction survey %(ws)s", wi=engine._num(wi),
              ws=engine._num(ws)) if sat is not None and ws else ""
    explain = _("Each tap records one finding and takes the item's points off the area's score, at most the item's "
                "maximum; %(how)s%(blend)s. The effect of one more finding on the month's score is shown under each "
                "item.", how=how, blend=blend)
    return {"explain": explain, "areas": out}


def remove_finding(a, finding_id, *, by):
    """Undo one finding (a wrong tap) while the month is a draft; audited with what was removed."""
    _editable(a)
    finding = next((f for f in a.findings if f.id == finding_id), None)
    if finding is None:
        raise NotFound(_("%(doc)s has no such finding.", doc=a.name))
    from erp_core import audit
    with acting_as(username_of(by)):
        audit.record(db.session, a, "remove_finding", item=finding.item_code, kind=finding.kind, area=finding.area,
                     count=finding.count, recorded_by=finding.by, photo=finding.photo is not None)
        a.findings.remove(finding)
        db.session.flush()
        recompute(a)
    return a


def add_incident(a, *, incident, count=1, note="", by):
    _editable(a)
    fines = {r["incident"] for r in a.contract_rules().get("rules", []) if r["kind"] == "fine"}
    if incident not in fines:
        raise ValidationError(_("The contract has no fine for %(incident)s.", incident=incident))
    with acting_as(username_of(by)):
        a.incidents.append(Incident(incident=incident, count=max(1, int(count)), note=note))
        db.session.flush()
        recompute(a)
    return a


def contract_months(a, score):
    """Every calendar month of the contract up to ``a``'s, with the approved score of each
    (None: not assessed or not approved) and ``score`` for ``a`` itself."""
    rules = a.contract_rules()
    start = date.fromisoformat(rules["start_date"]) if rules.get("start_date") else a.contract.start_date
    approved = {(y, m): s for y, m, s in db.session.execute(select(Assessment.year, Assessment.month,
                                                                   Assessment.final_score).where(
        Assessment.contract_id == a.contract_id, Assessment.workflow_state == "approved", Assessment.id != a.id))}
    months, y, m = [], start.year, start.month
    while (y, m) < (a.year, a.month):
        months.append({"year": y, "month": m, "score": approved.get((y, m))})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    months.append({"year": a.year, "month": a.month, "score": score})
    return months


def compute(a, approved=False):
    template, contract = a.template_rules(), a.contract_rules()
    findings = [{"item": f.item_code, "area": f.area, "count": f.count, "kind": f.kind or ""} for f in a.findings]
    try:
        result = engine.score(template, findings, a.satisfaction_score)
        applied = engine.escalations(contract.get("escalations", []), contract_months(a, result["final"]))
        pay = engine.payment(contract, result, [{"type": i.incident, "count": i.count} for i in a.incidents],
                             approved, applied)
    except ValidationError as exc:
        raise ValidationError(_("%(doc)s cannot be computed under its frozen rules: %(problem)s. A manager can "
                                "cancel the month and reopen it under corrected rules.", doc=a.name, problem=str(exc)))
    except (ValueError, ArithmeticError) as exc:
        raise ValidationError(_("%(doc)s cannot be computed under its frozen rules: %(problem)s. A manager can "
                                "cancel the month and reopen it under corrected rules.", doc=a.name, problem=str(exc)))
    return result, pay, applied


def _shown(value):
    """A step's value as printed: intermediate quotients to 4 places (the rounding step says
    where the score is actually rounded), never a run of 28 digits."""
    if isinstance(value, Decimal) and value.as_tuple().exponent < -4:
        return str(half_up(value, 4))
    return str(jsonable(value))


def recompute(a, approved=False):
    """Store the numbers and the printed steps (draft months follow their findings)."""
    result, pay, _applied = compute(a, approved)
    a.inspection_score = half_up(result["inspection"], 2)
    a.final_score, a.grade = result["final"], result["band"]["name"] if result["band"] else ""
    a.passing = bool(result["band"] and result["band"].get("passing", True)) and not result["vetoed"]
    a.deductions, a.penalties = pay["deductions"], pay["fines"]
    a.extra_deductions, a.reward = pay["extra"], pay["reward"]
    a.payable, a.retention, a.paid_now = pay["payable"], pay["retention"], pay["paid_now"]
    steps = result["steps"] + [(*step, "money") for step in pay["steps"]] + [(_("Action"), act, "")
                                                                              for act in pay["actions"]]
    # item lines are marked: the form shows them in its item table, not again in the calculation
    a.explanation = json.dumps([[str(t), str(d), _shown(v), *rest] for t, d, v, *rest in steps], ensure_ascii=False)
    return result, pay


def approve_effect(a, *, by, reason=None):
    """Run by the 'approve' transition: final numbers with the gate open, escalations, and
    the snapshot the form is reprinted from (what was known when the month was signed)."""
    recompute(a, approved=True)
    escalate(a, by=by)
    a.signed_snapshot = json.dumps({"rectifications": [
        {"name": r.name, "problem": r.problem, "deadline": r.deadline.isoformat()}
        for r in open_rectifications(a.contract, before=a)], "approved_at": now().isoformat(),
        "approved_by": username_of(by)}, ensure_ascii=False)


def escalate(a, *, by):
    """Raise the escalation clauses this month applies (their money is already in the payable)."""
    _result, _pay, applied = compute(a, approved=True)
    raised = []
    for hit in applied:
        rule = hit["rule"]
        detail = _("%(band)s: %(run)s consecutive, %(cum)s this year", band=hit["band"], run=hit["run"], cum=hit["cum"])
        e = Escalation(contract_id=a.contract_id, assessment=a, action=rule["action"], clause=rule["clause"],
                       detail=detail, extra_deduction=hit["amount"])
        db.session.add(e)
        raised.append(e)
    return raised


def reopen(a, *, by):
    """A cancelled month opened again under the contract's current (corrected) rules, with
    its findings and incidents copied: the amendment is audited like any document."""
    from erp_core import document
    if a.workflow_state != "cancelled":
        raise Conflict(_("Only a cancelled month is reopened."))
    new = document.amend(a, by=username_of(by))
    with acting_as(username_of(by)):
        new.workflow_state, new.docstatus = "draft", 0
        new.template_snapshot = json.dumps(a.contract.template.snapshot(), ensure_ascii=False)
        new.contract_snapshot = json.dumps(a.contract.rules_snapshot(), ensure_ascii=False)
        new.signed_snapshot, new.vendor_confirmed_at = "", None
        recompute(new)
        db.session.flush()
    return new


def person(login):
    """A login as people read it on a signed form: the user's name (the login if unknown)."""
    if not login:
        return ""
    from flask import current_app
    user = current_app.appbuilder.sm.find_user(username=login)
    if user is None:
        return login
    name = f"{user.last_name or ''}{user.first_name or ''}".strip()
    return name or login


def open_rectifications(contract, before=None):
    """Notices still open for a contract: to re-check on the next month's assessment."""
    stmt = select(Rectification).where(Rectification.contract_id == contract.id,
                                       Rectification.workflow_state.in_(["open", "rectified"]))
    if before is not None:
        stmt = stmt.where(Rectification.assessment_id != before.id)
    return db.session.scalars(stmt.order_by(Rectification.deadline)).all()


def raise_rectification(a, *, problem, deadline, requirement="", responsible_contact="", by):
    if deadline is None or deadline < now().date():
        raise ValidationError(_("The deadline must be today or later."))
    with acting_as(username_of(by)):
        r = Rectification(assessment=a, contract=a.contract, problem=problem, requirement=requirement,
                          deadline=deadline, responsible_contact=responsible_contact)
        db.session.add(r)
        db.session.flush()
    return r


def settlement(year, month):
    """Per contract for the month: fee − grade deduction − fines = payable (approved months)."""
    rows = []
    for a in db.session.scalars(select(Assessment).where(Assessment.year == year, Assessment.month == month,
                                                         Assessment.workflow_state == "approved")
                                .order_by(Assessment.contract_id)).all():
        fee = D(a.contract_rules()["monthly_fee"])
        clauses = [(e.clause, e.extra_deduction) for e in db.session.scalars(select(Escalation).where(
            Escalation.assessment_id == a.id).order_by(Escalation.id)).all()]
        rows.append({"assessment": a, "vendor": a.contract.vendor.legal_name, "contract": a.contract.name,
                     "fee": cents(fee), "score": a.final_score, "grade": a.grade,
                     "grade_deduction": cents(a.deductions - a.penalties - a.extra_deductions), "fines": a.penalties,
                     "extra_deduction": a.extra_deductions, "payable": a.payable, "retention": a.retention,
                     "reward": a.reward, "paid_now": a.payable - a.retention + a.reward, "clauses": clauses})
    return rows


def year_end_retention(contract, year):
    months = db.session.scalars(select(Assessment).where(Assessment.contract_id == contract.id, Assessment.year == year,
                                                         Assessment.workflow_state == "approved")).all()
    if not months:
        raise NotFound(_("No approved month in %(year)s.", year=year))
    months = sorted(months, key=lambda m: m.month)
    held = sum((m.retention for m in months), Decimal(0))
    # the terms the months were assessed under (frozen in each), not today's contract
    terms = {**months[-1].contract_rules(), "decimals": months[-1].template_rules().get("decimals", 1)}
    result = engine.year_end_retention(held, [(m.final_score, m.passing) for m in months],
                                       months[-1].template_rules()["bands"], terms)
    return {"held": cents(held), **result}


def renew(contract, *, by):
    """The successor contract, as a draft for the same length right after this one, with the
    same template, payment and escalation rules (to be reviewed and activated)."""
    import calendar
    from .presets import copy_rules
    start = contract.end_date + timedelta(days=1)
    a, b = contract.start_date, contract.end_date
    months = (b.year - a.year) * 12 + b.month - a.month            # whole-month contracts renew by months
    if a.day == 1 and b.day == calendar.monthrange(b.year, b.month)[1]:
        y, m = divmod(start.month - 1 + months, 12)
        end = start.replace(year=start.year + y, month=m + 1)
        end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    else:
        end = start + (b - a)
    with acting_as(username_of(by)):
        new = Contract(vendor=contract.vendor, title=contract.title, service_category=contract.service_category,
                       scope=contract.scope, start_date=start, end_date=end, monthly_fee=contract.monthly_fee,
                       payment_terms=contract.payment_terms, performance_bond=contract.performance_bond,
                       penalty_clauses=contract.penalty_clauses, template=contract.template,
                       retention_percent=contract.retention_percent, retention_release=contract.retention_release,
                       source_reference=contract.name)
        copy_rules(new, contract)
        db.session.add(new)
    return new


def create_contract_from_award(*, vendor, title, service_category, monthly_fee, start, end, source_reference, by):
    """A draft contract for a tender's winner (called by procurement)."""
    with acting_as(username_of(by)):
        c = Contract(vendor=vendor, title=title, service_category=service_category, monthly_fee=cents(D(monthly_fee)),
                     start_date=start, end_date=end, source_reference=source_reference)
        db.session.add(c)
        db.session.flush()
    return c


def expiring_certificates(days=30):
    from .models import VendorCertificate
    today = now().date()
    return db.session.scalars(select(VendorCertificate).where(VendorCertificate.valid_until <= today + timedelta(days=days))
                              .order_by(VendorCertificate.valid_until)).all()


def ending_contracts(days=60):
    today = now().date()
    return db.session.scalars(select(Contract).where(Contract.workflow_state == "active",
                                                     Contract.end_date <= today + timedelta(days=days))
                              .order_by(Contract.end_date)).all()


def trend(vendor_id, months=12):
    """[(YYYY-MM, average final score)] of a vendor's approved assessments, oldest first."""
    rows = db.session.execute(select(Assessment.year, Assessment.month, Assessment.final_score)
                              .join(Contract, Contract.id == Assessment.contract_id)
                              .where(Contract.vendor_id == vendor_id, Assessment.workflow_state == "approved")
                              .order_by(Assessment.year.desc(), Assessment.month.desc())).all()
    by_month = {}
    for y, m, s in rows:
        by_month.setdefault((y, m), []).append(s)
    keys = sorted(by_month)[-months:]
    return [(f"{y}-{m:02d}", cents(sum(by_month[(y, m)]) / len(by_month[(y, m)]))) for y, m in keys]
