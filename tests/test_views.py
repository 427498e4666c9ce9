"""Consolidation views declared by the templates: every template is consolidated, none by name.

The consolidated workbook's sheets come from each template's `consolidation:` list; the
support plan (which no code names) gets its budget and its expected effects; a blank HQ
target leaves the gap blank instead of showing the whole plan as the gap.
"""
from __future__ import annotations

import dataclasses
import json
import re
import signal
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from plans import make, sheet_part

from xlplan import texts
from xlplan.hq import consolidate, merge
from xlplan.hq.store import Store
from xlplan.model import TemplateError, text
from xlplan.template import generate, paper, spec, styles, views
from xlplan.workbook import recalculation as recalc

SAMPLES = Path(__file__).resolve().parent.parent / "workbooks" / "samples"


def sample(template_id: str) -> dict:
    data = json.loads((SAMPLES / f"{template_id}.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    data.pop("period", None)
    return data


def test_every_shipped_template_declares_views():
    for template_id in spec.available():
        template = spec.load(template_id)
        assert template.views, f"{template_id} declares no consolidation views"


def test_a_view_naming_an_unknown_block_fails_at_load(tmp_path):
    text_ = (Path(spec.available()["kpi_scorecard"]).read_text(encoding="utf-8")
             .replace("score: staff.total\n", "score: staff.totl\n", 1))
    bad = tmp_path / "kpi_scorecard.yaml"
    bad.write_text(text_, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"consolidation › scores: names unknown block 'staff.totl'"):
        spec.load_file(bad)


def rows_by_label(ws, col: int = 2) -> dict:
    out = {}
    for row in ws.iter_rows(values_only=True):
        if row[col - 1] is not None:
            out.setdefault(row[col - 1], row)
    return out


@pytest.fixture()
def merged(tmp_path):
    inbox = tmp_path / "inbox"
    make(inbox, "service", sample("support_plan"), template_id="support_plan", unit="客服部")
    no_target = sample("annual_plan")
    no_target.pop("hq_target", None)
    for row in no_target["actions"]:
        row.pop("stated", None)  # the sample's slip: this plan must be accepted
    make(inbox, "north", no_target, unit="北区营业部")
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    summary = merge.merge([inbox], store, workers=0)
    assert summary.new == 2
    out = consolidate.write(store, tmp_path / "consolidated.xlsx", basis="accepted")
    yield store, openpyxl.load_workbook(out), inbox
    store.close()


def test_the_support_plan_is_consolidated_from_its_declaration(merged):
    store, wb, inbox = merged
    own = recalc.check_file(inbox / "service.xlsx")
    budget_sheets = [name for name in wb.sheetnames if name.startswith("预算")]
    assert len(budget_sheets) == 2  # the annual plan's and the support plan's, each under its own name
    support = wb["预算 support_plan"]
    header = next(row for row in support.iter_rows(values_only=True) if row[0] == "策略")
    total = rows_by_label(support, 1)["合计"]
    assert round(total[header.index("客服部")]) == round(own.values["budget_total"][0][0])
    # the list of effects (the count of effects met is on a sheet of its own): the list's rows are
    # the ones whose effect column holds the effect's text
    effects = [row for row in wb["预期效果"].iter_rows(values_only=True)
               if row[1] == "客服部" and isinstance(row[5], str) and row[5]]
    expected = [e for e in own.tables["actions.effect"] if e]
    assert [row[5] for row in effects] == expected
    met = rows_by_label(wb["预期效果"])["客服部"]
    assert met is not None
    # each effect's target and latest actual in the unit its row chose: a share as a percentage
    shown = {row[5].value: row for row in wb["预期效果"].iter_rows() if row[1].value == "客服部"
             and isinstance(row[5].value, str) and row[5].value}
    share, days = shown["自动转账率"], shown["理赔平均处理天数"]
    assert (share[6].value, share[7].value, share[7].number_format, share[8].number_format) == (
        "%", 0.85, "0.0%", "0.0%")
    assert (days[6].value, days[7].value) == (None, 3)


def test_the_list_of_effects_formats_a_figure_as_the_unit_s_workbook_does(merged):
    """An effect's target and latest actual are formatted in the consolidated list as in the
    unit's own workbook: in the format of the unit its row chose (styles.measured_format: a share
    0.0%), else the cell's own, a plain number in General (3 days, half a trainer 0.5), not in
    #,##0.##, which Excel shows as "3." with a trailing point."""
    _, wb, inbox = merged
    own = recalc.check_file(inbox / "service.xlsx")
    area = own.plan.table_areas["actions"]
    sheet = openpyxl.load_workbook(inbox / "service.xlsx")[area.sheet]
    listed = next(row for row in wb["预期效果"].iter_rows() if row[0].value == "期间")
    at = {cell.value: k for k, cell in enumerate(listed)}
    rows = {row[5].value: row for row in wb["预期效果"].iter_rows() if row[1].value == "客服部"}
    compared = 0
    for k, (effect, measured) in enumerate(zip(own.tables["actions.effect"], own.tables["actions.effect_unit"])):
        if not effect:
            continue
        chosen = texts.measure_unit(measured, "zh-Hans")
        for name in ("effect_target", "effect_latest"):
            block = own.plan.template.blocks[f"actions.{name}"]
            theirs = sheet.cell(area.header_row + 1 + k, area.columns[block.name]).number_format
            expected = (chosen and styles.measured_format(block.unit, chosen)) or theirs.split(";")[0]
            ours = rows[effect][at[text(block.label, "zh-Hans")]].number_format
            assert ours == expected, (effect, name, measured)  # how a figure above zero shows
            compared += 1
    assert compared >= 4 and any(texts.measure_unit(m, "zh-Hans") == "percent"
                                 for m in own.tables["actions.effect_unit"])


def _figure_blocks(view, columns: int) -> list[str]:
    """The block each figure column of a summed, figures or list view's table comes from."""
    if view.kind == "sum":
        return [str(view.args["value"])] * columns
    return [str(c) for c in view.args["columns"]] + [str(g) for g in view.args.get("gap", [])[:1]]


def test_every_figure_of_the_consolidated_workbook_has_its_view_s_or_block_s_format(merged):
    """One definition of how each kind of figure is shown (styles.NUMBER_FORMATS) serves the
    templates and the consolidated workbook alike: every figure of a summed, figures or list
    view (totals too) in the view's `format:` or its block's unit's, and in a list each cell
    measured in a unit its row chose in that unit's format (styles.measured_format)."""
    store, wb, _ = merged
    listed = consolidate.sheet_tables(consolidate.tables(store, "zh-Hans", "accepted"), "zh-Hans")
    checked, measured = 0, 0
    for ws, (_, table) in zip(wb.worksheets[1:], listed, strict=True):
        view = table.view
        if view.kind not in ("sum", "figures", "list"):
            continue
        template = spec.load(table.template)
        names = _figure_blocks(view, len(table.heading) - table.keys)
        for r in range(4, ws.max_row + 1):
            for k, name in enumerate(names):
                cell = ws.cell(r, table.keys + 1 + k)
                block = template.blocks[name]
                if block.unit in styles.TEXT_UNITS or not isinstance(cell.value, (int, float)):
                    continue
                expected = styles.NUMBER_FORMATS[view.args.get("format") or block.unit]
                if block.measure and block.measure in names:
                    word = ws.cell(r, table.keys + 1 + names.index(block.measure)).value
                    chosen = texts.measure_unit(word, "zh-Hans")
                    code = chosen and styles.measured_format(block.unit, chosen)
                    measured += bool(code)
                    expected = code or expected
                assert cell.number_format == expected, (ws.title, cell.coordinate, name)
                checked += 1
    assert checked > 100 and measured >= 2, (checked, measured)


def test_each_table_prints_on_a_sheet_of_its_own_under_its_header(merged):
    """One range of rows repeats on every printed page of a sheet: with one table per sheet it is
    that table's header, so a list of effects longer than a page shows its header on every page
    (a second table on the sheet would print its rows under the first one's header)."""
    store, wb, _ = merged
    fill = styles.HEADER_FILL.fgColor.rgb
    for ws in wb.worksheets:
        headers = sorted({cell.row for row in ws.iter_rows() for cell in row if cell.fill is not None
                          and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == fill})
        assert headers == [3], (ws.title, headers)
        assert ws.print_title_rows == "$3:$3", ws.title
    listed = consolidate.sheet_tables(consolidate.tables(store, "zh-Hans", "accepted"), "zh-Hans")
    assert len(wb.worksheets) == 1 + len(listed)  # the status, then every table and every table's extra


def test_each_sheet_is_headed_by_its_table_s_whole_title(merged):
    """The title row (and so every printed page's header) names the table, not the sheet's name,
    which Excel cuts at 31 characters and which may carry the template's id to tell it apart."""
    store, wb, _ = merged
    listed = consolidate.sheet_tables(consolidate.tables(store, "zh-Hans", "accepted"), "zh-Hans")
    assert any(ws.title != name for ws, (name, _) in zip(wb.worksheets[1:], listed))  # 预算 support_plan
    for ws, (name, _) in zip(wb.worksheets[1:], listed, strict=True):
        assert ws["A1"].value.endswith(f" · {name}"), (ws.title, ws["A1"].value)


def test_every_chart_prints_whole_within_its_sheet_s_print_area(merged, tmp_path):
    """A chart under a narrow table (the support plan's budget: two columns) reaches past the
    table's cells; the print area goes across as far as the chart, or the page cuts it."""
    _, wb, _ = merged
    path = tmp_path / "consolidated.xlsx"

    def across(ws, columns: int) -> float:  # points, from column A
        return sum(paper.column_points(generate.column_width(ws, get_column_letter(c))) for c in range(1, columns + 1))

    charted = 0
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for ws in wb.worksheets:
            folder, name = sheet_part(path, ws.title).rsplit("/", 1)
            rels = f"{folder}/_rels/{name}.rels"
            related = zf.read(rels).decode() if rels in names else ""
            for target in re.findall(r'Target="/?([^"]*drawings/[^"]*)"', related):
                for col, cx in re.findall(r'<from><col>(\d+)</col>.*?<ext cx="(\d+)"', zf.read(target).decode()):
                    reach = across(ws, int(col)) + int(cx) / 12700  # EMU → points
                    last = column_index_from_string(re.search(r":\$?([A-Z]+)\$?\d+$", ws.print_area)[1])
                    assert across(ws, last) >= reach, (ws.title, ws.print_area, reach)
                    charted += 1
    assert charted >= 2


def test_sheet_names_stay_apart_within_excel_s_rules():
    """Titles alike in their first 31 characters, or alike but for case, each get a sheet name of
    their own, at most 31 characters (a name was cut after the template's id was added to it, so
    two such titles made the same name again and again, and the workbook was never written)."""
    def stuck(*_):
        raise TimeoutError("the sheet names were still being looked for after 10 s")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(10)
    try:
        taken = {"Status"}
        titles = ["Personal plan against actuals · Unit", "Personal plan against actuals · Team",
                  "personal plan against actuals · unit", "status", "预算", "预算", "预算", "x" * 40, "x" * 40]
        names = [consolidate._sheet_title(title, "personal_plan", taken) for title in titles]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert all(0 < len(name) <= 31 for name in names), names
    assert len({name.casefold() for name in [*names, "Status"]}) == len(names) + 1, names
    assert names[4] == "预算" and names[0] == "Personal plan against actuals"


def test_a_view_without_a_format_shows_figures_in_their_block_s_unit(merged):
    """A summed or listed-figures view that names no `format:` shows its figures as the units'
    workbooks show their block's (a sum of yuan grouped: 12,345,678, not General's 12345678)."""
    store, _, _ = merged
    template = spec.load("annual_plan")
    used = sorted({b for v in template.views for b in views.blocks_used(v, template)})
    data = consolidate.load(store, "annual_plan", used, "zh-Hans", "accepted")
    checked = 0
    for view in template.views:
        if view.kind not in ("sum", "figures"):
            continue
        bare = dataclasses.replace(view, args={k: v for k, v in view.args.items() if k != "format"})
        table = consolidate.KIND_TABLES[view.kind](data, template, bare, "zh-Hans")
        named = [view.args["value"]] if view.kind == "sum" else [*view.args["columns"], *view.args.get("gap", [])[:1]]
        [unit] = {template.blocks[str(name)].unit for name in named}
        assert table.rows, view.id
        for column in range(table.keys, len(table.heading)):
            assert table.formats.get(column, table.fmt) == styles.NUMBER_FORMATS[unit], (view.id, column)
            checked += 1
    assert checked > 20


def test_a_blank_hq_target_is_blank_not_zero(merged):
    _, wb, _ = merged
    gap = rows_by_label(wb["目标差距"])["北区营业部"]
    assert gap[2] is None  # no HQ target
    assert gap[4] is not None and gap[4] > 0  # the unit's months
    assert gap[5] is None  # no gap without a target: never the whole plan


def test_monthly_scorecards_roll_up_into_a_year(tmp_path):
    data = json.loads((SAMPLES / "kpi_scorecard.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    data.pop("period", None)
    inbox = tmp_path / "inbox"
    for month, shift in (("2027-01", 0), ("2027-02", 5)):
        figures = json.loads(json.dumps(data))
        for person in figures["staff"]:
            person["execution_score"] = max(0, min(10, person.get("execution_score", 5) - shift))
        make(inbox, f"team-{month}", figures, template_id="kpi_scorecard", unit="客服一组", period=month)
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as store:
        assert merge.merge([inbox], store, workers=0).accepted == 2
        year = next(t for t in consolidate.tables(store, basis="accepted") if t.view.kind == "year")
        own = {m: recalc.check_file(inbox / f"team-{m}.xlsx") for m in ("2027-01", "2027-02")}
    assert year.heading[2:4] == ["2027-01", "2027-02"]
    first = own["2027-01"].tables["staff.name"][0]
    row = next(r for r in year.rows if r[1] == first)
    totals = [own[m].tables["staff.total"][0] for m in ("2027-01", "2027-02")]
    assert all(isinstance(t, (int, float)) for t in totals)
    assert row[2:4] == pytest.approx(totals) and row[4] == pytest.approx(sum(totals) / 2)
    (team,) = year.extra[0].rows
    for k, m in enumerate(("2027-01", "2027-02")):
        scores = [v for v in own[m].tables["staff.total"] if isinstance(v, (int, float))]
        assert team[1 + k] == pytest.approx(sum(scores) / len(scores))


def test_every_list_of_effects_formats_its_figures_in_each_rows_unit():
    """The team and personal plans' lists carry the unit of measure beside the effect too: a share's
    target and latest actual are formatted 0.0%, a count or a plain number keeps the list's format."""
    for template_id, view_id in (("team_plan", "improvements"), ("personal_plan", "personal_goals"),
                                 ("support_plan", "effects")):
        template = spec.load(template_id)
        [view] = [v for v in template.views if v.id == view_id]
        columns = [str(c) for c in view.args["columns"]]
        unit_at, target_at = columns.index("actions.effect_unit"), columns.index("actions.effect_target")
        rows = []
        for word, target in (("%", 0.9), ("count", 0.5), ("人/件", 6), (None, 3)):
            row = ["2027", "北區一組"] + [None] * len(columns)
            row[2 + unit_at], row[2 + target_at] = word, target
            rows.append(row)
        formats = consolidate._measured(template, columns, rows, 2)
        assert formats.get((0, 2 + target_at)) == "0.0%", template_id
        assert not {(r, 2 + target_at) for r in (1, 2, 3)} & set(formats)  # counts and numbers as they are
