"""The planning cycle on the embedded samples: what `xlplan demo` runs.

HQ generates one workbook per unit, pre-filled from the samples in workbooks/samples
(each unit's figures scaled a little so the units differ); the units' workbooks are
recalculated and checked; then HQ merges them into a database (SQLite) with a roster
that also expects one unit that never sends its plan, and writes the consolidated
workbook and the status page. The command prints where every result lies.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import shipped
from .command import Printer
from .hq import merge, store
from .model import XlplanError
from .template import generate, spec
from .workbook import recalculation as recalc

SAMPLES = shipped.folder("samples")

UNITS = {
    "annual_plan": [("北区营业部", 1.0), ("南区营业部", 0.8), ("东区营业部", 1.25)],
    "kpi_scorecard": [("客服一组", 1.0), ("客服二组", 0.9)],
    "support_plan": [("客服部", 1.0)],
}
MISSING_UNIT = ("西区营业部", "annual_plan")  # on the roster, never submits: the status page shows it
# blocks whose money figures scale with a unit's size; everything else is kept as sampled
SCALED = {"target_month", "region_plan", "actual_month", "hq_target", "planned_sales", "actual_sales"}


def scaled(data: dict, factor: float) -> dict:
    def scale(value):
        if isinstance(value, list):
            return [scale(v) for v in value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return round(value * factor, 2)
        return value

    out = {}
    for key, value in data.items():
        if key in SCALED:
            out[key] = scale(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [{k: scale(v) if k in SCALED else v for k, v in row.items()} for row in value]
        else:
            out[key] = value
    return out


def run(folder: Path, console: Printer | None = None, year: int = 2027) -> list[recalc.Result]:
    console = console or Printer()
    folder = Path(folder)
    results = []
    rows = []
    for template_id, units in UNITS.items():
        sample = SAMPLES / f"{template_id}.json"
        if not sample.is_file():  # an install without the samples must not claim to have run
            raise XlplanError(f"{sample}: the demo's sample figures are missing; reinstall xlplan")
        data = json.loads(sample.read_text(encoding="utf-8"))
        params = data.pop("params", {})
        period = data.pop("period", f"{year}-01") if template_id == "kpi_scorecard" else ""
        for unit, factor in units:
            cycle = generate.Cycle(unit=unit, year=year, lang="zh-Hans", period=period, params=params)
            template = spec.load(template_id, cycle.template_params())
            path = generate.write(template, cycle, folder / template_id / f"{unit}.xlsx", scaled(data, factor))
            result = recalc.recalc_file(path, json_report=path.with_suffix(".json"))
            results.append(result)
            rows.append((template_id, unit, path, len(result.errors),
                         sum(1 for f in result.findings if f.severity == "warning")))
    console.table(("template", "unit", "workbook", "errors", "warnings"), rows, title="xlplan demo")
    console.line(f"Workbooks, each with its Checks sheet and a JSON report beside it: {folder}/")
    if results:
        hq_merge(folder, results, console, year)
    return results


def inputs_of(result: recalc.Result) -> dict:
    """A plan's inputs in the generator's --data form: what the unit typed, to type again."""
    template = result.plan.template
    data: dict = {}
    for name, grid in result.plan.values.items():
        if template.blocks[name].role == "input":
            data[name] = grid
    for table, section in template.tables.items():
        columns = {b.name.split(".", 1)[1]: result.plan.tables.get(b.name, []) for b in section.blocks
                   if b.role == "input"}
        rows = [{c: values[i] for c, values in columns.items() if i < len(values) and values[i] is not None}
                for i in range(result.plan.sizes.get(table, 0))]
        while rows and not rows[-1]:
            rows.pop()
        data[table] = rows
    return data


def fixed(result: recalc.Result) -> dict:
    """The unit's corrections after HQ returns the plan: the slips the check list showed, fixed."""
    data = inputs_of(result)
    codes = {f.code for f in result.errors}
    if "STATED_NOT_COMPUTED" in codes:
        for row, amount in zip(data.get("actions", []), result.tables.get("actions.amount", [])):
            if "stated" in row:
                row["stated"] = amount
    if "MONTHS_NOT_YEAR" in codes:
        data["target"][0][0] = result.values["target_month_y"][0][0]
    return data


def hq_merge(folder: Path, results: list[recalc.Result], console: Printer, year: int) -> merge.Outcome:
    """HQ's side: merge, return the rejected plans, merge the corrected ones, consolidate.

    Everything lands in a fresh database: the first merge rejects the plans with errors;
    their units fix what the check list shows and resubmit (version 2); the second merge
    keeps both versions and consolidates the accepted ones.
    """
    hq = folder / "hq"
    hq.mkdir(parents=True, exist_ok=True)
    roster = hq / "roster.csv"
    lines = ["unit,template,period,due"]
    lines += [f"{r.plan.unit},{r.plan.template.id},{r.plan.period},{year}-01-31" for r in results]
    lines.append(f"{MISSING_UNIT[0]},{MISSING_UNIT[1]},{year},{year}-01-31")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = hq / "hq.db"
    db.unlink(missing_ok=True)  # the demo's own database, made afresh on every run
    inputs = [folder / template_id for template_id in UNITS if (folder / template_id).is_dir()]
    with store.Store(f"sqlite:///{db}") as hq_store:
        first = merge.run(inputs, hq_store, roster=roster, workers=0)
        console.line(f"HQ merge 1: {first.summary}")
        for result in results:
            if not result.errors:
                continue
            plan = result.plan
            cycle = generate.Cycle(unit=plan.unit, year=year, lang=plan.lang, period=plan.period
                                   if plan.template.id == "kpi_scorecard" else "", params=plan.meta["params"])
            path = folder / plan.template.id / f"{plan.unit}-v2.xlsx"
            generate.write(plan.template, cycle, path, fixed(result))
            recalc.recalc_file(path)
            console.line(f"  {plan.unit} fixed {', '.join(sorted({f.code for f in result.errors}))}: {path}")
        outcome = merge.run(inputs, hq_store, roster=roster, output=hq / "consolidated.xlsx",
                            report_path=hq / "status.html", workers=0, basis="accepted")
    st = outcome.status
    console.line(f"HQ merge 2: {outcome.summary}; "
                  + ", ".join(f"{st.count(s)} {s}" for s in ("accepted", "late", "rejected", "missing")))
    console.line(f"  database:              {db}")
    console.line(f"  roster:                {roster}")
    console.line(f"  consolidated workbook: {outcome.workbook}")
    console.line(f"  status page:           {outcome.report}")
    return outcome
