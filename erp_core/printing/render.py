"""The renderer: one per process, warm (one FontConfiguration, pre-parsed CSS), safe fetcher.

Both autoescaping templates and the fetcher are required: autoescape stops user text from
becoming markup, the fetcher stops whatever markup gets through anyway (|safe, CSS url(),
a template author's mistake) from reading local files or calling the network.
"""
import logging
import multiprocessing
import subprocess
from io import BytesIO
from pathlib import Path
from urllib.request import url2pathname

from flask import render_template
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

from . import toolkit
from .formats import PrintRegistry
from .toolkit import qr_data_uri  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)
STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
_ROOTS = [STATIC_ROOT]
ROLL_MIN_MM, ROLL_MAX_MM, ROLL_FOOT_MM = 100, 600, 12     # an 80 mm roll: page length from the content


def allow_static_root(path):
    """Let the fetcher read files under ``path`` (a module's own static folder)."""
    path = Path(path).resolve()
    if path not in _ROOTS:
        _ROOTS.append(path)


class StaticOnlyFetcher(URLFetcher):
    """file: URLs under the allowed static roots, and data: URIs; nothing else."""
    refused = 0     # counted for tests and logs

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=2)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(url2pathname(url.split("?")[0].split("#")[0].removeprefix("file:"))).resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in _ROOTS):
                return super().fetch(url, headers)
        type(self).refused += 1
        log.warning("print: blocked URL %s", url[:200])
        raise ValueError(f"blocked URL: {url[:200]}")


class _Renderer:
    def __init__(self):
        self.fonts = FontConfiguration()
        self.fetcher = StaticOnlyFetcher()
        self.css = CSS(filename=str(STATIC_ROOT / "print" / "base.css"), url_fetcher=self.fetcher,
                       font_config=self.fonts)

    def document(self, html):
        """The laid-out WeasyPrint document (pages and boxes), for checks on the layout.
        A receipt roll (80 mm) gets a page as long as its content, cut after the last line."""
        doc = HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=self.fetcher)
        if 'paper-receipt80' not in html:
            return doc.render(stylesheets=[self.css], font_config=self.fonts)
        tall = doc.render(stylesheets=[self.css, self._roll(ROLL_MAX_MM)], font_config=self.fonts)
        root = tall.pages[0]._page_box.children[0]           # <html>; the page's margin boxes come after
        body = root.children[0] if root.children else root
        bottom = max((b.position_y + b.margin_height() for b in body.children if hasattr(b, "margin_height")
                      and b.style["position"] not in ("fixed", "absolute")), default=0)
        length = min(ROLL_MAX_MM, max(ROLL_MIN_MM, bottom * 25.4 / 96 + ROLL_FOOT_MM))
        cut = doc.render(stylesheets=[self.css, self._roll(length)], font_config=self.fonts)
        if len(cut.pages) > 1 and length < ROLL_MAX_MM:      # something the measure missed: give it room
            cut = doc.render(stylesheets=[self.css, self._roll(min(ROLL_MAX_MM, length + 40))], font_config=self.fonts)
        return cut

    def _roll(self, length_mm):
        return CSS(string=f"@page receipt80 {{ size: 80mm {length_mm:.0f}mm }}", font_config=self.fonts)

    def pdf(self, html):
        return self.document(html).write_pdf()


_renderer = None


def _get():
    global _renderer
    if _renderer is None:
        _renderer = _Renderer()
    return _renderer


def html_to_pdf(html):
    return _get().pdf(html)


def layout(html):
    return _get().document(html)


def init_app(app):
    app.extensions["houqin_print"] = PrintRegistry()
    app.jinja_env.globals.update(toolkit.GLOBALS)
    app.jinja_env.filters.update(toolkit.FILTERS)


def render_htmls(fmt, doc=None, *, settings=None, user=None, copy=0, paper=None, **extra):
    """The format's template rendered (inside an app context, autoescaped) once per part:
    a format whose context returns ``parts`` (e.g. one delivery list per ward) prints each
    part as its own document with its own page numbers. ``copy`` > 0 marks a reprint (补打);
    ``user`` is who prints (打印人)."""
    from ..types import now
    context = dict(extra)
    context.update(fmt.context(doc) if fmt.context else {})
    parts = context.pop("parts", None) or [{}]
    paper = paper if paper in fmt.papers else fmt.paper_for(settings)
    base = dict(doc=doc, fmt=fmt, settings=settings, paper=paper, reprint=copy > 0,
                draft=toolkit.is_draft(doc), printed_by=toolkit.full_name(user) if user is not None else "",
                printed_at=toolkit.when(now()), number=_number(doc))
    out = []
    for part in parts:
        ctx = {**base, **context, **part}
        ctx.update(doc=doc, fmt=fmt, settings=settings)
        out.append(render_template(fmt.template, **ctx))
    return out


def _number(doc):
    if doc is None:
        return ""
    return str(doc) if isinstance(doc, str) else (getattr(doc, "name", "") or "")


def render_html(fmt, doc=None, **extra):
    """One HTML document (the first part, for formats printed in parts)."""
    return render_htmls(fmt, doc, **extra)[0]


def render_pdf(fmt, doc=None, **extra):
    htmls = render_htmls(fmt, doc, **extra)
    return html_to_pdf(htmls[0]) if len(htmls) == 1 else batch_pdf(htmls, processes=1)


def _worker_init():
    _get()


def batch_pdf(htmls, processes=2, progress=None):
    """Render each HTML to its own PDF (in a pool when processes > 1), then merge with pypdf,
    so every document keeps its own "第 X 页 / 共 Y 页"."""
    from pypdf import PdfWriter
    total = len(htmls)
    parts = []
    if processes <= 1 or total <= 1:
        for html in htmls:
            parts.append(html_to_pdf(html))
            if progress:
                progress(len(parts), total)
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(processes, initializer=_worker_init, maxtasksperchild=200) as pool:
            for pdf in pool.imap(html_to_pdf, htmls, chunksize=max(1, min(10, total // (processes * 4) or 1))):
                parts.append(pdf)
                if progress:
                    progress(len(parts), total)
    writer = PdfWriter()
    for pdf in parts:
        writer.append(BytesIO(pdf))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def check_cjk_font():
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"fc-list failed ({exc}); install fontconfig and fonts-wqy-microhei"
    families = sorted({f.strip() for line in out.splitlines() for f in line.split(",") if f.strip()})
    if not families:
        return False, "no Chinese font installed: apt-get install fonts-wqy-microhei (or fonts-noto-cjk)"
    return True, ", ".join(families[:4])


def check_harfbuzz_subset():
    try:
        from weasyprint.text.ffi import harfbuzz_subset
    except ImportError:
        harfbuzz_subset = None
    if harfbuzz_subset is None:
        return False, ("HarfBuzz subsetting missing: apt-get install libharfbuzz-subset0 "
                       "(a Chinese page then takes ~0.2 s instead of ~2 s)")
    return True, "libharfbuzz-subset available"


def record_print(session, fmt, name, user=None):
    """Record one printed copy of ``name`` in ``fmt``; return how many were printed before
    (0: the original; more: a reprint, marked 补打). The caller commits."""
    from sqlalchemy import func, select
    from ..models import PrintRecord
    from ..types import now
    before = session.scalar(select(func.count()).select_from(PrintRecord).where(
        PrintRecord.format == fmt.name, PrintRecord.docname == str(name)))
    session.add(PrintRecord(format=fmt.name, docname=str(name), printed_at=now(),
                            printed_by=getattr(user, "username", None) or str(user or "")))
    return before or 0


def documents(fmt, session, date=None, period=None):
    """What ``fmt`` can print now: its model's documents (filtered by creation day or month),
    or the keys a keyed format offers (``fmt.keys``)."""
    if fmt.model is None:
        return list(fmt.keys(date=date, period=period)) if fmt.keys else []
    from sqlalchemy import select
    from ..types import LOCAL_TZ
    docs = session.scalars(select(fmt.model).order_by(fmt.model.id)).all()
    prefix = date or period
    if prefix:
        def created(d):
            at = getattr(d, "created_at", None)
            return at.astimezone(LOCAL_TZ).date().isoformat() if at else ""
        docs = [d for d in docs if created(d).startswith(prefix)]
    return docs
