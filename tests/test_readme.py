"""README.md says what xlplan does: every `$` command and every Python example is run.

The commands run in README order in one empty folder with this environment's `xlplan`;
tests/test_wheel.py runs the same tour with the wheel installed in a clean environment.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import readme_tour as tour


def test_every_readme_command_prints_what_the_readme_shows(tmp_path):
    commands = tour.run_tour(Path(sys.executable).parent, tmp_path)
    assert len(commands) >= 15  # the tour is there: versions, templates, new, recalc, check, merge, tokens
    problems = tour.differences(commands) + tour.run_pycon(Path(sys.executable), tmp_path)
    assert not problems, "\n\n".join(problems)


def test_the_readme_yaml_is_the_template_s_own_text():
    readme = tour.README.read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    template = (tour.ROOT / "templates" / "annual_plan.yaml").read_text(encoding="utf-8")
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    assert lines and all(line in template for line in lines), [line for line in lines if line not in template]


def test_a_difference_is_reported_with_its_line():
    readme = "intro\n```console\n$ echo hello\nhullo\n$ false   # exit status 1\n```\n"
    commands = tour.console_commands(readme)
    assert [(c.text, c.expected, c.status, c.span) for c in commands] == [
        ("echo hello", ["hullo"], 0, (3, 4)), ("false   # exit status 1", [], 1, (5, 5))]
    commands[0].output, commands[0].exit_status = ["hello"], 0
    commands[1].output, commands[1].exit_status = [], 0
    problems = tour.differences(commands)
    assert len(problems) == 2 and "README.md:3: $ echo hello" in problems[0] and "README: hullo" in problems[0]
    assert "exit status 0 (README: 1)" in problems[1]
    assert tour.updated(readme, commands).splitlines()[3] == "hello"


def test_only_paths_tokens_and_times_are_tolerated():
    assert tour.normalise("annual_plan  1.0  /opt/venv/lib/python3.11/site-packages/xlplan/shipped/templates/"
                          "annual_plan.yaml") == "annual_plan  1.0  …/templates/annual_plan.yaml"
    assert tour.normalise("xlp_" + "a" * 43) == "xlp_…"
    assert tour.normalise("北区  2026-12-02T00:51:14+00:00") == "北区  <time>"
    assert tour.normalise("2026-12-02 08:51  北区") == "<time>  北区"  # a time as HQ's clock shows it (--tz)
    assert tour.normalise("8 files: 8 new") != tour.normalise("9 files: 9 new")
