"""The databases the HQ tests run against: an SQLite file, and PostgreSQL when one is given.

PostgreSQL comes from `XLPLAN_TEST_POSTGRES_URL` (scripts/postgres.sh starts a server on
loopback and prints the URL). Without it the PostgreSQL cases skip on a developer's
machine; in CI (env CI set) they fail instead, because a skipped half of the suite
would look green.
"""
from __future__ import annotations

import os
import uuid

import pytest

from xlplan.store import drop_all

POSTGRES_URL = os.environ.get("XLPLAN_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))
BACKENDS = ("sqlite", "postgres")


def need_postgres() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("XLPLAN_TEST_POSTGRES_URL is not set: in CI the store tests must run against PostgreSQL "
                    "(export XLPLAN_TEST_POSTGRES_URL=$(bash scripts/postgres.sh))")
    pytest.skip("XLPLAN_TEST_POSTGRES_URL is not set (bash scripts/postgres.sh starts a server and prints it)")


def fresh_url(backend: str, folder) -> str:
    """A URL of an empty database of `backend`."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'hq-{uuid.uuid4().hex[:8]}.db'}"
    url = need_postgres()
    drop_all(url)
    return url
