"""One formula, two targets: the live Excel formula and the Python engine.

A computed block states its formula once, in a small expression language with
Python's syntax, over the names of other blocks:

    headcount[month - 1] + recruits - attrition      if month > 1 ...
    blank if headcount == 0 else roundup(target * 10000 / headcount, 0)
    sum(region_plan[:, month])
    sumif(actions.strategy, strategy, actions.amount)

Rules of the language:
- A block's name alone means the cell at the same position when every axis of that
  block is an axis of the block being computed (``recruits`` in a monthly row means
  this month's recruits); a single-cell block is that cell; otherwise the whole range.
- ``x[i]`` and ``x[i, j]`` index a block's axes, counting from 1; ``a:b`` is the range
  from a to b *inclusive*, ``:`` the whole axis. Index expressions may use the axis
  names of the block being computed (``month``, ``region`` ...) and are worked out
  when the formula is compiled, as are conditions that use only them.
- ``table.column`` is a whole column of an Excel table; inside a table's own column
  formula, ``column`` alone is the same row, and ``row`` the row's number.
- ``blank`` is the empty text Excel shows for "nothing to show".
- Functions: sum, min, max, average, count, abs, round, roundup, rounddown, clamp,
  sumif, countif, rank, index, rows; ``and``, ``or``, ``not``; ``a if c else b``.

`to_excel` renders a formula for one cell of the workbook; `to_python` renders Python
source that the engine compiles once per template (see compute.py).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Protocol

from ..model import TemplateError

# name in the language -> (Excel function, Python function in xlfuncs)
FUNCTIONS = {
    "sum": ("SUM", "SUM"),
    "min": ("MIN", "MIN"),
    "max": ("MAX", "MAX"),
    "average": ("AVERAGE", "AVERAGE"),
    "count": ("COUNT", "COUNT"),
    "abs": ("ABS", "ABS"),
    "round": ("ROUND", "ROUND"),
    "roundup": ("ROUNDUP", "ROUNDUP"),
    "rounddown": ("ROUNDDOWN", "ROUNDDOWN"),
    "sumif": ("SUMIF", "SUMIF"),
    "countif": ("COUNTIF", "COUNTIF"),
    "rank": ("RANK", "RANK"),
    "index": ("INDEX", "INDEX"),
    "rows": ("ROWS", "ROWS"),
}
# arguments that take a range as it is (no SUM-style skipping needed, just the cells)
RANGE_ARGS = {"sumif": (0, 2), "countif": (0,), "rank": (1,), "index": (0,), "rows": (0,)}
# Excel skips empty cells and text in a *reference* argument of these, even a single
# cell: MIN(A1, 5) is 5 and COUNT(A1) is 0 when A1 is empty, SUM(A1) is 0 when A1 holds "".
REFERENCE_SKIPPING = ("sum", "min", "max", "average", "count")

BINOPS = {ast.Add: ("+", "add", 4), ast.Sub: ("-", "sub", 4), ast.Mult: ("*", "mul", 5),
          ast.Div: ("/", "div", 5), ast.Pow: ("^", "power", 6)}
CMPOPS = {ast.Eq: ("=", "eq"), ast.NotEq: ("<>", "ne"), ast.Lt: ("<", "lt"),
          ast.LtE: ("<=", "le"), ast.Gt: (">", "gt"), ast.GtE: (">=", "ge")}


class Layout(Protocol):
    """What the compiler needs to know about where blocks are."""

    def axes(self, block: str) -> tuple[str | None, str | None]: ...
    def size(self, dim: str) -> int: ...
    def table_of(self, block: str) -> str | None: ...
    def excel_cell(self, block: str, r: int, c: int, home_sheet: str) -> str: ...
    def excel_range(self, block: str, r0: int, r1: int, c0: int, c1: int, home_sheet: str) -> str: ...
    def excel_column(self, block: str) -> str: ...
    def excel_row_cell(self, block: str, row: int, structured: bool) -> str: ...


@dataclass(frozen=True)
class Context:
    """The cell a formula is being compiled for."""

    block: str  # the computed block
    table: str | None  # its table, when it is a table column
    bindings: dict  # axis name -> 1-based position, for fixed blocks
    sheet: str  # its sheet's title, so same-sheet references stay short
    row: int | None = None  # 1-based table row, for Excel


def parse(source: str, where: str) -> ast.expr:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise TemplateError(f"{where}: formula {source!r} is not valid: {exc.msg}") from None
    return tree.body


def names_used(tree: ast.expr) -> set[str]:
    """Every block or table referred to: for dependency order."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            out.add(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Name):
            out.add(node.id)
    return out


class _Ref:
    """A resolved reference: one cell or a range of a block."""

    def __init__(self, block, cells=None, whole_column=False, same_row=False):
        self.block = block
        self.cells = cells  # list of (r, c), 1-based, for fixed blocks
        self.whole_column = whole_column
        self.same_row = same_row

    @property
    def is_range(self):
        return self.whole_column or (self.cells is not None and len(self.cells) != 1)


class Compiler:
    """Walks a formula for one cell and renders it for Excel or Python."""

    def __init__(self, layout: Layout, blocks: set[str], where: str):
        self.layout = layout
        self.blocks = blocks
        self.where = where

    def fail(self, message: str):
        raise TemplateError(f"{self.where}: {message}")

    # -- static evaluation of indexes and conditions --------------------------------
    def static(self, node, ctx: Context):
        """The value of an expression made only of numbers and bound axis names, else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id in ctx.bindings:
            return ctx.bindings[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.static(node.operand, ctx)
            return None if v is None else -v
        if isinstance(node, ast.BinOp):
            a, b = self.static(node.left, ctx), self.static(node.right, ctx)
            if a is None or b is None:
                return None
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b}
            return ops[type(node.op)]() if type(node.op) in ops else None
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            a, b = self.static(node.left, ctx), self.static(node.comparators[0], ctx)
            if a is None or b is None:
                return None
            cmp = {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b,
                   ast.Gt: a > b, ast.GtE: a >= b}
            return cmp[type(node.ops[0])]
        if isinstance(node, ast.BoolOp):
            values = [self.static(v, ctx) for v in node.values]
            if any(v is None for v in values):
                return None
            return all(values) if isinstance(node.op, ast.And) else any(values)
        return None

    # -- references --------------------------------------------------------------
    def resolve(self, node, ctx: Context) -> _Ref | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name not in self.blocks:
                self.fail(f"unknown table column {name!r}")
            return _Ref(name, whole_column=True)
        if isinstance(node, ast.Name):
            if node.id in ctx.bindings or node.id in ("blank", "row"):
                return None
            name = node.id
            if ctx.table and f"{ctx.table}.{name}" in self.blocks:
                return _Ref(f"{ctx.table}.{name}", same_row=True)
            if name not in self.blocks:
                self.fail(f"unknown name {name!r}")
            if self.layout.table_of(name):
                self.fail(f"{name!r} is a table column: write table.column")
            return self.broadcast(name, ctx)
        if isinstance(node, ast.Subscript):
            base = node.value
            if not isinstance(base, ast.Name) or base.id not in self.blocks:
                self.fail(f"only blocks can be indexed: {ast.unparse(node)}")
            return self.subscript(base.id, node.slice, ctx)
        return None

    def broadcast(self, name, ctx):
        axes = [a for a in self.layout.axes(name) if a]
        rows_dim, cols_dim = self.layout.axes(name)
        if all(a in ctx.bindings for a in axes):
            r = ctx.bindings[rows_dim] if rows_dim else 1
            c = ctx.bindings[cols_dim] if cols_dim else 1
            return _Ref(name, cells=[(r, c)])
        return _Ref(name, cells=self.all_cells(name))

    def all_cells(self, name):
        rows_dim, cols_dim = self.layout.axes(name)
        nr = self.layout.size(rows_dim) if rows_dim else 1
        nc = self.layout.size(cols_dim) if cols_dim else 1
        return [(r, c) for r in range(1, nr + 1) for c in range(1, nc + 1)]

    def subscript(self, name, index, ctx):
        rows_dim, cols_dim = self.layout.axes(name)
        axes = [a for a in (rows_dim, cols_dim) if a]
        parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if len(parts) != len(axes):
            self.fail(f"{name} has {len(axes)} axes, indexed with {len(parts)}")
        spans = []
        for part, axis in zip(parts, axes):
            size = self.layout.size(axis)
            if isinstance(part, ast.Slice):
                lo = 1 if part.lower is None else self.static(part.lower, ctx)
                hi = size if part.upper is None else self.static(part.upper, ctx)
                if lo is None or hi is None:
                    self.fail(f"range bounds must be fixed: {ast.unparse(part)}")
                spans.append(range(int(lo), int(hi) + 1))
            else:
                i = self.static(part, ctx)
                if i is None:
                    self.fail(f"index must be fixed: {ast.unparse(part)}")
                spans.append(range(int(i), int(i) + 1))
            if spans[-1].start < 1 or spans[-1].stop - 1 > size:
                self.fail(f"index out of range: {ast.unparse(part)} on {axis} (1..{size})")
        by_axis = dict(zip(axes, spans))
        rs = by_axis.get(rows_dim, range(1, 2)) if rows_dim else range(1, 2)
        cs = by_axis.get(cols_dim, range(1, 2)) if cols_dim else range(1, 2)
        return _Ref(name, cells=[(r, c) for r in rs for c in cs])


class ExcelRenderer(Compiler):
    """Renders the formula of one cell as Excel text (without the leading '=')."""

    def __init__(self, layout, blocks, where, structured=False):
        super().__init__(layout, blocks, where)
        self.structured = structured  # table rows as [#This Row] (calculated column formula)

    def render(self, node, ctx: Context) -> str:
        return self.expr(node, ctx)[0]

    def ref_text(self, ref: _Ref, ctx: Context) -> str:
        if ref.whole_column:
            return self.layout.excel_column(ref.block)
        if ref.same_row:
            return self.layout.excel_row_cell(ref.block, ctx.row, self.structured)
        rs = [r for r, _ in ref.cells]
        cs = [c for _, c in ref.cells]
        if len(ref.cells) == 1:
            return self.layout.excel_cell(ref.block, rs[0], cs[0], ctx.sheet)
        return self.layout.excel_range(ref.block, min(rs), max(rs), min(cs), max(cs), ctx.sheet)

    def expr(self, node, ctx) -> tuple[str, int]:
        """Text and precedence (higher binds tighter) of an expression."""
        atom = 9
        ref = self.resolve(node, ctx)
        if ref is not None:
            return self.ref_text(ref, ctx), atom
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return ("TRUE" if node.value else "FALSE"), atom
            if isinstance(node.value, (int, float)):
                return repr(node.value), atom
            if isinstance(node.value, str):
                return '"' + node.value.replace('"', '""') + '"', atom
        if isinstance(node, ast.Name):
            if node.id == "blank":
                return '""', atom
            if node.id in ctx.bindings:
                return str(ctx.bindings[node.id]), atom
            if node.id == "row":
                return str(ctx.row), atom
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                text, prec = self.expr(node.operand, ctx)
                return f"-{text if prec >= 7 else f'({text})'}", 7
            if isinstance(node.op, ast.Not):
                return f"NOT({self.expr(node.operand, ctx)[0]})", atom
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            op, _, prec = BINOPS[type(node.op)]
            left, lp = self.expr(node.left, ctx)
            right, rp = self.expr(node.right, ctx)
            if lp < prec or (op == "^" and lp <= prec):
                left = f"({left})"
            if rp <= prec:
                right = f"({right})"
            return f"{left}{op}{right}", prec
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op = CMPOPS[type(node.ops[0])][0]
            left, lp = self.expr(node.left, ctx)
            right, rp = self.expr(node.comparators[0], ctx)
            left = left if lp > 2 else f"({left})"
            right = right if rp > 2 else f"({right})"
            return f"{left}{op}{right}", 2
        if isinstance(node, ast.BoolOp):
            fn = "AND" if isinstance(node.op, ast.And) else "OR"
            return f"{fn}({','.join(self.expr(v, ctx)[0] for v in node.values)})", atom
        if isinstance(node, ast.IfExp):
            fixed = self.static(node.test, ctx)
            if fixed is not None:
                return self.expr(node.body if fixed else node.orelse, ctx)
            test = self.expr(node.test, ctx)[0]
            body = self.expr(node.body, ctx)[0]
            orelse = self.expr(node.orelse, ctx)[0]
            return f"IF({test},{body},{orelse})", atom
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            args = [self.expr(a, ctx)[0] for a in node.args]
            if name == "clamp" and len(args) == 3:
                return f"MAX({args[1]},MIN({args[2]},{args[0]}))", atom
            if name not in FUNCTIONS:
                self.fail(f"unknown function {name}()")
            return f"{FUNCTIONS[name][0]}({','.join(args)})", atom
        self.fail(f"cannot use {ast.unparse(node)!r} in a formula")


class PythonRenderer(Compiler):
    """Renders the formula of one cell as a Python expression over V (blocks) and T (tables).

    Fixed blocks are V[name][r][c] (0-based); a table column is T[name], a list; inside
    a table's loop the current row is `i` (0-based).
    """

    def render(self, node, ctx: Context) -> str:
        return self.expr(node, ctx)

    def cell(self, block, r, c):
        return f"V[{block!r}][{r - 1}][{c - 1}]"

    def ref_text(self, ref: _Ref, ctx, as_range=False) -> str:
        if ref.whole_column:
            return f"T[{ref.block!r}]"
        if ref.same_row:
            return f"T[{ref.block!r}][i]"
        if len(ref.cells) == 1 and not as_range:
            return self.cell(ref.block, *ref.cells[0])
        return "(" + "".join(self.cell(ref.block, r, c) + "," for r, c in ref.cells) + ")"

    def expr(self, node, ctx) -> str:
        ref = self.resolve(node, ctx)
        if ref is not None:
            if ref.is_range:
                return f"Rng({self.ref_text(ref, ctx, as_range=True)})"
            return self.ref_text(ref, ctx)
        if isinstance(node, ast.Constant):
            return repr(node.value)
        if isinstance(node, ast.Name):
            if node.id == "blank":
                return "''"
            if node.id in ctx.bindings:
                return str(ctx.bindings[node.id])
            if node.id == "row":
                return "(i+1)"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return f"neg({self.expr(node.operand, ctx)})"
            if isinstance(node.op, ast.Not):
                return f"NOT({self.expr(node.operand, ctx)})"
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            fn = BINOPS[type(node.op)][1]
            return f"{fn}({self.expr(node.left, ctx)},{self.expr(node.right, ctx)})"
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            fn = CMPOPS[type(node.ops[0])][1]
            return f"{fn}({self.expr(node.left, ctx)},{self.expr(node.comparators[0], ctx)})"
        if isinstance(node, ast.BoolOp):
            fn = "AND" if isinstance(node.op, ast.And) else "OR"
            return f"{fn}({','.join(self.expr(v, ctx) for v in node.values)})"
        if isinstance(node, ast.IfExp):
            fixed = self.static(node.test, ctx)
            if fixed is not None:
                return self.expr(node.body if fixed else node.orelse, ctx)
            return (f"({self.expr(node.body, ctx)} if truth({self.expr(node.test, ctx)}) "
                    f"else {self.expr(node.orelse, ctx)})")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name == "clamp":
                return f"CLAMP({','.join(self.expr(a, ctx) for a in node.args)})"
            if name not in FUNCTIONS:
                self.fail(f"unknown function {name}()")
            args = []
            for k, arg in enumerate(node.args):
                if k in RANGE_ARGS.get(name, ()):
                    ref = self.resolve(arg, ctx)
                    if ref is None:
                        self.fail(f"{name}() needs a range as argument {k + 1}")
                    args.append(self.ref_text(ref, ctx, as_range=True))
                elif name in REFERENCE_SKIPPING and (ref := self.resolve(arg, ctx)) is not None:
                    cells = f"(T[{ref.block!r}][i],)" if ref.same_row else self.ref_text(ref, ctx, as_range=True)
                    args.append(f"Rng({cells})")
                else:
                    args.append(self.expr(arg, ctx))
            return f"{FUNCTIONS[name][1]}({','.join(args)})"
        self.fail(f"cannot use {ast.unparse(node)!r} in a formula")


def referenced_blocks(tree: ast.expr, table: str | None, blocks: set[str]) -> set[str]:
    """The blocks a formula reads, table columns named in full."""
    out = set()
    for name in names_used(tree):
        if table and f"{table}.{name}" in blocks:
            out.add(f"{table}.{name}")
        elif name in blocks:
            out.add(name)
    return out


Renderer = Callable[[ast.expr, Context], str]
