"""The databases the HQ tests run against: an SQLite file, and PostgreSQL when one is given.

PostgreSQL comes from `XLPLAN_TEST_POSTGRES_URL` (scripts/postgres.sh starts a server on
loopback and prints the URL). Without it the PostgreSQL cases skip on a developer's
machine; in CI (env CI set) they fail instead, because a skipped half of the suite
would look green.

Each test run makes a database of its own on that server and drops it at exit, so two
runs on one machine (a developer's and CI's) never empty each other's tables.
"""
from __future__ import annotations

import atexit
import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from xlplan.hq.store import drop_all

POSTGRES_URL = os.environ.get("XLPLAN_TEST_POSTGRES_URL", "")
IN_CI = bool(os.environ.get("CI"))
BACKENDS = ("sqlite", "postgres")
_run_database: list[str] = []


def need_postgres() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("XLPLAN_TEST_POSTGRES_URL is not set: in CI the store tests must run against PostgreSQL "
                    "(export XLPLAN_TEST_POSTGRES_URL=$(bash scripts/postgres.sh))")
    pytest.skip("XLPLAN_TEST_POSTGRES_URL is not set (bash scripts/postgres.sh starts a server and prints it)")


def run_database(server_url: str) -> str:
    """A database on the server for this test run only (made once, dropped at exit)."""
    if not _run_database:
        name = f"xlplan_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        _run_database.append(make_url(server_url).set(database=name).render_as_string(hide_password=False))

        def drop():
            admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

        atexit.register(drop)
    return _run_database[0]


def fresh_url(backend: str, folder) -> str:
    """A URL of an empty database of `backend`."""
    if backend == "sqlite":
        return f"sqlite:///{folder / f'hq-{uuid.uuid4().hex[:8]}.db'}"
    url = run_database(need_postgres())
    drop_all(url)
    return url
