"""Recalculating writes into the user's workbook without damaging anything they made."""
from __future__ import annotations

import openpyxl
import python_calamine
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from plans import clean_annual_plan, make

from xlplan.workbook import recalculation as recalc

SCHEDULE = "计划进度"


def user_touches(path):
    """What a clerk does to a workbook between two recalculations."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SCHEDULE]
    ws["C10"].comment = Comment("一月含开门红", "王经理")
    ws.conditional_formatting.add("C20:N20", CellIsRule(operator="lessThan", formula=["2400"],
                                                        fill=PatternFill("solid", fgColor="FFFF00")))
    ws.column_dimensions["A"].width = 41
    ws.page_margins.top = 1.3
    ws.oddHeader.center.text = "北区 2027"
    notes = wb.create_sheet("我的笔记")
    notes["A1"] = "与总部确认的事项"
    notes["B2"] = "=计划进度!C20*2"
    dv = DataValidation(type="list", formula1='"是,否"')
    notes.add_data_validation(dv)
    dv.add("C2:C9")
    wb.save(path)


def test_recalc_keeps_what_the_user_made(tmp_path):
    path = make(tmp_path, "touched", clean_annual_plan())
    user_touches(path)
    recalc.recalc_file(path)
    recalc.recalc_file(path)  # twice: nothing piles up
    wb = openpyxl.load_workbook(path)
    ws = wb[SCHEDULE]
    assert ws["C10"].comment.text == "一月含开门红" and ws["C10"].comment.author == "王经理"
    assert [str(r.sqref) for r in ws.conditional_formatting if str(r.sqref) == "C20:N20"] == ["C20:N20"]
    assert ws.column_dimensions["A"].width == 41
    assert ws.page_margins.top == 1.3
    assert ws.oddHeader.center.text == "北区 2027"
    assert wb["我的笔记"]["A1"].value == "与总部确认的事项"
    assert wb["我的笔记"]["B2"].value == "=计划进度!C20*2"
    assert [str(dv.sqref) for dv in wb["我的笔记"].data_validations.dataValidation] == ["C2:C9"]
    # the template's own validations and the live formulas are still there
    assert ws["C20"].value == "=$C$6+$C$18-$C$19"
    assert any("C10:N10" in str(dv.sqref) for dv in ws.data_validations.dataValidation)
    assert ws.protection.sheet


def test_recalc_stores_values_any_reader_sees(tmp_path):
    """After recalc the formulas carry the engine's numbers as their cached results."""
    path = make(tmp_path, "values", clean_annual_plan())
    result = recalc.recalc_file(path)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name(SCHEDULE).to_python()
    headcount = rows[19][2:14]  # row 20, C..N
    assert headcount == result.value("headcount")[0]
    assert rows[20][2] == 3750  # productivity, January
    assert openpyxl.load_workbook(path, data_only=True)[SCHEDULE]["C20"].value == 2400


def test_checks_sheet_lists_and_links_every_finding(tmp_path):
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    data["actions"][0]["stated"] = 6400
    path = make(tmp_path, "two_slips", data)
    result = recalc.recalc_file(path)
    ws = openpyxl.load_workbook(path)["检查"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_col=4)]
    assert len(rows) == len(result.findings) == 2
    # the message first, the cell (a link), the severity as a word, the code last
    assert rows[0] == ["各区域合计 880，月度目标 900（少 20）", "计划进度 › C14", "错误", "REGIONS_NOT_MONTH"]
    assert ws["B5"].hyperlink.location == "'计划进度'!C14"
    assert ws["B6"].hyperlink.location == "'推动计划及预算'!AD6"


def test_marks_follow_the_findings(tmp_path):
    """A cell with a finding is marked; once fixed and recalculated, the mark is gone."""
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    path = make(tmp_path, "marked", data)
    recalc.recalc_file(path)
    ws = openpyxl.load_workbook(path)[SCHEDULE]
    assert "REGIONS_NOT_MONTH" in ws["C14"].comment.text
    assert any(str(cf.sqref) == "C14" for cf in ws.conditional_formatting)

    wb = openpyxl.load_workbook(path)
    wb[SCHEDULE]["C13"] = 150
    wb.save(path)
    result = recalc.recalc_file(path)
    assert result.findings == []
    ws = openpyxl.load_workbook(path)[SCHEDULE]
    assert ws["C14"].comment is None
    assert not any(str(cf.sqref) == "C14" for cf in ws.conditional_formatting)
    assert openpyxl.load_workbook(path)["检查"]["A5"].value == "没有发现问题。"
