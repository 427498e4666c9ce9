"""What changed between two versions of a unit's plan: every input, and what it did to the totals.

`compare(store, old, new)` reads both versions' long-form values from the store (what
the engine recomputed at merge time) and returns a `Diff`: each input or given cell whose
value differs, with its sheet and cell address in the newer workbook, the old and the new
value; and each one-cell computed figure (the plan's totals: the year's target, the
budget, closing headcount ...) that moved, with the difference.

A table's rows are matched by the table's key — its identifying columns as the template
declares them (`layout.key_columns`: the leading text and choice columns, e.g. strategy and
action) — so a row inserted in the middle is one inserted row, not a change in every row
below it; a row whose key cells are blank, or a table without such columns, is matched by
position. Values print as the workbook shows them (`shown`).
"""
from __future__ import annotations

from dataclasses import dataclass, field


from ..model import XlplanError, text
from ..template import styles
from ..template.layout import Layout, key_columns
from .store import Store

INSERTED, REMOVED = "inserted", "removed"


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
    unit: str = "number"  # the block's unit: how its values print (`shown`)

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


@dataclass(frozen=True)
class RowChange:
    """A table row one version has and the other does not (matched by the table's key)."""

    table: str  # the table's name
    label: str  # its title
    kind: str  # INSERTED (in the newer version) | REMOVED (from the older one)
    key: str | None  # the row's identifying text ("培训 / 新人培训"); None where the table has no key
    sheet: str | None  # where the row is in the version that has it
    cell: str | None  # its first cell there
    values: tuple[tuple[str, object, str], ...]  # (column label, value, unit) of its inputs, in column order

    def as_dict(self) -> dict:
        return {"table": self.table, "label": self.label, "kind": self.kind, "key": self.key, "sheet": self.sheet,
                "cell": self.cell, "values": [{"column": c, "value": v} for c, v, _ in self.values]}


@dataclass
class Diff:
    unit: str
    template: str
    period: str
    old_version: int
    new_version: int
    inputs: list[Change] = field(default_factory=list)
    totals: list[Change] = field(default_factory=list)
    rows: list[RowChange] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"unit": self.unit, "template": self.template, "period": self.period,
                "from": self.old_version, "to": self.new_version,
                "inputs": [c.as_dict() for c in self.inputs], "totals": [c.as_dict() for c in self.totals],
                "rows": [r.as_dict() for r in self.rows]}


def shown(value, unit: str = "number") -> str:
    """A value as the workbook shows it in its block's unit: 64,000 (not 64000.0), 11.0% for a share."""
    return styles.shown(value, styles.NUMBER_FORMATS.get(unit, "General"))


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

    def add(block, r_old, r_new, c, row_key=None):
        ra, rb = a.get((block, r_old, c)) if r_old else None, b.get((block, r_new, c)) if r_new else None
        va = _value(ra) if ra else None
        vb = _value(rb) if rb else None
        if va == vb:
            return
        ref = rb or ra
        sheet, cell = _cell(layout, block, r_new or r_old, c)
        change = Change(block, _label(template, block, lang), sheet, cell,
                        row_key if row_key is not None else ref["row_key"], ref["col_key"], va, vb,
                        _unit(template, block))
        if ref["role"] in ("input", "given"):
            changes.append(((block, r_new or r_old, c), change))
        elif ref["role"] == "computed" and _is_total(template, block):
            out.totals.append(change)

    changes: list[tuple[tuple, Change]] = []
    tables: dict[str, set[str]] = {}
    for key in sorted(set(a) | set(b)):
        block, r, c = key
        table = _table_of(template, block)
        if table is not None:
            tables.setdefault(table, set()).add(block)
            continue
        add(block, r, r, c)
    for table, blocks in sorted(tables.items()):
        keys = [f"{table}.{name}" for name in key_columns(template, table)] if template else []
        old_rows, new_rows = _table_rows(a, blocks), _table_rows(b, blocks)
        pairs, removed, inserted = match_rows(old_rows, new_rows, keys)
        for i, j in pairs:
            for block in sorted(blocks):
                add(block, i, j, 1, _key_text(new_rows[j], keys))
        for kind, version, found in ((REMOVED, old_rows, removed), (INSERTED, new_rows, inserted)):
            for i in found:
                out.rows.append(_row_change(template, layout, lang, table, kind, i, version[i], keys))
    out.inputs = [change for _, change in sorted(changes, key=lambda item: item[0])]
    out.rows.sort(key=lambda r: (r.table, r.kind != REMOVED, r.sheet or "", r.cell or ""))
    return out


def _label(template, name: str, lang: str) -> str:
    """A block's label in the plan's language; its name where the template is unknown or lacks it."""
    block = template.blocks.get(name) if template else None
    return text(block.label, lang) if block else name


def _unit(template, name: str) -> str:
    """A block's unit (how its values print); a plain number where the template is unknown or lacks it."""
    block = template.blocks.get(name) if template else None
    return block.unit if block else "number"


def _table_of(template, block: str) -> str | None:
    if template is not None and block in template.blocks:
        return template.blocks[block].table
    return None


def _table_rows(values: dict[tuple, dict], blocks: set[str]) -> dict[int, dict[str, dict]]:
    """row → {column block: stored value row} of one version's table."""
    out: dict[int, dict[str, dict]] = {}
    for (block, r, _c), row in values.items():
        if block in blocks:
            out.setdefault(r, {})[block] = row
    return out


def _key_of(row: dict[str, dict], keys: list[str]) -> tuple | None:
    """A row's key: the text of its key columns; None where they are all blank (or there are none)."""
    found = tuple(str(_value(row[k])).strip() if k in row else "" for k in keys)
    return found if any(found) else None


def _key_text(row: dict[str, dict], keys: list[str]) -> str | None:
    key = _key_of(row, keys)
    return " / ".join(part for part in key if part) if key else None


def match_rows(old: dict[int, dict], new: dict[int, dict], keys: list[str]
               ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(pairs of old and new row, removed old rows, inserted new rows). Rows with the same key are
    paired in their order; rows without a key are paired by position among themselves."""
    def grouped(rows):
        groups: dict[tuple | None, list[int]] = {}
        for r in sorted(rows):
            groups.setdefault(_key_of(rows[r], keys) if keys else None, []).append(r)
        return groups

    a, b = grouped(old), grouped(new)
    pairs, removed, inserted = [], [], []
    for key in set(a) | set(b):
        left, right = a.get(key, []), b.get(key, [])
        pairs += list(zip(left, right))
        removed += left[len(right):]
        inserted += right[len(left):]
    return sorted(pairs, key=lambda p: p[1]), sorted(removed), sorted(inserted)


def _row_change(template, layout, lang, table: str, kind: str, r: int, row: dict[str, dict], keys: list[str]
                ) -> RowChange:
    section = template.tables.get(table) if template else None
    order = [b.name for b in section.blocks] if section else sorted(row)
    values = []
    for name in order:
        if name in row and row[name]["role"] in ("input", "given"):
            values.append((_label(template, name, lang), _value(row[name]), _unit(template, name)))
    first = next((name for name in order if layout is not None and name in layout.places), None)
    sheet, cell = _cell(layout, first, r, 1) if first else (None, None)
    title = text(section.title, lang) if section and section.title else table
    return RowChange(table, title, kind, _key_text(row, keys), sheet, cell, tuple(values))


def _is_total(template, block: str) -> bool:
    """A one-cell computed figure that is not a check's gap: what a reader calls the plan's totals."""
    if template is None or block not in template.blocks:
        return block.endswith("_y")
    b = template.blocks[block]
    return not b.table and b.rows is None and (b.cols is None) and not b.highlight_nonzero
