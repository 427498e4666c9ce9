"""The desktop add-in's Recalculate, on a fake of the xlwings objects it uses.

A parity test through xlwings' COM API needs Excel for Windows; here the desktop module
runs against tests/fake_xlwings.py, which refuses what Excel refuses (writes into locked
cells of protected sheets, a second note on a cell, protecting a protected sheet) and
reads error cells as xlwings does. The plans are those the JavaScript tests open
(tests/js/serve.py): slips, a deleted Checks sheet, a Total Row, marks and notes from an
earlier `xlplan recalc`, error cells. Each must end as `xlplan recalc` leaves the file.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "js"))

import fake_xlwings  # noqa: E402
import serve  # noqa: E402  (tests/js/serve.py: the plans and what xlplan recalc makes of them)

from xlplan.excel import desktop, livebook  # noqa: E402
from xlplan.template.layout import CHECK_COLUMNS  # noqa: E402
from xlplan.workbook import writeback  # noqa: E402

CASES = ["slips", "clean_en", "no_checks", "total_row", "marked", "errors", "many_slips"]


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


def assert_like_file_recalc(book, expected):
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
    assert book.marks() == sorted(expected["marks"])


@pytest.mark.parametrize("name", CASES)
def test_desktop_recalculate_leaves_the_book_as_xlplan_recalc_leaves_the_file(plans, name):
    case = plans[name]
    book = fake_xlwings.Book(case["book"])
    protected = book.protected()
    options = {s.name: dict(s.options) for s in book.sheets}
    assert len(protected) >= 6
    desktop.recalculate(book)
    assert book.protected() == protected, "the sheets' protection was not restored"
    assert {s.name: s.options for s in book.sheets if s.name in options} == options
    assert_like_file_recalc(book, case["expected"])
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
