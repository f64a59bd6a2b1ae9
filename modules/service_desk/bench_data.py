"""Bench volume (``python -m bench``): 100,000 work orders through the demo's simulation (each
request through the SLA clock), at a large hospital's ~350 requests a day, so the duplicate
share and the figures read as in the demo."""
import math

VOLUME = "100,000 work orders"
KEPT = 0.75       # share of requests that become orders (the rest are duplicates) at this density


def generate(session, scale):
    from sqlalchemy import func, select
    from .demo import load
    from .models import Request, WorkOrder
    target = max(200, int(100_000 * scale))
    per_day = min(350, max(20, target // 60))
    load(session, days=math.ceil(target / (per_day * KEPT)), per_day=per_day)
    session.flush()
    return {"work orders": session.scalar(select(func.count()).select_from(WorkOrder)),
            "requests": session.scalar(select(func.count()).select_from(Request))}
