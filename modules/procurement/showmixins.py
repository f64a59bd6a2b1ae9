"""The tender's show page carries its desk: setup, registrations, the bid desk, the committee,
objections and the manager's recorded decisions (kept apart from views.py, which imports models)."""


class TenderShowMixin:
    show_template = "procurement/tender_show.html"
