"""The `xlplan` command: thin; it parses arguments, calls the package and prints.

What every command shares (exit statuses, the one error handler, plain or styled output,
help layout) lives in command.py: a command raises `fail(...)` or lets an XlplanError
or an OSError about a user's path go, and prints through `out` and `err`.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__, shipped
from .command import EXIT_STATUS_HELP, App, ExitStatus, describe_error, err, fail, out, report_error
from .model import XlplanError, text
from .template import spec
from .texts import LANGUAGES, language, pick
from .workbook import recalculation as recalc

app = App(name="xlplan", help="Excel-native planning: templates, workbooks, recalculation, checks and HQ's merge.",
          epilog=f"""
\b
Examples:
  xlplan templates
  xlplan describe annual_plan
  xlplan new annual_plan --unit 北区营业部 --year 2027 -o north.xlsx
  xlplan recalc north.xlsx
  xlplan check inbox/*.xlsx --json
  xlplan merge inbox/ --roster roster.csv -o hq/consolidated.xlsx

\b
Templates: the ones shipped with xlplan, after any found in the folders of
XLPLAN_TEMPLATES (separated by '{os.pathsep}'): HQ's own sets come first.
{EXIT_STATUS_HELP}
""")



def _version(value: bool):
    if value:
        out.line(f"xlplan {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                             help="print the version and exit")):
    """Excel-native planning: templates, workbooks, recalculation, checks and HQ's merge."""


def parse_params(pairs: list[str]) -> dict:
    """--param regions=A区,B区 → {"regions": ["A区", "B区"]}; JSON values are taken as JSON."""
    params = {}
    for pair in pairs:
        if "=" not in pair:
            fail(f"--param {pair!r} must be KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value.split(",") if "," in value else value
    return params


def load_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        fail(f"{what} {path}: not UTF-8 text")
    except ValueError as exc:
        fail(f"{what} {path}: not valid JSON ({exc})")
    if not isinstance(data, dict):
        fail(f"{what} {path}: must be a JSON object keyed by block names")
    return data


def _lang(lang: str) -> str:
    """A --lang value as xlplan's BCP 47 code (zh is zh-Hans, zh-TW is zh-Hant)."""
    try:
        return language(lang)
    except XlplanError as exc:
        fail(f"--lang: {exc}")


def _zone(name: str | None):
    """A --tz value as a time zone (None: the machine's)."""
    from .hq import report

    try:
        return report.time_zone(name)
    except XlplanError as exc:
        fail(f"{_tz_source(name)}: {exc}")


def _tz_source(name: str | None) -> str:
    """Where the zone came from, for its error: --tz, or the XLPLAN_TZ variable standing in for it
    (a name equal to the variable's may have come from either: both are named)."""
    return "--tz (or XLPLAN_TZ)" if name == os.environ.get("XLPLAN_TZ") else "--tz"


JSON_FLAG = typer.Option(False, "--json", help="print JSON (for programs)")
TZ_OPTION = typer.Option(None, "--tz", metavar="ZONE", envvar="XLPLAN_TZ", show_envvar=True,
                         help="show times in this zone, an IANA name such as Asia/Taipei (default: the machine's)")
PARAM_OPTION = typer.Option([], "--param", metavar="KEY=VALUE",
                            help="a cycle parameter (see xlplan describe TEMPLATE), e.g. regions=A,B; repeatable")


@app.command()
def templates(as_json: bool = JSON_FLAG):
    """List the templates: id, version, title, file."""
    rows = []
    for template_id, path in spec.available().items():
        try:
            found = spec.load(template_id)
            titles = dict.fromkeys(text(found.title, lang) for lang in LANGUAGES)
            rows.append({"id": found.id, "version": found.version, "title": " / ".join(titles),
                         "file": str(path)})
        except XlplanError as exc:
            rows.append({"id": template_id, "version": "?", "title": f"cannot load: {exc}", "file": str(path)})
    if not rows:
        fail(f"no templates found in {', '.join(str(d) for d in spec.template_dirs())}")
    if as_json:
        out.json(rows)
        return
    out.table(("id", "version", "title", "file"), [list(r.values()) for r in rows])


def _type_name(value) -> str:
    if value is None:
        return "text list"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict) and value and set(value) <= set(LANGUAGES) | {"zh"}:
        return _type_name(next(iter(value.values())))  # one value per language: shown in --lang's
    if isinstance(value, dict):
        return "mapping"
    return "text"


def _short(value, lang: str) -> str:
    if value is None:
        return "(the template's own)"
    if isinstance(value, dict) and value and set(value) <= set(LANGUAGES) | {"zh"}:
        value = pick(value, lang)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ",".join(str(v) for v in value)
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 60 else f"({len(value)} entries; see --json)"


def describe_rows(template, lang: str) -> list[dict]:
    rows = []
    for sheet in template.sheets:
        for section in sheet.sections:
            for block in section.blocks + section.totals:
                if block.table:
                    shape = f"{section.table} rows"
                else:
                    nrows, ncols = template.shape(block)
                    axes = " × ".join(a for a in (block.rows, block.cols) if a) or "cell"
                    shape = f"{nrows}×{ncols} ({axes})"
                rows.append({"name": block.name, "label": text(block.label, lang), "role": block.role,
                             "shape": shape, "unit": block.unit, "sheet": text(sheet.title, lang),
                             "formula": block.formula})
    return rows


@app.command(epilog="""
\b
Examples:
  xlplan describe annual_plan
  xlplan describe annual_plan --lang en --param regions=East,West
  xlplan describe kpi_scorecard --json
""")
def describe(template: str = typer.Argument(..., help="a template id (see xlplan templates)"),
             lang: str = typer.Option("zh-Hans", "--lang", help="labels in zh-Hans, zh-Hant or en (zh: zh-Hans)"),
             as_json: bool = JSON_FLAG,
             param: List[str] = PARAM_OPTION):
    """List a template's parameters and named blocks.

    Parameters (set with --param KEY=VALUE) with their type and default; blocks with
    their label, role (input, given by HQ, computed), shape, unit and sheet.
    """
    params = parse_params(param)
    params = spec.check_parameters(template, params)
    loaded = spec.load(template, {**params, "lang": _lang(lang)})
    defaults = spec.parameters(template)
    parameters = [{"name": k, "type": _type_name(v), "default": v} for k, v in defaults.items()]
    rows = describe_rows(loaded, lang)
    if as_json:
        out.json({"template": loaded.id, "version": loaded.version, "parameters": parameters, "blocks": rows})
        return
    out.table(("parameter", "type", "default"), [(p["name"], p["type"], _short(p["default"], lang))
                                                 for p in parameters],
              title=f"{loaded.id} {loaded.version}: parameters (--param KEY=VALUE)")
    out.line("")
    out.table(("name", "label", "role", "shape", "unit", "sheet"),
              [(r["name"], r["label"], r["role"], r["shape"], r["unit"], r["sheet"]) for r in rows],
              title=f"{loaded.id} {loaded.version}: blocks")


@app.command(epilog="""
\b
Examples:
  xlplan new annual_plan --unit 北区营业部 --year 2027 --sample -o north.xlsx
  xlplan new annual_plan --unit 北区营业部 --year 2027 --data north.json -o north.xlsx
  xlplan new annual_plan --unit North --year 2027 --lang en --param regions=East,West -o north-en.xlsx
  xlplan new kpi_scorecard --unit 客服一组 --year 2027 --period 2027-01 -o team1.xlsx
""")
def new(template: str = typer.Argument(..., help="a template id (see xlplan templates)"),
        unit: str = typer.Option(..., "--unit", help="the unit (department, branch, team)"),
        year: int = typer.Option(..., "--year", help="the plan's year, e.g. 2027"),
        lang: str = typer.Option("zh-Hans", "--lang", help="labels in zh-Hans, zh-Hant or en (zh: zh-Hans)"),
        period: str = typer.Option("", "--period", metavar="YYYY-MM", help="the month of a monthly scorecard"),
        data: Optional[Path] = typer.Option(None, "--data", metavar="FILE.json", dir_okay=False, exists=True,
                                            help="inputs to pre-fill, keyed by block name"),
        sample: bool = typer.Option(False, "--sample", help="pre-fill with the sample figures shipped with xlplan"),
        param: List[str] = PARAM_OPTION,
        output: Path = typer.Option(..., "-o", "--output", metavar="FILE.xlsx", dir_okay=False,
                                    help="the workbook to write")):
    """Build a fresh workbook of TEMPLATE for one unit and cycle."""
    from .template import generate

    cycle = generate.Cycle(unit=unit, year=year, lang=lang, period=period)  # refuses a bad year, period, language
    if sample and data:
        fail("--sample and --data: give one of them")
    if sample:
        data = shipped.folder("samples") / f"{template}.json"
        if not data.is_file():
            fail(f"{template} has no sample figures (samples: {', '.join(shipped.samples()) or 'none'})")
    values = load_json(data, "--data") if data else {}
    params = {**values.pop("params", {}), **parse_params(param)}
    params = spec.check_parameters(template, params)
    cycle = dataclasses.replace(cycle, params=params)
    loaded = spec.load(template, cycle.template_params())
    path = generate.write(loaded, cycle, output, values)
    out.line(f"wrote {path}")


def print_findings(results) -> None:
    """Per file one line of counts, then one line per finding: severity, sheet › cell, message, code."""
    for r in results:
        counts = r.counts()
        out.line((str(r.plan.file), "bold"), f": {counts['error']} errors, {counts['warning']} warnings, "
                 f"{counts['info']} notes")
        for f in r.findings:
            colour = {"error": "red", "warning": "yellow", "info": "blue"}[f.severity]
            where = f"{f.cell.sheet} › {f.cell.address}: " if f.cell and f.cell.address else ""
            out.line("  ", (f.severity, colour), f" {where}{f.message} ", (f"({f.code})", "dim"))


def findings_status(results) -> int:
    return ExitStatus.FINDINGS if any(r.errors for r in results) else ExitStatus.OK


@app.command("recalc", epilog=f"""
\b
Examples:
  xlplan recalc north.xlsx
  xlplan recalc north.xlsx -o north-checked.xlsx --json north.json
  xlplan recalc north.xlsx --json -          # the report on stdout, for a program
{EXIT_STATUS_HELP}
""")
def recalc_cmd(file: Path = typer.Argument(..., metavar="FILE.xlsx", help="the workbook", exists=True,
                                         dir_okay=False),
               output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE.xlsx", dir_okay=False,
                                                     help="write here (default: in place)"),
               report: Optional[str] = typer.Option(None, "--json", metavar="FILE.json",
                                                    help="write the JSON report here; '-' prints it")):
    """Recalculate a workbook and write the results into it.

    Reads what people typed (cached values are never trusted), computes every block,
    stores the results as the formulas' cached values, refills the Checks sheet and
    marks the cells with findings.
    """
    if report and report != "-" and Path(report).is_dir():
        fail(f"--json {report}: is a folder; give a file")
    result = recalc.recalc_file(file, output, report if report != "-" else None)
    if report == "-":
        out.json(result.as_json())
    else:
        print_findings([result])
        out.line(f"wrote {output or file}")
    raise typer.Exit(findings_status([result]))


@app.command(epilog=f"""
\b
Examples:
  xlplan check north.xlsx
  xlplan check inbox/*.xlsx --json
{EXIT_STATUS_HELP}
""")
def check(files: List[Path] = typer.Argument(..., metavar="FILE.xlsx", help="workbooks to check"),
          as_json: bool = JSON_FLAG):
    """Check workbooks: print the findings, write nothing."""
    results, broken = [], []
    for file in files:
        try:
            if file.is_dir():
                fail(f"{file}: is a folder; give workbook files (e.g. {file}/*.xlsx)")
            results.append(recalc.check_file(file))
        except (XlplanError, OSError) as exc:  # the other files are still checked
            described = describe_error(exc)
            if described is None:  # a broken pipe: not the file's fault, the one error handler's to say
                raise
            report_error(described[0])
            broken.append(str(file))
    if as_json:
        out.json([r.as_json() for r in results] if len(files) != 1 else (results[0].as_json() if results else None))
    else:
        print_findings(results)
    raise typer.Exit(ExitStatus.USAGE if broken else findings_status(results))


@app.command("merge", epilog="""
\b
Examples:
  xlplan merge inbox/ --roster roster.csv -o hq/consolidated.xlsx --report hq/status.html
  xlplan merge inbox/ --db postgresql+psycopg://hq@dbhost/plans
  xlplan merge inbox/ --json          # the summary as JSON, for a program
\b
In folders and globs only .xlsx and .xlsm files count; Excel's lock files (~$*), hidden
and temporary files, and the consolidated workbook this merge writes are skipped and
listed. Rejected plans are part of a normal merge (exit status 0); 2 when it cannot run.
""")
def merge_cmd(inputs: List[str] = typer.Argument(..., metavar="INPUT", help="workbooks, folders or glob patterns"),
              db: Optional[str] = typer.Option(None, "--db", metavar="URL",
                                               help="SQLAlchemy URL (default: sqlite:///hq.db beside the "
                                                    "consolidated workbook)"),
              roster: Optional[Path] = typer.Option(None, "--roster", metavar="FILE.csv", dir_okay=False,
                                                    exists=True, help="CSV: unit, template, period, due"),
              output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE.xlsx", dir_okay=False,
                                                    help="the consolidated workbook"),
              report: Optional[Path] = typer.Option(None, "--report", metavar="FILE.html", dir_okay=False,
                                                    help="the status page"),
              scheduler: Optional[str] = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                                      help="Dask scheduler, e.g. tcp://host:8786"),
              workers: Optional[int] = typer.Option(None, "--workers", min=0,
                                                    help="processes (default: every core; 0 runs in this process)"),
              lang: str = typer.Option("zh-Hans", "--lang",
                                       help="language of the consolidated workbook and status page: "
                                       "zh-Hans, zh-Hant or en"),
              use: str = typer.Option("approved", "--use", help="which plan of a unit to consolidate: approved "
                                      "(HQ's review) or accepted (the latest without errors)"),
              tz: Optional[str] = TZ_OPTION,
              as_json: bool = JSON_FLAG):
    """Merge submissions into HQ's database and consolidate.

    Stores every file once (by its SHA-256), writes the consolidated workbook and the
    status page when asked.
    """
    if use not in ("approved", "accepted"):
        fail(f"--use {use!r}: choose approved or accepted")
    zone = _zone(tz)
    from sqlalchemy.exc import OperationalError

    from .hq import merge, store

    url = db or f"sqlite:///{(output.parent if output else Path('.')) / 'hq.db'}"
    try:
        with store.Store(url) as hq:
            total = sum(1 for _ in merge.expand(inputs, [p for p in (output, report) if p]))
            with _progress(total) as advance:
                outcome = merge.run(inputs, hq, roster=roster, output=output, report_path=report,
                                    scheduler=scheduler, workers=workers, progress=advance, lang=_lang(lang),
                                    basis=use, zone=zone)
    except OperationalError as exc:  # a database locked or gone outside Store's own wrapped writes
        fail(f"{url}: cannot use the database ({exc.orig}); the input files are untouched")
    st = outcome.status
    if as_json:
        out.json(_merge_json(outcome, hq.display_url))
        return
    out.line(f"{outcome.summary} → {hq.display_url}")
    out.line("  " + ", ".join(f"{st.count(s)} {s}" for s in STATUSES) + f"; {len(st.unreadable)} unreadable")
    for name in outcome.summary.rejected_files[:20]:
        out.line("  ", ("rejected", "red"), f" {name}")
    for row in st.rows:
        if row.duplicate_files:  # a copied workbook, or a resubmission under a new name: HQ looks which is meant
            out.line("  ", (f"{len(row.duplicate_files)} files", "yellow"),
                     f" for {row.unit} ({row.template} {row.period}): {', '.join(row.duplicate_files)}; "
                     f"the latest accepted is used")
    _say_skipped(outcome.summary.skipped)
    for problem in outcome.summary.unreadable:
        err.line(("xlplan:", "bold red"), f" skipped {problem}")
    for path in (outcome.workbook, outcome.report):
        if path:
            out.line(f"wrote {path}")


STATUSES = ("accepted", "late", "rejected", "missing", "unexpected")


def _merge_json(outcome, database: str) -> dict:
    summary, st = outcome.summary, outcome.status
    return {"files": summary.seen, "new": summary.new, "already_stored": summary.duplicates,
            "accepted": summary.accepted, "rejected": summary.rejected, "rejected_files": summary.rejected_files,
            "unreadable": summary.unreadable, "skipped": [{"file": f, "why": why} for f, why in summary.skipped],
            "roster": {s: st.count(s) for s in STATUSES}, "database": database,
            "wrote": [str(p) for p in (outcome.workbook, outcome.report) if p]}


def _say_skipped(skipped: list[tuple[str, str]], listed: int = 20) -> None:
    """Files that are no submission: each named (lock files, outputs ...), other kinds of file counted."""
    from .hq.merge import NOT_A_WORKBOOK

    others = [path for path, why in skipped if why == NOT_A_WORKBOOK]
    named = [(path, why) for path, why in skipped if why != NOT_A_WORKBOOK]
    for path, why in named[:listed]:
        out.line("  ", ("skipped", "dim"), f" {path}: {why}")
    if len(named) > listed:
        out.line("  ", ("skipped", "dim"), f" {len(named) - listed} more of these")
    if others:
        out.line("  ", ("skipped", "dim"), f" {len(others)} files that are {NOT_A_WORKBOOK}")


class _progress:
    """A rich progress bar on a terminal; nothing when output goes to a file or a pipe."""

    def __init__(self, total: int, what: str = "merging"):
        self.total = total
        self.what = what
        self.bar = None

    def __enter__(self):
        if err.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TimeRemainingColumn,
            )

            self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=err.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.what, total=self.total)
            return lambda n: self.bar.advance(self.task, n)
        return None

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@app.command()
def demo(output: Path = typer.Option(Path("workbooks/demo"), "-o", "--output", metavar="FOLDER", file_okay=False,
                                     help="folder for the results")):
    """Run a planning cycle on the shipped samples.

    Generates, fills and recalculates the units' workbooks, merges them at HQ and
    prints where every result lies.
    """
    from . import demo as demo_module

    demo_module.run(output, out)


# -- Excel: the add-in server, the add-ins, unit tokens (xlplan/excel) -------------------------
addin_app = App(help="Build the Excel add-ins: the Office manifest, the desktop .xlam.")
token_app = App(help="Unit tokens for the add-in server: issue, revoke, list.",
                epilog="The token file is ./xlplan_tokens.json (in the current folder) unless --tokens or "
                       "XLPLAN_TOKENS names another; it keeps only the tokens' SHA-256.")
app.add_typer(addin_app, name="addin")
app.add_typer(token_app, name="token")
TOKENS_OPTION = typer.Option(Path("xlplan_tokens.json"), "--tokens", metavar="FILE.json", envvar="XLPLAN_TOKENS",
                             dir_okay=False, show_envvar=True,
                             help="the token file (it keeps hashes only)")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port", min=1, max=65535),
          public_url: Optional[str] = typer.Option(None, "--public-url", metavar="URL",
                                                   help="https URL Office reaches this server at "
                                                        "(default https://HOST:PORT)"),
          tokens: Path = TOKENS_OPTION,
          inbox: Path = typer.Option(Path("xlplan_inbox"), "--inbox", metavar="FOLDER", file_okay=False,
                                     help="folder for submitted workbooks"),
          db: Optional[str] = typer.Option(None, "--db", metavar="URL", help="keep submissions in HQ's database "
                                           "instead (SQLAlchemy URL, e.g. sqlite:///hq.db)"),
          hq_url: Optional[str] = typer.Option(None, "--hq-url", metavar="URL",
                                               help="forward submissions to this HQ server"),
          certfile: Optional[Path] = typer.Option(None, "--ssl-certfile", metavar="FILE",
                                                  help="TLS certificate (Office needs https)"),
          keyfile: Optional[Path] = typer.Option(None, "--ssl-keyfile", metavar="FILE", help="TLS private key"),
          dev: bool = typer.Option(False, "--dev", help="use xlwings' free noncommercial key: development only"),
          hq_password_file: Optional[Path] = typer.Option(None, "--hq-password-file", metavar="FILE", dir_okay=False,
                                                          exists=True, help="HQ's web page at /hq (with --db): the "
                                                          "password, first line of FILE (or XLPLAN_HQ_PASSWORD)"),
          tz: Optional[str] = TZ_OPTION):
    """Run the Excel add-in server (pip install 'xlplan[excel]').

    Serves the custom functions, the ribbon's scripts, the task pane, the manifest and
    the submissions endpoint.
    """
    from .excel import LicenseMissing, require_license, use_development_license

    zone = _zone(tz)
    if dev:
        use_development_license()
    try:
        require_license()
        import uvicorn

        from .excel.server import Settings, create_app
    except ImportError as exc:
        fail(f"the add-in server needs extra packages ({exc.name} is missing): pip install 'xlplan[excel]'")
    except LicenseMissing as exc:
        fail(str(exc))
    hq_password = (hq_password_file.read_text(encoding="utf-8").splitlines() or [""])[0].strip() \
        if hq_password_file else os.environ.get("XLPLAN_HQ_PASSWORD", "")
    if hq_password and not db:
        fail("HQ's web page needs HQ's database: give --db as well")
    application = create_app(Settings(public_url=public_url or f"https://{host}:{port}", tokens=tokens,
                                      inbox=inbox, hq_url=hq_url, db=db, hq_password=hq_password or None,
                                      hq_zone=zone))
    uvicorn.run(application, host=host, port=port, ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None)


@addin_app.command("manifest")
def addin_manifest(url: str = typer.Option(..., "--url", help="the server's https URL"),
                   output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FILE.xml", dir_okay=False,
                                                         help="write here (default: print)")):
    """Render the Office add-in manifest (tab xlplan: Recalculate, Check, Submit) for a server URL."""
    from .excel import manifest

    xml = manifest.render(url)
    if output is None:
        out.raw(xml)
        return
    output.write_text(xml, encoding="utf-8")
    out.line(f"wrote {output}")


@addin_app.command("desktop")
def addin_desktop(output: Path = typer.Option(Path("xlplan_addin.xlam"), "-o", "--output", metavar="FILE.xlam",
                                              dir_okay=False)):
    """Build the desktop ribbon add-in (.xlam, from xlwings' ribbon add-in) and the module it calls."""
    from .excel import desktop

    path = desktop.build(output)
    out.line(f"wrote {path} and {path.with_suffix('.py')} (keep them together); the add-in's Python "
             f"interpreter is set in {desktop.SETTINGS_FILE} (Interpreter_Win)")


@token_app.command("issue")
def token_issue(unit: str = typer.Argument(..., help="the unit, as its workbooks name it"),
                tokens: Path = TOKENS_OPTION):
    """Print a new token for UNIT.

    The token is shown once; the token file keeps only its hash.
    """
    from .hq.tokens import Tokens

    out.raw(Tokens(tokens).issue(unit) + "\n")


@token_app.command("revoke")
def token_revoke(unit: str = typer.Argument(..., help="the unit whose tokens to withdraw"),
                 tokens: Path = TOKENS_OPTION):
    """Revoke every token of UNIT.

    Exit status 2 when UNIT has no token to revoke.
    """
    from .hq.tokens import Tokens

    book = Tokens(tokens)
    units = sorted({e["unit"] for e in book.units() if not e["revoked"]})
    if unit not in units:
        fail(f"{unit}: no token to revoke in {tokens} (units with tokens: {', '.join(units) or 'none'})")
    count = book.revoke(unit)
    out.line(f"revoked {count} token(s) of {unit}")


@token_app.command("list")
def token_list(tokens: Path = TOKENS_OPTION, as_json: bool = JSON_FLAG):
    """List the units with tokens, when issued, whether revoked."""
    from .hq.tokens import Tokens

    entries = Tokens(tokens).units()
    if as_json:
        out.json(entries)
        return
    out.table(("unit", "issued", "revoked"), [(e["unit"], e["issued"], e["revoked"] or "") for e in entries])
# -- end of Excel commands -----------------------------------------------------------------------

# -- HQ's planning cycle: distribute, review, diff, actuals (xlplan/hq) -------------------------
HQ_DB_OPTION = typer.Option("sqlite:///hq.db", "--db", metavar="URL", envvar="XLPLAN_DB", show_envvar=True,
                            help="HQ's database (SQLAlchemy URL)")


def _store(url: str):
    from .hq.store import Store

    return Store(url)


@app.command(epilog="""
\b
Examples:
  xlplan distribute --roster roster.csv --given given.csv -o outbox/
  xlplan distribute --roster roster.csv -o outbox/ --tokens xlplan_tokens.json --zip-by-region
\b
roster.csv: unit, template, period (2027 or 2027-01), and optionally due, region, lang, year.
given.csv: unit, block, value, and optionally row, col (1-based); unit * is every unit.
""")
def distribute(roster: Path = typer.Option(..., "--roster", metavar="FILE.csv", dir_okay=False, exists=True,
                                           help="who gets which template for which period"),
               given: Optional[Path] = typer.Option(None, "--given", metavar="FILE.csv", dir_okay=False, exists=True,
                                                    help="HQ's given values (targets, weights) by unit"),
               output: Path = typer.Option(..., "-o", "--output", metavar="FOLDER", file_okay=False,
                                           help="the outbox: one workbook per roster line"),
               db: str = HQ_DB_OPTION,
               tokens: Optional[Path] = typer.Option(None, "--tokens", metavar="FILE.json", dir_okay=False,
                                                     help="also issue each unit a token (kept here as hashes; "
                                                          "the tokens go to OUTBOX/tokens.csv)"),
               zip_by_region: bool = typer.Option(False, "--zip-by-region", help="one zip per roster region")):
    """Write every unit's personalised workbook and record what HQ issued.

    Given cells (grey, locked) are filled from the given file; the store keeps every
    issued given value, and a merge rejects a submission whose given cells differ.
    """
    from .hq import distribute as distribute_module

    lines = distribute_module.read_roster(roster)
    with _store(db) as hq, _progress(len(lines), "writing") as advance:
        issued = distribute_module.distribute(hq, roster, output, given, tokens=tokens,
                                              zip_by_region=zip_by_region, progress=advance)
    out.line(f"wrote {len(issued.files)} workbooks to {output}; {issued.cells} given cells recorded in {db}")
    for z in issued.zips:
        out.line(f"wrote {z}")
    if issued.tokens:
        out.line(f"wrote {issued.tokens} (one token per unit: hand each unit its own, then delete the file)")


review_app = App(help="HQ's review: list, approve, return with comments, the log.")
app.add_typer(review_app, name="review")


def _pick(hq, unit: str, template: Optional[str], period: Optional[str], version: Optional[int]) -> dict:
    from .hq import review as review_module

    return review_module.find(hq, unit, template, period, version)


@review_app.command("list")
def review_list(db: str = HQ_DB_OPTION, state: Optional[str] = typer.Option(None, "--state",
                                                                           help="only this state, e.g. checked"),
                tz: Optional[str] = TZ_OPTION, as_json: bool = JSON_FLAG):
    """Every submission with its review state (received, checked, approved, returned)."""
    from .hq import report

    zone = _zone(tz)
    with _store(db) as hq:
        states = hq.states()
        rows = [{"unit": s["unit"], "template": s["template"], "period": s["period"], "version": s["version"],
                 "status": s["status"], "errors": s["errors"], "state": states.get(s["id"], {}).get("state"),
                 "by": states.get(s["id"], {}).get("actor"), "at": states.get(s["id"], {}).get("at")}
                for s in hq.submissions() if s["unit"]]
    rows = [r for r in rows if state is None or r["state"] == state]
    if as_json:
        out.json(rows)
        return
    out.table(["unit", "template", "period", "version", "checks", "errors", "review", "by",
               f"at ({report.zone_name(zone)})"],
              [[r["unit"], r["template"], r["period"], r["version"], r["status"], r["errors"], r["state"], r["by"],
                report.local_time(r["at"], zone)] for r in rows])


REVIEWER_OPTION = typer.Option(..., "--reviewer", envvar="XLPLAN_REVIEWER", help="who reviews (kept in the log)")
TEMPLATE_OPTION = typer.Option(None, "--template", help="when the unit has plans of several templates")
PERIOD_OPTION = typer.Option(None, "--period", help="when the unit has plans of several periods")
VERSION_OPTION = typer.Option(None, "--version", help="a version (default: the latest)")


@review_app.command("approve")
def review_approve(unit: str = typer.Argument(..., help="the unit"), reviewer: str = REVIEWER_OPTION,
                   note: str = typer.Option("", "--note", help="an overall comment"),
                   template: Optional[str] = TEMPLATE_OPTION, period: Optional[str] = PERIOD_OPTION,
                   version: Optional[int] = VERSION_OPTION, db: str = HQ_DB_OPTION):
    """Approve a checked plan without errors: the consolidated plan uses it."""
    from .hq import review as review_module

    with _store(db) as hq:
        sub = _pick(hq, unit, template, period, version)
        review_module.approve(hq, sub, reviewer, note)
    out.line(f"approved {unit} v{sub['version']} ({sub['template']} {sub['period']}) by {reviewer}")


@review_app.command("return", epilog="""
\b
Example:
  xlplan review return 北区营业部 --reviewer 张经理 --note "一月目标偏高" \\
      --comment "计划进度!C10: 一月目标比去年高 40%，请说明" -o returned/
""")
def review_return(unit: str = typer.Argument(..., help="the unit"), reviewer: str = REVIEWER_OPTION,
                  note: str = typer.Option("", "--note", help="an overall comment"),
                  comment: List[str] = typer.Option([], "--comment", metavar="SHEET!CELL: TEXT",
                                                    help="a comment on a cell (repeat for more)"),
                  output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="FOLDER", file_okay=False,
                                                        help="write the unit's workbook with the comments here"),
                  template: Optional[str] = TEMPLATE_OPTION, period: Optional[str] = PERIOD_OPTION,
                  version: Optional[int] = VERSION_OPTION, db: str = HQ_DB_OPTION):
    """Return a plan to its unit with comments; write them into the unit's workbook."""
    from .hq import review as review_module

    comments = [review_module.parse_comment(c) for c in comment]
    with _store(db) as hq:
        sub = _pick(hq, unit, template, period, version)
        event = review_module.return_(hq, sub, reviewer, note, comments)
        path = review_module.returned_workbook(hq, sub, event, output / sub["source"]) if output else None
    out.line(f"returned {unit} v{sub['version']} with {len(comments)} cell comment(s) by {reviewer}")
    if path:
        out.line(f"wrote {path}")


@review_app.command("log")
def review_log(unit: Optional[str] = typer.Argument(None, help="one unit (default: all)"), db: str = HQ_DB_OPTION,
               tz: Optional[str] = TZ_OPTION, as_json: bool = JSON_FLAG):
    """The review log: every state change, who, when, what (it is never edited)."""
    from .hq import report

    zone = _zone(tz)
    with _store(db) as hq:
        subs = {s["id"]: s for s in hq.submissions()}
        events = [e for e in hq.review_events() if unit is None or subs[e["submission_id"]]["unit"] == unit]
    rows = [{"at": e["at"], "unit": subs[e["submission_id"]]["unit"], "version": subs[e["submission_id"]]["version"],
             "state": e["state"], "by": e["actor"], "note": e["note"], "comments": e["comments"]} for e in events]
    if as_json:
        out.json(rows)
        return
    out.table([f"at ({report.zone_name(zone)})", "unit", "version", "state", "by", "note"],
              [[report.local_time(r["at"], zone), r["unit"], r["version"], r["state"], r["by"], r["note"]]
               for r in rows])


@app.command("diff")
def diff_cmd(unit: str = typer.Argument(..., help="the unit"),
             old: Optional[int] = typer.Option(None, "--from", help="the older version (default: the one before)"),
             new: Optional[int] = typer.Option(None, "--to", help="the newer version (default: the latest)"),
             template: Optional[str] = TEMPLATE_OPTION, period: Optional[str] = PERIOD_OPTION,
             db: str = HQ_DB_OPTION, as_json: bool = JSON_FLAG):
    """What changed between two versions of a unit's plan: every input, and the totals."""
    from .hq import diff as diff_module

    with _store(db) as hq:
        a, b = diff_module.pick(hq, unit, old, new, template, period)
        d = diff_module.compare(hq, a, b)
    if as_json:
        out.json(d.as_dict())
        return
    rows = f", {len(d.rows)} table rows inserted or removed" if d.rows else ""
    out.line(f"{unit} {d.template} {d.period}: version {d.old_version} → {d.new_version}: "
             f"{len(d.inputs)} inputs changed{rows}")

    def where(c):
        return f"{c.sheet} › {c.cell}" if c.cell else c.block

    shown = diff_module.shown
    out.table(["cell", "what", "row", "column", "old", "new", "change"],
              [[where(c), c.label, c.row_key, c.col_key, shown(c.old, c.unit), shown(c.new, c.unit),
                shown(c.delta, c.unit)] for c in d.inputs])
    if d.rows:
        out.table(["row", "cell", "table", "key", "values"],
                  [[r.kind, f"{r.sheet} › {r.cell}" if r.cell else "", r.label, r.key or "",
                    " · ".join(f"{column} {shown(value, unit)}" for column, value, unit in r.values)]
                   for r in d.rows],
                  title="table rows inserted or removed")
    if d.totals:
        out.table(["total", "what", "old", "new", "change"],
                  [[c.block, c.label, shown(c.old, c.unit), shown(c.new, c.unit), shown(c.delta, c.unit)]
                   for c in d.totals],
                  title="effect on the totals")


actuals_app = App(help="Actual figures from the company's systems, month by month.")
app.add_typer(actuals_app, name="actuals")


@actuals_app.command("import")
def actuals_import(file: Path = typer.Argument(..., metavar="FILE.csv", help="unit, period, measure, value"),
                   db: str = HQ_DB_OPTION):
    """Import actuals (idempotent; a changed figure is a new version, the old one stays)."""
    from .hq import actuals as actuals_module

    with _store(db) as hq:
        outcome = actuals_module.import_file(hq, file)
    out.line(f"{file.name}: {outcome}")


hq_user_app = App(help="HQ's reviewers: one account each for HQ's web page (a salted hash of the password is kept).")
app.add_typer(hq_user_app, name="hq-user")


@hq_user_app.command("add", epilog="""
\b
Examples:
  xlplan hq-user add 张经理 --db sqlite:///hq.db                 # asks for the password twice
  xlplan hq-user add 张经理 --password-file pw.txt --db sqlite:///hq.db
""")
def hq_user_add(name: str = typer.Argument(..., help="the reviewer's name, as the review log records it"),
                password_file: Optional[Path] = typer.Option(None, "--password-file", metavar="FILE", dir_okay=False,
                                                             exists=True, help="the password: first line of FILE"),
                db: str = HQ_DB_OPTION):
    """Make a reviewer's account; from then on HQ's web page takes accounts, not the shared password."""
    from .hq import accounts

    if password_file is not None:
        password = (password_file.read_text(encoding="utf-8").splitlines() or [""])[0]
    else:
        password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    with _store(db) as hq:
        kept = accounts.add(hq, name, password)
    out.line(f"{kept} can log in to HQ's web page")


@hq_user_app.command("list")
def hq_user_list(db: str = HQ_DB_OPTION, as_json: bool = JSON_FLAG):
    """The reviewers who have an account."""
    with _store(db) as hq:
        users = hq.hq_users()
    if as_json:
        out.json([{"name": u["name"], "created_at": u["created_at"].isoformat(timespec="seconds") + "Z"}
                  for u in users])
        return
    out.table(["name", "since (UTC)"], [[u["name"], f"{u['created_at']:%Y-%m-%d %H:%M}"] for u in users])


@hq_user_app.command("remove")
def hq_user_remove(name: str = typer.Argument(..., help="the reviewer"), db: str = HQ_DB_OPTION):
    """Remove a reviewer's account and end their sessions; the review log keeps what they decided."""
    from .hq import accounts

    with _store(db) as hq:
        accounts.remove(hq, name)
    out.line(f"{name} can no longer log in")
# -- end of HQ's planning cycle -----------------------------------------------------------------


def main():
    app()


if __name__ == "__main__":
    main()
