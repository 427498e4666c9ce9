#!/usr/bin/env bash
# Set up .venv and run the planning cycle on the embedded samples (no server to start).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3 lacks venv and ensurepip until python3-venv is installed.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "demo: python3-venv is missing; run as root or: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/xlplan demo "$@"
