"""The input checks judge a block of plain numbers, or of plain texts, at once (checks._check_at_once);
their findings are exactly those of the cell-by-cell check, whatever the values and blanks."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plans import make

from xlplan.workbook import checks, read

SAMPLES = Path(__file__).parent.parent / "workbooks" / "samples"
EDGES = [None, 0, 1, 12, 13, 0.5, 1.5, -1, -0.01, 2, 99, 1e15, -1e15, 999_999_999_999_999.0, math.nan, math.inf,
         -math.inf, 7.0, 0.999, 1.0000001]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plans")
    out = []
    for template_id in ("annual_plan", "kpi_scorecard"):
        data = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
        data.pop("params", None)
        period = data.pop("period", "2027-01") if template_id == "kpi_scorecard" else ""
        out.append(read.read_fast(make(folder, template_id, data, template_id=template_id, period=period)))
    return out


def numeric_blocks(plan):
    return [(name, block) for name, block in plan.template.blocks.items()
            if block.role in ("input", "given") and block.unit in checks.NUMERIC_UNITS]


def text_blocks(plan):
    return [(name, block) for name, block in plan.template.blocks.items()
            if block.role in ("input", "given") and block.unit not in checks.NUMERIC_UNITS]


def texts_for(plan, values, block):
    choices = checks._choices(plan, values, block) or ("甲",)
    return st.one_of(st.none(), st.sampled_from([*choices, "#REF!", " #n/a ", "other", "", " "]), st.text(max_size=3))


def test_every_numeric_input_block_of_the_samples_is_judged_at_once(plans):
    judged = 0
    for plan in plans:
        values, tables, _ = checks.accepted_inputs(plan)
        used = checks._used_table_rows(plan, tables)
        for name, block in numeric_blocks(plan) + text_blocks(plan):
            at_once = checks._check_at_once(plan, values, tables, name, block, used)
            assert at_once == checks._check_cells(plan, values, tables, name, block, used), name
            judged += at_once is not None
    assert judged > 40


def fill(values: dict, tables: dict, name: str, block, data, draw) -> None:
    """Every cell of a block (or table column) drawn from `draw`, in the block's shape."""
    if block.table:
        tables[name] = [data.draw(draw) for _ in tables.get(name, ())]
    else:
        values[name] = [[data.draw(draw) for _ in row] for row in values.get(name, ())]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_texts_and_blanks_anywhere_give_the_cell_by_cell_findings(plans, data):
    plan = data.draw(st.sampled_from(plans))
    values, tables, _ = checks.accepted_inputs(plan)
    judged = 0
    for name, block in text_blocks(plan):
        fill(values, tables, name, block, data, texts_for(plan, values, block))
    used = checks._used_table_rows(plan, tables)
    for name, block in text_blocks(plan):
        expected = checks._check_cells(plan, values, tables, name, block, used)
        assert checks._check_block_inputs(plan, values, tables, name, block, used) == expected, name
        at_once = checks._check_at_once(plan, values, tables, name, block, used)
        assert at_once is None or at_once == expected, name
        judged += at_once is not None
    assert judged > 0


def test_blank_blocks_are_judged_at_once_with_the_same_findings(plans):
    missing = 0
    for plan in plans:
        values, tables, _ = checks.accepted_inputs(plan)
        for name, block in numeric_blocks(plan):
            if block.table:
                tables[name] = [None if i % 2 else 1 for i, _ in enumerate(tables.get(name, ()))]
            else:
                values[name] = [[None] * len(row) for row in values.get(name, ())]
        used = checks._used_table_rows(plan, tables)
        for name, block in numeric_blocks(plan):
            at_once = checks._check_at_once(plan, values, tables, name, block, used)
            assert at_once is not None and at_once == checks._check_cells(plan, values, tables, name, block, used)
            missing += len(at_once)
    assert missing >= 4  # the required blocks and table columns of the two samples


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_numbers_and_blanks_anywhere_give_the_cell_by_cell_findings(plans, data):
    plan = data.draw(st.sampled_from(plans))
    values, tables, _ = checks.accepted_inputs(plan)
    draw = st.one_of(st.sampled_from(EDGES), st.integers(-5, 20), st.floats(-10, 1e6, allow_nan=False))
    for name, block in numeric_blocks(plan):
        fill(values, tables, name, block, data, draw)
    used = checks._used_table_rows(plan, tables)
    for name, block in numeric_blocks(plan):
        expected = checks._check_cells(plan, values, tables, name, block, used)
        assert checks._check_block_inputs(plan, values, tables, name, block, used) == expected, name
        at_once = checks._check_at_once(plan, values, tables, name, block, used)
        assert at_once is None or at_once == expected, name


def test_a_rule_added_to_the_one_number_rule_applies_to_blocks_judged_at_once(plans, monkeypatch):
    """Numbers are judged by one rule (checks.number_fault), cell by cell and a block of plain numbers at
    once alike: a rule added to it (here: 7 is too much) is found in both, at the same cell."""
    plan = plans[0]
    values, tables, _ = checks.accepted_inputs(plan)
    name, block = next((name, block) for name, block in numeric_blocks(plan)
                       if not block.table and block.unit == "count" and block.maximum is None)
    values[name] = [[7 if (r, c) == (0, 0) else 1 for c, _ in enumerate(row)] for r, row in enumerate(values[name])]
    used = checks._used_table_rows(plan, tables)
    assert checks._check_block_inputs(plan, values, tables, name, block, used) == []
    rule = checks.number_fault
    monkeypatch.setattr(checks, "number_fault", lambda limits, v: "ABOVE_MAXIMUM" if v == 7 else rule(limits, v))
    found = checks._check_block_inputs(plan, values, tables, name, block, used)
    assert [(f.code, f.cell) for f in found] == [("ABOVE_MAXIMUM", plan.cell(name, 1, 1))]
    assert found == checks._check_cells(plan, values, tables, name, block, used)
