"""The consolidated plan: one workbook from each unit's latest accepted submission.

Every figure comes from the values the engine recomputed from the units' inputs at
merge time (the store's long-form `plan_values`), never from values cached in the
submitted files. Rollups are pandas; the workbook is openpyxl, with numbers (not
formulas) so that any reader sees them. Text that came from a submission — unit,
strategy and people's names — is always written as text: a name that begins with "="
stays a name, never becomes a formula.

Sheets: status; plan by unit × month; regions; headcount; budget by strategy × unit;
HQ's top-down target against the bottom-up plan (the gap); plan against actual; every
scorecard ranked; grade distribution per team. Charts: monthly plan against actual,
budget by strategy.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .. import texts
from . import report
from .merge import CONSOLIDATED_MARK
from .store import Store

ANNUAL, KPI = "annual_plan", "kpi_scorecard"
ANNUAL_BLOCKS = ("target_month", "actual_month", "region_plan", "headcount", "recruits", "attrition",
                 "opening_headcount", "hq_target", "year_target", "target_month_y", "actual_month_y",
                 "budget_total", "budget_month", "actions.strategy", "actions.amount")
KPI_BLOCKS = ("staff.name", "staff.group", "staff.total", "staff.rank", "staff.grade", "grade_label")
MONTHS = range(1, 13)

WAN, YUAN, COUNT, PCT, SCORE = "#,##0.00", "#,##0", "#,##0", "0.0%", "0.0"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
TOTAL_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)

def w(key: str, lang: str) -> str:
    """A word of the consolidated workbook, from the one catalogue (xlplan/texts.py)."""
    return texts.t(f"c_{key}", lang)


def month_label(m: int, lang: str) -> str:
    return texts.month(m, lang)


# -- data -----------------------------------------------------------------------------
@dataclass
class Data:
    """The latest accepted submissions and their values in long form."""

    submissions: pd.DataFrame  # one row per submission used
    values: pd.DataFrame  # submission_id, unit, period, block, row, col, row_key, col_key, number, text

    def block(self, name: str) -> pd.DataFrame:
        return self.values[self.values["block"] == name]


def load(store: Store, template: str, blocks) -> Data:
    subs = pd.DataFrame(store.latest_accepted(template))
    columns = ["submission_id", "unit", "period", "block", "row", "col", "row_key", "col_key", "number", "text"]
    if subs.empty:
        return Data(subs, pd.DataFrame(columns=columns))
    rows = store.value_rows(subs["id"].tolist(), blocks, columns)
    values = pd.DataFrame.from_records(rows, columns=columns)
    for name in ("unit", "period", "block", "row_key", "col_key"):
        values[name] = values[name].astype("category")  # a few distinct strings, repeated per value
    return Data(subs, values)


def monthly(data: Data, block: str, fill: float | None = 0.0) -> pd.DataFrame:
    """(period, unit) × month 1..12 of a monthly block; blank months are `fill`."""
    frame = data.block(block)
    table = frame.pivot_table(index=["period", "unit"], columns="col", values="number", aggfunc="sum")
    table = table.reindex(columns=list(MONTHS))
    keys = data.submissions.set_index(["period", "unit"]).index
    table = table.reindex(keys.sort_values())
    return table.fillna(fill) if fill is not None else table


def scalar(data: Data, block: str) -> pd.Series:
    """(period, unit) → a one-cell block's number (NaN where blank)."""
    frame = data.block(block)
    series = frame.set_index(["period", "unit"])["number"]
    keys = data.submissions.set_index(["period", "unit"]).index.sort_values()
    return series.groupby(level=[0, 1]).sum(min_count=1).reindex(keys)


def table_rows(data: Data, table: str, columns) -> pd.DataFrame:
    """One row per used table row: period, unit, submission_id, row and the columns asked for."""
    names = [f"{table}.{c}" for c in columns]
    frame = data.values[data.values["block"].isin(names)].copy()
    if frame.empty:
        return pd.DataFrame(columns=["submission_id", "period", "unit", "row", *columns])
    frame["value"] = frame["number"].where(frame["number"].notna(), frame["text"])
    wide = frame.pivot_table(index=["submission_id", "period", "unit", "row"], columns="block",
                             values="value", aggfunc="first")
    wide.columns = [c.split(".", 1)[1] for c in wide.columns]
    for c in columns:
        if c not in wide.columns:
            wide[c] = None
    return wide.reset_index()


# -- writing --------------------------------------------------------------------------
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
    if bold:
        cell.font = TOTAL_FONT
    return cell


def header(ws, row: int, labels, col: int = 1):
    for k, label in enumerate(labels):
        cell = put(ws, row, col + k, label, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def title(ws, text_: str, note: str = ""):
    put(ws, 1, 1, text_).font = TITLE_FONT
    if note:
        put(ws, 2, 1, note)


def widths(ws, first: float = 18, rest: float = 12, count: int = 16):
    ws.column_dimensions["A"].width = first
    for c in range(2, count + 1):
        ws.column_dimensions[get_column_letter(c)].width = rest


def write_matrix(ws, row: int, table: pd.DataFrame, index_labels, lang: str, fmt: str,
                 column_labels=None, total_row: bool = True, total_col: bool = True) -> int:
    """An index × columns table with a total column and a totals row; returns the next free row."""
    column_labels = column_labels or [str(c) for c in table.columns]
    header(ws, row, list(index_labels) + list(column_labels) + ([w("total", lang)] if total_col else []))
    r = row + 1
    nidx = len(index_labels)
    for key, values in table.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        for k, part in enumerate(key):
            put(ws, r, 1 + k, part)
        for k, v in enumerate(values.tolist()):
            put(ws, r, nidx + 1 + k, v, fmt)
        if total_col:
            put(ws, r, nidx + 1 + len(column_labels), float(values.sum(min_count=1)), fmt, bold=True)
        r += 1
    if total_row:
        put(ws, r, 1, w("total", lang), bold=True)
        sums = table.sum(min_count=1)
        for k, v in enumerate(sums.tolist()):
            put(ws, r, nidx + 1 + k, float(v), fmt, bold=True)
        if total_col:
            put(ws, r, nidx + 1 + len(column_labels), float(sums.sum(min_count=1)), fmt, bold=True)
        r += 1
    return r + 1


# -- sheets ---------------------------------------------------------------------------
def status_sheet(ws, st: report.Status, lang: str):
    title(ws, f"{w('title', lang)} · {w('status', lang)}")
    cols = ["status_col", "unit", "template", "period", "due", "received", "version", "files", "errors",
            "warnings", "first_finding", "submitter", "file", "sha"]
    header(ws, 3, [w(c, lang) for c in cols])
    r = 4
    for row in st.rows:
        used, latest = row.used or {}, row.latest or {}
        first = row.findings[0] if row.findings and row.findings[0]["severity"] == "error" else None
        values = [report.label(row.status, lang), row.unit, row.template, row.period,
                  row.due.isoformat() if row.due else None,
                  latest["received_at"].strftime("%Y-%m-%d %H:%M") if latest else None,
                  used.get("version"), row.versions, latest.get("errors"), latest.get("warnings"),
                  _finding_text(first), latest.get("submitter"), (used or latest).get("source"),
                  (used or latest).get("sha256")]
        for c, v in enumerate(values, start=1):
            put(ws, r, c, v)
        r += 1
    for s in st.unreadable:
        first = s["findings"][0] if s.get("findings") else None
        for c, v in enumerate([report.label("rejected", lang), None, None, None, None,
                               s["received_at"].strftime("%Y-%m-%d %H:%M"), None, 1, s["errors"], 0,
                               _finding_text(first), s.get("submitter"), s["source"], s["sha256"]], start=1):
            put(ws, r, c, v)
        r += 1
    widths(ws, 10, 14, len(cols))
    ws.column_dimensions[get_column_letter(cols.index("first_finding") + 1)].width = 48
    ws.column_dimensions[get_column_letter(cols.index("file") + 1)].width = 28
    ws.freeze_panes = "C4"


def _finding_text(f: dict | None) -> str | None:
    if not f:
        return None
    where = f"{f['sheet']} › {f['cell']}: " if f.get("sheet") and f.get("cell") else ""
    return f"{where}{f['message']} ({f['code']})"


def plan_sheet(ws, data: Data, lang: str):
    title(ws, w("plan_title", lang))
    table = monthly(data, "target_month")
    write_matrix(ws, 3, table, [w("period", lang), w("unit", lang)], lang, WAN,
                 [month_label(m, lang) for m in MONTHS])
    widths(ws, 10, 11)
    ws.column_dimensions["B"].width = 18
    ws.freeze_panes = "C4"


def regions_sheet(ws, data: Data, lang: str):
    title(ws, w("regions_title", lang))
    frame = data.block("region_plan")
    by_unit = frame.pivot_table(index=["period", "unit", "row_key"], columns="col", values="number",
                                aggfunc="sum").reindex(columns=list(MONTHS)).fillna(0)
    r = write_matrix(ws, 3, by_unit, [w("period", lang), w("unit", lang), w("region", lang)], lang, WAN,
                     [month_label(m, lang) for m in MONTHS])
    by_region = frame.pivot_table(index=["period", "row_key"], columns="col", values="number",
                                  aggfunc="sum").reindex(columns=list(MONTHS)).fillna(0)
    write_matrix(ws, r, by_region, [w("period", lang), w("region", lang)], lang, WAN,
                 [month_label(m, lang) for m in MONTHS])
    widths(ws, 10, 11)
    ws.column_dimensions["B"].width = 18
    ws.freeze_panes = "D4"


def headcount_sheet(ws, data: Data, lang: str):
    title(ws, w("headcount", lang))
    table = monthly(data, "headcount")
    r = write_matrix(ws, 3, table, [w("period", lang), w("unit", lang)], lang, COUNT,
                     [month_label(m, lang) for m in MONTHS], total_col=False)
    flows = pd.DataFrame({
        w("opening", lang): scalar(data, "opening_headcount"),
        w("recruits", lang): monthly(data, "recruits").sum(axis=1),
        w("attrition", lang): monthly(data, "attrition").sum(axis=1),
        w("closing", lang): table[12] if 12 in table else None,
    })
    write_matrix(ws, r, flows, [w("period", lang), w("unit", lang)], lang, COUNT, total_col=False)
    widths(ws, 10, 11)
    ws.column_dimensions["B"].width = 18


def budget_sheet(ws, data: Data, lang: str):
    title(ws, w("chart_budget", lang))
    lines = table_rows(data, "actions", ["strategy", "amount"])
    lines["strategy"] = lines["strategy"].where(lines["strategy"].notna() & (lines["strategy"] != ""),
                                                w("no_strategy", lang)).astype(str)
    lines["amount"] = pd.to_numeric(lines["amount"], errors="coerce").fillna(0.0)
    units = sorted(data.submissions["unit"].unique()) if not data.submissions.empty else []
    table = lines.pivot_table(index="strategy", columns="unit", values="amount", aggfunc="sum",
                              fill_value=0.0).reindex(columns=units, fill_value=0.0)
    r = write_matrix(ws, 3, table, [w("strategy", lang)], lang, YUAN, units)
    if len(table):
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = w("chart_budget", lang)
        chart.y_axis.title = w("budget_total", lang)
        totals_col = 2 + len(units)
        chart.add_data(Reference(ws, min_col=totals_col, min_row=3, max_row=3 + len(table)), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=4, max_row=3 + len(table)))
        chart.legend = None
        chart.height, chart.width = 7 + 0.5 * len(table), 18
        ws.add_chart(chart, f"A{r + 1}")
    by_month = monthly(data, "budget_month")
    write_matrix(ws, r + 18 + len(table) // 2, by_month, [w("period", lang), w("unit", lang)], lang, YUAN,
                 [month_label(m, lang) for m in MONTHS])
    widths(ws, 22, 13, max(16, len(units) + 2))


def gap_sheet(ws, data: Data, lang: str):
    title(ws, w("gap", lang))
    frame = pd.DataFrame({
        w("hq_target", lang): scalar(data, "hq_target"),
        w("year_target", lang): scalar(data, "year_target"),
        w("months_sum", lang): scalar(data, "target_month_y"),
    })
    frame[w("gap_value", lang)] = frame[w("months_sum", lang)].fillna(0) - frame[w("hq_target", lang)].fillna(0)
    write_matrix(ws, 3, frame, [w("period", lang), w("unit", lang)], lang, WAN, total_col=False)
    widths(ws, 10, 20, 7)
    ws.column_dimensions["B"].width = 18


def actual_sheet(ws, data: Data, lang: str):
    title(ws, w("actual", lang))
    plan = monthly(data, "target_month").sum()
    actual_by_unit = monthly(data, "actual_month", fill=None)
    actual = actual_by_unit.sum(min_count=1)
    header(ws, 3, [w("month", lang), w("plan_wan", lang), w("actual_wan", lang), w("achievement", lang),
                   w("variance", lang)])
    for k, m in enumerate(MONTHS):
        r = 4 + k
        a = actual.get(m)
        a = None if a is None or a != a else float(a)
        p = float(plan.get(m, 0.0))
        put(ws, r, 1, month_label(m, lang))
        put(ws, r, 2, p, WAN)
        put(ws, r, 3, a, WAN)
        put(ws, r, 4, None if a is None or not p else a / p, PCT)
        put(ws, r, 5, None if a is None else a - p, WAN)
    chart = BarChart()
    chart.title = w("chart_plan", lang)
    chart.add_data(Reference(ws, min_col=2, min_row=3, max_row=15), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=4, max_row=15))
    line = LineChart()
    line.add_data(Reference(ws, min_col=3, min_row=3, max_row=15), titles_from_data=True)
    line.set_categories(Reference(ws, min_col=1, min_row=4, max_row=15))
    for series in line.series:
        series.smooth = False  # a smoothed line would invent values between the months
        series.marker.symbol = "circle"
    chart += line
    chart.height, chart.width = 8, 18
    ws.add_chart(chart, "G3")
    r = 18
    plan_by_unit = monthly(data, "target_month")
    per_unit = pd.DataFrame({
        w("plan_wan", lang): plan_by_unit.sum(axis=1),
        w("plan_to_date", lang): plan_by_unit.where(actual_by_unit.notna()).sum(axis=1),
        w("actual_wan", lang): actual_by_unit.sum(axis=1, min_count=1),
    })
    write_matrix(ws, r, per_unit, [w("period", lang), w("unit", lang)], lang, WAN, total_col=False)
    widths(ws, 12, 14, 6)
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["D"].width = 22


def scores_frame(data: Data) -> pd.DataFrame:
    staff = table_rows(data, "staff", ["name", "group", "total", "rank", "grade"])
    staff = staff[staff["name"].notna() & (staff["name"].astype(str) != "")].copy()
    staff["total"] = pd.to_numeric(staff["total"], errors="coerce")
    staff["overall"] = staff.groupby("period")["total"].rank(method="min", ascending=False)
    return staff.sort_values(["period", "overall", "unit", "row"])


def scores_sheet(ws, staff: pd.DataFrame, lang: str):
    title(ws, w("scores", lang))
    cols = ["period", "team", "name", "group", "score", "team_rank", "overall_rank", "grade"]
    header(ws, 3, [w(c, lang) for c in cols])
    r = 4
    for row in staff.itertuples(index=False):
        values = [row.period, row.unit, row.name, row.group, row.total, row.rank, row.overall, row.grade]
        formats = [None, None, None, None, SCORE, COUNT, COUNT, None]
        for c, (v, f) in enumerate(zip(values, formats), start=1):
            put(ws, r, c, str(v) if c in (3, 4) and v is not None and v == v else v, f)
        r += 1
    widths(ws, 10, 12, len(cols))
    ws.freeze_panes = "A4"


def grades_sheet(ws, staff: pd.DataFrame, lang: str):
    title(ws, w("grades", lang))
    table = pd.crosstab([staff["period"], staff["unit"]], staff["grade"].fillna("?").astype(str))
    write_matrix(ws, 3, table.astype(float), [w("period", lang), w("team", lang)], lang, COUNT)
    widths(ws, 10, 9, len(table.columns) + 3)
    ws.column_dimensions["B"].width = 18


def write(store: Store, path: str | Path, lang: str = texts.DEFAULT, st: report.Status | None = None) -> Path:
    """Build the consolidated workbook from the store and save it at `path`."""
    path = Path(path)
    lang = texts.language(lang)
    wb = Workbook()
    status_sheet(wb.active, st or report.status(store), lang)
    wb.active.title = w("status", lang)
    annual = load(store, ANNUAL, ANNUAL_BLOCKS)
    if not annual.submissions.empty:
        for key, fill in (("plan", plan_sheet), ("regions", regions_sheet), ("headcount", headcount_sheet),
                          ("budget", budget_sheet), ("gap", gap_sheet), ("actual", actual_sheet)):
            fill(wb.create_sheet(w(key, lang)), annual, lang)
    kpi = load(store, KPI, KPI_BLOCKS)
    if not kpi.submissions.empty:
        staff = scores_frame(kpi)
        scores_sheet(wb.create_sheet(w("scores", lang)), staff, lang)
        grades_sheet(wb.create_sheet(w("grades", lang)), staff, lang)
    for ws in wb.worksheets:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    with zipfile.ZipFile(tmp, "a") as zf:  # the mark by which a merge skips this file in an inbox
        zf.comment = CONSOLIDATED_MARK
    tmp.replace(path)
    return path
