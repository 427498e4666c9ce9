"""Add what a clerk adds in LibreOffice to a workbook, through LibreOffice's own API, and save it.

Run by the system's python3 with Debian's python3-uno (the project's venv cannot import
uno):

    /usr/bin/python3 tests/lo_decorate.py IN.xlsx OUT.xlsx SHEET [resave]

On SHEET it adds a text box, a rectangle, a picture (a small PNG made here), a chart of
the first rows and a comment on A1 by "王经理", then saves as .xlsx (Calc MS Excel 2007
XML). With `resave` it only opens and saves the file again (what a clerk does when
opening a recalculated workbook in LibreOffice and saving it). A fresh user profile
and a private pipe make every run independent of any other LibreOffice.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager

import uno
from com.sun.star.awt import Point, Size
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress, CellRangeAddress


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def png(path: str) -> None:
    """A 16×16 blue square: a unit's logo."""
    raw = b"".join(b"\x00" + b"\x1f\x4e\x78" * 16 for _ in range(16))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def connect(pipe: str, profile: str):
    proc = subprocess.Popen([shutil.which("soffice") or "soffice", f"-env:UserInstallation=file://{profile}",
                             "--headless", "--invisible", "--norestore", "--nolockcheck",
                             f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 120
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return proc, ctx
        except Exception:  # NoConnectException until soffice listens
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.3)


@contextmanager
def opened(source: str, pipe: str):
    """`source` opened, hidden, in a LibreOffice of its own (a fresh profile in a temporary folder,
    quit and removed afterwards): (ctx, doc, folder)."""
    folder = tempfile.mkdtemp(prefix="xlplan-uno-")
    proc = None
    try:
        proc, ctx = connect(f"{pipe}{os.getpid()}", os.path.join(folder, "profile"))
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(source)), "_blank", 0,
                                           (prop("Hidden", True),))
        if doc is None:
            raise SystemExit(f"LibreOffice cannot open {source}")
        yield ctx, doc, folder
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:  # the bridge goes away as soffice quits
            pass
    finally:
        if proc is not None:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


def decorate(ctx, doc, sheet_name: str, folder: str) -> None:
    sheet = doc.Sheets.getByName(sheet_name)
    page = sheet.DrawPage

    box = doc.createInstance("com.sun.star.drawing.TextShape")
    page.add(box)
    box.setPosition(Point(1000, 30000))
    box.setSize(Size(6000, 2000))
    box.setString("王经理：一月含开门红")

    rect = doc.createInstance("com.sun.star.drawing.RectangleShape")
    page.add(rect)
    rect.setPosition(Point(8000, 30000))
    rect.setSize(Size(3000, 1500))

    logo = os.path.join(folder, "logo.png")
    png(logo)
    pic = doc.createInstance("com.sun.star.drawing.GraphicObjectShape")
    provider = ctx.ServiceManager.createInstanceWithContext("com.sun.star.graphic.GraphicProvider", ctx)
    pic.Graphic = provider.queryGraphic((prop("URL", uno.systemPathToFileUrl(logo)),))
    page.add(pic)
    pic.setPosition(Point(12000, 30000))
    pic.setSize(Size(1500, 1500))

    rng = CellRangeAddress()
    rng.Sheet = doc.Sheets.getElementNames().index(sheet_name)
    rng.StartColumn, rng.StartRow, rng.EndColumn, rng.EndRow = 2, 9, 13, 9  # C10:N10
    rect_chart = uno.createUnoStruct("com.sun.star.awt.Rectangle")
    rect_chart.X, rect_chart.Y, rect_chart.Width, rect_chart.Height = 1000, 33000, 12000, 7000
    sheet.Charts.addNewByName("xlplan_test_chart", rect_chart, (rng,), False, False)

    # a comment on the title cell; the sheet is protected (no password), as a clerk would unprotect it
    sheet.unprotect("")
    where = CellAddress()
    where.Sheet, where.Column, where.Row = rng.Sheet, 0, 0
    sheet.Annotations.insertNew(where, "王经理：请核对一月")
    sheet.protect("")


def main(argv):
    source, target, sheet_name = argv[1], argv[2], argv[3]
    resave = len(argv) > 4 and argv[4] == "resave"
    with opened(source, "xlplan") as (ctx, doc, folder):
        if not resave:
            decorate(ctx, doc, sheet_name, folder)
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(target)),
                       (prop("FilterName", "Calc MS Excel 2007 XML"),))


if __name__ == "__main__":
    main(sys.argv)
