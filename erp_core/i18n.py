"""Translations: zh_CN (default) and en; one catalogue for erp_core and one per module.

Catalogues are merged in module load order (a later module may refine an earlier one's
wording). Use ``_l`` for class-level strings, ``_`` at run time, ``pgettext`` where a word
is ambiguous (e.g. "Order" a meal vs. "Order" a sort).
"""
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask_babel import gettext as _, lazy_gettext as _l, lazy_pgettext, ngettext, pgettext  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("zh_CN", "en")
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
METHODS = [("**/tests/**", "ignore"), ("**/migrations/**", "ignore"), ("**.py", "python"),
           ("**/templates/**.html", "jinja2")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "silent": "false"}}


def catalogue_dirs(registry=None):
    """erp_core's translations folder, then each module's, in load order."""
    dirs = [ROOT / "translations"]
    for m in (registry.modules if registry else []):
        dirs.append(Path(m.path) / "translations")
    return [d for d in dirs if d.is_dir()]


def sources():
    """(source folder, its translations folder) for erp_core and every module package."""
    out = [(ROOT / "erp_core", ROOT / "translations")]
    for group in ("modules", "plugins"):
        for pkg in sorted((ROOT / group).glob("*/manifest.py")):
            out.append((pkg.parent, pkg.parent / "translations"))
    return out


def extract(folder):
    catalog = Catalog(project="houqin", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update(only=None):
    """Refresh .pot and .po files from the sources (new msgids arrive untranslated).
    ``only``: a module name (or "erp_core") to touch just that catalogue."""
    merged = Catalog(project="houqin", charset="utf-8")
    for folder, tdir in sources():
        if only and folder.name != only:
            continue
        template = extract(folder)
        for msg in template:
            if msg.id:
                merged.add(msg.id, None, msg.locations, context=msg.context)
        if not len(template):
            continue
        tdir.mkdir(parents=True, exist_ok=True)
        with open(tdir / "messages.pot", "wb") as fh:
            write_po(fh, template, omit_header=False, sort_output=True)
        for locale in LOCALES:
            po = tdir / locale / "LC_MESSAGES" / "messages.po"
            po.parent.mkdir(parents=True, exist_ok=True)
            if po.exists():
                with open(po, "rb") as fh:
                    catalog = read_po(fh, locale=locale)
            else:
                catalog = Catalog(locale=locale, project="houqin", charset="utf-8")
            catalog.update(template, no_fuzzy_matching=True)
            with open(po, "wb") as fh:
                write_po(fh, catalog, sort_output=True, ignore_obsolete=True, width=100)
    if not only:
        with open(ROOT / "translations" / "messages.pot", "wb") as fh:
            write_po(fh, merged, sort_output=True)


def compile_all():
    """Write .mo beside every .po (the app reads .mo)."""
    count = 0
    for po in ROOT.glob("**/translations/*/LC_MESSAGES/messages.po"):
        if ".venv" in po.parts:
            continue
        with open(po, "rb") as fh:
            catalog = read_po(fh)
        with open(po.with_suffix(".mo"), "wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        count += 1
    return count


def missing(locale="zh_CN"):
    """[(catalogue, msgid)] of every source string without a ``locale`` translation."""
    out = []
    for folder, tdir in sources():
        po = tdir / locale / "LC_MESSAGES" / "messages.po"
        known = {}
        if po.exists():
            with open(po, "rb") as fh:
                known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(fh) if m.id}
        for msg in extract(folder):
            if not msg.id:
                continue
            key = (msg.context, msg.id if isinstance(msg.id, str) else msg.id[0])
            entry = known.get(key)
            text = entry.string if entry else None
            if not entry or entry.fuzzy or not (text if isinstance(text, str) else all(text or [""])):
                out.append((str(po.relative_to(ROOT)), key[1]))
    return out
