"""Home-page widgets contributed by modules (``houqin_dashboard_widgets``).

A widget declares the permission it needs and a ``data()`` callable; erp_core renders
it server-side (numbers, bars, lines as inline SVG), so nothing loads from outside the
hospital network.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Widget:
    name: str
    title: object
    permission: str            # document permission name; the user needs `action` on it
    data: Callable             # data(user) -> dict, see kinds below
    kind: str = "count"        # count: {"value", "hint"?, "link"?}; bars/line: {"points": [(label, number)]};
    action: str = "read"       # table: {"columns": [...], "rows": [[...]]}
    order: int = 100


def bar_svg(points, width=360, height=140):
    """Data for a simple bar chart: [(x, y, w, h, label, value)] plus the max."""
    values = [float(v or 0) for _l, v in points] or [0]
    top = max(values) or 1
    n = max(len(points), 1)
    slot = width / n
    bars = []
    for i, (label, value) in enumerate(points):
        h = (float(value or 0) / top) * (height - 30)
        bars.append(dict(x=i * slot + slot * 0.15, y=height - 18 - h, w=slot * 0.7, h=h,
                         label=label, value=value, lx=i * slot + slot / 2))
    return bars


def line_svg(points, width=360, height=140):
    values = [float(v or 0) for _l, v in points] or [0]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    n = max(len(points) - 1, 1)
    coords = []
    for i, (label, value) in enumerate(points):
        x = 20 + i * (width - 40) / n
        y = height - 20 - (float(value or 0) - lo) / span * (height - 40)
        coords.append(dict(x=x, y=y, label=label, value=value))
    return coords
