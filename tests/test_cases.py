"""The corpus of bad workbooks (tests/cases/, made by make_cases.py): what xlplan says about each.

Every file is named after its defect. A file that is no workbook at all is refused
with one message naming the file; a workbook with a defect gets a finding naming file,
sheet and cell. A merge of the whole corpus with good files goes on to the end: every
good file accepted, every bad one stored as rejected with its finding, none lost.
"""
from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path

import pytest
from plans import clean_annual_plan, make

from xlplan.hq import merge, report
from xlplan.hq.store import RosterEntry, Store
from xlplan.model import WorkbookError
from xlplan.workbook import recalculation as recalc

CASES = Path(__file__).parent / "cases"
GOOD = CASES / "good"


def corpus() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_file() and p.suffix in (".xlsx", ".xlsm", ".xls"))


def findings(name):
    return recalc.check_file(CASES / name).findings


def one(found, code):
    hits = [f for f in found if f.code == code]
    assert hits, f"no {code} among {[str(f) for f in found]}"
    return hits[0]


def where(f):
    return (f.cell.file, f.cell.sheet, f.cell.address)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return recalc.check_file(make(tmp_path_factory.mktemp("clean"), "clean", clean_annual_plan()))


def test_the_corpus_is_what_make_cases_makes(tmp_path):
    """The checked-in files are current: make_cases.py makes the same set of names."""
    from cases.make_cases import CASES as BUILDERS

    assert sorted(BUILDERS) == [p.name for p in corpus()]
    assert sorted(p.name for p in GOOD.iterdir()) == ["good_east.xlsx", "good_west.xlsx"]


# -- files that are no workbook: one message naming the file ----------------------------------
@pytest.mark.parametrize("name, says", [
    ("not_a_zip.xlsx", "not an Excel workbook"),
    ("truncated_zip.xlsx", "damaged or was cut off in transfer"),
    ("password_protected.xlsx", "password protected"),
    ("legacy.xls", "legacy Excel 97–2003 (.xls)"),
    ("csv_renamed.xlsx", "a CSV or text file named like a workbook"),
    ("xml_entity_bomb.xlsx", "entity"),  # never expanded: calamine and defusedxml refuse DTD entities
])
def test_no_workbook_is_refused_with_the_reason(name, says):
    message = refused_at_once(name)
    assert message.startswith(f"{name}: ") and says in message


def refused_at_once(name: str) -> str:
    """The message the case `name` is refused with, within 5 seconds (no work on what it claims)."""
    started = time.monotonic()
    with pytest.raises(WorkbookError) as caught:
        recalc.check_file(CASES / name)
    assert time.monotonic() - started < 5
    return str(caught.value)


# -- workbooks with a defect: a finding at the cell -----------------------------------------------
def test_macros_are_never_run_and_the_values_are_read(clean, tmp_path):
    """An .xlsm reads like the plan it is; recalc keeps the VBA part byte for byte and runs nothing."""
    result = recalc.check_file(CASES / "macros.xlsm")
    assert result.findings == [] and result.values == clean.values
    out = tmp_path / "macros.xlsm"
    recalc.recalc_file(CASES / "macros.xlsm", out)
    with zipfile.ZipFile(CASES / "macros.xlsm") as before, zipfile.ZipFile(out) as after:
        assert after.read("xl/vbaProject.bin") == before.read("xl/vbaProject.bin")


def test_wrong_template_reads_as_what_it_is():
    """A scorecard where the roster expects an annual plan is read as a scorecard; the status says the
    annual plan is missing and the scorecard unexpected (see the merge test below)."""
    result = recalc.check_file(CASES / "wrong_template_scorecard.xlsx")
    assert result.plan.template.id == "kpi_scorecard"


def test_older_template_version():
    f = one(findings("old_template_version.xlsx"), "TEMPLATE_VERSION")
    assert f.severity == "error" and where(f) == ("old_template_version.xlsx", "_xlplan", "B2")
    assert "0.9" in f.message and "2.0" in f.message


def test_a_workbook_made_with_version_1_0_reads_as_made():
    """annual_plan 1.0 is kept: its workbooks read and check as they were made, with a warning naming 2.0."""
    [f] = findings("made_with_version_1_0.xlsx")
    expected_at = ("made_with_version_1_0.xlsx", "_xlplan", "B2")
    assert (f.severity, f.code, where(f)) == ("warning", "TEMPLATE_OLDER", expected_at)
    assert "1.0" in f.message and "2.0" in f.message


def test_a_renamed_sheet_is_read_by_its_names(clean):
    result = recalc.check_file(CASES / "sheet_renamed.xlsx")
    [f] = result.findings
    assert (f.severity, f.code, f.cell.sheet) == ("info", "SHEET_RENAMED", "进度表")
    assert result.values == clean.values


def test_a_deleted_sheet_is_one_finding():
    found = findings("sheet_deleted.xlsx")
    f = one(found, "SHEET_MISSING")
    assert f.severity == "error" and where(f) == ("sheet_deleted.xlsx", "目标达成分析", "A1")
    assert not [x for x in found if x.code == "NAME_MISSING"]


def test_a_deleted_name_points_where_the_block_was():
    f = one(findings("defined_name_deleted.xlsx"), "NAME_MISSING")
    assert where(f) == ("defined_name_deleted.xlsx", "计划进度", "C10") and "target_month" in f.message


@pytest.mark.parametrize("name, found", [("rows_deleted_in_block.xlsx", "2×12"),
                                         ("rows_inserted_in_block.xlsx", "4×12")])
def test_rows_deleted_or_inserted_inside_a_block(name, found):
    f = one(findings(name), "BLOCK_SHAPE")
    assert f.severity == "error" and where(f) == (name, "计划进度", "C11")
    assert "3×12" in f.message and found in f.message


def test_rows_inserted_outside_blocks_change_nothing(clean):
    result = recalc.check_file(CASES / "rows_inserted_above_blocks.xlsx")
    assert result.findings == [] and result.values == clean.values


def test_merged_cells_over_inputs():
    f = one(findings("merged_cells_over_inputs.xlsx"), "MERGED_CELLS")
    assert f.severity == "error" and where(f) == ("merged_cells_over_inputs.xlsx", "计划进度", "C10")
    assert "C10:E10" in f.message


def test_numbers_as_text_that_are_read():
    """"1,200", full-width "１２０" and "15%" in a share cell are read, each with a warning to retype it."""
    result = recalc.check_file(CASES / "numbers_as_text.xlsx")
    read = {(f.cell.sheet, f.cell.address): (f.actual, f.expected) for f in result.findings
            if f.code == "TEXT_READ_AS_NUMBER"}
    assert read == {("目标达成分析", "C11"): ("1,200", 1200), ("计划进度", "D18"): ("１２０", 120),
                    ("计划进度", "G22"): ("15%", 0.15)}
    assert not result.errors


def test_a_number_with_a_unit_word_is_refused():
    """"12萬" is 12 in a 万元 cell or 120,000 yuan: refused, never guessed."""
    f = one(findings("number_with_unit_word_12wan.xlsx"), "TEXT_NOT_NUMBER")
    assert f.severity == "error" and where(f) == ("number_with_unit_word_12wan.xlsx", "计划进度", "D10")
    assert "12萬" in f.message


def test_a_date_typed_as_text_in_a_month_cell():
    f = one(findings("date_as_text_in_month_cell.xlsx"), "TEXT_NOT_NUMBER")
    assert where(f) == ("date_as_text_in_month_cell.xlsx", "推动计划及预算", "E6") and "2027/1/1" in f.message


def test_a_date_in_a_number_cell():
    f = one(findings("date_in_number_cell.xlsx"), "DATE_NOT_NUMBER")
    assert where(f) == ("date_in_number_cell.xlsx", "计划进度", "E18")


@pytest.mark.parametrize("name, address, typed", [("value_typed_over_formula.xlsx", "C20", 2400),
                                                  ("formula_typed_over_computed_cell.xlsx", "D20", "=2420")])
def test_what_is_typed_over_a_computed_cell_is_reported_and_not_used(clean, name, address, typed):
    result = recalc.check_file(CASES / name)
    [f] = result.findings
    assert (f.severity, f.code, where(f), f.actual) == ("warning", "FORMULA_OVERWRITTEN", (name, "计划进度", address),
                                                       typed)
    assert result.values == clean.values  # the engine computed the cell from the inputs


def test_recalc_puts_the_template_formula_back(tmp_path):
    import openpyxl

    out = tmp_path / "fixed.xlsx"
    recalc.recalc_file(CASES / "value_typed_over_formula.xlsx", out)
    assert openpyxl.load_workbook(out)["计划进度"]["C20"].value == "=$C$6+$C$18-$C$19"
    assert [f.code for f in recalc.check_file(out).findings] == []


def test_a_circular_reference_in_an_input_cell():
    f = one(findings("circular_reference.xlsx"), "CIRCULAR_REFERENCE")
    assert f.severity == "error" and where(f) == ("circular_reference.xlsx", "计划进度", "C10")
    assert "=SUM(C10:N10)" in f.message


def test_ref_errors_in_input_cells():
    """calamine reads an error cell as blank: the reader looks at the XML and reports the error."""
    found = [f for f in findings("ref_error_in_input.xlsx") if f.code == "ERROR_VALUE"]
    assert [(f.cell.address, f.actual) for f in found] == [("D11", "#REF!"), ("E11", "#REF!")]
    assert all(f.severity == "error" and f.cell.sheet == "计划进度" for f in found)


# -- files from the real world: other programs, newer Excel, a changed record -----------------------
def test_new_error_values_are_read_and_reported_inside_blocks_only():
    """#SPILL! in an input cell is an error there; #CALC!, #BLOCKED!, #GETTING_DATA, #PYTHON! ... in cells
    outside every block are no concern of the plan (calamine alone refused the whole workbook)."""
    found = [f for f in findings("new_error_values.xlsx") if f.code == "ERROR_VALUE"]
    assert [(f.severity, f.cell.sheet, f.cell.address, f.actual) for f in found] == [
        ("error", "计划进度", "D10", "#SPILL!")]


def test_formulas_without_results_are_computed_or_reported(clean):
    result = recalc.check_file(CASES / "formulas_without_results.xlsx")
    by_code = {}
    for f in result.findings:
        by_code.setdefault(f.code, []).append((f.severity, f.cell.address))
    assert by_code["FORMULA_COMPUTED"] == [("info", "C10"), ("info", "D10")]
    assert by_code["FORMULA_NO_RESULT"] == [("error", "E18")]
    assert ("error", "F19") in by_code["ERROR_VALUE"]
    assert result.value("target_month")[0][:2] == [900, 600]  # as typed: 500+400 and C10-300


def test_strict_open_xml_reads_like_transitional(clean, tmp_path):
    result = recalc.check_file(CASES / "strict_open_xml.xlsx")
    assert result.findings == [] and result.values == clean.values
    out = tmp_path / "strict.xlsx"
    recalc.recalc_file(CASES / "strict_open_xml.xlsx", out)
    with zipfile.ZipFile(out) as zf:
        assert b"http://purl.oclc.org/ooxml/spreadsheetml/main" in zf.read("xl/workbook.xml")
    assert recalc.check_file(out).values == clean.values


@pytest.mark.parametrize("name, code, address", [
    ("overflow_1e308.xlsx", "NUMBER_TOO_LARGE", "C18"),
    ("fractional_headcount.xlsx", "NOT_WHOLE", "D19"),
])
def test_numbers_no_plan_holds(name, code, address):
    f = one(findings(name), code)
    assert f.severity == "error" and where(f) == (name, "计划进度", address)


def test_an_overflow_is_never_stored_or_shown_as_a_number(tmp_path):
    """1E+308 headcount: rejected; no infinity or NaN reaches the store or the file's cached values."""
    import math

    import python_calamine

    result = recalc.check_file(CASES / "overflow_1e308.xlsx")
    assert result.errors
    assert all(row[5] is None or math.isfinite(row[5]) for row in merge.long_form(result))
    out = tmp_path / "overflow.xlsx"
    recalc.recalc_file(CASES / "overflow_1e308.xlsx", out)
    book = python_calamine.CalamineWorkbook.from_path(str(out))
    for sheet in book.sheet_names:
        for row in book.get_sheet_by_name(sheet).to_python():
            assert all(not isinstance(v, float) or math.isfinite(v) for v in row), sheet


@pytest.mark.parametrize("name, says", [
    ("declared_5000_action_rows.xlsx", "'action_rows' is 5,000, outside 0–"),
    ("parameter_of_wrong_type.xlsx", "'action_rows' must be a whole number, found 'many'"),
])
def test_a_record_that_does_not_fit_its_template_is_refused_at_once(name, says):
    message = refused_at_once(name)
    assert message.startswith(f"{name} › _xlplan › B7: ") and says in message


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_record_whose_whole_number_is_no_finite_number_is_refused(tmp_path, number):
    """JSON reads these as floats that have no whole value (int() of them raised OverflowError or
    ValueError, a traceback instead of the file's refusal)."""
    import openpyxl

    path = tmp_path / "infinite_rows.xlsx"
    wb = openpyxl.load_workbook(GOOD / "good_east.xlsx")
    ws = wb["_xlplan"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "params")
    ws.cell(row, 2).value = f'{{"action_rows": {number}}}'
    wb.save(path)
    with pytest.raises(WorkbookError) as caught:
        recalc.check_file(path)
    assert str(caught.value).startswith(f"infinite_rows.xlsx › _xlplan › B{row}: ")
    assert "'action_rows' must be a whole number" in str(caught.value)


@pytest.mark.parametrize("name, code, cell", [
    ("blank_unit.xlsx", "UNIT_MISSING", ("_xlplan", "B3")),
    ("period_2027_13.xlsx", "PERIOD_INVALID", ("_xlplan", "B5")),
    ("unit_differs_from_cover.xlsx", "UNIT_MISMATCH", ("封面", "C5")),
    ("given_cell_changed.xlsx", "GIVEN_CHANGED", ("目标", "C5")),
])
def test_the_record_hq_issued_is_checked(name, code, cell):
    f = one(findings(name), code)
    assert f.severity == "error" and where(f) == (name, *cell)


# -- the whole corpus in one merge ------------------------------------------------------------------
@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inbox")
    for p in corpus() + sorted(GOOD.iterdir()):
        shutil.copy(p, folder / p.name)
    store = Store(f"sqlite:///{folder.parent / 'hq.db'}")
    store.set_roster([RosterEntry(u, "annual_plan") for u in
                      ("东区营业部", "西区营业部", "南区营业部", "北区营业部", "中区营业部")])
    inputs = [folder / p.name for p in corpus() + sorted(GOOD.iterdir())]  # named: .xls counts too
    summary = merge.merge(inputs, store, workers=0)
    yield summary, store, inputs
    store.close()


def test_the_merge_goes_on_and_loses_nothing(merged):
    summary, store, inputs = merged
    subs = {s["source"]: s for s in store.submissions()}
    assert summary.seen == len(inputs) == len(subs) == store.counts()["blobs"]
    assert summary.unreadable == []
    good = {"good_east.xlsx", "good_west.xlsx", "duplicate_unit_a.xlsx", "duplicate_unit_b.xlsx", "macros.xlsm",
            "strict_open_xml.xlsx",
            "sheet_renamed.xlsx", "rows_inserted_above_blocks.xlsx", "numbers_as_text.xlsx",
            "value_typed_over_formula.xlsx", "formula_typed_over_computed_cell.xlsx",
            "made_with_version_1_0.xlsx"}
    for name, s in subs.items():
        if name in good:
            assert s["status"] == "accepted", (name, store.findings_of(s["id"]))
        elif name != "wrong_template_scorecard.xlsx":
            assert s["status"] == "rejected", name
            errors = [f for f in store.findings_of(s["id"]) if f["severity"] == "error"]
            assert errors and all(f["message"] for f in errors), name


def test_every_rejected_workbook_names_sheet_and_cell(merged):
    """A file that is a workbook gets findings with sheet and cell; one that is not, a message with its name."""
    _, store, _ = merged
    for s in store.submissions():
        if s["status"] != "rejected":
            continue
        first = store.findings_of(s["id"])[0]
        if s["template"] is None:
            assert first["code"] == "UNREADABLE" and first["message"].startswith(s["source"])
        else:
            assert any(f["sheet"] and f["cell"] for f in store.findings_of(s["id"]) if f["severity"] == "error")


def test_status_shows_duplicate_units_and_the_wrong_template(merged):
    _, store, _ = merged
    st = report.status(store)
    rows = {(r.unit, r.template): r for r in st.rows}
    south = rows[("南区营业部", "annual_plan")]
    assert south.status == "accepted" and south.duplicate_files == ["duplicate_unit_a.xlsx", "duplicate_unit_b.xlsx"]
    assert rows[("中区营业部", "annual_plan")].status == "missing"
    assert rows[("中区营业部", "kpi_scorecard")].status == "unexpected"
    assert "duplicate_unit_a.xlsx, duplicate_unit_b.xlsx" in report.render_html(st)


def test_merging_the_corpus_again_changes_nothing(merged):
    summary, store, inputs = merged
    before = store.counts()
    again = merge.merge(inputs, store, workers=0)
    assert (again.new, again.duplicates) == (0, len(inputs)) and store.counts() == before


# -- recalc on the corpus: writes back without a crash, and the findings survive the round trip ----------
RESTORED = {"value_typed_over_formula.xlsx", "formula_typed_over_computed_cell.xlsx"}  # recalc fixes these
COMPUTED = {"formulas_without_results.xlsx"}  # recalc stores what the reader computed: the notes go


@pytest.mark.parametrize("name", [p.name for p in corpus()])
def test_recalc_writes_every_readable_case_back(tmp_path, name):
    try:
        first = recalc.recalc_file(CASES / name, tmp_path / name)
    except WorkbookError:
        return  # no workbook: refused as above
    again = recalc.check_file(tmp_path / name)
    key = sorted((f.code, f.cell.sheet, f.cell.address) if f.cell else (f.code,) for f in again.findings)
    if name in RESTORED:
        assert [f.code for f in again.findings] == []
    elif name in COMPUTED:
        assert key == sorted((f.code, f.cell.sheet, f.cell.address) for f in first.findings
                             if f.code != "FORMULA_COMPUTED")
    else:
        assert key == sorted((f.code, f.cell.sheet, f.cell.address) if f.cell else (f.code,) for f in first.findings)


def test_a_formula_typed_into_an_input_cell_keeps_its_result_through_recalc(tmp_path, clean):
    """openpyxl saves formulas without results: recalc writes back what the formula gave."""
    import openpyxl

    from xlplan.workbook import cached

    path = make(tmp_path, "typed_formula", clean_annual_plan())
    wb = openpyxl.load_workbook(path)
    wb["计划进度"]["C10"] = "=500+400"
    wb.save(path)
    cached.write_cached_values(path, {"计划进度": {"C10": 900}})
    assert recalc.check_file(path).values == clean.values
    recalc.recalc_file(path)
    assert openpyxl.load_workbook(path)["计划进度"]["C10"].value == "=500+400"
    assert recalc.check_file(path).values == clean.values


def test_the_merge_command_names_duplicate_units_and_refused_files(tmp_path):
    from typer.testing import CliRunner

    from xlplan.cli import app

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("duplicate_unit_a.xlsx", "duplicate_unit_b.xlsx", "not_a_zip.xlsx", "sheet_deleted.xlsx"):
        shutil.copy(CASES / name, inbox / name)
    result = CliRunner().invoke(app, ["merge", str(inbox), "--db", f"sqlite:///{tmp_path / 'hq.db'}",
                                      "--workers", "0"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert "2 files for 南区营业部 (annual_plan 2027): duplicate_unit_a.xlsx, duplicate_unit_b.xlsx" in said
    assert "rejected not_a_zip.xlsx" in said and "rejected sheet_deleted.xlsx" in said


def test_the_reader_s_shortcut_for_sheets_as_made_changes_no_finding(monkeypatch):
    """Sheets holding exactly the template's formulas skip the detailed look: the findings are the same."""
    from xlplan.workbook import cellchecks

    readable = []
    for p in corpus() + sorted(GOOD.iterdir()):
        try:
            readable.append((p, recalc.check_file(p).findings))
        except WorkbookError:
            pass
    monkeypatch.setattr(cellchecks, "_sheets_as_made", lambda *args: set())
    for p, found in readable:
        assert recalc.check_file(p).findings == found, p.name
