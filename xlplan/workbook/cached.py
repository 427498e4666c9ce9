"""The engine's values as the cached results of a workbook's formulas.

openpyxl saves formulas without results, so a file it wrote shows nothing until a
spreadsheet program recalculates it (and a viewer or a reader such as calamine never
does). `write_cached_values` writes values into the `<v>` of formula cells (through
writefile.py, which `recalc` uses too), so the file shows the numbers everywhere while
the formulas stay live.
"""
from __future__ import annotations

from pathlib import Path


def write_cached_values(path: Path, values: dict[str, dict[str, object]]) -> None:
    """values: sheet title → {A1 address: value}. Rewrites `path` in place, atomically; only
    cells holding a formula change, and only the sheets named are written again."""
    from . import writefile
    from .writeback import CachedValue

    writefile.rewrite(path, [CachedValue(sheet, address, value) for sheet, cells in values.items()
                             for address, value in cells.items()])
