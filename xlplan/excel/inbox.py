"""Where the server puts a submitted workbook until HQ's store takes over.

`receive_submission(data, filename, unit)` is the one call the server makes; it returns
the receipt the clerk sees. This minimal inbox keeps each workbook content-addressed
(`blobs/<sha256>.xlsx`) and one JSON line per submission (`submissions.jsonl`); it is
meant to be replaced by HQ's database (xlplan.store) behind the same three methods.

The uploaded file name is kept as text only: files are named by their hash, never by
anything the client sent.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import threading
import zipfile
from pathlib import Path

from ..model import XlplanError
from ..workbook.read import read_fast
from ..workbook.recalculation import evaluate

DEFAULT_INBOX = "xlplan_inbox"


class Rejected(XlplanError, ValueError):
    """The upload is not a workbook xlplan can read: the message says why (HTTP 422)."""


class WrongUnit(XlplanError, PermissionError):
    """The workbook belongs to another unit than the token's (HTTP 403)."""


class Inbox:
    def __init__(self, folder: str | Path = DEFAULT_INBOX):
        self.folder = Path(folder)
        self._lock = threading.Lock()

    @property
    def index(self) -> Path:
        return self.folder / "submissions.jsonl"

    def _records(self) -> list[dict]:
        if not self.index.exists():
            return []
        return [json.loads(line) for line in self.index.read_text(encoding="utf-8").splitlines() if line.strip()]

    def receive_submission(self, data: bytes, filename: str, unit: str, submitter: str = "") -> dict:
        """Check, keep and acknowledge one workbook of `unit`; the same bytes twice are one submission."""
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise Rejected(f"{_safe_name(filename)}: not an .xlsx workbook (not a zip file)")
        sha = hashlib.sha256(data).hexdigest()
        self.folder.mkdir(parents=True, exist_ok=True)
        blobs = self.folder / "blobs"
        blobs.mkdir(exist_ok=True)
        blob = blobs / f"{sha}.xlsx"
        with self._lock:
            for record in self._records():
                if record["sha256"] == sha:
                    if record["unit"] != unit:
                        raise WrongUnit(f"this workbook was submitted by {record['unit']}")
                    return {**record, "duplicate": True}
            if not blob.exists():
                fd, tmp = tempfile.mkstemp(dir=blobs, suffix=".part")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, blob)
            try:
                result = evaluate(read_fast(blob))
            except XlplanError as exc:
                blob.unlink(missing_ok=True)
                raise Rejected(str(exc).replace(blob.name, _safe_name(filename))) from None
            plan = result.plan
            if plan.unit != unit:
                blob.unlink(missing_ok=True)
                raise WrongUnit(f"the workbook belongs to {plan.unit!r}, the token to {unit!r}")
            same = [r for r in self._records()
                    if (r["unit"], r["template"], r["period"]) == (unit, plan.template.id, plan.period)]
            errors = len(result.errors)
            record = {
                "id": sha[:16], "sha256": sha, "unit": unit, "template": plan.template.id,
                "template_version": str(plan.meta.get("version")), "period": plan.period,
                "version": len(same) + 1, "filename": _safe_name(filename), "submitter": submitter,
                "received": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "status": "rejected" if errors else "accepted", "errors": errors,
                "warnings": result.counts()["warning"],
            }
            with self.index.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return {**record, "duplicate": False}

    def submissions(self, unit: str) -> list[dict]:
        return [r for r in self._records() if r["unit"] == unit]

    def submission(self, sid: str) -> dict | None:
        return next((r for r in self._records() if r["id"] == sid), None)


def _safe_name(filename: str) -> str:
    """The last path part of a client's file name, for display only."""
    name = (filename or "upload.xlsx").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:120]
    return name or "upload.xlsx"

