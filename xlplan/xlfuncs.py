"""Excel's semantics in Python, for the code the formula compiler generates.

Each function here behaves like the Excel function of the same name on the values a
plan holds: numbers, text, empty cells (None), the empty text a formula returns ("")
and error values. The generated engine calls only these, so a number computed in
Python is the number Excel and LibreOffice show in the cell.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


class XlErr(Exception):
    """An Excel error value (#VALUE!, #DIV/0!, ...), raised to propagate and stored as a value."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    def __eq__(self, other):
        return isinstance(other, XlErr) and other.code == self.code

    def __hash__(self):
        return hash(self.code)

    def __repr__(self):
        return f"XlErr({self.code!r})"

    def __str__(self):
        return self.code


VALUE = "#VALUE!"
DIV0 = "#DIV/0!"
NA = "#N/A"
REF = "#REF!"
NUM = "#NUM!"
ERROR_CODES = (VALUE, DIV0, NA, REF, NUM, "#NAME?", "#NULL!")


class Rng(tuple):
    """A range argument: functions such as SUM skip text and blanks inside it."""


def num(x):
    """A value used in arithmetic: empty cell is 0, TRUE is 1, text is #VALUE!."""
    if x is None:
        return 0
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, (int, float)):
        return x
    if isinstance(x, XlErr):
        raise x
    raise XlErr(VALUE)


def add(a, b):
    return num(a) + num(b)


def sub(a, b):
    return num(a) - num(b)


def mul(a, b):
    return num(a) * num(b)


def div(a, b):
    a, b = num(a), num(b)
    if b == 0:
        raise XlErr(DIV0)
    return a / b


def power(a, b):
    a, b = num(a), num(b)
    try:
        result = a**b
    except ZeroDivisionError:
        raise XlErr(DIV0) from None
    if isinstance(result, complex):
        raise XlErr(NUM)
    return result


def neg(a):
    return -num(a)


def _rank(x):
    """Excel orders numbers < text < logicals; empty compares as 0 or ""."""
    if isinstance(x, XlErr):
        raise x
    if isinstance(x, bool):
        return (2, x)
    if isinstance(x, (int, float)):
        return (0, x)
    return (1, x.lower())


def _pair(a, b):
    if a is None:
        a = "" if isinstance(b, str) else 0
    if b is None:
        b = "" if isinstance(a, str) else 0
    return _rank(a), _rank(b)


_PLAIN = (int, float)  # numbers compare directly: the common case, kept fast


def eq(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a == b
    x, y = _pair(a, b)
    return x == y


def ne(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a != b
    x, y = _pair(a, b)
    return x != y


def lt(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a < b
    x, y = _pair(a, b)
    return x < y


def le(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a <= b
    x, y = _pair(a, b)
    return x <= y


def gt(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a > b
    x, y = _pair(a, b)
    return x > y


def ge(a, b):
    if type(a) in _PLAIN and type(b) in _PLAIN:
        return a >= b
    x, y = _pair(a, b)
    return x >= y


def truth(c):
    """The condition of IF: numbers and logicals; empty is FALSE; text is #VALUE!."""
    if c is None:
        return False
    if isinstance(c, (bool, int, float)):
        return bool(c)
    if isinstance(c, XlErr):
        raise c
    raise XlErr(VALUE)


def AND(*args):
    return all([truth(a) for a in args])


def OR(*args):
    return any([truth(a) for a in args])


def NOT(a):
    return not truth(a)


def _numbers(args):
    """Numbers for SUM and friends: ranges skip text and blanks, direct arguments must be numbers."""
    out = []
    for a in args:
        if isinstance(a, Rng):
            for v in a:
                if isinstance(v, XlErr):
                    raise v
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append(v)
        else:
            out.append(num(a))
    return out


def SUM(*args):
    return math.fsum(_numbers(args)) if args else 0


def MIN(*args):
    values = _numbers(args)
    return min(values) if values else 0


def MAX(*args):
    values = _numbers(args)
    return max(values) if values else 0


def AVERAGE(*args):
    values = _numbers(args)
    if not values:
        raise XlErr(DIV0)
    return math.fsum(values) / len(values)


def COUNT(*args):
    return len(_numbers(args))


def ABS(a):
    return abs(num(a))


def _digits(x: float) -> Decimal:
    """Excel rounds to 15 significant digits before ROUND, ROUNDUP and ROUNDDOWN look at a value."""
    return Decimal(f"{x:.15g}")


def ROUND(x, n=0):
    x, n = num(x), int(num(n))
    q = Decimal(1).scaleb(-n)
    return float(_digits(x).quantize(q, rounding=ROUND_HALF_UP))


def ROUNDUP(x, n=0):
    x, n = num(x), int(num(n))
    d = _digits(abs(x)).scaleb(n)
    r = float(Decimal(math.ceil(d)).scaleb(-n))
    return -r if x < 0 else r


def ROUNDDOWN(x, n=0):
    x, n = num(x), int(num(n))
    d = _digits(abs(x)).scaleb(n)
    r = float(Decimal(math.floor(d)).scaleb(-n))
    return -r if x < 0 else r


def CLAMP(x, lo, hi):
    """MAX(lo, MIN(hi, x)): scoring rules cap points between nothing and full marks."""
    return MAX(lo, MIN(hi, x))


def _matches(value, criterion):
    """SUMIF's criterion in its plain form: equality, case-insensitive for text."""
    if isinstance(value, XlErr):
        return False
    if criterion is None or criterion == "":
        return value is None or value == ""
    if isinstance(criterion, str):
        return isinstance(value, str) and value.lower() == criterion.lower()
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == criterion


def SUMIF(rng, criterion, sum_rng):
    if isinstance(criterion, XlErr):
        raise criterion
    total = []
    for v, s in zip(rng, sum_rng):
        if _matches(v, criterion):
            if isinstance(s, XlErr):
                raise s
            if isinstance(s, (int, float)) and not isinstance(s, bool):
                total.append(s)
    return math.fsum(total)


def COUNTIF(rng, criterion):
    if isinstance(criterion, XlErr):
        raise criterion
    return sum(1 for v in rng if _matches(v, criterion))


def RANK(x, rng):
    """Rank in descending order, 1 for the largest; ties share the better rank."""
    x = num(x)
    values = _numbers([Rng(rng)])
    if x not in values:
        raise XlErr(NA)
    return 1 + sum(1 for v in values if v > x)


def INDEX(rng, n):
    n = int(num(n))
    if n < 1 or n > len(rng):
        raise XlErr(REF)
    value = rng[n - 1]
    return 0 if value is None else value


def ROWS(rng):
    return len(rng)


def value_of(x):
    """What a formula that is just a reference shows: an empty cell shows 0."""
    if x is None:
        return 0
    return x
