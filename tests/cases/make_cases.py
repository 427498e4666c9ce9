"""Make the corpus of bad workbooks: each file named after the defect it carries.

Every workbook starts as the clean annual plan of tests/plans.py and gets one defect,
made the way Excel (or an email gateway, or a clerk) would make it. openpyxl does not
do what Excel does when rows are inserted or deleted or a sheet is deleted (it moves
no defined name), so `shift_rows` and `delete_sheet` update the names as Excel would.

Run it again when the templates change; the files are checked in so that a reader of
tests/test_cases.py can open them in Excel:

    python tests/cases/make_cases.py            # writes tests/cases/*.xlsx and good/
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from plans import as_version_1_0, clean_annual_plan, make  # noqa: E402

from xlplan.template.xlfuncs import XlErr  # noqa: E402
from xlplan.workbook import cached  # noqa: E402
from xlplan.workbook import ooxml  # noqa: E402
from xlplan.workbook.ooxml import parse_ref  # noqa: E402
from xlplan.workbook.plan import area_of  # noqa: E402
from xlplan.workbook.safety import OLE_MAGIC  # noqa: E402

SCHEDULE = "计划进度"  # the monthly schedule sheet of the Chinese annual plan
ANALYSIS = "目标达成分析"
GOOD_UNITS = {"good_east": "东区营业部", "good_west": "西区营业部"}
DUPLICATE_UNIT = "南区营业部"
WRONG_TEMPLATE_UNIT = "中区营业部"  # sends a scorecard where the roster expects its annual plan


# -- doing what Excel does ------------------------------------------------------------
def _shift(ref: str, sheet: str, at: int, count: int) -> str:
    """A defined name's reference after `count` rows are inserted (>0) or deleted (<0) at row `at`."""
    parsed = parse_ref(ref)
    if parsed is None or parsed[0] != sheet:
        return ref
    area = area_of(*parsed)
    top, bottom = area.row, area.row + area.nrows - 1
    if count > 0:
        top = top + count if top >= at else top
        bottom = bottom + count if bottom >= at else bottom
    else:
        gone = range(at, at - count)
        top = at if top in gone else (top + count if top > at else top)
        bottom = at - 1 if bottom in gone else (bottom + count if bottom > at else bottom)
    left = area.address(1, 1).rstrip("0123456789")
    right = area.address(1, area.ncols).rstrip("0123456789")
    quoted = "'" + sheet.replace("'", "''") + "'"
    one = top == bottom and area.ncols == 1
    return f"{quoted}!${left}${top}" if one else f"{quoted}!${left}${top}:${right}${bottom}"


def shift_rows(wb, sheet: str, at: int, count: int) -> None:
    """Insert (count > 0) or delete (count < 0) rows and move the defined names with them, as Excel does."""
    ws = wb[sheet]
    if count > 0:
        ws.insert_rows(at, count)
    else:
        ws.delete_rows(at, -count)
    for _name, dn in list(wb.defined_names.items()):
        dn.attr_text = _shift(dn.attr_text, sheet, at, count)


def delete_sheet(wb, sheet: str) -> None:
    """Delete a sheet; its names now refer to #REF!, as Excel leaves them."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    for _name, dn in list(wb.defined_names.items()):
        if dn.attr_text.startswith(quoted + "!") or dn.attr_text.startswith(sheet + "!"):
            dn.attr_text = "#REF!" + dn.attr_text.split("!", 1)[1]
    del wb[sheet]


def rename_sheet(wb, old: str, new: str) -> None:
    """Rename a sheet; Excel rewrites the names that refer to it."""
    wb[old].title = new
    for _name, dn in list(wb.defined_names.items()):
        dn.attr_text = dn.attr_text.replace(f"'{old}'!", f"'{new}'!")


def edit(path: Path, change) -> Path:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def with_macros(path: Path, out: Path) -> Path:
    """The plan saved as .xlsm: a VBA project part (an Auto_Open that would delete files) and its content type."""
    vba = (b"\xd0\xcf\x11\xe0" + b"Attribute VB_Name = \"Module1\"\r\n"
           b"Sub Auto_Open()\r\n  Kill \"C:\\*.*\"\r\nEnd Sub\r\n")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType='
                                    b'"application/vnd.ms-office.vbaProject"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.microsoft'
                                    b'.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                    b"</Relationships>")
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", vba)
    path.unlink()
    return out


# -- the cases ----------------------------------------------------------------------------
def plan(folder, name, change=None, **kw) -> Path:
    data = clean_annual_plan()
    if change:
        change(data)
    return make(folder, name, data, **kw)


def _set(key, index, value):
    def change(data):
        data[key][index] = value
    return change


def _numbers_as_text(data):
    data["recruits"][1] = "１２０"  # full-width digits: read as 120
    data["seg_headcount"][2] = "1,200"  # thousands separator: read as 1200
    data["expert_share"][4] = "15%"  # a percent sign in a share cell: read as 0.15


def _circular(folder, name):
    path = plan(folder, Path(name).stem)
    edit(path, lambda wb: wb[SCHEDULE].__setitem__("C10", "=SUM(C10:N10)"))
    cached.write_cached_values(path, {SCHEDULE: {"C10": 0}})  # what Excel stores for a circular formula
    return path


def _ref_error(folder, name):
    path = plan(folder, Path(name).stem)

    def change(wb):
        wb[SCHEDULE]["D11"] = "#REF!"  # an error constant, as left by a paste over a deleted range
        wb[SCHEDULE]["E11"] = "=#REF!*2"  # a formula whose reference was deleted
    edit(path, change)
    cached.write_cached_values(path, {SCHEDULE: {"E11": XlErr("#REF!")}})
    return path


def _start_as_date_text(data):
    data["actions"][0].update(start="2027/1/1")
    return data


def _old_version(wb):
    wb["_xlplan"]["B2"] = "0.9"


def _defined_name_deleted(wb):
    del wb.defined_names["target_month"]


def _merged(wb):
    wb[SCHEDULE].merge_cells("C10:E10")  # Jan–Mar typed once across three months


def _value_over_formula(wb):
    wb[SCHEDULE]["C20"] = 2400  # January headcount typed over its formula


def _formula_over_formula(wb):
    wb[SCHEDULE]["D20"] = "=2420"  # February headcount: the formula replaced by a constant one


def _csv(folder, name):
    path = Path(folder) / name
    path.write_text("单位,月份,目标\n北区营业部,1,900\n北区营业部,2,600\n", encoding="utf-8")
    return path


def _truncated(folder, name):
    whole = plan(folder, "whole")
    path = Path(folder) / name
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return path


def _raw(content: bytes):
    def build(folder, name):
        path = Path(folder) / name
        path.write_bytes(content)
        return path
    return build


def _xml_entity_bomb(folder, name):
    """A "billion laughs" in workbook.xml: nine levels of entities, ten times each, inside a defined name."""
    whole = plan(folder, "whole")
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{k} "{("&lol%s;" % ("" if k == 2 else k - 1)) * 10}">' for k in range(2, 10))
    path = Path(folder) / name
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = f'<?xml version="1.0"?><!DOCTYPE workbook [{entities}]>'.encode() + data
                data = data.replace(b'<definedName name="unit_name">', b'<definedName name="unit_name">&lol9;', 1)
            dst.writestr(item, data)
    whole.unlink()
    return path


def _wrong_template(folder, name):
    return make(folder, Path(name).stem, {}, template_id="kpi_scorecard", unit=WRONG_TEMPLATE_UNIT,
                period="2027-01")


def _duplicate(revision):
    def build(folder, name):
        def change(data):
            data["plan_revision"] = revision
        return plan(folder, Path(name).stem, change, unit=DUPLICATE_UNIT)
    return build


def _edited(change):
    def build(folder, name):
        return edit(plan(folder, Path(name).stem), change)
    return build


def _changed(change):
    def build(folder, name):
        return plan(folder, Path(name).stem, change)
    return build


def _macros(folder, name):
    return with_macros(plan(folder, Path(name).stem), Path(folder) / name)


def patch_sheet(path: Path, sheet: str, change) -> Path:
    """Change one sheet's XML as another program would have written it."""
    with zipfile.ZipFile(path) as zf:
        part = ooxml.sheet_parts(zf)[sheet]
        items = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in items:
            zf.writestr(info, change(data) if info.filename == part else data)
    return path


NEW_ERRORS = ("#SPILL!", "#CALC!", "#BLOCKED!", "#GETTING_DATA", "#FIELD!", "#UNKNOWN!", "#CONNECT!", "#BUSY!",
              "#PYTHON!")


def _new_error_values(folder, name):
    """Excel 365's newer error values: #SPILL! in an input cell (February's target), the others in
    unused cells beside the blocks, as a dynamic array or a data type leaves them."""
    path = plan(folder, Path(name).stem)

    def change(xml):
        xml = re.sub(rb'<c r="D10"([^>]*?)(?: t="\w+")?>(?:<v>[^<]*</v>)?</c>',
                     rb'<c r="D10"\1 t="e"><v>#SPILL!</v></c>', xml, count=1)
        extra = "".join(f'<c r="{chr(ord("A") + k)}60" t="e"><v>{code}</v></c>' for k, code in enumerate(NEW_ERRORS))
        return xml.replace(b"</sheetData>", f'<row r="60">{extra}</row></sheetData>'.encode())
    return patch_sheet(path, SCHEDULE, change)


def _formulas_without_results(folder, name):
    """Formulas typed into input cells by a tool that does not calculate (openpyxl saves no results):
    arithmetic on numbers and cells (computed by the reader), a function (not), a division by zero."""
    path = plan(folder, Path(name).stem)

    def change(wb):
        ws = wb[SCHEDULE]
        ws["C10"] = "=500+400"  # January's target: 900, as in the clean plan
        ws["D10"] = "=C10-300"  # February's: 600
        ws["E18"] = "=SUM(C18:D18)/2"  # March's recruits: a function, not computed by the reader
        ws["F19"] = "=100/0"  # April's attrition: #DIV/0!
    return edit(path, change)


STRICT = ((b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"),
          (b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
           b"http://purl.oclc.org/ooxml/officeDocument/relationships"))


def _strict(folder, name):
    """The clean plan as Excel saves it with "Strict Open XML Spreadsheet": other namespaces, same parts."""
    whole = plan(folder, "whole")
    path = Path(folder) / name
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith((".xml", ".rels")):
                for transitional, strict in STRICT:
                    data = data.replace(transitional, strict)
                if item.filename == "xl/workbook.xml":
                    data = data.replace(b"<workbook ", b'<workbook conformance="strict" ', 1)
            dst.writestr(item, data)
    whole.unlink()
    return path


def _meta(key, value):
    def change(wb):
        ws = wb["_xlplan"]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == key)
        ws.cell(row, 2).value = value
    return change


def _given_changed(wb):
    """A unit unprotects the targets sheet and lowers HQ's target from 8,000 to 7,000."""
    wb["目标"]["C5"] = 7000


CASES = {
    "not_a_zip.xlsx": _raw(bytes(range(256)) * 8),
    "truncated_zip.xlsx": _truncated,
    "password_protected.xlsx": _raw(OLE_MAGIC + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512),
    "legacy.xls": _raw(OLE_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1536),
    "csv_renamed.xlsx": _csv,
    "xml_entity_bomb.xlsx": _xml_entity_bomb,
    "macros.xlsm": _macros,
    "wrong_template_scorecard.xlsx": _wrong_template,
    "old_template_version.xlsx": _edited(_old_version),
    "sheet_renamed.xlsx": _edited(lambda wb: rename_sheet(wb, SCHEDULE, "进度表")),
    "sheet_deleted.xlsx": _edited(lambda wb: delete_sheet(wb, ANALYSIS)),
    "defined_name_deleted.xlsx": _edited(_defined_name_deleted),
    "rows_deleted_in_block.xlsx": _edited(lambda wb: shift_rows(wb, SCHEDULE, 12, -1)),  # region B's row
    "rows_inserted_in_block.xlsx": _edited(lambda wb: shift_rows(wb, SCHEDULE, 12, 1)),  # between regions A and B
    "rows_inserted_above_blocks.xlsx": _edited(lambda wb: shift_rows(wb, SCHEDULE, 7, 2)),  # harmless: names move
    "merged_cells_over_inputs.xlsx": _edited(_merged),
    "numbers_as_text.xlsx": _changed(_numbers_as_text),
    "number_with_unit_word_12wan.xlsx": _changed(_set("target_month", 1, "12萬")),
    # annual_plan 2.0 has no month cell (months are ticked): made with 1.0, which still reads
    "date_as_text_in_month_cell.xlsx": lambda folder, name: make(
        folder, Path(name).stem, _start_as_date_text(as_version_1_0(clean_annual_plan())), version="1.0"),
    "made_with_version_1_0.xlsx": lambda folder, name: make(
        folder, Path(name).stem, as_version_1_0(clean_annual_plan()), version="1.0"),
    "date_in_number_cell.xlsx": _changed(_set("recruits", 2, dt.datetime(2027, 3, 1))),
    "value_typed_over_formula.xlsx": _edited(_value_over_formula),
    "formula_typed_over_computed_cell.xlsx": _edited(_formula_over_formula),
    "circular_reference.xlsx": _circular,
    "ref_error_in_input.xlsx": _ref_error,
    "duplicate_unit_a.xlsx": _duplicate(1),
    "duplicate_unit_b.xlsx": _duplicate(2),
    "new_error_values.xlsx": _new_error_values,
    "formulas_without_results.xlsx": _formulas_without_results,
    "strict_open_xml.xlsx": _strict,
    "overflow_1e308.xlsx": _changed(_set("recruits", 0, 1e308)),
    "fractional_headcount.xlsx": _changed(_set("attrition", 1, 100.5)),
    "declared_5000_action_rows.xlsx": _edited(_meta("params", '{"action_rows": 5000}')),
    "parameter_of_wrong_type.xlsx": _edited(_meta("params", '{"action_rows": "many", "regions": {"x": 1}}')),
    "blank_unit.xlsx": _edited(_meta("unit", "  ")),
    "period_2027_13.xlsx": _edited(_meta("period", "2027-13")),
    "unit_differs_from_cover.xlsx": _edited(_meta("unit", "西北区营业部")),
    "given_cell_changed.xlsx": _edited(_given_changed),
}


def make_good(folder: Path) -> list[Path]:
    return [plan(folder, name, unit=unit) for name, unit in GOOD_UNITS.items()]


def make_all(folder: Path = HERE) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good"
    if good.exists():
        shutil.rmtree(good)
    good.mkdir()
    made = [build(folder, name) for name, build in CASES.items()]
    for path, name in zip(made, CASES):
        assert path.name == name, (path, name)
    return made + make_good(good)


if __name__ == "__main__":
    for path in make_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path.relative_to(HERE) if path.is_relative_to(HERE) else path)
