"""The Celery path of erp_core.jobs against a real Redis (issue 21.5): a worker process
and a beat process run the same job code as eager mode, and record runs in core_job_run.

``.ci/run`` sets HOUQIN_TEST_CELERY_BROKER (redis://127.0.0.1:6379/4); without it these
tests are skipped.
"""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from erp_core import jobs
from erp_core.context import acting_as
from erp_core.jobs import JobRun, enqueue

BROKER = os.environ.get("HOUQIN_TEST_CELERY_BROKER")
pytestmark = pytest.mark.skipif(not BROKER, reason="HOUQIN_TEST_CELERY_BROKER is not set (.ci/run sets it)")
HERE = Path(__file__).resolve().parent


@pytest.fixture
def celery_app(app):
    """The test app switched to Celery (a queue of its own on the broker) while the test runs."""
    queue = f"houqin-test-{uuid.uuid4().hex[:8]}"
    saved = {k: app.config[k] for k in ("HOUQIN_JOBS_EAGER", "HOUQIN_JOBS_BROKER", "HOUQIN_JOBS_QUEUE")}
    app.config.update(HOUQIN_JOBS_EAGER=False, HOUQIN_JOBS_BROKER=BROKER, HOUQIN_JOBS_QUEUE=queue)
    app.extensions.pop("houqin_celery", None)
    yield app, queue
    app.extensions.pop("houqin_celery", None)
    app.config.update(saved)


def _start(kind, app, queue, tmp_path):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    log = open(tmp_path / f"{kind}.log", "w")
    args = [sys.executable, str(HERE / "celery_process.py"), kind, url, BROKER, queue, str(tmp_path / "beat-schedule")]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=str(HERE.parent)), tmp_path / f"{kind}.log"


@pytest.fixture
def processes(celery_app, tmp_path):
    app, queue = celery_app
    started = []

    def start(kind):
        proc, log = _start(kind, app, queue, tmp_path)
        started.append((proc, log))
        return proc
    yield start
    for proc, log in started:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        text = log.read_text()
        print(f"--- {log.name}\n" + text[:3000] + "\n…\n" + text[-3000:])      # shown when the test fails


def _wait(session, predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the Celery worker")


def test_a_celery_worker_runs_the_same_job_code_as_eager_mode(app, session, celery_app, processes, tmp_path):
    eager_app_config = dict(HOUQIN_JOBS_EAGER=True, HOUQIN_JOBS_BROKER=None)
    app.config.update(eager_app_config)
    with acting_as("li_na"):
        eager = session.get(JobRun, enqueue("sample.count_requests", label="n"))
    assert eager.state == "done"
    app.config.update(HOUQIN_JOBS_EAGER=False, HOUQIN_JOBS_BROKER=BROKER)
    assert jobs.backend(app) == "celery"
    processes("worker")
    with acting_as("li_na"):
        ok_id = enqueue("sample.count_requests", label="n")
        bad_id = enqueue("sample.fail")
    assert session.get(JobRun, ok_id).state == "queued"         # nothing ran in this process
    ok = _wait(session, lambda: (r := session.get(JobRun, ok_id)).state in ("done", "failed") and r)
    assert (ok.state, ok.result, ok.enqueued_by) == ("done", eager.result, "li_na") == ("done", "n: 0 requests by li_na", "li_na")
    bad = _wait(session, lambda: (r := session.get(JobRun, bad_id)).state in ("done", "failed") and r)
    assert bad.state == "failed" and bad.attempts == 2 and "sample failure" in bad.error


def test_celery_beat_sends_periodic_jobs_once_per_period(app, session, celery_app, processes):
    processes("worker")
    processes("beat")
    runs = _wait(session, lambda: len(r := session.scalars(select(JobRun).where(
        JobRun.name == "sample.tick", JobRun.state == "done")).all()) >= 2 and r, timeout=150)
    assert all(r.run_key.startswith("sample.tick@") and r.result == "tick" for r in runs)
    assert len({r.run_key for r in runs}) == len(runs)


def test_beat_schedule_and_redis_lock(app, session, celery_app):
    import redis
    from erp_core.celery_app import make_celery
    celery = make_celery(app)
    entry = celery.conf.beat_schedule["houqin:sample.tick"]
    assert entry["task"] == "houqin.periodic" and entry["args"] == ("sample.tick",)
    lock = redis.Redis.from_url(BROKER).lock("houqin:job:sample.tick", timeout=30)
    assert lock.acquire(blocking=False)
    try:        # another worker holds the lock: this one skips, recording nothing
        assert celery.tasks["houqin.periodic"]("sample.tick") is None
        assert session.scalar(select(JobRun.id).where(JobRun.name == "sample.tick")) is None
    finally:
        lock.release()
    assert celery.tasks["houqin.periodic"]("sample.tick") is not None
