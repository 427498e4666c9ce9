"""xlplan: Excel-native planning. Templates, a workbook engine, Excel binding, HQ merge.

The Python API in four calls (the CLI does the same):

    import xlplan
    xlplan.new("annual_plan", unit="北区营业部", year=2027, output="north.xlsx")
    result = xlplan.check("north.xlsx")           # read, compute, check: nothing written
    result.value("headcount"), result.findings
    xlplan.recalc("north.xlsx", json_report="north.json")   # and write back
"""
from __future__ import annotations

__version__ = "0.1.0"


def new(template: str, unit: str, year: int, output, *, lang: str = "zh-Hans", period: str = "",
        data: dict | None = None, params: dict | None = None):
    """Build a fresh workbook of `template` for one unit and cycle; returns its path. `params` are
    checked as `xlplan new --param` checks them (TemplateError naming the parameter)."""
    from .template import generate, spec

    params = spec.check_parameters(template, params or {})
    cycle = generate.Cycle(unit=unit, year=year, lang=lang, period=period, params=params)
    return generate.write(spec.load(template, cycle.template_params()), cycle, output, data)


def check(path):
    """Read a workbook, compute every block from its inputs and check it: a Result, nothing written."""
    from .workbook.recalculation import check_file

    return check_file(path)


def recalc(path, output=None, json_report=None):
    """Recalculate a workbook and write back values, the Checks sheet and marks; returns the Result."""
    from .workbook.recalculation import recalc_file

    return recalc_file(path, output, json_report)
