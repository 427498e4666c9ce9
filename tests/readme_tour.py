"""The README's tour, run as a user runs it: every command of every ```console block.

The blocks are run in README order in one empty folder, each `$` command by bash (a
trailing `\\` continues it on the next line), with the `xlplan` of a given environment
first on PATH. What a command prints (stdout and stderr together, as a terminal shows
them) must equal the lines under it in the README, after `normalise`; a command whose
line says `# exit status N` must exit with N, any other with 0. The ```pycon blocks are
then run as doctests in the same folder.

    python tests/readme_tour.py            # check README.md against a real run
    python tests/readme_tour.py --update   # rewrite the outputs in README.md from a real run
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^( *)```(\w*)[^\n]*\n(.*?)^\1```$", re.S | re.M)  # indented inside a list item too
EXIT_STATUS = re.compile(r"#.*\bexit status (\d+)")

# What legitimately differs between one run and the next, or one machine and the next;
# the ONLY tolerance in the comparison: each is replaced by a fixed text on both sides.
VARIABLE = (
    (re.compile(r"\S*/templates/(?=[\w-]+\.yaml)"), "…/templates/"),   # where xlplan is installed
    (re.compile(r"\bxlp_[A-Za-z0-9_-]{20,}"), "xlp_…"),                  # a new token each time
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?"), "<time>"),
)


def normalise(line: str) -> str:
    for pattern, replacement in VARIABLE:
        line = pattern.sub(replacement, line)
    return line.rstrip()


@dataclass
class Command:
    text: str                  # as given to bash, continuation lines joined
    expected: list[str]        # the README's lines under it
    status: int                # the exit status the README promises
    span: tuple[int, int]      # where its output lines sit in README.md (line numbers, end exclusive)
    indent: str = ""           # the block's indentation in README.md
    output: list[str] = field(default_factory=list)
    exit_status: int | None = None


def console_commands(readme: str) -> list[Command]:
    """Every `$` command of every ```console block with the output lines the README gives it."""
    commands: list[Command] = []
    for match in FENCE.finditer(readme):
        indent, kind, body = match.groups()
        if kind != "console":
            continue
        first = readme.count("\n", 0, match.start(3))
        lines = [line[len(indent):] for line in body.splitlines()]
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                raise ValueError(f"README.md:{first + i + 1}: a console block starts each command with '$ '")
            text = lines[i][2:]
            while text.endswith("\\"):
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            i += 1
            start = i
            while i < len(lines) and not lines[i].startswith("$ "):
                i += 1
            status = EXIT_STATUS.search(text)
            commands.append(Command(text, lines[start:i], int(status.group(1)) if status else 0,
                                    (first + start, first + i), indent))
    return commands


def pycon_blocks(readme: str) -> list[tuple[int, str]]:
    return [(readme.count("\n", 0, m.start(3)) + 1, m.group(3)) for m in FENCE.finditer(readme)
            if m.group(2) == "pycon"]


def environment(bin_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLPLAN_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1", LANG="C.UTF-8",
               LC_ALL="C.UTF-8", NO_COLOR="1", COLUMNS="80")
    return env


def run_tour(bin_dir: Path, folder: Path, readme: str | None = None) -> list[Command]:
    """Run every console command in `folder` with `bin_dir` first on PATH; each Command gets its output."""
    readme = README.read_text(encoding="utf-8") if readme is None else readme
    env = environment(bin_dir)
    commands = console_commands(readme)
    for command in commands:
        done = subprocess.run(["bash", "-c", command.text], cwd=folder, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600)
        command.output = [normalise(line) for line in done.stdout.splitlines()]
        command.exit_status = done.returncode
    return commands


def run_pycon(python: Path, folder: Path, readme: str | None = None) -> list[str]:
    """Run the ```pycon blocks as doctests with `python` in `folder`; the failures as text."""
    readme = README.read_text(encoding="utf-8") if readme is None else readme
    failures = []
    for line, block in pycon_blocks(readme):
        script = ("import doctest, sys\n"
                  f"test = doctest.DocTestParser().get_doctest({block!r}, {{}}, 'README.md', 'README.md', {line})\n"
                  "runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)\n"
                  "runner.run(test)\n"
                  "sys.exit(1 if runner.failures else 0)\n")
        done = subprocess.run([str(python), "-c", script], cwd=folder, env=environment(python.parent),
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            failures.append(f"README.md:{line}: the pycon block fails:\n{done.stdout}{done.stderr}")
    return failures


def differences(commands: list[Command]) -> list[str]:
    """Every command whose output or exit status is not what the README says, as readable text."""
    problems = []
    for c in commands:
        expected = [normalise(line) for line in c.expected]
        if c.output != expected or c.exit_status != c.status:
            diff = "\n".join(f"    README: {e}\n    run:    {o}" for e, o in
                             zip(expected + [""] * len(c.output), c.output + [""] * len(expected))
                             if e != o)
            problems.append(f"README.md:{c.span[0]}: $ {c.text}\n  exit status {c.exit_status} "
                            f"(README: {c.status})\n{diff}")
    return problems


def updated(readme: str, commands: list[Command]) -> str:
    """The README with each command's output lines replaced by what the run printed."""
    lines = readme.split("\n")
    for c in sorted(commands, key=lambda c: c.span[0], reverse=True):
        lines[c.span[0]:c.span[1]] = [(c.indent + line).rstrip() for line in c.output]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="xlplan-tour-") as folder:
        commands = run_tour(bin_dir, Path(folder))
        if "--update" in argv:
            README.write_text(updated(README.read_text(encoding="utf-8"), commands), encoding="utf-8")
            print(f"updated the output of {len(commands)} commands in {README}")
            return 0
        problems = differences(commands) + run_pycon(Path(sys.executable), Path(folder))
    print("\n".join(problems) or f"README.md: {len(commands)} commands as the README says")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
