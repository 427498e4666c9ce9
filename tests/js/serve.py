"""The xlplan server and the plans the JavaScript tests open in the fake Excel.

    python tests/js/serve.py FOLDER [--cases NAME,NAME] [--review]

writes FOLDER/cases.json — per case (all, or the named ones), the book as Excel would hold it (values as shown,
locked cells, sheet protection, notes, marks, tables, names) and what `xlplan recalc`
makes of the same workbook file (computed values, Checks rows, marked cells) — issues a
unit token, starts the add-in server (the real FastAPI app under uvicorn) on a free port
of 127.0.0.1 and prints one JSON line: {"url", "token", "cases"}. With --review it also
starts the server on HQ's database holding a unit's plan returned twice (`returned_plans`)
and adds {"review_url", "review"}: the second server's URL and what HQ decided, as
review.comments_for reads it from the store. It serves until its standard input closes, so
it never outlives the test that started it.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: plans.py, loopback.py

from loopback import run_in_thread  # noqa: E402
from plans import clean_annual_plan, hide_column, make, type_text  # noqa: E402

from xlplan.excel.bookjson import sizes_in_points  # noqa: E402
from xlplan.workbook import recalculation as recalc  # noqa: E402
from xlplan.workbook import ooxml, writeback  # noqa: E402
from xlplan.excel import use_development_license  # noqa: E402
from xlplan.template.layout import CHECK_COLUMNS, FIRST_CHECK_ROW, META_SHEET, checks_sheet_title  # noqa: E402
from xlplan.template.xlfuncs import XlErr  # noqa: E402

UNIT = "北区营业部"
VERY_LONG_ACTION = "新人培训，岗前三周，" * 60  # more than the highest row (409 pt) holds in its column
LONG_ACTION = "新人培训（岗前三周：产品、条款、销售流程与合规，结业考试合格者方可上岗，由组训负责跟踪辅导）"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}  # openpyxl → Office.js


# -- the plans ------------------------------------------------------------------------------
def with_slips() -> dict:
    """The handbook's slips: a stated 6,400 for 64,000, regions short of the month, text in a number."""
    data = clean_annual_plan()
    data["actions"][0]["stated"] = 6400
    data["region_plan"][2][0] = 130
    data["recruits"][3] = "十二"
    return data


def with_many_slips() -> dict:
    """Region C short by 10 in every month: a finding, and so a marked cell, per month."""
    data = clean_annual_plan()
    data["region_plan"][2] = [v - 10 for v in data["region_plan"][2]]
    return data


def with_error_cells() -> dict:
    """Error values where numbers belong: what a broken link or a pasted #DIV/0! leaves in a cell."""
    data = clean_annual_plan()
    data["recruits"][5] = "#DIV/0!"
    data["actions"][1]["unit_cost"] = "#REF!"
    return data


def with_long_action(path: Path, text: str = LONG_ACTION) -> Path:
    """The first action's name made long after the plan was issued, as a clerk types it: the
    calendar copies it by formula into a row generated one line high."""
    cell = recalc.check_file(path).plan.cell("actions.action", 1)
    type_text(path, cell.sheet, cell.address, text)
    return path


def with_hidden_column(path: Path) -> Path:
    """The long name typed into the first action's name, whose column the clerk has hidden: that
    row shows none of it and keeps its height; the calendar's copy (not hidden) grows."""
    cell = recalc.check_file(path).plan.cell("actions.action", 1)
    hide_column(path, cell.sheet, ooxml.row_col(cell.address)[1])
    return with_long_action(path)


def without_checks_sheet(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    del wb[checks_sheet_title("zh")]
    wb.save(path)


def with_total_row(path: Path) -> None:
    """Switch on the Total Row of every Excel table, as a clerk does from Table Design: the empty
    row below each table becomes its total row."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for table in list(ws.tables.values()):
            first, last = table.ref.split(":")
            row = int("".join(ch for ch in last if ch.isdigit())) + 1
            col_first = openpyxl.utils.column_index_from_string("".join(ch for ch in first if ch.isalpha()))
            col_last = openpyxl.utils.column_index_from_string("".join(ch for ch in last if ch.isalpha()))
            table.ref = f"{first}:{openpyxl.utils.get_column_letter(col_last)}{row}"
            table.totalsRowCount = 1
            table.totalsRowShown = True
            head = int("".join(ch for ch in first if ch.isdigit()))
            ws.cell(row, col_first, "合计")
            table.tableColumns[0].totalsRowLabel = "合计"
            for k, column in enumerate(table.tableColumns[1:], start=col_first + 1):
                letter = openpyxl.utils.get_column_letter(k)
                if column.calculatedColumnFormula is not None or k == col_last:
                    column.totalsRowFunction = "sum"
                    ws.cell(row, k, f"=SUBTOTAL(109,{letter}{head + 1}:{letter}{row - 1})")
    wb.save(path)


def marked_earlier(path: Path, tmp: Path) -> Path:
    """The plan after `xlplan recalc` (marks, notes, Checks rows), then the clerk fixes the stated
    amount and writes a note of her own on a cell that keeps its finding."""
    out = tmp / "marked.xlsx"
    recalc.recalc_file(path, out)
    wb = openpyxl.load_workbook(out)
    result = recalc.check_file(out)
    stated = result.plan.cell("actions.stated", 1)
    wb[stated.sheet][stated.address] = 64000
    from openpyxl.comments import Comment

    kept = next(f.cell for f in result.findings if f.code == "REGIONS_NOT_MONTH")
    wb[kept.sheet][kept.address].comment = Comment("请与区域经理核对", "王经理")
    wb.save(out)
    return out


def plain(value):
    if isinstance(value, XlErr):
        return value.code
    if value is None:
        return ""
    return value


# -- a workbook as Excel holds it ---------------------------------------------------------------
def shown(value, cached):
    if isinstance(value, str) and value.startswith("="):
        return "" if cached is None else shown(cached, None)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (value - EXCEL_EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH.date()).days
    return value


def fake_book(path: Path) -> dict:
    """The workbook at `path` as tests/js/fake_office.js takes it."""
    wb = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        cws = cached[ws.title]
        values, unlocked, notes, categories = [], [], {}, {}
        for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=ws.max_column):
            line = []
            for cell in row:
                line.append(shown(cell.value, cws[cell.coordinate].value))
                if not cell.protection.locked:
                    unlocked.append([cell.row, cell.column])
                if cell.comment is not None:
                    notes[cell.coordinate] = {"content": cell.comment.text, "author": cell.comment.author}
                if cell.is_date and isinstance(cell.value, (dt.date, dt.datetime)):
                    categories[cell.coordinate] = "Date"
            values.append(line)
        marks = []
        for rng in ws.conditional_formatting:
            for rule in rng.rules:
                if rule.type == "expression":
                    marks.append({"address": str(rng.sqref), "formula": "=" + rule.formula[0], "fill": "#FFC7CE"})
        tables = [{"name": t.displayName, "ref": t.ref, "showTotals": bool(t.totalsRowCount)}
                  for t in ws.tables.values()]
        sizes = sizes_in_points(ws, ws.max_row, ws.max_column)
        sheets.append({"name": ws.title, "values": values, "unlocked": unlocked, "protected": bool(ws.protection.sheet),
                       "notes": notes, "marks": marks, "tables": tables, "categories": categories,
                       "visibility": VISIBILITY[ws.sheet_state],
                       # what the protection lets a user do (openpyxl: True = refused)
                       "options": {"allowFormatRows": not ws.protection.formatRows,
                                   "allowFormatColumns": not ws.protection.formatColumns},
                       "rowHeights": {str(r): h for r, h in enumerate(sizes["row_heights"], start=1) if h},
                       "hiddenRows": [r for r, h in enumerate(sizes["row_heights"], start=1) if not h],
                       "hiddenColumns": [c for c, w in enumerate(sizes["column_widths"], start=1) if not w],
                       "defaultRowHeight": ws.sheet_format.defaultRowHeight,
                       "columnWidths": {str(c): w for c, w in enumerate(sizes["column_widths"], start=1)}})
    names = []
    for name, dn in wb.defined_names.items():
        for title, ref in dn.destinations:
            names.append({"name": name, "sheet": title, "ref": ref.replace("$", "")})
    return {"name": path.name, "sheets": sheets, "names": names}


def file_recalc(path: Path, tmp: Path) -> dict:
    """What `xlplan recalc` makes of the same file: the add-in must agree with it."""
    out = tmp / f"{path.stem}.recalc.xlsx"
    result = recalc.recalc_file(path, out)
    lang = result.plan.lang
    title = checks_sheet_title(lang)
    book = openpyxl.load_workbook(out, data_only=True)
    if title in book.sheetnames:
        ws = book[title]
        checks = [[plain(ws.cell(r, c).value) for c in range(1, len(CHECK_COLUMNS) + 1)]
                  for r in range(FIRST_CHECK_ROW, ws.max_row + 1)]
        heights = [ws.row_dimensions[r].height for r in range(FIRST_CHECK_ROW, ws.max_row + 1)]
    else:  # a deleted Checks sheet stays deleted in a file; a live book gets one with these rows
        checks = [list(row.values) for row in writeback.checks_rows(result).rows]
        heights = [row.height for row in writeback.checks_rows(result).rows]
    meta = openpyxl.load_workbook(out)[META_SHEET]
    marks = next(json.loads(row[1]) for row in meta.iter_rows(values_only=True) if row[0] == recalc.MARKS_KEY)
    computed = {sheet: {a: plain(v) for a, v in cells.items()}
                for sheet, cells in recalc.computed_cells(result).items()}
    return {"computed": computed, "checks_title": title, "checks": checks, "marks": marks,
            "codes": [f.code for f in result.findings], "file": str(out), "grown": grown_rows(path, out, title),
            "checks_heights": heights}


def grown_rows(before: Path, after: Path, checks_title: str) -> list:
    """[sheet, row, points] of every row `xlplan recalc` made higher (the Checks rows aside)."""
    old, new = openpyxl.load_workbook(before), openpyxl.load_workbook(after)
    out = []
    for ws in new.worksheets:
        if ws.title == checks_title or ws.title not in old.sheetnames:
            continue
        for r, dim in ws.row_dimensions.items():
            was = old[ws.title].row_dimensions[r].height if r in old[ws.title].row_dimensions else None
            if dim.height and dim.height != was:
                out.append([ws.title, r, dim.height])
    return sorted(out)


def show_totals(book: dict, computed_file: Path) -> dict:
    """The total rows as Excel shows them once it has calculated: SUBTOTAL(109, column)."""
    wb = openpyxl.load_workbook(computed_file)
    cached = openpyxl.load_workbook(computed_file, data_only=True)
    for sheet in book["sheets"]:
        ws, cws = wb[sheet["name"]], cached[sheet["name"]]
        for table in ws.tables.values():
            if not table.totalsRowCount:
                continue
            (c0, r0), (c1, r1) = (openpyxl.utils.cell.coordinate_from_string(a) for a in table.ref.split(":"))
            first, last = (openpyxl.utils.column_index_from_string(c) for c in (c0, c1))
            for c in range(first, last + 1):
                if str(ws.cell(r1, c).value or "").startswith("=SUBTOTAL"):
                    body = [cws.cell(r, c).value for r in range(r0 + 1, r1)]
                    sheet["values"][r1 - 1][c - 1] = sum(v for v in body if isinstance(v, (int, float)))
    return book


def cases(tmp: Path, only: set[str] | None = None) -> dict:
    out = {}

    def add(name, path, book=None):
        out[name] = {"book": book or fake_book(path), "expected": file_recalc(path, tmp)}

    def total_row():
        total = make(tmp, "total_row", clean_annual_plan())
        with_total_row(total)
        computed = Path(file_recalc(total, tmp)["file"])  # as Excel shows it once it has calculated
        add("total_row", total, book=show_totals(fake_book(computed), computed))

    def no_checks():
        missing = make(tmp, "no_checks", with_slips())
        without_checks_sheet(missing)
        add("no_checks", missing)

    makers = {
        "slips": lambda: add("slips", make(tmp, "slips", with_slips())),
        "clean_en": lambda: add("clean_en", make(tmp, "clean_en", clean_annual_plan(), lang="en")),
        "no_checks": no_checks,
        "total_row": total_row,
        "marked": lambda: add("marked", marked_earlier(make(tmp, "marked_source", with_slips()), tmp)),
        "errors": lambda: add("errors", make(tmp, "errors", with_error_cells())),
        "many_slips": lambda: add("many_slips", make(tmp, "many_slips", with_many_slips())),
        "long_action": lambda: add("long_action", with_long_action(make(tmp, "long_action", clean_annual_plan()))),
        "hidden_column": lambda: add("hidden_column", with_hidden_column(
            make(tmp, "hidden_column", clean_annual_plan()))),
        "very_long_action": lambda: add("very_long_action", with_long_action(
            make(tmp, "very_long_action", clean_annual_plan()), VERY_LONG_ACTION)),
    }
    for name, made in makers.items():
        if only is None or name in only:
            made()
    return out


def returned_plans(folder: Path) -> str:
    """HQ's database (SQLite in `folder`) holding UNIT's plan returned twice: version 1 with an
    overall note and a comment, version 2 with a comment on the cell of each of its errors."""
    from xlplan.hq import merge, review
    from xlplan.hq.store import Store

    url = f"sqlite:///{folder / 'hq.db'}"
    store = Store(url)
    merge.merge([make(folder, "review_v1", with_slips())], store, workers=0)
    first = review.find(store, UNIT)
    review.return_(store, first, "李主任", "第一次：请全面核对", [review.Comment("计划进度", "C10", "一月偏高")])
    data = with_slips()
    data["recruits"][3] = 12  # the text in a number fixed; the other slips stay
    merge.merge([make(folder, "review_v2", data)], store, workers=0)
    second = review.find(store, UNIT)
    errors = [f for f in store.findings_of(second["id"]) if f["severity"] == "error" and f["cell"]]
    comments = [review.Comment(f["sheet"], f["cell"], f"请核对：{f['message']}") for f in errors]
    # a comment is text, never markup, wherever it is shown
    comments.append(review.Comment("封面", "B3", '<img src=x onerror="window.__xss=1">单位名称请写全称'))
    review.return_(store, second, "张经理", "请改正后再交。\n预算与计划进度各一处。", comments)
    store.close()
    return url


def app_for(folder: Path):
    """The add-in server's app with a token for UNIT: (app, token)."""
    use_development_license()
    from xlplan.hq.tokens import Tokens
    from xlplan.excel.server import Settings, create_app

    token = Tokens(folder / "tokens.json").issue(UNIT)
    app = create_app(Settings(public_url="https://plan.example.com", tokens=folder / "tokens.json",
                              inbox=folder / "inbox"))
    return app, token


def review_app_for(folder: Path, db: str):
    """The add-in server on HQ's database `db`, taking the tokens of app_for(folder)."""
    from xlplan.excel.server import Settings, create_app

    return create_app(Settings(public_url="https://plan.example.com", tokens=folder / "tokens.json",
                               inbox=folder / "inbox", db=db))


def serve(folder: Path, only: set[str] | None = None, with_review: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    made = cases(folder, only)
    (folder / "cases.json").write_text(json.dumps(made, ensure_ascii=False, default=str), encoding="utf-8")
    app, token = app_for(folder)
    url, stop = run_in_thread(app, "the add-in server")
    info = {"url": url, "token": token, "unit": UNIT, "cases": str(folder / "cases.json")}
    stops = [stop]
    if with_review:
        from xlplan.hq import review
        from xlplan.hq.store import Store

        db = returned_plans(folder)
        review_url, review_stop = run_in_thread(review_app_for(folder, db), "the review server")
        stops.append(review_stop)
        store = Store(db)
        info.update(review_url=review_url, review=review.comments_for(store, UNIT))
        store.close()
    print(json.dumps(info, ensure_ascii=False), flush=True)
    sys.stdin.read()  # until the test closes our input (or ends)
    for stop_one in stops:
        stop_one()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--cases", help="the cases to make, comma-separated (default: all)")
    parser.add_argument("--review", action="store_true", help="also serve HQ's database with a returned plan")
    args = parser.parse_args()
    serve(args.folder, set(args.cases.split(",")) if args.cases else None, args.review)
