"""`run.py serve --demo` as a newcomer runs it: a handful of lines before the sign-in line on
the first and on later starts, and the printed password signs every demo user in after a
restart. The real command runs in a subprocess against a temporary instance folder."""
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(instance):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "HOUQIN_DEMO_PASSWORD", "HOUQIN_SECRET_KEY")}
    env.update(HOUQIN_INSTANCE=str(instance), PYTHONUNBUFFERED="1")
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(instance, timeout=180):
    """Run `run.py serve --demo` until it prints the sign-in line, then stop it.
    Returns (lines before the sign-in line, the sign-in line)."""
    proc = subprocess.Popen([sys.executable, "run.py", "serve", "--demo", "--port", str(_free_port())],
                            cwd=ROOT, env=_env(instance), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    # a plain blocking read (select() on a buffered pipe misses lines already buffered);
    # the timer stops a server that never prints the sign-in line
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    before = []
    try:
        for line in proc.stdout:
            if line.startswith("Sign in at"):
                return before, line.strip()
            before.append(line.rstrip("\n"))
        raise AssertionError("no sign-in line; output was:\n" + "\n".join(before))
    finally:
        watchdog.cancel()
        proc.terminate()
        proc.wait(timeout=20)


LOGIN = """
import sys
from erp_core.app import create_app
from erp_core.config import TestConfig, database_url
from erp_core.demo import role_username
from erp_core.permissions import declared_roles
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url())
with app.app_context():
    users = ["admin"] + [role_username(r) for r in declared_roles(app)]
refused = []
for name in users:
    client = app.test_client()
    resp = client.post("/login/", data={"username": name, "password": sys.argv[1]})
    if resp.status_code != 302 or client.get("/").status_code != 200:
        refused.append(name)
print(len(users), " ".join(refused))
"""


def test_serve_demo_is_quiet_and_its_password_signs_every_demo_user_in(tmp_path):
    first, sign_in = start(tmp_path)
    assert len(first) <= 10, "first start:\n" + "\n".join(first)
    again, sign_in_again = start(tmp_path)
    assert len(again) <= 10, "second start:\n" + "\n".join(again)
    password = sign_in.rsplit(" / ", 1)[1]
    assert sign_in_again.rsplit(" / ", 1)[1] == password      # same password after a restart
    for line in first + again:
        assert not re.search(r"Refused|Traceback|Warning|WARNING", line), line
    assert not any("permissions" in line for line in again), again   # nothing to sync: says nothing

    out = subprocess.run([sys.executable, "-c", LOGIN, password], cwd=ROOT, env=_env(tmp_path),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    count, *refused = out.stdout.split()
    assert int(count) > 5 and refused == [], f"refused with the printed password: {refused}"
