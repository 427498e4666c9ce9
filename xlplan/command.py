"""What every `xlplan` command shares: exit codes, the one error handler, help, output.

A command is a plain function on an `App` (a typer.Typer set up the way below). It
prints through `out` and `err`, and signals a user's mistake by raising: `fail(...)`,
an `XlplanError` from the package, or an `OSError` about a path the user gave. The
group's `main` turns every one of those into ONE line on stderr, `xlplan: <message>`,
and the exit status below; a traceback is left for programming errors only.

Output is literal: text is never read as Rich markup (`plan[v2].xlsx`,
`pip install 'xlplan[excel]'` print as typed). On a terminal it has colour and tables
with borders; when piped or redirected it is plain, one record per line, never wrapped,
so `grep` and scripts see whole lines. `--json` is for programs.
"""
from __future__ import annotations

import errno
import json
import sys
from enum import IntEnum
from typing import Any, Iterable, NoReturn, Sequence

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer import _click
from typer.core import TyperArgument, TyperCommand, TyperGroup

from .model import XlplanError


class ExitStatus(IntEnum):
    """The exit status of every command (documented in `xlplan --help` and the README)."""

    OK = 0         # done; a plan, if any, has no errors
    FINDINGS = 1   # done, and a plan has findings of severity error (check, recalc)
    USAGE = 2      # a usage mistake or input that cannot be used; nothing was done with it


EXIT_STATUS_HELP = """\b
Exit status:
  0  done; no plan has errors
  1  a plan has errors (check, recalc)
  2  a usage mistake, or an input that cannot be used"""


class Refused(XlplanError):
    """A user's mistake found by the command line itself (a bad option value, an unknown key)."""

    def __init__(self, message: str, code: int = ExitStatus.USAGE):
        super().__init__(message)
        self.code = int(code)


def fail(message: str, code: int = ExitStatus.USAGE) -> NoReturn:
    raise Refused(message, code)


def describe_error(exc: BaseException) -> tuple[str, int] | None:
    """A user's mistake as (one line, exit status); None for anything else (a programming error)."""
    if isinstance(exc, Refused):
        return str(exc), exc.code
    if isinstance(exc, XlplanError):
        return str(exc), ExitStatus.USAGE
    if isinstance(exc, IsADirectoryError):
        return f"{exc.filename}: is a folder; give a file", ExitStatus.USAGE
    if isinstance(exc, NotADirectoryError):
        return f"{exc.filename}: a file stands where a folder is needed", ExitStatus.USAGE
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: no such file", ExitStatus.USAGE
    if isinstance(exc, OSError) and exc.errno != errno.EPIPE:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", ExitStatus.USAGE
    return None


# -- output ---------------------------------------------------------------------------
class Printer:
    """Literal output to stdout or stderr: styled on a terminal, plain and unwrapped otherwise."""

    def __init__(self, stderr: bool = False):
        self.stderr = stderr

    @property
    def console(self) -> Console:
        # made per call: the stream (sys.stdout under a test runner) and its terminal-ness can change
        return Console(stderr=self.stderr, markup=False, highlight=False, emoji=False,
                       soft_wrap=not self.is_terminal)

    @property
    def is_terminal(self) -> bool:
        stream = sys.stderr if self.stderr else sys.stdout
        return bool(getattr(stream, "isatty", lambda: False)())

    def line(self, *parts: str | tuple[str, str]) -> None:
        """One line from literal parts; a part (text, style) is styled on a terminal only."""
        self.console.print(Text.assemble(*parts), soft_wrap=not self.is_terminal)

    def raw(self, text: str) -> None:
        """Text exactly as given (a manifest, a token): nothing added, nothing styled."""
        stream = sys.stderr if self.stderr else sys.stdout
        stream.write(text)
        stream.flush()

    def json(self, data: Any) -> None:
        self.raw(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
        """A table: bordered on a terminal; otherwise a header line and one aligned line per row."""
        rows = [["" if v is None else str(v) for v in row] for row in rows]
        if self.is_terminal:
            table = Table(*headers, title=title)
            for row in rows:
                table.add_row(*(Text(v) for v in row))
            self.console.print(table)
            return
        if title:
            self.line(title)
        widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows if i < len(r)]) for i, h in enumerate(headers)]
        for row in [list(headers)] + rows:
            cells = [v + " " * (w - cell_len(v)) for v, w in zip(row, widths)]
            self.line("  ".join(cells).rstrip())


out = Printer()
err = Printer(stderr=True)


def report_error(message: str, command_path: str = "xlplan") -> None:
    err.line((f"{command_path}:", "bold red"), " ", message)


# -- the command group and its commands -------------------------------------------------
class Command(TyperCommand):
    """A command whose usage line reads like click's: `xlplan new [OPTIONS] TEMPLATE`."""

    def collect_usage_pieces(self, ctx):
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or param.name.upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
        return pieces


class Group(TyperGroup):
    """The `xlplan` group: the one place where a user's mistake becomes a line and an exit status."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
            code = code if isinstance(code, int) else ExitStatus.OK
        except _click.exceptions.NoArgsIsHelpError as exc:
            out.raw(exc.format_message() + "\n")
            code = ExitStatus.USAGE
        except _click.exceptions.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            path = ctx.command_path if ctx is not None else "xlplan"
            hint = f" (see '{path} --help')" if ctx is not None else ""
            report_error(exc.format_message().rstrip(".") + hint, path)
            code = exc.exit_code
        except (typer.Abort, KeyboardInterrupt, EOFError):
            err.line("aborted")
            code = 130
        except Exception as exc:  # noqa: BLE001 -- sorted just below: a user's mistake, or re-raised
            described = describe_error(exc)
            if described is None:
                raise
            message, code = described
            report_error(message)
        if not standalone_mode:
            return int(code)
        sys.exit(int(code))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for command in [self, *self.commands.values()]:
            for param in command.params:
                _label(param)

    def collect_usage_pieces(self, ctx):
        return [self.options_metavar, self.subcommand_metavar]


def _label(param) -> None:
    """Help shows OPTION VALUE with an upper-case name, never typer's `<str>` or `<list[Path]>`."""
    if isinstance(param, TyperArgument):
        param.metavar = param.metavar or param.name.upper()
        # the argument's name says it: no "<str>" beside it (typer has no option for this)
        param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
    elif getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.metavar = ""
    elif param.metavar is None:
        param.metavar = param.name.upper()


class App(typer.Typer):
    """typer.Typer with xlplan's group, commands, plain help and labels."""

    def __init__(self, **kwargs):
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", None)  # plain help: nothing in it is read as markup
        kwargs.setdefault("pretty_exceptions_show_locals", False)
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(**kwargs)

    def command(self, name=None, *, cls=None, **kwargs):
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        register = super().command(name, cls=cls or Command, **kwargs)

        def decorator(function):
            register(function)
            return function

        return decorator
