"""How a sheet fits on screen and on A4: text widths, row heights, scale, page breaks, footers.

Widths are in Excel's column unit (about one digit of the body font); a CJK or other
full-width character counts two. Heights are in points. The numbers are estimates of
what Excel and LibreOffice draw with the fonts in styles.py (Arial 10 pt for Latin text,
the East Asian font of the language for Chinese): a little generous, so text that fits
here fits there. The rendering test (tests/test_paper.py) checks them against
LibreOffice's own PDF of every sheet.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..texts import t

BODY_PT = 10  # every style's size but the title: 10 pt × the smallest scale (85 %) prints at 8.5 pt
HEADING_PT = 12  # the sheet's title in the page header
TITLE_PT = 14
LINE_PT = 13.5  # a line of 10 pt text, CJK glyphs included (their line gap is larger than Arial's)
ROW_PAD_PT = 2
MAX_ROW_PT = 409  # the highest row Excel takes (Office.js and COM refuse more); text beyond it is cut
DEFAULT_WIDTH = 8.43  # a column nobody sized (Excel's and LibreOffice's default for a 10 pt body font)
WIDTH_SLACK = 0.97  # LibreOffice's columns come out a little wider than the estimate: plan 3 % short
SCALES = (100, 95, 90, 85)  # the printed scales a sheet may use, largest first
MIN_PRINTED_PT = 8

# A4 landscape in points, less the margins below
PAGE_WIDTH_PT = 841.9 - 2 * 0.4 * 72
PAGE_HEIGHT_PT = 595.3 - 2 * 0.6 * 72  # top and bottom margins (the footer sits inside the bottom one)

_TOKEN = re.compile(r"\s+|[A-Za-z0-9.,:;!?%()\[\]'\"/+\-–×=#&@$]+|.", re.S)


def char_width(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2.0
    if ch.isupper() or ch in "%@#&mwMW—":
        return 1.25
    if ch in "il.,:;'|!()[] ":
        return 0.6
    return 1.0


def text_width(text: str) -> float:
    """The width of one line of body text in column units."""
    return sum(char_width(ch) for ch in str(text))


def longest_word(text: str) -> float:
    """The widest piece that cannot be broken: a Latin word or number, or one CJK character."""
    return max((text_width(tok) for tok in _TOKEN.findall(str(text)) if not tok.isspace()), default=0.0)


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes wrapped in a column `width` units wide (words kept whole)."""
    usable = max(width - 1.0, 1.0)  # a cell's own padding
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for tok in _TOKEN.findall(paragraph):
            w = text_width(tok)
            if tok.isspace():
                used += w if used else 0.0
                continue
            if used and used + w > usable:
                lines += 1
                used = 0.0
            if w > usable:  # a word longer than the column: it breaks where it must
                extra = math.ceil(w / usable) - 1
                lines += extra
                w -= extra * usable
            used += w
    return lines


def row_height(lines: int, size: float = BODY_PT) -> float:
    return round(lines * LINE_PT * size / BODY_PT + ROW_PAD_PT, 1)


def fitted_height(texts: Iterable[tuple[str, float]], size: float = BODY_PT, min_lines: int = 1) -> float | None:
    """The height a row must be given for its wrapped texts, as (text, column width) pairs (CJK
    counts double), or None where one line of body text does. Neither Excel nor LibreOffice grows
    a row for wrapped text on opening a file, nor when a formula's text changes: the generator
    sets these heights, and a recalculation grows a row to them (workbook/writeback.py).
    A text longer than a row can be high gets the highest row, MAX_ROW_PT: Excel refuses more."""
    lines = max([min_lines, *(wrapped_lines(text, width) for text, width in texts)])
    if lines > 1 or size > BODY_PT:
        return min(row_height(lines, size), MAX_ROW_PT)
    return None


def column_points(width: float | None) -> float:
    """A column's printed width in points (Excel: width × 7 px + 5 px at 96 dpi)."""
    return ((width if width is not None else DEFAULT_WIDTH) * 7 + 5) * 0.75


def width_of_points(points: float) -> float:
    """A column's width in Excel's unit from its width in points (what Office.js and xlwings
    answer): the inverse of `column_points`."""
    return max((points / 0.75 - 5) / 7, 0.0)


@dataclass(frozen=True)
class Page:
    scale: int
    col_breaks: tuple[int, ...]  # a page ends after each of these columns (1-based)
    pages_across: int


def plan_page(widths: list[float], title_cols: int, allowed: set[int] | None = None,
              scales: tuple[int, ...] = SCALES) -> Page:
    """Scale and column breaks for columns of `widths` (1-based order), the first `title_cols`
    repeated on every page; breaks only after the columns in `allowed` (all when None).

    The largest scale that needs the fewest pages across wins: a sheet that fits on one page
    at 85 % prints on one page, one that does not is split at its quarters or groups.
    """
    best: Page | None = None
    for scale in scales:
        room = PAGE_WIDTH_PT * 100 / scale * WIDTH_SLACK
        title = sum(column_points(w) for w in widths[:title_cols])
        breaks, used, last_ok = [], title, None
        for col in range(title_cols + 1, len(widths) + 1):
            w = column_points(widths[col - 1]) if widths[col - 1] else 0.0
            if used + w > room and used > title:
                cut = last_ok if last_ok is not None and last_ok > (breaks[-1] if breaks else title_cols) else col - 1
                breaks.append(cut)
                used = title + sum(column_points(x) for x in widths[cut:col - 1] if x)
            used += w
            if allowed is None or col in allowed:
                last_ok = col
        page = Page(scale, tuple(breaks), len(breaks) + 1)
        if best is None or page.pages_across < best.pages_across:
            best = page
    assert best is not None  # SCALES is not empty
    return best


class Section(NamedTuple):
    """Rows kept together on paper: a section from its title (or header) row to its last row;
    its head, down to its first row of figures (`head`), is never parted from that row."""

    first: int
    head: int
    last: int


def repeated_rows(header_rows: list[int], growing: list[bool] | None = None) -> str | None:
    """The rows printed at the top of every page: the header of a sheet's only table, or on a
    sheet of several that of its first table where a user adds rows to it (`growing`, per
    table): the table that runs past a page keeps its header on each of its pages. Excel and
    LibreOffice repeat one range per sheet, so the pages of the small tables under it begin
    with that header too, above their own. A sheet whose first table cannot grow repeats none."""
    if len(header_rows) == 1 or (header_rows and growing and growing[0]):
        return f"{header_rows[0]}:{header_rows[0]}"
    return None


def row_breaks(heights: list[float], sections: list[Section], scale: int, title_height: float) -> list[int]:
    """Rows after which a page ends, so that no section that fits on a page is split, and no
    section's head ends a page without the section's first row.

    `heights` are per row (1-based: heights[0] is row 1).
    """
    room = PAGE_HEIGHT_PT * 100 / scale
    breaks, used = [], 0.0
    starts = {section.first: section for section in sections}
    for row in range(1, len(heights) + 1):
        h = heights[row - 1]
        section = starts.get(row)
        if section and used > title_height:  # not after a page of titles only
            block = sum(heights[row - 1:section.last])
            head = sum(heights[row - 1:section.head])
            moved = used > room / 3 and used + block > room and block <= room - title_height
            if moved or used + head > room:
                breaks.append(row - 1)
                used = title_height
        if used + h > room:
            breaks.append(row - 1)
            used = title_height
        used += h
    return breaks


def set_up(ws, *, unit: str, lang: str, widths: list[float], title_cols: int, title_rows: str | None,
           allowed: set[int] | None = None, heights: list[float] | None = None,
           sections: list[Section] | None = None, heading: tuple[str, list[str]] | None = None) -> Page:
    """A4 landscape at a readable scale, split across pages where wide, titles repeated, footers.

    The scale is the largest of those that print the sheet on the fewest pages in all (across
    × down): a smaller scale that saves a page across may still cost a page down.

    `heading`: the sheet's title and the line under it (rows 1 and 2; the line's forms, longest
    first). They print in the page header of every page instead of in their cells (the print
    area starts at row 3): a title
    written in A1 runs across many columns and would be cut on the pages across, where only
    the repeated columns are left of it, and missing from the pages down."""
    if heading and heights:  # rows 1 and 2 print in the page header, not on the page
        heights = [0.0] * HEADING_ROWS + heights[HEADING_ROWS:]
    first_title = int(title_rows.split(":")[0]) if title_rows else 0
    last_title = int(title_rows.split(":")[1]) if title_rows else -1
    title_height = sum(heights[first_title - 1:last_title]) if title_rows and heights else 0.0

    def pages(scale: int) -> tuple[Page, list[int]]:
        page = plan_page(widths, title_cols, allowed, (scale,))
        rows = [r for r in row_breaks(heights, sections or [], scale, title_height) if r > 0] if heights else []
        return page, rows

    plans = [pages(scale) for scale in SCALES]
    page, rows = min(plans, key=lambda p: (p[0].pages_across * (len(p[1]) + 1), p[0].pages_across))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.scale = page.scale
    ws.page_setup.fitToWidth = 0
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = False
    ws.page_setup.pageOrder = "overThenDown"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_cols:
        ws.print_title_cols = f"A:{get_column_letter(title_cols)}"
    if title_rows:
        ws.print_title_rows = title_rows
    for col in page.col_breaks:
        ws.col_breaks.append(Break(id=col))
    for row in rows:
        ws.row_breaks.append(Break(id=row))
    footer(ws, unit, lang)
    if heading:
        page_header(ws, heading[0], heading[1], PAGE_WIDTH_PT * 100 / page.scale)
        # down to the sheet's last row: a row a user adds under a table prints too (Excel and
        # LibreOffice print only the used part of such an area)
        # across to the last column planned (`widths`: a chart may reach past the cells)
        ws.print_area = f"A{HEADING_ROWS + 1}:{get_column_letter(max(ws.max_column, len(widths), 1))}{LAST_ROW}"
    return page


HEADING_ROWS = 2  # the title row and the line under it, printed in the page header
LAST_ROW = 1048576  # a sheet's last row (Excel's and LibreOffice's)


def header_points(text: str, size: float) -> float:
    """About how wide `text` prints at `size` pt in the page header (bold: the wider)."""
    return column_points(text_width(text)) * size / BODY_PT * 1.1


def page_header(ws, title: str, notes: list[str], room: float) -> None:
    """The page header: the sheet's title on the left (bold, as the title cell) and on the right the
    longest of `notes` (the line under the title, then shorter forms of it) that leaves a gap
    beside the title in `room` points; none where none does."""
    note = next((n for n in notes if header_points(title, HEADING_PT) + header_points(n, BODY_PT) + 36 <= room),
                None)
    for part in (ws.oddHeader, ws.evenHeader):
        part.left.text = title.replace("&", "&&")
        part.left.font = "Arial,Bold"
        part.left.size = HEADING_PT
        part.left.color = "1F4E78"
        if note:
            part.right.text = note.replace("&", "&&")
            part.right.font = "Arial,Italic"
            part.right.size = BODY_PT
            part.right.color = "595959"


def footer(ws, unit: str, lang: str) -> None:
    """Footers: the unit on the left, the sheet in the middle, page x of y on the right."""
    for part in (ws.oddFooter, ws.evenFooter):
        part.left.text = unit.replace("&", "&&")
        part.left.size = BODY_PT
        part.center.text = "&A"
        part.center.size = BODY_PT
        part.right.text = t("page_footer", lang)
        part.right.size = BODY_PT


__all__ = ["Break", "Page", "column_points", "fitted_height", "footer", "longest_word", "page_header", "plan_page",
           "row_breaks", "row_height", "set_up", "text_width", "width_of_points", "wrapped_lines"]


def shown(value, number_format: str | None) -> str:
    """Roughly what a cell shows for `value` in `number_format` (for widths, not for display)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    fmt = (number_format or "General").split(";")[0]
    if "%" in fmt:
        return f"{value * 100:,.1f}%"
    if "0.00" in fmt:
        return f"{value:,.2f}"
    if "0.0" in fmt:
        return f"{value:,.1f}"
    if "#,##0" in fmt or fmt == "0":
        return f"{value:,.0f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def fit_columns(ws, first_row: int = 1, most: float = 40.0, least: float = 6.0) -> None:
    """Column widths from what the cells show (headers by their longest word, as they wrap);
    text longer than `most` wraps in a column `most` wide."""
    from openpyxl.styles import Alignment

    widest: dict[int, float] = {}
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            if cell.value is None:
                continue
            wraps = cell.alignment is not None and cell.alignment.wrap_text
            need = longest_word(cell.value) if wraps else text_width(shown(cell.value, cell.number_format))
            widest[cell.column] = max(widest.get(cell.column, least), min(need + 2, most))
            if not wraps and need + 2 > most and isinstance(cell.value, str):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in widest.items():
        ws.column_dimensions[get_column_letter(col)].width = width
