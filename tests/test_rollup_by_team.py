"""Personal plans rolled up by team at HQ.

HQ sends each person a personal work plan whose team cell it fills (given.csv); the persons
type their monthly targets and actuals; HQ approves the plans and imports one actual from
its systems. The consolidated workbook and HQ's web page show every team's months and year:
the sums of its persons' own figures, which the test adds up itself from what they typed.
A view that groups by a name that is not a one-cell block fails when the template loads.
"""
from __future__ import annotations

import html.parser
from pathlib import Path

import openpyxl
import pytest
from cycle import fill, submit

from xlplan.excel import use_development_license
from xlplan.hq import actuals, consolidate, distribute, review
from xlplan.hq.store import Store
from xlplan.model import TemplateError
from xlplan.template import spec
from xlplan.workbook.read import read_fast

use_development_license()  # xlwings' free noncommercial key: tests only
from xlplan.excel.server import Settings, create_app  # noqa: E402

PASSWORD = "hq-secret-2027"
# person → (team, first month's target, monthly step, actuals typed for the first months)
PEOPLE = {
    "陈一": ("北区一组", 800_000, 10_000, [810_000, 790_000, 905_000]),
    "林二": ("北区一组", 1_000_000, 0, [1_020_000, 1_000_000]),
    "黄三": ("北区一组", 600_000, 25_000, [550_000]),
    "吴四": ("北区二组", 1_200_000, -20_000, [1_300_000, 1_150_000, 1_100_000]),
    "郑五": ("北区二组", 700_000, 5_000, []),
}
IMPORTED = ("黄三", 2, 640_000)  # HQ's systems: 黄三's February (typed: none)


def targets(person: str) -> list[float]:
    _, first, step, _ = PEOPLE[person]
    return [float(first + step * k) for k in range(12)]


def actual_months(person: str) -> dict[int, float]:
    """What consolidation must use: the typed months, and the imported one in its place."""
    months = {m: float(v) for m, v in enumerate(PEOPLE[person][3], start=1)}
    if person == IMPORTED[0]:
        months[IMPORTED[1]] = float(IMPORTED[2])
    return months


def teams() -> list[str]:
    return sorted({team for team, *_ in PEOPLE.values()})


def members(team: str) -> list[str]:
    return [p for p, (t, *_) in PEOPLE.items() if t == team]


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    folder = tmp_path_factory.mktemp("team")
    (folder / "roster.csv").write_text("unit,template,period\n" + "".join(
        f"{p},personal_plan,2027\n" for p in PEOPLE), encoding="utf-8")
    (folder / "given.csv").write_text("unit,block,value\n" + "".join(
        f"{p},team,{team}\n" for p, (team, *_) in PEOPLE.items()), encoding="utf-8")
    store = Store(f"sqlite:///{folder / 'hq.db'}")
    issued = distribute.distribute(store, folder / "roster.csv", folder / "outbox", folder / "given.csv")
    sent = {read_fast(p).unit: p for p in issued.files}
    filled = [fill(sent[p], {"supervisor": "赵主管", "personal_target": targets(p),
                             "personal_actual": PEOPLE[p][3]}, folder / "in" / f"{p}.xlsx") for p in PEOPLE]
    summary = submit(store, *filled)
    assert summary.accepted == len(PEOPLE)
    for sub in store.submissions():
        review.approve(store, sub, "张经理")
    person, month, value = IMPORTED
    line = f"{person},2027-{month:02d},personal_actual,{value}"
    (folder / "actuals.csv").write_text(f"unit,period,measure,value\n{line}\n", encoding="utf-8")
    actuals.import_file(store, folder / "actuals.csv")
    yield store, folder
    store.close()


def expected_team_months(team: str) -> list[float]:
    return [sum(targets(p)[m] for p in members(team)) for m in range(12)]


def expected_team_year(team: str) -> tuple[float, float, float]:
    """The team's plan for the year, and its plan and actual over the months each person has actuals for."""
    year = sum(sum(targets(p)) for p in members(team))
    plan_to_date = sum(targets(p)[m - 1] for p in members(team) for m in actual_months(p))
    actual_to_date = sum(sum(actual_months(p).values()) for p in members(team))
    return year, plan_to_date, actual_to_date


def test_the_persons_plans_roll_up_by_their_team(hq):
    store, _ = hq
    tables = {t.view.id: t for t in consolidate.tables(store) if t.template == "personal_plan"}
    by_team = tables["team_targets"]
    assert [r[1] for r in by_team.rows] == teams()
    for row in by_team.rows:
        assert row[0] == "2027"
        assert row[2:14] == pytest.approx(expected_team_months(row[1]))
        assert row[14] == pytest.approx(sum(expected_team_months(row[1])))
    assert by_team.total[14] == pytest.approx(sum(sum(targets(p)) for p in PEOPLE))

    plan_actual = tables["personal_plan_actual"]
    per_person, per_team = plan_actual.extra
    assert sorted(r[1] for r in per_person.rows) == sorted(PEOPLE)
    assert [r[1] for r in per_team.rows] == teams()
    for row in per_team.rows:
        year, plan_to_date, actual_to_date = expected_team_year(row[1])
        assert row[2] == len(members(row[1]))
        assert row[3:6] == pytest.approx([year, plan_to_date, actual_to_date])
        assert row[6] == pytest.approx(actual_to_date / plan_to_date)
    everyone = [expected_team_year(t) for t in teams()]
    assert per_team.total[3:7] == pytest.approx([sum(e[0] for e in everyone), sum(e[1] for e in everyone),
                                                 sum(e[2] for e in everyone),
                                                 sum(e[2] for e in everyone) / sum(e[1] for e in everyone)])


def test_the_consolidated_workbook_shows_the_teams(hq):
    store, folder = hq
    wb = openpyxl.load_workbook(consolidate.write(store, folder / "consolidated.xlsx", lang="zh-Hans"))
    ws = wb["团队月度目标"]
    rows = {r[1]: r for r in ws.iter_rows(values_only=True) if r[1] in teams()}
    assert sorted(rows) == teams()
    for team, row in rows.items():
        assert list(row[2:14]) == pytest.approx(expected_team_months(team))
    sheet = [r for r in wb["个人计划与实绩 · 所属团队"].iter_rows(values_only=True)]
    heading = next(k for k, r in enumerate(sheet) if r[1] == "所属团队")
    for team in teams():
        row = next(r for r in sheet[heading:] if r[1] == team)
        year, plan_to_date, actual_to_date = expected_team_year(team)
        assert list(row[3:6]) == pytest.approx([year, plan_to_date, actual_to_date])


class Tables(html.parser.HTMLParser):
    """Every table of a page under the heading before it: heading text → rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heading, self.in_heading, self.row, self.cell = "", False, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.heading, self.in_heading = "", True
        elif tag == "table":
            self.tables[self.heading.strip()] = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_heading = False
        elif tag in ("td", "th") and self.row is not None:
            self.row.append((self.cell or "").strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.heading.strip()].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.in_heading:
            self.heading += data
        if self.cell is not None:
            self.cell += data


def test_hqs_web_page_shows_the_teams(hq):
    from fastapi.testclient import TestClient

    store, folder = hq
    app = create_app(Settings(tokens=folder / "tokens.json", db=store.url, hq_password=PASSWORD))
    client = TestClient(app)
    assert client.post("/hq/login", data={"reviewer": "张经理", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = Tables()
    page.feed(client.get("/hq/plan").text)
    grid = next(rows for title, rows in page.tables.items() if title.startswith("团队月度目标"))
    shown = {r[1]: r for r in grid[1:] if r and r[1] in teams()}
    assert sorted(shown) == teams()
    for team, row in shown.items():
        assert [float(v.replace(",", "")) for v in row[2:14]] == pytest.approx(expected_team_months(team))
    year_table = next(rows for title, rows in page.tables.items() if title.startswith("个人计划与实绩 · 所属团队"))
    for team in teams():
        row = next(r for r in year_table if r[1] == team)
        year, plan_to_date, actual_to_date = expected_team_year(team)
        assert [float(v.replace(",", "")) for v in row[3:6]] == pytest.approx([year, plan_to_date, actual_to_date])


def load_personal_plan_edited(tmp_path, old: str, new: str):
    """The shipped personal_plan with its first `old` line replaced by `new`, loaded."""
    source = Path(spec.available()["personal_plan"]).read_text(encoding="utf-8")
    assert old in source
    edited = tmp_path / "personal_plan.yaml"
    edited.write_text(source.replace(old, new, 1), encoding="utf-8")
    return spec.load_file(edited)


@pytest.mark.parametrize("by, message", [
    ("[period, teem]", r"consolidation › team_targets: by 'teem' is not period, unit"),
    ("[period, personal_actual]", r"consolidation › team_targets: by 'personal_actual' is not period, unit"),
])
def test_a_sum_grouped_by_an_unknown_or_wide_block_fails_at_load(tmp_path, by, message):
    with pytest.raises(TemplateError, match=message):
        load_personal_plan_edited(tmp_path, "    by: [period, team]\n", f"    by: {by}\n")


@pytest.mark.parametrize("by, message", [
    ("[teem]", r"consolidation › personal_plan_actual: names unknown block 'teem'"),
    ("[personal_target]", r"consolidation › personal_plan_actual: by 'personal_target' is not a block of one cell"),
])
def test_a_plan_actual_grouped_by_an_unknown_or_wide_block_fails_at_load(tmp_path, by, message):
    with pytest.raises(TemplateError, match=message):
        load_personal_plan_edited(tmp_path, "    by: [team]\n", f"    by: {by}\n")


def test_a_view_kind_without_groups_refuses_by(tmp_path):
    marker = "    when: actions.action\n"
    with pytest.raises(TemplateError, match=r"consolidation › personal_goals: a list view takes no 'by'"):
        load_personal_plan_edited(tmp_path, marker, marker + "    by: [team]\n")


def test_monthly_scorecards_roll_up_into_a_year_per_person_and_per_team(tmp_path):
    """Two teams, three months each (one team misses March): every person's month and average,
    every team's average of its persons' scores per month and over the year, from the teams' own
    scorecards as each workbook computes them."""
    import json

    from plans import make

    from xlplan.hq import merge
    from xlplan.workbook import recalculation as recalc

    sample = json.loads((Path(__file__).resolve().parent.parent / "workbooks" / "samples" / "kpi_scorecard.json")
                        .read_text(encoding="utf-8"))
    sample.pop("params", None)
    sample.pop("period", None)
    months = {"客服一组": ("2027-01", "2027-02", "2027-03"), "客服二组": ("2027-01", "2027-02")}
    inbox, own = tmp_path / "inbox", {}
    for t, (team, periods) in enumerate(months.items()):
        for k, period in enumerate(periods):
            figures = json.loads(json.dumps(sample))
            for person in figures["staff"][t:]:  # the second team has one person fewer
                person["execution_score"] = max(0, min(10, person.get("execution_score", 5) - k - 2 * t))
                person["actual_sales"] = person["actual_sales"] * (1 + 0.05 * k) if person.get("actual_sales") else None
            figures["staff"] = figures["staff"][t:]
            path = make(inbox, f"{team}-{period}", figures, template_id="kpi_scorecard", unit=team, period=period)
            own[(team, period)] = recalc.check_file(path)
    with Store(f"sqlite:///{tmp_path / 'hq.db'}") as store:
        assert merge.merge([inbox], store, workers=0).accepted == sum(len(p) for p in months.values())
        year = next(t for t in consolidate.tables(store, basis="accepted") if t.view.kind == "year")
    periods = sorted({p for ps in months.values() for p in ps})
    assert year.heading[2:2 + len(periods)] == periods
    scores: dict[tuple, dict[str, float]] = {}
    for (team, period), result in own.items():
        for name, total in zip(result.tables["staff.name"], result.tables["staff.total"]):
            if name and isinstance(total, (int, float)):
                scores.setdefault((team, name), {})[period] = float(total)
    assert len({team for team, _ in scores}) == 2
    assert sorted((r[0], r[1]) for r in year.rows) == sorted(scores)
    for row in year.rows:
        mine = scores[(row[0], row[1])]
        assert row[2:2 + len(periods)] == pytest.approx([mine.get(p) for p in periods])
        assert row[-1] == pytest.approx(sum(mine.values()) / len(mine))
    (team_table,) = year.extra
    assert [r[0] for r in team_table.rows] == sorted(months)
    for row in team_table.rows:
        per_month = {p: [s[p] for (team, _), s in scores.items() if team == row[0] and p in s] for p in periods}
        assert row[1:1 + len(periods)] == pytest.approx([sum(v) / len(v) if v else None for v in per_month.values()])
        every = [v for vs in per_month.values() for v in vs]
        assert row[-1] == pytest.approx(sum(every) / len(every))


def test_every_table_on_hqs_web_page_has_its_own_anchor(hq):
    """The per-person and per-team tables under a view are linked to apart from the view itself."""
    import re

    from fastapi.testclient import TestClient

    store, folder = hq
    client = TestClient(create_app(Settings(tokens=folder / "tokens.json", db=store.url, hq_password=PASSWORD)))
    client.post("/hq/login", data={"reviewer": "张经理", "password": PASSWORD}, follow_redirects=False)
    ids = re.findall(r'<h2 id="([^"]+)"', client.get("/hq/plan").text)
    assert "personal_plan-personal_plan_actual" in ids and "personal_plan-team_targets" in ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
