"""The Python engine: every computed block of a template, from its inputs.

The template's formulas are compiled once into one Python function (cached per
template and cycle parameters); a plan is then computed by calling it on the input
values. Errors behave as in Excel: a division by zero makes that cell #DIV/0! and
cells that use it show the error too, while every other cell is still computed.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any, Callable

from ..model import Template, TemplateError
from . import formula, xlfuncs
from .layout import Layout


@dataclass(frozen=True)
class Engine:
    template: Template
    order: tuple[str, ...]  # computed blocks in the order they are computed
    source: str  # the generated Python, for reading when a number surprises
    function: Callable[[dict, dict, dict], None]

    def run(self, values: dict[str, list[list]], tables: dict[str, list], sizes: dict[str, int]):
        """Put every computed block into `values` and `tables`, made anew, computed from the other blocks there."""
        self.function(values, tables, sizes)


def dependency_order(template: Template) -> list[str]:
    blocks = template.blocks
    names = set(blocks)
    graph = {}
    for name, block in blocks.items():
        if not block.formula:
            continue
        tree = formula.parse(str(block.formula), f"{template.source} › {name}")
        deps = formula.referenced_blocks(tree, block.table, names)
        graph[name] = {d for d in deps if d != name and blocks[d].formula}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise TemplateError(f"{template.source}: formulas refer to each other in a circle: "
                            f"{' → '.join(exc.args[1])}") from None


def _cells(template, block):
    """Every (bindings, r, c) of a fixed block, row by row."""
    nrows, ncols = template.shape(block)
    for r in range(1, nrows + 1):
        for c in range(1, ncols + 1):
            bindings = {}
            if block.rows:
                bindings[block.rows] = r
            if block.cols:
                bindings[block.cols] = c
            yield bindings, r, c


def blank_row_columns(template: Template, order: list[str]) -> set[str]:
    """The computed table columns whose value is the same in every blank row of their table.

    A blank row has no value in any of the table's input columns. A column's formula
    sees, in its row, only same-row values; everything else it reads (fixed blocks,
    whole columns) is the same for every row. So where the formula does not use `row`,
    does not read its own column, and every same-row value it reads is an input column
    or such a column itself, all blank rows get one value: computed once and copied.
    """
    names = set(template.blocks)
    uniform: set[str] = set()
    for name in order:  # dependencies come first
        block = template.blocks[name]
        if not block.table:
            continue
        tree = formula.parse(str(block.formula), f"{template.source} › {name}")
        same_row, ok = set(), True
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if node.id == "row":
                    ok = False
                elif f"{block.table}.{node.id}" in names:
                    same_row.add(f"{block.table}.{node.id}")
        if not ok or name in formula.referenced_blocks(tree, block.table, names):
            continue
        if all(dep in uniform or not template.blocks[dep].formula for dep in same_row):
            uniform.add(name)
    return uniform


def _blank_rows_source(template: Template, uniform: set[str], locals_: dict[str, str], used: set[str]) -> list[str]:
    """Per table with such columns: `_full_<k>` and `_blank_<k>`, its rows with and without input."""
    lines = []
    for k, table in enumerate(_tables_of(template, uniform)):
        inputs = [name for name, b in template.blocks.items() if b.table == table and not b.formula]
        used.update(inputs)
        empty = " and ".join(f"{locals_[c]}[i] is None" for c in inputs) or "True"
        lines += [f"    _blank_{k} = [i for i in range(N[{table!r}]) if {empty}]",
                  f"    _full_{k} = [i for i in range(N[{table!r}]) if not ({empty})]"]
    return lines


def _tables_of(template: Template, columns: set[str]) -> list[str]:
    return sorted({table for name in columns if (table := template.blocks[name].table)})


class EngineRenderer(formula.PythonRenderer):
    """The Python emitter with each block's grid or column read once, into a local of the engine named
    after the block (V_target, T_actions__amount): a look-up of V or T less at every reference."""

    def __init__(self, layout, blocks: set[str], where: str, locals_: dict[str, str], used: set[str]):
        super().__init__(layout, blocks, where)
        self.locals = locals_  # block → its local
        self.used = used  # the blocks referred to so far, for the lines that read them

    def grid(self, name: str) -> str:
        self.used.add(name)
        return self.locals[name]

    column = grid


def _local_names(template: Template) -> dict[str, str]:
    """A Python name for every block's grid (V_…) or table column (T_table__column), unique."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for k, (name, block) in enumerate(template.blocks.items()):
        local = ("T_" if block.table else "V_") + name.replace(".", "__")
        if not local.isidentifier() or local in taken:
            local = f"_block_{k}"
        out[name] = local
        taken.add(local)
    return out


def python_source(template: Template) -> tuple[str, list[str]]:
    layout = Layout(template, "zh-Hans")
    names = set(template.blocks)
    order = dependency_order(template)
    uniform = blank_row_columns(template, order)
    table_key = {table: k for k, table in enumerate(_tables_of(template, uniform))}
    locals_, used = _local_names(template), set(order)
    lines = _blank_rows_source(template, uniform, locals_, used)
    for name in order:
        block = template.blocks[name]
        where = f"{template.source} › {name}"
        tree = formula.parse(str(block.formula), where)
        renderer = EngineRenderer(layout, names, where, locals_, used)
        if block.table and name in uniform:
            expr = renderer.render(tree, formula.Context(name, block.table, {}, ""))
            k = table_key[block.table]
            lines += [f"    _c = {locals_[name]}",
                      f"    for i in _full_{k}:",
                      f"        try: _c[i] = value_of({expr})",
                      "        except XlErr as e: _c[i] = e",
                      f"    if _blank_{k}:",
                      f"        i = _blank_{k}[0]",
                      f"        try: _v = value_of({expr})",
                      "        except XlErr as e: _v = e",
                      f"        for i in _blank_{k}: _c[i] = _v"]
            continue
        if block.table:
            expr = renderer.render(tree, formula.Context(name, block.table, {}, ""))
            lines += [f"    _c = {locals_[name]}",
                      f"    for i in range(N[{block.table!r}]):",
                      f"        try: _c[i] = value_of({expr})",
                      "        except XlErr as e: _c[i] = e"]
            continue
        for bindings, r, c in _cells(template, block):
            expr = renderer.render(tree, formula.Context(name, None, bindings, ""))
            target = f"{locals_[name]}[{r - 1}][{c - 1}]"
            lines += [f"    try: {target} = value_of({expr})",
                      f"    except XlErr as e: {target} = e"]
    made = set(order)
    reads = [_read_or_make(template, name, locals_[name], name in made) for name in template.blocks if name in used]
    source = ["def compute(V, T, N):", *reads, *lines, "    return None"]
    return "\n".join(source) + "\n", order


def _read_or_make(template: Template, name: str, local: str, computed: bool) -> str:
    """The line that reads a block into its local, or, for a computed block, makes it empty there first
    (every cell is then computed): a literal, no loop."""
    block = template.blocks[name]
    if not computed:
        return f"    {local} = {'T' if block.table else 'V'}[{name!r}]"
    if block.table:
        return f"    {local} = T[{name!r}] = [None] * N[{block.table!r}]"
    nrows, ncols = template.shape(block)
    return f"    {local} = V[{name!r}] = [{', '.join([f'[None] * {ncols}'] * nrows)}]"


@functools.lru_cache(maxsize=64)
def _engine_cached(template: Template) -> Engine:
    source, order = python_source(template)
    namespace: dict[str, Any] = {name: getattr(xlfuncs, name) for name in dir(xlfuncs)
                                 if not name.startswith("_")}
    code = compile(source, f"<xlplan engine {template.id} {template.version}>", "exec")
    exec(code, namespace)
    return Engine(template, tuple(order), source, namespace["compute"])


def engine(template: Template) -> Engine:
    """The compiled engine of a template (compiled once, then cached)."""
    return _engine_cached(template)


def compute(template: Template, values: dict, tables: dict, sizes: dict) -> tuple[dict, dict]:
    """Computed copies of `values` and `tables`: inputs kept, every computed block filled."""
    return compute_into(template, {k: [list(row) for row in rows] for k, rows in values.items()},
                        {k: list(col) for k, col in tables.items()}, sizes)


def compute_into(template: Template, values: dict, tables: dict, sizes: dict) -> tuple[dict, dict]:
    """`compute` on values and tables of the caller's own (fresh copies): filled in place, not copied again."""
    grids, columns = _input_shapes(template)
    for name, table in columns:
        if name not in tables:
            tables[name] = [None] * sizes.get(table, 0)
    for name, nrows, ncols in grids:
        if name not in values:
            values[name] = [[None] * ncols for _ in range(nrows)]
    engine(template).run(values, tables, sizes)
    return values, tables


@functools.lru_cache(maxsize=64)
def _input_shapes(template: Template) -> tuple[tuple[tuple[str, int, int], ...], tuple[tuple[str, str], ...]]:
    """(name, rows, columns) of every grid a plan gives the engine and (name, table) of every such table
    column: the blocks that are not computed (the engine makes those)."""
    blocks = [(name, block) for name, block in template.blocks.items() if not block.formula]
    return (tuple((name, *template.shape(block)) for name, block in blocks if not block.table),
            tuple((name, block.table) for name, block in blocks if block.table))
