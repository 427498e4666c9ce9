"""Many filled submissions, made fast: for the merge and store tests.

`generate.write` takes a few tenths of a second per workbook, too slow for hundreds.
So each template is generated ONCE for a placeholder unit, and every submission is a
copy whose input cells are rewritten in the sheet XML (the generator writes inline
strings, so the unit's name is replaced in place too). `test_fast_copy_reads_like_generated`
proves a copy reads exactly as a workbook the generator made from the same data.

The figures are drawn so that a plan is accepted (no error findings): regions add up to
the month, months to the year, segments to the platform; `broken=True` puts a region
out by 1 so the plan is rejected.
"""
from __future__ import annotations

import html
import io
import json
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from xlplan.template import generate, spec
from xlplan.template.layout import META_SHEET, Layout
from xlplan.workbook import ooxml

PLACEHOLDER = "UNITPLACEHOLDER"
YEAR = 2027
PERIOD = "2027-01"


@dataclass
class Base:
    template_id: str
    data: bytes
    template: object
    layout: Layout


def cycle(template_id: str, unit: str = PLACEHOLDER) -> generate.Cycle:
    return generate.Cycle(unit=unit, year=YEAR, lang="zh", period=PERIOD if template_id == "kpi_scorecard" else "")


def base(template_id: str, folder: Path) -> Base:
    c = cycle(template_id)
    template = spec.load(template_id, c.template_params())
    path = generate.write(template, c, folder / f"base-{template_id}.xlsx", {})
    return Base(template_id, path.read_bytes(), template, Layout(template, "zh"))


# -- the figures --------------------------------------------------------------------
def split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0] + cuts, cuts + [total])]


def annual_data(rng: random.Random, unit: str, broken: bool = False) -> dict:
    months = [rng.randint(300, 1200) for _ in range(12)]  # 万元
    year = sum(months)
    regions = [split(rng, m, 3) for m in months]
    region_plan = [[regions[m][r] for m in range(12)] for r in range(3)]
    if broken:
        region_plan[0][rng.randrange(12)] += 1
    seg = [rng.randint(100, 900) for _ in range(3)]
    platform = sum(seg)
    opening = platform + rng.randint(-50, 50)
    targets = [year, round(year * 1.3), platform, rng.randint(2000, 6000), 0.6, 0.2, rng.randint(3000, 7000),
               rng.randint(1500, 4000)]
    strategies = ["增员", "培训", "=SUM(A1)", "+1 活动"][: rng.randint(2, 4)]
    actions = []
    for i in range(rng.randint(2, 8)):
        q, cost, times = rng.randint(1, 300), rng.choice([50, 80, 120.5, 1000]), rng.randint(1, 6)
        start = rng.randint(1, 12)
        ticks = {f"in_{m}": "●" for m in range(start, rng.randint(start, 12) + 1)}
        actions.append({"strategy": rng.choice(strategies), "action": f"行动{i + 1}", "owner": "王",
                        **ticks, "item": "项目",
                        "quantity": q, "unit_cost": cost, "times": times})
    actual = [round(m * rng.uniform(0.8, 1.2), 2) for m in months[: rng.randint(0, 6)]]
    return {
        "plan_owner": f"{unit}经理", "principles": "稳健增长", "strategies": strategies, "owners": ["王", "李"],
        "hq_target": rng.choice([year, year + rng.randint(-500, 500)]),
        "base": targets, "growth": [0] * 8, "target": targets,
        "seg_headcount": seg, "seg_productivity": [rng.randint(2000, 8000) for _ in range(3)],
        "opening_headcount": opening, "target_month": months, "region_plan": region_plan,
        "recruits": [rng.randint(0, 40) for _ in range(12)], "attrition": [rng.randint(0, 40) for _ in range(12)],
        "actual_month": actual + [None] * (12 - len(actual)),
        "actions": actions,
    }


NAMES = ["王丽", "刘洋", "孙悦", "李明", "陈静", "张伟", "周强", "赵磊", "=HYPERLINK(\"x\")", "吴芳"]


def kpi_data(rng: random.Random, unit: str) -> dict:
    staff = []
    for i in range(rng.randint(3, 10)):
        planned = rng.randint(50, 200) * 1000
        inquiries = rng.randint(500, 2000)
        orders = rng.randint(inquiries // 5, inquiries // 2)
        received = rng.randint(800, 2000)
        staff.append({"name": NAMES[i], "group": rng.choice(["早班", "晚班"]), "planned_sales": planned,
                      "actual_sales": round(planned * rng.uniform(0.5, 1.2)), "inquiries": inquiries,
                      "orders": orders, "payers": rng.randint(orders // 2, orders),
                      "chats_received": received, "chats_answered": rng.randint(received - 100, received),
                      "response_seconds": rng.randint(18, 45), "followup_score": rng.randint(0, 5),
                      "execution_score": rng.randint(0, 10), "self_score": rng.randint(60, 100)})
    return {"supervisor": f"{unit}主管", "staff": staff}


# -- writing a copy -------------------------------------------------------------------
def _cell_xml(address: str, attrs: str, value) -> str:
    attrs = re.sub(r' t="[^"]*"', "", attrs)
    if value is None:
        return f'<c r="{address}"{attrs} />'
    if isinstance(value, str):
        return f'<c r="{address}"{attrs} t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{address}"{attrs} t="n"><v>{value!r}</v></c>'


def cells_of(b: Base, data: dict) -> dict[str, dict[str, object]]:
    """sheet → {address: value} of every input in `data` (the generator's --data format)."""
    from openpyxl.utils import get_column_letter

    out: dict[str, dict[str, object]] = {}
    for key, value in data.items():
        if key in b.layout.tables:
            tplace = b.layout.tables[key]
            short = {name.split(".", 1)[1]: k for k, name in enumerate(tplace.columns)}
            sheet = out.setdefault(tplace.sheet, {})
            for i, row in enumerate(value):
                for column, v in row.items():
                    address = f"{get_column_letter(tplace.first_col + short[column])}{tplace.header_row + 1 + i}"
                    sheet[address] = v
            continue
        p = b.layout.places[key]
        grid = generate._as_grid(value, p.nrows, p.ncols, key)
        sheet = out.setdefault(p.sheet, {})
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                sheet[f"{get_column_letter(p.col + c)}{p.row + r}"] = v
    return out


def copy(b: Base, unit: str, data: dict) -> bytes:
    """The base workbook for `unit` with `data` typed into its input cells."""
    edits = cells_of(b, data)
    src = zipfile.ZipFile(io.BytesIO(b.data))
    parts = ooxml.sheet_parts(src)
    by_part = {parts[s]: v for s, v in edits.items()}
    given = {k: generate._as_grid(v, *b.template.shape(b.template.blocks[k]), k) for k, v in data.items()
             if k in b.template.blocks and b.template.blocks[k].role == "given"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for item in src.infolist():
            xml = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = xml.decode("utf-8").replace(PLACEHOLDER, escape(unit))
                wanted = by_part.get(item.filename)
                if wanted:
                    text = _edit(text, wanted)
                if item.filename == parts[META_SHEET] and given:
                    text = _issued(text, given)
                xml = text.encode("utf-8")
            zf.writestr(item, xml)
    return out.getvalue()


GIVEN_ROW = re.compile(r'(<c r="A(\d+)"[^>]*><is><t>given</t></is></c><c r="B\2"[^>]*><is><t[^>]*>)(.*?)(</t>)')


def _issued(xml: str, given: dict) -> str:
    """The record of HQ's given cells (what the generator writes in `_xlplan`) with `given` in it."""
    def replace(m):
        record = json.loads(html.unescape(m.group(3)))
        record.update(given)
        return m.group(1) + escape(json.dumps(record, ensure_ascii=False, sort_keys=True)) + m.group(4)

    xml, n = GIVEN_ROW.subn(replace, xml)
    assert n == 1, "no record of given cells in the base workbook"
    return xml


CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*) ?(?:/>|>.*?</c>)')


def _edit(xml: str, wanted: dict[str, object]) -> str:
    left = dict(wanted)

    def replace(m):
        if m.group(1) not in left:
            return m.group(0)
        return _cell_xml(m.group(1), m.group(2), left.pop(m.group(1)))

    xml = CELL.sub(replace, xml)
    if left:
        raise AssertionError(f"cells not in the base workbook: {sorted(left)[:5]}")
    return xml
