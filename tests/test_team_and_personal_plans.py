"""The handbook's team-management part: the improvement plan and a person's own work plan.

The samples (workbooks/samples/handbook/team_plan.json, personal_plan.json, Traditional Chinese)
each carry what a month of tracking shows and one slip; the check list holds exactly that.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlplan.template import generate, spec
from xlplan.workbook import recalculation as recalc

SAMPLES = Path(__file__).resolve().parent.parent / "workbooks" / "samples" / "handbook"


def made(tmp_path: Path, template_id: str, unit: str, change=None) -> recalc.Result:
    sample = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
    assert sample["lang"] == "zh-Hant" and sample["unit"] == unit
    data = sample["data"]
    params = data.pop("params", {})
    if change:
        change(data)
    cycle = generate.Cycle(unit=unit, year=2027, lang="zh-Hant", params=params)
    template = spec.load(template_id, cycle.template_params())
    return recalc.check_file(generate.write(template, cycle, tmp_path / f"{unit}.xlsx", data))


def where(result) -> set[tuple[str, str, str]]:
    return {(f.code, f.cell.sheet, f.cell.address) for f in result.findings}


def planted(template_id: str) -> list[str]:
    """The codes the sample lists as planted, each with why (in the file)."""
    sample = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
    assert all(p["why"] for p in sample["planted"])
    return sorted(p["code"] for p in sample["planted"])


def test_team_plan_tracks_measures_and_milestones(tmp_path):
    result = made(tmp_path, "team_plan", "北區一組")
    assert result.value("actions.effect_status")[:5] == ["未達成", "達成", "未達成", "待定", ""]
    assert (result.value("effects_met"), result.value("effects_missed"), result.value("effects_tbd")) == (1, 2, 1)
    assert where(result) == {
        ("EFFECT_MISSED", "改善計劃", "AM6"),  # drop-out 27 % in March against 25 %, lower is better
        ("MILESTONE_LATE", "改善計劃", "Y8"),  # the activity log was due in February
        ("ACTION_WITHOUT_MONTHS", "改善計劃", "R10"),  # planted: no month ticked, not marked open
    }
    [late] = [f for f in result.findings if f.code == "MILESTONE_LATE"]
    assert late.message == "查核點「活動量日誌上線」預定 2 月完成，到 3 月仍未完成"
    assert sorted(f.code for f in result.findings) == planted("team_plan")
    [missed] = [f for f in result.findings if f.code == "EFFECT_MISSED"]  # a share, measured in %
    assert missed.message == "「新人三個月脫落率」最新實績 27.0%，目標 25.0%：未達成"


def test_team_plan_calendar_shows_the_months_of_each_action(tmp_path):
    result = made(tmp_path, "team_plan", "北區一組")
    assert [result.value(f"cal_{m}")[2][0] for m in range(1, 5)] == ["", "●", "●", ""]
    assert result.value("cal_tbd")[3][0] == "待定"
    assert result.value("cal_strategy")[0][0] == "新人三個月脫落率高"


def test_personal_plan_monthly_targets_and_goals(tmp_path):
    result = made(tmp_path, "personal_plan", "王小明")
    assert result.value("team") == "北區一組"  # the team the plan rolls up to at HQ
    assert result.value("personal_achievement")[0][:3] == [1.05, 0.95, 1]  # March: the 1,000,000 set, done
    # the recruits (4 of 6 by March) are a goal for the year, due in December: in progress, no gap
    assert result.value("actions.effect_status")[:4] == ["進行中", "進行中", "未達成", "達成"]
    assert result.value("actions.effect_gap")[:2] == ["", ""]
    assert result.value("actions.effect_gap")[2] == pytest.approx(-0.1)
    assert where(result) == {
        ("EFFECT_MISSED", "工作目標", "X8"),  # the group's activity, 80 % in March against 90 %, judged monthly
        ("MONTHS_NOT_YEAR", "月度目標", "S9"),  # planted: the months add up to 12,100,000
    }
    assert sorted(f.code for f in result.findings) == planted("personal_plan")

    def months_add_up(data):
        data["personal_target"][11] = 1200000
    assert ("MONTHS_NOT_YEAR", "月度目標", "S9") not in where(made(tmp_path, "personal_plan", "王小明", months_add_up))
