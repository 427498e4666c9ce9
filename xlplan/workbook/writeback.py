"""The one write-back: a recalculated plan → a plain list of edits to its workbook.

`edits(result)` is pure. It says what xlplan changes in a workbook and nothing else:

- `CachedValue`   the engine's result of a formula xlplan wrote (or of a formula typed
                  into an input cell): the formula stays, its cached result changes;
- `RestoreFormula` the template's formula put back where a value or another formula
                  was typed over a computed cell (its finding stays on the Checks sheet);
- `ChecksRows`    the Checks sheet's rows from `first_row` down, one per finding, in the
                  order of `layout.CHECK_COLUMNS`, with a link to the finding's cell;
- `Unmark` / `Mark` the marks of the previous run removed, this run's added: a
                  conditional format whose formula is `MARK_FORMULA` and a note that
                  starts with `NOTE_PREFIX` (author `NOTE_AUTHOR`);
- `SetMeta`       a row of the hidden `_xlplan` sheet (the list of marked cells);
- `FitRow`        a row holding text (typed, or computed by a formula: the calendar and the
                  effect tracking copy action names), grown to the height its wrapped text
                  needs in the book's column widths, never lowered: neither Excel nor
                  LibreOffice grows a row when a formula's text changes, nor a row the
                  generator gave a height of its own when a longer text is typed.

HQ's review of a returned plan (hq/review.py) uses three more, applied the same way:

- `AddSheet`      a sheet of text cells (with links to cells) put first and shown on opening;
                  a sheet of the same title is filled again, not added twice;
- `RemoveNotes`   the notes an earlier return wrote, recognised by how their text starts;
- `Note`          a person's note on a cell, added beside the notes the sheet has; a cell
                  holding someone's own note keeps it (a cell has one note).

Two appliers take the same list: `writefile.apply` edits an .xlsx part by part (every
part xlplan does not own stays byte for byte), and the add-in applies it to a live
book. Marks are recognised by their content, not by where xlplan last put them: an
applier removes every conditional-format rule whose formula contains `MARK_TEXT` and
every note that starts with `NOTE_PREFIX` or is by `NOTE_AUTHOR`, whatever another
spreadsheet program did to their order or ranges; the `Unmark` edits (the cells
recorded in `_xlplan`) also catch marks of older xlplan versions (formula `TRUE`).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Callable, Union

from ..model import Finding
from ..template import paper, styles
from ..template.layout import (
    CHECK_COLUMNS,
    FIRST_CHECK_ROW,
    META_SHEET,
    check_link,
    check_row,
    check_row_height,
    checks_sheet_title,
)
from ..template.xlfuncs import ERROR_CODES, XlErr
from ..texts import t
from . import checks
from .ooxml import row_col
from .plan import Plan

MARKS_KEY = "marks"  # the `_xlplan` row listing the cells marked last time, as JSON [[sheet, address], ...]
MARK_TEXT = "xlplan-mark"
MARK_FORMULA = f'ISTEXT("{MARK_TEXT}")'  # always true, and says whose rule it is in every program
NOTE_PREFIX = "xlplan › "
NOTE_AUTHOR = "xlplan"
HEIGHT_SLACK = 1.0  # points: LibreOffice saves a row's height rounded down (29 → 28.5); not a row to grow
COLOURS = {severity: fill.fgColor.rgb[-6:] for severity, fill in styles.FINDING_FILL.items()}  # "FFC7CE"


@dataclass(frozen=True)
class CachedValue:
    """A formula cell's cached result. Applied only where the cell holds a formula; in a live
    book, which computes its formulas itself, only where it shows something else."""

    sheet: str
    address: str
    value: object  # int | float | str | bool | XlErr | None (blank)


@dataclass(frozen=True)
class RestoreFormula:
    """Put the template's formula (with its result) back into a computed cell typed over."""

    sheet: str
    address: str
    formula: str  # "=..." as Excel shows it
    value: object


@dataclass(frozen=True)
class CheckRow:
    values: tuple[str, ...]  # one text per layout.CHECK_COLUMNS
    severity: str | None  # colours the severity cell; None on the "no findings" row
    link: str | None  # "'sheet'!A1": the cell the "cell" column links to
    height: float | None = None  # points, from the wrapped text (layout.check_row_height)


@dataclass(frozen=True)
class ChecksRows:
    """Replace every row of the Checks sheet from `first_row` down by `rows`."""

    sheet: str
    first_row: int
    columns: tuple[str, ...]
    rows: tuple[CheckRow, ...]


@dataclass(frozen=True)
class Unmark:
    """Remove xlplan's mark (conditional format and note) from a cell marked last time."""

    sheet: str
    address: str


@dataclass(frozen=True)
class Mark:
    """Colour a cell with a finding and give it a note, unless someone else's note is there."""

    sheet: str
    address: str
    severity: str
    colour: str  # "FFC7CE"
    note: str  # starts with NOTE_PREFIX


@dataclass(frozen=True)
class SetMeta:
    key: str
    value: str


@dataclass(frozen=True)
class FitRow:
    """A row showing wrapped text: an applier grows it, where it is lower, to `height(width_of)`
    (the rule of paper.fitted_height, in the book's own column widths). A row is never lowered
    (a height the template or the user set stays) and a hidden row (height 0) stays hidden."""

    sheet: str
    row: int
    texts: tuple[tuple[int, str], ...]  # (column, text) of each text cell of the row that shows text

    def height(self, width_of: Callable[[int], float]) -> float | None:
        """Points the row needs, given each column's width in Excel's unit; None for one line.
        A hidden column (0 wide, as Excel answers for it) shows nothing: its text sizes nothing."""
        widths = ((text, width_of(col)) for col, text in self.texts)
        return paper.fitted_height((text, width) for text, width in widths if width > 0)

    def grown(self, current: float | None, width_of: Callable[[int], float]) -> float | None:
        """The height to give a row now `current` points high, or None where it stays as it is:
        high enough already, hidden (0) or not there (None)."""
        if not current:
            return None
        need = self.height(width_of)
        if need is None or current + HEIGHT_SLACK >= need:
            return None
        return need


@dataclass(frozen=True)
class SheetCell:
    address: str
    text: str
    style: str | None = None  # "title" | "bold" | "link" | "wrap"
    link: str | None = None  # "'sheet'!A1": where a click on the cell goes


@dataclass(frozen=True)
class AddSheet:
    """A sheet of text put first in the book and shown on opening. A sheet of the same title
    keeps its place and its content is replaced; nothing else of the book moves."""

    title: str
    cells: tuple[SheetCell, ...]
    widths: tuple[float, ...] = ()  # columns A, B, ... in Excel's width units
    heights: tuple[tuple[int, float], ...] = ()  # (row, points) of rows holding wrapped text
    merged: tuple[str, ...] = ()  # "B3:C3"
    landscape: bool = False


@dataclass(frozen=True)
class RemoveNotes:
    """Every note, on any sheet, whose text starts with one of `prefixes` (an earlier return's)."""

    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Note:
    """A person's note on a cell. Added beside the sheet's other notes; where the cell holds
    someone's own note, that note stays and this one is not added (xlplan's mark gives way)."""

    sheet: str
    address: str
    author: str
    text: str


Edit = Union[CachedValue, RestoreFormula, ChecksRows, Unmark, Mark, SetMeta, AddSheet, RemoveNotes, Note, FitRow]


def edits(result, shown: Callable[[str, str], object] | None = None) -> list[Edit]:
    """Everything a recalculation changes in the workbook of `result`, in the order to apply it.

    `shown(sheet, address)`, where given, is what a live book shows in a cell: a
    `CachedValue` equal to it is left out (the book's own formula already gives it).
    """
    plan = result.plan
    restored = restore_formulas(result)
    skip = {(e.sheet, e.address) for e in restored}
    out: list[Edit] = []
    for sheet, cells in _merge(computed_cells(result), typed_cells(plan)).items():
        for address, value in cells.items():
            if (sheet, address) in skip:
                continue
            if shown is not None and same_value(shown(sheet, address), value):
                continue
            out.append(CachedValue(sheet, address, value))
    out += restored
    out += text_rows(result)
    out.append(checks_rows(result))
    out += [Unmark(sheet, address) for sheet, address in previous_marks(plan)]
    marks = marks_of(result.findings)
    out += marks
    out.append(SetMeta(MARKS_KEY, json.dumps([[m.sheet, m.address] for m in marks], ensure_ascii=False)))
    return out


# -- values ----------------------------------------------------------------------------
def _by_address(plan: Plan, values: dict, tables: dict, names, value=lambda v: v, skip_empty=False):
    """sheet → {address: value(v)} for every cell of `names` where the plan found its block."""
    out: dict[str, dict[str, object]] = {}
    for name in names:
        for (r, c), v in checks.cells(plan, values, tables, name):
            cell = plan.cell(name, r, c)
            if cell is None or (skip_empty and v is None):
                continue
            out.setdefault(cell.sheet, {})[cell.address] = value(v)
    return out


def computed_cells(result) -> dict[str, dict[str, object]]:
    """sheet → {address: value} for every computed cell, where the plan found it."""
    plan = result.plan
    computed = [name for name, block in plan.template.blocks.items() if block.role == "computed"]
    return _by_address(plan, result.values, result.tables, computed)


def typed_cells(plan: Plan) -> dict[str, dict[str, object]]:
    """sheet → {address: value} of the input cells as read: the results of formulas typed into them.

    A tool that does not calculate saves a formula without its result; the reader works
    it out where it can (see inputformulas.py), and the file then shows it everywhere. Only
    cells holding a formula take these values.
    """
    typed = [name for name in (*plan.values, *plan.tables) if name in plan.template.blocks]
    return _by_address(plan, plan.values, plan.tables, typed, value=_as_cached, skip_empty=True)


def _as_cached(v):
    if isinstance(v, str) and v.strip().upper() in ERROR_CODES:
        return XlErr(v.strip().upper())
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return None  # a date's serial number depends on the workbook's epoch: left for Excel to recompute
    return v


def _merge(*parts: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for part in parts:
        for sheet, cells in part.items():
            out.setdefault(sheet, {}).update(cells)
    return out


def same_value(shown, computed) -> bool:
    """Does a cell that shows `shown` already show the engine's `computed`?"""
    if isinstance(computed, XlErr):
        return isinstance(shown, str) and shown.strip().upper() == computed.code
    if computed in (None, ""):
        return shown in (None, "")
    if isinstance(computed, (int, float)) and not isinstance(computed, bool):
        return isinstance(shown, (int, float)) and not isinstance(shown, bool) and abs(shown - computed) <= 1e-9 * max(
            1.0, abs(computed))
    return shown == computed


def text_rows(result) -> list[FitRow]:
    """Every row holding text of the plan's blocks: what the engine computed (a formula's text),
    what was typed or given as read. The applier works out the height in its column widths."""
    plan = result.plan
    found: dict[tuple[str, int], dict[int, str]] = {}
    for name, block in plan.template.blocks.items():
        if block.unit not in styles.TEXT_UNITS:
            continue
        values, tables = (result.values, result.tables) if block.role == "computed" else (plan.values, plan.tables)
        for (r, c), v in checks.cells(plan, values, tables, name):
            if not isinstance(v, str) or not v.strip():
                continue
            cell = plan.cell(name, r, c)
            if cell is None:
                continue
            row, col = row_col(cell.address)
            found.setdefault((cell.sheet, row), {})[col] = v
    return [FitRow(sheet, row, tuple(sorted(cols.items()))) for (sheet, row), cols in sorted(found.items())]


def restore_formulas(result) -> list[RestoreFormula]:
    """The template's formula back where a value or another formula was typed over a computed cell.

    Only where the reader knows the formula (the workbook's layout is the template's).
    """
    values = {(s, a): v for s, cells in computed_cells(result).items() for a, v in cells.items()}
    out = []
    for f in result.findings:
        if f.code == "FORMULA_OVERWRITTEN" and isinstance(f.expected, str) and f.expected.startswith("=") and f.cell:
            out.append(RestoreFormula(f.cell.sheet, f.cell.address, f.expected,
                                      values.get((f.cell.sheet, f.cell.address))))
    return out


# -- the Checks sheet ----------------------------------------------------------------------
def checks_rows(result) -> ChecksRows:
    """One row per finding in the columns layout.CHECK_COLUMNS defines (message, cell, severity, code)."""
    lang = result.plan.lang
    keys = tuple(c.key for c in CHECK_COLUMNS)
    rows = []
    for f in result.findings:
        shown = check_row(f, lang)
        rows.append(CheckRow(tuple(str(shown[k]) for k in keys), f.severity, check_link(f), check_row_height(shown)))
    if not rows:
        none = {"message": t("no_findings", lang)}
        rows.append(CheckRow(tuple(str(none.get(k, "")) for k in keys), None, None, check_row_height(none)))
    return ChecksRows(checks_sheet_title(lang), FIRST_CHECK_ROW, keys, tuple(rows))


# -- marks ----------------------------------------------------------------------------------
def previous_marks(plan: Plan) -> list[tuple[str, str]]:
    """The cells the last recalculation recorded as marked (`_xlplan` › marks)."""
    raw = plan.meta.get(MARKS_KEY)
    try:
        found = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return [(str(p[0]), str(p[1])) for p in found if isinstance(p, list) and len(p) == 2]


def marks_of(findings: list[Finding]) -> list[Mark]:
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.cell and f.cell.address and f.cell.sheet and f.cell.sheet != META_SHEET:
            by_cell.setdefault((f.cell.sheet, f.cell.address), []).append(f)
    out = []
    for (sheet, address), found in by_cell.items():
        worst = min(found, key=lambda f: checks.SEVERITY_ORDER[f.severity]).severity
        note = NOTE_PREFIX + "\n".join(f"{f.code}: {f.message}" for f in found)
        out.append(Mark(sheet, address, worst, COLOURS[worst], note))
    return out


def is_mark_formula(formula: str | None) -> bool:
    """Is a conditional-format formula one of xlplan's marks (as any program may have saved it)?"""
    return formula is not None and MARK_TEXT in formula.lower()


def is_mark_note(text: str | None, author: str | None = None) -> bool:
    return (author or "").strip() == NOTE_AUTHOR or (text or "").lstrip().startswith(NOTE_PREFIX.strip())
