"""The planning cycle on the embedded samples: what `xlplan demo` runs.

HQ generates one workbook per unit, pre-filled from the samples in workbooks/samples
(each unit's figures scaled a little so the units differ); the units' workbooks are
recalculated and checked, and the command prints where every result lies.
"""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import generate, recalc, spec

SAMPLES = Path(__file__).resolve().parent.parent / "workbooks" / "samples"

UNITS = {
    "annual_plan": [("北区营业部", 1.0), ("南区营业部", 0.8), ("东区营业部", 1.25)],
    "kpi_scorecard": [("客服一组", 1.0), ("客服二组", 0.9)],
}
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


def run(folder: Path, console: Console | None = None, year: int = 2027) -> list[recalc.Result]:
    console = console or Console()
    folder = Path(folder)
    results = []
    table = Table("template", "unit", "workbook", "errors", "warnings", title="xlplan demo")
    for template_id, units in UNITS.items():
        sample = SAMPLES / f"{template_id}.json"
        if template_id not in spec.available() or not sample.exists():
            continue
        data = json.loads(sample.read_text(encoding="utf-8"))
        params = data.pop("params", {})
        period = data.pop("period", f"{year}-01") if template_id == "kpi_scorecard" else ""
        for unit, factor in units:
            cycle = generate.Cycle(unit=unit, year=year, lang="zh", period=period, params=params)
            template = spec.load(template_id, cycle.template_params())
            path = generate.write(template, cycle, folder / template_id / f"{unit}.xlsx", scaled(data, factor))
            result = recalc.recalc_file(path, json_report=path.with_suffix(".json"))
            results.append(result)
            table.add_row(template_id, unit, str(path), str(len(result.errors)),
                          str(sum(1 for f in result.findings if f.severity == "warning")))
    console.print(table)
    console.print(f"Workbooks, each with its Checks sheet and a JSON report beside it: {folder}/")
    return results
