"""The planner's arithmetic for a cell, =XLPLAN.PRODUCTIVITY(...) and friends: plain Python.

Each function computes with the engine's own Excel semantics (xlplan.xlfuncs: ROUNDUP,
ROUND, CLAMP, num ...), so a number typed as a custom function is the number the
template's formulas and `xlplan recalc` give. Docstrings are the help Excel shows;
`described(...)` gives each argument its description in the function wizard. No
xlwings here: functions.py registers these for the Office add-in (xlwings server),
classic.py for the classic xlwings add-in on Excel desktop.

Errors never reach the cell as a traceback: a division by zero is #DIV/0!, text where
a number belongs is #VALUE!, an error in an argument passes through. Empty cells count
as nothing (0 in arithmetic, skipped in ranges); dates are accepted where a month is
asked for (the month of the date).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from ..template.xlfuncs import (
    CLAMP,
    DIV0,
    ERROR_CODES,
    MIN,
    NUM,
    ROUND,
    ROUNDUP,
    VALUE,
    XlErr,
    add,
    div,
    mul,
    num,
    sub,
)
from ..texts import UnknownLanguage, language, t
from ..workbook.checks import difference, fmt
from .bookjson import ISO_DATETIME

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
HIGHER = ("higher", "越高越好", "high", "up")
LOWER = ("lower", "越低越好", "low", "down")
MANUAL = ("manual", "手工评分")
ERROR_TYPES = {"Div0": DIV0, "Value": VALUE, "NotAvailable": "#N/A", "Num": NUM, "Name": "#NAME?", "Ref": "#REF!",
               "Null": "#NULL!"}  # Office.js error entities' errorType → the error


@dataclass(frozen=True)
class Arg:
    """How Excel describes and passes one argument: ndim=2 for a range (always a 2-D list)."""

    doc: str
    ndim: int | None = None


def described(**args: Arg):
    """Attach argument descriptions; functions.py and classic.py turn them into xlwings' options."""

    def inner(f):
        f.__xlplan_args__ = args
        return f

    return inner


def excel_errors(f):
    """Turn every failure into an Excel error value: the cell shows #VALUE!, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except XlErr as e:
            return e.code
        except ZeroDivisionError:
            return DIV0
        except OverflowError:
            return NUM
        except (TypeError, ValueError, IndexError, KeyError):
            return VALUE

    return wrapper


# -- reading arguments as Excel passes them ---------------------------------------------------
def value(x):
    """One cell's value: empty is None, error text is the error, formatted numbers are numbers."""
    if isinstance(x, dict):  # Office.js FormattedNumber / entity: its plain value
        if x.get("type") == "Error":  # an error entity: the error passes through
            raise XlErr(ERROR_TYPES.get(x.get("errorType"), x.get("basicValue") if x.get("basicValue") in ERROR_CODES
                                        else VALUE))
        x = x.get("basicValue", x.get("value"))
    if isinstance(x, str):
        if x == "":
            return None
        if x in ERROR_CODES:
            raise XlErr(x)
        if ISO_DATETIME.match(x):  # a date cell read by a client that sends dates as ISO text
            return dt.datetime.fromisoformat(x.replace("Z", "+00:00")).replace(tzinfo=None)
    return x


def number(x):
    """A cell used in arithmetic, as Excel does it: empty is 0, text is #VALUE!, a date is its serial."""
    x = value(x)
    if isinstance(x, dt.datetime):
        return (x - EXCEL_EPOCH).total_seconds() / 86400
    if isinstance(x, dt.date):
        return (x - EXCEL_EPOCH.date()).days
    return num(x)


def month(x):
    """A month 1–12 from a number or a date (a serial number above 12 is read as a date)."""
    x = value(x)
    if x is None:
        return None
    if isinstance(x, (dt.date, dt.datetime)):
        return x.month
    n = num(x)
    if 1 <= n <= 12 and n == int(n):
        return int(n)
    if n > 12:
        return (EXCEL_EPOCH + dt.timedelta(days=n)).month
    raise XlErr(VALUE)


def flat(x) -> list:
    """A range (2-D list), a row, a column or one value → a flat list, row by row."""
    if isinstance(x, list):
        out = []
        for row in x:
            out.extend(row if isinstance(row, list) else [row])
        return out
    return [x]


def like(shape, values: list):
    """`values` laid out as `shape` was: a row stays a row, a column a column."""
    if isinstance(shape, list) and shape and isinstance(shape[0], list) and len(shape) == 1:
        return [values]
    return [[v] for v in values]


def _pairwise(*ranges):
    """Element-wise over ranges of one size; a single value is used for every element."""
    lists = [flat(r) for r in ranges]
    n = max(len(x) for x in lists)
    if any(len(x) not in (1, n) for x in lists):
        raise XlErr(VALUE)
    return n, [x * n if len(x) == 1 else x for x in lists]


def _each(f, shape_of, *ranges):
    n, lists = _pairwise(*ranges)
    out = []
    for items in zip(*lists):
        try:
            out.append(f(*items))
        except XlErr as e:
            out.append(e.code)
    if n == 1:
        if isinstance(out[0], str) and out[0] in ERROR_CODES:
            raise XlErr(out[0])
        return out[0]
    return like(shape_of, out)


# -- the functions ------------------------------------------------------------------------------
@described(
    opening=Arg("Headcount at the close of last year (one cell).", ndim=2),
    recruits=Arg("Recruits per month: a row or column of 12 cells.", ndim=2),
    attrition=Arg("Attrition per month: same size as recruits.", ndim=2),
)
@excel_errors
def headcount_rollforward(opening, recruits, attrition):
    """Headcount per month rolled forward: last month's headcount + recruits − attrition.

    Returns a row or column like recruits, e.g. opening 2,410, recruits 120, attrition 130 → 2,400.
    """
    start = flat(opening)
    if len(start) != 1:
        raise XlErr(VALUE)
    n, (ins, outs) = _pairwise(recruits, attrition)
    current = number(start[0])
    rows = []
    for r, a in zip(ins, outs):
        current = sub(add(current, number(r)), number(a))
        rows.append(current)
    return like(recruits, rows)


@described(
    target=Arg("Monthly target in 萬元 (10,000 yuan); a cell or a row of months.", ndim=2),
    headcount=Arg("Headcount of the month; same size as target.", ndim=2),
    unit_size=Arg("Yuan per unit of target: 10000 for 萬元 (default), 1 for yuan."),
)
@excel_errors
def productivity(target, headcount, unit_size=10000):
    """Per-capita monthly productivity in yuan, rounded up to a whole yuan (as ROUNDUP).

    900 萬 over 2,400 people → 3,750. A headcount of 0 or less gives #DIV/0!.
    """
    size = number(unit_size)

    def one(t, h):
        h = number(h)
        if h <= 0:
            raise XlErr(DIV0)
        return ROUNDUP(div(mul(number(t), size), h), 0)

    return _each(one, target, target, headcount)


@described(
    quantity=Arg("Quantity (people, pieces ...): a cell or a column.", ndim=2),
    unit_cost=Arg("Cost of one unit in yuan.", ndim=2),
    times=Arg("How many times (sessions, months); 1 when left out.", ndim=2),
)
@excel_errors
def budget_amount(quantity, unit_cost, times=1):
    """Amount of a budget line: quantity × unit cost × times.

    200 people × 80 yuan × 4 sessions → 64,000.
    """
    return _each(lambda q, c, t: mul(mul(number(q), number(c)), number(t)), quantity, quantity, unit_cost, times)


@described(
    amount=Arg("Amount of the budget line in yuan.", ndim=2),
    start=Arg("Start month 1–12, or a date.", ndim=2),
    end=Arg("End month 1–12, or a date.", ndim=2),
    in_month=Arg("The month to show, 1–12, or a date.", ndim=2),
)
@excel_errors
def budget_spread(amount, start, end, in_month):
    """The part of a budget line spent in one month: spread evenly over its active months.

    64,000 from month 1 to 4 → 16,000 in each of months 1–4 and 0 in the others.
    """
    def one(a, s, e, m):
        s, e, m = month(s), month(e), month(m)
        if s is None or e is None or e < s or m is None or m < s or m > e:
            return 0
        return div(number(a), e - s + 1)

    return _each(one, amount, amount, start, end, in_month)


@described(
    result=Arg("The indicator's value for a person (a rate, a count, seconds, a score).", ndim=2),
    weight=Arg("Full points of the indicator, e.g. 30."),
    target=Arg("Value that earns full points."),
    floor=Arg("Value that earns no points."),
    direction=Arg("\"higher\" (default) or \"lower\" is better; 越高越好 / 越低越好 also work."),
    rule=Arg("\"linear\" (default) or \"manual\": manual takes the result as points, capped at the weight."),
)
@excel_errors
def kpi_points(result, weight, target=None, floor=None, direction="higher", rule="linear"):
    """Points of a KPI indicator: weight × (result − floor) ÷ (target − floor), between 0 and the weight.

    Rounded to one decimal as the scorecard does. Conversion 30 % with target 40 % and floor 20 %,
    weight 30 → 15. An empty result gives an empty cell.
    """
    direction = str(value(direction) or "higher").strip().lower()
    rule = str(value(rule) or "linear").strip().lower()
    if direction not in HIGHER + LOWER:
        raise XlErr(VALUE)
    w = number(weight)

    def one(v):
        v = value(v)
        if v is None:
            return ""
        v = number(v)
        if rule in MANUAL:
            return MIN(v, w)
        t, f = number(target), number(floor)
        if t == f:
            met = v >= t if direction in HIGHER else v <= t
            return ROUND(mul(w, 1 if met else 0), 1)
        return ROUND(mul(w, CLAMP(div(sub(v, f), sub(t, f)), 0, 1)), 1)

    return _each(one, result, result)


@described(
    keys=Arg("The key of each row (strategy, region, team ...): a column.", ndim=2),
    amounts=Arg("The amount of each row: same size as keys.", ndim=2),
    key=Arg("Optional: one key; its total is returned. Empty: a table of every key and its total."),
)
@excel_errors
def rollup(keys, amounts, key=None):
    """Totals by key, like SUMIF: one key's total, or every key (in order of appearance) with its total.

    Text keys match without regard to case; rows with an empty key are left out of the table.
    """
    n, (ks, vs) = _pairwise(keys, amounts)
    totals: dict = {}
    labels: dict = {}
    for k, v in zip(ks, vs):
        k, v = value(k), value(v)
        if k is None:
            continue
        norm = k.lower() if isinstance(k, str) else k
        labels.setdefault(norm, k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            totals[norm] = totals.get(norm, 0) + v
        else:
            totals.setdefault(norm, 0)
    wanted = value(key)
    if wanted is not None:
        return totals.get(wanted.lower() if isinstance(wanted, str) else wanted, 0)
    if not totals:
        return ""
    return [[labels[k], totals[k]] for k in totals]


@described(
    parts=Arg("The parts (regions, segments, months ...).", ndim=2),
    total=Arg("The figure the parts must add up to."),
    lang=Arg("\"en\" (default), \"zh-Hans\" (or \"zh\") or \"zh-Hant\": the language of the message."),
)
@excel_errors
def check_total(parts, total, lang="en"):
    """A finding when the parts do not add up to the total, with the difference; empty when they do.

    Regions 500 + 250 + 130 against a month of 900 → "parts add up to 880 but the total is 900 (20 too little)".
    """
    values = [number(v) for v in flat(parts) if value(v) is not None]
    actual = sum(values)
    expected = number(total)
    if abs(actual - expected) <= 0.005:
        return ""
    lang = _language(lang)
    diff = difference(actual, expected, "number", lang)
    return t("check_total", lang).format(actual=fmt(actual), expected=fmt(expected), diff=diff)


@described(
    stated=Arg("The amount typed from the source document."),
    quantity=Arg("Quantity."),
    unit_cost=Arg("Unit cost in yuan."),
    times=Arg("Times; 1 when left out."),
    lang=Arg("\"en\" (default), \"zh-Hans\" (or \"zh\") or \"zh-Hant\"."),
)
@excel_errors
def check_stated(stated, quantity, unit_cost, times=1, lang="en"):
    """A finding when a stated budget amount differs from quantity × unit cost × times; empty when it agrees.

    Stated 6,400 for 200 × 80 × 4 → "stated 6,400 but 200 × 80 × 4 = 64,000 (57,600 too little)".
    """
    if value(stated) is None:
        return ""
    s = number(stated)
    computed = mul(mul(number(quantity), number(unit_cost)), number(times))
    if abs(s - computed) <= 0.005:
        return ""
    lang = _language(lang)
    diff = difference(s, computed, "yuan", lang)
    return t("check_stated", lang).format(stated=fmt(s), quantity=fmt(number(quantity)),
                                          unit_cost=fmt(number(unit_cost)), times=fmt(number(times)),
                                          computed=fmt(computed), diff=diff)


def _language(lang) -> str:
    """The message's language: zh-Hans, zh-Hant or en (the default, also for a code xlplan has no words for)."""
    try:
        return language(str(value(lang) or "en"))
    except UnknownLanguage:
        return "en"


FUNCTIONS = ("headcount_rollforward", "productivity", "budget_amount", "budget_spread", "kpi_points",
             "rollup", "check_total", "check_stated")
