"""Rule presets by service kind, from the patterns in hospital contracts and score sheets
(shared/notes/assessment-practice.md): a template (items, bands) plus the contract's payment
and escalation clauses and its retention rule, ready to review and adjust. One request sets
a contract up; copying another contract's rules is the other way."""
from decimal import Decimal

from flask_babel import gettext as _

from erp_core.errors import Conflict, ValidationError

STD_BANDS = [("优秀", 90, None, 0, True, ""), ("良好", 80, 90, 2, True, ""), ("合格", 70, 80, 5, True, "限期整改"),
             ("不合格", None, 70, 10, False, "整改通知书，次月复查")]

# items: (section, code, title, max points, points per finding, area rates, effect, kinds)
PRESETS = {
    "cleaning": {
        "title": "保洁服务月度考核表", "areas": "门诊, 病房, 手术室", "area_combine": "mean",
        "inspection_weight": "0.8", "satisfaction_weight": "0.2", "decimals": 1, "bands": STD_BANDS,
        "items": [("诊室", "C1", "地面、桌面清洁，无污渍积灰", 15, 1, "手术室:3, 病房:0.5", "deduct", ""),
                  ("病房", "C2", "床单位终末消毒", 15, 2, "", "deduct", ""),
                  ("卫生间", "C3", "卫生间无异味、无积水", 10, 1, "", "deduct", ""),
                  ("公共区域", "C4", "垃圾清运与分类", 10, 2, "", "deduct", "乱扔垃圾:2, 未分类:5, 医废混入生活垃圾:全扣"),
                  ("感控", "C5", "拖布分区专用", 10, 2, "手术室:5", "deduct", ""),
                  ("感控", "C6", "医疗废物每日收集不少于两次", 20, 5, "", "zero", ""),
                  ("感控", "C7", "发生院感暴发或医废流失", 20, 20, "", "veto", ""),
                  ("服务对象评价", "C8", "有效投诉（每起）", 10, 2, "", "deduct", ""),
                  ("奖励", "C9", "书面表扬（每次加 1 分）", 3, 1, "", "bonus", "")],
        "rules": [{"kind": "band_percent"}], "retention": ("grade", None, "不合格:100, 合格:50"),
        "escalations": [dict(lower=None, upper=80, consecutive=2, cumulative=3, action="termination_right",
                             clause="连续两个月或一年内累计三个月考核低于 80 分，甲方有权解除合同。")]},
    "catering": {
        "title": "食堂配餐服务考核表", "areas": "职工食堂, 病区配餐间", "area_combine": "min",
        "inspection_weight": "0.7", "satisfaction_weight": "0.3", "decimals": 1,
        "bands": [("优秀", 95, 100, 0, True, ""), ("良好", 85, 95, 1, True, ""), ("合格", 80, 85, 3, True, ""),
                  ("不合格", None, 80, 8, False, "整改责任书")],
        "items": [("环境", "F1", "环境卫生", 20, 2, "", "deduct", ""),
                  ("仪表", "F2", "帽子、口罩、手套", 20, 1, "", "deduct", ""),
                  ("时效", "F3", "送餐超时", 20, 3, "", "deduct", ""),
                  ("质量", "F4", "餐品质量、品种", 20, 3, "", "deduct", "异物:5, 口味投诉:2, 变质:全扣"),
                  ("安全", "F5", "食品安全事故", 20, 20, "", "downgrade", "")],
        "rules": [{"kind": "band_percent", "percents": "优秀:0, 良好:1, 合格:3, 不合格:8"},
                  {"kind": "reward", "grade": "优秀", "amount": "2000"}],
        "retention": ("average", "85", ""),
        "escalations": [dict(lower=80, upper=90, cumulative=2, action="extra_deduction", extra_deduction="1000",
                             clause="两个月考核在 80-90 分（警告），扣款 1000 元。"),
                        dict(lower=None, upper=80, consecutive=1, action="extra_deduction", extra_deduction="3000",
                             clause="任一月考核低于 80 分，当月扣款 3000 元。"),
                        dict(lower=None, upper=80, cumulative=2, action="termination_right",
                             clause="一年内第二个月考核低于 80 分，甲方有权解除合同。")]},
    "security": {
        "title": "安保服务月度考核表", "areas": "", "area_combine": "mean", "decimals": 0,
        "inspection_weight": "1", "satisfaction_weight": "0",
        "bands": [("合格", 80, 100, 0, True, ""), ("不合格", None, 80, 0, False, "整改通知书")],
        "items": [("在岗纪律", "S1", "在岗纪律", 30, 5, "", "deduct", "睡岗:5, 脱岗:5, 酒后上岗:全扣"),
                  ("门岗管理", "S2", "门岗登记、车辆疏导", 25, 2, "", "deduct", ""),
                  ("巡视", "S3", "病房夜间巡视记录", 25, 2, "", "deduct", ""),
                  ("消防", "S4", "消防设施每日检查", 20, 5, "", "deduct", "")],
        "rules": [{"kind": "per_point", "threshold": "90", "floor": "70", "amount_per_point": "500",
                   "below_floor_action": "书面警告并约谈负责人"},
                  {"kind": "fine", "incident": "睡岗", "amount": "200"},
                  {"kind": "fine", "incident": "脱岗", "amount": "500"}],
        "retention": ("failed_months", "1", ""),
        "escalations": [dict(lower=None, upper=80, consecutive=2, action="warning",
                             clause="连续两个月不合格，书面警告。")]},
    "transport": {
        "title": "护工与运送服务考核表", "areas": "病房, 门诊", "area_combine": "weighted",
        "area_weights": "病房:2, 门诊:1", "decimals": 2, "inspection_weight": "1", "satisfaction_weight": "0",
        "bands": STD_BANDS,
        "items": [("及时性", "P1", "运送不及时", 30, 2, "", "deduct", ""),
                  ("安全", "P2", "运送患者安全", 40, 10, "", "deduct", ""),
                  ("差错", "P3", "取药、标本送检差错", 30, 5, "", "deduct", "标本送检延误:5, 标本丢失:全扣")],
        "rules": [{"kind": "formula", "expression": "if(score >= 85, 100, 15 + score)",
                   "wording": "得分 85 分及以上全额支付；低于 85 分按（15 + 得分）% 支付"}],
        "retention": ("full", None, ""), "escalations": []},
}


def build_template(kind):
    """A new (unsaved) template from a preset."""
    from .models import AssessmentTemplate, GradeBand, TemplateItem
    p = PRESETS[kind]
    category = "transport" if kind == "transport" else kind
    t = AssessmentTemplate(title=p["title"], service_category=category, areas=p.get("areas", ""),
                           area_combine=p["area_combine"], area_weights=p.get("area_weights", ""),
                           inspection_weight=Decimal(p["inspection_weight"]),
                           satisfaction_weight=Decimal(p["satisfaction_weight"]), decimals=p["decimals"])
    for i, (section, code, title, max_points, per, rates, effect, kinds) in enumerate(p["items"]):
        t.items.append(TemplateItem(sort=i, section=section, code=code, title=title, max_points=Decimal(max_points),
                                    per_occurrence=Decimal(per), area_rates=rates, effect=effect, kinds=kinds))
    for i, (name, lo, hi, pct, passing, action) in enumerate(p["bands"]):
        t.bands.append(GradeBand(sort=i, band_name=name, lower=None if lo is None else Decimal(lo), lower_inclusive=True,
                                 upper=None if hi is None else Decimal(hi), upper_inclusive=hi == 100,
                                 deduct_percent=Decimal(pct), passing=passing, action=action))
    return t


def _draft(contract):
    if contract.workflow_state not in (None, "draft"):
        raise Conflict(_("%(doc)s is in force: its rules are changed by a new contract or renewal.", doc=contract.name))


def apply_preset(contract, kind, *, template=None):
    """Set a draft contract's template, payment and escalation rules and retention rule from
    a preset (the template is new unless one from the same preset is given)."""
    from .models import EscalationRule, PaymentRule
    if kind not in PRESETS:
        raise ValidationError(_("Unknown preset %(kind)s (there are: %(known)s).", kind=kind, known=", ".join(PRESETS)))
    _draft(contract)
    p = PRESETS[kind]
    contract.template = template or build_template(kind)
    contract.rules = [PaymentRule(**{k: (Decimal(v) if k in ("threshold", "floor", "amount_per_point", "amount") else v)
                                     for k, v in r.items()}) for r in p["rules"]]
    contract.escalation_rules = [
        EscalationRule(sort=i, lower=None if e.get("lower") is None else Decimal(e["lower"]),
                       fail_below=Decimal(e["upper"]), consecutive=e.get("consecutive"), cumulative=e.get("cumulative"),
                       action=e["action"], extra_deduction=Decimal(e.get("extra_deduction", "0")), clause=e["clause"])
        for i, e in enumerate(p["escalations"])]
    contract.retention_rule, mark, contract.retention_release = p["retention"]
    contract.retention_mark = None if mark is None else Decimal(mark)
    return contract


def copy_rules(target, source):
    """A draft contract takes another contract's template, payment and escalation rules and
    retention terms (one request instead of ten)."""
    from .models import EscalationRule, PaymentRule
    _draft(target)
    target.template = source.template
    target.rules = [PaymentRule(kind=r.kind, percents=r.percents, threshold=r.threshold, floor=r.floor,
                                amount_per_point=r.amount_per_point, below_floor_action=r.below_floor_action,
                                expression=r.expression, wording=r.wording, grade=r.grade, incident=r.incident,
                                amount=r.amount) for r in source.rules]
    target.escalation_rules = [EscalationRule(sort=e.sort, lower=e.lower, fail_below=e.fail_below,
                                              consecutive=e.consecutive, cumulative=e.cumulative, action=e.action,
                                              extra_deduction=e.extra_deduction, clause=e.clause,
                                              skip_unassessed=e.skip_unassessed, stacks=e.stacks)
                               for e in source.escalation_rules]
    target.retention_percent, target.retention_rule = source.retention_percent, source.retention_rule
    target.retention_mark, target.retention_release = source.retention_mark, source.retention_release
    return target
