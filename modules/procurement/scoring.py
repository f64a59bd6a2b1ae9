"""The evaluation arithmetic, free of the database (tested on its own).

- Price score (综合评分法, 财政部87号令): the lowest valid price gets the full price points,
  every other bid ``weight × lowest / price``.
- A bid's technical score is the average of the experts' totals; with ``drop_extremes`` and
  five or more experts, its single highest and lowest totals are dropped first.
- Ranking: total score descending; ties by lower price, then higher technical score, then the
  earlier bid. With the lowest-price method: price ascending, then the earlier bid.
Every figure is rounded half-up to 0.01 once, where it is computed.
"""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def q(value):
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def price_scores(prices, weight):
    """``{key: price}`` -> ``{key: price score}``."""
    if not prices:
        return {}
    lowest = min(prices.values())
    return {k: q(Decimal(weight) * lowest / p) for k, p in prices.items()}


def expert_average(totals, drop_extremes=True):
    totals = sorted(Decimal(t) for t in totals)
    if not totals:
        return None
    if drop_extremes and len(totals) >= 5:
        totals = totals[1:-1]
    return q(sum(totals) / len(totals))


def rank(entries, method="comprehensive"):
    """``entries``: dicts with key, price, technical, total, submitted_at -> keys, best first."""
    if method == "lowest_price":
        order = sorted(entries, key=lambda e: (e["price"], e["submitted_at"]))
    else:
        order = sorted(entries, key=lambda e: (-e["total"], e["price"], -e["technical"], e["submitted_at"]))
    return [e["key"] for e in order]
