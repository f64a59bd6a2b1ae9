"""Command-line print time, before and after the light print app (issue 20).

before: a full app start (create_app: AppBuilder, views, APIs), then the print command;
after:  ``run.py print`` as shipped (create_print_app: config, database, translations,
        templates and the print registry only).
Usage: DATABASE_URL=... python bench/cli_print.py [FORMAT NAME] [-n 5] [--before-tree DIR]
(--before-tree: an export of the code before this change, e.g. ``git archive 2b280e8 | tar -x -C DIR``;
its own ``run.py print`` is then the "before" figure.)
(the database needs the demo data: run.py upgrade && run.py sync && run.py load-demo)."""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("format", nargs="?", default="rentals.receipt")
    ap.add_argument("name", nargs="?", default="LN-2026-00001")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--before-tree", default=None)
    args = ap.parse_args()
    out = str(Path(tempfile.mkdtemp()) / "out.pdf")
    print_args = ["print", args.format, args.name, "-o", out, "-j", "1"]
    before = [sys.executable, "-c",
              "import sys; from erp_core.app import create_app; from erp_core.cli import cli; "
              f"cli({print_args!r}, obj=create_app(), prog_name='run.py')"]
    if args.before_tree:
        before = [sys.executable, str(Path(args.before_tree) / "run.py"), *print_args]
    after = [sys.executable, "run.py", *print_args]
    times = {"before (full app)": [], "after (print app)": []}
    for _ in range(args.n):                   # interleaved, so machine load hits both alike
        times["before (full app)"].append(run(before))
        times["after (print app)"].append(run(after))
    for label, values in times.items():
        print(f"{label:<20} median {statistics.median(values):.2f} s  (min {min(values):.2f}, n={len(values)})")


if __name__ == "__main__":
    main()
