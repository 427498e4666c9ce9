"""The task pane as Office shows it: the page the server serves, in headless Chromium.

office.js from Microsoft's CDN is replaced by an Office stub made of tests/js/fake_office.js
holding a generated plan; every other request off this machine is refused. The clerk
saves the token and presses the pane's buttons; the page must not throw, must show the
summary, and must leave the book as `xlplan recalc` leaves the file, every sheet protected
as before. A button pressed before Office is ready runs once it is.
"""
from __future__ import annotations

import json
import re
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "js"))

import serve  # noqa: E402  (tests/js/serve.py)

from plans import make  # noqa: E402

CHROMIUM = os.environ.get("XLPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM and not os.environ.get("CI"),
                                reason="Chromium is not installed")


def office_stub(book: dict, partition_key: str) -> str:
    """What the page gets instead of office.js: the fake Office with the book, not yet ready."""
    fake = (HERE / "js" / "fake_office.js").read_text(encoding="utf-8")
    return (fake + "\n;(function () {\n"
            f"  const office = fakeOffice.createOffice({json.dumps(book, ensure_ascii=False)}, "
            f"{{ partitionKey: {json.dumps(partition_key)} }});\n"
            "  window.Office = office.Office; window.Excel = office.Excel;\n"
            "  window.CustomFunctions = office.CustomFunctions; window.__office = office;\n"
            "})();\n")


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("taskpane")
    path = make(folder, "slips", serve.with_slips())
    app, token = serve.app_for(folder)
    url, stop = serve.run_in_thread(app)
    yield {"book": serve.fake_book(path), "expected": serve.file_recalc(path, folder), "url": url, "token": token}
    stop()


@pytest.fixture
def page(plan):
    from playwright.sync_api import sync_playwright

    assert HAVE_CHROMIUM, f"Chromium is missing at {CHROMIUM}: scripts/setup.sh installs it (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
        stub = office_stub(plan["book"], "site-a:")

        def route(route):
            url = route.request.url
            if url == OFFICE_JS:
                return route.fulfill(status=200, content_type="text/javascript", body=stub)
            if url.startswith(plan["url"]):
                return route.continue_()
            page.problems.append(f"request off this machine: {url}")
            return route.abort()

        page.route("**/*", route)
        page.goto(plan["url"] + "/taskpane")
        yield page
        browser.close()


def message(page) -> str:
    return page.inner_text("#xlplan-message")


def book_state(page) -> dict:
    return page.evaluate("""() => {
      const office = window.__office, book = office.excel.book;
      const checks = book.grid("检查").slice(4).map((r) => r.slice(0, 5));
      return { failures: office.excel.failures.map(String), dropped: office.excel.dropped,
               protected: book.sheets.filter((s) => s.protected).map((s) => s.name).sort(),
               checks: checks.filter((r) => r.some((v) => v !== "")),
               storage: Object.keys(window.localStorage) };
    }""")


def test_the_clerk_signs_in_and_recalculates_from_the_task_pane(page, plan):
    protected = sorted(s["name"] for s in plan["book"]["sheets"] if s["protected"])
    page.evaluate("() => window.__office.initialize()")
    page.fill("#token", plan["token"])
    page.click("#save-token")
    page.wait_for_function("() => document.querySelector('#xlplan-message').innerText.includes('Token saved')")
    assert page.input_value("#token") == ""
    page.click("text=Recalculate")
    page.wait_for_function("() => /个错误/.test(document.querySelector('#xlplan-message').innerText)")
    state = book_state(page)
    assert state["failures"] == [] and state["dropped"] == 0
    assert state["protected"] == protected
    expected_rows = [[("" if v is None else v) for v in row] for row in plan["expected"]["checks"] if any(row)]
    assert [[("" if v is None else v) for v in row] for row in state["checks"]] == expected_rows
    assert state["storage"] == ["site-a:xlplan.token"]
    assert "3 个错误" in message(page)
    assert page.problems == []


def test_a_button_pressed_before_office_is_ready_runs_once_it_is(page, plan):
    page.evaluate("(key) => window.localStorage.setItem('site-a:xlplan.token', key)", plan["token"])
    page.click("text=Check")  # Office.js not ready yet
    page.wait_for_timeout(200)
    assert "个错误" not in message(page)
    page.evaluate("() => window.__office.initialize()")
    page.wait_for_function("() => /个错误/.test(document.querySelector('#xlplan-message').innerText)")
    assert book_state(page)["failures"] == []
    assert page.problems == []


def test_without_a_token_the_pane_says_to_sign_in(page):
    page.evaluate("() => window.__office.initialize()")
    page.click("text=Submit")
    page.wait_for_function("() => /Sign in first/.test(document.querySelector('#xlplan-message').innerText)")
    # Chromium logs the refused call (401) itself; the page throws nothing
    assert [p for p in page.problems if "status of 401" not in p] == []


# -- HQ's review in the task pane ---------------------------------------------------------------
@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    """The add-in server on HQ's database holding the unit's plan returned twice (serve.returned_plans)."""
    folder = tmp_path_factory.mktemp("review")
    path = make(folder, "slips", serve.with_slips())
    app, token = serve.app_for(folder)
    url, stop = serve.run_in_thread(app)
    db = serve.returned_plans(folder)
    review_url, review_stop = serve.run_in_thread(serve.review_app_for(folder, db))
    from xlplan.hq import review
    from xlplan.hq.store import Store

    store = Store(db)
    decided = review.comments_for(store, serve.UNIT)
    store.close()
    yield {"book": serve.fake_book(path), "url": url, "review_url": review_url, "token": token,
           "latest": max(decided, key=lambda r: r["version"])}
    review_stop()
    stop()


def open_pane(p, book: dict, url: str, problems: list, refuse: str | None = None):
    """The task pane from `url` in Chromium, office.js replaced by the fake holding `book`."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    stub = office_stub(book, "site-a:")

    def route(route):
        request_url = route.request.url
        if request_url == OFFICE_JS:
            return route.fulfill(status=200, content_type="text/javascript", body=stub)
        if refuse and request_url.startswith(url + refuse):
            return route.abort("connectionrefused")  # the network fails on the way to the server
        if request_url.startswith(url):
            return route.continue_()
        problems.append(f"request off this machine: {request_url}")
        return route.abort()

    page.route("**/*", route)
    page.goto(url + "/taskpane")
    page.evaluate("() => window.__office.initialize()")
    return browser, page


def signed_in(page, token: str) -> None:
    page.evaluate("(key) => window.localStorage.setItem('site-a:xlplan.token', key)", token)


def test_the_task_pane_shows_hq_s_latest_decision_and_a_comment_selects_its_cell(returned):
    from playwright.sync_api import sync_playwright

    assert HAVE_CHROMIUM, f"Chromium is missing at {CHROMIUM}"
    latest, problems = returned["latest"], []
    with sync_playwright() as p:
        browser, page = open_pane(p, returned["book"], returned["review_url"], problems)
        signed_in(page, returned["token"])
        page.click("#show-review")
        page.wait_for_selector(".xlplan-decision")
        decisions = page.query_selector_all(".xlplan-decision")
        assert len(decisions) == 1  # the plan's latest decision, not version 1's
        shown = decisions[0].inner_text()
        assert latest["version"] == 2 and "Returned 退回 · annual_plan 2027 · v2" in shown
        assert f"张经理 · {latest['at'][:10]} {latest['at'][11:16]} UTC" in shown
        assert "请改正后再交。\n预算与计划进度各一处。" in shown
        links = page.eval_on_selector_all(".xlplan-decision li", "items => items.map((li) => li.innerText)")
        assert links == [f"{c['sheet']}!{c['cell']} {c['text']}" for c in latest["comments"]]
        assert len(links) >= 3 and page.evaluate("() => window.__xss") is None  # a comment is text, never markup
        for c in latest["comments"][::-1]:  # each link selects its cell on its sheet
            page.click(f"a[data-sheet='{c['sheet']}'][data-cell='{c['cell']}']")
            page.wait_for_function("([s, a]) => { const b = window.__office.excel.book; return b.active.name === s && "
                                   "b.selection.sheet.name === s && JSON.stringify(b.selection.area) === a; }",
                                   arg=[c["sheet"], json.dumps(area(c["cell"]), separators=(",", ":"))])
        state = page.evaluate("() => ({ failures: window.__office.excel.failures.map(String), "
                              "dropped: window.__office.excel.dropped })")
        assert state == {"failures": [], "dropped": 0}
        browser.close()
    assert problems == []


def area(a1: str) -> dict:
    from openpyxl.utils.cell import coordinate_from_string, column_index_from_string

    col, row = coordinate_from_string(a1)
    r, c = row - 1, column_index_from_string(col) - 1
    return {"r0": r, "c0": c, "r1": r, "c1": c}


@pytest.mark.parametrize("case, expected", [
    ("wrong token", "The server did not accept this token: paste the token HQ gave your unit again"),
    ("no database", "This xlplan server keeps no review"),
    ("network", "Cannot reach the xlplan server at"),
    ("no token", "Sign in first"),
])
def test_the_task_pane_says_why_it_cannot_show_the_review(returned, case, expected):
    from playwright.sync_api import sync_playwright

    assert HAVE_CHROMIUM, f"Chromium is missing at {CHROMIUM}"
    url = returned["url"] if case == "no database" else returned["review_url"]
    problems: list[str] = []
    with sync_playwright() as p:
        refuse = "/api/review" if case == "network" else None
        browser, page = open_pane(p, returned["book"], url, problems, refuse=refuse)
        if case != "no token":
            signed_in(page, "xlp_unknown" if case == "wrong token" else returned["token"])
        page.click("#show-review")
        page.wait_for_selector("#xlplan-review .xlplan-error")
        assert expected in page.inner_text("#xlplan-review")
        assert page.query_selector(".xlplan-decision") is None
        browser.close()
    # Chromium logs a refused call (401, 404, a failed request) itself; the page throws nothing
    assert [m for m in problems if not re.search(r"status of 40[14]|net::ERR_", m)] == []
