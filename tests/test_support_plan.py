"""The support department's plan: every expected effect is a target, tracked month by month."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from plans import make

from xlplan import libreoffice, texts
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
    assert (late.severity, late.cell.sheet, late.cell.address) == ("warning", "推动计划及预算", "Y13")
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
        ("warning", "推动计划及预算", "AM7"), ("warning", "推动计划及预算", "AM9")]
    assert missed[0].message == "“自动转账率”最新实绩 84.0%，目标 85.0%：未达成"
    assert not result.errors


def half_a_trainer(data: dict, unit: str = "人/件") -> dict:
    """A staffing effect counted in people: half a trainer more per team, a quarter so far."""
    data["actions"].append({"strategy": "强化理赔服务", "action": "增加组训", "owner": "周专员", "in_3": "●",
                            "effect": "每组新增组训", "effect_kind": "指标", "effect_unit": unit,
                            "effect_target": 0.5, "effect_direction": "越高越好", "actual_3": 0.25})
    return data


def test_each_effect_is_quoted_in_the_unit_its_row_chose(tmp_path):
    """Shares (measured in %) read as percentages; a count of 0.5 people stays 0.5, never 50 %."""
    result = recalc.check_file(make(tmp_path, "effects_measured", half_a_trainer(sample()),
                                    template_id="support_plan", unit="客服部"))
    messages = [f.message for f in result.findings if f.code == "EFFECT_MISSED"]
    assert messages == ["“自动转账率”最新实绩 84.0%，目标 85.0%：未达成",
                        "“投诉时限内回复率”最新实绩 98.0%，目标 100.0%：未达成",
                        "“每组新增组训”最新实绩 0.25，目标 0.5：未达成"]
    data = half_a_trainer(sample(), unit="")  # no unit chosen: a plain number, as the column's unit says
    data["actions"][1]["effect_unit"] = "数值"
    result = recalc.check_file(make(tmp_path, "effects_unmeasured", data, template_id="support_plan", unit="客服部"))
    messages = [f.message for f in result.findings if f.code == "EFFECT_MISSED"]
    assert messages[0] == "“自动转账率”最新实绩 0.84，目标 0.85：未达成"
    assert messages[-1] == "“每组新增组训”最新实绩 0.25，目标 0.5：未达成"


def test_a_share_typed_as_text_is_read_where_its_row_is_measured_in_percent(tmp_path):
    data = half_a_trainer(sample())
    data["actions"][1]["actual_3"] = "84%"
    data["actions"][-1]["actual_3"] = "25%"  # people are not a share: refused
    result = recalc.check_file(make(tmp_path, "effects_typed_as_text", data, template_id="support_plan",
                                    unit="客服部"))
    [read] = [f for f in result.findings if f.code == "TEXT_READ_AS_NUMBER"]
    assert read.cell.address == "AB7" and read.expected == 0.84
    [refused] = [f for f in result.findings if f.code == "TEXT_NOT_NUMBER"]
    assert refused.cell.address == "AB14"


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


@pytest.mark.libreoffice
@pytest.mark.skipif(not shutil.which("pdftotext") and not os.environ.get("CI"),
                    reason="poppler-utils is not installed (CI installs it: scripts/setup.sh)")
def test_the_printed_workbook_shows_each_effect_in_its_rows_unit(tmp_path):
    """Printed by LibreOffice, in every language: the shares' targets, actuals and gaps read as
    percentages on the action sheet and the tracking sheet, the half trainer as 0.5 and 0.25."""
    books = [make(tmp_path, f"support.{lang}", half_a_trainer(sample(), texts.t("measure_count", lang)),
                  lang=lang, template_id="support_plan", unit="客服部") for lang in texts.LANGUAGES]
    libreoffice._convert(books, tmp_path / "pdf", "pdf", libreoffice.TIMEOUT)
    for lang in texts.LANGUAGES:
        printed = subprocess.run(["pdftotext", "-layout", str(tmp_path / "pdf" / f"support.{lang}.pdf"), "-"],
                                 capture_output=True, text=True, check=True).stdout.splitlines()
        callback = " ".join(line for line in printed if "新契约回访" in line)
        trainer = [line for line in printed if "增加组训" in line]
        for shown in ("99.0%", "98.5%", "99.3%", "0.3%"):  # target, January, March (latest), beyond target
            assert shown in callback, (lang, shown, callback)
        assert "0.99" not in callback and "0.993" not in callback
        assert "0.5" in " ".join(trainer) and "0.25" in " ".join(trainer), (lang, trainer)
        assert not [line for line in trainer if "%" in line], (lang, trainer)
