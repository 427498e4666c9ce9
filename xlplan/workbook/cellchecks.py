"""What a workbook's values alone do not show: sheets gone, merged cells, error values,
circular references, formulas typed over computed cells.

The reader (read.py) takes values; this module looks at the cells themselves, once per
file, in the sheets' XML: only formula, error and merge records are examined, and a
sheet whose formulas are exactly the template's is passed with one comparison.
Each problem becomes a finding at its cell.
"""
from __future__ import annotations

import functools
import html
import zipfile
from xml.sax.saxutils import escape as xml_escape

from openpyxl.formula.translate import Translator, TranslatorError
from openpyxl.formula.tokenizer import TokenizerError

from ..model import Cell, Finding, Template, WorkbookError, text
from ..template.layout import excel_formulas, layout_for
from ..template.xlfuncs import XlErr
from ..texts import t
from . import ooxml
from ..template.layout import Area
from .plan import CalamineSource, Correction, OpenpyxlSource, Plan, area_of, cell_value

NO_RESULT = "(no result)"  # in place of an error code: a formula saved by a program that does not calculate


def lost_sheets(plan: Plan, lost: list[Finding], sheets: set[str]) -> list[Finding]:
    """The findings about names the reader did not find (`lost`: NAME_MISSING, TABLE_MISSING),
    with a sheet deleted (or renamed where its names were not updated) as one finding, not one
    per block; and a note for each sheet renamed with its names."""
    out = []
    titles = {text(sheet.title, plan.lang): sheet for sheet in plan.template.sheets}
    if not all(title in sheets for title in titles):
        sheet_of = {block.name: sheet for sheet in plan.template.sheets for section in sheet.sections
                    for block in section.blocks + section.totals}
        for title, template_sheet in titles.items():
            moved = {a.sheet for name, a in plan.areas.items() if sheet_of.get(name) is template_sheet}
            if title not in sheets and moved and title not in moved:
                out.append(Finding("info", "SHEET_RENAMED",
                                   t("sheet_renamed", plan.lang).format(sheet=title, now="、".join(sorted(moved))),
                                   Cell(plan.file, sorted(moved)[0], "A1")))
    on_lost_sheet: dict[str, list[Finding]] = {}
    for f in lost:
        if f.cell and f.cell.sheet and f.cell.sheet not in sheets:
            on_lost_sheet.setdefault(f.cell.sheet, []).append(f)
        else:
            out.append(f)
    for sheet, found in on_lost_sheet.items():
        labels = "、".join(dict.fromkeys(text(plan.template.blocks[f.block].label, plan.lang)
                                        if f.block in plan.template.blocks else str(f.block) for f in found))
        out.append(Finding("error", "SHEET_MISSING",
                           t("sheet_missing", plan.lang).format(sheet=sheet, count=len(found), labels=labels),
                           Cell(plan.file, sheet, "A1")))
    return out


def cell_contents(source, sheet: str) -> dict[str, tuple[str | None, str | None]] | None:
    """A1 → (formula without "=", error code) of every cell holding a formula or an error value.

    None when the source cannot tell (the book JSON of the add-in carries values only).
    """
    if isinstance(source, OpenpyxlSource):
        out: dict[str, tuple[str | None, str | None]] = {}
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


CellContents = dict[str, dict[str, tuple[str | None, str | None]]]  # sheet → A1 → (formula, error code)


def _all_cell_contents(source, sheets: list[str]) -> tuple[CellContents, dict[str, list[Area]]] | None:
    """cell_contents and merged_ranges of several sheets (from one pass over the zip for calamine)."""
    if isinstance(source, CalamineSource):
        return _sheet_xml_cells(source.path, sheets)
    out: CellContents = {}
    for sheet in sheets:
        found = cell_contents(source, sheet)
        if found is None:
            return None
        out[sheet] = found
    return out, {sheet: merged_ranges(source, sheet) for sheet in sheets}


def _sheet_xml_cells(path, sheets: list[str]) -> tuple[CellContents, dict[str, list[Area]]]:
    """Formulas and error values from the sheets' XML (calamine gives cached values only).

    Only the cells that hold a formula or an error are looked at: found from their <f>
    and t="e" marks, not by walking every cell. A shared formula (Excel writes one for a
    row filled to the right) is stored once; the other cells are translated from it.
    """
    out: CellContents = {}
    merged: dict[str, list[Area]] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            parts = ooxml.sheet_parts(zf)
            for sheet in sheets:
                part = parts.get(sheet)
                xml = ooxml.read_part(zf, part) if part else b""
                out[sheet] = _xml_cells(xml)
                areas = (area_of(sheet, m.group(1).decode()) for m in ooxml.MERGE_CELL.finditer(xml))
                merged[sheet] = [a for a in areas if a is not None]
    except ooxml.DAMAGED as exc:
        raise WorkbookError(f"{path.name}: a sheet cannot be read ({exc})") from None
    return out, merged


def _xml_cells(xml: bytes) -> dict[str, tuple[str | None, str | None]]:
    out: dict[str, tuple[str | None, str | None]] = {}
    shared: dict[bytes, tuple[str, str]] = {}
    for m in ooxml.FORMULA_CELL.finditer(xml):
        address = m.group(1).decode()
        fattrs = m.group(3)
        formula = ooxml.formula_text(m.group(4) or b"")
        if b"shared" in fattrs:
            si = ooxml.SHARED_INDEX.search(fattrs)
            if si and formula:
                shared[si.group(1)] = (address, formula)
            elif si and si.group(1) in shared:
                origin, master = shared[si.group(1)]
                try:
                    formula = Translator("=" + master, origin=origin).translate_formula(address)[1:]
                except (TokenizerError, TranslatorError):  # a formula openpyxl cannot move: keep it as found
                    formula = master
        uncached = ooxml.NO_RESULT_AFTER_FORMULA.match(xml, m.end()) is not None and b't="str"' not in m.group(2)
        out[address] = (formula, NO_RESULT if uncached and formula else None)
    if b't="e"' in xml:
        for m in ooxml.ERROR_CELL.finditer(xml):
            v = ooxml.VALUE.search(m.group(3) or b"")
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
        except ooxml.DAMAGED:  # the values were read, merges are a bonus
            return []
        return [Area(sheet, r0 + 1, c0 + 1, r1 - r0 + 1, c1 - c0 + 1) for (r0, c0), (r1, c1) in ranges]
    return []


def _block_positions(plan: Plan, name: str, block) -> list[tuple[int, int, str, str]]:
    """(r, c, sheet, address) of every cell of a block found in the workbook."""
    if block.table:
        table = plan.table_areas.get(block.table)
        if table is None or name not in table.columns:
            return []
        col = table.columns[name]
        return [(i, 1, table.sheet, ooxml.address(table.header_row + i, col)) for i in range(1, table.nrows + 1)]
    area = plan.areas.get(name)
    if area is None:
        return []
    return [(r, c, area.sheet, area.address(r, c)) for r in range(1, area.nrows + 1) for c in range(1, area.ncols + 1)]


def _unchanged_layout(plan: Plan) -> bool:
    """Every block where the template put it: only then do the template's formulas apply letter for letter."""

    layout = layout_for(plan.template, plan.lang)
    for name, area in plan.areas.items():
        place = layout.places.get(name)
        if place is None or (area.sheet, area.row, area.col) != (place.sheet, place.row, place.col):
            return False
    return not any(f.code in ("BLOCK_SHAPE", "NAME_MISSING", "SHEET_MISSING") for f in plan.findings)


def _refers_to(formula: str, sheet: str, row: int, col: int) -> bool:
    """Does a formula typed into (sheet, row, col) refer to that very cell (a circular reference)?"""
    for m in ooxml.FORMULA_REF.finditer(formula.upper()):
        where, c0, r0, c1, r1 = m.groups()
        if where:
            where = ooxml.sheet_name(where)
            if where != sheet.upper():
                continue
        c0n, r0n = ooxml.column_number(c0), int(r0)
        c1n, r1n = (ooxml.column_number(c1), int(r1)) if c1 else (c0n, r0n)
        if min(r0n, r1n) <= row <= max(r0n, r1n) and min(c0n, c1n) <= col <= max(c0n, c1n):
            return True
    return False


def check_cells(plan: Plan, source, grid) -> tuple[list[Finding], list[Correction]]:
    """Findings the values alone do not show, and the values to correct.

    - an Excel error value (#REF!, #VALUE! ...) in an input cell: calamine reads it as
      blank, so the error text is a correction, for the input checks to report;
    - a formula typed into an input cell that refers to its own cell (circular);
    - merged cells over input cells: only the top-left cell keeps a value;
    - a computed cell whose formula was replaced by a typed value or another formula:
      the engine computes it anyway, and says that what was typed there is not used.
    """
    template, lang = plan.template, plan.lang
    sheets = sorted({a.sheet for a in plan.areas.values()} | {a.sheet for a in plan.table_areas.values()})
    expected = None
    if _unchanged_layout(plan):

        expected = excel_formulas(template, lang)
    as_made = _sheets_as_made(plan, source, sheets) if expected is not None else set()
    found = _all_cell_contents(source, [s for s in sheets if s not in as_made])
    findings: list[Finding] = []
    corrections: list[Correction] = []
    if found is None:
        return findings, corrections
    contents, merged = found
    misshapen = {f.block for f in plan.findings if f.code == "BLOCK_SHAPE"}  # its cells are not where we look
    for name, block in template.blocks.items():
        if name in misshapen or _sheet_of_block(plan, name, block) in as_made:
            continue
        if block.role == "computed":
            if block.formula and not (expected is not None and not block.table
                                      and _as_in_template(plan, name, contents, expected[name])):
                findings += _check_overwritten(plan, name, block, text(block.label, lang),
                                               _block_positions(plan, name, block), contents, grid, expected)
            continue
        label = text(block.label, lang)
        positions = _block_positions(plan, name, block)
        for r, c, sheet, address in positions:
            formula, error = contents[sheet].get(address, (None, None))
            if error == NO_RESULT:
                error, value, said = _typed_formula(plan, name, block, sheet, address, formula, source, contents, grid)
                findings += [said] if said else []
                if value is not None:
                    corrections.append(Correction(name, r, c, value))
            if error is None and formula and "#REF!" in formula.upper():
                error = "#REF!"  # a reference that was deleted, whatever result the file kept
            if error is not None:
                corrections.append(Correction(name, r, c, error))
            if formula and _refers_to(formula, sheet, *ooxml.row_col(address)):
                findings.append(Finding("error", "CIRCULAR_REFERENCE",
                                        t("circular", lang).format(label=label, formula="=" + formula),
                                        Cell(plan.file, sheet, address), block=name, actual="=" + formula))
        if merged.get(positions[0][2] if positions else "", ()):
            findings += _check_merged(plan, name, label, positions, merged)
    return findings, corrections


def _typed_formula(plan, name, block, sheet, address, formula, source, contents, grid):
    """A formula saved without its result in an input cell: computed where it is arithmetic on
    numbers and cells (a note says so), else an error at the cell. Returns (the error code the
    formula gives, for the input checks to report; the value computed; the finding)."""
    from . import inputformulas

    sheets = set(source.sheet_names())

    def lookup(where, row, col, depth):
        if where not in sheets:
            raise inputformulas.CannotCompute(f"no sheet {where!r}")
        at = ooxml.address(row, col)
        found_formula, found_error = contents.get(where, {}).get(at, (None, None))
        if found_error == NO_RESULT:
            return inputformulas.evaluate(found_formula, where, lookup, depth)
        if found_error is not None:
            return XlErr(found_error)
        return cell_value(grid(where), row, col)

    label = text(block.label, plan.lang)
    try:
        value = inputformulas.evaluate(formula, sheet, lookup)
    except inputformulas.CannotCompute as why:
        message = t("formula_no_result", plan.lang).format(label=label, formula="=" + formula, why=why)
        return None, None, Finding("error", "FORMULA_NO_RESULT", message, Cell(plan.file, sheet, address),
                                   block=name, actual="=" + formula)
    if isinstance(value, XlErr):
        return value.code, None, None  # reported as the error value it gives
    said = Finding("info", "FORMULA_COMPUTED",
                   t("formula_computed", plan.lang).format(label=label, formula="=" + formula, value=value),
                   Cell(plan.file, sheet, address), block=name, expected=value, actual="=" + formula)
    return None, value, said


def _sheet_of_block(plan: Plan, name: str, block) -> str | None:
    area = plan.table_areas.get(block.table) if block.table else plan.areas.get(name)
    return area.sheet if area is not None else None


@functools.lru_cache(maxsize=32)
def _template_formula_xml(template: Template, lang: str) -> dict[str, dict[bytes, bytes]]:
    """sheet → {address: formula as the generator writes it in the XML} of every computed cell."""

    layout = layout_for(template, lang)
    out: dict[str, dict[bytes, bytes]] = {}
    for name, rows in excel_formulas(template, lang).items():
        block = template.blocks[name]
        if block.table:
            tplace = layout.tables[block.table]
            sheet, col = tplace.sheet, tplace.columns[name]
            cells = {(tplace.header_row + r, col): row[0] for r, row in enumerate(rows, start=1)}
        else:
            place = layout.places[name]
            sheet = place.sheet
            cells = {(place.row + r, place.col + c): f for r, row in enumerate(rows) for c, f in enumerate(row)}
        target = out.setdefault(sheet, {})
        for (row, col), formula in cells.items():
            target[ooxml.address(row, col).encode()] = xml_escape(formula[1:]).encode("utf-8")
    return out


@functools.lru_cache(maxsize=32)
def template_formulas(template: Template, lang: str) -> dict[str, bytes]:
    """sheet → every formula the template puts on it, in the sheet's order, normalised as
    a sheet's are for the merge's fast path to compare (ooxml.normal_formulas)."""
    out = {}
    for sheet, cells in _template_formula_xml(template, lang).items():
        order = sorted(cells, key=lambda a: ooxml.row_col(a.decode()))
        out[sheet] = ooxml.normal_formulas((a, cells[a]) for a in order)
    return out


def _sheets_as_made(plan: Plan, source, sheets: list[str]) -> set[str]:
    """The sheets whose XML holds exactly the template's formulas and nothing to look at: no other
    formula, no error value, no merged cell, no shared formula. Most sheets of most files: one
    regular expression each, and the detailed look (`_xml_cells`) is skipped."""
    if not isinstance(source, CalamineSource):
        return set()
    made = _template_formula_xml(plan.template, plan.lang)
    out = set()
    try:
        with zipfile.ZipFile(source.path) as zf:
            parts = ooxml.sheet_parts(zf)
            for sheet in sheets:
                part = parts.get(sheet)
                if part is None or sheet not in made:
                    continue
                xml = ooxml.read_part(zf, part)
                if b't="e"' in xml or b"mergeCell" in xml or b'shared' in xml:
                    continue
                found = dict(ooxml.WRITTEN_FORMULA.findall(xml))
                if len(found) == len(made[sheet]) and found == made[sheet]:
                    out.add(sheet)
    except ooxml.DAMAGED:
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


def _check_merged(plan, name, label, positions, merged) -> list[Finding]:
    out = []
    reported = set()
    for _r, _c, sheet, address in positions:
        row, col = ooxml.row_col(address)
        for area in merged.get(sheet, ()):
            if (area.nrows, area.ncols) == (1, 1) or id(area) in reported:
                continue
            if area.row <= row < area.row + area.nrows and area.col <= col < area.col + area.ncols:
                reported.add(id(area))
                last = area.address(area.nrows, area.ncols)
                out.append(Finding("error", "MERGED_CELLS",
                                   t("merged_cells", plan.lang).format(label=label, cells=f"{area.address()}:{last}"),
                                   Cell(plan.file, sheet, area.address()), block=name))
    return out


def _check_overwritten(plan, name, block, label, positions, contents, grid, expected) -> list[Finding]:
    out = []
    template_formulas = (expected or {}).get(name)
    for r, c, sheet, address in positions:
        formula, _ = contents[sheet].get(address, (None, None))
        if formula is None:
            row, col = ooxml.row_col(address)
            typed = cell_value(grid(sheet), row, col)
            what = t("typed_value", plan.lang).format(value=typed) if typed is not None else t("cleared", plan.lang)
        elif template_formulas is not None and not block.table and formula != template_formulas[r - 1][c - 1][1:] \
                and ooxml.normal_formula(formula) != ooxml.normal_formula(template_formulas[r - 1][c - 1]):
            typed = "=" + formula
            what = t("typed_formula", plan.lang).format(formula=typed)
        else:
            continue
        original = template_formulas[r - 1][c - 1] if template_formulas is not None and not block.table else None
        out.append(Finding("warning", "FORMULA_OVERWRITTEN",
                           t("formula_overwritten", plan.lang).format(label=label, what=what),
                           Cell(plan.file, sheet, address), block=name, expected=original, actual=typed))
    return out
