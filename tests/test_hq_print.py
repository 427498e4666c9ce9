"""HQ's web page and the status page on paper: each view printed by Chromium (Playwright's
page.pdf, A4 landscape) in every language, and measured as a reader meets it (tests/printed.py):
A4 landscape, no character under 8 pt, nothing outside the printable area, no word broken
across lines (headings included: no one character per line), a table that runs onto another
page repeats its header row there, no heading left at the foot of a page.

The cycle behind it: two sales departments and a customer-service department submit; the north's
plan (with a slip) is returned with a comment and comes back with an inserted action and a new
growth rate; two months of actuals. A PNG of every printed page goes to out/render/web/ (CI keeps it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import printed
import pytest
from cycle import fill, fixed, sample, start, submit
from loopback import run_in_thread

from xlplan import texts
from xlplan.hq import actuals, report, review, web

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("XLPLAN_RENDER_DIR", ROOT / "out" / "render")) / "web"
CHROMIUM = os.environ.get("XLPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
PASSWORD = "hq-print-2027"


def need_tools():
    try:
        import pdfminer  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright or pdfminer.six is not installed (pip install -e '.[test]')")
    for tool, there in (("Chromium", Path(CHROMIUM).exists()), ("pdftoppm", shutil.which("pdftoppm"))):
        if not there:
            if os.environ.get("CI"):
                pytest.fail(f"{tool} is missing: scripts/setup.sh installs it")
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hq-print")
    store, sent = start(folder)
    submit(store, fill(sent["北区营业部"], sample("annual_plan"), folder / "in" / "北区营业部.xlsx"),
           fill(sent["南区营业部"], fixed(sample("annual_plan", 0.8)), folder / "in" / "南区营业部.xlsx"),
           fill(sent["客服部"], sample("support_plan"), folder / "in" / "客服部.xlsx"))
    north = next(s for s in store.submissions() if s["unit"] == "北区营业部")
    review.return_(store, north, "张经理", "预算金额与计算不符，请改正后再交",
                   [review.parse_comment("推动计划及预算!M6: 填报 6,400，应为 64,000")])
    data = fixed(sample("annual_plan"))
    data["growth"][0] = 0.15
    data["actions"].insert(1, {"strategy": "增员育成，扩大平台", "action": "主管训练营", "owner": "李主任",
                               "item": "讲师费", "quantity": 30, "unit_cost": 500, "times": 1})
    submit(store, fill(sent["北区营业部"], data, folder / "in" / "北区营业部-v2.xlsx"))
    (folder / "actuals.csv").write_text("unit,period,measure,value\n北区营业部,2027-01,actual_month,950\n"
                                        "北区营业部,2027-02,actual_month,480\n", encoding="utf-8")
    actuals.import_file(store, folder / "actuals.csv")
    yield store, folder, north
    store.close()


def _print(page, url: str, pdf: Path) -> dict:
    page.goto(url)
    page.emulate_media(media="print")
    shown = page.evaluate(printed.SHOWN)
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="screen")
    return shown


def _pngs(pdf: Path) -> None:
    for old in OUT.glob(f"{pdf.stem}-*.png"):  # an earlier run's pages
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(OUT / pdf.stem)], check=True)


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_every_hq_page_prints_on_a4_readable_and_whole(cycle, lang):
    need_tools()
    from playwright.sync_api import sync_playwright

    store, folder, north = cycle
    v2 = max((s for s in store.submissions() if s["unit"] == "北区营业部"), key=lambda s: s["version"])
    views = {"status": "/", "submission": f"/submission/{north['id']}", "diff": f"/diff/{v2['id']}",
             "plan": "/plan?use=accepted"}
    OUT.mkdir(parents=True, exist_ok=True)
    static = report.write_html(report.status(store), folder / f"status.{lang}.html", lang=lang)
    found, sheets = [], {}
    url, stop = run_in_thread(web.create_app(store, PASSWORD, lang))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=reviewer]", "张经理")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            for name, path in views.items():
                pdf = OUT / f"hq-{name}.{lang}.pdf"
                shown = _print(page, url + path, pdf)
                found += printed.problems(pdf, shown, f"{name} ({lang})")
                sheets[name] = printed.pages(pdf)
                _pngs(pdf)
            pdf = OUT / f"status-page.{lang}.pdf"
            shown = _print(page, static.as_uri(), pdf)
            found += printed.problems(pdf, shown, f"status page ({lang})")
            sheets["status page"] = printed.pages(pdf)
            _pngs(pdf)
            browser.close()
    finally:
        stop()
    assert not found, "\n".join(found)
    # the measure saw the pages: the plan runs onto more than one page, every view's title was printed
    assert len(sheets["plan"]) > 1
    for name, pages in sheets.items():
        assert pages and pages[0].lines, f"{name}: nothing printed"
    plan_text = "\n".join(line.text for page in sheets["plan"] for line in page.lines)
    assert report.template_name("annual_plan", lang) in plan_text and "annual_plan" not in plan_text
