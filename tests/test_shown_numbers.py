"""Numbers beside the workbooks read as the workbooks show them.

HQ's web page shows the consolidated tables in the number formats the consolidated workbook
gives their cells, and `xlplan diff` shows a plan's values in their blocks' formats, both
through one formatter (styles.shown). Each case below is what Excel shows for the value in
that format (halves away from zero, as Excel rounds what it displays).
"""
from __future__ import annotations

import pytest

from xlplan.hq import consolidate, diff
from xlplan.template import styles


@pytest.mark.parametrize("value, number_format, excel_shows", [
    (64000, "#,##0", "64,000"),
    (1234.5, "#,##0", "1,235"),  # a yuan figure with a half: rounded away from zero
    (-0.4, "#,##0", "0"),
    (1234.5678, "#,##0.00", "1,234.57"),
    (1.005, "#,##0.00", "1.01"),
    (0.11, "0.0%", "11.0%"),
    (0.8425, "0.0%", "84.3%"),
    (87.25, "0.0", "87.3"),  # a score: one decimal, as the consolidated workbook shows it
    (1.5, "#,##0.##", "1.5"),
    (1.2345, "#,##0.##", "1.23"),
    (2, "#,##0.##", "2"),  # Excel leaves "2."; the page leaves the point out
    (7, "0", "7"),
    (2027, "General", "2027"),  # General groups no thousands: a year is not 2,027
    (64000, "General", "64000"),
    (1.2345, "General", "1.2345"),
    (0.3, "#,##0;-#,##0;;@", "0"),
    ("到期", "#,##0", "到期"),
    (None, "#,##0", ""),
])
def test_a_value_reads_as_its_format_shows_it(value, number_format, excel_shows):
    assert styles.shown(value, number_format) == excel_shows


def test_the_web_page_and_the_consolidated_workbook_use_the_same_formats():
    """The consolidated tables' formats (consolidate.FORMATS) are the codes the page renders: a
    score on the page has the consolidated workbook's one decimal, a yuan figure none."""
    assert styles.shown(87.25, consolidate.FORMATS["score"]) == "87.3"
    assert styles.shown(1234.5, consolidate.FORMATS["yuan"]) == "1,235"
    assert styles.shown(0.5, consolidate.FORMATS["number"]) == "0.5"  # half a trainer


def test_diff_shows_a_value_in_its_block_s_unit():
    assert diff.shown(64000.0, "yuan") == "64,000"
    assert diff.shown(0.143, "percent") == "14.3%"
    assert diff.shown(2.5, "wan") == "2.50"
    assert diff.shown(1.2345, "number") == "1.2345"
    assert diff.shown(2027, "number") == "2027"  # the plan's year, as its cell shows it
    assert diff.shown("培训", "text") == "培训"


@pytest.mark.parametrize("value, number_format, excel_shows", [
    # a typo such as 1E+30 in a yuan cell: far beyond 28 digits, written out in full
    (1e30, "#,##0", f"{10**30:,}"),
    (-1e30, "#,##0", f"-{10**30:,}"),
    (1e26, "#,##0.00", f"{10**26:,}.00"),
    (1e300, "0.0%", f"{10**302:,}.0%".replace(",", "")),
    (1e308, "#,##0", f"{10**308:,}"),
])
def test_a_huge_value_is_written_out_rather_than_failing(value, number_format, excel_shows):
    assert styles.shown(value, number_format) == excel_shows


def test_diff_shows_a_huge_yuan_figure():
    assert diff.shown(1e28, "yuan") == f"{10**28:,}"
