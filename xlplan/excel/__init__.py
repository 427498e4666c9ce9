"""xlplan inside Excel: custom functions, ribbon scripts and the add-in server.

This is the only package that imports xlwings. Its server part (`xlwings.server`,
part of xlwings PRO) reads a license key from XLWINGS_LICENSE_KEY when it is first
imported, so every module here that needs it calls `require_license()` before
importing it. The free key "noncommercial" serves development and tests only; a
company running xlplan in production needs a paid xlwings PRO deploy key (see the
README, "In Excel").
"""
from __future__ import annotations

import os

from ..model import XlplanError

LICENSE_ENV = "XLWINGS_LICENSE_KEY"
DEV_KEY = "noncommercial"


class LicenseMissing(XlplanError, RuntimeError):
    """xlwings' server part needs a license key and none is set."""


def use_development_license() -> None:
    """Use xlwings' free noncommercial key unless a key is set: development and tests only."""
    os.environ.setdefault(LICENSE_ENV, DEV_KEY)


def require_license() -> None:
    if not os.environ.get(LICENSE_ENV):
        raise LicenseMissing(
            f"xlwings' server part needs a license key in {LICENSE_ENV}: a deploy key from an "
            f"xlwings PRO plan for company use, or '{DEV_KEY}' for development "
            "(`xlplan serve --dev` sets it)")


def missing_dependency(exc: ImportError):
    return XlplanError(f"the Excel add-in needs extra packages ({exc.name} is missing): "
                       "pip install 'xlplan[excel]'")
