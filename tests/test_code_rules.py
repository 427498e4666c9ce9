"""The code's own rules, checked on every test run (and so in CI): the import layers
(import-linter, contracts in pyproject.toml), lint (ruff) and types (mypy), each at zero
findings. The tools come with the test extras (`pip install -e '.[test]'`)."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    exe = BIN / tool
    if not exe.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed: pip install -e '.[test]'")
        pytest.skip(f"{tool} is not installed: pip install -e '.[test]'")
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_imports_follow_the_layers_template_workbook_hq_with_excel_at_the_edge():
    done = run("lint-imports", "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_ruff_finds_nothing():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_mypy_finds_nothing():
    """Every module of xlplan: none is exempt (an override that ignores a module's errors fails
    the test on its own, before mypy runs)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    exempt = [o["module"] for o in config.get("overrides", []) if o.get("ignore_errors")]
    assert not exempt, f"modules whose type errors mypy ignores: {exempt}"
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
