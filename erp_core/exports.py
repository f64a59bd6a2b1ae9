"""CSV / Excel export of rows (what the user may read, already scoped) and reading of uploads."""
import csv
import io
from datetime import datetime
from decimal import Decimal


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutral(text):
    """Text that a spreadsheet would read as a formula (=HYPERLINK(…), +cmd…, -2+3, @SUM…)
    is written with a leading apostrophe, so it shows as typed and never runs."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (Decimal, int, float, datetime)):
        return value
    return neutral(value)


def to_csv(header, rows):
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with a BOM
    w = csv.writer(buf)
    w.writerow([neutral(h) for h in header])
    for row in rows:
        w.writerow(["" if v is None else str(v) if isinstance(v, (Decimal, int, float, datetime)) else neutral(v)
                    for v in row])
    return buf.getvalue().encode("utf-8")


def to_xlsx(header, rows, title="export"):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = str(title)[:31]
    ws.append([neutral(h) for h in header])
    for row in rows:
        ws.append([_cell(v).replace(tzinfo=None) if isinstance(v, datetime) else _cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_table(filename, data):
    """Header + rows from an uploaded .csv (UTF-8, with or without BOM) or .xlsx file."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook
        ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        rows = [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]
    elif name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        raise ValueError("format")
    rows = [r for r in rows if any(str(v).strip() for v in r)]
    if not rows:
        return [], []
    return [str(h).strip() for h in rows[0]], rows[1:]
