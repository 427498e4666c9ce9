"""HQ's planning cycle for the tests: distribute to a small roster, units fill their workbooks, merge.

The units type into the very workbooks HQ sent (openpyxl, through the generator's
pre-filling, as a clerk types into yellow cells), then recalculate them as the ribbon
button does; nothing is generated afresh on the unit's side.
"""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from xlplan.hq import distribute, merge
from xlplan.hq.store import Store
from xlplan.template import generate
from xlplan.template.layout import Layout
from xlplan.workbook import recalculation as recalc
from xlplan.workbook.read import read_fast

SAMPLES = Path(__file__).resolve().parent.parent / "workbooks" / "samples"
ROSTER = """unit,template,period,due,region
北区营业部,annual_plan,2027,2027-01-31,北
南区营业部,annual_plan,2027,2027-01-31,南
客服部,support_plan,2027,2027-01-31,北
"""
GIVEN = """unit,block,value
北区营业部,hq_target,8000
南区营业部,hq_target,6400
"""


def sample(template_id: str, factor: float = 1.0) -> dict:
    data = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    data.pop("period", None)
    data.pop("hq_target", None)  # HQ's, not the unit's
    if factor != 1.0:
        data["target_month"] = [round(v * factor, 2) for v in data["target_month"]]
        data["region_plan"] = [[round(v * factor, 2) for v in row] for row in data["region_plan"]]
        data["target"][0] = round(sum(data["target_month"]), 2)  # the year is its months
    return data


def fixed(data: dict) -> dict:
    """The sample's planted slip (a stated amount 6,400 for 64,000) corrected."""
    data = json.loads(json.dumps(data))
    for row in data.get("actions", []):
        if "stated" in row:
            row["stated"] = None  # cleared, as a clerk deletes what was typed
    return data


def fill(path: Path, data: dict, out: Path) -> Path:
    """Type `data` into the yellow cells of the workbook HQ sent, save as `out`, recalculate."""
    plan = read_fast(path)
    wb = openpyxl.load_workbook(path)
    generate.fill_inputs(wb, plan.template, Layout(plan.template, plan.lang), data, where=str(path))
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    recalc.recalc_file(out)
    return out


def start(folder: Path, url: str | None = None) -> tuple[Store, dict[str, Path]]:
    """Roster and given figures written, workbooks distributed; returns the store and unit → workbook."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (folder / "given.csv").write_text(GIVEN, encoding="utf-8")
    store = Store(url or f"sqlite:///{folder / 'hq.db'}")
    issued = distribute.distribute(store, folder / "roster.csv", folder / "outbox", folder / "given.csv")
    by_unit = {read_fast(p).unit: p for p in issued.files}
    return store, by_unit


def submit(store: Store, *paths: Path):
    return merge.merge(list(paths), store, workers=0)
