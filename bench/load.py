"""Mixed load on PostgreSQL: gunicorn (1, 2, 4 workers) on 127.0.0.1, Locust headless in
its own process with 16 users for ``seconds`` each (the locustfile: front desk, ward
clerks, kitchen, inspectors). Baseline in the same run: the same mix at 1 user. Targets
(issue 23): 0 errors, p95 < 100 ms at 16 clients."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta

from .common import ROOT, served

PORT = int(os.environ.get("BENCH_PORT", "5300"))      # the brief's port range


def locust_bin():
    for candidate in (os.environ.get("HOUQIN_LOCUST"), os.path.join(os.path.dirname(sys.executable), "locust"),
                      shutil.which("locust")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def _prepare(url):
    """A menu for tomorrow's supper and one token per role (logins are not what we measure)."""
    import http.client
    from erp_core.context import acting_as
    from erp_core.extensions import db
    from erp_core.testing import PASSWORD, ensure_user
    from erp_core.types import LOCAL_TZ, now
    from modules.catering.models import DailyMenu, Dish, MealSlot
    from .common import fresh_app
    app = fresh_app(url)
    day = now().astimezone(LOCAL_TZ).date() + timedelta(days=1)
    with app.app_context(), acting_as("bench"):
        slot = db.session.query(MealSlot).filter_by(code="b_supper").one()
        dishes = db.session.query(Dish).filter(Dish.title.like("压测菜品%")).all()
        db.session.add(DailyMenu(day=day, slot=slot, dishes=dishes))
        db.session.commit()
    users = {role: ensure_user(app, role) for role in ("Front Desk", "Catering Clerk", "Kitchen", "Inspector")}
    return app, day, users, PASSWORD


def _login(port, username, password):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/v1/security/login", json.dumps({"username": username, "password": password,
                                                                "provider": "db"}), {"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["access_token"]


def _locust(port, users, seconds, env):
    out = tempfile.mkdtemp()
    cmd = [locust_bin(), "-f", os.path.join(ROOT, "bench", "locustfile.py"), "--headless", "-u", str(users), "-r",
           str(users), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}", "--csv", f"{out}/r", "--only-summary",
           "--stop-timeout", "5"]
    subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    with open(f"{out}/r_stats.csv") as fh:
        rows = list(csv.DictReader(fh))
    with open(f"{out}/r_failures.csv") as fh:
        failed = [f"{r['Method']} {r['Name']}: {r['Error'][:160]} (x{r['Occurrences']})" for r in csv.DictReader(fh)]
    return rows, failed


def run(url, seconds=30, workers=(1, 2, 4), clients=16, log=print):
    if locust_bin() is None:
        return ["Skipped: Locust is not installed (`pip install -e '.[bench]'`)."]
    app, day, users, password = _prepare(url)
    L = ["| workers | clients | requests/s | p50 ms | p95 ms | p99 ms | errors | targets (0 errors, p95 < 100 ms at 16) |",
         "|---:|---:|---:|---:|---:|---:|---:|---|"]
    per_kind, failures, run_no = [], [], 0
    for w in workers:
        with served(url, workers=w, port=PORT + w) as port:
            tokens = {role: _login(port, name, password) for role, name in users.items()}
            env = dict(os.environ, BENCH_TOKENS=json.dumps(tokens), BENCH_DAY=day.isoformat())
            for c in ((1, clients) if w == max(workers) else (clients,)):
                env["BENCH_ASSET_BASE"] = str(run_no * clients)
                run_no += 1
                rows, failed = _locust(port, c, seconds, env)
                failures += failed
                agg = next(r for r in rows if r["Name"] == "Aggregated")
                n, errors = int(agg["Request Count"]), int(agg["Failure Count"])
                p50, p95, p99 = (float(agg[k]) for k in ("50%", "95%", "99%"))
                rps = float(agg["Requests/s"])
                met = "(baseline)" if c != clients else "met" if errors == 0 and p95 < 100 else "not met"
                L.append(f"| {w} | {c} | {rps:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {errors} of {n} | {met} |")
                log(f"  gunicorn {w} worker(s), {c} clients: {rps:.1f} req/s, p50 {p50:.0f} p95 {p95:.0f} "
                    f"p99 {p99:.0f} ms, {errors} errors of {n}")
                if w == max(workers) and c == clients:
                    per_kind = [r for r in rows if r["Name"] != "Aggregated"]
    if per_kind:
        L += ["", f"Per request kind at {max(workers)} workers, {clients} clients:", "",
              "| request | count | errors | p50 ms | p95 ms | p99 ms |", "|---|---:|---:|---:|---:|---:|"]
        L += [f"| {r['Type']} {r['Name']} | {r['Request Count']} | {r['Failure Count']} | {float(r['50%']):.0f} | "
              f"{float(r['95%']):.0f} | {float(r['99%']):.0f} |" for r in per_kind]
    if failures:
        L += ["", "Errors seen:", ""] + [f"- {f}" for f in failures[:10]]
    return L
