"""HQ's web page in a real browser (Chromium driven by Playwright) against the real server.

The add-in server (`xlplan serve --db ... ` with an HQ password) runs under uvicorn on
127.0.0.1; a reviewer logs in, returns a plan with comments, the unit resubmits through
the add-in's API with its token, the reviewer approves it, compares the versions and
looks at the plan against actuals. Beside the browser: a form without its CSRF token or
from another site is refused, a unit token opens nothing of HQ's, and no route changes
or removes a row of the review log.

XLPLAN_SCREENSHOTS=folder keeps the pages as PNG (the README's pictures).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cycle import fill, fixed, sample, start, submit
from fastapi.testclient import TestClient
from loopback import run_in_thread

from xlplan.excel import use_development_license
from xlplan.hq.tokens import Tokens
from xlplan.hq import actuals

use_development_license()  # xlwings' free noncommercial key: tests only
from xlplan.excel.server import Settings, create_app  # noqa: E402

CHROMIUM = os.environ.get("XLPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
PASSWORD = "hq-secret-2027"
SHOTS = os.environ.get("XLPLAN_SCREENSHOTS")


def need_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: scripts/setup.sh installs it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture()
def hq(tmp_path):
    store, sent = start(tmp_path)
    submit(store, fill(sent["北区营业部"], sample("annual_plan"), tmp_path / "in" / "北区营业部.xlsx"),  # a slip
           fill(sent["南区营业部"], fixed(sample("annual_plan", 0.8)), tmp_path / "in" / "南区营业部.xlsx"))
    tokens = tmp_path / "tokens.json"
    token = Tokens(tokens).issue("北区营业部")
    app = create_app(Settings(public_url="https://plan.example.com", tokens=tokens, db=store.url,
                              hq_password=PASSWORD))
    yield store, sent, app, token, tmp_path
    store.close()


def login(client: TestClient) -> str:
    response = client.post("/hq/login", data={"reviewer": "张经理", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get("/hq/").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_hq_pages_need_the_hq_login_not_a_unit_token(hq):
    store, _, app, token, _ = hq
    client = TestClient(app)
    assert client.get("/hq/", follow_redirects=False).headers["location"] == "/hq/login"
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/hq/", headers=bearer, follow_redirects=False).status_code == 303
    wrong = client.post("/hq/login", data={"reviewer": "x", "password": "guess"}, follow_redirects=False)
    assert wrong.status_code == 401 and "xlplan_hq" not in wrong.cookies
    login(client)
    cookie = client.cookies.get("xlplan_hq")
    assert cookie and client.get("/api/submissions", follow_redirects=False).status_code == 401  # not a unit


def test_forms_without_the_token_or_from_another_site_are_refused(hq):
    store, _, app, _, _ = hq
    client = TestClient(app)
    csrf = login(client)
    sid = next(s["id"] for s in store.submissions() if s["unit"] == "南区营业部")
    before = store.review_events()
    assert client.post(f"/hq/submission/{sid}/approve", data={"note": "x"}).status_code == 403
    assert client.post(f"/hq/submission/{sid}/approve", data={"csrf": "forged"}).status_code == 403
    assert client.post(f"/hq/submission/{sid}/approve", data={"csrf": csrf},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert store.review_events() == before
    assert client.post(f"/hq/submission/{sid}/approve", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert store.review_events()[-1]["state"] == "approved" and store.review_events()[-1]["actor"] == "张经理"


def test_no_route_changes_the_review_log(hq):
    store, _, app, token, _ = hq
    hq_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/hq")
    posts = sorted(r.path for r in hq_app.routes if "POST" in getattr(r, "methods", ()))
    assert posts == ["/login", "/logout", "/submission/{sid}/approve", "/submission/{sid}/return"]
    others = {m for r in list(app.routes) + list(hq_app.routes) for m in getattr(r, "methods", ())}
    assert others <= {"GET", "HEAD", "POST"}  # no PUT, PATCH or DELETE anywhere
    client = TestClient(app)
    csrf = login(client)
    before = store.review_events()
    for sub in store.submissions():
        for action in ("approve", "return"):
            client.post(f"/hq/submission/{sub['id']}/{action}", data={"csrf": csrf, "note": "again"})
    after = store.review_events()
    assert after[:len(before)] == before  # every earlier row exactly as it was: only appended to
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/hq/submission/{before[0]['submission_id']}/approve").status_code == 405


def test_the_add_in_reads_the_comments_as_json(hq):
    store, _, app, token, _ = hq
    client = TestClient(app)
    csrf = login(client)
    sid = next(s["id"] for s in store.submissions() if s["unit"] == "北区营业部")
    client.post(f"/hq/submission/{sid}/return", data={"csrf": csrf, "note": "请改正预算",
                                                      "comments": "推动计划及预算!M6: 金额不对"})
    answer = client.get("/api/review", headers={"Authorization": f"Bearer {token}"}).json()
    (decision,) = answer["reviews"]
    assert decision["state"] == "returned" and decision["reviewer"] == "张经理" and decision["note"] == "请改正预算"
    assert decision["comments"] == [{"sheet": "推动计划及预算", "cell": "M6", "text": "金额不对"}]
    assert client.get("/api/review").status_code == 401


def test_the_diff_page_shows_an_inserted_row_as_such_and_values_as_the_workbook_shows_them(hq):
    store, sent, app, _, folder = hq
    data = sample("annual_plan")
    data["actions"].insert(1, {"strategy": "增员育成，扩大平台", "action": "主管训练营", "owner": "李主任",
                               "item": "讲师费", "quantity": 30, "unit_cost": 500, "times": 1})
    data["growth"][0] = 0.15
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "北区营业部-v2.xlsx"))
    sid = max((s for s in store.submissions() if s["unit"] == "北区营业部"), key=lambda s: s["version"])["id"]
    client = TestClient(app)
    login(client)
    page = client.get(f"/hq/diff/{sid}").text
    rows = page.split('<table id="rows">', 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr class=") == 1 and 'class="inserted"' in rows
    assert "增员育成，扩大平台 / 主管训练营" in rows and "15,000" not in rows and "500" in rows
    inputs = page.split('<table id="inputs">', 1)[1].split("</table>", 1)[0]
    assert inputs.count("<tr>") == 2  # the header and the growth rate: the moved rows below are unchanged
    assert "14.3%" in inputs and "15.0%" in inputs and "0.7%" in inputs


def shot(page, name: str):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_return_resubmit_approve_diff_and_plan_vs_actual_in_a_browser(hq):
    need_browser()
    from playwright.sync_api import expect, sync_playwright

    store, sent, app, token, folder = hq
    url, stop = run_in_thread(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            problems = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{url}/hq/")
            expect(page).to_have_url(f"{url}/hq/login")
            page.fill("input[name=reviewer]", "张经理")
            page.fill("input[name=password]", "wrong")
            page.click("button[type=submit]")
            expect(page.locator(".error")).to_contain_text("密码不对")
            page.fill("input[name=reviewer]", "张经理")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#status")).to_contain_text("北区营业部")
            shot(page, "hq-status")
            # return the north's plan (it has an error, so there is no approve button)
            page.locator("tr[data-unit='北区营业部'] a", has_text="审核").click()
            expect(page.locator("#state")).to_have_text("待审核")
            assert page.locator("button.approve").count() == 0
            page.fill("form[action$='/return'] input[name=note]", "预算金额与计算不符，请改正后再交")
            page.fill("form[action$='/return'] textarea[name=comments]",
                      "推动计划及预算!M6: 填报 6,400，应为 64,000\n计划进度!C10: 一月目标请再确认")
            page.click("button.return")
            expect(page.locator("#state")).to_have_text("已退回修改")
            expect(page.locator("#log")).to_contain_text("推动计划及预算!M6: 填报 6,400，应为 64,000")
            shot(page, "hq-returned")
            with page.expect_download() as download:
                page.click("text=下载带审核意见的工作簿")
            returned = folder / "returned.xlsx"
            download.value.save_as(returned)
            # the unit fixes its workbook and submits it through the add-in's API with its token
            v2 = fill(returned, fixed(sample("annual_plan")), folder / "in" / "北区营业部-v2.xlsx")
            import httpx

            receipt = httpx.post(f"{url}/api/submissions", headers={"Authorization": f"Bearer {token}"},
                                 files={"file": (v2.name, v2.read_bytes())}).json()
            assert receipt["version"] == 2 and receipt["status"] == "accepted", receipt
            # approve version 2
            page.goto(f"{url}/hq/")
            expect(page.locator("tr[data-unit='北区营业部']")).to_contain_text("待审核")
            page.locator("tr[data-unit='北区营业部'] a", has_text="审核").click()
            page.fill("form[action$='/approve'] input[name=note]", "同意")
            page.click("button.approve")
            expect(page.locator("#state")).to_have_text("已批准")
            # what changed between the versions
            page.click("text=版本比较")
            expect(page.locator("#inputs")).to_contain_text("推动计划及预算")
            expect(page.locator("#inputs")).to_contain_text("6,400")
            expect(page.locator("#totals")).to_contain_text("budget_stated_total")
            shot(page, "hq-diff")
            # three months of actuals, then the plan against them
            csv_ = folder / "actuals.csv"
            csv_.write_text("unit,period,measure,value\n北区营业部,2027-01,actual_month,950\n"
                            "北区营业部,2027-02,actual_month,480\n北区营业部,2027-03,actual_month,820\n",
                            encoding="utf-8")
            actuals.import_file(store, csv_)
            page.click("text=合并计划与实绩")
            actual = page.locator("table[data-view='actual']").first
            expect(actual).to_contain_text("950")
            assert page.locator("svg.chart").count() >= 2
            assert page.locator("table[data-view='plan']").first.inner_text().count("南区营业部") == 0
            shot(page, "hq-plan-vs-actual")
            page.emulate_media(media="print")
            assert page.locator("form.decide").count() == 0 or not page.locator("header nav").is_visible()
            assert not problems, problems
            browser.close()
    finally:
        stop()
    assert [e["state"] for e in store.review_events(int(receipt["id"]))] == ["received", "checked", "approved"]


def test_a_reviewer_s_account_and_session_outlive_a_restart_of_the_server_in_a_browser(hq):
    """Log in with an account, restart the server (a new app on the same database), approve:
    still logged in, and the log records the account's name; logging out ends the session."""
    from playwright.sync_api import expect, sync_playwright

    from xlplan.hq import accounts

    need_browser()
    store, _, _, _, folder = hq
    accounts.add(store, "李主任", "correct horse battery")
    settings = dict(public_url="https://plan.example.com", tokens=folder / "tokens.json", db=store.url,
                    hq_password=PASSWORD)
    url, stop = run_in_thread(create_app(Settings(**settings)))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"{url}/hq/")
            page.fill("input[name=reviewer]", "李主任")
            page.fill("input[name=password]", PASSWORD)  # the shared password: refused once accounts exist
            page.click("button[type=submit]")
            expect(page.locator("p.error")).to_be_visible()
            page.fill("input[name=reviewer]", "李主任")
            page.fill("input[name=password]", "correct horse battery")
            page.click("button[type=submit]")
            expect(page.locator(".who")).to_have_text("李主任")
            stop()  # the server goes down and comes back: nothing of the session was in its memory
            url, stop = run_in_thread(create_app(Settings(**settings)))
            page.goto(f"{url}/hq/")
            expect(page.locator("#status")).to_contain_text("南区营业部")
            page.locator("tr[data-unit='南区营业部'] a", has_text="审核").click()
            page.fill("form[action$='/approve'] input[name=note]", "同意")
            page.click("button.approve")
            expect(page.locator("#state")).to_have_text("已批准")
            south = next(s for s in store.submissions() if s["unit"] == "南区营业部")
            assert store.review_events(south["id"])[-1]["actor"] == "李主任"
            page.click("text=退出")
            page.goto(f"{url}/hq/")
            expect(page).to_have_url(f"{url}/hq/login")
            browser.close()
    finally:
        stop()


def test_the_web_page_shows_times_in_the_zone_it_was_given(hq):
    """`xlplan serve --tz Asia/Taipei`: the status and the review log in that zone, named beside the times."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    store, _, _, _, folder = hq
    app = create_app(Settings(public_url="https://plan.example.com", tokens=folder / "tokens.json", db=store.url,
                              hq_password=PASSWORD, hq_zone=ZoneInfo("Asia/Taipei")))
    client = TestClient(app)
    csrf = login(client)
    sid = next(s["id"] for s in store.submissions() if s["unit"] == "南区营业部")
    client.post(f"/hq/submission/{sid}/approve", data={"csrf": csrf, "note": "同意"})
    assert "Asia/Taipei (UTC+08:00)" in client.get("/hq/").text
    log = client.get(f"/hq/submission/{sid}").text.split('<table id="log">', 1)[1].split("</table>", 1)[0]
    assert "时间（Asia/Taipei (UTC+08:00)）" in log
    for event in store.review_events(sid):
        at = event["at"].replace(tzinfo=dt.timezone.utc) if event["at"].tzinfo is None else event["at"]
        assert at.astimezone(ZoneInfo("Asia/Taipei")).strftime("%Y-%m-%d %H:%M") in log
        assert at.strftime("%Y-%m-%d %H:%M") not in log  # not UTC
