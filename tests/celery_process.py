"""Start a Celery worker or beat for the test database (used by test_jobs_celery.py):
``python tests/celery_process.py worker|beat DATABASE_URL BROKER QUEUE [SCHEDULE_FILE]``."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(kind, url, broker, queue, schedule=None):
    from erp_core.app import create_app
    from erp_core.celery_app import make_celery
    from erp_core.config import TestConfig
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, HOUQIN_EXTRA_MODULES=["tests.sample_module"],
                     HOUQIN_JOBS_EAGER=False, HOUQIN_JOBS_BROKER=broker, HOUQIN_JOBS_QUEUE=queue)
    celery = make_celery(app)
    if kind == "worker":     # the same arguments as `run.py worker`
        celery.worker_main(["worker", "--loglevel=info", "--concurrency=2", "--pool=threads",
                            "--without-gossip", "--without-mingle", "-n", f"{queue}@%h"])
    else:
        celery.start(["beat", "--loglevel=info", "-s", schedule])


if __name__ == "__main__":
    main(*sys.argv[1:])
