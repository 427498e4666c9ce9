"""The plain records everything else passes around.

A template definition becomes a `Template`: sheets made of sections, sections made
of blocks. A block is a named rectangle of cells (or a column of an Excel table) that
is either filled in by the unit (`input`), pre-filled by HQ and locked (`given`), or
computed from a formula (`computed`). Every finding points at a `Cell`.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

ROLES = ("input", "given", "computed")
UNITS = ("yuan", "wan", "percent", "count", "number", "text", "month", "choice", "score", "seconds", "measure")
# what a `measure` cell may name (texts.measure_words): the unit of measure of a number in the same
# row of a block declaring `measure:` it, where one column holds counts, days and shares alike
MEASURES = ("number", "percent", "count", "yuan", "wan", "seconds")
SEVERITIES = ("error", "warning", "info")  # worst first
TOLERANCE = 0.005  # half a fen: amounts in yuan are kept to two decimals; checks and gap colours share it


def severity_counts(severities: Iterable[str]) -> dict[str, int]:
    """How many findings of each severity, every severity named: {"error": 2, "warning": 0, "info": 1}."""
    counted = Counter(severities)
    return {s: counted[s] for s in SEVERITIES}


class XlplanError(Exception):
    """Base of every error xlplan raises on purpose."""


class TemplateError(XlplanError, ValueError):
    """A template definition is malformed: the message names the file and the item."""


class WorkbookError(XlplanError, ValueError):
    """A workbook cannot be read as a plan at all (not a zip, no metadata, ...)."""


@dataclass(frozen=True)
class Cell:
    """Where a value lives: file, sheet and A1 address."""

    file: str
    sheet: str
    address: str

    def __str__(self) -> str:
        return f"{self.file} › {self.sheet} › {self.address}"


@dataclass(frozen=True)
class Finding:
    """One thing a clerk should look at, with the cell it concerns."""

    severity: str
    code: str
    message: str
    cell: Cell | None = None
    block: str | None = None
    expected: Any = None
    actual: Any = None

    def __str__(self) -> str:
        where = f"{self.cell}: " if self.cell else ""
        return f"{where}{self.severity} {self.code}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.cell.file if self.cell else None,
            "sheet": self.cell.sheet if self.cell else None,
            "cell": self.cell.address if self.cell else None,
            "block": self.block,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class Dim:
    """An axis of blocks: months, quarters, regions, segments ..."""

    name: str
    labels: dict[str, tuple[str, ...]]  # language -> one label per position
    units: tuple[str, ...] = ()  # a unit per position, where rows of one block differ (targets)

    @property
    def size(self) -> int:
        return len(next(iter(self.labels.values())))

    def label(self, lang: str, index: int) -> str:
        from .texts import pick

        return pick(self.labels, lang)[index]


@dataclass(frozen=True)
class Block:
    """A named rectangle of cells: rows × cols, each axis a Dim or a single cell."""

    name: str
    label: dict[str, str]
    role: str
    unit: str = "number"
    rows: str | None = None  # dim name, None for one row
    cols: str | None = None  # dim name, None for one column
    formula: str | None = None
    choices: tuple[str, ...] | str | None = None  # fixed list, or a block name
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    help: dict[str, str] = field(default_factory=dict)
    table: str | None = None  # set for a column of an Excel table
    highlight_nonzero: bool = False  # a gap that should be zero shows red when it is not
    beside: str | None = None  # a summary block: sits in the summary columns of this block's rows
    under: str | None = None  # a total: sits on the totals row, under this column
    width: float | None = None  # column width for table columns and form values
    collapsed: bool = False  # a detail column, grouped and folded away until a user opens it
    default: Any = None  # what a new workbook holds here: HQ's settings in a given block
    lines: int = 1  # a narrative text: this many lines high, wrapped (a form's text cell)
    measure: str | None = None  # a `measure` block naming each row's unit of measure (same rows)


@dataclass(frozen=True)
class Section:
    """A part of a sheet laid out one way: a form, columns over rows, rows over months, a table."""

    kind: str  # form | columns | rows | table
    blocks: tuple[Block, ...]
    title: dict[str, str] = field(default_factory=dict)
    rows: str | None = None  # columns: the shared row dim
    cols: str | None = None  # rows: the shared column dim
    table: str | None = None  # table: its Excel name
    size: int = 0  # table: rows made when the workbook is generated
    totals: tuple[Block, ...] = ()  # columns: one cell under a column, on a totals row
    total_label: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sheet:
    id: str
    title: dict[str, str]
    sections: tuple[Section, ...]
    note: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """A rule on computed or input blocks, declared in the template."""

    code: str
    kind: str  # equal | at_least | at_most | between | stated | nonzero
    severity: str
    message: dict[str, str]
    args: dict[str, Any]


@dataclass(frozen=True)
class View:
    """One part of HQ's consolidated plan, declared by the template (`consolidation:` in its YAML).

    `kind` says how units' values are put together (see xlplan/hq/views.py: sum, figures,
    plan_actual, ranking, count, list); `args` names the blocks and dimensions it uses.
    """

    id: str
    kind: str
    title: dict[str, str]
    args: dict[str, Any]


@dataclass(frozen=True, eq=False)
class Template:
    id: str
    version: str
    title: dict[str, str]
    dims: dict[str, Dim]
    sheets: tuple[Sheet, ...]
    checks: tuple[Check, ...]
    source: str = ""
    views: tuple[View, ...] = ()  # how HQ consolidates this template
    instructions: tuple[str, ...] = ()  # extra parts of the Instructions sheet, e.g. ("appraisal",)

    @cached_property
    def blocks(self) -> dict[str, Block]:
        out = {}
        for sheet in self.sheets:
            for section in sheet.sections:
                for block in section.blocks + section.totals:
                    out[block.name] = block
        return out

    @cached_property
    def tables(self) -> dict[str, Section]:
        return {s.table: s for sh in self.sheets for s in sh.sections if s.kind == "table" and s.table}

    def shape(self, block: Block) -> tuple[int, int]:
        rows = self.dims[block.rows].size if block.rows else 1
        cols = self.dims[block.cols].size if block.cols else 1
        return rows, cols

    def row_unit(self, block: Block, r: int) -> str:
        """The unit of measure of row `r` of a block: the block's, or its dimension's for that row
        where one block's rows differ (the targets' shares beside their amounts). A block with
        `measure:` takes each row's unit from what the unit chose there (checks.unit_at)."""
        dim = self.dims.get(block.rows) if block.rows else None
        if block.unit == "number" and dim is not None and 0 < r <= len(dim.units):
            return dim.units[r - 1]
        return block.unit


def normal_unit(name) -> str:
    """A unit's name as xlplan compares it everywhere (new, tokens, roster, store, the workbook's
    record and cover): full-width letters and digits as ASCII (NFKC), runs of spaces as one, no
    spaces at the ends. "北区 营业部", "北区　营业部" and " 北区 营业部 " are one unit."""
    if name is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(name)).split())


def text(labels: dict[str, str] | str | None, lang: str) -> str:
    """The label in `lang`, else in the nearest language given (texts.FALLBACK)."""
    if labels is None:
        return ""
    if isinstance(labels, str):
        return labels
    from .texts import pick

    return pick(labels, lang)
