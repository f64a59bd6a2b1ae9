#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian 12 machine: system packages (as root), a virtualenv
# with the project and its test extras, compiled translations, then a proof that the stack
# works (Chromium starts through Playwright, a Chinese PDF renders). Safe to run every
# time: each step is skipped when already done. Quiet unless something is installed or fails.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint's libraries, HarfBuzz subsetting (a Chinese PDF costs ~2 s without it), a CJK
# font, pdftotext/pdffonts for the PDF tests, zbar for decoding the printed QR codes, a CJK
# Ext-B font (rare characters in names), Chromium for the browser tests, and libatomic1 for
# the node binary inside Playwright's wheel (a bare Debian lacks it).
PACKAGES=(python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig
          fonts-wqy-microhei fonts-hanazono poppler-utils zbar-tools chromium libatomic1 tzdata)

status=$(dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
  grep -q "^$p .* ii $" <<<"$status" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "houqin: missing system packages: ${missing[*]}" >&2
    echo "houqin: run this script as root once, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "houqin: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  # apt's own output (and debconf's "apt-utils is not installed" line) only if it fails
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "houqin: apt-get failed: $(grep -m1 -E '^(E|Err):' "$log" || tail -n1 "$log")" >&2
    rm -f "$log"; exit 1
  fi
  rm -f "$log"
  status=$(dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "${PACKAGES[@]}")
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.houqin-installed
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "houqin: installing Python dependencies into .venv"
  log=$(mktemp)
  # pip's warnings (setuptools' "Editable installation" block, a site's find-links) go to
  # the log; shown only if pip fails.
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e ".[test]"; } >"$log" 2>&1; then
    echo "houqin: pip install failed: $(grep -m1 '^ERROR' "$log" || tail -n1 "$log")" >&2
    rm -f "$log"; exit 1
  fi
  rm -f "$log"
  echo "$want" > "$stamp"
fi
.venv/bin/python run.py i18n compile >/dev/null

# Prove it: start Chromium through Playwright and render a Chinese PDF. Cached by a stamp
# keyed on the system packages' versions, the Python dependencies and the proof itself,
# so it runs again after any of them changes.
proof=.venv/.houqin-proven
key=$( { echo "$status"; cat "$stamp" scripts/prove_stack.py; ls .venv/lib/python3*/site-packages | grep -i -E '^(playwright|weasyprint)-'; } | sha256sum | cut -d' ' -f1)
if [[ ! -f $proof || $(cat "$proof") != "$key" ]]; then
  .venv/bin/python scripts/prove_stack.py || exit 1
  echo "$key" > "$proof"
fi
