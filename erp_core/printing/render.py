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

import segno
from flask import render_template
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration

from .formats import PrintRegistry

log = logging.getLogger(__name__)
STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"
_ROOTS = [STATIC_ROOT]


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

    def pdf(self, html):
        doc = HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=self.fetcher)
        return doc.write_pdf(stylesheets=[self.css], font_config=self.fonts)


_renderer = None


def _get():
    global _renderer
    if _renderer is None:
        _renderer = _Renderer()
    return _renderer


def html_to_pdf(html):
    return _get().pdf(html)


def qr_data_uri(text, scale=4):
    return segno.make(str(text), error="m").svg_data_uri(scale=scale, border=1)


def money(value):
    from ..money import yuan
    return "" if value is None or value == "" else yuan(value)


def when(value, fmt="%Y-%m-%d %H:%M"):
    """A date or time as the hospital reads it (aware values shown in its zone)."""
    from ..types import LOCAL_TZ
    if value is None or value == "":
        return ""
    if hasattr(value, "astimezone") and getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(LOCAL_TZ)
    return value.strftime(fmt) if hasattr(value, "hour") else value.strftime("%Y-%m-%d")


def init_app(app):
    app.extensions["houqin_print"] = PrintRegistry()
    app.jinja_env.globals["qr_data_uri"] = qr_data_uri
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["when"] = when


def render_html(fmt, doc=None, **extra):
    """Render a format's template (inside an app context); autoescaped like every .html."""
    context = dict(extra)
    context.update(fmt.context(doc) if fmt.context else {})
    return render_template(fmt.template, doc=doc, fmt=fmt, settings=extra.get("settings"), **{
        k: v for k, v in context.items() if k not in ("doc", "fmt", "settings")})


def render_pdf(fmt, doc=None, **extra):
    return html_to_pdf(render_html(fmt, doc, **extra))


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
