"""The `xlplan` command: thin; it parses arguments, calls the package and prints."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import demo as demo_module
from .model import XlplanError, text
from .template import generate, spec
from .workbook import recalculation as recalc

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Excel-native planning: templates, recalculation, checks and HQ merge.")
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2):
    err.print(f"[red]xlplan:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def parse_params(pairs: list[str]) -> dict:
    """--param regions=A区,B区 → {"regions": ["A区", "B区"]}; JSON values are taken as JSON."""
    params = {}
    for pair in pairs:
        if "=" not in pair:
            _fail(f"--param {pair!r} must be KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value.split(",") if "," in value else value
    return params


def load_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{what} {path}: no such file")
    except ValueError as exc:
        _fail(f"{what} {path}: not valid JSON ({exc})")
    if not isinstance(data, dict):
        _fail(f"{what} {path}: must be a JSON object keyed by block names")
    return data


@app.command()
def templates():
    """List the templates."""
    table = Table("id", "version", "title", "file")
    for template_id, path in spec.available().items():
        try:
            t = spec.load(template_id)
            table.add_row(t.id, t.version, f"{text(t.title, 'zh')} / {text(t.title, 'en')}", str(path))
        except XlplanError as exc:
            table.add_row(template_id, "?", f"[red]{exc}[/red]", str(path))
    out.print(table)


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


@app.command()
def describe(template: str, lang: str = typer.Option("zh", "--lang"),
             as_json: bool = typer.Option(False, "--json", help="print JSON"),
             param: List[str] = typer.Option([], "--param", help="cycle parameter KEY=VALUE")):
    """List every named block of a template: name, label, input or computed, shape, unit."""
    try:
        t = spec.load(template, {**parse_params(param), "lang": lang})
    except XlplanError as exc:
        _fail(str(exc))
    rows = describe_rows(t, lang)
    if as_json:
        print(json.dumps({"template": t.id, "version": t.version, "blocks": rows}, ensure_ascii=False, indent=1))
        return
    table = Table("name", "label", "role", "shape", "unit", "sheet", title=f"{t.id} {t.version}")
    for row in rows:
        table.add_row(row["name"], row["label"], row["role"], row["shape"], row["unit"], row["sheet"])
    out.print(table)


@app.command()
def new(template: str,
        unit: str = typer.Option(..., "--unit", help="the unit (department, branch, team)"),
        year: int = typer.Option(..., "--year"),
        lang: str = typer.Option("zh", "--lang", help="zh or en"),
        period: str = typer.Option("", "--period", help="e.g. 2027-01 for a monthly scorecard"),
        data: Optional[Path] = typer.Option(None, "--data", help="JSON of inputs to pre-fill"),
        param: List[str] = typer.Option([], "--param", help="cycle parameter KEY=VALUE, e.g. regions=A,B"),
        output: Path = typer.Option(..., "-o", "--output")):
    """Build a fresh workbook of TEMPLATE for one unit and cycle."""
    if lang not in ("zh", "en"):
        _fail(f"--lang {lang!r}: choose zh or en")
    values = load_json(data, "--data") if data else {}
    params = {**values.pop("params", {}), **parse_params(param)}
    try:
        cycle = generate.Cycle(unit=unit, year=year, lang=lang, period=period, params=params)
        t = spec.load(template, cycle.template_params())
        path = generate.write(t, cycle, output, values)
    except XlplanError as exc:
        _fail(str(exc))
    out.print(f"wrote {path}")


def _print_findings(results, as_json: bool):
    if as_json:
        print(json.dumps([r.as_json() for r in results] if len(results) != 1 else results[0].as_json(),
                         ensure_ascii=False, indent=1, default=str))
        return
    for r in results:
        counts = {s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")}
        out.print(f"[bold]{r.plan.file}[/bold]: {counts['error']} errors, {counts['warning']} warnings, "
                  f"{counts['info']} notes", highlight=False)
        for f in r.findings:
            colour = {"error": "red", "warning": "yellow", "info": "blue"}[f.severity]
            where = f"{f.cell.sheet} › {f.cell.address}: " if f.cell and f.cell.address else ""
            out.print(f"  [{colour}]{f.severity}[/{colour}] {where}{f.message} [dim]({f.code})[/dim]",
                      highlight=False)


@app.command("recalc")
def recalc_cmd(file: Path,
               output: Optional[Path] = typer.Option(None, "-o", "--output", help="write here (default: in place)"),
               report: Optional[Path] = typer.Option(None, "--json", help="write a JSON report here")):
    """Recompute every block, refill the Checks sheet and mark the cells with findings."""
    try:
        result = recalc.recalc_file(file, output, report)
    except FileNotFoundError:
        _fail(f"{file}: no such file")
    except XlplanError as exc:
        _fail(str(exc))
    _print_findings([result], False)
    out.print(f"wrote {output or file}")


@app.command()
def check(files: List[Path], as_json: bool = typer.Option(False, "--json", help="print JSON")):
    """Findings only; exit status 1 when any file has an error."""
    results, broken = [], 0
    for file in files:
        try:
            results.append(recalc.check_file(file))
        except FileNotFoundError:
            err.print(f"[red]xlplan:[/red] {file}: no such file", highlight=False)
            broken += 1
        except XlplanError as exc:
            err.print(f"[red]xlplan:[/red] {exc}", highlight=False)
            broken += 1
    _print_findings(results, as_json)
    if broken:
        raise typer.Exit(2)
    if any(r.errors for r in results):
        raise typer.Exit(1)


@app.command("merge")
def merge_cmd(inputs: List[str] = typer.Argument(..., help="workbooks, folders or glob patterns"),
              db: Optional[str] = typer.Option(None, "--db", help="SQLAlchemy URL (default: sqlite:///hq.db "
                                               "beside the consolidated workbook)"),
              roster: Optional[Path] = typer.Option(None, "--roster", help="CSV: unit, template, period, due"),
              output: Optional[Path] = typer.Option(None, "-o", "--output", help="consolidated workbook (.xlsx)"),
              report: Optional[Path] = typer.Option(None, "--report", help="status page (.html)"),
              scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address"),
              workers: Optional[int] = typer.Option(None, "--workers", help="processes (default: every core; "
                                                    "0 runs in this process)"),
              lang: str = typer.Option("zh", "--lang", help="language of the consolidated workbook: zh or en")):
    """Merge submitted workbooks into the HQ database; write the consolidated plan and the status page."""
    from sqlalchemy.exc import OperationalError

    from .hq import merge, store

    url = db or f"sqlite:///{(output.parent if output else Path('.')) / 'hq.db'}"
    try:
        with store.Store(url) as hq:
            total = sum(1 for _ in merge.expand(inputs))
            with _progress(total) as advance:
                outcome = merge.run(inputs, hq, roster=roster, output=output, report_path=report,
                                    scheduler=scheduler, workers=workers, progress=advance, lang=lang)
    except FileNotFoundError as exc:
        _fail(str(exc))
    except XlplanError as exc:
        _fail(str(exc))
    except OperationalError as exc:  # a database locked or gone outside Store's own wrapped writes
        _fail(f"{url}: cannot use the database ({exc.orig}); the input files are untouched")
    st = outcome.status
    out.print(f"{outcome.summary} → {hq.display_url}", highlight=False)
    out.print("  " + ", ".join(f"{st.count(s)} {s}" for s in ("accepted", "late", "rejected", "missing",
                                                                "unexpected")) +
              f"; {len(st.unreadable)} unreadable", highlight=False)
    for name in outcome.summary.rejected_files[:20]:
        out.print(f"  [red]rejected[/red] {name}", highlight=False)
    for row in st.rows:
        if row.duplicate_files:  # a copied workbook, or a resubmission under a new name: HQ looks which is meant
            out.print(f"  [yellow]{len(row.duplicate_files)} files[/yellow] for {row.unit} ({row.template} "
                      f"{row.period}): {', '.join(row.duplicate_files)}; the latest accepted is used", highlight=False)
    for problem in outcome.summary.unreadable:
        err.print(f"[red]xlplan:[/red] skipped {problem}", highlight=False)
    for path in (outcome.workbook, outcome.report):
        if path:
            out.print(f"wrote {path}")


class _progress:
    """A rich progress bar on a terminal; nothing when output goes to a file or a pipe."""

    def __init__(self, total: int):
        self.total = total
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
                                TimeRemainingColumn(), console=err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("merging", total=self.total)
            return lambda n: self.bar.advance(self.task, n)
        return None

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@app.command()
def demo(output: Path = typer.Option(Path("workbooks/demo"), "-o", "--output", help="folder for the results")):
    """Run the planning cycle on the samples: generate, fill, recalculate; print where results lie."""
    try:
        demo_module.run(output, out)
    except XlplanError as exc:
        _fail(str(exc))


# -- Excel: the add-in server, the add-ins, unit tokens (xlplan/excel) -------------------------
addin_app = typer.Typer(no_args_is_help=True, help="Build the Excel add-ins: the Office add-in's manifest, the desktop .xlam.")
token_app = typer.Typer(no_args_is_help=True, help="Unit tokens for the add-in server: issue, revoke, list.")
app.add_typer(addin_app, name="addin")
app.add_typer(token_app, name="token")
TOKENS_OPTION = typer.Option(Path("xlplan_tokens.json"), "--tokens", help="token file (hashes only)")


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          public_url: Optional[str] = typer.Option(None, "--public-url",
                                                   help="https URL Office reaches this server at "
                                                        "(default https://HOST:PORT)"),
          tokens: Path = TOKENS_OPTION,
          inbox: Path = typer.Option(Path("xlplan_inbox"), "--inbox", help="folder for submitted workbooks"),
          db: Optional[str] = typer.Option(None, "--db", help="keep submissions in HQ's database instead "
                                           "(SQLAlchemy URL, e.g. sqlite:///hq.db)"),
          hq_url: Optional[str] = typer.Option(None, "--hq-url", help="forward submissions to this HQ server"),
          certfile: Optional[Path] = typer.Option(None, "--ssl-certfile", help="TLS certificate (Office needs https)"),
          keyfile: Optional[Path] = typer.Option(None, "--ssl-keyfile", help="TLS private key"),
          dev: bool = typer.Option(False, "--dev", help="use xlwings' free noncommercial key: development only")):
    """Run the Excel add-in server: custom functions, ribbon scripts, task pane, manifest, submissions."""
    from .excel import LicenseMissing, require_license, use_development_license

    if dev:
        use_development_license()
    try:
        require_license()
        import uvicorn

        from .excel.server import Settings, create_app

        application = create_app(Settings(public_url=public_url or f"https://{host}:{port}", tokens=tokens,
                                          inbox=inbox, hq_url=hq_url, db=db))
    except ImportError as exc:
        _fail(f"the add-in server needs extra packages ({exc.name} is missing): pip install 'xlplan[excel]'")
    except (LicenseMissing, XlplanError) as exc:
        _fail(str(exc))
    uvicorn.run(application, host=host, port=port, ssl_certfile=str(certfile) if certfile else None,
                ssl_keyfile=str(keyfile) if keyfile else None)


@addin_app.command("manifest")
def addin_manifest(url: str = typer.Option(..., "--url", help="the server's https URL"),
                   output: Optional[Path] = typer.Option(None, "-o", "--output", help="write here (default: print)")):
    """Render the Office add-in manifest (tab xlplan: Recalculate, Check, Submit) for a server URL."""
    from .excel import manifest

    try:
        xml = manifest.render(url)
    except XlplanError as exc:
        _fail(str(exc))
    if output is None:
        print(xml, end="")
        return
    output.write_text(xml, encoding="utf-8")
    out.print(f"wrote {output}")


@addin_app.command("desktop")
def addin_desktop(output: Path = typer.Option(Path("xlplan_addin.xlam"), "-o", "--output")):
    """Build the desktop ribbon add-in (.xlam, from xlwings' ribbon add-in) and the module it calls."""
    from .excel import desktop

    try:
        path = desktop.build(output)
    except XlplanError as exc:
        _fail(str(exc))
    out.print(f"wrote {path} and {path.with_suffix('.py')} (keep them together; needs the xlwings add-in)")


@token_app.command("issue")
def token_issue(unit: str, tokens: Path = TOKENS_OPTION):
    """Print a new token for UNIT (shown once; the file keeps only its hash)."""
    from .excel.auth import Tokens

    try:
        print(Tokens(tokens).issue(unit))
    except XlplanError as exc:
        _fail(str(exc))


@token_app.command("revoke")
def token_revoke(unit: str, tokens: Path = TOKENS_OPTION):
    """Revoke every token of UNIT."""
    from .excel.auth import Tokens

    try:
        out.print(f"revoked {Tokens(tokens).revoke(unit)} token(s) of {unit}")
    except XlplanError as exc:
        _fail(str(exc))


@token_app.command("list")
def token_list(tokens: Path = TOKENS_OPTION):
    """List the units with tokens, when issued, whether revoked."""
    from .excel.auth import Tokens

    table = Table("unit", "issued", "revoked")
    try:
        for entry in Tokens(tokens).units():
            table.add_row(entry["unit"], entry["issued"], entry["revoked"] or "")
    except XlplanError as exc:
        _fail(str(exc))
    out.print(table)
# -- end of Excel commands -----------------------------------------------------------------------


def main():
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
