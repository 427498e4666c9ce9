#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for xlplan's tests, as root (CI) or as a user who
# already has LibreOffice: LibreOffice recalculates generated workbooks in the parity
# tests, the Noto CJK fonts draw the Chinese labels in rendered pictures, and .venv in
# the repository holds xlplan with its test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive  # CI has no stdin: apt must never ask

packages=()
command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1 \
  || packages+=(libreoffice-calc-nogui)
# the rendering tests draw Chinese labels: without these fonts they come out as boxes,
# whether or not LibreOffice was already there
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || packages+=(fonts-noto-cjk)
command -v python3 >/dev/null 2>&1 || packages+=(python3)
# node runs the add-in's JavaScript tests (tests/js); Chromium loads its task pane
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
# tests/test_paper.py reads the printed PDFs (pdftotext, pdfinfo) and draws a PNG per sheet (pdftoppm)
command -v pdftotext >/dev/null 2>&1 || packages+=(poppler-utils)
# python3-uno: tests drive LibreOffice through its own API (tests/lo_decorate.py, system python3)
/usr/bin/python3 -c "import uno" >/dev/null 2>&1 || packages+=(python3-uno)
# Debian's python3 lacks venv and ensurepip until python3-venv is installed.
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || packages+=(python3-venv)
if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing ${packages[*]}; run as root or: sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
  echo "setup: apt-get install ${packages[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq "${packages[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# tests/js needs no npm package; `npm ci` keeps node_modules to exactly package-lock.json
npm ci --no-audit --no-fund --loglevel=error >/dev/null
