"""Numbers beside the workbooks read as the workbooks show them.

HQ's web page shows the consolidated tables in the number formats the consolidated workbook
gives their cells, and `xlplan diff` shows a plan's values in their blocks' formats, both
through one formatter (styles.shown). Each case below is what Excel shows for the value in
that format (halves away from zero, as Excel rounds what it displays).

General is Excel's in a cell of the standard width (11 characters; scientific below 0.0001 and
from 1E+11). LibreOffice's General is not bound to the width: its CSV export (soffice
--convert-to csv, 7.4) writes 0.00004, -0.000000000001, 123456789012 and 1.23456789012 in
full where Excel shows 4E-05, -1E-12, 1.23457E+11 and 1.23456789; both agree on 0.00015,
0.12345, 2027 and 99999999999.
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
    (0.00015, "General", "0.00015"),  # General keeps what fits 11 characters, not four decimals
    (0.12345, "General", "0.12345"),
    (0.000123456789, "General", "0.000123457"),
    (1.23456789012, "General", "1.23456789"),
    (1234567890.5, "General", "1234567891"),
    (99999999999, "General", "99999999999"),
    (0.00004, "General", "4E-05"),  # below 0.0001 Excel's General turns scientific
    (-1e-12, "General", "-1E-12"),
    (123456789012, "General", "1.23457E+11"),  # twelve digits: scientific, five decimals
    (1e15, "General", "1E+15"),
    (99999999999.6, "General", "1E+11"),  # rounds up to twelve digits
    (-0.0, "General", "0"),
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


@pytest.mark.parametrize("own", ["percent", "yuan", "wan", "score"])
def test_a_count_shows_as_a_plain_number_whatever_its_block_s_unit(own):
    """A row measured in people or cases (人/件) shows 3 as 3 and half a trainer as 0.5: never
    in its block's own format (300.0% in a block of shares, 1 for 0.5 in yuan)."""
    for formats in (styles.NUMBER_FORMATS, styles.COMPUTED_FORMATS):
        code = styles.measured_format(own, "count", formats)
        assert code == formats["number"]
        assert styles.shown(3, code) == "3" and styles.shown(0.5, code) == "0.5"
    assert styles.measured_format("number", "count") is None  # a plain number already
