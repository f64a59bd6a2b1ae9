"""What other modules saw of a vendor in a month (``houqin_assessment_evidence``), read so
that a module whose hook fails or answers nonsense costs its own rows, never the month."""
import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)


def _impls(hookname):
    from erp_core.document import plugin_manager
    pm = plugin_manager()
    hook = getattr(pm.hook, hookname, None) if pm is not None else None
    return hook.get_hookimpls() if hook is not None else []


def evidence_keys():
    """``{key: label}`` offered by the enabled modules (empty when none implements the hook)."""
    out = {}
    for impl in _impls("houqin_assessment_evidence_keys"):
        try:
            out.update({str(k): v for k, v in impl.function() or []})
        except Exception:
            log.exception("vendor_contracts: evidence keys of module %s failed", impl.plugin_name)
    return out


class EvidenceKeys(Mapping):
    """Meta.choices of TemplateItem.evidence: asked of the modules each time it is read."""

    def __getitem__(self, key):
        return evidence_keys()[key]

    def __iter__(self):
        return iter(evidence_keys())

    def __len__(self):
        return len(evidence_keys())


def evidence_rows(contract, year, month):
    """``[{"evidence", "count", "note", "refs"}]`` from every module, each module in its own
    savepoint: one that raises (or breaks its SQL) is logged and left out."""
    from erp_core.extensions import db
    args = {"contract": contract, "year": year, "month": month}
    rows = []
    for impl in _impls("houqin_assessment_evidence"):
        try:
            with db.session.begin_nested():
                result = impl.function(**{a: args[a] for a in impl.argnames})
            mine = []
            for r in result or []:
                count = r["count"]
                if isinstance(count, bool) or not isinstance(count, int) or count < 0 or not r.get("evidence"):
                    raise ValueError(f"bad row {r!r}")
                mine.append({"evidence": str(r["evidence"]), "count": count, "note": str(r.get("note") or "")[:300],
                             "refs": [str(x) for x in r.get("refs") or []]})
            rows += mine                 # all of a module's rows or none of them
        except Exception:
            log.exception("vendor_contracts: assessment evidence of module %s failed; the month opens without it",
                          impl.plugin_name)
    return rows
