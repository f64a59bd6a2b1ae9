"""Printing (folded in from bench_core.py): a warm one-page Chinese PDF beside a fresh
WeasyPrint render (new FontConfiguration + CSS per document); batch printing on 2
processes beside 1 process."""
import time

from .common import median_ms


def run(docs=40, log=print):
    from erp_core import printing
    from erp_core.app import create_print_app
    app = create_print_app(SQLALCHEMY_DATABASE_URI="sqlite://")
    fmt = printing.PrintFormat(name="bench.page", title="bench", template="print/bench_page.html")
    with app.test_request_context():
        html = printing.render_html(fmt, None, settings=None, rows=range(14))
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from erp_core.printing.render import StaticOnlyFetcher

    def fresh():
        fc, fetcher = FontConfiguration(), StaticOnlyFetcher()
        css = CSS(filename=str(printing.STATIC_ROOT / "print" / "base.css"), font_config=fc, url_fetcher=fetcher)
        return HTML(string=html, base_url=printing.STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher).write_pdf(
            stylesheets=[css], font_config=fc)
    warm = median_ms(lambda: printing.html_to_pdf(html), 5)
    cold = median_ms(fresh, 5)
    rates = {}
    for procs in (1, 2):
        t = time.perf_counter()
        pdf = printing.batch_pdf([html] * docs, processes=procs)
        rates[procs] = docs / (time.perf_counter() - t)
        assert pdf[:4] == b"%PDF"
    log(f"  PDF warm {warm:.0f} ms (fresh {cold:.0f} ms); batch {rates[1]:.1f} vs {rates[2]:.1f} pages/s")
    return ["| figure | value | baseline | ratio |", "|---|---:|---:|---:|",
            f"| one-page Chinese PDF, warm renderer | {warm:.0f} ms | fresh FontConfiguration + CSS: {cold:.0f} ms "
            f"| {cold / warm:.2f}x faster |",
            f"| batch print {docs} one-page forms, 2 processes | {rates[2]:.1f} pages/s | 1 process: "
            f"{rates[1]:.1f} pages/s | {rates[2] / rates[1]:.2f}x |"]
