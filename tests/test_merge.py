"""HQ's merge on a few hundred submissions, against SQLite and PostgreSQL.

The corpus (built once, see hq_cases.py): 80 annual plans and 120 KPI scorecards, some
resubmitted with new figures, some resubmitted with an error (so the earlier version
stays in use), some only ever wrong, a few sent twice under another name, a few that
are no workbook at all, and units on the roster that never sent anything.

What must hold: the consolidated totals are the sums of each unit's own recalculated
totals, to the yuan; versions and statuses are right; a second merge changes nothing;
a Dask cluster gets exactly what the local pool gets.
"""
from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import hq_cases as cases
import openpyxl
import pytest
from hq_db import BACKENDS, IN_CI, fresh_url

from xlplan.hq import merge
from xlplan.hq.store import Store
from xlplan.workbook import recalculation as recalc

ANNUAL_UNITS, KPI_TEAMS = 80, 120
DUE = dt.date(2027, 1, 10)


def when(day: int, hour: int = 9) -> float:
    return dt.datetime(2027, 1, day, hour, tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Corpus:
    folder: Path
    roster: Path
    used: dict[tuple[str, str], Path] = field(default_factory=dict)  # (template, unit) → file consolidated
    versions: dict[tuple[str, str], int] = field(default_factory=dict)  # files per unit
    rejected_units: set[tuple[str, str]] = field(default_factory=set)
    missing: set[tuple[str, str]] = field(default_factory=set)
    late: set[tuple[str, str]] = field(default_factory=set)
    junk: list[str] = field(default_factory=list)
    files: int = 0
    unique: int = 0


def build(folder: Path) -> Corpus:
    rng = random.Random(2027)
    inbox = folder / "inbox"
    (inbox / "annual").mkdir(parents=True)
    (inbox / "kpi").mkdir(parents=True)
    corpus = Corpus(inbox, folder / "roster.csv")
    bases = {t: cases.base(t, folder) for t in ("annual_plan", "kpi_scorecard")}

    def put(path: Path, data: bytes, day: int, hour: int = 9):
        path.write_bytes(data)
        os.utime(path, (when(day, hour), when(day, hour)))
        corpus.files += 1

    roster = ["unit,template,period,due"]
    for i in range(ANNUAL_UNITS + 5):
        unit = f"营业部{i:03d}" if i != 7 else "=营业部007"  # a name that looks like a formula stays text
        key = ("annual_plan", unit)
        roster.append(f"\"{unit}\",annual_plan,2027,{DUE}")
        if i >= ANNUAL_UNITS:
            corpus.missing.add(key)
            continue
        kind = i % 10  # 0-1: resubmitted, 2: resubmitted with an error, 3: only wrong, 4: late
        day = 11 if kind == 4 else 3
        put(inbox / "annual" / f"{i:03d}.xlsx", cases.copy(bases["annual_plan"], unit,
                                                           cases.annual_data(rng, unit, broken=kind == 3)), day)
        corpus.versions[key] = 1
        corpus.used[key] = inbox / "annual" / f"{i:03d}.xlsx"
        if kind == 3:
            corpus.rejected_units.add(key)
            corpus.used.pop(key)
        if kind == 4:
            corpus.late.add(key)
        if kind in (0, 1, 2):
            v2 = inbox / "annual" / f"{i:03d}-v2.xlsx"
            put(v2, cases.copy(bases["annual_plan"], unit, cases.annual_data(rng, unit, broken=kind == 2)), 5)
            corpus.versions[key] = 2
            if kind != 2:
                corpus.used[key] = v2
    for i in range(KPI_TEAMS):
        unit = f"客服{i:03d}组"
        key = ("kpi_scorecard", unit)
        roster.append(f"{unit},kpi_scorecard,{cases.PERIOD},{DUE}")
        path = inbox / "kpi" / f"{i:03d}.xlsx"
        put(path, cases.copy(bases["kpi_scorecard"], unit, cases.kpi_data(rng, unit)), 4)
        corpus.used[key], corpus.versions[key] = path, 1
        if i % 12 == 0:
            v2 = inbox / "kpi" / f"{i:03d}-v2.xlsx"
            put(v2, cases.copy(bases["kpi_scorecard"], unit, cases.kpi_data(rng, unit)), 6)
            corpus.used[key], corpus.versions[key] = v2, 2
    corpus.unique = corpus.files
    for i in range(0, 30, 6):  # the same bytes again, under another name
        put(inbox / "annual" / f"copy of {i:03d}.xlsx", (inbox / "annual" / f"{i:03d}.xlsx").read_bytes(), 8)
    junk = {"notes.xlsx": b"just some text, renamed", "cut.xlsx": bases["annual_plan"].data[:5000],
            "empty.xlsx": b""}
    for name, data in junk.items():
        put(inbox / name, data, 7)
        corpus.junk.append(name)
    corpus.unique += len(junk)
    corpus.roster.write_text("\n".join(roster) + "\n", encoding="utf-8")
    return corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return build(tmp_path_factory.mktemp("hq"))


@dataclass
class Merged:
    store: Store
    first: merge.Outcome
    second: merge.Outcome
    counts_after_first: dict
    workbook: Path
    workbook_again: Path


@pytest.fixture(scope="module", params=BACKENDS)
def merged(request, corpus, tmp_path_factory) -> Merged:
    out = tmp_path_factory.mktemp(f"out-{request.param}")
    store = Store(fresh_url(request.param, out))
    first = merge.run([corpus.folder], store, roster=corpus.roster, output=out / "consolidated.xlsx",
                      report_path=out / "status.html", workers=2, basis="accepted")
    counts = store.counts()
    second = merge.run([corpus.folder / "annual", str(corpus.folder / "**" / "*.xlsx")], store,
                       roster=corpus.roster, output=out / "again.xlsx", workers=2, basis="accepted")
    yield Merged(store, first, second, counts, out / "consolidated.xlsx", out / "again.xlsx")
    store.close()


# -- versions and statuses ---------------------------------------------------------------
def test_every_file_is_stored_once(merged, corpus):
    s = merged.first.summary
    assert s.seen == corpus.files
    assert s.new == corpus.unique
    assert s.duplicates == corpus.files - corpus.unique
    assert merged.counts_after_first["submissions"] == corpus.unique


def test_versions_follow_the_time_received(merged, corpus):
    subs = merged.store.submissions()
    count: dict = {}
    for s in subs:
        if s["unit"] is not None:
            key = (s["template"], s["unit"])
            count[key] = count.get(key, 0) + 1
    assert count == corpus.versions
    latest = {(s["template"], s["unit"]): s for s in merged.store.latest_accepted()}
    assert {k: s["source"] for k, s in latest.items()} == {k: p.name for k, p in corpus.used.items()}
    for key, s in latest.items():
        assert s["version"] == (2 if corpus.used[key].stem.endswith("-v2") else 1)


def test_statuses(merged, corpus):
    rows = {(r.template, r.unit): r for r in merged.first.status.rows}
    by_status: dict[str, set] = {}
    for key, row in rows.items():
        by_status.setdefault(row.status, set()).add(key)
    assert by_status["missing"] == corpus.missing
    assert by_status["rejected"] == corpus.rejected_units
    assert by_status["late"] == corpus.late
    assert "unexpected" not in by_status
    assert sorted(s["source"] for s in merged.first.status.unreadable) == sorted(corpus.junk)
    resubmitted_wrong = rows[("annual_plan", "营业部002")]
    assert resubmitted_wrong.status == "accepted" and resubmitted_wrong.used["version"] == 1
    assert resubmitted_wrong.latest["version"] == 2 and resubmitted_wrong.latest["status"] == "rejected"
    assert resubmitted_wrong.findings[0]["code"] == "REGIONS_NOT_MONTH"


def test_a_file_that_is_no_workbook_is_rejected_with_one_finding(merged):
    for s in merged.first.status.unreadable:
        assert s["status"] == "rejected"
        assert len(s["findings"]) == 1
        assert s["findings"][0]["message"].startswith(s["source"])


def test_merging_twice_changes_nothing(merged, corpus):
    assert merged.second.summary.new == 0
    assert merged.second.summary.duplicates == merged.second.summary.seen > 0
    assert merged.store.counts() == merged.counts_after_first
    assert sheet_values(merged.workbook, skip_status=True) == sheet_values(merged.workbook_again, skip_status=True)


# -- the consolidated workbook ----------------------------------------------------------
def sheet_values(path: Path, skip_status: bool = False) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()]
            for ws in wb.worksheets if not (skip_status and ws.title == "状态")}


_OWN: dict = {}


def own_results(corpus: Corpus, template: str) -> dict[str, recalc.Result]:
    """Each unit's own recalculation of the file consolidation uses (computed once per run)."""
    if template not in _OWN:
        _OWN[template] = {unit: recalc.evaluate(merge.read_plan(path.name, path.read_bytes()))
                          for (t, unit), path in corpus.used.items() if t == template}
    return _OWN[template]


def test_the_merge_reads_a_file_as_check_file_does(corpus):
    """The merge reads bytes (a Dask worker has no access to HQ's folder); the results are check_file's."""
    for (_template, unit), path in list(corpus.used.items())[::40]:
        fast = recalc.evaluate(merge.read_plan(path.name, path.read_bytes()))
        alone = recalc.check_file(path)
        assert fast.plan.unit == alone.plan.unit == unit
        assert fast.as_json() == alone.as_json()


def rows_by_label(ws, first_col: int = 2) -> dict:
    """Label in `first_col` → the first row that has it (a sheet may hold more than one table)."""
    out = {}
    for row in ws.iter_rows(values_only=True):
        if row[first_col - 1] is not None:
            out.setdefault(row[first_col - 1], row)
    return out


def test_consolidated_totals_are_the_units_own_totals(merged, corpus):
    wb = openpyxl.load_workbook(merged.workbook)
    own = own_results(corpus, "annual_plan")
    plan = rows_by_label(wb["月度计划"])
    for unit, result in own.items():
        months = result.values["target_month"][0]
        assert list(plan[unit][2:14]) == pytest.approx([float(m or 0) for m in months], abs=1e-9)
        assert plan[unit][14] == pytest.approx(result.values["target_month_y"][0][0], abs=1e-9)
    total = rows_by_label(wb["月度计划"], 1)["合计"]
    for m in range(12):
        assert total[2 + m] == pytest.approx(sum(r.values["target_month"][0][m] or 0 for r in own.values()),
                                             abs=1e-6)
    budget = rows_by_label(wb["预算"], 1)
    header = next(row for row in wb["预算"].iter_rows(values_only=True) if row[0] == "策略")
    budget_total_row = budget["合计"]
    for unit, result in own.items():
        col = header.index(unit)
        assert round(budget_total_row[col]) == round(result.values["budget_total"][0][0])  # to the yuan
    assert round(budget_total_row[len(own) + 1]) == round(sum(r.values["budget_total"][0][0] for r in own.values()))
    gap = rows_by_label(wb["目标差距"])
    for unit, result in own.items():
        hq = result.values["hq_target"][0][0]
        months = result.values["target_month_y"][0][0]
        assert gap[unit][2] == pytest.approx(hq) and gap[unit][4] == pytest.approx(months)
        assert gap[unit][5] == pytest.approx(months - hq)
    headcount = rows_by_label(wb["人力"])
    for unit, result in own.items():
        assert list(headcount[unit][2:14]) == result.values["headcount"][0]
    regions = {(row[1], row[2]): row for row in wb["区域"].iter_rows(values_only=True) if row[2]}
    for unit, result in own.items():
        for r, label in enumerate(result.plan.template.dims["region"].labels["zh-Hans"]):
            assert list(regions[(unit, label)][3:15]) == pytest.approx(result.values["region_plan"][r])


def test_scorecards_ranked_and_graded(merged, corpus):
    wb = openpyxl.load_workbook(merged.workbook)
    own = own_results(corpus, "kpi_scorecard")
    rows = [r for r in wb["考核排名"].iter_rows(min_row=4, values_only=True) if r[0]]
    people = sum(sum(1 for n in r.tables["staff.name"] if n) for r in own.values())
    assert len(rows) == people
    totals = [r[4] for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert rows[0][6] == 1
    for team, result in own.items():
        mine = {(r[2], r[3]): r for r in rows if r[1] == team}
        for i, name in enumerate(result.tables["staff.name"]):
            if name:
                row = mine[(name, result.tables["staff.group"][i])]
                assert row[4] == pytest.approx(result.tables["staff.total"][i])
                assert row[5] == result.tables["staff.rank"][i] and row[7] == result.tables["staff.grade"][i]
    grades = rows_by_label(wb["等级分布"])
    for team, result in own.items():
        assert grades[team][-1] == result.values["staff_count"][0][0]


def test_text_from_submissions_stays_text(merged):
    wb = openpyxl.load_workbook(merged.workbook)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=")]
    assert {c.value for c in cells} >= {"=营业部007", "=SUM(A1)", "=HYPERLINK(\"x\")"}
    assert all(c.data_type == "s" for c in cells)


def test_status_page(merged):
    html = merged.first.report.read_text(encoding="utf-8")
    assert "营业部080" in html and "notes.xlsx" in html and "@media print" in html
    assert "<script" not in html


def test_long_form_rows_come_in_the_order_of_the_store_s_index(corpus):
    """(block, row, col), blocks as the database sorts text: the writer appends to its index instead of
    inserting among its entries. Each cell once; every grid's non-blank cells are there."""
    for folder in ("annual", "kpi"):
        path = sorted((corpus.folder / folder).glob("*.xlsx"))[0]
        result = recalc.evaluate(merge.read_plan(path.name, path.read_bytes()))
        rows = merge.long_form(result)
        keys = [(row[0].encode(), row[1], row[2]) for row in rows]
        assert keys == sorted(set(keys))
        grid_cells = {(name, r, c) for name, grid in result.values.items() for r, line in enumerate(grid, start=1)
                      for c, v in enumerate(line, start=1) if v is not None and v != ""}
        assert grid_cells == {row[:3] for row in rows if "." not in row[0]}


# -- Dask ---------------------------------------------------------------------------
def test_a_dask_cluster_gets_exactly_the_local_results(corpus, tmp_path):
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("dask[distributed] is not installed (pip install xlplan[cluster])")
    folder = corpus.folder / "kpi"
    local = Store(f"sqlite:///{tmp_path / 'local.db'}")
    merge.merge([folder], local, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = Store(f"sqlite:///{tmp_path / 'dask.db'}")
        merge.merge([folder], remote, scheduler=cluster.scheduler_address)  # as --scheduler tcp://...

    def snapshot(store):
        subs = {s["id"]: s for s in store.submissions()}
        keep = ("sha256", "unit", "template", "period", "version", "status", "errors", "warnings", "source")
        return ([{k: s[k] for k in keep} for s in subs.values()],
                sorted((subs[v["submission_id"]]["sha256"], v["block"], v["row"], v["col"], v["number"], v["text"])
                       for v in store.values(list(subs))))

    assert snapshot(remote) == snapshot(local)


def snapshot(store: Store):
    """What a merge stored, independent of the order files were stored in (submission ids)."""
    subs = {s["id"]: s for s in store.submissions()}
    keep = ("sha256", "unit", "template", "template_version", "period", "version", "status", "errors", "warnings",
            "source", "submitter", "received_at", "size")
    return (sorted(tuple(s[k] for k in keep) for s in subs.values()),
            sorted((subs[f["submission_id"]]["sha256"], f["severity"], f["code"], f["message"], f["sheet"] or "",
                    f["cell"] or "") for sid in subs for f in store.findings_of(sid)),
            sorted((subs[v["submission_id"]]["sha256"], v["unit"], v["period"], v["block"], v["row"], v["col"],
                    v["row_key"] or "", v["col_key"] or "", v["number"] or 0.0, v["text"] or "", v["role"])
                   for v in store.values(list(subs))))


def test_a_worker_that_cannot_reach_the_database_says_so(corpus):
    """The worker's answer names the database and why; the merging process raises it as a StoreError."""
    path = sorted((corpus.folder / "kpi").glob("*.xlsx"))[0]
    got = merge.process_and_store_chunk("postgresql+psycopg://xlplan@127.0.0.1:9/gone", {},
                                        [(path.name, path.read_bytes(), dt.datetime(2027, 1, 4))])
    assert isinstance(got, merge.WriteFailed)
    assert "127.0.0.1:9/gone" in got.message and "cannot open the database" in got.message


def test_dask_workers_write_to_postgresql_themselves(corpus, tmp_path, monkeypatch):
    """On a cluster with PostgreSQL the workers store the files; the main process only schedules.

    One file per task, so a unit's two versions and a file's copy under another name are
    stored by two workers at once: versions must come out as one writer numbers them, the
    copy once. A second merge, with the main process's check for stored bytes bypassed so
    that every file reaches a worker again, adds nothing."""
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("dask[distributed] is not installed (pip install xlplan[cluster])")
    local = Store(fresh_url("sqlite", tmp_path))
    alone = merge.merge([corpus.folder], local, workers=2)
    remote = Store(fresh_url("postgres", tmp_path))

    def refused(*args, **kwargs):
        raise AssertionError("the main process wrote to the database")

    monkeypatch.setattr(merge, "Writer", refused)
    monkeypatch.setattr(Store, "add", refused)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        first = merge.merge([corpus.folder], remote, scheduler=cluster.scheduler_address, chunk=1)
        counts = remote.counts()
        monkeypatch.setattr(Store, "known", lambda self, digests: set())
        again = merge.merge([corpus.folder], remote, scheduler=cluster.scheduler_address, chunk=1)
    assert (first.new, first.accepted, first.rejected, first.duplicates) == \
        (alone.new, alone.accepted, alone.rejected, alone.duplicates)
    assert sorted(first.rejected_files) == sorted(alone.rejected_files)
    assert snapshot(remote) == snapshot(local)
    assert again.new == 0 and again.duplicates == corpus.files
    assert remote.counts() == counts
    remote.close()
    local.close()


def test_two_versions_sent_within_one_second_are_numbered_in_the_order_they_arrived(tmp_path):
    """HQ saves a unit's plan and, a moment later, its corrected copy: within the same second,
    and the later one's name ("-v2") sorting before the first's. The later file is version 2."""
    rng = random.Random(7)
    base = cases.base("annual_plan", tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first, later = inbox / "北区营业部.xlsx", inbox / "北区营业部-v2.xlsx"
    assert sorted([first.name, later.name]) == [later.name, first.name]
    moment = when(3)
    for path, offset in ((first, 0.2), (later, 0.7)):
        path.write_bytes(cases.copy(base, "北区营业部", cases.annual_data(rng, "北区营业部")))
        os.utime(path, (moment + offset, moment + offset))
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    merge.merge([inbox], store, workers=0)
    versions = {s["source"]: s["version"] for s in store.submissions()}
    assert versions == {first.name: 1, later.name: 2}
    assert store.latest_accepted()[0]["source"] == later.name
