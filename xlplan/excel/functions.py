"""The custom functions of the Office add-in: cellfuncs.py's functions as xlwings server functions.

Each is registered on a fresh wrapper, so the plain function stays free of xlwings'
metadata (classic.py registers the same functions for the classic add-in).
`xlwings.server.custom_functions_call(data, functions)` finds them by Python name.
"""
from __future__ import annotations

import functools

from . import require_license

require_license()

from xlwings import server  # noqa: E402

from . import cellfuncs  # noqa: E402

FUNCTIONS = cellfuncs.FUNCTIONS


def register(f):
    @functools.wraps(f)
    def cell_function(*args):
        return f(*args)

    for name, arg in reversed(list(f.__xlplan_args__.items())):
        options = {"ndim": arg.ndim} if arg.ndim else {}
        options["err_to_str"] = True  # an error cell arrives as "#DIV/0!", not as None (xlwings' default)
        cell_function = server.arg(name, doc=arg.doc, **options)(cell_function)
    return server.func(cell_function)


for _name in FUNCTIONS:
    globals()[_name] = register(getattr(cellfuncs, _name))
