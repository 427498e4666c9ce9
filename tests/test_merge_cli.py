"""`xlplan merge` from the command line: a small inbox in, the database, workbook and page out."""
from __future__ import annotations

import random

import hq_cases as cases
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.hq.store import Store

runner = CliRunner()


def said(result) -> str:
    """What the command printed, with rich's line wrapping undone."""
    return " ".join(result.output.split())


def inbox(tmp_path):
    base = cases.base("kpi_scorecard", tmp_path)
    folder = tmp_path / "inbox"
    folder.mkdir()
    rng = random.Random(5)
    for unit in ("客服一组", "客服二组"):
        (folder / f"{unit}.xlsx").write_bytes(cases.copy(base, unit, cases.kpi_data(rng, unit)))
    (folder / "notes.xlsx").write_text("not a workbook", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("unit,template,period,due\n客服一组,kpi_scorecard,2027-01,2027-01-10\n"
                      "客服二组,kpi_scorecard,,\n客服三组,kpi_scorecard,2027-01,2027-01-10\n", encoding="utf-8")
    return folder, roster


def test_merge_command_writes_database_workbook_and_page(tmp_path):
    folder, roster = inbox(tmp_path)
    out = tmp_path / "out"
    args = ["merge", str(folder), "--roster", str(roster), "-o", str(out / "consolidated.xlsx"),
            "--report", str(out / "status.html"), "--workers", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 files: 3 new (2 accepted, 1 rejected)" in said(result)
    assert "1 missing" in said(result) and "1 unreadable" in said(result)
    assert (out / "consolidated.xlsx").is_file() and (out / "status.html").is_file()
    with Store(f"sqlite:///{out / 'hq.db'}") as hq:  # the default database sits beside the workbook
        assert hq.counts()["submissions"] == 3
    again = runner.invoke(app, args)
    assert "0 new" in said(again) and "3 already stored" in said(again)


def test_merge_command_explains_bad_arguments(tmp_path):
    result = runner.invoke(app, ["merge", str(tmp_path / "nowhere" / "*.xlsx"), "--db", f"sqlite:///{tmp_path}/h.db"])
    assert result.exit_code == 2 and "no such file" in said(result)
    bad = tmp_path / "roster.csv"
    bad.write_text("name,due\nx,2027-01-01\n", encoding="utf-8")
    result = runner.invoke(app, ["merge", str(tmp_path), "--roster", str(bad), "--db", f"sqlite:///{tmp_path}/h.db"])
    assert result.exit_code == 2 and "needs columns unit and template" in said(result)


def test_consolidated_workbook_in_english(tmp_path):
    import openpyxl

    folder, roster = inbox(tmp_path)
    out = tmp_path / "en.xlsx"
    result = runner.invoke(app, ["merge", str(folder), "--roster", str(roster), "-o", str(out), "--lang", "en",
                                 "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == ["Status"]  # nothing approved yet
    result = runner.invoke(app, ["merge", str(folder), "--roster", str(roster), "-o", str(out), "--lang", "en",
                                 "--workers", "0", "--use", "accepted"])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == ["Status", "Scorecards", "Year",
                                                      "Year - each team's average by m", "Grades"]


def test_merge_skips_its_own_outputs_lock_hidden_and_temporary_files(tmp_path):
    folder, roster = inbox(tmp_path)
    (folder / "~$客服一组.xlsx").write_bytes(b"lock")            # Excel's lock file while the book is open
    (folder / ".客服二组.xlsx").write_bytes(b"hidden")           # a hidden copy
    (folder / "~WRL0001.tmp").write_bytes(b"temp")               # Excel's temporary file while saving
    (folder / ".git").mkdir()
    (folder / ".git" / "old.xlsx").write_bytes(b"in a hidden folder")
    db = f"sqlite:///{tmp_path / 'hq.db'}"
    first = runner.invoke(app, ["merge", str(folder), "--roster", str(roster), "--db", db, "--workers", "0",
                                "-o", str(folder / "consolidated.xlsx")])  # written into the inbox itself
    assert first.exit_code == 0, first.output
    assert "3 files: 3 new" in said(first)
    for name, why in (("~$客服一组.xlsx", "Excel's lock file"), (".客服二组.xlsx", "hidden file"),
                      ("~WRL0001.tmp", "temporary file"), (".git", "hidden folder")):
        assert f"skipped {folder / name}: {why}" in first.stdout, (name, first.stdout)
    # the next run meets the consolidated workbook in the inbox: as this run's output ...
    again = runner.invoke(app, ["merge", str(folder), "--db", db, "--workers", "0",
                                "-o", str(folder / "consolidated.xlsx")])
    assert "3 files: 0 new" in said(again) and "consolidated.xlsx: this merge's own output" in again.stdout
    # ... and, written elsewhere this time, by the mark every consolidated workbook carries
    moved = runner.invoke(app, ["merge", str(folder), "--db", db, "--workers", "0", "-o", str(tmp_path / "c.xlsx")])
    assert "3 files: 0 new" in said(moved)
    assert "consolidated.xlsx: a consolidated workbook (a merge's output)" in moved.stdout
    with Store(db) as hq:
        assert hq.counts()["submissions"] == 3


def test_merge_summary_as_json(tmp_path):
    import json

    folder, roster = inbox(tmp_path)
    (folder / "~$客服一组.xlsx").write_bytes(b"lock")
    result = runner.invoke(app, ["merge", str(folder), "--roster", str(roster), "--db", f"sqlite:///{tmp_path}/h.db",
                                 "--workers", "0", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["files"], summary["new"], summary["accepted"], summary["rejected"]) == (3, 3, 2, 1)
    assert summary["skipped"] == [{"file": str(folder / "~$客服一组.xlsx"), "why": "Excel's lock file"}]
    assert summary["roster"]["missing"] == 1 and summary["rejected_files"] == ["notes.xlsx"]


def test_status_times_in_the_zone_given_with_tz(tmp_path):
    """--tz shows the status page's and the status sheet's times in that zone, and names it."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import openpyxl

    folder, roster = inbox(tmp_path)
    out = tmp_path / "out"
    with_zone = {}
    for zone in ("Asia/Taipei", "UTC"):
        args = ["merge", str(folder), "--roster", str(roster), "-o", str(out / f"{zone[:4]}.xlsx"),
                "--report", str(out / f"{zone[:4]}.html"), "--workers", "0", "--db", f"sqlite:///{out / 'hq.db'}",
                "--tz", zone]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        page = (out / f"{zone[:4]}.html").read_text(encoding="utf-8")
        sheet = [str(c.value) for row in openpyxl.load_workbook(out / f"{zone[:4]}.xlsx")["状态"].iter_rows()
                 for c in row if c.value is not None]
        with_zone[zone] = page, " ".join(sheet)
    with Store(f"sqlite:///{out / 'hq.db'}") as hq:
        received = max(s["received_at"] for s in hq.submissions())
    utc = received.replace(tzinfo=dt.timezone.utc) if received.tzinfo is None else received
    taipei = utc.astimezone(ZoneInfo("Asia/Taipei")).strftime("%Y-%m-%d %H:%M")
    page, sheet = with_zone["Asia/Taipei"]
    assert "Asia/Taipei (UTC+08:00)" in page and "Asia/Taipei (UTC+08:00)" in sheet
    assert taipei in page and taipei in sheet
    page, sheet = with_zone["UTC"]
    assert utc.strftime("%Y-%m-%d %H:%M") in page and taipei not in page and taipei not in sheet


def test_an_unknown_time_zone_is_refused_naming_the_option(tmp_path):
    folder, roster = inbox(tmp_path)
    result = runner.invoke(app, ["merge", str(folder), "--db", f"sqlite:///{tmp_path / 'h.db'}", "--tz", "Asia/Taipe"])
    assert result.exit_code == 2
    assert "--tz" in said(result) and "'Asia/Taipe'" in said(result) and "Asia/Taipei" in said(result)
    assert not (tmp_path / "h.db").exists()  # refused before anything was merged


def test_review_log_and_list_show_times_in_the_zone_given_with_tz(tmp_path):
    """`review log` and `review list` show the stored (UTC) times in --tz's zone and name it, as the web page does."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    folder, roster = inbox(tmp_path)
    db = ["--db", f"sqlite:///{tmp_path / 'hq.db'}"]
    assert runner.invoke(app, ["merge", str(folder), "--roster", str(roster), "--workers", "0", *db]).exit_code == 0
    with Store(db[1]) as hq:
        moments = [e["at"] for e in hq.review_events()]
        latest = [e["at"] for e in hq.states().values()]
    assert moments and latest

    def as_shown(moment, zone):
        moment = moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")

    for command in (["review", "log"], ["review", "list"]):
        taipei = runner.invoke(app, [*command, *db, "--tz", "Asia/Taipei"])
        assert taipei.exit_code == 0, taipei.output
        utc = runner.invoke(app, [*command, *db], env={"XLPLAN_TZ": "UTC"})
        assert utc.exit_code == 0, utc.output
        assert "Asia/Taipei (UTC+08:00)" in said(taipei) and "UTC" in said(utc)
        for moment in moments if command[1] == "log" else latest:
            assert as_shown(moment, "Asia/Taipei") in taipei.output and as_shown(moment, "UTC") in utc.output
            assert as_shown(moment, "Asia/Taipei") not in utc.output


def test_an_unknown_zone_from_xlplan_tz_names_the_variable(tmp_path):
    db = ["--db", f"sqlite:///{tmp_path / 'h.db'}"]
    from_env = runner.invoke(app, ["review", "log", *db], env={"XLPLAN_TZ": "Asia/Taipe"})
    assert from_env.exit_code == 2 and "--tz (or XLPLAN_TZ)" in said(from_env) and "'Asia/Taipe'" in said(from_env)
    given = runner.invoke(app, ["review", "log", *db, "--tz", "Asia/Taipe"])
    assert given.exit_code == 2 and "--tz" in said(given) and "XLPLAN_TZ" not in said(given)
