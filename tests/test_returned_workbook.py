"""Returning a plan adds HQ's comments and loses nothing the unit made.

The unit's workbook is decorated in LibreOffice through its own API (tests/lo_decorate.py:
a text box, a rectangle, a picture, a chart and the unit's own comment), submitted, and
returned with comments. The returned workbook is compared with the submitted one member
by member, opened in LibreOffice (tests/lo_read.py reads what it shows: sheets, cells,
links, notes, shapes), and read by `xlplan check`. A second return replaces the first
one's review sheet and notes.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from plans import clean_annual_plan, make
from test_keep_user_content import HERE, SYSTEM_PYTHON, lo, members, needs_uno
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.hq import merge, review
from xlplan.hq.store import Store
from xlplan.workbook import recalculation as recalc
from xlplan.workbook import writeback, writefile
from xlplan.workbook.read import read_fast

UNIT = "北区营业部"
SCHEDULE, BUDGET, REVIEW = "计划进度", "推动计划及预算", "审核意见"
runner = CliRunner()


def shown_by_libreoffice(path: Path) -> dict:
    done = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo_read.py"), str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def slipped(folder: Path) -> Path:
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130  # regions add up to 880, not 900: REGIONS_NOT_MONTH at 计划进度 › C14
    return make(folder, "north", data)


def returned(store: Store, path: Path, out: Path, note: str, *comments: str) -> Path:
    """Submit `path` (a new version), return it with `comments`, write the returned workbook."""
    merge.merge([path], store, workers=0)
    sub = review.find(store, UNIT)
    event = review.return_(store, sub, "张经理", note, [review.parse_comment(c) for c in comments])
    return review.returned_workbook(store, sub, event, out)


def edited_parts(path: Path, *sheets: str) -> set[str]:
    """What a return may change: the book's sheet list, its relationships and content types, the
    styles (the review sheet's fonts), and of each commented sheet its XML, relationships, comments
    and VML drawing."""
    with zipfile.ZipFile(path) as zf:
        package = writefile.Package(zf, path.name)
        parts = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml", "xl/styles.xml"}
        for title in sheets:
            part = package.sheet_part[title]
            parts |= {part, package.rels_path(part)}
            parts |= {target for kind, target in package.rels_of(part).values()
                      if kind.endswith(("/comments", "/vmlDrawing"))}
        parts |= selected_sheets(zf)  # the review sheet opens alone: the unit's selected tab is let go
    return parts


def selected_sheets(zf: zipfile.ZipFile) -> set[str]:
    """The sheet parts whose tab is selected (LibreOffice writes tabSelected="true", Excel "1")."""
    return {n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
            and writefile.TAB_SELECTED.search(zf.read(n))}


@needs_uno
def test_a_returned_plan_keeps_what_the_unit_made_and_libreoffice_shows_the_comments(tmp_path):
    decorated = lo(slipped(tmp_path), tmp_path / "in" / "north.xlsx")
    before = members(decorated)
    assert any(n.startswith("xl/media/") for n in before) and any(n.startswith("xl/charts/") for n in before)
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    first = returned(store, decorated, tmp_path / "returned" / "north.xlsx", "请改正后再交",
                     f"{SCHEDULE}!C14: 区域合计与月度目标不符", f"{SCHEDULE}!A1: 标题请写全称",
                     f"{BUDGET}!M6: 金额请核对")
    after = members(first)
    assert set(before) <= set(after)
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= edited_parts(decorated, SCHEDULE, BUDGET), changed - edited_parts(decorated, SCHEDULE, BUDGET)
    for prefix in ("xl/drawings/drawing", "xl/drawings/_rels", "xl/media/", "xl/charts/", "docProps/",
                   "xl/sharedStrings.xml", "xl/theme/", "xl/calcChain.xml"):
        assert all(before[n] == after[n] for n in before if n.startswith(prefix)), prefix
    other_sheets = {n for n in before if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)} - edited_parts(
        decorated, SCHEDULE, BUDGET)
    assert other_sheets and all(before[n] == after[n] for n in other_sheets)
    with zipfile.ZipFile(decorated) as zf:
        assert selected_sheets(zf)  # LibreOffice saved the unit's sheet selected
    with zipfile.ZipFile(first) as zf:  # one selected tab, the review's: Excel would group two and type into both
        assert len(selected_sheets(zf)) == 1

    lo_before, lo_after = shown_by_libreoffice(decorated), shown_by_libreoffice(first)
    assert lo_after["sheets"] == [REVIEW] + lo_before["sheets"] and lo_after["active"] == REVIEW
    rows = lo_after["cells"][REVIEW]
    assert rows[0][0] == f"总部审核意见 · {UNIT} · 版本 1" and rows[2][:2] == ["总体意见", "请改正后再交"]
    assert [r[:3] for r in rows[5:]] == [[SCHEDULE, "C14", "区域合计与月度目标不符"], [SCHEDULE, "A1", "标题请写全称"],
                                         [BUDGET, "M6", "金额请核对"]]
    links = lo_after["links"][REVIEW]
    for row, (sheet, cell) in zip((6, 7, 8), ((SCHEDULE, "C14"), (SCHEDULE, "A1"), (BUDGET, "M6"))):
        assert re.fullmatch(rf"#'{sheet}'[.!]{cell}", links[f"B{row}"]), links
    # the unit's own comment stays as it was; HQ's comment on that cell is on the review sheet only
    assert lo_after["notes"][SCHEDULE]["A1"] == lo_before["notes"][SCHEDULE]["A1"]
    assert lo_after["notes"][SCHEDULE]["C14"][1] == "总部审核意见 (张经理): 区域合计与月度目标不符"
    assert lo_after["notes"][BUDGET] == {"M6": ["", "总部审核意见 (张经理): 金额请核对"]}

    def drawn(shown, sheet):  # what is on a sheet's drawing page besides the notes' callouts
        return [s for s in shown["shapes"][sheet] if not s.endswith("CaptionShape")]

    assert drawn(lo_after, SCHEDULE) == drawn(lo_before, SCHEDULE)
    assert {"com.sun.star.drawing.GraphicObjectShape", "com.sun.star.drawing.OLE2Shape"} <= set(
        drawn(lo_after, SCHEDULE))
    checked = runner.invoke(app, ["check", str(first)])
    assert checked.exit_code == 1 and "计划进度 › C14" in checked.stdout and "REGIONS_NOT_MONTH" in checked.stdout
    assert "Traceback" not in checked.output

    # the unit sends the returned workbook back unchanged; HQ returns it again with other comments
    again = tmp_path / "in" / "north-v2.xlsx"
    again.write_bytes(first.read_bytes())
    second = returned(store, again, tmp_path / "returned" / "north-v2.xlsx", "", f"{SCHEDULE}!C13: 一月请复核")
    assert set(before) <= set(members(second))
    shown = shown_by_libreoffice(second)
    assert shown["sheets"].count(REVIEW) == 1 and shown["sheets"][0] == REVIEW and shown["active"] == REVIEW
    assert shown["cells"][REVIEW][0][0] == f"总部审核意见 · {UNIT} · 版本 2"
    assert [r[:3] for r in shown["cells"][REVIEW][5:]] == [[SCHEDULE, "C13", "一月请复核"]]
    assert shown["notes"][SCHEDULE] == {"A1": lo_before["notes"][SCHEDULE]["A1"],
                                        "C13": ["", "总部审核意见 (张经理): 一月请复核"]}
    assert shown["notes"][BUDGET] == {}
    assert drawn(shown, SCHEDULE) == drawn(lo_before, SCHEDULE)
    store.close()


def test_a_return_replaces_xlplan_s_mark_note_and_the_unit_s_recalc_keeps_hq_s(tmp_path):
    """A cell marked by the unit's recalc gets HQ's note in place of xlplan's; recalculating the
    returned workbook keeps HQ's note, the review sheet and the mark's colour."""
    path = slipped(tmp_path)
    recalc.recalc_file(path)  # the unit pressed Recalculate: C14 marked, with xlplan's note
    before = members(path)
    assert "REGIONS_NOT_MONTH" in openpyxl.load_workbook(path)[SCHEDULE]["C14"].comment.text
    titles = {ws.title: (ws.print_title_rows, ws.print_title_cols) for ws in openpyxl.load_workbook(path)}
    assert titles[SCHEDULE][1] == "$A:$B" and any(rows for rows, _ in titles.values())
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    out = returned(store, path, tmp_path / "returned" / "north.xlsx", "", f"{SCHEDULE}!C14: 区域合计不符")
    assert set(before) <= set(members(out))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == REVIEW and wb.active.title == REVIEW
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [REVIEW]
    assert wb[SCHEDULE]["C14"].comment.text == "总部审核意见 (张经理): 区域合计不符"
    assert wb[REVIEW]["B6"].hyperlink.location == f"'{SCHEDULE}'!C14"
    # names local to a sheet still point at their sheet after the review sheet went first
    assert {ws.title: (ws.print_title_rows, ws.print_title_cols) for ws in wb if ws.title != REVIEW} == titles

    recalc.recalc_file(out)  # the unit recalculates the returned workbook
    wb = openpyxl.load_workbook(out)
    assert wb[SCHEDULE]["C14"].comment.text == "总部审核意见 (张经理): 区域合计不符"
    assert [str(cf.sqref) for cf in wb[SCHEDULE].conditional_formatting
            if any(writeback.MARK_TEXT in (r.formula or [""])[0] for r in cf.rules)] == ["C14"]
    assert wb.sheetnames.count(REVIEW) == 1 and wb[REVIEW]["C6"].value == "区域合计不符"
    store.close()


def test_a_second_return_of_the_same_workbook_adds_no_second_sheet_or_note(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    path = slipped(tmp_path)
    first = returned(store, path, tmp_path / "r1" / "north.xlsx", "第一次", f"{SCHEDULE}!C14: 一",
                     f"{SCHEDULE}!C14: 二", f"{BUDGET}!M6: 三")
    wb = openpyxl.load_workbook(first)
    assert wb[SCHEDULE]["C14"].comment.text == "总部审核意见 (张经理): 一\n二"  # one note per cell
    once = members(first)
    second = returned(store, first, tmp_path / "r2" / "north.xlsx", "第二次", f"{BUDGET}!M7: 四")
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames.count(REVIEW) == 1
    assert [[c.value for c in row] for row in wb[REVIEW].iter_rows(min_row=6, max_col=3)] == [
        [BUDGET, "M7", "四"]]
    assert wb[REVIEW]["B3"].value == "第二次"
    notes = {(ws.title, c.coordinate): c.comment.text for ws in wb.worksheets for row in ws.iter_rows()
             for c in row if c.comment}
    assert notes == {(BUDGET, "M7"): "总部审核意见 (张经理): 四"}
    # the first return's sheet part is reused: no new worksheet part, nothing left over
    assert {n for n in members(second) if n.startswith("xl/worksheets/sheet")} == {
        n for n in once if n.startswith("xl/worksheets/sheet")}
    store.close()


@pytest.mark.parametrize("lang, title", [("zh-Hant", "審核意見"), ("en", "Review")])
def test_the_review_sheet_speaks_the_plan_s_language(tmp_path, lang, title):
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130
    path = make(tmp_path, "north", data, lang=lang)
    slip = read_fast(path).cell("region_plan", 2, 0)
    out = returned(store, path, tmp_path / "r" / "north.xlsx", "", f"{slip.sheet}!{slip.address}: x")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == title
    assert wb[title]["B6"].hyperlink.location == f"'{slip.sheet}'!{slip.address}"
    assert wb[slip.sheet][slip.address].comment.text.endswith("): x")
    store.close()


def test_a_strict_open_xml_workbook_is_returned_in_strict(tmp_path):
    """Every relationship a return adds (the review sheet, a sheet's notes and their drawing) speaks
    the workbook's own dialect: Strict Open XML's namespaces in a Strict file."""
    source = HERE / "cases" / "strict_open_xml.xlsx"
    event = {"actor": "张经理", "at": dt.datetime(2027, 1, 5, 9, 0), "note": "请改",
             "comments": json.dumps([{"sheet": SCHEDULE, "cell": "C10", "text": "一月偏高"}], ensure_ascii=False)}
    out = writefile.write_edited(source.read_bytes(), source.name,
                                 review.review_edits({"unit": UNIT, "version": 1}, event, "zh-Hans"),
                                 tmp_path / source.name)
    before, after = members(source), members(out)
    assert set(before) <= set(after)
    added = set(after) - set(before)
    assert {n for n in added if n.startswith("xl/worksheets/sheet")} and {n for n in added if "comments" in n}
    strict = "http://purl.oclc.org/ooxml/officeDocument/relationships"
    transitional = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    for name in after:
        if name.endswith(".rels") or name == "xl/workbook.xml":
            assert transitional not in after[name], name  # not one transitional relationship in a Strict file
    assert f'Type="{strict}/worksheet"'.encode() in after["xl/_rels/workbook.xml.rels"]
    assert any(f'Type="{strict}/comments"'.encode() in data for name, data in after.items() if name.endswith(".rels"))
    checked = runner.invoke(app, ["check", str(out)])
    assert checked.exit_code == 0 and "0 errors" in checked.stdout, checked.output
