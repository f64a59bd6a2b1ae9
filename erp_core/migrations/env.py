"""Alembic environment: the app's engine and FAB's Model.metadata (which holds every
module's tables as well as the ab_* security tables)."""
from alembic import context
from flask_appbuilder import Model

from erp_core.extensions import db
from erp_core.migrate import table_owner

config = context.config
app = config.attributes["app"]
only = config.attributes.get("only_module")
with app.app_context():
    owners = table_owner(app)


def include_object(obj, name, type_, reflected, compare_to):
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    if table is None:
        return True
    if table not in owners:
        return False       # tables of disabled modules, or not ours
    return only is None or owners[table] == only


with app.app_context():
    with db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Model.metadata,
                          include_object=include_object, compare_type=True,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
