"""erp_core figures: app start, warm one-page Chinese PDF, batch printing on 1 vs 2 processes.

Each figure is printed beside a baseline measured in the same process, as a ratio:
- app start: create_app() with every module vs. a bare Flask-AppBuilder app;
- PDF: warm renderer (one FontConfiguration, pre-parsed CSS) vs. a fresh WeasyPrint
  HTML().write_pdf() with default settings per document;
- batch: 2 processes vs. 1 process, pages per second.
Run: .venv/bin/python bench/bench_core.py [--docs 40]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.mkdtemp()}/bench.db")


def timed(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def bare_fab_app():
    from flask import Flask
    from flask_appbuilder import AppBuilder
    from erp_core.extensions import db
    app = Flask("bare")
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x", FAB_UPDATE_PERMS=False)
    with app.app_context():
        db.init_app(app)
        AppBuilder().init_app(app, db.session)
    return app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=40)
    args = ap.parse_args()
    from erp_core.app import create_app
    from erp_core.config import TestConfig
    from erp_core import printing
    create_app(TestConfig)           # warm imports so both sides measure assembly, not imports
    bare = timed(bare_fab_app, 5)
    ours = timed(lambda: create_app(TestConfig), 5)
    app = create_app(TestConfig)
    print(f"app start: create_app with {len(app.extensions['houqin'].registry.modules)} modules, "
          f"{len(app.url_map._rules)} routes: {ours * 1000:.0f} ms (bare FAB app {bare * 1000:.0f} ms, "
          f"ratio {ours / bare:.2f}x)")

    fmt = printing.PrintFormat(name="bench.page", title="bench", template="print/bench_page.html")
    with app.test_request_context():
        html = printing.render_html(fmt, None, settings=None, rows=range(14))
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from erp_core.printing.render import StaticOnlyFetcher

    def fresh():   # what a naive view does: new font configuration, stylesheet parsed per document
        fc, fetcher = FontConfiguration(), StaticOnlyFetcher()
        css = CSS(filename=str(printing.STATIC_ROOT / "print" / "base.css"), font_config=fc, url_fetcher=fetcher)
        return HTML(string=html, base_url=printing.STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher).write_pdf(
            stylesheets=[css], font_config=fc)
    printing.html_to_pdf(html)
    warm = timed(lambda: printing.html_to_pdf(html), 10)
    cold = timed(fresh, 10)
    print(f"one-page Chinese PDF, warm renderer: {warm * 1000:.0f} ms "
          f"(new FontConfiguration + CSS per document {cold * 1000:.0f} ms, {cold / warm:.2f}x)")

    htmls = [html] * args.docs
    rates = {}
    for procs in (1, 2):
        t = time.perf_counter()
        pdf = printing.batch_pdf(htmls, processes=procs)
        rates[procs] = args.docs / (time.perf_counter() - t)
        assert pdf[:4] == b"%PDF"
    print(f"batch print {args.docs} one-page forms: 1 process {rates[1]:.2f} pages/s, "
          f"2 processes {rates[2]:.2f} pages/s ({rates[2] / rates[1]:.2f}x)")


if __name__ == "__main__":
    main()
