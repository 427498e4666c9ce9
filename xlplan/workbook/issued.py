"""What HQ issued, checked in a returned workbook: its grey cells, parameters and unit.

The generator records HQ's given cells and the cycle in the hidden `_xlplan` sheet and
signs that record with HQ's secret (xlplan/signature.py). `verify(plan)` compares every
given cell with the record — a changed target, weight or grade band is an error at its
cell, whatever the protection was — and, where HQ's secret is configured, checks the
signature, so a record edited to match is an error too. HQ's store can call it on any
plan (the "issued" record of distributed workbooks builds on it).
"""
from __future__ import annotations

import json

from .. import signature
from ..model import Cell, Finding, normal_unit, text
from ..template.layout import META_SHEET
from ..texts import t
from .metadata import record_cell
from .plan import Plan, is_number


def verify(plan: Plan) -> list[Finding]:
    meta, lang = plan.meta, plan.lang
    out: list[Finding] = []
    raw_given = meta.get("given")
    given = None
    if raw_given not in (None, ""):
        try:
            given = json.loads(raw_given)
        except (TypeError, ValueError, RecursionError):
            given = None
        if not isinstance(given, dict):
            out.append(Finding("error", "ISSUED_RECORD_DAMAGED", t("issued_damaged", lang),
                               record_cell(meta, "given", plan.file)))
            given = None
    if given:
        out += _compare_given(plan, given)
    key = signature.secret()
    signed = str(meta.get("signature") or "")
    if key is not None and not signed:
        out.append(Finding("warning", "NOT_SIGNED", t("not_signed", lang), Cell(plan.file, META_SHEET, "A1")))
    elif key is not None:
        record = {**meta, "params": meta.get("_params_text") or "", "given": raw_given or ""}
        if not signature.verify(record, signed, key):
            out.append(Finding("error", "SIGNATURE_MISMATCH", t("signature_mismatch", lang),
                               record_cell(meta, "signature", plan.file)))
    elif signed:
        out.append(Finding("info", "NOT_VERIFIED", t("not_verified", lang), record_cell(meta, "signature", plan.file)))
    return out


def _same(found, issued) -> bool:
    if issued in (None, ""):
        return found in (None, "")
    if is_number(issued):
        return is_number(found) and abs(found - issued) <= 1e-9 * max(1.0, abs(issued))
    return normal_unit(found) == normal_unit(issued)


def _compare_given(plan: Plan, given: dict) -> list[Finding]:
    from .checks import fmt  # checks imports the reader, which calls this module

    out = []
    for name, grid in given.items():
        block = plan.template.blocks.get(name)
        found = plan.values.get(name)
        if block is None or found is None or not isinstance(grid, list):
            continue
        for r, row in enumerate(grid, start=1):
            for c, issued in enumerate(row if isinstance(row, list) else [row], start=1):
                value = found[r - 1][c - 1] if r - 1 < len(found) and c - 1 < len(found[r - 1]) else None
                if not _same(value, issued):
                    out.append(Finding("error", "GIVEN_CHANGED",
                                       t("given_changed", plan.lang).format(
                                           label=text(block.label, plan.lang), issued=fmt(issued, block.unit),
                                           found=fmt(value, block.unit)),
                                       plan.cell(name, r, c), block=name, expected=issued, actual=value))
    return out
