"""``run.py``: the commands an operator needs (ARCHITECTURE §7)."""
import os
import sys

import click

from .app import create_app


def _app(ctx):
    if ctx.obj is None:
        ctx.obj = create_app()
    return ctx.obj


@click.group()
@click.pass_context
def cli(ctx):
    """Houqin hospital logistics ERP."""


@cli.command()
@click.option("--demo", is_flag=True, help="Create the database and load demo data first (SQLite by default).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def serve(ctx, demo, host, port):
    """Run the development server (upgrade + sync first; with --demo also demo data)."""
    app = _app(ctx)
    with app.app_context():
        from . import migrate, permissions
        migrate.upgrade(app)
        permissions.sync(app)
        if demo:
            from .demo import load_demo
            password = load_demo(app)
            click.secho(f"Demo data loaded. Sign in at http://{host}:{port}/ as admin / {password}", fg="green")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@cli.command()
@click.pass_context
def upgrade(ctx):
    """Apply every module's migrations (alembic heads)."""
    app = _app(ctx)
    with app.app_context():
        from . import migrate
        migrate.upgrade(app)
    click.echo("database is up to date")


@cli.command()
@click.argument("module")
@click.option("-m", "--message", default="changes")
@click.pass_context
def makemigrations(ctx, module, message):
    """Autogenerate a migration on MODULE's branch (developers)."""
    app = _app(ctx)
    with app.app_context():
        from . import migrate
        migrate.makemigrations(module, message, app)


@cli.command()
@click.pass_context
def sync(ctx):
    """Sync declared roles and permissions into the database."""
    app = _app(ctx)
    with app.app_context():
        from . import permissions
        permissions.sync(app)
        click.echo(f"synced {len(permissions.declared_roles(app))} roles")


@cli.command("create-admin")
@click.option("--username", default="admin", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default="admin@hospital.local", show_default=True)
@click.pass_context
def create_admin(ctx, username, password, email):
    """Create an administrator account."""
    app = _app(ctx)
    with app.app_context():
        sm = app.appbuilder.sm
        if sm.find_user(username=username):
            raise click.ClickException(f"user {username} exists")
        sm.add_user(username, "Admin", "Houqin", email, sm.find_role(app.config["AUTH_ROLE_ADMIN"]), password=password)
        click.echo(f"created {username}")


@cli.command("load-demo")
@click.pass_context
def load_demo_cmd(ctx):
    """Load demo data of every module (into an upgraded, synced database)."""
    app = _app(ctx)
    with app.app_context():
        from .demo import load_demo
        password = load_demo(app)
        click.echo(f"demo data loaded; admin password: {password}")


@cli.command()
@click.pass_context
def modules(ctx):
    """List modules with version, dependencies and state."""
    from .registry import discover
    app = _app(ctx)
    loaded = {m.name for m in app.extensions["houqin"].registry.modules}
    disabled = set(app.config["HOUQIN_DISABLED_MODULES"])
    click.echo(f"{'module':<20}{'version':<10}{'source':<13}{'state':<10}depends")
    for m in discover(extra=app.config.get("HOUQIN_EXTRA_MODULES", ())):
        state = "enabled" if m.name in loaded else "disabled" if m.name in disabled else "not loaded"
        click.echo(f"{m.name:<20}{m.version:<10}{m.source:<13}{state:<10}{', '.join(m.depends) or '-'}")


@cli.command("print")
@click.argument("format_name")
@click.argument("names", nargs=-1)
@click.option("--all", "print_all", is_flag=True, help="Every document of the format's type.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("-j", "--processes", default=None, type=int)
@click.pass_context
def print_cmd(ctx, format_name, names, print_all, output, processes):
    """Batch-print documents into one PDF (each keeps its own page numbers)."""
    app = _app(ctx)
    with app.app_context():
        from . import printing
        from .extensions import db
        from .models import Settings
        try:
            fmt = app.extensions["houqin_print"].get(format_name)
        except KeyError:
            raise click.ClickException(f"unknown print format {format_name}")
        if fmt.model is None:
            raise click.ClickException("a blank form is printed from the web page")
        q = db.session.query(fmt.model)
        docs = q.order_by(fmt.model.id).all() if print_all else q.filter(fmt.model.name.in_(names)).all()
        missing = set(names) - {d.name for d in docs}
        if missing:
            raise click.ClickException(f"not found: {', '.join(sorted(missing))}")
        if not docs:
            raise click.ClickException("nothing to print")
        settings = Settings.current(db.session)
        htmls = [printing.render_html(fmt, d, settings=settings) for d in docs]
        with click.progressbar(length=len(htmls), label="printing") as bar:
            done = [0]

            def progress(n, total):
                bar.update(n - done[0])
                done[0] = n
            pdf = printing.batch_pdf(htmls, processes=processes or app.config["HOUQIN_PRINT_PROCESSES"],
                                     progress=progress)
        with open(output, "wb") as fh:
            fh.write(pdf)
        click.echo(f"{len(docs)} documents -> {output}")


@cli.command()
@click.pass_context
def check(ctx):
    """Check fonts, HarfBuzz subsetting and the database."""
    from . import printing
    ok = True
    for label, (good, message) in (("CJK font", printing.check_cjk_font()),
                                   ("HarfBuzz subsetting", printing.check_harfbuzz_subset())):
        click.secho(f"{'OK ' if good else 'FAIL'} {label}: {message}", fg="green" if good else "red")
        ok &= good
    app = _app(ctx)
    with app.app_context():
        from . import migrate
        try:
            pending = migrate.diff(app)
            good = not pending
            message = "schema matches the models" if good else f"{len(pending)} differences: run `run.py upgrade`"
        except Exception as exc:  # unreachable server, bad URL
            good, message = False, f"cannot reach the database: {exc}"
        click.secho(f"{'OK ' if good else 'FAIL'} database: {message}", fg="green" if good else "red")
        ok &= good
    sys.exit(0 if ok else 1)


@cli.group()
def audit():
    """Audit log tools."""


@audit.command("verify")
@click.pass_context
def audit_verify(ctx):
    """Recompute the audit chain and check it against the anchors; exit 1 if anything was altered."""
    app = _app(ctx.find_root())
    with app.app_context():
        from . import audit as audit_mod
        from .extensions import db
        ok, count, problems = audit_mod.verify(db.session)
        for p in problems:
            click.secho(p, fg="red")
        if problems.first_bad is not None:
            click.secho(f"first bad row: {problems.first_bad}", fg="red")
        good = problems.last_good_anchor
        click.echo("last good anchor: " + (f"row {good['id']} {good['hash'][:16]} ({good['kind']}, {good['ts']})"
                                           if good else "none"))
        click.echo(f"{count} audit rows checked: {'chain intact' if ok else 'TAMPERED'}")
        sys.exit(0 if ok else 1)


@audit.command("anchor")
@click.pass_context
def audit_anchor(ctx):
    """Write the chain head, signed, to the anchor file outside the database (run daily)."""
    app = _app(ctx.find_root())
    with app.app_context():
        from . import audit as audit_mod
        from .extensions import db
        line = audit_mod.anchor(db.session)
        click.echo(f"anchored row {line['id']} {line['hash'][:16]} in {audit_mod.anchor_file()}"
                   if line else "no audit rows yet")


@audit.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days (default HOUQIN_AUDIT_RETENTION_DAYS).")
@click.pass_context
def audit_purge(ctx, days):
    """Apply the retention period, keeping the chain verifiable."""
    app = _app(ctx.find_root())
    with app.app_context():
        from . import audit as audit_mod
        from .extensions import db
        n = audit_mod.purge(db.session, days or app.config["HOUQIN_AUDIT_RETENTION_DAYS"])
        db.session.commit()
        click.echo(f"{n} rows purged")


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def backup_cmd(ctx, path):
    """Write every table to PATH (typed JSON lines; SQLite and PostgreSQL alike)."""
    app = _app(ctx)
    with app.app_context():
        from .backup import backup
        from .extensions import db
        counts = backup(db.engine, path)
    for name, n in counts.items():
        click.echo(f"{name:<40}{n:>8}")
    click.echo(f"{sum(counts.values())} rows in {len(counts)} tables -> {path}")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask: the database's current content is replaced.")
@click.pass_context
def restore_cmd(ctx, path, yes):
    """Replace the database's content with a backup (run `upgrade` first), then check it."""
    if not yes:
        click.confirm("Replace everything in the database with the backup?", abort=True)
    app = _app(ctx)
    with app.app_context():
        from . import audit as audit_mod
        from .backup import restore
        from .extensions import db
        try:
            counts = restore(db.engine, path)
        except ValueError as exc:
            raise click.ClickException(str(exc))
        for name, n in counts.items():
            click.echo(f"{name:<40}{n:>8}")
        ok, count, problems = audit_mod.verify(db.session)
        db.session.remove()
    click.echo(f"{sum(counts.values())} rows restored; audit chain: {'intact' if ok else 'TAMPERED'}")
    for p in problems:
        click.secho(p, fg="red")
    sys.exit(0 if ok else 1)


@cli.group()
def i18n():
    """Translation catalogues."""


@i18n.command("update")
@click.argument("module", required=False)
def i18n_update(module):
    """Extract strings into the catalogues (all, or one MODULE / erp_core)."""
    from . import i18n as i18n_mod
    i18n_mod.update(only=module)
    click.echo("catalogues updated")


@i18n.command("compile")
def i18n_compile():
    from . import i18n as i18n_mod
    click.echo(f"{i18n_mod.compile_all()} catalogues compiled")


def main():
    # Module commands (e.g. `tender verify`) need the module list, not a full app.
    if os.environ.get("HOUQIN_SKIP_MODULE_CLI") != "1":
        from .registry import Registry
        from .config import DefaultConfig
        try:
            registry = Registry.load(disabled=DefaultConfig.HOUQIN_DISABLED_MODULES)
            registry.call("houqin_cli", cli=cli)
        except Exception as exc:  # a broken module must not hide `run.py modules`
            click.secho(f"warning: {exc}", fg="yellow", err=True)
    cli(prog_name="run.py")
