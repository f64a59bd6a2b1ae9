"""The schema built by the migrations equals the models (autogenerate finds nothing)."""
from erp_core import migrate


def test_upgrade_from_empty_equals_models(app):
    with app.app_context():
        # the test-only sample module ships no migrations on purpose
        diffs = [d for d in migrate.diff(app) if "sample_" not in repr(d)]
    assert diffs == []


def test_every_module_has_its_own_branch(app):
    from alembic.script import ScriptDirectory
    with app.app_context():
        script = ScriptDirectory.from_config(migrate.config(app))
        labels = {label for rev in script.walk_revisions() for label in (rev.branch_labels or ())}
        owners = set(migrate.table_owner(app).values()) - {"sample"}
    assert owners <= labels
