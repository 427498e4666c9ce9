"""What the ribbon's buttons do to a workbook: Recalculate, Check, Submit.

Written against xlwings' Book API, so the same code runs on the book JSON an Office.js
client sends (xlwings' remote Book, on the server: see scripts.py) and on a book open
in Excel desktop (xlwings over COM/AppleScript: see desktop.py). It needs no xlwings
PRO license itself. The work is the engine's, as the CLI does it —
`plan_from_book` → `recalc.evaluate` — so `xlplan recalc` and the Recalculate button
give the same values and findings for the same inputs.

What Recalculate changes is what `xlplan recalc` changes in a file: the one list of
edits of workbook/writeback.py (values, restored formulas, Checks rows, marks, the
`_xlplan` record), applied to the live book by livebook.py. Cells that already show the
engine's value are left out: in Excel they hold live formulas, and writing a constant
over a formula would stop it from updating as the clerk types. Check applies the same
list without values and formulas.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import xlwings as xw

from ..model import XlplanError
from ..template import generate, spec
from ..texts import t
from ..workbook import recalculation as recalc
from ..workbook import writeback
from ..workbook.plan import Plan
from ..workbook.plan import cell_value as shown_value
from ..workbook.ooxml import row_col
from ..workbook.recalculation import Result
from . import livebook
from .bookjson import BookJsonSource, plan_from_book

TITLE = "xlplan"


@dataclass(frozen=True)
class Session:
    """Who pressed the button: injected into scripts by type hint, never sent by the client."""

    unit: str
    submit: Callable[[bytes, str], dict] | None = None  # (workbook bytes, file name) -> receipt


# -- the summary the clerk sees -------------------------------------------------------------
def summary(result: Result, written: int | None = None) -> str:
    lang = result.plan.lang
    text = t("summary_counts", lang).format(**result.counts())
    if written is not None:
        text += t("summary_written", lang).format(written=written)
    if result.findings:
        text += t("summary_see_checks", lang)
    return text


# -- the scripts ------------------------------------------------------------------------------------
def book_edits(source: BookJsonSource, result: Result) -> list:
    """The write-back's edits for a live book: values it already shows are left out (there
    they are live formulas, and a constant written over one would stop it updating)."""
    def shown(sheet, address):
        if sheet not in source.sheet_names():
            return None
        r, c = row_col(address)
        return shown_value(source.grid(sheet), r, c)

    return writeback.edits(result, shown)


def run_recalculate(book: xw.Book, data: dict) -> Result:
    source = BookJsonSource(data)
    result = recalc.evaluate(plan_from_book(data))
    written = livebook.apply(book, source, book_edits(source, result))
    book.app.alert(summary(result, written), title=f"{TITLE} · Recalculate")
    return result


def run_check(book: xw.Book, data: dict) -> Result:
    """Findings only: the Checks sheet, the marks and their record; no value changes."""
    source = BookJsonSource(data)
    result = recalc.evaluate(plan_from_book(data))
    edits = [e for e in book_edits(source, result)
             if not isinstance(e, (writeback.CachedValue, writeback.RestoreFormula))]
    livebook.apply(book, source, edits)
    book.app.alert(summary(result), title=f"{TITLE} · Check")
    return result


def workbook_bytes(plan: Plan) -> bytes:
    """A clean workbook of the plan's template and cycle holding exactly the plan's inputs.

    What HQ receives: the merge recomputes everything from inputs, so a workbook rebuilt
    from them carries the plan without anything the client may have changed around it.
    """
    cycle = plan.cycle()
    template = spec.load(plan.template.id, cycle.template_params())
    wb = generate.build_workbook(template, cycle, plan.inputs())
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def run_submit(book: xw.Book, data: dict, session: Session) -> dict | None:
    plan = plan_from_book(data)
    lang = plan.lang
    if plan.unit != session.unit:
        book.app.alert(t("submit_wrong_unit", lang).format(owner=plan.unit, session=session.unit),
                       title=f"{TITLE} · Submit")
        return None
    if session.submit is None:
        book.app.alert(t("submit_no_server", lang), title=f"{TITLE} · Submit")
        return None
    result = recalc.evaluate(plan)
    name = f"{plan.unit}_{plan.template.id}_{plan.period}.xlsx"
    try:
        receipt = session.submit(workbook_bytes(plan), name)
    except XlplanError as exc:  # refused by HQ, wrong unit, unreadable: the clerk reads why
        book.app.alert(str(exc), title=f"{TITLE} · Submit")
        return None
    book.app.alert(receipt_text(receipt, result), title=f"{TITLE} · Submit")
    return receipt


def receipt_text(receipt: dict, result: Result) -> str:
    fields = {k: receipt.get(k) for k in ("unit", "period", "version", "id", "received")}
    return t("receipt", result.plan.lang).format(**fields, **result.counts())
