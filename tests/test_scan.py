"""The merge's fast path (read.read_scanned, scan.py) gives the detailed reader's Plan, or declines.

For every workbook of the bad-file corpus, the good files, a filled workbook of each
template in both languages and the same workbooks saved again by LibreOffice: the
fast path either says the file is not plainly as made (scan.Unusual, and the detailed
reader reads it) or reads exactly the Plan python-calamine and the cell checks read.
The usual files must take the fast path, or it would prove nothing.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from pathlib import Path

import pytest
from plans import edit_part, make, sheet_part

from xlplan import libreoffice
from xlplan.model import WorkbookError
from xlplan.workbook import ooxml, read, safety, scan
from xlplan.workbook.plan import CalamineSource, NamedBytes

CASES = Path(__file__).parent / "cases"
SAMPLES = Path(__file__).parent.parent / "workbooks" / "samples"
FIELDS = ("meta", "values", "tables", "sizes", "areas", "table_areas", "findings")
# a workbook with one of these defects must leave the fast path
DECLINED = {"circular_reference.xlsx", "date_in_number_cell.xlsx", "defined_name_deleted.xlsx",
            "formula_typed_over_computed_cell.xlsx", "merged_cells_over_inputs.xlsx", "old_template_version.xlsx",
            "ref_error_in_input.xlsx", "rows_deleted_in_block.xlsx", "rows_inserted_above_blocks.xlsx",
            "rows_inserted_in_block.xlsx", "sheet_deleted.xlsx", "sheet_renamed.xlsx",
            "value_typed_over_formula.xlsx", "xml_entity_bomb.xlsx"}


def both(path: Path):
    """(fast Plan or None when declined, detailed Plan) of a file; None, None for a file refused before reading."""
    data = path.read_bytes()
    try:
        zf = safety.admit_bytes(path.name, data)
    except WorkbookError:
        return None, None
    with zf:
        try:
            fast = read.read_scanned(path.name, zf)
        except scan.Unusual:
            fast = None
        try:
            detailed = read.assemble(CalamineSource(NamedBytes(data, path.name), zf), path.name)
        except WorkbookError:
            detailed = None
    return fast, detailed


def filled(folder: Path) -> list[Path]:
    out = []
    for template_id in ("annual_plan", "kpi_scorecard", "support_plan"):
        data = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
        params = data.pop("params", {})
        period = data.pop("period", "2027-01") if template_id == "kpi_scorecard" else ""
        assert not params or template_id != "annual_plan"
        for lang in ("zh", "en"):
            out.append(make(folder, f"{template_id}_{lang}", data, lang=lang, template_id=template_id,
                            period=period))
    return out


def assert_same_or_declined(paths: list[Path]) -> list[str]:
    """The names of the files the fast path read (each checked equal to the detailed read)."""
    read_fast = []
    for path in paths:
        fast, detailed = both(path)
        if fast is None:
            continue
        assert detailed is not None, f"{path.name}: the fast path read a file the detailed reader refuses"
        for field in FIELDS:
            assert getattr(fast, field) == getattr(detailed, field), f"{path.name}: {field} differs"
        read_fast.append(path.name)
    return read_fast


def test_the_corpus_is_read_alike_or_declined():
    corpus = sorted(p for p in CASES.iterdir() if p.is_file()) + sorted((CASES / "good").iterdir())
    read_fast = assert_same_or_declined(corpus)
    assert {"good_east.xlsx", "good_west.xlsx", "numbers_as_text.xlsx", "macros.xlsm"} <= set(read_fast)
    assert not DECLINED & set(read_fast), DECLINED & set(read_fast)


def test_each_template_as_made_takes_the_fast_path(tmp_path):
    paths = filled(tmp_path)
    assert assert_same_or_declined(paths) == [p.name for p in paths]


@pytest.mark.libreoffice
def test_files_saved_again_by_libreoffice_are_read_alike(tmp_path):
    paths = filled(tmp_path / "made")
    resaved = libreoffice.recalculate(paths, tmp_path / "resaved")
    assert assert_same_or_declined(resaved) == [p.name for p in resaved]


def test_a_number_shown_as_a_date_is_left_to_the_detailed_reader():
    styles = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<numFmts><numFmt numFmtId="164" formatCode="yyyy&quot;\xe5\xb9\xb4&quot;m&quot;\xe6\x9c\x88&quot;"/>'
              b'<numFmt numFmtId="165" formatCode="#,##0&quot; \xe5\x85\x83&quot;"/></numFmts>'
              b'<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="14"/>'
              b'</cellXfs></styleSheet>')
    assert scan.date_styles(styles) == frozenset({1, 3})


def test_formulas_compare_as_another_program_saves_them():
    ours = scan.normal_formulas([(b"C5", b"'\xe7\x9b\xae\xe6\xa0\x87'!$E$9"), (b"D6", b'IF(A1="","",_xlfn.IFS(1))')])
    theirs = scan.normal_formulas([(b"C5", b"\xe7\x9b\xae\xe6\xa0\x87!$E$9"),
                                   (b"D6", b"if(A1=&quot;&quot;, &quot;&quot;, IFS(1))")])
    moved = scan.normal_formulas([(b"C6", b"\xe7\x9b\xae\xe6\xa0\x87!$E$9"),
                                  (b"D6", b"if(A1=&quot;&quot;, &quot;&quot;, IFS(1))")])
    assert ours == theirs != moved


def test_rows_naming_their_number_after_another_attribute_are_read_alike(tmp_path):
    """Cells are found by their own addresses, whatever their rows' attributes say first."""
    data = json.loads((SAMPLES / "annual_plan.json").read_text(encoding="utf-8"))
    made = make(tmp_path, "annual_plan", data, lang="zh", template_id="annual_plan")
    reordered = tmp_path / "rows_reordered.xlsx"
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(reordered, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                part = re.sub(rb'<row r="(\d+)"', rb'<row spans="1:2" r="\1"', part)
            out.writestr(info, part)
    assert assert_same_or_declined([made, reordered]) == [made.name, reordered.name]


def test_a_sheets_formulas_normalised_once_are_normalised_alike():
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheetData><row r="5"><c r="C5" s="1"><f>\xe7\x9b\xae\xe6\xa0\x87!$E$9</f><v>3</v></c>'
           b'<c r="D5"><f>IF(A1=&quot;&quot;,&quot;&quot;,1)</f></c></row></sheetData></worksheet>')
    made = scan.normal_formulas([(b"C5", b"'\xe7\x9b\xae\xe6\xa0\x87'!$E$9"), (b"D5", b'IF(A1="","",1)')])
    moved = scan.normal_formulas([(b"C6", b"'\xe7\x9b\xae\xe6\xa0\x87'!$E$9"), (b"D5", b'IF(A1="","",1)')])
    for _ in range(2):  # normalised, then as found before
        assert scan.SheetCells(xml).has_formulas(made) and not scan.SheetCells(xml).has_formulas(moved)
    assert not scan.SheetCells(xml.replace(b"E$9", b"E$8")).has_formulas(made)
    empty = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
    assert scan.SheetCells(empty).has_formulas(scan.normal_formulas([]))
    assert not scan.SheetCells(empty).has_formulas(made)


def test_a_sheet_without_inputs_whose_cells_were_read_before_is_read_alike(monkeypatch):
    """A sheet no input lives on is passed at once where only its values differ from a sheet found
    so before; anything else is read (or refused) as SheetCells reads it."""
    sheet = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="str"><f>A1&amp;"x"</f><v>3</v></c>'
             b'<c r="C1" t="inlineStr"><is><t>label</t></is></c></row></sheetData></worksheet>')
    made = scan.normal_formulas([(b"B1", b'A1&"x"')])
    scan._MADE_OF_CELLS.clear()
    assert scan.SheetCells(sheet).has_formulas(made) and scan.without_inputs_has_formulas(sheet, made)
    other_values = sheet.replace(b"<v>0</v>", b"<v>7</v>").replace(b"<v>3</v>", b"<v>ab</v>").replace(
        b"<t>label</t>", b'<r><t xml:space="preserve">another </t></r><r><t>label</t></r>')
    with monkeypatch.context() as patched:
        patched.setattr(scan, "SheetCells", None)  # read at once: SheetCells is not asked
        assert scan.without_inputs_has_formulas(other_values, made)
    assert not scan.without_inputs_has_formulas(other_values, scan.normal_formulas([(b"B1", b'A1&"y"')]))
    edits = [(b"<f>A1", b"<f>A2"),  # another formula
             (b"</f><v>3</v>", b"</f><is><t>3</t></is>"),  # an inline string after a formula
             (b'<row r="1">', b'<row r="1"><v>5</v>'),  # a value outside a cell
             (b"<t>label</t>", b"<t>label</t><!-- -->"),  # a comment in an inline string
             (b"<t>label</t>", b'<t>label</t><rPr><family val="2"/></rPr>'),  # a mark in an inline string
             (b"<v>0</v>", b"<v>0</v> ")]  # whitespace inside the cell
    for old, new in edits:
        edited = sheet.replace(old, new)
        assert edited != sheet
        try:
            expected = scan.SheetCells(edited).has_formulas(made)
        except scan.Unusual:
            with pytest.raises(scan.Unusual):
                scan.without_inputs_has_formulas(edited, made)
        else:
            assert not expected and not scan.without_inputs_has_formulas(edited, made)


def test_an_input_cell_without_its_address_leaves_the_fast_path(tmp_path):
    """calamine places a cell that does not name its address by its position; the fast path,
    which finds cells by address, declines such a file rather than lose the value."""
    data = json.loads((SAMPLES / "annual_plan.json").read_text(encoding="utf-8"))
    made = make(tmp_path, "annual_plan", data, lang="zh", template_id="annual_plan")
    plan = read.read_fast(made)
    area = plan.areas["target"]
    assert plan.values["target"][0][0] not in (None, "")
    address = f'<c r="{ooxml.address(area.row, area.col)}"'.encode()
    moved = made.rename(tmp_path / "input_cell_without_address.xlsx")

    def unaddressed(xml: bytes) -> bytes:
        assert xml.count(address) == 1
        return xml.replace(address, b"<c")

    edit_part(moved, sheet_part(moved, area.sheet), unaddressed)
    with safety.admit_bytes(moved.name, moved.read_bytes()) as zf:
        with pytest.raises(scan.Unusual, match="without its address"):
            read.read_scanned(moved.name, zf)
    assert assert_same_or_declined([moved]) == []


# An input cell as another program or a hand might write it: each edit keeps what Excel shows
# (the cell's own value) or puts a formula in the input; the fast path must read what the
# detailed reader reads, or decline.
def _outside_the_cells(xml: bytes, cell: bytes) -> bytes:
    """The same address with another number in an extension after the cells: no cell to Excel."""
    ext = b'<extLst><ext uri="{00000000-0000-0000-0000-000000000000}">' + cell + b"><v>999999</v></c></ext></extLst>"
    return xml.replace(b"</worksheet>", ext + b"</worksheet>")


def _written_twice(xml: bytes, cell: bytes, again: bytes) -> bytes:
    """The cell followed by a second one at its address holding `again` (calamine keeps the last
    value, but not a blank one)."""
    return re.sub(re.escape(cell) + rb"([^>]*>)<v>([^<]*)</v></c>",
                  cell + rb"\1<v>\2</v></c>" + cell + rb"\1<v>" + again + rb"</v></c>", xml)


def _in_a_comment(xml: bytes, cell: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b"<!--" + cell + b"><v>999999</v></c>--></sheetData>")


def _merged_over(xml: bytes, cell: bytes, where: str) -> bytes:
    """The input cell merged with the one below it, the merge written `where`: before the cells, with
    a prefix after them, or between the cells and a second <sheetData> in an extension."""
    top = re.search(rb'r="([A-Z]+)(\d+)"', cell)
    ref = b"%s%s:%s%d" % (top[1], top[2], top[1], int(top[2]) + 1)
    merged = b'<mergeCells count="1"><mergeCell ref="' + ref + b'"/></mergeCells>'
    if where == "before":
        return xml.replace(b"<sheetData", merged + b"<sheetData", 1)
    if where == "prefixed":
        root = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        return xml.replace(root, root + b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"').replace(
            b"</sheetData>", b"</sheetData>" + merged.replace(b"<", b"<x:").replace(b"<x:/", b"</x:"), 1)
    ext = b'<extLst><ext uri="{00000000-0000-0000-0000-000000000001}"><sheetData></sheetData></ext></extLst>'
    return xml.replace(b"</sheetData>", b"</sheetData>" + merged + ext, 1)


def _prefixed(xml: bytes, cell: bytes, edit) -> bytes:
    """The main namespace bound to a prefix too, and the input cell edited with it."""
    root = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    prefixed = xml.replace(root, root + b' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    return re.sub(re.escape(cell) + rb"([^>]*>)<v>[^<]*</v></c>", edit, prefixed)


def _rewritten(xml: bytes, cell: bytes, attrs: bytes, inner: bytes) -> bytes:
    """The input cell with other attributes (after its address) and content."""
    return re.sub(re.escape(cell) + rb"[^>]*>.*?</c>", lambda _: cell + attrs + b">" + inner + b"</c>", xml, count=1)


EDITS_OF_AN_INPUT_CELL = {
    "its type in single quotes": lambda xml, cell: _rewritten(xml, cell, b" t='str'", b"<v>9000</v>"),
    "its type with spaces around =": lambda xml, cell: _rewritten(xml, cell, b' t = "str"', b"<v>9000</v>"),
    "its type written twice": lambda xml, cell: _rewritten(xml, cell, b' t="n" t="str"', b"<v>9000</v>"),
    "an inline string without inlineStr": lambda xml, cell: _rewritten(xml, cell, b"", b"<is><t>9000</t></is>"),
    "an inline string typed as a number":
        lambda xml, cell: _rewritten(xml, cell, b' t="n"', b"<is><t>9000</t></is>"),
    "a boolean written true": lambda xml, cell: _rewritten(xml, cell, b' t="b"', b"<v>true</v>"),
    "an inline string with spaces around, not preserved":
        lambda xml, cell: _rewritten(xml, cell, b' t="inlineStr"', b"<is><t>  ab  </t></is>"),
    "an inline string of a tab, not preserved":
        lambda xml, cell: _rewritten(xml, cell, b' t="inlineStr"', b"<is><r><t>a</t></r><r><t>\t</t></r></is>"),
    "an inline string with a CR": lambda xml, cell: _rewritten(xml, cell, b' t="inlineStr"', b"<is><t>a\r\nb</t></is>"),
    "an inline string with a CR as a reference":
        lambda xml, cell: _rewritten(xml, cell, b' t="inlineStr"', b"<is><t>a&#13;&#10;b</t></is>"),
    "its value prefixed": lambda xml, cell: _prefixed(xml, cell, lambda m: cell + m[1] + b"<x:v>777</x:v></c>"),
    "the cell written again, prefixed": lambda xml, cell: _prefixed(
        xml, cell, lambda m: m[0] + b"<x:c" + cell[2:] + m[1].replace(b"<", b"") + b"<x:v>777</x:v></x:c>"),
    "its value with an attribute": lambda xml, cell: re.sub(
        re.escape(cell) + rb"([^>]*>)<v>", cell + rb'\1<v xml:space="preserve">', xml),
    "merged with the cell below, the merge before the cells": lambda xml, cell: _merged_over(xml, cell, "before"),
    "merged with the cell below, the merge prefixed": lambda xml, cell: _merged_over(xml, cell, "prefixed"),
    "merged with the cell below, a second sheetData after the merge":
        lambda xml, cell: _merged_over(xml, cell, "between"),
    "another value in an extension": _outside_the_cells,
    "another value in a comment": _in_a_comment,
    "row number with a leading zero":
        lambda xml, cell: xml.replace(cell, re.sub(rb'([A-Z])(\d+)"', rb'\g<1>0\2"', cell)),
    "whitespace inside the cell":
        lambda xml, cell: re.sub(re.escape(cell) + rb"([^>]*>)<v>", cell + rb"\1\n  <v>", xml),
    "a formula after whitespace": lambda xml, cell: re.sub(re.escape(cell) + rb"([^>]*>)<v>[^<]*</v>",
                                                          cell + rb"\1\n<f>1+1</f><v>2</v>", xml),
    "the cell written again, blank": lambda xml, cell: _written_twice(xml, cell, b""),
    "the cell written again, another number": lambda xml, cell: _written_twice(xml, cell, b"999999"),
}


def _first_target_cell_edited(tmp_path, edit) -> Path:
    """The handbook's annual plan with its first target cell (a number) rewritten by `edit(xml, cell)`."""
    data = json.loads((SAMPLES / "annual_plan.json").read_text(encoding="utf-8"))
    made = make(tmp_path, "annual_plan", data, lang="zh", template_id="annual_plan")
    plan = read.read_fast(made)
    area = plan.areas["target"]
    assert isinstance(plan.values["target"][0][0], (int, float))
    cell = f'<c r="{ooxml.address(area.row, area.col)}"'.encode()

    def edited(xml: bytes) -> bytes:
        changed = edit(xml, cell)
        assert changed != xml
        return changed

    edit_part(made, sheet_part(made, area.sheet), edited)
    return made


@pytest.mark.parametrize("edit", EDITS_OF_AN_INPUT_CELL)
def test_an_input_cell_written_otherwise_is_read_as_the_detailed_reader_reads_it(tmp_path, edit):
    fast, detailed = both(_first_target_cell_edited(tmp_path, EDITS_OF_AN_INPUT_CELL[edit]))
    assert detailed is not None
    if fast is not None:
        for field in FIELDS:
            assert getattr(fast, field) == getattr(detailed, field), f"{edit}: {field} differs"


def test_what_the_fast_path_keeps_stays_small_whatever_a_file_holds():
    """Texts, metadata sheets and parts recur from file to file and are kept; long ones are read, not kept."""
    short, long = b"<t>%d short</t>" % id(object()), b"<t>" + b"x" * 5000 + b"</t>"
    kept = scan._text.cache_info().currsize
    assert scan._text(long) == "x" * 5000 and scan._text.cache_info().currsize == kept
    assert scan._text(short) == short[3:-4].decode() and scan._text.cache_info().currsize == kept + 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("small.xml", b"<a/>" * 100)
        zf.writestr("large.xml", b"<a/>" * 20_000)  # 80 KB inflated from a few hundred bytes
    ours = ooxml.ZipInMemory(buffer.getvalue())
    assert ours.inflated("small.xml") is ours.inflated("small.xml")
    assert ours.inflated("large.xml") == b"<a/>" * 20_000
    assert ours.inflated("large.xml") is not ours.inflated("large.xml")


@pytest.mark.parametrize("ending", ["\u3000", "\u00a0"])
def test_a_string_ending_in_a_space_calamine_keeps_is_read_on_the_fast_path(tmp_path, ending):
    """calamine trims only XML's whitespace at the ends of a run not preserved: a text ending in an
    ideographic or a no-break space reads as written, and needs no detour through the detailed reader."""
    inline = f"<is><t>北区{ending}</t></is>".encode()
    fast, detailed = both(_first_target_cell_edited(
        tmp_path, lambda xml, cell: _rewritten(xml, cell, b' t="inlineStr"', inline)))
    assert fast is not None and detailed.values["target"][0][0] == f"北区{ending}"
    for field in FIELDS:
        assert getattr(fast, field) == getattr(detailed, field), field


# An input cell written so that calamine refuses the sheet: the fast path must not read it either.
EDITS_THE_DETAILED_READER_REFUSES = {
    "a number with an underscore": lambda xml, cell: _rewritten(xml, cell, b' t="n"', b"<v>8_000</v>"),
    "a number with spaces around": lambda xml, cell: _rewritten(xml, cell, b' t="n"', b"<v> 8000 </v>"),
    "a cell closed at once, then a value": lambda xml, cell: re.sub(
        re.escape(cell) + rb"([^>]*)>(<v>[^<]*</v></c>)", lambda m: cell + m[1] + b"/>" + m[2], xml, count=1),
}


@pytest.mark.parametrize("edit", EDITS_THE_DETAILED_READER_REFUSES)
def test_an_input_cell_the_detailed_reader_refuses_leaves_the_fast_path(tmp_path, edit):
    assert both(_first_target_cell_edited(tmp_path, EDITS_THE_DETAILED_READER_REFUSES[edit])) == (None, None)


def test_shared_strings_split_as_the_pattern_finds_them():
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    cases = [
        b"<si><t>a</t></si><si/><si><r><t>b</t></r><r><t xml:space=\"preserve\"> c</t></r></si>",
        b"<si><t>x</t><rPh sb=\"0\" eb=\"1\"><t>y</t></rPh></si>\n<si><t></t></si></sst>",
        b"<si ><t>spaced</t></si><si><t>z</t></si>",  # not plainly split: the pattern reads it
        b"<si><t>a</t></si><si><t>never closed</t>",
        b"<si><t>a</t></si><sinew/><si><t>b</t></si>",
    ]
    for body in cases:
        xml = head + body
        assert scan._string_items(xml) == ooxml.SHARED_STRING.findall(xml), body
    assert scan._string_items(head + cases[0]) == [b"<t>a</t>", b"",
                                                  b'<r><t>b</t></r><r><t xml:space="preserve"> c</t></r>']


@pytest.mark.parametrize("inflate_lib", ["installed", "zlib"])
def test_parts_inflated_from_memory_are_zipfiles_parts(tmp_path, monkeypatch, inflate_lib):
    """ZipInMemory reads each part of every corpus file as zipfile does (with ISA-L's inflate where
    installed, and with zlib's), and a damaged or unusual part is read by zipfile itself, with its errors."""
    if inflate_lib == "zlib":
        monkeypatch.setattr(ooxml, "inflate_lib", zlib)
    corpus = sorted(p for p in CASES.iterdir() if p.is_file() and p.suffix in (".xlsx", ".xlsm"))
    compared = 0
    for path in corpus:
        data = path.read_bytes()
        try:
            plain = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            continue
        ours = ooxml.ZipInMemory(data)
        for info in plain.infolist():
            try:
                expected = plain.read(info.filename)
            except Exception as exc:  # a damaged part: the same error from ours
                with pytest.raises(type(exc)):
                    ours.read(info.filename)
                continue
            assert ours.inflated(info.filename) in (expected, None), (path.name, info.filename)
            assert ours.read(info.filename) == expected
            for size in (1, 100, 4096):  # a part's head (the dimension of a sheet, safety.py)
                assert ooxml.read_part(ours, info.filename, size) == ooxml.read_part(plain, info.filename, size)
            compared += 1
    assert compared > 100
    # a part stored, one with a wrong CRC, one whose local header names another part
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("stored.xml", b"<a/>" * 100, zipfile.ZIP_STORED)
        zf.writestr("deflated.xml", b"<b/>" * 100, zipfile.ZIP_DEFLATED)
    data = buffer.getvalue()
    ours = ooxml.ZipInMemory(data)
    assert ours.inflated("stored.xml") == b"<a/>" * 100 and ours.inflated("deflated.xml") == b"<b/>" * 100
    assert ours.inflated("deflated.xml") is ours.inflated("deflated.xml")  # a small part kept inflated
    assert ours.inflated("stored.xml", 8) == b"<a/><a/>" and ours.inflated("deflated.xml", 8) == b"<b/><b/>"
    # the same stored bytes with another CRC, after they were read well: read and refused again
    bad_crc = bytearray(data)
    at = data.index(b"PK\x01\x02") + 16  # the central directory's CRC of the first part
    bad_crc[at] ^= 0xFF
    bad = ooxml.ZipInMemory(bytes(bad_crc))
    assert bad.inflated("stored.xml") is None
    with pytest.raises(zipfile.BadZipFile):
        bad.read("stored.xml")
    renamed = data.replace(b"stored.xml<a/>", b"stoRed.xml<a/>", 1)  # the local header's name
    assert renamed != data
    assert ooxml.ZipInMemory(renamed).inflated("stored.xml") is None
    with pytest.raises(zipfile.BadZipFile):
        ooxml.ZipInMemory(renamed).read("stored.xml")


def test_a_large_part_read_by_the_fast_path_is_not_kept_after_the_file(tmp_path):
    """The caches across files keep only small entries: a metadata sheet of megabytes (a long
    header) is not held in memory once its file is read."""
    import gc
    import random
    import tracemalloc

    data = json.loads((SAMPLES / "annual_plan.json").read_text(encoding="utf-8"))
    made = make(tmp_path, "annual_plan", data, lang="zh", template_id="annual_plan")
    with safety.admit_bytes(made.name, made.read_bytes()) as zf:  # the template's caches, filled before
        assert read.read_scanned(made.name, zf)
    text = random.Random(1).randbytes(1 << 20).hex().encode()
    header = b"<headerFooter><oddHeader>" + text + b"</oddHeader></headerFooter>"
    edit_part(made, sheet_part(made, "_xlplan"), lambda xml: xml.replace(b"</worksheet>", header + b"</worksheet>"))
    file = made.read_bytes()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with safety.admit_bytes(made.name, file) as zf:
            try:
                read.read_scanned(made.name, zf)
            except scan.Unusual:
                pass
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1 << 20, f"{kept:,} bytes kept after the file was read"
