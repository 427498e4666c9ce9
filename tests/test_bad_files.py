"""Files that are no usable workbook get one clear message naming the file, never a traceback."""
from __future__ import annotations

import zipfile

import pytest
from plans import clean_annual_plan, make

from xlplan.model import WorkbookError
from xlplan.workbook import recalculation as recalc
from xlplan.workbook.safety import OLE_MAGIC


def _not_a_zip(folder):
    (folder / "not_a_zip.xlsx").write_bytes(bytes(range(256)) * 4)


def _truncated(folder):
    whole = make(folder, "whole", clean_annual_plan()).read_bytes()
    (folder / "truncated_zip.xlsx").write_bytes(whole[: len(whole) // 2])


def _legacy_xls(folder):
    (folder / "legacy.xls").write_bytes(OLE_MAGIC + b"\x00" * 2000)


def _password_protected(folder):
    (folder / "password_protected.xlsx").write_bytes(OLE_MAGIC + b"\x00" * 100 + "EncryptionInfo".encode("utf-16-le"))


def _csv_renamed(folder):
    (folder / "csv_renamed.xlsx").write_text("单位,月份,目标\n北区,1,900\n", encoding="utf-8")


def _zip_without_workbook(folder):
    with zipfile.ZipFile(folder / "word_document_renamed.xlsx", "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")


def _zip_bomb(folder):
    with zipfile.ZipFile(folder / "zip_bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 2**20))


def _entity_in_workbook_xml(folder):
    whole = make(folder, "whole", clean_annual_plan())
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(folder / "entity_in_workbook_xml.xlsx", "w") as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
            out.writestr(info, data)


def _empty(folder):
    (folder / "empty.xlsx").write_bytes(b"")


CASES = {
    "not_a_zip.xlsx": (_not_a_zip, "not an Excel workbook"),
    "truncated_zip.xlsx": (_truncated, "damaged or was cut off"),
    "legacy.xls": (_legacy_xls, "legacy Excel 97–2003"),
    "password_protected.xlsx": (_password_protected, "password protected"),
    "csv_renamed.xlsx": (_csv_renamed, "a CSV or text file"),
    "word_document_renamed.xlsx": (_zip_without_workbook, "no xl/workbook.xml"),
    "zip_bomb.xlsx": (_zip_bomb, "zip bomb"),
    "empty.xlsx": (_empty, "the file is empty"),
    "entity_in_workbook_xml.xlsx": (_entity_in_workbook_xml, "damaged inside"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_unreadable_file_gets_a_clear_message(tmp_path, name):
    build, says = CASES[name]
    build(tmp_path)
    with pytest.raises(WorkbookError) as caught:
        recalc.check_file(tmp_path / name)
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert says in message


def test_a_damaged_part_the_reader_never_needs_stops_the_write_back_and_keeps_the_file(tmp_path):
    """A picture whose bytes no longer match their checksum: the plan reads (no reader opens the
    picture), but writing the results back copies every part; the copy is refused with the part
    named, the workbook stays byte for byte, and no temporary file is left (it was a BadZipFile
    and a traceback)."""
    made = make(tmp_path, "made", clean_annual_plan())
    path = tmp_path / "damaged_picture.xlsx"
    with zipfile.ZipFile(made) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        zout.writestr(zipfile.ZipInfo("xl/media/image9.png"), b"PNGDATA" * 50, compress_type=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(b"PNGDATA")
    data[at:at + 7] = b"XXXXXXX"  # stored, not compressed: only the checksum tells
    path.write_bytes(bytes(data))
    assert recalc.check_file(path).plan.template.id == "annual_plan"  # reading needs no picture
    with pytest.raises(WorkbookError) as caught:
        recalc.recalc_file(path)
    message = str(caught.value)
    assert message.startswith("damaged_picture.xlsx: the part xl/media/image9.png is damaged")
    assert "nothing was written" in message
    assert path.read_bytes() == bytes(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["damaged_picture.xlsx", made.name])
