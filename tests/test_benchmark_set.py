"""The benchmark's submissions (benchmarks/synth.py) and its report (benchmarks/run.py).

A benchmark on files that do not read as intended measures something else, and a
report typed by hand can say what was not measured: both are tested here.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import run  # noqa: E402
import synth  # noqa: E402

from xlplan.hq import merge  # noqa: E402
from xlplan.workbook import read, safety  # noqa: E402


def test_vary_changes_only_numbers_of_the_cells_given():
    xml = ('<row r="5"><c r="C5" s="3" t="n"><v>100</v></c><c r="D5" s="3" t="s"><v>12</v></c>'
           '<c r="E5" s="3"><v>40</v></c><c r="F5" s="3"><f>C5*2</f><v>200</v></c>'
           '<c r="G5" t="str"><v>7</v></c><c r="H5" s="3"/></row>')
    cells = {"C5": "target_month", "D5": "target_month", "F5": "target_month", "G5": "target_month",
             "H5": "target_month"}
    varied = synth._vary(xml, cells, 1.5, None)
    assert '<c r="C5" s="3" t="n"><v>150.0</v></c>' in varied
    assert '<c r="D5" s="3" t="s"><v>12</v></c>' in varied  # a shared string's index is no figure
    assert '<c r="E5" s="3"><v>40</v></c>' in varied  # not one of the cells given
    assert '<f>C5*2</f><v>200</v>' in varied  # a formula cell keeps its formula and value
    assert '<c r="G5" t="str"><v>7</v></c>' in varied
    assert '<c r="H5" s="3"/>' in varied


def test_vary_puts_the_slip_in_the_first_cell_of_its_block():
    xml = '<c r="C5"><v>10</v></c><c r="C6"><v>20</v></c>'
    varied = synth._vary(xml, {"C5": "region_plan", "C6": "region_plan"}, 1.0, "region_plan")
    assert varied == '<c r="C5"><v>17.0</v></c><c r="C6"><v>20.0</v></c>'


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    return synth.make(tmp_path_factory.mktemp("bench") / "set", 30)


def test_the_set_reads_on_the_fast_path_and_one_plan_in_ten_slips(submissions):
    received = dt.datetime(2027, 1, 1)
    made = {"annual_plan": 0, "kpi_scorecard": 0}
    for path in submissions:
        data = path.read_bytes()
        with safety.admit_bytes(path.name, data) as zf:
            read.read_scanned(path.name, zf)  # raises scan.Unusual if the file is not as made
        kind = path.name.split("-")[0]
        slipped = made[kind] % 10 == 9
        made[kind] += 1
        result = merge.process(path.name, data, received)
        errors = [f for f in result.findings if f[0] == "error"]
        assert result.status == ("rejected" if slipped else "accepted"), (path.name, errors)
        if slipped:
            assert {f[1] for f in errors} == {"REGIONS_NOT_MONTH" if kind == "annual_plan"
                                              else "ANSWERED_ABOVE_RECEIVED"}, (path.name, errors)


def test_a_set_is_the_same_bytes_when_made_again(submissions, tmp_path):
    again = synth.make(tmp_path / "again", 6)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in submissions[:6]]


def _results(vs500=12.0, vs2000=19.0, annual=4.2, main=(0.8, 1.3), peaks=(500, 520)):
    merges = [{"set": "re-saved", "n": 500, "vs_pandas": vs500, "merge_mib": peaks[0]},
              {"set": "re-saved", "n": 2000, "vs_pandas": vs2000, "merge_mib": peaks[1]}]
    return {"merges": merges,
            "cpu": {"re-saved": {"annual_plan": {"median_ms": annual}}},
            "workers": [{"workers": 1, "main_ms": main[0]}, {"workers": 2, "main_ms": main[1]}]}


def test_bars_are_judged_from_the_figures():
    judged = {b["bar"]: b["met"] for b in run.bars(_results())}
    assert judged == {
        "merge ≥ 10× the pandas loop at N = 500 (re-saved files)": True,
        "merge ≥ 20× the pandas loop at N = 2,000 (re-saved files)": False,
        "≤ 5 ms of worker CPU per annual plan (re-saved files)": True,
        "≤ 1 ms of main-process CPU per file, 1 worker": True,
        "≤ 1 ms of main-process CPU per file, 2 workers": False,
        "peak memory flat in N (re-saved: at most 10% more at N = 2,000 than at 500)": True,
    }
    grown = run.bars(_results(peaks=(500, 600)))[-1]
    assert grown["met"] is False and grown["figure"] == "500 → 600 MiB (+20%)"


def test_a_bar_not_measured_is_said_so():
    results = _results()
    results["merges"] = [m for m in results["merges"] if m["n"] == 500]
    by_bar = {b["bar"]: b for b in run.bars(results)}
    assert by_bar["merge ≥ 20× the pandas loop at N = 2,000 (re-saved files)"]["met"] is None
    assert run.verdict(None) == "not measured"


def test_the_readme_figures_are_replaced_between_the_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{run.README_START}\nold figures\n{run.README_END}\nafter\n", encoding="utf-8")
    monkeypatch.setattr(run, "readme_figures", lambda results: f"{run.README_START}\nnew\n{run.README_END}")
    assert run.update_readme(readme, {})
    assert readme.read_text(encoding="utf-8") == f"before\n{run.README_START}\nnew\n{run.README_END}\nafter\n"
    readme.write_text("no markers\n", encoding="utf-8")
    assert not run.update_readme(readme, {})
