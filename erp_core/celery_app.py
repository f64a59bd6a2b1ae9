"""The Celery backend of erp_core.jobs (``HOUQIN_JOBS_BROKER=redis://...``).

Two generic tasks carry every job, so the task code is the same as in-process:
``houqin.run_job(run_id)`` runs a recorded ``JobRun``; ``houqin.periodic(name)`` (sent by
``run.py beat``) runs a periodic job for its current period under a Redis lock (and the
database's unique run/lock keys, which hold across backends).
"""
import logging

log = logging.getLogger(__name__)


def make_celery(app):
    ext = app.extensions.get("houqin_celery")
    if ext is not None:
        return ext
    from celery import Celery
    from celery.schedules import crontab

    from . import jobs
    broker = app.config["HOUQIN_JOBS_BROKER"]
    celery = Celery("houqin", broker=broker, set_as_current=False)
    celery.conf.update(
        task_default_queue=app.config.get("HOUQIN_JOBS_QUEUE") or "houqin",
        task_ignore_result=True, timezone=app.config["HOUQIN_TIMEZONE"], enable_utc=True,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        task_acks_late=False, worker_prefetch_multiplier=1,
        beat_schedule={
            f"houqin:{spec.name}": {
                "task": "houqin.periodic", "args": (spec.name,),
                "schedule": spec.every if spec.every is not None else crontab(hour=spec.at.hour, minute=spec.at.minute),
            } for spec in jobs.registered(app).values() if spec.periodic},
    )

    @celery.task(name="houqin.run_job")
    def run_job(run_id):
        return jobs.execute(app, run_id)

    @celery.task(name="houqin.periodic")
    def periodic(name):
        import redis
        spec = jobs.get(name, app)
        lock = redis.Redis.from_url(broker).lock(f"houqin:job:{name}", blocking=False,
                                                 timeout=int(spec.lock_timeout.total_seconds()))
        if not lock.acquire():
            log.info("periodic job %s is running on another worker: skipped", name)
            return None
        try:
            return jobs.run_periodic(name, app)
        finally:
            try:
                lock.release()
            except Exception:       # expired meanwhile: nothing to release
                pass

    app.extensions["houqin_celery"] = celery
    return celery


def run_task(app):
    return make_celery(app).tasks["houqin.run_job"]
