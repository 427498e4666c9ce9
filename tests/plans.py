"""Plans for tests: a clean annual plan built around the brief's worked example.

`clean_annual_plan()` adds up everywhere, so a test that changes one figure sees
exactly the finding that figure causes. `make(tmp_path, name, changes)` writes a
workbook named after the defect it carries.
"""
from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path

from lxml import etree

from xlplan.template import generate, spec
from xlplan.workbook import writefile

MONTHS = [900, 600, 650, 700, 650, 650, 600, 600, 600, 650, 650, 750]  # 8,000 in all
SPLIT = (0.5, 0.3, 0.2)  # regions A, B, C of every month but January


def ticks(*months: int) -> dict:
    """An action's month set as the action table takes it: one ticked column per month."""
    return {f"in_{m}": "●" for m in months}


def _regions():
    columns = [[500, 250, 150]] + [[m * s for s in SPLIT] for m in MONTHS[1:]]
    return [[col[k] for col in columns] for k in range(3)]  # region × month


def as_version_1_0(data: dict) -> dict:
    """The clean plan as annual_plan 1.0 took it: start and end months, six key figures."""
    data = copy.deepcopy(data)
    for row in data["actions"]:
        months = [m for m in range(1, 13) if row.pop(f"in_{m}", None)]
        row.update(start=min(months), end=max(months))
    for key in ("base", "growth", "target"):
        data[key] = data[key][:6]
    return data


def clean_annual_plan() -> dict:
    """The brief's worked example, completed so that every check passes."""
    return copy.deepcopy({
        "plan_owner": "王经理",
        "plan_revision": 1,
        "principles": "稳中求进，先增员后提产能",
        "strategies": ["增员", "培训"],
        "owners": ["王经理", "李主任"],
        "hq_target": 8000,
        "base": [7200, 9000, 2410, 3100, 0.6, 0.2, 3500, 2500],
        "growth": [0.11, 0.1, 0, 0.05, 0, 0, 0, 0],
        "target": [8000, 9900, 2400, 3255, 0.6, 0.2, 3500, 2500],
        "seg_headcount": [500, 700, 1200],
        "seg_productivity": [8000, 2500, 764],
        "markets": [
            {"market": "城区", "category": "重点", "target": 5000, "headcount": 1400,
             "policies": 2, "premium_per_policy": 1600},
            {"market": "县域", "category": "发展", "target": 3000, "headcount": 1000,
             "policies": 2, "premium_per_policy": 1300},
        ],
        "opening_headcount": 2410,
        "target_month": MONTHS,
        "region_plan": _regions(),
        "recruits": [120] * 12,
        "attrition": [130] + [100] * 11,
        "expert_share": [0.3] * 12,
        "actions": [
            {"strategy": "培训", "action": "新人培训", "owner": "李主任", **ticks(1, 2, 3, 4),
             "item": "讲师费", "quantity": 200, "unit_cost": 80, "times": 4, "stated": 64000},
            {"strategy": "增员", "action": "创说会", "owner": "王经理", **ticks(3),
             "item": "场地", "quantity": 1, "unit_cost": 20000, "times": 4},
        ],
    })


def make(folder: Path, name: str, data: dict, lang: str = "zh", template_id: str = "annual_plan",
         unit: str = "北区营业部", period: str = "", version: str | None = None) -> Path:
    cycle = generate.Cycle(unit=unit, year=2027, lang=lang, period=period)
    template = spec.load(template_id, cycle.template_params(), version=version)
    return generate.write(template, cycle, Path(folder) / f"{name}.xlsx", data)


def sheet_part(path: Path, sheet: str) -> str:
    """The package member holding `sheet`."""
    with zipfile.ZipFile(path) as zf:
        return writefile.Package(zf, path.name).sheet_part[sheet]


def edit_part(path: Path, part: str, edit) -> None:
    """Rewrite one member of the package with `edit(bytes) -> bytes`, every other member as it was."""
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info.filename)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, edit(data) if info.filename == part else data)


def hide_column(path: Path, sheet: str, col: int) -> None:
    """Column `col` hidden, as a clerk hides it in Excel (a <col> spanning it is split around it)."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        [spec] = [c for c in root.iter(f"{main}col") if int(c.get("min")) <= col <= int(c.get("max"))]
        lo, hi = int(spec.get("min")), int(spec.get("max"))
        for first, last in ((lo, col - 1), (col, col), (col + 1, hi)):
            if first <= last:
                part = copy.deepcopy(spec)
                part.set("min", str(first))
                part.set("max", str(last))
                if first == col:
                    part.set("hidden", "1")
                spec.addprevious(part)
        spec.getparent().remove(spec)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    edit_part(path, sheet_part(path, sheet), edit)


def type_text(path: Path, sheet: str, address: str, text: str) -> None:
    """A text typed into a cell after the workbook was made, saved as an inline string in the
    cell's own style (every other part and cell as it was)."""
    def edit(data: bytes) -> bytes:
        pattern = rf'<c r="{address}"([^>]*?)(?: t="\w+")?(?:/>|>(?:<v>[^<]*</v>|<is>.*?</is>)?</c>)'
        data, n = re.subn(pattern.encode(), rf'<c r="{address}"\1 t="inlineStr"><is><t>{text}</t></is></c>'.encode(),
                          data)
        assert n == 1, f"{sheet}!{address} not found"
        return data
    edit_part(path, sheet_part(path, sheet), edit)
