"""`xlplan demo` runs HQ's whole cycle; this checks what it leaves behind, not what it prints.

Every unit's plan shows exactly the slips the story plants (its own, and the ones its sample
carries on purpose), each at the block it concerns; a unit scaled from the sample adds up as
the sample does, so nothing else appears.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from xlplan import demo
from xlplan.command import Printer
from xlplan.hq import consolidate, review
from xlplan.hq.store import Store


SAMPLES = Path(__file__).resolve().parent.parent / "workbooks" / "samples"
# what each sample carries on purpose: a market whose capacity misses its target (东县 1,560 against
# 1,600); a person with orders but no inquiries; two effects missed and a milestone late
SAMPLE_FINDINGS = {
    "annual_plan": [("warning", "CAPACITY_BELOW_TARGET", "markets.capacity")],
    "kpi_scorecard": [("warning", "INQUIRIES_ZERO", "staff.inquiries")],
    "support_plan": [("warning", "EFFECT_MISSED", "actions.effect_gap")] * 2
    + [("warning", "MILESTONE_LATE", "actions.milestone_done")],
}
# the story's slips: the north keeps the sample's stated 6,400; the east raises March and not its year
SLIPS = {"北区营业部": [("error", "STATED_NOT_COMPUTED", "actions.stated")],
         "东区营业部": [("error", "MONTHS_NOT_YEAR", "target_month_y")]}
TEMPLATE_OF = {"北区营业部": "annual_plan", "南区营业部": "annual_plan", "东区营业部": "annual_plan",
               "客服一组": "kpi_scorecard", "客服二组": "kpi_scorecard", "客服部": "support_plan"}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    results = demo.run(folder, Printer())
    return folder, results


def findings_of(report: Path) -> Counter:
    found = json.loads(report.read_text(encoding="utf-8"))["findings"]
    return Counter((f["severity"], f["code"], f["block"]) for f in found)


def test_every_unit_shows_exactly_the_planted_slips(ran):
    tmp_path, results = ran
    assert sorted(r.plan.unit for r in results) == sorted(TEMPLATE_OF)
    for unit, template_id in TEMPLATE_OF.items():
        planted = Counter(SAMPLE_FINDINGS[template_id] + SLIPS.get(unit, []))
        assert findings_of(tmp_path / "inbox" / f"{unit}.json") == planted, unit
    for unit in SLIPS:  # the version sent again after the fix: the slip gone, nothing new
        assert findings_of(tmp_path / "inbox" / f"{unit}-v2.json") == Counter(SAMPLE_FINDINGS[TEMPLATE_OF[unit]])


def test_the_east_plans_more_for_march_than_for_its_year(ran):
    """The east is 1.2 times the sample: its year is the sample's months × 1.2, its months that and March's raise."""
    tmp_path, _ = ran
    sample = json.loads((SAMPLES / "annual_plan.json").read_text(encoding="utf-8"))
    factor = dict(demo.UNITS["annual_plan"])["东区营业部"]
    (slip,) = [f for f in json.loads((tmp_path / "inbox" / "东区营业部.json").read_text(encoding="utf-8"))["findings"]
               if f["code"] == "MONTHS_NOT_YEAR"]
    year = sum(sample["target_month"]) * factor
    assert slip["expected"] == pytest.approx(year)
    assert slip["actual"] == pytest.approx(year + demo.RAISED_MARCH)


def test_the_demo_runs_the_whole_cycle(ran):
    tmp_path, _ = ran
    with Store(f"sqlite:///{tmp_path / 'hq' / 'hq.db'}") as hq:
        north = [s for s in hq.submissions() if s["unit"] == demo.RETURNED_UNIT]
        assert [s["version"] for s in north] == [1, 2]
        assert [e["state"] for e in hq.review_events(north[0]["id"])] == ["received", "checked", "returned"]
        assert [e["state"] for e in hq.review_events(north[1]["id"])] == ["received", "checked", "approved"]
        assert review.last_decision(hq, north[0]["id"])["comments"]  # comments on cells
        approved = {s["unit"] for s in hq.latest_approved()}
        assert approved == {u for units in demo.UNITS.values() for u, _ in units}
        assert {r["period"] for r in hq.actual_rows()} == {"2027-01", "2027-02", "2027-03"}
        pa = next(t for t in consolidate.tables(hq) if t.view.kind == "plan_actual")
        assert [r[2] is not None for r in pa.rows] == [True] * 3 + [False] * 9
        assert pa.rows[0][3] == sum(r[2] for r in pa.rows[:1]) / pa.rows[0][1]
    wb = openpyxl.load_workbook(tmp_path / "hq" / "consolidated.xlsx")
    assert {"计划与实绩", "预期效果", "考核排名", "全年考核"} <= set(wb.sheetnames)
    returned = openpyxl.load_workbook(tmp_path / "returned" / f"{demo.RETURNED_UNIT}.xlsx")
    assert returned.sheetnames[0] == "审核意见"
    assert "西区营业部" in (tmp_path / "hq" / "status.html").read_text(encoding="utf-8")  # never sent
