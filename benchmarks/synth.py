"""Many realistic filled submissions, fast: one generated workbook per template, varied in its XML.

Generating each workbook through openpyxl takes ~0.1 s; a merge benchmark needs
10,000. So each template is generated once, filled from its sample, and every
submission is a copy whose input cells get new figures (scaled by a random factor per
unit, so sums still add up) and whose unit name is its own. Every tenth file carries an
arithmetic slip (one region figure off), so the merge sees errors too.
"""
from __future__ import annotations

import io
import json
import random
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlplan.template import generate, spec  # noqa: E402
from xlplan.template.layout import Layout  # noqa: E402

PLACEHOLDER = "UNITPLACEHOLDER"
# block → rows to scale (None: all): money figures scale together, so what adds up still does
SCALED = {"target_month": None, "region_plan": None, "actual_month": None, "hq_target": None,
          "target": {1, 2}, "base": {1, 2}, "seg_productivity": None,
          "markets.target": None, "markets.premium_per_policy": None,
          "staff.planned_sales": None, "staff.actual_sales": None}
CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(?:<v>([^<]*)</v>)?</c>)')


def _base(template_id: str, folder: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """A filled workbook with a placeholder unit, and sheet part → {address: block} of scalable inputs."""
    data = json.loads((ROOT / "workbooks" / "samples" / f"{template_id}.json").read_text(encoding="utf-8"))
    params = data.pop("params", {})
    period = data.pop("period", "2027-01") if template_id == "kpi_scorecard" else ""
    cycle = generate.Cycle(unit=PLACEHOLDER, year=2027, lang="zh", period=period, params=params)
    template = spec.load(template_id, cycle.template_params())
    path = generate.write(template, cycle, folder / f"base_{template_id}.xlsx", data)
    layout = Layout(template, "zh")
    sheets = [s.title if isinstance(s.title, str) else s.title.get("zh") for s in template.sheets]
    scaled: dict[str, dict[str, str]] = {}
    for name, block in template.blocks.items():
        if block.role == "computed" or name not in SCALED:
            continue
        place = layout.places[name]
        part = f"xl/worksheets/sheet{sheets.index(place.sheet) + 1}.xml"
        for r in range(place.nrows):
            if SCALED[name] is not None and r + 1 not in SCALED[name]:
                continue
            for c in range(place.ncols):
                sheet_cells = scaled.setdefault(part, {})
                sheet_cells[layout.address(name, r + 1, c + 1)[1]] = name
    return path, scaled


def _vary(xml: str, cells: dict[str, str], factor: float, slip: bool) -> str:
    slipped = False

    def replace(m):
        nonlocal slipped
        address, attrs, value = m.group(1), m.group(2), m.group(3)
        if address not in cells or value in (None, ""):
            return m.group(0)
        try:
            number = float(value)
        except ValueError:
            return m.group(0)
        new = round(number * factor, 2)
        if slip and not slipped and cells[address] == "region_plan":
            new += 7  # a region figure that no longer adds up to its month
            slipped = True
        return f'<c r="{address}"{attrs}><v>{new!r}</v></c>'

    return CELL.sub(replace, xml)


def make(folder: Path, n: int, seed: int = 2027) -> list[Path]:
    """n submissions in `folder` (made once; reused when already there)."""
    folder = Path(folder)
    done = folder / f".complete-{n}-{seed}"
    files = sorted(folder.glob("*.xlsx"))
    if done.exists() and len(files) == n:
        return files
    folder.mkdir(parents=True, exist_ok=True)
    for old in files:
        old.unlink()
    rng = random.Random(seed)
    bases = {}
    for template_id in ("annual_plan", "kpi_scorecard"):
        path, cells = _base(template_id, folder.parent)
        with zipfile.ZipFile(path) as zf:
            parts = {info.filename: zf.read(info.filename) for info in zf.infolist()}
        bases[template_id] = (parts, cells)
    out = []
    for i in range(n):
        template_id = "annual_plan" if i % 3 else "kpi_scorecard"
        parts, cells = bases[template_id]
        unit = f"单位{i:05d}"
        factor = rng.randint(50, 150) / 100  # two decimals: scaled figures stay exact to the fen
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts.items():
                data = data.replace(PLACEHOLDER.encode(), unit.encode())
                if name in cells:
                    data = _vary(data.decode("utf-8"), cells[name], factor, slip=i % 10 == 0).encode("utf-8")
                zf.writestr(name, data)
        path = folder / f"{template_id}-{i:05d}.xlsx"
        path.write_bytes(buffer.getvalue())
        out.append(path)
    done.write_text("ok")
    return out


if __name__ == "__main__":
    made = make(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"{len(made)} submissions in {sys.argv[1]}")
