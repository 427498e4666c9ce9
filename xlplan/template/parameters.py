"""A cycle parameter's value against the type its template declares.

A template declares its parameters with their defaults (`params:` in its head), and the
default's type is the parameter's type: a whole number (rows of a table, slots of a
list), a number, true/false, a short text, or a list (a default of null, a list or a
per-language mapping). Values come from people: `--param` and a data file when a
workbook is made (spec.check_parameters), and the workbook's own record when it is read
back (workbook/metadata.py). Both ask `misfit`, so a workbook `xlplan new` makes is one
the reader accepts.
"""
from __future__ import annotations

MAX_COUNT = 1_000  # rows or slots of one list: a plan with more is no plan a person fills in
MAX_TEXT = 200
MAX_ITEMS = 200
MAX_NUMBER = 1e15
MAX_DEPTH = 3


def misfit(value, default, most: int = MAX_COUNT, limit: str = "the most a plan holds") -> str | None:
    """What is wrong with `value` for a parameter whose default is `default` (None if nothing), as
    the end of a sentence naming the parameter. A whole number must lie in 0–`most`; `limit`
    says where that bound comes from."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"must be true or false, found {value!r:.40}"
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or (isinstance(value, float) and not value.is_integer()):  # also NaN and ±Infinity
            return f"must be a whole number, found {value!r:.40}"
        if not 0 <= value <= most:
            return f"is {value:,}, outside 0–{most:,} ({limit})"
        return None
    if isinstance(default, float):
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < MAX_NUMBER \
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
    if depth > MAX_DEPTH:
        return "nests too deep"
    if isinstance(value, str):
        return None if len(value) <= MAX_TEXT else "holds a text that is too long"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if abs(value) < MAX_NUMBER else "holds a number that is too large"
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


def as_declared(value, default):
    """A value that fits (see `misfit`) as its declared type: 20.0 for a whole number is 20."""
    return int(value) if isinstance(default, int) and not isinstance(default, bool) else value
