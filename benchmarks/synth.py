"""Many realistic filled submissions, fast: one generated workbook per template, varied in its XML.

Generating each workbook through openpyxl takes ~0.1 s; a merge benchmark needs
10,000. So each template is generated once, filled from its sample, and every
submission is a copy whose input cells get new figures (scaled by a random factor per
unit, so sums still add up) and whose unit name is its own. The samples' own planted
slips are corrected first; then one plan in ten of each template carries a slip (an
annual plan a region figure that no longer adds up to its month, a scorecard more chats
answered than received), so nine in ten are accepted and the merge sees errors too.

`resaved(files, folder)` is the same set after a save by LibreOffice, as files saved by
another program arrive; it is made once per set (N and this file's hash) and kept.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlplan.template import generate, spec  # noqa: E402
from xlplan.template.layout import Layout  # noqa: E402
from xlplan.workbook import ooxml  # noqa: E402

PLACEHOLDER = "UNITPLACEHOLDER"
# block → rows to scale (None: all): money figures scale together, so what adds up still does
SCALED = {"target_month": None, "region_plan": None, "actual_month": None,
          "target": {1, 2}, "base": {1, 2}, "seg_productivity": None,
          "markets.target": None, "markets.premium_per_policy": None,
          "staff.planned_sales": None, "staff.actual_sales": None}
# block whose first cell gets the slip, per template
SLIP = {"annual_plan": "region_plan", "kpi_scorecard": "staff.chats_answered"}
CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?)(?:/>|>(?:<v>([^<]*)</v>)?</c>)')
CELL_TYPE = re.compile(r'\bt="(\w+)"')
# the time a workbook is saved, in its document properties: fixed, so that a set is the same bytes
# whenever it is made and the re-saved copies stay in their cache
SAVED_AT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _base(template_id: str, folder: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """A filled workbook with a placeholder unit, and sheet title → {address: block} of the inputs
    that scale or slip."""
    data = json.loads((ROOT / "workbooks" / "samples" / f"{template_id}.json").read_text(encoding="utf-8"))
    params = data.pop("params", {})
    for line in data.get("actions", ()):  # the sample's "stated 6,400 for 64,000": a plan in nine in ten is clean
        factors = (line.get("quantity"), line.get("unit_cost"), line.get("times"))
        if line.get("stated") is not None and None not in factors:
            line["stated"] = line["quantity"] * line["unit_cost"] * line["times"]
    period = data.pop("period", "2027-01") if template_id == "kpi_scorecard" else ""
    cycle = generate.Cycle(unit=PLACEHOLDER, year=2027, lang="zh", period=period, params=params)
    template = spec.load(template_id, cycle.template_params())
    path = generate.write(template, cycle, folder / f"base_{template_id}.xlsx", data)
    layout = Layout(template, "zh")
    scaled: dict[str, dict[str, str]] = {}
    for name, block in template.blocks.items():
        if block.role == "computed" or (name not in SCALED and name != SLIP[template_id]):
            continue
        place = layout.places[name]
        for r in range(place.nrows):
            if name not in SCALED and r > 0 or SCALED.get(name) is not None and r + 1 not in SCALED[name]:
                continue
            for c in range(place.ncols):
                scaled.setdefault(place.sheet, {})[layout.address(name, r + 1, c + 1)[1]] = name
    return path, scaled


def _vary(xml: str, cells: dict[str, str], factor: float, slip: str | None) -> str:
    """Inputs scaled by `factor`; the first cell of block `slip` (if any) 7 off.

    Only a number's <v> changes: a cell of another type (t="s" holds the index of a shared
    string, t="str" a formula's text) and a formula cell are left as they are."""
    slipped = False

    def replace(m):
        nonlocal slipped
        address, attrs, value = m.group(1), m.group(2), m.group(3)
        if address not in cells or value in (None, ""):
            return m.group(0)
        kind = CELL_TYPE.search(attrs)
        if kind and kind.group(1) != "n":
            return m.group(0)
        try:
            number = float(value)
        except ValueError:
            return m.group(0)
        new = round(number * factor, 2) if cells[address] in SCALED else number
        if not slipped and cells[address] == slip:
            new += 7  # a region figure that no longer adds up to its month
            slipped = True
        return f'<c r="{address}"{attrs}><v>{new!r}</v></c>'

    return CELL.sub(replace, xml)


def make(folder: Path, n: int, seed: int = 2027, resaved_bases: bool = False) -> list[Path]:
    """n submissions in `folder` (made once; reused when already there).

    With `resaved_bases`, each template's base workbook is first saved by LibreOffice and
    that file is varied: LibreOffice's XML (shared strings, its attributes and formula
    text) with each unit's figures, two conversions instead of n. The values LibreOffice
    cached in computed cells are then the base's, which a merge never reads."""
    folder = Path(folder)
    done = folder / f".complete-{n}-{seed}-{'lo-' if resaved_bases else ''}{version()}"
    files = sorted(folder.glob("*.xlsx"))
    if done.exists() and len(files) == n:
        return files
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*files, *folder.glob(".complete-*")]:
        old.unlink()
    rng = random.Random(seed)
    bases = {}
    for template_id in ("annual_plan", "kpi_scorecard"):
        path, cells = _base(template_id, folder.parent)
        if resaved_bases:
            from xlplan import libreoffice

            path = libreoffice.recalculate([path], folder.parent / "lo-base")[0]
        with zipfile.ZipFile(path) as zf:
            parts = {info.filename: zf.read(info.filename) for info in zf.infolist()}
            sheet_parts = ooxml.sheet_parts(zf)
        parts["docProps/core.xml"] = SAVED_AT.sub(b"2027-01-01T00:00:00Z", parts["docProps/core.xml"])
        bases[template_id] = (parts, {sheet_parts[sheet]: found for sheet, found in cells.items()})
    out = []
    made = {template_id: 0 for template_id in bases}
    for i in range(n):
        template_id = "annual_plan" if i % 3 else "kpi_scorecard"
        parts, cells = bases[template_id]
        slip = SLIP[template_id] if made[template_id] % 10 == 9 else None  # one in ten of each template
        made[template_id] += 1
        unit = f"单位{i:05d}"
        factor = rng.randint(50, 150) / 100  # two decimals: scaled figures stay exact to the fen
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts.items():
                data = data.replace(PLACEHOLDER.encode(), unit.encode())
                if name in cells:
                    data = _vary(data.decode("utf-8"), cells[name], factor, slip).encode("utf-8")
                zf.writestr(zipfile.ZipInfo(name, date_time=(2027, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        path = folder / f"{template_id}-{i:05d}.xlsx"
        path.write_bytes(buffer.getvalue())
        out.append(path)
    done.write_text("ok")
    return out


def version() -> str:
    """The hash of this file, the templates and their samples: a set made from older ones is made again."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted([*(ROOT / "templates").rglob("*.yaml"), *(ROOT / "workbooks" / "samples").glob("*.json")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def resaved(files: list[Path], folder: Path, cache: Path | None = None, batch: int = 20,
            parallel: int = 2) -> list[Path]:
    """`files` opened and saved again by LibreOffice, under their names in `folder`.

    Each converted file is kept in `cache` under the hash of the bytes it was made from,
    so a set is converted once, however often it is measured, and a larger set reuses
    the smaller one's files (file i is the same in every set). Many files per soffice
    call, `parallel` calls at a time: starting LibreOffice costs more than a file.
    """
    from concurrent.futures import ThreadPoolExecutor

    from xlplan import libreoffice

    folder = Path(folder)
    cache = Path(cache) if cache else folder.parent / "resaved-cache"
    cache.mkdir(parents=True, exist_ok=True)
    keys = {p: hashlib.sha256(p.read_bytes()).hexdigest()[:24] for p in files}
    todo = [p for p in files if not (cache / f"{keys[p]}.xlsx").is_file()]
    if todo:
        staging = cache / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        named = []
        for p in todo:  # named by content: the output is cache/<key>.xlsx
            shutil.copyfile(p, staging / f"{keys[p]}.xlsx")
            named.append(staging / f"{keys[p]}.xlsx")
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda part: libreoffice.recalculate(part, cache),
                          [named[i:i + batch] for i in range(0, len(named), batch)]))
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    out = []
    for p in files:
        target = folder / p.name
        os.link(cache / f"{keys[p]}.xlsx", target)
        out.append(target)
    return out


if __name__ == "__main__":
    made = make(Path(sys.argv[1]), int(sys.argv[2]))
    print(f"{len(made)} submissions in {sys.argv[1]}")
