from flask_babel import lazy_gettext as _l

from erp_core.dashboard import Widget
from erp_core.hookspecs import hookimpl
from erp_core.printing import PrintFormat

from .models import AUDITOR, COORDINATOR, DESK, NURSE

SETUP = ["read", "create", "write", "print", "export"]
DESK_ORDER = ["read", "create", "print", "export", "sign", "change_worker", "change_level", "settle",
              "cancel_order", "feedback"]


@hookimpl
def houqin_roles():
    return {
        DESK: {"CareLevel": ["read", "print"], "CareRule": ["read"], "CareOrder": DESK_ORDER},
        # her own wards' orders only (the record rule on CareOrder)
        NURSE: {"CareLevel": ["read"], "CareRule": ["read"], "CareOrder": ["read", "print", "export", "feedback",
                                                                           "violation"],
                "CareWard": ["read"]},
        COORDINATOR: {"CareLevel": SETUP, "CareRule": SETUP,
                      "CareOrder": ["read", "print", "export", "feedback", "violation"]},
        AUDITOR: {"CareLevel": ["read", "print", "export"], "CareRule": ["read", "export"],
                  "CareOrder": ["read", "print", "export"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import CareApi, CarePricesView, CareWardView
    appbuilder.add_api(CareApi)
    appbuilder.add_view(CareWardView, "CareWard", label=_l("Patients with a care worker today"), icon="fa-bed",
                        category="care", href="/care/ward/")
    appbuilder.add_view_no_menu(CarePricesView)


def _board(_key):
    from .services import active_rules, part_day_hours, published_levels
    from erp_core.types import now
    from .views import public_price_url
    from .models import RATIOS, SHIFTS
    return {"levels": published_levels(), "ratios": RATIOS, "shifts": SHIFTS, "url": public_price_url(),
            "rules": active_rules(), "part_day_hours": part_day_hours(), "number": "",
            "in_force_on": now().date().isoformat()}


def _board_keys(date=None, period=None):
    """The board has no key: it always prints the prices published now."""
    return ["current"]


def _agreement(order):
    from .models import RATIOS, SHIFTS
    return {"rules": [r for r in (order.rules_text or "").splitlines() if r.strip()], "ratios": RATIOS,
            "shifts": SHIFTS, "signature_uri": _png_uri(order.signature)}


def _png_uri(data):
    import base64
    return f"data:image/png;base64,{base64.b64encode(data).decode()}" if data else None


def _settlement(order):
    from erp_core.errors import Conflict
    from flask_babel import gettext as _
    from .models import SETTLED
    from .services import charge_lines
    if order.workflow_state != SETTLED:
        raise Conflict(_("%(doc)s is not settled yet: there is no settlement slip.", doc=order.name))
    from .models import PAYMENT_METHODS
    return {"lines": charge_lines(order), "payment": PAYMENT_METHODS.get(order.payment_method, "")}


@hookimpl
def houqin_print_formats():
    from .models import CareOrder
    return [
        PrintFormat("care.price_board", _l("Care price board"), "care/print/price_board.html", None, _board,
                    permission="CareLevel", keys=_board_keys),
        PrintFormat("care.agreement", _l("Voluntary care agreement"), "care/print/agreement.html", CareOrder,
                    _agreement),
        PrintFormat("care.settlement", _l("Care settlement slip"), "care/print/settlement.html", CareOrder,
                    _settlement),
    ]


@hookimpl
def houqin_dashboard_widgets():
    def today(user):
        from .services import in_care_today
        from modules.workforce.api import person_label
        rows = [[o.ward.title, o.bed, o.patient_name, str(o.level), person_label(o.worker)]
                for o in in_care_today(user) if o.end_at is None][:12]
        return {"columns": [str(_l("Ward")), str(_l("Bed")), str(_l("Patient")), str(_l("Care level")),
                            str(_l("Care worker"))], "rows": rows, "link": "/care/ward/"}
    return [Widget("care_today", _l("Patients with a care worker today"), "CareWard", today, kind="table",
                   order=30)]


@hookimpl(optionalhook=True)
def houqin_assessment_evidence(contract, year, month):
    if getattr(contract, "service_category", None) != "care":
        return []
    from .services import evidence
    return evidence(contract.vendor_id, year, month)


@hookimpl(optionalhook=True)
def houqin_assessment_evidence_keys():
    return [("care.complaint", _l("Care: complaints on care orders")),
            ("care.low_rating", _l("Care: ratings of 1 or 2 on care orders")),
            ("care.violation", _l("Care: violations of the care worker rules (八不准)"))]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)
