#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian 12 machine: system packages (as root), a virtualenv
# with the project and its test extras, compiled translations. Safe to run every time:
# each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint's libraries, HarfBuzz subsetting (a Chinese PDF costs ~2 s without it), a CJK
# font, pdftotext/pdffonts for the PDF tests, Chromium for the browser tests.
PACKAGES=(python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
          fonts-wqy-microhei fonts-hanazono poppler-utils zbar-tools chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "houqin: missing system packages: ${missing[*]}" >&2
    echo "houqin: run this script as root once, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "houqin: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.houqin-installed
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "houqin: installing Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi
.venv/bin/python run.py i18n compile >/dev/null
