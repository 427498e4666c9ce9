"""HQ's keyed signature over what it issued in a workbook.

When HQ generates a workbook it records, in the hidden `_xlplan` sheet, the template,
version, unit, year, period, language, cycle parameters and the values of every given
(grey, HQ-set) cell, and — when it has a secret — an HMAC-SHA256 over exactly those
texts. A unit can unprotect a sheet and change a grey cell, or even edit the hidden
record; it cannot make a matching signature without HQ's secret. The secret comes from
`XLPLAN_HQ_SECRET`, or from the file named by `XLPLAN_HQ_SECRET_FILE`; without one,
nothing is signed and the record is checked against the cells only (a unit that edits
both the grey cell and the hidden record is then not caught: README › Reliability).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

from .model import XlplanError

SIGNED_KEYS = ("template", "version", "unit", "year", "period", "lang", "params", "given")


class SecretError(XlplanError, ValueError):
    """XLPLAN_HQ_SECRET_FILE names a file that cannot be read."""


def secret() -> bytes | None:
    """HQ's secret, or None when none is configured."""
    value = os.environ.get("XLPLAN_HQ_SECRET")
    if value:
        return value.encode("utf-8")
    path = os.environ.get("XLPLAN_HQ_SECRET_FILE")
    if path:
        try:
            data = Path(path).read_bytes().strip()
        except OSError as exc:
            raise SecretError(f"XLPLAN_HQ_SECRET_FILE={path}: cannot be read ({exc.strerror})") from None
        return data or None
    return None


def texts_of(record: dict) -> list[str]:
    """The signed texts of a record, in order: numbers as whole numbers where they are whole."""
    out = []
    for key in SIGNED_KEYS:
        value = record.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        out.append("" if value is None else str(value))
    return out


def sign(record: dict, key: bytes) -> str:
    message = json.dumps(texts_of(record), ensure_ascii=False).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(record: dict, signature: str, key: bytes) -> bool:
    return hmac.compare_digest(sign(record, key), str(signature or ""))
