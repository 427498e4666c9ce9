"""The hidden `_xlplan` sheet's record, checked before anything is built from it.

A workbook says which template, cycle parameters, unit, year and period it was made
for. That record comes from the file, so it is checked like any input:

- the cycle parameters against the template's declared parameters: each takes the
  type of its default (a whole number, a text, a list ...); whole numbers (rows of a
  table, slots of a list) are bounded, absolutely and by the file's real size — a
  workbook cannot claim thousands of action rows it does not hold, so reading costs
  what the file is, not what it claims. A parameter that does not fit refuses the file
  with a message naming `_xlplan › B7` (never a traceback);
- the year (a whole number 1900–2200), the period (the year, or YYYY-MM of that year)
  and the unit (not blank; the same on the cover as in the record) become findings at
  their cells.
"""
from __future__ import annotations

import re

from ..model import Cell, Finding, TemplateError, WorkbookError, normal_unit
from ..template import parameters, spec
from ..template.layout import META_SHEET
from ..texts import t

ROW_BYTES = 1_000  # a generated action row takes ~2,800 bytes of sheet XML; a filled row of any table, hundreds
PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")
COVER_UNIT = ("unit_name", "team_name")  # the given cover cell that repeats the unit


def record_cell(meta: dict, key: str, file: str) -> Cell:
    """The cell holding `key`'s value in this file's record, where the reader found it (A1 when the
    file has no such row); cycle.meta_cell is where a workbook as made holds it."""
    row = (meta.get("_rows") or {}).get(key)
    return Cell(file, META_SHEET, f"B{row}" if row else "A1")


def check_params(meta: dict, file: str, sheet_bytes: int | None) -> dict:
    """The cycle parameters, each of the type its template declares; WorkbookError otherwise."""
    params = meta.get("params")
    where = f"{file} › {META_SHEET} › {record_cell(meta, 'params', file).address}"
    if not isinstance(params, dict):
        raise WorkbookError(f"{where}: the cycle parameters must be a mapping, found {type(params).__name__}")
    try:
        declared = spec.parameters(str(meta["template"]))
    except TemplateError as exc:  # an unknown template: said by the loader with the known ones
        raise WorkbookError(f"{file}: {exc}") from None
    out = {}
    for key, value in params.items():
        if key not in declared:
            continue  # a parameter the template no longer has changes nothing it renders
        default = declared[key]
        problem = _misfit(value, default, sheet_bytes)
        if problem:
            raise WorkbookError(f"{where}: the cycle parameter {key!r} {problem}; the workbook was changed "
                                "after HQ made it — ask HQ for a new one")
        out[key] = parameters.as_declared(value, default)
    return out


def _misfit(value, default, sheet_bytes: int | None) -> str | None:
    """`parameters.misfit`, a whole number bounded by what the file can hold too."""
    most = parameters.MAX_COUNT
    if sheet_bytes is not None and isinstance(default, int) and not isinstance(default, bool):
        most = min(most, max(default, sheet_bytes // ROW_BYTES))
    return parameters.misfit(value, default, most, "what this file can hold")


def check_record(plan) -> list[Finding]:
    """Year, period and unit of the record, and the cover's unit against it: findings at their cells."""
    meta, file, lang = plan.meta, plan.file, plan.lang
    out = []
    year = meta.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        out.append(Finding("error", "YEAR_INVALID", t("year_invalid", lang).format(value=year),
                           record_cell(meta, "year", file)))
        year = None
    period = str(meta.get("period") or "")
    m = PERIOD.match(period)
    if not m or (year is not None and int(m.group(1)) != year):
        out.append(Finding("error", "PERIOD_INVALID", t("period_invalid", lang).format(value=period, year=year or ""),
                           record_cell(meta, "period", file)))
    unit = normal_unit(meta.get("unit"))
    if not unit:
        out.append(Finding("error", "UNIT_MISSING", t("unit_missing", lang), record_cell(meta, "unit", file)))
    for name in COVER_UNIT:
        grid = plan.values.get(name)
        if not grid:
            continue
        cover = normal_unit(grid[0][0])
        if unit and cover != unit:
            out.append(Finding("error", "UNIT_MISMATCH", t("unit_mismatch", lang).format(cover=cover, meta=unit),
                               plan.cell(name), block=name, expected=unit, actual=cover))
    return out
