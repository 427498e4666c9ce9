"""Generated workbooks match the reviewed golden workbooks in tests/golden/, on content.

A difference is either a regression or a deliberate change: for the latter, run
`scripts/update_golden.py` and commit the new golden files with the change.
"""
from __future__ import annotations

import golden
import pytest


@pytest.mark.parametrize(("template_id", "lang"), golden.cases())
def test_generated_workbook_matches_golden_file(template_id, lang, tmp_path):
    expected = golden.golden_path(template_id, lang)
    assert expected.is_file(), (f"no golden file {expected.name}: run scripts/update_golden.py "
                                "and review the new file before committing it")
    actual = golden.write_case(template_id, lang, tmp_path / expected.name)
    differences = golden.compare_workbooks(expected, actual)
    assert not differences, (f"{expected.name}: {len(differences)} differences from the golden file "
                             "(if intended, run scripts/update_golden.py):\n" + "\n".join(differences))


def test_comparison_finds_a_changed_formula_and_ignores_the_generator_version(tmp_path):
    """The helper itself: one edited formula is reported with sheet and cell; the version line is not."""
    import openpyxl

    template_id, lang = golden.cases()[0]
    original = golden.write_case(template_id, lang, tmp_path / "original.xlsx")
    wb = openpyxl.load_workbook(original)
    sheet, address = next((ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows()
                          for c in row if isinstance(c.value, str) and c.value.startswith("="))
    wb[sheet][address] = "=1+1"
    meta = wb[golden.META_SHEET]
    row = next(r for r in range(1, meta.max_row + 1) if meta.cell(r, 1).value == "generator")
    meta.cell(row, 2).value = "xlplan 99.0"
    wb.save(tmp_path / "edited.xlsx")
    differences = golden.compare_workbooks(original, tmp_path / "edited.xlsx")
    assert differences == [f"{sheet} › {address}: value is '=1+1', golden file has "
                           f"{openpyxl.load_workbook(original)[sheet][address].value!r}"]
