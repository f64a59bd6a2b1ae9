"""erp_core.jobs and erp_core.notify (issue 21.5): runs recorded with the real user,
failures recorded (never raised into the caller or the worker), retries, a periodic job
once per period and never twice at once, idempotent notifications, own notifications only."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from erp_core import jobs
from erp_core.context import acting_as
from erp_core.jobs import JobRun, enqueue, job, run_periodic
from erp_core.notify import Notification, notify
from erp_core.testing import get_user

CALLS = []
GATE = threading.Event()
INSIDE = threading.Event()


@job("test.add")
def _add(a, b):
    from erp_core.context import actor
    CALLS.append((a + b, actor()))
    return f"sum {a + b}"


@job("test.boom", retries=2)
def _boom():
    CALLS.append("boom")
    raise RuntimeError("the printer caught fire")


@job("test.notify_role")
def _notify_role(role, key):
    notify([role], "Breach warning", "WO-1 is late", link="/x/1", key=key)


@job("test.slow_periodic", every=timedelta(minutes=10))
def _slow():
    INSIDE.set()
    assert GATE.wait(20)
    CALLS.append("slow")


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    GATE.clear()
    INSIDE.clear()
    yield
    GATE.set()


def test_enqueue_records_the_run_with_the_real_user(app, session):
    with acting_as("li_na"):
        run_id = enqueue("test.add", a=2, b=3)
    run = session.get(JobRun, run_id)
    assert (run.state, run.result, run.enqueued_by, run.args) == ("done", "sum 5", "li_na", {"a": 2, "b": 3})
    assert run.started_at.tzinfo is not None and run.finished_at >= run.started_at
    assert CALLS == [(5, "li_na")]          # the job acts as whoever enqueued it


def test_failure_is_recorded_retried_and_not_raised(app, session):
    run_id = enqueue("test.boom")           # does not raise
    run = session.get(JobRun, run_id)
    assert run.state == "failed" and run.attempts == 3 and CALLS == ["boom"] * 3
    assert "the printer caught fire" in run.error
    assert enqueue("test.add", a=1, b=1)    # the facility keeps working after a failure
    assert session.get(JobRun, run_id + 1).state == "done"


def test_unknown_job_and_unserialisable_arguments_are_refused(app, session):
    with pytest.raises(KeyError):
        enqueue("test.nope")
    with pytest.raises(TypeError):
        enqueue("test.add", a=object(), b=1)
    assert session.scalar(select(JobRun.id)) is None


def test_periodic_job_runs_once_per_period(app, session, travel):
    GATE.set()
    assert run_periodic("test.slow_periodic", app) is not None
    assert run_periodic("test.slow_periodic", app) is None      # same period: not again
    travel(minutes=10)
    assert run_periodic("test.slow_periodic", app) is not None  # next period
    assert CALLS == ["slow", "slow"]


def test_periodic_job_never_runs_twice_at_once(app, session, travel):
    results = []
    t = threading.Thread(target=lambda: results.append(run_periodic("test.slow_periodic", app)))
    t.start()
    assert INSIDE.wait(20)
    travel(minutes=10)              # the next period comes while the first run still runs
    assert run_periodic("test.slow_periodic", app) is None
    GATE.set()
    t.join(20)
    assert results and results[0] is not None and CALLS == ["slow"]
    run = session.get(JobRun, results[0])
    assert run.state == "done" and run.lock_key is None         # the lock is released
    assert run_periodic("test.slow_periodic", app) is not None  # so the later period runs


def test_notify_is_idempotent_per_key_and_user(app, session):
    enqueue("test.notify_role", role="Front Desk", key="breach:WO-1")
    enqueue("test.notify_role", role="Front Desk", key="breach:WO-1")
    user = get_user(app, "Front Desk")
    notes = session.scalars(select(Notification).where(Notification.user_id == user.id)).all()
    assert len(notes) == 1 and notes[0].subject == "Breach warning" and notes[0].link == "/x/1"
    notify([user], "Another", "", key="other")
    notify([user], "Unkeyed", "")
    notify([user], "Unkeyed", "")
    session.commit()
    assert session.query(Notification).filter_by(user_id=user.id).count() == 4


def test_notify_refuses_outside_links_and_unknown_recipients(app, session):
    user = get_user(app, "Front Desk")
    with pytest.raises(ValueError):
        notify([user], "x", "y", link="https://evil.example/")
    with pytest.raises(ValueError):
        notify(["No Such Role"], "x", "y")


def test_a_user_reads_only_their_own_notifications(app, session, client, login_as):
    mine, theirs = get_user(app, "Front Desk"), get_user(app, "Inspector")
    notify([theirs], "For the inspector only", "secret body")
    notify([mine], "For the front desk", "hello", link="/notifications/")
    session.commit()
    their_id = session.scalar(select(Notification.id).where(Notification.user_id == theirs.id))
    login_as("Front Desk")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "For the front desk" in page and "For the inspector only" not in page
    assert client.get(f"/notifications/{their_id}").status_code == 404
    assert client.post(f"/notifications/{their_id}/read").status_code == 404
    client.post("/notifications/read-all")
    session.expire_all()
    assert session.get(Notification, their_id).read_at is None
    assert session.scalar(select(Notification.read_at).where(Notification.user_id == mine.id)) is not None
    login_as("Inspector")
    assert "For the inspector only" in client.get(f"/notifications/{their_id}").get_data(as_text=True)


def test_navbar_shows_the_unread_count(app, session, client, login_as):
    user = get_user(app, "Front Desk")
    notify([user], "One", "")
    notify([user], "Two", "")
    session.commit()
    login_as("Front Desk")
    assert 'class="badge houqin-unread">2<' in client.get("/notifications/").get_data(as_text=True)


def test_job_list_needs_its_permission(app, session, client, login_as):
    enqueue("test.boom")
    login_as("Front Desk")
    assert client.get("/jobrunview/list/").status_code in (302, 403)
    login_as("Admin")
    page = client.get("/jobrunview/list/").get_data(as_text=True)
    assert "test.boom" in page
    assert "the printer caught fire" in client.get("/jobrunview/show/1").get_data(as_text=True)


def test_backend_choice(app):
    assert jobs.backend(app) == "eager"


def test_batch_print_is_a_job_and_only_its_requester_fetches_the_pdf(app, session, client, login_as):
    from decimal import Decimal
    from erp_core.models import Attachment
    from tests.sample_module.models import SampleRequest
    with acting_as("someone"):
        docs = [SampleRequest(title=f"批量{i}", amount=Decimal("1")) for i in range(2)]
        session.add_all(docs)
        session.commit()
    names = [d.name for d in docs]
    login_as("Auditor")                     # reads but may not print
    assert client.post("/print/sample.request/batch", json={"names": names}).status_code == 403
    assert session.scalar(select(JobRun.id)) is None
    clerk = login_as("Sample Clerk")
    resp = client.post("/print/sample.request/batch", json={"names": names})
    assert resp.status_code == 202 and resp.json["state"] == "done"
    run = session.get(JobRun, resp.json["run"])
    assert run.enqueued_by == clerk and run.name == "core.batch_print" and "2 documents" in run.result
    assert session.scalar(select(Attachment.size).where(Attachment.doctype == "JobRun", Attachment.doc_id == run.id))
    assert client.get(resp.json["pdf"]).data[:4] == b"%PDF"
    user = get_user(app, "Sample Clerk")
    note = session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert note.link == resp.json["pdf"]
    login_as("Sample Manager")              # may print the same documents, but this is not their batch
    assert client.get(resp.json["pdf"]).status_code == 404
    assert client.get(resp.json["status"]).status_code == 404
    login_as("Admin")
    assert client.get(resp.json["pdf"]).status_code == 200


def test_in_process_backend_runs_queued_and_periodic_jobs_in_threads(app, session):
    GATE.set()
    app.config.update(HOUQIN_JOBS_EAGER=False, HOUQIN_JOBS_POLL_SECONDS=0.2)
    try:
        assert jobs.backend(app) == "thread"
        run_id = enqueue("test.add", a=20, b=22)
        assert session.get(JobRun, run_id).state == "queued"      # handed over, not run inline
        assert jobs.start(app) and not jobs.start(app)              # once per process
        import time
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            session.expire_all()
            if session.get(JobRun, run_id).state == "done" and session.scalar(
                    select(JobRun.id).where(JobRun.name == "test.slow_periodic", JobRun.state == "done")):
                break
            time.sleep(0.2)
        assert session.get(JobRun, run_id).result == "sum 42"
        assert session.scalar(select(JobRun.run_key).where(JobRun.name == "test.slow_periodic")).startswith(
            "test.slow_periodic@")
    finally:
        jobs.stop(app)
        app.config.update(HOUQIN_JOBS_EAGER=True)
