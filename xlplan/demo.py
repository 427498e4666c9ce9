"""The planning cycle on the embedded samples: what `xlplan demo` runs.

1. HQ distributes: one workbook per roster line (xlplan/hq/distribute.py), each with
   HQ's top-down target in its grey cells; the roster also expects a unit that never
   sends its plan.
2. The units type their figures (the samples in workbooks/samples, scaled a little per
   unit) into the workbooks HQ sent and recalculate; two of them make slips.
3. HQ merges what came back: the plans with slips are rejected by the checks; HQ
   returns the north's plan with comments on its cells (a review sheet and cell notes
   in the unit's workbook); the units fix their plans and send them again.
4. HQ approves every plan without errors, imports three months of actuals and writes
   the consolidated workbook (plan against actual) and the status page; HQ's web page
   shows the same (`xlplan serve`, printed at the end).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl

from . import shipped
from .command import Printer
from .hq import actuals, consolidate, diff, distribute, merge, report, review, store
from .model import XlplanError
from .template import generate, spec
from .template.layout import Layout
from .workbook import recalculation as recalc
from .workbook.read import read_fast

SAMPLES = shipped.folder("samples")

UNITS = {
    "annual_plan": [("北区营业部", 1.0), ("南区营业部", 0.8), ("东区营业部", 1.2)],
    "kpi_scorecard": [("客服一组", 1.0), ("客服二组", 0.9)],
    "support_plan": [("客服部", 1.0)],
}
REGIONS = {"北区营业部": "北", "南区营业部": "南", "东区营业部": "东", "客服一组": "总部", "客服二组": "总部",
           "客服部": "总部", "西区营业部": "西"}
MISSING_UNIT = ("西区营业部", "annual_plan")  # on the roster, never submits: the status page shows it
# who makes which slip: the north keeps the sample's stated 6,400 for 200 × 80 × 4 = 64,000; the east
# raises March (and its first region) by RAISED_MARCH but leaves its annual target as it was
SLIPS = {"北区营业部": "STATED_NOT_COMPUTED", "东区营业部": "MONTHS_NOT_YEAR"}
RAISED_MARCH = 60.0
RETURNED_UNIT = "北区营业部"  # HQ returns this one with comments on its cells
REVIEWER = "张经理（总部企划部）"
ACTUAL_MONTHS = {1: 1.05, 2: 0.96, 3: 1.02}  # the first quarter's actuals, as a share of each unit's plan
# what grows with a unit's size: its premiums and its people. Per-head productivity, shares, growth
# rates and the budget stay as sampled, so a unit's plan adds up as the sample's does (a unit 1.2
# times the size has 1.2 times the people, not 1.2 times their productivity).
SCALED = {"target_month", "region_plan", "actual_month", "hq_target", "opening_headcount", "recruits",
          "attrition", "seg_headcount"}
SCALED_COLUMNS = {"markets": {"target", "headcount"}, "staff": {"planned_sales", "actual_sales"}}
FIGURES = ("base", "target")  # the key figures: their premium and headcount rows scale, the rest not
SIZE_UNITS = ("wan", "count")


def scaled(template_id: str, data: dict, factor: float) -> dict:
    """The sample as a unit `factor` times its size would plan it."""
    def scale(value):
        if isinstance(value, list):
            return [scale(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return round(value * factor, 2)
        return value

    template = spec.load(template_id)
    size_rows = [unit in SIZE_UNITS for unit in template.dims["figure"].units] if "figure" in template.dims else []
    out = {}
    for key, value in data.items():
        if key in SCALED:
            out[key] = scale(value)
        elif key in FIGURES:
            out[key] = [scale(v) if k < len(size_rows) and size_rows[k] else v for k, v in enumerate(value)]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            columns = SCALED_COLUMNS.get(key, set())
            out[key] = [{k: scale(v) if k in columns else v for k, v in row.items()} for row in value]
        else:
            out[key] = value
    return out


def unit_figures(template_id: str, unit: str, factor: float, data: dict, slip: bool = True) -> dict:
    """What a unit types: the sample scaled, its slip if `slip` (else what it meant), HQ's grey cells left alone."""
    figures = scaled(template_id, data, factor)
    figures.pop("hq_target", None)  # HQ's, issued in the workbook
    figures.pop("actual_month", None)  # actuals come from the company's systems
    if template_id != "annual_plan":
        return figures
    made = SLIPS.get(unit) if slip else None
    if made != "STATED_NOT_COMPUTED":  # the sample's own slip, which only the north keeps
        for row in figures.get("actions", []):
            if "stated" in row and all(k in row for k in ("quantity", "unit_cost", "times")):
                row["stated"] = row["quantity"] * row["unit_cost"] * row["times"]
    if made == "MONTHS_NOT_YEAR":  # March and its first region raised alike: the regions still make the month
        figures["target_month"][2] += RAISED_MARCH
        figures["region_plan"][0][2] += RAISED_MARCH
    return figures


def type_into(sent: Path, figures: dict, out: Path) -> recalc.Result:
    """The unit types `figures` into the yellow cells of the workbook HQ sent and presses Recalculate."""
    plan = read_fast(sent)
    given = {n for n, b in plan.template.blocks.items() if b.role == "given"}
    wb = openpyxl.load_workbook(sent)
    generate.fill_inputs(wb, plan.template, Layout(plan.template, plan.lang),
                         {k: v for k, v in figures.items() if k not in given}, where=str(sent))
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return recalc.recalc_file(out, json_report=out.with_suffix(".json"))


def run(folder: Path, console: Printer | None = None, year: int = 2027) -> list[recalc.Result]:
    console = console or Printer()
    folder = Path(folder)
    hq = folder / "hq"
    for own in ("outbox", "inbox", "returned"):  # the demo's own folders, made afresh on every run
        shutil.rmtree(folder / own, ignore_errors=True)
    hq.mkdir(parents=True, exist_ok=True)
    samples = {}
    for template_id in UNITS:
        sample = SAMPLES / f"{template_id}.json"
        if not sample.is_file():  # an install without the samples must not claim to have run
            raise XlplanError(f"{sample}: the demo's sample figures are missing; reinstall xlplan")
        samples[template_id] = json.loads(sample.read_text(encoding="utf-8"))
    kpi_period = samples["kpi_scorecard"].pop("period", f"{year}-01")
    for data in samples.values():
        data.pop("params", None)
        data.pop("period", None)
    # 1. HQ's roster and top-down targets, then one workbook per unit
    roster_lines = ["unit,template,period,due,region"]
    given_lines = ["unit,block,value"]
    for template_id, units in UNITS.items():
        period = kpi_period if template_id == "kpi_scorecard" else str(year)
        for unit, factor in units:
            roster_lines.append(f"{unit},{template_id},{period},{year}-01-31,{REGIONS[unit]}")
            if template_id == "annual_plan":
                given_lines.append(f"{unit},hq_target,{round(samples[template_id]['hq_target'] * factor, 2)}")
    roster_lines.append(f"{MISSING_UNIT[0]},{MISSING_UNIT[1]},{year},{year}-01-31,{REGIONS[MISSING_UNIT[0]]}")
    (hq / "roster.csv").write_text("\n".join(roster_lines) + "\n", encoding="utf-8")
    (hq / "given.csv").write_text("\n".join(given_lines) + "\n", encoding="utf-8")
    db = hq / "hq.db"
    for stale in (db, db.with_name("hq.db-wal"), db.with_name("hq.db-shm")):
        stale.unlink(missing_ok=True)  # the demo's own database, made afresh on every run
    url = f"sqlite:///{db}"
    with store.Store(url) as hq_store:
        issued = distribute.distribute(hq_store, hq / "roster.csv", folder / "outbox", hq / "given.csv",
                                       zip_by_region=True)
        hq_store.set_roster(merge.read_roster(hq / "roster.csv"))  # with the due dates
        console.line(f"1. HQ distributed {len(issued.files)} workbooks to {folder / 'outbox'} "
                     f"({issued.cells} given cells recorded; a zip per region)")
        # 2. the units fill in what HQ sent
        sent = {read_fast(p).unit: p for p in issued.files}
        results, rows = [], []
        inbox = folder / "inbox"
        for template_id, units in UNITS.items():
            for unit, factor in units:
                result = type_into(sent[unit], unit_figures(template_id, unit, factor, samples[template_id]),
                                   inbox / f"{unit}.xlsx")
                results.append(result)
                rows.append((template_id, unit, inbox / f"{unit}.xlsx", len(result.errors),
                             result.counts()["warning"]))
        console.table(("template", "unit", "workbook", "errors", "warnings"), rows,
                      title="2. the units fill in their workbooks")
        hq_cycle(folder, hq_store, results, console, year)
    return results


def fixed(result: recalc.Result) -> dict:
    """The unit's corrections after HQ returns the plan: the slips the check list showed, fixed."""
    data = result.plan.inputs()  # given cells too: type_into leaves them as HQ sent them
    codes = {f.code for f in result.errors}
    if "STATED_NOT_COMPUTED" in codes:
        for row, amount in zip(data.get("actions", []), result.tables.get("actions.amount", [])):
            if "stated" in row:
                row["stated"] = amount
    if "MONTHS_NOT_YEAR" in codes:  # the months did not make the year: March's raise taken back
        data["target_month"][0][2] -= RAISED_MARCH
        data["region_plan"][0][2] -= RAISED_MARCH
    return data


def hq_cycle(folder: Path, hq_store: store.Store, results: list[recalc.Result], console: Printer,
             year: int) -> merge.Outcome:
    """HQ's side: merge, return a plan with comments, merge the fixed ones, approve, actuals, consolidate."""
    hq, inbox = folder / "hq", folder / "inbox"
    first = merge.merge([inbox], hq_store, workers=0)
    console.line(f"3. HQ merges: {first}")
    for name in first.rejected_files:
        console.line(f"   rejected by the checks: {name}")
    # HQ returns the north's plan with comments on its cells
    north = review.find(hq_store, RETURNED_UNIT)
    errors = [f for f in hq_store.findings_of(north["id"]) if f["severity"] == "error"]
    comments = [review.Comment(f["sheet"], f["cell"], f"请核对：{f['message']}") for f in errors if f["cell"]]
    event = review.return_(hq_store, north, REVIEWER, "预算中有一笔填报金额与计算不符，请改正后再交。", comments)
    returned = review.returned_workbook(hq_store, north, event, folder / "returned" / f"{RETURNED_UNIT}.xlsx")
    console.line(f"   HQ returned {RETURNED_UNIT} with {len(comments)} cell comment(s): {returned}")
    # the units fix what was returned or rejected, in the workbook they have, and send it again
    for result in results:
        if not result.errors:
            continue
        unit = result.plan.unit
        start = returned if unit == RETURNED_UNIT else inbox / f"{unit}.xlsx"
        again = type_into(start, fixed(result), inbox / f"{unit}-v2.xlsx")
        console.line(f"   {unit} fixed {', '.join(sorted({f.code for f in result.errors}))} and sent version 2 "
                     f"({len(again.errors)} errors)")
    second = merge.merge([inbox], hq_store, workers=0)
    console.line(f"   HQ merges again: {second}")
    d = diff.compare(hq_store, *diff.pick(hq_store, RETURNED_UNIT))
    for c in d.inputs:
        console.line(f"   diff {RETURNED_UNIT} v{d.old_version}→v{d.new_version}: {c.sheet} › {c.cell} {c.label} "
                     f"{diff.shown(c.old, c.unit)} → {diff.shown(c.new, c.unit)}")
    # 4. HQ approves every checked plan without errors
    approved = 0
    for sub in hq_store.submissions():
        if sub["unit"] and sub["status"] == "accepted" and review.state_of(hq_store, sub["id"]) == "checked":
            review.approve(hq_store, sub, REVIEWER, "同意")
            approved += 1
    console.line(f"4. HQ approves {approved} plans")
    # three months of actuals from the company's systems
    lines = ["unit,period,measure,value"]
    for result in results:
        if result.plan.template.id != "annual_plan":
            continue
        plan_months = hq_store_plan(hq_store, result.plan.unit)
        for month, share in ACTUAL_MONTHS.items():
            lines.append(f"{result.plan.unit},{year}-{month:02d},actual_month,{round(plan_months[month] * share, 2)}")
    csv_path = hq / "actuals.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.line(f"   actuals for {len(ACTUAL_MONTHS)} months: {actuals.import_file(hq_store, csv_path)}")
    st = report.status(hq_store)
    workbook = consolidate.write(hq_store, hq / "consolidated.xlsx", st=st)
    page = report.write_html(st, hq / "status.html")
    console.line("   " + ", ".join(f"{st.count(s)} {s}" for s in ("accepted", "late", "rejected", "missing")))
    console.line(f"  database:              {hq / 'hq.db'}")
    console.line(f"  roster, given, actuals: {hq / 'roster.csv'}, {hq / 'given.csv'}, {csv_path}")
    console.line(f"  consolidated workbook: {workbook}")
    console.line(f"  status page:           {page}")
    console.line(f"  HQ's web page:         XLPLAN_HQ_PASSWORD=demo xlplan serve --dev --db sqlite:///{hq / 'hq.db'}"
                 f"  → http://127.0.0.1:8000/hq/")
    return merge.Outcome(second, st, workbook, page)


def hq_store_plan(hq_store: store.Store, unit: str) -> dict[int, float]:
    """A unit's approved monthly targets (万元), month → value."""
    (sub,) = [s for s in hq_store.latest_approved("annual_plan") if s["unit"] == unit]
    return {row["col"]: row["number"] for row in hq_store.values([sub["id"]], ["target_month"])}
