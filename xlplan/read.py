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
import functools
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape as xml_escape

from defusedxml import ElementTree as SafeET
from openpyxl.formula.translate import Translator
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

    `path` is the file on disk or, for a file received as bytes, a NamedBytes; `zf` is
    its zip when the caller has it open already (the names are read from it at once).
    """

    def __init__(self, path: Path | NamedBytes, zf: zipfile.ZipFile | None = None):
        import python_calamine

        self.path = path
        try:
            if isinstance(path, NamedBytes):
                self.book = python_calamine.CalamineWorkbook.from_filelike(path, load_tables=True)
            else:
                self.book = python_calamine.CalamineWorkbook.from_path(str(path), load_tables=True)
        except Exception as exc:  # calamine raises its own error types for broken files
            raise WorkbookError(f"{path.name}: cannot be read as an .xlsx workbook ({exc})") from None
        self._names = None if zf is None else _defined_names(zf)

    def sheet_names(self):
        return list(self.book.sheet_names)

    def defined_names(self):
        if self._names is None:
            with zipfile.ZipFile(self.path) as zf:
                self._names = _defined_names(zf)
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
    safety.admit(path)
    return assemble(CalamineSource(path), path.name)


def read_bytes(name: str, data: bytes, zf: zipfile.ZipFile | None = None) -> Plan:
    """`read_fast` on a file received as bytes (a merge, an upload): nothing is written to disk.

    `zf` is the zip `safety.admit_bytes` returned for these bytes when the caller has
    admitted them already (and reads more from it); otherwise they are admitted here.
    """
    name = Path(name).name or "submission.xlsx"
    if zf is None:
        with safety.admit_bytes(name, data) as zf:
            return read_bytes(name, data, zf)
    return assemble(CalamineSource(NamedBytes(data, name), zf), name)


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

    return (python_calamine.CalamineError, python_calamine.PasswordError, python_calamine.XmlError,
            python_calamine.ZipError, zipfile.BadZipFile, zipfile.zlib.error, SafeET.ParseError, EOFError)


def assemble(source: Source, file: str) -> Plan:
    """Read a plan from any source; a file damaged inside (a table or a cell calamine cannot
    decode) is a WorkbookError naming the file, like a file that is no workbook at all."""
    try:
        return _assemble(source, file)
    except _library_errors() as exc:
        raise WorkbookError(f"{file}: the workbook is damaged inside and cannot be read "
                            f"({type(exc).__name__}: {exc}); ask the sender to save it again") from None


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
    _one_finding_per_missing_sheet(plan, sheets)
    _check_cells(plan, source, grid)
    return plan


def _cell_value(rows, r, c):
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
    plan.values[name] = [[_cell_value(rows, area.row + r, area.col + c) for c in range(min(ncols, area.ncols))]
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
        plan.tables[block.name] = [None if col is None else _cell_value(rows, area.row + 1 + i, col)
                                   for i in range(nrows)]


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_date(v) -> bool:
    return isinstance(v, (dt.date, dt.datetime, dt.time))


# -- what the values alone do not show: missing sheets, merged cells, formulas, errors ---
ERROR_CODES = ("#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
XML_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"([^>]*)>\s*'
                              rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>([^<]*)</(?:\w+:)?f>)')
XML_PLAIN_FORMULA = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*>\s*<f>([^<]*)</f>')
XML_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)"')
XML_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"([^>]*?\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>',
                            re.S)
XML_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
A1_REF = re.compile(r"(?:('(?:[^']|'')+'|[^\s!'(),=+\-*/&^<>:;{}]+)!)?\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")


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


def _one_finding_per_missing_sheet(plan: Plan, sheets: set[str]) -> None:
    """A sheet deleted (or renamed where its names were not updated) is one finding, not one per block."""
    titles = {text(sheet.title, plan.lang): sheet for sheet in plan.template.sheets}
    if all(title in sheets for title in titles):
        return
    sheet_of = {block.name: sheet for sheet in plan.template.sheets for section in sheet.sections
                for block in section.blocks + section.totals}
    for title, sheet in titles.items():
        moved = {a.sheet for name, a in plan.areas.items() if sheet_of.get(name) is sheet}
        if title not in sheets and moved and title not in moved:
            plan.findings.append(Finding("info", "SHEET_RENAMED",
                                         t("sheet_renamed", plan.lang).format(sheet=title, now="、".join(sorted(moved))),
                                         Cell(plan.file, sorted(moved)[0], "A1")))
    lost = {}
    for f in plan.findings:
        if f.code in ("NAME_MISSING", "TABLE_MISSING") and f.cell and f.cell.sheet and f.cell.sheet not in sheets:
            lost.setdefault(f.cell.sheet, []).append(f)
    if not lost:
        return
    gone = [f for found in lost.values() for f in found]
    plan.findings[:] = [f for f in plan.findings if not any(f is g for g in gone)]
    for sheet, found in lost.items():
        labels = "、".join(dict.fromkeys(text(plan.template.blocks[f.block].label, plan.lang)
                                        if f.block in plan.template.blocks else f.block for f in found))
        plan.findings.append(Finding("error", "SHEET_MISSING",
                                     t("sheet_missing", plan.lang).format(sheet=sheet, count=len(found), labels=labels),
                                     Cell(plan.file, sheet, "A1")))


def cell_contents(source, sheet: str) -> dict[str, tuple[str | None, str | None]] | None:
    """A1 → (formula without "=", error code) of every cell holding a formula or an error value.

    None when the source cannot tell (the book JSON of the add-in carries values only).
    """
    if isinstance(source, OpenpyxlSource):
        out = {}
        for row in source.wb[sheet].iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formula = str(getattr(cell.value, "text", cell.value) or "")
                    out[cell.coordinate] = (formula[1:] if formula.startswith("=") else formula, None)
                elif cell.data_type == "e":
                    out[cell.coordinate] = (None, str(cell.value))
        return out
    if isinstance(source, CalamineSource):
        return _sheet_xml_cells(source.path, [sheet])[0][sheet]
    return None


def _all_cell_contents(source, sheets: list[str]) -> tuple[dict[str, dict], dict[str, list[Area]]] | None:
    """cell_contents and merged_ranges of several sheets (from one pass over the zip for calamine)."""
    if isinstance(source, CalamineSource):
        return _sheet_xml_cells(source.path, sheets)
    out = {}
    for sheet in sheets:
        found = cell_contents(source, sheet)
        if found is None:
            return None
        out[sheet] = found
    return out, {sheet: merged_ranges(source, sheet) for sheet in sheets}


def _sheet_xml_cells(path, sheets: list[str]) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """Formulas and error values from the sheets' XML (calamine gives cached values only).

    Only the cells that hold a formula or an error are looked at: found from their <f>
    and t="e" marks, not by walking every cell. A shared formula (Excel writes one for a
    row filled to the right) is stored once; the other cells are translated from it.
    """
    from .cached import sheet_parts

    out, merged = {}, {}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = sheet_parts(zf)
            for sheet in sheets:
                part = parts.get(sheet)
                xml = zf.read(part) if part else b""
                out[sheet] = _xml_cells(xml)
                merged[sheet] = [area_of(sheet, m.group(1).decode()) for m in XML_MERGE.finditer(xml)]
                merged[sheet] = [a for a in merged[sheet] if a is not None]
    except (KeyError, zipfile.BadZipFile, zipfile.zlib.error, NotImplementedError, EOFError, OSError, ValueError,
            SafeET.ParseError) as exc:
        raise WorkbookError(f"{path.name}: a sheet cannot be read ({exc})") from None
    return out, merged


def _xml_cells(xml: bytes) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    shared: dict[bytes, tuple[str, str]] = {}
    for m in XML_FORMULA_CELL.finditer(xml):  # <f> is a cell's first child when it has one
        address = m.group(1).decode()
        fattrs, raw = m.group(3), m.group(4) or b""
        if b"&" in raw:
            raw = raw.replace(b"&quot;", b'"').replace(b"&lt;", b"<").replace(b"&gt;", b">").replace(b"&apos;", b"'")
            raw = raw.replace(b"&amp;", b"&") if b"&#" not in raw else html.unescape(raw.decode()).encode()
        formula = raw.decode("utf-8", "replace")
        if b"shared" in fattrs:
            si = re.search(rb'\bsi="(\d+)"', fattrs)
            if si and formula:
                shared[si.group(1)] = (address, formula)
            elif si and si.group(1) in shared:
                origin, master = shared[si.group(1)]
                try:
                    formula = Translator("=" + master, origin=origin).translate_formula(address)[1:]
                except Exception:  # openpyxl's tokenizer on a formula it does not know: keep it as found
                    formula = master
        out[address] = (formula, None)
    if b't="e"' in xml:
        for m in XML_ERROR_CELL.finditer(xml):
            v = XML_VALUE.search(m.group(3) or b"")
            error = html.unescape(v.group(1).decode("utf-8", "replace")) if v else "#VALUE!"
            out[m.group(1).decode()] = (out.get(m.group(1).decode(), (None, None))[0], error)
    return out


def merged_ranges(source, sheet: str) -> list[Area]:
    """The merged ranges of a sheet, as areas; empty when the source cannot tell."""
    if isinstance(source, OpenpyxlSource):
        return [Area(sheet, r.min_row, r.min_col, r.max_row - r.min_row + 1, r.max_col - r.min_col + 1)
                for r in source.wb[sheet].merged_cells.ranges]
    if isinstance(source, CalamineSource):
        try:
            ranges = source.book.get_sheet_by_name(sheet).merged_cell_ranges or []
        except Exception:  # calamine's own error types; the values were read, merges are a bonus
            return []
        return [Area(sheet, r0 + 1, c0 + 1, r1 - r0 + 1, c1 - c0 + 1) for (r0, c0), (r1, c1) in ranges]
    return []


def _block_positions(plan: Plan, name: str, block) -> list[tuple[int, int, str, str]]:
    """(r, c, sheet, address) of every cell of a block found in the workbook."""
    if block.table:
        area = plan.table_areas.get(block.table)
        if area is None or name not in area.columns:
            return []
        letter = get_column_letter(area.columns[name])
        return [(i, 1, area.sheet, f"{letter}{area.header_row + i}") for i in range(1, area.nrows + 1)]
    area = plan.areas.get(name)
    if area is None:
        return []
    return [(r, c, area.sheet, area.address(r, c)) for r in range(1, area.nrows + 1) for c in range(1, area.ncols + 1)]


def _unchanged_layout(plan: Plan) -> bool:
    """Every block where the template put it: only then do the template's formulas apply letter for letter."""
    from .generate import layout_for

    layout = layout_for(plan.template, plan.lang)
    for name, area in plan.areas.items():
        place = layout.places.get(name)
        if place is None or (area.sheet, area.row, area.col) != (place.sheet, place.row, place.col):
            return False
    return not any(f.code in ("BLOCK_SHAPE", "NAME_MISSING", "SHEET_MISSING") for f in plan.findings)


def _normal_formula(formula: str) -> str:
    """A formula as written, without what Excel changes when it saves: $, spaces, quotes, case, _xlfn."""
    s = formula[1:] if formula.startswith("=") else formula
    s = re.sub(r"_xl(?:fn|ws)\.", "", s)
    return re.sub(r"[\s$']", "", s).upper()


def _refers_to(formula: str, sheet: str, row: int, col: int) -> bool:
    """Does a formula typed into (sheet, row, col) refer to that very cell (a circular reference)?"""
    for m in A1_REF.finditer(formula.upper()):
        where, c0, r0, c1, r1 = m.groups()
        if where:
            where = where[1:-1].replace("''", "'") if where.startswith("'") else where
            if where != sheet.upper():
                continue
        c0n, r0n = column_index_from_string(c0), int(r0)
        c1n, r1n = (column_index_from_string(c1), int(r1)) if c1 else (c0n, r0n)
        if min(r0n, r1n) <= row <= max(r0n, r1n) and min(c0n, c1n) <= col <= max(c0n, c1n):
            return True
    return False


def _check_cells(plan: Plan, source, grid) -> None:
    """Findings the values alone do not show.

    - an Excel error value (#REF!, #VALUE! ...) in an input cell: calamine reads it as
      blank, so the error text is put back for the input checks to report;
    - a formula typed into an input cell that refers to its own cell (circular);
    - merged cells over input cells: only the top-left cell keeps a value;
    - a computed cell whose formula was replaced by a typed value or another formula:
      the engine computes it anyway, and says that what was typed there is not used.
    """
    template, lang = plan.template, plan.lang
    sheets = sorted({a.sheet for a in plan.areas.values()} | {a.sheet for a in plan.table_areas.values()})
    expected = None
    if _unchanged_layout(plan):
        from .generate import excel_formulas

        expected = excel_formulas(template, lang)
    as_made = _sheets_as_made(plan, source, sheets) if expected is not None else set()
    found = _all_cell_contents(source, [s for s in sheets if s not in as_made])
    if found is None:
        return
    contents, merged = found
    misshapen = {f.block for f in plan.findings if f.code == "BLOCK_SHAPE"}  # its cells are not where we look
    for name, block in template.blocks.items():
        if name in misshapen or _sheet_of_block(plan, name, block) in as_made:
            continue
        if block.role == "computed":
            if block.formula and not (expected is not None and not block.table
                                      and _as_in_template(plan, name, contents, expected[name])):
                _check_overwritten(plan, name, block, text(block.label, lang), _block_positions(plan, name, block),
                                   contents, grid, expected)
            continue
        label = text(block.label, lang)
        positions = _block_positions(plan, name, block)
        for r, c, sheet, address in positions:
            formula, error = contents[sheet].get(address, (None, None))
            if error is None and formula and "#REF!" in formula.upper():
                error = "#REF!"  # a reference that was deleted, whatever result the file kept
            if error is not None:
                _put_input(plan, name, block, r, c, error)
            if formula and _refers_to(formula, sheet, *_row_col(address)):
                plan.findings.append(Finding("error", "CIRCULAR_REFERENCE",
                                             t("circular", lang).format(label=label, formula="=" + formula),
                                             Cell(plan.file, sheet, address), block=name, actual="=" + formula))
        if merged.get(positions[0][2] if positions else "", ()):
            _check_merged(plan, name, label, positions, merged)


def _sheet_of_block(plan: Plan, name: str, block) -> str | None:
    if block.table:
        area = plan.table_areas.get(block.table)
    else:
        area = plan.areas.get(name)
    return area.sheet if area is not None else None


@functools.lru_cache(maxsize=32)
def _template_formula_xml(template: Template, lang: str) -> dict[str, dict[bytes, bytes]]:
    """sheet → {address: formula as the generator writes it in the XML} of every computed cell."""
    from .generate import excel_formulas, layout_for

    layout = layout_for(template, lang)
    out: dict[str, dict[bytes, bytes]] = {}
    for name, rows in excel_formulas(template, lang).items():
        block = template.blocks[name]
        if block.table:
            tplace = layout.tables[block.table]
            sheet, col = tplace.sheet, tplace.first_col + tplace.columns.index(name)
            cells = {(tplace.header_row + r, col): row[0] for r, row in enumerate(rows, start=1)}
        else:
            place = layout.places[name]
            sheet = place.sheet
            cells = {(place.row + r, place.col + c): f for r, row in enumerate(rows) for c, f in enumerate(row)}
        target = out.setdefault(sheet, {})
        for (row, col), formula in cells.items():
            target[f"{get_column_letter(col)}{row}".encode()] = xml_escape(formula[1:]).encode("utf-8")
    return out


def _sheets_as_made(plan: Plan, source, sheets: list[str]) -> set[str]:
    """The sheets whose XML holds exactly the template's formulas and nothing to look at: no other
    formula, no error value, no merged cell, no shared formula. Most sheets of most files: one
    regular expression each, and the detailed look (`_xml_cells`) is skipped."""
    if not isinstance(source, CalamineSource):
        return set()
    from .cached import sheet_parts

    made = _template_formula_xml(plan.template, plan.lang)
    out = set()
    try:
        with zipfile.ZipFile(source.path) as zf:
            parts = sheet_parts(zf)
            for sheet in sheets:
                part = parts.get(sheet)
                if part is None or sheet not in made:
                    continue
                xml = zf.read(part)
                if b't="e"' in xml or b"mergeCell" in xml or b'shared' in xml:
                    continue
                found = dict(XML_PLAIN_FORMULA.findall(xml))
                if len(found) == len(made[sheet]) and found == made[sheet]:
                    out.add(sheet)
    except (KeyError, zipfile.BadZipFile, zipfile.zlib.error, NotImplementedError, EOFError, OSError, ValueError,
            SafeET.ParseError):
        return set()  # the detailed look reports what is wrong
    return out


def _as_in_template(plan: Plan, name: str, contents, formulas) -> bool:
    """Every cell of a computed block holds the template's formula, letter for letter (the usual case)."""
    area = plan.areas.get(name)
    if area is None:
        return True
    cells = contents.get(area.sheet, {})
    for r, row in enumerate(formulas, start=1):
        for c, formula in enumerate(row, start=1):
            found = cells.get(area.address(r, c))
            if found is None or found[0] != formula[1:]:
                return False
    return True


def _row_col(address: str) -> tuple[int, int]:
    m = RANGE.match(address)
    return int(m.group(2)), column_index_from_string(m.group(1))


def _put_input(plan, name, block, r, c, value):
    if block.table:
        column = plan.tables.get(name)
        if column is not None and r - 1 < len(column):
            column[r - 1] = value
    else:
        grid_ = plan.values.get(name)
        if grid_ is not None and r - 1 < len(grid_) and c - 1 < len(grid_[r - 1]):
            grid_[r - 1][c - 1] = value


def _check_merged(plan, name, label, positions, merged):
    reported = set()
    for r, c, sheet, address in positions:
        row, col = _row_col(address)
        for area in merged.get(sheet, ()):
            if (area.nrows, area.ncols) == (1, 1) or id(area) in reported:
                continue
            if area.row <= row < area.row + area.nrows and area.col <= col < area.col + area.ncols:
                reported.add(id(area))
                last = area.address(area.nrows, area.ncols)
                plan.findings.append(Finding("error", "MERGED_CELLS",
                                             t("merged_cells", plan.lang).format(label=label,
                                                                                 cells=f"{area.address()}:{last}"),
                                             Cell(plan.file, sheet, area.address()), block=name))


def _check_overwritten(plan, name, block, label, positions, contents, grid, expected):
    template_formulas = (expected or {}).get(name)
    for r, c, sheet, address in positions:
        formula, _ = contents[sheet].get(address, (None, None))
        if formula is None:
            row, col = _row_col(address)
            typed = _cell_value(grid(sheet), row, col)
            what = t("typed_value", plan.lang).format(value=typed) if typed is not None else t("cleared", plan.lang)
        elif template_formulas is not None and not block.table and formula != template_formulas[r - 1][c - 1][1:] \
                and _normal_formula(formula) != _normal_formula(template_formulas[r - 1][c - 1]):
            typed = "=" + formula
            what = t("typed_formula", plan.lang).format(formula=typed)
        else:
            continue
        original = template_formulas[r - 1][c - 1] if template_formulas is not None and not block.table else None
        plan.findings.append(Finding("warning", "FORMULA_OVERWRITTEN",
                                     t("formula_overwritten", plan.lang).format(label=label, what=what),
                                     Cell(plan.file, sheet, address), block=name, expected=original, actual=typed))
