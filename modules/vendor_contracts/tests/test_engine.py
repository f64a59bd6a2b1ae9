"""The rule engine with hand-computed figures, and its properties (hypothesis)."""
from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from modules.vendor_contracts import engine

BANDS = [{"name": "优秀", "lower": "90", "lower_inclusive": True, "upper": None, "deduct_percent": "0"},
         {"name": "良好", "lower": "80", "lower_inclusive": True, "upper": "90", "upper_inclusive": False, "deduct_percent": "2"},
         {"name": "合格", "lower": "70", "lower_inclusive": True, "upper": "80", "upper_inclusive": False, "deduct_percent": "5"},
         {"name": "不合格", "lower": None, "upper": "70", "upper_inclusive": False, "deduct_percent": "10", "passing": False}]
ITEMS = [{"code": "A", "title": "地面清洁", "max_points": "10", "per_occurrence": "2", "area_rates": {"手术室": "5"}},
         {"code": "B", "title": "医废收集", "max_points": "20", "per_occurrence": "1", "effect": "zero"},
         {"code": "V", "title": "院感暴发", "max_points": "20", "per_occurrence": "20", "effect": "veto"},
         {"code": "C", "title": "有效投诉", "max_points": "30", "per_occurrence": "3"}]


def tpl(**kw):
    return {"items": ITEMS, "bands": BANDS, "areas": ["门诊", "病房", "手术室"], "decimals": 1, **kw}


def test_deductions_cap_zero_item_and_area_rates():
    r = engine.score(tpl(), [{"item": "A", "area": "手术室", "count": 3},     # 3 x 5 = 15, capped at 10
                             {"item": "A", "area": "门诊", "count": 2},       # 2 x 2 = 4
                             {"item": "B", "area": "病房", "count": 1},       # whole item: 20
                             {"item": "C", "area": "病房", "count": 2}])      # 6
    assert r["area_scores"] == {"门诊": D(96), "病房": D(74), "手术室": D(90)}
    assert r["final"] == D("86.7") and r["band"]["name"] == "良好"              # (96 + 74 + 90) / 3 = 86.666…


def test_combine_by_weighted_mean_and_by_worst_area():
    findings = [{"item": "C", "area": "病房", "count": 5}]                    # 病房 85
    weighted = engine.score(tpl(area_combine="weighted", area_weights={"门诊": "1", "病房": "2", "手术室": "1"}), findings)
    assert weighted["final"] == D("92.5")                                     # (100 + 170 + 100) / 4
    assert engine.score(tpl(area_combine="min"), findings)["final"] == D("85.0")


def test_veto_fails_the_sheet():
    r = engine.score(tpl(veto_score="0"), [{"item": "V", "area": "门诊", "count": 1}], satisfaction=D(99))
    assert r["vetoed"] and r["final"] == D("0.0") and r["band"]["name"] == "不合格"


def test_blend_with_satisfaction_and_round_once():
    r = engine.score(tpl(areas=["全院"], inspection_weight="0.8", satisfaction_weight="0.2", decimals=1),
                     [{"item": "C", "count": 3}], satisfaction=D("87.26"))       # 91 x .8 + 87.26 x .2 = 90.252
    assert r["final"] == D("90.3") and r["band"]["name"] == "优秀"
    # rounding once: 89.95 rounds to 90.0 (优秀); rounding twice (89.95 -> 90.0 -> ...) is not done
    r = engine.score(tpl(areas=["全院"], inspection_weight="0.5", satisfaction_weight="0.5", decimals=1),
                     [{"item": "C", "count": 3}], satisfaction=D("88.9"))        # (91 + 88.9) / 2 = 89.95
    assert r["final"] == D("90.0") and r["band"]["name"] == "优秀"


@pytest.mark.parametrize("score, band", [("90", "优秀"), ("89.99", "良好"), ("80", "良好"), ("79.99", "合格"),
                                         ("70", "合格"), ("69.99", "不合格"), ("100", "优秀"), ("0", "不合格")])
def test_band_boundaries(score, band):
    assert engine.grade(D(score), BANDS)["name"] == band


def test_band_intervals_are_shown_as_written_and_overlaps_refused(app):
    assert engine.band_text(BANDS[1]) == "[80, 90)" and engine.band_text(BANDS[0]) == "[90, +∞)"
    with app.app_context():
        assert engine.check_bands(BANDS) is None
        assert engine.check_bands(BANDS + [{"name": "x", "lower": "85", "upper": "95"}])


def result(final, band_name=None):
    return {"final": D(final), "band": engine.grade(D(final), BANDS) if band_name is None else band_name}


FEE = {"monthly_fee": "186000.00", "retention_percent": "5"}


def test_band_percent_payment_retention_and_gate():
    pay = engine.payment({**FEE, "rules": [{"kind": "band_percent"}]}, result("85.3"), approved=True)
    assert pay["deductions"] == D("3720.00") and pay["payable"] == D("182280.00")     # 2 % of 186 000
    assert pay["retention"] == D("9114.00") and pay["paid_now"] == D("173166.00")
    assert engine.payment({**FEE, "rules": [{"kind": "band_percent"}]}, result("85.3"))["paid_now"] == D("0.00")


def test_per_point_with_floor_and_action():
    rule = {"kind": "per_point", "threshold": "90", "floor": "70", "amount_per_point": "500",
            "below_floor_action": "约谈"}
    pay = engine.payment({"monthly_fee": "98000", "rules": [rule]}, result("82.5"), approved=True)
    assert pay["deductions"] == D("3750.00")                                 # 7.5 points x 500
    low = engine.payment({"monthly_fee": "98000", "rules": [rule]}, result("41"), approved=True)
    assert low["deductions"] == D("10000.00") and low["actions"] == ["约谈"]  # counted down to 70 only


def test_formula_and_fines():
    pay = engine.payment({"monthly_fee": "126500.00", "rules": [
        {"kind": "formula", "expression": "if(score >= 85, 100, 15 + score)"},
        {"kind": "fine", "incident": "睡岗", "amount": "200"}]}, result("79.67"),
        [{"type": "睡岗", "count": 2}, {"type": "其他", "count": 1}], approved=True)
    # paid 94.67 % -> deduction 126500 x 5.33 % = 6742.45; fines 400
    assert pay["deductions"] == D("7142.45") and pay["fines"] == D("400.00") and pay["payable"] == D("119357.55")


def test_year_end_retention_by_the_years_grade():
    out = engine.year_end_retention(D("1000.00"), [(D("75"), True)], BANDS, {"retention_release": {"合格": "50"}})
    assert out["forfeited"] == D("500.00") and out["released"] == D("500.00")
    assert engine.year_end_retention(D("1000"), [(D("95"), True)], BANDS, {})["released"] == D("1000.00")


scores = st.decimals(min_value=0, max_value=100, places=2)
fees = st.decimals(min_value=0, max_value=10_000_000, places=2)


@settings(max_examples=200, deadline=None)
@given(fees, scores)
def test_payable_never_exceeds_fee_and_floor_holds(fee, s):
    rules = [{"kind": "per_point", "threshold": "90", "floor": "60", "amount_per_point": "100"},
             {"kind": "band_percent"}]
    pay = engine.payment({"monthly_fee": str(fee), "rules": rules}, result(s), approved=True)
    assert D(0) <= pay["payable"] <= fee
    # the stated floor: per-point never takes more than (90 - 60) x 100, bands at most 10 %
    assert pay["payable"] >= max(D(0), fee - D(3000) - (fee * D("0.10")).quantize(D("0.01"))) - D("0.01")


@settings(max_examples=200, deadline=None)
@given(fees, scores, scores)
def test_payable_is_monotonic_in_the_score(fee, a, b):
    low, high = sorted((a, b))
    for rules in ([{"kind": "band_percent"}],
                  [{"kind": "per_point", "threshold": "90", "floor": "60", "amount_per_point": "250"}]):
        pay_low = engine.payment({"monthly_fee": str(fee), "rules": rules}, result(low), approved=True)["payable"]
        pay_high = engine.payment({"monthly_fee": str(fee), "rules": rules}, result(high), approved=True)["payable"]
        assert pay_low <= pay_high
