"""Demo: four outsourcing vendors, six contracts, templates modelled on real hospital score
sheets (see shared notes), and six months of assessments using every rule kind."""
import random
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app

from erp_core import workflow
from erp_core.context import acting_as
from erp_core.types import now

from . import services
from .presets import apply_preset, build_template
from .models import AssessmentTemplate, Contract, GradeBand, PaymentRule, TemplateItem, Vendor, VendorCertificate
from .uscc import check_char


def uscc(body):
    return body + check_char(body)


VENDORS = [("杭州洁康物业服务有限公司", "91330100MA2KX1234"), ("浙江安邦保安服务有限公司", "91330100MA27Y5678"),
           ("宁波仁爱护理服务有限公司", "91330200MA28H3456"), ("杭州膳源餐饮管理有限公司", "91330100MA2H00001"),
           ("浙江通达电梯工程有限公司", "91330100MA2J11110")]

STD_BANDS = [("优秀", 90, None, 0, True, ""), ("良好", 80, 90, 2, True, ""), ("合格", 70, 80, 5, True, "限期整改"),
             ("不合格", None, 70, 10, False, "整改通知书，次月复查")]


def template(title, category, items, bands=STD_BANDS, **kw):
    t = AssessmentTemplate(title=title, service_category=category, **kw)
    for i, (section, code, name, max_points, per, rates, effect) in enumerate(items):
        t.items.append(TemplateItem(sort=i, section=section, code=code, title=name, max_points=Decimal(max_points),
                                    per_occurrence=Decimal(per), area_rates=rates, effect=effect))
    for i, (band, lo, hi, pct, passing, action) in enumerate(bands):
        t.bands.append(GradeBand(sort=i, band_name=band, lower=None if lo is None else Decimal(lo), lower_inclusive=True,
                                 upper=None if hi is None else Decimal(hi), upper_inclusive=hi == 100,
                                 deduct_percent=Decimal(pct), passing=passing, action=action))
    return t


def load(session):
    if session.query(AssessmentTemplate).count():
        return
    admin = current_app.appbuilder.sm.find_user(username="admin")
    rng = random.Random(20261124)
    with acting_as("admin"):
        vendors = []
        for i, (legal, body) in enumerate(VENDORS):
            v = Vendor(legal_name=legal, credit_code=uscc(body[:17]), contact_name=["陈经理", "刘队长", "黄主管", "林经理", "吴工"][i],
                       contact_phone=f"0571-8765{i:04d}", bank_name="中国工商银行杭州分行", bank_account=f"1202 0000 0000 {i:04d}")
            v.certificates.append(VendorCertificate(kind="营业执照", number=f"YYZZ-{i}", issuer="市场监督管理局",
                                                    valid_from=date(2020, 1, 1), valid_until=date(2030, 12, 31)))
            vendors.append(v)
        vendors[1].certificates.append(VendorCertificate(kind="保安服务许可证", number="BA-2021-88", issuer="省公安厅",
                                                         valid_from=date(2021, 6, 1),
                                                         valid_until=now().date() + timedelta(days=20)))
        session.add_all(vendors)
        # four templates straight from the presets (cleaning, security, porters, catering)
        cleaning, security, care, catering = (build_template(k) for k in ("cleaning", "security", "transport", "catering"))
        lift = template("电梯维保考核表", "lift", [
            ("保养", "L1", "按期保养", 50, 10, "", "deduct"), ("故障", "L2", "困人救援超时", 50, 25, "", "deduct")])
        session.add_all([cleaning, security, care, catering, lift])
        session.flush()
        start = date(now().year - 1, 1, 1)
        c = lambda v, title, cat, fee, t, **kw: Contract(vendor=v, title=title, service_category=cat, monthly_fee=Decimal(fee),  # noqa: E731
                                                         start_date=start, end_date=date(now().year + 1, 12, 31), template=t,
                                                         payment_terms="按月考核结算，次月 15 日前支付", **kw)
        contracts = [
            c(vendors[0], "门诊及住院部保洁服务", "cleaning", "186000.00", cleaning, retention_percent=Decimal("5")),
            c(vendors[1], "全院安保服务", "security", "98000.00", security),
            c(vendors[2], "护工与患者运送服务", "care", "126500.00", care),
            c(vendors[3], "职工食堂及病区配餐", "catering", "75000.00", catering),
            c(vendors[4], "电梯维护保养", "lift", "18600.00", lift),
            c(vendors[0], "洗涤与医用织物配送", "laundry", "42000.00", cleaning),
        ]
        contracts[-1].end_date = now().date() + timedelta(days=45)            # on the ending-soon list
        for contract, kind, tpl in zip(contracts, ("cleaning", "security", "transport", "catering"),
                                       (cleaning, security, care, catering)):
            apply_preset(contract, kind, template=tpl)
        contracts[4].rules.append(PaymentRule(kind="band_percent"))
        contracts[5].rules.append(PaymentRule(kind="band_percent"))
        session.add_all(contracts)
        session.flush()
        for contract in contracts:
            workflow.apply(contract, "activate", by=admin)
        today = now().date()
        for back in range(6, -1, -1):
            y, m = today.year, today.month - back
            while m < 1:
                y, m = y - 1, m + 12
            for contract in contracts:
                a = services.create_assessment(contract, y, m, by=admin)
                items, areas = a.template_rules()["items"], a.template_rules()["areas"]
                for _n in range(rng.randint(1, 6)):
                    item = rng.choice([i for i in items if i["effect"] == "deduct"])
                    services.add_finding(a, item_code=item["code"], area=rng.choice(areas), count=rng.randint(1, 3),
                                         location="抽查", by=admin)
                if contract.service_category == "security" and back % 2:
                    services.add_incident(a, incident="睡岗", count=1, by=admin)
                if a.template_rules()["satisfaction_weight"] != "0.0000" and a.satisfaction_score is None:
                    a.satisfaction_score = Decimal(rng.randint(82, 98))
                    services.recompute(a)
                if back == 0:
                    continue                     # this month is still being inspected
                a.vendor_rep_name = contract.vendor.contact_name
                for action in ("submit_scores", "vendor_confirm", "approve"):
                    workflow.apply(a, action, by=admin)
                if a.final_score is not None and not a.passing:
                    services.raise_rectification(a, problem="考核不合格项目：" + "、".join(
                        dict.fromkeys(i["title"] for i in items for f in a.findings if f.item_code == i["code"])),
                                                 requirement="一周内完成整改并书面回复", deadline=today + timedelta(days=7),
                                                 responsible_contact=contract.vendor.contact_name, by=admin)
    session.commit()
