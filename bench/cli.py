"""Command-line start: commands that do not need the web app (a print, an audit verify, a
backup) run on the light app (create_print_app). Baseline, same run: the same command
handed a full create_app() — what they did before issue 20 (print) and issue 23 (audit,
backup). Wall time of a fresh process each, median."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

from .common import ROOT

FULL = ("import sys; from erp_core.app import create_app; from erp_core.cli import cli; "
        "cli({args!r}, obj=create_app(), prog_name='run.py')")


def _time(cmd, env, reps):
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        out.append(time.perf_counter() - t)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"{cmd}: {r.stderr[-1500:]}")
    return statistics.median(out)


def run(reps=5, log=print):
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp}/cli.db", HOUQIN_SECRET_KEY="bench-secret-key-bench-secret-32",
               HOUQIN_AUDIT_ANCHOR_FILE=f"{tmp}/anchors.jsonl")
    py = sys.executable
    for step in (["upgrade"], ["sync"]):
        subprocess.run([py, "run.py", *step], cwd=ROOT, env=env, check=True, capture_output=True)
    commands = [("print rentals.cash_summary (one day's sheet)",
                 ["print", "rentals.cash_summary", "2026-11-24", "-o", f"{tmp}/out.pdf", "-j", "1"]),
                ("audit verify", ["audit", "verify"]),
                ("backup", ["backup", f"{tmp}/backup.jsonl"])]
    L = ["| command | before: full app (s) | after: light app (s) | after/before |", "|---|---:|---:|---:|"]
    for label, args in commands:
        before = _time([py, "-c", FULL.format(args=args)], env, reps)
        after = _time([py, "run.py", *args], env, reps)
        L.append(f"| `run.py {' '.join(a if not a.startswith(tmp) else '…' for a in args)}` | {before:.2f} | "
                 f"{after:.2f} | {after / before:.2f}x |")
        log(f"  {label}: full app {before:.2f} s, light app {after:.2f} s")
    return L
