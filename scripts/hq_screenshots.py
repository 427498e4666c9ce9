"""The README's pictures of HQ's web page: run the demo, serve its database, photograph the pages.

    .venv/bin/python scripts/hq_screenshots.py [docs/]

Chromium (apt) driven by Playwright, as in tests/test_hq_web.py.
"""
from __future__ import annotations

import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

from xlplan import demo
from xlplan.command import Printer
from xlplan.excel import use_development_license

use_development_license()
from xlplan.excel.server import Settings, create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def main(out: Path) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="xlplan-shots-"))
    demo.run(folder, Printer())
    app = create_app(Settings(tokens=folder / "tokens.json", db=f"sqlite:///{folder / 'hq' / 'hq.db'}",
                              hq_password="demo"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/hq"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        threading.Event().wait(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800}, locale="zh-CN")
        page.goto(f"{url}/login")
        page.fill("input[name=reviewer]", demo.REVIEWER)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.screenshot(path=str(out / "hq-status.png"), full_page=True)
        href = page.locator(f"tr[data-unit='{demo.RETURNED_UNIT}'] a").first.get_attribute("href")
        latest = int(href.rsplit("/", 1)[1])
        page.goto(f"{url}/diff/{latest}")
        page.screenshot(path=str(out / "hq-diff.png"), full_page=True)
        page.goto(f"{url}/submission/{returned_id(folder)}")
        page.screenshot(path=str(out / "hq-returned.png"), full_page=True)
        page.goto(f"{url}/plan")
        heading = page.locator("h2", has_text="计划与实绩").first
        top = page.evaluate("(e) => e.getBoundingClientRect().top + window.scrollY", heading.element_handle())
        page.screenshot(path=str(out / "hq-plan-vs-actual.png"), full_page=True,
                        clip={"x": 0, "y": top - 10, "width": 1200, "height": 820})
        browser.close()
    server.should_exit = True
    print(f"wrote {out}/hq-status.png, hq-returned.png, hq-diff.png, hq-plan-vs-actual.png")


def returned_id(folder: Path) -> int:
    from xlplan.hq.store import Store

    with Store(f"sqlite:///{folder / 'hq' / 'hq.db'}") as hq:
        return next(e["submission_id"] for e in hq.review_events() if e["state"] == "returned")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
