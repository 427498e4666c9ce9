#!/usr/bin/env bash
# Set up .venv and run the planning cycle on the embedded samples (no server to start).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/xlplan demo "$@"
