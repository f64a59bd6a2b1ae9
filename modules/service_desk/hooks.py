from flask_babel import lazy_gettext as _l

from erp_core.hookspecs import hookimpl

from . import jobs  # noqa: F401  (declares the desk's periodic jobs)
from .models import AUDITOR, DISPATCHER, FRONT_DESK, LEADER, MANAGER, REQUESTER, TECHNICIAN

ALL = ["read", "create", "write", "delete", "print", "export", "import"]
READ = ["read", "print", "export"]
SETUP = ["Category", "Location", "WorkCalendar", "Team", "SlaRule"]
# the work order's steps, each an action permission on "WorkOrder" (views.WorkOrderApi)
FIELD_WORK = ["accept", "arrive", "pause", "resume", "note", "complete"]
DESK_WORK = ["dispatch", "reassign", "cancel", "pause", "resume", "note"]


@hookimpl
def houqin_roles():
    return {
        DISPATCHER: {**{d: ["read"] for d in SETUP}, "Location": ["read", "create", "write", "print"],
                     "Request": ["read", "create", "write", "link", "print", "export"],
                     "WorkOrder": ["read", "print", "export", "reopen", *DESK_WORK],
                     "Notice": ["read", "create", "write", "publish", "print"], "DeskFigures": ["read", "print"],
                     "DeskWall": ["read"], "DeskIntake": ["read"]},
        TECHNICIAN: {"Category": ["read"], "Location": ["read"], "Team": ["read"], "Request": ["read"],
                     "WorkOrder": ["read", "print", *FIELD_WORK], "Notice": ["read"], "DeskJobs": ["read"]},
        LEADER: {**{d: ["read"] for d in SETUP}, "Request": ["read", "print"],
                 "WorkOrder": ["read", "print", "export", "dispatch", "reassign", *FIELD_WORK],
                 "Notice": ["read"], "DeskFigures": ["read", "print"], "DeskWall": ["read"], "DeskJobs": ["read"]},
        REQUESTER: {"Category": ["read"], "Location": ["read"], "Request": ["read", "create"],
                    "WorkOrder": ["read", "rate", "reopen", "cancel"], "Notice": ["read"], "DeskMine": ["read"]},
        MANAGER: {**{d: ALL for d in SETUP}, "Request": READ + ["link"],
                  "WorkOrder": READ + ["dispatch", "reassign", "cancel", "reopen"],
                  "Notice": ALL + ["publish"], "DeskFigures": ["read", "print"], "DeskWall": ["read"]},
        AUDITOR: {**{d: ["read", "export"] for d in SETUP + ["Request", "WorkOrder", "Notice"]},
                  "DeskFigures": ["read", "print"]},
        FRONT_DESK: {"WorkOrder": ["read", "print", "settle"]},
    }


@hookimpl
def houqin_register_views(appbuilder):
    from .views import register
    register(appbuilder)


@hookimpl(optionalhook=True)
def houqin_assessment_evidence(contract, year, month):
    from .services import assessment_evidence
    return assessment_evidence(contract, year, month)


@hookimpl(optionalhook=True)
def houqin_assessment_evidence_keys():
    return [("service_desk.sla_breach", _l("Service desk: SLA breaches")),
            ("service_desk.low_rating", _l("Service desk: ratings of 2 or less"))]


@hookimpl
def houqin_demo_data(session):
    from .demo import load
    load(session)


@hookimpl
def houqin_print_formats():
    from .printing import formats
    return formats()
