"""What changed between two versions of a unit's plan: every input, and what it did to the totals.

`compare(store, old, new)` reads both versions' long-form values from the store (what
the engine recomputed at merge time) and returns a `Diff`: each input or given cell whose
value differs, with its sheet and cell address in the newer workbook, the old and the new
value; and each one-cell computed figure (the plan's totals: the year's target, the
budget, closing headcount ...) that moved, with the difference.
"""
from __future__ import annotations

from dataclasses import dataclass, field


from ..model import XlplanError, text
from ..template.layout import Layout
from .store import Store


@dataclass(frozen=True)
class Change:
    block: str
    label: str
    sheet: str | None
    cell: str | None
    row_key: str | None
    col_key: str | None
    old: object
    new: object

    @property
    def delta(self) -> float | None:
        if isinstance(self.old, (int, float)) and isinstance(self.new, (int, float)):
            return self.new - self.old
        if self.old is None and isinstance(self.new, (int, float)):
            return self.new
        if self.new is None and isinstance(self.old, (int, float)):
            return -self.old
        return None

    def as_dict(self) -> dict:
        return {"block": self.block, "label": self.label, "sheet": self.sheet, "cell": self.cell,
                "row_key": self.row_key, "col_key": self.col_key, "old": self.old, "new": self.new,
                "delta": self.delta}


@dataclass
class Diff:
    unit: str
    template: str
    period: str
    old_version: int
    new_version: int
    inputs: list[Change] = field(default_factory=list)
    totals: list[Change] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"unit": self.unit, "template": self.template, "period": self.period,
                "from": self.old_version, "to": self.new_version,
                "inputs": [c.as_dict() for c in self.inputs], "totals": [c.as_dict() for c in self.totals]}


def _value(row: dict):
    return row["number"] if row["number"] is not None else row["text"]


def _cell(layout: Layout | None, block: str, row: int, col: int) -> tuple[str | None, str | None]:
    if layout is None:
        return None, None
    if block in layout.places:  # a table's column too: its area starts at the first data row
        area = layout.places[block]
        return area.sheet, area.address(row, col)
    return None, None


def versions(store: Store, unit: str, template: str | None = None, period: str | None = None) -> list[dict]:
    subs = [s for s in store.submissions() if s["unit"] == unit and s["template"]
            and (template is None or s["template"] == template) and (period is None or s["period"] == period)]
    return sorted(subs, key=lambda s: s["version"])


def pick(store: Store, unit: str, old: int | None = None, new: int | None = None, template: str | None = None,
         period: str | None = None) -> tuple[dict, dict]:
    """The two versions to compare: by default the latest and the one before it."""
    subs = versions(store, unit, template, period)
    if not subs:
        raise XlplanError(f"{unit}: no submission received")
    if len({(s["template"], s["period"]) for s in subs}) > 1:
        raise XlplanError(f"{unit} has plans of several templates or periods: say which with --template and --period")
    by_version = {s["version"]: s for s in subs}
    new = new if new is not None else subs[-1]["version"]
    old = old if old is not None else (max((v for v in by_version if v < new), default=None))
    for v in (old, new):
        if v is None or v not in by_version:
            have = ", ".join(str(s["version"]) for s in subs)
            raise XlplanError(f"{unit}: version {v if v is not None else new - 1} was not received (versions: {have})"
                              if v is not None or len(subs) > 1 else f"{unit}: only one version, nothing to compare")
    return by_version[old], by_version[new]


def compare(store: Store, old: dict, new: dict) -> Diff:
    from .merge import read_plan

    layout = template = None
    try:
        plan = read_plan(new["source"], store.blob(new["sha256"]))
        template, layout = plan.template, Layout(plan.template, plan.lang)
        lang = plan.lang
    except XlplanError:
        lang = "zh-Hans"
    rows: dict[int, dict[tuple, dict]] = {sid: {} for sid in (old["id"], new["id"])}
    for row in store.values([old["id"], new["id"]]):
        rows[row["submission_id"]][(row["block"], row["row"], row["col"])] = row
    a, b = rows[old["id"]], rows[new["id"]]
    out = Diff(new["unit"], new["template"], new["period"], old["version"], new["version"])
    for key in sorted(set(a) | set(b)):
        ra, rb = a.get(key), b.get(key)
        va = _value(ra) if ra else None
        vb = _value(rb) if rb else None
        if va == vb:
            continue
        ref = b[key] if key in b else a[key]  # the newer version's row where it has one
        block, r, c = key
        label = text(template.blocks[block].label, lang) if template and block in template.blocks else block
        sheet, cell = _cell(layout, block, r, c)
        change = Change(block, label, sheet, cell, ref["row_key"], ref["col_key"], va, vb)
        if ref["role"] in ("input", "given"):
            out.inputs.append(change)
        elif ref["role"] == "computed" and _is_total(template, block):
            out.totals.append(change)
    return out


def _is_total(template, block: str) -> bool:
    """A one-cell computed figure that is not a check's gap: what a reader calls the plan's totals."""
    if template is None or block not in template.blocks:
        return block.endswith("_y")
    b = template.blocks[block]
    return not b.table and b.rows is None and (b.cols is None) and not b.highlight_nonzero
