"""Faults: a merge killed at any point loses nothing; a database locked or gone is a clear error.

The merge writes each batch of files in one transaction and skips bytes the store
already holds, so a merge killed half-way and run again must end with every file
stored exactly once, with all its findings and values, as a merge never interrupted.
The kills are real: `xlplan merge` in a subprocess (its own process group, so its
worker processes go too), SIGKILL after a random delay.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import hq_cases as cases
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.hq.store import Store

CASES = Path(__file__).parent / "cases"
KILLS = 5  # merges killed per test run, each after a random delay
MERGE = """
import sys
from xlplan.hq import merge
from xlplan.hq.store import Store
with Store(sys.argv[1]) as store:
    merge.merge([sys.argv[2]], store, workers=int(sys.argv[3]), chunk=2, batch=3)
"""


def inbox(tmp_path, n=60) -> Path:
    base = cases.base("kpi_scorecard", tmp_path)
    folder = tmp_path / "inbox"
    folder.mkdir()
    rng = random.Random(7)
    for k in range(n):
        unit = f"客服{k:02d}组"
        (folder / f"{unit}.xlsx").write_bytes(cases.copy(base, unit, cases.kpi_data(rng, unit)))
    for bad in ("not_a_zip.xlsx", "truncated_zip.xlsx", "merged_cells_over_inputs.xlsx"):
        shutil.copy(CASES / bad, folder / bad)
    return folder


def snapshot(folder: Path) -> dict:
    """Each input file's bytes hash and modification time: what 'untouched' means."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())}


def rows(url: str) -> dict:
    with Store(url) as store:
        subs = store.submissions()
        return {"counts": store.counts(),
                "per_file": sorted((s["sha256"], s["status"], s["errors"], s["warnings"],
                                    sum(1 for _ in store.values([s["id"]]))) for s in subs)}


def run_merge(url: str, folder: Path, workers: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", MERGE, url, str(folder), str(workers)],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_merge_killed_at_random_points_and_run_again_loses_nothing(tmp_path):
    folder = inbox(tmp_path)
    before = snapshot(folder)
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    started = time.monotonic()
    assert run_merge(reference, folder, 0).wait(120) == 0
    whole = time.monotonic() - started  # start-up, reading, writing: a kill lands anywhere in it
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    rng = random.Random()
    killed = runs = 0
    while killed < KILLS and runs < 4 * KILLS:
        proc = run_merge(url, folder, 2 if runs % 2 else 0)
        runs += 1
        time.sleep(rng.uniform(0.05, 0.8) * whole)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the merge and its worker processes, mid-work
            killed += 1
        else:
            whole /= 2  # it finished first: what a run has left to do shrinks as files are stored
        proc.wait(30)
    assert killed == KILLS  # the test proves something only if merges were cut off
    assert run_merge(url, folder, 0).wait(120) == 0
    assert rows(url) == rows(reference)
    n = len(before)
    assert rows(url)["counts"]["submissions"] == n
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert snapshot(folder) == before


runner = CliRunner()


def test_a_locked_database_is_a_clear_error_and_the_inputs_stay_untouched(tmp_path):
    folder = inbox(tmp_path, n=3)
    before = snapshot(folder)
    db = tmp_path / "hq.db"
    Store(f"sqlite:///{db}").close()
    roster = tmp_path / "roster.csv"
    roster.write_text("unit,template\n客服00组,kpi_scorecard\n", encoding="utf-8")
    blocker = create_engine(f"sqlite:///{db}", connect_args={"timeout": 0.1})
    with blocker.connect() as conn:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        for extra in ([], ["--roster", str(roster)]):
            result = runner.invoke(app, ["merge", str(folder), "--db", f"sqlite:///{db}", "--workers", "0", *extra])
            assert result.exit_code != 0
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert "database" in " ".join(result.output.split()) and "locked" in result.output
        conn.exec_driver_sql("ROLLBACK")
    blocker.dispose()
    assert snapshot(folder) == before
    with Store(f"sqlite:///{db}") as store:
        assert store.counts()["submissions"] == 0


@pytest.mark.parametrize("url", ["postgresql+psycopg://xlplan@127.0.0.1:9/gone",
                                 "sqlite:////proc/no/such/folder/hq.db"])
def test_a_database_that_is_gone_is_a_clear_error_and_the_inputs_stay_untouched(tmp_path, url):
    folder = inbox(tmp_path, n=2)
    before = snapshot(folder)
    result = runner.invoke(app, ["merge", str(folder), "--db", url, "--workers", "0"])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "cannot open the database" in " ".join(result.output.split()) or "driver" in result.output
    assert snapshot(folder) == before


def test_a_database_removed_during_a_merge_is_a_clear_error(tmp_path, monkeypatch):
    """The SQLite file's folder disappears between batches: the next write says so; nothing is half-stored."""
    from xlplan.hq import merge

    folder = inbox(tmp_path, n=6)
    before = snapshot(folder)
    where = tmp_path / "db"
    where.mkdir()
    store = Store(f"sqlite:///{where / 'hq.db'}")
    real_add = store.add
    calls = []

    def add_then_vanish(batch):
        calls.append(len(batch))
        if len(calls) == 2:
            store.engine.dispose()
            shutil.rmtree(where)
            where.mkdir()
            os.chmod(where, 0o500)  # the file is gone and cannot be made again
        return real_add(batch)

    monkeypatch.setattr(store, "add", add_then_vanish)
    from xlplan.model import XlplanError

    try:
        with pytest.raises(XlplanError, match="database"):
            merge.merge([folder], store, workers=0, batch=2)
    finally:
        os.chmod(where, 0o700)
        store.close()
    assert snapshot(folder) == before
