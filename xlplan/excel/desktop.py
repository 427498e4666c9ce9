"""The ribbon add-in for Excel desktop users who have Python: `xlplan addin desktop`.

It is the ribbon add-in that ships with xlwings (`quickstart_addin_ribbon.xlam`) with its
ribbon XML rewritten for xlplan; its VBA project is copied byte for byte. That VBA
has exactly one ribbon callback, `RibbonMyAddin.RunMain`, which runs
`import <add-in file name>; <add-in file name>.main()` and does not pass on which
button was pressed. Without rewriting the VBA project (which needs Excel) buttons
cannot do different things, so the desktop ribbon has ONE button, "Recalculate",
whose `main()` recalculates and checks, shows the summary and then offers to submit
the plan to HQ (Yes/No). Check alone is in the Office add-in served by `xlplan serve`.
The same module carries the custom functions for the classic add-in (classic.py).

`xlplan addin desktop -o xlplan_addin.xlam` writes the .xlam and, beside it, the module
`xlplan_addin.py` that RunMain imports (the add-in's file name without extension).
The add-in calls Python through the classic xlwings add-in, which must be installed
(`xlwings addin install`); this module runs under it, never on the server.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import quoteattr

from ..model import XlplanError

SOURCE_NAME = "quickstart_addin_ribbon.xlam"
# The shipped VBA (xlwings' custom add-in, PROJECT_NAME "myaddin") reads its settings —
# Interpreter_Win, Conda Path/Env, PYTHONPATH — from this file, or from a sheet named
# "myaddin.conf" in the add-in (it ships as "_myaddin.conf", inactive).
SETTINGS_FILE = r"%USERPROFILE%\.myaddin\myaddin.conf"
SETTINGS_SHEET = "_myaddin.conf"
CALLBACK = "RibbonMyAddin.RunMain"  # the only ribbon callback in the shipped VBA project
REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"  # Office 2010+ ribbon
CUSTOM_UI = "customUI/customUI14.xml"
NS_CUSTOM_UI = "http://schemas.microsoft.com/office/2009/07/customui"

SUPERTIP = ("Recompute every block with xlplan, refresh the Checks sheet and mark the cells with findings; "
            "then offers to submit the plan to HQ.")
RIBBON = """<customUI xmlns="{ns}">
  <ribbon>
    <tabs>
      <tab id="xlplanTab" label="xlplan">
        <group id="xlplanGroup" label={group}>
          <button id="xlplanRecalculate" tag="recalculate" label="Recalculate" size="large"
                  imageMso="CalculateNow" onAction="{callback}"
                  screentip="Recalculate and check"
                  supertip="{supertip}" />
        </group>
      </tab>
    </tabs>
  </ribbon>
</customUI>
"""

MODULE = '''"""xlplan on Excel desktop: the ribbon add-in's RunMain imports this module and calls main().

Add this module to the xlwings add-in's "UDF Modules" and press "Import Functions" for
the XLPLAN_* functions (Windows).
"""
from xlplan.excel.classic import register
from xlplan.excel.desktop import main  # noqa: F401

register(globals())
'''


class AddinError(XlplanError, RuntimeError):
    """The desktop add-in cannot be built: the message says what is missing."""


def source_xlam() -> Path:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise AddinError("the desktop add-in is built from xlwings' ribbon add-in: pip install 'xlplan[excel]'")
    path = Path(spec.origin).parent / SOURCE_NAME
    if not path.exists():
        raise AddinError(f"{path}: xlwings' ribbon add-in is missing from this xlwings installation")
    return path


def ribbon_xml(group: str = "Planning") -> str:
    return RIBBON.format(ns=NS_CUSTOM_UI, group=quoteattr(group), callback=CALLBACK, supertip=SUPERTIP)


def build(output: str | Path, group: str = "Planning") -> Path:
    """Write the .xlam and the Python module its button imports; returns the .xlam's path."""
    output = Path(output)
    if output.suffix.lower() != ".xlam":
        raise AddinError(f"{output}: the add-in's file name must end in .xlam")
    module = output.stem
    if not module.isidentifier() or module == "xlplan":
        raise AddinError(f"{output.name}: RunMain imports a module named after the file, so the name must be a "
                         "Python identifier other than 'xlplan' (e.g. xlplan_addin.xlam)")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    with zipfile.ZipFile(source_xlam()) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename.startswith("customUI/"):
                continue
            data = zin.read(item.filename)
            if item.filename == "_rels/.rels":
                data = _rels(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
        zout.writestr(CUSTOM_UI, ribbon_xml(group))
    os.replace(tmp, output)
    output.with_suffix(".py").write_text(MODULE, encoding="utf-8")
    return output


def _rels(rels: str) -> str:
    """The package relationships with the ribbon part pointing at our customUI14.xml."""
    rels = re.sub(r'<Relationship [^>]*ui/extensibility"[^>]*/>', "", rels)
    return rels.replace("</Relationships>",
                        f'<Relationship Id="xlplanRibbon" Type="{REL_TYPE}" Target="{CUSTOM_UI}"/></Relationships>')


# -- what the button runs (inside Excel desktop, through the classic xlwings add-in) ----------------
def book_json_of(book) -> dict:
    """The book JSON of a book open in Excel desktop, as our Office.js client would send it."""
    sheets, names = [], []
    titles = [s.name for s in book.sheets]
    for sheet in book.sheets:
        last = sheet.used_range.last_cell
        # err_to_str: an error cell reads "#DIV/0!", as the Office.js client sends it (xlwings'
        # default reads it as None, an empty cell, and the findings would differ)
        values = sheet.range((1, 1), (last.row, last.column)).options(ndim=2, err_to_str=True).value
        rows = [[_json_cell(v) for v in row] for row in values]
        tables = []
        for table in sheet.tables:
            totals = bool(table.show_totals)
            tables.append({"name": table.name, "range_address": table.range.address,
                           "header_row_range_address": table.header_row_range.address,
                           "show_totals": totals,
                           "total_row_range_address": table.totals_row_range.address if totals else None})
        sheets.append({"name": sheet.name, "values": rows, "tables": tables})
    for name in book.names:
        try:
            rng = name.refers_to_range
        except Exception:  # a name that refers to a constant or a formula, not cells
            continue
        if rng is None or rng.sheet.name not in titles:
            continue
        names.append({"name": name.name, "sheet_index": titles.index(rng.sheet.name), "address": rng.address,
                      "book_scope": "!" not in name.name})
    return {"client": "Office.js", "version": "desktop", "names": names, "sheets": sheets,
            "book": {"name": book.name, "active_sheet_index": 0, "selection": "A1"}}


def _json_cell(v):
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.isoformat(timespec="seconds")
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day).isoformat(timespec="seconds")
    return v


# Worksheet.Protection's Allow* flags: what the sheet lets a user do while protected
PROTECTION_OPTIONS = ("AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows",
                      "AllowInsertingColumns", "AllowInsertingRows", "AllowInsertingHyperlinks",
                      "AllowDeletingColumns", "AllowDeletingRows", "AllowSorting", "AllowFiltering",
                      "AllowUsingPivotTables")


@contextmanager
def unprotected(book):
    """The book's protected sheets unprotected while the block writes, protected again as they
    were afterwards, whatever happened. Generated plans protect every sheet (no password) so
    that formulas stay put, and Excel refuses a write into a locked cell of a protected sheet."""
    from . import livebook

    if not livebook.DESKTOP_COM:
        raise AddinError("the desktop add-in writes through Excel for Windows' COM interface; on a Mac, "
                         "use the Office add-in that `xlplan serve` serves")
    lifted = []
    try:
        for sheet in book.sheets:
            api = sheet.api
            if api.ProtectContents:
                options = {name: getattr(api.Protection, name) for name in PROTECTION_OPTIONS}
                options.update(DrawingObjects=api.ProtectDrawingObjects, Scenarios=api.ProtectScenarios)
                api.Unprotect()
                lifted.append((api, options))
        yield
    finally:
        for api, options in lifted:
            api.Protect(Contents=True, **options)


def recalculate(book) -> dict:
    """What the Recalculate button does to `book`: read it, recalculate, write back, unprotected."""
    from .ribbon import run_recalculate

    data = book_json_of(book)
    with unprotected(book):
        run_recalculate(book, data)
    return data


def main() -> None:
    """Recalculate and check the calling workbook, then offer to submit it to HQ."""
    import xlwings as xw

    from .ribbon import Session, run_submit

    book = xw.Book.caller()
    try:
        data = recalculate(book)
    except XlplanError as exc:  # not a plan, unreadable, not Windows: the clerk reads why
        book.app.alert(str(exc), title="xlplan")
        return
    url, token = os.environ.get("XLPLAN_HQ_URL"), os.environ.get("XLPLAN_TOKEN")
    if not url or not token:
        return  # no HQ configured on this PC: submit through the Office add-in or by e-mail
    if book.app.alert("Submit this plan to HQ now?", title="xlplan", buttons="yes_no") != "yes":
        return
    unit = str(_meta_unit(data))
    run_submit(book, data, Session(unit=unit, submit=_http_submitter(url, token)))


def _meta_unit(data: dict):
    for sheet in data["sheets"]:
        if sheet["name"] == "_xlplan":
            return next((row[1] for row in sheet["values"] if row and row[0] == "unit"), "")
    return ""


def _http_submitter(url: str, token: str):
    def submit(data: bytes, name: str) -> dict:
        import httpx

        response = httpx.post(f"{url.rstrip('/')}/api/submissions", headers={"Authorization": f"Bearer {token}"},
                              files={"file": (name, data)}, timeout=60)
        if response.status_code >= 400:
            raise XlplanError(f"HQ refused the submission ({response.status_code}): {response.text}")
        return response.json()
    return submit
