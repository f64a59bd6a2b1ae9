"""View mixins declared in Meta (kept apart from views.py, which imports the models)."""


class PersonShowMixin:
    """A person's page carries their history: posts, certificates, training, conduct, uniforms."""
    show_template = "workforce/person_show.html"


class PersonApiMixin:
    """The API filters people by these columns only: never the masked ID card (its last digits
    would find people); the exact number is looked up through the ``find`` action."""
    search_columns = ["name", "full_name", "phone", "vendor", "contract", "post", "department", "status",
                      "removal_flagged", "entry_date", "exit_date"]
