"""The HQ store: every submission kept once, versions by time received, the schema migrated.

Each test runs against SQLite and against PostgreSQL (see hq_db.py).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pytest
from hq_db import BACKENDS, fresh_url
from sqlalchemy import inspect, update

from xlplan.hq import store as store_module
from xlplan.hq.store import RosterEntry, Store, StoreError


@dataclass(frozen=True)
class Item:
    """A processed file as the merge hands it to the store."""

    source: str
    sha256: str
    received_at: dt.datetime
    unit: str | None = "北区"
    template: str | None = "annual_plan"
    template_version: str | None = "1.0"
    period: str | None = "2027"
    status: str = "accepted"
    submitter: str | None = None
    size: int = 3
    findings: tuple = ()
    values: tuple = (("target_month", 1, 1, None, "1月", 900.0, None, "input"),
                     ("unit_name", 1, 1, None, None, None, "=北区", "given"))


def day(n: int) -> dt.datetime:
    return dt.datetime(2027, 1, n, 9, 0)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = Store(fresh_url(request.param, tmp_path))
    yield s
    s.close()


def test_schema_is_migrated_once(store):
    assert store.schema_version() == store_module.SCHEMA_VERSION
    again = Store(store.url)
    assert again.migrate() == store_module.SCHEMA_VERSION
    again.close()


def test_values_of_a_database_made_before_version_5_lose_their_foreign_key(tmp_path):
    """PostgreSQL checked plan_values' foreign key row by row; a database made with it is migrated."""
    store = Store(fresh_url("postgres", tmp_path))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE plan_values ADD CONSTRAINT plan_values_submission_id_fkey "
                             "FOREIGN KEY (submission_id) REFERENCES submissions (id)")
        conn.execute(store_module.schema_table.delete().where(store_module.schema_table.c.version == 5))
    assert inspect(store.engine).get_foreign_keys("plan_values") != []
    store.close()
    again = Store(store.url)
    assert again.schema_version() == 5
    assert inspect(again.engine).get_foreign_keys("plan_values") == []
    [sid] = again.add([(Item("v.xlsx", "e" * 64, day(1)), b"v")])
    assert {v["block"] for v in again.values([sid])} == {"target_month", "unit_name"}
    again.close()


def test_a_newer_schema_is_refused(store):
    with store.engine.begin() as conn:
        table = store_module.schema_table
        conn.execute(update(table).where(table.c.version == store_module.SCHEMA_VERSION).values(version=99))
    with pytest.raises(StoreError, match="schema version 99"):
        Store(store.url)


def test_same_bytes_twice_are_one_submission(store):
    first = Item("north.xlsx", "a" * 64, day(1))
    assert store.add([(first, b"one")]) == [1]
    # the same bytes under another name, and twice in one batch
    again = replace(first, source="north copy.xlsx")
    assert store.add([(again, b"one"), (again, b"one")]) == [None, None]
    assert store.counts()["submissions"] == 1
    assert store.blob("a" * 64) == b"one"


def test_new_bytes_are_a_new_version_and_old_ones_stay(store):
    store.add([(Item("v2.xlsx", "b" * 64, day(5)), b"two")])
    # an older file arriving later is version 1: versions follow the time received
    store.add([(Item("v1.xlsx", "a" * 64, day(2)), b"one")])
    subs = {s["source"]: s for s in store.submissions()}
    assert subs["v1.xlsx"]["version"] == 1 and subs["v2.xlsx"]["version"] == 2
    latest = store.latest_accepted("annual_plan")
    assert [s["source"] for s in latest] == ["v2.xlsx"]
    old = list(store.values([subs["v1.xlsx"]["id"]]))
    assert {v["block"] for v in old} == {"target_month", "unit_name"}
    assert [v["text"] for v in old if v["block"] == "unit_name"] == ["=北区"]


def test_value_rows_are_read_back_as_written(store):
    """Every column of the long form, as the merge packs it (PostgreSQL takes them by COPY, SQLite unpacks
    the JSON): numbers, a whole number, texts, blanks where a row or column has no label, each role."""
    rows = (("target_month", 1, 3, "A区", "3月", 900.25, None, "input"),
            ("target_month", 2, 3, "B区", "3月", 7, None, "input"),
            ("actions.owner", 4, 1, None, None, None, "王经理", "input"),
            ("unit_name", 1, 1, None, None, None, "=北区", "given"),
            ("region_gap", 2, 12, "B区", "12月", -0.5, None, "computed"),
            ("budget_total", 1, 1, None, None, None, "#DIV/0!", "computed"))
    [sid] = store.add([(Item("v.xlsx", "d" * 64, day(1), values=store_module.pack_values(rows)), b"v")])
    got = list(store.value_rows([sid], columns=store_module.VALUE_COLUMNS))
    want = sorted(((sid, "北区", "2027", *row) for row in rows), key=lambda r: (r[3], r[4], r[5]))
    assert got == want
    assert all(type(r[8]) is float for r in got if r[8] is not None)


def test_rejected_files_are_kept_with_findings_and_not_used(store):
    error = ("error", "REGIONS_NOT_MONTH", "regions add up to 901 but the month is 900", "计划进度", "D14",
             "region_total")
    store.add([(Item("v1.xlsx", "a" * 64, day(1)), b"one")])
    store.add([(Item("v2.xlsx", "b" * 64, day(2), status="rejected", findings=(error,)), b"two")])
    store.add([(Item("junk.xlsx", "c" * 64, day(3), unit=None, template=None, template_version=None,
                     period=None, status="rejected", values=(),
                     findings=(("error", "UNREADABLE", "junk.xlsx: not a workbook", None, None, None),)),
                b"junk")])
    subs = {s["source"]: s for s in store.submissions()}
    assert subs["v2.xlsx"]["status"] == "rejected" and subs["v2.xlsx"]["version"] == 2
    assert subs["v2.xlsx"]["errors"] == 1
    assert subs["junk.xlsx"]["version"] is None
    assert [f["cell"] for f in store.findings_of(subs["v2.xlsx"]["id"])] == ["D14"]
    assert [s["source"] for s in store.latest_accepted()] == ["v1.xlsx"]


def test_roster_is_added_and_updated(store):
    store.set_roster([RosterEntry("北区", "annual_plan", "", dt.date(2027, 1, 10)),
                      RosterEntry("南区", "annual_plan", "2027", None)])
    store.set_roster([RosterEntry("北区", "annual_plan", "", dt.date(2027, 1, 15))])
    assert store.roster() == [RosterEntry("北区", "annual_plan", "", dt.date(2027, 1, 15)),
                              RosterEntry("南区", "annual_plan", "2027", None)]


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path):
    (tmp_path / "file.txt").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open"):
        Store(f"sqlite:///{tmp_path / 'file.txt' / 'hq.db'}")
    with pytest.raises(StoreError, match="not a database URL"):
        Store("nonsense://")


def test_a_locked_database_is_a_clear_error_and_stores_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    store = Store(url, connect_args={"timeout": 0.1})
    blocker = Store(url)
    with blocker.engine.connect() as conn:
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="cannot write to the database"):
            store.add([(Item("north.xlsx", "a" * 64, day(1)), b"one")])
        conn.exec_driver_sql("ROLLBACK")
    assert store.counts()["submissions"] == 0
    assert store.add([(Item("north.xlsx", "a" * 64, day(1)), b"one")]) == [1]


@pytest.mark.parametrize("url, says", [
    ("mysql://hq:s3cr3t-pw@localhost/plans", "the driver is not installed"),  # MySQLdb is not a dependency
    ("postgresql+nosuchdriver://hq:s3cr3t-pw@localhost/plans", "not a database URL"),
    ("postgresql://hq:s3cr3t-pw@localhost:notaport/plans", "not a database URL"),
    ("postgresql+psycopg://hq:s3cr3t-pw@127.0.0.1:1/plans?connect_timeout=3", "cannot open the database"),
])
def test_a_database_error_never_shows_the_password(url, says):
    """A merge worker's error travels to the merging process's output: the URL in it has no password."""
    with pytest.raises(StoreError, match=says) as caught:
        Store(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert "hq:***@" in str(caught.value)
