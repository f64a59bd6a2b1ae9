"""``python -m bench`` (or ``bash scripts/dev bench``): generate realistic volumes, run every
benchmark on SQLite and, when DATABASE_URL names PostgreSQL, on PostgreSQL too, print each
figure beside its baseline measured in the same run, and write docs/bench-results.md.

  --quick      tiny volume, few repetitions (a smoke run, well under a minute of benching)
  --only X     run only some sections: generate,lists,desk,startup,cli,print,load
  --out PATH   the Markdown table (default docs/bench-results.md; --quick: not written unless given)
"""
import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone

from .common import ROOT

SECTIONS = ("generate", "lists", "desk", "startup", "cli", "print", "load")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--out", default=None)
    ap.add_argument("--load-seconds", type=int, default=30)
    args = ap.parse_args(argv)
    only = set(args.only.split(","))
    scale = 0.01 if args.quick else 1.0
    reps = 3 if args.quick else 7
    pg = os.environ.get("DATABASE_URL", "")
    kinds = ["sqlite"] + (["postgresql"] if pg.startswith("postgresql") else [])
    os.environ.pop("DATABASE_URL", None) if not pg.startswith("postgresql") else None
    report = Report(args, kinds)
    t0 = time.perf_counter()
    from . import common
    from .generators import run_all
    for kind in kinds:
        if not only & {"generate", "lists", "desk", "load"}:
            break
        print(f"== {kind}")
        url, cleanup = common.fresh_database(kind)
        try:
            app = common.fresh_app(url)
            admin, password = _admin(app)
            report.generated[kind] = run_all(app, scale)
            if "lists" in only:
                from . import lists
                report.lists[kind] = lists.run(app, url, admin, password, n=reps)
                report.deep[kind] = lists.deep(app, admin, password, n=reps)
            if "desk" in only and "service_desk" in {m.name for m in app.extensions["houqin"].registry.modules}:
                from . import desk
                report.desk[kind] = desk.run(app, n=reps, calls=20 if args.quick else 100)
            if "load" in only and kind == "postgresql":
                from . import load
                report.load = load.run(url, seconds=5 if args.quick else args.load_seconds,
                                       workers=(1, 2) if args.quick else (1, 2, 4))
        finally:
            if cleanup:
                cleanup()
    if "load" in only and "postgresql" not in kinds:
        report.notes.append("Mixed load: skipped (needs DATABASE_URL=postgresql+psycopg://...).")
    if "startup" in only:
        from . import startup
        report.startup = startup.run(reps=2 if args.quick else 3, plugins=10 if args.quick else 50)
    if "cli" in only:
        from . import cli
        report.cli = cli.run(reps=1 if args.quick else 3)
    if "print" in only:
        from . import printing
        report.printing = printing.run(docs=6 if args.quick else 40)
    report.seconds = time.perf_counter() - t0
    out = args.out or (None if args.quick else os.path.join(ROOT, "docs", "bench-results.md"))
    text = report.markdown()
    if out:
        with open(out, "w") as fh:
            fh.write(text)
        print(f"results written to {os.path.relpath(out, ROOT)}")
    else:
        print(text)


def _admin(app):
    from erp_core.testing import PASSWORD, ensure_user
    return ensure_user(app, app.config["AUTH_ROLE_ADMIN"], "bench_admin"), PASSWORD


class Report:
    def __init__(self, args, kinds):
        self.args, self.kinds = args, kinds
        self.generated, self.lists, self.desk, self.deep, self.notes = {}, {}, {}, {}, []
        self.load = self.startup = self.cli = self.printing = None
        self.seconds = 0
        self.load_before = os.getloadavg()[0]

    def markdown(self):
        L = ["# Bench results", "",
             f"`python -m bench{' --quick' if self.args.quick else ''}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
             f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores "
             f"(load average {self.load_before:.2f} before the run, the bench alone on the machine unless it says "
             f"otherwise), databases: {', '.join(self.kinds)}; {self.seconds:.0f} s in all. "
             "Every figure stands beside its baseline measured in the same run; medians.", ""]
        for kind, rows in self.generated.items():
            L += [f"## Generated volumes ({kind})", "", "| module | volume | rows | seconds | rate |",
                  "|---|---|---:|---:|---|"]
            L += [f"| {m} | {v} | {r:,} | {s:.1f} | {note} |" for m, v, r, s, note in rows] + [""]
        for kind, rows in self.lists.items():
            L += [f"## List pages at volume ({kind})", "",
                  "Targets: page and API within 3x the raw SQL of the same page; page no slower than stock FAB.", "",
                  "| document | matching/all rows | page | our page ms | our API ms | raw SQL ms | stock FAB ms "
                  "| page/raw | API/raw | page/stock | statements | targets |", "|---|---|---|" + "---:|" * 8 + "---|"]
            for d, rows_, case, tp, ta, tr, ts, pr, ar, ps, st in rows:
                met = ("met" if pr <= 3 and ar <= 3 and ps <= 1 else
                       "not met: " + ", ".join(x for x, bad in (("page>3x", pr > 3), ("API>3x", ar > 3),
                                                                ("slower than FAB", ps > 1)) if bad))
                L.append(f"| {d} | {rows_} | {case} | {tp:.1f} | {ta:.1f} | {tr:.1f} | {ts:.1f} | {pr:.2f}x | "
                         f"{ar:.2f}x | {ps:.2f}x | {st} | {met} |")
            L += [""] + [f"Deep page by cursor: {line}" for line in self.deep.get(kind, [])] + [""]
        for kind, lines in self.desk.items():
            L += [f"## Service desk at volume ({kind})", ""] + lines + [""]
        for title, section in (("Start-up", self.startup), ("Command line", self.cli), ("Printing", self.printing),
                               ("Mixed load (PostgreSQL, gunicorn, Locust in another process)", self.load)):
            if section:
                L += [f"## {title}", ""] + section + [""]
        if self.notes:
            L += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
