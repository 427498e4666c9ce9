"""Recalculate a plan: compute every block from its inputs, check it, write it back.

`evaluate(plan)` is pure: inputs in, values and findings out. `recalc_file` reads a
workbook, evaluates it and writes back into the same workbook without touching what
the user made: the live formulas stay, the engine's numbers become their cached
results, the Checks sheet is refilled and the cells with findings are marked.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.hyperlink import Hyperlink

from ..model import Finding, WorkbookError
from ..template import compute, styles
from ..template.layout import META_SHEET, checks_sheet_title, quote
from ..template.xlfuncs import XlErr
from ..texts import t
from . import cached, checks
from .plan import Plan
from .read import ERROR_CODES, read_fast

MARKS_KEY = "marks"  # meta row listing the cells recalc marked last time
COMMENT_AUTHOR = "xlplan"


@dataclass
class Result:
    """A plan with every block computed and every finding."""

    plan: Plan
    values: dict
    tables: dict
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def __repr__(self) -> str:
        # a plan's values run to tens of thousands of characters: a REPL shows what it is, not all it holds
        plan = self.plan
        counts = ", ".join(f"{sum(1 for f in self.findings if f.severity == s)} {label}"
                           for s, label in (("error", "errors"), ("warning", "warnings"), ("info", "notes")))
        return (f"<Result {plan.file} · {plan.template.id} · {plan.unit} {plan.period}: {counts}; "
                f"{len(self.values) + len(self.tables)} blocks (.value(name), .findings, .as_json())>")

    def value(self, block: str):
        """A block's value: a number or text for one cell, a 2-D list or a table column list."""
        if block in self.tables:
            return self.tables[block]
        grid = self.values[block]
        return grid[0][0] if len(grid) == 1 and len(grid[0]) == 1 else grid

    def as_json(self) -> dict:
        plan = self.plan
        values = {}
        for name, grid in self.values.items():
            cells = [[checks.plain(v) for v in row] for row in grid]
            values[name] = cells[0][0] if len(cells) == 1 and len(cells[0]) == 1 else cells
        for name, column in self.tables.items():
            values[name] = [checks.plain(v) for v in column]
        return {
            "file": plan.file,
            "template": plan.template.id,
            "version": str(plan.meta.get("version")),
            "unit": plan.unit,
            "period": plan.period,
            "findings": [f.as_dict() for f in self.findings],
            "values": values,
        }


def evaluate(plan: Plan) -> Result:
    inputs, input_tables, notes = checks.accepted_inputs(plan)
    values, tables = compute.compute(plan.template, inputs, input_tables, plan.sizes)
    return Result(plan, values, tables, checks.run_all(plan, values, tables, notes))


def check_file(path: str | Path) -> Result:
    return evaluate(read_fast(path))


# -- writing back ------------------------------------------------------------------
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


def computed_cells(result: Result) -> dict[str, dict[str, object]]:
    """sheet → {address: value} for every computed cell, where the plan found it."""
    plan = result.plan
    computed = [name for name, block in plan.template.blocks.items() if block.role == "computed"]
    return _by_address(plan, result.values, result.tables, computed)


def typed_cells(plan: Plan) -> dict[str, dict[str, object]]:
    """sheet → {address: value} of the input cells as read: the results of formulas typed into them.

    openpyxl saves a formula without its result, so a yellow cell holding "=500+400"
    would read as blank until a spreadsheet program opened the file again. Only cells
    holding a formula take these values (see cached.write_cached_values).
    """
    typed = [name for name in (*plan.values, *plan.tables) if name in plan.template.blocks]
    return _by_address(plan, plan.values, plan.tables, typed, value=_as_cached, skip_empty=True)


def _as_cached(v):
    if isinstance(v, str) and v.strip().upper() in ERROR_CODES:
        return XlErr(v.strip().upper())
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return None  # a date's serial number depends on the workbook's epoch: left for Excel to recompute
    return v


def _merge_cells(*parts: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for part in parts:
        for sheet, cells in part.items():
            out.setdefault(sheet, {}).update(cells)
    return out


def write_checks(wb, result: Result) -> None:
    """Refill the Checks sheet: one row per finding, with a link to its cell."""
    lang = result.plan.lang
    title = checks_sheet_title(lang)
    ws = wb[title] if title in wb.sheetnames else wb.create_sheet(title)
    if ws.max_row >= 5:
        ws.delete_rows(5, ws.max_row - 4)
    if not result.findings:
        ws.cell(5, 1, t("no_findings", lang))
    for i, f in enumerate(result.findings):
        row = 5 + i
        ws.cell(row, 1, t(f.severity, lang)).fill = styles.FINDING_FILL[f.severity]
        ws.cell(row, 2, f.code)
        _text(ws.cell(row, 3), f.message).alignment = styles.WRAP
        if f.cell and f.cell.address:
            _text(ws.cell(row, 4), f"{f.cell.sheet} › {f.cell.address}")
            link = ws.cell(row, 5, f.cell.address)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"{quote(f.cell.sheet)}!{f.cell.address}",
                                       display=f.cell.address)
            link.font = styles.LINK_FONT


def _text(cell, value: str):
    """Text from a submission (a message quotes what was typed) stays text, even when it begins with =."""
    cell.value = value
    cell.data_type = "s"
    return cell


def restore_formulas(wb, result: Result) -> None:
    """Put the template's formula back where a value or another formula was typed over a computed cell.

    Only where the reader knows the formula (the workbook's layout is the template's); the
    finding stays on the Checks sheet so the clerk knows what was replaced.
    """
    for f in result.findings:
        if f.code == "FORMULA_OVERWRITTEN" and isinstance(f.expected, str) and f.expected.startswith("=") \
                and f.cell.sheet in wb.sheetnames:
            wb[f.cell.sheet][f.cell.address] = f.expected


def _meta_row(wb, key):
    ws = wb[META_SHEET]
    for row in ws.iter_rows(min_row=1):
        if row[0].value == key:
            return row[0].row
    row = ws.max_row + 1
    ws.cell(row, 1, key)
    return row


def mark_findings(wb, result: Result) -> None:
    """Mark each cell with a finding: a coloured conditional format and a note.

    Marks from the previous recalc are removed first. The user's own formatting and
    comments stay as they are: a cell that already has someone's comment gets no note.
    """
    row = _meta_row(wb, MARKS_KEY)
    meta = wb[META_SHEET]
    previous = json.loads(meta.cell(row, 2).value or "[]")
    for sheet, address in previous:
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        comment = ws[address].comment
        if comment is not None and comment.author == COMMENT_AUTHOR:
            ws[address].comment = None
        _remove_mark(ws, address)
    marks = []
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in result.findings:
        if f.cell and f.cell.address and f.cell.sheet in wb.sheetnames:
            by_cell.setdefault((f.cell.sheet, f.cell.address), []).append(f)
    for (sheet, address), found in by_cell.items():
        ws = wb[sheet]
        worst = min(found, key=lambda f: checks.SEVERITY_ORDER[f.severity]).severity
        ws.conditional_formatting.add(address, FormulaRule(formula=["TRUE"], fill=styles.FINDING_FILL[worst],
                                                           stopIfTrue=False))
        if ws[address].comment is None and not isinstance(ws[address], MergedCell):
            note = "\n".join(f"{f.code}: {f.message}" for f in found)
            ws[address].comment = Comment(note, COMMENT_AUTHOR, width=320, height=120)
        marks.append([sheet, address])
    meta.cell(row, 2, json.dumps(marks, ensure_ascii=False))


def _remove_mark(ws, address):
    cf = ws.conditional_formatting
    for rng in list(cf._cf_rules):
        if str(rng.sqref) == address:
            rules = cf._cf_rules[rng]
            keep = [r for r in rules if not (r.type == "expression" and r.formula == ["TRUE"])]
            if keep:
                cf._cf_rules[rng] = keep
            else:
                del cf._cf_rules[rng]


def recalc_file(path: str | Path, out: str | Path | None = None, json_report: str | Path | None = None) -> Result:
    """Read, compute, check and write back a workbook (in place unless `out` is given)."""
    path = Path(path)
    out = Path(out) if out else path
    result = evaluate(read_fast(path))
    keep_vba = path.suffix.lower() == ".xlsm"
    try:
        wb = openpyxl.load_workbook(path, keep_vba=keep_vba)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise WorkbookError(f"{path.name}: cannot be opened for writing ({exc})") from None
    restore_formulas(wb, result)
    write_checks(wb, result)
    mark_findings(wb, result)
    wb.calculation.fullCalcOnLoad = True
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    wb.save(tmp)
    cached.write_cached_values(tmp, _merge_cells(computed_cells(result), typed_cells(result.plan)))
    shutil.move(tmp, out)
    if json_report:
        Path(json_report).write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1, default=str),
                                     encoding="utf-8")
    return result
