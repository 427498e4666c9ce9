"""On paper: every sheet of every template in every language, and the consolidated workbook,
printed by LibreOffice to PDF (A4), then measured.

A zh-Hant workbook is filled with Traditional Chinese data (the handbook's plans; the scorecard's
sample converted by OpenCC) and prints no simplified character but the handbook's planted
misspelling. For each sheet: every page is A4 and carries the sheet's title whole in its header (none cut
at the edge of the repeated columns); the printed text is at least 8 pt (the sheet's scale × its
smallest font, and the glyph boxes LibreOffice drew); no cell shows ###; no text is cut
(a word wider than its column, text running into a filled neighbour, more lines than a
fixed row holds: CJK counts double), typed text and what formulas show (as LibreOffice
computed them: the calendar's and the tracking sheet's action names) alike; the pages
across are those the design planned (the column breaks) and the pages down no more than
its row plan allows; each table prints under its own header (rows repeat at the top of every
page only on a sheet of one table) and no page ends on a header or the caption above it. The status page is
printed by Chromium and checked the same way for paper, size and whole headings.

A PNG of each sheet's first page is written to out/render/ (CI keeps it as an artifact;
XLPLAN_RENDER_DIR moves it). About 1.5 s of LibreOffice per workbook, in one batch.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from xlplan import demo, libreoffice, texts
from xlplan.hq import consolidate, report
from xlplan.hq.store import Store
from xlplan.template import generate, paper, spec, styles
from xlplan.template.layout import META_SHEET
from xlplan.workbook import ooxml

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("XLPLAN_RENDER_DIR", ROOT / "out" / "render"))
SAMPLES = ROOT / "workbooks" / "samples"
HANDBOOK = SAMPLES / "handbook"
GLYPH_BOX = 1.30  # a word's box in the PDF is 1.3 × its font size in these fonts (title: 14 pt × 0.9 → 16.4)
MOST_PAGES = 12

needs_tools = pytest.mark.skipif(
    not (libreoffice.available() and shutil.which("pdftotext")) and not os.environ.get("CI"),
    reason="LibreOffice and poppler-utils are not installed (CI installs them: scripts/setup.sh)")


def _cycle(template_id: str, lang: str) -> generate.Cycle:
    unit = {"zh-Hans": "北区营业部", "zh-Hant": "北區營業部"}.get(lang, "North branch")
    period = "2027-01" if template_id == "kpi_scorecard" else ""
    return generate.Cycle(unit=unit, year=2027, lang=lang, period=period,
                          params={"due": "2027-01-31", "contact": "Planning office, ext. 1234"})


def _sample(template_id: str, lang: str, handbook_plan: bool = True) -> dict:
    """What a workbook is filled with: the sample; in zh-Hant the handbook's own plan (Traditional
    Chinese, workbooks/samples/handbook/), or where the handbook has none (the scorecard) the
    sample's texts converted by OpenCC (s2twp, Taiwan's words), so no render shows Simplified data."""
    handbook = HANDBOOK / f"{template_id}.json"
    if lang == "zh-Hant" and handbook.is_file() and handbook_plan:
        data = json.loads(handbook.read_text(encoding="utf-8"))["data"]
    else:
        data = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
        if lang == "zh-Hant":
            data = _traditional(data)
    data.pop("params", None)  # the cycle's, given by _cycle
    return data


def _traditional(value):
    import opencc

    convert = opencc.OpenCC("s2twp").convert
    if isinstance(value, str):
        return convert(value)
    if isinstance(value, list):
        return [_traditional(v) for v in value]
    if isinstance(value, dict):
        return {k: _traditional(v) for k, v in value.items()}
    return value


def _planted_simplified(template_id: str) -> set[str]:
    """Simplified characters the handbook's sample carries on purpose (a misspelt action name, one
    of its planted slips), as its notes on the slips quote them."""
    handbook = HANDBOOK / f"{template_id}.json"
    if not handbook.is_file():
        return set()
    planted = " ".join(p["why"] for p in json.loads(handbook.read_text(encoding="utf-8"))["planted"])
    return set(_simplified(planted))


def _simplified(text: str) -> list[str]:
    """The simplified characters in `text`: those OpenCC's s2tw changes alone and in their words
    (佣金, commission, is written so in Taiwan, though 佣 alone converts to 傭; 分布 becomes 分佈,
    though 布 is no simplified character)."""
    import opencc

    s2tw = opencc.OpenCC("s2tw")
    words = re.findall(r"[\u3400-\u9fff]+", text)
    found = set()
    for word in words:
        converted = s2tw.convert(word)
        alone = {ch for ch in word if s2tw.convert(ch) != ch}
        if len(converted) == len(word):
            found |= alone & {a for a, b in zip(word, converted) if a != b}
        else:  # (s2tw keeps lengths; should it not, each character on its own)
            found |= alone
    return sorted(found)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{workbook: (xlsx, pdf)} for every template × language (filled with the sample) and the
    consolidated workbook in every language."""
    tmp = tmp_path_factory.mktemp("paper")
    books = {}
    for template_id in sorted(spec.available()):
        for lang in texts.LANGUAGES:
            cycle = _cycle(template_id, lang)
            template = spec.load(template_id, cycle.template_params())
            path = tmp / f"{template_id}.{lang}.xlsx"
            generate.write(template, cycle, path, _sample(template_id, lang))
            books[path.stem] = path
    demo.run(tmp / "demo")
    with Store(f"sqlite:///{tmp / 'demo' / 'hq' / 'hq.db'}") as hq:
        st = report.status(hq)
        for lang in texts.LANGUAGES:
            path = consolidate.write(hq, tmp / f"consolidated.{lang}.xlsx", lang=lang, st=st)
            books[path.stem] = path
            report.write_html(st, tmp / f"status.{lang}.html", lang=lang)
    pdfs = tmp / "pdf"
    libreoffice._convert(list(books.values()), pdfs, "pdf", libreoffice.TIMEOUT)
    # the same workbooks as LibreOffice computed them: what each formula shows, for the clip check
    libreoffice.recalculate(list(books.values()), tmp / "computed")
    return {name: (path, pdfs / f"{name}.pdf") for name, path in books.items()}, tmp


def _pages(pdf: Path) -> list[dict]:
    """Per page: its size, its text, its words' boxes and the sheet its footer names."""
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True).stdout
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = []
    for k, page in enumerate(re.findall(r"<page (.*?)</page>", bbox, re.S)):
        height = float(re.search(r'height="([\d.]+)"', page).group(1))
        words = [(float(a), float(b), float(c), float(d), html_unescape(w)) for a, b, c, d, w in
                 re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                            page)]
        footer_y = max((w[1] for w in words), default=0)
        footer = [w for w in words if w[1] >= footer_y - 1]
        middle = sorted(footer, key=lambda w: abs((w[0] + w[2]) / 2 - float(sizes[k][0]) / 2))
        pages.append({"size": tuple(map(float, sizes[k])), "words": words, "height": height,
                      "footer": " ".join(w[4] for w in sorted(footer, key=lambda w: w[0])),
                      "centre": middle[0][4] if middle else "",
                      "text": " ".join(w[4] for w in words)})
    return pages


def html_unescape(s: str) -> str:
    import html
    return html.unescape(s)


def _sheet_of(page: dict, sheets: list[str]) -> str | None:
    """The sheet a page belongs to: the footer's centre names it (&A)."""
    found = [s for s in sheets if f" {s} " in f" {page['footer']} "]
    return max(found, key=len) if found else None


def _visible(wb):
    return [ws for ws in wb.worksheets if ws.sheet_state == "visible" and ws.title != META_SHEET]


def _columns(ws) -> tuple[dict[int, float], set[int]]:
    """Every column's width (a <col> may span several columns, as LibreOffice saves them; a column
    no <col> names has the sheet's default width) and the hidden columns."""
    default = ws.sheet_format.defaultColWidth or paper.DEFAULT_WIDTH
    spans = []
    for letter, dim in list(ws.column_dimensions.items()):
        first = dim.min or column_index_from_string(letter)
        spans.append((first, dim.max or first, dim.width, dim.hidden))
    last = ws.max_column + 1
    # `widths` keeps a hidden column's own width (the room a text spills into counts it)
    widths = {c: default for c in range(1, last + 1)} | ooxml.column_widths([s[:3] + (False,) for s in spans], last)
    return widths, {c for c, w in ooxml.column_widths(spans, last).items() if not w}


def _clipped(ws, computed=None) -> list[str]:
    """Cells whose text the printed sheet cuts off, judged from widths and heights (CJK double);
    a formula by what it shows in `computed` (the sheet as LibreOffice recalculated it)."""
    problems = []
    widths, hidden = _columns(ws)
    merged = {cell for rng in ws.merged_cells.ranges for row in rng.cells for cell in [row]}
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and value.startswith("="):
                value = computed[cell.coordinate].value if computed is not None else None
                if value == "":
                    value = None
            if value is None or cell.coordinate in merged:
                continue
            width = widths[cell.column]
            if cell.column in hidden:
                continue
            shown = paper.shown(value, cell.number_format)
            wraps = cell.alignment is not None and cell.alignment.wrap_text
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if paper.text_width(shown) > width - 1:
                    problems.append(f"{ws.title}!{cell.coordinate}: {shown} is wider than {width:.1f} (###)")
                continue
            if wraps:
                if paper.longest_word(shown) > width - 0.5:
                    problems.append(f"{ws.title}!{cell.coordinate}: a word of {shown[:30]!r} is wider than {width:.1f}")
                # a row without a height of its own stays one line: neither Excel nor LibreOffice
                # grows it on opening a file, nor when a formula's text changes
                fixed = ws.row_dimensions[cell.row].height or paper.row_height(1)
                if paper.row_height(paper.wrapped_lines(shown, width)) > fixed + 1:
                    problems.append(f"{ws.title}!{cell.coordinate}: {shown[:30]!r} needs more lines than row "
                                    f"{cell.row}'s {fixed} pt")
                continue
            room, c = width, cell.column + 1
            while ws.cell(cell.row, c).value is None and c <= ws.max_column + 1 and \
                    (cell.alignment is None or cell.alignment.horizontal in (None, "general", "left")):
                room += widths.get(c, 8.43)
                c += 1
                if c > cell.column + 40:
                    break
            if paper.text_width(shown) > room + 0.5:
                problems.append(f"{ws.title}!{cell.coordinate}: {shown[:30]!r} ({paper.text_width(shown):.0f}) "
                                f"runs into a filled cell after {room:.0f}")
    return problems


HEADER_ZONE = 40  # pt from the top: the page header (at 0.3 in) above the body (from 0.6 in)


def _headed(page: dict, title: str, where: str) -> list[str]:
    """A page says what it is: the sheet's title, whole, in its header; and its body does not
    begin with a piece of that title (a title cell cut at the edge of the repeated columns)."""
    header = _squeezed(" ".join(w[4] for w in page["words"] if w[1] < HEADER_ZONE))
    body = [w for w in page["words"] if w[1] >= HEADER_ZONE]
    problems = []
    if _squeezed(title) not in header:
        problems.append(f"{where}: a page without the title {title!r} in its header")
    top = sorted((w for w in page["words"] if w[1] < HEADER_ZONE), key=lambda w: w[0])
    for a, b in zip(top, top[1:]):
        if b[0] < a[2] - 1 and b[1] < a[3] and a[1] < b[3]:
            problems.append(f"{where}: the header's {a[4]!r} and {b[4]!r} print over each other")
            break
    if body:
        top = min(w[1] for w in body)
        first = _squeezed(" ".join(w[4] for w in sorted(body) if abs(w[1] - top) < 2))
        if len(first) >= 4 and _squeezed(title).startswith(first) and first != _squeezed(title):
            problems.append(f"{where}: a page begins with the title cut: {first!r}")
    return problems


def _header_runs(ws) -> list[range]:
    """The rows of each table's header on a sheet: runs of rows with a cell in the header fill."""
    fill = styles.HEADER_FILL.fgColor.rgb
    rows = sorted({cell.row for row in ws.iter_rows() for cell in row
                   if cell.fill is not None and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == fill})
    runs: list[list[int]] = []
    for r in rows:
        if runs and runs[-1][-1] == r - 1:
            runs[-1].append(r)
        else:
            runs.append([r])
    return [range(run[0], run[-1] + 1) for run in runs]


def _headers_on_paper(ws, where: str) -> list[str]:
    """Each table that may run past a page prints its header on every page: the rows repeated
    at the top of every page are the header of the sheet's only table, or of its first table
    where that is one a user adds rows to (an Excel table; one range repeats per sheet, so the
    small tables under it print under it too); a sheet whose first table is fixed repeats none;
    and no page ends on a table's header or on the caption above it, parted from its rows."""
    runs = _header_runs(ws)
    problems = []
    growing = {int(ref.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for _, ref in ws.tables.items()}
    expected = runs[0].start if runs and (len(runs) == 1 or runs[0].start in growing) else None
    repeated = int(ws.print_title_rows.replace("$", "").split(":")[0]) if ws.print_title_rows else None
    if repeated != expected and len(runs) > 0 and ws.max_row > runs[0].stop:
        which = "its table" if len(runs) == 1 else "its first table, one a user adds rows to,"
        problems.append(f"{where}: rows repeated on every page start at {repeated}, not at the header of "
                        f"{which} ({expected})")
    for brk in ws.row_breaks.brk:
        for run in runs:
            if brk.id in run or (brk.id == run.start - 1 and ws.cell(brk.id, 1).value is not None):
                problems.append(f"{where}: a page ends at row {brk.id}, the header of rows {run.stop} on")
    return problems


def _header_on_every_page(ws, pages: list[dict], where: str) -> list[str]:
    """Every printed page of `ws` begins with the header of its first table (the long one): the
    label of its first column in the top lines of the page's body."""
    label = _squeezed(str(ws.cell(_header_runs(ws)[0].start, 1).value))
    problems = []
    for k, page in enumerate(pages, start=1):
        body = [w for w in page["words"] if w[1] >= HEADER_ZONE]
        top = min((w[1] for w in body), default=0)
        if label not in _squeezed(" ".join(w[4] for w in sorted(body, key=lambda w: (w[1], w[0]))
                                           if w[1] < top + 30)):
            problems.append(f"{where}: page {k} of {len(pages)} does not begin with the header {label!r}")
    return problems


def _page_ends_on_a_head(ws, pages: list[dict], where: str) -> list[str]:
    """No printed page of `ws` ends with a table's header or the caption above it: the last line
    of a page's body (above the footer) is not a header's first label nor a caption."""
    heads = set()
    for run in _header_runs(ws):
        heads.add(_squeezed(str(ws.cell(run.start, 1).value)))
        caption = ws.cell(run.start - 1, 1).value
        if isinstance(caption, str) and caption.strip():
            heads.add(_squeezed(caption))
    problems = []
    for k, page in enumerate(pages, start=1):
        footer_y = max(w[1] for w in page["words"])
        body = [w for w in page["words"] if HEADER_ZONE <= w[1] < footer_y - 1]
        if not body:
            continue
        bottom = max(w[1] for w in body)
        last = _squeezed(" ".join(w[4] for w in sorted(body, key=lambda w: w[0]) if w[1] > bottom - 2))
        ended = [h for h in heads if h and last.startswith(h)]
        if ended:
            problems.append(f"{where}: page {k} of {len(pages)} ends with {ended[0]!r}, its rows on the next")
    return problems


def _smallest_font(ws) -> float:
    sizes = [cell.font.sz or 11 for row in ws.iter_rows() for cell in row if cell.value is not None and cell.font]
    return min(sizes or [paper.BODY_PT])


@needs_tools
def test_every_sheet_prints_on_a4_readable_and_whole(rendered):
    books, tmp = rendered
    problems = []
    too_many = []  # sheets printing on more pages than their design plans (a failure like any other)
    for name, (xlsx, pdf) in books.items():
        assert pdf.is_file(), f"LibreOffice made no PDF of {name}"
        wb = openpyxl.load_workbook(xlsx)
        computed = openpyxl.load_workbook(tmp / "computed" / f"{name}.xlsx", data_only=True)
        sheets = [ws.title for ws in _visible(wb)]
        pages = _pages(pdf)
        by_sheet: dict[str, list[dict]] = {s: [] for s in sheets}
        for k, page in enumerate(pages):
            sheet = _sheet_of(page, sheets)
            assert sheet, f"{name}: page {k + 1}'s footer names no sheet: {page['footer']!r}"
            by_sheet[sheet].append(page)
        template_id, lang = name.split(".")
        if lang == "zh-Hant" and template_id != "consolidated":  # (the demo's units submitted Simplified data)
            stray = set(_simplified(" ".join(p["text"] for p in pages))) - _planted_simplified(template_id)
            if stray:
                problems.append(f"{name}: prints simplified characters {''.join(sorted(stray))}")
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        first_page = {}
        for k, page in enumerate(pages):
            first_page.setdefault(_sheet_of(page, sheets), k + 1)
        for ws in _visible(wb):
            mine = by_sheet[ws.title]
            where = f"{name} › {ws.title}"
            if not mine:
                problems.append(f"{where}: not printed")
                continue
            for page in mine:
                w, h = page["size"]
                if not (abs(w - 841.9) < 1 and abs(h - 595.3) < 1):
                    problems.append(f"{where}: a page of {w:.0f} × {h:.0f} pt, not A4 landscape")
                if "###" in page["text"]:
                    problems.append(f"{where}: a cell shows ###")
                problems += _headed(page, str(ws["A1"].value), where)
            scale = ws.page_setup.scale or 100
            if ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage:
                problems.append(f"{where}: fit to page (its printed size is not known)")
            if scale / 100 * _smallest_font(ws) < paper.MIN_PRINTED_PT:
                problems.append(f"{where}: {scale} % × {_smallest_font(ws)} pt prints below 8 pt")
            boxes = [wd[3] - wd[1] for page in mine for wd in page["words"] if wd[1] < page["size"][1] - 40]
            if boxes and min(boxes) / GLYPH_BOX < paper.MIN_PRINTED_PT - 0.2:
                problems.append(f"{where}: printed text of {min(boxes) / GLYPH_BOX:.1f} pt")
            across = len(ws.col_breaks.brk) + 1
            down = len(ws.row_breaks.brk) + 1
            if not (across <= len(mine) <= min(across * (down + 1), MOST_PAGES)):
                too_many.append(f"{where}: {len(mine)} pages, the design plans {across} across × {down} down")
            problems += _clipped(ws, computed[ws.title])
            problems += _headers_on_paper(ws, where)
            png = folder / f"{len(first_page) and list(first_page).index(ws.title) + 1:02d}-{ws.title}"
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(first_page[ws.title]),
                            "-l", str(first_page[ws.title]), str(pdf), str(png)], check=True)
    assert not problems + too_many, "\n".join(problems + too_many)


@needs_tools
@pytest.mark.skipif(not shutil.which("chromium") and not os.environ.get("CI"), reason="Chromium is not installed")
@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_status_page_prints_on_a4_with_whole_headings(rendered, lang):
    books, tmp = rendered
    html = tmp / f"status.{lang}.html"
    pdf = OUT / f"status.{lang}.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pages = _pages(pdf)
    assert pages and all(abs(p["size"][0] - 841.9) < 1 and abs(p["size"][1] - 595.3) < 1 for p in pages)
    text = "\n".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                                    text=True).stdout.splitlines())
    for key in ("c_status", "c_unit", "c_template", "c_period", "c_due", "c_received", "c_version",
                "c_files", "c_errors", "c_warnings"):
        assert texts.t(key, lang) in text, f"heading {texts.t(key, lang)!r} is broken across lines"
    assert texts.t("warning", lang) in text  # warnings are listed, not only counted
    assert "annual_plan" not in text and report.template_name("annual_plan", lang) in text
    boxes = [w[3] - w[1] for p in pages for w in p["words"]]
    assert min(boxes) / GLYPH_BOX >= paper.MIN_PRINTED_PT - 0.5
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                    str(OUT / f"status.{lang}")], check=True)


LONG_EFFECT = {  # an expected effect named as a clerk may name it: its finding quotes it whole
    "zh-Hans": "自动转账率（续期保单中以银行自动转账缴费的件数占应缴件数的比例，按月统计，含银行柜台联合宣导后新增的"
               "授权件数，不含已停效及已满期保单）",
    "zh-Hant": "自動轉帳率（續期保單中以銀行自動轉帳繳費的件數佔應繳件數的比例，按月統計，含銀行櫃檯聯合宣導後新增的"
               "授權件數，不含已停效及已滿期保單）",
    "en": "Auto-debit rate (renewal policies paying by automatic bank transfer as a share of all renewal policies "
          "due, counted monthly, including authorisations from joint counter campaigns with the banks)",
}


def texts_of_tracking(lang: str) -> tuple[str, ...]:
    """The title of the support plan's effect tracking sheet in `lang`."""
    return tuple(sheet.title[lang] for sheet in spec.load("support_plan", {"lang": lang}).sheets
                 if sheet.id == "tracking")


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@needs_tools
@pytest.mark.libreoffice
def test_checks_written_by_recalc_print_whole(tmp_path):
    """`xlplan recalc` writes the Checks rows wrapped, each row as high as its longest text: a long
    message prints whole (every character on the page) and no cell of the sheet is cut."""
    from xlplan.workbook import recalculation

    books = []
    for lang in texts.LANGUAGES:
        data = _sample("support_plan", lang, handbook_plan=False)  # its second effect is missed: a finding quotes it
        data["actions"][1]["effect"] = LONG_EFFECT[lang]
        cycle = _cycle("support_plan", lang)
        path = generate.write(spec.load("support_plan", cycle.template_params()), cycle,
                              tmp_path / f"support.{lang}.xlsx", data)
        result = recalculation.recalc_file(path)
        [long] = [f.message for f in result.findings if LONG_EFFECT[lang] in f.message]
        books.append((lang, path, long))
    libreoffice._convert([p for _, p, _ in books], tmp_path / "pdf", "pdf", libreoffice.TIMEOUT)
    for lang, path, long in books:
        wb = openpyxl.load_workbook(path)
        checks = wb[texts.t("checks_sheet", lang)]
        sheets = [ws.title for ws in _visible(wb)]
        printed = ""
        for page in _pages(tmp_path / "pdf" / f"{path.stem}.pdf"):
            if _sheet_of(page, sheets) != checks.title:
                continue
            cell_heading = texts.t("col_cell", lang).split()[0]
            edge = min(w[0] for w in page["words"] if w[4] == cell_heading)  # where the message column ends
            printed += " ".join(w[4] for w in page["words"] if w[2] <= edge)
        assert _squeezed(long) in _squeezed(printed), f"{lang}: the Checks sheet cuts {long!r}"
        assert not _clipped(checks), _clipped(checks)  # the Checks rows are values, written by recalc
        # the tracking sheet copies the long name by formula: its row was made high enough for it
        computed = openpyxl.load_workbook(path, data_only=True)  # the engine's values, cached by recalc
        tracking = wb[[t for t in sheets if t in (texts_of_tracking(lang))][0]]
        assert LONG_EFFECT[lang] in [c.value for c in computed[tracking.title][get_column_letter(4)]]
        assert not _clipped(tracking, computed[tracking.title]), _clipped(tracking, computed[tracking.title])
        [row] = [c.row for c in checks["A"] if c.value == long]
        assert (checks.row_dimensions[row].height or 0) >= paper.row_height(3)  # grown, not one line


@needs_tools
@pytest.mark.libreoffice
def test_a_table_longer_than_a_page_prints_its_header_on_each_of_its_pages(tmp_path, monkeypatch):
    """Tables made to run over several pages: the annual plan's actions (100 rows, its cost items
    and small tables under it) and the support plan's cost items (90 rows), and in the consolidated
    workbook every table 40 times as long (a list of effects from ~100 units): every page they
    print on begins with their header, and no page ends on a header or its caption."""
    from plans import make

    from xlplan.hq import merge

    books = {}
    for template_id, sheet, params in (("annual_plan", "推动计划及预算", {"action_rows": 100, "cost_rows": 60}),
                                       ("support_plan", "费用明细及预算", {"cost_rows": 90})):
        cycle = _cycle(template_id, "zh-Hans")
        cycle.params.update(params)
        data = _sample(template_id, "zh-Hans")
        if "action_rows" in params:  # filled to the last few rows, so that each page prints rows
            data["actions"] = (data["actions"] * 100)[:params["action_rows"] - 4]
        data["costs"] = [{"action": a["action"], "item": "交通费", "quantity": 2, "unit_cost": 100, "days": 1,
                          "times": 1} for a in (data["actions"] * 100)[:params["cost_rows"] - 5]]
        path = generate.write(spec.load(template_id, cycle.template_params()), cycle, tmp_path / f"{template_id}.xlsx",
                              data)
        books[path] = [sheet]
    inbox = tmp_path / "inbox"
    data = _sample("support_plan", "zh-Hans")
    data.pop("period", None)
    make(inbox, "service", data, template_id="support_plan", unit="客服部")
    tables = consolidate.tables

    def long_tables(*args, **kwargs):
        out = tables(*args, **kwargs)
        for table in out:
            for one in (table, *table.extra):
                one.rows = one.rows * 40
        return out

    monkeypatch.setattr(consolidate, "tables", long_tables)
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as hq:
        merge.merge([inbox], hq, workers=0)
        path = consolidate.write(hq, tmp_path / "consolidated.xlsx", basis="accepted")
    books[path] = [ws.title for ws in openpyxl.load_workbook(path).worksheets[1:]]
    assert len(books[path]) >= 4  # the support plan's budget, budget by month, effects, effects met
    libreoffice._convert(list(books), tmp_path / "pdf", "pdf", libreoffice.TIMEOUT)
    problems = []
    for path, sheets in books.items():
        wb = openpyxl.load_workbook(path)
        pages = _pages(tmp_path / "pdf" / f"{path.stem}.pdf")
        for title in sheets:
            mine = [page for page in pages if _sheet_of(page, [ws.title for ws in _visible(wb)]) == title]
            where = f"{path.stem} › {title}"
            if len(mine) < 2:
                problems.append(f"{where}: {len(mine)} page, made to run over several")
            problems += _header_on_every_page(wb[title], mine, where)
            problems += _page_ends_on_a_head(wb[title], mine, where)
            problems += _headers_on_paper(wb[title], where)
    assert not problems, "\n".join(problems)


def test_a_table_longer_than_a_page_starts_where_its_header_keeps_its_first_row():
    """Rows of 20 pt, 25 to an A4 page at 100 %: a table titled on row 24 and headed on row 25
    runs past a page, so it stays where it starts, but not with its header last on the page."""
    heights = [20.0] * 100
    assert paper.row_breaks(heights, [paper.Section(24, 26, 80)], 100, 0.0)[0] == 23
    # one that starts higher keeps its place: the page ends inside it, after its rows began
    assert paper.row_breaks(heights, [paper.Section(20, 22, 80)], 100, 0.0)[0] == 25


def test_the_heading_rows_printed_in_the_page_header_take_no_room_on_the_page():
    """Rows 1 and 2 (title and note) print in every page's header, outside the print area: a
    sheet whose rows from 3 on fill one page at 100 % prints at 100 % on one page."""
    ws = openpyxl.Workbook().active
    heights = [20.9, 15.5] + [15.5] * 32  # rows 3 to 34: 496 pt of the page's 509
    assert sum(heights[2:]) < paper.PAGE_HEIGHT_PT < sum(heights)
    paper.set_up(ws, unit="North branch", lang="en", widths=[10.0] * 3, title_cols=0, title_rows=None,
                 heights=heights, sections=[paper.Section(3, 4, 34)], heading=("Plan", ["North branch · 2027"]))
    assert (ws.page_setup.scale, list(ws.row_breaks.brk)) == (100, [])
