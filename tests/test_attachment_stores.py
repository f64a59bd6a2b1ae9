"""Attachment bytes in a store (erp_core/storage.py): the local folder by default, an
S3-compatible object store for several app hosts (moto's S3 server over HTTP stands in for
MinIO here), or the database. Every path that writes or reads an attachment goes through it:
the API, the backup and restore, the sweep of objects left by failed uploads."""
import hashlib
import io
import os
import socket
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from erp_core import storage
from erp_core.cli import cli
from erp_core.extensions import db
from erp_core.models import Attachment
from tests.test_views_api import API, make_request

PDF = b"%PDF-1.4 signed contract " + os.urandom(16)


def _upload(client, headers, req, data=PDF, name="合同.pdf"):
    resp = client.post(f"{API}{req.id}/attachments", data={"file": (io.BytesIO(data), name, "application/pdf")},
                       headers=headers, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return client.get(f"{API}{req.id}/attachments", headers=headers).json["result"][-1]["id"]


@pytest.fixture
def use_store(app):
    """Swap the app's store for the test, then put the folder store back."""
    before = app.extensions.get("houqin_store", False)

    def _use(made):
        app.extensions["houqin_store"] = made
        return made
    yield _use
    app.extensions["houqin_store"] = before


def test_the_folder_store_keeps_bytes_outside_the_database_once_per_content(app, client, api_token, session):
    req = make_request(session)
    h = api_token("Sample Clerk")
    first, second = _upload(client, h, req), _upload(client, h, req, name="合同-副本.pdf")
    key = hashlib.sha256(PDF).hexdigest()
    rows = session.scalars(select(Attachment).where(Attachment.id.in_([first, second]))).all()
    assert [(r.sha256, r.data, r.size) for r in rows] == [(key, None, len(PDF))] * 2
    path = os.path.join(app.config["HOUQIN_ATTACHMENTS"], key[:2], key)
    assert open(path, "rb").read() == PDF                  # one file for both rows
    assert client.get(f"{API}{req.id}/attachments/{second}", headers=h).data == PDF


def test_rows_written_before_the_stores_are_read_from_the_database(app, client, api_token, session, use_store):
    req = make_request(session)
    session.add(Attachment(doctype="SampleRequest", doc_id=req.id, filename="old.pdf", mimetype="application/pdf",
                           size=9, data=b"%PDF-old!", uploaded_by="x", uploaded_at=req.created_at))
    session.commit()
    h = api_token("Sample Clerk")
    att = client.get(f"{API}{req.id}/attachments", headers=h).json["result"][0]["id"]
    assert client.get(f"{API}{req.id}/attachments/{att}", headers=h).data == b"%PDF-old!"
    use_store(None)                                        # HOUQIN_ATTACHMENTS=database
    new = _upload(client, h, req, data=b"%PDF-in the row")
    assert session.get(Attachment, new).data == b"%PDF-in the row"


def test_a_backup_carries_the_stored_files_and_a_restore_puts_them_back(app, client, api_token, session, tmp_path):
    req = make_request(session)
    h = api_token("Sample Clerk")
    att = _upload(client, h, req)
    key = hashlib.sha256(PDF).hexdigest()
    out = tmp_path / "site.backup"
    assert CliRunner().invoke(cli, ["backup", str(out)], obj=app).exit_code == 0
    os.remove(os.path.join(app.config["HOUQIN_ATTACHMENTS"], key[:2], key))     # the disk is lost
    result = CliRunner().invoke(cli, ["restore", str(out), "--yes"], obj=app)
    assert result.exit_code == 0, result.output
    assert client.get(f"{API}{req.id}/attachments/{att}", headers=h).data == PDF


def test_sweep_removes_only_old_files_no_row_refers_to(app, client, api_token, session):
    req = make_request(session)
    kept = _upload(client, api_token("Sample Clerk"), req)
    folder = storage.store(app)
    folder.put("ab" * 32, b"left by a failed upload")
    folder.put("cd" * 32, b"an upload still in its transaction")
    old = time.time() - 7200
    os.utime(folder._path("ab" * 32), (old, old))
    key = session.get(Attachment, kept).sha256
    os.utime(folder._path(key), (old, old))                # old but referenced
    result = CliRunner().invoke(cli, ["attachments", "sweep"], obj=app)
    assert result.exit_code == 0 and result.output.startswith("1 "), result.output
    assert set(folder.ages()) >= {key, "cd" * 32} and "ab" * 32 not in folder.ages()


def test_a_refused_upload_writes_neither_a_row_nor_a_file(app, client, api_token, session):
    req = make_request(session)
    before = set(storage.store(app).ages())
    fake = b"MZ" + os.urandom(64)                          # an executable named .pdf
    bad = client.post(f"{API}{req.id}/attachments", data={"file": (io.BytesIO(fake), "a.pdf", "application/pdf")},
                      headers=api_token("Sample Clerk"), content_type="multipart/form-data")
    assert bad.status_code == 422
    assert session.scalar(select(db.func.count(Attachment.id))) == 0
    assert set(storage.store(app).ages()) == before


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_an_s3_compatible_store_serves_several_app_hosts(app, client, api_token, session, use_store, s3_server):
    import boto3
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="houqin",
                      aws_secret_access_key="houqin-secret")
    s3.create_bucket(Bucket="hospital")
    use_store(storage.S3Store("s3://hospital/attachments", client=s3))
    req = make_request(session)
    h = api_token("Sample Clerk")
    att = _upload(client, h, req)
    key = hashlib.sha256(PDF).hexdigest()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="hospital")["Contents"]]
    assert listed == [f"attachments/{key}"]
    assert session.get(Attachment, att).data is None
    # another host: its own client, the same bucket
    other = storage.S3Store("s3://hospital/attachments", client=boto3.client(
        "s3", endpoint_url=s3_server, region_name="us-east-1", aws_access_key_id="houqin",
        aws_secret_access_key="houqin-secret"))
    assert other.get(key) == PDF
    use_store(other)
    assert client.get(f"{API}{req.id}/attachments/{att}", headers=h).data == PDF
    other.put("ef" * 32, b"orphan")
    assert storage.sweep(session, older_than=-60) == 1     # "older than" a minute into the future
    assert set(other.ages()) == {key}
