"""Apply a write-back's edits (writeback.py) to an .xlsx file, part by part.

Only the parts the edits concern are parsed and written again: the sheets with
computed cells, marks or the Checks rows, `_xlplan`, and — when a mark is the first
note or the first highlight of a workbook — the styles, a sheet's comments and VML
drawing, its relationships and the content types. Every other member of the zip
(drawings, pictures, charts, text boxes, the user's comments on other sheets, custom
XML, VBA, printer settings, web extensions) is copied byte for byte. Within an edited
part, only xlplan's own elements change: cached values of its formulas, its
conditional-format rules, its notes, the Checks rows and their links, and the height
of a row whose text needs more room than the row has (never lowered).

The file is replaced atomically in its own folder (see `replace`): a temporary file
named `.~xlplan-*.tmp` (hidden, and no workbook name a merge would take) is written,
given the original's mode and owner, and renamed over the target; a symlink is
followed and its target written. On any failure the original stays as it was.
"""
from __future__ import annotations

import errno
import io
import os
import posixpath
import re
import tempfile
import zipfile
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from lxml import etree

from ..model import WorkbookError
from ..template import paper
from ..template.layout import META_SHEET, WRAPPED_CHECK_COLUMNS
from ..template.xlfuncs import XlErr
from . import ooxml
from . import writeback as wbk

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
TAB_SELECTED = re.compile(rb"""tabSelected=["'](?:1|true)["']""")  # a sheet selected beside the active one
REL_COMMENTS = "/comments"
REL_VML = "/vmlDrawing"
REL_SHARED_STRINGS = "/sharedStrings"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
TEMP_PREFIX = ".~xlplan-"
# the order of a worksheet's children (ECMA-376, CT_Worksheet): a new element goes in its place
WORKSHEET_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr",
                   "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate",
                   "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting", "dataValidations",
                   "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter", "rowBreaks",
                   "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
                   "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                   "webPublishItems", "tableParts", "extLst")
STYLES_ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
                "tableStyles", "colors", "extLst")
BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAX_CELL_TEXT = 32_767  # Excel's limit for the text of one cell


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def clean_text(s: str) -> str:
    return BAD_XML_CHARS.sub("", str(s))[:MAX_CELL_TEXT]


# -- the package -------------------------------------------------------------------------------
class Package:
    """An .xlsx opened for editing: parts parsed on demand, written back only when changed."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.zf = zf
        self.name = name
        self.names = {i.filename for i in zf.infolist()}
        self.trees: dict[str, etree._Element] = {}
        self.texts: dict[str, str] = {}  # parts edited as text (VML, which is not always well-formed XML)
        self.changed: set[str] = set()
        self.added: list[str] = []
        book = self.tree(ooxml.WORKBOOK)
        self.main = etree.QName(book).namespace
        # the relationships namespace: declared on the root, or (as openpyxl writes Strict) on each sheet entry
        declared = set((book.nsmap or {}).values()) | {etree.QName(key).namespace for sheet in book.iter(
            f"{{{self.main}}}sheet") for key in sheet.attrib if key.startswith("{")}
        self.rel_ns = next((ns for ns in ooxml.RELATIONSHIPS if ns in declared), ooxml.RELATIONSHIPS[0])
        rels = self.rels_of(ooxml.WORKBOOK)
        self.sheet_part = {}
        for sheet in book.iter(f"{{{self.main}}}sheet"):
            rid = sheet.get(f"{{{self.rel_ns}}}id") or next(
                (v for k, v in sheet.attrib.items() if local(k) == "id" and k != "id"), None)
            if rid in rels:
                self.sheet_part[sheet.get("name")] = rels[rid][1]
        self.shared_strings: list[str] | None = None

    # parts
    def read(self, part: str) -> bytes:
        return ooxml.read_part(self.zf, part)  # a part missing or damaged: ooxml.PartUnreadable

    def tree(self, part: str):
        if part not in self.trees:
            if part in self.names:
                self.trees[part] = etree.fromstring(self.read(part), PARSER)
            else:
                raise KeyError(part)
        return self.trees[part]

    def new_tree(self, part: str, root) -> None:
        self.trees[part] = root
        self.changed.add(part)
        if part not in self.names:
            self.names.add(part)
            self.added.append(part)

    def touch(self, part: str) -> None:
        self.changed.add(part)

    def q(self, tag: str) -> str:
        return f"{{{self.main}}}{tag}"

    # relationships
    @staticmethod
    def rels_path(part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels_of(self, part: str) -> dict[str, tuple[str, str]]:
        """rId → (type, target part path) of a part's relationships (external ones left out)."""
        path = self.rels_path(part)
        if path not in self.names:
            return {}
        out = {}
        for rel in self.tree(path):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target") or ""
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
            out[rel.get("Id")] = (rel.get("Type") or "", resolved)
        return out

    def add_rel(self, part: str, rel_type: str, target: str) -> str:
        path = self.rels_path(part)
        if path in self.names:
            root = self.tree(path)
        else:
            root = etree.Element(f"{{{ooxml.PACKAGE_RELATIONSHIPS}}}Relationships",
                                 nsmap={None: ooxml.PACKAGE_RELATIONSHIPS})
            self.new_tree(path, root)
        ids = {rel.get("Id") for rel in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        rel = etree.SubElement(root, f"{{{ooxml.PACKAGE_RELATIONSHIPS}}}Relationship")
        rel.set("Id", f"rId{n}")
        rel.set("Type", rel_type)
        rel.set("Target", "/" + target)
        self.touch(path)
        return f"rId{n}"

    def rel_type(self, kind: str) -> str:
        return self.rel_ns + kind

    def content_type(self, part: str | None, extension: str | None, value: str) -> None:
        root = self.tree(ooxml.CONTENT_TYPES)
        if extension:
            if any(d.get("Extension", "").lower() == extension for d in root if local(d.tag) == "Default"):
                return
            el = etree.Element(f"{{{ooxml.PACKAGE_CONTENT_TYPES}}}Default")
            el.set("Extension", extension)
            root.insert(0, el)
        elif part is not None:
            el = etree.SubElement(root, f"{{{ooxml.PACKAGE_CONTENT_TYPES}}}Override")
            el.set("PartName", "/" + part)
        else:
            raise ValueError("a content type is declared for a part or for an extension")
        el.set("ContentType", value)
        self.touch(ooxml.CONTENT_TYPES)

    def free_name(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.names:
            n += 1
        return pattern.format(n)

    def strings(self) -> list[str]:
        """The shared strings, read only (xlplan writes its own text as inline strings)."""
        if self.shared_strings is None:
            self.shared_strings = []
            for _, (kind, target) in self.rels_of(ooxml.WORKBOOK).items():
                if kind.endswith(REL_SHARED_STRINGS) and target in self.names:
                    root = self.tree(target)
                    self.shared_strings = ["".join(t.text or "" for t in si.iter() if local(t.tag) == "t"
                                                   and local(t.getparent().tag) != "rPh")
                                           for si in root if local(si.tag) == "si"]
        return self.shared_strings

    def serialize(self, part: str) -> bytes:
        if part in self.texts:
            return self.texts[part].encode("utf-8")
        return XML_DECLARATION + etree.tostring(self.trees[part], encoding="UTF-8", xml_declaration=False)

    def write(self, out: zipfile.ZipFile) -> None:
        for info in self.zf.infolist():
            if info.filename in self.changed:
                out.writestr(info, self.serialize(info.filename))
            else:
                # unchanged: the same bytes, under the same name, date and compression
                out.writestr(info, self.read(info.filename))
        for part in self.added:
            out.writestr(zipfile.ZipInfo(part, date_time=(1980, 1, 1, 0, 0, 0)), self.serialize(part),
                         compress_type=zipfile.ZIP_DEFLATED)


# -- a worksheet ----------------------------------------------------------------------------------
class Sheet:
    """One worksheet's XML, with its cells found by address."""

    def __init__(self, package: Package, title: str):
        self.package = package
        self.title = title
        self.part = package.sheet_part[title]
        self.root = package.tree(self.part)
        self.q = package.q
        self.data = self.root.find(self.q("sheetData"))
        if self.data is None:
            self.data = etree.Element(self.q("sheetData"))
            insert_in_order(self.root, self.data, WORKSHEET_ORDER)
        self._rows: dict[int, etree._Element] | None = None
        self._widths: dict[int, float] | None = None

    def changed(self) -> None:
        self.package.touch(self.part)

    def rows(self) -> dict[int, etree._Element]:
        if self._rows is None:
            self._rows = {}
            last = 0
            for row in self.data.iterchildren(self.q("row")):
                r = int(row.get("r") or last + 1)
                row.set("r", str(r))
                last = r
                self._rows[r] = row
        return self._rows

    def cell(self, address: str, create: bool = False):
        r, c = ooxml.row_col(address)
        row = self.rows().get(r)
        if row is None:
            if not create:
                return None
            row = etree.Element(self.q("row"))
            row.set("r", str(r))
            after = [n for n in self.rows() if n < r]
            if after:
                self.rows()[max(after)].addnext(row)
            else:
                self.data.insert(0, row)
            self.rows()[r] = row
        last = 0
        for cell in row.iterchildren(self.q("c")):
            ref = cell.get("r")
            col = ooxml.row_col(ref)[1] if ref else last + 1
            if not ref:
                cell.set("r", f"{ooxml.column_letters(col)}{r}")
            last = col
            if col == c:
                return cell
            if col > c:
                if not create:
                    return None
                new = etree.Element(self.q("c"))
                new.set("r", address)
                cell.addprevious(new)
                return new
        if not create:
            return None
        new = etree.SubElement(row, self.q("c"))
        new.set("r", address)
        return new

    def _format(self, name: str) -> float | None:
        found = self.root.find(self.q("sheetFormatPr"))
        value = found.get(name) if found is not None else None
        return float(value) if value else None

    def column_width(self, col: int) -> float:
        """A column's width in Excel's unit: its <col>, else the sheet's default width; 0 for a
        hidden column (as Excel answers for it)."""
        if self._widths is None:
            cols = self.root.find(self.q("cols"))
            self._widths = ooxml.column_widths(
                (int(spec.get("min")), int(spec.get("max")), float(spec.get("width") or 0) or None,
                 spec.get("hidden") in ("1", "true"))
                for spec in (cols.iterchildren(self.q("col")) if cols is not None else ())
                if spec.get("min") and spec.get("max"))
        return self._widths.get(col, self._format("defaultColWidth") or paper.DEFAULT_WIDTH)

    def row_height(self, r: int) -> float | None:
        """A row's height in points (its own, else the sheet's default); 0 for a hidden row;
        None where the sheet has no such row."""
        row = self.rows().get(r)
        if row is None:
            return None
        if row.get("hidden") in ("1", "true"):
            return 0.0
        return float(row.get("ht") or self._format("defaultRowHeight") or paper.row_height(1))

    def text_of(self, cell) -> str | None:
        kind = cell.get("t")
        if kind == "inlineStr":
            return "".join(t.text or "" for t in cell.iter(self.q("t")))
        v = cell.find(self.q("v"))
        if v is None or v.text is None:
            return None
        if kind == "s":
            strings = self.package.strings()
            i = int(v.text)
            return strings[i] if 0 <= i < len(strings) else None
        return v.text


def insert_in_order(parent, element, order: tuple[str, ...]) -> None:
    """Insert `element` among `parent`'s children where the schema's order puts it."""
    rank = order.index(local(element.tag))
    position = 0
    current = -1
    for i, child in enumerate(parent):
        name = local(child.tag)
        if name in order:
            current = order.index(name)
        if current <= rank:
            position = i + 1
    parent.insert(position, element)


def _clear_value(cell, q) -> None:
    for child in list(cell):
        if local(child.tag) in ("v", "is"):
            cell.remove(child)
    for attr in ("t", "cm", "vm"):
        cell.attrib.pop(attr, None)


def _put_value(cell, value, q) -> None:
    """The value part of a formula cell: type attribute and <v>."""
    _clear_value(cell, q)
    v = etree.SubElement(cell, q("v"))
    if isinstance(value, XlErr):
        cell.set("t", "e")
        v.text = value.code
    elif isinstance(value, bool):
        cell.set("t", "b")
        v.text = str(int(value))
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            cell.set("t", "e")
            v.text = "#NUM!"
        else:
            v.text = repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))
    else:
        cell.set("t", "str")
        v.text = clean_text("" if value is None else value)


def _put_text(cell, text: str, q) -> None:
    for child in list(cell):
        cell.remove(child)
    for attr in ("t", "cm", "vm"):
        cell.attrib.pop(attr, None)
    cell.set("t", "inlineStr")
    is_ = etree.SubElement(cell, q("is"))
    t = etree.SubElement(is_, q("t"))
    t.text = clean_text(text)
    t.set(ooxml.XML_SPACE, "preserve")


def set_cached(sheet: Sheet, address: str, value) -> bool:
    """The cached result of the formula in a cell; nothing where the cell holds no formula."""
    cell = sheet.cell(address)
    if cell is None or cell.find(sheet.q("f")) is None:
        return False
    _put_value(cell, value, sheet.q)
    sheet.changed()
    return True


def set_formula(sheet: Sheet, address: str, formula: str, value) -> None:
    cell = sheet.cell(address, create=True)
    f = cell.find(sheet.q("f"))
    if f is not None and f.get("t") == "shared" and f.get("ref"):
        return  # the master of a shared formula: other cells depend on its text; left as it is
    for child in list(cell):
        cell.remove(child)
    f = etree.SubElement(cell, sheet.q("f"))
    f.text = formula[1:] if formula.startswith("=") else formula
    _put_value(cell, value, sheet.q)
    sheet.changed()


def fit_row(sheet: Sheet, edit: wbk.FitRow) -> None:
    """Grow a row to the height its text needs in the sheet's column widths; a row that is as
    high already (the template's, or made higher by the user) or hidden stays as it is."""
    need = edit.grown(sheet.row_height(edit.row), sheet.column_width)
    if need is None:
        return
    row = sheet.rows()[edit.row]
    row.set("ht", f"{need:g}")
    row.set("customHeight", "1")  # what a height of its own says: Excel and LibreOffice keep it
    sheet.changed()


# -- the Checks sheet ---------------------------------------------------------------------------


def fill_checks(package: Package, edit: wbk.ChecksRows, styles: "Styles") -> None:
    if edit.sheet not in package.sheet_part:
        return  # the clerk deleted the Checks sheet: the findings are printed and in the report
    sheet = Sheet(package, edit.sheet)
    q = sheet.q
    for r, row in list(sheet.rows().items()):
        if r >= edit.first_row:
            sheet.data.remove(row)
            del sheet.rows()[r]
    links = sheet.root.find(q("hyperlinks"))
    if links is not None:
        for link in list(links):
            ref = link.get("ref") or ""
            try:
                if ooxml.row_col(ref.split(":")[0])[0] >= edit.first_row:
                    links.remove(link)
            except ValueError:
                continue
    column_of = {name: k + 1 for k, name in enumerate(edit.columns)}
    for i, row in enumerate(edit.rows):
        r = edit.first_row + i
        for k, text in enumerate(row.values, start=1):
            if text == "" and k > 1:
                continue
            cell = sheet.cell(f"{ooxml.column_letters(k)}{r}", create=True)
            _put_text(cell, text, q)
            name = edit.columns[k - 1] if k <= len(edit.columns) else ""
            wraps = name in WRAPPED_CHECK_COLUMNS
            style = None
            if name == "severity" and row.severity:
                style = styles.severity_xf(row.severity)
            elif name == "cell" and row.link:
                style = styles.link_xf(wrap=wraps)
            elif wraps:
                style = styles.wrap_xf()
            if style is not None:
                cell.set("s", str(style))
        if row.height:  # neither Excel nor LibreOffice grows a row for wrapped text on opening a file
            line = sheet.rows()[r]
            line.set("ht", f"{row.height:g}")
            line.set("customHeight", "1")
        if row.link and "cell" in column_of:
            if links is None:
                links = etree.Element(q("hyperlinks"))
                insert_in_order(sheet.root, links, WORKSHEET_ORDER)
            link = etree.SubElement(links, q("hyperlink"))
            link.set("ref", f"{ooxml.column_letters(column_of['cell'])}{r}")
            link.set("location", row.link)
            link.set("display", row.values[column_of["cell"] - 1])
    if links is not None and len(links) == 0:
        sheet.root.remove(links)
    last = edit.first_row + len(edit.rows) - 1
    dim = sheet.root.find(q("dimension"))
    if dim is not None:
        dim.set("ref", f"A1:{ooxml.column_letters(max(len(edit.columns), 1))}{max(last, 1)}")
    sheet.changed()


# -- styles: found or added by content, so a second recalc adds nothing ------------------------------
class Styles:
    def __init__(self, package: Package):
        self.package = package
        self.part = next((target for kind, target in package.rels_of(ooxml.WORKBOOK).values()
                          if kind.endswith("/styles")), None)
        self.root = package.tree(self.part) if self.part and self.part in package.names else None
        self.cache: dict[tuple, int | None] = {}

    def _q(self, tag):
        return f"{{{etree.QName(self.root).namespace}}}{tag}"

    def _ensure(self, container: str, xml: str) -> int | None:
        """Index of a child of `container` equal to `xml` (added when missing)."""
        if self.root is None or self.part is None:  # no styles part: nothing to find or add
            return None
        parent = self.root.find(self._q(container))
        if parent is None:
            parent = etree.Element(self._q(container))
            parent.set("count", "0")
            insert_in_order(self.root, parent, STYLES_ORDER)
        ns = etree.QName(self.root).namespace
        wanted = etree.fromstring(f'<wrap xmlns="{ns}">{xml}</wrap>', PARSER)[0]
        key = _canonical(wanted)
        for i, child in enumerate(parent):
            if _canonical(child) == key:
                return i
        parent.append(wanted)
        parent.set("count", str(len(parent)))
        self.package.touch(self.part)
        return len(parent) - 1

    def dxf(self, colour: str) -> int | None:
        key = ("dxf", colour)
        if key not in self.cache:
            self.cache[key] = self._ensure("dxfs", f'<dxf><fill><patternFill patternType="solid">'
                                                   f'<fgColor rgb="FF{colour}"/><bgColor rgb="FF{colour}"/>'
                                                   f'</patternFill></fill></dxf>')
        return self.cache[key]

    def _xf(self, key, fill: str | None = None, font: str | None = None, wrap: bool = False) -> int | None:
        if key in self.cache:
            return self.cache[key]
        fill_id = self._ensure("fills", f'<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/>'
                                        f'<bgColor indexed="64"/></patternFill></fill>') if fill else 0
        font_id = self._ensure("fonts", font) if font else 0
        attrs = f'numFmtId="0" fontId="{font_id}" fillId="{fill_id}" borderId="0" xfId="0"'
        attrs += ' applyFill="1"' if fill else ""
        attrs += ' applyFont="1"' if font else ""
        inner = '<alignment vertical="top" wrapText="1"/>' if wrap else ""
        attrs += ' applyAlignment="1"' if wrap else ""
        self.cache[key] = self._ensure("cellXfs", f"<xf {attrs}>{inner}</xf>")
        return self.cache[key]

    def bold_xf(self, size: float | None = None) -> int | None:
        """The workbook's own font (its East Asian face included), bold, at `size` points."""
        key = ("bold", size)
        if key in self.cache or self.root is None:
            return self.cache.get(key)
        fonts = self.root.find(self._q("fonts"))
        base = fonts[0] if fonts is not None and len(fonts) else etree.Element(self._q("font"))
        font = etree.fromstring(etree.tostring(base), PARSER)
        for child in list(font):
            if local(child.tag) in ("b", "sz"):
                font.remove(child)
        font.insert(0, etree.Element(self._q("b")))
        if size is not None or base.find(self._q("sz")) is not None:
            sz = etree.SubElement(font, self._q("sz"))
            sz.set("val", str(size if size is not None else base.find(self._q("sz")).get("val")))
        return self._xf(key, font=etree.tostring(font, encoding="unicode"))

    def severity_xf(self, severity: str) -> int | None:
        return self._xf(("severity", severity), fill=wbk.COLOURS[severity])

    def wrap_xf(self) -> int | None:
        return self._xf(("wrap",), wrap=True)

    def link_xf(self, wrap: bool = False) -> int | None:
        return self._xf(("link", wrap), wrap=wrap,
                        font='<font><u/><sz val="10"/><color rgb="FF0563C1"/><name val="Arial"/>'
                             '<scheme val="minor"/></font>')  # styles.LINK_FONT


def _canonical(el) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True)


# -- marks: conditional formats and notes ------------------------------------------------------------
def remove_mark_rules(sheet: Sheet, legacy_cells: set[str]) -> None:
    """Every conditional-format rule of xlplan on the sheet, wherever another program moved it;
    `legacy_cells`: cells marked by an older xlplan, whose rule's formula is TRUE."""
    changed = False
    for rule in list(sheet.root.iter("{*}cfRule")):
        formulas = [f.text or "" for f in rule.iter() if local(f.tag) in ("formula", "f")]
        parent = rule.getparent()
        sqref = parent.get("sqref") or "".join(s.text or "" for s in parent.iter() if local(s.tag) == "sqref")
        ours = any(wbk.is_mark_formula(f) for f in formulas)
        legacy = (rule.get("type") == "expression" and [f.strip().upper() for f in formulas] == ["TRUE"]
                  and sqref.strip() in legacy_cells)
        if ours or legacy:
            parent.remove(rule)
            changed = True
            if not any(local(c.tag) == "cfRule" for c in parent):
                parent.getparent().remove(parent)
    if changed:
        sheet.changed()


def add_mark_rule(sheet: Sheet, address: str, dxf: int | None) -> None:
    q = sheet.q
    priorities = [int(r.get("priority")) for r in sheet.root.iter("{*}cfRule") if (r.get("priority") or "").isdigit()]
    cf = etree.Element(q("conditionalFormatting"))
    cf.set("sqref", address)
    rule = etree.SubElement(cf, q("cfRule"))
    rule.set("type", "expression")
    if dxf is not None:
        rule.set("dxfId", str(dxf))
    rule.set("priority", str(max(priorities, default=0) + 1))
    etree.SubElement(rule, q("formula")).text = wbk.MARK_FORMULA
    insert_in_order(sheet.root, cf, WORKSHEET_ORDER)
    sheet.changed()


VML_SHAPE = re.compile(r"<v:shape\b.*?</v:shape>", re.S)
VML_NOTE_SHAPETYPE = (
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
VML_EMPTY = ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
             'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
             '<o:idmap v:ext="edit" data="{idmap}"/></o:shapelayout>' + VML_NOTE_SHAPETYPE + '</xml>')


class Notes:
    """A sheet's comments part and the VML drawing that shows them."""

    def __init__(self, package: Package, sheet: Sheet):
        self.package, self.sheet = package, sheet
        rels = package.rels_of(sheet.part)
        self.comments = next((t for kind, t in rels.values() if kind.endswith(REL_COMMENTS) and t in package.names),
                             None)
        legacy = sheet.root.find(sheet.q("legacyDrawing"))
        rid = None
        if legacy is not None:
            rid = next((v for k, v in legacy.attrib.items() if local(k) == "id"), None)
        self.vml = rels[rid][1] if rid in rels and rels[rid][1] in package.names else None

    def _made_comments(self) -> str:
        """The comments part, made (empty) and related to the sheet if it has none."""
        if self.comments is None:
            main = self.package.main
            root = etree.Element(f"{{{main}}}comments", nsmap={None: main})
            etree.SubElement(root, f"{{{main}}}authors")
            etree.SubElement(root, f"{{{main}}}commentList")
            self.comments = self.package.free_name("xl/comments{}.xml")
            self.package.new_tree(self.comments, root)
            self.package.add_rel(self.sheet.part, self.package.rel_type(REL_COMMENTS), self.comments)
            self.package.content_type(self.comments, None, CT_COMMENTS)
        return self.comments

    def _made_vml(self) -> str:
        """The VML drawing part, made (empty) and linked from the sheet if it has none."""
        if self.vml is None:
            texts = [self.package.read(p).decode("utf-8", "replace") for p in self.package.zf.namelist()
                     if p.endswith(".vml") and p not in self.package.texts] + list(self.package.texts.values())
            used = [int(m) for text in texts for m in re.findall(r'idmap[^>]*data="(\d+)', text)]
            self.vml = self.package.free_name("xl/drawings/vmlDrawing{}.vml")
            self.package.texts[self.vml] = VML_EMPTY.format(idmap=max(used, default=0) + 1)
            self.package.names.add(self.vml)
            self.package.added.append(self.vml)
            self.package.changed.add(self.vml)
            rid = self.package.add_rel(self.sheet.part, self.package.rel_type(REL_VML), self.vml)
            legacy = etree.Element(self.sheet.q("legacyDrawing"))
            legacy.set(f"{{{self.package.rel_ns}}}id", rid)
            insert_in_order(self.sheet.root, legacy, WORKSHEET_ORDER)
            self.sheet.changed()
            self.package.content_type(None, "vml", CT_VML)
        return self.vml

    def _vml_text(self, part: str) -> str:
        """A VML drawing's text, read once and then edited in place (package.texts)."""
        if part not in self.package.texts:
            self.package.texts[part] = self.package.read(part).decode("utf-8", "replace")
        return self.package.texts[part]

    def _each(self) -> Iterator[tuple[Any, str, str, str]]:
        """(comment element, cell, author, text) of every note on the sheet."""
        if self.comments is None:
            return
        root = self.package.tree(self.comments)
        authors = [a.text or "" for a in root.iter("{*}author")]
        for c in list(root.iter("{*}comment")):
            aid = c.get("authorId") or "0"
            author = authors[int(aid)] if aid.isdigit() and int(aid) < len(authors) else ""
            yield c, c.get("ref"), author, _comment_text(c)

    def by_cell(self) -> dict[str, tuple[str, str]]:
        """cell → (author, text) of every note on the sheet."""
        return {ref: (author, text) for _, ref, author, text in self._each()}

    def foreign(self) -> set[str]:
        """Cells with someone else's note: xlplan puts no note there."""
        return {ref for ref, (author, text) in self.by_cell().items() if not wbk.is_mark_note(text, author)}

    def remove_ours(self) -> None:
        self.remove_where(lambda ref, author, text: wbk.is_mark_note(text, author))

    def remove_where(self, drop_note: Callable[[str, str, str], bool]) -> None:
        """Remove the notes for which drop_note(cell, author, text) holds, with their VML shapes."""
        gone = []
        for c, ref, author, text in self._each():
            if drop_note(ref, author, text):
                c.getparent().remove(c)
                gone.append(ooxml.row_col(ref))
        if not gone or self.comments is None:
            return
        self.package.touch(self.comments)
        if self.vml is None:
            return
        vml = self._vml_text(self.vml)
        cells = {(r - 1, c - 1) for r, c in gone}

        def drop(m):
            shape = m.group(0)
            if "Note" not in shape:
                return shape
            row = re.search(r"<x:Row>\s*(\d+)\s*</x:Row>", shape)
            col = re.search(r"<x:Column>\s*(\d+)\s*</x:Column>", shape)
            if row and col and (int(row.group(1)), int(col.group(1))) in cells:
                return ""
            return shape

        self.package.texts[self.vml] = VML_SHAPE.sub(drop, vml)
        self.package.changed.add(self.vml)

    def add(self, address: str, note: str, author: str = wbk.NOTE_AUTHOR) -> None:
        part = self._made_comments()
        root = self.package.tree(part)
        main = etree.QName(root).namespace
        authors = root.find(f"{{{main}}}authors")
        names = [a.text for a in authors]
        author = clean_text(author)
        if author in names:
            aid = names.index(author)
        else:
            etree.SubElement(authors, f"{{{main}}}author").text = author
            aid = len(names)
        clist = root.find(f"{{{main}}}commentList")
        comment = etree.SubElement(clist, f"{{{main}}}comment")
        comment.set("ref", address)
        comment.set("authorId", str(aid))
        text_el = etree.SubElement(comment, f"{{{main}}}text")
        t = etree.SubElement(etree.SubElement(text_el, f"{{{main}}}r"), f"{{{main}}}t")
        t.text = clean_text(note)
        t.set(ooxml.XML_SPACE, "preserve")
        self.package.touch(part)
        vml = self._made_vml()
        text = self._vml_text(vml)
        if 'id="_x0000_t202"' not in text:
            text = text.replace("</xml>", VML_NOTE_SHAPETYPE + "</xml>")
        ids = [int(n) for n in re.findall(r"_x0000_s(\d+)", text)]
        idmap = re.search(r'idmap[^>]*data="(\d+)', text)
        first = int(idmap.group(1)) * 1024 + 1 if idmap else 1025
        spid = max(ids + [first - 1]) + 1
        r, c = ooxml.row_col(address)
        shape = (f'<v:shape id="_x0000_s{spid}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
                 f'margin-top:1.5pt;width:240pt;height:90pt;z-index:{spid % 1024};visibility:hidden" '
                 f'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
                 f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
                 f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
                 f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
                 f'<x:Anchor>{c}, 15, {max(r - 2, 0)}, 2, {c + 4}, 15, {r + 4}, 16</x:Anchor>'
                 f'<x:AutoFill>False</x:AutoFill><x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column>'
                 f'</x:ClientData></v:shape>')
        self.package.texts[vml] = text.replace("</xml>", shape + "</xml>")
        self.package.changed.add(vml)


def _comment_text(comment) -> str:
    return "".join(t.text or "" for t in comment.iter("{*}t"))


# -- _xlplan ---------------------------------------------------------------------------------------------
def set_meta(package: Package, key: str, value: str) -> None:
    if META_SHEET not in package.sheet_part:
        return
    sheet = Sheet(package, META_SHEET)
    target = None
    for r, _row in sheet.rows().items():
        first = sheet.cell(f"A{r}")
        if first is not None and sheet.text_of(first) == key:
            target = r
            break
    if target is None:
        target = max(sheet.rows(), default=0) + 1
        _put_text(sheet.cell(f"A{target}", create=True), key, sheet.q)
    _put_text(sheet.cell(f"B{target}", create=True), value, sheet.q)
    sheet.changed()


# -- a sheet of xlplan's own (AddSheet) -------------------------------------------------------------------
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
REL_WORKSHEET = "/worksheet"


def add_sheet(package: Package, edit: wbk.AddSheet, styles: "Styles") -> None:
    """Write `edit`'s sheet: a new worksheet part first in the book (workbook.xml, its
    relationships, the content types), or the content of the sheet of that title replaced.
    The sheet is made the one shown on opening."""
    book = package.tree(ooxml.WORKBOOK)
    part = package.sheet_part.get(edit.title)
    if part is None or local(package.tree(part).tag) != "worksheet":
        part = package.free_name("xl/worksheets/sheet{}.xml")
        rid = package.add_rel(ooxml.WORKBOOK, package.rel_type(REL_WORKSHEET), part)
        sheets = book.find(package.q("sheets"))
        ids = [int(s.get("sheetId")) for s in sheets if (s.get("sheetId") or "").isdigit()]
        entry = etree.Element(package.q("sheet"))
        entry.set("name", edit.title)
        entry.set("sheetId", str(max(ids, default=0) + 1))
        entry.set(f"{{{package.rel_ns}}}id", rid)
        sheets.insert(0, entry)
        for name in book.iter(package.q("definedName")):  # names local to a sheet point at it by position
            if (name.get("localSheetId") or "").isdigit():
                name.set("localSheetId", str(int(name.get("localSheetId")) + 1))
        package.content_type(part, None, CT_WORKSHEET)
        package.sheet_part[edit.title] = part
        package.touch(ooxml.WORKBOOK)
    package.new_tree(part, sheet_xml(package, edit, styles))
    show_first(package, edit.title)


def sheet_xml(package: Package, edit: wbk.AddSheet, styles: "Styles"):
    main = package.main
    q = package.q
    root = etree.Element(q("worksheet"), nsmap={None: main, "r": package.rel_ns})
    setup = etree.SubElement(etree.SubElement(root, q("sheetPr")), q("pageSetUpPr"))
    setup.set("fitToPage", "1")
    by_row: dict[int, list[tuple[int, wbk.SheetCell]]] = {}
    for cell in edit.cells:
        r, c = ooxml.row_col(cell.address)
        by_row.setdefault(r, []).append((c, cell))
    last_col = max((c for cells in by_row.values() for c, _ in cells), default=1)
    etree.SubElement(root, q("dimension")).set("ref", f"A1:{ooxml.column_letters(last_col)}{max(by_row, default=1)}")
    view = etree.SubElement(etree.SubElement(root, q("sheetViews")), q("sheetView"))
    view.set("tabSelected", "1")
    view.set("workbookViewId", "0")
    etree.SubElement(root, q("sheetFormatPr")).set("defaultRowHeight", "15")
    if edit.widths:
        cols = etree.SubElement(root, q("cols"))
        for i, width in enumerate(edit.widths, start=1):
            col = etree.SubElement(cols, q("col"))
            for key, value in (("min", i), ("max", i), ("width", width), ("customWidth", 1)):
                col.set(key, str(value))
    data = etree.SubElement(root, q("sheetData"))
    heights = dict(edit.heights)
    style_of = {"title": lambda: styles.bold_xf(14), "bold": lambda: styles.bold_xf(), "link": styles.link_xf,
                "wrap": styles.wrap_xf}
    links = []
    for r in sorted(by_row):
        row = etree.SubElement(data, q("row"))
        row.set("r", str(r))
        if r in heights:
            row.set("ht", str(heights[r]))
            row.set("customHeight", "1")
        for c, cell in sorted(by_row[r], key=lambda item: item[0]):
            el = etree.SubElement(row, q("c"))
            el.set("r", f"{ooxml.column_letters(c)}{r}")
            _put_text(el, cell.text, q)
            style = style_of[cell.style]() if cell.style in style_of else None
            if style is not None:
                el.set("s", str(style))
            if cell.link:
                links.append((el.get("r"), cell.link, cell.text))
    if edit.merged:
        merged = etree.SubElement(root, q("mergeCells"))
        merged.set("count", str(len(edit.merged)))
        for ref in edit.merged:
            etree.SubElement(merged, q("mergeCell")).set("ref", ref)
    if links:
        parent = etree.SubElement(root, q("hyperlinks"))
        for ref, location, display in links:
            link = etree.SubElement(parent, q("hyperlink"))
            link.set("ref", ref)
            link.set("location", location)
            link.set("display", clean_text(display))
    margins = etree.SubElement(root, q("pageMargins"))
    for side, inches in (("left", "0.4"), ("right", "0.4"), ("top", "0.6"), ("bottom", "0.6"), ("header", "0.3"),
                         ("footer", "0.3")):
        margins.set(side, inches)
    page = etree.SubElement(root, q("pageSetup"))
    page.set("paperSize", "9")  # A4, as the plan's sheets print
    page.set("orientation", "landscape" if edit.landscape else "portrait")
    page.set("fitToWidth", "1")
    page.set("fitToHeight", "0")
    return root


def show_first(package: Package, title: str) -> None:
    """Open the book on `title`: the workbook's active tab, and no other sheet selected with it
    (two selected tabs are a group, where typing goes into every sheet)."""
    book = package.tree(ooxml.WORKBOOK)
    names = [s.get("name") for s in book.iter(package.q("sheet"))]
    position = names.index(title)
    for view in book.iter(package.q("workbookView")):
        view.set("activeTab", str(position))
        if int(view.get("firstSheet") or 0) > position:
            view.set("firstSheet", str(position))
    package.touch(ooxml.WORKBOOK)
    for name, part in package.sheet_part.items():
        if name == title or part not in package.names:
            continue
        if part not in package.trees:
            raw = package.read(part)
            if not TAB_SELECTED.search(raw):
                continue  # not parsed, and nothing to change in it
            package.trees[part] = etree.fromstring(raw, PARSER)
        changed = False
        for view in package.tree(part).iter("{*}sheetView"):
            if view.get("tabSelected") in ("1", "true"):
                del view.attrib["tabSelected"]
                changed = True
        if changed:
            package.touch(part)


# -- a person's notes (Note, RemoveNotes) --------------------------------------------------------------
def apply_notes(package: Package, edits: list, sheet_of: Callable[[str], "Sheet | None"]) -> None:
    """Earlier notes of the given kinds removed on every sheet, then each Note added beside the
    sheet's other notes; a cell with someone's own note keeps it, xlplan's mark gives way."""
    prefixes = tuple(p for e in edits if isinstance(e, wbk.RemoveNotes) for p in e.prefixes)
    new = [e for e in edits if isinstance(e, wbk.Note)]
    for title in sorted(t for t in package.sheet_part if t != META_SHEET):
        mine = [n for n in new if n.sheet == title]
        if not mine and not (prefixes and package.rels_of(package.sheet_part[title])):
            continue
        sheet = sheet_of(title)
        if sheet is None:
            continue
        notes = Notes(package, sheet)
        if prefixes:
            notes.remove_where(lambda ref, author, text: text.lstrip().startswith(prefixes))
        if not mine:
            continue
        held = notes.by_cell()
        for note in mine:
            if note.address in held:
                author, text = held[note.address]
                if not wbk.is_mark_note(text, author):
                    continue  # someone's own note: it stays
                notes.remove_where(partial(_at, note.address))
            notes.add(note.address, note.text, note.author)
            held[note.address] = (note.author, note.text)


def _at(address: str, ref: str, author: str, text: str) -> bool:
    return ref == address


# -- applying a list of edits ---------------------------------------------------------------------
def apply(package: Package, edits: Iterable[wbk.Edit]) -> None:
    """Apply edits to an open package (see `rewrite` for a file)."""
    edits = list(edits)
    sheets: dict[str, Sheet] = {}

    def sheet(title):
        if title not in sheets:
            part = package.sheet_part.get(title)
            is_worksheet = part is not None and local(package.tree(part).tag) == "worksheet"
            sheets[title] = Sheet(package, title) if is_worksheet else None  # chart sheets have no cells
        return sheets[title]

    styles = Styles(package)
    legacy: dict[str, set[str]] = {}
    for e in edits:
        if isinstance(e, wbk.Unmark):
            legacy.setdefault(e.sheet, set()).add(e.address)
    marks = [e for e in edits if isinstance(e, wbk.Mark)]
    for e in edits:
        if isinstance(e, wbk.CachedValue) and sheet(e.sheet) is not None:
            set_cached(sheet(e.sheet), e.address, e.value)
        elif isinstance(e, wbk.RestoreFormula) and sheet(e.sheet) is not None:
            set_formula(sheet(e.sheet), e.address, e.formula, e.value)
        elif isinstance(e, wbk.FitRow) and sheet(e.sheet) is not None:
            fit_row(sheet(e.sheet), e)
        elif isinstance(e, wbk.ChecksRows):
            fill_checks(package, e, styles)
            sheets.pop(e.sheet, None)
        elif isinstance(e, wbk.SetMeta):
            set_meta(package, e.key, e.value)
        elif isinstance(e, wbk.AddSheet):
            add_sheet(package, e, styles)
            sheets.pop(e.title, None)
    if any(isinstance(e, (wbk.Note, wbk.RemoveNotes)) for e in edits):
        apply_notes(package, edits, sheet)
    if not any(isinstance(e, wbk.SetMeta) and e.key == wbk.MARKS_KEY for e in edits):
        return  # not a whole write-back (cached values only): marks stay as they are
    # marks: every old one removed on every sheet that has ours or had them, then this run's added
    titles = {t for t in package.sheet_part if t != META_SHEET}
    for title in sorted(titles):
        s = sheet(title)
        if s is None:
            continue
        remove_mark_rules(s, legacy.get(title, set()))
        notes = Notes(package, s)
        notes.remove_ours()
        mine = [m for m in marks if m.sheet == title]
        if not mine:
            continue
        foreign = notes.foreign()
        for m in mine:
            add_mark_rule(s, m.address, styles.dxf(m.colour))
            if m.address not in foreign:
                notes.add(m.address, m.note)


def rewrite(path: str | Path, edits: Iterable[wbk.Edit], out: str | Path | None = None) -> Path:
    """Apply edits to the workbook at `path`, writing `out` (default: `path` itself) atomically."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WorkbookError(f"{path.name}: cannot be opened for writing ({exc})") from None
    with zf:
        return _write_edited(zf, path.name, edits, Path(out) if out else path)


def write_edited(data: bytes, name: str, edits: Iterable[wbk.Edit], out: str | Path) -> Path:
    """Apply edits to a workbook held in memory (`name` says which in messages), writing `out`."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise WorkbookError(f"{name}: cannot be opened for writing ({exc})") from None
    with zf:
        return _write_edited(zf, name, edits, Path(out))


def _write_edited(zf: zipfile.ZipFile, name: str, edits: Iterable[wbk.Edit], out: Path) -> Path:
    try:
        package = Package(zf, name)
        apply(package, edits)
    except (*ooxml.DAMAGED, KeyError, etree.XMLSyntaxError, ValueError) as exc:
        raise WorkbookError(f"{name}: a part of the workbook cannot be edited ({exc}); "
                            "nothing was written") from None

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
            package.write(z)

    try:
        return replace(out, write)
    except ooxml.DAMAGED as exc:  # a part the reader never needed (a picture ...) cannot be copied
        raise WorkbookError(f"{name}: {exc}; nothing was written and the workbook is as it was") from None


# -- replacing a file safely ---------------------------------------------------------------------------
def replace(path: str | Path, write: Callable[[io.BufferedWriter], None]) -> Path:
    """Write a file through a temporary file in its own folder and rename it over the original.

    A symlink is followed (its target is written, the link stays); the original's mode and
    owner are kept; a file or folder the user cannot write is refused before anything is
    written; on any failure (a full disk included) the temporary file is removed and the
    original is as it was. Returns the path written.
    """
    given = Path(path)
    target = Path(os.path.realpath(given))
    name = given.name
    exists = target.exists()
    if exists and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
        # no write bit for anyone is the owner's wish even where root could write it
        raise WorkbookError(f"{name}: the file is read-only; nothing was written. Make it writable, "
                            "or write the result elsewhere with -o")
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkbookError(f"{name}: cannot create the folder {folder} ({exc.strerror})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WorkbookError(f"{name}: the folder {folder} is not writable; nothing was written")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if exists:
            st = target.stat()
            os.chmod(tmp, st.st_mode & 0o7777)
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except (PermissionError, AttributeError):
                pass  # only root may give a file away; the owner is then the one who runs recalc
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        _unlink(tmp)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise WorkbookError(f"{name}: the disk is full; nothing was written "
                                "and the workbook is as it was") from None
        raise WorkbookError(f"{name}: cannot be written ({exc.strerror or exc}); the workbook is as it was") from None
    except BaseException:
        _unlink(tmp)
        raise
    return target


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
