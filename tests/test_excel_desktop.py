"""The desktop add-in's Recalculate, on a fake of the xlwings objects it uses.

A parity test through xlwings' COM API needs Excel for Windows; here the desktop module
runs against tests/fake_xlwings.py, which refuses what Excel refuses (writes into locked
cells of protected sheets, a second note on a cell, protecting a protected sheet) and
reads error cells as xlwings does. The plans are those the JavaScript tests open
(tests/js/serve.py): slips, a deleted Checks sheet, a Total Row, marks and notes from an
earlier `xlplan recalc`, error cells. Each must end as `xlplan recalc` leaves the file.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "js"))

import fake_xlwings  # noqa: E402
import serve  # noqa: E402  (tests/js/serve.py: the plans and what xlplan recalc makes of them)

from xlplan.excel import desktop, livebook  # noqa: E402
from xlplan.template import paper  # noqa: E402
from xlplan.template.layout import CHECK_COLUMNS  # noqa: E402
from xlplan.workbook import writeback  # noqa: E402

CASES = ["slips", "clean_en", "no_checks", "total_row", "marked", "errors", "many_slips", "long_action"]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    return serve.cases(tmp_path_factory.mktemp("desktop"))


@pytest.fixture(autouse=True)
def windows(monkeypatch):
    monkeypatch.setattr(livebook, "DESKTOP_COM", True)  # conditional formats and notes through COM


def same(shown, expected) -> bool:
    if shown in ("", None) and expected in ("", None):
        return True
    if isinstance(shown, (int, float)) and isinstance(expected, (int, float)):
        return math.isclose(shown, expected, rel_tol=1e-9, abs_tol=0)
    return shown == expected


def heights(book, checks_title) -> dict:
    return {(s.name, r): s.row_height(r) for s in book.sheets if s.name != checks_title
            for r in range(1, s.used_range.area[2] + 1)}


def assert_like_file_recalc(book, expected, heights_before=None):
    if heights_before is not None:  # the rows xlplan recalc grows, grown to the same height; no other row
        grown = {(sheet, r): h for sheet, r, h in expected["grown"]}
        now = heights(book, expected["checks_title"])
        assert {k: h for k, h in now.items() if k in heights_before and h != heights_before[k]} == grown
    compared = 0
    for sheet, cells in expected["computed"].items():
        values = book.sheets[sheet].values
        for address, value in cells.items():
            shown = values.get(fake_xlwings.cell_of(address), "")
            assert same(shown, value), f"{sheet}!{address}: desktop {shown!r}, xlplan recalc {value!r}"
            compared += 1
    assert compared > 100
    grid = book.sheets[expected["checks_title"]].grid()
    n = len(CHECK_COLUMNS)
    rows = [[(row + [""] * n)[i] for i in range(n)] for row in grid[4:]]
    assert [r for r in rows if any(v != "" for v in r)] == [r for r in expected["checks"] if any(v != "" for v in r)]
    checks = book.sheets[expected["checks_title"]]  # wrapped and as high as in the file
    assert [checks.row_height(5 + i) for i in range(len(expected["checks_heights"]))] == expected["checks_heights"]
    assert all(checks.range(f"A{5 + i}").wrap_text for i in range(len(expected["checks_heights"])))
    assert book.marks() == sorted(expected["marks"])


@pytest.mark.parametrize("name", CASES)
def test_desktop_recalculate_leaves_the_book_as_xlplan_recalc_leaves_the_file(plans, name):
    case = plans[name]
    book = fake_xlwings.Book(case["book"])
    protected = book.protected()
    options = {s.name: dict(s.options) for s in book.sheets}
    assert len(protected) >= 6
    before = heights(book, case["expected"]["checks_title"])
    desktop.recalculate(book)
    assert book.protected() == protected, "the sheets' protection was not restored"
    assert {s.name: s.options for s in book.sheets if s.name in options} == options
    assert_like_file_recalc(book, case["expected"], before)
    notes = book.notes()
    for sheet, address in case["expected"]["marks"]:
        author, text = notes[f"{sheet}!{address}"]
        assert text.startswith(writeback.NOTE_PREFIX) or author == "王经理", (sheet, address, text)
    assert "个错误" in book.app.alerts[-1][1] or "errors" in book.app.alerts[-1][1]


def test_a_fixed_finding_loses_its_note_and_the_clerk_s_note_stays(plans):
    case = plans["marked"]
    book = fake_xlwings.Book(case["book"])
    before = book.notes()
    own = {cell: note for cell, note in before.items() if note[0] != "xlplan"}
    assert len(own) == 1
    desktop.recalculate(book)
    after = book.notes()
    marked = {f"{s}!{a}" for s, a in case["expected"]["marks"]}
    assert {cell: after[cell] for cell in own} == own
    assert set(after) == marked | set(own), "a note of a fixed finding stayed, or a marked cell has none"


def test_a_second_run_changes_nothing_and_adds_no_second_note(plans):
    book = fake_xlwings.Book(plans["slips"]["book"])
    desktop.recalculate(book)
    notes, grids = book.notes(), [s.grid() for s in book.sheets]
    desktop.recalculate(book)
    assert book.notes() == notes
    assert [s.grid() for s in book.sheets] == grids
    assert "已更新 0 个计算格" in book.app.alerts[-1][1]


def test_a_write_excel_refuses_still_leaves_every_sheet_protected(plans, monkeypatch):
    book = fake_xlwings.Book(plans["slips"]["book"])
    protected = book.protected()

    def refused(*args):
        raise fake_xlwings.ComError("Excel refused the write")

    monkeypatch.setattr(livebook, "mark_desktop", refused)
    with pytest.raises(fake_xlwings.ComError):
        desktop.recalculate(book)
    assert book.protected() == protected


def test_error_cells_read_as_the_office_add_in_reads_them(plans):
    book = fake_xlwings.Book(plans["errors"]["book"])
    data = desktop.book_json_of(book)
    shown = {v for s in data["sheets"] for row in s["values"] for v in row if isinstance(v, str) and v.startswith("#")}
    assert {"#DIV/0!", "#REF!"} <= shown


def test_off_windows_the_desktop_add_in_says_so_instead_of_failing_on_a_write(plans, monkeypatch):
    monkeypatch.setattr(livebook, "DESKTOP_COM", False)
    book = fake_xlwings.Book(plans["slips"]["book"])
    with pytest.raises(desktop.AddinError, match="Windows"):
        desktop.recalculate(book)
    assert book.protected() == sorted(s["name"] for s in plans["slips"]["book"]["sheets"] if s["protected"])


def test_a_long_action_name_grows_its_rows_as_xlplan_recalc_grows_them(plans):
    """The calendar copies a name typed long after the plan was issued: the desktop add-in grows
    that row (and the typed one) to the height `xlplan recalc` writes into the file."""
    case = plans["long_action"]
    assert {sheet for sheet, _, _ in case["expected"]["grown"]} >= {"行事历"}
    book = fake_xlwings.Book(case["book"])
    before = heights(book, case["expected"]["checks_title"])
    desktop.recalculate(book)
    assert_like_file_recalc(book, case["expected"], before)
    for sheet, row, points in case["expected"]["grown"]:
        assert book.sheets[sheet].row_height(row) == points > before[(sheet, row)]


def test_a_name_longer_than_the_highest_row_gets_the_highest_row_as_in_the_file(plans):
    """Excel refuses a row higher than 409 pt (the fake too): the rows grow to 409, as in the file."""
    case = plans["very_long_action"]
    assert {points for _, _, points in case["expected"]["grown"]} == {paper.MAX_ROW_PT}
    book = fake_xlwings.Book(case["book"])
    before = heights(book, case["expected"]["checks_title"])
    desktop.recalculate(book)
    assert_like_file_recalc(book, case["expected"], before)


def test_a_long_name_in_a_hidden_column_grows_no_row_of_its_own(plans):
    """The clerk hid the column of the names (Excel answers 0 for its width): the row where the
    long name was typed keeps its height, the calendar's copy grows, as in the file."""
    case = plans["hidden_column"]
    assert [sheet for sheet, _, _ in case["expected"]["grown"]] == ["行事历"]
    book = fake_xlwings.Book(case["book"])
    before = heights(book, case["expected"]["checks_title"])
    desktop.recalculate(book)
    assert_like_file_recalc(book, case["expected"], before)


def test_a_row_the_clerk_made_higher_or_hid_stays_as_it_is(plans):
    case = plans["long_action"]
    spec = json.loads(json.dumps(case["book"]))
    (tall_sheet, tall_row, points), = [g for g in case["expected"]["grown"] if g[0] == "行事历"]
    (typed_sheet, typed_row, _), = [g for g in case["expected"]["grown"] if g[0] != "行事历"]
    for sheet in spec["sheets"]:
        if sheet["name"] == tall_sheet:
            sheet["rowHeights"][str(tall_row)] = points + 40
        if sheet["name"] == typed_sheet:
            sheet["hiddenRows"].append(typed_row)
    book = fake_xlwings.Book(spec)
    desktop.recalculate(book)
    assert book.sheets[tall_sheet].row_height(tall_row) == points + 40
    assert book.sheets[typed_sheet].row_height(typed_row) == 0  # still hidden


def test_protected_rows_refuse_a_height_as_excel_does(plans):
    """The fake refuses a row height on a protected sheet that does not allow formatting rows:
    the add-in's writes pass only because it lifts the protection while it writes."""
    book = fake_xlwings.Book(plans["long_action"]["book"])
    sheet = book.sheets["行事历"]
    sheet.options["AllowFormattingRows"] = False
    with pytest.raises(fake_xlwings.ComError):
        sheet.range("A6").row_height = 60
    desktop.recalculate(book)
    assert sheet.row_height(6) > 60 and sheet.protected and not sheet.options["AllowFormattingRows"]


def test_checks_rows_an_earlier_run_made_high_are_one_line_again_when_emptied(plans):
    """A longer list of findings from an earlier run (tall rows) is replaced by this run's: its
    rows are as high as their text, the emptied ones one line high (a file loses them)."""
    from xlplan.template import paper

    case = plans["slips"]
    spec = json.loads(json.dumps(case["book"]))
    checks = next(s for s in spec["sheets"] if s["name"] == case["expected"]["checks_title"])
    width = max(len(row) for row in checks["values"])
    checks["values"] = checks["values"][:4] + [["an earlier finding"] + [""] * (width - 1) for _ in range(30)]
    checks["rowHeights"].update({str(r): 80 for r in range(5, 35)})
    book = fake_xlwings.Book(spec)
    desktop.recalculate(book)
    n = len(case["expected"]["checks_heights"])
    ws = book.sheets[checks["name"]]
    assert [ws.row_height(r) for r in range(5, 5 + n)] == case["expected"]["checks_heights"]
    assert {ws.row_height(r) for r in range(5 + n, 35)} == {paper.row_height(1)}
    assert not any(ws.values.get((r, 1)) for r in range(5 + n, 35))
