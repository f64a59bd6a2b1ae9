"""Where attachment bytes live. The database keeps each attachment's row (name, type, size,
who, when, the sha256 of its bytes); the bytes go to one store chosen by HOUQIN_ATTACHMENTS:

  a folder path (default ``instance/attachments``)   one host, or a shared mount
  ``s3://bucket/prefix``                              an S3-compatible object store (MinIO, Ceph,
                                                      a cloud's), for several app hosts;
                                                      HOUQIN_S3_ENDPOINT names a non-AWS endpoint,
                                                      credentials as boto3 reads them (AWS_*)
  ``database``                                        in the row itself (rows from before the
                                                      stores are read this way too)

Keys are the content's sha256, so a write is idempotent and can happen before the row's
transaction: a rolled-back upload leaves at most an unreferenced object, never a row without
its bytes (``run.py attachments sweep`` removes such objects)."""
import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class FolderStore:
    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key):
        return self.root / key[:2] / key

    def put(self, key, data):
        path = self._path(key)
        if path.exists():
            path.touch()            # young again: a sweep running now leaves it alone
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # written whole under a temporary name, then renamed: a reader never sees half a file
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def get(self, key):
        return self._path(key).read_bytes()

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def ages(self):
        """{key: last written, as a POSIX timestamp}"""
        return {p.name: p.stat().st_mtime for p in self.root.glob("??/*") if not p.name.startswith(".")}


class S3Store:
    def __init__(self, url, endpoint=None, client=None):
        import boto3            # only a site that stores in S3 needs it (setup.cfg's s3 extra)
        rest = url[len("s3://"):]
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", endpoint_url=endpoint)

    def put(self, key, data):
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def get(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def ages(self):
        out = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            out |= {o["Key"][len(self.prefix):]: o["LastModified"].timestamp() for o in page.get("Contents", [])}
        return out


def store(app=None):
    """The app's store (None: bytes stay in the database row), made once per app."""
    app = app or current_app
    cached = app.extensions.get("houqin_store", False)
    if cached is not False:
        return cached
    where = app.config.get("HOUQIN_ATTACHMENTS") or "database"
    if where == "database":
        made = None
    elif where.startswith("s3://"):
        made = S3Store(where, endpoint=app.config.get("HOUQIN_S3_ENDPOINT"))
    else:
        made = FolderStore(where)
    app.extensions["houqin_store"] = made
    return made


def save(**fields):
    """A new Attachment row for ``data`` (bytes), its bytes already in the store."""
    from .models import Attachment
    data = fields.pop("data")
    key = hashlib.sha256(data).hexdigest()
    where = store()
    if where is not None:
        where.put(key, data)
    return Attachment(**fields, size=len(data), sha256=key, data=None if where is not None else data)


def content(row):
    """The bytes of an Attachment row, from wherever they were written."""
    if row.data is not None:
        return bytes(row.data)
    return store().get(row.sha256)


def sweep(session, older_than=3600):
    """Remove stored objects no row refers to (left by rolled-back uploads) and written more
    than ``older_than`` seconds ago: an upload still in its transaction is younger. Returns
    how many were removed."""
    import time
    from .models import Attachment
    where = store()
    if where is None:
        return 0
    kept = {k for (k,) in session.query(Attachment.sha256).filter(Attachment.sha256.isnot(None))}
    limit = time.time() - older_than
    gone = {k for k, written in where.ages().items() if written < limit} - kept
    for key in gone:
        where.delete(key)
    return len(gone)
