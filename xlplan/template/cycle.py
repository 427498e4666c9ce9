"""The cycle a workbook is made for (unit, year, period, language, parameters), and how the
workbook records it: the hidden metadata sheet, one key per row.

The generator writes the sheet from a Cycle (`meta_rows`); the reader reads it back by key
and a plan gives its Cycle again (`Plan.cycle`), so a workbook can be made anew for the
same cycle. The rows' order is defined here once: findings about the metadata point at
`meta_cell(key)`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .. import __version__, signature, texts
from ..model import Template, TemplateError, normal_unit

META_KEYS = ("template", "version", "unit", "year", "period", "lang", "params", "generator", "given", "signature")
"""The metadata sheet's rows, in this order: the key in column A, its value in column B.
Readers find a row by its key; the write-back adds rows of its own after these (marks)."""


@dataclass(frozen=True)
class Cycle:
    """What makes one workbook of a template: the unit, the year, the language, the parameters."""

    unit: str
    year: int
    lang: str = texts.DEFAULT
    period: str = ""  # a month (YYYY-MM) for monthly templates; empty for a year's plan
    params: dict | None = None

    def __post_init__(self):
        if not isinstance(self.year, int) or not 1900 <= self.year <= 2200:
            raise TemplateError(f"year {self.year!r}: give the plan's year, e.g. 2027")
        object.__setattr__(self, "lang", texts.language(self.lang))  # BCP 47: 'zh' is 'zh-Hans'
        object.__setattr__(self, "unit", normal_unit(self.unit))  # one spelling of a unit everywhere
        if not self.unit:
            raise TemplateError("the unit's name (department, branch or team) cannot be blank")
        if self.period and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", self.period):
            raise TemplateError(f"period {self.period!r}: give a month as YYYY-MM, e.g. {self.year}-01")

    def template_params(self) -> dict:
        return {**(self.params or {}), "lang": self.lang, "unit": self.unit, "year": self.year}


def meta_rows(template: Template, cycle: Cycle, given: dict | None = None) -> list[tuple[str, Any]]:
    """(key, value) of every row of the metadata sheet, in META_KEYS order.

    `given`: HQ's grey cells as issued (block → rows of values); a submission whose grey cells
    differ gets a finding at the cell. With HQ's secret the record is signed (signature.py)."""
    values = {
        "template": template.id,
        "version": template.version,
        "unit": cycle.unit,
        "year": cycle.year,
        "period": cycle.period or str(cycle.year),  # a year's plan is for the year
        "lang": cycle.lang,
        "params": json.dumps(cycle.params or {}, ensure_ascii=False, sort_keys=True),
        "generator": f"xlplan {__version__}",
        "given": json.dumps(given or {}, ensure_ascii=False, sort_keys=True, default=str),
    }
    key = signature.secret()
    values["signature"] = signature.sign(values, key) if key else ""
    return [(k, values[k]) for k in META_KEYS]


def meta_cell(key: str) -> str:
    """The cell of a key's value on the metadata sheet: "B2" for the version."""
    return f"B{META_KEYS.index(key) + 1}"


def cycle_of(meta: dict[str, Any]) -> Cycle:
    """The Cycle a workbook's metadata (as the reader returns it) records; TemplateError when it
    records none that could be made again."""
    try:
        year = int(meta.get("year") or 0)
    except (TypeError, ValueError):
        raise TemplateError(f"year {meta.get('year')!r}: not a year") from None
    period = str(meta.get("period") or "")
    return Cycle(unit=str(meta.get("unit") or ""), year=year, lang=str(meta.get("lang") or texts.DEFAULT),
                 period="" if period == str(year) else period, params=meta.get("params") or {})
