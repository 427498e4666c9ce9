"""A measure with a due month is judged from that month on, in progress before it.

The handbook's person plans "增員 6 名新人" for the year: 1 recruited by January, 2 by
February, 4 by March. Compared with its target every month, the goal read 未達成 in March
although the year had nine months to go. With the due month 12 it reads 進行中 (no gap,
no EFFECT_MISSED) until the tracking reaches December, and is judged then. A measure
without a due month is still compared with its target every month (a monthly standard such
as "callback success ≥ 99 %"). The same in the support, team and personal plans, in every
language, and LibreOffice computes the same statuses as the engine.
"""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlplan import libreoffice
from xlplan.template import generate, spec
from xlplan.template.layout import Layout
from xlplan.workbook import recalculation as recalc

TEMPLATES = ("support_plan", "team_plan", "personal_plan")
LANGS = ("zh-Hans", "zh-Hant", "en")
# the words of the action table's choices and of its status column, as each language's template has them
WORDS = {
    "zh-Hans": {"measure": "指标", "higher": "越高越好", "open": "进行中", "missed": "未达成", "met": "达成"},
    "zh-Hant": {"measure": "指標", "higher": "越高越好", "open": "進行中", "missed": "未達成", "met": "達成"},
    "en": {"measure": "measure", "higher": "higher", "open": "in progress", "missed": "missed", "met": "met"},
}
RECRUITED = (1, 2, 4)  # cumulative, January to March


def recruiting(lang: str, due: int | None, actuals: dict[int, float], as_of: int | None) -> dict:
    """An action table with the one goal: six recruits (higher is better), due in month `due`."""
    w = WORDS[lang]
    row = {"action": "增員 6 名新人", "effect": "累計增員人數", "effect_kind": w["measure"], "effect_target": 6,
           "effect_direction": w["higher"], **{f"actual_{m}": v for m, v in actuals.items()}}
    if due is not None:
        row["milestone_due"] = due
    data: dict = {"actions": [row]}
    if as_of is not None:
        data["as_of_month"] = as_of
    return data


def write(tmp_path: Path, template_id: str, lang: str, name: str, data: dict) -> Path:
    cycle = generate.Cycle(unit="北區一組", year=2027, lang=lang)
    template = spec.load(template_id, cycle.template_params())
    return generate.write(template, cycle, tmp_path / f"{template_id}.{lang}.{name}.xlsx", data)


def march(lang: str, due: int | None = 12) -> dict:
    return recruiting(lang, due, dict(zip((1, 2, 3), RECRUITED)), as_of=3)


def december(lang: str, recruited: float = 4, as_of: int | None = 12) -> dict:
    return recruiting(lang, 12, {**dict(zip((1, 2, 3), RECRUITED)), 12: recruited}, as_of=as_of)


def missed(result) -> list:
    return [f for f in result.findings if f.code == "EFFECT_MISSED"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template_id", TEMPLATES)
def test_an_annual_goal_is_in_progress_in_march(tmp_path, template_id, lang):
    result = recalc.check_file(write(tmp_path, template_id, lang, "march", march(lang)))
    assert result.value("actions.effect_latest")[0] == 4
    assert result.value("actions.effect_status")[0] == WORDS[lang]["open"]
    assert result.value("actions.effect_gap")[0] == ""  # no gap to show before the due month
    assert missed(result) == []
    assert (result.value("effects_open"), result.value("effects_missed")) == (1, 0)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template_id", TEMPLATES)
def test_the_same_goal_is_missed_in_december(tmp_path, template_id, lang):
    result = recalc.check_file(write(tmp_path, template_id, lang, "december", december(lang)))
    assert result.value("actions.effect_status")[0] == WORDS[lang]["missed"]
    assert result.value("actions.effect_gap")[0] == -2
    [finding] = missed(result)
    layout = Layout(result.plan.template, lang)
    assert (finding.cell.sheet, finding.cell.address) == layout.address("actions.effect_gap", 1)
    assert (result.value("effects_open"), result.value("effects_missed")) == (0, 1)


def test_judged_from_the_due_month_itself_and_met_when_reached(tmp_path):
    due_in_march = recalc.check_file(write(tmp_path, "personal_plan", "zh-Hant", "due3", march("zh-Hant", due=3)))
    assert due_in_march.value("actions.effect_status")[0] == "未達成" and len(missed(due_in_march)) == 1
    six = recalc.check_file(write(tmp_path, "personal_plan", "zh-Hant", "six", december("zh-Hant", recruited=6)))
    assert six.value("actions.effect_status")[0] == "達成" and missed(six) == []


def test_without_a_tracking_month_the_latest_actual_says_how_far_the_year_has_come(tmp_path):
    """as_of_month left blank: March's actual is the latest, so in progress; December's entered, judged."""
    in_march = recalc.check_file(write(tmp_path, "team_plan", "zh-Hant", "march_no_as_of",
                                       recruiting("zh-Hant", 12, dict(zip((1, 2, 3), RECRUITED)), as_of=None)))
    assert in_march.value("actions.effect_status")[0] == "進行中" and missed(in_march) == []
    in_december = recalc.check_file(write(tmp_path, "team_plan", "zh-Hant", "december_no_as_of",
                                          december("zh-Hant", as_of=None)))
    assert in_december.value("actions.effect_status")[0] == "未達成" and len(missed(in_december)) == 1


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_a_measure_without_a_due_month_is_judged_every_month(tmp_path, template_id):
    result = recalc.check_file(write(tmp_path, template_id, "zh-Hant", "monthly", march("zh-Hant", due=None)))
    assert result.value("actions.effect_status")[0] == "未達成"
    assert result.value("actions.effect_gap")[0] == -2
    [finding] = missed(result)
    assert finding.message == "「累計增員人數」最新實績 4，目標 6：未達成"


@pytest.mark.libreoffice
def test_libreoffice_computes_the_same_statuses(tmp_path):
    """Each template in each language, in March and in December, with and without a due month:
    the status and gap LibreOffice computes from the workbook's formulas are the engine's."""
    books = {}
    for template_id in TEMPLATES:
        for lang in LANGS:
            for name, data in (("march", march(lang)), ("december", december(lang)),
                               ("monthly", march(lang, due=None)),
                               ("no_as_of", recruiting(lang, 12, dict(zip((1, 2, 3), RECRUITED)), as_of=None))):
                books[(template_id, lang, name)] = write(tmp_path, template_id, lang, name, data)
    computed = libreoffice.recalculate(list(books.values()), tmp_path / "computed")
    by_name = {path.name: path for path in computed}
    statuses = {}
    for (template_id, lang, name), source in books.items():
        ours = recalc.check_file(source)
        layout = Layout(ours.plan.template, lang)
        sheet = openpyxl.load_workbook(by_name[source.name], data_only=True)
        for block in ("actions.effect_status", "actions.effect_gap", "actions.effect_latest"):
            sheet_name, address = layout.address(block, 1)
            theirs = sheet[sheet_name][address].value
            mine = ours.value(block)[0]
            assert (theirs if theirs is not None else "") == mine, (source.name, block, theirs, mine)
        statuses[(template_id, lang, name)] = ours.value("actions.effect_status")[0]
    assert statuses == {(template_id, lang, name): WORDS[lang]["open" if name in ("march", "no_as_of") else "missed"]
                        for template_id, lang, name in books}
