"""The custom functions for the classic xlwings add-in (Excel desktop with Python on the PC).

`register(namespace)` puts one UDF per function into a module's namespace, named
XLPLAN_<NAME> (the classic add-in names a UDF after its Python function), with the
same help and argument descriptions as the Office add-in's XLPLAN.<NAME>. The module
`xlplan addin desktop` writes beside the .xlam calls it, so adding that module to the
xlwings add-in's "UDF Modules" and pressing "Import Functions" brings them in.
Classic xlwings is BSD-licensed and needs no license key; its UDFs run on Windows only.
"""
from __future__ import annotations

import functools

from . import cellfuncs

PREFIX = "XLPLAN_"


def register(namespace: dict) -> list[str]:
    import xlwings as xw

    names = []
    for name in cellfuncs.FUNCTIONS:
        f = getattr(cellfuncs, name)

        @functools.wraps(f)
        def udf(*args, _f=f):
            return _f(*args)

        udf.__name__ = udf.__qualname__ = PREFIX + name.upper()
        for arg_name, arg in reversed(list(f.__xlplan_args__.items())):
            options = {"ndim": arg.ndim} if arg.ndim else {}
            options["err_to_str"] = True  # an error cell arrives as "#DIV/0!", not as None (xlwings' default)
            udf = xw.arg(arg_name, doc=arg.doc, **options)(udf)
        udf = xw.func(category="xlplan")(udf)
        namespace[udf.__name__] = udf
        names.append(udf.__name__)
    return names
