"""Sending out: one personalised workbook per roster line, and the record of what HQ issued.

    xlplan distribute --roster roster.csv --given given.csv -o outbox/

The roster says who gets which template for which period (columns unit, template,
period, due, and optionally region, lang, year). The given file holds HQ's top-down
figures, one value per line: `unit,block,value` with optional `row` and `col` (1-based,
for a block of several cells); unit `*` gives every unit the value (HQ's settings, such
as a scorecard's weights). Only blocks whose role is `given` may be filled: they are
the grey, locked cells of the workbook.

Every given cell of every workbook written is recorded in the store (`issued`); a later
merge compares a submission's given cells with that record and rejects one whose given
cells were changed, with an error naming the cell (`GivenCheck`).
"""
from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable


from .. import texts
from ..model import TemplateError, XlplanError
from ..template import generate, spec
from ..template.layout import Layout
from ..workbook.read import read_fast
from .store import REJECTED, Incoming, Store, utcnow

SAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class DistributeError(XlplanError, ValueError):
    """The roster or the given file cannot be used: every problem as file:line: message."""


@dataclass
class Line:
    unit: str
    template: str
    period: str
    year: int
    lang: str
    region: str
    source: str  # file:line


@dataclass
class Issued:
    files: list[Path] = field(default_factory=list)
    zips: list[Path] = field(default_factory=list)
    tokens: Path | None = None
    cells: int = 0
    batch: str = ""


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DistributeError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DistributeError(f"{path.name}: not UTF-8 text (save it as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(content))
    names = [(n or "").strip().lower() for n in reader.fieldnames or ()]
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if any(row.values()):
            rows.append((line, row))
    return names, rows


def read_roster(path: str | Path, year: int | None = None) -> list[Line]:
    path = Path(path)
    names, rows = _rows(path)
    missing = {"unit", "template"} - set(names)
    if missing:
        raise DistributeError(f"{path.name}:1: the roster needs columns unit and template (missing "
                              f"{', '.join(sorted(missing))})")
    known = spec.available()
    out, problems = [], []
    for line, row in rows:
        where = f"{path.name}:{line}"
        if not row.get("unit") or not row.get("template"):
            problems.append(f"{where}: both unit and template are needed")
            continue
        if row["template"] not in known:
            problems.append(f"{where}: template {row['template']!r} is not one of {', '.join(known)}")
            continue
        period = row.get("period", "")
        y = row.get("year") or (period[:4] if period[:4].isdigit() else "") or (str(year) if year else "")
        if not y.isdigit():
            problems.append(f"{where}: no year: give a period like 2027 or 2027-01, or a year column")
            continue
        try:
            lang = texts.language(row.get("lang") or texts.DEFAULT)
        except XlplanError as exc:
            problems.append(f"{where}: {exc}")
            continue
        out.append(Line(row["unit"], row["template"], period, int(y), lang, row.get("region", ""), where))
    if problems:
        raise DistributeError("\n".join(problems))
    return out


def read_given(path: str | Path | None, lines: list[Line]) -> dict[str, dict[str, dict]]:
    """unit → block → {(row, col): value}, every line checked against the unit's template."""
    if path is None:
        return {}
    path = Path(path)
    names, rows = _rows(path)
    missing = {"unit", "block", "value"} - set(names)
    if missing:
        raise DistributeError(f"{path.name}:1: the given file needs columns unit, block and value (row and col "
                              f"optional; missing {', '.join(sorted(missing))})")
    templates = {ln.unit: spec.load(ln.template) for ln in lines}
    out: dict[str, dict[str, dict]] = {}
    problems = []
    for line, row in rows:
        where = f"{path.name}:{line}"
        units = list(templates) if row["unit"] == "*" else [row["unit"]]
        if row["unit"] != "*" and row["unit"] not in templates:
            problems.append(f"{where}: unit {row['unit']!r} is not on the roster")
            continue
        for unit in units:
            template = templates[unit]
            block = template.blocks.get(row["block"])
            if block is None:
                if row["unit"] != "*":
                    problems.append(f"{where}: {template.id} has no block {row['block']!r}")
                continue
            if block.role != "given":
                problems.append(f"{where}: {row['block']} is {block.role} in {template.id}, not given by HQ "
                                f"(HQ fills only its grey cells)")
                break
            nrows, ncols = template.shape(block)
            try:
                r, c = int(row.get("row") or 1), int(row.get("col") or 1)
            except ValueError:
                problems.append(f"{where}: row and col are whole numbers")
                break
            if not (1 <= r <= nrows and 1 <= c <= ncols):
                problems.append(f"{where}: {row['block']} has {nrows} × {ncols} cells; row {r}, col {c} is outside")
                break
            value: object = row["value"]
            if block.unit not in ("text", "choice"):
                try:
                    value = float(str(value).replace(",", "")) if value != "" else None
                except ValueError:
                    problems.append(f"{where}: {row['block']} is a number; {row['value']!r} is not")
                    break
                if value is not None and value == int(value):
                    value = int(value)
            out.setdefault(unit, {}).setdefault(block.name, {})[(r, c)] = value
    if problems:
        raise DistributeError("\n".join(problems))
    return out


def _grid(template, name: str, cells: dict) -> list[list]:
    nrows, ncols = template.shape(template.blocks[name])
    default = template.blocks[name].default
    grid = [[None] * ncols for _ in range(nrows)]
    if default is not None:
        base = default if isinstance(default, list) else [default]
        rows_ = base if base and isinstance(base[0], list) else ([base] if nrows == 1 else [[v] for v in base])
        for r, row_ in enumerate(rows_[:nrows]):
            for c, v in enumerate(row_[:ncols]):
                grid[r][c] = v
    for (r, c), v in cells.items():
        grid[r - 1][c - 1] = v
    return grid


def file_name(line: Line) -> str:
    parts = [line.unit, line.template] + ([line.period] if line.period else [])
    return SAFE_NAME.sub("_", "-".join(parts)) + ".xlsx"


def distribute(store: Store, roster: str | Path, outbox: str | Path, given: str | Path | None = None,
               year: int | None = None, tokens: str | Path | None = None, zip_by_region: bool = False,
               progress: Callable[[int], None] | None = None) -> Issued:
    """Write every roster line's workbook, record what was issued, issue tokens, zip per region."""
    outbox = Path(outbox)
    lines = read_roster(roster, year)
    values = read_given(given, lines)
    outbox.mkdir(parents=True, exist_ok=True)
    result = Issued(batch=uuid.uuid4().hex[:12])
    now = utcnow()
    records = []
    for line in lines:
        monthly = re.fullmatch(r"[0-9]{4}-[0-9]{2}", line.period or "")
        cycle = generate.Cycle(unit=line.unit, year=line.year, lang=line.lang, period=line.period if monthly else "")
        try:
            template = spec.load(line.template, cycle.template_params())
            data = {name: _grid(template, name, cells) for name, cells in values.get(line.unit, {}).items()}
            path = generate.write(template, cycle, outbox / file_name(line), data)
        except TemplateError as exc:
            raise DistributeError(f"{line.source}: {exc}") from None
        plan = read_fast(path)  # what the file holds is what was issued
        layout = Layout(plan.template, plan.lang)
        for name, block in plan.template.blocks.items():
            if block.role != "given" or block.table or name not in plan.values:
                continue
            place = layout.places[name]
            for r, row_ in enumerate(plan.values[name], start=1):
                for c, v in enumerate(row_, start=1):
                    records.append(dict(batch=result.batch, unit=line.unit, template=line.template,
                                        period=plan.period or "", block=name, row=r, col=c,
                                        number=v if isinstance(v, (int, float)) and not isinstance(v, bool) else None,
                                        text=v if isinstance(v, str) else None, issued_at=now, file=path.name,
                                        sheet=place.sheet,
                                        cell=place.address(r, c)))
        result.files.append(path)
        if progress:
            progress(1)
    result.cells = len(records)
    store.add_issued(records)
    store.set_roster_lines([(ln.unit, ln.template, ln.period) for ln in lines])
    if tokens:
        from .tokens import Tokens

        keeper = Tokens(tokens)
        token_file = outbox / "tokens.csv"
        with token_file.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["unit", "token"])
            for unit in dict.fromkeys(ln.unit for ln in lines):
                writer.writerow([unit, keeper.issue(unit)])
        token_file.chmod(0o600)
        result.tokens = token_file
    if zip_by_region:
        regions: dict[str, list[Path]] = {}
        for line, path in zip(lines, result.files):
            regions.setdefault(line.region or "-", []).append(path)
        for region, paths in regions.items():
            target = outbox / f"{SAFE_NAME.sub('_', region)}.zip"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in paths:
                    zf.write(p, p.name)
            result.zips.append(target)
    return result


# -- at merge: were the given cells left as issued? ------------------------------------------
class GivenCheck:
    """Compares each submission's given cells with what HQ issued to its unit; a change is an error."""

    def __init__(self, store: Store):
        self.store = store
        self.keys = store.issued_keys()
        self._issued: dict[tuple, list[dict]] = {}

    def __call__(self, item: Incoming) -> Incoming:
        key = (item.unit, item.template, item.period or "")
        if item.unit is None or key not in self.keys:
            return item
        if key not in self._issued:
            self._issued[key] = self.store.issued_values(*key)
        values = json.loads(item.values) if isinstance(item.values, str) else item.values
        found = {(v[0], v[1], v[2]): (v[5] if v[5] is not None else v[6]) for v in values if v[-1] == "given"}
        problems = []
        # the reader compares the grey cells with the workbook's own record (workbook/issued.py): a cell
        # it reported already is not reported twice
        reported = {(f[3], f[4]) for f in item.findings if f[1] == "GIVEN_CHANGED"}
        for rec in self._issued[key]:
            issued = rec["number"] if rec["number"] is not None else rec["text"]
            now = found.get((rec["block"], rec["row"], rec["col"]))
            if _same(issued, now) or (rec["sheet"], rec["cell"]) in reported:
                continue
            problems.append(("error", "GIVEN_CHANGED",
                             f"{rec['block']}: HQ issued {_show(issued)}, the workbook holds {_show(now)}; "
                             "HQ's grey cells must stay as issued", rec["sheet"], rec["cell"], rec["block"]))
        if not problems:
            return item
        return replace(item, status=REJECTED, findings=tuple(problems) + tuple(item.findings))


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return (a if a != "" else None) == (b if b != "" else None)


def _show(v) -> str:
    if v is None or v == "":
        return "nothing"
    return f"{v:,}" if isinstance(v, (int, float)) else repr(v)
