"""Proof that the stack runs on this machine (run by scripts/bootstrap.sh after installing):
Chromium starts through Playwright and lays out Chinese text, and WeasyPrint renders a
Chinese PDF with a CJK font embedded. On failure it prints ONE line with the real cause
(e.g. the shared library a binary cannot load) and exits 1.

Each check runs in a child process so that what Playwright's node driver or Chromium write
to stderr (where the missing library is named) is captured, not lost under a traceback.
"""
import os
import re
import subprocess
import sys

CHROMIUM = os.environ.get("HOUQIN_CHROMIUM", "/usr/bin/chromium")
TEXT = "后勤管理中心"

BROWSER = f"""
from playwright.sync_api import sync_playwright
with sync_playwright() as pw:
    b = pw.chromium.launch(executable_path={CHROMIUM!r}, timeout=60000)
    p = b.new_page()
    p.set_content("<p>{TEXT}</p>")
    assert p.inner_text("p") == "{TEXT}", "Chromium shows " + repr(p.inner_text("p"))
    b.close()
"""

PDF = f"""
import io
from pypdf import PdfReader
from weasyprint import HTML
pdf = HTML(string='<p style="font-family: WenQuanYi Micro Hei, Noto Sans CJK SC">{TEXT}</p>').write_pdf()
page = PdfReader(io.BytesIO(pdf)).pages[0]
text = page.extract_text()
assert "{TEXT}" in text, "the PDF's text is " + repr(text)
fonts = [str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()]
# a PDF without a CJK font still extracts the right text: check the embedded font too
assert any(k in f for f in fonts for k in ("WenQuanYi", "CJK")), "no CJK font embedded, only " + ", ".join(fonts)
"""

LIBRARY = re.compile(r"error while loading shared libraries: [^\s:]+|[\w.+-]+\.so[\w.]*: cannot open shared object file")
ERROR = re.compile(r"^\s*(?:[\w.]+\.)?(\w*(?:Error|Exception)):\s*(.+)$")


def cause(output):
    """The line that says why: a missing shared library first, else the last exception."""
    m = LIBRARY.search(output)
    if m:
        return f"missing shared library ({m.group(0)}); install the Debian package that provides it"
    errors = [m.group(1) + ": " + m.group(2).strip() for m in map(ERROR.match, output.splitlines()) if m]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return errors[-1] if errors else (lines[-1] if lines else "no output")


def run(label, code):
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return f"{label}: no answer after 180 s"
    return None if proc.returncode == 0 else f"{label}: {cause(proc.stdout + proc.stderr)}"


def main():
    for label, code in (("browser (Playwright + Chromium)", BROWSER), ("Chinese PDF (WeasyPrint)", PDF)):
        problem = run(label, code)
        if problem:
            print("houqin: stack check failed, " + " ".join(problem.split())[:400], file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
