"""A workbook a unit holds from an earlier release reads as it was made.

tests/cases/released/ keeps sample workbooks made by the release that first shipped a
template version, with that release's own verdict on each (its `xlplan check --json`).
When a template's layout changes, its version goes up and the earlier definition is kept
in templates/versions/: the old workbook must read with the same values and the same
findings, plus one warning naming the current version; never as a damaged file.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from xlplan.template import spec
from xlplan.workbook import recalculation as recalc

RELEASED = Path(__file__).parent / "cases" / "released"
WORKBOOKS = sorted(RELEASED.glob("*.xlsx"))


def said(finding: dict) -> tuple:
    return (finding["severity"], finding["code"], finding["sheet"], finding["cell"], finding["message"])


def test_there_are_released_workbooks():
    assert {p.stem for p in WORKBOOKS} == {
        "support_plan-release", "team_plan-release", "personal_plan-release",  # 2.0, 1.0, 1.0
        "support_plan-2.1", "team_plan-1.1", "personal_plan-1.1",
    }


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.stem)
def test_a_released_workbook_reads_as_that_release_read_it(path):
    then = json.loads(path.with_suffix(".findings.json").read_text(encoding="utf-8"))
    result = recalc.check_file(path)
    now = json.loads(json.dumps(result.as_json(), ensure_ascii=False))
    assert now["values"] == then["values"]
    assert result.plan.template.id == then["template"]
    assert result.plan.template.version == then["version"]
    current = spec.load(then["template"]).version
    assert current != then["version"], "the fixture is meant to be of an earlier version"
    older = [f for f in result.findings if f.code == "TEMPLATE_OLDER"]
    assert len(older) == 1 and older[0].severity == "warning"
    assert (older[0].cell.sheet, older[0].cell.address) == ("_xlplan", "B2")
    assert then["version"] in older[0].message and current in older[0].message
    rest = [(f.severity, f.code, f.cell.sheet if f.cell else None, f.cell.address if f.cell else None, f.message)
            for f in result.findings if f.code != "TEMPLATE_OLDER"]
    assert sorted(rest, key=str) == sorted((said(f) for f in then["findings"]), key=str)
