"""The add-in's JavaScript, run by node against a fake of Office.js and the real server.

tests/js/ holds the fake Excel (fake_office.js), the plans it opens and the server it
talks to (serve.py), and the tests: Recalculate, Check and Submit through the real
static/xlplan.js, the custom functions through the code the server generates. This test
runs them all with node's own test runner, so `pytest` (and .ci/run) covers them.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None and not os.environ.get("CI"), reason="node is not installed")
def test_the_add_in_javascript_against_a_fake_excel_and_the_real_server():
    assert NODE, "node is missing: scripts/setup.sh installs it (apt-get install nodejs)"
    run = subprocess.run([NODE, "--test", "--test-reporter=tap", "tests/js/"], cwd=ROOT, capture_output=True,
                         text=True, timeout=900, env={**os.environ, "XLPLAN_PYTHON": sys.executable})
    report = run.stdout + run.stderr
    failed = re.findall(r"^not ok \d+ - (.*)$", run.stdout, re.M)
    assert run.returncode == 0 and not failed, f"{failed}\n{report[-6000:]}"
    passed = int(re.search(r"^# pass (\d+)$", run.stdout, re.M).group(1))
    assert passed >= 24, report[-3000:]
