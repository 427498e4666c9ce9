"""Actuals from the company's systems: `xlplan actuals import FILE.csv`.

The file has one figure per line: `unit,period,measure,value` (period as 2027-03; measure
the name a template's plan-vs-actual view reads, e.g. `actual_month`, in 万元 as the plan).
Every line is checked first and every problem is reported as `file:line: message`; a file
with any problem imports nothing. Importing is idempotent: a figure already stored with
the same value is left alone; a changed figure is stored as a new version (the earlier
one stays, as for submissions); the latest version is what consolidation uses, in place
of what the unit typed.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..model import XlplanError
from ..template import spec
from .store import Store, utcnow

COLUMNS = ("unit", "period", "measure", "value")
PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")


class ActualsError(XlplanError, ValueError):
    """The actuals file cannot be imported: every problem, each as file:line: message."""


@dataclass(frozen=True)
class Actual:
    unit: str
    period: str  # YYYY-MM
    measure: str
    value: float
    source: str  # file:line


@dataclass
class Imported:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    lines: int = 0
    units: set = field(default_factory=set)

    def __str__(self) -> str:
        return (f"{self.lines} lines: {self.new} new, {self.changed} changed (new version), "
                f"{self.unchanged} already stored")


def measures() -> dict[str, str]:
    """measure → template, for every plan-vs-actual view any template declares."""
    out: dict[str, str] = {}
    for template_id in spec.available():
        try:
            template = spec.load(template_id)
        except XlplanError:
            continue
        for view in template.views:
            if view.kind == "plan_actual":
                out[str(view.args.get("measure", view.args["actual"]))] = template_id
    return out


def _number(text_: str) -> float | None:
    cleaned = text_.strip().replace(",", "").replace("，", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def read(path: str | Path) -> list[Actual]:
    """The file's figures, or ActualsError naming every bad line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ActualsError(f"{path}: no such file") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            content = raw.decode("gb18030")  # a CSV saved by Excel on a Chinese Windows
        except UnicodeDecodeError:
            raise ActualsError(f"{path.name}: not a text file (save it as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(content))
    found = [(c or "").strip().lower() for c in reader.fieldnames or ()]
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise ActualsError(f"{path.name}:1: the header must name {', '.join(COLUMNS)} "
                           f"(missing {', '.join(missing)}; found {', '.join(found) or 'nothing'})")
    known = measures()
    rows: list[Actual] = []
    problems: list[str] = []
    seen: dict[tuple, tuple[float, int]] = {}
    for line, record in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items() if k is not None}
        if not any(row.values()):
            continue
        where = f"{path.name}:{line}"
        unit, period, measure, value = (row.get(c, "") for c in COLUMNS)
        bad = []
        if not unit:
            bad.append("unit is empty")
        m = PERIOD.match(period)
        if not m or not 1 <= int(m.group(2)) <= 12:
            bad.append(f"period {period!r} is not a month like 2027-03")
        else:
            period = f"{m.group(1)}-{int(m.group(2)):02d}"
        if measure not in known:
            bad.append(f"measure {measure!r} is not one of {', '.join(sorted(known)) or 'none declared'}")
        number = _number(value)
        if number is None:
            bad.append(f"value {value!r} is not a number")
        if bad or number is None:  # no number without a problem said
            problems.append(f"{where}: {'; '.join(bad)}")
            continue
        key = (unit, period, measure)
        if key in seen and seen[key][0] != number:
            problems.append(f"{where}: {unit} {period} {measure} is {number:,} here but {seen[key][0]:,} "
                            f"on line {seen[key][1]}")
            continue
        seen[key] = (number, line)
        rows.append(Actual(unit, period, measure, number, where))
    if problems:
        raise ActualsError("\n".join(problems))
    return rows


def latest(store: Store) -> dict[tuple[str, str, str], dict]:
    """(unit, period, measure) → the latest version stored."""
    out: dict[tuple, dict] = {}
    for row in store.actual_rows():
        key = (row["unit"], row["period"], row["measure"])
        if key not in out or row["version"] > out[key]["version"]:
            out[key] = row
    return out


def import_file(store: Store, path: str | Path) -> Imported:
    """Check the whole file, then store what is new or changed (all or nothing)."""
    rows = read(path)
    current = latest(store)
    now = utcnow()
    outcome = Imported(lines=len(rows))
    fresh = []
    for a in rows:
        outcome.units.add(a.unit)
        before = current.get((a.unit, a.period, a.measure))
        if before is not None and before["value"] == a.value:
            outcome.unchanged += 1
            continue
        if before is None:
            outcome.new += 1
        else:
            outcome.changed += 1
        fresh.append(dict(unit=a.unit, period=a.period, measure=a.measure, value=a.value,
                          version=(before["version"] + 1) if before else 1, imported_at=now, source=a.source))
    store.add_actuals(fresh)
    return outcome


def monthly(store: Store, measure: str) -> dict[tuple[str, str, int], float]:
    """(unit, year, month) → the latest imported value of `measure`."""
    out = {}
    for (unit, period, m), row in latest(store).items():
        if m == measure:
            year, month = period.split("-")
            out[(unit, year, int(month))] = row["value"]
    return out
