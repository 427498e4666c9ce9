"""Unit tokens: HQ issues each unit a secret; the server keeps only its SHA-256.

A token is 32 random bytes (URL-safe text), so a plain SHA-256 is enough to store it:
there is nothing to guess that a slow hash would protect. The file is JSON,
`{"tokens": [{"sha256", "unit", "issued", "revoked"}]}`, written atomically.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path

from ..model import XlplanError, normal_unit

DEFAULT_TOKENS = "xlplan_tokens.json"
PREFIX = "xlp_"


class TokenFileError(XlplanError, ValueError):
    """The token file cannot be read: the message names the file."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    def __init__(self, path: str | Path = DEFAULT_TOKENS):
        self.path = Path(path)
        self._mtime: float | None = None
        self._by_digest: dict[str, str] = {}

    def _entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return list(data["tokens"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(f"{self.path}: not a token file ({exc})") from None

    def _save(self, entries: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"tokens": entries}, f, ensure_ascii=False, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def issue(self, unit: str) -> str:
        """A new token for `unit` (earlier tokens of the unit stay valid until revoked)."""
        unit = normal_unit(unit)
        if not unit:
            raise XlplanError("a token needs a unit name")
        token = PREFIX + secrets.token_urlsafe(32)
        entries = self._entries()
        entries.append({"sha256": digest(token), "unit": unit,
                        "issued": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "revoked": None})
        self._save(entries)
        return token

    def revoke(self, unit: str) -> int:
        entries = self._entries()
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        count = 0
        for e in entries:
            if e["unit"] == unit and not e.get("revoked"):
                e["revoked"] = now
                count += 1
        self._save(entries)
        return count

    def units(self) -> list[dict]:
        return [{"unit": e["unit"], "issued": e["issued"], "revoked": e.get("revoked")} for e in self._entries()]

    def unit_of(self, token: str | None) -> str | None:
        """The unit a token belongs to, or None for a missing, unknown or revoked token."""
        if not token:
            return None
        self._reload()
        wanted = digest(token)
        for known, unit in self._by_digest.items():
            if hmac.compare_digest(known, wanted):
                return unit
        return None

    def _reload(self):
        mtime = self.path.stat().st_mtime if self.path.exists() else None
        if mtime != self._mtime:
            self._by_digest = {e["sha256"]: normal_unit(e["unit"]) for e in self._entries() if not e.get("revoked")}
            self._mtime = mtime
