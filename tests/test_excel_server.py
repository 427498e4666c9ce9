"""The add-in server, driven through its HTTP API with the JSON our Office.js client sends.

The books are real layouts: `generate.build_workbook` makes the workbook, `book_json`
turns it into what the client would read from Excel (formula cells empty, as in a file
no spreadsheet program has computed yet), and the tests read the returned actions the
way the client applies them.
"""
from __future__ import annotations

import copy
import io
import json

import pytest

from xlplan.excel import use_development_license

use_development_license()  # xlwings' free noncommercial key: tests only

from fastapi.testclient import TestClient  # noqa: E402
from plans import clean_annual_plan  # noqa: E402

from xlplan.hq.tokens import Tokens  # noqa: E402
from xlplan.excel.bookjson import apply_actions, book_json, plan_from_book  # noqa: E402
from xlplan.workbook.ooxml import row_col as _split  # noqa: E402  ("C7" → (7, 3))
from xlplan.excel.ribbon import workbook_bytes  # noqa: E402
from xlplan.excel.server import Settings, create_app  # noqa: E402
from xlplan.template import generate, spec
from xlplan.template.layout import check_column
from xlplan.template.layout import quote  # noqa: E402
from xlplan.workbook import recalculation as recalc  # noqa: E402

NORTH, SOUTH = "北区营业部", "南区营业部"


def workbook(data: dict, unit: str = NORTH, lang: str = "zh"):
    cycle = generate.Cycle(unit=unit, year=2027, lang=lang)
    return generate.build_workbook(spec.load("annual_plan", cycle.template_params()), cycle, data)


def book(data: dict, unit: str = NORTH, lang: str = "zh", name: str = "north.xlsx") -> dict:
    return book_json(workbook(data, unit, lang), name)


@pytest.fixture
def server(tmp_path):
    tokens = Tokens(tmp_path / "tokens.json")
    keys = {NORTH: tokens.issue(NORTH), SOUTH: tokens.issue(SOUTH)}
    app = create_app(Settings(public_url="https://plan.example.com", tokens=tmp_path / "tokens.json",
                              inbox=tmp_path / "inbox", max_request_bytes=2_000_000))
    client = TestClient(app)
    client.keys = keys
    return client


def auth(server, unit=NORTH):
    return {"Authorization": f"Bearer {server.keys[unit]}"}


def run_script(server, name, data, unit=NORTH):
    response = server.post(f"/xlwings/custom-scripts-call/{name}", json=data, headers=auth(server, unit))
    assert response.status_code == 200, response.text
    return response.json()["actions"]


def sheet_values(data, title):
    return next(s["values"] for s in data["sheets"] if s["name"] == title)


def value_at(data, sheet, address):
    r, c = _split(address)
    values = sheet_values(data, sheet)
    return values[r - 1][c - 1] if r - 1 < len(values) and c - 1 < len(values[r - 1]) else ""


# -- Recalculate ------------------------------------------------------------------------------
def test_recalculate_puts_computed_values_in_the_right_cells(server):
    """The brief's January: 900 萬 over 2,410 + 120 − 130 = 2,400 people → 3,750 yuan a head."""
    data = book(clean_annual_plan())
    plan = plan_from_book(data)
    actions = run_script(server, "recalculate", copy.deepcopy(data))
    after = copy.deepcopy(data)
    apply_actions(after, actions)
    headcount, productivity = plan.cell("headcount", 1, 1), plan.cell("productivity", 1, 1)
    assert value_at(after, headcount.sheet, headcount.address) == 2400
    assert value_at(after, productivity.sheet, productivity.address) == 3750
    expected = recalc.computed_cells(recalc.evaluate(plan))
    for sheet, cells in expected.items():
        for address, v in cells.items():
            shown = value_at(after, sheet, address)
            assert shown == ("" if v is None else getattr(v, "code", v)), f"{sheet}!{address}"


def test_recalculate_leaves_cells_that_already_show_the_engine_value(server):
    """Excel computed the live formulas already: only the Checks sheet and the marks change."""
    data = book(clean_annual_plan())
    apply_actions(data, run_script(server, "recalculate", copy.deepcopy(data)))
    again = run_script(server, "recalculate", copy.deepcopy(data))
    plan = plan_from_book(data)
    computed_sheets = {plan.cell(n).sheet for n, b in plan.template.blocks.items()
                       if b.role == "computed" and plan.cell(n)}
    positions = {i for i, s in enumerate(data["sheets"]) if s["name"] in computed_sheets}
    written = [a for a in again if a["func"] == "setValues" and a["sheet_position"] in positions]
    assert written == []


def test_findings_appear_on_the_checks_sheet_and_their_cells_are_marked(server):
    plan_data = clean_annual_plan()
    plan_data["actions"][0]["stated"] = 6400  # the brief's slip: 200 × 80 × 4 is 64,000
    plan_data["region_plan"][2][0] = 130  # January's regions: 500 + 250 + 130 = 880, not 900
    data = book(plan_data)
    actions = run_script(server, "recalculate", copy.deepcopy(data))
    after = copy.deepcopy(data)
    other = apply_actions(after, actions)
    checks = sheet_values(after, "检查")
    code, message = check_column("code") - 1, check_column("message") - 1
    codes = [row[code] for row in checks[4:] if len(row) > code and row[code]]
    assert "STATED_NOT_COMPUTED" in codes and "REGIONS_NOT_MONTH" in codes
    stated_row = next(row for row in checks[4:] if len(row) > code and row[code] == "STATED_NOT_COMPUTED")
    assert "6,400" in stated_row[message] and "64,000" in stated_row[message] and "57,600" in stated_row[message]
    plan = plan_from_book(data)
    stated = plan.cell("actions.stated", 1)
    [marking] = [a["args"][0] for a in other["xlplanMarks"]]
    marks = {(m["sheet"], m["address"]): m for m in marking["mark"]}
    mark = marks[(stated.sheet, stated.address)]
    assert mark["colour"] == "#FFC7CE" and mark["note"].startswith("xlplan › STATED_NOT_COMPUTED")
    links = [a["args"][0] for a in other["addHyperlink"]]
    assert f"#{quote(stated.sheet)}!{stated.address}" in links
    assert "2 个错误" in other["alert"][0]["args"][0]


def test_a_second_run_unmarks_what_the_first_marked(server):
    plan_data = clean_annual_plan()
    plan_data["actions"][0]["stated"] = 6400
    data = book(plan_data)
    apply_actions(data, run_script(server, "recalculate", copy.deepcopy(data)))
    data_fixed = copy.deepcopy(data)
    stated = plan_from_book(data).cell("actions.stated", 1)
    r, c = _split(stated.address)
    sheet_values(data_fixed, stated.sheet)[r - 1][c - 1] = 64000
    other = apply_actions(data_fixed, run_script(server, "recalculate", copy.deepcopy(data_fixed)))
    [marking] = [a["args"][0] for a in other["xlplanMarks"]]
    assert [stated.sheet, stated.address] in marking["unmark"]
    assert marking["mark"] == []  # the clean plan has no findings left
    assert stated.sheet in marking["sheets"]  # xlplan's marks are swept off every sheet
    assert sheet_values(data_fixed, "检查")[4][0] == "没有发现问题。"


def test_engine_errors_show_as_excel_errors(server):
    """Text in a number cell: the cells computed from it show #VALUE!, as in Excel."""
    plan_data = clean_annual_plan()
    plan_data["target_month"] = ["12萬"] + plan_data["target_month"][1:]
    data = book(plan_data)
    after = copy.deepcopy(data)
    apply_actions(after, run_script(server, "recalculate", copy.deepcopy(data)))
    gap = plan_from_book(data).cell("region_gap", 1, 1)
    assert value_at(after, gap.sheet, gap.address) == "#VALUE!"
    code = check_column("code") - 1
    codes = [row[code] for row in sheet_values(after, "检查")[4:] if len(row) > code]
    assert "TEXT_NOT_NUMBER" in codes


def test_check_lists_findings_without_changing_values(server):
    plan_data = clean_annual_plan()
    plan_data["actions"][0]["stated"] = 6400
    data = book(plan_data)
    actions = run_script(server, "check", copy.deepcopy(data))
    checks_position = [s["name"] for s in data["sheets"]].index("检查")
    meta_position = [s["name"] for s in data["sheets"]].index("_xlplan")
    writes = {a["sheet_position"] for a in actions if a["func"] == "setValues"}
    assert writes <= {checks_position, meta_position}
    assert any(a["func"] == "xlplanMarks" and a["args"][0]["mark"] for a in actions)


def test_a_book_that_is_not_a_plan_gets_a_message_not_a_crash(server):
    data = {"client": "Office.js", "version": "0.37.8",
            "book": {"name": "Book1.xlsx", "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": [{"name": "Sheet1", "values": [[1, 2]]}]}
    actions = run_script(server, "recalculate", data)
    assert [a["func"] for a in actions] == ["alert"]
    assert "not an xlplan workbook" in actions[0]["args"][0]


def test_english_books_and_dates_typed_into_number_cells(server):
    plan_data = clean_annual_plan()
    data = book({k: v for k, v in plan_data.items() if k not in ("strategies", "owners", "actions")},
                lang="en")
    revision = plan_from_book(data).cell("plan_revision")
    r, c = _split(revision.address)
    sheet_values(data, revision.sheet)[r - 1][c - 1] = "2027-01-15T00:00:00"  # a date cell, as the client sends it
    after = copy.deepcopy(data)
    apply_actions(after, run_script(server, "check", copy.deepcopy(data)))
    code, cell = check_column("code") - 1, check_column("cell") - 1
    rows = [row for row in sheet_values(after, "Checks")[4:] if len(row) > code and row[code] == "DATE_NOT_NUMBER"]
    assert rows and rows[0][cell].endswith(f"› {revision.address}")


# -- Submit -------------------------------------------------------------------------------------
def test_submit_sends_the_plan_to_hq_and_shows_the_receipt(server):
    data = book(clean_annual_plan())
    actions = run_script(server, "submit", data)
    assert "已提交" in actions[-1]["args"][0] and "第 1 版" in actions[-1]["args"][0]
    listed = server.get("/api/submissions", headers=auth(server)).json()
    assert [(r["unit"], r["template"], r["status"]) for r in listed] == [(NORTH, "annual_plan", "accepted")]


def test_submit_refuses_another_units_workbook(server):
    data = book(clean_annual_plan(), unit=SOUTH)
    actions = run_script(server, "submit", data, unit=NORTH)
    assert "不能提交" in actions[-1]["args"][0]
    assert server.get("/api/submissions", headers=auth(server)).json() == []


def test_the_submitted_workbook_carries_exactly_the_plans_inputs():
    data = book(clean_annual_plan())
    plan = plan_from_book(data)
    import openpyxl

    from xlplan.workbook.read import read_openpyxl

    rebuilt = read_openpyxl(openpyxl.load_workbook(io.BytesIO(workbook_bytes(plan))), "north.xlsx")
    assert rebuilt.values == plan.values and rebuilt.tables == plan.tables


# -- custom functions -----------------------------------------------------------------------------
def call(server, name, *args, unit=NORTH):
    body = {"func_name": name, "args": [a if isinstance(a, list) else [[a]] for a in args],
            "caller_address": "[north.xlsx]计划进度!D20", "content_language": "zh-CN",
            "version": "0.37.8", "runtime": "1.4", "client": "Office.js"}
    response = server.post("/xlwings/custom-functions-call", json=body, headers=auth(server, unit))
    assert response.status_code == 200, response.text
    return response.json()["result"]


DIV0 = {"type": "Error", "errorType": "Div0"}
VALUE = {"type": "Error", "errorType": "Value"}


def test_functions_compute_the_brief_s_worked_example(server):
    assert call(server, "productivity", 900, 2400, None) == [[3750]]
    assert call(server, "headcount_rollforward", 2410, [[120, 100]], [[130, 90]]) == [[2400, 2410]]
    assert call(server, "budget_amount", 200, 80, 4) == [[64000]]
    assert call(server, "check_stated", 6400, 200, 80, 4, None) == [
        ["stated 6,400 but 200 × 80 × 4 = 64,000 (57,600 too little)"]]
    assert call(server, "check_total", [[500, 250, 130]], 900, "zh") == [["各项合计 880，总数 900（少 20）"]]
    assert call(server, "check_total", [[500, 250, 150]], 900, None) == [[""]]


def test_functions_agree_with_the_engine_on_a_whole_year(server):
    plan_data = clean_annual_plan()
    result = recalc.evaluate(plan_from_book(book(plan_data)))
    headcount = call(server, "headcount_rollforward", plan_data["opening_headcount"],
                     [plan_data["recruits"]], [plan_data["attrition"]])
    assert headcount == result.values["headcount"]
    assert call(server, "productivity", [plan_data["target_month"]], headcount, None) == \
        result.values["productivity"]


def test_function_errors_are_excel_errors_never_tracebacks(server):
    assert call(server, "productivity", 900, 0, None) == [[DIV0]]
    assert call(server, "productivity", "十二萬", 10, None) == [[VALUE]]
    assert call(server, "productivity", [[900, 800]], [[2400, 0]], None) == [[3750, DIV0]]
    assert call(server, "budget_amount", "#DIV/0!", 1, 1) == [[DIV0]]  # an error argument passes through
    assert call(server, "headcount_rollforward", 10, [[1, 2, 3]], [[1, 2]]) == [[VALUE]]
    response = server.post("/xlwings/custom-functions-call", headers=auth(server),
                           json={"func_name": "__import__", "args": [], "version": "0", "runtime": "1.4"})
    assert response.status_code == 404


def test_functions_take_empty_cells_and_dates(server):
    assert call(server, "budget_amount", 200, 80, None) == [[16000]]  # times left out: 1
    assert call(server, "kpi_points", None, 30, 0.4, 0.2, None, None) == [[""]]  # nobody scored yet
    assert call(server, "kpi_points", 0.3, 30, 0.4, 0.2, None, None) == [[15]]
    assert call(server, "kpi_points", 22, 5, 25, 40, "越低越好", None) == [[5]]
    assert call(server, "kpi_points", 12, 10, None, None, None, "manual") == [[10]]
    # 2027-01-15 and 2027-04-01 as Excel serials: months 1–4 → a quarter of the line each
    assert call(server, "budget_spread", 64000, 46402, 46478, 2) == [[16000]]
    assert call(server, "budget_spread", 64000, "2027-01-15T00:00:00", 4, 5) == [[0]]
    assert call(server, "rollup", [["增员"], ["培训"], ["增员"], [None]], [[1], [2], [3], [4]], None) == \
        [["增员", 4], ["培训", 2]]
    assert call(server, "rollup", [["A"], ["a"]], [[1], [2]], "A") == [[3]]


def test_function_metadata_documents_every_argument(server):
    meta = server.get("/xlwings/custom-functions-meta").json()
    ids = {f["id"] for f in meta["functions"]}
    assert {"PRODUCTIVITY", "HEADCOUNT_ROLLFORWARD", "KPI_POINTS", "ROLLUP"} <= ids
    for f in meta["functions"]:
        assert f["description"] and not f["description"].startswith("Python function")
        for p in f["parameters"]:
            assert not p["description"].startswith("Positional argument"), (f["id"], p["name"])
    code = server.get("/xlwings/custom-functions-code").text
    for f in meta["functions"]:
        assert f'"{f["id"]}");' in code


# -- authentication and limits --------------------------------------------------------------------
def test_every_call_without_a_valid_token_is_refused(server, tmp_path):
    data = book(clean_annual_plan())
    wrong = {"Authorization": "Bearer xlp_not-a-token"}
    for headers in ({}, wrong, {"Authorization": server.keys[NORTH]}):  # the last lacks "Bearer"
        assert server.post("/xlwings/custom-scripts-call/recalculate", json=data, headers=headers).status_code == 401
        assert server.post("/xlwings/custom-functions-call", headers=headers,
                           json={"func_name": "productivity", "args": [[[1]], [[1]]]}).status_code == 401
        assert server.get("/api/submissions", headers=headers).status_code == 401
        assert server.post("/api/submissions", headers=headers,
                           files={"file": ("x.xlsx", b"PK")}).status_code == 401


def test_a_revoked_token_is_refused(server, tmp_path):
    Tokens(tmp_path / "tokens.json").revoke(SOUTH)
    assert server.get("/api/submissions", headers=auth(server, SOUTH)).status_code == 401
    assert server.get("/api/submissions", headers=auth(server, NORTH)).status_code == 200


def test_a_unit_submits_and_reads_only_its_own_plans(server):
    north = workbook_bytes(plan_from_book(book(clean_annual_plan())))
    receipt = server.post("/api/submissions", headers=auth(server),
                          files={"file": ("../../etc/north.xlsx", north)})
    assert receipt.status_code == 201, receipt.text
    receipt = receipt.json()
    assert receipt["filename"] == "north.xlsx" and receipt["unit"] == NORTH
    assert server.post("/api/submissions", headers=auth(server, SOUTH),
                       files={"file": ("north.xlsx", north)}).status_code == 403
    assert server.get(f"/api/submissions/{receipt['id']}", headers=auth(server, SOUTH)).status_code == 403
    assert server.get(f"/api/submissions/{receipt['id']}", headers=auth(server)).json()["id"] == receipt["id"]
    assert server.get(f"/api/submissions?of={NORTH}", headers=auth(server, SOUTH)).status_code == 403
    assert server.get("/api/submissions", headers=auth(server, SOUTH)).json() == []


def test_uploaded_files_are_stored_by_hash_never_by_their_name(server, tmp_path):
    north = workbook_bytes(plan_from_book(book(clean_annual_plan())))
    server.post("/api/submissions", headers=auth(server), files={"file": ("../../evil.xlsx", north)})
    stored = sorted(p.name for p in (tmp_path / "inbox" / "blobs").iterdir())
    assert len(stored) == 1 and len(stored[0]) == len("0" * 64 + ".xlsx")
    assert not (tmp_path / "evil.xlsx").exists()


def test_a_resubmission_is_a_new_version_and_the_same_file_is_one_submission(server):
    data = clean_annual_plan()
    first = workbook_bytes(plan_from_book(book(data)))
    data["plan_revision"] = 2
    second = workbook_bytes(plan_from_book(book(data)))
    r1 = server.post("/api/submissions", headers=auth(server), files={"file": ("a.xlsx", first)}).json()
    r2 = server.post("/api/submissions", headers=auth(server), files={"file": ("b.xlsx", second)}).json()
    r3 = server.post("/api/submissions", headers=auth(server), files={"file": ("c.xlsx", first)}).json()
    assert (r1["version"], r2["version"], r3["version"], r3["duplicate"]) == (1, 2, 1, True)


def test_garbage_uploads_are_refused_with_a_reason(server):
    response = server.post("/api/submissions", headers=auth(server), files={"file": ("x.xlsx", b"not a zip")})
    assert response.status_code == 422 and "not a zip" in response.json()["detail"]


def test_requests_over_the_size_limit_are_refused(server):
    big = b"0" * 2_100_000
    response = server.post("/api/submissions", headers=auth(server), files={"file": ("big.xlsx", big)})
    assert response.status_code == 413
    response = server.post("/xlwings/custom-scripts-call/check", headers={**auth(server), "Content-Type":
                           "application/json"}, content=json.dumps({"sheets": ["x" * 2_100_000]}))
    assert response.status_code == 413


def test_office_loads_its_resources_without_a_token(server):
    for path in ("/manifest.xml", "/taskpane", "/static/xlplan.js", "/xlwings/custom-functions-meta",
                 "/xlwings/custom-functions-code", "/static/icon-check-32.png"):
        assert server.get(path).status_code == 200, path
    assert server.get("/static/icon-../../etc/passwd-16.png").status_code == 404


# -- submissions into HQ's database -------------------------------------------------------------
@pytest.fixture
def hq_server(tmp_path):
    tokens = Tokens(tmp_path / "tokens.json")
    keys = {NORTH: tokens.issue(NORTH), SOUTH: tokens.issue(SOUTH)}
    client = TestClient(create_app(Settings(tokens=tmp_path / "tokens.json", db=f"sqlite:///{tmp_path / 'hq.db'}")))
    client.keys = keys
    return client


def test_submissions_land_in_hq_s_database_as_a_merge_would_store_them(hq_server, tmp_path):
    from xlplan.hq.store import Store

    actions = run_script(hq_server, "submit", book(clean_annual_plan()))
    assert "已提交" in actions[-1]["args"][0]
    data = clean_annual_plan()
    data["plan_revision"] = 2
    again = run_script(hq_server, "submit", book(data))
    assert "第 2 版" in again[-1]["args"][0]
    mine = hq_server.get("/api/submissions", headers=auth(hq_server)).json()
    assert [(r["unit"], r["version"], r["status"]) for r in mine] == [(NORTH, 1, "accepted"), (NORTH, 2, "accepted")]
    assert hq_server.get(f"/api/submissions/{mine[0]['id']}", headers=auth(hq_server, SOUTH)).status_code == 403
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as hq:
        assert [s["unit"] for s in hq.latest_accepted("annual_plan")] == [NORTH]
    other = workbook_bytes(plan_from_book(book(clean_annual_plan(), unit=SOUTH)))
    refused = hq_server.post("/api/submissions", headers=auth(hq_server), files={"file": ("s.xlsx", other)})
    assert refused.status_code == 403


PUBLIC = {"/", "/manifest.xml", "/taskpane", "/static/xlplan.js", "/static/icon-{name}-{size}.png",
          "/xlwings/custom-functions-meta", "/xlwings/custom-functions-code", "/xlwings/custom-scripts-meta"}


def test_every_route_but_office_s_resources_wants_a_token(server):
    """Walk the app's routes: each one that is not a public resource refuses a call without a token,
    so a route added later cannot forget the check."""
    checked = 0
    for route in server.app.routes:
        path = getattr(route, "path", "")
        if path in PUBLIC or not getattr(route, "methods", None):
            continue
        url = path.replace("{script_name}", "check").replace("{sid}", "1")
        for method in route.methods - {"HEAD", "OPTIONS"}:
            for headers in ({}, {"Authorization": "Bearer xlp_wrong"}):
                response = server.request(method, url, headers=headers, json={})
                assert response.status_code == 401, (method, url, response.status_code)
            checked += 1
    assert checked >= 5


def test_a_body_over_the_limit_without_a_length_is_refused(server):
    """A chunked upload says no length up front: it is cut off when it passes the limit."""
    boundary = "xlplanboundary"

    def chunks():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode()
        for _ in range(40):
            yield b"PK" + b"0" * 99_998
        yield f"\r\n--{boundary}--\r\n".encode()

    response = server.post("/api/submissions", content=chunks(),
                           headers={**auth(server), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413  # refused once past the limit, never read whole
    assert server.get("/api/submissions", headers=auth(server)).json() == []


def test_uploaded_names_never_become_paths_in_hq_s_database(hq_server, tmp_path):
    from xlplan.hq.store import Store

    north = workbook_bytes(plan_from_book(book(clean_annual_plan())))
    receipt = hq_server.post("/api/submissions", headers=auth(hq_server),
                             files={"file": ("..\\..\\C:\\evil/../../north.xlsx", north)})
    assert receipt.status_code == 201, receipt.text
    assert receipt.json()["filename"] == "north.xlsx"
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as hq:
        assert [s["source"] for s in hq.submissions()] == ["north.xlsx"]
    assert not list(tmp_path.rglob("*evil*")) and not list(tmp_path.rglob("north.xlsx"))


def test_a_unit_cannot_overwrite_another_unit_s_plan_with_the_same_bytes(server):
    """The same file sent again under another unit's token is neither stored nor returned to it."""
    north = workbook_bytes(plan_from_book(book(clean_annual_plan())))
    assert server.post("/api/submissions", headers=auth(server), files={"file": ("n.xlsx", north)}).status_code == 201
    again = server.post("/api/submissions", headers=auth(server, SOUTH), files={"file": ("n.xlsx", north)})
    assert again.status_code == 403
    assert server.get("/api/submissions", headers=auth(server, SOUTH)).json() == []
    assert [r["unit"] for r in server.get("/api/submissions", headers=auth(server)).json()] == [NORTH]


# -- rows that grow ----------------------------------------------------------------------------------
LONG_ACTION = "新人培训（岗前三周：产品、条款、销售流程与合规，结业考试合格者方可上岗，由组训负责跟踪辅导）"


def rows_grown(actions: dict, sheets: list[str]) -> dict:
    """(sheet, row) → points of the setRowHeight actions outside the Checks sheet (whose rows
    are always written as high as their findings)."""
    return {(sheets[a["sheet_position"]], a["start_row"] + 1): a["args"][0] for a in actions.get("setRowHeight", ())
            if sheets[a["sheet_position"]] != "检查"}


def test_a_long_action_name_typed_in_excel_grows_the_calendar_row(server):
    """The client sends its rows' heights and columns' widths; the calendar copies a name typed
    long after the plan was issued, and Recalculate answers with xlwings' setRowHeight for that
    row (and the typed one): the height of paper.fitted_height in the book's own column width.
    Applied, a second run grows nothing; a client that sends no sizes gets no row heights."""
    from xlplan.template import paper

    data = book(clean_annual_plan())
    plan = plan_from_book(data)
    typed, copy_ = plan.cell("actions.action", 1), plan.cell("cal_action", 1)
    r, c = _split(typed.address)
    sheet_values(data, typed.sheet)[r - 1][c - 1] = LONG_ACTION
    sheets = [s["name"] for s in data["sheets"]]
    other = apply_actions(copy.deepcopy(data), run_script(server, "recalculate", copy.deepcopy(data)))
    grown = rows_grown(other, sheets)
    row, col = _split(copy_.address)
    width = paper.width_of_points(data["sheets"][sheets.index(copy_.sheet)]["column_widths"][col - 1])
    assert grown[(copy_.sheet, row)] == paper.fitted_height([(LONG_ACTION, width)]) > paper.row_height(2)
    assert (typed.sheet, r) in grown and len(grown) == 2

    for (sheet, r_), points in grown.items():
        data["sheets"][sheets.index(sheet)]["row_heights"][r_ - 1] = points
    again = apply_actions(copy.deepcopy(data), run_script(server, "recalculate", copy.deepcopy(data)))
    assert rows_grown(again, sheets) == {}

    for sheet in data["sheets"]:
        del sheet["row_heights"], sheet["column_widths"]
    unsized = apply_actions(copy.deepcopy(data), run_script(server, "recalculate", copy.deepcopy(data)))
    assert rows_grown(unsized, sheets) == {} and "xlplanMarks" in unsized
