"""Property-based fuzzing: mutated plans never crash the engine; every problem is a finding or a clear error.

A clean annual plan is mutated, one change per example, at the level a file really
varies: the XML of one input cell (any type Excel can store, and some it cannot:
NaN, 1e999, a date, a boolean, an error, text of any kind), the workbook's structure
(a sheet deleted or renamed, a defined name deleted or pointed elsewhere, a table
removed) and its bytes (truncated, flipped). Properties:

- `recalculation.check_file` returns a Result or raises an XlplanError (WorkbookError),
  never anything else;
- `merge.process` never raises, and a rejected file carries an error finding;
- a value the engine cannot use in a number cell is a finding at that very cell.

Examples per run: EXAMPLES per test, 3 tests (see the README's Reliability section).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import hq_cases as cases
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from plans import clean_annual_plan

from xlplan.hq import merge
from xlplan.model import XlplanError
from xlplan.workbook import ooxml
from xlplan.workbook import recalculation as recalc
from xlplan.workbook.checks import NUMERIC_UNITS
from xlplan.workbook.numbers import read_number

EXAMPLES = int(os.environ.get("XLPLAN_FUZZ_EXAMPLES", "60"))  # per test; CI runs the default
UNIT = "北区营业部"
WORK = Path(tempfile.mkdtemp(prefix="xlplan-fuzz-"))


@lru_cache(maxsize=1)
def clean():
    """The clean plan as bytes, and (block, sheet, address, unit) of every input cell."""
    base = cases.base("annual_plan", WORK)
    data = cases.copy(base, UNIT, clean_annual_plan())
    cells = []
    for name, block in base.template.blocks.items():
        if block.role != "input":
            continue
        if block.table:
            tplace = base.layout.tables[block.table]
            col = tplace.columns[name]
            cells += [(name, tplace.sheet, f"{get_column_letter(col)}{tplace.header_row + i}", block.unit)
                      for i in (1, 2, 3)]
        else:
            p = base.layout.places[name]
            cells += [(name, p.sheet, f"{get_column_letter(p.col + c)}{p.row + r}", block.unit)
                      for r in range(p.nrows) for c in range(p.ncols)]
    return data, tuple(cells)


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return out.getvalue()


# -- what goes into a cell ------------------------------------------------------------------
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
cell_values = st.one_of(
    st.tuples(st.just("n"), st.one_of(st.integers(-10**18, 10**18).map(str),
                                      st.floats(allow_nan=False, allow_infinity=False).map(repr),
                                      st.sampled_from(["NaN", "inf", "-inf", "1e999", "-0", "", "1,000", "0x10"]))),
    st.tuples(st.just("s"), st.one_of(texts, st.sampled_from(
        ["12萬", "1,000", "１２０", "15%", "2027/3/1", "3月", "=1/0", "+1", "-", "@SUM(A1)", "NaN", "None",
         "TRUE", "#REF!", " ", "1e999", "\u00a0120", "¥64,000", "x" * 5000]))),
    st.tuples(st.just("b"), st.sampled_from(["0", "1", "2", "true", ""])),
    st.tuples(st.just("e"), st.sampled_from(["#REF!", "#VALUE!", "#DIV/0!", "#N/A", "#NAME?", "#NUM!", "#BOGUS"])),
    st.tuples(st.just("d"), st.one_of(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(9999, 1, 1))
                                      .map(lambda d: d.isoformat()),
                                      st.sampled_from(["2027-13-45", "yesterday", ""]))),
)


def cell_xml(address: str, attrs: str, kind: str, raw: str) -> str:
    attrs = re.sub(r' t="[^"]*"', "", attrs)
    if kind == "s":
        return f'<c r="{address}"{attrs} t="inlineStr"><is><t xml:space="preserve">{escape(raw)}</t></is></c>'
    return f'<c r="{address}"{attrs} t="{kind}"><v>{escape(raw)}</v></c>'


def with_cell(data: bytes, sheet: str, address: str, kind: str, raw: str) -> bytes:
    files = parts(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        part = ooxml.sheet_parts(zf)[sheet]
    xml = files[part].decode("utf-8")
    pattern = re.compile(rf'<c r="{address}"((?: [a-z]+="[^"]*")*) ?(?:/>|>.*?</c>)')
    assert pattern.search(xml), address
    files[part] = pattern.sub(lambda m: cell_xml(address, m.group(1), kind, raw), xml, count=1).encode("utf-8")
    return rezip(files)


# -- the properties ---------------------------------------------------------------------------
def engine_outcome(name: str, data: bytes):
    """check_file's Result, or the XlplanError it raised; anything else fails the test."""
    path = WORK / name
    path.write_bytes(data)
    try:
        result = recalc.check_file(path)
    except XlplanError as exc:
        assert str(exc).startswith(name), str(exc)  # the message names the file
        result = exc
    processed = merge.process(name, data, dt.datetime(2027, 1, 5))
    assert processed.status in ("accepted", "rejected")
    if processed.status == "rejected":
        assert any(f[0] == "error" for f in processed.findings)
    if isinstance(result, XlplanError):
        assert processed.status == "rejected" and processed.findings[0][1] == "UNREADABLE"
    else:
        assert not [f for f in processed.findings if f[1] == "UNREADABLE"], processed.findings
        for f in result.findings:
            assert f.severity in ("error", "warning", "info") and f.code and f.message
    return result


def unusable(kind: str, raw: str, unit: str) -> bool:
    """A value the engine cannot compute with in a number cell."""
    if kind in ("e", "d", "b"):
        return raw != "" or kind == "e"
    if kind == "s":
        return raw.strip() != "" and read_number(raw, unit) is None
    return False


@settings(max_examples=EXAMPLES)
@given(data=st.data(), value=cell_values)
def test_any_value_in_any_input_cell(data, value):
    base, cells = clean()
    block, sheet, address, unit = data.draw(st.sampled_from(cells), label="cell")
    kind, raw = value
    result = engine_outcome("value.xlsx", with_cell(base, sheet, address, kind, raw))
    if isinstance(result, XlplanError):
        return
    if unit in NUMERIC_UNITS and unusable(kind, raw, unit):
        at = [f for f in result.findings if f.cell and (f.cell.sheet, f.cell.address) == (sheet, address)]
        assert at, f"{kind}:{raw!r} in {sheet}!{address} ({block}) gave no finding there: " \
                   f"{[str(f) for f in result.findings][:5]}"
    for f in result.findings:
        assert f.cell is not None or f.code in ("TEMPLATE_VERSION",), str(f)


def _sheet_names(workbook_xml: bytes) -> list[str]:
    return re.findall(r'<sheet [^>]*name="([^"]*)"', workbook_xml.decode("utf-8"))


def _names(workbook_xml: bytes) -> list[str]:
    return re.findall(r'<definedName name="([^"]*)"', workbook_xml.decode("utf-8"))


@st.composite
def structural(draw):
    base, _ = clean()
    files = parts(base)
    book = files["xl/workbook.xml"].decode("utf-8")
    what = draw(st.sampled_from(["delete_sheet", "rename_sheet", "delete_name", "alter_name", "delete_table",
                                 "empty_part", "drop_part"]))
    if what == "delete_sheet":
        sheet = draw(st.sampled_from(_sheet_names(files["xl/workbook.xml"])))
        book = re.sub(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*/>', "", book)
    elif what == "rename_sheet":
        sheet = draw(st.sampled_from(_sheet_names(files["xl/workbook.xml"])))
        new = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=31))
        book = book.replace(f'name="{sheet}"', f"name={quoteattr(new)}", 1)
    elif what in ("delete_name", "alter_name"):
        name = draw(st.sampled_from(_names(files["xl/workbook.xml"])))
        pattern = rf'<definedName name="{re.escape(name)}"[^>]*>[^<]*</definedName>'
        if what == "delete_name":
            book = re.sub(pattern, "", book)
        else:
            target = draw(st.one_of(st.sampled_from(["#REF!", "#REF!$C$10", "'计划进度'!$C$10", "'计划进度'!$A$1:$Z$99",
                                                     "'No such'!$C$10", "'计划进度'!$XFD$1048576", "SUM(1,2)",
                                                     "'计划进度'!$C$10:$C$9", ""]), texts))
            book = re.sub(pattern, lambda m: m.group(0).split(">")[0] + f">{escape(target)}</definedName>", book)
    elif what == "delete_table":
        tables = sorted(n for n in files if n.startswith("xl/tables/"))
        del files[draw(st.sampled_from(tables))]
    else:
        part = draw(st.sampled_from(sorted(n for n in files if n.endswith(".xml") or n.endswith(".rels"))))
        if what == "empty_part":
            files[part] = b""
        else:
            del files[part]
    files["xl/workbook.xml"] = book.encode("utf-8")
    return rezip(files)


@settings(max_examples=EXAMPLES)
@given(data=structural())
def test_structure_damaged(data):
    engine_outcome("structure.xlsx", data)


@st.composite
def damaged_bytes(draw):
    base, _ = clean()
    if draw(st.booleans()):
        return base[: draw(st.integers(0, len(base) - 1))]
    out = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        out[draw(st.integers(0, len(out) - 1))] ^= draw(st.integers(1, 255))
    return bytes(out)


@settings(max_examples=EXAMPLES)
@given(data=damaged_bytes())
def test_bytes_damaged(data):
    if not data:
        return
    engine_outcome("bytes.xlsx", data)
