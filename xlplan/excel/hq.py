"""Submissions straight into HQ's database: the merge's per-file step, then the store.

`StoreInbox` has the three methods the server calls on inbox.Inbox, so `xlplan serve
--db URL` puts every submitted workbook where `xlplan merge` puts files: read,
recomputed and checked by `merge.process`, kept by `store.Store` with its bytes,
findings and long-form values; a resubmission is a new version, the same bytes twice
one submission.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading

from ..hq.distribute import GivenCheck
from ..hq.merge import process
from ..hq.store import Store, utcnow
from .inbox import Rejected, WrongUnit, _safe_name

RECEIPT_FIELDS = ("unit", "template", "template_version", "period", "version", "status", "errors", "warnings",
                  "submitter", "source", "sha256")


def receipt(record: dict, duplicate: bool = False) -> dict:
    out = {key: record.get(key) for key in RECEIPT_FIELDS}
    received = record.get("received_at")
    out.update(id=str(record["id"]), filename=record.get("source"), duplicate=duplicate,
               received=received.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds")
               if isinstance(received, dt.datetime) else received)
    return out


class StoreInbox:
    def __init__(self, url: str):
        self.store = Store(url)
        self._lock = threading.Lock()  # one writer at a time: version numbers are recounted per add

    def receive_submission(self, data: bytes, filename: str, unit: str, submitter: str = "") -> dict:
        processed = process(_safe_name(filename), data, utcnow())
        if processed.unit is None:
            raise Rejected(processed.findings[0][2] if processed.findings else "not an xlplan workbook")
        if processed.unit != unit:
            raise WrongUnit(f"the workbook belongs to {processed.unit!r}, the token to {unit!r}")
        processed = dataclasses.replace(processed, submitter=submitter or unit)
        processed = GivenCheck(self.store)(processed)  # HQ's grey cells must hold what was issued
        with self._lock:
            (sid,) = self.store.add([(processed, data)])
        if sid is None:  # the same bytes came before
            record = next(r for r in self.store.submissions() if r["sha256"] == processed.sha256)
            if record["unit"] != unit:
                raise WrongUnit(f"this workbook was submitted by {record['unit']}")
            return receipt(record, duplicate=True)
        stored = self.store.submission(sid)
        assert stored is not None, f"submission {sid} was stored a moment ago, under the lock"
        return receipt(stored)

    def submissions(self, unit: str) -> list[dict]:
        return [receipt(r) for r in self.store.submissions() if r["unit"] == unit]

    def submission(self, sid: str) -> dict | None:
        if not sid.isdigit():
            return None
        record = self.store.submission(int(sid))
        return receipt(record) if record else None
