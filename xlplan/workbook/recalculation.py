"""Recalculate a plan: compute every block from its inputs, check it, write it back.

`evaluate(plan)` is pure: inputs in, values and findings out. `recalc_file` reads a
workbook, evaluates it and writes back into the same workbook without touching what
the user made: the live formulas stay, the engine's numbers become their cached
results, the Checks sheet is refilled and the cells with findings are marked.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..model import Finding, severity_counts
from ..template import compute
from . import checks, writeback, writefile
from .plan import Plan
from .read import read_fast

MARKS_KEY = writeback.MARKS_KEY


@dataclass
class Result:
    """A plan with every block computed and every finding."""

    plan: Plan
    values: dict
    tables: dict
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def counts(self) -> dict[str, int]:
        """How many findings of each severity: {"error": …, "warning": …, "info": …}."""
        return severity_counts(f.severity for f in self.findings)

    def __repr__(self) -> str:
        # a plan's values run to tens of thousands of characters: a REPL shows what it is, not all it holds
        plan = self.plan
        n = self.counts()
        counts = f"{n['error']} errors, {n['warning']} warnings, {n['info']} notes"
        return (f"<Result {plan.file} · {plan.template.id} · {plan.unit} {plan.period}: {counts}; "
                f"{len(self.values) + len(self.tables)} blocks (.value(name), .findings, .as_json())>")

    def value(self, block: str):
        """A block's value: a number or text for one cell, a 2-D list or a table column list."""
        if block in self.tables:
            return self.tables[block]
        grid = self.values[block]
        return grid[0][0] if len(grid) == 1 and len(grid[0]) == 1 else grid

    def as_json(self) -> dict:
        plan = self.plan
        values = {}
        for name, grid in self.values.items():
            cells = [[checks.plain(v) for v in row] for row in grid]
            values[name] = cells[0][0] if len(cells) == 1 and len(cells[0]) == 1 else cells
        for name, column in self.tables.items():
            values[name] = [checks.plain(v) for v in column]
        return {
            "file": plan.file,
            "template": plan.template.id,
            "version": str(plan.meta.get("version")),
            "unit": plan.unit,
            "period": plan.period,
            "findings": [f.as_dict() for f in self.findings],
            "values": values,
        }


def evaluate(plan: Plan) -> Result:
    inputs, input_tables, notes = checks.accepted_inputs(plan)
    values, tables = compute.compute_into(plan.template, inputs, input_tables, plan.sizes)  # accepted_inputs copied
    return Result(plan, values, tables, checks.run_all(plan, values, tables, notes))


def check_file(path: str | Path) -> Result:
    return evaluate(read_fast(path))


# -- writing back ------------------------------------------------------------------
# what changes is worked out once, in writeback.py; writefile.py applies it to a file part by part
computed_cells = writeback.computed_cells
typed_cells = writeback.typed_cells


def recalc_file(path: str | Path, out: str | Path | None = None, json_report: str | Path | None = None) -> Result:
    """Read, compute, check and write back a workbook (in place unless `out` is given)."""
    path = Path(path)
    out = Path(out) if out else path
    result = evaluate(read_fast(path))
    writefile.rewrite(path, writeback.edits(result), out)
    if json_report:
        Path(json_report).write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1, default=str),
                                     encoding="utf-8")
    return result
