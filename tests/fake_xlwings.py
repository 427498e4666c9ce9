"""A fake of the xlwings objects the desktop add-in uses, over a book as Excel holds it.

The book description is the one tests/js/fake_office.js opens (tests/js/serve.py makes
it): values as shown, locked cells, sheet protection, notes, marks, tables, names. The
fake behaves as Excel does through COM where the add-in can go wrong: a write into a
locked cell of a protected sheet, a format, a conditional format or a note on a protected
sheet raise as COM does; a second note on a cell raises; protecting needs the sheet to be
unprotected first; error cells read as None unless `err_to_str` is set, as in xlwings.
"""
from __future__ import annotations

import datetime as dt
import re

from openpyxl.utils import column_index_from_string, get_column_letter

ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")
EPOCH = dt.datetime(1899, 12, 30)
ALLOW = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
         "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
         "AllowSorting", "AllowFiltering", "AllowUsingPivotTables")  # Worksheet.Protection's flags


class ComError(Exception):
    """What pywintypes.com_error is to the add-in: Excel refused the call."""


def cell_of(a1: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", a1.strip().upper())
    return int(m.group(2)), column_index_from_string(m.group(1))


def area_of(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    (r0, c0), (r1, c1) = cell_of(first), cell_of(last or first)
    return r0, c0, r1, c1


def absolute(r0, c0, r1, c1) -> str:
    a = f"${get_column_letter(c0)}${r0}"
    return a if (r0, c0) == (r1, c1) else f"{a}:${get_column_letter(c1)}${r1}"


class Rule:  # a FormatCondition
    def __init__(self, sheet, cell, formula):
        self.sheet, self.cell, self.Type, self.Formula1 = sheet, cell, 2, formula
        self.Interior = type("Interior", (), {"Color": None})()

    def Delete(self):
        self.sheet.refuse_if_protected("delete a conditional format")
        self.sheet.rules[self.cell].remove(self)


class FormatConditions:
    """A cell's rules, or (cell None) every rule of the sheet, as Cells.FormatConditions gives them."""

    def __init__(self, sheet, cell):
        self.sheet, self.cell = sheet, cell

    def _rules(self):
        if self.cell is None:
            return [rule for rules in self.sheet.rules.values() for rule in rules]
        return self.sheet.rules.get(self.cell, [])

    @property
    def Count(self):
        return len(self._rules())

    def Item(self, i):
        return self._rules()[i - 1]

    def Add(self, Type, Formula1):
        self.sheet.refuse_if_protected("add a conditional format")
        rule = Rule(self.sheet, self.cell, Formula1)
        self.sheet.rules.setdefault(self.cell, []).append(rule)
        return rule


class Comment:
    def __init__(self, sheet, cell, text, author):
        self.sheet, self.cell, self.text, self.Author = sheet, cell, text, author

    def Text(self, Text=None):
        if Text is not None:
            self.sheet.refuse_if_protected("edit a note")
            self.text = Text
        return self.text

    def Delete(self):
        self.sheet.refuse_if_protected("delete a note")
        del self.sheet.comments[self.cell]


class RangeApi:
    def __init__(self, sheet, cell):
        self.sheet, self.cell = sheet, cell
        self.FormatConditions = FormatConditions(sheet, cell)

    @property
    def Comment(self):
        return self.sheet.comments.get(self.cell)

    def AddComment(self, text):
        self.sheet.refuse_if_protected("add a note")
        if self.cell in self.sheet.comments:
            raise ComError(f"{self.sheet.name}!{get_column_letter(self.cell[1])}{self.cell[0]} already has a note")
        self.sheet.comments[self.cell] = Comment(self.sheet, self.cell, text, "Excel User")


class Protection:
    def __init__(self, options):
        for name, value in options.items():
            setattr(self, name, value)


class SheetApi:
    def __init__(self, sheet):
        self.sheet = sheet

    @property
    def ProtectContents(self):
        return self.sheet.protected

    @property
    def Cells(self):
        return type("Cells", (), {"FormatConditions": FormatConditions(self.sheet, None)})()

    @property
    def Comments(self):
        return list(self.sheet.comments.values())

    ProtectDrawingObjects = False
    ProtectScenarios = False

    @property
    def Protection(self):
        return Protection(self.sheet.options)

    def Unprotect(self):
        self.sheet.protected = False

    def Protect(self, Contents=True, DrawingObjects=False, Scenarios=False, **allow):
        unknown = set(allow) - set(ALLOW)
        if unknown:
            raise TypeError(f"Protect() has no argument {sorted(unknown)}")
        if self.sheet.protected:
            raise ComError(f"{self.sheet.name} is protected already")
        self.sheet.protected = True
        self.sheet.options.update(allow)


class Range:
    def __init__(self, sheet, r0, c0, r1, c1, options=None):
        self.sheet, self.area, self._options = sheet, (r0, c0, r1, c1), options or {}

    def options(self, **options):
        return Range(self.sheet, *self.area, {**self._options, **options})

    @property
    def address(self):
        return absolute(*self.area)

    @property
    def row(self):
        return self.area[0]

    @property
    def column(self):
        return self.area[1]

    @property
    def last_cell(self):
        return Range(self.sheet, self.area[2], self.area[3], self.area[2], self.area[3])

    @property
    def api(self):
        return RangeApi(self.sheet, (self.area[0], self.area[1]))

    @property
    def impl(self):
        return object()  # no append_json_action: this is a book open in Excel

    def cells(self):
        r0, c0, r1, c1 = self.area
        return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    @property
    def value(self):
        r0, c0, r1, c1 = self.area
        grid = [[self.sheet.read(r, c, self._options.get("err_to_str", False)) for c in range(c0, c1 + 1)]
                for r in range(r0, r1 + 1)]
        if self._options.get("ndim") == 2:
            return grid
        if len(grid) == 1 and len(grid[0]) == 1:
            return grid[0][0]
        return grid[0] if len(grid) == 1 else grid

    @value.setter
    def value(self, value):
        rows = value if isinstance(value, list) and value and isinstance(value[0], list) else \
            [value] if isinstance(value, list) else [[value]]
        r0, c0 = self.area[:2]
        cells = [(r0 + i, c0 + j) for i, row in enumerate(rows) for j in range(len(row))]
        self.sheet.refuse_locked(cells, "write")
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                self.sheet.values[(r0 + i, c0 + j)] = "" if v is None else v

    def clear(self):
        self.sheet.refuse_locked(self.cells(), "clear")
        for cell in self.cells():
            self.sheet.values.pop(cell, None)
            self.sheet.colours.pop(cell, None)
            self.sheet.links.pop(cell, None)
            self.sheet.wraps.pop(cell, None)

    @property
    def color(self):
        return self.sheet.colours.get(self.area[:2])

    @color.setter
    def color(self, colour):
        if self.sheet.protected and not self.sheet.options.get("AllowFormattingCells"):
            self.sheet.refuse_if_protected("format cells")
        for cell in self.cells():
            self.sheet.colours[cell] = colour

    @property
    def row_height(self):
        """Points; None where the range's rows differ (as xlwings answers); 0 for a hidden row."""
        heights = {self.sheet.row_height(r) for r in range(self.area[0], self.area[2] + 1)}
        return heights.pop() if len(heights) == 1 else None

    @row_height.setter
    def row_height(self, points):
        if self.sheet.protected and not self.sheet.options.get("AllowFormattingRows"):
            self.sheet.refuse_if_protected("set the height of a row")
        if not 0 <= points <= 409:
            raise ComError(f"a row is 0 to 409 points high, not {points}")
        for r in range(self.area[0], self.area[2] + 1):
            self.sheet.heights[r] = points
            self.sheet.hidden_rows.discard(r)

    @property
    def wrap_text(self):
        wraps = {self.sheet.wraps.get(cell, False) for cell in self.cells()}
        return wraps.pop() if len(wraps) == 1 else None

    @wrap_text.setter
    def wrap_text(self, wrap):
        if self.sheet.protected and not self.sheet.options.get("AllowFormattingCells"):
            self.sheet.refuse_if_protected("format cells")
        for cell in self.cells():
            self.sheet.wraps[cell] = bool(wrap)

    @property
    def width(self):
        """Points (read only, as in xlwings)."""
        return sum(self.sheet.column_width(c) for c in range(self.area[1], self.area[3] + 1))

    def add_hyperlink(self, address, text_to_display=None, screen_tip=None):
        self.sheet.refuse_locked(self.cells(), "insert a hyperlink")
        for cell in self.cells():
            self.sheet.links[cell] = address
            self.sheet.values[cell] = text_to_display or address


class Table:
    def __init__(self, sheet, spec):
        self.sheet, self.name, self.show_totals = sheet, spec["name"], spec["showTotals"]
        self.area = area_of(spec["ref"])

    @property
    def range(self):
        return Range(self.sheet, *self.area)

    @property
    def header_row_range(self):
        r0, c0, _, c1 = self.area
        return Range(self.sheet, r0, c0, r0, c1)

    @property
    def totals_row_range(self):
        _, c0, r1, c1 = self.area
        return Range(self.sheet, r1, c0, r1, c1) if self.show_totals else None


class Sheet:
    def __init__(self, book, spec):
        self.book, self.name = book, spec["name"]
        self.values = {}
        for r, row in enumerate(spec.get("values") or [], start=1):
            for c, v in enumerate(row, start=1):
                if v not in ("", None):
                    self.values[(r, c)] = v
        self.dates = {cell_of(a) for a, cat in (spec.get("categories") or {}).items() if cat == "Date"}
        self.unlocked = {tuple(rc) for rc in spec.get("unlocked") or []}
        self.protected = bool(spec.get("protected"))
        # as generated plans are protected: rows may be inserted and deleted, columns and rows widened
        self.options = {name: False for name in ALLOW}
        self.options.update(AllowInsertingRows=True, AllowDeletingRows=True, AllowFormattingColumns=True,
                            AllowFormattingRows=True, AllowSorting=True, AllowFiltering=True)
        self.comments = {cell_of(a): Comment(self, cell_of(a), n["content"], n.get("author") or "")
                         for a, n in (spec.get("notes") or {}).items()}
        self.rules = {}
        for mark in spec.get("marks") or []:
            r0, c0, _, _ = area_of(mark["address"])
            self.rules.setdefault((r0, c0), []).append(Rule(self, (r0, c0), mark["formula"]))
        self.colours, self.links, self.wraps = {}, {}, {}
        self.tables = [Table(self, t) for t in spec.get("tables") or []]
        # rows and columns in points, as Excel holds them: {"7": 29.0}, hidden rows, {"3": 120.0}
        self.heights = {int(r): h for r, h in (spec.get("rowHeights") or {}).items()}
        self.hidden_rows = set(spec.get("hiddenRows") or ())
        self.default_height = spec.get("defaultRowHeight") or 15.0
        self.widths = {int(c): w for c, w in (spec.get("columnWidths") or {}).items()}
        self.default_width = spec.get("defaultColumnWidth") or 48.0
        self.hidden_columns = set(spec.get("hiddenColumns") or ())

    def row_height(self, r):
        return 0.0 if r in self.hidden_rows else self.heights.get(r, self.default_height)

    def column_width(self, c):
        """Points; 0 for a hidden column (as Excel answers for its Range.Width)."""
        return 0.0 if c in self.hidden_columns else self.widths.get(c, self.default_width)

    @property
    def api(self):
        return SheetApi(self)

    def refuse_if_protected(self, what):
        if self.protected:
            raise ComError(f"cannot {what} on {self.name}: the sheet is protected")

    def refuse_locked(self, cells, what):
        if self.protected:
            for cell in cells:
                if cell not in self.unlocked:
                    raise ComError(f"cannot {what} {self.name}!{get_column_letter(cell[1])}{cell[0]}: "
                                   "the cell is on a protected sheet")

    def read(self, r, c, err_to_str):
        v = self.values.get((r, c))
        if isinstance(v, str) and v in ERRORS and not err_to_str:
            return None  # xlwings reads an error cell as None unless err_to_str
        if (r, c) in self.dates and isinstance(v, (int, float)):
            return EPOCH + dt.timedelta(days=v)
        return v

    def range(self, first, last=None):
        if isinstance(first, tuple):
            last = last or first
            return Range(self, first[0], first[1], last[0], last[1])
        return Range(self, *area_of(first))

    @property
    def used_range(self):
        rows = [r for r, _ in self.values] or [1]
        cols = [c for _, c in self.values] or [1]
        return Range(self, 1, 1, max(rows), max(cols))

    def grid(self):
        used = self.used_range.area
        return [[self.values.get((r, c), "") for c in range(1, used[3] + 1)] for r in range(1, used[2] + 1)]


class Sheets:
    def __init__(self, book, specs):
        self.book = book
        self.items = [Sheet(book, s) for s in specs]

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(self, name=None, before=None, after=None):
        if any(s.name == name for s in self.items):
            raise ComError(f"a sheet named {name} exists")
        sheet = Sheet(self.book, {"name": name})
        self.items.insert(self.items.index(after) + 1 if after is not None else 0, sheet)
        return sheet


class Name:
    def __init__(self, book, spec):
        self.name = spec["name"]
        self.refers_to_range = book.sheets[spec["sheet"]].range(spec["ref"])


class App:
    def __init__(self, answer="no"):
        self.alerts = []
        self.answer = answer

    def alert(self, prompt, title=None, buttons="ok", **_):
        self.alerts.append((title, prompt))
        return self.answer if buttons != "ok" else "ok"


class Book:
    def __init__(self, spec, answer="no"):
        self.name = spec["name"]
        self.app = App(answer)
        self.sheets = Sheets(self, spec["sheets"])
        self.names = [Name(self, n) for n in spec.get("names") or []]

    @property
    def impl(self):
        return object()

    def marks(self):
        return sorted([s.name, f"{get_column_letter(c)}{r}"] for s in self.sheets for (r, c), rules in s.rules.items()
                      if any("xlplan-mark" in rule.Formula1.lower() or rule.Formula1 == "=TRUE" for rule in rules))

    def notes(self):
        return {f"{s.name}!{get_column_letter(c)}{r}": (n.Author, n.text) for s in self.sheets
                for (r, c), n in s.comments.items()}

    def protected(self):
        return sorted(s.name for s in self.sheets if s.protected)
