"""Hooks vendor_contracts publishes for other modules."""
from erp_core.hookspecs import hookspec


@hookspec
def houqin_satisfaction_scores(service_category, year, month):
    """Return [{"source": str, "score": Decimal 0-100, "respondents": int}] for the month's
    satisfaction of a service category (e.g. catering's ward feedback). The assessment of a
    contract in that category takes the respondent-weighted mean as its satisfaction score.
    Implement with ``@hookimpl(optionalhook=True)`` so your module works without this one."""
