"""App start: every module, core alone, each module alone (with what it depends on), and
50 generated dummy plugins (one document each: a list, a form, an API, a menu entry) —
the cost per plugin. Each figure is the median of ``reps`` create_app() calls in a fresh
subprocess after one warm-up call (so imports are not counted, only assembly); the
baseline is a bare Flask-AppBuilder app measured the same way."""
import json
import os
import subprocess
import sys
import tempfile

from .common import ROOT

PROBE = r"""
import json, os, statistics, sys, time
sys.path[:0] = [os.environ["BENCH_ROOT"]] + [p for p in os.environ.get("BENCH_EXTRA_PATH", "").split(":") if p]
reps = int(os.environ["BENCH_REPS"])
def timed(fn):
    fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000
if os.environ.get("BENCH_BARE"):
    from flask import Flask
    from flask_appbuilder import AppBuilder
    from erp_core.extensions import db
    def bare():
        app = Flask("bare")
        app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x", FAB_UPDATE_PERMS=False)
        with app.app_context():
            db.init_app(app)
            AppBuilder().init_app(app, db.session)
        return app
    print(json.dumps({"ms": timed(bare), "routes": len(bare().url_map._rules), "modules": 0}))
else:
    from erp_core.app import create_app
    from erp_core.config import TestConfig
    cfg = dict(SQLALCHEMY_DATABASE_URI="sqlite://", HOUQIN_DISABLED_MODULES=json.loads(os.environ["BENCH_DISABLED"]),
               HOUQIN_EXTRA_MODULES=json.loads(os.environ.get("BENCH_EXTRA", "[]")))
    t = time.perf_counter(); app = create_app(TestConfig, **cfg); first = (time.perf_counter() - t) * 1000
    ms = timed(lambda: create_app(TestConfig, **cfg))
    print(json.dumps({"ms": ms, "first_ms": first, "routes": len(app.url_map._rules),
                      "modules": len(app.extensions["houqin"].registry.modules)}))
"""


def probe(reps, disabled=(), extra=(), extra_path=(), bare=False):
    env = dict(os.environ, BENCH_ROOT=ROOT, BENCH_REPS=str(reps), BENCH_DISABLED=json.dumps(list(disabled)),
               BENCH_EXTRA=json.dumps(list(extra)), BENCH_EXTRA_PATH=":".join(extra_path),
               HOUQIN_SECRET_KEY="bench-secret-key-bench-secret-key-32")
    env.pop("DATABASE_URL", None)
    if bare:
        env["BENCH_BARE"] = "1"
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_plugins(n):
    """A folder with ``n`` dummy plugin packages, each one document with a name and a title."""
    root = tempfile.mkdtemp(prefix="houqin_plugins_")
    pkg = os.path.join(root, "benchplugins")
    os.makedirs(pkg)
    open(os.path.join(pkg, "__init__.py"), "w").close()
    for i in range(n):
        d = os.path.join(pkg, f"p{i:02d}")
        os.makedirs(d)
        open(os.path.join(d, "__init__.py"), "w").close()
        with open(os.path.join(d, "manifest.py"), "w") as fh:
            fh.write("from erp_core.manifest import ModuleManifest\n"
                     f"manifest = ModuleManifest(name='bench_p{i:02d}', title='Plugin {i:02d}')\n")
        with open(os.path.join(d, "models.py"), "w") as fh:
            fh.write("from sqlalchemy import String\nfrom sqlalchemy.orm import Mapped, mapped_column\n"
                     "from erp_core.document import Document\n\n\n"
                     f"class BenchThing{i:02d}(Document):\n"
                     f"    __tablename__ = 'bench_p{i:02d}_thing'\n"
                     "    title: Mapped[str] = mapped_column(String(80), default='')\n\n"
                     "    class Meta:\n"
                     f"        title = 'Thing {i:02d}'\n        fields = ['title']\n")
    return root, [f"benchplugins.p{i:02d}" for i in range(n)]


def run(reps=5, plugins=50, log=print):
    from erp_core.config import DefaultConfig
    from erp_core.registry import discover, order
    found = order([m for m in discover() if m.name not in DefaultConfig.HOUQIN_DISABLED_MODULES])
    names = [m.name for m in found]
    by_name = {m.name: m for m in found}

    def closure(name):
        need, todo = set(), [name]
        while todo:
            n = todo.pop()
            if n not in need:
                need.add(n)
                todo += list(by_name[n].depends)
        return need
    bare = probe(reps, bare=True)
    log(f"  bare FAB app: {bare['ms']:.0f} ms ({bare['routes']} routes)")
    full = probe(reps)
    core = probe(reps, disabled=names)
    L = ["| app | modules | routes | start ms | vs bare FAB | added by the module(s) |", "|---|---:|---:|---:|---:|---:|",
         f"| bare Flask-AppBuilder | - | {bare['routes']} | {bare['ms']:.0f} | 1.00x | - |",
         f"| erp_core, no module | 0 | {core['routes']} | {core['ms']:.0f} | {core['ms'] / bare['ms']:.2f}x | - |"]
    for name in names:
        keep = closure(name)
        one = probe(reps, disabled=[n for n in names if n not in keep])
        extra = f" (+{', '.join(sorted(keep - {name}))})" if len(keep) > 1 else ""
        L.append(f"| {name}{extra} | {one['modules']} | {one['routes']} | {one['ms']:.0f} | "
                 f"{one['ms'] / bare['ms']:.2f}x | {one['ms'] - core['ms']:+.0f} ms |")
        log(f"  {name}{extra}: {one['ms']:.0f} ms, {one['routes']} routes")
    L.append(f"| every module | {full['modules']} | {full['routes']} | {full['ms']:.0f} | "
             f"{full['ms'] / bare['ms']:.2f}x | {full['ms'] - core['ms']:+.0f} ms |")
    root, packages = make_plugins(plugins)
    many = probe(reps, extra=packages, extra_path=[root])
    per = (many["ms"] - full["ms"]) / plugins
    L.append(f"| every module + {plugins} dummy plugins | {many['modules']} | {many['routes']} | {many['ms']:.0f} | "
             f"{many['ms'] / bare['ms']:.2f}x | {many['ms'] - full['ms']:+.0f} ms ({per:.1f} ms per plugin) |")
    log(f"  every module: {full['ms']:.0f} ms; + {plugins} plugins: {many['ms']:.0f} ms ({per:.1f} ms per plugin)")
    L += ["", f"First create_app() in a process (imports included): every module {full['first_ms']:.0f} ms, "
          f"+ {plugins} plugins {many['first_ms']:.0f} ms."]
    return L
