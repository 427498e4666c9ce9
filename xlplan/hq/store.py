"""HQ's store of submissions: the only module that speaks SQL.

Every workbook that reaches HQ is kept: its bytes (content-addressed by SHA-256), who
sent it and when, its status and findings, and its plan values in long form (one row
per non-blank cell: block, row, column, value). Nothing is ever updated in place except
the version numbers, which are recounted by time received when a late file arrives.

- Same bytes twice are one submission (the SHA-256 is unique).
- New bytes for the same unit, template and period are a new version; earlier versions
  stay and can be queried.
- A rejected file is kept with its findings; consolidation uses each unit's latest
  accepted version.

The database is any SQLAlchemy URL: an SQLite file by default (nothing to start), or
PostgreSQL (`postgresql+psycopg://user@host/db`, install xlplan[postgres]).

Schema migrations are a numbered list applied in order and recorded in `xlplan_schema`
(see MIGRATIONS) rather than Alembic: xlplan owns a handful of tables, ships as one
package without a migrations folder or alembic.ini, and must upgrade a clerk's SQLite
file in place on first use with no separate command.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    event,
    exists,
    func,
    inspect,
    literal,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)

from ..model import SEVERITIES, XlplanError, severity_counts

DEFAULT_URL = "sqlite:///hq.db"
ACCEPTED, REJECTED = "accepted", "rejected"


class StoreError(XlplanError, RuntimeError):
    """The database cannot be opened, is locked, or has a schema newer than this xlplan."""


metadata = MetaData()

schema_table = Table(
    "xlplan_schema", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

blobs = Table(
    "blobs", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False, unique=True),
    Column("unit", String(200)),  # None when the file could not be read at all
    Column("template", String(100)),
    Column("template_version", String(40)),
    Column("period", String(40)),
    Column("version", Integer),  # 1, 2, ... per unit + template + period, by time received
    Column("received_at", DateTime, nullable=False),  # UTC; the file's modification time
    Column("merged_at", DateTime, nullable=False),  # UTC; when this store first saw the bytes
    Column("submitter", String(200)),
    Column("source", String(500), nullable=False),  # the file name it arrived as
    Column("status", String(16), nullable=False),
    Column("errors", Integer, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Index("ix_submissions_key", "unit", "template", "period"),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("severity", String(16), nullable=False),
    Column("code", String(60), nullable=False),
    Column("message", Text, nullable=False),
    Column("sheet", String(200)),
    Column("cell", String(20)),
    Column("block", String(100)),
)

plan_values = Table(
    "plan_values", metadata,
    # no FOREIGN KEY (since version 5): PostgreSQL checked it row by row, half of its time storing
    # a file's values; the rows are only ever written in the transaction that adds their
    # submission, and submissions are never removed
    Column("submission_id", Integer, nullable=False),
    Column("unit", String(200), nullable=False),
    Column("period", String(40), nullable=False),
    Column("block", String(100), nullable=False),  # block name; "table.column" for a table column
    Column("row", Integer, nullable=False),  # 1-based; the table row for a table column
    Column("col", Integer, nullable=False),  # 1-based
    Column("row_key", String(200)),  # the row's label (region, segment, figure ...)
    Column("col_key", String(200)),  # the column's label (month, quarter ...)
    Column("number", Float),
    Column("text", Text),
    Column("role", String(16), nullable=False),  # input | given | computed
    Index("ix_plan_values_submission_block", "submission_id", "block"),
)

roster = Table(
    "roster", metadata,
    Column("unit", String(200), nullable=False),
    Column("template", String(100), nullable=False),
    Column("period", String(40), nullable=False, default=""),  # "" matches any period
    Column("due", Date),
    UniqueConstraint("unit", "template", "period", name="uq_roster_entry"),
)

V1_TABLES = (blobs, submissions, findings, plan_values, roster)

# -- version 2: HQ's planning cycle (distribute, review, actuals) ---------------------------
review_log = Table(
    "review_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # received | checked | approved | returned
    Column("actor", String(200), nullable=False),  # who: the submitter, "xlplan" (the checks), a reviewer
    Column("at", DateTime, nullable=False),  # UTC
    Column("note", Text),  # the overall comment, or what the checks found
    Column("comments", Text),  # JSON list of {"sheet", "cell", "block", "text"}: comments on cells
)

issued = Table(
    "issued", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch", String(40), nullable=False),  # one distribution run
    Column("unit", String(200), nullable=False),
    Column("template", String(100), nullable=False),
    Column("period", String(40), nullable=False),
    Column("block", String(100), nullable=False),
    Column("row", Integer, nullable=False),
    Column("col", Integer, nullable=False),
    Column("number", Float),
    Column("text", Text),
    Column("issued_at", DateTime, nullable=False),
    Column("file", String(500), nullable=False),  # the workbook's name in the outbox
    Index("ix_issued_key", "unit", "template", "period"),
)
ISSUED_V3 = (Column("sheet", String(200)), Column("cell", String(20)))  # where the given cell sits
for _column in ISSUED_V3:
    issued.append_column(_column)

actuals = Table(
    "actuals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit", String(200), nullable=False),
    Column("period", String(40), nullable=False),  # YYYY-MM
    Column("measure", String(100), nullable=False),
    Column("value", Float, nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, ... per unit, period and measure
    Column("imported_at", DateTime, nullable=False),
    Column("source", String(500), nullable=False),  # file name and line
    Index("ix_actuals_key", "unit", "period", "measure"),
)

V2_TABLES = (review_log, issued, actuals)
APPEND_ONLY = ("review_log", "actuals")
STATES = ("received", "checked", "approved", "returned")


def _create_v1(conn: Connection) -> None:
    # Version 1 is the schema above. A later change appends a function here that
    # alters the tables (ALTER TABLE ...) instead of changing what version 1 made.
    metadata.create_all(conn, tables=list(V1_TABLES))


def _create_v2(conn: Connection) -> None:
    """The cycle's tables; the review log and the actuals refuse UPDATE and DELETE in the database itself."""
    metadata.create_all(conn, tables=list(V2_TABLES))
    c = submissions.c
    for state, actor, at, note in (("received", func.coalesce(c.submitter, c.source), c.received_at, c.source),
                                   ("checked", "xlplan", c.merged_at, c.status)):
        # submissions stored before the log existed get their two events, in the order they came
        conn.execute(review_log.insert().from_select(
            ["submission_id", "state", "actor", "at", "note"],
            select(c.id, literal(state), actor if not isinstance(actor, str) else literal(actor), at, note)
            .order_by(c.id)))
    for name in APPEND_ONLY:
        if conn.dialect.name == "sqlite":
            for op in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} "
                    f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: {op} refused'); END")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                f"CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN RAISE EXCEPTION '{name} is append-only: %% refused', TG_OP; END $$")
            conn.exec_driver_sql(f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
                                 f"FOR EACH ROW EXECUTE FUNCTION {name}_append_only()")
            conn.exec_driver_sql(f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
                                 f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only()")


def _issued_cells_v3(conn: Connection) -> None:
    have = {c["name"] for c in inspect(conn).get_columns("issued")}
    for column in ISSUED_V3:
        if column.name not in have:  # a database made at version 2 before the columns existed
            conn.exec_driver_sql(f"ALTER TABLE issued ADD COLUMN {column.name} "
                                 f"{column.type.compile(conn.dialect)}")


# -- version 4: HQ's reviewers and their web sessions ---------------------------------------
hq_users = Table(
    "hq_users", metadata,
    Column("name", String(100), primary_key=True),  # the reviewer's name, as the review log records it
    Column("salt", String(64), nullable=False),  # hex
    Column("hash", String(128), nullable=False),  # hex: scrypt(password, salt) with `params`
    Column("params", String(60), nullable=False),  # "scrypt:n=16384,r=8,p=1"
    Column("created_at", DateTime, nullable=False),
)

hq_sessions = Table(
    "hq_sessions", metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of the cookie's value (the value itself is not kept)
    Column("reviewer", String(100), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)


def _create_v4(conn: Connection) -> None:
    metadata.create_all(conn, tables=[hq_users, hq_sessions])


def _values_unchecked_v5(conn: Connection) -> None:
    """plan_values without its foreign key on PostgreSQL (see the table). SQLite never checks one
    (xlplan does not turn its foreign_keys setting on): its tables stay as made."""
    if conn.dialect.name != "postgresql":
        return
    for key in inspect(conn).get_foreign_keys("plan_values"):
        if key.get("name"):
            conn.exec_driver_sql(f'ALTER TABLE plan_values DROP CONSTRAINT "{key["name"]}"')


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "submissions, findings, plan values, blobs, roster", _create_v1),
    (2, "review log, issued given values, actuals (append-only)", _create_v2),
    (3, "issued given values: their sheet and cell", _issued_cells_v3),
    (4, "HQ's reviewer accounts and web sessions", _create_v4),
    (5, "plan values without a foreign key checked row by row", _values_unchecked_v5),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


MIGRATE_ATTEMPTS = 8
MIGRATION_LOCK = 0x786C706C616E  # "xlplan": the advisory lock taken while the schema is made or migrated


def _lost_race(exc) -> bool:
    """An error of a process that created or migrated the schema at the same time as another."""
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("already exists", "duplicate", "unique", "locked", "busy"))


def _clip(value, column):
    """A value made to fit its column: text without NUL characters (PostgreSQL refuses them), no
    longer than the column allows (the end replaced by "…")."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    length = getattr(column.type, "length", None)
    if length and len(value) > length:
        value = value[:length - 1] + "…"
    return value


FINDING_FIELDS = ("severity", "code", "message", "sheet", "cell", "block")


def fit(item: "Incoming") -> "Incoming":
    """An incoming file's record within the database's limits (text lengths, NUL characters)."""
    c = submissions.c
    changes = {name: _clip(getattr(item, name), c[name])
               for name in ("source", "submitter", "unit", "template", "template_version", "period")}
    found = tuple(tuple(_clip(v, findings.c[name]) for v, name in zip(f[:6], FINDING_FIELDS)) + tuple(f[6:])
                  for f in item.findings)
    values = item.values
    if isinstance(values, str) and "\\u0000" in values:  # a NUL character escaped in the packed rows
        values = pack_values(_fit_value_row(row) for row in json.loads(values))
    elif not isinstance(values, str):
        values = tuple(_fit_value_row(row) for row in values)
    return replace(item, findings=found, values=values, **changes)


VALUE_FIELDS = ("block", "row", "col", "row_key", "col_key", "number", "text", "role")


def _fit_value_row(row) -> tuple:
    return tuple(_clip(v, plan_values.c[name]) for v, name in zip(row, VALUE_FIELDS)) + tuple(row[8:])


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Incoming:
    """One received file, read, recomputed and checked: what the merge hands the store."""

    source: str
    sha256: str
    size: int
    received_at: dt.datetime
    submitter: str | None
    unit: str | None
    template: str | None
    template_version: str | None
    period: str | None
    status: str
    findings: tuple[tuple, ...]  # severity, code, message, sheet, cell, block
    # the long-form rows (block, row, col, row_key, col_key, number, text, role): packed by
    # pack_values where the file was read, or as tuples
    values: str | tuple[tuple, ...]

    def counts(self) -> dict[str, int]:
        """How many findings of each severity."""
        return severity_counts(f[0] for f in self.findings)

    @property
    def errors(self) -> int:
        return self.counts()["error"]

    @property
    def rows(self) -> tuple[tuple, ...]:
        """The long-form values as tuples."""
        return value_rows_of(self)


def value_rows_of(item) -> tuple[tuple, ...]:
    values = item.values
    return tuple(tuple(v) for v in json.loads(values)) if isinstance(values, str) else tuple(values)


def packed_values_of(item) -> str:
    return item.values if isinstance(item.values, str) else pack_values(item.values)


def pack_values(rows: Iterable[Sequence]) -> str:
    """Long-form value rows as one JSON array: packed once where the file is read (a worker), they
    travel to the main process as one string and the database unpacks them (json_each in SQLite,
    json_array_elements in PostgreSQL), so the process that writes touches no row in Python.

    Written by orjson: the text json.dumps(..., ensure_ascii=False, separators=(",", ":")) writes
    (a float's exponent may be spelt 1e16 for 1e+16), in a seventh of the time (0.6 → 0.09 ms for
    an annual plan's ~850 rows). No row carries NaN or an infinity (merge._cell writes them as text)."""
    return orjson.dumps(rows if isinstance(rows, (list, tuple)) else list(rows)).decode()


@dataclass(frozen=True)
class RosterEntry:
    unit: str
    template: str
    period: str = ""
    due: dt.date | None = None


FINDING_COLUMNS = ("submission_id", "severity", "code", "message", "sheet", "cell", "block")
VALUE_COLUMNS = ("submission_id", "unit", "period", "block", "row", "col", "row_key", "col_key", "number", "text",
                 "role")
LOG_COLUMNS = ("submission_id", "state", "actor", "at", "note", "comments")
DRIVER_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
# one statement per file: the database expands the packed rows (see pack_values)
UNPACK_VALUES = {
    "sqlite": "INSERT INTO plan_values ({columns}) SELECT ?, ?, ?, value->>0, value->>1, value->>2, value->>3, "
              "value->>4, value->>5, value->>6, value->>7 FROM json_each(?)",
    "postgresql": "INSERT INTO plan_values ({columns}) SELECT %s, %s, %s, e->>0, (e->>1)::int, (e->>2)::int, "
                  "e->>3, e->>4, (e->>5)::float8, e->>6, e->>7 FROM json_array_elements(%s::json) AS e",
}
ROWS_PER_STATEMENT = 100  # 1,100 parameters for a value row: under every driver's limit


def _insert_many(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert many rows given as tuples, straight through the driver where its parameter style is known.

    A merge writes hundreds of values per file; building a dict per value and letting
    SQLAlchemy process each one cost more than the database itself.
    """
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # COPY is PostgreSQL's bulk load: one stream instead of a statement per row
        driver = conn.connection.driver_connection  # psycopg's own connection: its cursor has copy()
        assert driver is not None, "an open Connection has its driver's connection"
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    mark = DRIVER_MARKS.get(conn.dialect.paramstyle)
    if mark is None:
        conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])
        return
    # many rows per statement: SQLite spends as long stepping a one-row statement as inserting the row
    one_row = f"({', '.join([mark] * len(columns))})"
    insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES "
    per = ROWS_PER_STATEMENT
    whole = len(rows) - len(rows) % per
    if whole:
        conn.exec_driver_sql(insert + ", ".join([one_row] * per),
                             [tuple(chain.from_iterable(rows[i:i + per])) for i in range(0, whole, per)])
    if whole < len(rows):
        conn.exec_driver_sql(insert + one_row, rows[whole:])


# COPY's binary format: each value sent as its column's type, nothing parsed from text on either side
COPY_VALUE_TYPES = ("int4", "text", "text", "text", "int4", "int4", "text", "text", "float8", "text", "text")


def _insert_values(conn: Connection, packed: list[tuple[int, str, str, str]]) -> None:
    """Value rows of many files, given per file as (submission id, unit, period, pack_values(rows))."""
    if not packed:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_values(conn, packed)
        return
    statement = UNPACK_VALUES.get(conn.dialect.name)
    if statement is None or conn.dialect.paramstyle not in DRIVER_MARKS:
        _insert_many(conn, plan_values, VALUE_COLUMNS,
                     [(sid, unit, period, *row) for sid, unit, period, values in packed
                      for row in json.loads(values)])
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(statement.format(columns=", ".join(quote(c) for c in VALUE_COLUMNS)), packed)


def _copy_values(conn: Connection, packed: list[tuple[int, str, str, str]]) -> None:
    """PostgreSQL: the rows streamed by COPY in its binary format. Measured against unpacking the JSON
    in the database (INSERT ... FROM json_array_elements): 8.2 → 5.6 ms of CPU per annual plan, the
    client's and the server's together, on the benchmark's files (benchmarks/writer.py)."""
    quote = conn.dialect.identifier_preparer.quote
    driver = conn.connection.driver_connection  # psycopg's own connection: its cursor has copy()
    assert driver is not None, "an open Connection has its driver's connection"
    loads = json.loads
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY plan_values ({', '.join(quote(c) for c in VALUE_COLUMNS)}) "
                         "FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_VALUE_TYPES)
            write = copy.write_row
            for sid, unit, period, values in packed:
                for row in loads(values):
                    write((sid, unit, period, *row))


def _lock_units(conn: Connection, items: list["Incoming"]) -> None:
    """PostgreSQL, where several processes may store at once (a cluster's workers): lock each unit's
    versions (unit, template, period) for this transaction, before anything is inserted.

    The versions are recounted from the rows the transaction sees; two transactions storing
    versions of one unit at once would each see only their own and both number theirs 1.
    Under the lock the second waits for the first to commit, then sees its rows. Locks are
    taken in one order (sorted) so that two transactions never wait for each other; two
    transactions inserting the same bytes hold the same key (same bytes, same unit), so the
    second waits for the lock, not inside an insert. A file without a unit is keyed by its bytes.
    """
    keys = sorted({_lock_key(item) for item in items})
    if keys:
        conn.exec_driver_sql("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%(keys)s::bigint[]) AS k",
                             {"keys": keys})


def _lock_key(item: "Incoming") -> int:
    what = f"{item.unit}\x1f{item.template}\x1f{item.period}" if item.unit is not None else item.sha256
    return int.from_bytes(hashlib.sha256(what.encode()).digest()[:8], "big", signed=True)


def _sqlite_settings(dbapi_connection, _record) -> None:
    # WAL lets the status page read while a merge writes, and with synchronous=NORMAL a
    # commit does not wait for the disk: a power cut can lose the last batches, never
    # corrupt the file, and merging the same folder again restores them. A larger page
    # cache keeps the values' index in memory as the database grows past a few GB.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-131072"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_appending(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{APPENDING_CACHE_KIB}")
    cursor.close()


APPENDING_CACHE_KIB = 8192


def shown_url(url) -> str:
    """A database URL as messages show it, its password hidden: a merge worker's error travels to
    the merging process's output (and logs), so no message carries the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not parseable ("host:notaport"): hide what sits between user: and @
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", str(url))


class Store:
    """One database of submissions. Open with `Store(url)`; the schema is brought up to date."""

    def __init__(self, url: str = DEFAULT_URL, **engine_options: Any):
        self.url = url
        self.engine_options = engine_options
        try:
            self.engine: Engine = create_engine(url, **engine_options)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:  # ValueError: a port that is not a number
            reason = str(exc).replace(str(url), shown_url(url))
            raise StoreError(f"--db {shown_url(url)!r}: not a database URL SQLAlchemy knows ({reason})") from None
        except ModuleNotFoundError as exc:
            hint = " (install xlplan[postgres])" if str(url).startswith("postgresql") else ""
            raise StoreError(f"--db {shown_url(url)!r}: the driver is not installed: {exc.name}{hint}") from None
        database = self.engine.url.database
        if self.engine.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_settings)
        if self.engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)  # nothing to start: the file is made
            except OSError as exc:
                raise StoreError(f"{self.display_url}: cannot open the database ({exc})") from None
        try:
            self.migrate()
        except OperationalError as exc:
            raise StoreError(f"{self.display_url}: cannot open the database ({exc.orig})") from None

    def for_appending(self) -> "Store":
        """This store with SQLite's page cache kept small: for a process that only appends (the
        merge's writer), whose inserts touch the last pages of each table and index, so the
        large cache readers want would only grow with the database (memory not flat in N)."""
        if self.engine.url.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_appending)
            self.engine.dispose()  # connections opened before take the setting when opened again
        return self

    @property
    def shared(self) -> bool:
        """Can another process open this same database (not an in-memory SQLite)?"""
        url = self.engine.url
        return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")

    @property
    def display_url(self) -> str:
        return shown_url(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            if not inspect(conn).has_table(schema_table.name):
                return 0
            return conn.execute(select(func.max(schema_table.c.version))).scalar() or 0

    def migrate(self) -> int:
        """Bring the schema up to date; safe when several merges and the server start at once.

        On PostgreSQL the whole migration runs in one transaction under an advisory lock
        (DDL is transactional there), so one process migrates and the others wait and find
        it done. SQLite serialises writers itself; a process that loses a race (the table
        or the version row made meanwhile by another) reads the version again and goes on.
        """
        for attempt in range(MIGRATE_ATTEMPTS):
            try:
                return self._migrate()
            except (OperationalError, IntegrityError, ProgrammingError) as exc:
                if attempt == MIGRATE_ATTEMPTS - 1 or not _lost_race(exc):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _migrate(self) -> int:
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                schema_table.create(conn, checkfirst=True)
                current = conn.execute(select(func.max(schema_table.c.version))).scalar() or 0
                if current > SCHEMA_VERSION:
                    raise StoreError(f"{self.display_url}: the database has schema version {current}, newer "
                                     f"than this xlplan knows ({SCHEMA_VERSION}); upgrade xlplan")
                self._apply(conn, current)
            return SCHEMA_VERSION
        with self.engine.begin() as conn:
            schema_table.create(conn, checkfirst=True)
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"{self.display_url}: the database has schema version {current}, newer than "
                             f"this xlplan knows ({SCHEMA_VERSION}); upgrade xlplan")
        for version, description, apply in MIGRATIONS:
            if version <= current:
                continue
            with self.engine.begin() as conn:
                if (conn.execute(select(func.max(schema_table.c.version))).scalar() or 0) >= version:
                    continue  # another process applied it meanwhile
                apply(conn)
                conn.execute(schema_table.insert().values(version=version, description=description,
                                                          applied_at=utcnow()))
        return SCHEMA_VERSION

    @staticmethod
    def _apply(conn: Connection, current: int) -> None:
        for version, description, apply in MIGRATIONS:
            if version > current:
                apply(conn)
                conn.execute(schema_table.insert().values(version=version, description=description,
                                                          applied_at=utcnow()))

    # -- writing ------------------------------------------------------------------
    def known(self, digests: Iterable[str]) -> set[str]:
        """Which of these SHA-256 digests are stored already."""
        digests = list(digests)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(digests), 500):
                part = digests[i:i + 500]
                found.update(conn.execute(select(submissions.c.sha256)
                                          .where(submissions.c.sha256.in_(part))).scalars())
        return found

    def add(self, batch: Iterable[tuple[Incoming, bytes]]) -> list[int | None]:
        """Store a batch of processed files with their bytes in one transaction.

        Returns each file's new submission id, or None for bytes stored before (the same
        file merged twice is one submission). Version numbers of the units touched are
        recounted by time received. All or nothing: a batch that fails leaves no trace.
        """
        batch = list(batch)
        try:
            return self._add(batch)
        except IntegrityError:
            # another merge stored some of the same bytes meanwhile: the batch was rolled
            # back; once more, now skipping what is stored
            return self._add(batch)
        except OperationalError as exc:
            raise StoreError(f"{self.display_url}: cannot write to the database ({exc.orig}); "
                             "nothing of this batch was stored, the input files are untouched") from None

    def _add(self, batch: list[tuple[Incoming, bytes]]) -> list[int | None]:
        now = utcnow()
        with self.engine.begin() as conn:
            seen = self._known_in(conn, [item.sha256 for item, _ in batch])
            fresh: list[tuple[Incoming, bytes]] = []
            for item, data in batch:
                if item.sha256 not in seen:  # the same bytes twice in one batch are one submission
                    seen.add(item.sha256)
                    fresh.append((item, data))
            if not fresh:
                return [None] * len(batch)
            fresh = [(fit(item), data) for item, data in fresh]  # the database's limits never abort a merge
            if conn.dialect.name == "postgresql":
                _lock_units(conn, [item for item, _ in fresh])
            _insert_many(conn, blobs, ("sha256", "size", "data"),
                         [(item.sha256, len(data), data) for item, data in fresh])
            counts = {item.sha256: severity_counts(f[0] for f in item.findings) for item, _ in fresh}
            rows = [dict(sha256=item.sha256, unit=item.unit, template=item.template,
                         template_version=item.template_version, period=item.period,
                         received_at=item.received_at, merged_at=now, submitter=item.submitter,
                         source=item.source, status=item.status, errors=counts[item.sha256]["error"],
                         warnings=counts[item.sha256]["warning"], size=item.size)
                     for item, _ in fresh]
            # one multi-row INSERT ... RETURNING per few hundred rows, ids in the order given
            new_ids = conn.execute(submissions.insert().returning(submissions.c.id, sort_by_parameter_order=True),
                                   rows).scalars().all()
            sid_of = {item.sha256: sid for (item, _), sid in zip(fresh, new_ids)}
            finding_rows: list[tuple] = []
            for item, _ in fresh:
                finding_rows += [(sid_of[item.sha256], *f[:6]) for f in item.findings]
            _insert_many(conn, findings, FINDING_COLUMNS, finding_rows)
            _insert_values(conn, [(sid_of[item.sha256], item.unit or "", item.period or "", packed_values_of(item))
                                  for item, _ in fresh if item.values not in ("[]", ())])
            events = []
            for item, _ in fresh:
                sid = sid_of[item.sha256]
                events.append((sid, "received", item.submitter or item.source, item.received_at, item.source, None))
                events.append((sid, "checked", "xlplan", now, f"{item.status}: {counts[item.sha256]['error']} errors",
                               None))
            _insert_many(conn, review_log, LOG_COLUMNS, events)
            self._renumber(conn, {(item.unit, item.template, item.period) for item, _ in fresh
                                  if item.unit is not None})
            ids: list[int | None] = []
            for item, _ in batch:
                ids.append(sid_of.pop(item.sha256, None))  # a second copy in the batch gets None
        return ids

    @staticmethod
    def _known_in(conn: Connection, digests: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(digests), 500):
            found.update(conn.execute(select(submissions.c.sha256)
                                      .where(submissions.c.sha256.in_(digests[i:i + 500]))).scalars())
        return found

    @staticmethod
    def _renumber(conn: Connection, keys: set[tuple]) -> None:
        """Number each touched unit's versions 1, 2, ... by time received (the id breaks ties)."""
        c = submissions.c
        units = sorted({unit for unit, _, _ in keys})
        by_key: dict[tuple, list[tuple]] = {}
        for i in range(0, len(units), 500):
            query = (select(c.id, c.version, c.unit, c.template, c.period, c.received_at)
                     .where(c.unit.in_(units[i:i + 500])))
            for sid, version, unit, template, period, received in conn.execute(query):
                if (unit, template, period) in keys:
                    by_key.setdefault((unit, template, period), []).append((received, sid, version))
        changes = []
        for rows in by_key.values():
            rows.sort()
            changes += [{"n": n, "sid": sid} for n, (_, sid, version) in enumerate(rows, start=1) if version != n]
        if changes:
            conn.execute(submissions.update().where(c.id == bindparam("sid")).values(version=bindparam("n")),
                         changes)

    def set_roster_lines(self, lines: Iterable[tuple[str, str, str]]) -> int:
        """Roster entries (unit, template, period) without a due date, added where missing."""
        existing = {(e.unit, e.template, e.period) for e in self.roster()}
        return self.set_roster(RosterEntry(u, t, p or "") for u, t, p in lines if (u, t, p or "") not in existing)

    def set_roster(self, entries: Iterable[RosterEntry]) -> int:
        """Add or update roster entries (a unit expected to submit a template for a period)."""
        entries = list(entries)
        c = roster.c
        with self.engine.begin() as conn:
            for e in entries:
                where = and_(c.unit == e.unit, c.template == e.template, c.period == (e.period or ""))
                if conn.execute(select(func.count()).select_from(roster).where(where)).scalar():
                    conn.execute(roster.update().where(where).values(due=e.due))
                else:
                    conn.execute(roster.insert().values(unit=e.unit, template=e.template,
                                                        period=e.period or "", due=e.due))
        return len(entries)

    # -- reading ------------------------------------------------------------------
    def roster(self) -> list[RosterEntry]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(roster).order_by(roster.c.template, roster.c.period, roster.c.unit))
            return [RosterEntry(r.unit, r.template, r.period or "", r.due) for r in rows]

    def submissions(self) -> list[dict]:
        """Every submission, oldest first, as plain dicts (without bytes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(submissions).order_by(submissions.c.received_at, submissions.c.id))
            return [dict(r._mapping) for r in rows]

    def submission(self, sid: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(submissions).where(submissions.c.id == sid)).first()
            return dict(row._mapping) if row else None

    def by_sha256(self, sha256: str) -> dict | None:
        """The submission of these bytes, if they were ever received."""
        with self.engine.connect() as conn:
            row = conn.execute(select(submissions).where(submissions.c.sha256 == sha256)).first()
            return dict(row._mapping) if row else None

    def findings_of(self, sid: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(findings).where(findings.c.submission_id == sid).order_by(findings.c.id))
            return [dict(r._mapping) for r in rows]

    def findings_by_submission(self) -> dict[int, list[dict]]:
        """submission id → its first findings (errors first), for the status report."""
        out: dict[int, list[dict]] = {}
        order = {s: k for k, s in enumerate(SEVERITIES)}
        with self.engine.connect() as conn:
            for r in conn.execute(select(findings).order_by(findings.c.submission_id, findings.c.id)):
                out.setdefault(r.submission_id, []).append(dict(r._mapping))
        for rows in out.values():
            rows.sort(key=lambda f: order.get(f["severity"], 3))
        return out

    def blob(self, sha256: str) -> bytes:
        """The bytes of a submitted file, as received (every submission's are kept: its sha256 is a
        foreign key to them); StoreError for bytes never received."""
        with self.engine.connect() as conn:
            data = conn.execute(select(blobs.c.data).where(blobs.c.sha256 == sha256)).scalar()
        if data is None:
            raise StoreError(f"no file with SHA-256 {sha256} was received")
        return data

    def latest_accepted(self, template: str | None = None) -> list[dict]:
        """Each unit's latest accepted submission per template and period."""
        s, later = submissions.alias("s"), submissions.alias("later")
        newer = (select(later.c.id).where(and_(later.c.unit == s.c.unit, later.c.template == s.c.template,
                                                later.c.period == s.c.period, later.c.status == ACCEPTED,
                                                later.c.version > s.c.version))
                 .exists())
        query = select(s).where(and_(s.c.status == ACCEPTED, ~newer))
        if template is not None:
            query = query.where(s.c.template == template)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(s.c.template, s.c.period, s.c.unit))
            return [dict(r._mapping) for r in rows]

    def values(self, submission_ids: Sequence[int], blocks: Sequence[str] | None = None) -> Iterator[dict]:
        """The long-form values of some submissions (optionally only some blocks), as dicts."""
        names = [col.name for col in plan_values.columns]
        for row in self.value_rows(submission_ids, blocks, names):
            yield dict(zip(names, row))

    def value_rows(self, submission_ids: Sequence[int], blocks: Sequence[str] | None = None,
                   columns: Sequence[str] = VALUE_COLUMNS) -> Iterator[tuple]:
        """The same values as plain tuples of `columns`: what a rollup of thousands of plans reads."""
        ids = list(submission_ids)
        c = plan_values.c
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                query = select(*(c[name] for name in columns)).where(c.submission_id.in_(ids[i:i + 500]))
                if blocks is not None:
                    query = query.where(c.block.in_(list(blocks)))
                result = conn.execute(query.order_by(c.submission_id, c.block, c.row, c.col))
                for part in result.partitions(5000):
                    yield from (tuple(r) for r in part)

    def counts(self) -> dict[str, int]:
        """Rows per table: what a test compares to prove that a second merge changed nothing."""
        with self.engine.connect() as conn:
            return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in (blobs, submissions, findings, plan_values, roster, review_log, issued, actuals)}

    # -- the review log (append-only: this class has no path that changes or removes a row) ----
    def log(self, sid: int, state: str, actor: str, note: str | None = None, comments: str | None = None,
            expect: str | tuple[str, ...] | None = None) -> dict:
        """Append one state change; with `expect`, only if the submission's current state is that one
        (or one of them; checked in the same transaction, so two reviewers cannot both decide)."""
        if state not in STATES:
            raise StoreError(f"unknown state {state!r}")
        with self.engine.begin() as conn:
            if expect is not None:
                current = conn.execute(select(review_log.c.state).where(review_log.c.submission_id == sid)
                                       .order_by(review_log.c.id.desc()).limit(1)).scalar()
                if current not in (expect if isinstance(expect, tuple) else (expect,)):
                    return {"refused": current}
            row = dict(submission_id=sid, state=state, actor=actor, at=utcnow(), note=note, comments=comments)
            key = conn.execute(review_log.insert().values(**row)).inserted_primary_key
            assert key is not None, "a single-row INSERT reports the key it made"
            new_id = key[0]
        return {"id": new_id, **row}

    def review_events(self, sid: int | None = None) -> list[dict]:
        """The log, oldest first (one submission's, or all)."""
        query = select(review_log).order_by(review_log.c.id)
        if sid is not None:
            query = query.where(review_log.c.submission_id == sid)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def states(self) -> dict[int, dict]:
        """submission id → its latest log entry (its current state)."""
        out: dict[int, dict] = {}
        for entry in self.review_events():
            out[entry["submission_id"]] = entry
        return out

    def latest_approved(self, template: str | None = None) -> list[dict]:
        """Each unit's latest approved submission per template and period."""
        states = self.states()
        best: dict[tuple, dict] = {}
        for s in self.submissions():
            if template is not None and s["template"] != template:
                continue
            if states.get(s["id"], {}).get("state") != "approved":
                continue
            key = (s["unit"], s["template"], s["period"])
            if key not in best or s["version"] > best[key]["version"]:
                best[key] = s
        return sorted(best.values(), key=lambda s: (s["template"], s["period"], s["unit"]))

    # -- HQ's reviewers and their web sessions ------------------------------------------------
    def add_hq_user(self, name: str, salt: str, hash_: str, params: str) -> bool:
        """A reviewer's account; False when the name has one already (nothing changed)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(hq_users.insert().values(name=name, salt=salt, hash=hash_, params=params,
                                                      created_at=utcnow()))
        except IntegrityError:
            return False
        return True

    def hq_user(self, name: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(hq_users).where(hq_users.c.name == name)).first()
        return dict(row._mapping) if row else None

    def hq_users(self) -> list[dict]:
        """The reviewers' names and when their accounts were made (not their hashes)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(hq_users.c.name, hq_users.c.created_at).order_by(hq_users.c.name))
            return [dict(r._mapping) for r in rows]

    def has_hq_users(self) -> bool:
        """Whether any reviewer has an account (one EXISTS: asked at every login)."""
        with self.engine.connect() as conn:
            return bool(conn.execute(select(exists().select_from(hq_users))).scalar())

    def remove_hq_user(self, name: str) -> bool:
        """Remove an account and end its sessions; the review log keeps what it did."""
        with self.engine.begin() as conn:
            conn.execute(hq_sessions.delete().where(hq_sessions.c.reviewer == name))
            return conn.execute(hq_users.delete().where(hq_users.c.name == name)).rowcount > 0

    def add_session(self, key: str, reviewer: str, csrf: str, expires_at: dt.datetime) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(hq_sessions.delete().where(hq_sessions.c.expires_at <= now))  # the expired ones go
            conn.execute(hq_sessions.insert().values(key=key, reviewer=reviewer, csrf=csrf, created_at=now,
                                                     expires_at=expires_at))

    def session(self, key: str, now: dt.datetime) -> dict | None:
        """The session with this key, unless it has expired (then it is removed)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(hq_sessions).where(hq_sessions.c.key == key)).first()
            if row is None:
                return None
            if row.expires_at <= now:
                conn.execute(hq_sessions.delete().where(hq_sessions.c.key == key))
                return None
            return dict(row._mapping)

    def end_session(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(hq_sessions.delete().where(hq_sessions.c.key == key))

    # -- what HQ issued --------------------------------------------------------------------
    def add_issued(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            if rows:
                conn.execute(issued.insert(), rows)

    def issued_values(self, unit: str, template: str, period: str) -> list[dict]:
        """The given values last issued to a unit for a template and period (the latest batch)."""
        c = issued.c
        where = and_(c.unit == unit, c.template == template, c.period == (period or ""))
        with self.engine.connect() as conn:
            last = conn.execute(select(func.max(c.id)).where(where)).scalar()
            if last is None:
                return []
            batch = conn.execute(select(c.batch).where(c.id == last)).scalar()
            rows = conn.execute(select(issued).where(and_(where, c.batch == batch)).order_by(c.id))
            return [dict(r._mapping) for r in rows]

    def issued_keys(self) -> set[tuple[str, str, str]]:
        with self.engine.connect() as conn:
            return {tuple(r) for r in conn.execute(select(issued.c.unit, issued.c.template, issued.c.period)
                                                  .distinct())}

    # -- actuals (append-only: a changed figure is a new version) -------------------------------
    def actual_rows(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(actuals).order_by(actuals.c.id))]

    def add_actuals(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            if rows:
                conn.execute(actuals.insert(), rows)



def drop_all(url: str) -> None:
    """Remove every xlplan table, whatever its schema version (tests start PostgreSQL afresh with it)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:  # a database made before version 5: its values' key first
            if inspect(conn).has_table("plan_values"):
                _values_unchecked_v5(conn)
        metadata.drop_all(engine)
    finally:
        engine.dispose()
