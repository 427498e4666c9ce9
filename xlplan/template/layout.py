"""Where every block sits in the workbook the generator makes.

The layout is worked out from the template alone, so the generator and the formula
compiler agree on addresses. The engine never uses it to *read* a workbook: it finds
blocks by their defined names and tables, which move with rows a user inserts.

Every sheet: a title on row 1, a subtitle on row 2, sections from row 4 down, labels in
column A, units in column B, values from column C. A table starts in column A.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Mapping

from openpyxl.utils import get_column_letter

from ..model import Block, Section, Template, text
from ..texts import t
from . import formula, paper

FIRST_ROW = 4
LABEL_COL = 1
UNIT_COL = 2
VALUE_COL = 3
META_SHEET = "_xlplan"  # the hidden sheet with the template, version, unit and cycle


@dataclass(frozen=True)
class Area:
    """A rectangle of cells on a sheet, 1-based and inclusive: where a block sits.

    The generator's layout places blocks with it, and the reader describes with it where it
    found each block in a workbook (by its defined name), which may differ.
    """

    sheet: str
    row: int
    col: int
    nrows: int
    ncols: int

    def address(self, r: int = 1, c: int = 1) -> str:
        """The A1 address of cell (r, c) of the area, counting from 1."""
        return f"{get_column_letter(self.col + c - 1)}{self.row + r - 1}"


@dataclass(frozen=True)
class TableArea:
    """An Excel table on a sheet: its header row, its first column, its data rows and the
    sheet column of each block (a reader finds columns by their headers, wherever they are)."""

    sheet: str
    header_row: int
    first_col: int
    nrows: int
    columns: dict[str, int]  # block name → 1-based column on the sheet, left to right

    @property
    def ref(self) -> str:
        last_col = get_column_letter(self.first_col + len(self.columns) - 1)
        return f"{get_column_letter(self.first_col)}{self.header_row}:{last_col}{self.header_row + self.nrows}"


@dataclass
class SectionPlace:
    section: Section
    sheet: str
    title_row: int | None
    header_row: int | None
    first_row: int
    last_row: int


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def absolute(row: int, col: int) -> str:
    return f"${get_column_letter(col)}${row}"


class Layout:
    """Addresses of blocks for one template in one language (sheet names differ by language)."""

    def __init__(self, template: Template, lang: str):
        self.template = template
        self.lang = lang
        self.places: dict[str, Area] = {}
        self.tables: dict[str, TableArea] = {}
        self.sections: list[SectionPlace] = []
        self.blocks = template.blocks
        for sheet in template.sheets:
            self._place_sheet(sheet)

    # -- placing ---------------------------------------------------------------
    def _place_sheet(self, sheet):
        title = text(sheet.title, self.lang)
        row = FIRST_ROW
        for section in sheet.sections:
            row = getattr(self, f"_place_{section.kind}")(section, title, row) + 2

    def _size(self, dim):
        return self.template.dims[dim].size if dim else 1

    @staticmethod
    def _titled(section, row) -> tuple[int | None, int]:
        """(the title's row or None, the row after it) of a section starting at `row`."""
        return (row, row + 1) if section.title else (None, row)

    def _stack(self, block, sheet, row) -> int:
        """Place a block at `row` in the value columns; the row after it."""
        n = self._size(block.rows)
        self.places[block.name] = Area(sheet, row, VALUE_COL, n, self._size(block.cols))
        return row + n

    def _place_form(self, section, sheet, row):
        title_row, row = self._titled(section, row)
        first = row
        for block in section.blocks:
            row = self._stack(block, sheet, row)
        self.sections.append(SectionPlace(section, sheet, title_row, None, first, row - 1))
        return row - 1

    def _place_columns(self, section, sheet, row):
        title_row, header = self._titled(section, row)
        first = header + 1
        n = self._size(section.rows)
        col_of = {}
        for k, block in enumerate(section.blocks):
            col_of[block.name] = VALUE_COL + k
            self.places[block.name] = Area(sheet, first, VALUE_COL + k, n, 1)
        last = first + n - 1
        if section.totals:
            last += 1
            for block in section.totals:
                self.places[block.name] = Area(sheet, last, col_of[block.under], 1, 1)
        self.sections.append(SectionPlace(section, sheet, title_row, header, first, last))
        return last

    def _place_rows(self, section, sheet, row):
        title_row, header = self._titled(section, row)
        row = header + 1
        first = row
        ncols = self._size(section.cols)
        for block in section.blocks:
            if block.beside:
                parent = self.places[block.beside]
                offset = ncols if block.cols == "quarter" else ncols + self._size("quarter")
                self.places[block.name] = Area(sheet, parent.row, parent.col + offset, self._size(block.rows),
                                               self._size(block.cols))
                continue
            row = self._stack(block, sheet, row)
        self.sections.append(SectionPlace(section, sheet, title_row, header, first, row - 1))
        return row - 1

    def _place_table(self, section, sheet, row):
        title_row, header = self._titled(section, row)
        self.tables[section.table] = TableArea(sheet, header, 1, section.size,
                                               {b.name: 1 + k for k, b in enumerate(section.blocks)})
        for k, block in enumerate(section.blocks):
            self.places[block.name] = Area(sheet, header + 1, 1 + k, section.size, 1)
        self.sections.append(SectionPlace(section, sheet, title_row, header, header + 1, header + section.size))
        return header + section.size

    # -- what the formula compiler asks -------------------------------------------
    def axes(self, block):
        b = self.blocks[block]
        return b.rows, b.cols

    def size(self, dim):
        return self._size(dim)

    def table_of(self, block):
        return self.blocks[block].table

    def _prefix(self, sheet, home_sheet):
        return "" if sheet == home_sheet else quote(sheet) + "!"

    def excel_cell(self, block, r, c, home_sheet):
        p = self.places[block]
        return self._prefix(p.sheet, home_sheet) + absolute(p.row + r - 1, p.col + c - 1)

    def excel_range(self, block, r0, r1, c0, c1, home_sheet):
        p = self.places[block]
        start = absolute(p.row + r0 - 1, p.col + c0 - 1)
        end = absolute(p.row + r1 - 1, p.col + c1 - 1)
        return self._prefix(p.sheet, home_sheet) + f"{start}:{end}"

    def header(self, block) -> str:
        """A table column's header in the workbook's language."""
        return text(self.blocks[block].label, self.lang)

    def excel_column(self, block):
        return f"{self.blocks[block].table}[{self.header(block)}]"

    def excel_row_cell(self, block, row, structured):
        b = self.blocks[block]
        if structured:
            return f"{b.table}[[#This Row],[{self.header(block)}]]"
        p = self.places[block]
        return f"${get_column_letter(p.col)}{p.row + row - 1}"

    # -- addresses for people ---------------------------------------------------
    def address(self, block: str, r: int = 1, c: int = 1) -> tuple[str, str]:
        p = self.places[block]
        return p.sheet, p.address(r, c)

    def defined_name(self, block: str) -> str:
        p = self.places[block]
        start = absolute(p.row, p.col)
        if p.nrows == 1 and p.ncols == 1:
            return f"{quote(p.sheet)}!{start}"
        return f"{quote(p.sheet)}!{start}:{absolute(p.row + p.nrows - 1, p.col + p.ncols - 1)}"


# -- derived once per template and language: used by the generator and the reader alike --
def identifying_blocks(section: Section) -> tuple[Block, ...]:
    """The blocks that name a section's rows: its leading text and choice columns, at most two
    (a table's strategy and action, a market and its category). They are frozen on screen,
    repeated on every printed page, and a table's key when versions of a plan are compared."""
    out = []
    for block in section.blocks[:2]:
        if block.unit not in ("text", "choice"):
            break
        out.append(block)
    return tuple(out)


def key_columns(template: Template, table: str) -> tuple[str, ...]:
    """The key of a table's rows: the column names of its identifying blocks ("strategy", "action")."""
    section = template.tables.get(table)
    if section is None:
        return ()
    return tuple(block.name.split(".", 1)[-1] for block in identifying_blocks(section))


@functools.lru_cache(maxsize=32)
def layout_for(template: Template, lang: str) -> Layout:
    return Layout(template, lang)


@functools.lru_cache(maxsize=32)
def excel_formulas(template: Template, lang: str) -> dict[str, list[list[str]]]:
    """Every computed cell's Excel formula, block by block: worked out once per template."""
    layout = layout_for(template, lang)
    names = set(template.blocks)
    out = {}
    for name, block in template.blocks.items():
        if not block.formula:
            continue
        place = layout.places[name]
        renderer = formula.ExcelRenderer(layout, names, f"{template.source} › {name}")
        tree = formula.parse(str(block.formula), name)
        rows = []
        for r in range(1, place.nrows + 1):
            row = []
            for c in range(1, place.ncols + 1):
                if block.table:
                    ctx = formula.Context(name, block.table, {}, place.sheet, row=r)
                else:
                    bindings = {}
                    if block.rows:
                        bindings[block.rows] = r
                    if block.cols:
                        bindings[block.cols] = c
                    ctx = formula.Context(name, None, bindings, place.sheet)
                row.append("=" + renderer.render(tree, ctx))
            rows.append(row)
        out[name] = rows
    return out


def checks_sheet_title(lang: str) -> str:
    return t("checks_sheet", lang)


@dataclass(frozen=True)
class CheckColumn:
    """A column of the Checks sheet: what it shows, its heading's catalogue id, its width, and
    whether its text wraps (a long message grows its row instead of running over)."""

    key: str  # message | cell | severity | code
    heading: str
    width: float
    wraps: bool = False


# The Checks sheet, defined once (the generator draws it, recalculation and the add-in fill it):
# the message first, then a link to the cell, the severity as a word, the code last and narrow.
CHECK_COLUMNS = (
    CheckColumn("message", "col_message", 72, wraps=True),
    CheckColumn("cell", "col_cell", 26, wraps=True),
    CheckColumn("severity", "col_severity", 9),
    CheckColumn("code", "col_code", 14),
)
WRAPPED_CHECK_COLUMNS = frozenset(c.key for c in CHECK_COLUMNS if c.wraps)  # the message and the cell
CHECKS_HEADER_ROW = 4
FIRST_CHECK_ROW = 5


def check_row_height(shown: Mapping[str, object]) -> float:
    """The height in points of a Checks row showing `shown` (column key → text): the wrapping
    column that needs the most lines decides, by the rule of every row of text (paper.fitted_height)."""
    height = paper.fitted_height((str(shown.get(c.key) or ""), c.width) for c in CHECK_COLUMNS if c.wraps)
    return height if height is not None else paper.row_height(1)


def check_row(finding, lang: str) -> dict[str, object]:
    """What each column of the Checks sheet shows for one finding (the cell: "Sheet › A1")."""
    where = f"{finding.cell.sheet} › {finding.cell.address}" if finding.cell and finding.cell.address else ""
    return {"message": finding.message, "cell": where, "severity": t(finding.severity, lang), "code": finding.code}


def check_link(finding) -> str | None:
    """Where the cell column's link jumps: 'Sheet'!A1."""
    if finding.cell and finding.cell.address:
        return f"{quote(finding.cell.sheet)}!{finding.cell.address}"
    return None


def check_column(key: str) -> int:
    """The 1-based column of the Checks sheet that shows `key`."""
    return next(k for k, c in enumerate(CHECK_COLUMNS, start=1) if c.key == key)
