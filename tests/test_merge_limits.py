"""A merge never aborts: a worker that dies, the database's limits, schemas made at the same time."""
from __future__ import annotations

import datetime as dt
import os
import signal
import threading

import pytest
from hq_db import BACKENDS, fresh_url
from plans import clean_annual_plan, make

from xlplan.hq import merge
from xlplan.hq.store import Incoming, Store, fit


def test_a_file_whose_worker_dies_is_recorded_and_the_rest_are_stored(tmp_path, monkeypatch):
    """The worker reading `oom.xlsx` is killed (as the system kills a process out of memory)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("a", "oom", "b", "c"):
        make(inbox, name, clean_annual_plan(), unit=f"{name}区营业部")
    real = merge.process

    def dies_on_oom(name, data, received_at):
        if name == "oom.xlsx":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(name, data, received_at)

    monkeypatch.setattr(merge, "process", dies_on_oom)  # forked workers inherit it
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    summary = merge.merge([inbox], store, workers=2, chunk=4)
    subs = {s["source"]: s for s in store.submissions()}
    assert sorted(subs) == ["a.xlsx", "b.xlsx", "c.xlsx", "oom.xlsx"] and summary.new == 4
    assert [subs[n]["status"] for n in ("a.xlsx", "b.xlsx", "c.xlsx")] == ["accepted"] * 3
    [finding] = store.findings_of(subs["oom.xlsx"]["id"])
    assert subs["oom.xlsx"]["status"] == "rejected" and finding["code"] == "WORKER_DIED"
    assert "killed by SIGKILL" in finding["message"] and finding["message"].startswith("oom.xlsx: ")
    store.close()


def incoming(unit: str, period: str = "2027", message: str = "ok", sha: str = "0" * 64) -> Incoming:
    return Incoming(source="x" * 900 + ".xlsx", sha256=sha, size=3, received_at=dt.datetime(2027, 1, 5),
                    submitter="s\x00" * 300, unit=unit, template="annual_plan", template_version="1.0",
                    period=period, status="rejected",
                    findings=(("error", "CODE", message, "计划进度" * 100, "C14", "block"),),
                    values=(("target_month", 1, 1, "区" * 150, None, 1e300, None, "input"),
                            ("plan_owner", 1, 1, None, None, None, "王\x00经理", "input")))


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_beyond_the_database_s_limits_never_aborts_a_merge(backend, tmp_path):
    store = Store(fresh_url(backend, tmp_path))
    long_unit = "北区营业部" * 100  # 500 characters: the column holds 200
    item = incoming(long_unit, period="2027-01" * 20, message="说明\x00" * 5000)
    [sid] = store.add([(item, b"abc")])
    assert sid is not None
    row = store.submission(sid)
    assert len(row["unit"]) == 200 and row["unit"].endswith("…") and len(row["period"]) == 40
    assert "\x00" not in row["submitter"] and len(row["source"]) == 500
    [f] = store.findings_of(sid)
    assert "\x00" not in f["message"] and len(f["sheet"]) == 200
    assert fit(item).unit == row["unit"]
    store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_merges_and_the_server_creating_the_schema_at_once_all_succeed(backend, tmp_path):
    """Eight stores opened on a new database at the same moment (two merges, the server ...)."""
    url = fresh_url(backend, tmp_path)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def open_store():
        try:
            start.wait()
            Store(url).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(url) as store:
        assert store.schema_version() == store.migrate()
