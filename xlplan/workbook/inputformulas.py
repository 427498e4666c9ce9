"""Formulas typed into input cells and saved without a result.

A spreadsheet program saves each formula with its result; a tool that does not
calculate (a script, a converter, some web editors) saves the formula alone, and a
reader would see a blank: totals would drop without a word. The reader computes what
it can itself — arithmetic (+ - * / ^, %, parentheses) on numbers and on other cells
of the workbook — and says so in a note; anything else (a function, a name, text) is
an error at the cell, never a silent blank.
"""
from __future__ import annotations

import math
import re
from typing import Callable

from ..template.xlfuncs import XlErr
from . import ooxml

TOKEN = re.compile(r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[^\s!'(),=+\-*/^&<>:;{}%"]+)!)?\$?[A-Za-z]{1,3}\$?\d+(?![\w(!:.]))
  | (?P<op>[-+*/^()%])
)""", re.X)
REF = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^!]+)!)?\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d+)$")
MAX_DEPTH = 20  # references followed from one formula to another


class CannotCompute(Exception):
    """The formula holds something the reader does not compute (a function, a name, text, a cycle)."""


Lookup = Callable[[str, int, int, int], object]  # (sheet, row, col, depth) -> value


def evaluate(formula: str, sheet: str, lookup: Lookup, depth: int = 0):
    """The value of an arithmetic formula (without "="): a number, or an XlErr."""
    if depth > MAX_DEPTH:
        raise CannotCompute("references nested too deep, or circular")
    tokens = _tokens(formula)
    parser = _Parser(tokens, sheet, lookup, depth)
    try:
        value = parser.expression()
    except XlErr as err:
        return err
    if parser.i != len(tokens):
        raise CannotCompute(f"unexpected {tokens[parser.i][1]!r}")
    if isinstance(value, float) and not math.isfinite(value):
        return XlErr("#NUM!")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _tokens(formula: str) -> list[tuple[str, str]]:
    out, i = [], 0
    text = formula.strip()
    while i < len(text):
        m = TOKEN.match(text, i)
        if not m or m.end() == i:
            raise CannotCompute(f"cannot compute {text[i:i + 12]!r}")
        kind = str(m.lastgroup)  # every alternative of TOKEN is a named group
        out.append((kind, m.group(kind)))
        i = m.end()
        while i < len(text) and text[i].isspace():
            i += 1
    return out


class _Parser:
    def __init__(self, tokens, sheet, lookup, depth):
        self.tokens, self.sheet, self.lookup, self.depth = tokens, sheet, lookup, depth
        self.i = 0

    def peek(self):
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expression(self):
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = self.power()
            if op == "*":
                value = value * right
            elif right == 0:
                raise XlErr("#DIV/0!")
            else:
                value = value / right
        return value

    def power(self):
        value = self.unary()
        while self.peek() == "^":
            self.take()
            exponent = self.unary()
            try:
                value = float(value) ** exponent
            except (OverflowError, ZeroDivisionError):
                raise XlErr("#NUM!") from None
            if isinstance(value, complex):
                raise XlErr("#NUM!")
        return value

    def unary(self):
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            value = self.unary()
            return -value if op == "-" else value
        value = self.primary()
        while self.peek() == "%":
            self.take()
            value = value / 100
        return value

    def primary(self):
        if self.i >= len(self.tokens):
            raise CannotCompute("the formula ends too soon")
        kind, text = self.take()
        if kind == "num":
            number = float(text)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        if kind == "ref":
            return self.reference(text)
        if text == "(":
            value = self.expression()
            if self.peek() != ")":
                raise CannotCompute("a parenthesis is not closed")
            self.take()
            return value
        raise CannotCompute(f"unexpected {text!r}")

    def reference(self, text):
        m = REF.match(text)
        sheet = m.group("sheet")
        if sheet:
            sheet = ooxml.sheet_name(sheet)
        else:
            sheet = self.sheet
        col = ooxml.column_number(m.group("col").upper())
        value = self.lookup(sheet, int(m.group("row")), col, self.depth + 1)
        if isinstance(value, XlErr):
            raise value
        if value is None or value == "":
            return 0  # an empty cell counts as nothing, as in Excel
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return value
        raise XlErr("#VALUE!")  # text in arithmetic
