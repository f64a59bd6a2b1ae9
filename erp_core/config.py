"""Default configuration. Override with a config object/mapping or environment variables."""
import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("HOUQIN_INSTANCE", ROOT / "instance"))


def _secret_key():
    """One key shared by every worker: from the environment, else a file made once."""
    if os.environ.get("HOUQIN_SECRET_KEY"):
        return os.environ["HOUQIN_SECRET_KEY"]
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(url=None):
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'houqin.db'}"
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class DefaultConfig:
    APP_NAME = "后勤管理中心 Houqin"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # a read replica for list pages, list APIs, exports and reports (erp_core/replica.py)
    HOUQIN_REPLICA_URL = database_url(os.environ["DATABASE_REPLICA_URL"]) if os.environ.get("DATABASE_REPLICA_URL") \
        else None
    HOUQIN_REPLICA_STICKY_SECONDS = int(os.environ.get("HOUQIN_REPLICA_STICKY_SECONDS", "10"))
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    FAB_CREATE_DB = False           # schema comes from Alembic (run.py upgrade)
    FAB_UPDATE_PERMS = False        # permission sync is `run.py sync`, not every worker's start-up
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # behind HTTPS set HOUQIN_COOKIE_SECURE=1: cookies are then never sent over plain HTTP
    SESSION_COOKIE_SECURE = os.environ.get("HOUQIN_COOKIE_SECURE") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # one limit for the form and the token login, per account and per client address (websecurity)
    HOUQIN_LOGIN_LIMIT_ENABLED = True
    HOUQIN_LOGIN_LIMIT_ACCOUNT = os.environ.get("HOUQIN_LOGIN_LIMIT_ACCOUNT", "10 per 15 minutes")
    HOUQIN_LOGIN_LIMIT_ADDRESS = os.environ.get("HOUQIN_LOGIN_LIMIT_ADDRESS", "50 per 15 minutes")
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = "10 per 20 second"
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # how many reverse proxies / load balancers stand in front (their X-Forwarded-* are trusted)
    HOUQIN_PROXIES = int(os.environ.get("HOUQIN_PROXIES", "0"))
    LANGUAGES = {"zh_CN": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}}
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_FOLDER = "translations"
    # attachment bytes: a folder, s3://bucket/prefix (several app hosts) or "database" (storage.py)
    HOUQIN_ATTACHMENTS = os.environ.get("HOUQIN_ATTACHMENTS", str(INSTANCE / "attachments"))
    HOUQIN_S3_ENDPOINT = os.environ.get("HOUQIN_S3_ENDPOINT")
    UPLOAD_FOLDER = str(INSTANCE / "uploads")
    IMG_UPLOAD_FOLDER = str(INSTANCE / "uploads" / "img")
    HOUQIN_TIMEZONE = "Asia/Shanghai"
    HOUQIN_DISABLED_MODULES = [m for m in os.environ.get("HOUQIN_DISABLED_MODULES", "").split(",") if m]
    HOUQIN_AUDIT_RETENTION_DAYS = int(os.environ.get("HOUQIN_AUDIT_RETENTION_DAYS", "3650"))
    # audit chain key and anchor file live outside the database (see erp_core/audit.py)
    HOUQIN_AUDIT_KEY = os.environ.get("HOUQIN_AUDIT_KEY")
    HOUQIN_AUDIT_ANCHOR_FILE = os.environ.get("HOUQIN_AUDIT_ANCHOR_FILE")
    HOUQIN_AUDIT_ANCHOR_SECONDS = int(os.environ.get("HOUQIN_AUDIT_ANCHOR_SECONDS", "3600"))
    HOUQIN_PRINT_PROCESSES = int(os.environ.get("HOUQIN_PRINT_PROCESSES", str(os.cpu_count() or 2)))
    FAB_PASSWORD_HASH_METHOD = "scrypt"
    # background jobs (erp_core/jobs.py): in-process unless a Celery broker is given
    HOUQIN_JOBS_BROKER = os.environ.get("HOUQIN_JOBS_BROKER")
    HOUQIN_JOBS_EAGER = os.environ.get("HOUQIN_JOBS_EAGER") == "1"
    HOUQIN_JOBS_QUEUE = os.environ.get("HOUQIN_JOBS_QUEUE", "houqin")     # one Redis, several sites: one queue each
    HOUQIN_JOBS_POLL_SECONDS = float(os.environ.get("HOUQIN_JOBS_POLL_SECONDS", "5"))


class TestConfig(DefaultConfig):
    TESTING = True
    WTF_CSRF_ENABLED = False
    AUTH_RATE_LIMITED = False
    RATELIMIT_ENABLED = False
    HOUQIN_LOGIN_LIMIT_ENABLED = False   # the login-limit tests switch it on
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SECRET_KEY = "test-only-secret-key-at-least-32-bytes-long"
    HOUQIN_AUDIT_KEY = "test-only-audit-key"
    HOUQIN_AUDIT_ANCHOR_SECONDS = 0      # tests anchor explicitly
    HOUQIN_JOBS_EAGER = True             # a job runs inside enqueue(): tests are deterministic
    HOUQIN_JOBS_BROKER = None
