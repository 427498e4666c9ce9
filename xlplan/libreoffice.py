"""LibreOffice, headless: recalculate workbooks and render a sheet to PNG.

Used by the parity tests (every generated formula recalculated by a real spreadsheet
program and compared with the Python engine) and for the README's picture. One
`soffice` call converts a whole batch, because starting LibreOffice costs more than
recalculating a workbook. Each call runs with its own fresh user profile, so a stale
or concurrently used profile (another test run, a desktop session) cannot make it
hang or silently convert nothing.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from .model import XlplanError

TIMEOUT = 300  # seconds for one batch; a first start on a cold machine takes a while


class LibreOfficeError(XlplanError, RuntimeError):
    """LibreOffice is missing, timed out, or did not produce a file it was asked for."""


def soffice() -> str:
    """The LibreOffice program: `soffice` on the PATH, else `libreoffice`, else an error."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise LibreOfficeError("LibreOffice is not installed (no `soffice` or `libreoffice` on the PATH); "
                               "on Debian: apt-get install libreoffice-calc-nogui, or run scripts/setup.sh")
    return found


def available() -> bool:
    return bool(shutil.which("soffice") or shutil.which("libreoffice"))


def _convert(paths: list[Path], outdir: Path, target: str, timeout: float) -> str:
    """Run one soffice conversion; returns what soffice printed, for error messages."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlplan-lo-profile-") as profile:
        command = [soffice(), f"-env:UserInstallation={Path(profile).as_uri()}",
                   "--headless", "--norestore", "--nolockcheck", "--calc",
                   "--convert-to", target, "--outdir", str(outdir), *map(str, paths)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise LibreOfficeError(f"LibreOffice took more than {timeout:.0f} s to convert "
                                   f"{len(paths)} file(s), the first {paths[0].name}") from None
    if done.returncode != 0:
        raise LibreOfficeError(f"LibreOffice failed (exit {done.returncode}) converting "
                               f"{', '.join(p.name for p in paths)}: {(done.stderr or done.stdout).strip()}")
    return (done.stdout + done.stderr).strip()


def recalculate(paths: Iterable[Path | str], outdir: Path | str, timeout: float = TIMEOUT) -> list[Path]:
    """Open each workbook in LibreOffice, recalculate every formula, save it as .xlsx in `outdir`.

    Returns the saved files in the order given; openpyxl with `data_only=True` reads the
    values LibreOffice computed. Input names must differ by stem (outputs are OUTDIR/STEM.xlsx)
    and `outdir` must not be the inputs' folder.
    """
    workbooks = [Path(p).resolve() for p in paths]
    folder = Path(outdir).resolve()
    if not workbooks:
        return []
    stems = [p.stem for p in workbooks]
    if len(set(stems)) != len(stems):
        raise LibreOfficeError("workbooks to recalculate in one batch need different names")
    for p in workbooks:
        if not p.is_file():
            raise LibreOfficeError(f"no workbook {p}")
        if p.parent == folder:
            raise LibreOfficeError(f"{p.name}: the output folder must differ from the input's folder")
    outputs = [folder / f"{p.stem}.xlsx" for p in workbooks]
    for out in outputs:
        out.unlink(missing_ok=True)
    # "xlsx:Calc MS Excel 2007 XML" is the filter Excel files are saved with; LibreOffice
    # recalculates on load files that another program wrote, so the saved values are fresh.
    said = _convert(workbooks, folder, "xlsx:Calc MS Excel 2007 XML", timeout)
    missing = [p.name for p, out in zip(workbooks, outputs) if not out.is_file()]
    if missing:
        raise LibreOfficeError(f"LibreOffice did not convert {', '.join(missing)}: {said or 'no message'}")
    return outputs
