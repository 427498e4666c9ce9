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
from ..template import spec
from ..template.layout import META_SHEET
from ..texts import t

MAX_COUNT = 1_000  # rows or slots of one list: a plan with more is no plan a person fills in
ROW_BYTES = 1_000  # a generated action row takes ~2,800 bytes of sheet XML; a filled row of any table, hundreds
MAX_TEXT = 200
MAX_ITEMS = 200
PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")
COVER_UNIT = ("unit_name", "team_name")  # the given cover cell that repeats the unit


def meta_cell(meta: dict, key: str, file: str) -> Cell:
    row = (meta.get("_rows") or {}).get(key)
    return Cell(file, META_SHEET, f"B{row}" if row else "A1")


def check_params(meta: dict, file: str, sheet_bytes: int | None) -> dict:
    """The cycle parameters, each of the type its template declares; WorkbookError otherwise."""
    params = meta.get("params")
    where = f"{file} › {META_SHEET} › {meta_cell(meta, 'params', file).address}"
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
        out[key] = int(value) if isinstance(default, int) and not isinstance(default, bool) else value
    return out


def _misfit(value, default, sheet_bytes) -> str | None:
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"must be true or false, found {value!r:.40}"
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return f"must be a whole number, found {value!r:.40}"
        bound = MAX_COUNT if sheet_bytes is None else min(MAX_COUNT, max(default, sheet_bytes // ROW_BYTES))
        if not 0 <= value <= bound:
            return f"is {value:,}, outside 0–{bound:,} (what this file can hold)"
        return None
    if isinstance(default, float):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e15 \
            else f"must be a number, found {value!r:.40}"
    if isinstance(default, str):
        if isinstance(value, str) and len(value) <= MAX_TEXT:
            return None
        return f"must be a short text, found {value!r:.40}"
    if default is None or isinstance(default, (list, dict)):
        if value is None:
            return None
        return _misfit_items(value)
    return None


def _misfit_items(value, depth: int = 0) -> str | None:
    if depth > 3:
        return "nests too deep"
    if isinstance(value, str):
        return None if len(value) <= MAX_TEXT else "holds a text that is too long"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if abs(value) < 1e15 else "holds a number that is too large"
    items = list(value.items()) if isinstance(value, dict) else value if isinstance(value, list) else None
    if items is None:
        return f"must be a list, found {type(value).__name__}"
    if len(items) > MAX_ITEMS:
        return f"holds {len(items):,} items, over {MAX_ITEMS}"
    for item in items:
        for part in (item if isinstance(value, dict) else (item,)):
            problem = _misfit_items(part, depth + 1)
            if problem:
                return problem
    return None


def check_record(plan) -> list[Finding]:
    """Year, period and unit of the record, and the cover's unit against it: findings at their cells."""
    meta, file, lang = plan.meta, plan.file, plan.lang
    out = []
    year = meta.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2200:
        out.append(Finding("error", "YEAR_INVALID", t("year_invalid", lang).format(value=year),
                           meta_cell(meta, "year", file)))
        year = None
    period = str(meta.get("period") or "")
    m = PERIOD.match(period)
    if not m or (year is not None and int(m.group(1)) != year):
        out.append(Finding("error", "PERIOD_INVALID", t("period_invalid", lang).format(value=period, year=year or ""),
                           meta_cell(meta, "period", file)))
    unit = normal_unit(meta.get("unit"))
    if not unit:
        out.append(Finding("error", "UNIT_MISSING", t("unit_missing", lang), meta_cell(meta, "unit", file)))
    for name in COVER_UNIT:
        grid = plan.values.get(name)
        if not grid:
            continue
        cover = normal_unit(grid[0][0])
        if unit and cover != unit:
            out.append(Finding("error", "UNIT_MISMATCH", t("unit_mismatch", lang).format(cover=cover, meta=unit),
                               plan.cell(name), block=name, expected=unit, actual=cover))
    return out
