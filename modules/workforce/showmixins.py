"""View mixins declared in Meta (kept apart from views.py, which imports the models)."""


class PersonShowMixin:
    """A person's page carries their history: posts, certificates, training, conduct, uniforms."""
    show_template = "workforce/person_show.html"
