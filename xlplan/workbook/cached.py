"""Store computed values as the cached results of a saved workbook's formulas.

openpyxl saves formulas without results, so a file it wrote shows nothing until a
spreadsheet program recalculates it (and a viewer or a reader such as calamine never
does). After `recalc` saves, this module writes the engine's values into the `<v>`
of each formula cell, so the file shows the numbers everywhere while the formulas
stay live.
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from ..template.xlfuncs import XlErr

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)><f>(.*?)</f><v ?/></c>|'
                          r'<c r="([A-Z]+[0-9]+)"((?: [a-z]+="[^"]*")*)><f>(.*?)</f><v>[^<]*</v></c>')


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → path of its XML part inside the zip."""
    book = SafeET.fromstring(zf.read("xl/workbook.xml"))
    rels = SafeET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    out = {}
    for sheet in book.iter(f"{NS_MAIN}sheet"):
        target = targets.get(sheet.get(f"{NS_REL}id"), "")
        target = target.lstrip("/")
        out[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def _cell_xml(address, attrs, formula, value):
    attrs = re.sub(r' t="[^"]*"', "", attrs)
    if value is None or value == "":
        return f'<c r="{address}"{attrs} t="str"><f>{formula}</f><v></v></c>'
    if isinstance(value, XlErr):
        return f'<c r="{address}"{attrs} t="e"><f>{formula}</f><v>{escape(value.code)}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{address}"{attrs} t="b"><f>{formula}</f><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{address}"{attrs}><f>{formula}</f><v>{repr(float(value)) if isinstance(value, float) else value}</v></c>'
    return f'<c r="{address}"{attrs} t="str"><f>{formula}</f><v>{escape(str(value))}</v></c>'


def write_cached_values(path: Path, values: dict[str, dict[str, object]]) -> None:
    """values: sheet title → {A1 address: value}. Rewrites `path` in place, atomically."""
    path = Path(path)
    with zipfile.ZipFile(path) as zf:
        parts = sheet_parts(zf)
        wanted = {parts[s]: v for s, v in values.items() if s in parts}
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
                for item in zf.infolist():
                    data = zf.read(item.filename)
                    if item.filename in wanted:
                        data = _fill(data.decode("utf-8"), wanted[item.filename]).encode("utf-8")
                    out.writestr(item, data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


def _fill(xml: str, cell_values: dict[str, object]) -> str:
    def replace(m):
        address = m.group(1) or m.group(4)
        attrs = m.group(2) if m.group(1) else m.group(5)
        formula = m.group(3) if m.group(1) else m.group(6)
        if address not in cell_values:
            return m.group(0)
        return _cell_xml(address, attrs, formula, cell_values[address])

    return FORMULA_CELL.sub(replace, xml)
