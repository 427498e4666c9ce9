"""Checks: what a clerk typed and what must add up. Each returns findings, never raises.

Two families:
- input checks, from each input block's definition: numbers where numbers belong,
  shares 0–100 %, months 1–12, values from the list, required inputs filled;
- template checks, declared in the template's `checks:` list, one function per kind
  (`equal`, `at_least`, `at_most`, `between`, `stated`, `nonzero`). A comparison may be
  limited to the cells where another block is filled (`when: block`, a nonzero number
  or a text) or where it is not (`unless: block`).
Every finding names its cell and shows expected, actual and the difference.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..model import SEVERITIES, TOLERANCE, Block, Check, Finding, Template, text
from ..template.xlfuncs import ERROR_CODES, XlErr
from ..texts import measure_unit, measure_words, t
from . import ooxml
from .numbers import read_number
from .plan import Plan, is_date, is_number

NUMERIC_UNITS = ("yuan", "wan", "percent", "count", "number", "score", "seconds", "month")
LARGEST = 1e15  # no plan figure comes near: beyond it the arithmetic overflows into infinity and NaN
WHOLE_NAMES = ("times",)  # besides counts: how often a budget line's cost recurs


def fmt(value: Any, unit: str = "number") -> str:
    """A number as people read it: 8,000 · 1,234.5 · 35.0%."""
    if isinstance(value, XlErr):
        return value.code
    if not is_number(value):
        return "" if value is None else str(value)
    if unit == "percent":
        return f"{value * 100:,.1f}%"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def difference(actual, expected, unit, lang) -> str:
    d = actual - expected
    key = "too_much" if d > 0 else "too_little"
    return t(key, lang).format(diff=fmt(abs(d), unit))


# -- walking the cells of a block ---------------------------------------------------
def cells(plan: Plan, values: dict, tables: dict, name: str) -> Iterator[tuple[tuple[int, int], Any]]:
    """((r, c), value) of every cell of a block; r is the table row for table columns."""
    block = plan.template.blocks[name]
    if block.table:
        for i, v in enumerate(tables.get(name, ())):
            yield (i + 1, 1), v
        return
    for r, row in enumerate(values.get(name, ()), start=1):
        for c, v in enumerate(row, start=1):
            yield (r, c), v


def value_at(plan, values, tables, name, r, c):
    """The value of `name` at the position (r, c) of another block: same cell, or a scalar.

    A number instead of a block name is that number (`expected: 100`).
    """
    return reader(plan, values, tables, name)(r, c)


def reader(plan, values, tables, name) -> Callable[[int, int], Any]:
    """`value_at` for one block (or number), found once: a function of the position (r, c)."""
    if is_number(name):
        return lambda r, c: name
    block = plan.template.blocks[name]
    if block.table:
        column = tables.get(name, ())
        return lambda r, c: column[r - 1] if r - 1 < len(column) else None
    grid = values.get(name)
    if not grid:
        return lambda r, c: None
    one_row, one_col = len(grid) <= 1, len(grid[0]) <= 1  # one row (column): the same for every row (column)
    return lambda r, c: grid[0 if one_row else r - 1][0 if one_col else c - 1]


def unit_at(plan, values, tables, name, r, c) -> str:
    """The unit of measure of one cell of a block: the one its row chose where the block takes
    its unit from a `measure` beside it (a share shows as 84.0%, a count of 0.5 as 0.5), else
    the block's or its row's (Template.row_unit)."""
    block = plan.template.blocks[name]
    if block.measure:
        return measure_unit(value_at(plan, values, tables, block.measure, r, c), plan.lang) or block.unit
    return plan.template.row_unit(block, r)


def finding(plan, check_or_code, severity, message, block, r, c, expected=None, actual=None):
    code = check_or_code.code if isinstance(check_or_code, Check) else check_or_code
    return Finding(severity, code, message, plan.cell(block, r, c), block=block,
                   expected=plain(expected), actual=plain(actual))


def plain(v):
    """A value as plain data (JSON, the store): an Excel error as its code, no NaN or infinity."""
    if isinstance(v, XlErr):
        return v.code
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


# -- input checks -------------------------------------------------------------------
def accepted_inputs(plan: Plan) -> tuple[dict, dict, list[Finding]]:
    """The inputs the engine computes with: numbers typed as text read where unambiguous.

    The workbook keeps what was typed; each text read as a number gets a warning so the
    clerk retypes it (see numbers.py for what is accepted and what is refused).
    """
    values = {k: [list(row) for row in rows] for k, rows in plan.values.items()}
    tables = {k: list(col) for k, col in plan.tables.items()}
    notes: list[Finding] = []
    lang = plan.lang
    for name, block in _typed_blocks(plan.template):
        kinds = _kinds(values, tables, name, block)
        if kinds <= PLAIN_NUMBER_TYPES or kinds <= PLAIN_TEXT_TYPES and block.unit not in NUMERIC_UNITS:
            continue  # plain numbers, or texts where texts belong: nothing below applies (the usual block)
        if block.unit not in NUMERIC_UNITS:
            if any(issubclass(kind, DATE_TYPES) for kind in kinds):
                _dates_as_text(plan, values, tables, name)
            continue
        if not any(issubclass(kind, DATE_TYPES) or issubclass(kind, str) for kind in kinds):
            continue  # numbers and blanks only: nothing below applies to any cell
        for (r, c), v in cells(plan, values, tables, name):
            if is_date(v):  # never a number to the engine; reported as the date it is
                _put(values, tables, block, name, r, c, DateInNumberCell(_date_text(v)))
                continue
            if not isinstance(v, str):
                continue
            unit = unit_at(plan, values, tables, name, r, c)  # "85%" is a share where the row says %
            number = read_number(v, unit)
            if number is None:
                continue
            if block.table:
                tables[name][r - 1] = number
            else:
                values[name][r - 1][c - 1] = number
            notes.append(finding(plan, "TEXT_READ_AS_NUMBER", "warning",
                                 t("text_read_as_number", lang).format(label=text(block.label, lang), value=v,
                                                                       number=fmt(number, unit)),
                                 name, r, c, expected=number, actual=v))
    return values, tables, notes


DATE_TYPES = (dt.date, dt.datetime, dt.time)  # plan.is_date
PLAIN_NUMBER_TYPES = frozenset({int, float, type(None)})  # a number or a blank, no bool (plan.is_number)
PLAIN_TEXT_TYPES = frozenset({str, type(None)})  # a text (not a date typed in a number cell) or a blank
TYPED_ERRORS = frozenset(ERROR_CODES)  # an error value typed as text: looked up for every text of a block


def _kinds(values, tables, name, block) -> set[type]:
    """The types of the values in a block's cells."""
    if block.table:
        return set(map(type, tables.get(name, ())))
    return {type(v) for row in values.get(name, ()) for v in row}


class DateInNumberCell(str):
    """A date typed into a number cell: text to the engine (so no formula computes with it), and
    reported as a date."""


def _date_text(v) -> str:
    return v.date().isoformat() if isinstance(v, dt.datetime) and v.time() == dt.time() else v.isoformat()


def _put(values, tables, block, name, r, c, v) -> None:
    if block.table:
        tables[name][r - 1] = v
    else:
        values[name][r - 1][c - 1] = v


def _dates_as_text(plan, values, tables, name) -> None:
    """A date in a text or list cell (Excel turns "2027-03-01" typed as a strategy into one) is its text."""
    block = plan.template.blocks[name]
    for (r, c), v in cells(plan, values, tables, name):
        if is_date(v):
            _put(values, tables, block, name, r, c, _date_text(v))


def check_inputs(plan: Plan, values: dict, tables: dict) -> list[Finding]:
    out: list[Finding] = []
    used_rows = _used_table_rows(plan, tables)
    for name, block in _typed_blocks(plan.template):
        if name not in plan.values and name not in plan.tables:
            continue  # not found in the workbook: reported by the reader
        out += _check_block_inputs(plan, values, tables, name, block, used_rows)
    return out


@functools.lru_cache(maxsize=64)
def _typed_blocks(template: Template) -> tuple[tuple[str, Block], ...]:
    """The blocks a unit types into or HQ gives: the ones the input checks judge."""
    return tuple((name, block) for name, block in template.blocks.items() if block.role in ("input", "given"))


def _used_table_rows(plan, tables) -> dict[str, set[int]]:
    used: dict[str, set[int]] = {}
    for name, block in plan.template.blocks.items():
        if block.table and block.role == "input":
            rows = {i for i, v in enumerate(tables.get(name, ()), start=1) if v is not None and v != ""}
            if rows:
                used.setdefault(block.table, set()).update(rows)
    return used


def _choices(plan, values, block) -> tuple[str, ...] | None:
    if block.choices is None:
        return None
    if isinstance(block.choices, str):
        grid = values.get(block.choices) or []
        return tuple(str(v) for row in grid for v in row if v not in (None, ""))
    return block.choices


def _check_block_inputs(plan, values, tables, name, block: Block, used_rows) -> list[Finding]:
    found = _check_at_once(plan, values, tables, name, block, used_rows)
    return found if found is not None else _check_cells(plan, values, tables, name, block, used_rows)


def _check_cells(plan, values, tables, name, block: Block, used_rows) -> list[Finding]:
    """The input checks of a block, cell by cell."""
    lang = plan.lang
    label = text(block.label, lang)
    out = []
    empty = []
    choices = _choices(plan, values, block) if block.unit != "measure" else tuple(measure_words(lang))
    for (r, c), v in cells(plan, values, tables, name):
        if v is None:
            if block.table and r in used_rows.get(block.table, ()) and block.required:
                out.append(finding(plan, "MISSING_INPUT", "error",
                                   t("missing_in_row", lang).format(label=label), name, r, c))
            elif not block.table:
                empty.append((r, c))
            continue
        message = _bad_value(block, v, choices, lang, label)
        if message:
            code, severity, text_ = message
            out.append(finding(plan, code, severity, text_, name, r, c, actual=v))
    if block.required and not block.table and empty:
        r, c = empty[0]
        out.append(finding(plan, "MISSING_INPUT", "error",
                           t("missing", lang).format(label=label, count=len(empty)), name, r, c))
    return out


def _check_at_once(plan, values, tables, name, block: Block, used_rows) -> list[Finding] | None:
    """`_check_block_inputs` of a numeric block holding numbers and blanks only (or another block
    holding texts and blanks only), when every value passes `_bad_value`, judged at once (numbers
    from the least and the greatest, texts once each): the findings about blanks alone. None
    where some value fails, or the block holds other values: the cell-by-cell check then says
    which and why."""
    if not _kinds(values, tables, name, block) <= (PLAIN_NUMBER_TYPES if block.unit in NUMERIC_UNITS
                                                     else PLAIN_TEXT_TYPES):
        return None
    if block.table:
        column = tables.get(name, ())
        numbers = [v for v in column if v is not None]
    else:
        grid = values.get(name, ())
        numbers = [v for row in grid for v in row if v is not None]
    if numbers and not (_numbers_pass(plan.template, block, numbers) if block.unit in NUMERIC_UNITS
                        else _texts_pass(plan, values, block, numbers)):
        return None
    if block.table:
        used = used_rows.get(block.table, ())
        if not block.required or not used or len(numbers) == len(column):
            return []
        lang = plan.lang
        label = text(block.label, lang)
        return [finding(plan, "MISSING_INPUT", "error", t("missing_in_row", lang).format(label=label), name, i, 1)
                for i, v in enumerate(column, start=1) if v is None and i in used]
    if not block.required or len(numbers) == sum(map(len, grid)):
        return []
    r, c = next((r, c) for r, row in enumerate(grid, start=1) for c, v in enumerate(row, start=1) if v is None)
    lang = plan.lang
    label = text(block.label, lang)
    return [finding(plan, "MISSING_INPUT", "error",
                    t("missing", lang).format(label=label, count=sum(map(len, grid)) - len(numbers)), name, r, c)]


def _texts_pass(plan, values, block: Block, texts: list) -> bool:
    """True when `_bad_value` finds nothing wrong with any of these texts, in a block that is not numeric."""
    distinct = set(texts)
    if any(v.strip().upper() in TYPED_ERRORS for v in distinct):
        return False
    if block.unit not in ("choice", "measure"):
        return True
    choices = _choices(plan, values, block) if block.unit != "measure" else tuple(measure_words(plan.lang))
    return choices is None or distinct <= set(choices)


def _numbers_pass(template: Template, block: Block, numbers: list) -> bool:
    """True when `_bad_value` finds nothing wrong with any of these numbers (int or float, never bool):
    the one rule for numbers (`number_fault`) judges each distinct value once."""
    rule = _number_rules(template)[block.name]
    return not any(number_fault(rule, v) for v in set(numbers))


@dataclass(frozen=True)
class NumberRule:
    """What a number in a numeric block must be; `number_fault` applies it."""

    lo: float  # the least allowed
    hi: float | None  # the greatest allowed, if any
    whole: bool  # a count, or how often a cost recurs
    month: bool  # a month: 1-12, whole
    share: bool  # a percent without declared bounds: 0-100 %


def number_rule(block: Block) -> NumberRule:
    unit = block.unit
    return NumberRule(lo=block.minimum if block.minimum is not None else 0,
                      hi=block.maximum if block.maximum is not None else (1 if unit == "percent" else None),
                      whole=unit == "count" or block.name.rsplit(".", 1)[-1] in WHOLE_NAMES,
                      month=unit == "month",
                      share=unit == "percent" and block.minimum is None and block.maximum is None)


@functools.lru_cache(maxsize=64)
def _number_rules(template: Template) -> dict[str, NumberRule]:
    return {name: number_rule(block) for name, block in template.blocks.items() if block.unit in NUMERIC_UNITS}


def number_fault(rule: NumberRule, v) -> str | None:
    """The code of what is wrong with the number v (int or float, never bool) under `rule`, None if nothing.
    The one rule for numbers: each cell (`_bad_value`) and a block of plain numbers at once (`_numbers_pass`)."""
    if not -LARGEST < v < LARGEST:  # also NaN
        return "NUMBER_TOO_LARGE"
    if rule.whole and v != int(v):
        return "NOT_WHOLE"
    if rule.month and (v < 1 or v > 12 or v != int(v)):
        return "MONTH_RANGE"
    if rule.share and not 0 <= v <= 1:
        return "SHARE_RANGE"
    if v < rule.lo:
        return "BELOW_MINIMUM"
    if rule.hi is not None and v > rule.hi:
        return "ABOVE_MAXIMUM"
    return None


def _number_message(code: str, rule: NumberRule, unit: str, v, lang: str, label: str) -> str:
    """What `number_fault`'s code says to the clerk about v."""
    if code == "NUMBER_TOO_LARGE":
        return t("too_large", lang).format(label=label, value=f"{v:.6g}")
    if code == "NOT_WHOLE":
        return t("not_whole", lang).format(label=label, value=fmt(v))
    if code == "MONTH_RANGE":
        return t("month_range", lang).format(label=label, value=fmt(v))
    if code == "SHARE_RANGE":
        return t("share_range", lang).format(label=label, value=fmt(v, unit))
    if code == "BELOW_MINIMUM":
        return t("negative", lang).format(label=label, lo=fmt(rule.lo, unit), value=fmt(v, unit))
    return t("above_max", lang).format(label=label, hi=fmt(rule.hi, unit), value=fmt(v, unit))


def _bad_value(block: Block, v, choices, lang, label):
    unit = block.unit
    if isinstance(v, str) and v.strip().upper() in TYPED_ERRORS:
        return "ERROR_VALUE", "error", t("error_value", lang).format(label=label, value=v.strip())
    if unit in NUMERIC_UNITS:
        if is_date(v) or isinstance(v, DateInNumberCell):
            return "DATE_NOT_NUMBER", "error", t("date_not_number", lang).format(label=label, value=v)
        if not is_number(v):
            return "TEXT_NOT_NUMBER", "error", t("not_number", lang).format(label=label, value=v)
        rule = number_rule(block)
        code = number_fault(rule, v)
        if code:
            return code, "error", _number_message(code, rule, unit, v, lang, label)
    if unit in ("choice", "measure") and choices is not None and str(v) not in choices:
        return "NOT_IN_LIST", "error", t("not_in_list", lang).format(label=label, value=v,
                                                                     choices=", ".join(choices))
    return None


# -- template checks ------------------------------------------------------------------
def _numbers(a, b) -> bool:
    return is_number(a) and is_number(b)


def _as_number(v):
    return 0 if v is None else v


def _paired(plan, values, tables, block: str, other) -> Iterator[tuple[int, int, Any, Any]]:
    """(row, col, value, other's value) at each cell of `block`: beside it, the value of `other` (a
    block, or a number as `value_at` takes it) at the same position; None without `other`."""
    at = _nothing if other is None else reader(plan, values, tables, other)
    for (r, c), v in cells(plan, values, tables, block):
        yield r, c, v, at(r, c)


def _nothing(r, c) -> None:
    return None


def _finding(plan, check, values, tables, at, r, c, shown: dict[str, str], expected=None, actual=None) -> Finding:
    """A finding of a declared check at (r, c) of block `at`: its message with the words `shown`
    and the check's fields at that position."""
    message = text(check.message, plan.lang).format(**shown, **_fields(plan, check, values, tables, r, c))
    return finding(plan, check, check.severity, message, at, r, c, expected, actual)


def check_equal(plan, check: Check, values, tables) -> list[Finding]:
    a = check.args
    out = []
    applies = _applies(plan, check, values, tables)
    for r, c, actual, expected in _paired(plan, values, tables, a["actual"], a["expected"]):
        if not applies(r, c):
            continue
        if a.get("skip_blank") and (actual is None or expected is None):
            continue
        actual, expected = _as_number(actual), _as_number(expected)
        if not _numbers(actual, expected):
            continue
        tolerance = max(a.get("tolerance", TOLERANCE), a.get("relative_tolerance", 0) * abs(expected))
        if abs(actual - expected) > tolerance:
            unit = unit_at(plan, values, tables, a["actual"], r, c)
            out.append(_compared(plan, check, values, tables, a.get("at", a["actual"]), r, c, actual, expected, unit))
    return out


def _fields(plan, check, values, tables, r, c) -> dict[str, str]:
    """The check's `fields:` (name → block), each shown at the finding's position, and
    `{factors}`: the filled ones of `factors:` (blocks) joined by ×, as a cost line reads."""
    out = {key: fmt(value_at(plan, values, tables, name, r, c), unit_at(plan, values, tables, name, r, c))
           for key, name in (check.args.get("fields") or {}).items()}
    factors = check.args.get("factors")
    if factors:
        shown = [value_at(plan, values, tables, name, r, c) for name in factors]
        out["factors"] = " × ".join(fmt(v, unit_at(plan, values, tables, name, r, c))
                                    for v, name in zip(shown, factors) if is_number(v)) or "0"
    return out


def _filled(v) -> bool:
    return (is_number(v) and v != 0) or (isinstance(v, str) and v != "") or isinstance(v, XlErr)


def _applies(plan, check, values, tables) -> Callable[[int, int], bool]:
    """Whether the check looks at a position (r, c): `when:` filled there, `unless:` not."""
    a = check.args
    when = reader(plan, values, tables, a["when"]) if a.get("when") else None
    unless = reader(plan, values, tables, a["unless"]) if a.get("unless") else None
    return lambda r, c: (when is None or _filled(when(r, c))) and (unless is None or not _filled(unless(r, c)))


def _compared(plan, check, values, tables, at, r, c, actual, expected, unit) -> Finding:
    shown = {"actual": fmt(actual, unit), "expected": fmt(expected, unit),
             "diff": difference(actual, expected, unit, plan.lang)}
    return _finding(plan, check, values, tables, at, r, c, shown, expected, actual)


def _compare(plan, check, values, tables, ok: Callable[[float, float], bool]):
    a = check.args
    out = []
    applies = _applies(plan, check, values, tables)
    for r, c, actual, expected in _paired(plan, values, tables, a["actual"], a["expected"]):
        if not _numbers(actual, expected) or not applies(r, c):
            continue
        if not ok(actual, expected):
            unit = unit_at(plan, values, tables, a["actual"], r, c)
            out.append(_compared(plan, check, values, tables, a.get("at", a["actual"]), r, c, actual, expected, unit))
    return out


def check_at_least(plan, check, values, tables):
    return _compare(plan, check, values, tables, lambda x, y: x >= y - TOLERANCE)


def check_at_most(plan, check, values, tables):
    return _compare(plan, check, values, tables, lambda x, y: x <= y + TOLERANCE)


def check_between(plan, check, values, tables):
    a = check.args
    out = []
    lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
    for (r, c), v in cells(plan, values, tables, a["block"]):
        if is_number(v) and not lo <= v <= hi:
            unit = unit_at(plan, values, tables, a["block"], r, c)
            out.append(_compared(plan, check, values, tables, a["block"], r, c, v, lo if v < lo else hi, unit))
    return out


def check_stated(plan, check, values, tables):
    """A typed-in amount kept beside the computed one, flagged where they differ."""
    a = check.args
    out = []
    applies = _applies(plan, check, values, tables)
    for r, c, stated, computed in _paired(plan, values, tables, a["stated"], a["computed"]):
        if not _numbers(stated, computed) or abs(stated - computed) <= TOLERANCE:
            continue
        if not applies(r, c):
            continue
        unit = unit_at(plan, values, tables, a["computed"] if isinstance(a["computed"], str) else a["stated"], r, c)
        shown = {"stated": fmt(stated, unit), "computed": fmt(computed, unit),
                 "diff": difference(stated, computed, unit, plan.lang)}
        out.append(_finding(plan, check, values, tables, a["stated"], r, c, shown, computed, stated))
    return out


def check_nonzero(plan, check, values, tables):
    """A denominator that is zero (or empty) where the figure it divides is not."""
    a = check.args
    out = []
    for r, c, v, when in _paired(plan, values, tables, a["block"], a.get("when")):
        when = when if a.get("when") else 1
        if isinstance(when, XlErr) or not _filled(when):  # a number or a text: the row is used
            continue
        if isinstance(v, XlErr) or (is_number(v) and v > 0) or isinstance(v, str) and v != "":
            continue
        if a.get("unless") and _filled(value_at(plan, values, tables, a["unless"], r, c)):
            continue
        unit = unit_at(plan, values, tables, a["block"], r, c)
        shown = {"actual": fmt(_as_number(v), unit), "expected": "", "diff": "", "when": fmt(when)}
        out.append(_finding(plan, check, values, tables, a["block"], r, c, shown, actual=_as_number(v)))
    return out


TEMPLATE_CHECKS: dict[str, Callable] = {
    "equal": check_equal,
    "at_least": check_at_least,
    "at_most": check_at_most,
    "between": check_between,
    "stated": check_stated,
    "nonzero": check_nonzero,
}


def check_template(plan: Plan, values: dict, tables: dict) -> list[Finding]:
    """The template's declared checks; their kinds and arguments were validated when the
    template was loaded (spec.CHECK_KINDS has the same kinds as TEMPLATE_CHECKS)."""
    out = []
    for check in plan.template.checks:
        out += TEMPLATE_CHECKS[check.kind](plan, check, values, tables)
    return out


SEVERITY_ORDER = {s: k for k, s in enumerate(SEVERITIES)}  # worst first


def _all_finite(floats: list) -> bool:
    """No float of a table column or a grid's rows is infinite or NaN: their sum is finite (a sum
    that overflows from finite numbers says False, and the cells are then looked at one by one)."""
    return math.isfinite(sum(floats))


@functools.lru_cache(maxsize=64)
def _computed_blocks(template: Template) -> tuple[tuple[str, Block], ...]:
    return tuple((name, block) for name, block in template.blocks.items() if block.role == "computed")


def check_finite(plan: Plan, values: dict, tables: dict) -> list[Finding]:
    """A computed number that overflowed (infinity, NaN): one error at the first such cell per block.

    The inputs are bounded (LARGEST), so this is a safety net: a wrong number is never
    stored or written as a cached value without a finding. Every computed float is summed
    at once; only where that is not finite are the blocks looked at one by one."""
    computed = _computed_blocks(plan.template)
    grids = [values.get(name, ()) for name, block in computed if not block.table]
    columns = [tables.get(name, ()) for name, block in computed if block.table]
    if _all_finite([v for grid in grids for row in grid for v in row if isinstance(v, float)]
                   + [v for column in columns for v in column if isinstance(v, float)]):
        return []
    out = []
    for name, block in computed:
        if _all_finite([v for _, v in cells(plan, values, tables, name) if isinstance(v, float)]):
            continue
        for (r, c), v in cells(plan, values, tables, name):
            if isinstance(v, float) and not math.isfinite(v):
                out.append(finding(plan, "NUMBER_OVERFLOW", "error",
                                   t("overflow", plan.lang).format(label=text(block.label, plan.lang)), name, r, c))
                break
    return out


def run_all(plan: Plan, values: dict, tables: dict, notes: Sequence[Finding] = ()) -> list[Finding]:
    """Every finding of a plan: what the reader met, the inputs, the template's checks."""
    findings = (list(plan.findings) + list(notes) + check_inputs(plan, values, tables)
                + check_template(plan, values, tables) + check_finite(plan, values, tables))
    sheet_order = _sheet_order(plan.template, plan.lang)

    def key(f: Finding):
        if f.cell is None or not f.cell.address:
            return (-1, 0, 0, SEVERITY_ORDER[f.severity])
        try:
            row, col = ooxml.row_col(f.cell.address)
        except ValueError:  # not one cell: first on its sheet
            row, col = 0, 0
        return (sheet_order.get(f.cell.sheet, 99), row, col, SEVERITY_ORDER[f.severity])

    return sorted(findings, key=key)


@functools.lru_cache(maxsize=64)
def _sheet_order(template: Template, lang: str) -> dict[str, int]:
    """A sheet's title in the plan's language → its place in the workbook."""
    return {text(sheet.title, lang): k for k, sheet in enumerate(template.sheets)}
