"""The formula compiler on its own: parsing, the Excel and the Python rendering, and that
both renderings of one formula mean the same.

No workbook and no LibreOffice: the blocks sit where a small hand-made layout says.
The last tests evaluate the Excel text with a small evaluator of Excel's grammar
(precedence, associativity, functions, what a reference argument is) that calls the
same Excel-semantics functions (xlfuncs) the Python rendering calls. So they check what
the renderings can get wrong, how the formula is *structured*; that xlfuncs computes
what Excel computes is test_parity.py's business, against LibreOffice.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.formula.tokenizer import Token, Tokenizer

from xlplan.model import TemplateError
from xlplan.template import formula, xlfuncs
from xlplan.template.formula import Context, ExcelRenderer, PythonRenderer

SHEET = "Plan"


class SmallLayout:
    """Blocks a, b, c (one cell each), r (a row of 3 quarters), far (on another sheet), and a
    table t with columns x and y."""

    cells = {"a": (SHEET, 4, 3), "b": (SHEET, 5, 3), "c": (SHEET, 6, 3), "r": (SHEET, 7, 3),
             "far": ("Other's sheet", 2, 2)}
    sizes = {"quarter": 3}
    table_columns = {"t.x": "x", "t.y": "y"}

    def axes(self, block):
        return (None, "quarter") if block == "r" else (None, None)

    def size(self, dim):
        return self.sizes[dim]

    def table_of(self, block):
        return "t" if block in self.table_columns else None

    def _prefix(self, sheet, home):
        return "" if sheet == home else "'" + sheet.replace("'", "''") + "'!"

    def _a1(self, block, r, c):
        _, row, col = self.cells[block]
        return f"${'ABCDEFGH'[col + c - 2]}${row + r - 1}"

    def excel_cell(self, block, r, c, home_sheet):
        return self._prefix(self.cells[block][0], home_sheet) + self._a1(block, r, c)

    def excel_range(self, block, r0, r1, c0, c1, home_sheet):
        return self._prefix(self.cells[block][0], home_sheet) + f"{self._a1(block, r0, c0)}:{self._a1(block, r1, c1)}"

    def excel_column(self, block):
        return f"t[{self.table_columns[block]}]"

    def excel_row_cell(self, block, row, structured):
        return f"t[[#This Row],[{self.table_columns[block]}]]" if structured else f"$X{10 + row}"


LAYOUT = SmallLayout()
BLOCKS = set(SmallLayout.cells) | set(SmallLayout.table_columns)
CELL = Context("out", None, {}, SHEET)  # a one-cell block on the sheet "Plan"


def excel(source: str, ctx: Context = CELL, structured: bool = False) -> str:
    return ExcelRenderer(LAYOUT, BLOCKS, "test", structured).render(formula.parse(source, "test"), ctx)


def python(source: str, ctx: Context = CELL) -> str:
    return PythonRenderer(LAYOUT, BLOCKS, "test").render(formula.parse(source, "test"), ctx)


# -- parsing ------------------------------------------------------------------------------
def test_a_formula_that_is_not_python_syntax_is_a_template_error_naming_where():
    with pytest.raises(TemplateError, match=r"annual › target: formula 'a \+' is not valid"):
        formula.parse("a +", "annual › target")


def test_the_names_a_formula_reads_are_its_dependencies():
    tree = formula.parse("sum(r) + t.x + y if a > 0 else blank", "test")
    assert formula.names_used(tree) == {"sum", "r", "t.x", "t", "y", "a", "blank"}
    # inside table t, a bare column name is the same row of that column
    assert formula.referenced_blocks(tree, "t", BLOCKS) == {"r", "t.x", "t.y", "a"}
    assert formula.referenced_blocks(tree, None, BLOCKS) == {"r", "t.x", "a"}


@pytest.mark.parametrize("source, message", [
    ("nope + 1", "unknown name 'nope'"),
    ("t.z", "unknown table column 't.z'"),
    ("x", "unknown name 'x'"),
    ("frobnicate(a)", r"unknown function frobnicate\(\)"),
    ("clamp(a, 1)", r"clamp\(\) takes 3 arguments, 2 given"),
    ("sumif(a + 1, 2, r)", r"sumif\(\) needs a range as argument 1"),
    ("r[4]", r"index out of range: 4 on quarter \(1..3\)"),
    ("r[1, 2]", "r has 1 axes, indexed with 2"),
    ("r[a]", "index must be fixed: a"),
    ("a // 2", r"cannot use 'a // 2' in a formula"),
    ("round(a, digits=2)", "cannot use"),
    ("1 < a < 3", "cannot use"),
])
def test_what_the_language_refuses_is_a_template_error_naming_where(source, message):
    for render in (excel, python):
        with pytest.raises(TemplateError, match=f"^test: {message}"):
            render(source)


# -- the Excel rendering --------------------------------------------------------------------
@pytest.mark.parametrize("source, expected", [
    ("a + b * c", "$C$4+$C$5*$C$6"),
    ("(a + b) * c", "($C$4+$C$5)*$C$6"),
    ("a - (b - c)", "$C$4-($C$5-$C$6)"),
    ("(a - b) - c", "$C$4-$C$5-$C$6"),
    ("a / (b * c)", "$C$4/($C$5*$C$6)"),
    # Excel's ^ groups to the left and binds looser than negation: both made explicit
    ("a ** b ** c", "$C$4^($C$5^$C$6)"),
    ("(a ** b) ** c", "($C$4^$C$5)^$C$6"),
    ("-a ** 2", "-($C$4^2)"),
    ("(-a) ** 2", "-$C$4^2"),
    ("-(a + b)", "-($C$4+$C$5)"),
    ("(a > b) + 1", "($C$4>$C$5)+1"),
    ("a + 1 >= b", "$C$4+1>=$C$5"),
    ("a != b", "$C$4<>$C$5"),
    ("a == 'x \"y\"'", '$C$4="x ""y"""'),
    ("blank if a == 0 else b / a", 'IF($C$4=0,"",$C$5/$C$4)'),
    ("a and not b or c", "OR(AND($C$4,NOT($C$5)),$C$6)"),
    ("True", "TRUE"),
    ("0.25 * a", "0.25*$C$4"),
    ("sum(r)", "SUM($C$7:$E$7)"),
    ("sum(r[2:3]) + r[1]", "SUM($D$7:$E$7)+$C$7"),
    ("far * 2", "'Other''s sheet'!$B$2*2"),
    ("roundup(a / 3, 0)", "ROUNDUP($C$4/3,0)"),
    ("clamp(a / b * 30, 0, 30)", "MAX(0,MIN(30,$C$4/$C$5*30))"),
    ("sumif(t.x, a, t.y)", "SUMIF(t[x],$C$4,t[y])"),
    ("index(r, 2)", "INDEX($C$7:$E$7,2)"),
])
def test_excel_rendering(source, expected):
    assert excel(source) == expected


def test_axis_names_and_fixed_conditions_are_worked_out_when_compiling():
    month2 = Context("out", None, {"quarter": 2}, SHEET)
    assert excel("r[quarter - 1] + r", month2) == "$C$7+$D$7"
    assert excel("r if quarter == 1 else r[quarter - 1] + 1", month2) == "$C$7+1"
    assert python("r if quarter == 1 else r[quarter - 1] + 1", month2) == "add(V['r'][0][0],1)"
    assert excel("quarter * 10", month2) == "2*10"


def test_a_table_column_formula_reads_its_own_row():
    row3 = Context("t.y", "t", {}, SHEET, row=3)
    assert excel("x * row", row3) == "$X13*3"
    assert excel("x * row", row3, structured=True) == "t[[#This Row],[x]]*3"
    assert python("x * row", row3) == "mul(T['t.x'][i],(i+1))"
    assert python("sum(x)", row3) == "SUM(Rng((T['t.x'][i],)))"


# -- the Python rendering -----------------------------------------------------------------
@pytest.mark.parametrize("source, expected", [
    ("a + b * c", "add(V['a'][0][0],mul(V['b'][0][0],V['c'][0][0]))"),
    ("-a ** 2", "neg(power(V['a'][0][0],2))"),
    ("blank if a == 0 else b / a", "('' if eq(V['a'][0][0],0) else div(V['b'][0][0],V['a'][0][0]))"),
    ("blank if a else b", "('' if truth(V['a'][0][0]) else V['b'][0][0])"),
    ("a and not b", "AND(V['a'][0][0],NOT(V['b'][0][0]))"),
    # conditions of known kinds in plain Python: both sides of & and | are evaluated, as AND and OR do
    ("a > 1 or not b == blank", "(gt(V['a'][0][0],1) | (not is_blank(V['b'][0][0])))"),
    ("blank if rows(t.x) < 3 and a > 0 else 1", "('' if ((ROWS(T['t.x'])<3) & gt(V['a'][0][0],0)) else 1)"),
    ("2 > rows(t.x) or a", "OR((2>ROWS(T['t.x'])),V['a'][0][0])"),
    ("index(t.x, 2)", "INDEX(T['t.x'],2)"),
    # integers of known bounds: Python's arithmetic, which xlfuncs' add, sub and mul give for them
    ("(0 if a == blank else 1) + 2 * rows(t.x) - 3", "(((0 if is_blank(V['a'][0][0]) else 1)+(2*ROWS(T['t.x'])))-3)"),
    ("(0 if a == blank else 1) + a", "add((0 if is_blank(V['a'][0][0]) else 1),V['a'][0][0])"),
    ("100000000 * 100000000 + 1", "add((100000000*100000000),1)"),  # past 2**47: add() again
    ("sum(r, a, 1)", "SUM(Rng((V['r'][0][0],V['r'][0][1],V['r'][0][2],)),Rng((V['a'][0][0],)),1)"),
    ("r", "Rng((V['r'][0][0],V['r'][0][1],V['r'][0][2],))"),
    ("abs(a)", "ABS(V['a'][0][0])"),
    ("sumif(t.x, a, t.y)", "SUMIF(T['t.x'],V['a'][0][0],T['t.y'])"),
    ("countif(r, 'x')", "COUNTIF((V['r'][0][0],V['r'][0][1],V['r'][0][2],),'x')"),
    ("clamp(a, 0, b)", "MAX(0,MIN(Rng((V['b'][0][0],)),Rng((V['a'][0][0],))))"),
    # a condition fixed when compiling leaves a reference, which SUM skips when blank or text, as Excel does
    ("sum(a if 1 > 2 else b)", "SUM(Rng((V['b'][0][0],)))"),
])
def test_python_rendering(source, expected):
    assert python(source) == expected


def test_every_function_of_the_table_renders_in_both_targets():
    for name, function in formula.FUNCTIONS.items():
        assert callable(getattr(xlfuncs, function.python.split("(")[0])), name
        n = function.arity or max((k + 1 for k in function.ranges), default=1)
        call = f"{name}({', '.join('r' if k in function.ranges else 'a' for k in range(n))})"
        assert excel(call).startswith(function.excel.split("(")[0] + "("), call
        assert python(call).startswith(function.python.split("(")[0] + "("), call


# -- both renderings mean the same ----------------------------------------------------------
EXCEL_FUNCTIONS = {  # Excel's name → the function with its semantics; written out, not taken from formula.py
    "SUM": xlfuncs.SUM, "MIN": xlfuncs.MIN, "MAX": xlfuncs.MAX, "AVERAGE": xlfuncs.AVERAGE,
    "COUNT": xlfuncs.COUNT, "ABS": xlfuncs.ABS, "ROUND": xlfuncs.ROUND, "ROUNDUP": xlfuncs.ROUNDUP,
    "ROUNDDOWN": xlfuncs.ROUNDDOWN, "AND": xlfuncs.AND, "OR": xlfuncs.OR, "NOT": xlfuncs.NOT,
}
REFERENCE_ARGUMENTS = {"SUM", "MIN", "MAX", "AVERAGE", "COUNT"}  # a reference here skips blanks and text
INFIX = {"+": (xlfuncs.add, 4), "-": (xlfuncs.sub, 4), "*": (xlfuncs.mul, 5), "/": (xlfuncs.div, 5),
         "^": (xlfuncs.power, 6), "=": (xlfuncs.eq, 2), "<>": (xlfuncs.ne, 2), "<": (xlfuncs.lt, 2),
         "<=": (xlfuncs.le, 2), ">": (xlfuncs.gt, 2), ">=": (xlfuncs.ge, 2)}  # all group to the left


class ExcelText:
    """Excel formula text → a tree: ("ref", text), ("value", v), ("neg", x), ("op", op, l, r),
    ("call", NAME, [args]), by Excel's grammar (negation binds tighter than ^)."""

    def __init__(self, text: str):
        self.tokens = [t for t in Tokenizer("=" + text).items if t.type != Token.WSPACE]
        self.pos = 0

    def tree(self):
        node = self.expression(0)
        assert self.pos == len(self.tokens), f"left over: {self.tokens[self.pos:]}"
        return node

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expression(self, least: int):
        left = self.unary()
        while (tok := self.peek()) is not None and tok.type == Token.OP_IN and INFIX[tok.value][1] >= least:
            self.take()
            left = ("op", tok.value, left, self.expression(INFIX[tok.value][1] + 1))
        return left

    def unary(self):
        tok = self.peek()
        if tok.type == Token.OP_PRE and tok.value == "-":
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        tok = self.take()
        if tok.type == Token.OPERAND:
            if tok.subtype == Token.RANGE:
                return ("ref", tok.value)
            if tok.subtype == Token.NUMBER:
                return ("value", float(tok.value) if any(ch in tok.value for ch in ".eE") else int(tok.value))
            if tok.subtype == Token.TEXT:
                return ("value", tok.value[1:-1].replace('""', '"'))
            return ("value", tok.value == "TRUE")
        if tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            node = self.expression(0)
            assert self.take().subtype == Token.CLOSE
            return node
        assert tok.type == Token.FUNC and tok.subtype == Token.OPEN, tok
        name, args = tok.value[:-1], []
        while not (self.peek().type == Token.FUNC and self.peek().subtype == Token.CLOSE):
            args.append(self.expression(0))
            if self.peek().type == Token.SEP:
                self.take()
        self.take()
        return ("call", name, args)


def evaluate_excel(node, cells: dict[str, object]):
    """The value Excel gives a tree from ExcelText, with `cells` A1 → value."""
    kind = node[0]
    if kind == "value":
        return node[1]
    if kind == "ref":
        found = [cells[a] for a in range_cells(node[1])]
        return found[0] if len(found) == 1 else xlfuncs.Rng(found)
    if kind == "neg":
        return xlfuncs.neg(evaluate_excel(node[1], cells))
    if kind == "op":
        return INFIX[node[1]][0](evaluate_excel(node[2], cells), evaluate_excel(node[3], cells))
    name, args = node[1], node[2]
    if name == "IF":
        test = xlfuncs.truth(evaluate_excel(args[0], cells))
        return evaluate_excel(args[1] if test else args[2], cells)
    values = [xlfuncs.Rng(cells[a] for a in range_cells(arg[1])) if arg[0] == "ref" and name in REFERENCE_ARGUMENTS
              else evaluate_excel(arg, cells) for arg in args]
    return EXCEL_FUNCTIONS[name](*values)


def range_cells(ref: str) -> list[str]:
    """"$C$7:$E$7" → ["C7", "D7", "E7"] (the small layout's columns A-H, one-digit rows)."""
    first, _, last = ref.replace("$", "").partition(":")
    last = last or first
    cols = "ABCDEFGH"
    c0, c1, r0, r1 = cols.index(first[0]), cols.index(last[0]), int(first[1:]), int(last[1:])
    return [f"{cols[c]}{r}" for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


CELL_VALUES = st.one_of(st.none(), st.integers(-50, 50), st.floats(-1e6, 1e6, allow_nan=False),
                        st.sampled_from(["", "text", True, False]))
LEAVES = st.one_of(st.sampled_from(["a", "b", "c", "r[1]", "r[3]", "blank", "True"]),
                   st.integers(0, 40).map(str), st.sampled_from(["0.5", "2.25", "'x'"]))


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "==", "!=", "<", "<=", ">", ">=",
                                                  "and", "or"]), children)
    return st.one_of(
        binary.map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        children.map(lambda x: f"-({x})"),
        children.map(lambda x: f"not ({x})"),
        st.tuples(children, children, children).map(lambda t: f"({t[1]}) if ({t[0]}) else ({t[2]})"),
        st.tuples(st.sampled_from(["sum", "min", "max", "average", "count"]),
                  st.lists(st.one_of(children, st.sampled_from(["r", "r[1:2]", "a"])), min_size=1, max_size=3))
        .map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(st.sampled_from(["abs", "round", "roundup", "rounddown"]), children, st.integers(0, 2))
        .map(lambda t: f"{t[0]}({t[1]})" if t[0] == "abs" else f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"clamp({t[0]}, {t[1]}, {t[2]})"),
    )


FORMULAS = st.recursive(LEAVES, _combine, max_leaves=8)


def _outcome(compute):
    try:
        value = xlfuncs.value_of(compute())
    except xlfuncs.XlErr as exc:
        return exc.code
    except (OverflowError, ZeroDivisionError):  # both sides call the same functions; they fail alike
        return "overflow"
    return value


def _same(x, y) -> bool:
    """Both sides call the same functions in the same order: the same value, of the same type."""
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) is type(y) and x == y


@settings(max_examples=400, deadline=None)
@given(source=FORMULAS, a=CELL_VALUES, b=CELL_VALUES, c=CELL_VALUES, r=st.lists(CELL_VALUES, min_size=3, max_size=3))
def test_the_python_rendering_computes_what_the_excel_rendering_means(source, a, b, c, r):
    cells = {"C4": a, "C5": b, "C6": c, "C7": r[0], "D7": r[1], "E7": r[2]}
    values = {"a": [[a]], "b": [[b]], "c": [[c]], "r": [list(r)]}
    namespace = {name: getattr(xlfuncs, name) for name in dir(xlfuncs) if not name.startswith("_")}
    python_text, excel_text = python(source), excel(source)
    from_python = _outcome(lambda: eval(python_text, {**namespace, "V": values}))  # noqa: S307 - our own rendering
    from_excel = _outcome(lambda: evaluate_excel(ExcelText(excel_text).tree(), cells))
    assert _same(from_python, from_excel), (source, excel_text, python_text, from_excel, from_python)


def test_clamp_meets_two_errors_in_the_order_excel_evaluates_them():
    """clamp(x, lo, hi) is MAX(lo, MIN(hi, x)) in Excel: lo's error comes first, in Python too."""
    cells, values = {"C4": 0, "C5": 5, "C6": "text"}, {"a": [[0]], "b": [[5]], "c": [["text"]]}
    source = "clamp(b / a, a + c, 1)"  # x is #DIV/0!, lo is #VALUE!
    namespace = {name: getattr(xlfuncs, name) for name in dir(xlfuncs) if not name.startswith("_")}
    from_excel = _outcome(lambda: evaluate_excel(ExcelText(excel(source)).tree(), cells))
    from_python = _outcome(lambda: eval(python(source), {**namespace, "V": values}))  # noqa: S307 - our own rendering
    assert from_excel == from_python == "#VALUE!"


def test_the_excel_evaluator_reads_excel_precedence_not_python_precedence():
    """The check above is only as good as this reader of Excel text: -2^2 is 4 in Excel, 2^3^2 is 64."""
    assert evaluate_excel(ExcelText("-2^2").tree(), {}) == 4
    assert evaluate_excel(ExcelText("2^3^2").tree(), {}) == 64
    assert evaluate_excel(ExcelText("1-2-3").tree(), {}) == -4
    assert evaluate_excel(ExcelText("SUM($C$4,1)").tree(), {"C4": "text"}) == 1  # a reference skips text
    assert evaluate_excel(ExcelText('IF($C$4>1,"big",-$C$4)').tree(), {"C4": 0.5}) == -0.5
