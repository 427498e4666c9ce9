"""A plan as read from a workbook: the record, where its blocks sit, and the sources it is read from.

`Plan` is what the reader produces and every later step (cell checks, the engine, the
checks, the write-back, the merge) consumes. A `Source` is a workbook opened by one
library (openpyxl for files recalc writes back into, python-calamine for merges, the
add-in's book JSON): each gives sheet names, defined names, tables and value grids.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model import Cell, Finding, Template, WorkbookError, normal_unit
from ..template.cycle import Cycle, cycle_of
from ..template.layout import Area, TableArea
from ..texts import LANGUAGES, language
from . import ooxml


@dataclass(frozen=True)
class Correction:
    """A value the reader puts in place of what the source gave for one input cell: an Excel
    error value that python-calamine reads as blank, kept for the input checks to report."""

    block: str
    r: int  # 1-based; a table column's row
    c: int
    value: Any


@dataclass
class Plan:
    """What a unit typed into one workbook, each value traceable to its cell."""

    file: str
    template: Template
    meta: dict[str, Any]
    values: dict[str, list[list]] = field(default_factory=dict)
    tables: dict[str, list] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)
    table_areas: dict[str, TableArea] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def lang(self) -> str:
        found = self.meta.get("lang")  # as read_meta leaves it: one of LANGUAGES, asked for at every finding
        return found if type(found) is str and found in LANGUAGES else language(found)

    def __repr__(self) -> str:
        # every value of a plan runs to tens of thousands of characters: a REPL shows what it is
        return (f"<Plan {self.file} · {self.template.id} · {self.unit} {self.period}: "
                f"{len(self.values) + len(self.tables)} blocks read, {len(self.findings)} findings>")

    @property
    def unit(self) -> str:
        return normal_unit(self.meta.get("unit"))

    @property
    def period(self) -> str:
        return str(self.meta.get("period") or "")

    def correct(self, corrections: list[Correction]) -> None:
        """Put each correction's value into the plan's values (cells outside the block are ignored)."""
        for fix in corrections:
            if fix.block in self.tables:
                column = self.tables[fix.block]
                if fix.r - 1 < len(column):
                    column[fix.r - 1] = fix.value
            elif fix.block in self.values:
                grid = self.values[fix.block]
                if fix.r - 1 < len(grid) and fix.c - 1 < len(grid[fix.r - 1]):
                    grid[fix.r - 1][fix.c - 1] = fix.value

    def cycle(self) -> Cycle:
        """The cycle the workbook was made for (from its metadata), to make it anew."""
        return cycle_of(self.meta)

    def inputs(self) -> dict[str, Any]:
        """What was typed or given in the workbook, in the form the generator fills in
        (`generate.fill_inputs`): {block: grid, table: [{column: value}, ...]}; a table's
        trailing empty rows are left out, and so is a table with no row at all."""
        data: dict[str, Any] = {}
        for name, grid in self.values.items():
            if self.template.blocks[name].role != "computed":
                data[name] = grid
        for table, size in self.sizes.items():
            columns = {name.split(".", 1)[1]: column for name, column in self.tables.items()
                       if name.startswith(f"{table}.")}
            rows = [{key: column[i] for key, column in columns.items() if i < len(column) and column[i] is not None}
                    for i in range(size)]
            while rows and not rows[-1]:
                rows.pop()
            if rows:
                data[table] = rows
        return data

    def cell(self, block: str, r: int = 1, c: int = 1) -> Cell | None:
        """The cell of position (r, c) of a block (r is the table row for table columns)."""
        b = self.template.blocks.get(block)
        if b is not None and b.table:
            table = self.table_areas.get(b.table)
            if table is None or block not in table.columns:
                return None
            return Cell(self.file, table.sheet, ooxml.address(table.header_row + r, table.columns[block]))
        area = self.areas.get(block)
        if area is None:
            return None
        return Cell(self.file, area.sheet, area.address(r, c))


class Grids(Protocol):
    """Sheets by name, each a grid of values."""

    def sheet_names(self) -> list[str]: ...
    def grid(self, sheet: str) -> list[list]: ...  # values from A1, "" or None for empty


class Source(Grids, Protocol):
    """What the reader needs from a workbook file, whichever library opened it."""

    def defined_names(self) -> dict[str, str]: ...
    def tables(self) -> dict[str, tuple[str, str, list[str]]]: ...  # name -> sheet, ref, headers


# -- sources ---------------------------------------------------------------------
class OpenpyxlSource:
    def __init__(self, wb):
        self.wb = wb

    def sheet_names(self):
        return self.wb.sheetnames

    def defined_names(self):
        return {name: dn.attr_text for name, dn in self.wb.defined_names.items()}

    def tables(self):
        out = {}
        for ws in self.wb.worksheets:
            for table in ws.tables.values():
                out[table.displayName] = (ws.title, table.ref, [c.name for c in table.tableColumns])
        return out

    def grid(self, sheet):
        ws = self.wb[sheet]
        return [list(row) for row in ws.iter_rows(min_row=1, min_col=1, values_only=True)]


class NamedBytes(io.BytesIO):
    """A received workbook's bytes with its file name: zipfile and calamine read it as they read
    the file on disk, and messages name it by `.name` as they name a path."""

    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


class CalamineSource:
    """python-calamine for cell values; names and tables from the workbook's XML.

    `path` is the workbook's bytes with its name (NamedBytes) and `zf` its zip, already
    open and within the limits (safety.admit_bytes): the names are read from it at once.
    """

    def __init__(self, path: NamedBytes, zf: zipfile.ZipFile):
        import python_calamine

        self.path = path
        try:
            self.book = python_calamine.CalamineWorkbook.from_filelike(path, load_tables=True)
        except ooxml.DAMAGED as exc:
            raise WorkbookError(f"{path.name}: cannot be read as an .xlsx workbook ({exc})") from None
        self._names = ooxml.defined_names(zf)
        # what the sheets really hold: the bound on what the record may claim (metadata.py)
        self.sheet_bytes = ooxml.sheet_bytes(zf)

    def sheet_names(self):
        return list(self.book.sheet_names)

    def defined_names(self):
        return self._names

    def tables(self):
        out = {}
        for name in self.book.table_names:
            table = self.book.get_table_by_name(name)
            (r0, c0), (r1, c1) = table.start, table.end
            ref = f"{ooxml.address(r0, c0 + 1)}:{ooxml.address(r1 + 1, c1 + 1)}"
            out[name] = (table.sheet, ref, [str(c) for c in table.columns])
        return out

    def grid(self, sheet):
        try:
            return self.book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except ooxml.DAMAGED as exc:
            if "error value" in str(exc).lower() and not self._sanitised:
                self._reopen_without_new_errors()
                return self.grid(sheet)
            raise WorkbookError(f"{self.path.name} › {sheet}: the sheet cannot be read ({exc})") from None

    _sanitised = False

    def _reopen_without_new_errors(self):
        """calamine knows the seven classic error values only; Excel 365 stores more (#SPILL!, #CALC!,
        #BLOCKED!, #GETTING_DATA, #PYTHON! ...). The values are read from a copy in which those read
        #N/A; the cell checks read the true code from the XML and report it where it matters."""
        import python_calamine

        def classic_errors_only(name: str, part: bytes) -> bytes:
            if name.startswith(ooxml.WORKSHEETS) and name.endswith(".xml"):
                return ooxml.NEWER_ERROR_VALUE.sub(rb"\1#N/A\3", part)
            return part

        self._sanitised = True
        with zipfile.ZipFile(io.BytesIO(self.path.getvalue())) as zf:
            copy = ooxml.rewritten(zf, classic_errors_only)
        self.book = python_calamine.CalamineWorkbook.from_filelike(NamedBytes(copy, self.path.name), load_tables=True)


def area_of(sheet: str, ref: str) -> Area | None:
    """The area of "C5:N6" (or one cell) on a sheet; None when `ref` is no such range."""
    found = ooxml.bounds(ref)
    if found is None:
        return None
    r0, c0, r1, c1 = found
    return Area(sheet, r0, c0, r1 - r0 + 1, c1 - c0 + 1)


def cell_value(rows, r, c):
    """Value at 1-based (r, c) of a grid; empty is None."""
    if r - 1 >= len(rows):
        return None
    row = rows[r - 1]
    if c - 1 >= len(row):
        return None
    v = row[c - 1]
    if v == "":
        return None
    if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
        return str(v)  # no spreadsheet stores NaN or infinity: a damaged cell, reported as the text it is
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def is_number(v) -> bool:
    kind = type(v)
    return kind is float or kind is int or (kind is not bool and isinstance(v, (int, float)))


def is_date(v) -> bool:
    return isinstance(v, (dt.date, dt.datetime, dt.time))
