"""Read-only pages and reports on a read replica (erp_core/replica.py). A second SQLite
database stands in for the replica: a copy of the primary taken before the test writes, so
what a page shows says which database it read. Routing is the session's, not the dialect's,
so what holds here holds for a PostgreSQL standby (docs/deployment.md)."""
import shutil
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import select

from erp_core import replica
from erp_core.app import create_app
from erp_core.config import TestConfig
from erp_core.context import acting_as
from erp_core.extensions import db
from erp_core.testing import PASSWORD, ensure_user, prepare_database
from tests.sample_module.models import SampleRequest


@pytest.fixture(scope="module")
def sites(tmp_path_factory, houqin_config):
    """A site as one of several app hosts sees it: a replica (the primary as it was at the
    copy), attachments in their own store, one load balancer in front."""
    folder = tmp_path_factory.mktemp("replica")
    primary, standby = folder / "primary.db", folder / "replica.db"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{primary}",
                     HOUQIN_REPLICA_URL=f"sqlite:///{standby}", HOUQIN_ATTACHMENTS=str(folder / "files"),
                     HOUQIN_PROXIES=1,
                     **houqin_config)
    with app.app_context():
        prepare_database(app)
        db.session.remove()
        db.engines["replica"].dispose()
    for role in ("Sample Clerk", "Admin"):
        ensure_user(app, role)
    with app.app_context(), acting_as("someone"):
        db.session.add(SampleRequest(title="复制前的申请", amount=Decimal("1")))
        db.session.commit()
        db.session.remove()
    shutil.copyfile(primary, standby)           # the replica, caught up to here
    with app.app_context(), acting_as("someone"):
        db.session.add(SampleRequest(title="刚写入主库", amount=Decimal("2")))
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def _token(app, role):
    name = ensure_user(app, role)
    resp = app.test_client().post("/api/v1/security/login", json={"username": name, "password": PASSWORD,
                                                                  "provider": "db", "refresh": False})
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def test_lists_and_reports_read_the_replica_and_a_documents_own_page_the_primary(sites):
    app, h, client = sites, _token(sites, "Sample Clerk"), sites.test_client()
    listed = client.get("/api/v1/sample_request/", headers=h).json["result"]
    assert [r["title"] for r in listed] == ["复制前的申请"]             # the replica's rows
    with app.app_context():
        fresh = db.session.scalar(select(SampleRequest.id).where(SampleRequest.title == "刚写入主库"))
    one = client.get(f"/api/v1/sample_request/{fresh}", headers=h)
    assert one.status_code == 200 and one.json["result"]["title"] == "刚写入主库"
    export = client.get("/api/v1/sample_request/export/?format=csv", headers=h).get_data(as_text=True)
    assert "复制前的申请" in export and "刚写入主库" not in export


def test_a_browser_that_has_just_written_reads_the_primary(sites):
    app, client = sites, sites.test_client()
    name = ensure_user(app, "Sample Clerk")
    assert client.post("/login/", data={"username": name, "password": PASSWORD}).status_code == 302
    # the login was a write: for a few seconds this browser reads the primary
    page = client.get("/sample/sample_request/list/").get_data(as_text=True)
    assert "刚写入主库" in page
    client.delete_cookie(replica.COOKIE)
    page = client.get("/sample/sample_request/list/").get_data(as_text=True)
    assert "复制前的申请" in page and "刚写入主库" not in page
    resp = client.post("/sample/sample_request/add", data={"title": "柜台新增", "ward": "A", "amount": "3"})
    assert resp.status_code == 302 and replica.COOKIE in resp.headers.get("Set-Cookie", "")
    assert "柜台新增" in client.get("/sample/sample_request/list/").get_data(as_text=True)


def test_within_a_replica_request_writes_locks_and_later_reads_go_to_the_primary(sites):
    app = sites
    with app.test_request_context("/"):
        g.houqin_replica = True
        session = db.session()
        replica_engine, primary_engine = db.engines["replica"], db.engines[None]
        assert session.get_bind(SampleRequest) is replica_engine
        assert session.get_bind(SampleRequest, clause=select(SampleRequest).with_for_update()) is primary_engine
        from erp_core.websecurity import UserSession
        assert session.get_bind(UserSession) is primary_engine                # is a login still valid
        with acting_as("someone"):
            session.add(SampleRequest(title="报表里写入", amount=Decimal("4")))
            assert session.get_bind(SampleRequest) is primary_engine          # pending: the primary
            session.flush()
        assert session.get_bind(SampleRequest) is primary_engine              # written: reads follow
        assert session.scalar(select(SampleRequest.id).where(SampleRequest.title == "报表里写入"))
        session.rollback()
        assert session.get_bind(SampleRequest) is replica_engine
        g.houqin_replica = False
        assert session.get_bind(SampleRequest) is primary_engine
        db.session.remove()


def test_every_documents_list_page_list_api_and_export_reads_the_replica(sites):
    """Walks the registry: a module added later is covered without touching this test."""
    app = sites
    routed = app.extensions["houqin_replica_endpoints"]
    urls = app.url_map.bind("localhost")
    from erp_core.views import DocumentApi, DocumentView
    checked = 0
    for view in app.appbuilder.baseviews:
        if isinstance(view, DocumentView):
            paths = [f"{view.route_base}/list/", f"{view.route_base}/export/"]
        elif isinstance(view, DocumentApi):
            paths = [f"{view.route_base}/", f"{view.route_base}/export/"]
        else:
            continue
        for path in paths:
            endpoint, _ = urls.match(path, method="GET")
            assert endpoint in routed, path
            checked += 1
    assert checked >= 4 * len(app.extensions["houqin"].documents) * 0.9
    # and the reports modules mark
    for name in ("FiguresView.figures", "FiguresView.data", "WorkforceView.figures", "RentalsApi.cash_summary",
                 "KitchenApi.production"):
        assert name in routed, name


def test_without_a_replica_everything_reads_the_primary(app):
    with app.test_request_context("/"):
        g.houqin_replica = True
        assert db.session().get_bind(SampleRequest) is db.engines[None]
        db.session.remove()


def test_behind_the_load_balancer_the_client_address_is_the_clients(sites):
    from flask import request, request_started
    seen = []

    def _record(sender, **extra):
        seen.append(request.remote_addr)
    request_started.connect(_record, sites)
    try:
        sites.test_client().get("/login/", headers={"X-Forwarded-For": "10.8.0.1, 10.20.30.40"},
                                environ_base={"REMOTE_ADDR": "192.168.1.5"})
    finally:
        request_started.disconnect(_record, sites)
    assert seen == ["10.20.30.40"]      # the balancer's own hop, not what the client wrote first
