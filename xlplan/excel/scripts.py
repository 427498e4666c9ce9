"""The ribbon's scripts as xlwings server scripts: Recalculate, Check, Submit.

`xlwings.server.custom_scripts_call(scripts, name, typehint_to_value={xw.Book: book,
Session: session})` runs one: the book is the client's book JSON, the session says
which unit pressed the button (from its token, never from the request body). The work
is in ribbon.py, shared with the desktop add-in.
"""
from __future__ import annotations

from . import require_license

require_license()

import xlwings as xw  # noqa: E402
from xlwings import server  # noqa: E402

from .ribbon import Session, run_check, run_recalculate, run_submit  # noqa: E402

SCRIPTS = ("recalculate", "check", "submit")


@server.script
def recalculate(book: xw.Book):
    """Recompute every block, refill the Checks sheet, mark the cells with findings."""
    run_recalculate(book, book.api)


@server.script
def check(book: xw.Book):
    """Findings only: refill the Checks sheet and mark the cells; no value changes."""
    run_check(book, book.api)


@server.script
def submit(book: xw.Book, session: Session):
    """Send the plan to HQ and show the receipt."""
    run_submit(book, book.api, session)
