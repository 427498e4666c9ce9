"""The handbook's whole plan: a sample in its shape, every table filled, only the planted slips found.

workbooks/samples/handbook/annual_plan.json is an annual plan written as the handbook
writes one (invented figures, Traditional Chinese): vision and guiding principles, the
situation with a weighted SWOT, eight key figures, the tier analysis with its evidence
and the urban/rural analysis, markets with their strategies, the monthly schedule, the
team growth sheet, actions that run in named months with four-factor cost lines, cost
items and staffing. It carries eight slips of the kind hand-written plans contain, each
listed in the file with why it is one; `xlplan check` must report exactly those, each at
its cell, and nothing else. workbooks/samples/handbook/support_plan.json does the same for the
customer-service department's plan: measures and milestones tracked to March, an action whose
timing is to be decided, named months, four-factor lines, cost items, staffing; six slips.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.template import generate, spec
from xlplan.template.layout import Layout
from xlplan.workbook import recalculation as recalc

HANDBOOK = Path(__file__).resolve().parent.parent / "workbooks" / "samples" / "handbook"
SAMPLE = HANDBOOK / "annual_plan.json"

PLANTED = {  # (code, sheet, cell): where each slip of the sample is found
    ("SWOT_WEIGHTS_NOT_100", "環境分析", "E32"),  # the weaknesses' weights: 50 % + 40 %
    ("EVIDENCE_SHARES_NOT_100", "目標達成分析", "I25"),  # past shares of headcount: 98 %
    ("MARKETS_NOT_TARGET", "市場規劃", "C18"),  # markets 10,110 against the annual 10,000
    ("REGIONS_NOT_MONTH", "計劃進度", "E14"),  # March: 450 + 270 + 170 = 890, not 900
    ("STATED_NOT_COMPUTED", "業務推動計劃及預算", "AD7"),  # 20,000 × 4 stated as 8,000
    ("ITEMS_NOT_STATED", "業務推動計劃及預算", "AD8"),  # board 96,000 + venue 4,000 stated as 96,000
    ("BUDGET_WITHOUT_MONTHS", "業務推動計劃及預算", "R11"),  # a budget and no month ticked
    ("COST_WITHOUT_ACTION", "業務推動計劃及預算", "H41"),  # a cost item under a misspelt action
}


def sample(template_id: str = "annual_plan") -> dict:
    return json.loads((HANDBOOK / f"{template_id}.json").read_text(encoding="utf-8"))


def write(folder: Path, data: dict | None = None, name: str = "北區營業部.xlsx") -> Path:
    s = sample()
    cycle = generate.Cycle(unit=s["unit"], year=2027, lang=s["lang"])
    template = spec.load("annual_plan", cycle.template_params())
    return generate.write(template, cycle, folder / name, s["data"] if data is None else data)


def test_check_reports_exactly_the_planted_slips_each_at_its_cell(tmp_path):
    path = write(tmp_path)
    result = CliRunner().invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1, result.stdout  # errors among them
    report = json.loads(result.stdout)
    found = {(f["code"], f["sheet"], f["cell"]) for f in report["findings"]}
    assert found == PLANTED
    assert len(report["findings"]) == len(PLANTED)
    assert sorted(code for code, _, _ in PLANTED) == sorted(p["code"] for p in sample()["planted"])


@pytest.mark.parametrize("template_id", ["annual_plan", "support_plan"])
def test_every_table_of_the_plan_is_filled(template_id):
    """Each section of the plan that takes input has input in the sample (or HQ's default
    choice the workbook comes with, such as which target the markets explain)."""
    s = sample(template_id)
    data = s["data"]
    template = spec.load(template_id, {"lang": s["lang"]})
    empty = []
    for sheet in template.sheets:
        for section in sheet.sections:
            inputs = [b.name for b in section.blocks if b.role == "input"]
            if not inputs:
                continue
            if section.table:
                filled = bool(data.get(section.table))
            else:
                filled = any(name in data or template.blocks[name].default is not None for name in inputs)
            if not filled:
                empty.append(f"{sheet.id} › {section.title.get('en')}")
    assert not empty, empty


def test_each_analysis_is_compared_with_the_target_it_explains(tmp_path):
    """The tier analysis explains total premium (14,400 萬) and adds up to it: no finding. Said to
    explain standard premium (10,000 萬) it is 4,401.8 萬 off and flagged."""
    result = recalc.check_file(write(tmp_path))
    assert result.value("seg_target") == 14400 and result.value("area_target") == 10000
    assert abs(result.value("seg_premium_total") - 14401.8) < 1e-6
    data = sample()["data"]
    data["seg_explains"] = "標準保費"
    [f] = [f for f in recalc.check_file(write(tmp_path, data, "explains_standard.xlsx")).findings
           if f.code == "SEGMENTS_NOT_TARGET"]
    assert f.message == "按績效分層：保費合計 14,401.8，標準保費目標 10,000（多 4,401.8）"


def test_budget_by_month_follows_the_months_ticked(tmp_path):
    """Training in February, April, August and November: 8,000 in each of those months only;
    the cost items are in the action's amount and in its months (March and September)."""
    result = recalc.check_file(write(tmp_path))
    training = [result.value(f"actions.spread_{m}")[0] for m in range(1, 13)]
    assert training == [0, 8000, 0, 8000, 0, 0, 0, 8000, 0, 0, 8000, 0]
    assert result.value("actions.amount")[2] == 100000
    assert [result.value(f"actions.spread_{m}")[2] for m in (3, 9)] == [50000, 50000]
    assert result.value("staffing_total") == 9
    # the workshop fitted out in no month and the thank-you dinner whose timing is open
    assert result.value("budget_unscheduled") == 80000 + 90000


# the support plan's slips: (code, block, row) — the row of the table (or the SWOT quadrant) it is in
SUPPORT_PLANTED = [
    ("SWOT_WEIGHTS_NOT_100", "swot_weight", 3),  # opportunities: 60 % + 30 %
    ("STATED_NOT_COMPUTED", "actions.stated", 2),  # the training: 30 × 200 × 2 × 4 stated as 4,800
    ("ITEMS_NOT_STATED", "actions.stated", 8),  # the VIP dinners: only the board stated, not the venue
    ("EFFECT_WITHOUT_TARGET", "actions.effect_target", 10),  # satisfaction tracked with no target
    ("BUDGET_WITHOUT_MONTHS", "actions.months_run", 11),  # the service hall's refit: no month, not open
    ("COST_WITHOUT_ACTION", "costs.matched", 3),  # a cost item under the action's name with a space
]


def write_support(folder: Path, data: dict | None = None) -> Path:
    s = sample("support_plan")
    cycle = generate.Cycle(unit=s["unit"], year=2027, lang=s["lang"])
    template = spec.load("support_plan", cycle.template_params())
    return generate.write(template, cycle, folder / "客戶服務部.xlsx", s["data"] if data is None else data)


def test_support_plan_check_reports_exactly_the_planted_slips_each_at_its_cell(tmp_path):
    s = sample("support_plan")
    result = CliRunner().invoke(app, ["check", str(write_support(tmp_path)), "--json"])
    assert result.exit_code == 1, result.stdout
    findings = json.loads(result.stdout)["findings"]
    layout = Layout(spec.load("support_plan", {"lang": s["lang"]}), s["lang"])
    expected = {(code, *layout.address(block, row)) for code, block, row in SUPPORT_PLANTED}
    assert {(f["code"], f["sheet"], f["cell"]) for f in findings} == expected
    assert len(findings) == len(SUPPORT_PLANTED)
    assert sorted(code for code, _, _ in SUPPORT_PLANTED) == sorted(p["code"] for p in s["planted"])


def test_support_plan_tracks_measures_milestones_and_open_timing(tmp_path):
    """March's tracking: five measures met, two milestones done, the overall scheme's timing open;
    the training runs in February, April, August and November only; two trainers needed."""
    result = recalc.check_file(write_support(tmp_path))
    status = result.value("actions.effect_status")
    assert status[:9] == ["達成"] * 7 + ["", "待定"]
    assert (result.value("effects_met"), result.value("effects_tbd")) == (7, 1)
    training = [result.value(f"actions.spread_{m}")[1] for m in range(1, 13)]
    assert training == [0, 12000, 0, 12000, 0, 0, 0, 12000, 0, 0, 12000, 0]  # 30 × 200 × 2 × 4 = 48,000
    assert result.value("actions.amount")[7] == 120 * 300 + 5000 * 2  # the dinners' cost items
    assert result.value("staffing_total") == 2
    assert result.value("budget_unscheduled") == 60000  # the refit, in no month
