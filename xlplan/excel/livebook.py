"""The one write-back (workbook/writeback.py) applied to a book open in Excel.

`writeback.edits(result, shown)` says what a recalculation changes; `writefile.apply`
applies that list to an .xlsx, and `apply(book, source, edits)` here applies the same
list to a live book, through xlwings' Book API:

- the remote book of an Office.js client (xlwings' server side): each edit becomes
  actions the client (static/xlplan.js) applies — `setValues` for values, formulas, the
  Checks rows and the metadata row, xlwings' own actions for the Checks sheet's colours
  and links, and one `xlplanMarks` action for every mark, which the client applies in a
  fixed number of round trips;
- a book in Excel desktop through COM (desktop.py, the classic add-in): the same
  edits as xlwings calls, the marks through the COM object model.

A row whose text needs more room (`FitRow`) is grown by xlwings' `Range.row_height`
(the client's `setRowHeight`: Office.js `format.rowHeight`), to the height the rule of
`FitRow.grown` gives in the book's own row heights and column widths (an Office.js client
sends them with the book JSON; a desktop book is asked); an Office.js client that sent
none (before ExcelApi 1.9) keeps its rows.

Marks are found as `writefile` finds them in a file: every conditional-format rule whose
formula holds `writeback.MARK_TEXT` and every note that starts with `writeback.NOTE_PREFIX`
(or whose author is `writeback.NOTE_AUTHOR`) is xlplan's, wherever it sits; the cells
recorded last time (`Unmark`) also lose marks of older versions (formula `=TRUE`). A
note of someone else's stays, and its cell gets no note of xlplan's.

One difference from the file: a book whose Checks sheet was deleted gets a new one (in
a file the findings go to the report instead), since in Excel the sheet is the only
place the clerk reads them.
"""
from __future__ import annotations

import math
import sys
from functools import partial

from ..template import paper
from ..template.layout import META_SHEET, WRAPPED_CHECK_COLUMNS
from ..template.xlfuncs import XlErr
from ..workbook import writeback as wbk
from ..workbook.ooxml import column_letters, row_col
from .bookjson import BookJsonSource

DESKTOP_COM = sys.platform == "win32"  # Excel for Mac through AppleScript has no FormatConditions
LEGACY_MARK = "=TRUE"  # the formula of marks made before writeback.MARK_FORMULA
XL_EXPRESSION = 2  # Excel's XlFormatConditionType.xlExpression


def cell_value(value):
    """What to write into a cell for an engine value."""
    if isinstance(value, XlErr):
        return value.code
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def is_remote(book) -> bool:
    return hasattr(book.impl, "append_json_action")


def apply(book, source: BookJsonSource, edits: list) -> int:
    """Apply `edits` to `book`; returns how many cells got a value or a formula."""
    cells: dict[str, dict[tuple[int, int], object]] = {}
    for e in edits:
        if isinstance(e, wbk.CachedValue) and e.sheet in source.sheet_names():
            cells.setdefault(e.sheet, {})[row_col(e.address)] = cell_value(e.value)
        elif isinstance(e, wbk.RestoreFormula) and e.sheet in source.sheet_names():
            cells.setdefault(e.sheet, {})[row_col(e.address)] = e.formula  # Excel reads "=..." as a formula
    written = write_cells(book, cells)
    grow_rows(book, source, [e for e in edits if isinstance(e, wbk.FitRow) and e.sheet in source.sheet_names()])
    for e in edits:
        if isinstance(e, wbk.ChecksRows):
            fill_checks(book, source, e)
        elif isinstance(e, wbk.SetMeta) and META_SHEET in source.sheet_names():
            row = meta_row(source, e.key)
            book.sheets[META_SHEET].range(f"A{row}").value = [[e.key, e.value]]
    if any(isinstance(e, wbk.SetMeta) and e.key == wbk.MARKS_KEY for e in edits):
        unmarks = [e for e in edits if isinstance(e, wbk.Unmark) and e.sheet in source.sheet_names()]
        marks = [e for e in edits if isinstance(e, wbk.Mark) and e.sheet in source.sheet_names()]
        (mark_remote if is_remote(book) else mark_desktop)(book, source, unmarks, marks)
    return written


# -- values ---------------------------------------------------------------------------------
def write_cells(book, cells: dict[str, dict[tuple[int, int], object]]) -> int:
    """Write the cells, one write per horizontal run of adjacent cells."""
    count = 0
    for sheet, found in cells.items():
        ws = book.sheets[sheet]
        run: list = []
        for (r, c) in sorted(found):
            if run and (r, c) != (run[0][0], run[-1][1] + 1):
                _write_run(book, ws, run, found)
                run = []
            run.append((r, c))
        if run:
            _write_run(book, ws, run, found)
        count += len(found)
    return count


def _write_run(book, ws, run, found):
    r, c = run[0]
    values = [[found[pos] for pos in run]]
    if is_remote(book):
        # the setValues action `Range.value = ...` makes, without building a Range per run
        # (xlwings' remote Range costs ~1 ms each; a plan has hundreds)
        book.impl.append_json_action(func="setValues", args=[None], values=values,
                                     sheet_position=_position(book, ws.name), start_row=r - 1,
                                     start_column=c - 1, row_count=1, column_count=len(run))
    else:
        ws.range((r, c), (r, c + len(run) - 1)).value = values


def grow_rows(book, source: BookJsonSource, rows: list[wbk.FitRow]) -> None:
    """Rows whose text needs more room than they have, grown (never lowered, hidden ones left).
    An Office.js book says its sizes in the book JSON; a desktop book is asked for the rows and
    columns concerned only (a call through COM each)."""
    widths: dict[tuple[str, int], float] = {}

    def desktop_width(sheet: str, c: int) -> float:
        if (sheet, c) not in widths:
            widths[sheet, c] = paper.width_of_points(book.sheets[sheet].range((1, c)).width)
        return widths[sheet, c]

    remote = is_remote(book)
    for e in rows:
        ws = book.sheets[e.sheet]
        if remote:
            height = e.grown(source.row_height(e.sheet, e.row), partial(source.column_width, e.sheet))
        else:
            height = e.grown(ws.range(f"A{e.row}").row_height, partial(desktop_width, e.sheet))
        if height is not None:
            ws.range(f"A{e.row}").row_height = height


def _position(book, sheet: str) -> int:
    return next(i for i, s in enumerate(book.api["sheets"]) if s["name"] == sheet)


def meta_row(source: BookJsonSource, key: str) -> int:
    """The `_xlplan` row holding `key`, or the first row after the last one used."""
    grid = source.grid(META_SHEET) if META_SHEET in source.sheet_names() else []
    last = 0
    for r, row in enumerate(grid, start=1):
        if row and row[0] == key:
            return r
        if any(v not in (None, "") for v in row):
            last = r
    return last + 1


# -- the Checks sheet ---------------------------------------------------------------------------
def fill_checks(book, source: BookJsonSource, edit: wbk.ChecksRows) -> None:
    width = len(edit.columns)
    last_column = column_letters(width)
    first = edit.first_row
    if edit.sheet not in source.sheet_names():
        book.sheets.add(edit.sheet, after=book.sheets[-1])
        used = 0
    else:
        used = len(source.grid(edit.sheet))
    ws = book.sheets[edit.sheet]
    last = max(used, first + len(edit.rows) - 1)
    if last >= first:
        ws.range(f"A{first}:{last_column}{last}").clear()
    ws.range(f"A{first}").value = [list(row.values) for row in edit.rows]
    size_checks(ws, edit, last)
    start = 0
    rows = edit.rows
    sev = column_letters(edit.columns.index("severity") + 1)
    for i in range(1, len(rows) + 1):  # one fill per run of the same severity
        if i == len(rows) or rows[i].severity != rows[start].severity:
            severity = rows[start].severity
            if severity:
                ws.range(f"{sev}{first + start}:{sev}{first + i - 1}").color = "#" + wbk.COLOURS[severity]
            start = i
    link_column = column_letters(edit.columns.index("cell") + 1)
    for i, row in enumerate(rows):
        if row.link:
            text = row.values[edit.columns.index("cell")]
            tip = f"{row.values[edit.columns.index('code')]}: {row.values[edit.columns.index('message')]}"[:250]
            ws.range(f"{link_column}{first + i}").add_hyperlink(f"#{row.link}", text, tip)


def size_checks(ws, edit: wbk.ChecksRows, last: int) -> None:
    """The Checks rows as the file writer draws them: the message and cell columns wrapped, each
    row as high as its longest text (CheckRow.height); the rows an earlier run left below them
    one line high again (in a file they are removed)."""
    first, end = edit.first_row, edit.first_row + len(edit.rows) - 1
    for k, name in enumerate(edit.columns, start=1):
        if name in WRAPPED_CHECK_COLUMNS:
            letter = column_letters(k)
            ws.range(f"{letter}{first}:{letter}{end}").wrap_text = True
    for i, row in enumerate(edit.rows):
        if row.height:
            ws.range(f"A{first + i}").row_height = row.height
    if last > end:
        ws.range(f"A{end + 1}:A{last}").row_height = paper.row_height(1)


# -- marks: Office.js ---------------------------------------------------------------------------
def mark_remote(book, source, unmarks, marks) -> None:
    """One action for every mark: the client sweeps xlplan's marks off every sheet and adds this run's."""
    book.impl.append_json_action(func="xlplanMarks", args=[{
        "mark_text": wbk.MARK_TEXT,
        "formula": "=" + wbk.MARK_FORMULA,
        "legacy_formula": LEGACY_MARK,
        "note_prefix": wbk.NOTE_PREFIX.strip(),
        "note_author": wbk.NOTE_AUTHOR,
        "sheets": [s for s in source.sheet_names() if s != META_SHEET],
        "unmark": [[u.sheet, u.address] for u in unmarks],
        "mark": [{"sheet": m.sheet, "address": m.address, "colour": "#" + m.colour, "note": m.note}
                 for m in marks],
    }])


# -- marks: Excel desktop through COM ---------------------------------------------------------------
def _is_mark_rule(rule, legacy: bool) -> bool:
    if rule.Type != XL_EXPRESSION:
        return False
    formula = rule.Formula1 or ""
    return wbk.is_mark_formula(formula) or (legacy and formula.replace(" ", "").upper() == LEGACY_MARK)


def mark_desktop(book, source, unmarks, marks) -> None:
    if not DESKTOP_COM:
        return  # Excel for Mac through AppleScript: no conditional formats; the Checks sheet lists them
    legacy = {(u.sheet, u.address) for u in unmarks}
    for title in source.sheet_names():
        if title == META_SHEET:
            continue
        sheet = book.sheets[title].api
        rules = sheet.Cells.FormatConditions
        for i in range(rules.Count, 0, -1):
            rule = rules.Item(i)
            if _is_mark_rule(rule, legacy=False):
                rule.Delete()
        for comment in list(sheet.Comments):
            if wbk.is_mark_note(comment.Text(), comment.Author):
                comment.Delete()
    for sheet, address in legacy:
        rules = book.sheets[sheet].range(address).api.FormatConditions
        for i in range(rules.Count, 0, -1):
            if _is_mark_rule(rules.Item(i), legacy=True):
                rules.Item(i).Delete()
    for m in marks:
        rng = book.sheets[m.sheet].range(m.address).api
        rule = rng.FormatConditions.Add(Type=XL_EXPRESSION, Formula1="=" + wbk.MARK_FORMULA)
        red, green, blue = (int(m.colour[i:i + 2], 16) for i in (0, 2, 4))
        rule.Interior.Color = red + green * 256 + blue * 65536
        if rng.Comment is None:  # a cell holds one note; someone else's stays
            rng.AddComment(m.note)
