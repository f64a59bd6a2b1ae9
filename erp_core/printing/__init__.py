"""Printing (ARCHITECTURE §6): print-format registry, a warm WeasyPrint renderer with a
fetcher that reads only the project's own static files and data: URIs, batch printing in
a process pool merged into one PDF that keeps each document's page numbers."""
from .formats import PrintFormat, PrintRegistry
from .render import (STATIC_ROOT, allow_static_root, batch_pdf, check_cjk_font, check_harfbuzz_subset,
                     documents, html_to_pdf, init_app, layout, qr_data_uri, record_print, render_html, render_htmls,
                     render_pdf)
from .toolkit import rmb_upper

__all__ = ["PrintFormat", "PrintRegistry", "STATIC_ROOT", "allow_static_root", "batch_pdf", "check_cjk_font",
           "check_harfbuzz_subset", "documents", "html_to_pdf", "layout", "init_app", "qr_data_uri", "record_print", "render_html", "render_htmls", "render_pdf",
           "rmb_upper"]

from . import batch  # noqa: E402,F401 - registers the batch-print job
