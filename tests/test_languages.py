"""Languages: one catalogue with every language, templates labelled in every language, and
a Traditional Chinese workbook that carries no simplified character anywhere.

"No simplified character" is judged with OpenCC's tables (the `opencc` package): a
character is simplified when OpenCC's simplified → Taiwan-traditional conversion of the
character alone changes it. The same scan finds plenty in a zh-Hans workbook, so the check
can fail.
"""
from __future__ import annotations

import re
import string
from pathlib import Path

import openpyxl
import pytest

from xlplan import texts
from xlplan.model import TemplateError, text
from xlplan.template import generate, spec

opencc = pytest.importorskip("opencc")
S2TW = opencc.OpenCC("s2tw")
CJK = re.compile(r"[\u3400-\u9fff]")


def simplified_characters(strings) -> dict[str, str]:
    """Character → the first string it was found in, for every simplified character."""
    found: dict[str, str] = {}
    for s in strings:
        for ch in set(CJK.findall(s)):
            if ch not in found and S2TW.convert(ch) != ch:
                found[ch] = s
    return found


def workbook_strings(path: Path):
    """Every string a user can see in a workbook: cells, sheet names, lists, prompts, messages,
    headers and footers, comments, table columns."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        yield ws.title
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield cell.value
                if cell.comment is not None:
                    yield cell.comment.text
        for dv in ws.data_validations.dataValidation:
            for s in (dv.formula1, dv.prompt, dv.promptTitle, dv.error, dv.errorTitle):
                if s:
                    yield s
        for part in (ws.oddFooter, ws.oddHeader, ws.evenFooter, ws.firstFooter):
            for side in (part.left, part.center, part.right):
                if side.text:
                    yield side.text
        for table in ws.tables.values():
            for column in table.tableColumns:
                yield column.name


def test_language_codes():
    assert texts.language("zh") == "zh-Hans"
    assert texts.language("zh-TW") == "zh-Hant"
    assert texts.language("zh_Hant") == "zh-Hant"
    assert texts.language("en-GB") == "en"
    with pytest.raises(texts.UnknownLanguage, match="fr"):
        texts.language("fr")


def test_every_catalogue_entry_in_every_language_with_the_same_placeholders():
    fields = string.Formatter()
    for key, entry in texts.TEXTS.items():
        assert set(entry) == set(texts.LANGUAGES), key
        names = [{f for _, f, _, _ in fields.parse(entry[lang]) if f} for lang in texts.LANGUAGES]
        assert all(n == names[0] for n in names), (key, names)
        assert all(entry[lang].strip() for lang in texts.LANGUAGES), key


def _labels(template):
    yield "title", template.title
    for name, dim in template.dims.items():
        yield f"dim {name}", dim.labels
    for sheet in template.sheets:
        yield f"sheet {sheet.id}", sheet.title
        if sheet.note:
            yield f"note {sheet.id}", sheet.note
        for section in sheet.sections:
            if section.title:
                yield f"section {sheet.id}", section.title
            if section.totals:
                yield f"total {sheet.id}", section.total_label
            for block in section.blocks + section.totals:
                yield block.name, block.label
                if block.help:
                    yield f"{block.name} help", block.help
    for check in template.checks:
        yield check.code, check.message
    for view in template.views:
        yield f"view {view.id}", view.title


@pytest.mark.parametrize("template_id", sorted(spec.available()))
def test_every_template_label_in_every_language(template_id):
    template = spec.load(template_id, {"lang": "zh-Hant"})
    missing = [where for where, labels in _labels(template) if set(labels) < set(texts.LANGUAGES)]
    assert not missing, f"{template_id}: labels without {texts.LANGUAGES}: {missing}"


def test_a_label_in_an_unknown_language_names_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: '1'\ntitle: {zh-Hans: 坏, fr: Mauvais}\nsheets: []\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="'fr' is not a language"):
        spec.load_file(bad)


def test_fallback_is_the_nearest_language():
    assert text({"zh-Hans": "经营", "en": "Business"}, "zh-Hant") == "经营"
    assert text({"zh": "经营", "en": "Business"}, "zh-Hans") == "经营"  # 'zh' keys of older definitions
    assert text({"en": "Business"}, "zh-Hant") == "Business"


@pytest.mark.parametrize("template_id", sorted(spec.available()))
def test_a_traditional_workbook_has_no_simplified_character(template_id, tmp_path):
    cycle = generate.Cycle(unit="北區營業部", year=2027, lang="zh-Hant", period="2027-01")
    path = generate.write(spec.load(template_id, cycle.template_params()), cycle, tmp_path / "hant.xlsx")
    strings = list(workbook_strings(path))
    assert len(strings) > 100
    found = simplified_characters(strings)
    assert not found, {ch: s[:60] for ch, s in found.items()}
    # the scan is not blind: the same template in Simplified Chinese is full of them
    simple = generate.Cycle(unit="北区营业部", year=2027, lang="zh-Hans", period="2027-01")
    path = generate.write(spec.load(template_id, simple.template_params()), simple, tmp_path / "hans.xlsx")
    assert len(simplified_characters(workbook_strings(path))) > 20


def test_old_workbooks_say_zh_and_read_as_zh_hans(tmp_path):
    cycle = generate.Cycle(unit="北区营业部", year=2027, lang="zh")
    assert cycle.lang == "zh-Hans"


def test_the_catalogue_in_traditional_chinese_has_no_simplified_character():
    found = simplified_characters(entry["zh-Hant"] for entry in texts.TEXTS.values())
    assert not found, found
    assert len(simplified_characters(entry["zh-Hans"] for entry in texts.TEXTS.values())) > 50


def _traditional(data: dict) -> dict:
    """A sample's figures with its words in Traditional Chinese (the samples are written in Simplified)."""
    data = {k: v for k, v in data.items() if not isinstance(v, str) and k != "params"}
    if "strategies" in data:
        data["strategies"] = ["增員育成，擴大平臺", "績優拉動，提升人均產能"]
        data["owners"] = ["張經理", "李主任"]
        data["plan_owner"] = "張經理"
        for key in ("markets", "actions"):
            for row in data.get(key, []):
                for column, value in list(row.items()):
                    if isinstance(value, str):
                        row.pop(column)
                if key == "actions":
                    row.update(strategy="增員育成，擴大平臺", action="新人職前訓練", owner="李主任", item="訓練費")
    if "staff" in data:
        data["supervisor"] = "黃敏"
        names = ["王麗", "劉洋", "孫悅", "李明", "陳靜", "張偉", "楊帆", "趙雲"]
        for k, row in enumerate(data["staff"]):
            row.update(name=names[k % len(names)], group="早班")
    return data


def test_a_traditional_consolidated_workbook_has_no_simplified_character(tmp_path):
    """Units that work in Traditional Chinese, merged and consolidated with --lang zh-Hant."""
    import json

    from xlplan.hq import merge
    from xlplan.hq.store import Store

    samples = Path(__file__).resolve().parents[1] / "workbooks" / "samples"
    inbox = tmp_path / "inbox"
    for template_id, units in (("annual_plan", ("北區營業部", "南區營業部")), ("kpi_scorecard", ("客服一組",)),
                               ("support_plan", ("客服部",))):
        data = _traditional(json.loads((samples / f"{template_id}.json").read_text(encoding="utf-8")))
        for unit in units:
            cycle = generate.Cycle(unit=unit, year=2027, lang="zh-Hant",
                                   period="2027-01" if template_id == "kpi_scorecard" else "")
            generate.write(spec.load(template_id, cycle.template_params()), cycle, inbox / f"{unit}.xlsx", data)
    roster = tmp_path / "roster.csv"
    roster.write_text("unit,template,period,due\n北區營業部,annual_plan,2027,2027-01-31\n"
                      "南區營業部,annual_plan,2027,2027-01-31\n東區營業部,annual_plan,2027,2027-01-31\n"
                      "客服一組,kpi_scorecard,2027-01,2027-01-31\n客服部,support_plan,2027,2027-01-31\n",
                      encoding="utf-8")
    out = tmp_path / "hq" / "consolidated.xlsx"
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as hq:
        merge.run([inbox], hq, roster=roster, output=out, report_path=tmp_path / "hq" / "status.html",
                  workers=0, lang="zh-Hant", basis="accepted")
    strings = list(workbook_strings(out))
    assert len(openpyxl.load_workbook(out).sheetnames) > 3 and len(strings) > 100
    found = simplified_characters(strings)
    assert not found, {ch: s[:60] for ch, s in found.items()}
    page = (tmp_path / "hq" / "status.html").read_text(encoding="utf-8")
    found = simplified_characters(re.sub(r"<[^>]+>", " ", page).split())
    assert not found, {ch: s[:60] for ch, s in found.items()}
