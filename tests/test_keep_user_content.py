"""Recalc edits only what xlplan owns: every other part of the package stays byte for byte.

The workbooks here are decorated the way a clerk decorates them: in LibreOffice, through
its own API (tests/lo_decorate.py, run by the system's python3 with python3-uno), with a
text box, a rectangle, a picture, a chart and a comment. Then `xlplan recalc` runs, and
the zip members are compared one by one.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from plans import clean_annual_plan, make

from xlplan.hq import merge
from xlplan.model import WorkbookError
from xlplan.template.layout import check_column
from xlplan.workbook import recalculation as recalc
from xlplan.workbook import writefile

SCHEDULE = "计划进度"
HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def has_uno() -> bool:
    if not (shutil.which("soffice") and os.path.exists(SYSTEM_PYTHON)):
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0


needs_uno = pytest.mark.skipif(not has_uno() and not os.environ.get("CI"),
                               reason="LibreOffice with python3-uno is not installed (scripts/setup.sh installs it)")


def lo(source: Path, target: Path, *extra: str) -> Path:
    done = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo_decorate.py"), str(source), str(target), SCHEDULE, *extra],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and target.exists(), done.stderr
    return target


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def owned_parts(path: Path) -> set[str]:
    """What xlplan may change: its sheets' XML, the styles, the marked sheet's comments and VML
    drawing with their relationships, and the content types (for a first note)."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return {n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)} | {
        "xl/styles.xml", "[Content_Types].xml"} | {n for n in names if re.fullmatch(r"xl/comments\d*\.xml", n)} | {
        n for n in names if n.startswith("xl/drawings/vmlDrawing")} | {
        n for n in names if n.startswith("xl/worksheets/_rels/")}


def slipped_plan(tmp_path) -> Path:
    data = clean_annual_plan()
    data["region_plan"][2][0] = 130  # regions add up to 880, not 900: a finding at 计划进度 › C14
    return make(tmp_path, "north", data)


def set_input(path: Path, sheet_part: str, address: str, value: int) -> None:
    """Type a number into a cell of a LibreOffice-saved file (as a clerk fixing the slip would)."""
    with zipfile.ZipFile(path) as zf:
        parts = {i: zf.read(i.filename) for i in zf.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in parts.items():
            if info.filename == sheet_part:
                data, n = re.subn(rf'<c r="{address}"([^>]*?)(?: t="\w+")?>(?:<v>[^<]*</v>)?</c>'.encode(),
                                  rf'<c r="{address}"\1 t="n"><v>{value}</v></c>'.encode(), data)
                assert n == 1
            zf.writestr(info, data)


@needs_uno
def test_recalc_of_a_libreoffice_decorated_workbook_keeps_every_part_it_does_not_own(tmp_path):
    decorated = lo(slipped_plan(tmp_path), tmp_path / "decorated.xlsx")
    before = members(decorated)
    assert any(n.startswith("xl/media/") for n in before) and any(n.startswith("xl/charts/") for n in before)
    assert any(n.startswith("xl/drawings/drawing") for n in before)
    result = recalc.recalc_file(decorated)
    assert [f.code for f in result.findings] == ["REGIONS_NOT_MONTH"]
    after = members(decorated)
    assert set(before) <= set(after)
    changed = {n for n in before if before[n] != after[n]}
    assert changed <= owned_parts(decorated), changed - owned_parts(decorated)
    kept = [n for n in before if n not in changed]
    # drawings, pictures, charts, shared strings, the workbook part, document properties: untouched
    for prefix in ("xl/drawings/drawing", "xl/drawings/_rels", "xl/media/", "xl/charts/", "docProps/",
                   "xl/sharedStrings.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
        assert all(n in kept for n in before if n.startswith(prefix)), prefix
    # the clerk's comment and our note share the sheet's comments part; both are there
    ws = openpyxl.load_workbook(decorated)[SCHEDULE]
    assert ws["A1"].comment.text.startswith("王经理：请核对一月")
    assert "REGIONS_NOT_MONTH" in ws["C14"].comment.text
    marks = [str(cf.sqref) for cf in ws.conditional_formatting
             if any('xlplan-mark' in (r.formula or [""])[0] for r in cf.rules)]
    assert marks == ["C14"]

    # LibreOffice opens and saves it again: then recalc still finds its marks and replaces them
    resaved = lo(decorated, tmp_path / "resaved.xlsx", "resave")
    recalc.recalc_file(resaved)
    ws = openpyxl.load_workbook(resaved)[SCHEDULE]
    assert [str(cf.sqref) for cf in ws.conditional_formatting
            if any('xlplan-mark' in (r.formula or [""])[0] for r in cf.rules)] == ["C14"]
    notes = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    assert len([n for n in notes if "REGIONS_NOT_MONTH" in n]) == 1

    # the clerk fixes region C's January figure: the mark and the note go, the clerk's comment stays
    part = writefile.Package(zipfile.ZipFile(resaved), "resaved.xlsx").sheet_part[SCHEDULE]
    set_input(resaved, part, "C13", 150)
    assert recalc.recalc_file(resaved).findings == []
    ws = openpyxl.load_workbook(resaved)[SCHEDULE]
    assert not [cf for cf in ws.conditional_formatting
                if any('xlplan-mark' in (r.formula or [""])[0] for r in cf.rules)]
    assert [c.comment.text[:9] for row in ws.iter_rows() for c in row if c.comment] == ["王经理：请核对一月"]
    with zipfile.ZipFile(resaved) as zf:
        assert any(n.startswith("xl/charts/") for n in zf.namelist())


def test_parts_xlplan_does_not_know_stay_byte_for_byte(tmp_path):
    """Custom XML, printer settings, a web extension, VBA: copied as they are."""
    path = slipped_plan(tmp_path)
    extra = {"customXml/item1.xml": b'<?xml version="1.0"?><root xmlns="urn:unit">north</root>',
             "xl/printerSettings/printerSettings1.bin": bytes(range(256)) * 4,
             "xl/webextensions/webextension1.xml": b"<we:webextension xmlns:we='urn:x'/>",
             "xl/media/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(300)}
    with zipfile.ZipFile(path, "a") as zf:
        for name, data in extra.items():
            zf.writestr(name, data)
    before = members(path)
    recalc.recalc_file(path)
    recalc.recalc_file(path)
    after = members(path)
    for name, data in extra.items():
        assert after[name] == data
    assert {n for n in before if before[n] != after[n]} <= owned_parts(path)


def test_a_second_recalc_adds_nothing(tmp_path):
    path = slipped_plan(tmp_path)
    recalc.recalc_file(path)
    once = members(path)
    recalc.recalc_file(path)
    assert members(path) == once


# -- replacing the file ------------------------------------------------------------------------------
def test_mode_is_kept_and_a_symlink_is_followed(tmp_path):
    target = slipped_plan(tmp_path)
    os.chmod(target, 0o640)
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    recalc.recalc_file(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    code = get_column_letter(check_column("code"))
    assert openpyxl.load_workbook(target)["检查"][f"{code}5"].value == "REGIONS_NOT_MONTH"


def test_a_read_only_file_is_refused_and_left_alone(tmp_path):
    path = slipped_plan(tmp_path)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    with pytest.raises(WorkbookError, match="north.xlsx: the file is read-only"):
        recalc.recalc_file(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["north.xlsx"]


def test_a_full_disk_leaves_the_original_and_no_temporary_file(tmp_path, monkeypatch):
    path = slipped_plan(tmp_path)
    before = path.read_bytes()

    def full(self, zf):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writefile.Package, "write", full)
    with pytest.raises(WorkbookError, match="north.xlsx: the disk is full; nothing was written"):
        recalc.recalc_file(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["north.xlsx"]


def test_a_killed_recalc_leaves_nothing_a_merge_would_take(tmp_path):
    """The temporary file of a recalc killed mid-write is hidden and no workbook name."""
    path = slipped_plan(tmp_path)
    stray = tmp_path / f"{writefile.TEMP_PREFIX}abc123.tmp"
    shutil.copy(path, stray)  # what a kill between writing and renaming leaves
    assert [p.name for p in merge.expand([tmp_path])] == ["north.xlsx"]
    assert list(merge.expand([str(tmp_path / "*")])) == [path]
