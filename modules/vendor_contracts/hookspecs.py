"""Hooks vendor_contracts publishes for other modules."""
from erp_core.hookspecs import hookspec


@hookspec
def houqin_satisfaction_scores(service_category, year, month):
    """Return [{"source": str, "score": Decimal 0-100, "respondents": int}] for the month's
    satisfaction of a service category (e.g. catering's ward feedback). The assessment of a
    contract in that category takes the respondent-weighted mean as its satisfaction score.
    Implement with ``@hookimpl(optionalhook=True)`` so your module works without this one."""


@hookspec
def houqin_assessment_evidence(contract, year, month):
    """Return what your module saw of this contract's vendor in the month, as
    ``[{"evidence": str, "count": int, "note": str, "refs": [str]}]``.

    ``evidence`` is a key your module publishes, namespaced by module, e.g.
    ``"service_desk.sla_breach"``, ``"service_desk.low_rating"``, ``"workforce.understaffed"``,
    ``"workforce.violation"``, ``"care.violation"``. A template item that declares it takes
    that key gets a finding pre-filled with ``count`` when the month is opened (and when the
    assessor refreshes a draft); the assessor may change it, with a reason. ``refs`` name the
    records behind the count (work orders, violations) so the finding can cite them; ``note``
    is shown to the assessor. Publish the keys your module offers through
    ``houqin_assessment_evidence_keys``. Implement with ``@hookimpl(optionalhook=True)`` so your
    module works without vendor_contracts, and vendor_contracts without yours."""


@hookspec
def houqin_assessment_evidence_keys():
    """Return ``[(key, label)]`` of the evidence keys your module offers (see
    ``houqin_assessment_evidence``); the template item form offers them as a choice."""
