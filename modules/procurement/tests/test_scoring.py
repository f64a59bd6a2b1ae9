from datetime import datetime, timedelta
from decimal import Decimal as D

from modules.procurement import scoring


def test_lowest_valid_price_gets_full_points_others_proportionally():
    s = scoring.price_scores({"a": D("2196000.00"), "b": D("2280000.00"), "c": D("2350000.00")}, D("30"))
    assert s == {"a": D("30.00"), "b": D("28.89"), "c": D("28.03")}     # 30 × 2196000 / 2280000 = 28.894…


def test_expert_average_drops_highest_and_lowest_from_five():
    assert scoring.expert_average([D(60), D(62), D(64), D(66), D(68)]) == D("64.00")
    assert scoring.expert_average([D(40), D(62), D(64), D(66), D(70)]) == D("64.00")      # 40 and 70 dropped
    assert scoring.expert_average([D(40), D(62), D(64), D(66), D(70)], drop_extremes=False) == D("60.40")
    assert scoring.expert_average([D(40), D(62), D(64), D(70)]) == D("59.00")             # fewer than 5: all count
    assert scoring.expert_average([D("61"), D("62"), D("62")]) == D("61.67")              # half-up once


def test_ties_go_to_the_lower_price_then_technical_then_earlier_bid():
    t0 = datetime(2026, 11, 1, 9)
    e = lambda k, total, price, tech, minutes: dict(key=k, total=D(total), price=D(price), technical=D(tech),
                                                    submitted_at=t0 + timedelta(minutes=minutes))
    assert scoring.rank([e("a", 90, 100, 60, 0), e("b", 90, 99, 61, 5)]) == ["b", "a"]          # lower price
    assert scoring.rank([e("a", 90, 100, 60, 0), e("b", 90, 100, 61, 5)]) == ["b", "a"]         # higher technical
    assert scoring.rank([e("a", 90, 100, 60, 5), e("b", 90, 100, 60, 0)]) == ["b", "a"]         # earlier bid
    assert scoring.rank([e("a", 91, 120, 70, 5), e("b", 90, 100, 60, 0)]) == ["a", "b"]         # total first
    assert scoring.rank([e("a", 0, 120, 0, 0), e("b", 0, 100, 0, 5)], "lowest_price") == ["b", "a"]
