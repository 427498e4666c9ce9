"""The .xlsx file format, and nothing else: part names, namespaces, cell addresses, the
regular expressions that find cells in a sheet's XML, and the errors a damaged file raises.

Everything else in the workbook side asks this module rather than knowing the format
itself. Both dialects of the format are read: Transitional (what Excel, WPS, LibreOffice
and openpyxl write) and Strict (Excel's "Strict Open XML Spreadsheet"), which differ in
their namespaces only as far as xlplan looks.
"""
from __future__ import annotations

import html
import io
import re
import zipfile
import zlib

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


def read_part(zf: zipfile.ZipFile, name: str, size: int = -1) -> bytes:
    """The bytes of one part (the first `size` of them if given); PartUnreadable when it is missing
    or damaged."""
    try:
        with zf.open(name) as part:
            return part.read(size)
    except KeyError:
        raise PartUnreadable(f"the part {name} is missing") from None
    # A damaged local header or compressed stream makes zipfile seek or inflate wrongly, and it
    # then raises these plain built-ins; they are caught here, around the read alone.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise PartUnreadable(f"the part {name} is damaged ({exc})") from None


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


def as_transitional(zf: zipfile.ZipFile) -> bytes:
    """A Strict Open XML workbook's bytes with the transitional namespaces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in zf.infolist():
            data = read_part(zf, info.filename)
            if info.filename.endswith((".xml", ".rels")):
                for strict, transitional in STRICT_TO_TRANSITIONAL:
                    data = data.replace(strict, transitional)
                if info.filename == WORKBOOK:
                    data = data.replace(b' conformance="strict"', b"", 1)
            copy.writestr(info, data)
    return out.getvalue()


# -- cell addresses --------------------------------------------------------------------
def address(row: int, col: int) -> str:
    """(5, 3) → "C5"."""
    return f"{get_column_letter(col)}{row}"


def row_col(a1: str) -> tuple[int, int]:
    """"C5" or "$C$5" → (5, 3); ValueError for anything else."""
    try:
        letters, row = coordinate_from_string(a1)
    except CellCoordinatesException:
        raise ValueError(f"not a cell address: {a1!r}") from None
    return row, column_index_from_string(letters)


def column_number(letters: str) -> int:
    """"C" → 3."""
    return column_index_from_string(letters)


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


def parse_ref(text_ref: str) -> tuple[str, str] | None:
    """`'Sheet name'!$C$5:$N$5` → (sheet, "C5:N5")."""
    if "!" not in text_ref:
        return None
    sheet, ref = text_ref.rsplit("!", 1)
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref.replace("$", "")


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


def formula_text(raw: bytes) -> str:
    """The text of an <f> element as found in the XML, unescaped."""
    if b"&" in raw:
        if b"&#" in raw:
            return html.unescape(raw.decode("utf-8", "replace"))
        for entity, char in XML_ENTITIES:
            raw = raw.replace(entity, char)
        raw = raw.replace(b"&amp;", b"&")
    return raw.decode("utf-8", "replace")
