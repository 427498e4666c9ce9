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
- Functions: those in FUNCTIONS below; ``and``, ``or``, ``not``; ``a if c else b``.

`Compiler` walks a formula's syntax tree once for one cell: it resolves names and
indexes, folds what is fixed, and checks functions and their arguments. It hands each
result to an emitter that only spells it: `ExcelRenderer` as Excel formula text (for the
workbook), `PythonRenderer` as a Python expression over xlfuncs (compiled by compute.py).
"""
from __future__ import annotations

import ast
import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, NoReturn, Protocol, TypeVar

from ..model import TemplateError


@dataclass(frozen=True)
class Function:
    """A function of the formula language, as each target spells it."""

    excel: str  # Excel's function, or a pattern over the arguments: "MAX({1},MIN({2},{0}))"
    python: str  # the function in xlfuncs that computes it, or a pattern as for Excel
    ranges: tuple[int, ...] = ()  # arguments (0-based) that take a range as it is, never a value
    skips_references: bool = False  # Excel skips blanks and text in a reference argument, even one cell
    arity: int | None = None  # the number of arguments, where it is fixed by a pattern

    def excel_call(self, args: list[str]) -> str:
        return _call(self.excel, args)

    def python_call(self, args: list[str]) -> str:
        return _call(self.python, args)


def _call(spelling: str, args: list[str]) -> str:
    return spelling.format(*args) if "{" in spelling else f"{spelling}({','.join(args)})"


# Every function of the language. Adding one: its entry here and, if Excel's semantics
# need Python code, the function in xlfuncs.py.
FUNCTIONS: dict[str, Function] = {
    "sum": Function("SUM", "SUM", skips_references=True),
    "min": Function("MIN", "MIN", skips_references=True),
    "max": Function("MAX", "MAX", skips_references=True),
    "average": Function("AVERAGE", "AVERAGE", skips_references=True),
    "count": Function("COUNT", "COUNT", skips_references=True),
    # product(people, yuan, days, times): a cost line; a blank factor is left out, as PRODUCT skips it
    "product": Function("PRODUCT", "PRODUCT", skips_references=True),
    "abs": Function("ABS", "ABS"),
    "round": Function("ROUND", "ROUND"),
    "roundup": Function("ROUNDUP", "ROUNDUP"),
    "rounddown": Function("ROUNDDOWN", "ROUNDDOWN"),
    # clamp(x, lo, hi): Excel has no CLAMP; its MAX and MIN skip a blank or text reference. Python
    # spells it the same way, so that both evaluate lo, hi, x in one order (the first error wins)
    "clamp": Function("MAX({1},MIN({2},{0}))", "MAX({1},MIN({2},{0}))", skips_references=True, arity=3),
    "sumif": Function("SUMIF", "SUMIF", ranges=(0, 2)),
    "countif": Function("COUNTIF", "COUNTIF", ranges=(0,)),
    "rank": Function("RANK", "RANK", ranges=(1,)),
    "index": Function("INDEX", "INDEX", ranges=(0,)),
    "rows": Function("ROWS", "ROWS", ranges=(0,)),
}


@dataclass(frozen=True)
class Operator:
    excel: str  # Excel's operator
    python: str  # the function in xlfuncs with Excel's semantics
    precedence: int = 2  # Excel's, higher binds tighter


BINOPS = {ast.Add: Operator("+", "add", 4), ast.Sub: Operator("-", "sub", 4), ast.Mult: Operator("*", "mul", 5),
          ast.Div: Operator("/", "div", 5), ast.Pow: Operator("^", "power", 6)}
CMPOPS = {ast.Eq: Operator("=", "eq"), ast.NotEq: Operator("<>", "ne"), ast.Lt: Operator("<", "lt"),
          ast.LtE: Operator("<=", "le"), ast.Gt: Operator(">", "gt"), ast.GtE: Operator(">=", "ge")}
LOGICAL = {ast.And: "AND", ast.Or: "OR"}  # the same name in Excel and in xlfuncs

# what `static` can work out at compile time
FIXED_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
FIXED_COMPARISON = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                    ast.Gt: operator.gt, ast.GtE: operator.ge}


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


def unknown_names(tree: ast.expr, table: str | None, axes: set[str], blocks: set[str]) -> list[str]:
    """What a formula names that is no block, no column of its own table, no axis of the
    block it computes and no function: every name is looked at, in every branch."""
    tables = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    known = blocks | axes | {"blank"} | ({"row"} | {name.split(".", 1)[1] for name in blocks
                                                     if name.startswith(f"{table}.")} if table else set())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if f"{node.value.id}.{node.attr}" not in blocks:
                out.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Name) and id(node) in called:
            if node.id not in FUNCTIONS:
                out.append(f"{node.id}()")
        elif isinstance(node, ast.Name) and id(node) not in tables and node.id not in known:
            out.append(node.id)
    return list(dict.fromkeys(out))


def referenced_blocks(tree: ast.expr, table: str | None, blocks: set[str]) -> set[str]:
    """The blocks a formula reads, table columns named in full."""
    out = set()
    for name in names_used(tree):
        if table and f"{table}.{name}" in blocks:
            out.add(f"{table}.{name}")
        elif name in blocks:
            out.add(name)
    return out


@dataclass(frozen=True)
class Ref:
    """A resolved reference: one cell or a range of a block."""

    block: str
    cells: tuple[tuple[int, int], ...] = ()  # (r, c), 1-based, for fixed blocks
    whole_column: bool = False  # a table column, every row
    same_row: bool = False  # a table column, the row being computed

    @property
    def is_range(self) -> bool:
        return self.whole_column or (not self.same_row and len(self.cells) != 1)


Out = TypeVar("Out")  # what an emitter makes of one node


class Compiler(ABC, Generic[Out]):
    """The walk over a formula's syntax tree for one cell; a subclass spells each node (an emitter).

    Everything that decides what a formula means is here: names, indexes and ranges,
    conditions fixed at compile time, the function table and its argument kinds, and
    every error a template author sees. The emitters below only write text.
    """

    def __init__(self, layout: Layout, blocks: set[str], where: str):
        self.layout = layout
        self.blocks = blocks
        self.where = where

    def fail(self, message: str) -> NoReturn:
        raise TemplateError(f"{self.where}: {message}")

    def render(self, node: ast.expr, ctx: Context) -> str:
        return self.text(self.walk(node, ctx))

    # -- the walk ---------------------------------------------------------------------
    def walk(self, node: ast.expr, ctx: Context) -> Out:
        ref = self.resolve(node, ctx)
        if ref is not None:
            return self.reference(ref, ctx)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return self.boolean(node.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return self.number(node.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self.string(node.value)
        if isinstance(node, ast.Name):
            if node.id == "blank":
                return self.blank()
            if node.id in ctx.bindings:
                return self.number(ctx.bindings[node.id])
            return self.row(ctx)  # resolve() leaves no other name unresolved
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.negative(self.walk(node.operand, ctx))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.logical("NOT", [self.walk(node.operand, ctx)])
        if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
            return self.binary(BINOPS[type(node.op)], self.walk(node.left, ctx), self.walk(node.right, ctx))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.compare(CMPOPS[type(node.ops[0])], self.walk(node.left, ctx),
                                self.walk(node.comparators[0], ctx))
        if isinstance(node, ast.BoolOp):
            return self.logical(LOGICAL[type(node.op)], [self.walk(v, ctx) for v in node.values])
        if isinstance(node, ast.IfExp):
            fixed = self.static(node.test, ctx)
            if fixed is not None:
                return self.walk(node.body if fixed else node.orelse, ctx)
            return self.condition(self.walk(node.test, ctx), self.walk(node.body, ctx), self.walk(node.orelse, ctx))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self.call(node.func.id, node.args, ctx)
        self.fail(f"cannot use {ast.unparse(node)!r} in a formula")

    def call(self, name: str, args: list[ast.expr], ctx: Context) -> Out:
        function = FUNCTIONS.get(name)
        if function is None:
            self.fail(f"unknown function {name}()")
        if function.arity is not None and len(args) != function.arity:
            self.fail(f"{name}() takes {function.arity} arguments, {len(args)} given")
        out = []
        for k, arg in enumerate(args):
            arg = self.folded(arg, ctx)  # a fixed condition's branch is the argument, a reference stays one
            ref = self.resolve(arg, ctx)
            if k in function.ranges:
                if ref is None:
                    self.fail(f"{name}() needs a range as argument {k + 1}")
                out.append(self.range_argument(ref, ctx))
            elif function.skips_references and ref is not None:
                out.append(self.reference_argument(ref, ctx))
            else:
                out.append(self.walk(arg, ctx))
        return self.function(function, out)

    # -- what is fixed when the formula is compiled ------------------------------------
    def folded(self, node: ast.expr, ctx: Context) -> ast.expr:
        """The branch a condition fixed at compile time selects (and so on), else the node itself."""
        while isinstance(node, ast.IfExp) and (fixed := self.static(node.test, ctx)) is not None:
            node = node.body if fixed else node.orelse
        return node

    def static(self, node, ctx: Context):
        """The value of an expression made only of numbers and bound axis names, else None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id in ctx.bindings:
            return ctx.bindings[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.static(node.operand, ctx)
            return None if v is None else -v
        if isinstance(node, ast.BinOp) and type(node.op) in FIXED_ARITHMETIC:
            a, b = self.static(node.left, ctx), self.static(node.right, ctx)
            return None if a is None or b is None else FIXED_ARITHMETIC[type(node.op)](a, b)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            a, b = self.static(node.left, ctx), self.static(node.comparators[0], ctx)
            return None if a is None or b is None else FIXED_COMPARISON[type(node.ops[0])](a, b)
        if isinstance(node, ast.BoolOp):
            values = [self.static(v, ctx) for v in node.values]
            if any(v is None for v in values):
                return None
            return all(values) if isinstance(node.op, ast.And) else any(values)
        return None

    # -- references --------------------------------------------------------------
    def resolve(self, node, ctx: Context) -> Ref | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name not in self.blocks:
                self.fail(f"unknown table column {name!r}")
            return Ref(name, whole_column=True)
        if isinstance(node, ast.Name):
            if node.id in ctx.bindings or node.id in ("blank", "row"):
                return None
            name = node.id
            if ctx.table and f"{ctx.table}.{name}" in self.blocks:
                return Ref(f"{ctx.table}.{name}", same_row=True)
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

    def broadcast(self, name: str, ctx: Context) -> Ref:
        rows_dim, cols_dim = self.layout.axes(name)
        if all(a in ctx.bindings for a in (rows_dim, cols_dim) if a):
            r = ctx.bindings[rows_dim] if rows_dim else 1
            c = ctx.bindings[cols_dim] if cols_dim else 1
            return Ref(name, cells=((r, c),))
        nr = self.layout.size(rows_dim) if rows_dim else 1
        nc = self.layout.size(cols_dim) if cols_dim else 1
        return Ref(name, cells=tuple((r, c) for r in range(1, nr + 1) for c in range(1, nc + 1)))

    def subscript(self, name: str, index: ast.expr, ctx: Context) -> Ref:
        rows_dim, cols_dim = self.layout.axes(name)
        axes = [a for a in (rows_dim, cols_dim) if a]
        parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        if len(parts) != len(axes):
            self.fail(f"{name} has {len(axes)} axes, indexed with {len(parts)}")
        spans = {}
        for part, axis in zip(parts, axes):
            size = self.layout.size(axis)
            if isinstance(part, ast.Slice):
                lo = 1 if part.lower is None else self.static(part.lower, ctx)
                hi = size if part.upper is None else self.static(part.upper, ctx)
                if lo is None or hi is None:
                    self.fail(f"range bounds must be fixed: {ast.unparse(part)}")
            else:
                lo = hi = self.static(part, ctx)
                if lo is None:
                    self.fail(f"index must be fixed: {ast.unparse(part)}")
            span = range(int(lo), int(hi) + 1)
            if span.start < 1 or span.stop - 1 > size:
                self.fail(f"index out of range: {ast.unparse(part)} on {axis} (1..{size})")
            spans[axis] = span
        rs = spans[rows_dim] if rows_dim else range(1, 2)
        cs = spans[cols_dim] if cols_dim else range(1, 2)
        return Ref(name, cells=tuple((r, c) for r in rs for c in cs))

    # -- the emitter's part: how each target spells a node ------------------------------
    @abstractmethod
    def text(self, out: Out) -> str: ...
    @abstractmethod
    def reference(self, ref: Ref, ctx: Context) -> Out: ...
    @abstractmethod
    def range_argument(self, ref: Ref, ctx: Context) -> Out: ...
    @abstractmethod
    def reference_argument(self, ref: Ref, ctx: Context) -> Out: ...
    @abstractmethod
    def number(self, value: int | float) -> Out: ...
    @abstractmethod
    def string(self, value: str) -> Out: ...
    @abstractmethod
    def boolean(self, value: bool) -> Out: ...
    @abstractmethod
    def blank(self) -> Out: ...
    @abstractmethod
    def row(self, ctx: Context) -> Out: ...
    @abstractmethod
    def negative(self, operand: Out) -> Out: ...
    @abstractmethod
    def binary(self, op: Operator, left: Out, right: Out) -> Out: ...
    @abstractmethod
    def compare(self, op: Operator, left: Out, right: Out) -> Out: ...
    @abstractmethod
    def logical(self, name: str, operands: list[Out]) -> Out: ...
    @abstractmethod
    def condition(self, test: Out, body: Out, orelse: Out) -> Out: ...
    @abstractmethod
    def function(self, function: Function, args: list[Out]) -> Out: ...


ATOM = 9  # the precedence of what never needs parentheses
NEGATION = 7


class ExcelRenderer(Compiler[tuple[str, int]]):
    """Spells a formula as Excel text (without the leading '='): each node as (text, precedence)."""

    def __init__(self, layout: Layout, blocks: set[str], where: str, structured: bool = False):
        super().__init__(layout, blocks, where)
        self.structured = structured  # table rows as [#This Row] (calculated column formula)

    def text(self, out):
        return out[0]

    def reference(self, ref, ctx):
        if ref.whole_column:
            return self.layout.excel_column(ref.block), ATOM
        if ref.same_row:
            return self.layout.excel_row_cell(ref.block, ctx.row, self.structured), ATOM
        rs = [r for r, _ in ref.cells]
        cs = [c for _, c in ref.cells]
        if len(ref.cells) == 1:
            return self.layout.excel_cell(ref.block, rs[0], cs[0], ctx.sheet), ATOM
        return self.layout.excel_range(ref.block, min(rs), max(rs), min(cs), max(cs), ctx.sheet), ATOM

    def range_argument(self, ref, ctx):
        return self.reference(ref, ctx)

    def reference_argument(self, ref, ctx):
        return self.reference(ref, ctx)

    def number(self, value):
        return repr(value), ATOM

    def string(self, value):
        return '"' + value.replace('"', '""') + '"', ATOM

    def boolean(self, value):
        return ("TRUE" if value else "FALSE"), ATOM

    def blank(self):
        return '""', ATOM

    def row(self, ctx):
        return str(ctx.row), ATOM

    def negative(self, operand):
        text, prec = operand
        return f"-{text if prec >= NEGATION else f'({text})'}", NEGATION

    def binary(self, op, left, right):
        (lt, lp), (rt, rp) = left, right
        if lp < op.precedence or (op.excel == "^" and lp <= op.precedence):
            lt = f"({lt})"
        if rp <= op.precedence:
            rt = f"({rt})"
        return f"{lt}{op.excel}{rt}", op.precedence

    def compare(self, op, left, right):
        (lt, lp), (rt, rp) = left, right
        lt = lt if lp > op.precedence else f"({lt})"
        rt = rt if rp > op.precedence else f"({rt})"
        return f"{lt}{op.excel}{rt}", op.precedence

    def logical(self, name, operands):
        return f"{name}({','.join(text for text, _ in operands)})", ATOM

    def condition(self, test, body, orelse):
        return f"IF({test[0]},{body[0]},{orelse[0]})", ATOM

    def function(self, function, args):
        return function.excel_call([text for text, _ in args]), ATOM


class Logical(str):
    """Python code whose value is a bool (or that raises an Excel error): a comparison, is_blank, AND, OR, NOT."""


class Whole(str):
    """Python code whose value is an int of at most `bound` (below 2**47): an integer literal, ROWS(...),
    a condition choosing between such, their sums, differences and products. xlfuncs computes with
    such ints exactly as Python does: add, sub and the comparisons treat two numbers as equal for
    rounding noise only when they differ by less than 2**-48 of each, which two such ints never do."""

    bound: int


WHOLE_LIMIT = 2**47
ROWS_BOUND = 2**31  # a table's rows: far fewer (the reader's limits)
PYTHON_COMPARISON = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
PYTHON_ARITHMETIC = {"add": "+", "sub": "-", "mul": "*"}


def whole(code: str, bound: int) -> str:
    """`code` marked Whole where its bound allows, else plain code."""
    if bound >= WHOLE_LIMIT:
        return code
    out = Whole(code)
    out.bound = bound
    return out


class PythonRenderer(Compiler[str]):
    """Spells a formula as a Python expression over V (blocks) and T (tables), calling xlfuncs.

    Fixed blocks are V[name][r][c] (0-based); a table column is T[name], a list; inside
    a table's loop the current row is `i` (0-based). A range is `Rng(cells)`.

    Where the kinds of values are known when the formula is compiled, the code says so
    with plain Python, as the calendar needs 450 times a plan: a comparison of two small
    integers (a row's position and ROWS(...)) is Python's, AND / OR of conditions is & / |
    (both sides evaluated, as Excel's functions evaluate every argument), and IF tests such
    a condition without truth(). The values are those of the xlfuncs calls they stand for.
    """

    def text(self, out):
        return out

    def grid(self, name: str) -> str:
        """A fixed block's rows (a subclass may name them otherwise: compute.py's engine does)."""
        return f"V[{name!r}]"

    def column(self, name: str) -> str:
        """A table column, a list."""
        return f"T[{name!r}]"

    def cell(self, block: str, r: int, c: int) -> str:
        return f"{self.grid(block)}[{r - 1}][{c - 1}]"

    def cells(self, ref: Ref) -> str:
        """A range's cells: a table column (a list), or a tuple of cells."""
        if ref.whole_column:
            return self.column(ref.block)
        if ref.same_row:
            return f"{self.column(ref.block)}[i]"
        return "(" + "".join(self.cell(ref.block, r, c) + "," for r, c in ref.cells) + ")"

    def reference(self, ref, ctx):
        if ref.is_range:
            return f"Rng({self.cells(ref)})"
        if ref.same_row:
            return f"{self.column(ref.block)}[i]"
        return self.cell(ref.block, *ref.cells[0])

    def range_argument(self, ref, ctx):
        return self.cells(ref)

    def reference_argument(self, ref, ctx):
        return f"Rng(({self.column(ref.block)}[i],))" if ref.same_row else f"Rng({self.cells(ref)})"

    def number(self, value):
        return whole(repr(value), abs(value)) if type(value) is int else repr(value)

    def string(self, value):
        return repr(value)

    def boolean(self, value):
        return repr(value)

    def blank(self):
        return "''"

    def row(self, ctx):
        return "(i+1)"

    def negative(self, operand):
        return f"neg({operand})"

    def binary(self, op, left, right):
        if isinstance(left, Whole) and isinstance(right, Whole) and op.python in PYTHON_ARITHMETIC:
            bound = left.bound * right.bound if op.python == "mul" else left.bound + right.bound
            return whole(f"({left}{PYTHON_ARITHMETIC[op.python]}{right})", bound)
        return f"{op.python}({left},{right})"

    def compare(self, op, left, right):
        if right == self.blank() and op.python in ("eq", "ne"):  # x == blank: the calendar's every cell
            return Logical(f"{'is_blank' if op.python == 'eq' else 'not_blank'}({left})")
        if isinstance(left, Whole) and isinstance(right, Whole):  # integers this small compare exactly
            return Logical(f"({left}{PYTHON_COMPARISON[op.python]}{right})")
        return Logical(f"{op.python}({left},{right})")

    def logical(self, name, operands):
        if name in ("AND", "OR") and all(isinstance(o, Logical) for o in operands):
            return Logical("(" + (" & " if name == "AND" else " | ").join(operands) + ")")
        if name == "NOT" and isinstance(operands[0], Logical):
            return Logical(f"(not {operands[0]})")
        return Logical(f"{name}({','.join(operands)})")

    def condition(self, test, body, orelse):
        code = f"({body} if {test} else {orelse})" if isinstance(test, Logical) else \
            f"({body} if truth({test}) else {orelse})"
        if isinstance(body, Whole) and isinstance(orelse, Whole):
            return whole(code, max(body.bound, orelse.bound))
        return code

    def function(self, function, args):
        code = function.python_call(args)
        return whole(code, ROWS_BOUND) if function.python == "ROWS" else code
