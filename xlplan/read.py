"""A filled workbook → a Plan: every input value, and where it was found.

Blocks are found by their defined names and tables, never by coordinates, so rows a
user inserted elsewhere do not matter. Two readers give the same Plan:
- `read_openpyxl` works on an openpyxl Workbook (the one recalc writes back into);
- `read_fast` reads with python-calamine, an order of magnitude faster, for merges.
Both read only values typed by people; computed values cached in the file are ignored:
the engine recomputes them.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from defusedxml import ElementTree as SafeET
from openpyxl.utils import column_index_from_string, get_column_letter

from . import safety, spec
from .model import Cell, Finding, Template, TemplateError, WorkbookError, text
from .texts import t

META_SHEET = "_xlplan"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
RANGE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


@dataclass(frozen=True)
class Area:
    """A rectangle on a sheet, 1-based and inclusive."""

    sheet: str
    row: int
    col: int
    nrows: int
    ncols: int

    def address(self, r: int = 1, c: int = 1) -> str:
        return f"{get_column_letter(self.col + c - 1)}{self.row + r - 1}"


@dataclass(frozen=True)
class TableArea:
    sheet: str
    header_row: int
    first_col: int
    nrows: int
    columns: dict[str, int]  # block name -> 1-based column on the sheet


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
        return self.meta.get("lang") or "zh"

    @property
    def unit(self) -> str:
        return str(self.meta.get("unit") or "")

    @property
    def period(self) -> str:
        return str(self.meta.get("period") or "")

    def cell(self, block: str, r: int = 1, c: int = 1) -> Cell | None:
        """The cell of position (r, c) of a block (r is the table row for table columns)."""
        b = self.template.blocks.get(block)
        if b is not None and b.table:
            area = self.table_areas.get(b.table)
            if area is None or block not in area.columns:
                return None
            return Cell(self.file, area.sheet, f"{get_column_letter(area.columns[block])}{area.header_row + r}")
        area = self.areas.get(block)
        if area is None:
            return None
        return Cell(self.file, area.sheet, area.address(r, c))


class Source(Protocol):
    """What the reader needs from a workbook file, whichever library opened it."""

    def sheet_names(self) -> list[str]: ...
    def defined_names(self) -> dict[str, str]: ...
    def tables(self) -> dict[str, tuple[str, str, list[str]]]: ...  # name -> sheet, ref, headers
    def grid(self, sheet: str) -> list[list]: ...  # values from A1, "" or None for empty


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
        except Exception as exc:  # calamine raises its own error types for broken files
            raise WorkbookError(f"{path.name}: cannot be read as an .xlsx workbook ({exc})") from None
        self._names = _defined_names(zf)

    def sheet_names(self):
        return list(self.book.sheet_names)

    def defined_names(self):
        return self._names

    def tables(self):
        out = {}
        for name in self.book.table_names:
            table = self.book.get_table_by_name(name)
            (r0, c0), (r1, c1) = table.start, table.end
            ref = f"{get_column_letter(c0 + 1)}{r0}:{get_column_letter(c1 + 1)}{r1 + 1}"
            out[name] = (table.sheet, ref, [str(c) for c in table.columns])
        return out

    def grid(self, sheet):
        try:
            return self.book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine's own error types for damaged sheet XML
            raise WorkbookError(f"{self.path.name} › {sheet}: the sheet cannot be read ({exc})") from None


def _defined_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Workbook-level defined names → their reference text, from xl/workbook.xml."""
    root = SafeET.fromstring(zf.read("xl/workbook.xml"))
    return {dn.get("name"): dn.text or "" for dn in root.iterfind("m:definedNames/m:definedName", NS)
            if dn.get("localSheetId") is None}


# -- reading ---------------------------------------------------------------------
def read_openpyxl(wb, file: str) -> Plan:
    return assemble(OpenpyxlSource(wb), file)


def read_fast(path: str | Path) -> Plan:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise WorkbookError(f"{path.name}: no such file") from None
    safety.check_size(path.name, size)  # before the bytes are read into memory
    return read_bytes(path.name, path.read_bytes())


def read_bytes(name: str, data: bytes, zf: zipfile.ZipFile | None = None) -> Plan:
    """`read_fast` on a file received as bytes (a merge, an upload): nothing is written to disk.

    `zf` is the zip `safety.admit_bytes` returned for these bytes when the caller has
    admitted them already (and reads more from it); otherwise they are admitted here.
    """
    name = Path(name).name or "submission.xlsx"
    if zf is None:
        with safety.admit_bytes(name, data) as zf:
            return read_bytes(name, data, zf)
    with damaged_inside(name):
        source = CalamineSource(NamedBytes(data, name), zf)
    return assemble(source, name)


def parse_ref(text_ref: str) -> tuple[str, str] | None:
    """`'Sheet name'!$C$5:$N$5` → (sheet, "C5:N5")."""
    if "!" not in text_ref:
        return None
    sheet, ref = text_ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref.replace("$", "")


def area_of(sheet: str, ref: str) -> Area | None:
    m = RANGE.match(ref)
    if not m:
        return None
    c0, r0 = column_index_from_string(m.group(1)), int(m.group(2))
    c1 = column_index_from_string(m.group(3)) if m.group(3) else c0
    r1 = int(m.group(4)) if m.group(4) else r0
    return Area(sheet, r0, c0, r1 - r0 + 1, c1 - c0 + 1)


def read_meta(source: Source, file: str) -> dict:
    if META_SHEET not in source.sheet_names():
        raise WorkbookError(f"{file}: not an xlplan workbook (no {META_SHEET} sheet); "
                            "make it with `xlplan new`")
    meta = {}
    for row in source.grid(META_SHEET):
        if len(row) >= 2 and row[0] not in (None, ""):
            meta[str(row[0])] = row[1]
    for key in ("template", "version"):
        if not meta.get(key):
            raise WorkbookError(f"{file} › {META_SHEET}: the {key} is missing")
    try:
        meta["params"] = json.loads(meta.get("params") or "{}")
    except (TypeError, ValueError):
        raise WorkbookError(f"{file} › {META_SHEET} › B7: the cycle parameters are not valid JSON") from None
    year = meta.get("year")
    if isinstance(year, float) and year.is_integer():
        meta["year"] = int(year)
    meta["lang"] = str(meta.get("lang") or "zh")
    return meta


def template_for(meta: dict, file: str) -> Template:
    params = {**meta["params"], "lang": meta["lang"], "unit": meta.get("unit") or "",
              "year": meta.get("year") or 0}
    try:
        return spec.load(str(meta["template"]), params)
    except TemplateError as exc:
        raise WorkbookError(f"{file}: {exc}") from None


def _library_errors() -> tuple[type[Exception], ...]:
    """What the reading libraries raise for a damaged file (not for a bug of ours)."""
    import python_calamine
    from defusedxml import DefusedXmlException

    return (python_calamine.CalamineError, python_calamine.PasswordError, python_calamine.XmlError,
            python_calamine.ZipError, zipfile.BadZipFile, zipfile.zlib.error, SafeET.ParseError, EOFError,
            DefusedXmlException)


@contextmanager
def damaged_inside(file: str):
    """A file damaged inside (its XML, a table or a cell the libraries cannot decode) is a
    WorkbookError naming the file, like a file that is no workbook at all."""
    try:
        yield
    except _library_errors() as exc:
        raise WorkbookError(f"{file}: the workbook is damaged inside and cannot be read "
                            f"({type(exc).__name__}: {exc}); ask the sender to save it again") from None


def assemble(source: Source, file: str) -> Plan:
    """Read a plan from any source."""
    with damaged_inside(file):
        return _assemble(source, file)


def _assemble(source: Source, file: str) -> Plan:
    meta = read_meta(source, file)
    template = template_for(meta, file)
    plan = Plan(file=file, template=template, meta=meta)
    lang = plan.lang
    if str(meta["version"]) != template.version:
        plan.findings.append(Finding(
            "error", "TEMPLATE_VERSION",
            t("template_version", lang).format(found=meta["version"], expected=template.version,
                                                template=template.id),
            Cell(file, META_SHEET, "B2")))
    grids: dict[str, list[list]] = {}

    def grid(sheet):
        if sheet not in grids:
            grids[sheet] = source.grid(sheet)
        return grids[sheet]

    names = source.defined_names()
    sheets = set(source.sheet_names())
    for name, block in template.blocks.items():
        if block.table:
            continue
        _read_block(plan, name, block, names, sheets, grid)
    tables = source.tables()
    for table, section in template.tables.items():
        _read_table(plan, table, section, tables, grid)
    from . import cellchecks  # it builds on this module's Plan and Area

    cellchecks.missing_sheets(plan, sheets)
    cellchecks.check_cells(plan, source, grid)
    return plan


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


def _read_block(plan, name, block, names, sheets, grid):
    lang = plan.lang
    nrows, ncols = plan.template.shape(block)
    ref = names.get(name)
    parsed = parse_ref(ref) if ref else None
    area = area_of(*parsed) if parsed else None
    if area is None or area.sheet not in sheets:
        if block.role != "computed":
            plan.findings.append(Finding("error", "NAME_MISSING",
                                         t("name_missing", lang).format(name=name, label=text(block.label, lang)),
                                         _template_cell(plan, name), block=name))
        return
    plan.areas[name] = area
    if (area.nrows, area.ncols) != (nrows, ncols):
        plan.findings.append(Finding(
            "error", "BLOCK_SHAPE",
            t("block_shape", lang).format(label=text(block.label, lang), expected=f"{nrows}×{ncols}",
                                          found=f"{area.nrows}×{area.ncols}"),
            Cell(plan.file, area.sheet, area.address()), block=name))
        plan.areas[name] = Area(area.sheet, area.row, area.col, nrows, ncols)
    if block.role == "computed":
        return
    rows = grid(area.sheet)
    plan.values[name] = [[cell_value(rows, area.row + r, area.col + c) for c in range(min(ncols, area.ncols))]
                         + [None] * max(0, ncols - area.ncols)
                         for r in range(min(nrows, area.nrows))] + \
                        [[None] * ncols for _ in range(max(0, nrows - area.nrows))]


def _read_table(plan, table, section, tables, grid):
    lang = plan.lang
    found = tables.get(table)
    if found is None:
        plan.findings.append(Finding("error", "TABLE_MISSING",
                                     t("table_missing", lang).format(table=table, label=text(section.title, lang)),
                                     _template_cell(plan, table), block=table))
        plan.sizes[table] = 0
        return
    sheet, ref, headers = found
    area = area_of(sheet, ref.replace("$", ""))
    if area is None:
        plan.findings.append(Finding("error", "TABLE_MISSING",
                                     t("table_missing", lang).format(table=table, label=text(section.title, lang)),
                                     Cell(plan.file, sheet, ""), block=table))
        plan.sizes[table] = 0
        return
    nrows = max(0, area.nrows - 1)
    plan.sizes[table] = nrows
    by_header = {str(h).strip(): k for k, h in enumerate(headers)}
    columns: dict[str, int] = {}
    for k, block in enumerate(section.blocks):
        label = text(block.label, lang)
        if label in by_header:
            columns[block.name] = area.col + by_header[label]
        elif k < len(headers):
            columns[block.name] = area.col + k
            plan.findings.append(Finding(
                "warning", "COLUMN_RENAMED",
                t("column_renamed", lang).format(expected=label, found=headers[k]),
                Cell(plan.file, sheet, f"{get_column_letter(area.col + k)}{area.row}"), block=block.name))
        else:
            plan.findings.append(Finding(
                "error", "COLUMN_MISSING", t("column_missing", lang).format(label=label, table=table),
                Cell(plan.file, sheet, f"{get_column_letter(area.col)}{area.row}"), block=block.name))
    plan.table_areas[table] = TableArea(sheet, area.row, area.col, nrows, columns)
    rows = grid(sheet)
    for block in section.blocks:
        if block.role == "computed":
            continue
        col = columns.get(block.name)
        plan.tables[block.name] = [None if col is None else cell_value(rows, area.row + 1 + i, col)
                                   for i in range(nrows)]


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_date(v) -> bool:
    return isinstance(v, (dt.date, dt.datetime, dt.time))


ERROR_CODES = ("#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")


def _template_cell(plan: Plan, name: str) -> Cell:
    """Where the template put a block or table: the cell a finding about a lost name points at."""
    from .generate import layout_for  # the layout is the generator's; read.py is imported first

    layout = layout_for(plan.template, plan.lang)
    place = layout.places.get(name) or layout.tables.get(name)
    if place is None:
        return Cell(plan.file, "", "")
    row = getattr(place, "row", None) or place.header_row
    col = getattr(place, "col", None) or place.first_col
    return Cell(plan.file, place.sheet, f"{get_column_letter(col)}{row}")
