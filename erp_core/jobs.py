"""Background jobs (issue 21.5): one facility, three backends, the same task code.

Declaring a job — at import of the module's ``hooks.py`` (the registry imports it when the
module is enabled; a job whose module is disabled is not run or scheduled)::

    from datetime import timedelta
    from erp_core.jobs import job

    @job("service_desk.rating_reminders", every=timedelta(hours=1), retries=2)
    def rating_reminders():
        ...                          # runs in the app context, in its own transaction
        return "3 reminders"         # optional: a short summary shown on the job list

    @job("service_desk.notice")      # an on-demand job: enqueue("service_desk.notice", notice_id=5)
    def publish_notice(notice_id): ...

``enqueue(name, **kwargs)`` (kwargs JSON-serialisable) records a ``JobRun`` in
``core_job_run`` with the real user (``erp_core.context.actor``) and returns its id. It
commits the caller's transaction first, so call it once your changes are done.

Backends (chosen by configuration, the task code does not know):

* eager — ``HOUQIN_JOBS_EAGER`` (the test config): ``enqueue`` runs the job before it
  returns; periodic jobs run only when a test calls ``run_periodic``.
* in-process — the default: a worker thread and a scheduler thread in the serving process
  (started on the first request), so ``run.py serve`` needs nothing else. Several
  gunicorn workers share the queue through the table (a run is claimed by one conditional
  UPDATE).
* Celery on Redis — ``HOUQIN_JOBS_BROKER=redis://...``: ``run.py worker`` runs the jobs,
  ``run.py beat`` sends the periodic ones (Apache Superset's choice).

A periodic job runs once per period (the run key ``name@slot`` is unique) and never twice
at once (the unique ``lock_key`` held while it runs; with Celery also a Redis lock). A job
runs inside the app context acting as whoever enqueued it ("system" for periodic ones);
an exception rolls its transaction back, is retried as declared, then recorded as failed
with its traceback. It never stops the worker.
"""
import contextvars
import json
import logging
import threading
import time as _time
import traceback
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_appbuilder import Model
from sqlalchemy import JSON, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import types
from .context import actor, acting_as
from .types import UTCDateTime

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_current_run = contextvars.ContextVar("houqin_job_run", default=None)


def current_run_id():
    """Inside a job: the id of its ``JobRun`` (e.g. to attach a result file to it)."""
    return _current_run.get()


class JobRun(Model):
    """One run of a job: what, with which arguments, who asked, how it ended."""
    __tablename__ = "core_job_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    args: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(10), index=True, default=QUEUED)
    enqueued_by: Mapped[str] = mapped_column(String(64), default="system")
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    # periodic runs: one per period slot ("name@2026-12-01T08:00+08:00")
    run_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    # held (= name) while a periodic run runs: a second one at the same time cannot insert
    lock_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)


@dataclass(frozen=True)
class Job:
    name: str
    fn: object
    every: timedelta | None = None
    at: time | None = None
    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=30)
    lock_timeout: timedelta = timedelta(hours=1)     # a periodic run's lock older than this is stale
    title: object = None                              # translatable label for the job list

    @property
    def periodic(self):
        return self.every is not None or self.at is not None

    def slot(self, now=None):
        """Start of the current period (hospital time)."""
        now = now or types.now()
        if self.at is not None:
            start = now.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
            return start if start <= now else start - timedelta(days=1)
        seconds = int(self.every.total_seconds())
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


JOBS: dict[str, Job] = {}


def job(name, every=None, at=None, retries=0, retry_delay=timedelta(seconds=30), lock_timeout=timedelta(hours=1),
        title=None):
    """Register the decorated function as the job ``name`` (``every``: a timedelta makes
    it periodic; ``at``: a ``datetime.time`` makes it daily at that hospital time;
    ``retries`` more attempts after a failure, ``retry_delay`` apart; ``title`` shown on
    the job list)."""
    if every is not None and at is not None:
        raise ValueError("a job runs every <timedelta> or daily at <time>, not both")

    def register(fn):
        existing = JOBS.get(name)
        if existing is not None and _where(existing.fn) != _where(fn):
            raise ValueError(f"job {name} is declared twice ({_where(existing.fn)} and {_where(fn)})")
        JOBS[name] = Job(name, fn, every, at, retries, retry_delay, lock_timeout, title)
        return fn
    return register


def _where(fn):
    return f"{fn.__module__}.{fn.__qualname__}"


def registered(app=None):
    """The jobs of erp_core and the enabled modules of ``app``."""
    app = app or current_app
    enabled = tuple(m.package + "." for m in app.extensions["houqin"].registry.modules)

    def belongs(fn):
        where = fn.__module__ + "."
        return not where.startswith(("modules.", "plugins.")) or where.startswith(enabled)
    return {n: j for n, j in JOBS.items() if belongs(j.fn)}


def title_of(name):
    spec = JOBS.get(name)
    return str(spec.title) if spec is not None and spec.title else name


def get(name, app=None):
    jobs = registered(app)
    if name not in jobs:
        raise KeyError(f"unknown job {name!r} (known: {', '.join(sorted(jobs)) or 'none'})")
    return jobs[name]


def backend(app=None):
    app = app or current_app
    if app.config.get("HOUQIN_JOBS_EAGER"):
        return "eager"
    return "celery" if app.config.get("HOUQIN_JOBS_BROKER") else "thread"


# ---------------------------------------------------------------- enqueue / execute

def enqueue(name, **kwargs):
    """Record a run of job ``name`` and hand it to the backend; returns the run's id.
    Commits the current transaction (the run must be visible to the worker)."""
    from .extensions import db
    app = current_app._get_current_object()
    get(name, app)
    args = json.loads(json.dumps(kwargs))       # refuses what a worker could not receive
    run = JobRun(name=name, args=args, state=QUEUED, enqueued_by=actor(), enqueued_at=types.now())
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    kind = backend(app)
    if kind == "eager":
        execute(app, run_id)
    elif kind == "celery":
        from .celery_app import run_task
        run_task(app).delay(run_id)
    else:
        _local(app).wake.set()
    return run_id


def _claim(session, run_id):
    """QUEUED -> RUNNING, for exactly one worker."""
    res = session.execute(update(JobRun).where(JobRun.id == run_id, JobRun.state == QUEUED)
                          .values(state=RUNNING, started_at=types.now()))
    session.commit()
    return res.rowcount == 1


def execute(app, run_id, claimed=False):
    """Run a recorded job in a fresh app context (its own session and transaction).
    Returns the final state; never raises for the job's own failure."""
    with app.app_context():
        from .extensions import db
        session = db.session
        try:
            if not claimed and not _claim(session, run_id):
                return None                      # another worker has it
            run = session.get(JobRun, run_id)
            spec = JOBS.get(run.name)
            args, user = dict(run.args or {}), run.enqueued_by or "system"
            retries = spec.retries if spec else 0
            delay = 0 if app.config.get("HOUQIN_JOBS_EAGER") else spec.retry_delay.total_seconds() if spec else 0
            state, result, error, attempts = FAILED, None, None, 0
            while attempts <= retries:
                attempts += 1
                try:
                    if spec is None:
                        raise KeyError(f"unknown job {run.name!r}")
                    token = _current_run.set(run_id)
                    try:
                        with acting_as(user):
                            out = spec.fn(**args)
                    finally:
                        _current_run.reset(token)
                    session.commit()
                    state, result, error = DONE, (None if out is None else str(out)[:2000]), None
                    break
                except Exception:
                    session.rollback()
                    error = traceback.format_exc()[-8000:]
                    log.warning("job %s (run %s) failed, attempt %s of %s", run.name if spec else "?", run_id,
                                attempts, retries + 1)
                    if attempts <= retries and delay:
                        _time.sleep(delay)
            session.execute(update(JobRun).where(JobRun.id == run_id).values(
                state=state, result=result, error=error, attempts=attempts, finished_at=types.now(),
                lock_key=None))
            session.commit()
            return state
        except Exception:          # the bookkeeping itself failed (database gone): log, keep the worker
            log.exception("job run %s: could not be recorded", run_id)
            session.rollback()
            return None
        finally:
            db.session.remove()


def run_periodic(name, app=None, now=None):
    """Run periodic job ``name`` for the current period, unless it ran for this period
    already or is running now (anywhere: the run key and the lock key are unique).
    Returns the run id, or None when skipped. Used by every backend's scheduler."""
    app = app or current_app._get_current_object()
    spec = get(name, app)
    slot = spec.slot(now)
    with app.app_context():
        from .extensions import db
        session = db.session
        now_ = now or types.now()
        # a lock left by a worker that died is released after the job's lock timeout
        session.execute(update(JobRun).where(JobRun.lock_key == name, JobRun.state == RUNNING,
                                             JobRun.started_at < now_ - spec.lock_timeout)
                        .values(lock_key=None, state=FAILED, finished_at=now_, error="lock timed out"))
        session.commit()
        run = JobRun(name=name, args={}, state=RUNNING, enqueued_by="system", enqueued_at=now_, started_at=now_,
                     run_key=f"{name}@{slot.isoformat(timespec='seconds')}", lock_key=name)
        session.add(run)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("periodic job %s: already ran for %s or is running", name, slot)
            return None
        run_id = run.id
        session.remove()
    execute(app, run_id, claimed=True)
    return run_id


# ---------------------------------------------------------------- in-process backend

class _Local:
    def __init__(self):
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads = []
        self.lock = threading.Lock()


def _local(app):
    return app.extensions.setdefault("houqin_jobs", _Local())


def start(app):
    """Start the in-process worker and scheduler threads (once per process)."""
    local = _local(app)
    with local.lock:
        if local.threads or backend(app) != "thread":
            return False
        local.stopping.clear()
        poll = float(app.config.get("HOUQIN_JOBS_POLL_SECONDS", 5))
        local.threads = [threading.Thread(target=_worker_loop, args=(app, local, poll), name="houqin-jobs", daemon=True),
                         threading.Thread(target=_scheduler_loop, args=(app, local, poll * 3), name="houqin-beat",
                                          daemon=True)]
        for t in local.threads:
            t.start()
    return True


def stop(app, timeout=30):
    """Stop the in-process threads after the runs in hand (tests; a clean shutdown)."""
    local = _local(app)
    with local.lock:
        local.stopping.set()
        local.wake.set()
        for t in local.threads:
            t.join(timeout)
        local.threads = []


def _worker_loop(app, local, poll):
    while not local.stopping.is_set():
        try:
            with app.app_context():
                from .extensions import db
                ids = db.session.scalars(select(JobRun.id).where(JobRun.state == QUEUED).order_by(JobRun.id)
                                         .limit(20)).all()
                db.session.remove()
            for run_id in ids:
                execute(app, run_id)
        except Exception:
            log.exception("job worker: polling failed")
        local.wake.wait(poll)
        local.wake.clear()


def _scheduler_loop(app, local, every):
    while not local.stopping.is_set():
        for spec in list(registered(app).values()):
            if spec.periodic and not local.stopping.is_set():
                try:
                    run_periodic(spec.name, app)
                except Exception:
                    log.exception("job scheduler: %s", spec.name)
        local.stopping.wait(every)


def install(app):
    """Start the in-process threads on the first request of a serving process (never in
    tests, migrations or other commands)."""
    @app.before_request
    def _start_jobs():
        if not app.testing and backend(app) == "thread" and not _local(app).threads:
            start(app)
