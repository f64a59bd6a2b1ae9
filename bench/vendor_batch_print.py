"""Batch-print 200 filled monthly assessment forms: 1 process vs 2 processes (same run).

Builds demo-like assessments on a fresh database, renders their HTML once, then times
erp_core.printing.batch_pdf with 1 and with 2 worker processes (pages/s and seconds).
Run: .venv/bin/python bench/vendor_batch_print.py [--forms 200]
"""
import argparse
import time
from io import BytesIO

from _setup import fresh_app


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forms", type=int, default=200)
    args = ap.parse_args()
    app, cleanup = fresh_app()
    try:
        from pypdf import PdfReader
        from erp_core import printing
        from erp_core.demo import load_demo
        from erp_core.extensions import db
        from erp_core.models import Settings
        from modules.vendor_contracts.models import Assessment
        with app.app_context(), app.test_request_context():
            load_demo(app)                                   # 7 months x 6 contracts of real assessments
            forms = db.session.query(Assessment).order_by(Assessment.id).all()
            fmt = app.extensions["houqin_print"].get("vendor_contracts.assessment")
            settings = Settings.current(db.session)
            htmls = [printing.render_html(fmt, forms[i % len(forms)], settings=settings) for i in range(args.forms)]
        timings = {}
        for processes in (1, 2):
            t = time.perf_counter()
            pdf = printing.batch_pdf(htmls, processes=processes)
            timings[processes] = time.perf_counter() - t
            pages = len(PdfReader(BytesIO(pdf)).pages)
        for processes, seconds in timings.items():
            print(f"{args.forms} filled assessment forms ({pages} pages) on {processes} process(es): "
                  f"{seconds:.1f} s, {pages / seconds:.2f} pages/s")
        print(f"2 processes vs 1: {timings[1] / timings[2]:.2f}x faster")
    finally:
        if cleanup:
            cleanup()


if __name__ == "__main__":
    main()
