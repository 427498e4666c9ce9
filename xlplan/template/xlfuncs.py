"""Excel's semantics in Python, for the code the formula compiler generates.

Each function here behaves like the Excel function of the same name on the values a
plan holds: numbers, text, empty cells (None), the empty text a formula returns ("")
and error values. The generated engine calls only these, so a number computed in
Python is the number Excel and LibreOffice show in the cell.
"""
from __future__ import annotations

import functools
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable


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
# every error value Excel can store: the classic seven and Excel 365's newer ones
ERROR_CODES = (VALUE, DIV0, NA, REF, NUM, "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
               "#GETTING_DATA", "#BLOCKED!", "#FIELD!", "#UNKNOWN!", "#CONNECT!", "#BUSY!", "#PYTHON!",
               "#EXTERNAL!", "#TIMEOUT!")


class Rng(tuple):
    """A range argument: functions such as SUM skip text and blanks inside it."""


def num(x):
    """A value used in arithmetic: empty cell is 0, TRUE is 1, text is #VALUE!."""
    kind = type(x)
    if kind is float or kind is int or (kind is not bool and isinstance(x, (int, float))):
        if x - x == 0:  # finite; infinity and NaN (an overflow: 1e307 × 12) are Excel's #NUM!
            return x
        raise XlErr(NUM)
    if x is None:
        return 0
    if kind is bool:
        return int(x)
    if isinstance(x, XlErr):
        raise x
    raise XlErr(VALUE)


_E48 = 2.0**-48


def _whole(x: float) -> bool:
    """x >= 0 is a whole number below 2^53, as LibreOffice's isRepresentableInteger
    (sal/rtl/math.cxx) decides. Every double from 2^52 to 2^53 is whole, so there two
    different numbers are never approximately equal: a budget total near 8e15 less the
    months' total 1 higher is -1, not 0."""
    return x < 2.0**53 and x == int(x)


def approx_equal(a: float, b: float) -> bool:
    """Equal but for rounding noise, as LibreOffice decides (rtl::math::approxEqual).

    Two numbers are equal when they differ by less than 2^-48 of each, unless both are
    whole numbers below 2^53 (see _whole). LibreOffice uses this for = < > and to make
    a - b exactly 0: without it 0.1 + 0.2 - 0.3 is 5.6e-17 and (0.1 + 0.2) = 0.3 is FALSE.
    """
    if a == b:
        return True
    if a == 0 or b == 0:
        return False
    d = abs(a - b)
    if not math.isfinite(d):
        return False
    a, b = abs(a), abs(b)
    if _whole(d) and _whole(a) and _whole(b):
        return False
    return d < a * _E48 and d < b * _E48


def add(a, b):
    a, b = num(a), num(b)
    s = a + b
    # LibreOffice's approxAdd: opposite numbers cancel exactly (checked only when the
    # sum is tiny next to them, so the common case costs one comparison)
    if s != 0 and abs(s) < abs(a) * _E48 and ((a < 0 < b) or (b < 0 < a)) and approx_equal(a, -b):
        return 0.0
    return s


def sub(a, b):
    a, b = num(a), num(b)
    d = a - b
    # LibreOffice's approxSub: region total − month target is 0, not 1e-13
    if d != 0 and abs(d) < abs(a) * _E48 and ((a < 0 and b < 0) or (a > 0 and b > 0)) and approx_equal(a, b):
        return 0.0
    return d


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


def _compare(a, b) -> int:
    """-1, 0 or 1: numbers equal within rounding noise (approx_equal) compare as equal."""
    if a is None:
        a = "" if type(b) is str else 0
    if b is None:
        b = "" if type(a) is str else 0
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if a == b:
            return 0
        d = abs(a - b)
        if d < abs(a) * _E48 and d < abs(b) * _E48 and approx_equal(a, b):
            return 0
        return -1 if a < b else 1
    if ta is str and tb is str:
        x, y = a.lower(), b.lower()
        return (x > y) - (x < y)
    x, y = _pair(a, b)
    if x[0] == y[0] == 0 and approx_equal(x[1], y[1]):
        return 0
    return (x > y) - (x < y)


def eq(a, b):
    return _compare(a, b) == 0


def is_blank(a):
    """eq(a, ""), as Excel compares with "": an empty cell or text is blank, a number or logical is not."""
    if a is None or a == "":
        return True
    if isinstance(a, XlErr):
        raise a
    return False


def not_blank(a):
    return not is_blank(a)


def ne(a, b):
    return _compare(a, b) != 0


def lt(a, b):
    return _compare(a, b) < 0


def le(a, b):
    return _compare(a, b) <= 0


def gt(a, b):
    return _compare(a, b) > 0


def ge(a, b):
    return _compare(a, b) >= 0


def truth(c):
    """The condition of IF: numbers and logicals; empty is FALSE; text is #VALUE!."""
    t = type(c)
    if t is bool:
        return c
    if c is None:
        return False
    if t is int or t is float or isinstance(c, (bool, int, float)):
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
                kind = type(v)
                if kind is float or kind is int:  # the usual cells first: a number, a blank, a text
                    out.append(v)
                elif v is None or kind is str:
                    continue
                elif isinstance(v, XlErr):
                    raise v
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append(v)
        else:
            out.append(num(a))
    return out


def _sum(values) -> float:
    """Sum as LibreOffice adds (sc/inc/kahan.hxx): Neumaier's compensated sum, the last
    addend held back and added as approxAdd would, so 0.1 + 0.2 - 0.3 sums to 0.
    (Each step of Neumaier's sum is written out where it is taken: a function per addend
    cost more than the sum.)"""
    total = error = 0.0
    held = None
    for x in values:
        if x == 0:
            continue
        if held is not None:
            t = total + held
            error += (total - t) + held if abs(total) >= abs(held) else (held - t) + total
            total = t
        held = x
    if held is None:
        return 0.0
    so_far = total + error
    if ((held < 0 < so_far) or (so_far < 0 < held)) and approx_equal(held, -so_far):
        return 0.0
    t = total + held
    error += (total - t) + held if abs(total) >= abs(held) else (held - t) + total
    return t + error


def SUM(*args):
    return _sum(_numbers(args)) if args else 0


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
    return _sum(values) / len(values)


def PRODUCT(*args):
    """The product of the numbers given; empty cells and text in a reference are skipped,
    so a cost line of "1,000 yuan × 4 times" leaves people and days blank. No numbers: 0."""
    values = _numbers(args)
    if not values:
        return 0
    out = 1
    for v in values:
        out *= v
    return num(out)


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


def _before_up_down(x: float, n: int) -> Decimal:
    """The value ROUNDUP and ROUNDDOWN look at: LibreOffice first rounds to 12 significant
    digits below 1e12 (its fix for tdf#124286), so ROUNDUP(3750.00000000375, 0) is 3750."""
    if n < 12 and abs(x) < 1e12:
        return Decimal(f"{x:.12g}")
    return _digits(x)


def ROUNDUP(x, n=0):
    x, n = num(x), int(num(n))
    d = _before_up_down(abs(x), n).scaleb(n)
    r = float(Decimal(math.ceil(d)).scaleb(-n))
    return -r if x < 0 else r


def ROUNDDOWN(x, n=0):
    x, n = num(x), int(num(n))
    d = _before_up_down(abs(x), n).scaleb(n)
    r = float(Decimal(math.floor(d)).scaleb(-n))
    return -r if x < 0 else r


def CLAMP(x, lo, hi):
    """MAX(lo, MIN(hi, x)): scoring rules cap points between nothing and full marks."""
    return MAX(lo, MIN(hi, x))


def _criterion(criterion) -> Callable[[Any], bool]:
    """SUMIF's criterion in its plain form, as a test of one value: equality, case-insensitive
    for text. Worked out once per call, then applied to each cell of the range."""
    if criterion is None:
        # an empty criterion *cell* means 0 in Excel and LibreOffice, never "blank"
        criterion = 0
    if criterion == "":
        return _is_empty
    if isinstance(criterion, str):
        number = float(criterion) if _NUMBER_TEXT.fullmatch(criterion) else None  # "12" also counts 12
        pattern = _wildcards(criterion).fullmatch
        return lambda value: (pattern(value) is not None if isinstance(value, str)
                              else number is not None and _is_number(value) and value == number)
    return lambda value: _is_number(value) and value == criterion


def _is_empty(value) -> bool:
    return value is None or value == ""


_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@functools.lru_cache(maxsize=256)
def _wildcards(criterion: str) -> re.Pattern:
    """Text criteria as Excel (and LibreOffice with .xlsx files) read them: * any text,
    ? one character, ~ makes the next one literal; case-insensitive."""
    parts, escaped = [], False
    for ch in criterion:
        if escaped:
            parts.append(re.escape(ch))
            escaped = False
        elif ch == "~":
            escaped = True
        elif ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    if escaped:
        parts.append(re.escape("~"))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def SUMIF(rng, criterion, sum_rng):
    if isinstance(criterion, XlErr):
        raise criterion
    matches = _criterion(criterion)
    total = []
    for v, s in zip(rng, sum_rng):
        if matches(v):
            if isinstance(s, XlErr):
                raise s
            if isinstance(s, (int, float)) and not isinstance(s, bool):
                total.append(s)
    return _sum(total)


def COUNTIF(rng, criterion):
    if isinstance(criterion, XlErr):
        raise criterion
    matches = _criterion(criterion)
    return sum(1 for v in rng if matches(v))


def RANK(x, rng):
    """Rank in descending order, 1 for the largest; ties share the better rank."""
    x = num(x)
    values = _numbers([Rng(rng)])
    if x not in values:
        raise XlErr(NA)
    return 1 + sum(1 for v in values if v > x)


def INDEX(rng, n):
    if type(n) is not int:  # the engine's own positions are ints already
        n = int(num(n))
    if n < 1 or n > len(rng):
        raise XlErr(REF)
    # INDEX returns a reference: an empty cell stays empty, so INDEX(...)="" is TRUE as
    # in Excel and LibreOffice; value_of shows it as 0 only when a formula ends there.
    return rng[n - 1]


def ROWS(rng):
    return len(rng)


def value_of(x):
    """What a formula that is just a reference shows: an empty cell shows 0."""
    if x is None:
        return 0
    return x
