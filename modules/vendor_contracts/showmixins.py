"""View mixins declared in Meta (kept apart from views.py, which imports the models)."""


class VendorShowMixin:
    show_template = "vendor_contracts/vendor_show.html"
