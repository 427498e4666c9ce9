"""Type text into cells in LibreOffice, through its own API, and save the workbook.

Run by the system's python3 with Debian's python3-uno (the project's venv cannot import
uno):

    /usr/bin/python3 tests/lo_type.py IN.xlsx OUT.xlsx SHEET ADDRESS TEXT [ADDRESS TEXT ...]

Each TEXT goes into its cell on SHEET as a clerk types it (the cell's string set, the
sheet recalculated as LibreOffice does after an entry); the result is saved as .xlsx
(Calc MS Excel 2007 XML). One LibreOffice of its own per run (tests/lo_decorate.py).
"""
from __future__ import annotations

import os
import sys

import uno
from lo_decorate import opened, prop


def main(argv):
    source, target, sheet_name = argv[1], argv[2], argv[3]
    pairs = argv[4:]
    if not pairs or len(pairs) % 2:
        raise SystemExit("usage: lo_type.py IN OUT SHEET ADDRESS TEXT [ADDRESS TEXT ...]")
    with opened(source, "xlplantype") as (ctx, doc, folder):
        sheet = doc.Sheets.getByName(sheet_name)
        for address, text in zip(pairs[::2], pairs[1::2]):
            sheet.getCellRangeByName(address).setString(text)
        doc.calculateAll()
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(target)),
                       (prop("FilterName", "Calc MS Excel 2007 XML"),))


if __name__ == "__main__":
    main(sys.argv)
