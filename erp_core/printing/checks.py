"""What a finance or archive office checks on a printed PDF, as functions tests share
(erp_core's and every module's): page texts, QR codes decoded with zbar, embedded fonts
and the glyphs they carry, stray values (None, 87.333333…), signatures alone on a page."""
import re
import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader


def page_texts(pdf):
    """Text of each page (pdftotext -layout), spaces between CJK glyphs removed."""
    n = len(PdfReader(BytesIO(pdf)).pages)
    out = []
    for i in range(1, n + 1):
        text = subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), "-", "-"], input=pdf,
                              capture_output=True, check=True).stdout.decode()
        out.append(text)
    return out


def squeeze(text):
    return re.sub(r"[ \t\u3000]+", "", text)


def decode_qr(pdf, dpi=150, at_least=0):
    """Every QR code zbarimg finds on every page, as a list of strings (page order). On a sheet
    of small labels (30 codes a page) zbar misses one now and then, at any resolution; with
    ``at_least`` the pages are read again at 200 and 300 dpi and what each finds is put together."""
    found = _decode_qr(pdf, dpi)
    for again in (200, 300):
        if len(found) >= at_least:
            break
        found += [code for code in _decode_qr(pdf, again) if code not in found]
    return found


def _decode_qr(pdf, dpi):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "doc.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(Path(tmp) / "p")], check=True)
        found = []
        for png in sorted(Path(tmp).glob("p-*.png")):
            res = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                                 capture_output=True, text=True)
            found += [line for line in res.stdout.splitlines() if line]
        return found


def qr_count(html):
    """How many QR codes an HTML document carries (the qr macro's data: URIs)."""
    return html.count('<span class="qr">')


def embedded_fonts(pdf):
    """{base font name: fontTools TTFont or None} of every font embedded in the PDF."""
    from fontTools.ttLib import TTFont
    fonts = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = ref.get_object()
            desc = font.get("/FontDescriptor")
            if desc is None and "/DescendantFonts" in font:
                desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            data = next((desc[k].get_object().get_data() for k in ("/FontFile2", "/FontFile3", "/FontFile")
                         if k in desc), None)
            name = str(font.get("/BaseFont"))
            if str(font.get("/Subtype")) == "/Type3":
                fonts[name] = None
                continue
            try:
                fonts[name] = TTFont(BytesIO(data)) if data else None
            except Exception:  # a CFF-only font program
                fonts[name] = "embedded" if data else None
    return fonts


def fonts_with_glyph(pdf, char):
    """Embedded fonts whose ToUnicode map says they draw ``char`` (i.e. the glyph is in the
    PDF, not a .notdef box)."""
    out = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for ref in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = ref.get_object()
            tu = font.get("/ToUnicode")
            if tu is None:
                continue
            cmap = tu.get_object().get_data().decode("latin-1")
            code = char.encode("utf-16-be").hex().upper()
            if f"<{code}>" in cmap.upper():
                out.append(str(font.get("/BaseFont")))
    return out


LONG_DECIMALS = re.compile(r"\d\.\d{6,}")
STRAY = re.compile(r"(?<![A-Za-z])(None|True|False|nan|undefined)(?![A-Za-z])")


def problems(pdf, number=None, signature_words=()):
    """A list of what is wrong with a printed document (empty if nothing)."""
    found = []
    texts = page_texts(pdf)
    fonts = embedded_fonts(pdf)
    if not fonts or any(v is None for v in fonts.values()):
        found.append(f"fonts not all embedded: {sorted(fonts)}")
    for i, text in enumerate(texts, 1):
        if m := LONG_DECIMALS.search(text):
            found.append(f"page {i}: long decimal {m.group()}")
        if m := STRAY.search(text):
            found.append(f"page {i}: stray {m.group()}")
        if number and squeeze(number) not in squeeze(text).replace("\n", ""):
            found.append(f"page {i}: document number {number} missing")
    if len(texts) > 1 and signature_words:
        last = [line for line in texts[-1].splitlines() if line.strip()]
        body = [line for line in last if not any(w in squeeze(line) for w in signature_words)]
        if len(body) <= 3:     # running header, footer: nothing but signatures left
            found.append(f"last page holds only signatures: {last[:6]}")
    return found


def _classes(box):
    el = getattr(box, "element", None)
    return set((el.get("class") or "").split()) if el is not None else set()


def signatures_alone(document):
    """True if the last page of a laid-out document (printing.layout(html)) holds nothing but
    the signature block: the signatures were pushed away from the totals they sign."""
    if len(document.pages) < 2:
        return False
    html_box = document.pages[-1]._page_box.children[0]
    body = html_box.children[0] if html_box.children else None
    marks = {"run-head", "run-foot", "watermark", "reprint-mark"}
    flow = [b for b in (body.children if body is not None else [])
            if getattr(b, "element", None) is not None and b.element is not body.element
            and not _classes(b) & marks]
    return bool(flow) and all(_classes(b) & {"signatures", "closing"} for b in flow)


def overflowing(document, tolerance=1.0):
    """Text boxes that run past the right edge of their page (a column off the paper)."""
    out = []
    for i, page in enumerate(document.pages, 1):
        width = page.width
        for box in page._page_box.descendants():
            text = getattr(box, "text", None)
            if text and text.strip() and box.position_x + box.width > width + tolerance:
                out.append(f"page {i}: {text.strip()[:30]!r} ends at {box.position_x + box.width:.0f} > {width:.0f}")
    return out


def qr_texts(html):
    """The texts the document's QR codes should carry (the qr macro writes them as alt)."""
    import html as html_mod
    return [html_mod.unescape(m) for m in re.findall(r'<span class="qr"><img src="[^"]*" style="[^"]*" alt="([^"]*)"', html)]


def running_number(html):
    """The document number of the running header (repeated on every page)."""
    import html as html_mod
    m = re.search(r'<span class="run-no">(.*?)</span>', html, re.S)
    return html_mod.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else ""
