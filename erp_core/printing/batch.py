"""Batch printing on the jobs facility (issue 21.5).

``collect_htmls`` is the one place a batch is rendered to HTML, as a given user in a given
language (``run.py print`` and the job share it). ``POST /print/<format>/batch`` checks the
user may print every named document, then enqueues the job ``core.batch_print``, which
renders the PDF and stores it as an attachment of its ``JobRun``; the user is notified and
fetches it at ``/print-jobs/<run>.pdf`` (only the user who asked, or an administrator).
"""
from flask import current_app, g
from flask_babel import force_locale, lazy_gettext as _l

from ..jobs import current_run_id, job

JOB = "core.batch_print"


def collect_htmls(app, fmt, docs, user, lang="zh_CN", paper=None, skip_refused=False):
    """Record a printed copy of each document and render its HTML parts, as ``user`` in
    ``lang``. Returns ``(htmls, skipped names)``; a refused document raises unless
    ``skip_refused``. The caller commits."""
    from ..errors import UserError
    from ..extensions import db
    from ..models import Settings
    from . import record_print, render_htmls
    settings = Settings.current(db.session)
    htmls, skipped = [], []
    for d in docs:
        name = d if isinstance(d, str) else d.name
        with app.test_request_context(), force_locale(lang):
            g._login_user = user            # record rules and templates see who prints
            try:
                copy = record_print(db.session, fmt, name, user) if fmt.model or fmt.key else 0
                htmls += render_htmls(fmt, d, settings=settings, user=user, copy=copy, paper=paper)
            except UserError:
                if not skip_refused:
                    raise
                db.session.rollback()
                skipped.append(name)
    return htmls, skipped


@job(JOB, title=_l("Batch printing"))
def batch_print(format, names, user_id, lang="zh_CN", paper=None):
    from flask_appbuilder.security.sqla.models import User
    from .. import audit, types
    from ..context import actor
    from ..extensions import db
    from .. import storage
    from ..notify import notify
    from ..permissions import get_for
    from . import batch_pdf
    app = current_app._get_current_object()
    fmt = app.extensions["houqin_print"].get(format)
    user = db.session.get(User, user_id)
    with app.test_request_context():
        g._login_user = user
        docs = [get_for(fmt.model, user, name=n, action="print") for n in names]
    htmls, _ = collect_htmls(app, fmt, docs, user, lang=lang, paper=paper)
    pdf = batch_pdf(htmls, processes=app.config["HOUQIN_PRINT_PROCESSES"])
    for d in docs:
        audit.record(db.session, d, "print", format=fmt.name, batch=True)
    run_id = current_run_id()
    db.session.add(storage.save(doctype="JobRun", doc_id=run_id, filename=f"{fmt.name}-batch.pdf",
                                mimetype="application/pdf", data=pdf, uploaded_by=actor(), uploaded_at=types.now()))
    with app.test_request_context(), force_locale(lang):
        notify([user], str(_l("Batch print ready: %(title)s", title=fmt.title)),
               str(_l("%(n)s documents", n=len(docs))), link=f"/print-jobs/{run_id}.pdf", key=f"print:{run_id}")
    return f"{len(docs)} documents, {len(pdf) // 1024} KB"
