"""benchmarks/cluster.py measures a merge into PostgreSQL and leaves no database connection pool open."""
from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import hq_cases as cases
from hq_db import fresh_url

from xlplan.hq import store as store_module

CLUSTER = Path(__file__).resolve().parent.parent / "benchmarks" / "cluster.py"


def load_cluster():
    spec = importlib.util.spec_from_file_location("benchmark_cluster", CLUSTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_merge_closes_every_store_it_opens(tmp_path, monkeypatch):
    url = fresh_url("postgres", tmp_path)  # skips without PostgreSQL (fails in CI)
    base = cases.base("kpi_scorecard", tmp_path)
    folder = tmp_path / "inbox"
    folder.mkdir()
    rng = random.Random(3)
    for unit in ("客服一组", "客服二组"):
        (folder / f"{unit}.xlsx").write_bytes(cases.copy(base, unit, cases.kpi_data(rng, unit)))
    opened: list = []

    class Counted(store_module.Store):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.closed = False
            opened.append(self)

        def close(self):
            self.closed = True
            super().close()

    monkeypatch.setattr(store_module, "Store", Counted)
    got = load_cluster().one_merge(folder, url, workers=0)
    assert got["new"] == 2 and len(got["stored"]) == 2 and got["server_ms"] >= 0
    assert opened and all(store.closed for store in opened), f"{sum(not s.closed for s in opened)} left open"
