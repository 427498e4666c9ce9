"""The support department's plan: every expected effect is a target, tracked month by month."""
from __future__ import annotations

import json
from pathlib import Path

from plans import make

from xlplan.workbook import recalculation as recalc

SAMPLE = Path(__file__).resolve().parent.parent / "workbooks" / "samples" / "support_plan.json"


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def test_latest_actual_decides_whether_an_effect_is_met(tmp_path):
    result = recalc.check_file(make(tmp_path, "support", sample(), template_id="support_plan", unit="客服部"))
    assert result.value("actions.effect_latest")[:5] == [0.993, 0.84, 0.31, 0.98, 2.9]
    assert result.value("actions.effect_status")[:5] == ["达成", "未达成", "达成", "未达成", "达成"]
    assert result.value("effects_met") == 4 and result.value("effects_missed") == 3


def test_milestones_are_done_open_to_be_decided_or_late(tmp_path):
    """A milestone is met when done, to be decided without a due month, late after its due month."""
    result = recalc.check_file(make(tmp_path, "support_milestones", sample(), template_id="support_plan",
                                    unit="客服部"))
    assert result.value("actions.effect_status")[5:8] == ["达成", "待定", "未达成"]
    assert result.value("actions.milestone_late")[5:8] == ["", "", 1]
    [late] = [f for f in result.findings if f.code == "MILESTONE_LATE"]
    assert (late.severity, late.cell.sheet, late.cell.address) == ("warning", "推动计划及预算", "X13")
    assert late.message == "里程碑“合作协议签订”预定 2 月完成，到 3 月仍未完成"
    data = sample()
    data["actions"][7]["milestone_done"] = "已完成"
    result = recalc.check_file(make(tmp_path, "support_milestone_done", data, template_id="support_plan",
                                    unit="客服部"))
    assert result.value("actions.effect_status")[7] == "达成"
    assert not [f for f in result.findings if f.code == "MILESTONE_LATE"]


def test_a_missed_effect_is_a_warning_at_its_row(tmp_path):
    result = recalc.check_file(make(tmp_path, "effect_missed", sample(), template_id="support_plan", unit="客服部"))
    missed = [f for f in result.findings if f.code == "EFFECT_MISSED"]
    assert [(f.severity, f.cell.sheet, f.cell.address) for f in missed] == [
        ("warning", "推动计划及预算", "AL7"), ("warning", "推动计划及预算", "AL9")]
    assert missed[0].message == "“自动转账率”最新实绩 0.84，目标 0.85：未达成"
    assert not result.errors


def test_lower_is_better_effects(tmp_path):
    """Claims handled in 3.2 days against a target of 3: missed, since fewer days are better."""
    data = sample()
    data["actions"][4]["actual_3"] = 3.2
    result = recalc.check_file(make(tmp_path, "claims_days_missed", data, template_id="support_plan", unit="客服部"))
    assert result.value("actions.effect_status")[4] == "未达成"
    assert abs(result.value("actions.effect_gap")[4] - (-0.2)) < 1e-9


def test_budget_lines_are_checked_as_in_the_annual_plan(tmp_path):
    data = sample()
    data["actions"][1]["stated"] = 1000  # 500 × 20 × 1 = 10,000
    result = recalc.check_file(make(tmp_path, "support_budget_stated_wrong", data, template_id="support_plan",
                                    unit="客服部"))
    [f] = [f for f in result.findings if f.code == "STATED_NOT_COMPUTED"]
    assert f.message == "填报 1,000，但 500 × 20 × 1 = 10,000（少 9,000）"
