"""Demo register: two vendors (the cleaning and the care contract of vendor_contracts' demo),
40 people across posts, some certificates expired or expiring, trainings, a few violations
(one person flagged for removal), uniforms some overdue, agreed headcounts per contract."""
import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from erp_core.context import acting_as

from .models import (ACTIVE, LEFT, SERIOUS, AgreedHeadcount, Attendance, Certificate, CertificateType, Issue, Person,
                     Post, Training, Violation, today)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["秀英", "桂兰", "建国", "玉梅", "海燕", "志强", "丽娟", "春花", "国华", "红梅", "德明", "淑珍", "小红", "永刚",
         "翠兰", "金凤", "卫东", "美玲", "凤英", "长江"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_number(region, birth, seq):
    body = f"{region}{birth}{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def load(session):
    if session.scalar(select(Post.id).limit(1)) is not None:
        return
    from modules.vendor_contracts.models import Contract
    contracts = {c.service_category: c for c in session.scalars(select(Contract).where(
        Contract.workflow_state == "active").order_by(Contract.id))}
    cleaning, care = contracts.get("cleaning"), contracts.get("care")
    if cleaning is None or care is None:
        return
    rng = random.Random(20261201)
    day = today()
    with acting_as("admin"):
        t = {code: CertificateType(code=code, title=title, note=note) for code, title, note in [
            ("SGZ", "上岗证", "医院后勤岗前培训合格"), ("PHZ", "陪护资格证", "医疗护理员培训合格证"),
            ("JKZ", "健康证", "食品从业人员健康证明"), ("DGZ", "特种作业操作证（电工）", "应急管理部门核发"),
            ("BAZ", "保安员证", "公安机关核发")]}
        posts = {code: Post(code=code, title=title, required=[t[c] for c in req]) for code, title, req in [
            ("cleaner", "保洁员", ["SGZ"]), ("porter", "运送员", ["SGZ"]), ("care_worker", "护工", ["SGZ", "PHZ", "JKZ"]),
            ("cook", "厨师", ["JKZ"]), ("security", "保安员", ["BAZ"]), ("electrician", "电工", ["SGZ", "DGZ"])]}
        session.add_all(list(posts.values()))
        session.flush()
        session.add_all([AgreedHeadcount(contract=cleaning, post=posts["cleaner"], headcount=18),
                         AgreedHeadcount(contract=cleaning, post=posts["electrician"], headcount=2),
                         AgreedHeadcount(contract=care, post=posts["care_worker"], headcount=15),
                         AgreedHeadcount(contract=care, post=posts["porter"], headcount=6)])
        plan = ([(cleaning, "cleaner", ["门诊一楼", "门诊二楼", "住院部3病区", "住院部5病区", "手术室"])] * 17
                + [(cleaning, "electrician", ["配电房"])] * 2
                + [(care, "care_worker", ["心内科病区", "骨科病区", "神经内科病区", "老年病区"])] * 14
                + [(care, "porter", ["运送中心"])] * 7)
        people = []
        for n, (contract, code, wards) in enumerate(plan):
            post = posts[code]
            entry = day - timedelta(days=rng.randint(40, 700))
            p = Person(full_name=rng.choice(SURNAMES) + GIVEN[n % len(GIVEN)],
                       id_card=id_number(rng.choice(["330102", "330106", "341221", "412726"]),
                                         f"19{rng.randint(65, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}", n + 1),
                       phone=f"139{rng.randint(10000000, 99999999)}", vendor=contract.vendor, contract=contract,
                       entry_date=entry, department=rng.choice(wards))
            for ctype in post.required:
                p.certificates.append(Certificate(certificate_type=ctype, number=f"{ctype.code}-{2024 + n % 3}-{n:04d}",
                                                  issuer="杭州市卫生健康委员会" if ctype.code != "DGZ" else "浙江省应急管理厅",
                                                  valid_from=entry - timedelta(days=30),
                                                  valid_until=day + timedelta(days=rng.randint(60, 900))))
            session.add(p)
            session.flush()
            p.post, p.status = post, ACTIVE       # the assignment passes the certificate rule
            session.flush()
            people.append(p)
        # certificates that lapsed since, and some running out this month
        for p, days in zip(people[3::9], (-20, -3, -45, -8)):
            p.certificates[0].valid_until = day + timedelta(days=days)
        for p, days in zip(people[5::8], (5, 12, 21, 28, 29)):
            p.certificates[-1].valid_until = day + timedelta(days=days)
        # people who left in the last months (turnover)
        for p, back in zip(people[7::6], (3, 20, 34, 50, 70)):
            p.exit_date, p.status = max(p.entry_date + timedelta(days=1), day - timedelta(days=back)), LEFT
        session.flush()
        on_duty = [p for p in people if p.status == ACTIVE]
        for i, (topic, trainer, hours) in enumerate([("院感防控与手卫生", "感染管理科 周护士长", "2"),
                                                    ("医疗废物分类与交接", "总务科 钱科长", "1.5"),
                                                    ("患者安全转运", "急诊科 孙医生", "3"),
                                                    ("消防安全与应急疏散", "保卫科 郑科长", "2")]):
            tr = Training(held_on=day - timedelta(days=15 + 30 * i), topic=topic, trainer=trainer, hours=Decimal(hours))
            for p in rng.sample(on_duty, 10):
                tr.attendees.append(Attendance(person=p, score=Decimal(rng.randint(62, 100))))
            session.add(tr)
        session.flush()
        carer = [p for p in on_duty if p.post.code == "care_worker"]
        cleaner = [p for p in on_duty if p.post.code == "cleaner"]
        for p, back, rule, sev, penalty, fine in [
                (carer[0], 40, "从事护理技术操作（私自调节输液速度）", SERIOUS, "书面警告", "200"),
                (carer[0], 6, "向患者家属索要红包", SERIOUS, "罚款并通报", "500"),
                (carer[1], 10, "工作时间玩手机", "minor", "口头警告", "0"),
                (cleaner[0], 4, "拖布未分区使用", "minor", "扣分", "50"),
                (cleaner[1], 2, "医疗废物未按规定交接", SERIOUS, "书面警告", "300")]:
            session.add(Violation(person=p, occurred_on=day - timedelta(days=back), rule=rule, witness="护士长",
                                  severity=sev, penalty=penalty, fine=Decimal(fine)))
            session.flush()
        for p in people:
            due = p.entry_date + timedelta(days=365)
            session.add(Issue(person=p, item="工作服", size=rng.choice(["M", "L", "XL"]), quantity=2,
                              issued_on=p.entry_date, replace_due=due))
            if p.post.code in ("electrician", "porter"):
                session.add(Issue(person=p, item="绝缘手套" if p.post.code == "electrician" else "防滑鞋", quantity=1,
                                  issued_on=p.entry_date, replace_due=p.entry_date + timedelta(days=180)))
        session.flush()
