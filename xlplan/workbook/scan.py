"""The merge's fast path through a workbook file: its parts read with regular expressions over the bytes.

A submission is, nearly always, a plan workbook as the template made it with figures
typed into its input cells. For such a file the reader (read.read_scanned) needs only
the input cells' values and proof that every computed cell still holds its formula.
This module gives both from the file's XML: each part the plan lives on is inflated
once; one pass over a sheet's <sheetData> finds its cells holding a formula or a value:
the formulas are compared with the template's (normalised, as one string per sheet), the
values of the input cells are looked up by their addresses. Parts no block lives on are not
parsed.

It judges nothing. Whatever is not plainly as made (an error value, merged cells, a
shared formula, a date in a cell, a prefixed or Strict namespace, an entity, a cell
without its address ...) raises `Unusual`, and the detailed reader (python-calamine and
cellchecks) reads the file and says what is wrong with it. Both give the same Plan.
"""
from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass
from itertools import compress

from .ooxml import (
    ATTRIBUTE, CELL_FORMAT, CELL_FORMATS, CELL_STYLE, CELL_TYPE, DATE_CODE, DATE_FORMAT_IDS, DEFINED_NAME,
    INLINE_STRING, NUMBER_FORMAT, NUMBERS, PHONETIC, PLAIN_ATTRIBUTES, PLAIN_CELL, PLAIN_MAIN, PLAIN_VALUE,
    RELATIONSHIP, SHARED_STRING, SHEET_CELL, SHEET_ENTRY, TABLE_COLUMN, TEXT_RUN, VALUE_TEXT, attributes,
    column_number, normal_formulas, part_path, unescape,
)


class Unusual(Exception):
    """The file is not plainly as the template made it: the detailed reader reads it."""


def cached_up_to(size: int, entries: int):
    """functools.lru_cache for a function of one bytes argument, for arguments of at most `size`
    bytes: what a file holds recurs from file to file, but a file may hold anything, and the
    cache must stay small whatever it holds."""
    def decorate(read):
        cached = functools.lru_cache(maxsize=entries)(read)

        @functools.wraps(read)
        def reading(data: bytes):
            return cached(data) if len(data) <= size else read(data)
        reading.cache_info = cached.cache_info
        return reading
    return decorate


def _plain_xml(xml: bytes, root: bytes = b"") -> bytes:
    """Refuse what the scanner does not read: a DTD (entities), Strict OOXML, prefixed elements.

    With `root` (the document element's tag) only the bytes before it are searched for a
    DTD: a DTD stands before the document element, and a sheet is read in as few passes as can be.
    """
    start = xml.find(b"<" + root) if root else len(xml)
    if start < 0 or b"<!" in xml[:start] or PLAIN_MAIN not in xml[:start + 400 if root else len(xml)]:
        raise Unusual("not plain transitional SpreadsheetML")
    return xml


# -- the workbook part: sheets and names ------------------------------------------------
@dataclass(frozen=True, eq=False)  # one per distinct workbook part (cached): compared as itself
class Book:
    parts: dict[str, str]  # sheet title → its part
    names: dict[str, str]  # workbook-level defined name → reference text
    shared_strings: str | None  # the shared-strings part, if any
    styles: str | None


def book(zf: zipfile.ZipFile) -> Book:
    return _book(zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels"))


@functools.lru_cache(maxsize=64)
def _book(workbook: bytes, rels: bytes) -> Book:
    """The same bytes in every file made from one template: read once."""
    _plain_xml(workbook)
    if b"<!DOCTYPE" in rels or b"<!ENTITY" in rels:
        raise Unusual("a DTD in the relationships")
    targets, shared, styles = {}, None, None
    for raw in RELATIONSHIP.findall(rels):
        a = attributes(raw)
        target = part_path(unescape(a.get(b"Target", b"")))
        targets[a.get(b"Id")] = target
        kind = a.get(b"Type", b"")
        if kind.endswith(b"/sharedStrings"):
            shared = target
        elif kind.endswith(b"/styles"):
            styles = target
    parts = {}
    for raw in SHEET_ENTRY.findall(workbook):
        a = attributes(raw)
        rid = next((v for k, v in a.items() if k.endswith(b":id")), None)
        if b"name" not in a or rid not in targets:
            raise Unusual("a sheet without its part")
        parts[unescape(a[b"name"])] = targets[rid]
    names = {}
    for raw, ref in DEFINED_NAME.findall(workbook):
        a = attributes(raw)
        if b"localSheetId" not in a and b"name" in a:
            names[unescape(a[b"name"])] = unescape(ref)
    return Book(parts, names, shared, styles)


# -- tables -------------------------------------------------------------------------
def tables(zf: zipfile.ZipFile, sheet: str, part: str) -> dict[str, tuple[str, str, list[str]]]:
    """The tables on a sheet: name → (sheet, ref, column headers), as the detailed reader gives them."""
    folder, file = part.rsplit("/", 1)
    try:
        rels = zf.read(f"{folder}/_rels/{file}.rels")
    except KeyError:
        return {}
    out = {}
    for target in _table_targets(rels, folder + "/"):
        name, ref, headers = _table(zf.read(target))
        out[name] = (sheet, ref, headers)
    return out


@functools.lru_cache(maxsize=256)
def _table_targets(rels: bytes, base: str) -> tuple[str, ...]:
    if b"<!DOCTYPE" in rels or b"<!ENTITY" in rels:
        raise Unusual("a DTD in the relationships")
    return tuple(part_path(unescape(a.get(b"Target", b"")), base)
                 for a in map(attributes, RELATIONSHIP.findall(rels)) if a.get(b"Type", b"").endswith(b"/table"))


@functools.lru_cache(maxsize=256)
def _table(xml: bytes) -> tuple[str, str, list[str]]:
    _plain_xml(xml)
    head = attributes(xml[xml.index(b"<table"):xml.index(b">", xml.index(b"<table"))])
    name, display = head.get(b"name"), head.get(b"displayName")
    if name is None or (display is not None and display != name) or b"ref" not in head:
        raise Unusual("a table whose name and display name differ")
    headers = [unescape(attributes(raw).get(b"name", b"")) for raw in TABLE_COLUMN.findall(xml)]
    return unescape(name), unescape(head[b"ref"]), headers


# -- styles: which cell formats show a date ---------------------------------------------
@functools.lru_cache(maxsize=64)
def date_styles(xml: bytes) -> frozenset[int]:
    """Indexes of the cell formats that show a number as a date or time (calamine reads such a cell as a date)."""
    _plain_xml(xml)
    dated = set(DATE_FORMAT_IDS)
    for raw in NUMBER_FORMAT.findall(xml):
        a = attributes(raw)
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", unescape(a.get(b"formatCode", b"")))
        code = re.sub(r"(?i)general", "", code)  # "General;-General;;@": its e is no era year
        if DATE_CODE.search(code):
            dated.add(int(a.get(b"numFmtId", b"0")))
    found = CELL_FORMATS.search(xml)
    xfs = CELL_FORMAT.findall(found.group(1)) if found else []
    return frozenset(i for i, raw in enumerate(xfs) if int(attributes(raw).get(b"numFmtId", b"0")) in dated)


# -- a sheet --------------------------------------------------------------------------
def sheet_data(xml: bytes) -> tuple[int, int]:
    """The span of a sheet's <sheetData> (its cells); raise Unusual unless the sheet is plain
    SpreadsheetML without merged cells.

    The span ends at the last </sheetData>, found from the end: in well-formed XML the same as
    the first, unless one stands in a comment or CDATA, which `SheetCells` refuses among the cells.
    Merged cells are refused wherever the detailed reader finds them (ooxml.MERGE_CELL, over the
    whole sheet), however written: before and after the span here, inside it as a mark SheetCells
    refuses (SHEET_CELL).
    """
    _plain_xml(xml, b"worksheet")
    start = xml.find(b"<sheetData")
    if start < 0:
        raise Unusual("no plain sheetData")
    end = xml.rfind(b"</sheetData>", start)
    if end < 0:
        end = start  # <sheetData/>: no cells
    if xml.find(b"mergeCell", 0, start) >= 0 or xml.find(b"mergeCell", end) >= 0:
        raise Unusual("merged cells")
    return start, end


class SheetCells:
    """A sheet's cells holding a formula or a value, found in one pass over its <sheetData>
    (ooxml.SHEET_CELL); Unusual if a formula, value or inline string stands where the pattern
    does not see it, or merged cells, a prefixed element, a comment or CDATA among the cells.

    A cell is the sheet's only inside <sheetData>: one written in an extension or a comment is
    no cell to Excel, and reading it would put a number in the plan that the workbook does not
    show. Other things the cell checks look at need no search here: a shared or changed formula
    changes the sheet's formulas (`formulas`), and an error value matters only in an input
    cell, where reading it raises Unusual.
    """

    def __init__(self, xml: bytes):
        start, end = sheet_data(xml)
        self.found = SHEET_CELL.findall(xml, start, end)
        self.addresses: tuple[bytes, ...] = ()
        self.tags: tuple[bytes, ...] = ()
        self.texts: tuple[bytes, ...] = ()
        if not self.found:
            return
        self.addresses, attributes, self.tags, self.texts, _, _ = zip(*self.found)
        if b"" in self.addresses:
            raise Unusual("a formula, value or inline string outside a plainly written cell (a cell without its "
                          "address or not as Excel writes it, whitespace inside a cell), merged cells or a prefixed "
                          "element among the cells, or a comment or CDATA")
        if b"<" in b"".join(attributes):  # no XML, but the pattern would see past a mark
            raise Unusual("a cell's attributes holding <")

    def has_formulas(self, made: bytes) -> bool:
        """Whether the sheet's formulas, each with its cell in the sheet's order, are `made` once
        normalised (ooxml.normal_formulas; the template's: cellchecks.template_formulas)."""
        tags = self.tags
        return _normalises_to((tuple(compress(self.addresses, tags)), tuple(compress(self.texts, tags))), made)

    def values(self, wanted: dict[bytes, tuple], strings: "SharedStrings", dates: frozenset[int]) -> dict:
        """Where each wanted cell that holds a value goes (wanted: address as in the XML → where) →
        its value, read as calamine reads it and then as `plan.cell_value` gives it. Only the
        wanted cells are looked at; a formula in one, or a cell written twice, leaves the fast path."""
        by_address = dict(zip(self.addresses, self.found))
        if len(by_address) != len(self.found):
            raise Unusual("a cell written twice")
        kinds = _kinds(dates)
        out = {}
        numbers = []
        for address in wanted.keys() & by_address.keys():
            _, raw_attrs, tag, _, v, inline = by_address[address]
            if tag:
                raise Unusual("a formula in an input cell")
            kind = kinds.get(raw_attrs) or _kind(raw_attrs, dates)
            if kind == b"n" or kind == b"date":
                if v:
                    if kind == b"date":
                        raise Unusual("a number shown as a date")
                    out[wanted[address]] = as_read(float(v))
                    numbers.append(v)
                elif inline:
                    raise Unusual("an inline string in a cell not typed inlineStr")
                continue
            if kind == b"s" and v:  # the usual text cells: a shared string, or an inline one
                value = strings[int(v)]
            elif kind == b"inlineStr" and inline:
                value = _text(inline)
            elif kind == b"inlineStr" or inline:
                raise Unusual("an inline string in a cell not typed inlineStr, or such a cell without one")
            else:
                value = as_read(_typed(kind, raw_attrs, v, inline, strings, dates))
            if value is not None and value != "":
                out[wanted[address]] = value
        _numbers(numbers)
        return out


def _normalises_to(found: tuple[tuple[bytes, ...], tuple[bytes, ...]], made: bytes) -> bool:
    """Whether formulas found (their addresses, their texts) are `made` once normalised. The files
    one program saves from one template hold the same formula texts: those found to be `made`
    are kept and compared as found, each new text is normalised once."""
    if len(_FOUND_AS) > 256:  # a few templates' sheets
        _FOUND_AS.clear()
    known = _FOUND_AS.setdefault(made, [])
    if found in known:
        return True
    if normal_formulas(zip(*found)) != made:
        return False
    known[:] = known[-3:] + [found]  # its spellings by the last few programs
    return True


_FOUND_AS: dict[bytes, list[tuple[tuple[bytes, ...], tuple[bytes, ...]]]] = {}


def without_inputs_has_formulas(xml: bytes, made: bytes) -> bool:
    """`SheetCells(xml).has_formulas(made)` for a sheet no input cell lives on; at once where its
    cells but for their values are those of a sheet found so before.

    Such a sheet (the calendar: formulas and labels) differs from file to file only in the
    formulas' cached results and the labels' string indexes or texts. Its <sheetData> with each
    value emptied (<v></v>, <is></is>: the marks kept) is compared as bytes with the sheets found
    so before; what a value may hold (text without "<", an inline string without a mark) changes
    nothing SheetCells finds or refuses but the values, which no input takes from this sheet.
    """
    start, end = sheet_data(xml)
    cells = INLINE_STRING.sub(b"<is></is>", VALUE_TEXT.sub(b"<v></v>", xml[start:end]))
    if _MADE_OF_CELLS.get(cells) == made:
        return True
    if not SheetCells(xml).has_formulas(made):
        return False
    if len(cells) <= 1 << 20:  # kept small, whatever a file holds
        if len(_MADE_OF_CELLS) >= 16:  # a few templates' sheets, as a few programs save them
            _MADE_OF_CELLS.clear()
        _MADE_OF_CELLS[cells] = made
    return True


_MADE_OF_CELLS: dict[bytes, bytes] = {}


def _kinds(dates: frozenset[int]) -> dict[bytes, bytes]:
    """Value cells' types by their attribute texts, for one styles part's date formats (`_kind`)."""
    kinds = _KINDS.get(dates)
    if kinds is None or len(kinds) > 4096:  # attribute texts are the file's: keep the memo small
        if len(_KINDS) > 64:
            _KINDS.clear()
        kinds = _KINDS[dates] = {}
    return kinds


def _kind(raw_attrs: bytes, dates: frozenset[int]) -> bytes:
    """A value cell's type from its attributes; b"n" only for a number not shown as a date.

    The cells of a sheet repeat a few attribute texts (style and type): each is looked at once.
    """
    kind = _cell_type(raw_attrs)
    if kind == b"n":
        style = CELL_STYLE.search(raw_attrs)
        if style and int(style.group(1)) in dates:
            kind = b"date"  # calamine reads a date: the detailed reader reads the file
    _kinds(dates)[raw_attrs] = kind
    return kind


_KINDS: dict[frozenset[int], dict[bytes, bytes]] = {}


def _cell_type(raw_attrs: bytes) -> bytes:
    """A cell's type (t) from its attribute text, which must be plain (ooxml.PLAIN_ATTRIBUTES, each
    name once, no second address): otherwise which type or address calamine takes is unsure."""
    names = [name for name, _ in ATTRIBUTE.findall(raw_attrs)]
    if not PLAIN_ATTRIBUTES.fullmatch(raw_attrs) or len(set(names)) != len(names) or b"r" in names:
        raise Unusual("a cell's attributes not written as name=\"value\" pairs, once each")
    found = CELL_TYPE.search(raw_attrs)
    return found.group(1) if found else b"n"


def _numbers(found: list[bytes]) -> None:
    """Unusual unless each <v> text is a number as calamine reads it (" 8000 " and "8_000", which
    float reads, make calamine refuse the sheet); a sheet's numbers are checked at once."""
    if found and not NUMBERS.fullmatch(b" ".join(found)):
        raise Unusual("a number not written as calamine reads one")


def as_read(v):
    """A value as `plan.cell_value` gives the same value from calamine's grid."""
    if v is None or v == "":
        return None
    if type(v) is float:
        if v != v or v in (INFINITY, -INFINITY):
            return str(v)
        if v.is_integer() and abs(v) < 2**53:
            return int(v)
    return v


INFINITY = float("inf")


def grid(xml: bytes, strings: "SharedStrings", dates: frozenset[int]) -> list[list]:
    """Every cell of a small sheet (the metadata sheet) as a grid from A1, "" for empty."""
    found = {}
    for row, col, kind, raw_attrs, raw, inline in _grid_cells(xml):
        value = _typed(kind, raw_attrs, raw, inline, strings, dates)
        if value is not None:
            found[row, col] = value
    if not found:
        return []
    rows, cols = max(r for r, _ in found), max(c for _, c in found)
    out = [[""] * cols for _ in range(rows)]
    for (r, c), value in found.items():
        out[r - 1][c - 1] = value
    return out


@cached_up_to(1 << 16, 64)
def _grid_cells(xml: bytes) -> tuple[tuple[int, int, bytes, bytes, bytes, bytes | None], ...]:
    """A small sheet's cells holding something: (row, column, type, attributes, <v> text, inline
    string). The metadata sheet's XML is the same in the files one program saves from one template
    (what differs, the unit's name ..., is a shared string's index or text): read once."""
    SheetCells(xml)  # refuses what it refuses among the cells: merged cells, prefixed elements, comments ...
    start, end = sheet_data(xml)
    matches = PLAIN_CELL.findall(xml, start, end)
    if len(matches) != xml.count(b"<c ", start, end):
        raise Unusual("a cell without its address")
    cells = []
    for letters, number, raw_attrs, inner in matches:
        kind = _cell_type(raw_attrs)
        if kind == b"inlineStr":
            cells.append((int(number), column_number(letters), kind, raw_attrs, b"", inner or b""))
            continue
        if inner and b"<is" in inner:
            raise Unusual("an inline string in a cell not typed inlineStr")
        v = PLAIN_VALUE.search(inner) if inner else None
        if v is not None:
            cells.append((int(number), column_number(letters), kind, raw_attrs, v.group(1), None))
    return tuple(cells)


def _typed(kind: bytes, raw_attrs: bytes, raw: bytes, inline: bytes | None, strings: "SharedStrings",
           dates: frozenset[int]):
    """A cell's value from its type, its <v> text (`raw`) or its inline string, as calamine reads it."""
    if kind == b"inlineStr":
        return _text(inline or b"")
    if not raw and kind != b"str":
        return None
    if kind == b"n":
        style = CELL_STYLE.search(raw_attrs)
        if style and int(style.group(1)) in dates:
            raise Unusual("a number shown as a date")
        _numbers([raw])
        return float(raw)
    if kind == b"s":
        return strings[int(raw)]
    if kind == b"str":
        return unescape(raw)
    if kind == b"b":
        if raw not in (b"0", b"1"):
            raise Unusual("a boolean other than 0 or 1")
        return raw == b"1"
    raise Unusual(f"a cell of type {kind!r}")


@cached_up_to(1 << 12, 4096)
def _text(item: bytes) -> str:
    """A string item's text (a shared or an inline string's XML), as calamine reads it. The same
    items recur from file to file (labels, categories, the owners' names): each is read once."""
    if b"<rPh" in item:
        item = PHONETIC.sub(b"", item)
    runs = [(attrs, unescape(raw)) for attrs, raw in TEXT_RUN.findall(item)]  # b"", "" for <t/>
    text = "".join(run for _, run in runs)
    if "_x" in text:
        raise Unusual("an escaped character in a string")
    if "\r" in text or any(run[:1] in XML_SPACE or run[-1:] in XML_SPACE for attrs, run in runs
                            if b'xml:space="preserve"' not in attrs):
        raise Unusual("a string calamine changes: a run's whitespace at its ends not preserved, or a CR")
    return text


XML_SPACE = frozenset(" \t\n\r")
"""XML's whitespace, which calamine trims at the ends of a run not preserved (an ideographic or a
no-break space it keeps)."""


class SharedStrings:
    """The shared-strings part, split into items at once and decoded only where a wanted cell points."""

    def __init__(self, zf: zipfile.ZipFile, part: str | None):
        self.zf, self.part = zf, part
        self.items: list[bytes] | None = None
        self.decoded: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        if index not in self.decoded:
            if self.items is None:
                if self.part is None:
                    raise Unusual("a shared string but no shared-strings part")
                self.items = _string_items(_plain_xml(self.zf.read(self.part), b"sst"))
            self.decoded[index] = _text(self.items[index])
        return self.decoded[index]


def _string_items(xml: bytes) -> list[bytes]:
    """The shared-strings part's items: each <si>'s content (b"" for an empty <si/>).

    Split at every "<si" (in C, a tenth of the time a regular expression takes over the
    part); where a piece does not plainly start and end one item, the regular expression
    reads the part.
    """
    pieces = xml.split(b"<si")[1:]
    items = []
    for piece in pieces:
        if piece[:1] == b">":
            end = piece.find(b"</si>")
            if end < 0:
                break
            items.append(piece[1:end])
        elif piece[:2] == b"/>":
            items.append(b"")
        else:
            break
    else:
        return items
    return SHARED_STRING.findall(xml)  # an empty <si/> gives b""
