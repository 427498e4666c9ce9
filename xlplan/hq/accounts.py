"""HQ's reviewers: one account each, and the web page's sessions, both kept in HQ's store.

An account is a name and a salted scrypt hash of its password (`xlplan hq-user add NAME`);
the password itself is kept nowhere. When HQ has accounts, the web page's login takes a
reviewer's name and own password, and the review log records that name. Without any
account, HQ's one shared password (XLPLAN_HQ_PASSWORD) still opens the page, with the
name typed at login.

A session is a random value in the browser's cookie; the store keeps only its SHA-256,
the reviewer, the form token (CSRF) and when it expires, so a session outlives a restart
of `xlplan serve` and ends on time or at logout.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..model import XlplanError, normal_unit
from .store import Store, utcnow

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1  # 16 MiB and ~50 ms a check: costly to guess, cheap to log in
PARAMS = f"scrypt:n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}"
MIN_PASSWORD = 10
SESSION_HOURS = 12
MAX_NAME = 100


class AccountError(XlplanError, ValueError):
    """An account that cannot be made or removed: the message says why."""


@dataclass(frozen=True)
class Session:
    key: str  # the cookie's value
    reviewer: str
    csrf: str


def now() -> dt.datetime:
    return utcnow()


def _scrypt(password: str, salt: bytes, params: str) -> bytes:
    fields = dict(part.split("=") for part in params.split(":", 1)[1].split(","))
    n, r, p = int(fields["n"]), int(fields["r"]), int(fields["p"])
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=128 * r * n * 2, dklen=32)


def add(store: Store, name: str, password: str) -> str:
    """Make a reviewer's account; returns the name as kept (spaces and full-width forms normalised)."""
    name = normal_unit(name or "")
    if not name:
        raise AccountError("a reviewer's account needs a name")
    if len(name) > MAX_NAME:
        raise AccountError(f"{name[:20]}…: a name is at most {MAX_NAME} characters")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"{name}: the password needs at least {MIN_PASSWORD} characters")
    salt = secrets.token_bytes(16)
    if not store.add_hq_user(name, salt.hex(), _scrypt(password, salt, PARAMS).hex(), PARAMS):
        raise AccountError(f"{name} has an account already")
    return name


def remove(store: Store, name: str) -> None:
    if not store.remove_hq_user(normal_unit(name or "")):
        raise AccountError(f"{name}: no such account")


def any_accounts(store: Store) -> bool:
    return store.has_hq_users()


def check(store: Store, name: str, password: str) -> str | None:
    """The account's name when `password` is its password, else None (as slow either way)."""
    user = store.hq_user(normal_unit(name or ""))
    if user is None:
        _scrypt(password or "", b"\0" * 16, PARAMS)  # the same work as for a known name
        return None
    digest = _scrypt(password or "", bytes.fromhex(user["salt"]), user["params"])
    return user["name"] if hmac.compare_digest(digest.hex(), user["hash"]) else None


def _key(value: str) -> str:
    return hashlib.sha256(value.encode("ascii", "replace")).hexdigest()


def start_session(store: Store, reviewer: str) -> Session:
    value = secrets.token_urlsafe(32)
    session = Session(value, reviewer, secrets.token_urlsafe(32))
    store.add_session(_key(value), reviewer, session.csrf, now() + dt.timedelta(hours=SESSION_HOURS))
    return session


def session(store: Store, value: str) -> Session | None:
    """The session a cookie's value names, unless it expired or ended."""
    if not value:
        return None
    row = store.session(_key(value), now())
    return Session(value, row["reviewer"], row["csrf"]) if row else None


def end_session(store: Store, value: str) -> None:
    if value:
        store.end_session(_key(value))
