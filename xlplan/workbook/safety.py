"""Limits checked before a workbook is parsed: size, zip bombs, files that are no workbook.

A submission comes from anyone: a legacy .xls, a password-protected file, a CSV
renamed .xlsx, a file cut off by an email gateway, or something built to exhaust
memory. `admit_bytes(name, data)` looks at the bytes and the zip directory only
(nothing is decompressed) and raises a WorkbookError that says what the file is and
what to do; `check_size` refuses an oversized file before its bytes are read.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass

from ..model import WorkbookError
from . import ooxml

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * 2**20  # a plan workbook is well under 1 MiB
    uncompressed_bytes: int = 400 * 2**20
    ratio: int = 200  # compressed → uncompressed, for parts over 1 MiB
    parts: int = 5_000
    cells: int = 5_000_000  # from each sheet's declared dimension


DEFAULT_LIMITS = Limits()


def _describe_non_zip(name: str, head: bytes, data_tail: bytes) -> str:
    if head.startswith(OLE_MAGIC):
        if ENCRYPTION_MARK in data_tail:
            return (f"{name}: the workbook is password protected; xlplan cannot read it. "
                    "Remove the password (File › Info › Protect Workbook) and send it again")
        return (f"{name}: a legacy Excel 97–2003 (.xls) file; open it in Excel or WPS and "
                "save it as .xlsx from the xlplan workbook HQ sent")
    sample = head[:512]
    try:
        decoded = sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            decoded = sample.decode("gb18030")
        except UnicodeDecodeError:
            decoded = None
    if decoded is not None and decoded.strip() and all(ch.isprintable() or ch in "\r\n\t" for ch in decoded):
        kind = "a CSV or text file" if ("," in decoded or "\t" in decoded) else "a text file"
        return f"{name}: {kind} named like a workbook; send the xlplan .xlsx workbook instead"
    return f"{name}: not an Excel workbook (.xlsx)"


def admit_bytes(name: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Raise WorkbookError unless `data` looks like an .xlsx within the limits; else its zip,
    open over the bytes, so that the reader opens each file's zip once."""
    check_size(name, len(data), limits)
    if not data.startswith(b"PK"):
        raise WorkbookError(_describe_non_zip(name, data[:4096], data[:4096 + 2**20]))
    return _open_checked(name, data, limits)


def check_size(name: str, size: int, limits: Limits = DEFAULT_LIMITS) -> None:
    if size == 0:
        raise WorkbookError(f"{name}: the file is empty")
    if size > limits.file_bytes:
        raise WorkbookError(f"{name}: {size / 2**20:.1f} MiB is over the limit of "
                            f"{limits.file_bytes / 2**20:.0f} MiB for a plan workbook")


def _open_checked(name: str, file, limits: Limits) -> zipfile.ZipFile:
    """The zip of a file (path, file object, or its bytes) whose directory is within the limits, open."""
    try:
        zf = ooxml.ZipInMemory(file) if isinstance(file, bytes) else zipfile.ZipFile(file)
    except (zipfile.BadZipFile, NotImplementedError):  # NotImplementedError: a version or method no writer uses
        raise WorkbookError(_damaged(name)) from None
    try:
        _check_parts(name, zf, zf.infolist(), limits)
    except zipfile.BadZipFile:
        zf.close()
        raise WorkbookError(_damaged(name)) from None
    except BaseException:
        zf.close()
        raise
    return zf


def _damaged(name: str) -> str:
    return (f"{name}: the file is damaged or was cut off in transfer (its zip directory "
            "is missing); ask the sender to send it again")


def _check_parts(name, zf, infos, limits):
    if len(infos) > limits.parts:
        raise WorkbookError(f"{name}: {len(infos)} parts inside the file, over the limit of {limits.parts}")
    names = {i.filename for i in infos}
    if ooxml.WORKBOOK not in names:
        raise WorkbookError(f"{name}: a zip file but not an Excel workbook (no xl/workbook.xml)")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 2**20 and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise WorkbookError(f"{name}: the part {info.filename} expands {ratio}"
                                f" times (limit {limits.ratio}); the file looks like a zip bomb and is refused")
    if total > limits.uncompressed_bytes:
        raise WorkbookError(f"{name}: {total / 2**20:.0f} MiB uncompressed, over the limit of "
                            f"{limits.uncompressed_bytes / 2**20:.0f} MiB")
    cells = 0
    for info in infos:
        if info.filename.startswith(ooxml.WORKSHEETS + "sheet") and info.filename.endswith(".xml"):
            try:
                head = ooxml.read_part(zf, info.filename, 2048)
            except ooxml.PartUnreadable as exc:
                raise WorkbookError(f"{name}: {exc}; ask the sender to send the file again") from None
            m = ooxml.DIMENSION.search(head)
            if m and m.group(3):
                cells += _declared_cells(name, info.filename, m)
    if cells > limits.cells:
        raise WorkbookError(f"{name}: its sheets declare {cells:,} cells, over the limit of {limits.cells:,}")


def _declared_cells(name: str, part: str, m) -> int:
    """Cells in the range a sheet's <dimension> declares."""
    try:
        c0, c1 = ooxml.column_number(m.group(1).decode()), ooxml.column_number(m.group(3).decode())
    except ValueError:  # past column XFD: no program writes that
        raise WorkbookError(f"{name}: the part {part} declares columns past the last one; "
                            "ask the sender to send the file again") from None
    return (int(m.group(4)) - int(m.group(2)) + 1) * (c1 - c0 + 1)
