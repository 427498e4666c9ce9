"""A filled workbook → a Plan: every input value, and where it was found.

Blocks are found by their defined names and tables, never by coordinates, so rows a
user inserted elsewhere do not matter. Two readers give the same Plan:
- `read_openpyxl` works on an openpyxl Workbook (the one recalc writes back into);
- `read_fast` reads with python-calamine, an order of magnitude faster, for merges.
Both read only values typed by people; computed values cached in the file are ignored:
the engine recomputes them.
"""
from __future__ import annotations

import json
import zipfile
from contextlib import contextmanager
from pathlib import Path

from ..model import Cell, Finding, Template, TemplateError, WorkbookError, text
from ..template import spec
from ..template.layout import META_SHEET, Area, TableArea, layout_for
from .. import texts
from ..texts import t
from . import cellchecks, ooxml, safety
from .ooxml import parse_ref
from .plan import CalamineSource, NamedBytes, OpenpyxlSource, Plan, Source, area_of, cell_value


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
    try:
        meta["lang"] = texts.language(str(meta.get("lang") or texts.DEFAULT))  # old workbooks say "zh"
    except texts.UnknownLanguage as exc:
        raise WorkbookError(f"{file} › {META_SHEET} › B6: {exc}") from None
    return meta


def template_for(meta: dict, file: str) -> Template:
    params = {**meta["params"], "lang": meta["lang"], "unit": meta.get("unit") or "",
              "year": meta.get("year") or 0}
    try:
        return spec.load(str(meta["template"]), params)
    except TemplateError as exc:
        raise WorkbookError(f"{file}: {exc}") from None


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
    cellchecks.missing_sheets(plan, sheets)
    cellchecks.check_cells(plan, source, grid)
    return plan


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
                Cell(plan.file, sheet, ooxml.address(area.row, area.col + k)), block=block.name))
        else:
            plan.findings.append(Finding(
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


ERROR_CODES = ("#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")


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
