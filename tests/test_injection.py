"""Formula injection: text from HQ's --data or from a submission is written as text, never as a formula.

openpyxl turns any str beginning with "=" into a formula; a unit name or an action typed
as "=HYPERLINK(...)" or "=cmd|' /C calc'!A0" must reach every file xlplan writes as the
text it is: the generated workbook, the recalculated one, the consolidated workbook and
the status page.
"""
from __future__ import annotations

import zipfile

import openpyxl
from plans import clean_annual_plan, make

from xlplan.hq import consolidate, merge, report
from xlplan.hq.store import Store
from xlplan.workbook import recalculation as recalc

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A2)", "=cmd|' /C calc'!A0"]


def hostile_plan():
    data = clean_annual_plan()
    data["principles"] = HOSTILE[0]
    data["owners"] = HOSTILE[1:4] + ["王经理", "李主任"]
    data["actions"][0]["action"] = HOSTILE[4]
    data["actions"][0]["owner"] = HOSTILE[1]
    data["strategies"] = [HOSTILE[4], "培训"]  # a strategy reaches the consolidated budget sheet
    data["actions"][1]["strategy"] = HOSTILE[4]
    return data


def formulas_in(path) -> list[str]:
    """Every formula of every sheet, straight from the XML."""
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_generate_writes_data_beginning_with_formula_signs_as_text(tmp_path):
    path = make(tmp_path, "hostile", hostile_plan())
    wb = openpyxl.load_workbook(path)
    assert wb["封面"]["C14"].value == HOSTILE[0] and wb["封面"]["C14"].data_type == "s"
    assert [wb["封面"].cell(r, 3).value for r in (25, 26, 27)] == HOSTILE[1:4]
    assert not any(h in formulas_in(path) for h in HOSTILE)
    with zipfile.ZipFile(path) as zf:
        assert b"<f>HYPERLINK" not in zf.read("xl/worksheets/sheet1.xml")


def test_recalc_and_its_checks_sheet_keep_text_as_text(tmp_path):
    data = hostile_plan()
    data["recruits"][1] = "=1+1 people"  # text in a number cell: quoted in a finding's message
    path = make(tmp_path, "hostile", data)
    out = tmp_path / "out.xlsx"
    result = recalc.recalc_file(path, out)
    assert any(f.code == "TEXT_NOT_NUMBER" for f in result.findings)
    wb = openpyxl.load_workbook(out)
    assert wb["封面"]["C14"].value == HOSTILE[0]
    checks = wb["检查"]
    assert all(c.data_type != "f" for row in checks.iter_rows() for c in row)
    assert not any(h in formulas_in(out) for h in HOSTILE)


def test_consolidated_workbook_and_status_page_write_submitted_text_as_text(tmp_path):
    inbox = tmp_path / "inbox"
    make(inbox, "hostile", hostile_plan(), unit="=HQ()+1")
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as store:
        summary = merge.merge([inbox], store, workers=0)
        assert summary.accepted == 1, store.findings_of(1)
        st = report.status(store, basis="accepted")
        out = consolidate.write(store, tmp_path / "consolidated.xlsx", st=st, basis="accepted")
        page = report.render_html(st)
    wb = openpyxl.load_workbook(out)
    texts = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "=HQ()+1" in texts and HOSTILE[4] in texts  # the unit and the action, as text
    assert not [f for f in formulas_in(out) if "HQ()" in f or "cmd|" in f]
    assert "=HQ()+1" in page and "<script" not in page.lower().replace("<script>", "")
