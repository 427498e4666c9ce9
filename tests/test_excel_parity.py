"""The Recalculate button and `xlplan recalc` give the same values and findings.

One workbook, two paths: the CLI recalculates the file (values cached into its formula
cells, Checks sheet refilled); the server's Recalculate script gets the book JSON the
Office.js client would send for the same file and answers with actions, applied here
as the client applies them. Every computed cell and every Checks row must agree.
"""
from __future__ import annotations

import copy
import json

import openpyxl
import pytest
from typer.testing import CliRunner

from xlplan.excel import use_development_license

use_development_license()  # xlwings' free noncommercial key: tests only

from fastapi.testclient import TestClient  # noqa: E402
from plans import clean_annual_plan, make  # noqa: E402

from xlplan.cli import app as cli  # noqa: E402
from xlplan.demo import SAMPLES  # noqa: E402
from xlplan.hq.tokens import Tokens  # noqa: E402
from xlplan.excel.bookjson import apply_actions, book_json  # noqa: E402
from xlplan.excel.server import Settings, create_app  # noqa: E402
from xlplan.template.layout import CHECK_COLUMNS, check_column, checks_sheet_title  # noqa: E402


def annual_with_slips():
    """The handbook's slips: a stated 6,400 for 64,000, regions short of the month, text in a number."""
    data = clean_annual_plan()
    data["actions"][0]["stated"] = 6400
    data["region_plan"][2][0] = 130
    data["recruits"][3] = "十二"
    return data


def scorecard():
    data = json.loads((SAMPLES / "kpi_scorecard.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    data.pop("period", None)
    return data


CASES = [
    ("north_slips", annual_with_slips, "zh", "annual_plan", "北区营业部", ""),
    ("north_clean_en", clean_annual_plan, "en", "annual_plan", "北区营业部", ""),
    ("team_one", scorecard, "zh", "kpi_scorecard", "客服一组", "2027-01"),
]


def _shown(v):
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


@pytest.mark.parametrize("name, data, lang, template_id, unit, period", CASES, ids=[c[0] for c in CASES])
def test_recalculate_button_and_cli_recalc_agree(tmp_path, name, data, lang, template_id, unit, period):
    path = make(tmp_path, name, data(), lang=lang, template_id=template_id, unit=unit, period=period)
    book = book_json(openpyxl.load_workbook(path), path.name)  # read before the CLI touches the file

    # the CLI
    out, report = tmp_path / f"{name}.recalc.xlsx", tmp_path / f"{name}.json"
    run = CliRunner().invoke(cli, ["recalc", str(path), "-o", str(out), "--json", str(report)])
    cli_report = json.loads(report.read_text(encoding="utf-8"))
    has_errors = any(f["severity"] == "error" for f in cli_report["findings"])
    assert run.exit_code == (1 if has_errors else 0), run.output  # recalc exits as check does
    cli_cached = openpyxl.load_workbook(out, data_only=True)
    cli_formulas = openpyxl.load_workbook(out)

    # the add-in
    key = Tokens(tmp_path / "tokens.json").issue(unit)
    server = TestClient(create_app(Settings(tokens=tmp_path / "tokens.json", inbox=tmp_path / "inbox")))
    response = server.post("/xlwings/custom-scripts-call/recalculate", json=copy.deepcopy(book),
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    after = copy.deepcopy(book)
    apply_actions(after, response.json()["actions"])
    grids = {s["name"]: s["values"] for s in after["sheets"]}

    def shown(sheet, r, c):
        grid = grids[sheet]
        return _shown(grid[r - 1][c - 1]) if r - 1 < len(grid) and c - 1 < len(grid[r - 1]) else None

    # every computed (formula) cell: the value the CLI cached is the value the button wrote
    compared = 0
    for ws in cli_formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    expected = _shown(cli_cached[ws.title].cell(cell.row, cell.column).value)
                    assert shown(ws.title, cell.row, cell.column) == expected, f"{ws.title}!{cell.coordinate}"
                    compared += 1
    assert compared > 100

    # the Checks sheet: the same rows, in the same order, as the CLI wrote
    title = checks_sheet_title(lang)
    ws = cli_cached[title]
    width, code = len(CHECK_COLUMNS), check_column("code") - 1
    cli_rows = [[_shown(ws.cell(r, c).value) for c in range(1, width + 1)] for r in range(5, ws.max_row + 1)]
    button_rows = [[shown(title, r, c) for c in range(1, width + 1)] for r in range(5, 5 + len(cli_rows))]
    assert button_rows == cli_rows
    assert [row[code] for row in cli_rows if row[code]] == [f["code"] for f in cli_report["findings"]]
    if name == "north_slips":
        assert {"STATED_NOT_COMPUTED", "REGIONS_NOT_MONTH", "TEXT_NOT_NUMBER"} <= {f["code"] for f in
                                                                                    cli_report["findings"]}
