"""Issue 19, engine level: each bullet computed by hand (these failed before), plus the
property tests over random templates and findings."""
from decimal import Decimal as D

from hypothesis import given, settings, strategies as st

from erp_core.formula import Formula
from erp_core.money import half_up
from modules.vendor_contracts import engine

BANDS = [{"name": "优秀", "lower": "90", "upper": None, "deduct_percent": "0"},
         {"name": "良好", "lower": "80", "upper": "90", "deduct_percent": "2"},
         {"name": "合格", "lower": "70", "upper": "80", "deduct_percent": "5", "action": "限期整改"},
         {"name": "不合格", "lower": None, "upper": "70", "deduct_percent": "10", "passing": False,
          "action": "整改责任书"}]


def tpl(items, **kw):
    return {"items": items, "bands": BANDS, "areas": [""], "decimals": 1, **kw}


def months(*scores, year=2026, start=1):
    return [{"year": year, "month": start + i, "score": None if s is None else D(s)} for i, s in enumerate(scores)]


# the canteen contract: four clauses at once
CANTEEN = [
    {"lower": "80", "upper": "90", "cumulative": 2, "action": "extra_deduction", "extra_deduction": "1000",
     "clause": "第九条：两个月在 80-90 分，扣款 1000 元"},
    {"lower": None, "upper": "80", "consecutive": 1, "action": "extra_deduction", "extra_deduction": "3000",
     "clause": "第十条：任一月低于 80 分，当月扣款 3000 元"},
    {"lower": None, "upper": "80", "cumulative": 2, "action": "termination_right", "extra_deduction": "0",
     "clause": "第十一条：第二个月低于 80 分，甲方有权解除合同"},
]


def test_overlapping_clauses_count_each_month_in_its_own_band():
    # Jan 85 (warning band, 1st), Feb 75 (below 80: 3000), Mar 78 (below 80: 3000 + termination right)
    feb = engine.escalations(CANTEEN, months("85", "75"))
    assert [(h["rule"]["clause"][:3], h["amount"]) for h in feb] == [("第十条", D("3000.00"))]
    mar = engine.escalations(CANTEEN, months("85", "75", "78"))
    assert [(h["rule"]["clause"][:4], h["amount"]) for h in mar] == [("第十条：", D("3000.00")), ("第十一条", D("0.00"))]
    # Apr 86: the second month in the warning band -> 1000 (the months below 80 were not warnings)
    apr = engine.escalations(CANTEEN, months("85", "75", "78", "86"))
    assert [(h["rule"]["clause"][:3], h["amount"]) for h in apr] == [("第九条", D("1000.00"))]
    pay = engine.payment({"monthly_fee": "75000", "rules": [{"kind": "band_percent"}]},
                         {"final": D("78"), "band": BANDS[2]}, applied=mar, approved=True)
    # 75 000 - 5 % (3 750) - 3 000 = 68 250 ; the clauses are named in the steps
    assert pay["payable"] == D("68250.00") and pay["extra"] == D("3000.00")
    assert any("第十条" in detail and value == D("3000.00") for _t, detail, value in pay["steps"])
    assert any("第十一条" in a for a in pay["actions"])


def test_a_later_money_clause_on_the_same_band_does_not_deduct_twice_unless_it_stacks():
    rules = [{"upper": "80", "consecutive": 1, "action": "extra_deduction", "extra_deduction": "3000", "clause": "A"},
             {"upper": "80", "cumulative": 1, "action": "extra_deduction", "extra_deduction": "500", "clause": "B"}]
    assert [h["amount"] for h in engine.escalations(rules, months("70"))] == [D("3000.00"), D("0.00")]
    rules[1]["stacks"] = True                       # the contract says both apply
    assert [h["amount"] for h in engine.escalations(rules, months("70"))] == [D("3000.00"), D("500.00")]


def test_consecutive_means_calendar_months_an_unassessed_month_breaks_the_run():
    rule = [{"upper": "80", "consecutive": 2, "action": "termination_right", "clause": "连续两个月"}]
    assert engine.escalations(rule, months("75", None, "75")) == []            # April not approved
    assert len(engine.escalations(rule, months("75", "75"))) == 1
    assert len(engine.escalations([{**rule[0], "skip_unassessed": True}], months("75", None, "75"))) == 1


def test_band_actions_fire_whatever_the_payment_kind():
    for rule in ({"kind": "per_point", "threshold": "90", "floor": "60", "amount_per_point": "100"},
                 {"kind": "formula", "expression": "if(score >= 85, 100, 15 + score)"}):
        pay = engine.payment({"monthly_fee": "1000", "rules": [rule]}, {"final": D("65"), "band": BANDS[3]})
        assert pay["actions"] == ["整改责任书"], rule


ITEMS = [{"code": "L", "title": "垃圾", "max_points": "10", "per_occurrence": "2",
          "kinds": {"乱扔垃圾": "2", "未分类": "5", "医废流失": "全扣"}},
         {"code": "B", "title": "表扬信", "max_points": "3", "per_occurrence": "1", "effect": "bonus"},
         {"code": "S", "title": "重大安全事故", "max_points": "0", "per_occurrence": "0", "effect": "downgrade"},
         {"code": "C", "title": "有效投诉", "max_points": "30", "per_occurrence": "3"}]


def test_several_deduction_kinds_share_the_items_one_cap():
    # 2 x 2 + 2 x 5 = 14, the item is worth 10: 90 (split into two items it lost 14)
    r = engine.score(tpl(ITEMS), [{"item": "L", "kind": "乱扔垃圾", "count": 2}, {"item": "L", "kind": "未分类", "count": 2}])
    assert r["final"] == D("90.0")
    # 全扣 with ordinary findings in the same item: the item is 0, not below
    r = engine.score(tpl(ITEMS), [{"item": "L", "kind": "乱扔垃圾", "count": 1}, {"item": "L", "kind": "医废流失", "count": 1},
                                  {"item": "L", "kind": "未分类", "count": 3}])
    assert r["final"] == D("90.0")


def test_bonus_points_are_capped_and_the_sheet_stays_within_full_marks():
    r = engine.score(tpl(ITEMS), [{"item": "C", "count": 3}, {"item": "B", "count": 5}])   # 100 - 9 + 3 (cap 3)
    assert r["final"] == D("94.0")
    assert engine.score(tpl(ITEMS), [{"item": "B", "count": 2}])["final"] == D("100.0")   # not above full marks


def test_a_serious_incident_lowers_the_grade_by_one():
    r = engine.score(tpl(ITEMS), [{"item": "C", "count": 1}, {"item": "S", "count": 1}])   # 97 优秀 -> 良好
    assert r["final"] == D("97.0") and r["band"]["name"] == "良好"
    r = engine.score(tpl(ITEMS), [{"item": "C", "count": 10}, {"item": "S", "count": 1}])  # 70 合格 -> 不合格
    assert r["band"]["name"] == "不合格"


def test_a_money_reward_for_an_excellent_month_is_paid_on_top():
    contract = {"monthly_fee": "50000", "retention_percent": "5",
                "rules": [{"kind": "band_percent"}, {"kind": "reward", "grade": "优秀", "amount": "2000"}]}
    pay = engine.payment(contract, {"final": D("96"), "band": BANDS[0]}, approved=True)
    # payable 50 000, retention 2 500, reward 2 000 -> paid now 49 500
    assert (pay["payable"], pay["reward"], pay["paid_now"]) == (D("50000.00"), D("2000.00"), D("49500.00"))
    assert engine.payment(contract, {"final": D("85"), "band": BANDS[1]})["reward"] == D("0")


def test_retention_release_is_explicit_and_not_forfeited_without_bands():
    year = [(D("97"), True)] * 12
    assert engine.year_end_retention(D("1200"), year, [], {"retention_rule": "average", "retention_mark": "90"})[
        "released"] == D("1200.00")                                   # no grade bands at all: released
    assert engine.year_end_retention(D("1200"), year, [], {})["released"] == D("1200.00")
    weak = [(D("85"), True)] * 10 + [(D("60"), False)] * 2          # average (850 + 120) / 12 = 80.83 -> 80.8
    out = engine.year_end_retention(D("1200"), weak, BANDS, {"retention_rule": "average", "retention_mark": "90"})
    assert out["average"] == D("80.8") and out["forfeited"] == D("1200.00")
    assert engine.year_end_retention(D("1200"), weak, BANDS, {"retention_rule": "failed_months",
                                                              "retention_mark": "2"})["released"] == D("1200.00")
    assert engine.year_end_retention(D("1200"), weak, BANDS, {"retention_rule": "failed_months",
                                                              "retention_mark": "1"})["released"] == D("0.00")
    assert any("80.8" in str(v) for _t, _d, v in out["steps"])       # printed with the year's calculation


def test_one_rounding_rule_half_up(app):
    with app.test_request_context():
        assert Formula("round(score)").evaluate(score="84.5") == D("85")       # was 84 (half to even)
        assert Formula("round(score, 1)").evaluate(score="2.25") == D("2.3")
    assert half_up(D("89.25"), 1) == D("89.3")
    # the annual average: 89.2 and 89.3 -> 89.25 -> 89.3 (half-even gave 89.2)
    out = engine.year_end_retention(D("100"), [(D("89.2"), True), (D("89.3"), True)], BANDS, {})
    assert out["average"] == D("89.3")


def test_bands_must_cover_the_range_without_gaps(app):
    with app.test_request_context():
        gap = [{"name": "合格", "lower": "80", "upper": "100", "upper_inclusive": True},
               {"name": "不合格", "lower": None, "upper": "70"}]
        assert "70" in engine.check_coverage(gap, 100)
        assert engine.check_coverage(BANDS, 100) is None
        assert engine.check_coverage([{"name": "x", "lower": "90", "upper": "80"}], 100)
        assert engine.check_coverage([{**BANDS[0], "deduct_percent": "150"}], 100, claimed_only=True)
        assert engine.check_coverage([BANDS[0]], 100, claimed_only=True) is None     # being built
        assert engine.check_coverage([BANDS[0]], 100)                                  # in force: 0-90 missing


# --- properties -------------------------------------------------------------------------------

item_st = st.fixed_dictionaries({
    "max_points": st.integers(0, 40).map(str), "per_occurrence": st.sampled_from(["0.5", "1", "2", "3", "5"]),
    "effect": st.sampled_from(["deduct", "deduct", "zero", "veto", "bonus", "downgrade"]),
    "kinds": st.sampled_from([{}, {"a": "1", "b": "4"}, {"a": "2", "w": "全扣"}])})
rule_st = st.sampled_from([
    {"kind": "band_percent"}, {"kind": "per_point", "threshold": "90", "floor": "60", "amount_per_point": "700"},
    {"kind": "formula", "expression": "if(score >= 85, 100, max(0, 15 + score))"},
    {"kind": "fine", "incident": "睡岗", "amount": "800"}, {"kind": "reward", "grade": "优秀", "amount": "900"}])


@settings(max_examples=100, deadline=None)
@given(st.lists(item_st, min_size=1, max_size=5), st.data(),
       st.decimals(min_value=0, max_value=200000, places=2), st.lists(rule_st, min_size=1, max_size=4),
       st.integers(0, 4), st.sampled_from([None, "0", "1500"]))
def test_payable_within_the_fee_and_equal_to_the_printed_steps(app, items, data, fee, rules, fines, extra):
    items = [{**i, "code": f"I{n}", "title": f"项目{n}"} for n, i in enumerate(items)]
    findings = data.draw(st.lists(st.builds(
        lambda i, c, k: {"item": items[i]["code"], "count": c,
                         "kind": (sorted(items[i]["kinds"]) or [""])[k % max(1, len(items[i]["kinds"]))]},
        st.integers(0, len(items) - 1), st.integers(1, 6), st.integers(0, 3)), max_size=8))
    with app.test_request_context():
        result = engine.score(tpl(items), findings, satisfaction=None)
        applied = engine.escalations([{"upper": "90", "consecutive": 1, "action": "extra_deduction",
                                       "extra_deduction": extra or "0", "clause": "C"}],
                                     months(result["final"]))
        pay = engine.payment({"monthly_fee": str(fee), "rules": rules, "retention_percent": "5"}, result,
                             [{"type": "睡岗", "count": fines}], approved=True, applied=applied)
        titles = [str(t) for t, _d, _v in pay["steps"]]
        at_payable = titles.index(str(engine._("Payable")))
    assert D(0) <= pay["payable"] <= fee
    # the printed lines between the fee and the payable are every deduction, fine and clause applied
    lines = [v for _t, _d, v in pay["steps"]]
    assert lines[0] == fee
    assert lines[at_payable] == pay["payable"]
    taken = sum(lines[1:at_payable])
    assert pay["payable"] == max(D("0.00"), fee - taken)
    assert pay["paid_now"] == pay["payable"] - pay["retention"] + pay["reward"]
    assert D(0) <= result["final"] <= D(100)
