"""Vendor contract rules: assessments from a snapshot, findings, approval, escalation,
settlement, the year-end retention, and contracts created from a tender award."""
import json
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.audit import jsonable
from erp_core.context import acting_as, username_of
from erp_core.errors import Conflict, NotFound, ValidationError
from erp_core.document import locked
from erp_core.extensions import db
from erp_core.money import D, cents
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
        recompute(a)
    return a


def _editable(a):
    if a.workflow_state != "draft":
        raise Conflict(_("%(doc)s is no longer a draft; send it back to change findings.", doc=a.name))


def add_finding(a, *, item_code, area="", count=1, location="", note="", photo=None, photo_type=None, by):
    _editable(a)
    template = a.template_rules()
    codes = {i["code"] for i in template["items"]}
    if item_code not in codes:
        raise ValidationError(_("Unknown scoring item: %(code)s", code=item_code))
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
        a.findings.append(Finding(item_code=item_code, area=area, count=count, location=location, note=note,
                                  photo=photo, photo_type=photo_type, by=username_of(by)))
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


def compute(a, approved=False):
    template, contract = a.template_rules(), a.contract_rules()
    findings = [{"item": f.item_code, "area": f.area, "count": f.count} for f in a.findings]
    result = engine.score(template, findings, a.satisfaction_score)
    pay = engine.payment(contract, result, [{"type": i.incident, "count": i.count} for i in a.incidents], approved)
    return result, pay


def recompute(a, approved=False):
    """Store the numbers and the printed steps (draft months follow their findings)."""
    result, pay = compute(a, approved)
    a.inspection_score = result["inspection"].quantize(Decimal("0.01"))
    a.final_score, a.grade = result["final"], result["band"]["name"] if result["band"] else ""
    a.passing = bool(result["band"] and result["band"].get("passing", True)) and not result["vetoed"]
    a.deductions, a.penalties = pay["deductions"], pay["fines"]
    a.payable, a.retention, a.paid_now = pay["payable"], pay["retention"], pay["paid_now"]
    steps = result["steps"] + pay["steps"] + [(_("Action"), act, "") for act in pay["actions"]]
    a.explanation = json.dumps([[str(t), str(d), str(jsonable(v))] for t, d, v in steps], ensure_ascii=False)
    return result, pay


def approve_effect(a, *, by, reason=None):
    """Run by the 'approve' transition: final numbers with the gate open, then escalation."""
    recompute(a, approved=True)
    escalate(a, by=by)


def escalate(a, *, by):
    """Raise the escalations the contract's rules call for after this month."""
    rules = a.contract_rules().get("escalations", [])
    if not rules:
        return []
    history = db.session.scalars(select(Assessment).where(
        Assessment.contract_id == a.contract_id, Assessment.workflow_state == "approved",
        Assessment.id != a.id).order_by(Assessment.year, Assessment.month)).all() + [a]
    raised = []
    for rule in rules:
        limit = D(rule["fail_below"])
        failing = [x.final_score is not None and x.final_score < limit for x in history]
        run = 0
        for f in reversed(failing):
            if not f:
                break
            run += 1
        cumulative = sum(1 for x, f in zip(history, failing) if f and x.year == a.year)
        hit = (rule.get("consecutive") and run >= rule["consecutive"]) or \
              (rule.get("cumulative") and cumulative >= rule["cumulative"])
        if hit and failing[-1]:
            detail = _("%(run)s consecutive and %(cum)s failing months in %(year)s below %(limit)s", run=run,
                       cum=cumulative, year=a.year, limit=f"{limit:g}")
            e = Escalation(contract_id=a.contract_id, assessment=a, action=rule["action"], clause=rule["clause"],
                           detail=detail, extra_deduction=D(rule.get("extra_deduction") or 0))
            db.session.add(e)
            raised.append(e)
    return raised


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
        extra = sum((e.extra_deduction for e in db.session.scalars(select(Escalation).where(
            Escalation.assessment_id == a.id)).all()), Decimal(0))
        payable = max(Decimal("0.00"), a.payable - extra)
        rows.append({"assessment": a, "vendor": a.contract.vendor.legal_name, "contract": a.contract.name,
                     "fee": cents(fee), "score": a.final_score, "grade": a.grade,
                     "grade_deduction": cents(a.deductions - a.penalties), "fines": a.penalties,
                     "extra_deduction": cents(extra), "payable": cents(payable), "retention": a.retention,
                     "paid_now": cents(max(Decimal(0), payable - a.retention))})
    return rows


def year_end_retention(contract, year):
    months = db.session.scalars(select(Assessment).where(Assessment.contract_id == contract.id, Assessment.year == year,
                                                         Assessment.workflow_state == "approved")).all()
    if not months:
        raise NotFound(_("No approved month in %(year)s.", year=year))
    held = sum((m.retention for m in months), Decimal(0))
    average = (sum((m.final_score for m in months), Decimal(0)) / len(months)).quantize(Decimal("0.1"))
    # the terms the months were assessed under (frozen in each), not today's contract
    result = engine.year_end_retention(held, average, months[-1].template_rules()["bands"], months[-1].contract_rules())
    return {"held": cents(held), "average": average, **result}


def renew(contract, *, by):
    """The successor contract, as a draft for the same length right after this one, with the
    same template, payment and escalation rules (to be reviewed and activated)."""
    from .models import EscalationRule, PaymentRule
    import calendar
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
        new.rules = [PaymentRule(kind=r.kind, percents=r.percents, threshold=r.threshold, floor=r.floor,
                                 amount_per_point=r.amount_per_point, below_floor_action=r.below_floor_action,
                                 expression=r.expression, incident=r.incident, amount=r.amount) for r in contract.rules]
        new.escalation_rules = [EscalationRule(fail_below=e.fail_below, consecutive=e.consecutive,
                                               cumulative=e.cumulative, action=e.action,
                                               extra_deduction=e.extra_deduction, clause=e.clause)
                                for e in contract.escalation_rules]
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
