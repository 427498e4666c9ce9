"""What HQ issued is verifiable: its grey cells, the record and HQ's signature; one name per unit."""
from __future__ import annotations

import openpyxl
import pytest
from plans import clean_annual_plan, make

from xlplan.hq.merge import read_roster
from xlplan.model import TemplateError, normal_unit
from xlplan.template.cycle import Cycle
from xlplan.workbook import recalculation as recalc


def codes(path):
    return [(f.code, f.cell.sheet, f.cell.address) for f in recalc.check_file(path).findings]


def set_cell(path, sheet, address, value):
    wb = openpyxl.load_workbook(path)
    wb[sheet][address] = value
    wb.save(path)


def record_row(path, key):
    ws = openpyxl.load_workbook(path)["_xlplan"]
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == key)


def test_with_hq_s_secret_a_record_edited_to_match_is_caught(tmp_path, monkeypatch):
    monkeypatch.setenv("XLPLAN_HQ_SECRET", "hq-only")
    path = make(tmp_path, "north", clean_annual_plan())
    assert codes(path) == []
    set_cell(path, "目标", "C5", 7000)  # HQ's target, lowered after unprotecting the sheet
    assert ("GIVEN_CHANGED", "目标", "C5") in codes(path)
    row = record_row(path, "given")  # ... and the hidden record changed to match
    wb = openpyxl.load_workbook(path)
    wb["_xlplan"].cell(row, 2).value = wb["_xlplan"].cell(row, 2).value.replace("8000", "7000")
    wb.save(path)
    found = codes(path)
    assert ("GIVEN_CHANGED", "目标", "C5") not in found
    assert ("SIGNATURE_MISMATCH", "_xlplan", f"B{record_row(path, 'signature')}") in found


def test_a_changed_unit_or_parameter_breaks_the_signature(tmp_path, monkeypatch):
    monkeypatch.setenv("XLPLAN_HQ_SECRET", "hq-only")
    path = make(tmp_path, "north", clean_annual_plan())
    wb = openpyxl.load_workbook(path)
    wb["_xlplan"].cell(record_row(path, "params"), 2).value = '{"regions": ["A区", "B区", "C区"]}'
    wb.save(path)
    assert "SIGNATURE_MISMATCH" in [c for c, _, _ in codes(path)]


def test_without_a_secret_nothing_is_signed_and_the_grey_cells_are_still_compared(tmp_path, monkeypatch):
    monkeypatch.delenv("XLPLAN_HQ_SECRET", raising=False)
    monkeypatch.delenv("XLPLAN_HQ_SECRET_FILE", raising=False)
    path = make(tmp_path, "north", clean_annual_plan())
    ws = openpyxl.load_workbook(path)["_xlplan"]
    assert ws.cell(record_row(path, "signature"), 2).value in (None, "")
    set_cell(path, "目标", "C5", 7000)
    assert ("GIVEN_CHANGED", "目标", "C5") in codes(path)


def test_a_signed_workbook_checked_without_the_secret_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("XLPLAN_HQ_SECRET", "hq-only")
    path = make(tmp_path, "north", clean_annual_plan())
    monkeypatch.delenv("XLPLAN_HQ_SECRET")
    [(code, severity)] = [(f.code, f.severity) for f in recalc.check_file(path).findings]
    assert (code, severity) == ("NOT_VERIFIED", "info")


def test_an_unsigned_workbook_where_hq_has_a_secret_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.delenv("XLPLAN_HQ_SECRET", raising=False)
    path = make(tmp_path, "north", clean_annual_plan())
    key = tmp_path / "hq.key"
    key.write_text("hq-only\n")
    monkeypatch.setenv("XLPLAN_HQ_SECRET_FILE", str(key))
    assert [(f.code, f.severity) for f in recalc.check_file(path).findings] == [("NOT_SIGNED", "warning")]


def test_one_name_per_unit_everywhere(tmp_path):
    assert normal_unit(" 北区　营业部 ") == normal_unit("北区 营业部") == "北区 营业部"
    assert normal_unit("ＡＢＣ  Branch") == "ABC Branch"
    assert Cycle(unit="北区　营业部", year=2027).unit == "北区 营业部"
    with pytest.raises(TemplateError, match="cannot be blank"):
        Cycle(unit="  ", year=2027)
    roster = tmp_path / "roster.csv"
    roster.write_text("unit,template\n北区　营业部,annual_plan\n", encoding="utf-8")
    assert [e.unit for e in read_roster(roster)] == ["北区 营业部"]
    from xlplan.hq.tokens import Tokens

    tokens = Tokens(tmp_path / "tokens.json")
    assert tokens.unit_of(tokens.issue(" 北区　营业部")) == "北区 营业部"
