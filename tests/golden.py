"""Compare two workbooks on content: what a user sees and what Excel enforces.

Both workbooks are read back with openpyxl and flattened into one mapping
`(sheet, where, aspect) -> value` — cell values and formulas, number formats, fills,
fonts, protection, names, tables, validations, conditional formats, merged cells,
panes, print setup and column widths. Two workbooks are the same when the mappings
are, apart from the ignore rules in IGNORED below (each says why). Everything else in
the file — zip order, XML attribute order, timestamps in docProps — is not content
and never compared.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import openpyxl
from openpyxl.utils import get_column_letter

from xlplan.template import generate, spec
from xlplan.template.layout import META_SHEET

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
LANGS = ("zh-Hans", "zh-Hant", "en")

Key = tuple[str, str, str]  # (sheet or "" for the workbook, where, aspect)
Content = dict[Key, Any]

PROTECTION_FLAGS = ("sheet", "objects", "scenarios", "formatCells", "formatColumns", "formatRows",
                    "insertColumns", "insertRows", "insertHyperlinks", "deleteColumns", "deleteRows",
                    "selectLockedCells", "selectUnlockedCells", "sort", "autoFilter", "pivotTables",
                    "password")


def sample_cycle(template_id: str, lang: str) -> generate.Cycle:
    """The cycle golden files and parity tests use: a sample unit, 2027, January for monthly templates."""
    unit = {"zh-Hans": "示例营业部", "zh-Hant": "示範營業部"}.get(lang, "Sample branch")
    template = spec.load(template_id, {"lang": lang})
    period = "2027-01" if "period" in template.blocks else ""
    return generate.Cycle(unit=unit, year=2027, lang=lang, period=period)


def cases() -> list[tuple[str, str]]:
    """(template, language) of every golden file: every template, both languages."""
    return [(template_id, lang) for template_id in sorted(spec.available()) for lang in LANGS]


def golden_path(template_id: str, lang: str) -> Path:
    return GOLDEN_DIR / f"{template_id}.{lang}.xlsx"


def write_case(template_id: str, lang: str, path: Path) -> Path:
    """The workbook the generator makes today for a golden case."""
    cycle = sample_cycle(template_id, lang)
    return generate.write(spec.load(template_id, cycle.template_params()), cycle, path)


def _generator_line(key: Key, content: Content) -> bool:
    sheet, where, aspect = key
    return (sheet == META_SHEET and aspect == "value" and where.startswith("B")
            and content.get((sheet, "A" + where[1:], "value")) == "generator")


# Rules for differences that are not differences in content: (rule, why).
IGNORED: tuple[tuple[Callable[[Key, Content], bool], str], ...] = (
    (_generator_line, "the metadata sheet names the xlplan version that made the workbook, "
                      "which changes with every release without changing the workbook"),
)


def _colour(color) -> str | None:
    if color is None:
        return None
    if color.type == "rgb":
        return str(color.rgb)
    if color.type == "theme":
        return f"theme {color.theme} tint {color.tint}"
    return f"indexed {color.indexed}"


def _cells(ws, out: Content) -> None:
    for row in ws.iter_rows():
        for cell in row:
            at = (ws.title, cell.coordinate)
            if cell.value is not None:
                out[(*at, "value")] = cell.value
            if cell.number_format != "General":
                out[(*at, "number format")] = cell.number_format
            if cell.fill is not None and cell.fill.fill_type:
                out[(*at, "fill")] = f"{cell.fill.fill_type} {_colour(cell.fill.fgColor)}"
            font = cell.font
            colour = _colour(font.color) if font is not None else None
            if colour:
                out[(*at, "font colour")] = colour
            if font is not None and font.b:
                out[(*at, "bold")] = True
            if font is not None and font.i:
                out[(*at, "italic")] = True
            if font is not None and font.sz not in (None, 11):
                out[(*at, "font size")] = float(font.sz)
            if cell.protection is not None and not cell.protection.locked:
                out[(*at, "unlocked")] = True
            if cell.alignment is not None and cell.alignment.wrap_text:
                out[(*at, "wrap")] = True
            if cell.alignment is not None and cell.alignment.horizontal:
                out[(*at, "align")] = cell.alignment.horizontal
            if cell.border is not None and cell.border.left is not None and cell.border.left.style:
                out[(*at, "border")] = cell.border.left.style


def _sheet(ws, out: Content) -> None:
    name = ws.title
    out[(name, "sheet", "state")] = ws.sheet_state
    out[(name, "sheet", "gridlines")] = ws.sheet_view.showGridLines
    out[(name, "sheet", "freeze panes")] = ws.freeze_panes
    for flag in PROTECTION_FLAGS:
        out[(name, "protection", flag)] = getattr(ws.protection, flag)
    setup = ws.page_setup
    out[(name, "print", "orientation")] = setup.orientation
    out[(name, "print", "paper size")] = setup.paperSize
    out[(name, "print", "fit to width")] = setup.fitToWidth
    out[(name, "print", "fit to height")] = setup.fitToHeight
    out[(name, "print", "fit to page")] = ws.sheet_properties.pageSetUpPr.fitToPage \
        if ws.sheet_properties.pageSetUpPr is not None else None
    out[(name, "print", "title rows")] = ws.print_title_rows
    out[(name, "print", "title columns")] = ws.print_title_cols
    out[(name, "print", "area")] = ws.print_area
    out[(name, "print", "scale")] = setup.scale
    out[(name, "print", "column breaks")] = tuple(b.id for b in ws.col_breaks.brk)
    out[(name, "print", "row breaks")] = tuple(b.id for b in ws.row_breaks.brk)
    out[(name, "print", "footer")] = tuple(part.text for part in (ws.oddFooter.left, ws.oddFooter.center,
                                                                     ws.oddFooter.right))
    margins = ws.page_margins
    out[(name, "print", "margins")] = (margins.left, margins.right, margins.top, margins.bottom)
    out[(name, "merged", "ranges")] = tuple(sorted(str(r) for r in ws.merged_cells.ranges))
    for key, dim in ws.column_dimensions.items():
        if dim.width is None:
            continue
        # openpyxl reads a run of equal columns as one dimension covering min..max
        for col in range(dim.min or openpyxl.utils.column_index_from_string(key), (dim.max or 0) + 1):
            out[(name, f"column {get_column_letter(col)}", "width")] = round(dim.width, 4)
    for table in ws.tables.values():
        where = f"table {table.displayName}"
        out[(name, where, "ref")] = table.ref
        out[(name, where, "style")] = table.tableStyleInfo.name if table.tableStyleInfo else None
        out[(name, where, "columns")] = tuple(c.name for c in table.tableColumns)
        for column in table.tableColumns:
            if column.calculatedColumnFormula is not None:
                out[(name, where, f"formula of {column.name}")] = column.calculatedColumnFormula.attr_text
    seen: dict[str, int] = {}
    for dv in ws.data_validations.dataValidation:
        ref = str(dv.sqref)
        seen[ref] = seen.get(ref, 0) + 1
        where = f"validation {ref}" + (f" #{seen[ref]}" if seen[ref] > 1 else "")
        for aspect in ("type", "operator", "formula1", "formula2", "allow_blank", "showErrorMessage",
                       "errorTitle", "error", "showInputMessage", "promptTitle", "prompt"):
            out[(name, where, aspect)] = getattr(dv, aspect)
    for cf in ws.conditional_formatting:
        rules = []
        for rule in cf.rules:
            fill = rule.dxf.fill if rule.dxf is not None else None
            colour = _colour(fill.fgColor) or _colour(fill.bgColor) if fill is not None else None
            shown = rule.dxf.numFmt.formatCode if rule.dxf is not None and rule.dxf.numFmt is not None else None
            rules.append((rule.type, rule.operator, tuple(rule.formula or ()), colour, shown))
        out[(name, f"conditional format {cf.sqref}", "rules")] = tuple(rules)


def content(path: Path | str) -> Content:
    """Everything compared, as one flat mapping."""
    wb = openpyxl.load_workbook(path)
    out: Content = {("", "workbook", "sheets"): tuple(wb.sheetnames)}
    for name, defined in wb.defined_names.items():
        out[("", f"name {name}", "target")] = defined.attr_text
    for ws in wb.worksheets:
        for name, defined in ws.defined_names.items():
            out[(ws.title, f"name {name}", "target")] = defined.attr_text
        _sheet(ws, out)
        _cells(ws, out)
    return out


def compare_workbooks(expected: Path | str, actual: Path | str) -> list[str]:
    """Every difference in content between two workbooks, one line each, in sheet order."""
    want, got = content(expected), content(actual)
    differences = []
    order = {name: k for k, name in enumerate(want[("", "workbook", "sheets")])}
    def natural(key):  # sheets in workbook order, then A2 before A10
        sheet, where, aspect = key
        return (order.get(sheet, len(order)), sheet,
                [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", where)], aspect)

    for key in sorted(set(want) | set(got), key=natural):
        a, b = want.get(key), got.get(key)
        if a == b or any(rule(key, want) or rule(key, got) for rule, _ in IGNORED):
            continue
        sheet, where, aspect = key
        differences.append(f"{sheet or 'workbook'} › {where}: {aspect} is {b!r}, golden file has {a!r}")
    return differences
