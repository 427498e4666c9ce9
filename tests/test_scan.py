"""The merge's fast path (read.read_scanned, scan.py) gives the detailed reader's Plan, or declines.

For every workbook of the bad-file corpus, the good files, a filled workbook of each
template in both languages and the same workbooks saved again by LibreOffice: the
fast path either says the file is not plainly as made (scan.Unusual, and the detailed
reader reads it) or reads exactly the Plan python-calamine and the cell checks read.
The usual files must take the fast path, or it would prove nothing.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from plans import make

from xlplan import libreoffice
from xlplan.model import WorkbookError
from xlplan.workbook import read, safety, scan
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
    """Rows are found by one pattern when each names its number first (as every writer we know
    puts it); a row written otherwise takes the row-by-row search, with the same result."""
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
    with zipfile.ZipFile(made) as a, zipfile.ZipFile(reordered) as b:
        sheet = next(n for n in a.namelist() if n.startswith("xl/worksheets/sheet") and b"<f>" in a.read(n))
        rows = [[number for number, _ in scan._row_starts(z.read(sheet))] for z in (a, b)]
        assert rows[0] == rows[1] != []


def test_a_sheets_formulas_normalised_once_are_normalised_alike():
    xml = (b'<sheetData><row r="5"><c r="C5" s="1"><f>\xe7\x9b\xae\xe6\xa0\x87!$E$9</f><v>3</v></c>'
           b'<c r="D5"><f>IF(A1=&quot;&quot;,&quot;&quot;,1)</f></c></row></sheetData>')
    expected = scan.normal_formulas([(b"C5", b"\xe7\x9b\xae\xe6\xa0\x87!$E$9"),
                                     (b"D5", b"IF(A1=&quot;&quot;,&quot;&quot;,1)")])
    assert scan.formulas(xml) == scan.formulas(xml) == expected
    assert scan.formulas(b"<sheetData/>") == scan.normal_formulas([]) == b""
