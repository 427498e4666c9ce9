"""HQ's review of a submission: received → checked → approved or returned.

Every state change is one row appended to the store's review log (who, when, what);
nothing here or in the store changes or removes a row, and the database refuses
UPDATE and DELETE on the log (store.py's triggers). A merge writes `received` and
`checked` (the checks' verdict); a reviewer then approves a checked plan without
errors, or returns a checked (or approved) plan with an overall note and comments on
cells. Returning writes the comments into the unit's workbook (`returned_workbook`):
a 审核意见 / 審核意見 / Review sheet with a link to every cell, and a note on each cell.
The add-in's task pane reads the same comments as JSON (`comments_for`).
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from .. import texts
from ..model import XlplanError
from .store import ACCEPTED, Store

CELL_COMMENT = re.compile(r"^\s*(?P<sheet>[^!]+)!\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>[0-9]{1,7})"
                          r"\s*[:：=]\s*(?P<text>.+)$",
                          re.S)
DECISIONS = ("approved", "returned")
FROM = {"approved": ("checked",), "returned": ("checked", "approved")}
REVIEW_SHEET = {"zh-Hans": "审核意见", "zh-Hant": "審核意見", "en": "Review"}
REVIEW_WORDS = {
    "zh-Hans": ("总部审核意见", "审核人", "时间 (UTC)", "意见", "工作表", "单元格", "总体意见", "版本"),
    "zh-Hant": ("總公司審核意見", "審核人", "時間 (UTC)", "意見", "工作表", "儲存格", "整體意見", "版本"),
    "en": ("HQ's review", "Reviewer", "Time (UTC)", "Comment", "Sheet", "Cell", "Overall", "Version"),
}


class ReviewError(XlplanError, ValueError):
    """A review step that cannot be taken: the message says which submission and why."""


@dataclass(frozen=True)
class Comment:
    sheet: str
    cell: str
    text: str


def parse_comment(spec: str) -> Comment:
    """'计划进度!C10: 一月目标偏高' → Comment(sheet, cell, text)."""
    m = CELL_COMMENT.match(spec or "")
    if not m:
        raise ReviewError(f"comment {spec!r}: write it as SHEET!CELL: text, e.g. 计划进度!C10: 一月目标偏高")
    return Comment(m["sheet"].strip().strip("'"), f"{m['col'].upper()}{m['row']}", m["text"].strip())


def state_of(store: Store, sid: int) -> str | None:
    events = store.review_events(sid)
    return events[-1]["state"] if events else None


def find(store: Store, unit: str, template: str | None = None, period: str | None = None,
         version: int | None = None) -> dict:
    """A unit's submission: the given version, else its latest (one template and period)."""
    mine = [s for s in store.submissions() if s["unit"] == unit
            and (template is None or s["template"] == template) and (period is None or s["period"] == period)]
    if not mine:
        raise ReviewError(f"{unit}: no submission received" + (f" for {template}" if template else ""))
    keys = {(s["template"], s["period"]) for s in mine}
    if len(keys) > 1:
        listed = ", ".join(f"{t} {p}".strip() for t, p in sorted(keys))
        raise ReviewError(f"{unit} has plans of several templates or periods ({listed}): "
                          "say which with --template and --period")
    if version is not None:
        hit = [s for s in mine if s["version"] == version]
        if not hit:
            raise ReviewError(f"{unit}: no version {version} (versions {', '.join(str(s['version']) for s in mine)})")
        return hit[0]
    return max(mine, key=lambda s: s["version"])


def _decide(store: Store, sub: dict, state: str, reviewer: str, note: str | None,
            comments: Sequence[Comment] = ()) -> dict:
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise ReviewError("a review needs the reviewer's name")
    name = f"{sub['unit']} v{sub['version']}"
    current = state_of(store, sub["id"])
    if state == "approved" and sub["status"] != ACCEPTED:
        raise ReviewError(f"{name} has {sub['errors']} errors: return it with comments instead of approving it")
    if current not in FROM[state]:
        raise ReviewError(f"{name} is {current}: only a plan that is {' or '.join(FROM[state])} can be {state}")
    payload = json.dumps([asdict(c) for c in comments], ensure_ascii=False) if comments else None
    event = store.log(sub["id"], state, reviewer, note=(note or "").strip() or None, comments=payload,
                      expect=FROM[state])
    if "refused" in event:  # another reviewer decided between our look and our write
        raise ReviewError(f"{name} became {event['refused']} meanwhile: look again")
    return event


def approve(store: Store, sub: dict, reviewer: str, note: str | None = None) -> dict:
    return _decide(store, sub, "approved", reviewer, note)


def return_(store: Store, sub: dict, reviewer: str, note: str | None, comments: list[Comment]) -> dict:
    if not (note or "").strip() and not comments:
        raise ReviewError(f"{sub['unit']} v{sub['version']}: say why it is returned "
                          "(an overall note or a cell comment)")
    check_cells(store, sub, comments)
    return _decide(store, sub, "returned", reviewer, note, comments)


def check_cells(store: Store, sub: dict, comments: list[Comment]) -> None:
    """Every commented sheet exists in the unit's workbook (a typo would put the comment nowhere)."""
    if not comments:
        return
    from openpyxl import load_workbook

    data = store.blob(sub["sha256"])
    sheets = load_workbook(io.BytesIO(data), read_only=True).sheetnames
    for c in comments:
        if c.sheet not in sheets:
            raise ReviewError(f"comment on {c.sheet}!{c.cell}: {sub['source']} has no sheet {c.sheet!r} "
                              f"(sheets: {', '.join(s for s in sheets if not s.startswith('_'))})")


def comments_of(event: dict) -> list[Comment]:
    return [Comment(**c) for c in json.loads(event["comments"])] if event.get("comments") else []


def last_decision(store: Store, sid: int) -> dict | None:
    decided = [e for e in store.review_events(sid) if e["state"] in DECISIONS]
    return decided[-1] if decided else None


def comments_for(store: Store, unit: str) -> list[dict]:
    """What the add-in's task pane shows a unit: each of its plans' latest decision and comments."""
    out = []
    for sub in store.submissions():
        if sub["unit"] != unit:
            continue
        decision = last_decision(store, sub["id"])
        if decision is None:
            continue
        out.append({"submission": sub["id"], "template": sub["template"], "period": sub["period"],
                    "version": sub["version"], "state": decision["state"], "reviewer": decision["actor"],
                    "at": decision["at"].isoformat(timespec="seconds") + "Z", "note": decision["note"],
                    "comments": [asdict(c) for c in comments_of(decision)]})
    return out


def returned_workbook(store: Store, sub: dict, event: dict, path: str | Path, lang: str | None = None) -> Path:
    """The unit's workbook with HQ's comments: a review sheet with links, and a note on each cell.

    Only two things are added to the file the unit sent (a sheet and cell notes); the
    write is kept in this one function so that the workbook side's write-back can take
    it over.
    """
    from openpyxl import load_workbook
    from openpyxl.comments import Comment as Note
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    from .merge import read_plan

    data = store.blob(sub["sha256"])
    if lang is None:
        try:
            lang = read_plan(sub["source"], data).lang
        except XlplanError:
            lang = texts.DEFAULT
    lang = texts.language(lang)
    words = REVIEW_WORDS[lang]
    keep_vba = sub["source"].lower().endswith(".xlsm")
    wb = load_workbook(io.BytesIO(data), keep_vba=keep_vba)
    title = REVIEW_SHEET[lang]
    if title in wb.sheetnames:
        del wb[title]  # the comments of an earlier return are replaced by these
    ws = wb.create_sheet(title, 0)
    ws["A1"] = f"{words[0]} · {sub['unit']} · {words[7]} {sub['version']}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{words[1]}: {event['actor']}    {words[2]}: {event['at']:%Y-%m-%d %H:%M}"
    ws["A3"], ws["B3"] = words[6], event.get("note") or ""
    ws["A3"].font = Font(bold=True)
    for c, head in enumerate((words[4], words[5], words[3]), start=1):
        ws.cell(5, c, head).font = Font(bold=True)
    for r, comment in enumerate(comments_of(event), start=6):
        ws.cell(r, 1, comment.sheet).data_type = "s"
        link = ws.cell(r, 2, comment.cell)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{comment.sheet}'!{comment.cell}",
                                   display=comment.cell)
        link.font = Font(color="0563C1", underline="single")
        text_cell = ws.cell(r, 3)
        text_cell.value = comment.text
        text_cell.data_type = "s"  # a comment is text, whatever it starts with
        if comment.sheet in wb.sheetnames:
            wb[comment.sheet][comment.cell].comment = Note(f"{words[0]} ({event['actor']}): {comment.text}",
                                                           event["actor"], width=240, height=90)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 10
    ws.column_dimensions["C"].width = 80
    ws.page_setup.orientation = "landscape"  # the comments print on one page's width
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
