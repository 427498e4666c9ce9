"""`xlplan demo` runs HQ's whole cycle; this checks what it leaves behind, not what it prints."""
from __future__ import annotations

import openpyxl

from xlplan import demo
from xlplan.command import Printer
from xlplan.hq import consolidate, review
from xlplan.hq.store import Store


def test_the_demo_runs_the_whole_cycle(tmp_path):
    demo.run(tmp_path, Printer())
    with Store(f"sqlite:///{tmp_path / 'hq' / 'hq.db'}") as hq:
        north = [s for s in hq.submissions() if s["unit"] == demo.RETURNED_UNIT]
        assert [s["version"] for s in north] == [1, 2]
        assert [e["state"] for e in hq.review_events(north[0]["id"])] == ["received", "checked", "returned"]
        assert [e["state"] for e in hq.review_events(north[1]["id"])] == ["received", "checked", "approved"]
        assert review.last_decision(hq, north[0]["id"])["comments"]  # comments on cells
        approved = {s["unit"] for s in hq.latest_approved()}
        assert approved == {u for units in demo.UNITS.values() for u, _ in units}
        assert {r["period"] for r in hq.actual_rows()} == {"2027-01", "2027-02", "2027-03"}
        pa = next(t for t in consolidate.tables(hq) if t.view.kind == "plan_actual")
        assert [r[2] is not None for r in pa.rows] == [True] * 3 + [False] * 9
        assert pa.rows[0][3] == sum(r[2] for r in pa.rows[:1]) / pa.rows[0][1]
    wb = openpyxl.load_workbook(tmp_path / "hq" / "consolidated.xlsx")
    assert {"计划与实绩", "预期效果", "考核排名", "全年考核"} <= set(wb.sheetnames)
    returned = openpyxl.load_workbook(tmp_path / "returned" / f"{demo.RETURNED_UNIT}.xlsx")
    assert returned.sheetnames[0] == "审核意见"
    assert "西区营业部" in (tmp_path / "hq" / "status.html").read_text(encoding="utf-8")  # never sent
