"""The consolidated plan: one workbook from each unit's plan in use, view by view.

Which plan of a unit is used: its latest approved version (HQ's review, xlplan/hq/review.py),
or with `basis="accepted"` its latest accepted one. What is shown: every view each template
declares (`consolidation:` in its YAML, see xlplan/template/views.py), so a template is
consolidated without code naming it. `tables(store, ...)` builds the views once as plain
`ViewTable` records; the workbook here and HQ's web page (web.py) render the same records.

Every figure comes from the values the engine recomputed from the units' inputs at
merge time (the store's long-form `plan_values`), never from values cached in the
submitted files; imported actuals (actuals.py) take the place of typed ones. The workbook
holds numbers (not formulas) so that any reader sees them. Text that came from a
submission — unit, strategy and people's names — is always written as text: a name
that begins with "=" stays a name, never becomes a formula. A blank stays blank: a unit
without an HQ target has no gap, not its whole plan as the gap.
"""
from __future__ import annotations

import itertools
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter

from .. import texts
from ..model import View, XlplanError, text
from ..template import generate, paper, spec, styles, views
from . import report
from .merge import CONSOLIDATED_MARK
from .store import Store

MONTHS = range(1, 13)
BASES = ("approved", "accepted")
# how each kind of figure is shown: as in the templates' workbooks (a plain number in General,
# never #,##0.##, which Excel shows as "5." for a whole number)
FORMATS = styles.NUMBER_FORMATS
PCT = FORMATS["percent"]

# words of the views that are not the catalogue's c_* words (xlplan/texts.py: cv_*)
OWN_WORDS = {"blank", "plan", "actual", "variance", "ytd_plan", "ytd_actual", "ytd_achievement", "plan_year", "source",
             "imported", "typed", "gap", "average", "year_person", "year_team", "review", "segment", "members"}


def w(key: str, lang: str) -> str:
    """A word of the consolidated workbook, from the one catalogue (xlplan/texts.py)."""
    return texts.t(f"cv_{key}" if key in OWN_WORDS else f"c_{key}", lang)


# -- the views as plain tables ------------------------------------------------------------
@dataclass
class Chart:
    """What a view's chart shows: categories and named series of numbers (None where blank)."""

    kind: str  # bar | line
    title: str
    categories: list[str]
    series: list[tuple[str, list]]
    # where the numbers sit in the table, for the workbook's chart: ("row", row index) — the
    # series is a row over the value columns; ("columns", [column indexes]) — each series a column
    place: tuple = ("row", -1)


@dataclass
class ViewTable:
    """One view of one template, ready to render: a heading, rows and an optional totals row."""

    template: str
    view: View
    title: str
    heading: list[str]
    keys: int  # the first `keys` columns are labels (period, unit, region ...), the rest numbers
    rows: list[list]
    total: list | None = None
    fmt: str = FORMATS["number"]
    formats: dict[int, str] = field(default_factory=dict)  # per column, where it differs from `fmt`
    cell_formats: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column): a row's own unit
    chart: Chart | None = None
    extra: list["ViewTable"] = field(default_factory=list)  # more tables under this one (a year view)


@dataclass
class Data:
    """The plans in use of one template and their values in long form."""

    template: str
    submissions: pd.DataFrame
    values: pd.DataFrame  # submission_id, unit, period, block, row, col, row_key, col_key, number, text
    lang: str

    def block(self, name: str) -> pd.DataFrame:
        return self.values[self.values["block"] == name]

    def keys(self) -> pd.MultiIndex:
        return self.submissions.set_index(["period", "unit"]).index.sort_values()


VALUE_COLUMNS = ["submission_id", "unit", "period", "block", "row", "col", "row_key", "col_key", "number", "text"]


def used(store: Store, template: str | None = None, basis: str = "approved") -> list[dict]:
    """Each unit's plan in use: its latest approved version, or with basis 'accepted' its latest accepted one."""
    if basis not in BASES:
        raise XlplanError(f"basis {basis!r}: choose approved or accepted")
    return store.latest_approved(template) if basis == "approved" else store.latest_accepted(template)


def load(store: Store, template: str, blocks, lang: str = texts.DEFAULT, basis: str = "approved") -> Data:
    subs = pd.DataFrame(used(store, template, basis))
    if subs.empty:
        return Data(template, subs, pd.DataFrame(columns=VALUE_COLUMNS), lang)
    rows = store.value_rows(subs["id"].tolist(), list(blocks), VALUE_COLUMNS)
    values = pd.DataFrame.from_records(rows, columns=VALUE_COLUMNS)
    return Data(template, subs, values, lang)


def _label(template, name: str, lang: str) -> str:
    block = template.blocks.get(name)
    return text(block.label, lang) if block else name


def _dim_label(template, dim: str, lang: str) -> str:
    if dim in ("period", "unit"):
        return w(dim, lang)
    if "." in dim or dim in template.blocks:
        return _label(template, dim, lang)
    return w(dim, lang) if dim in ("region", "segment") else dim


def _num(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def _sum(values) -> float | None:
    nums = [v for v in (_num(x) for x in values) if v is not None]
    return sum(nums) if nums else None


def _col_labels(template, dim: str, lang: str) -> list[str]:
    d = template.dims[dim]
    return [d.label(lang, i) for i in range(d.size)]


def _group_label(value, lang: str) -> str:
    """A value plans are grouped by, as the row's label: a whole number without its ".0", a blank as blank."""
    if value is None or value == "" or value != value:
        return w("blank", lang)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fixed_values(data: Data, name: str, lang: str) -> dict:
    """Each plan's value of a one-cell block (its team ...) by submission id, as a group's label."""
    mine = data.block(name)
    found = {r.submission_id: (r.number if r.number == r.number and r.number is not None else r.text)
             for r in mine.itertuples(index=False)}
    return {sid: _group_label(found.get(sid), lang) for sid in data.submissions["id"]}


def table_rows(data: Data, table: str, columns) -> pd.DataFrame:
    """One row per used table row: submission_id, period, unit, row and the columns asked for."""
    names = [c if "." in c else f"{table}.{c}" for c in columns]
    frame = data.values[data.values["block"].isin(names)].copy()
    short = [n.split(".", 1)[1] for n in names]
    if frame.empty:
        return pd.DataFrame(columns=["submission_id", "period", "unit", "row", *short])
    frame["value"] = frame["number"].astype(object).where(frame["number"].notna(), frame["text"])
    wide = frame.pivot_table(index=["submission_id", "period", "unit", "row"], columns="block",
                             values="value", aggfunc="first", observed=True)
    wide.columns = [str(c).split(".", 1)[1] for c in wide.columns]
    for c in short:
        if c not in wide.columns:
            wide[c] = None
    return wide.reset_index()


def view_sum(data: Data, template, view: View, lang: str) -> ViewTable:
    a = view.args
    block = template.blocks[a["value"]]
    by = [str(b) for b in a.get("by", ["period", "unit"])]
    across = str(a.get("across", block.cols or "none"))
    total = a.get("total", "both")
    if block.table:
        frame = table_rows(data, block.table, [block.name] + [b for b in by if "." in b])
        frame = frame.rename(columns={block.name.split(".", 1)[1]: "__value"})
        for b in by:
            if "." in b:
                col = b.split(".", 1)[1]
                frame[b] = frame[col].map(lambda v: w("blank", lang) if v is None or v == "" or v != v else str(v))
        frame["__col"] = 1
    else:
        frame = data.block(block.name).copy()
        frame["__value"] = frame["number"]
        frame["__col"] = frame["col"]
        if block.rows:
            frame[block.rows] = frame["row_key"].astype(str)
    if across == "unit":
        columns = sorted(data.submissions["unit"].unique())
        col_of = "unit"
        labels = list(columns)
    elif across == "none":
        columns, col_of, labels = [1], "__col", [_label(template, block.name, lang)]
    else:
        size = template.dims[across].size
        columns, col_of, labels = list(range(1, size + 1)), "__col", _col_labels(template, across, lang)
    fixed = views.fixed_by(template, view)
    groups = {name: fixed_values(data, name, lang) for name in fixed}  # a plan's team ...
    for name in fixed:  # the same for every value of the plan
        frame[name] = frame["submission_id"].map(groups[name])
    frame["__value"] = pd.to_numeric(frame["__value"], errors="coerce")
    grid: dict[tuple, dict] = {}
    for record in frame[by + [col_of, "__value"]].itertuples(index=False):
        key, col, value = tuple(str(k) for k in record[:len(by)]), record[len(by)], record[len(by) + 1]
        cells = grid.setdefault(key, {})
        if value == value and value is not None:
            cells[col] = cells.get(col, 0.0) + float(value)
        else:
            cells.setdefault(col, None)
    if all(b in ("period", "unit") or b in fixed for b in by):
        # rows of whole plans (by unit, by team ...): every plan in use has its row, even one with nothing here
        for sub in data.submissions.to_dict("records"):
            of_plan = {"period": str(sub["period"]), "unit": str(sub["unit"])}
            of_plan.update({name: groups[name][sub["id"]] for name in fixed})
            grid.setdefault(tuple(of_plan[b] for b in by), {})
    row_total = total in ("both", "columns") and len(columns) > 1
    rows = []
    for key in sorted(grid):
        values = [grid[key].get(c) for c in columns]
        rows.append(list(key) + values + ([_sum(values)] if row_total else []))
    heading = [_dim_label(template, b, lang) for b in by] + labels + ([w("total", lang)] if row_total else [])
    totals: list[str | float | None] | None = None
    if total in ("both", "rows") and rows:
        totals = [w("total", lang), *[""] * (len(by) - 1)]
        totals += [_sum(r[len(by) + k] for r in rows) for k in range(len(heading) - len(by))]
    chart = None
    if a.get("chart", "none") != "none" and rows:
        title = f"{text(view.title, lang)} · {_label(template, block.name, lang)}"
        if len(columns) > 1 and totals:
            chart = Chart(a["chart"], title, labels, [(w("total", lang), totals[len(by):len(by) + len(columns)])],
                          ("row",))
        else:
            last = len(heading) - 1
            chart = Chart(a["chart"], title, [" ".join(map(str, r[:len(by)])) for r in rows],
                          [(w("total", lang), [r[last] for r in rows])], ("columns", [last]))
    return ViewTable(data.template, view, text(view.title, lang), heading, len(by), rows, totals,
                     figure_format(template, view, block.name), chart=chart)


def figure_format(template, view: View, name) -> str:
    """How a view shows the figures it puts together from block `name`: in its `format:`, or
    where it names none, in the format of the block's unit, as the units' workbooks show them
    (a sum of yuan grouped, 12,345,678; a plain number in General, 1234.5)."""
    unit = view.args.get("format") or template.blocks[str(name)].unit
    return FORMATS[unit if unit not in styles.TEXT_UNITS else "number"]


def view_figures(data: Data, template, view: View, lang: str) -> ViewTable:
    a = view.args
    columns = [str(c) for c in a["columns"]]
    gap = [str(g) for g in a.get("gap", [])]
    rows = []
    for period, unit in data.keys():
        mine = data.values[(data.values["unit"] == unit) & (data.values["period"] == period)]
        figures = {c: _sum(mine[mine["block"] == c]["number"].tolist()) for c in set(columns + gap)}
        row = [str(period), str(unit)] + [figures[c] for c in columns]
        if gap:
            x, y = figures[gap[0]], figures[gap[1]]
            row.append(None if x is None or y is None else x - y)  # a blank target is no target, not zero
        rows.append(row)
    heading = [w("period", lang), w("unit", lang)] + [_label(template, c, lang) for c in columns]
    if gap:
        heading.append(f"{w('gap', lang)}: {_label(template, gap[0], lang)} − {_label(template, gap[1], lang)}")
    totals = None
    if rows:
        totals = [w("total", lang), ""] + [_sum(r[k] for r in rows) for k in range(2, len(heading))]
    formats = {2 + k: figure_format(template, view, name) for k, name in enumerate(columns + gap[:1])}
    return ViewTable(data.template, view, text(view.title, lang), heading, 2, rows, totals,
                     figure_format(template, view, columns[0]), formats)


def view_plan_actual(data: Data, template, view: View, lang: str, actuals: dict | None = None) -> ViewTable:
    """Month by month: plan, actual, achievement, variance and the year to date, over all units;
    then each unit's year. An imported actual (unit, period, month) replaces the typed one."""
    a = view.args
    plan_rows = data.block(a["plan"])
    typed = data.block(a["actual"])
    plan: dict[tuple, dict[int, float]] = {}
    for r in plan_rows.itertuples(index=False):
        if r.number == r.number and r.number is not None:
            plan.setdefault((str(r.period), str(r.unit)), {})[int(r.col)] = float(r.number)
    actual: dict[tuple, dict[int, float]] = {}
    source: dict[tuple, str] = {}
    for r in typed.itertuples(index=False):
        if r.number == r.number and r.number is not None:
            actual.setdefault((str(r.period), str(r.unit)), {})[int(r.col)] = float(r.number)
            source[(str(r.period), str(r.unit))] = "typed"
    for (unit, year, month), value in (actuals or {}).items():
        key = (year, unit)
        if key in {(str(p), str(u)) for p, u in data.keys()}:
            actual.setdefault(key, {})[month] = value
            source[key] = "imported"
    labels = _col_labels(template, "month", lang)
    rows = []
    ytd_p = ytd_a = 0.0
    months_with_actual = 0
    for m in MONTHS:
        p = _sum(plan.get(k, {}).get(m) for k in plan) or 0.0
        got = [v[m] for v in actual.values() if m in v]
        act = sum(got) if got else None
        if act is not None:
            ytd_p += p
            ytd_a += act
            months_with_actual += 1
        rows.append([labels[m - 1], p, act, None if act is None or not p else act / p,
                     None if act is None else act - p,
                     ytd_p if act is not None else None, ytd_a if act is not None else None,
                     (ytd_a / ytd_p if ytd_p else None) if act is not None else None])
    heading = [w("month", lang), w("plan", lang), w("actual", lang), w("achievement", lang), w("variance", lang),
               w("ytd_plan", lang), w("ytd_actual", lang), w("ytd_achievement", lang)]
    per_unit = []
    for period, unit in data.keys():
        key = (str(period), str(unit))
        year = _sum(plan.get(key, {}).values())
        months = sorted(actual.get(key, {}))
        to_date = _sum(plan.get(key, {}).get(m) for m in months) if months else None
        done = _sum(actual[key][m] for m in months) if months else None
        per_unit.append([key[0], key[1], year, to_date, done,
                         None if done is None or not to_date else done / to_date,
                         w(source[key], lang) if key in source else None])
    groups = _group_years(data, template, view, lang, per_unit)
    unit_table = ViewTable(data.template, view, f"{text(view.title, lang)} · {w('unit', lang)}",
                           [w("period", lang), w("unit", lang), w("plan_year", lang), w("ytd_plan", lang),
                            w("ytd_actual", lang), w("ytd_achievement", lang), w("source", lang)], 2, per_unit,
                           [w("total", lang), "", _sum(r[2] for r in per_unit), _sum(r[3] for r in per_unit),
                            _sum(r[4] for r in per_unit), None, None] if per_unit else None,
                           figure_format(template, view, a["plan"]), {5: PCT})
    tot = unit_table.total
    if tot and tot[3]:
        tot[5] = (tot[4] or 0) / tot[3] if tot[4] is not None else None
    chart = Chart(a.get("chart", "bar") if a.get("chart", "bar") != "none" else "bar",
                  f"{text(view.title, lang)}", labels,
                  [(w("plan", lang), [r[1] for r in rows]), (w("actual", lang), [r[2] for r in rows])],
                  ("columns", [1, 2]))
    table = ViewTable(data.template, view, text(view.title, lang), heading, 1, rows, None,
                      figure_format(template, view, a["plan"]), {3: PCT, 7: PCT}, chart=chart,
                      extra=[unit_table] + groups)
    table.months_with_actual = months_with_actual  # type: ignore[attr-defined]
    return table


def _group_years(data: Data, template, view: View, lang: str, per_unit: list[list]) -> list[ViewTable]:
    """With `by: [team]`: each group's year — its plans' plan for the year, plan and actual to date
    added up (each plan's to-date over the months it has actuals for) and the achievement."""
    fixed = views.fixed_by(template, view)
    if not fixed:
        return []
    labels = {name: fixed_values(data, name, lang) for name in fixed}
    of_unit = {(str(s["period"]), str(s["unit"])): tuple(labels[name][s["id"]] for name in fixed)
               for s in data.submissions.to_dict("records")}
    grouped: dict[tuple, list[list]] = {}
    for row in per_unit:
        grouped.setdefault((row[0],) + of_unit[(row[0], row[1])], []).append(row)
    rows = []
    for key in sorted(grouped):
        members = grouped[key]
        to_date, done = _sum(r[3] for r in members), _sum(r[4] for r in members)
        rows.append([*key, float(len(members)), _sum(r[2] for r in members), to_date, done,
                     None if done is None or not to_date else done / to_date])
    n = 1 + len(fixed)
    sums = [_sum(r[n + k] for r in rows) for k in range(4)]  # members, plan for the year, to date, done
    to_date, done = sums[2], sums[3]
    total = [w("total", lang), *[""] * len(fixed), *sums, done / to_date if to_date and done is not None else None]
    title = f"{text(view.title, lang)} · {' · '.join(_dim_label(template, b, lang) for b in fixed)}"
    heading = [w("period", lang), *(_dim_label(template, b, lang) for b in fixed), w("members", lang),
               w("plan_year", lang), w("ytd_plan", lang), w("ytd_actual", lang), w("ytd_achievement", lang)]
    return [ViewTable(data.template, view, title, heading, n, rows, total if rows else None,
                      figure_format(template, view, view.args["plan"]), {n: FORMATS["count"], n + 4: PCT})]


def _staff(data: Data, a: dict) -> tuple[list[list], dict]:
    """period, unit, name, group, score, rank, overall rank, grade of every named row, best first."""
    names = {k: str(a[k]) for k in ("name", "group", "score", "rank", "grade") if k in a}
    staff = table_rows(data, names["name"].split(".", 1)[0], list(names.values()))
    short = {k: v.split(".", 1)[1] for k, v in names.items()}
    staff = staff[staff[short["name"]].notna() & (staff[short["name"]].astype(str) != "")].copy()
    staff["score_"] = pd.to_numeric(staff[short["score"]], errors="coerce")
    staff["overall_"] = staff.groupby("period")["score_"].rank(method="min", ascending=False)
    staff = staff.sort_values(["period", "overall_", "unit", "row"])
    rows = []
    for r in staff.to_dict("records"):
        group = r.get(short.get("group", ""), None)
        rows.append([str(r["period"]), str(r["unit"]), str(r[short["name"]]),
                     None if group is None or group != group else str(group), _num(r["score_"]),
                     _num(r.get(short.get("rank", ""))), _num(r["overall_"]),
                     r.get(short.get("grade", ""))])
    return rows, short


def view_ranking(data: Data, template, view: View, lang: str) -> ViewTable:
    rows, _ = _staff(data, view.args)
    heading = [w("period", lang), w("team", lang), w("name", lang), w("group", lang), w("score", lang),
               w("team_rank", lang), w("overall_rank", lang), w("grade", lang)]
    return ViewTable(data.template, view, text(view.title, lang), heading, 4, rows, None, FORMATS["score"],
                     {5: FORMATS["count"], 6: FORMATS["count"]})


def view_year(data: Data, template, view: View, lang: str) -> ViewTable:
    """The monthly scorecards as a year: each person's total per month and average, each team's average."""
    rows, _ = _staff(data, view.args)
    periods = sorted({r[0] for r in rows})
    people: dict[tuple, dict[str, float]] = {}
    teams: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if r[4] is None:
            continue
        people.setdefault((r[1], r[2]), {})[r[0]] = r[4]
        teams.setdefault(r[1], {}).setdefault(r[0], []).append(r[4])
    year_person = [[u, n] + [s.get(p) for p in periods] + [sum(s.values()) / len(s)]
                   for (u, n), s in sorted(people.items())]
    year_team = [[u] + [(sum(s[p]) / len(s[p])) if p in s else None for p in periods]
                 + [sum(sum(v) for v in s.values()) / sum(len(v) for v in s.values())]
                 for u, s in sorted(teams.items())]
    team_table = ViewTable(data.template, view, w("year_team", lang),
                           [w("team", lang), *periods, w("average", lang)], 1, year_team, None, FORMATS["score"])
    return ViewTable(data.template, view, w("year_person", lang),
                     [w("team", lang), w("name", lang), *periods, w("average", lang)], 2, year_person, None,
                     FORMATS["score"], extra=[team_table])


def view_count(data: Data, template, view: View, lang: str) -> ViewTable:
    name = str(view.args["value"])
    frame = table_rows(data, name.split(".", 1)[0], [name])
    col = name.split(".", 1)[1]
    frame = frame[frame[col].notna() & (frame[col].astype(str) != "")]
    values = sorted({str(v) for v in frame[col]})
    counts: dict[tuple, dict[str, int]] = {(str(p), str(u)): {} for p, u in data.keys()}
    for r in frame[["period", "unit", col]].itertuples(index=False):
        cell = counts.setdefault((str(r[0]), str(r[1])), {})
        cell[str(r[2])] = cell.get(str(r[2]), 0) + 1
    rows = [[p, u] + [float(c.get(v, 0)) for v in values] + [float(sum(c.values()))]
            for (p, u), c in sorted(counts.items())]
    heading = [w("period", lang), w("unit", lang), *values, w("total", lang)]
    totals = [w("total", lang), ""] + [_sum(r[k] for r in rows) for k in range(2, len(heading))] if rows else None
    return ViewTable(data.template, view, f"{text(view.title, lang)} · {_label(template, name, lang)}", heading, 2,
                     rows, totals, FORMATS["count"])


def view_list(data: Data, template, view: View, lang: str) -> ViewTable:
    columns = [str(c) for c in view.args["columns"]]
    table = columns[0].split(".", 1)[0]
    frame = table_rows(data, table, columns)
    when = view.args.get("when")
    if when:
        wc = str(when).split(".", 1)[1]
        frame = frame[frame[wc].notna() & (frame[wc].astype(str) != "")]
    frame = frame.sort_values(["period", "unit", "row"])
    rows = []
    for r in frame.itertuples(index=False):
        values = [getattr(r, c.split(".", 1)[1]) for c in columns]
        rows.append([str(r.period), str(r.unit)] + [None if v is None or v != v else v for v in values])
    heading = [w("period", lang), w("unit", lang)] + [_label(template, c, lang) for c in columns]
    return ViewTable(data.template, view, text(view.title, lang), heading, 2, rows, None, FORMATS["number"],
                     _column_formats(template, columns, 2), _measured(template, columns, rows, 2))


def _column_formats(template, columns: list[str], keys: int) -> dict[int, str]:
    """Each listed figure's format: its block's unit's (a due month 0, an amount #,##0)."""
    units = [template.blocks[name].unit if name in template.blocks else "number" for name in columns]
    return {keys + k: FORMATS[unit] for k, unit in enumerate(units) if unit not in styles.TEXT_UNITS}


def _measured(template, columns: list[str], rows: list[list], keys: int) -> dict[tuple[int, int], str]:
    """The format of each cell of a column whose block takes its unit from a measure listed beside
    it (a share 0.0%), by (row, column); the measure's word in whichever language the unit wrote."""
    out = {}
    for k, name in enumerate(columns):
        block = template.blocks.get(name)
        if block is None or block.measure not in columns:
            continue
        m = columns.index(block.measure)
        for i, row in enumerate(rows):
            unit = next((u for lang in texts.LANGUAGES if (u := texts.measure_unit(row[keys + m], lang))), None)
            code = styles.measured_format(block.unit, unit) if unit else None
            if code:
                out[(i, keys + k)] = code
    return out


KIND_TABLES = {"sum": view_sum, "figures": view_figures, "ranking": view_ranking, "year": view_year,
               "count": view_count, "list": view_list}


def templates_in_use(store: Store, basis: str = "approved") -> list[str]:
    return sorted({s["template"] for s in used(store, None, basis) if s["template"]})


def tables(store: Store, lang: str = texts.DEFAULT, basis: str = "approved",
           only: str | None = None) -> list[ViewTable]:
    """Every view of every template with plans in use, as plain tables (for the workbook and the web page)."""
    from . import actuals as actuals_module

    out: list[ViewTable] = []
    for template_id in templates_in_use(store, basis):
        if only and template_id != only or template_id not in spec.available():
            continue
        template = spec.load(template_id)
        if not template.views:
            continue
        blocks = sorted({b for v in template.views for b in views.blocks_used(v, template)})
        data = load(store, template_id, blocks, lang, basis)
        if data.submissions.empty:
            continue
        for view in template.views:
            if view.kind == "plan_actual":
                measure = str(view.args.get("measure", view.args["actual"]))
                out.append(view_plan_actual(data, template, view, lang,
                                            actuals_module.monthly(store, measure)))
            else:
                out.append(KIND_TABLES[view.kind](data, template, view, lang))
    return out


# -- writing ------------------------------------------------------------------------------
def put(ws, row: int, col: int, value, number_format: str | None = None, bold: bool = False):
    """Write one cell; text is stored as text whatever it starts with (no formula injection)."""
    cell = ws.cell(row, col)
    if value is None or (isinstance(value, float) and value != value):
        cell.value = None
    elif isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"  # openpyxl makes "=..." a formula; a submission's text never is one
    elif hasattr(value, "item"):  # numpy scalars
        cell.value = value.item()
    else:
        cell.value = value
    if number_format and not isinstance(value, str):
        cell.number_format = number_format
    cell.font = styles.TOTAL_FONT if bold else styles.BODY_FONT
    return cell


def header(ws, row: int, labels, col: int = 1):
    for k, label in enumerate(labels):
        cell = put(ws, row, col + k, label, bold=True)
        cell.fill = styles.HEADER_FILL
        cell.font = styles.HEADER_FONT
        cell.alignment = styles.CENTER
        cell.border = styles.BOX


def write_table(ws, row: int, table: ViewTable) -> paper.Section:
    """One table at `row` (the heading, the rows, the totals, its chart; not its `extra` tables,
    each on a sheet of its own); returns its rows as the sheet's one section."""
    header(ws, row, table.heading)
    head = row
    r = row + 1
    for i, values in enumerate(table.rows + ([table.total] if table.total else [])):
        for c, v in enumerate(values, start=1):
            fmt = table.cell_formats.get((i, c - 1), table.formats.get(c - 1, table.fmt)) if c > table.keys else None
            put(ws, r, c, v, fmt, bold=values is table.total)
        r += 1
    if table.chart is not None and table.rows:
        r = _chart(ws, table.chart, table, head, r)
    return paper.Section(head, head + 1, r - 1)


def _chart(ws, shown: Chart, table: ViewTable, head: int, r: int) -> int:
    chart = BarChart() if shown.kind == "bar" else LineChart()
    chart.title = shown.title
    first, last = head + 1, head + len(table.rows)
    if shown.place[0] == "row":
        total_row = head + len(table.rows) + 1
        chart.add_data(Reference(ws, min_col=table.keys + 1, max_col=table.keys + len(shown.categories),
                                 min_row=total_row, max_row=total_row), from_rows=True, titles_from_data=False)
        chart.set_categories(Reference(ws, min_col=table.keys + 1, max_col=table.keys + len(shown.categories),
                                       min_row=head, max_row=head))
        chart.legend = None
    else:
        cols = shown.place[1]
        chart.add_data(Reference(ws, min_col=cols[0] + 1, min_row=head, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=table.keys, min_row=first, max_row=last))
        if len(cols) > 1:  # plan as bars, actual as a line with markers over them
            line = LineChart()
            line.add_data(Reference(ws, min_col=cols[1] + 1, min_row=head, max_row=last), titles_from_data=True)
            for series in line.series:
                series.smooth = False  # a smoothed line would invent values between the months
                series.marker.symbol = "circle"
            chart += line
        else:
            chart.legend = None
    chart.height, chart.width = 7.5, 18
    ws.add_chart(chart, f"A{r + 1}")
    return r + 17


def status_sheet(ws, st: report.Status, lang: str) -> int:
    """The status of every unit's plans, one row each, under the header on row 3; returns the last row."""
    put(ws, 1, 1, f"{w('title', lang)} · {w('status', lang)}").font = styles.TITLE_FONT
    put(ws, 2, 1, texts.t("c_times_local", lang).format(zone=report.zone_name(st.zone))).font = styles.NOTE_FONT
    names = {r.template: report.template_name(r.template, lang) for r in st.rows}
    cols = ["status_col", "unit", "template", "period", "due", "received", "version", "files", "errors",
            "warnings", "review", "first_finding", "submitter", "file", "sha"]
    header(ws, 3, [w(c, lang) for c in cols])
    r = 4
    for row in st.rows:
        used_, latest = row.used or {}, row.latest or {}
        first = row.findings[0] if row.findings and row.findings[0]["severity"] == "error" else None
        values = [report.label(row.status, lang), row.unit, names.get(row.template, row.template), row.period,
                  row.due.isoformat() if row.due else None,
                  report.local_time(latest["received_at"], st.zone) if latest else None,
                  used_.get("version"), row.versions, latest.get("errors"), latest.get("warnings"),
                  report.review_label(row.review, lang) if row.review else None,
                  _finding_text(first), latest.get("submitter"), (used_ or latest).get("source"),
                  _short_sha((used_ or latest).get("sha256"))]
        for c, v in enumerate(values, start=1):
            put(ws, r, c, v)
        r += 1
    for s in st.unreadable:
        first = s["findings"][0] if s.get("findings") else None
        values = [report.label("rejected", lang), None, None, None, None, report.local_time(s["received_at"], st.zone),
                  None, 1, s["errors"], 0, None, _finding_text(first), s.get("submitter"), s["source"],
                  _short_sha(s["sha256"])]
        for c, v in enumerate(values, start=1):
            put(ws, r, c, v)
        r += 1
    for r in range(4, ws.max_row + 1):  # long texts wrap in their columns
        for key in ("first_finding", "file"):
            ws.cell(r, cols.index(key) + 1).alignment = styles.WRAP
    return ws.max_row


def _short_sha(sha: str | None) -> str | None:
    """The first 16 hex digits name a file among any HQ will ever store (the database has all 64)."""
    return sha[:16] if sha else None


def finish(ws, unit: str, lang: str, sections: list[paper.Section]) -> None:
    """Widths from the content; the identifying columns (status and unit, period and unit ...)
    frozen and repeated on every printed page, with the table's header row; the table kept on
    one page where it fits; A4 landscape at a readable scale; footers."""
    ws.sheet_view.showGridLines = False
    paper.fit_columns(ws, first_row=3)
    header_row = 3
    ident = 2 if ws.cell(header_row, 2).value is not None and ws.max_column > 6 else 1
    ws.freeze_panes = f"{get_column_letter(ident + 1)}{header_row + 1}"
    heights = generate.fit_rows(ws)
    widths = [generate.column_width(ws, get_column_letter(c)) for c in range(1, ws.max_column + 1)]
    reach = max((chart.width / 2.54 * 72 for chart in ws._charts), default=0.0)  # points; each from column A
    while sum(map(paper.column_points, widths)) < reach:  # a chart wider than its table prints whole
        widths.append(paper.DEFAULT_WIDTH)
    title_rows = paper.repeated_rows([s.first for s in sections]) if ws.max_row > header_row + 1 else None
    paper.set_up(ws, unit=unit, lang=lang, widths=widths, title_cols=ident, title_rows=title_rows, heights=heights,
                 sections=sections, heading=generate.heading_of(ws))


def _finding_text(f: dict | None) -> str | None:
    if not f:
        return None
    where = f"{f['sheet']} › {f['cell']}: " if f.get("sheet") and f.get("cell") else ""
    return f"{where}{f['message']} ({f['code']})"


SHEET_NAME_FORBIDDEN = re.compile(r"\s*[:\\/?*\[\]]\s*")  # characters Excel refuses in a sheet's name


def _sheet_title(name: str, template: str, taken: set[str]) -> str:
    """A table's title as its sheet's name, as Excel takes one: at most 31 characters, none it
    refuses, unlike every name taken (Excel compares them regardless of case). Where another
    sheet took it, the title cut to make room for what tells them apart (预算 support_plan)."""
    name = SHEET_NAME_FORBIDDEN.sub(" - ", ILLEGAL_CHARACTERS_RE.sub("", name)).replace("  ", " ").strip()
    used = {t.casefold() for t in taken}
    alt = next(title for title in (f"{name[:31 - len(s)].rstrip(' ·')}{s}" for s in _apart(template))
               if title.casefold() not in used)
    taken.add(alt)
    return alt


def _apart(template: str):
    """What tells apart sheets of one title, in turn: nothing, the template's id, the id and a number
    (a number alone where the id would leave the title too little room)."""
    yield ""
    for n in itertools.count(1):
        label = template if n == 1 else f"{template} {n}"
        yield f" {label}" if len(label) < 20 else f" {n + 1}"


def sheet_tables(view_tables: list[ViewTable], lang: str) -> list[tuple[str, ViewTable]]:
    """Every table with the name of the sheet it prints on, one table per sheet, so that the
    header repeated on every printed page is the table's own: a view's first table under the
    view's title (a view sharing its title with one before: under the table's title, 预期效果 ·
    达成), its further tables (each unit's year under the months) under their own titles."""
    out: list[tuple[str, ViewTable]] = []
    named: set[tuple[str, str]] = set()
    for table in view_tables:
        title = text(table.view.title, lang)
        out.append((title if (table.template, title) not in named else table.title, table))
        named.add((table.template, title))
        out += [(extra.title, extra) for extra in table.extra]
    return out


def write(store: Store, path: str | Path, lang: str = texts.DEFAULT, st: report.Status | None = None,
          basis: str = "approved") -> Path:
    """Build the consolidated workbook from the store and save it at `path`."""
    path = Path(path)
    lang = texts.language(lang)
    wb = generate.new_workbook(lang)
    status = wb.create_sheet(w("status", lang))
    last = status_sheet(status, st or report.status(store, basis=basis), lang)
    sections = {status.title: [paper.Section(3, 4, last)]}  # each sheet's table
    taken = {status.title}
    for name, table in sheet_tables(tables(store, lang, basis), lang):
        ws = wb.create_sheet(_sheet_title(name, table.template, taken))
        put(ws, 1, 1, f"{w('title', lang)} · {name}").font = styles.TITLE_FONT  # the title whole, not cut
        sections[ws.title] = [write_table(ws, 3, table)]
    for ws in wb.worksheets:
        finish(ws, w("title", lang), lang, sections[ws.title])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    with zipfile.ZipFile(tmp, "a") as zf:  # the mark by which a merge skips this file in an inbox
        zf.comment = CONSOLIDATED_MARK
    tmp.replace(path)
    return path
