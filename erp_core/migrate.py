"""Alembic, one version branch per module (labelled with its name), so a plugin brings its
own migrations. ``run.py upgrade`` applies all heads; ``run.py makemigrations <module>``
autogenerates a revision on that module's branch containing only its tables."""
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_appbuilder import Model

HERE = Path(__file__).resolve().parent
CORE = "erp_core"


def versions_dir(module):
    return Path(module.path) / "migrations" / "versions"


def config(app=None):
    app = app or current_app
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("path_separator", "os")
    locations = [str(HERE / "migrations" / "versions")]
    locations += [str(versions_dir(m)) for m in app.extensions["houqin"].registry.modules if versions_dir(m).is_dir()]
    cfg.set_main_option("version_locations", ":".join(locations))
    cfg.attributes["app"] = app
    return cfg


def table_owner(app=None):
    """{table name: module name or 'erp_core'} for every mapped table of this app."""
    app = app or current_app
    registry = app.extensions["houqin"].registry
    owners = {}
    for mapper in Model.registry.mappers:
        table = mapper.local_table
        if table is None:
            continue
        m = registry.module_of(mapper.class_)
        if m is not None:
            owners[table.name] = m.name
        elif mapper.class_.__module__.startswith(("erp_core", "flask_appbuilder")):
            owners[table.name] = CORE
    # association tables have no mapper: FAB's are ab_*, a module's are named <module>_<entity>
    prefixes = sorted((m.name for m in registry.modules), key=len, reverse=True)
    for name in Model.metadata.tables:
        if name in owners:
            continue
        if name.startswith("ab_"):
            owners[name] = CORE
        else:
            owner = next((p for p in prefixes if name.startswith(p + "_")), None)
            if owner:
                owners[name] = owner
    return owners


def applied(app=None):
    """Ids of the revisions applied to the database (the current heads and their ancestors)."""
    from .extensions import db
    script = ScriptDirectory.from_config(config(app))
    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return {r.revision for r in script.iterate_revisions(heads, "base")} if heads else set()


def upgrade(app=None, target="heads"):
    """Apply the migrations; returns how many revisions were applied."""
    before = applied(app)
    command.upgrade(config(app), target)
    return len(applied(app) - before)


def diff(app=None):
    """Differences between the database and the models of the enabled modules."""
    app = app or current_app
    owners = table_owner(app)
    from .extensions import db
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to:
                (name in owners or name == "alembic_version") if type_ == "table"
                else (obj.table.name in owners if hasattr(obj, "table") else True),
        })
        return [d for d in compare_metadata(ctx, Model.metadata)
                if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]


def makemigrations(module_name, message, app=None):
    app = app or current_app
    registry = app.extensions["houqin"].registry
    if module_name != CORE and registry.get(module_name) is not None:
        versions_dir(registry.get(module_name)).mkdir(parents=True, exist_ok=True)
    cfg = config(app)
    cfg.attributes["only_module"] = module_name
    script = ScriptDirectory.from_config(cfg)
    has_branch = any(module_name in (r.branch_labels or ()) for r in script.walk_revisions())
    if module_name == CORE:
        path = HERE / "migrations" / "versions"
        depends = None
    else:
        module = registry.get(module_name)
        if module is None:
            raise SystemExit(f"unknown or disabled module: {module_name}")
        path = versions_dir(module)
        path.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        depends = [CORE, *module.depends]
    if has_branch:
        return command.revision(cfg, message=message, autogenerate=True, head=f"{module_name}@head")
    return command.revision(cfg, message=message, autogenerate=True, head="base", branch_label=module_name,
                            version_path=str(path), depends_on=depends)
