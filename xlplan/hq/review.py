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
from ..template import paper
from ..workbook import writeback as wbk
from ..workbook import writefile
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

    Written through the workbook side's one write-back (`review_edits` applied part by
    part): everything else in the file the unit sent stays as it was, byte for byte.
    """
    from .merge import read_plan

    data = store.blob(sub["sha256"])
    if lang is None:
        try:
            lang = read_plan(sub["source"], data).lang
        except XlplanError:
            lang = texts.DEFAULT
    writefile.write_edited(data, sub["source"], review_edits(sub, event, texts.language(lang)), path)
    return Path(path)


COMMENT_WIDTH = 80.0
WIDTHS = (18.0, 10.0, COMMENT_WIDTH)
NOTE_PREFIXES = tuple(f"{words[0]} (" for words in REVIEW_WORDS.values())  # how a review's note starts


def review_edits(sub: dict, event: dict, lang: str) -> list[wbk.Edit]:
    """The edits a return makes to the unit's workbook: the review sheet (replacing an earlier
    one), the earlier return's notes removed, a note on every commented cell."""
    words = REVIEW_WORDS[lang]
    actor = event["actor"]
    note = event.get("note") or ""
    cells = [wbk.SheetCell("A1", f"{words[0]} · {sub['unit']} · {words[7]} {sub['version']}", "title"),
             wbk.SheetCell("A2", f"{words[1]}: {actor}    {words[2]}: {event['at']:%Y-%m-%d %H:%M}"),
             wbk.SheetCell("A3", words[6], "bold"), wbk.SheetCell("B3", note, "wrap"),
             *(wbk.SheetCell(f"{col}5", head, "bold") for col, head in zip("ABC", (words[4], words[5], words[3])))]
    heights = [(1, paper.row_height(1, paper.TITLE_PT)),
               (3, paper.row_height(paper.wrapped_lines(note, WIDTHS[1] + WIDTHS[2])))]
    by_cell: dict[tuple[str, str], list[str]] = {}
    for r, comment in enumerate(comments_of(event), start=6):
        cells += [wbk.SheetCell(f"A{r}", comment.sheet),
                  wbk.SheetCell(f"B{r}", comment.cell, "link", f"'{comment.sheet}'!{comment.cell}"),
                  wbk.SheetCell(f"C{r}", comment.text, "wrap")]
        heights.append((r, paper.row_height(paper.wrapped_lines(comment.text, COMMENT_WIDTH))))
        by_cell.setdefault((comment.sheet, comment.cell), []).append(comment.text)
    notes = [wbk.Note(sheet, cell, actor, f"{words[0]} ({actor}): " + "\n".join(said))
             for (sheet, cell), said in by_cell.items()]
    sheet = wbk.AddSheet(REVIEW_SHEET[lang], tuple(cells), WIDTHS, tuple(heights), ("B3:C3",), landscape=True)
    return [sheet, wbk.RemoveNotes(NOTE_PREFIXES), *notes]
