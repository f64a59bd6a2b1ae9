"""scripts/bootstrap.sh: quiet when nothing is missing, and its stack proof names the real
cause of a failure in one line (the bare-root failure was one line under five tracebacks)."""
import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prove_stack():
    spec = importlib.util.spec_from_file_location("prove_stack", ROOT / "scripts" / "prove_stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_says_nothing_when_nothing_is_missing():
    # `scripts/dev test` has just run it, so everything is installed and proven
    out = subprocess.run(["bash", "scripts/bootstrap.sh"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout + out.stderr == "", out.stdout + out.stderr


def test_the_proof_names_a_missing_library_in_one_line():
    cause = _prove_stack().cause
    driver = """Traceback (most recent call last):
  File "<string>", line 3, in <module>
/x/.venv/lib/python3.11/site-packages/playwright/driver/node: error while loading shared libraries: libatomic.so.1: cannot open shared object file: No such file or directory
playwright._impl._errors.Error: Connection closed while reading from the driver
"""
    line = cause(driver)
    assert "libatomic.so.1" in line and "\n" not in line
    chromium = """Traceback (most recent call last):
playwright._impl._errors.TargetClosedError: BrowserType.launch: Target page, context or browser has been closed
Browser logs:
/usr/lib/chromium/chromium: error while loading shared libraries: libnss3.so: cannot open shared object file
"""
    assert "libnss3.so" in cause(chromium)
    assert cause("Traceback (most recent call last):\n  x\nAssertionError: no CJK font embedded, only Helvetica\n") \
        == "AssertionError: no CJK font embedded, only Helvetica"


def test_the_proof_fails_in_one_line_without_a_browser(monkeypatch, capsys):
    monkeypatch.setenv("HOUQIN_CHROMIUM", "/nonexistent/chromium")
    prove = _prove_stack()
    assert prove.main() == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "/nonexistent/chromium" in err, err
