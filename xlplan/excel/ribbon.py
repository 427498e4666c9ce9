"""What the ribbon's buttons do to a workbook: Recalculate, Check, Submit.

Written against xlwings' Book API, so the same code runs on the book JSON an Office.js
client sends (xlwings' remote Book, on the server: see scripts.py) and on a book open
in Excel desktop (xlwings over COM/AppleScript: see desktop.py). It needs no xlwings
PRO license itself. The work is the engine's, as the CLI does it —
`plan_from_book` → `recalc.evaluate` — so `xlplan recalc` and the Recalculate button
give the same values and findings for the same inputs.

What Recalculate changes:
- computed cells whose shown value differs from the engine's get the engine's value.
  Cells that already show it are left alone: in Excel they hold live formulas, and
  writing a constant over a formula would stop it from updating as the clerk types;
- the Checks sheet is refilled, one row per finding, with a link to its cell;
- the cells with findings are marked (a conditional format and a note), and the marks
  of the previous run are removed first. The list of marked cells lives in the hidden
  `_xlplan` sheet under the same key `xlplan recalc` uses, so either can clear the
  other's marks.
On the remote book, marks are two actions of our own (`xlplanMark`, `xlplanUnmark`):
xlwings' action set has no conditional formats, and a fill colour would overwrite the
input cells' yellow.
"""
from __future__ import annotations

import io
import json
import math
import sys
from dataclasses import dataclass
from typing import Callable

import xlwings as xw

from ..model import Finding, XlplanError
from ..template import generate, spec
from ..template.layout import META_SHEET, checks_sheet_title, quote
from ..template.xlfuncs import XlErr
from ..texts import t
from ..workbook import checks as checks_module
from ..workbook import recalculation as recalc
from ..workbook.plan import Plan
from ..workbook.plan import cell_value as shown_value
from ..workbook.recalculation import MARKS_KEY, Result
from .bookjson import BookJsonSource, plan_from_book

FINDING_COLOURS = {"error": "#FFC7CE", "warning": "#FFEB9C", "info": "#DDEBF7"}
FIRST_CHECK_ROW = 5
TITLE = "xlplan"


@dataclass(frozen=True)
class Session:
    """Who pressed the button: injected into scripts by type hint, never sent by the client."""

    unit: str
    submit: Callable[[bytes, str], dict] | None = None  # (workbook bytes, file name) -> receipt


# -- comparing and writing values ---------------------------------------------------------
def _shown(value):
    """A value as a cell shows it, for comparing: empty is None, errors are their code."""
    if isinstance(value, XlErr):
        return value.code
    if value == "" or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def same_value(shown, computed) -> bool:
    a, b = _shown(shown), _shown(computed)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return a == b


def cell_value(value):
    """What to write into a cell for an engine value."""
    if isinstance(value, XlErr):
        return value.code
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def _split(address: str) -> tuple[int, int]:
    letters = "".join(ch for ch in address if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(address[len(letters):]), col


def changed_cells(source: BookJsonSource, result: Result) -> dict[str, dict[tuple[int, int], object]]:
    """sheet → {(row, col): value} of every computed cell whose shown value is not the engine's."""
    out: dict[str, dict[tuple[int, int], object]] = {}
    for sheet, cells in recalc.computed_cells(result).items():
        grid = source.grid(sheet)
        for address, value in cells.items():
            r, c = _split(address)
            if not same_value(shown_value(grid, r, c), value):
                out.setdefault(sheet, {})[(r, c)] = cell_value(value)
    return out


def write_cells(book: xw.Book, cells: dict[str, dict[tuple[int, int], object]]) -> int:
    """Write the cells, one action per horizontal run of adjacent cells."""
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
    if hasattr(book.impl, "append_json_action"):
        # The remote book: the same setValues action `Range.value = ...` makes, without
        # building a Range per run (xlwings' remote Range costs ~1 ms each; a plan has hundreds).
        book.impl.append_json_action(func="setValues", args=[None], values=values,
                                     sheet_position=_position(book, ws.name), start_row=r - 1,
                                     start_column=c - 1, row_count=1, column_count=len(run))
    else:
        ws.range((r, c), (r, c + len(run) - 1)).value = values


def _position(book, sheet: str) -> int:
    return next(i for i, s in enumerate(book.api["sheets"]) if s["name"] == sheet)


# -- the Checks sheet ------------------------------------------------------------------------
def refill_checks(book: xw.Book, source: BookJsonSource, result: Result) -> None:
    lang = result.plan.lang
    title = checks_sheet_title(lang)
    if title not in source.sheet_names():
        book.sheets.add(title, after=book.sheets[-1])
        used = 0
    else:
        used = len(source.grid(title))
    ws = book.sheets[title]
    last = max(used, FIRST_CHECK_ROW + len(result.findings))
    if last >= FIRST_CHECK_ROW:
        ws.range(f"A{FIRST_CHECK_ROW}:E{last}").clear()
    if not result.findings:
        ws.range(f"A{FIRST_CHECK_ROW}").value = t("no_findings", lang)
        return
    rows = []
    for f in result.findings:
        where = f"{f.cell.sheet} › {f.cell.address}" if f.cell and f.cell.address else ""
        rows.append([t(f.severity, lang), f.code, f.message, where,
                     f.cell.address if f.cell and f.cell.address else ""])
    ws.range(f"A{FIRST_CHECK_ROW}").value = rows
    start = 0
    for i in range(1, len(result.findings) + 1):  # one fill per run of the same severity
        if i == len(result.findings) or result.findings[i].severity != result.findings[start].severity:
            ws.range(f"A{FIRST_CHECK_ROW + start}:A{FIRST_CHECK_ROW + i - 1}").color = \
                FINDING_COLOURS[result.findings[start].severity]
            start = i
    for i, f in enumerate(result.findings):
        if f.cell and f.cell.address:
            ws.range(f"E{FIRST_CHECK_ROW + i}").add_hyperlink(
                f"#{quote(f.cell.sheet)}!{f.cell.address}", f.cell.address, f"{f.code}: {f.message}"[:250])


# -- marks ---------------------------------------------------------------------------------------
def _meta_row(source: BookJsonSource, key: str) -> tuple[int, object]:
    grid = source.grid(META_SHEET) if META_SHEET in source.sheet_names() else []
    for r, row in enumerate(grid, start=1):
        if row and row[0] == key:
            return r, (row[1] if len(row) > 1 else None)
    last = 0
    for r, row in enumerate(grid, start=1):
        if any(v not in (None, "") for v in row):
            last = r
    return last + 1, None


def by_cell(result: Result, sheets) -> dict[tuple[str, str], list[Finding]]:
    out: dict[tuple[str, str], list[Finding]] = {}
    for f in result.findings:
        if f.cell and f.cell.address and f.cell.sheet in sheets:
            out.setdefault((f.cell.sheet, f.cell.address), []).append(f)
    return out


def mark_findings(book: xw.Book, source: BookJsonSource, result: Result) -> int:
    """Unmark last run's cells, mark this run's, remember them in `_xlplan`; returns the count."""
    sheets = source.sheet_names()
    row, previous = _meta_row(source, MARKS_KEY)
    try:
        old = json.loads(previous) if previous else []
    except (TypeError, ValueError):
        old = []
    found_by_cell = by_cell(result, sheets)
    for sheet, address in old:
        if sheet in sheets:
            _unmark(book.sheets[sheet].range(address), keep_note=(sheet, address) in found_by_cell)
    marks = []
    for (sheet, address), found in found_by_cell.items():
        worst = min(found, key=lambda f: checks_module.SEVERITY_ORDER[f.severity]).severity
        note = "\n".join(f"{f.code}: {f.message}" for f in found)
        _mark(book.sheets[sheet].range(address), FINDING_COLOURS[worst], note)
        marks.append([sheet, address])
    if META_SHEET in sheets:
        book.sheets[META_SHEET].range(f"A{row}").value = [[MARKS_KEY, json.dumps(marks, ensure_ascii=False)]]
    return len(marks)


XL_EXPRESSION = 2  # Excel's XlFormatConditionType.xlExpression
DESKTOP_COM = sys.platform == "win32"  # Excel for Mac through AppleScript has no FormatConditions
# The first line of the note on a marked cell: how a later run (here or in static/xlplan.js,
# which has the same constant) knows the note is xlplan's to rewrite or remove. Notes that
# `xlplan recalc` writes into a file are known by their author, COMMENT_AUTHOR.
NOTE_HEAD = "xlplan"


def _ours(comment) -> bool:
    if comment is None:
        return False
    return comment.Author == recalc.COMMENT_AUTHOR or comment.Text().split("\n", 1)[0] == NOTE_HEAD


def _mark(rng, colour: str, note: str) -> None:
    if hasattr(rng.impl, "append_json_action"):
        rng.impl.append_json_action(func="xlplanMark", args=[colour, note])
        return
    if not DESKTOP_COM:
        return  # Excel for Mac through AppleScript: no conditional formats; the Checks sheet lists them
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    rule = rng.api.FormatConditions.Add(Type=XL_EXPRESSION, Formula1="=TRUE")
    rule.Interior.Color = red + green * 256 + blue * 65536
    comment = rng.api.Comment
    text = f"{NOTE_HEAD}\n{note}"
    if comment is None:
        rng.api.AddComment(text)  # a cell holds one note: added only where there is none
    elif _ours(comment):
        comment.Text(Text=text)
    # else the clerk's own note stays; the Checks sheet lists the finding


def _unmark(rng, keep_note: bool = False) -> None:
    """Remove the mark of the last run; its note too, unless the cell is marked again."""
    if hasattr(rng.impl, "append_json_action"):
        rng.impl.append_json_action(func="xlplanUnmark", args=[])
        return
    if not DESKTOP_COM:
        return
    conditions = rng.api.FormatConditions
    for i in range(conditions.Count, 0, -1):
        rule = conditions.Item(i)
        if rule.Type == XL_EXPRESSION and rule.Formula1 == "=TRUE":
            rule.Delete()
    comment = rng.api.Comment
    if not keep_note and _ours(comment):
        comment.Delete()


# -- the summary the clerk sees -------------------------------------------------------------
def counts(result: Result) -> dict[str, int]:
    return {s: sum(1 for f in result.findings if f.severity == s) for s in ("error", "warning", "info")}


def summary(result: Result, written: int | None = None) -> str:
    lang = result.plan.lang
    text = t("summary_counts", lang).format(**counts(result))
    if written is not None:
        text += t("summary_written", lang).format(written=written)
    if result.findings:
        text += t("summary_see_checks", lang)
    return text


# -- the scripts ------------------------------------------------------------------------------------
def run_recalculate(book: xw.Book, data: dict) -> Result:
    source = BookJsonSource(data)
    result = recalc.evaluate(plan_from_book(data))
    written = write_cells(book, changed_cells(source, result))
    refill_checks(book, source, result)
    mark_findings(book, source, result)
    book.app.alert(summary(result, written), title=f"{TITLE} · Recalculate")
    return result


def run_check(book: xw.Book, data: dict) -> Result:
    source = BookJsonSource(data)
    result = recalc.evaluate(plan_from_book(data))
    refill_checks(book, source, result)
    mark_findings(book, source, result)
    book.app.alert(summary(result), title=f"{TITLE} · Check")
    return result


def workbook_bytes(plan: Plan) -> bytes:
    """A clean workbook of the plan's template and cycle holding exactly the plan's inputs.

    What HQ receives: the merge recomputes everything from inputs, so a workbook rebuilt
    from them carries the plan without anything the client may have changed around it.
    """
    meta = plan.meta
    year = int(meta.get("year") or 0)
    period = str(meta.get("period") or "")
    cycle = generate.Cycle(unit=plan.unit, year=year, lang=plan.lang,
                           period="" if period == str(year) else period, params=meta.get("params") or {})
    template = spec.load(plan.template.id, cycle.template_params())
    wb = generate.build_workbook(template, cycle, plan_inputs(plan))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def plan_inputs(plan: Plan) -> dict:
    """The plan's inputs in the form `generate.fill_inputs` takes."""
    data: dict = {}
    for name, grid in plan.values.items():
        if plan.template.blocks[name].role != "computed":
            data[name] = grid
    for table, size in plan.sizes.items():
        rows = []
        for i in range(size):
            row = {}
            for name, column in plan.tables.items():
                if name.startswith(f"{table}.") and i < len(column) and column[i] is not None:
                    row[name.split(".", 1)[1]] = column[i]
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        if rows:
            data[table] = rows
    return data


def run_submit(book: xw.Book, data: dict, session: Session) -> dict | None:
    plan = plan_from_book(data)
    lang = plan.lang
    if plan.unit != session.unit:
        book.app.alert(t("submit_wrong_unit", lang).format(owner=plan.unit, session=session.unit),
                       title=f"{TITLE} · Submit")
        return None
    if session.submit is None:
        book.app.alert(t("submit_no_server", lang), title=f"{TITLE} · Submit")
        return None
    result = recalc.evaluate(plan)
    name = f"{plan.unit}_{plan.template.id}_{plan.period}.xlsx"
    try:
        receipt = session.submit(workbook_bytes(plan), name)
    except XlplanError as exc:  # refused by HQ, wrong unit, unreadable: the clerk reads why
        book.app.alert(str(exc), title=f"{TITLE} · Submit")
        return None
    book.app.alert(receipt_text(receipt, result), title=f"{TITLE} · Submit")
    return receipt


def receipt_text(receipt: dict, result: Result) -> str:
    fields = {k: receipt.get(k) for k in ("unit", "period", "version", "id", "received")}
    return t("receipt", result.plan.lang).format(**fields, **counts(result))
