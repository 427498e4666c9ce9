"""Template → a workbook a clerk can fill in: styled, validated, protected, with live formulas."""
from __future__ import annotations

import re

from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import PatternFill
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from ..model import MEASURES, TOLERANCE, Block, Template, TemplateError, text
from .. import texts
from ..texts import t
from . import compute, formula, paper, styles
from .cycle import Cycle, meta_rows
from .layout import (
    CHECK_COLUMNS,
    CHECKS_HEADER_ROW,
    FIRST_CHECK_ROW,
    LABEL_COL,
    META_SHEET,
    UNIT_COL,
    VALUE_COL,
    Layout,
    checks_sheet_title,
    excel_formulas,
    identifying_blocks,
    layout_for,
    quote,
)


def build_workbook(template: Template, cycle: Cycle, data: dict | None = None) -> Workbook:
    layout = layout_for(template, cycle.lang)
    wb = new_workbook(cycle.lang)
    designs: dict[str, Design] = {}
    _instructions_sheet(wb, template, cycle, designs)
    for sheet in template.sheets:
        _write_sheet(wb, template, layout, sheet, cycle, designs)
    _checks_sheet(wb, template, cycle, designs)
    _defined_names(wb, template, layout)
    prefill = {"unit_name": cycle.unit, "plan_year": cycle.year, "team_name": cycle.unit,
               "period": cycle.period or None}
    prefill = {k: v for k, v in prefill.items() if k in template.blocks and v not in (None, "")}
    defaults = {k: b.default for k, b in template.blocks.items()
                if b.default is not None and not b.table and b.role != "computed"}
    values = {**defaults, **prefill, **(data or {})}
    fill_inputs(wb, template, layout, values, where="--data")
    _meta_sheet(wb, template, cycle, _given(template, layout, values))
    shown = computed_texts(template, layout, values)
    for title, design in designs.items():
        finish_sheet(wb[title], design, cycle.unit, cycle.lang, shown.get(title))
    return wb


def computed_texts(template: Template, layout: Layout, data: dict) -> dict[str, dict[tuple[int, int], str]]:
    """What each computed text cell shows for the inputs a workbook is made with (the engine's
    values): sheet → (row, col) → text. A row's height must fit them: neither Excel nor
    LibreOffice grows a row when a formula's text changes (the calendar and the effect
    tracking copy action names)."""
    sizes = {name: section.size for name, section in template.tables.items()}
    values: dict[str, list[list]] = {}
    tables: dict[str, list] = {}
    for key, value in data.items():
        if key in template.tables:
            for i, row in enumerate(value):
                for column, v in row.items():
                    tables.setdefault(f"{key}.{column}", [None] * sizes[key])[i] = v
        elif key in template.blocks and template.blocks[key].role != "computed" and not template.blocks[key].table:
            p = layout.places[key]
            values[key] = _full_grid(value, p.nrows, p.ncols, key)
    values, tables = compute.compute_into(template, values, tables, sizes)
    out: dict[str, dict[tuple[int, int], str]] = {}
    for name, block in template.blocks.items():
        if block.role != "computed" or block.unit not in styles.TEXT_UNITS:
            continue
        p = layout.places[name]
        grid = [[v] for v in tables[name]] if block.table else values[name]
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if isinstance(v, str) and v:
                    out.setdefault(p.sheet, {})[(p.row + r, p.col + c)] = v
    return out


def new_workbook(lang: str) -> Workbook:
    """An empty workbook whose every font is the house font (styles.py), the theme naming the
    language's East Asian font."""
    from openpyxl.utils.indexed_list import IndexedList

    wb = Workbook()
    wb.remove(wb.active)
    wb._fonts = IndexedList([styles.BODY_FONT])  # the Normal style's font: cells without a style of their own
    wb.loaded_theme = styles.theme(lang)
    return wb


def _given(template: Template, layout: Layout, values: dict) -> dict:
    """Every given (HQ-set) block's cells as issued: block → rows of values."""
    out = {}
    for name, block in template.blocks.items():
        if block.role == "given" and not block.table:
            p = layout.places[name]
            out[name] = _full_grid(values.get(name), p.nrows, p.ncols, name)
    return out


def write(template: Template, cycle: Cycle, path: Path, data: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(template, cycle, data).save(path)
    return path


# -- the design of a sheet: what stays on screen and what repeats on paper ------------------
@dataclass
class Design:
    """What the generator knows about a sheet's look once its cells are written."""

    ident_cols: int = 2  # the identifying columns: frozen on screen, repeated on every page
    freeze_row: int | None = None  # the first row that scrolls (rows above stay)
    title_rows: str | None = None  # rows repeated at the top of every printed page, e.g. "5:5"
    breaks_after: set[int] | None = None  # columns after which a page may end (None: any)
    sections: list[paper.Section] = field(default_factory=list)  # rows kept on one page where they fit
    min_lines: dict[int, int] = field(default_factory=dict)  # row → lines it shows at least (text boxes)


def finish_sheet(ws, design: Design, unit: str, lang: str, shown: dict[tuple[int, int], str] | None = None) -> None:
    """Row heights from the content (`shown`: what formulas show, by (row, col)), frozen panes
    and the print design, after every value is in."""
    heights = fit_rows(ws, design.min_lines, shown)
    col = get_column_letter(design.ident_cols + 1)
    if design.freeze_row:
        ws.freeze_panes = f"{col}{design.freeze_row}"
    elif design.ident_cols:
        ws.freeze_panes = f"{col}3"
    widths = [column_width(ws, get_column_letter(c)) for c in range(1, ws.max_column + 1)]
    for c in range(1, ws.max_column + 1):
        letter = get_column_letter(c)
        if letter in ws.column_dimensions and ws.column_dimensions[letter].hidden:
            widths[c - 1] = 0.0
    for group in ws.column_dimensions.values():  # grouped (folded) columns: openpyxl keeps a range per entry
        if group.hidden and group.min and group.max:
            for c in range(group.min, group.max + 1):
                if c <= len(widths):
                    widths[c - 1] = 0.0
    paper.set_up(ws, unit=unit, lang=lang, widths=widths, title_cols=design.ident_cols,
                 title_rows=design.title_rows, allowed=design.breaks_after, heights=heights,
                 sections=design.sections, heading=heading_of(ws))


SUBTITLE_NOTE = "  —  "  # between the unit and period and a sheet's note, in the line under its title


def heading_of(ws) -> tuple[str, list[str]]:
    """The sheet's title (A1) and the line under it (A2): whole, and without the sheet's note."""
    note = ws.cell(2, 1).value
    notes = [str(note), str(note).split(SUBTITLE_NOTE)[0]] if note is not None else []
    return str(ws.cell(1, 1).value or ws.title), notes


def column_width(ws, letter: str, default: float = paper.DEFAULT_WIDTH) -> float:
    """A column's width as the generator set it, `default` where it set none (openpyxl answers
    13 for a column never sized, and asking makes it write that 13 into the file)."""
    return ws.column_dimensions[letter].width if letter in ws.column_dimensions else default


def fit_rows(ws, min_lines: dict[int, int] | None = None,
             shown: dict[tuple[int, int], str] | None = None) -> list[float]:
    """Every row's height from its wrapped text (CJK counts double): set where a row needs more
    than one line (neither Excel nor LibreOffice grows a row for wrapped text on opening a file),
    and returned for planning the pages. A text box (a narrative field) gets its lines; a formula
    counts with the text it shows (`shown`, by (row, col))."""
    min_lines = min_lines or {}
    shown = shown or {}
    widths: dict[str, float] = {}
    heights = []
    for r in range(1, ws.max_row + 1):
        texts, size = [], paper.BODY_PT
        for cell in ws[r]:
            value = cell.value
            if isinstance(value, str) and value.startswith("="):
                value = shown.get((r, cell.column))
            if value is None:
                continue
            size = max(size, (cell.font.sz or paper.BODY_PT) if cell.font else paper.BODY_PT)
            if cell.alignment is not None and cell.alignment.wrap_text:
                letter = cell.column_letter
                if letter not in widths:
                    widths[letter] = column_width(ws, letter)
                texts.append((str(value), widths[letter]))
        height = paper.fitted_height(texts, size, min_lines.get(r, 1))
        if height is not None:
            ws.row_dimensions[r].height = height
        heights.append(height or paper.row_height(1, size))
    return heights


# -- sheets ---------------------------------------------------------------------
def _write_sheet(wb, template, layout, sheet, cycle, designs):
    lang = cycle.lang
    ws = wb.create_sheet(text(sheet.title, lang))
    ws.sheet_view.showGridLines = False
    ws.cell(1, 1, f"{text(template.title, lang)} · {text(sheet.title, lang)}").font = styles.TITLE_FONT
    subtitle = f"{cycle.unit} · {cycle.period or cycle.year}"
    if sheet.note:
        subtitle += f"{SUBTITLE_NOTE}{text(sheet.note, lang)}"
    ws.cell(2, 1, subtitle).font = styles.NOTE_FONT
    design = Design()
    places = [p for p in layout.sections if p.sheet == ws.title]
    labels, units = [], []
    for place in places:
        section = place.section
        if place.title_row:
            ws.cell(place.title_row, LABEL_COL, text(section.title, lang)).font = styles.SECTION_FONT
        writer = globals()[f"_section_{section.kind}"]
        got = writer(ws, template, layout, place, lang, design)
        labels += got[0]
        units += got[1]
        design.sections.append(paper.Section(place.title_row or place.header_row or place.first_row, place.first_row,
                                             place.last_row))
    _label_columns(ws, places, labels, units)
    grids = [p for p in places if p.section.kind in ("rows", "table", "columns")]
    if grids:
        first = grids[0]
        design.ident_cols = _identifying_columns(template, first)
        if first.first_row <= 12:
            design.freeze_row = first.first_row
        design.title_rows = paper.repeated_rows([p.header_row for p in grids],
                                                [p.section.kind == "table" for p in grids])
        if first.section.kind == "rows" or any(p.section.kind == "rows" for p in grids):
            design.breaks_after = _quarter_breaks(template, grids)
    else:
        design.ident_cols = 0
    _protect(ws)
    designs[ws.title] = design


def _identifying_columns(template, place) -> int:
    """Columns that name a row: label and unit, and the leading text columns (strategy, action, name)."""
    section = place.section
    if section.kind == "rows":
        return UNIT_COL
    leading = len(identifying_blocks(section))
    if section.kind == "table":
        return max(leading, 1)
    return UNIT_COL + leading


def _quarter_breaks(template, grids) -> set[int] | None:
    """A page of a monthly sheet may end after a quarter, or after the quarters' summaries."""
    months = template.dims["month"].size
    allowed = {VALUE_COL - 1 + m for m in (3, 6, 9, 12)}
    allowed |= {VALUE_COL - 1 + months + template.dims["quarter"].size}
    widest = max((len(p.section.blocks) for p in grids if p.section.kind != "rows"), default=0)
    allowed |= set(range(VALUE_COL, VALUE_COL + widest))
    return allowed


def _label_columns(ws, places, labels, units):
    """Column A wide enough for its labels (long ones wrap), column B for the units of measure."""
    if not labels:
        return
    longest = max(paper.text_width(s) for s in labels)
    ws.column_dimensions["A"].width = max(column_width(ws, "A", 0), min(max(longest + 2, 12), 34))
    if any(units):
        widest_unit = max([paper.longest_word(s) for s in units] + [4])
        ws.column_dimensions["B"].width = max(column_width(ws, "B", 0), widest_unit + 2)
    else:
        ws.column_dimensions["B"].width = 2  # nothing is measured on this sheet


def _protect(ws):
    ws.protection.sheet = True
    # rows may be inserted and columns widened; formulas stay locked
    for allowed in ("insertRows", "deleteRows", "formatColumns", "formatRows", "sort", "autoFilter"):
        setattr(ws.protection, allowed, False)


def _unit_of(template, block, r):
    return template.row_unit(block, r)


def _is_total(template, block) -> bool:
    """Totals and summaries: a section's totals row, a month row's quarters and year."""
    if block.beside:
        return True
    return any(block in s.totals for sh in template.sheets for s in sh.sections)


def _style_cell(cell, template, block, r, total: bool):
    """Inputs yellow and unlocked, HQ's figures grey, computed cells white (`total`: blue), locked.

    A workbook has a handful of distinct cell styles; each is built once and copied,
    since openpyxl's per-attribute assignment costs most of the generation time.
    """
    unit = _unit_of(template, block, r)
    key = (unit, block.role, total)
    cache = cell.parent.parent.__dict__.setdefault("_xlplan_styles", {})
    if key in cache:
        cell._style = copy(cache[key])
        return
    textual = unit in styles.TEXT_UNITS
    cell.number_format = (styles.COMPUTED_FORMATS if block.role == "computed" else styles.NUMBER_FORMATS)[unit]
    cell.border = styles.BOX
    cell.alignment = styles.TEXT_VALUE if textual else styles.NUMBER
    if block.role == "input":
        cell.fill = styles.INPUT_FILL
        cell.font = styles.INPUT_FONT
        cell.protection = styles.UNLOCKED
    elif block.role == "given":
        cell.fill = styles.GIVEN_FILL
        cell.font = styles.BODY_FONT
        cell.protection = styles.LOCKED
    elif total:
        cell.fill = styles.TOTAL_FILL
        cell.font = styles.TOTAL_FONT
        cell.protection = styles.LOCKED
    else:
        cell.font = styles.COMPUTED_FONT
        cell.protection = styles.LOCKED
    if unit == "text" and len(block.name) and block.name.endswith("status"):
        cell.alignment = styles.CENTER  # a short verdict ("達成") beside a figure
    cache[key] = copy(cell._style)


def _fill_block(ws, template, layout, block, lang):
    """Write the formulas (computed) or leave the cells blank (inputs), styled."""
    place = layout.places[block.name]
    formulas = excel_formulas(template, lang).get(block.name)
    total = block.role == "computed" and _is_total(template, block)  # once a block, not once a cell
    for r in range(1, place.nrows + 1):
        for c in range(1, place.ncols + 1):
            cell = ws.cell(place.row + r - 1, place.col + c - 1)
            _style_cell(cell, template, block, r, total)
            if formulas is not None:
                cell.value = formulas[r - 1][c - 1]
    if block.highlight_nonzero:
        _highlight_gap(ws, template, layout, block, place)
    if block.measure:
        _measured_formats(ws, layout, block, place, lang)
    _validate(ws, template, layout, block, lang)  # also shows the block's help as the input message


def _highlight_gap(ws, template, layout, block, place):
    """A gap that should be zero turns red (error) or amber (warning) exactly when its check
    reports a finding: the check's own tolerance, so a rounding the engine accepts stays white."""
    check = _check_of_gap(template, block)
    top = f"{get_column_letter(place.col)}{place.row}"
    ref = f"{top}:{get_column_letter(place.col + place.ncols - 1)}{place.row + place.nrows - 1}"
    severity = check.severity if check else "error"
    limit = str(TOLERANCE)
    if check is not None:
        absolute = check.args.get("tolerance", TOLERANCE)
        relative = check.args.get("relative_tolerance", 0)
        expected = check.args.get("expected") or check.args.get("computed")
        if relative and isinstance(expected, str) and expected in layout.places:
            p = layout.places[expected]
            row = p.row if p.nrows == 1 else f"{place.row}"  # the one row, or the gap's own row
            col = get_column_letter(p.col) if p.ncols == 1 else get_column_letter(place.col)
            sheet = "" if p.sheet == ws.title else quote(p.sheet) + "!"
            anchor = f"{sheet}${col}${row}" if p.nrows == 1 else f"{sheet}{col}{row}"
            limit = f"MAX({absolute},{relative}*ABS({anchor}))"
        else:
            limit = str(absolute)
    ws.conditional_formatting.add(ref, FormulaRule(
        formula=[f"AND(ISNUMBER({top}),ABS({top})>{limit})"], fill=styles.FINDING_FILL[severity],
        font=styles.FINDING_FONT[severity]))


def _measured_formats(ws, layout, block, place, lang):
    """Each row of a block with `measure:` shows its number as the unit chosen in that row: a
    conditional number format per unit of measure (a share 84.0%, an amount 12,000), the block's
    own format where the row chose none or a plain number."""
    measure = layout.places[block.measure]
    if measure.sheet != place.sheet:
        raise TemplateError(f"{block.name}: measure {block.measure} is on another sheet")
    ref = (f"{get_column_letter(place.col)}{place.row}:"
           f"{get_column_letter(place.col + place.ncols - 1)}{place.row + place.nrows - 1}")
    chosen = f"${get_column_letter(measure.col)}{place.row}"  # the measure in the cell's own row
    formats = styles.COMPUTED_FORMATS if block.role == "computed" else styles.NUMBER_FORMATS
    for word, unit in texts.measure_words(lang).items():
        code = styles.measured_format(block.unit, unit, formats)
        if code is None:
            continue
        ws.conditional_formatting.add(ref, Rule(
            type="expression", formula=[f'{chosen}="{word}"'],
            dxf=DifferentialStyle(numFmt=NumberFormat(numFmtId=styles.DXF_FORMAT_IDS[code], formatCode=code))))


def _check_of_gap(template, block):
    """The check that compares the two blocks a gap subtracts (gap = a − b): its tolerance and severity."""
    names = formula.referenced_blocks(formula.parse(str(block.formula), block.name), block.table,
                                      set(template.blocks)) if block.formula else set()
    for check in template.checks:
        pair = {check.args.get("actual"), check.args.get("expected"), check.args.get("stated"),
                check.args.get("computed")}
        pair.discard(None)
        if len(pair) == 2 and pair <= names:
            return check
    return None


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


def _value_width(template, block, header: str = "") -> float:
    """A value column: room for its header's longest word, its largest number, or what the template asks."""
    unit = block.unit
    if unit in styles.TEXT_UNITS:
        base = block.width or 14.0
        # a computed text shows one of its formula's words ("in progress"): none wider than the column
        base = max([base] + [paper.longest_word(w) + 1.5 for w in _formula_words(template, block)])
    else:
        base = max(_number_width(u) for u in _units_shown(template, block))
    # a short heading stays on one line; a long one wraps between words, never inside one
    heading = min(paper.text_width(header) + 2, max(paper.longest_word(header) + 2, 14))
    return max(block.width or 0, base, heading, paper.longest_word(header) + 2)


def _formula_words(template, block, seen: frozenset = frozenset()) -> set[str]:
    """Every text a computed block's formula quotes, and those of the computed text blocks it copies
    (the tracking sheet's copy of an effect's status): the texts it may show, and also those it
    only compares against (an effect's kind, "milestone"). Its column is made as wide as the
    longest word among them: a little generous where a compared word is the longest."""
    if not block.formula or block.name in seen:
        return set()
    words = set(re.findall(r'"([^"]*)"', block.formula))
    for name in formula.referenced_blocks(formula.parse(block.formula, block.name), block.table,
                                          set(template.blocks)):
        other = template.blocks[name]
        if other.unit in ("text", "choice"):
            words |= _formula_words(template, other, seen | {block.name})
    return words


def _units_shown(template, block) -> set[str]:
    """Every unit a number block's cells may show: its own, its rows' (the targets' amounts and
    shares), or any a row may choose where it takes its unit from a measure."""
    units = {block.unit}
    dim = template.dims.get(block.rows) if block.rows else None
    if block.unit == "number" and dim is not None and dim.units:
        units |= set(dim.units)
    if block.measure:
        units |= set(MEASURES)
    return units


def _number_width(unit: str) -> float:
    """Room for the largest figure of a unit in its number format, e.g. 99,999.99 in 萬元."""
    if unit == "percent":
        return 9.5  # 100.0% beside the indent: LibreOffice shows ### below 8.5
    largest = styles.LARGEST.get(unit, 99_999)
    fmt_ = styles.NUMBER_FORMATS.get(unit, "General")
    shown = f"{largest:,.2f}" if "0.00" in fmt_ else f"{int(largest):,}"
    return paper.text_width(shown) + 2


def _set_width(ws, col, width):
    letter = get_column_letter(col)
    ws.column_dimensions[letter].width = max(column_width(ws, letter, 0), width)


def _section_form(ws, template, layout, place, lang, design):
    labels, units = [], []
    width = 16.0
    for block in place.section.blocks:
        p = layout.places[block.name]
        for r in range(1, p.nrows + 1):
            label = text(block.label, lang)
            if block.rows:
                label = f"{label} {template.dims[block.rows].label(lang, r - 1)}"
            ws.cell(p.row + r - 1, LABEL_COL, label).alignment = styles.LABEL
            unit = _unit_label(template, block, lang, r)
            ws.cell(p.row + r - 1, UNIT_COL, unit).alignment = styles.LABEL
            labels.append(label)
            units.append(unit)
            if block.lines > 1:  # a narrative the template sizes: vision, situation, a monthly review
                design.min_lines[p.row + r - 1] = block.lines
            elif block.unit == "text" and (block.width or 0) >= 40 and p.nrows == 1:
                design.min_lines[p.row] = 5  # a narrative: mission, situation, principles
        _fill_block(ws, template, layout, block, lang)
        width = max(width, _value_width(template, block))
    _set_width(ws, VALUE_COL, width)
    return labels, units


def _section_columns(ws, template, layout, place, lang, design):
    section = place.section
    dim = template.dims[section.rows]
    labels, units = [text(section.title, lang)], []
    _header(ws, place.header_row, LABEL_COL, text(section.title, lang))
    if dim.units or any(_unit_label(template, b, lang) for b in section.blocks):
        _header(ws, place.header_row, UNIT_COL, t("unit_of_measure", lang))
        units.append(t("unit_of_measure", lang))
    else:
        _header(ws, place.header_row, UNIT_COL, "")  # no units here: the column stays narrow
    for k in range(dim.size):
        ws.cell(place.first_row + k, LABEL_COL, dim.label(lang, k)).alignment = styles.LABEL
        labels.append(dim.label(lang, k))
        if dim.units:
            unit = unit_text(dim.units[k], lang)
            ws.cell(place.first_row + k, UNIT_COL, unit).alignment = styles.LABEL
            units.append(unit)
    for block in section.blocks:
        p = layout.places[block.name]
        unit = _unit_label(template, block, lang) if not dim.units else ""
        header = text(block.label, lang) + (f"\n({unit})" if unit else "")
        _header(ws, place.header_row, p.col, header)
        _fill_block(ws, template, layout, block, lang)
        _set_width(ws, p.col, _value_width(template, block, header))
    if section.totals:
        total = ws.cell(place.last_row, LABEL_COL, text(section.total_label, lang))
        total.font = styles.SECTION_FONT
        labels.append(total.value)
        for block in section.totals:
            _fill_block(ws, template, layout, block, lang)
    return labels, units


def _section_rows(ws, template, layout, place, lang, design):
    section = place.section
    dim = template.dims[section.cols]
    labels, units = [text(section.title, lang)], [t("unit_of_measure", lang)]
    _header(ws, place.header_row, LABEL_COL, text(section.title, lang))
    _header(ws, place.header_row, UNIT_COL, t("unit_of_measure", lang))
    widest = max((_value_width(template, b) for b in section.blocks), default=10)
    for k in range(dim.size):
        _header(ws, place.header_row, VALUE_COL + k, dim.label(lang, k))
        _set_width(ws, VALUE_COL + k, widest)
    if any(b.beside for b in section.blocks):
        quarters = template.dims["quarter"]
        for k in range(quarters.size):
            _header(ws, place.header_row, VALUE_COL + dim.size + k, quarters.label(lang, k))
            _set_width(ws, VALUE_COL + dim.size + k, widest)
        _header(ws, place.header_row, VALUE_COL + dim.size + quarters.size, t("year", lang))
        _set_width(ws, VALUE_COL + dim.size + quarters.size, widest + 1)
    for block in section.blocks:
        p = layout.places[block.name]
        if not block.beside:
            for r in range(1, p.nrows + 1):
                label = text(block.label, lang)
                if block.rows:
                    label = f"{label} · {template.dims[block.rows].label(lang, r - 1)}"
                ws.cell(p.row + r - 1, LABEL_COL, label).alignment = styles.LABEL
                unit = _unit_label(template, block, lang)
                ws.cell(p.row + r - 1, UNIT_COL, unit).alignment = styles.LABEL
                labels.append(label)
                units.append(unit)
        _fill_block(ws, template, layout, block, lang)
    return labels, units


def _section_table(ws, template, layout, place, lang, design):
    section = place.section
    tplace = layout.tables[section.table]
    columns = []
    for k, block in enumerate(section.blocks):
        heading = layout.header(block.name)
        _header(ws, tplace.header_row, tplace.first_col + k, heading)
        _set_width(ws, tplace.first_col + k, _value_width(template, block, heading))
        column = TableColumn(id=k + 1, name=heading)
        if block.formula:
            renderer = formula.ExcelRenderer(layout, set(template.blocks), block.name, structured=True)
            ctx = formula.Context(block.name, block.table, {}, ws.title, row=1)
            column.calculatedColumnFormula = TableFormula(
                attr_text=renderer.render(formula.parse(str(block.formula), block.name), ctx))
        columns.append(column)
        _fill_block(ws, template, layout, block, lang)
        if block.collapsed and not _column_shared(layout, ws.title, tplace.first_col + k, block):
            letter = get_column_letter(tplace.first_col + k)
            ws.column_dimensions.group(letter, letter, outline_level=1, hidden=True)
    table = Table(displayName=section.table, ref=tplace.ref, tableColumns=columns)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=False)
    ws.add_table(table)
    return [], []


def _column_shared(layout, sheet: str, col: int, block) -> bool:
    """Whether another block that is not folded away sits in sheet column `col` (a table under
    another one shares its columns: folding a detail column of the lower table would hide a
    column of the upper one)."""
    for name, area in layout.places.items():
        other = layout.blocks.get(name)
        if (name != block.name and area.sheet == sheet and area.col <= col < area.col + area.ncols
                and not (other is not None and other.collapsed)):
            return True
    return False


# -- validation -------------------------------------------------------------------
def _validation_for(block: Block, layout: Layout, lang: str) -> DataValidation | None:
    if block.role != "input":
        return None
    unit = block.unit
    kw: dict[str, Any] = dict(allow_blank=True, showErrorMessage=True, errorTitle=t("invalid", lang))
    if unit == "measure":
        dv = DataValidation(type="list", formula1='"' + ",".join(texts.measure_words(lang)) + '"',
                            error=t("choose_from_list", lang), **kw)
    elif unit == "choice" and block.choices:
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


def _checks_sheet(wb, template, cycle, designs):
    lang = cycle.lang
    ws = wb.create_sheet(checks_sheet_title(lang))
    ws.sheet_view.showGridLines = False
    ws.cell(1, 1, f"{text(template.title, lang)} · {checks_sheet_title(lang)}").font = styles.TITLE_FONT
    ws.cell(2, 1, t("checks_note", lang)).font = styles.NOTE_FONT
    for k, column in enumerate(CHECK_COLUMNS, start=1):
        _header(ws, CHECKS_HEADER_ROW, k, t(column.heading, lang))
        ws.column_dimensions[get_column_letter(k)].width = column.width
    _protect(ws)
    designs[ws.title] = Design(ident_cols=0, freeze_row=FIRST_CHECK_ROW,
                               title_rows=f"{CHECKS_HEADER_ROW}:{CHECKS_HEADER_ROW}")


def _instructions_sheet(wb, template, cycle, designs):
    """The first sheet: what to fill in, what the colours mean, how to recalculate, the deadline
    and whom to ask (the cycle's `due` and `contact` parameters) and, for an appraisal, its
    purpose, principles and process."""
    lang = cycle.lang
    ws = wb.create_sheet(t("instructions_sheet", lang))
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 96
    ws.cell(1, 1, f"{text(template.title, lang)} · {t('instructions_sheet', lang)}").font = styles.TITLE_FONT
    ws.cell(2, 1, f"{cycle.unit} · {cycle.period or cycle.year}").font = styles.NOTE_FONT
    params = cycle.params or {}
    row = 4

    def heading(key):
        nonlocal row
        ws.cell(row, 1, t(key, lang)).font = styles.SECTION_FONT
        row += 1

    def line(label, body, style=None):
        nonlocal row
        a = ws.cell(row, 1, label)
        a.alignment = styles.LABEL
        if style is not None:
            fill, font = style
            a.fill, a.font, a.border = fill, font, styles.BOX
            a.alignment = styles.CENTER
        b = ws.cell(row, 2, body)
        b.alignment = styles.WRAP
        b.data_type = "s"
        row += 1

    heading("ins_what")
    line("", t("ins_what_text", lang))
    row += 1
    heading("ins_colours")
    sample = t("ins_sample", lang)
    for key, style in (("ins_input", (styles.INPUT_FILL, styles.INPUT_FONT)),
                       ("ins_given", (styles.GIVEN_FILL, styles.BODY_FONT)),
                       ("ins_computed", (PatternFill(fill_type=None), styles.COMPUTED_FONT)),
                       ("ins_total", (styles.TOTAL_FILL, styles.TOTAL_FONT)),
                       ("ins_error", (styles.FINDING_FILL["error"], styles.FINDING_FONT["error"])),
                       ("ins_warning", (styles.FINDING_FILL["warning"], styles.FINDING_FONT["warning"]))):
        line(sample, t(key, lang), style)
    row += 1
    heading("ins_recalc")
    line("", t("ins_recalc_text", lang))
    row += 1
    heading("ins_sheets")
    for sheet in template.sheets:
        parts = [text(sec.title, lang) for sec in sheet.sections if sec.title]
        body = "、".join(parts) if lang.startswith("zh") else "; ".join(parts)
        if sheet.note:
            body = f"{text(sheet.note, lang)} {body}"
        line(text(sheet.title, lang), body)
    line(checks_sheet_title(lang), t("checks_note", lang))
    row += 1
    line(t("ins_deadline", lang), str(params.get("due") or t("ins_not_set", lang)))
    line(t("ins_contact", lang), str(params.get("contact") or t("ins_not_set", lang)))
    if "appraisal" in template.instructions:
        for key in ("ins_purpose", "ins_principles", "ins_process"):
            row += 1
            heading(key)
            line("", t(f"{key}_text", lang))
    _protect(ws)
    designs[ws.title] = Design(ident_cols=0)


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


def _full_grid(value, nrows, ncols, where) -> list[list]:
    """A block's values as its whole nrows × ncols grid, None in the cells they leave out."""
    grid: list[list] = [[None] * ncols for _ in range(nrows)]
    if value is not None:
        for r, row in enumerate(_as_grid(value, nrows, ncols, where)):
            grid[r][:len(row)] = row
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

