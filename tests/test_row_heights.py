"""Rows that grow when their text grows after the workbook was made.

The calendar and the effect tracking copy action names by formula; neither Excel nor
LibreOffice grows a row when a formula's text changes, nor a row the generator gave a
height of its own when a longer text is typed into it. `xlplan recalc` grows such rows to
the height their wrapped text needs (paper.fitted_height: the rule the generator uses, CJK
counting double) in the workbook's own column widths, and changes nothing else: a row is
never lowered, a row the user made taller or hid stays as it is.

A clerk's longer text is typed into the file's XML (as a program saving the file would
leave it), and in one test in LibreOffice itself (tests/lo_type.py, through its own API),
then printed by LibreOffice to PDF: the long name is on the page whole.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from lxml import etree
from plans import edit_part, hide_column, sheet_part, type_text
from test_keep_user_content import HERE, SYSTEM_PYTHON, needs_uno
from test_paper import _clipped, _pages, _sheet_of, needs_tools

from xlplan import libreoffice
from xlplan.template import generate, paper, spec
from xlplan.excel.bookjson import sizes_in_points
from xlplan.template.layout import CHECK_COLUMNS, check_row_height, checks_sheet_title
from xlplan.workbook import recalculation as recalc
from xlplan.workbook import ooxml, writeback, writefile
from xlplan.workbook.read import read_fast

ROOT = Path(__file__).resolve().parents[1]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
LONG_ACTION = {
    "zh-Hans": "自动转账推广（续期缴费提醒时推荐自动转账，与银行柜台联合宣导，每月统计授权件数并回报总部）",
    "en": "Auto-debit promotion (recommend automatic bank transfer in every renewal reminder, joint campaigns "
          "at the bank counters, authorisations counted monthly and reported to HQ)",
}
LONG_EFFECT = {
    "zh-Hans": "自动转账率（以银行自动转账缴费的续期件数占应缴件数的比例，按月统计）",
    "en": "Auto-debit rate (renewals paid by automatic bank transfer as a share of all renewals due, monthly)",
}


def made(tmp_path: Path, lang: str, name: str = "support") -> Path:
    """The support plan as issued, filled with the sample's short action names."""
    cycle = generate.Cycle(unit={"en": "North branch"}.get(lang, "北区营业部"), year=2027, lang=lang)
    data = json.loads((ROOT / "workbooks" / "samples" / "support_plan.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    return generate.write(spec.load("support_plan", cycle.template_params()), cycle,
                          tmp_path / f"{name}.{lang}.xlsx", data)


def set_row(path: Path, sheet: str, row: int, **attrs: str) -> None:
    """A row's attributes as a user's program saves them (height, hidden)."""
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        [line] = [r for r in root.iter(f"{MAIN}row") if r.get("r") == str(row)]
        for key, value in attrs.items():
            line.set(key, value)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    edit_part(path, sheet_part(path, sheet), edit)


def set_width(path: Path, sheet: str, col: int, width: float) -> None:
    def edit(data: bytes) -> bytes:
        root = etree.fromstring(data)
        cols = root.find(f"{MAIN}cols")
        for spec_ in cols:
            lo, hi = int(spec_.get("min")), int(spec_.get("max"))
            assert not (lo < col <= hi or lo <= col < hi), "a range of columns: not split by this test"
            if lo == col:
                spec_.set("width", str(width))
                spec_.set("customWidth", "1")
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    edit_part(path, sheet_part(path, sheet), edit)


def long_names_typed(path: Path, lang: str) -> dict[str, tuple[str, int]]:
    """The second action's name and effect made long, as a clerk types them after the workbook
    was issued; returns where the name and its copies sit: what → (sheet, row)."""
    plan = read_fast(path)
    action, effect = plan.cell("actions.action", 2), plan.cell("actions.effect", 2)
    type_text(path, action.sheet, action.address, LONG_ACTION[lang])
    type_text(path, effect.sheet, effect.address, LONG_EFFECT[lang])
    track, cal = plan.cell("track_action", 2), plan.cell("cal_action", 2)
    return {"typed": (action.sheet, ooxml.row_col(action.address)[0]),
            "tracking": (track.sheet, ooxml.row_col(track.address)[0]),
            "calendar": (cal.sheet, ooxml.row_col(cal.address)[0])}


def heights(path: Path) -> dict[tuple[str, int], float | None]:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, r): d.height for ws in wb.worksheets for r, d in ws.row_dimensions.items() if d.height}


def outside_checks(path: Path) -> dict[tuple[str, int], float | None]:
    """The row heights of every sheet but the Checks sheet (whose rows a recalculation fills)."""
    checks = checks_sheet_title(read_fast(path).lang)
    return {k: h for k, h in heights(path).items() if k[0] != checks}


def without_heights(data: bytes, rows: set[int]) -> bytes:
    """A sheet's XML with the height attributes of `rows` taken out (to compare what else differs)."""
    root = etree.fromstring(data)
    for line in root.iter(f"{MAIN}row"):
        if int(line.get("r")) in rows:
            for key in ("ht", "customHeight"):
                line.attrib.pop(key, None)
    return etree.tostring(root)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_rows_grow_for_a_longer_action_typed_after_the_workbook_was_made(tmp_path, lang):
    path = made(tmp_path, lang)
    where = long_names_typed(path, lang)
    typed = heights(path)
    plain = shutil.copy(path, tmp_path / "without_row_heights.xlsx")

    recalc.recalc_file(path)
    wb, shown = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)  # the engine's values
    for what, (sheet, row) in where.items():
        texts = [c.value for c in shown[sheet][row] if isinstance(c.value, str)]
        assert LONG_ACTION[lang] in texts, (what, texts)  # the copies show the long name now
        assert not _clipped(wb[sheet], shown[sheet]), _clipped(wb[sheet], shown[sheet])
        assert (wb[sheet].row_dimensions[row].height or 0) > (typed.get((sheet, row)) or paper.row_height(1))
        assert wb[sheet].row_dimensions[row].customHeight

    # what else the write-back changed: compared with the same write-back without its row heights
    edits = writeback.edits(recalc.evaluate(read_fast(plain)))
    writefile.rewrite(plain, [e for e in edits if not isinstance(e, writeback.FitRow)])
    grown = {(s, r) for (s, r), h in heights(path).items() if h != heights(plain).get((s, r))}
    assert grown == set(where.values())
    with zipfile.ZipFile(path) as a, zipfile.ZipFile(plain) as b:
        assert a.namelist() == b.namelist()
        parts = {sheet: sheet_part(path, sheet) for sheet, _ in grown}
        for name in a.namelist():
            rows = {r for sheet, r in grown if parts[sheet] == name}
            assert without_heights(a.read(name), rows) == without_heights(b.read(name), rows) if rows \
                else a.read(name) == b.read(name), name


def test_short_texts_change_no_row(tmp_path):
    """A workbook recalculated as issued: its rows keep the generator's heights (none is frozen
    at a height of its own that it did not have)."""
    path = made(tmp_path, "zh-Hans")
    before = outside_checks(path)
    recalc.recalc_file(path)
    assert outside_checks(path) == before


def test_a_row_made_taller_or_hidden_by_the_user_stays_as_it_is(tmp_path):
    path = made(tmp_path, "zh-Hans")
    where = long_names_typed(path, "zh-Hans")
    sheet, row = where["tracking"]
    set_row(path, sheet, row, ht="120", customHeight="1")  # taller than the long name needs
    hidden_sheet, hidden_row = where["calendar"]
    set_row(path, hidden_sheet, hidden_row, hidden="1")
    recalc.recalc_file(path)
    wb = openpyxl.load_workbook(path)
    assert wb[sheet].row_dimensions[row].height == 120
    assert wb[hidden_sheet].row_dimensions[hidden_row].hidden
    assert wb[hidden_sheet].row_dimensions[hidden_row].height is None
    typed_sheet, typed_row = where["typed"]
    assert wb[typed_sheet].row_dimensions[typed_row].height > paper.row_height(2)  # the others grow as before


def test_heights_follow_the_columns_as_the_user_widened_them(tmp_path):
    """The tracking sheet's name and effect columns widened by the user: the long name fits on
    one line there, and that row keeps its height; the calendar's row (not widened) grows."""
    path = made(tmp_path, "zh-Hans")
    where = long_names_typed(path, "zh-Hans")
    sheet, row = where["tracking"]
    plan = read_fast(path)
    wide = paper.text_width(LONG_ACTION["zh-Hans"]) + 4
    for block in ("track_action", "track_effect"):
        set_width(path, sheet, plan.areas[block].col, wide)
    before = heights(path)
    recalc.recalc_file(path)
    after = heights(path)
    assert after.get((sheet, row)) == before.get((sheet, row))
    assert after[where["calendar"]] > paper.row_height(2)
    # the same rule in a narrow column: the height the calendar's name needs there
    width = openpyxl.load_workbook(path)[where["calendar"][0]].column_dimensions[
        openpyxl.utils.get_column_letter(plan.areas["cal_action"].col)].width
    assert after[where["calendar"]] == paper.fitted_height([(LONG_ACTION["zh-Hans"], width)])


def test_a_long_name_in_a_column_the_user_hid_grows_no_row(tmp_path):
    """The name columns hidden on every sheet (a hidden column shows nothing, and Excel answers 0
    for its width, as the add-in reads it): no row grows, none is made one character wide."""
    path = made(tmp_path, "zh-Hans")
    plan = read_fast(path)
    for block in ("actions.action", "track_action", "cal_action"):
        cell = plan.cell(block, 2)
        hide_column(path, cell.sheet, ooxml.row_col(cell.address)[1])
    action = plan.cell("actions.action", 2)
    type_text(path, action.sheet, action.address, LONG_ACTION["zh-Hans"])
    before = outside_checks(path)
    recalc.recalc_file(path)
    assert outside_checks(path) == before


def test_a_second_recalc_changes_nothing(tmp_path):
    path = made(tmp_path, "en")
    long_names_typed(path, "en")
    recalc.recalc_file(path)
    with zipfile.ZipFile(path) as zf:
        once = {n: zf.read(n) for n in zf.namelist()}
    recalc.recalc_file(path)
    with zipfile.ZipFile(path) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == once


def test_the_write_back_lists_the_rows_of_text_with_the_engines_values(tmp_path):
    """Computed copies carry what the engine computes now (not the value cached in the file),
    typed cells what was typed."""
    path = made(tmp_path, "zh-Hans")
    where = long_names_typed(path, "zh-Hans")
    rows = {(e.sheet, e.row): dict(e.texts) for e in writeback.edits(recalc.evaluate(read_fast(path)))
            if isinstance(e, writeback.FitRow)}
    plan = read_fast(path)
    for what in ("typed", "tracking", "calendar"):
        assert LONG_ACTION["zh-Hans"] in rows[where[what]].values()
    assert rows[where["tracking"]][plan.areas["track_effect"].col] == LONG_EFFECT["zh-Hans"]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def printed_in_column(pages: list[dict], text: str) -> str:
    """The words printed in the column where `text` begins, top to bottom: the column's bounds are
    those of the line that begins it (a wrapped first line spans the column)."""
    for page in pages:
        starts = [w for w in page["words"] if text.startswith(w[4])]
        if not starts:
            continue
        first = min(starts, key=lambda w: (w[1], w[0]))
        line = sorted((w for w in page["words"] if abs(w[1] - first[1]) < 1 and w[0] >= first[0]), key=lambda w: w[0])
        right = first[2]
        for w in line:
            if w[0] - right > 6:
                break  # the next column
            right = w[2]
        inside = [w for w in page["words"] if first[0] - 6 <= (w[0] + w[2]) / 2 <= right + 6 and w[1] >= first[1] - 1]
        return " ".join(w[4] for w in sorted(inside, key=lambda w: (round(w[1]), w[0])))
    return ""


@needs_uno
@needs_tools
@pytest.mark.libreoffice
def test_a_name_typed_in_libreoffice_prints_whole_after_recalc(tmp_path):
    """The clerk types a long action name in LibreOffice and saves; LibreOffice recomputes the
    copies but leaves their rows one line high. After `xlplan recalc` the tracking sheet and the
    calendar print the whole name (every character on the page, in its column) and no cell of
    theirs is cut."""
    books = []
    for lang in ("zh-Hans", "en"):
        issued = made(tmp_path, lang)
        plan = read_fast(issued)
        action, effect = plan.cell("actions.action", 2), plan.cell("actions.effect", 2)
        typed = tmp_path / f"typed.{lang}.xlsx"
        done = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo_type.py"), str(issued), str(typed), action.sheet,
                               action.address, LONG_ACTION[lang], effect.address, LONG_EFFECT[lang]],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and typed.exists(), done.stderr
        copies = [plan.cell("track_action", 2), plan.cell("cal_action", 2)]
        saved = openpyxl.load_workbook(typed)
        for cell in copies:  # as LibreOffice saved it: the copy's row one line high
            assert (saved[cell.sheet].row_dimensions[ooxml.row_col(cell.address)[0]].height or 0) < paper.row_height(2)
        recalc.recalc_file(typed)
        books.append((lang, typed, copies))
    libreoffice._convert([p for _, p, _ in books], tmp_path / "pdf", "pdf", libreoffice.TIMEOUT)
    for lang, typed, copies in books:
        wb, shown = openpyxl.load_workbook(typed), openpyxl.load_workbook(typed, data_only=True)
        pages = _pages(tmp_path / "pdf" / f"{typed.stem}.pdf")
        sheets = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        for cell in copies:
            assert shown[cell.sheet][cell.address].value == LONG_ACTION[lang]
            mine = [p for p in pages if _sheet_of(p, sheets) == cell.sheet]
            printed = printed_in_column(mine, LONG_ACTION[lang])
            assert _squeezed(LONG_ACTION[lang]) in _squeezed(printed), f"{lang} › {cell.sheet}: printed {printed!r}"
            assert not _clipped(wb[cell.sheet], shown[cell.sheet]), _clipped(wb[cell.sheet], shown[cell.sheet])


def test_a_narrative_typed_longer_than_its_box_grows_the_box(tmp_path):
    """The mission's row is as high as the issued text needed; a clerk writes many lines more: the
    row grows to hold them all. A short mission leaves the row as it was."""
    path = made(tmp_path, "zh-Hans")
    mission = read_fast(path).cell("mission")
    row = ooxml.row_col(mission.address)[0]
    box = heights(path)[(mission.sheet, row)]
    long = "以客户为中心，" * 60
    type_text(path, mission.sheet, mission.address, long)
    recalc.recalc_file(path)
    wb = openpyxl.load_workbook(path)
    width = wb[mission.sheet].column_dimensions[re.sub(r"[0-9]+", "", mission.address)].width
    grown = wb[mission.sheet].row_dimensions[row].height
    assert grown == paper.fitted_height([(long, width)]) > box
    assert not _clipped(wb[mission.sheet])

    short = made(tmp_path, "zh-Hans", name="short")
    type_text(short, mission.sheet, mission.address, "以客户为中心")
    recalc.recalc_file(short)
    assert openpyxl.load_workbook(short)[mission.sheet].row_dimensions[row].height == box


def test_a_text_longer_than_the_highest_row_gets_the_highest_row(tmp_path):
    """Excel takes no row higher than 409 pt (Office.js and COM refuse more): a name that would
    need more gets 409 pt, in the file as in the add-in (tests/test_excel_desktop.py, addin.test.js)."""
    path = made(tmp_path, "zh-Hans")
    action = read_fast(path).cell("actions.action", 2)
    long = "自动转账推广，" * 80
    type_text(path, action.sheet, action.address, long)
    recalc.recalc_file(path)
    ws = openpyxl.load_workbook(path)[action.sheet]
    width = ws.column_dimensions[re.sub(r"[0-9]+", "", action.address)].width
    assert paper.row_height(paper.wrapped_lines(long, width)) > paper.MAX_ROW_PT
    assert ws.row_dimensions[ooxml.row_col(action.address)[0]].height == paper.MAX_ROW_PT


def test_a_checks_row_is_never_higher_than_excel_takes():
    """A Checks row is sized by the rule of every row of text: a message too long for 409 pt gets 409."""
    long = "行动「自动转账推广」的预算与月度计划不符，" * 60
    assert paper.row_height(paper.wrapped_lines(long, CHECK_COLUMNS[0].width)) > paper.MAX_ROW_PT
    assert check_row_height({"message": long, "cell": "预算 › G14"}) == paper.MAX_ROW_PT
    assert check_row_height({"message": "短", "cell": "预算 › G14"}) == paper.row_height(1)


def test_the_file_and_the_add_in_read_the_same_column_widths(tmp_path):
    """A <col> spanning columns, a hidden one, a sheet's own default width: the file's write-back
    (writefile) and what the add-in's client reports (bookjson.sizes_in_points) agree column by column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.sheet_format.defaultColWidth = 12
    ws.column_dimensions.group("B", "D", hidden=False)
    for letter in "BCD":
        ws.column_dimensions[letter].width = 20
    ws.column_dimensions["F"].width = 30
    ws.column_dimensions["F"].hidden = True
    ws["H1"] = "x"
    wb.save(tmp_path / "cols.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "cols.xlsx").active
    client = [paper.width_of_points(p) for p in sizes_in_points(ws, 1, 8)["column_widths"]]
    with zipfile.ZipFile(tmp_path / "cols.xlsx") as zf:
        sheet = writefile.Sheet(writefile.Package(zf, "cols.xlsx"), ws.title)
        file = [sheet.column_width(c) for c in range(1, 9)]
    assert file == pytest.approx(client)
    assert file[1] == file[3] == 20 and file[5] == 0 and file[0] == file[7] == 12
