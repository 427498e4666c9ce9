"""A filled workbook → a Plan: every input value, and where it was found.

Blocks are found by their defined names and tables, never by coordinates, so rows a
user inserted elsewhere do not matter. Two readers give the same Plan:
- `read_openpyxl` works on an openpyxl Workbook (the one recalc writes back into);
- `read_fast` reads with python-calamine, an order of magnitude faster, for merges;
  a file plainly as the template made it is read faster still, from the XML of the
  sheets its blocks live on (`read_scanned`, see scan.py), and any other by calamine.
All read only values typed by people; computed values cached in the file are ignored:
the engine recomputes them.
"""
from __future__ import annotations

import functools
import io
import json
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

from ..model import Cell, Finding, Template, TemplateError, WorkbookError, normal_unit, text
from ..template import spec
from ..template.cycle import meta_cell
from ..template.layout import META_SHEET, Area, TableArea, layout_for
from .. import texts
from ..texts import t
from . import cellchecks, issued, metadata, ooxml, safety, scan
from .ooxml import parse_ref
from .plan import CalamineSource, Grids, NamedBytes, OpenpyxlSource, Plan, Source, area_of, cell_value


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
    try:
        return read_scanned(name, zf)
    except scan.Unusual:
        pass  # not plainly as made: the detailed reader reads it and says what is wrong
    with damaged_inside(name):
        if ooxml.is_strict(zf):
            data = ooxml.as_transitional(zf)
            with zipfile.ZipFile(io.BytesIO(data)) as transitional:
                return assemble(CalamineSource(NamedBytes(data, name), transitional), name)
        source = CalamineSource(NamedBytes(data, name), zf)
    return assemble(source, name)


def read_scanned(name: str, zf: zipfile.ZipFile) -> Plan:
    """The plan of a workbook plainly as its template made it, read from the XML of the sheets
    its blocks live on; scan.Unusual for any other file (read it with `assemble`)."""
    try:
        return _read_scanned(name, zf)
    except ooxml.SCAN_FAILS as exc:  # not as expected, or damaged: the detailed reader names it
        raise scan.Unusual(f"{type(exc).__name__}: {exc}") from None


def _read_scanned(name: str, zf: zipfile.ZipFile) -> Plan:
    book = scan.book(zf)
    if META_SHEET not in book.parts:
        raise scan.Unusual("no metadata sheet")
    strings = scan.SharedStrings(zf, book.shared_strings)
    dates = scan.date_styles(zf.read(book.styles)) if book.styles else frozenset()
    meta_grid = scan.grid(zf.read(book.parts[META_SHEET]), strings, dates)
    sheet_bytes = ooxml.sheet_bytes(zf)
    meta = read_meta(_Grids(list(book.parts), {META_SHEET: meta_grid}, sheet_bytes), name)
    template = template_for(meta, name)
    plan = Plan(file=name, template=template, meta=meta)
    lang = plan.lang
    if str(meta["version"]) != template.version or template.source != _current_source(template.id):
        raise scan.Unusual("another template version")  # the detailed reader says which
    if any(text(sheet.title, lang) not in book.parts for sheet in template.sheets):
        raise scan.Unusual("a sheet missing or renamed")
    found_tables = []
    for sheet in sorted({place.sheet for place in layout_for(template, lang).tables.values()}):
        found_tables += sorted(scan.tables(zf, sheet, book.parts[sheet]).items())
    areas, table_areas, wanted, shapes, column_sizes = _as_made(
        book, template, lang, tuple((name, sheet, ref, tuple(headers)) for name, (sheet, ref, headers) in found_tables))
    plan.areas.update(areas)
    plan.table_areas.update(table_areas)
    plan.sizes.update({table: area.nrows for table, area in table_areas.items()})
    made = cellchecks.template_formulas(template, lang)
    found: dict[tuple[str, int, int], object] = {}
    for sheet, addresses in wanted.items():
        xml = zf.read(book.parts[sheet])
        cells = scan.SheetCells(xml) if addresses else None  # a sheet without inputs: its formulas alone
        formulas = made.get(sheet, b"")
        if not (scan.without_inputs_has_formulas(xml, formulas) if cells is None else cells.has_formulas(formulas)):
            raise scan.Unusual(f"the formulas of {sheet} are not the template's")
        if cells is not None:
            found.update(cells.values(addresses, strings, dates))
    grids, columns = plan.values, plan.tables
    for block_name, nrows, ncols in shapes:
        grids[block_name] = [[None] * ncols for _ in range(nrows)]
    for block_name, nrows in column_sizes:
        columns[block_name] = [None] * nrows
    for (block_name, i, j), value in found.items():
        if j < 0:
            columns[block_name][i] = value
        else:
            grids[block_name][i][j] = value
    plan.findings += metadata.check_record(plan) + issued.verify(plan)
    return plan


def _current_source(template_id: str, fresh_for: float = 5.0) -> str:
    """spec.current_source, looked up at most every few seconds: it lists the template folders,
    which a merge would otherwise do for every file (a template replaced meanwhile is seen
    within `fresh_for` seconds)."""
    now = time.monotonic()
    known = _SOURCES.get(template_id)
    if known is None or now - known[1] > fresh_for:
        known = _SOURCES[template_id] = (spec.current_source(template_id), now)
    return known[0]


_SOURCES: dict[str, tuple[str, float]] = {}


@functools.lru_cache(maxsize=256)
def _as_made(book: scan.Book, template: Template, lang: str, found_tables: tuple):
    """Blocks' and tables' areas, if all sit where the template put them (else Unusual); each sheet
    they live on → its input cells, address as in the XML → (block, row, column) in the plan's
    values (column -1 for a table column's rows); the input blocks' shapes and the input
    columns' lengths, in the template's order. Once per workbook part and table sizes."""
    areas = _blocks_as_made(book, template, lang)
    table_areas = _tables_as_made(template, lang, found_tables)
    wanted: dict[str, dict[bytes, tuple[str, int, int]]] = {}
    shapes, column_sizes = [], []

    def want(sheet: str, r: int, c: int, where: tuple[str, int, int]) -> None:
        address = f"{ooxml.column_letters(c)}{r}".encode()
        if address in wanted[sheet]:
            raise scan.Unusual(f"{sheet}!{address.decode()} in two blocks")
        wanted[sheet][address] = where

    for sheet in sorted({a.sheet for a in areas.values()} | {a.sheet for a in table_areas.values()}):
        wanted[sheet] = {}
    for name, area in areas.items():
        if template.blocks[name].role == "computed":
            continue
        shapes.append((name, area.nrows, area.ncols))
        for i in range(area.nrows):
            for j in range(area.ncols):
                want(area.sheet, area.row + i, area.col + j, (name, i, j))
    for table, section in template.tables.items():
        tarea = table_areas[table]
        for block in section.blocks:
            if block.role != "computed":
                column_sizes.append((block.name, tarea.nrows))
                for i in range(tarea.nrows):
                    want(tarea.sheet, tarea.header_row + 1 + i, tarea.columns[block.name], (block.name, i, -1))
    return areas, table_areas, wanted, tuple(shapes), tuple(column_sizes)


@functools.lru_cache(maxsize=64)
def _blocks_as_made(book: scan.Book, template: Template, lang: str):
    """Each block's area, if every block's name points where the template put it (else Unusual).
    Once per template and workbook part."""
    layout = layout_for(template, lang)
    areas: dict[str, Area] = {}
    for name, block in template.blocks.items():
        if block.table:
            continue
        ref = book.names.get(name)
        parsed = parse_ref(ref) if ref else None
        area = area_of(*parsed) if parsed else None
        place = layout.places.get(name)
        if area is None or area != place:
            raise scan.Unusual(f"block {name} not where the template put it")
        areas[name] = area
    return areas


@functools.lru_cache(maxsize=256)
def _tables_as_made(template: Template, lang: str, found: tuple[tuple[str, str, str, tuple[str, ...]], ...]):
    """Each table's area, if each sits where the template put it with its columns named as made
    (else Unusual). Once per table size."""
    layout = layout_for(template, lang)
    by_name = {name: (sheet, ref, headers) for name, sheet, ref, headers in found}
    areas: dict[str, TableArea] = {}
    for table, section in template.tables.items():
        place = layout.tables.get(table)
        sheet, ref, headers = by_name.get(table, (None, "", ()))
        area = area_of(sheet, ref.replace("$", "")) if sheet else None
        if area is None or place is None or (area.sheet, area.row, area.col) != (place.sheet, place.header_row,
                                                                                place.first_col):
            raise scan.Unusual(f"table {table} not where the template put it")
        labels = [text(block.label, lang) for block in section.blocks]
        by_header = {str(h).strip(): k for k, h in enumerate(headers)}
        if any(label not in by_header for label in labels):
            raise scan.Unusual(f"a column of table {table} renamed")
        nrows = max(0, area.nrows - 1)
        columns = {block.name: area.col + by_header[label] for block, label in zip(section.blocks, labels)}
        areas[table] = TableArea(area.sheet, area.row, area.col, nrows, columns)
    return areas


class _Grids:
    """Sheet grids already read, as a Source for read_meta."""

    def __init__(self, sheets: list[str], grids: dict[str, list[list]], sheet_bytes: int):
        self.sheets, self.grids = sheets, grids
        self.sheet_bytes = sheet_bytes  # the bound on what the record may claim (metadata.py)

    def sheet_names(self):
        return self.sheets

    def grid(self, sheet):
        return self.grids[sheet]


def read_meta(source: Grids, file: str) -> dict:
    if META_SHEET not in source.sheet_names():
        raise WorkbookError(f"{file}: not an xlplan workbook (no {META_SHEET} sheet); "
                            "make it with `xlplan new`")
    meta: dict = {"_rows": {}}
    for r, row in enumerate(source.grid(META_SHEET), start=1):
        if len(row) >= 2 and row[0] not in (None, "") and str(row[0]) not in meta:
            meta[str(row[0])] = row[1]
            meta["_rows"][str(row[0])] = r
    for key in ("template", "version"):
        if not meta.get(key):
            raise WorkbookError(f"{file} › {META_SHEET}: the {key} is missing")
    meta["_params_text"] = str(meta.get("params") or "")  # as signed (signature.py)
    try:
        meta["params"] = json.loads(meta.get("params") or "{}")
    except (TypeError, ValueError, RecursionError):
        raise WorkbookError(f"{file} › {META_SHEET} › {meta_cell('params')}: "
                            "the cycle parameters are not valid JSON") from None
    meta["params"] = metadata.check_params(meta, file, getattr(source, "sheet_bytes", None))
    meta["unit"] = normal_unit(meta.get("unit"))
    year = meta.get("year")
    if isinstance(year, float) and year.is_integer():
        meta["year"] = int(year)
    try:
        meta["lang"] = texts.language(str(meta.get("lang") or texts.DEFAULT))  # old workbooks say "zh"
    except texts.UnknownLanguage as exc:
        raise WorkbookError(f"{file} › {META_SHEET} › {meta_cell('lang')}: {exc}") from None
    return meta


def template_for(meta: dict, file: str) -> Template:
    year = meta.get("year")
    params = {**meta["params"], "lang": meta["lang"], "unit": meta.get("unit") or "",
              "year": year if isinstance(year, int) and not isinstance(year, bool) else 0}
    try:
        return spec.load(str(meta["template"]), params, version=str(meta["version"]))
    except TemplateError as exc:
        raise WorkbookError(f"{file}: {exc}") from None
    # Deliberately broad: the definition's jinja2 code runs here with parameter values read from the
    # user's file (checked for their declared types, metadata.check_params); whatever that code
    # raises on a value it was not written for (TypeError, ZeroDivisionError, OverflowError, a
    # KeyError in a lookup ...) cannot be listed, and a user's file must not crash the reader.
    except Exception as exc:
        raise WorkbookError(f"{file} › {META_SHEET} › {meta_cell('params')}: "
                            "the cycle parameters do not fit the template "
                            f"{meta['template']} ({type(exc).__name__}: {exc})") from None


@contextmanager
def damaged_inside(file: str):
    """A file damaged inside (its XML, a table or a cell the libraries cannot decode) is a
    WorkbookError naming the file, like a file that is no workbook at all."""
    try:
        yield
    except ooxml.DAMAGED as exc:
        raise WorkbookError(f"{file}: the workbook is damaged inside and cannot be read "
                            f"({type(exc).__name__}: {exc}); ask the sender to save it again") from None


def assemble(source: Source, file: str) -> Plan:
    """Read a plan from any source."""
    with damaged_inside(file):
        return _assemble(source, file)


def _assemble(source: Source, file: str) -> Plan:
    """The reader's steps: each returns its findings (and the cell checks their value
    corrections); they are combined here, in this order, and nowhere else."""
    meta = read_meta(source, file)
    template = template_for(meta, file)
    plan = Plan(file=file, template=template, meta=meta)
    grids: dict[str, list[list]] = {}

    def grid(sheet):
        if sheet not in grids:
            grids[sheet] = source.grid(sheet)
        return grids[sheet]

    names = source.defined_names()
    sheets = set(source.sheet_names())
    findings, lost = _version_findings(plan), []
    for name, block in template.blocks.items():
        if not block.table:
            found, gone = _read_block(plan, name, block, names, sheets, grid)
            findings += found
            lost += gone
    tables = source.tables()
    for table, section in template.tables.items():
        found, gone = _read_table(plan, table, section, tables, grid)
        findings += found
        lost += gone
    plan.findings = findings + cellchecks.lost_sheets(plan, lost, sheets)
    found, corrections = cellchecks.check_cells(plan, source, grid)
    plan.findings += found
    plan.correct(corrections)
    plan.findings += metadata.check_record(plan) + issued.verify(plan)
    return plan


def _version_findings(plan: Plan) -> list[Finding]:
    """An earlier version kept in templates/versions/ reads as it was made, with a warning naming
    the current one; a version with no definition is an error (read with the current one)."""
    found, expected = plan.meta["version"], plan.template.version
    where = Cell(plan.file, META_SHEET, meta_cell("version"))
    if plan.template.source != spec.current_source(plan.template.id):  # read with a kept earlier version
        # the current version's number, from its definition as shipped: no value of the user's file
        # goes into that rendering (template_for rendered the one this plan is read with)
        current = spec.load(plan.template.id).version
        return [Finding("warning", "TEMPLATE_OLDER",
                        t("template_older", plan.lang).format(found=expected, current=current,
                                                              template=plan.template.id),
                        where)]
    if str(found) == expected:
        return []
    return [Finding("error", "TEMPLATE_VERSION",
                    t("template_version", plan.lang).format(found=found, expected=expected, template=plan.template.id),
                    where)]


def _read_block(plan, name, block, names, sheets, grid) -> tuple[list[Finding], list[Finding]]:
    """Read one block into the plan: (findings, lost), `lost` a name not found (see cellchecks.lost_sheets)."""
    lang = plan.lang
    nrows, ncols = plan.template.shape(block)
    ref = names.get(name)
    parsed = parse_ref(ref) if ref else None
    area = area_of(*parsed) if parsed else None
    if area is None or area.sheet not in sheets:
        if block.role == "computed":
            return [], []
        return [], [Finding("error", "NAME_MISSING",
                            t("name_missing", lang).format(name=name, label=text(block.label, lang)),
                            _template_cell(plan, name), block=name)]
    findings = []
    plan.areas[name] = area
    if (area.nrows, area.ncols) != (nrows, ncols):
        findings.append(Finding(
            "error", "BLOCK_SHAPE",
            t("block_shape", lang).format(label=text(block.label, lang), expected=f"{nrows}×{ncols}",
                                          found=f"{area.nrows}×{area.ncols}"),
            Cell(plan.file, area.sheet, area.address()), block=name))
        plan.areas[name] = Area(area.sheet, area.row, area.col, nrows, ncols)
    if block.role == "computed":
        return findings, []
    rows = grid(area.sheet)
    plan.values[name] = [[cell_value(rows, area.row + r, area.col + c) for c in range(min(ncols, area.ncols))]
                         + [None] * max(0, ncols - area.ncols)
                         for r in range(min(nrows, area.nrows))] + \
                        [[None] * ncols for _ in range(max(0, nrows - area.nrows))]
    return findings, []


def _read_table(plan, table, section, tables, grid) -> tuple[list[Finding], list[Finding]]:
    """Read one table into the plan: (findings, lost), as `_read_block`."""
    lang = plan.lang
    found = tables.get(table)
    if found is None:
        plan.sizes[table] = 0
        return [], [Finding("error", "TABLE_MISSING",
                            t("table_missing", lang).format(table=table, label=text(section.title, lang)),
                            _template_cell(plan, table), block=table)]
    sheet, ref, headers = found
    area = area_of(sheet, ref.replace("$", ""))
    if area is None:
        plan.sizes[table] = 0
        return [], [Finding("error", "TABLE_MISSING",
                            t("table_missing", lang).format(table=table, label=text(section.title, lang)),
                            Cell(plan.file, sheet, ""), block=table)]
    findings = []
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
            findings.append(Finding(
                "warning", "COLUMN_RENAMED",
                t("column_renamed", lang).format(expected=label, found=headers[k]),
                Cell(plan.file, sheet, ooxml.address(area.row, area.col + k)), block=block.name))
        else:
            findings.append(Finding(
                "error", "COLUMN_MISSING", t("column_missing", lang).format(label=label, table=table),
                Cell(plan.file, sheet, ooxml.address(area.row, area.col)), block=block.name))
    plan.table_areas[table] = TableArea(sheet, area.row, area.col, nrows, columns)
    rows = grid(sheet)
    for block in section.blocks:
        if block.role == "computed":
            continue
        col = columns.get(block.name)
        plan.tables[block.name] = [None if col is None else cell_value(rows, area.row + 1 + i, col)
                                   for i in range(nrows)]
    return findings, []


def _template_cell(plan: Plan, name: str) -> Cell:
    """Where the template put a block or table: the cell a finding about a lost name points at."""
    layout = layout_for(plan.template, plan.lang)
    if name in layout.places:
        area = layout.places[name]
        return Cell(plan.file, area.sheet, area.address())
    if name in layout.tables:
        table = layout.tables[name]
        return Cell(plan.file, table.sheet, ooxml.address(table.header_row, table.first_col))
    return Cell(plan.file, "", "")
