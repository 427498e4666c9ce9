"""Consolidation views: how HQ puts the units' plans of one template together.

A template declares its views under `consolidation:`; HQ's consolidated workbook and
web page show every view of every template that has plans, so a new template is
consolidated without code naming it. In the workbook each table prints on a sheet of its
own, so that the header repeated on every printed page is its own: a view's table on a sheet
named by the view's title (where another view of the template took that title, by the
table's title), a view's further table (each unit's year under the months) by its own title.

    consolidation:
      - id: plan                       # stable id (the web page's anchor)
        kind: sum                      # what is done with the units' values, see KINDS
        title: {zh: 月度计划, en: Plan by month}
        value: target_month            # the block summed
        by: [period, unit]             # row dimensions: period, unit, the block's row dim, TABLE.COLUMN,
                                       # or a one-cell block (the team a personal plan names)
        across: month                  # column dimension: the block's column dim, unit, or none
        total: both                    # both | rows | columns | none
        format: wan                    # number format: wan, yuan, count, score, percent, number
                                       # (default: the block's unit's, as its workbook shows it)
        chart: bar                     # bar | line | none: of the totals

The kinds and their arguments:
- sum:         value, by, across, total — a pivot of one block (a grid or a table column);
- figures:     columns (blocks, each summed over its cells), gap: [A, B] (A − B; blank when
               either is blank: a blank HQ target is never taken as zero);
- plan_actual: plan, actual (monthly blocks), measure (the actuals' measure name; default
               the actual block's name) — month by month, achievement, variance, year to date,
               with imported actuals taking the place of typed ones; each unit's year, and with
               `by: [one-cell blocks]` each group's year (the persons of a team added up);
- ranking:     name, score, group, rank, grade (table columns) — every row ranked over all units;
- year:        name, score (table columns) — monthly scorecards as a year: each person's and
               each team's score month by month, and the average;
- count:       value (a table column): how many rows of each value per unit (grades);
- list:        columns (table columns), when (a column that must be filled): the rows of
               every unit, one under the other (the support plan's expected effects).
"""
from __future__ import annotations

from ..model import Template, TemplateError, View

KINDS = ("sum", "figures", "plan_actual", "ranking", "year", "count", "list")
# a view's `format:`; without one its figures show in their block's unit's format
# (consolidate.figure_format), as the units' workbooks show them
FORMATS = ("wan", "yuan", "count", "score", "percent", "number")
CHARTS = ("bar", "line", "none")
TOTALS = ("both", "rows", "columns", "none")
BLOCK_ARGS = {
    "sum": (("value",), ()),
    "figures": (("columns",), ("gap",)),
    "plan_actual": (("plan", "actual"), ()),
    "ranking": (("name", "score"), ("group", "rank", "grade")),
    "year": (("name", "score"), ("group",)),
    "count": (("value",), ()),
    "list": (("columns",), ("when",)),
}


GROUPED = ("sum", "plan_actual")  # the kinds whose rows `by` groups


def one_cell(template: Template, name: str) -> bool:
    """A block of one cell outside any table (a form's field): one value per plan, which a view
    may group plans by — the team a person's plan names, the region a unit belongs to."""
    block = template.blocks.get(name)
    return block is not None and not (block.rows or block.cols or block.table)


def fixed_by(template: Template, view: View) -> list[str]:
    """The one-cell blocks among a view's `by` dimensions."""
    return [str(b) for b in view.args.get("by", []) if one_cell(template, str(b))]


def blocks_used(view: View, template: Template) -> list[str]:
    """Every block a view reads (what consolidation asks the store for)."""
    required, optional = BLOCK_ARGS[view.kind]
    out: list[str] = []
    for key in required + optional:
        value = view.args.get(key)
        if value is None:
            continue
        out += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    out += [str(b) for b in view.args.get("by", []) if "." in str(b)]
    return list(dict.fromkeys(out + fixed_by(template, view)))


def validate(template: Template, view: View) -> None:
    """Every block a view names exists; its options are known: fail at load, not at HQ."""
    where = f"{template.source} › consolidation › {view.id}"
    required, _ = BLOCK_ARGS[view.kind]
    for key in required:
        if key not in view.args:
            raise TemplateError(f"{where}: a {view.kind} view needs {key!r}")
    for name in blocks_used(view, template):
        if name not in template.blocks:
            raise TemplateError(f"{where}: names unknown block {name!r}")
    by = view.args.get("by")
    if by is not None:
        if view.kind not in GROUPED:
            raise TemplateError(f"{where}: a {view.kind} view takes no 'by' (only {', '.join(GROUPED)} views do)")
        if not isinstance(by, list) or not by:
            raise TemplateError(f"{where}: by must be a list of dimensions, e.g. [period, unit]")
    for key, allowed in (("format", FORMATS), ("chart", CHARTS), ("total", TOTALS)):
        if key in view.args and view.args[key] not in allowed:
            raise TemplateError(f"{where}: {key} {view.args[key]!r} is not one of {allowed}")
    for _lang, title in view.title.items():
        if len(title) > 31 or set(title) & set("[]:*?/\\"):
            raise TemplateError(f"{where}: title {title!r} is not a valid Excel sheet name")
    if view.kind == "sum":
        block = template.blocks[str(view.args["value"])]
        for dim in view.args.get("by", ["period", "unit"]):
            dim = str(dim)
            if dim in ("period", "unit") or dim == block.rows:
                continue
            if "." in dim and block.table and dim.split(".", 1)[0] == block.table:
                continue
            if one_cell(template, dim):
                continue
            raise TemplateError(f"{where}: by {dim!r} is not period, unit, {block.name}'s row axis, "
                                f"a column of its table or a block of one cell")
        across = str(view.args.get("across", block.cols or "none"))
        if across not in ("unit", "none", block.cols):
            raise TemplateError(f"{where}: across {across!r} is not unit, none or {block.name}'s column axis")
    if view.kind == "plan_actual":
        for dim in (str(d) for d in view.args.get("by", [])):
            if dim not in template.blocks:
                raise TemplateError(f"{where}: names unknown block {dim!r}")
            if not one_cell(template, dim):
                raise TemplateError(f"{where}: by {dim!r} is not a block of one cell (a plan_actual view groups "
                                    f"the plans by a form's field, such as the team)")
    if view.kind == "figures" and "gap" in view.args:
        gap = view.args["gap"]
        if not (isinstance(gap, list) and len(gap) == 2):
            raise TemplateError(f"{where}: gap must be two blocks [A, B] (A − B)")
