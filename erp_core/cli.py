"""``run.py``: the commands an operator needs (ARCHITECTURE §7)."""
import os
import sys

import click



def _app(ctx):
    if ctx.obj is None:
        from .app import create_app
        ctx.obj = create_app()
    return ctx.obj


def _light_app(ctx):
    """Config, database, translations and print formats, no web app (no AppBuilder, views,
    APIs): for commands that only read or write the database (audit, backup, restore)."""
    if ctx.obj is None:
        from .app import create_print_app
        ctx.obj = create_print_app()
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
        from sqlalchemy.engine import make_url
        n = migrate.upgrade(app)
        db_url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
        click.echo(f"houqin: database {db_url}: " + (f"{n} migrations applied" if n else "schema up to date"))
        changed = permissions.sync(app)
        if changed:
            click.echo(f"houqin: {changed}")
        sign_in = f"Sign in at http://{host}:{port}/"
        if demo:
            from .demo import load_demo
            d = load_demo(app)
            click.echo("houqin: demo data " + ("loaded" if d.data_loaded else "already present") +
                       f"; {len(d.users)} demo users: {', '.join(d.users[:4])}…")
            click.echo(f"houqin: one password for every demo user, from {d.password_source}")
            sign_in += f" as admin (or any demo user) / {d.password}"
    click.secho(sign_in, fg="green")
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
        changed = permissions.sync(app)
        click.echo(changed or f"{len(permissions.declared_roles(app))} roles: nothing to change")


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
        d = load_demo(app)
        click.echo(f"demo data {'loaded' if d.data_loaded else 'already present'}; "
                   f"password of every demo user: {d.password}")


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
@click.option("--all", "print_all", is_flag=True, help="Everything the format can print (with --date/--period: of that day/month).")
@click.option("--date", "day", default=None, help="YYYY-MM-DD: the day's documents, or the day of a format keyed by date.")
@click.option("--period", default=None, help="YYYY-MM: the month's documents, or the month of a format keyed by period.")
@click.option("--lang", default="zh_CN", show_default=True, type=click.Choice(["zh_CN", "en"]))
@click.option("--paper", default=None, help="a4, receipt80 or label (default: the hospital settings).")
@click.option("--user", "username", default=None, help="Who prints (打印人); default: admin, if there is one.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("-j", "--processes", default=None, type=int)
@click.pass_context
def print_cmd(ctx, format_name, names, print_all, day, period, lang, paper, username, output, processes):
    """Print documents of FORMAT_NAME into one PDF (each keeps its own page numbers).

    NAMES are document numbers, or keys for formats without a document
    (rentals.cash_summary 2026-11-24, catering.production 2026-11-24~lunch,
    vendor_contracts.settlement 2026-10). Or select with --date, --period, --all.
    Starts only what printing needs (no web app)."""
    from .app import create_print_app
    app = ctx.obj if ctx.obj is not None else create_print_app()
    for value, fmt_text, length in ((day, "%Y-%m-%d", 10), (period, "%Y-%m", 7)):
        if value is not None and (len(value) != length or not _parses(value, fmt_text)):
            raise click.BadParameter(f"{value}: write it {'YYYY-MM-DD' if length == 10 else 'YYYY-MM'}")
    with app.app_context():
        from . import printing
        from .extensions import db
        try:
            fmt = app.extensions["houqin_print"].get(format_name)
        except KeyError:
            known = ", ".join(f.name for f in app.extensions["houqin_print"])
            raise click.ClickException(f"unknown print format {format_name} (known: {known})")
        from sqlalchemy import select
        from flask_appbuilder.security.sqla.models import User
        user = db.session.scalar(select(User).where(User.username == (username or "admin")))
        if user is None and username:
            raise click.ClickException(f"unknown user {username}")
        if names:
            if fmt.model is None:
                docs = list(names)
            else:
                docs = db.session.scalars(select(fmt.model).where(fmt.model.name.in_(names))
                                          .order_by(fmt.model.id)).all()
                missing = set(names) - {d.name for d in docs}
                if missing:
                    raise click.ClickException(f"not found: {', '.join(sorted(missing))}")
        elif print_all or day or period:
            docs = printing.documents(fmt, db.session, date=day, period=period)
            if not docs and fmt.model is None and fmt.key and (day or period) and not fmt.keys:
                docs = [day if fmt.key == "date" else period]
        else:
            hint = {"date": "a day (--date YYYY-MM-DD)", "period": "a month (--period YYYY-MM)"}.get(
                fmt.key, "document numbers" if fmt.model is not None else "keys")
            raise click.ClickException(f"{format_name} prints by {hint}; or use --all")
        if not docs:
            raise click.ClickException("nothing to print")
        from .errors import UserError
        from .printing.batch import collect_htmls
        try:        # named documents must all print; a selection skips what cannot print now
            htmls, skipped = collect_htmls(app, fmt, docs, user, lang=lang, paper=paper, skip_refused=not names)
        except UserError as exc:
            raise click.ClickException(str(exc))
        if not htmls:
            raise click.ClickException(f"nothing printable ({len(skipped)} skipped)")
        with click.progressbar(length=len(htmls), label="printing") as bar:
            done = [0]

            def progress(n, total):
                bar.update(n - done[0])
                done[0] = n
            pdf = printing.batch_pdf(htmls, processes=processes or app.config["HOUQIN_PRINT_PROCESSES"],
                                     progress=progress)
        db.session.commit()
        with open(output, "wb") as fh:
            fh.write(pdf)
        click.echo(f"{len(docs) - len(skipped)} documents -> {output}"
                   + (f" ({len(skipped)} not printable now: {', '.join(skipped[:5])})" if skipped else ""))


def _celery(ctx):
    app = _app(ctx)
    if not app.config.get("HOUQIN_JOBS_BROKER"):
        raise click.ClickException("set HOUQIN_JOBS_BROKER=redis://... (without a broker, jobs run inside "
                                   "the serving process and need no worker)")
    from .celery_app import make_celery
    return make_celery(app)


@cli.command()
@click.option("-c", "--concurrency", default=2, show_default=True, help="Jobs run at the same time (threads).")
@click.option("--loglevel", default="info", show_default=True)
@click.pass_context
def worker(ctx, concurrency, loglevel):
    """Run background jobs from the Celery broker (HOUQIN_JOBS_BROKER)."""
    # threads, not forked children: a batch print starts its own process pool
    _celery(ctx).worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "--pool=threads",
                              "--without-gossip", "--without-mingle"])


@cli.command()
@click.option("--loglevel", default="info", show_default=True)
@click.option("--schedule", default=None, help="Beat's state file (default: instance/celerybeat-schedule).")
@click.pass_context
def beat(ctx, loglevel, schedule):
    """Send the periodic jobs to the Celery workers (run one beat per site)."""
    from .config import INSTANCE
    INSTANCE.mkdir(parents=True, exist_ok=True)
    _celery(ctx).start(["beat", f"--loglevel={loglevel}", "-s", schedule or str(INSTANCE / "celerybeat-schedule")])


@cli.command()
@click.pass_context
def jobs(ctx):
    """The registered background jobs and their schedules."""
    app = _app(ctx)
    from . import jobs as jobs_mod
    click.echo(f"backend: {jobs_mod.backend(app)}")
    for name, spec in sorted(jobs_mod.registered(app).items()):
        when = f"every {spec.every}" if spec.every else f"daily at {spec.at:%H:%M}" if spec.at else "on demand"
        click.echo(f"{name:<40}{when}")


def _parses(value, fmt):
    from datetime import datetime
    try:
        datetime.strptime(value, fmt)
        return True
    except ValueError:
        return False


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
    app = _light_app(ctx.find_root())
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
    app = _light_app(ctx.find_root())
    with app.app_context():
        from . import audit as audit_mod
        from .extensions import db
        line = audit_mod.anchor(db.session)
        click.echo(f"anchored row {line['id']} {line['hash'][:16]} in {audit_mod.anchor_file()}"
                   if line else "no audit rows yet")


@audit.command("reseal")
@click.pass_context
def audit_reseal(ctx):
    """Once after upgrading: seal the rows written before the keyed chain (checked under the
    old digest, then pinned by a signed anchor and an audit row); nothing is rewritten."""
    app = _app(ctx.find_root())
    with app.app_context():
        from . import audit as audit_mod
        from .extensions import db
        try:
            done = audit_mod.reseal(db.session)
        except ValueError as exc:
            db.session.rollback()
            click.secho(f"not resealed: {exc}", fg="red")
            sys.exit(1)
        click.echo(f"{done['rows']} rows written before the keyed chain sealed up to row {done['up_to']}"
                   + (f" (purge before the upgrade taken as found: rows up to {done['purge_floor']})"
                      if done.get("purge_floor") else "") if done["rows"] else "nothing to reseal")


@audit.command("purge")
@click.option("--days", type=int, default=None, help="Keep this many days (default HOUQIN_AUDIT_RETENTION_DAYS).")
@click.pass_context
def audit_purge(ctx, days):
    """Apply the retention period, keeping the chain verifiable."""
    app = _light_app(ctx.find_root())
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
    app = _light_app(ctx)
    with app.app_context():
        from . import storage
        from .backup import backup
        from .extensions import db
        counts = backup(db.engine, path, storage.store(app))
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
    app = _light_app(ctx)
    with app.app_context():
        from . import audit as audit_mod
        from . import storage
        from .backup import restore
        from .extensions import db
        try:
            counts = restore(db.engine, path, storage.store(app))
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
def attachments():
    """Attachment files in their store (HOUQIN_ATTACHMENTS)."""


@attachments.command("sweep")
@click.option("--older-than", default=3600, show_default=True, type=int, help="Seconds since the file was written.")
@click.pass_context
def attachments_sweep(ctx, older_than):
    """Remove stored files no attachment refers to (left by uploads whose transaction failed)."""
    app = _light_app(ctx)
    with app.app_context():
        from . import storage
        from .extensions import db
        n = storage.sweep(db.session, older_than)
        db.session.remove()
    click.echo(f"{n} unreferenced files removed")


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
    # Module commands (e.g. `tender verify`) need the module list, not a full app; a core
    # command (print, upgrade, ...) does not need them at all.
    core_command = len(sys.argv) > 1 and sys.argv[1] in cli.commands
    if os.environ.get("HOUQIN_SKIP_MODULE_CLI") != "1" and not core_command:
        from .registry import Registry
        from .config import DefaultConfig
        try:
            registry = Registry.load(disabled=DefaultConfig.HOUQIN_DISABLED_MODULES)
            registry.call("houqin_cli", cli=cli)
        except Exception as exc:  # a broken module must not hide `run.py modules`
            click.secho(f"warning: {exc}", fg="yellow", err=True)
    cli(prog_name="run.py")
