"""The engine's values as the cached results of a workbook's formulas, and where its sheets are.

openpyxl saves formulas without results, so a file it wrote shows nothing until a
spreadsheet program recalculates it (and a viewer or a reader such as calamine never
does). `write_cached_values` writes values into the `<v>` of formula cells (through
writefile.py, which `recalc` uses too), so the file shows the numbers everywhere while
the formulas stay live. `sheet_parts` maps sheet titles to their XML parts, in
transitional and Strict Open XML alike.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from defusedxml import ElementTree as SafeET



def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → path of its XML part inside the zip."""
    book = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in book.iter():
        if not sheet.tag.endswith("}sheet"):
            continue
        # r:id, whichever relationships namespace the file uses (transitional or Strict)
        rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
        target = (targets.get(rid) or "").lstrip("/")
        out[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def write_cached_values(path: Path, values: dict[str, dict[str, object]]) -> None:
    """values: sheet title → {A1 address: value}. Rewrites `path` in place, atomically; only
    cells holding a formula change, and only the sheets named are written again."""
    from . import writefile
    from .writeback import CachedValue

    writefile.rewrite(path, [CachedValue(sheet, address, value) for sheet, cells in values.items()
                             for address, value in cells.items()])
