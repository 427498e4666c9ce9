"""What LibreOffice shows of a workbook, read through its own API (python3-uno), as JSON.

    /usr/bin/python3 tests/lo_read.py IN.xlsx

Prints {"sheets": [names in order], "active": name shown on opening, "cells": {sheet:
[[text of A1, B1, C1, ...], ...]} (the first 40 rows and 6 columns of each visible sheet),
"links": {sheet: {cell: url}} (hyperlinks in cells), "notes": {sheet: {cell: [author,
text]}}, "shapes": {sheet: [shape type, ...]} (pictures, charts, text boxes on its
drawing page)}. Started the way tests/lo_decorate.py starts LibreOffice.
"""
from __future__ import annotations

import json
import sys

from lo_decorate import opened


def column(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


def read(doc) -> dict:
    out = {"sheets": list(doc.Sheets.getElementNames()), "active": doc.CurrentController.ActiveSheet.Name,
           "cells": {}, "links": {}, "notes": {}, "shapes": {}}
    for name in out["sheets"]:
        sheet = doc.Sheets.getByName(name)
        notes = {}
        for i in range(sheet.Annotations.Count):
            a = sheet.Annotations.getByIndex(i)
            notes[f"{column(a.Position.Column)}{a.Position.Row + 1}"] = [a.Author, a.String]
        out["notes"][name] = notes
        page = sheet.DrawPage
        out["shapes"][name] = [page.getByIndex(i).ShapeType for i in range(page.Count)]
        if not sheet.IsVisible:
            continue
        rows, links = [], {}
        for r in range(40):
            row = []
            for c in range(6):
                cell = sheet.getCellByPosition(c, r)
                row.append(cell.String)
                enum = cell.getTextFields().createEnumeration()
                while enum.hasMoreElements():
                    field = enum.nextElement()
                    if field.getPropertySetInfo().hasPropertyByName("URL"):
                        links[f"{column(c)}{r + 1}"] = field.URL
            rows.append(row)
        while rows and not any(rows[-1]):
            rows.pop()
        out["cells"][name] = rows
        out["links"][name] = links
    return out


def main(argv):
    with opened(argv[1], "xlplanread") as (_ctx, doc, _folder):
        print(json.dumps(read(doc), ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv)
