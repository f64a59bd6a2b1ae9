"""The desk's print formats: the work-order slip (QR to the order), QR label sheets of a
building or floor, and the monthly service report with its charts drawn as inline SVG on
the server (no JavaScript, nothing fetched)."""
from flask import url_for
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from erp_core.errors import NotFound
from erp_core.extensions import db
from erp_core.printing.formats import PrintFormat

from . import figures
from .models import KINDS, NOTE_KINDS, URGENCIES, Location, WorkOrder


def _descendants(loc):
    """The location and everything under it, in code order (rooms and assets get labels)."""
    out, frontier = [], [loc]
    while frontier:
        ids = [n.id for n in frontier]
        frontier = db.session.scalars(select(Location).where(Location.parent_id.in_(ids), Location.active.is_(True))
                                      .order_by(Location.code)).all()
        out.extend(frontier)
    return sorted(out, key=lambda n: n.code)


def _labels(loc):
    from .screens import qr_url
    rooms = [n for n in [loc, *_descendants(loc)] if n.level in ("room", "asset")]
    return {"labels": [{"loc": n, "url": qr_url(n)} for n in rooms], "number": loc.code}


def _slip(wo):
    view = getattr(WorkOrder, "_view", None)        # the generic document view erp_core built
    return {"qr_target": url_for(f"{view.__name__}.show", pk=wo.id, _external=True) if view else wo.name,
            "kinds": KINDS, "urgencies": URGENCIES, "note_kinds": NOTE_KINDS}


def bar_chart(rows, value, label, width=460, height=None, unit=""):
    """Horizontal bars as an SVG string (autoescaped labels)."""
    rows = [r for r in rows if r.get(value) is not None][:12]
    bar, gap, left = 16, 6, 130
    height = height or (len(rows) * (bar + gap) + 10)
    top = max([float(r[value]) for r in rows] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10">']
    for i, r in enumerate(rows):
        y = 5 + i * (bar + gap)
        w = (width - left - 60) * float(r[value]) / top
        parts.append(f'<text x="{left - 4}" y="{y + 12}" text-anchor="end">{escape(str(r[label])[:14])}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="#3a78b5"/>'
                     f'<text x="{left + w + 4:.1f}" y="{y + 12}">{escape(str(r[value]))}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(points, width=460, height=150, unit=""):
    """(label, value) points as an SVG polyline with dots and values."""
    points = [(k, v) for k, v in points if v is not None]
    if not points:
        return Markup("")
    left, right, top_pad, bottom = 30, 20, 16, 22
    top = max(float(v) for _k, v in points) or 1
    step = (width - left - right) / max(len(points) - 1, 1)
    xy = [(left + i * step, top_pad + (height - top_pad - bottom) * (1 - float(v) / top)) for i, (_k, v) in
          enumerate(points)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#999"/>',
             '<polyline fill="none" stroke="#3a78b5" stroke-width="2" points="'
             + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>']
    for (k, v), (x, y) in zip(points, xy):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#3a78b5"/>'
                     f'<text x="{x:.1f}" y="{y - 5:.1f}" text-anchor="middle">{escape(str(v))}{escape(unit)}</text>'
                     f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(k)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _months_back(month, n):
    out = [month]
    for _i in range(n - 1):
        out.insert(0, figures.previous_month(out[0]))
    return out


def _report(key):
    month = str(key)[:7]
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit() or not 1 <= int(month[5:]) <= 12:
        raise NotFound(_("Give the month as YYYY-MM."))
    by_cat, by_team = figures.table("category", month), figures.table("team", month)
    trend = [(m[5:], figures.table(None, m)) for m in _months_back(month, 6)]
    return {"number": month, "month": month, "total": figures.table(None, month), "by_category": by_cat,
            "by_team": by_team, "mom": figures.month_over_month(month), "figfmt": figures.fmt,
            "chart_category": bar_chart(by_cat, "received", "key"),
            "chart_on_time": bar_chart(by_team, "on_time_rate", "key", unit=" %"),
            "chart_trend": line_chart([(m, r["completion_rate"]) for m, r in trend], unit=" %"),
            "chart_volume": line_chart([(m, r["received"]) for m, r in trend])}


def _report_keys(date=None, period=None):
    months = db.session.scalars(select(WorkOrder.month).distinct().order_by(WorkOrder.month)).all()
    return [m for m in months if m.startswith(period or date or "")]


def formats():
    return [
        PrintFormat("service_desk.slip", _l("Work order slip"), "service_desk/print/slip.html", WorkOrder, _slip),
        PrintFormat("service_desk.qr_labels", _l("QR label sheet"), "service_desk/print/qr_labels.html", Location,
                    _labels, papers=("a4", "label")),
        PrintFormat("service_desk.monthly", _l("Monthly service report"), "service_desk/print/monthly.html", None,
                    _report, permission="DeskFigures", key="period", keys=_report_keys,
                    landscape=True),                                   # ten figure columns
    ]
