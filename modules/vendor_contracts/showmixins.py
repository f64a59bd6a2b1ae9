"""View mixins declared in Meta (kept apart from views.py, which imports the models)."""


class VendorShowMixin:
    show_template = "vendor_contracts/vendor_show.html"


class TemplateShowMixin:
    """The template page lists its items and grade bands (what a month will be scored by)."""
    show_template = "vendor_contracts/template_show.html"
