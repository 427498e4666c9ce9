"""The engine reads a filled plan, computes it and points at every slip, cell by cell.

Each defect test builds a workbook named after the slip it carries, from the clean
plan in plans.py with one figure changed, and asserts the exact finding.
"""
from __future__ import annotations

import json

import openpyxl
import pytest
from plans import clean_annual_plan, make

from xlplan.workbook import read
from xlplan.workbook import recalculation as recalc


def findings_of(path):
    return recalc.check_file(path).findings


def only(findings, code):
    found = [f for f in findings if f.code == code]
    assert found, f"no {code} among {[str(f) for f in findings]}"
    return found


def test_clean_plan_has_no_errors_or_warnings(tmp_path):
    path = make(tmp_path, "clean", clean_annual_plan())
    assert [str(f) for f in findings_of(path)] == []


def test_worked_example_january(tmp_path):
    """Closing headcount 2,410, January +120 −130: 2,400 people; 9,000,000 ÷ 2,400 rounded up = 3,750."""
    result = recalc.check_file(make(tmp_path, "worked_example", clean_annual_plan()))
    assert result.value("headcount")[0][0] == 2400
    assert result.value("productivity")[0][0] == 3750
    assert result.value("region_total")[0][0] == 900


def test_worked_example_flags_stated_6400(tmp_path):
    data = clean_annual_plan()
    data["actions"][0]["stated"] = 6400
    [f] = only(findings_of(make(tmp_path, "budget_stated_amount_wrong", data)), "STATED_NOT_COMPUTED")
    assert (f.severity, f.cell.sheet, f.cell.address) == ("error", "推动计划及预算", "AD6")
    assert f.message == "填报 6,400，但 200 × 80 × 4 = 64,000（少 57,600）"


def test_budget_line_20000_times_4_is_not_8000(tmp_path):
    data = clean_annual_plan()
    data["actions"][1]["stated"] = 8000
    [f] = only(findings_of(make(tmp_path, "budget_line_20000_times_4", data)), "STATED_NOT_COMPUTED")
    assert f.cell.address == "AD7"
    assert f.message == "填报 8,000，但 1 × 20,000 × 4 = 80,000（少 72,000）"


def test_region_rows_short_of_month(tmp_path):
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130  # C region in January: 500 + 250 + 130 = 880
    [f] = only(findings_of(make(tmp_path, "region_rows_short_of_month", data)), "REGIONS_NOT_MONTH")
    assert (f.severity, f.cell.sheet, f.cell.address) == ("error", "计划进度", "C14")
    assert f.message == "各区域合计 880，月度目标 900（少 20）"
    assert (f.expected, f.actual) == (900, 880)


def test_segment_headcount_over_platform(tmp_path):
    data = clean_annual_plan()
    data["seg_headcount"] = [500, 800, 1200]
    [f] = only(findings_of(make(tmp_path, "segment_headcount_over_platform", data)), "SEGMENTS_NOT_PLATFORM")
    assert (f.cell.sheet, f.cell.address) == ("目标达成分析", "C12")
    assert f.message == "按绩效分层：人力合计 2,500，平台人力 2,400（多 100）"


def test_months_short_of_year(tmp_path):
    data = clean_annual_plan()
    data["target_month"][11] = 700
    data["region_plan"] = [[v if k != 11 else v * 700 / 750 for k, v in enumerate(row)] for row in data["region_plan"]]
    [f] = only(findings_of(make(tmp_path, "months_short_of_year", data)), "MONTHS_NOT_YEAR")
    assert f.cell.address == "S10"
    assert f.message == "十二个月合计 7,950，年度目标 8,000（少 50）"


def test_target_not_base_times_growth(tmp_path):
    data = clean_annual_plan()
    data["growth"][0] = 0.05
    [f] = only(findings_of(make(tmp_path, "target_not_base_times_growth", data)), "TARGET_NOT_GROWTH")
    assert (f.severity, f.cell.sheet, f.cell.address) == ("warning", "目标", "E9")
    assert f.message == "目标 8,000，去年×(1+成长率) = 7,560（多 440）"


def test_market_capacity_below_target(tmp_path):
    data = clean_annual_plan()
    data["markets"][1]["headcount"] = 100
    [f] = only(findings_of(make(tmp_path, "market_capacity_below_target", data)), "CAPACITY_BELOW_TARGET")
    assert (f.severity, f.cell.sheet, f.cell.address) == ("warning", "市场规划", "H7")
    assert f.message == "产能 312 低于目标 3,000（少 2,688）"


def test_share_over_100_percent(tmp_path):
    data = clean_annual_plan()
    data["expert_share"][3] = 1.2
    [f] = only(findings_of(make(tmp_path, "share_over_100_percent", data)), "SHARE_RANGE")
    assert (f.cell.sheet, f.cell.address) == ("计划进度", "F22")
    assert "120.0%" in f.message


def test_zero_headcount_is_a_finding_not_a_crash(tmp_path):
    data = clean_annual_plan()
    data["opening_headcount"] = 0
    data["recruits"] = [0] * 12
    data["attrition"] = [0] * 12
    result = recalc.check_file(make(tmp_path, "headcount_zero", data))
    zero = only(result.findings, "HEADCOUNT_ZERO")
    assert len(zero) == 12 and zero[0].cell.address == "C20"
    assert result.value("productivity")[0] == [""] * 12


def test_text_where_a_number_belongs(tmp_path):
    data = clean_annual_plan()
    data["target_month"][1] = "12萬"
    [f] = only(findings_of(make(tmp_path, "month_target_typed_as_text", data)), "TEXT_NOT_NUMBER")
    assert (f.cell.sheet, f.cell.address) == ("计划进度", "D10")
    assert f.message == "“月度目标”应填数字，这里是文字“12萬”，无法计算"


def test_missing_required_input(tmp_path):
    data = clean_annual_plan()
    del data["plan_owner"]
    [f] = only(findings_of(make(tmp_path, "owner_missing", data)), "MISSING_INPUT")
    assert (f.cell.sheet, f.cell.address) == ("封面", "C7")


def test_budget_in_no_month(tmp_path):
    """A budget whose action has no month ticked is in no month's budget: flagged at its row."""
    data = clean_annual_plan()
    for m in (1, 2, 3, 4):
        del data["actions"][0][f"in_{m}"]
    result = recalc.check_file(make(tmp_path, "budget_in_no_month", data))
    [f] = only(result.findings, "BUDGET_WITHOUT_MONTHS")
    assert (f.severity, f.cell.sheet, f.cell.address) == ("error", "推动计划及预算", "R6")
    assert f.message == "预算 64,000，但没有勾选执行月份：不在每月预算中"
    assert result.value("budget_unscheduled") == 64000


def test_budget_spread_over_the_months_ticked(tmp_path):
    """February, April, August and November: a quarter of the budget in each, nothing between."""
    data = clean_annual_plan()
    for m in (1, 2, 3, 4):
        del data["actions"][0][f"in_{m}"]
    data["actions"][0].update(in_2="●", in_4="●", in_8="●", in_11="●")
    result = recalc.check_file(make(tmp_path, "budget_in_named_months", data))
    assert [row for row in result.value("budget_month")][0][:12] == [
        0, 16000, 80000, 16000, 0, 0, 0, 16000, 0, 0, 16000, 0]
    assert not result.findings


def test_cost_items_of_an_action(tmp_path):
    """Board 300 people × 80 yuan × 4 days and venue 1,000 yuan × 4 under one action: the
    action's amount is its line and its items; a stated amount is checked against the sum."""
    data = clean_annual_plan()
    data["actions"][1].update(item=None, quantity=None, unit_cost=None, times=None, stated=100000)
    data["actions"][1] = {k: v for k, v in data["actions"][1].items() if v is not None}
    data["costs"] = [{"action": "创说会", "item": "食宿", "quantity": 300, "unit_cost": 80, "days": 4},
                     {"action": "创说会", "item": "场地", "unit_cost": 1000, "times": 4},
                     {"action": "创说会 ", "item": "讲义", "quantity": 300, "unit_cost": 5}]
    result = recalc.check_file(make(tmp_path, "cost_items", data))
    assert result.value("actions.amount")[1] == 100000
    assert result.value("costs.amount")[:3] == [96000, 4000, 1500]
    [f] = only(result.findings, "COST_WITHOUT_ACTION")
    assert (f.cell.sheet, f.cell.address) == ("推动计划及预算", "H41")
    assert f.message == "费用明细的行动“创说会 ”不在推动计划中：金额 1,500 未计入任何行动"
    data["actions"][1]["stated"] = 10000
    [f] = only(findings_of(make(tmp_path, "cost_items_stated_wrong", data)), "ITEMS_NOT_STATED")
    assert f.message == "填报 10,000，但本行 0 加费用明细 100,000 = 100,000（少 90,000）"


def test_an_earlier_version_still_reads(tmp_path):
    """A workbook made with annual_plan 1.0 is read and checked as 1.0, with a warning naming 2.0."""
    from xlplan.template import generate, spec
    data = clean_annual_plan()
    for row in data["actions"]:
        months = [m for m in range(1, 13) if row.pop(f"in_{m}", None)]
        row.update(start=min(months), end=max(months))
    data["target"], data["base"], data["growth"] = data["target"][:6], data["base"][:6], data["growth"][:6]
    cycle = generate.Cycle(unit="北区营业部", year=2027, lang="zh")
    template = spec.load("annual_plan", cycle.template_params(), version="1.0")
    assert template.version == "1.0"
    data["actions"][0]["stated"] = 6400
    result = recalc.check_file(generate.write(template, cycle, tmp_path / "made_with_1_0.xlsx", data))
    assert [(f.code, f.cell.address) for f in result.findings] == [
        ("STATED_NOT_COMPUTED", "M6"), ("TEMPLATE_OLDER", "B2")]
    assert "2.0" in result.findings[1].message and result.findings[1].severity == "warning"


def test_old_template_version(tmp_path):
    path = make(tmp_path, "old_template_version", clean_annual_plan())
    wb = openpyxl.load_workbook(path)
    wb["_xlplan"]["B2"] = "0.9"
    wb.save(path)
    [f] = only(findings_of(path), "TEMPLATE_VERSION")
    assert f.severity == "error" and "0.9" in f.message


def test_every_finding_of_a_run_is_reported(tmp_path):
    """Several slips in one workbook: one run reports all of them."""
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    data["actions"][0]["stated"] = 6400
    data["seg_headcount"] = [500, 800, 1200]
    codes = {f.code for f in findings_of(make(tmp_path, "three_slips", data))}
    assert {"REGIONS_NOT_MONTH", "STATED_NOT_COMPUTED", "SEGMENTS_NOT_PLATFORM"} <= codes


def test_english_messages(tmp_path):
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    data["strategies"] = ["Recruiting", "Training"]
    data["markets"][0]["category"] = "Key"
    data["markets"][1]["category"] = "Developing"
    for row in data["actions"]:
        row["strategy"] = {"增员": "Recruiting", "培训": "Training"}[row["strategy"]]
    [f] = only(findings_of(make(tmp_path, "region_rows_short_of_month_en", data, lang="en")), "REGIONS_NOT_MONTH")
    assert f.cell.sheet == "Monthly schedule"
    assert f.message == "regions add up to 880 but the month's target is 900 (20 too little)"


def test_both_readers_give_the_same_plan(tmp_path):
    path = make(tmp_path, "clean", clean_annual_plan())
    fast = read.read_fast(path)
    slow = read.read_openpyxl(openpyxl.load_workbook(path), path.name)
    assert fast.values == slow.values
    assert fast.tables == slow.tables
    assert fast.areas == slow.areas


def test_recalc_json_report(tmp_path):
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    path = make(tmp_path, "report", data)
    recalc.recalc_file(path, tmp_path / "out.xlsx", tmp_path / "report.json")
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (report["template"], report["version"], report["unit"], report["period"]) == \
        ("annual_plan", "2.0", "北区营业部", "2027")
    assert report["values"]["headcount"][0][:2] == [2400, 2420]
    assert report["values"]["actions.amount"][:2] == [64000, 80000]
    [f] = [f for f in report["findings"] if f["code"] == "REGIONS_NOT_MONTH"]
    assert (f["sheet"], f["cell"], f["severity"]) == ("计划进度", "C14", "error")


@pytest.mark.parametrize("typed, unit_block, read_as", [
    ("1,000", "recruits", 1000),
    ("１２０", "recruits", 120),
    (" 2 400 ", "recruits", 2400),
    ("30%", "expert_share", 0.3),
])
def test_numbers_typed_as_text_are_read_and_flagged(tmp_path, typed, unit_block, read_as):
    """Unambiguous numbers typed as text count, with a warning asking to retype them."""
    data = clean_annual_plan()
    data[unit_block][1] = typed
    result = recalc.check_file(make(tmp_path, "number_typed_as_text", data))
    [f] = only(result.findings, "TEXT_READ_AS_NUMBER")
    address = "D18" if unit_block == "recruits" else "D22"
    assert (f.severity, f.cell.address, f.expected) == ("warning", address, read_as)
    assert result.value(unit_block)[0][1] == read_as
    assert not [x for x in result.findings if x.code == "TEXT_NOT_NUMBER"]


@pytest.mark.parametrize("typed", ["12萬", "3千", "10-12", "5%"])
def test_ambiguous_text_is_refused(tmp_path, typed):
    """"12萬" could be 12 (万元) or 120,000 (yuan); "5%" is no headcount: refused, never guessed."""
    data = clean_annual_plan()
    data["recruits"][1] = typed
    result = recalc.check_file(make(tmp_path, "ambiguous_number", data))
    [f] = only(result.findings, "TEXT_NOT_NUMBER")
    assert (f.severity, f.cell.address, f.actual) == ("error", "D18", typed)


def test_an_overflowed_number_is_found_in_a_grid_and_in_a_table_column(tmp_path):
    """check_finite passes over a block whose floats sum to a finite number, and looks at the cells
    one by one otherwise: an infinity or NaN is reported at its first cell, a sum that overflows
    from finite numbers is not."""
    from xlplan.workbook import checks

    result = recalc.check_file(make(tmp_path, "clean", clean_annual_plan()))
    plan, values, tables = result.plan, result.values, result.tables
    assert checks.check_finite(plan, values, tables) == []
    values["productivity"][0][2] = float("inf")
    values["productivity"][0][3] = float("nan")
    tables["actions.amount"][1] = float("nan")
    found = checks.check_finite(plan, values, tables)
    assert [(f.code, f.block, f.cell.address) for f in found] == [
        ("NUMBER_OVERFLOW", "productivity", plan.cell("productivity", 1, 3).address),
        ("NUMBER_OVERFLOW", "actions.amount", plan.cell("actions.amount", 2, 1).address)]
    values["productivity"][0][2] = values["productivity"][0][3] = 1.5e308  # finite, their sum is not
    tables["actions.amount"][1] = 1.0
    assert checks.check_finite(plan, values, tables) == []
