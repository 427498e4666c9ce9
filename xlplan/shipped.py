"""Where the templates and sample figures that ship with xlplan lie.

In a source checkout they sit at the top of the repository (`templates/`,
`workbooks/samples/`); the wheel carries the same folders inside the package
(`xlplan/shipped/`, copied there at build time by setup.py). HQ's own template sets
come first through `XLPLAN_TEMPLATES` (see spec.template_dirs).
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# name in the installed package -> folder in a source checkout
FOLDERS = {"templates": "templates", "samples": "workbooks/samples"}


def folder(name: str) -> Path:
    """The shipped folder `name` ("templates" or "samples"): the wheel's copy, else the checkout's."""
    installed = PACKAGE / "shipped" / name
    if installed.is_dir():
        return installed
    return PACKAGE.parent / FOLDERS[name]


def samples() -> list[str]:
    """The templates with sample figures (`xlplan new TEMPLATE --sample`)."""
    return sorted(p.stem for p in folder("samples").glob("*.json"))
