"""The .xlsx file format, and nothing else: part names, namespaces, cell addresses, the
regular expressions that find cells in a sheet's XML, and the errors a damaged file raises.

Everything else in the workbook side asks this module rather than knowing the format
itself. Both dialects of the format are read: Transitional (what Excel, WPS, LibreOffice
and openpyxl write) and Strict (Excel's "Strict Open XML Spreadsheet"), which differ in
their namespaces only as far as xlplan looks.
"""
from __future__ import annotations

import functools
import html
import io
import re
import types
import zipfile
import zlib
from itertools import chain
from typing import Callable

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from openpyxl.utils.exceptions import CellCoordinatesException
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter, range_boundaries

# -- parts --------------------------------------------------------------------------
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
CORE_PROPERTIES = "docProps/core.xml"
CONTENT_TYPES = "[Content_Types].xml"
WORKSHEETS = "xl/worksheets/"

# -- namespaces: (Transitional, Strict) ----------------------------------------------
MAIN = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main")
RELATIONSHIPS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                 "http://purl.oclc.org/ooxml/officeDocument/relationships")
# the package's own namespaces are the same in both dialects
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
PACKAGE_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CORE = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


# -- the errors of a damaged file ----------------------------------------------------
class PartUnreadable(Exception):
    """A part of the zip that is missing or cannot be decompressed (see `read_part`)."""


DAMAGED: tuple[type[Exception], ...] = (
    python_calamine.CalamineError,  # calamine's own errors: bad XML, zip, password, a sheet it cannot find
    PartUnreadable,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,  # a part cut off in the middle
    SafeET.ParseError,  # XML that is not well formed (also bad UTF-8)
    DefusedXmlException,  # entities, external references: refused, never expanded
)
"""What the reading libraries raise for a damaged file, as opposed to a bug of ours: catch
exactly these wherever a file is read, and say which file it was."""

SCAN_FAILS: tuple[type[Exception], ...] = DAMAGED + (
    KeyError,  # a part or a relationship missing (zipfile.read, a lookup in what the parts say)
    ValueError,  # a number, a table head or a cell index that is not what a file as made holds
    IndexError,  # a shared-string index past the end
    UnicodeDecodeError,  # bytes that are not UTF-8 (a ValueError, named for the reader)
    NotImplementedError,  # a compression method zipfile does not know
    OSError,  # zipfile seeking in a damaged header
)
"""What the fast path (scan.py, read.read_scanned) may raise on a file it reads with regular
expressions and plain zipfile reads: DAMAGED and the built-in errors that bytes not as
expected raise there. Deliberately broader than DAMAGED: the fast path judges nothing, and
any of these only sends the file to the detailed reader, which reads it again and names what
is wrong (with DAMAGED alone). A bug in the fast path caught here costs speed, never a wrong
plan: test_scan compares both readers on every case."""


def read_part(zf: zipfile.ZipFile, name: str, size: int = -1) -> bytes:
    """The bytes of one part (the first `size` of them if given); PartUnreadable when it is missing
    or damaged."""
    if isinstance(zf, ZipInMemory):
        found = zf.inflated(name, size)
        if found is not None:
            return found
    try:
        with zf.open(name) as part:
            return part.read(size)
    except KeyError:
        raise PartUnreadable(f"the part {name} is missing") from None
    # A damaged local header or compressed stream makes zipfile seek or inflate wrongly, and it
    # then raises these plain built-ins; they are caught here, around the read alone.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise PartUnreadable(f"the part {name} is damaged ({exc})") from None


inflate_lib: types.ModuleType
try:  # ISA-L's inflate and CRC-32: the same bytes in 40 % of zlib's time on a sheet's XML, the CRC in 10 %
    from isal import isal_zlib as inflate_lib
except ImportError:  # no wheel for this platform (see pyproject.toml): zlib
    inflate_lib = zlib
INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, inflate_lib.error)


class ZipInMemory(zipfile.ZipFile):
    """A zip held in memory (a received file) whose parts are inflated straight from its bytes.

    zipfile reads a part through a file object of its own (local header, decompressor, CRC
    in chunks): some 15 µs a part, more than inflating a small part costs, and a merge
    reads some twenty parts of each file. Here a part as every writer stores it (deflated
    or stored, not encrypted, its local header naming it) is one inflate call on a slice of
    the bytes (ISA-L's where installed), its size and CRC checked as zipfile checks them;
    anything else is read by zipfile, which raises its usual errors.
    """

    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))
        self.data = memoryview(data)

    def read(self, name, pwd=None) -> bytes:
        found = self.inflated(name) if pwd is None and isinstance(name, str) else None
        return super().read(name, pwd) if found is None else found

    def inflated(self, name: str, size: int = -1) -> bytes | None:
        """The part's bytes (the first `size` of them if given), or None where zipfile must read it."""
        try:
            info = self.getinfo(name)
        except KeyError:
            return None
        # flag bits 0, 5, 6: encrypted, patched, strongly encrypted
        if info.flag_bits & 0x61 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return None
        at, data = info.header_offset, self.data
        head = bytes(data[at:at + 30])
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            return None
        name_size, extra_size = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
        local_name = bytes(data[at + 30:at + 30 + name_size])
        encoding = "ascii" if local_name.isascii() else "utf-8" if head[7] & 0x08 else "cp437"  # flag bit 11
        try:
            if local_name.decode(encoding) != info.orig_filename:
                return None
        except UnicodeDecodeError:
            return None
        start = at + 30 + name_size + extra_size
        raw = data[start:start + info.compress_size]
        whole = size < 0 or size >= info.file_size
        want = info.file_size if whole else size
        if len(raw) != info.compress_size:
            return None
        seen = whole and info.compress_size <= SMALL_PART and info.file_size <= 1 << 16
        if seen:
            # the same stored bytes, method, size and CRC inflate to the same part, checked before
            key = (raw, info.compress_type, info.file_size, info.CRC)
            found = _SMALL_PARTS.get(key)
            if found is not None:
                return found
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                out = bytes(raw[:want])
            else:
                inflater = (inflate_lib if whole else zlib).decompressobj(-15)  # a head: zlib starts sooner
                out = inflater.decompress(raw, want + 1 if whole else want)
        except INFLATE_ERRORS:
            return None
        if len(out) != want or (whole and (inflate_lib.crc32(out) != info.CRC
                                           or (info.compress_type == zipfile.ZIP_DEFLATED and not inflater.eof))):
            return None  # damaged: zipfile reads it again and says how
        if seen:
            if len(_SMALL_PARTS) >= 256:
                _SMALL_PARTS.clear()
            _SMALL_PARTS[bytes(raw), info.compress_type, info.file_size, info.CRC] = out
        return out


SMALL_PART = 8192
"""Parts stored in at most so many bytes and at most 64 KiB inflated (the workbook part, styles,
tables, relationships, small sheets; a bound whatever a file holds) are kept inflated by their
stored bytes: the files made from one template hold many of
them alike, and the same bytes object each time lets the caches keyed on a part's bytes
(scan.book, scan.date_styles ...) find it without hashing it again."""
_SMALL_PARTS: dict[tuple, bytes] = {}


# -- the workbook part ---------------------------------------------------------------
def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _iter(root, name: str):
    """Elements called `name` in the spreadsheet namespace of either dialect."""
    for namespace in MAIN:
        yield from root.iter(_tag(namespace, name))


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → path of its XML part inside the zip."""
    book = SafeET.fromstring(read_part(zf, WORKBOOK))
    rels = SafeET.fromstring(read_part(zf, WORKBOOK_RELS))
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    out = {}
    for sheet in _iter(book, "sheet"):
        rid = next((sheet.get(_tag(ns, "id")) for ns in RELATIONSHIPS if sheet.get(_tag(ns, "id"))), None)
        target = targets.get(rid, "").lstrip("/")
        out[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def defined_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Workbook-level defined names → their reference text."""
    book = SafeET.fromstring(read_part(zf, WORKBOOK))
    return {dn.get("name"): dn.text or "" for dn in _iter(book, "definedName") if dn.get("localSheetId") is None}


def core_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    """`lastModifiedBy` and `creator` of the document properties, where the file has them."""
    if CORE_PROPERTIES not in zf.namelist():
        return {}
    root = SafeET.fromstring(read_part(zf, CORE_PROPERTIES))
    out = {}
    for key, tag in (("lastModifiedBy", _tag(CORE, "lastModifiedBy")), ("creator", _tag(DUBLIN_CORE, "creator"))):
        node = root.find(tag)
        if node is not None and node.text and node.text.strip():
            out[key] = node.text.strip()
    return out


# -- Strict Open XML --------------------------------------------------------------------
# Strict names its namespaces differently; the parts are the same. A Strict workbook is read as
# the transitional one it stands for (calamine knows transitional only); the file is never changed.
STRICT_TO_TRANSITIONAL = (
    (b"http://purl.oclc.org/ooxml/spreadsheetml/main", MAIN[0].encode()),
    (b"http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties"),
    (RELATIONSHIPS[1].encode(), RELATIONSHIPS[0].encode()),
    (b"http://purl.oclc.org/ooxml/drawingml/main", b"http://schemas.openxmlformats.org/drawingml/2006/main"),
    (b"http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
     b"http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"),
    (b"http://purl.oclc.org/ooxml/drawingml/chart", b"http://schemas.openxmlformats.org/drawingml/2006/chart"),
    (b"http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
     b"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"),
    (b"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
     b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"),
)


def is_strict(zf: zipfile.ZipFile) -> bool:
    return MAIN[1].encode() in read_part(zf, WORKBOOK, 4096)


def rewritten(zf: zipfile.ZipFile, rewrite: Callable[[str, bytes], bytes]) -> bytes:
    """A copy of a package, each part as `rewrite(name, bytes)` makes it; names, order and each
    entry's settings kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in zf.infolist():
            copy.writestr(info, rewrite(info.filename, read_part(zf, info.filename)))
    return out.getvalue()


def as_transitional(zf: zipfile.ZipFile) -> bytes:
    """A Strict Open XML workbook's bytes with the transitional namespaces."""
    def transitional(name: str, data: bytes) -> bytes:
        if name.endswith((".xml", ".rels")):
            for strict, transitional in STRICT_TO_TRANSITIONAL:
                data = data.replace(strict, transitional)
            if name == WORKBOOK:
                data = data.replace(b' conformance="strict"', b"", 1)
        return data

    return rewritten(zf, transitional)


# -- cell addresses --------------------------------------------------------------------
def address(row: int, col: int) -> str:
    """(5, 3) → "C5"."""
    return f"{column_letters(col)}{row}"


def column_letters(col: int) -> str:
    """3 → "C"."""
    return get_column_letter(col)


def row_col(a1: str) -> tuple[int, int]:
    """"C5" or "$C$5" → (5, 3); ValueError for anything else."""
    try:
        letters, row = coordinate_from_string(a1)
    except CellCoordinatesException:
        raise ValueError(f"not a cell address: {a1!r}") from None
    return row, column_index_from_string(letters)


@functools.lru_cache(maxsize=4096)  # the fast path asks for the same few columns millions of times
def column_number(letters: str | bytes) -> int:
    """"C" (or b"C", as in a sheet's XML) → 3."""
    return column_index_from_string(letters if isinstance(letters, str) else letters.decode("ascii"))


def bounds(ref: str) -> tuple[int, int, int, int] | None:
    """"C5:N6" (or one cell, with or without $) → (first row, first col, last row, last col);
    None for anything else (whole rows or columns, other text)."""
    if not ref or "!" in ref:
        return None
    try:
        c0, r0, c1, r1 = range_boundaries(ref)
    except ValueError:
        return None
    if None in (c0, r0, c1, r1) or min(r0, r1) < 1:
        return None
    return r0, c0, r1, c1


MAX_COLUMN = 16_384  # XFD, a sheet's last column


def column_widths(spans, last: int = MAX_COLUMN) -> dict[int, float]:
    """Each column's width in Excel's unit from a sheet's <col> elements, as (min, max, width or
    None, hidden) spans (a span may cover many columns, as LibreOffice saves them), up to column
    `last`: 0 for a hidden column, as Excel answers for it. A column no span sizes is left out:
    it has the sheet's default width."""
    widths: dict[int, float] = {}
    for first, end, width, hidden in spans:
        if width or hidden:
            for c in range(first, min(end, last) + 1):
                widths[c] = 0.0 if hidden else float(width)
    return widths


def sheet_name(written: str) -> str:
    """A sheet's name as a reference writes it → the name: `'Bob''s plan'` → `Bob's plan`."""
    if len(written) > 1 and written.startswith("'") and written.endswith("'"):
        return written[1:-1].replace("''", "'")
    return written


def parse_ref(text_ref: str) -> tuple[str, str] | None:
    """`'Sheet name'!$C$5:$N$5` → (sheet, "C5:N5")."""
    if "!" not in text_ref:
        return None
    sheet, ref = text_ref.rsplit("!", 1)
    return sheet_name(sheet), ref.replace("$", "")


# A reference inside a formula: an optional sheet ('quoted' or plain) and a cell or a range.
FORMULA_REF = re.compile(r"(?:('(?:[^']|'')+'|[^\s!'(),=+\-*/&^<>:;{}]+)!)?"
                         r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")


# -- a sheet's XML -----------------------------------------------------------------------
# Files come with or without namespace prefixes (<c> or <x:c>); these patterns accept both.
FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"([^>]*)>\s*'
                          rb'<(?:\w+:)?f\b([^>]*?)(?:/>|>([^<]*)</(?:\w+:)?f>)')
"""A cell with a formula: address, the cell's other attributes, the <f>'s attributes, the formula
text (escaped as XML). <f> is a cell's first child when it has one."""
SHARED_INDEX = re.compile(rb'\bsi="(\d+)"')
NO_RESULT_AFTER_FORMULA = re.compile(rb"\s*(?:</(?:\w+:)?f>)?\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?"
                                     rb"\s*</(?:\w+:)?c>")
"""What follows a formula saved without its result (matched from the end of FORMULA_CELL): no <v>,
or an empty one. A text result is t="str" on the cell."""
ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"([^>]*?\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)
VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
NEWER_ERROR_VALUE = re.compile(rb"(<(?:\w+:)?v>\s*)(#(?!(?:REF!|VALUE!|DIV/0!|NAME\?|N/A|NUM!|NULL!)\s*<)"
                               rb"[A-Za-z_/0-9!?.]{1,20})(\s*</(?:\w+:)?v>)")
"""An error value other than the classic seven (#SPILL!, #CALC!, #BLOCKED!, #GETTING_DATA, #PYTHON! ...)."""
MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}[0-9]+)?)"')
DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
"""The used range a sheet declares in its first bytes."""

# As openpyxl (so the generator) writes cells: no prefix, attributes in one order. Only files
# xlplan itself wrote are matched with this.
WRITTEN_FORMULA = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*>\s*<f>([^<]*)</f>')
"""A formula cell as written: (address, formula text escaped as XML)."""
XML_ENTITIES = ((b"&quot;", b'"'), (b"&lt;", b"<"), (b"&gt;", b">"), (b"&apos;", b"'"))

# -- a file plainly as made, read fast (scan.py) ---------------------------------------------
# Transitional, no prefixes, as openpyxl writes and Excel, WPS and LibreOffice re-save: anything
# else is left to the detailed reader, so these patterns need not (and, for speed, do not) accept
# every spelling the format allows.
PLAIN_MAIN = MAIN[0].encode()  # a Strict file goes to the detailed reader
ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
SHEET_ENTRY = re.compile(rb"<sheet\b([^>]*)>")
"""A <sheet> of the workbook part: its attributes (name, r:id)."""
DEFINED_NAME = re.compile(rb"<definedName\b([^>]*)>([^<]*)</definedName>")
RELATIONSHIP = re.compile(rb"<Relationship\b([^>]*)>")
TABLE_COLUMN = re.compile(rb"<tableColumn\b([^>]*)>")
ROW = re.compile(rb'<row\b([^>]*)>')
ROW_NUMBER = re.compile(rb'\br="(\d+)"')
# Possessive repeats (*+, ?+): nothing they took is given back, which could never make these
# patterns match and costs a sixth of the time over a sheet's cells.
_PREFIXED = rb"[A-Za-z_][\w.-]*+:"  # an element named with a prefix: the detailed reader reads it by its local name
_INLINE = (rb"[^<]*+(?:<(?!/is>|is\b|v\b|f|!|m|" + _PREFIXED + rb")[^<]*+)*+")
"""An inline string's content: not its end, no mark (a formula, a value, an inline string, with or
without attributes; a comment or CDATA; merged cells, ooxml.MERGE_CELL; a prefixed element)."""
SHEET_CELL = re.compile(
    rb'<(?:c r="([A-Z]{1,3}+[1-9][0-9]*+)"([^>]*+)>'
    rb'(?:(<f[^<>]*+>)([^<]*+)</f>(?:<v>[^<]*+</v>)?+'
    rb'|(?:<v>([^<]*+)</v>|(<is>' + _INLINE + rb')</is>)</c>)'
    rb'|(?!row[\s>/]|c\s|/|sheetData[\s>/]))')
"""One pass over a sheet's cells, each match as (address, the cell's other attributes, <f> tag,
formula text, <v> text, inline string):
- a cell with a formula (its <f> the cell's first child; a shared formula's master counts, its
  result, if any, right after it): address, attributes, tag, formula text as in the XML;
- a cell holding a value and no formula (the only kind an input cell of a file as made holds):
  address, attributes, the <v> text or the inline string (from its <is>: b"" where there is none);
- any other element than a row, a cell's start (<c ...) or an end tag (a formula, value or inline
  string; a comment or CDATA; merged cells; a prefixed element, <x:c>, which the detailed reader
  reads by its local name): all b"", no address. A cell the first two
  do not see (its address not first, or not as Excel writes it: C09; whitespace inside; a value
  after a formula's result) leaves its mark so."""
VALUE_TEXT = re.compile(rb"<v>[^<]*+</v>")
INLINE_STRING = re.compile(rb"<is>" + _INLINE + rb"</is>")
"""A <v> and an inline string as SHEET_CELL reads them: what they hold decides nothing SHEET_CELL finds
but the value (no mark, no end of the element)."""
PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
"""Any cell: column letters, row number, its attributes, what it holds."""
PLAIN_VALUE = re.compile(rb"<v>([^<]*)</v>")
CELL_TYPE = re.compile(rb'\bt="(\w+)"')
PLAIN_ATTRIBUTES = re.compile(rb'(?: [\w:]++="[^"<]*+")*+')
"""An element's attribute text as every writer writes it: name="value" pairs, one space before each.
Anything else (t='s', t = "s", a "/" of a cell closed at once) leaves what CELL_TYPE finds unsure."""
_NUMBER = rb"[+-]?+(?:(?:[0-9]++\.?+[0-9]*+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+|(?i:infinity|inf|nan))"
NUMBERS = re.compile(_NUMBER + rb"(?: " + _NUMBER + rb")*+")
"""Numbers in <v>s as calamine reads them (Rust's f64 parsing), joined by a space (to check a
sheet's at once): no spaces around one, no "_" between digits, which Python's float accepts."""
CELL_STYLE = re.compile(rb'\bs="(\d+)"')
TEXT_RUN = re.compile(rb"<t(\s[^>]*)?>([^<]*)</t>|<t\s*/>")
"""A text run of a string item: its attributes (xml:space="preserve" or none) and its text (b"", b"" for <t/>)."""
PHONETIC = re.compile(rb"<rPh\b.*?</rPh>", re.S)
SHARED_STRING = re.compile(rb"<si>(.*?)</si>|<si\s*/>", re.S)
NUMBER_FORMAT = re.compile(rb"<numFmt\b([^>]*)>")
CELL_FORMATS = re.compile(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", re.S)
CELL_FORMAT = re.compile(rb"<xf\b([^>]*)>")
# numFmtIds Excel reserves for dates and times (14-22, 45-47) and the East Asian ones
DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)])
DATE_CODE = re.compile(r"[dmyhsDMYHSeg年月日时時分秒]")
"""A character of a number format's code that shows a date or a time (once quoted text,
[colours] and escapes are taken out)."""


def attributes(raw: bytes) -> dict[bytes, bytes]:
    """An element's attribute text → name → value (still escaped)."""
    return dict(ATTRIBUTE.findall(raw))


def unescape(raw: bytes) -> str:
    """Text or an attribute value as in the XML → the text (UnicodeDecodeError for bytes not UTF-8)."""
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def part_path(target: str, base: str = "xl/") -> str:
    """A relationship's target → the part's path in the zip (relative to `base`, the folder of
    the part the relationship belongs to; "/" for the package's root)."""
    if target.startswith("/"):
        return target[1:]
    path = base + target
    while "/../" in path:
        path = re.sub(r"[^/]+/\.\./", "", path, count=1)
    return path


def normal_formula(formula: str) -> str:
    """One formula as text (with or without its "="), without what Excel changes when it saves a
    formula it did not alter: $, spaces, quotes, case, the _xlfn. prefix. `normal_formulas` applies
    the same rule to a sheet's formulas at once, as bytes."""
    s = formula[1:] if formula.startswith("=") else formula
    s = re.sub(r"_xl(?:fn|ws)\.", "", s)
    return re.sub(r"[\s$']", "", s).upper()


def normal_formulas(pairs) -> bytes:
    """(address, formula as in the XML) pairs → one string, without what another program changes
    when it saves a formula it did not alter: entities, $, quotes around sheet names, spaces,
    case and the _xlfn. prefix. The fast path compares a sheet's formulas with the template's so."""
    blob = b"\x00".join(chain.from_iterable(pairs))
    if b"&" in blob:
        blob = (blob.replace(b"&quot;", b'"').replace(b"&apos;", b"'").replace(b"&lt;", b"<")
                .replace(b"&gt;", b">").replace(b"&amp;", b"&"))
    # characters beyond ASCII as the numbers some writers put (&#30446; for 目): written the
    # same way in every file and template alike, in C, rather than each reference decoded
    blob = blob.decode("utf-8").encode("ascii", "xmlcharrefreplace")
    blob = blob.replace(b"_xlfn.", b"").replace(b"_xlws.", b"")
    return blob.translate(None, b" \t\r\n$'").upper()


def formula_text(raw: bytes) -> str:
    """The text of an <f> element as found in the XML, unescaped."""
    if b"&" in raw:
        if b"&#" in raw:
            return html.unescape(raw.decode("utf-8", "replace"))
        for entity, char in XML_ENTITIES:
            raw = raw.replace(entity, char)
        raw = raw.replace(b"&amp;", b"&")
    return raw.decode("utf-8", "replace")


def sheet_bytes(zf: zipfile.ZipFile) -> int:
    """The sheets' size unpacked: the bound a workbook's declared row counts are held to."""
    return sum(i.file_size for i in zf.infolist() if i.filename.startswith(WORKSHEETS))
