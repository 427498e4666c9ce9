"""The command line as a user meets it: every mistake is one line, no traceback, the right status.

Each test runs the real `xlplan` group (its one error handler included) through
typer's runner, with stdout and stderr apart: stdout is not a terminal there, as when
a user pipes the output, so it must come plain and unwrapped.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import plans
from xlplan import __version__
from xlplan.cli import app

runner = CliRunner()


def run(*args: str, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def refused(result, *words: str, code: int = 2) -> str:
    """The run failed with `code` and said so in one line on stderr naming `words`, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("xlplan") and "Traceback" not in result.output
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def clean(tmp_path):
    return plans.make(tmp_path, "clean", plans.clean_annual_plan())


@pytest.fixture
def slipped(tmp_path):
    data = plans.clean_annual_plan()
    data["actions"][0]["stated"] = 6400  # the brief's typed amount: 200 × 80 × 4 = 64,000
    return plans.make(tmp_path, "slipped", data)


NEW = ("new", "annual_plan", "--unit", "北区营业部")


# -- a folder where a file belongs ----------------------------------------------------
def test_recalc_of_a_folder(tmp_path):
    refused(run("recalc", tmp_path), str(tmp_path), "directory")


def test_check_of_a_folder(tmp_path):
    refused(run("check", tmp_path), str(tmp_path), "folder")


def test_check_leaves_a_broken_pipe_to_the_one_error_handler(clean, monkeypatch):
    """A broken pipe is no user's mistake about a file: `check` does not report it as the file's
    error (there is no line to report) but lets it through, and the command ends quietly with
    status 1 as click ends on a closed pipe (it was a TypeError and a traceback)."""
    import errno

    from xlplan import cli

    def broken(file):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(cli.recalc, "check_file", broken)
    result = run("check", clean)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.exception
    assert "Traceback" not in result.output and "Error" not in result.stderr


def test_new_into_a_folder(tmp_path):
    refused(run(*NEW, "--year", "2027", "-o", tmp_path), str(tmp_path), "directory")
    assert list(tmp_path.iterdir()) == []


def test_recalc_json_report_into_a_folder(tmp_path, clean):
    refused(run("recalc", clean, "--json", tmp_path), "--json", "folder")


def test_missing_files(tmp_path):
    refused(run("recalc", tmp_path / "none.xlsx"), "none.xlsx", "does not exist")
    refused(run("check", tmp_path / "none.xlsx"), "none.xlsx", "no such file")
    refused(run(*NEW, "--year", "2027", "--data", tmp_path / "none.json", "-o", tmp_path / "a.xlsx"), "none.json")


def test_a_file_that_is_no_workbook(tmp_path):
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    refused(run("check", bad), "notes.xlsx")
    refused(run("recalc", bad), "notes.xlsx")


# -- bad values ---------------------------------------------------------------------------
@pytest.mark.parametrize("year", ["20277", "0", "-5", "1066"])
def test_a_year_out_of_range(tmp_path, year):
    refused(run(*NEW, "--year", year, "-o", tmp_path / "a.xlsx"), year, "2027")
    assert not (tmp_path / "a.xlsx").exists()


def test_a_year_that_is_no_number(tmp_path):
    refused(run(*NEW, "--year", "next", "-o", tmp_path / "a.xlsx"), "--year", "xlplan new --help")


def test_a_bad_period_language_and_template(tmp_path):
    out = tmp_path / "a.xlsx"
    refused(run("new", "kpi_scorecard", "--unit", "客服一组", "--year", "2027", "--period", "2027-13", "-o", out),
            "2027-13", "YYYY-MM")
    refused(run(*NEW, "--year", "2027", "--lang", "fr", "-o", out), "'fr'", "zh-Hans, zh-Hant, en")
    refused(run("new", "anual_plan", "--unit", "x", "--year", "2027", "-o", out), "anual_plan", "annual_plan")


def test_an_unknown_param_is_refused_with_the_known_ones(tmp_path):
    line = refused(run(*NEW, "--year", "2027", "--param", "region=East,West", "-o", tmp_path / "a.xlsx"),
                   "'region'")
    assert "regions" in line and "segments" in line
    refused(run("describe", "annual_plan", "--param", "region=East"), "'region'", "regions")
    refused(run("describe", "annual_plan", "--param", "regions"), "KEY=VALUE")


def test_a_param_of_the_wrong_type_is_refused_naming_it_and_nothing_is_written(tmp_path):
    out = tmp_path / "a.xlsx"
    refused(run(*NEW, "--year", "2027", "--param", "action_rows=many", "-o", out),
            "annual_plan", "'action_rows'", "whole number", "'many'")
    refused(run(*NEW, "--year", "2027", "--param", "action_rows=Infinity", "-o", out), "'action_rows'", "inf")
    refused(run(*NEW, "--year", "2027", "--param", "action_rows=5000", "-o", out), "'action_rows'", "5,000")
    refused(run("describe", "annual_plan", "--param", "action_rows=2.5"), "'action_rows'", "whole number")
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"params": {"regions": [["A"] * 3] * 201}}), encoding="utf-8")
    refused(run(*NEW, "--year", "2027", "--data", data, "-o", out), "'regions'", "201 items")
    assert not out.exists()


def test_a_whole_number_param_given_as_20_0_makes_the_workbook(tmp_path):
    out = tmp_path / "a.xlsx"
    result = run(*NEW, "--year", "2027", "--param", "action_rows=20.0", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_an_unknown_param_in_the_data_file_is_refused(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"params": {"regionz": ["A"]}}), encoding="utf-8")
    refused(run(*NEW, "--year", "2027", "--data", data, "-o", tmp_path / "a.xlsx"), "'regionz'")


@pytest.mark.parametrize("content, words", [("{not json", ["not valid JSON"]), ("[1, 2]", ["JSON object"]),
                                            (b"\xff\xfe\x00", ["UTF-8"])])
def test_a_bad_data_file(tmp_path, content, words):
    data = tmp_path / "data.json"
    data.write_bytes(content if isinstance(content, bytes) else content.encode())
    refused(run(*NEW, "--year", "2027", "--data", data, "-o", tmp_path / "a.xlsx"), "data.json", *words)


def test_usage_mistakes_are_one_line_too(tmp_path):
    refused(run("frobnicate"), "frobnicate")
    refused(run("new", "annual_plan", "--year", "2027", "-o", tmp_path / "a.xlsx"), "--unit")
    refused(run("check", "--colour"), "--colour")
    refused(run("merge", tmp_path / "nowhere" / "*.xlsx", "--db", f"sqlite:///{tmp_path}/h.db"), "no such file")
    refused(run("merge", tmp_path, "--workers", "-1"), "--workers")


def test_no_arguments_print_the_help(tmp_path):
    result = run()
    assert result.exit_code == 2 and "Usage: xlplan" in result.stdout and "Commands:" in result.stdout


# -- tokens ------------------------------------------------------------------------------------
def test_revoking_a_unit_without_token_fails(tmp_path):
    tokens = tmp_path / "tokens.json"
    refused(run("token", "revoke", "北区营业部", "--tokens", tokens), "北区营业部", "none")
    assert not tokens.exists()  # nothing was written for nothing revoked
    issued = run("token", "issue", "北区营业部", "--tokens", tokens)
    assert issued.exit_code == 0 and issued.stdout.strip().startswith("xlp_")
    refused(run("token", "revoke", "南区营业部", "--tokens", tokens), "南区营业部", "北区营业部")
    revoked = run("token", "revoke", "北区营业部", "--tokens", tokens)
    assert revoked.exit_code == 0 and "revoked 1 token(s) of 北区营业部" in revoked.stdout
    listed = json.loads(run("token", "list", "--tokens", tokens, "--json").stdout)
    assert [e["unit"] for e in listed] == ["北区营业部"] and listed[0]["revoked"]


def test_the_token_file_can_be_named_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XLPLAN_TOKENS", str(tmp_path / "elsewhere.json"))
    assert run("token", "issue", "客服部").exit_code == 0
    assert (tmp_path / "elsewhere.json").is_file()


# -- literal text: square brackets are never markup ---------------------------------------------
def test_brackets_in_file_names_are_printed(tmp_path):
    path = tmp_path / "plan[v2].xlsx"
    made = run(*NEW, "--year", "2027", "-o", path)
    assert made.exit_code == 0 and f"wrote {path}" in made.stdout
    checked = run("check", path)
    assert checked.stdout.startswith("plan[v2].xlsx: ")
    refused(run("check", tmp_path / "gone[v3].xlsx"), "gone[v3].xlsx")


def test_the_server_install_hint_keeps_its_extra(monkeypatch):
    import xlplan.excel

    def missing():
        raise ImportError("No module named 'uvicorn'", name="uvicorn")

    monkeypatch.setattr(xlplan.excel, "require_license", missing)
    refused(run("serve"), "pip install 'xlplan[excel]'", "uvicorn")


# -- exit status: check and recalc agree ------------------------------------------------------------
def test_check_and_recalc_exit_1_on_errors_and_0_when_clean(tmp_path, clean, slipped):
    assert run("check", clean).exit_code == 0
    assert run("recalc", clean).exit_code == 0
    for command in ("check", "recalc"):
        result = run(command, slipped)
        assert result.exit_code == 1, result.output
        assert "STATED_NOT_COMPUTED" in result.stdout and result.stderr == ""
    assert run("check", clean, slipped).exit_code == 1
    assert run("check", clean, tmp_path / "missing.xlsx").exit_code == 2  # unreadable outranks findings


def test_the_exit_statuses_are_in_the_help():
    for args in ([], ["check"], ["recalc"]):
        text = run(*args, "--help").stdout
        assert "Exit status:" in text and "1  a plan has errors" in text and "2  a usage mistake" in text


# -- output for people and for programs -------------------------------------------------------------
def test_piped_output_is_one_line_per_finding(slipped):
    result = run("check", slipped)
    finding = [line for line in result.stdout.splitlines() if "STATED_NOT_COMPUTED" in line]
    assert len(finding) == 1 and len(finding[0]) > 80  # longer than a terminal, still one line
    assert finding[0].startswith("  error 推动计划及预算 › AD")


def test_json_for_programs(tmp_path, clean, slipped):
    one = json.loads(run("check", slipped, "--json").stdout)
    assert one["file"] == "slipped.xlsx" and any(f["code"] == "STATED_NOT_COMPUTED" for f in one["findings"])
    both = json.loads(run("check", clean, slipped, "--json").stdout)
    assert [r["file"] for r in both] == ["clean.xlsx", "slipped.xlsx"]
    recalc = run("recalc", slipped, "--json", "-")
    assert recalc.exit_code == 1 and json.loads(recalc.stdout)["findings"] == one["findings"]
    listed = json.loads(run("templates", "--json").stdout)
    assert {t["id"] for t in listed} >= {"annual_plan", "kpi_scorecard", "support_plan"}
    described = json.loads(run("describe", "annual_plan", "--json").stdout)
    assert described["template"] == "annual_plan" and described["blocks"]


def test_describe_lists_the_parameters_with_types_and_defaults():
    result = run("describe", "annual_plan", "--lang", "en")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.strip()}
    assert rows["action_rows"] == ["whole", "number", "30"]
    assert rows["segments"] == ["list", "Top,Near-top,Ordinary"]
    params = {p["name"]: p for p in json.loads(run("describe", "annual_plan", "--json").stdout)["parameters"]}
    assert params["market_rows"] == {"name": "market_rows", "type": "whole number", "default": 10}
    assert "lang" not in params and "year" not in params  # set by --lang and --year, not --param


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"xlplan {__version__}\n"


def test_help_reads_like_a_command_line_tool():
    for args in ([], ["new"], ["check"], ["recalc"], ["merge"], ["describe"], ["token", "revoke"]):
        text = run(*args, "--help").stdout
        assert text.startswith("Usage: xlplan")
        for typer_label in ("<bool>", "<str>", "<int>", "<path>", "list[", "{"):
            assert typer_label not in text, (args, typer_label, text)
    new_help = run("new", "--help").stdout
    assert "Usage: xlplan new [OPTIONS] TEMPLATE" in new_help
    assert "--param KEY=VALUE" in new_help and "Examples:" in new_help
    assert "Usage: xlplan check [OPTIONS] FILE.xlsx..." in run("check", "--help").stdout
    assert "XLPLAN_TEMPLATES" in run("--help").stdout
    assert "xlplan_tokens.json" in run("token", "--help").stdout


def test_the_python_api_shows_short_results(slipped):
    import xlplan

    result = xlplan.check(slipped)
    shown = repr(result)
    assert len(shown) < 300 and "slipped.xlsx" in shown and "1 errors" in shown
    assert len(repr(result.plan)) < 300 and "annual_plan" in repr(result.plan)
    assert len(str(result.as_json())) > 10_000  # everything is still there for who asks


def test_the_python_api_checks_parameters_as_the_command_does(tmp_path):
    import xlplan
    from xlplan.model import TemplateError

    out = tmp_path / "a.xlsx"
    with pytest.raises(TemplateError, match=r"annual_plan: the parameter 'action_rows' must be a whole number"):
        xlplan.new("annual_plan", unit="北区营业部", year=2027, output=out, params={"action_rows": "many"})
    with pytest.raises(TemplateError, match=r"annual_plan has no parameter 'region'"):
        xlplan.new("annual_plan", unit="北区营业部", year=2027, output=out, params={"region": ["A"]})
    assert not out.exists()
    xlplan.new("annual_plan", unit="北区营业部", year=2027, output=out, params={"action_rows": 12.0})
    assert xlplan.check(out).plan.template.tables["actions"].size == 12


def test_new_with_the_shipped_sample_figures(tmp_path):
    made = run("new", "support_plan", "--unit", "客服部", "--year", "2027", "--sample", "-o", tmp_path / "s.xlsx")
    assert made.exit_code == 0, made.output
    assert run("check", tmp_path / "s.xlsx").exit_code == 0  # the sample adds up
    refused(run(*NEW, "--year", "2027", "--sample", "--data", tmp_path / "s.xlsx", "-o", tmp_path / "a.xlsx"),
            "--sample", "--data")


def test_an_install_without_templates_or_samples_says_so(tmp_path, monkeypatch):
    from xlplan import demo
    from xlplan.template import spec

    monkeypatch.setattr(spec, "TEMPLATE_DIR", tmp_path / "no-templates")
    refused(run("templates"), "no templates found", "no-templates")
    refused(run("new", "annual_plan", "--unit", "x", "--year", "2027", "-o", tmp_path / "a.xlsx"),
            "no template 'annual_plan'")
    monkeypatch.setattr(demo, "SAMPLES", tmp_path / "no-samples")
    refused(run("demo", "-o", tmp_path / "demo"), "no-samples", "missing")
    assert not (tmp_path / "demo" / "inbox").exists()  # nothing claimed, nothing written
