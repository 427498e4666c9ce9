"""Template → a workbook a clerk can fill in: styled, validated, protected, with live formulas."""
from __future__ import annotations

from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from ..model import Block, Template, TemplateError, text
from .. import texts
from ..texts import t
from . import formula, styles
from .cycle import Cycle, meta_rows
from .layout import (
    CHECK_COLUMNS,
    LABEL_COL,
    META_SHEET,
    UNIT_COL,
    VALUE_COL,
    Layout,
    checks_sheet_title,
    excel_formulas,
    layout_for,
)


def build_workbook(template: Template, cycle: Cycle, data: dict | None = None) -> Workbook:
    layout = layout_for(template, cycle.lang)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in template.sheets:
        _write_sheet(wb, template, layout, sheet, cycle)
    _checks_sheet(wb, template, cycle)
    _defined_names(wb, template, layout)
    prefill = {"unit_name": cycle.unit, "plan_year": cycle.year, "team_name": cycle.unit,
               "period": cycle.period or None}
    prefill = {k: v for k, v in prefill.items() if k in template.blocks and v not in (None, "")}
    defaults = {k: b.default for k, b in template.blocks.items()
                if b.default is not None and not b.table and b.role != "computed"}
    values = {**defaults, **prefill, **(data or {})}
    fill_inputs(wb, template, layout, values, where="--data")
    _meta_sheet(wb, template, cycle, _given(template, layout, values))
    return wb


def _given(template: Template, layout: Layout, values: dict) -> dict:
    """Every given (HQ-set) block's cells as issued: block → rows of values."""
    out = {}
    for name, block in template.blocks.items():
        if block.role == "given" and not block.table:
            p = layout.places[name]
            grid = [[None] * p.ncols for _ in range(p.nrows)]
            if name in values:
                for r, row in enumerate(_as_grid(values[name], p.nrows, p.ncols, name)):
                    for c, v in enumerate(row):
                        grid[r][c] = v
            out[name] = grid
    return out


def write(template: Template, cycle: Cycle, path: Path, data: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(template, cycle, data).save(path)
    return path


# -- sheets ---------------------------------------------------------------------
def _write_sheet(wb, template, layout, sheet, cycle):
    lang = cycle.lang
    ws = wb.create_sheet(text(sheet.title, lang))
    ws.sheet_view.showGridLines = False
    ws.cell(1, 1, f"{text(template.title, lang)} · {text(sheet.title, lang)}").font = styles.TITLE_FONT
    ws.cell(2, 1, f"{cycle.unit} · {cycle.period or cycle.year}  —  {t('legend', lang)}").font = styles.NOTE_FONT
    ws.column_dimensions[get_column_letter(LABEL_COL)].width = 30
    ws.column_dimensions[get_column_letter(UNIT_COL)].width = 9
    freeze = None
    for place in layout.sections:
        if place.sheet != ws.title:
            continue
        section = place.section
        if place.title_row:
            cell = ws.cell(place.title_row, LABEL_COL, text(section.title, lang))
            cell.font = styles.SECTION_FONT
        writer = globals()[f"_section_{section.kind}"]
        writer(ws, template, layout, place, lang)
        if section.kind in ("rows", "table", "columns") and freeze is None:
            col = "A" if section.kind == "table" else "C"
            freeze = f"{col}{place.first_row}"
    if freeze:
        ws.freeze_panes = freeze
    _protect_and_print(ws)


def _protect_and_print(ws):
    ws.protection.sheet = True
    # rows may be inserted and columns widened; formulas stay locked
    for allowed in ("insertRows", "deleteRows", "formatColumns", "formatRows", "sort", "autoFilter"):
        setattr(ws.protection, allowed, False)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:2"
    ws.page_margins.left = ws.page_margins.right = 0.4


def _unit_of(template, block, r):
    dim = template.dims.get(block.rows) if block.rows else None
    if block.unit == "number" and dim is not None and dim.units:
        return dim.units[r - 1]
    return block.unit


def _style_cell(cell, template, block, r, lang):
    """Inputs yellow and unlocked, HQ's figures grey, computed cells locked.

    A workbook has a handful of distinct cell styles; each is built once and copied,
    since openpyxl's per-attribute assignment costs most of the generation time.
    """
    unit = _unit_of(template, block, r)
    key = (unit, block.role)
    cache = cell.parent.parent.__dict__.setdefault("_xlplan_styles", {})
    if key in cache:
        cell._style = copy(cache[key])
        return
    cell.number_format = styles.NUMBER_FORMATS[unit]
    cell.border = styles.BOX
    if block.role == "input":
        cell.fill = styles.INPUT_FILL
        cell.font = styles.INPUT_FONT
        cell.protection = styles.UNLOCKED
    elif block.role == "given":
        cell.fill = styles.GIVEN_FILL
        cell.protection = styles.LOCKED
    else:
        cell.font = styles.COMPUTED_FONT
        cell.protection = styles.LOCKED
    if unit == "text" and block.role != "computed":
        cell.alignment = styles.WRAP
    cache[key] = copy(cell._style)


def _fill_block(ws, template, layout, block, lang):
    """Write the formulas (computed) or leave the cells blank (inputs), styled."""
    place = layout.places[block.name]
    formulas = excel_formulas(template, lang).get(block.name)
    for r in range(1, place.nrows + 1):
        for c in range(1, place.ncols + 1):
            cell = ws.cell(place.row + r - 1, place.col + c - 1)
            _style_cell(cell, template, block, r, lang)
            if formulas is not None:
                cell.value = formulas[r - 1][c - 1]
    if block.highlight_nonzero:
        top = f"{get_column_letter(place.col)}{place.row}"
        ref = f"{top}:{get_column_letter(place.col + place.ncols - 1)}{place.row + place.nrows - 1}"
        ws.conditional_formatting.add(ref, FormulaRule(
            formula=[f'AND(ISNUMBER({top}),ABS({top})>0.005)'], fill=styles.GAP_FILL))
    _validate(ws, template, layout, block, lang)  # also shows the block's help as the input message


def _header(ws, row, col, label):
    cell = ws.cell(row, col, label)
    cell.fill = styles.HEADER_FILL
    cell.font = styles.HEADER_FONT
    cell.alignment = styles.CENTER
    cell.border = styles.BOX
    return cell


def _unit_label(template, block, lang, r=1):
    return unit_text(_unit_of(template, block, r), lang)


def unit_text(unit: str, lang: str) -> str:
    """What the unit-of-measure column shows: 元, 萬元, % ...; nothing for text, counts and plain numbers."""
    key = f"uom_{unit}"
    return texts.t(key, lang) if key in texts.TEXTS and unit != "count" else ""


def _section_form(ws, template, layout, place, lang):
    width = 16
    for block in place.section.blocks:
        p = layout.places[block.name]
        for r in range(1, p.nrows + 1):
            label = text(block.label, lang)
            if block.rows:
                label = f"{label} {template.dims[block.rows].label(lang, r - 1)}"
            ws.cell(p.row + r - 1, LABEL_COL, label)
            ws.cell(p.row + r - 1, UNIT_COL, _unit_label(template, block, lang, r))
        _fill_block(ws, template, layout, block, lang)
        width = max(width, block.width or 0)
    _widen(ws, VALUE_COL, width)


def _widen(ws, col, width):
    letter = get_column_letter(col)
    current = ws.column_dimensions[letter].width or 0
    ws.column_dimensions[letter].width = max(current, width)


def _section_columns(ws, template, layout, place, lang):
    section = place.section
    dim = template.dims[section.rows]
    _header(ws, place.header_row, LABEL_COL, text(section.title, lang))
    _header(ws, place.header_row, UNIT_COL, t("unit_of_measure", lang))
    for k in range(dim.size):
        ws.cell(place.first_row + k, LABEL_COL, dim.label(lang, k))
        if dim.units:
            ws.cell(place.first_row + k, UNIT_COL, unit_text(dim.units[k], lang))
    for block in section.blocks:
        p = layout.places[block.name]
        unit = _unit_label(template, block, lang) if not dim.units else ""
        _header(ws, place.header_row, p.col, text(block.label, lang) + (f" ({unit})" if unit else ""))
        _fill_block(ws, template, layout, block, lang)
        _widen(ws, p.col, block.width or 13)
    if section.totals:
        ws.cell(place.last_row, LABEL_COL, text(section.total_label, lang)).font = styles.SECTION_FONT
        for block in section.totals:
            _fill_block(ws, template, layout, block, lang)
            p = layout.places[block.name]
            ws.cell(p.row, p.col).fill = styles.TOTAL_FILL


def _section_rows(ws, template, layout, place, lang):
    section = place.section
    dim = template.dims[section.cols]
    _header(ws, place.header_row, LABEL_COL, text(section.title, lang))
    _header(ws, place.header_row, UNIT_COL, t("unit_of_measure", lang))
    for k in range(dim.size):
        _header(ws, place.header_row, VALUE_COL + k, dim.label(lang, k))
        _widen(ws, VALUE_COL + k, 10)
    if any(b.beside for b in section.blocks):
        quarters = template.dims["quarter"]
        for k in range(quarters.size):
            _header(ws, place.header_row, VALUE_COL + dim.size + k, quarters.label(lang, k))
            _widen(ws, VALUE_COL + dim.size + k, 11)
        _header(ws, place.header_row, VALUE_COL + dim.size + quarters.size, t("year", lang))
        _widen(ws, VALUE_COL + dim.size + quarters.size, 12)
    for block in section.blocks:
        p = layout.places[block.name]
        if not block.beside:
            for r in range(1, p.nrows + 1):
                label = text(block.label, lang)
                if block.rows:
                    label = f"{label} · {template.dims[block.rows].label(lang, r - 1)}"
                ws.cell(p.row + r - 1, LABEL_COL, label)
                ws.cell(p.row + r - 1, UNIT_COL, _unit_label(template, block, lang))
        _fill_block(ws, template, layout, block, lang)


def _section_table(ws, template, layout, place, lang):
    section = place.section
    tplace = layout.tables[section.table]
    columns = []
    for k, block in enumerate(section.blocks):
        _header(ws, tplace.header_row, tplace.first_col + k, layout.header(block.name))
        _widen(ws, tplace.first_col + k, block.width or 11)
        column = TableColumn(id=k + 1, name=layout.header(block.name))
        if block.formula:
            renderer = formula.ExcelRenderer(layout, set(template.blocks), block.name, structured=True)
            ctx = formula.Context(block.name, block.table, {}, ws.title, row=1)
            column.calculatedColumnFormula = TableFormula(
                attr_text=renderer.render(formula.parse(str(block.formula), block.name), ctx))
        columns.append(column)
        _fill_block(ws, template, layout, block, lang)
        if block.collapsed:
            letter = get_column_letter(tplace.first_col + k)
            ws.column_dimensions.group(letter, letter, outline_level=1, hidden=True)
    table = Table(displayName=section.table, ref=tplace.ref, tableColumns=columns)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=False)
    ws.add_table(table)


# -- validation -------------------------------------------------------------------
def _validation_for(block: Block, layout: Layout, lang: str) -> DataValidation | None:
    if block.role != "input":
        return None
    unit = block.unit
    kw: dict[str, Any] = dict(allow_blank=True, showErrorMessage=True, errorTitle=t("invalid", lang))
    if unit == "choice" and block.choices:
        if isinstance(block.choices, str):
            source = f"={block.choices}"
        else:
            source = '"' + ",".join(block.choices) + '"'
        dv = DataValidation(type="list", formula1=source, error=t("choose_from_list", lang), **kw)
    elif unit == "month":
        dv = DataValidation(type="whole", operator="between", formula1="1", formula2="12",
                            error=t("month_1_12", lang), **kw)
    elif unit == "percent" or block.minimum is not None or block.maximum is not None:
        lo = block.minimum if block.minimum is not None else 0
        hi = block.maximum if block.maximum is not None else (1 if unit == "percent" else None)
        if hi is None:
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1=str(lo),
                                error=t("number_at_least", lang).format(lo=lo), **kw)
        else:
            message = (t("share_between", lang) if unit == "percent" and (lo, hi) == (0, 1)
                       else t("number_between", lang).format(lo=lo, hi=hi))
            dv = DataValidation(type="decimal", operator="between", formula1=str(lo), formula2=str(hi),
                                error=message, **kw)
    elif unit in ("yuan", "wan", "count", "number", "score", "seconds"):
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                            error=t("number_at_least", lang).format(lo=0), **kw)
    else:
        dv = None
    help_text = text(block.help, lang)
    if help_text:
        if dv is None:
            dv = DataValidation(type=None, allow_blank=True)
        dv.showInputMessage = True
        dv.promptTitle = text(block.label, lang)[:32]
        dv.prompt = help_text[:255]
    return dv


def _validate(ws, template, layout, block, lang):
    dv = _validation_for(block, layout, lang)
    if dv is None:
        return
    p = layout.places[block.name]
    ref = f"{get_column_letter(p.col)}{p.row}:{get_column_letter(p.col + p.ncols - 1)}{p.row + p.nrows - 1}"
    ws.add_data_validation(dv)
    dv.add(ref)


# -- names, checks sheet, metadata ---------------------------------------------------
def _defined_names(wb, template, layout):
    for name, block in template.blocks.items():
        if block.table:
            continue
        wb.defined_names[name] = DefinedName(name, attr_text=layout.defined_name(name))


def _checks_sheet(wb, template, cycle):
    lang = cycle.lang
    ws = wb.create_sheet(checks_sheet_title(lang))
    ws.sheet_view.showGridLines = False
    ws.cell(1, 1, f"{text(template.title, lang)} · {checks_sheet_title(lang)}").font = styles.TITLE_FONT
    ws.cell(2, 1, t("checks_note", lang)).font = styles.NOTE_FONT
    for k, key in enumerate(CHECK_COLUMNS):
        _header(ws, 4, k + 1, t(f"col_{key}", lang))
    for letter, width in zip("ABCDE", (10, 24, 80, 22, 12)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    _protect_and_print(ws)


def _meta_sheet(wb, template, cycle, given: dict):
    ws = wb.create_sheet(META_SHEET)
    for r, (key, value) in enumerate(meta_rows(template, cycle, given), start=1):
        ws.cell(r, 1, key)
        _put_value(ws.cell(r, 2), value)  # a unit named "=..." stays a name
        ws.cell(r, 2).number_format = "@"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True


# -- pre-filling inputs -----------------------------------------------------------
def fill_inputs(wb, template: Template, layout: Layout, data: dict, where: str) -> None:
    """Write input values given as {block: scalar | list | 2-D list, table: [ {column: value} ]}."""
    tables = template.tables
    for key, value in data.items():
        if key in tables:
            _fill_table(wb, template, layout, key, value, where)
            continue
        block = template.blocks.get(key)
        if block is None or block.table:
            raise TemplateError(f"{where}: {key!r} is not an input of {template.id} "
                                f"(see `xlplan describe {template.id}`)")
        if block.role == "computed":
            raise TemplateError(f"{where}: {key!r} is computed in {template.id}; it cannot be pre-filled")
        p = layout.places[key]
        grid = _as_grid(value, p.nrows, p.ncols, f"{where} › {key}")
        ws = wb[p.sheet]
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                _put_value(ws.cell(p.row + r, p.col + c), v)


def _put_value(cell, value) -> None:
    """A pre-filled value; text stays text even when it begins with =, +, - or @ (never a formula)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def _as_grid(value, nrows, ncols, where):
    if not isinstance(value, list):
        grid = [[value]]
    elif value and all(isinstance(v, list) for v in value):
        grid = value
    elif nrows == 1:
        grid = [value]
    else:
        grid = [[v] for v in value]
    if len(grid) > nrows or any(len(row) > ncols for row in grid):
        raise TemplateError(f"{where}: {len(grid)}×{max(len(r) for r in grid)} values do not fit "
                            f"a block of {nrows}×{ncols}")
    return grid


def _fill_table(wb, template, layout, table, rows, where):
    tplace = layout.tables[table]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TemplateError(f"{where}: {table!r} takes a list of rows, each a mapping column → value")
    if len(rows) > tplace.nrows:
        raise TemplateError(f"{where}: {table!r} has room for {tplace.nrows} rows, {len(rows)} given")
    ws = wb[tplace.sheet]
    short = {name.split(".", 1)[1]: col for name, col in tplace.columns.items()}
    for i, row in enumerate(rows):
        for column, v in row.items():
            if column not in short:
                raise TemplateError(f"{where}: {table}[{i}] has no column {column!r} "
                                    f"(columns: {', '.join(short)})")
            block = template.blocks[f"{table}.{column}"]
            if block.role == "computed":
                raise TemplateError(f"{where}: {table}.{column} is computed; it cannot be pre-filled")
            _put_value(ws.cell(tplace.header_row + 1 + i, short[column]), v)

