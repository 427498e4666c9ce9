"""The book JSON an Office.js client sends → a Plan, through the reader's `Source`.

The JSON is xlwings' remote-book format, which our client (static/xlplan.js) sends
for every script call:

    {"client": "Office.js", "version": "...", "book": {"name", "active_sheet_index", "selection"},
     "names": [{"name", "sheet_index", "address", "scope_sheet_index", "book_scope", ...}],
     "sheets": [{"name", "values": [[...], ...], "tables": [{"name", "range_address", ...}]}]}

`values` is a rectangle anchored at A1; empty cells are "" and cells formatted as
dates arrive as ISO strings. Addresses carry no sheet name ("$C$5:$N$5"). Our client
also sends, per sheet, `row_heights` and `column_widths` in points for the rows and
columns of that rectangle (0 for a hidden row), where Excel can say them (ExcelApi 1.9):
a recalculation grows a row whose text needs more room (writeback.FitRow).

`book_json(wb)` goes the other way, from an openpyxl workbook to the JSON the client
would send for it: tests and benchmarks drive the server with real layouts through it.
"""
from __future__ import annotations

import datetime as dt
import re

from openpyxl.utils import column_index_from_string

from ..template import paper
from ..template.layout import quote
from ..workbook.ooxml import column_widths, parse_ref
from ..workbook.plan import Plan, area_of
from ..workbook.read import assemble

CLIENT = "Office.js"
# xlwings' own client sends dates as ISO 8601 date-times; only exactly that form is a date
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _local(address: str) -> str:
    """"Sheet1!$A$1:$B$2" or "$A$1:$B$2" → "$A$1:$B$2"."""
    return address.rsplit("!", 1)[-1]


def _cell(value):
    if isinstance(value, str) and ISO_DATETIME.match(value):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=None)
    return value


class BookJsonSource:
    """A `plan.Source` over the book JSON of an Office.js (or xlwings desktop) client."""

    def __init__(self, data: dict):
        self.data = data
        self._sheets = {s["name"]: s for s in data.get("sheets", ())}
        self._grids: dict[str, list[list]] = {}

    @property
    def file(self) -> str:
        return str((self.data.get("book") or {}).get("name") or "workbook.xlsx")

    def sheet_names(self):
        return list(self._sheets)

    def defined_names(self):
        sheets = self.data.get("sheets", ())
        out = {}
        for n in self.data.get("names", ()):
            if not n.get("book_scope", True):
                continue
            index = n.get("sheet_index")
            if index is None or not 0 <= index < len(sheets) or not n.get("address"):
                continue
            out[n["name"]] = f"{quote(sheets[index]['name'])}!{_local(n['address'])}"
        return out

    def tables(self):
        """name → (sheet, ref, headers); a table's Total Row is left out of its ref, as the
        file readers leave it out (it holds totals, not a line of the plan)."""
        out = {}
        for name, sheet in self._sheets.items():
            for table in sheet.get("tables") or ():
                ref = _local(table["range_address"]).replace("$", "")
                ref = parse_ref(f"x!{ref}")[1]
                if table.get("show_totals"):
                    ref = _without_last_row(ref)
                out[table["name"]] = (name, ref, self._headers(name, ref))
        return out

    def _headers(self, sheet, ref):

        area = area_of(sheet, ref)
        if area is None:
            return []
        grid = self.grid(sheet)
        row = grid[area.row - 1] if area.row - 1 < len(grid) else []
        return [row[c - 1] if c - 1 < len(row) else "" for c in range(area.col, area.col + area.ncols)]

    def row_height(self, sheet: str, r: int) -> float | None:
        """Row `r`'s height in points (0: hidden), None where the client did not say."""
        heights = self._sheets[sheet].get("row_heights") or ()
        return float(heights[r - 1]) if 0 < r <= len(heights) and heights[r - 1] is not None else None

    def column_width(self, sheet: str, c: int) -> float:
        """Column `c`'s width in Excel's unit (the client sends points); a column it did not
        size, the default width."""
        widths = self._sheets[sheet].get("column_widths") or ()
        if 0 < c <= len(widths) and widths[c - 1] is not None:
            return paper.width_of_points(float(widths[c - 1]))
        return paper.DEFAULT_WIDTH

    def grid(self, sheet):
        if sheet not in self._grids:
            self._grids[sheet] = [[_cell(v) for v in row] for row in self._sheets[sheet].get("values") or ()]
        return self._grids[sheet]


def _without_last_row(ref: str) -> str:
    first, _, last = ref.partition(":")
    if not last:
        return ref
    column = re.sub(r"[0-9]+", "", last)
    row = int(re.sub(r"[A-Z]+", "", last))
    return f"{first}:{column}{row - 1}"


def plan_from_book(data: dict) -> Plan:
    source = BookJsonSource(data)
    return assemble(source, source.file)


# -- openpyxl workbook → the JSON a client sends -----------------------------------------
def _json_value(value, cached):
    if isinstance(value, str) and value.startswith("="):
        return "" if cached is None else _json_value(cached, None)
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        if not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.time):
        return value.isoformat()
    return value


def book_json(wb, name: str, cached_wb=None, version: str = "0.0.0") -> dict:
    """The JSON our Office.js client sends for `wb`, as Excel would show it.

    Formula cells show their value from `cached_wb` (the same file loaded with
    data_only=True) or are empty, as in a file no spreadsheet program has computed.
    """
    sheets = []
    titles = wb.sheetnames
    for ws in wb.worksheets:
        cws = cached_wb[ws.title] if cached_wb is not None else None
        rows = []
        for r, row in enumerate(ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column,
                                             values_only=True), start=1):
            rows.append([_json_value(v, cws.cell(r, c).value if cws is not None else None)
                         for c, v in enumerate(row, start=1)])
        tables = []
        for table in ws.tables.values():
            table_name = table.displayName
            first, last = table.ref.split(":")
            header = f"{first}:{re.sub(r'[0-9]+', '', last)}{re.sub(r'[A-Z]+', '', first)}"
            totals = bool(table.totalsRowCount)
            tables.append({"name": table_name, "range_address": table.ref,
                           "header_row_range_address": header, "show_headers": True, "show_totals": totals})
        sheets.append({"name": ws.title, "values": rows or [[""]], "pictures": [], "tables": tables,
                       **sizes_in_points(ws, len(rows or [[""]]), len((rows or [[""]])[0]))})
    names = []
    for dn_name, dn in wb.defined_names.items():
        parsed = parse_ref(dn.attr_text)
        if parsed is None or parsed[0] not in titles:
            continue
        sheet, ref = parsed
        names.append({"name": dn_name, "sheet_index": titles.index(sheet), "address": _absolute(ref),
                      "scope_sheet_name": None, "scope_sheet_index": None, "book_scope": True})
    return {"client": CLIENT, "version": version,
            "book": {"name": name, "active_sheet_index": 0, "selection": "A1"},
            "names": names, "sheets": sheets}


def sizes_in_points(ws, nrows: int, ncols: int) -> dict:
    """What our client sends of an openpyxl sheet's rows and columns: heights and widths in
    points (a <col> may span columns, as writefile reads them: ooxml.column_widths; a column no
    <col> sizes has the sheet's default width; a hidden row is 0 high, a hidden column 0 wide)."""
    default_row = ws.sheet_format.defaultRowHeight or paper.row_height(1)
    spans = []
    for letter, dim in list(ws.column_dimensions.items()):
        first = dim.min or column_index_from_string(letter)
        spans.append((first, dim.max or first, dim.width, dim.hidden))
    sized = column_widths(spans, ncols)
    default = ws.sheet_format.defaultColWidth or paper.DEFAULT_WIDTH
    widths = [sized.get(c, default) for c in range(1, ncols + 1)]
    heights = []
    for r in range(1, nrows + 1):
        dim = ws.row_dimensions[r] if r in ws.row_dimensions else None
        heights.append(0.0 if dim is not None and dim.hidden else (dim.height if dim is not None and dim.height
                                                                   else default_row))
    return {"row_heights": heights, "column_widths": [paper.column_points(w) if w else 0.0 for w in widths]}


def _absolute(ref: str) -> str:
    return ":".join(re.sub(r"^([A-Z]+)([0-9]+)$", r"$\1$\2", part) for part in ref.split(":"))


def apply_actions(data: dict, actions: list[dict]) -> dict[str, list]:
    """Apply a script's value actions to book JSON in place, as static/xlplan.js does in Excel.

    Cell values change (setValues, rangeClear, rangeClearContents); every other action
    is collected by name and returned, for tests and benchmarks to look at.
    """
    other: dict[str, list] = {}
    for a in actions:
        if a["func"] in ("setValues", "rangeClear", "rangeClearContents"):
            values = data["sheets"][a["sheet_position"]]["values"]
            for r in range(a["row_count"]):
                for c in range(a["column_count"]):
                    row, col = a["start_row"] + r, a["start_column"] + c
                    while len(values) <= row:
                        values.append([""] * len(values[0]))
                    for line in values:
                        line.extend([""] * (col + 1 - len(line)))
                    values[row][col] = a["values"][r][c] if a["func"] == "setValues" else ""
        else:
            other.setdefault(a["func"], []).append(a)
    return other
