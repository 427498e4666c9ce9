"""HQ's cycle, state by state: distribute → submit (received, checked) → return → resubmit → approve;
diff between versions; actuals imported; the consolidated plan uses the approved plans.

Every state change of the review is covered here, and the log is shown to be beyond
change: the database itself refuses UPDATE and DELETE on it (SQLite and PostgreSQL).
"""
from __future__ import annotations

import json
import re
import zipfile

import openpyxl
import pytest
from cycle import GIVEN, ROSTER, fill, fixed, sample, start, submit
from hq_db import BACKENDS, fresh_url
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.hq import actuals, consolidate, diff, review
from xlplan.hq.store import Store, review_log
from xlplan.workbook.read import read_fast

runner = CliRunner()


@pytest.fixture()
def cycle(tmp_path):
    store, sent = start(tmp_path)
    yield store, sent, tmp_path
    store.close()


def states(store: Store, sid: int) -> list[str]:
    return [e["state"] for e in store.review_events(sid)]


# -- distribute -------------------------------------------------------------------------
def test_distribute_fills_the_given_cells_and_records_them(cycle):
    store, sent, folder = cycle
    assert set(sent) == {"北区营业部", "南区营业部", "客服部"}
    north = read_fast(sent["北区营业部"])
    assert north.values["hq_target"] == [[8000]] and north.values["unit_name"] == [["北区营业部"]]
    assert read_fast(sent["南区营业部"]).values["hq_target"] == [[6400]]
    issued = {r["block"]: r for r in store.issued_values("北区营业部", "annual_plan", "2027")}
    assert issued["hq_target"]["number"] == 8000 and issued["hq_target"]["sheet"] == "目标"
    ws = openpyxl.load_workbook(sent["北区营业部"])[issued["hq_target"]["sheet"]]
    assert ws[issued["hq_target"]["cell"]].value == 8000  # the record points at the very cell
    assert {(e.unit, e.template) for e in store.roster()} >= {("客服部", "support_plan")}


def test_distribute_zips_per_region_and_issues_tokens(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "given.csv").write_text(GIVEN, encoding="utf-8")
    result = runner.invoke(app, ["distribute", "--roster", str(tmp_path / "roster.csv"), "--given",
                                 str(tmp_path / "given.csv"), "-o", str(tmp_path / "out"), "--db",
                                 f"sqlite:///{tmp_path / 'hq.db'}", "--tokens", str(tmp_path / "tokens.json"),
                                 "--zip-by-region"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 workbooks" in result.stdout
    north = zipfile.ZipFile(tmp_path / "out" / "北.zip").namelist()
    assert sorted(north) == ["北区营业部-annual_plan-2027.xlsx", "客服部-support_plan-2027.xlsx"]
    tokens = (tmp_path / "out" / "tokens.csv").read_text(encoding="utf-8").splitlines()
    assert tokens[0] == "unit,token" and len(tokens) == 4
    from xlplan.hq.tokens import Tokens

    unit, token = tokens[1].split(",")
    assert Tokens(tmp_path / "tokens.json").unit_of(token) == unit


def test_a_bad_given_file_names_file_and_line(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "given.csv").write_text("unit,block,value\n北区营业部,hq_target,八千\n西区,hq_target,1\n"
                                        "南区营业部,target_month,5\n", encoding="utf-8")
    result = runner.invoke(app, ["distribute", "--roster", str(tmp_path / "roster.csv"), "--given",
                                 str(tmp_path / "given.csv"), "-o", str(tmp_path / "out"), "--db",
                                 f"sqlite:///{tmp_path / 'hq.db'}"])
    assert result.exit_code == 2
    said = result.stderr
    assert "given.csv:2: hq_target is a number; '八千' is not" in said
    assert "given.csv:3: unit '西区' is not on the roster" in said
    assert "given.csv:4: target_month is input in annual_plan, not given by HQ" in said
    assert "Traceback" not in said and not (tmp_path / "out").exists()


def test_a_changed_given_cell_is_an_error_naming_the_cell(cycle):
    store, sent, folder = cycle
    issued = {r["block"]: r for r in store.issued_values("北区营业部", "annual_plan", "2027")}
    bad = fill(sent["北区营业部"], {**fixed(sample("annual_plan")), "hq_target": 7000}, folder / "in" / "north.xlsx")
    submit(store, bad)
    (sub,) = store.submissions()
    assert sub["status"] == "rejected"
    (finding,) = [f for f in store.findings_of(sub["id"]) if f["code"] == "GIVEN_CHANGED"]
    assert (finding["sheet"], finding["cell"]) == (issued["hq_target"]["sheet"], issued["hq_target"]["cell"])
    assert "8,000" in finding["message"] and "7,000" in finding["message"]


# -- review: every state change -----------------------------------------------------------
def test_the_whole_review_cycle(cycle):
    store, sent, folder = cycle
    v1 = fill(sent["北区营业部"], sample("annual_plan"), folder / "in" / "north.xlsx")  # with the slip
    submit(store, v1)
    first = review.find(store, "北区营业部")
    assert states(store, first["id"]) == ["received", "checked"] and first["status"] == "rejected"
    with pytest.raises(review.ReviewError, match="has 1 errors: return it"):
        review.approve(store, first, "张经理")
    comments = [review.parse_comment("推动计划及预算!M6: 填报金额与计算不符，请改正"),
                review.parse_comment("计划进度!C10：一月目标请再确认")]
    event = review.return_(store, first, "张经理", "请修改后再交", comments)
    assert states(store, first["id"])[-1] == "returned"
    assert event["actor"] == "张经理" and event["at"] is not None
    with pytest.raises(review.ReviewError, match="is returned: only a plan that is checked"):
        review.return_(store, first, "李主任", "again", [])
    returned = review.returned_workbook(store, first, store.review_events(first["id"])[-1],
                                        folder / "returned" / "north.xlsx")
    wb = openpyxl.load_workbook(returned)
    assert wb.sheetnames[0] == "审核意见"
    sheet = wb["审核意见"]
    assert sheet["B6"].hyperlink.location == "'推动计划及预算'!M6" and sheet["C6"].value == "填报金额与计算不符，请改正"
    assert "填报金额与计算不符" in wb["推动计划及预算"]["M6"].comment.text
    assert read_fast(returned).unit == "北区营业部"  # still the unit's plan, readable as before
    assert review.comments_for(store, "北区营业部")[0]["comments"][1] == {"sheet": "计划进度", "cell": "C10",
                                                                   "text": "一月目标请再确认"}
    # the unit fixes the slip in the returned workbook and resubmits: version 2
    v2 = fill(returned, fixed(sample("annual_plan")), folder / "in" / "north-v2.xlsx")
    submit(store, v2)
    second = review.find(store, "北区营业部")
    assert second["version"] == 2 and second["status"] == "accepted"
    assert states(store, second["id"]) == ["received", "checked"]
    assert store.latest_approved("annual_plan") == []
    review.approve(store, second, "张经理", "同意")
    assert states(store, second["id"])[-1] == "approved"
    assert [s["version"] for s in store.latest_approved("annual_plan")] == [2]
    with pytest.raises(review.ReviewError, match="is approved: only a plan that is checked"):
        review.approve(store, second, "张经理")
    # HQ may still reopen an approved plan by returning it
    review.return_(store, second, "王总", "预算需再压缩", [])
    assert store.latest_approved("annual_plan") == []


def test_a_comment_on_a_sheet_the_workbook_lacks_is_refused(cycle):
    store, sent, folder = cycle
    submit(store, fill(sent["北区营业部"], fixed(sample("annual_plan")), folder / "in" / "north.xlsx"))
    sub = review.find(store, "北区营业部")
    with pytest.raises(review.ReviewError, match="has no sheet '计划'"):
        review.return_(store, sub, "张经理", "", [review.parse_comment("计划!C10: x")])
    with pytest.raises(review.ReviewError, match="SHEET!CELL: text"):
        review.parse_comment("C10 is too high")
    assert states(store, sub["id"]) == ["received", "checked"]  # nothing logged


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_review_log_cannot_be_altered(backend, tmp_path):
    store = Store(fresh_url(backend, tmp_path))
    store.set_roster([])
    store2, sent = start(tmp_path / "c", store.url)
    submit(store2, fill(sent["北区营业部"], fixed(sample("annual_plan")), tmp_path / "in" / "north.xlsx"))
    sub = review.find(store2, "北区营业部")
    review.approve(store2, sub, "张经理")
    before = store2.review_events()
    for statement in (update(review_log).values(state="returned"), delete(review_log)):
        with pytest.raises(DatabaseError, match="append-only"):
            with store2.engine.begin() as conn:
                conn.execute(statement)
    if backend == "postgres":
        with pytest.raises(DatabaseError, match="append-only"):
            with store2.engine.begin() as conn:
                conn.execute(text("TRUNCATE review_log"))
    assert store2.review_events() == before
    csv_ = tmp_path / "actuals.csv"
    csv_.write_text("unit,period,measure,value\n北区营业部,2027-01,actual_month,950\n", encoding="utf-8")
    actuals.import_file(store2, csv_)
    from xlplan.hq.store import actuals as actuals_table

    with pytest.raises(DatabaseError, match="append-only"):  # imported actuals are kept the same way
        with store2.engine.begin() as conn:
            conn.execute(update(actuals_table).values(value=1))
    assert [r["value"] for r in store2.actual_rows()] == [950]
    # and no command offers a way: review's sub-commands only append
    names = {c.name for c in app.registered_groups if c.name == "review"}
    assert names == {"review"}
    result = runner.invoke(app, ["review", "--help"])
    assert {"list", "approve", "return", "log"} <= set(result.stdout.split())
    assert not any(word in result.stdout.lower() for word in ("delete", "edit", "undo", "amend"))
    store2.close()
    store.close()


def test_review_on_the_command_line(cycle):
    store, sent, folder = cycle
    submit(store, fill(sent["南区营业部"], fixed(sample("annual_plan", 0.8)), folder / "in" / "south.xlsx"))
    db = ["--db", store.url]
    result = runner.invoke(app, ["review", "return", "南区营业部", "--reviewer", "张经理", "--note", "请再确认",
                                 "--comment", "计划进度!C10: 一月偏高", "-o", str(folder / "returned"), *db])
    assert result.exit_code == 0, result.output
    assert (folder / "returned" / "south.xlsx").is_file()
    result = runner.invoke(app, ["review", "approve", "南区营业部", "--reviewer", "张经理", *db])
    assert result.exit_code == 2 and "is returned" in result.stderr
    log = runner.invoke(app, ["review", "log", "南区营业部", "--json", *db])
    assert [e["state"] for e in __import__("json").loads(log.stdout)] == ["received", "checked", "returned"]


# -- diff ------------------------------------------------------------------------------
def test_diff_lists_every_changed_input_and_the_totals(cycle):
    store, sent, folder = cycle
    data = fixed(sample("annual_plan"))
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "v1.xlsx"))
    data["target_month"][0] += 100
    data["region_plan"][0][0] += 100
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "v2.xlsx"))
    old, new = diff.pick(store, "北区营业部")
    d = diff.compare(store, old, new)
    assert {(c.block, c.row_key, c.col_key, c.old, c.new) for c in d.inputs} == {
        ("target_month", None, "1月", 900, 1000), ("region_plan", "A区", "1月", 500, 600)}
    wb = openpyxl.load_workbook(folder / "in" / "v2.xlsx")
    for c in d.inputs:  # each change points at the cell that holds the new value
        assert wb[c.sheet][c.cell].value == c.new
    totals = {c.block: c.delta for c in d.totals}
    assert totals["target_month_y"] == 100 and "budget_total" not in totals
    result = runner.invoke(app, ["diff", "北区营业部", "--from", "1", "--to", "2", "--db", store.url])
    assert result.exit_code == 0 and f"计划进度 › {d.inputs[0].cell}" in result.stdout
    result = runner.invoke(app, ["diff", "北区营业部", "--from", "5", "--db", store.url])
    assert result.exit_code == 2 and "version 5 was not received" in result.stderr


def test_diff_matches_table_rows_by_their_key_and_reports_inserted_and_removed_rows(cycle):
    store, sent, folder = cycle
    data = fixed(sample("annual_plan"))
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "v1.xlsx"))
    new_row = {"strategy": "增员育成，扩大平台", "action": "主管训练营", "measure": "两天集训", "owner": "李主任",
               "in_5": "●", "item": "讲师费", "quantity": 30, "unit_cost": 500, "times": 1}
    data["actions"].insert(1, new_row)  # in the middle: every row below moves down one
    data["actions"][5]["quantity"] += 10  # and one figure of a moved row changes
    moved = data["actions"][5]
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "v2.xlsx"))
    d = diff.compare(store, *diff.pick(store, "北区营业部"))
    assert [(r.kind, r.key) for r in d.rows] == [("inserted", "增员育成，扩大平台 / 主管训练营")]
    (row,) = d.rows
    wb = openpyxl.load_workbook(folder / "in" / "v2.xlsx")
    assert wb[row.sheet][row.cell].value == "增员育成，扩大平台"  # the inserted row's first cell in version 2
    shown = [v for _, v, _ in row.values]
    assert "主管训练营" in shown and "两天集训" in shown and 30 in shown and 500 in shown
    # the rows below the insertion are the same rows: only the changed figure is an input change
    assert [(c.block, c.row_key, c.old, c.new) for c in d.inputs] == [
        ("actions.quantity", f"{moved['strategy']} / {moved['action']}", moved["quantity"] - 10, moved["quantity"])]
    (change,) = d.inputs
    assert wb[change.sheet][change.cell].value == moved["quantity"]

    # version 3: the first row is removed
    removed = data["actions"].pop(0)
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "v3.xlsx"))
    d = diff.compare(store, *diff.pick(store, "北区营业部"))
    assert [(r.kind, r.key) for r in d.rows] == [("removed", f"{removed['strategy']} / {removed['action']}")]
    assert d.inputs == []
    result = runner.invoke(app, ["diff", "北区营业部", "--db", store.url])
    assert result.exit_code == 0, result.output
    assert "1 table rows inserted or removed" in result.stdout and "removed" in result.stdout
    assert f"{removed['strategy']} / {removed['action']}" in result.stdout


def test_rows_without_a_key_are_matched_by_position():
    def rows(*keys):
        return {i: {"t.name": {"number": None, "text": k}} if k else {"t.qty": {"number": i, "text": None}}
                for i, k in enumerate(keys, start=1)}

    # keyed rows follow their key wherever they moved; keyless ones pair up in order
    pairs, removed, inserted = diff.match_rows(rows("a", None, "b", None), rows("x", "b", None, "a"), ["t.name"])
    assert sorted(pairs) == [(1, 4), (2, 3), (3, 2)] and removed == [4] and inserted == [1]
    # a table without key columns: by position
    pairs, removed, inserted = diff.match_rows(rows("a", "b"), rows("b", "a", "c"), [])
    assert pairs == [(1, 1), (2, 2)] and removed == [] and inserted == [3]


def test_diff_prints_numbers_as_the_workbook_shows_them(cycle):
    store, sent, folder = cycle
    v1 = sample("annual_plan")  # with the slip: a stated 6,400 for 64,000
    submit(store, fill(sent["北区营业部"], v1, folder / "in" / "v1.xlsx"))
    v2 = json.loads(json.dumps(v1))
    v2["actions"][0]["stated"] = 64000
    v2["growth"][0] = 0.15  # a share: shown as 15.0%
    submit(store, fill(sent["北区营业部"], v2, folder / "in" / "v2.xlsx"))
    result = runner.invoke(app, ["diff", "北区营业部", "--db", store.url])
    assert result.exit_code == 0, result.output
    said = result.stdout
    assert re.search(r"6,400\s+64,000\s+57,600", said), said
    assert re.search(r"14\.3%\s+15\.0%\s+0\.7%", said), said
    assert not re.search(r"\d\.0(?![\d%])", said), said  # no 6400.0: whole numbers print whole
    assert [diff.shown(v, u) for v, u in ((6400.0, "yuan"), (1234567, "count"), (0.6, "number"), (2.5, "wan"),
                                           (0.125, "percent"), (None, "yuan"), ("培训", "text"))] == [
        "6,400", "1,234,567", "0.6", "2.50", "12.5%", "", "培训"]


# -- actuals -------------------------------------------------------------------------------
def test_actuals_are_checked_line_by_line(tmp_path):
    bad = tmp_path / "actuals.csv"
    bad.write_text("unit,period,measure,value\n北区营业部,2027-13,actual_month,1\n北区营业部,2027-01,sales,1\n"
                   "北区营业部,2027-02,actual_month,abc\n,2027-02,actual_month,1\n", encoding="utf-8")
    with pytest.raises(actuals.ActualsError) as caught:
        actuals.read(bad)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("actuals.csv:2: period '2027-13' is not a month")
    assert lines[1].startswith("actuals.csv:3: measure 'sales' is not one of actual_month")
    assert lines[2] == "actuals.csv:4: value 'abc' is not a number"
    assert lines[3] == "actuals.csv:5: unit is empty"
    result = runner.invoke(app, ["actuals", "import", str(bad), "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code == 2 and "actuals.csv:2:" in result.stderr and "Traceback" not in result.output


def test_actuals_import_is_idempotent_and_versioned(cycle):
    store, sent, folder = cycle
    path = folder / "actuals.csv"
    path.write_text("unit,period,measure,value\n北区营业部,2027-01,actual_month,950\n"
                    "北区营业部,2027-02,actual_month,480\n", encoding="utf-8")
    first = actuals.import_file(store, path)
    again = actuals.import_file(store, path)
    assert (first.new, again.new, again.unchanged) == (2, 0, 2)
    path.write_text("unit,period,measure,value\n北区营业部,2027-02,actual_month,\"510\"\n", encoding="utf-8")
    changed = actuals.import_file(store, path)
    assert changed.changed == 1
    rows = [r for r in store.actual_rows() if r["period"] == "2027-02"]
    assert [(r["version"], r["value"]) for r in rows] == [(1, 480), (2, 510)]  # the old one stays
    assert actuals.monthly(store, "actual_month") == {("北区营业部", "2027", 1): 950, ("北区营业部", "2027", 2): 510}


def test_the_consolidated_plan_uses_approved_plans_and_imported_actuals(cycle):
    store, sent, folder = cycle
    submit(store, fill(sent["北区营业部"], fixed(sample("annual_plan")), folder / "in" / "north.xlsx"),
           fill(sent["南区营业部"], fixed(sample("annual_plan", 0.8)), folder / "in" / "south.xlsx"))
    review.approve(store, review.find(store, "北区营业部"), "张经理")
    path = folder / "actuals.csv"
    path.write_text("unit,period,measure,value\n北区营业部,2027-01,actual_month,950\n"
                    "北区营业部,2027-02,actual_month,480\n北区营业部,2027-03,actual_month,820\n", encoding="utf-8")
    actuals.import_file(store, path)
    tables = {t.view.id: t for t in consolidate.tables(store)}
    assert [r[1] for r in tables["plan"].rows] == ["北区营业部"]  # the south is checked, not approved
    pa = tables["actual"]
    assert [r[2] for r in pa.rows[:4]] == [950, 480, 820, None]
    plan = sample("annual_plan")["target_month"]
    assert pa.rows[2][5] == sum(plan[:3]) and pa.rows[2][6] == 950 + 480 + 820
    assert pa.rows[2][7] == pytest.approx((950 + 480 + 820) / sum(plan[:3]))
    unit_row = pa.extra[0].rows[0]
    assert unit_row[1] == "北区营业部" and unit_row[6] == "导入"
    accepted = {t.view.id: t for t in consolidate.tables(store, basis="accepted")}
    assert [r[1] for r in accepted["plan"].rows] == ["北区营业部", "南区营业部"]
    out = consolidate.write(store, folder / "consolidated.xlsx")
    assert "计划与实绩" in openpyxl.load_workbook(out).sheetnames
