"""The merge's writer alone: CPU time per file of `Store.add`, the database server's included.

    .venv/bin/python benchmarks/writer.py FOLDER [--files 600] [--runs 2] [--db URL ...]

Reads and checks an even sample of the folder's workbooks once (merge.process on every
core), then stores the same records, in the merge's batches, into a fresh database per
run: an SQLite file in a temporary folder, and each PostgreSQL URL given (its xlplan
tables are dropped first). Reports per file: this process's CPU time, the CPU time of
the PostgreSQL server processes serving it (from /proc; on this machine they share the
cores with the merge), and the wall time. On PostgreSQL each run measures the rows sent
by COPY against the same rows unpacked by the database from their JSON
(`INSERT ... FROM json_array_elements`, store.UNPACK_VALUES), alternately.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from xlplan.hq import merge  # noqa: E402
from xlplan.hq import store as store_module  # noqa: E402


def _process(path: Path):
    data = path.read_bytes()
    return merge.process(path.name, data, dt.datetime(2027, 1, 5)), data


def records(folder: Path, files: int) -> list:
    paths = sorted(folder.glob("*.xlsx"))
    step = max(1, len(paths) // files)
    with ProcessPoolExecutor() as pool:
        return list(pool.map(_process, paths[::step][:files], chunksize=16))


def _server_cpu(pids: list[int]) -> float:
    """CPU seconds of these (local) server processes so far."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # not on this machine
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _unpack_in_database(conn, packed) -> None:
    """The rows as PostgreSQL unpacked them before COPY: one INSERT ... FROM json_array_elements per file."""
    quote = conn.dialect.identifier_preparer.quote
    statement = store_module.UNPACK_VALUES["postgresql"]
    conn.exec_driver_sql(statement.format(columns=", ".join(quote(c) for c in store_module.VALUE_COLUMNS)), packed)


def store_all(url: str, recs: list) -> dict:
    """Store `recs` in batches into an empty database at `url`; CPU and wall time per file."""
    if url.startswith("postgresql"):
        store_module.drop_all(url)
    store = store_module.Store(url).for_appending()
    pids: list[int] = []
    if store.engine.dialect.name == "postgresql":
        event.listen(store.engine, "connect", lambda dbapi, _: pids.append(dbapi.info.backend_pid))
        store.engine.dispose()
        with store.engine.connect():
            pass
    server, cpu, wall = _server_cpu(pids), time.process_time(), time.perf_counter()
    for i in range(0, len(recs), merge.BATCH):
        store.add(recs[i:i + merge.BATCH])
    n = len(recs)
    out = {"cpu_ms": (time.process_time() - cpu) / n * 1000, "server_ms": (_server_cpu(pids) - server) / n * 1000,
           "wall_ms": (time.perf_counter() - wall) / n * 1000}
    store.close()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--db", action="append", default=[],
                        help="a PostgreSQL URL, measured beside an SQLite file (its tables are emptied)")
    args = parser.parse_args(argv)
    recs = records(args.folder, args.files)
    rows = sum(len(store_module.value_rows_of(r)) for r, _ in recs) / len(recs)
    print(f"{len(recs)} files, {rows:.0f} value rows per file on average")
    copy_values = store_module._copy_values
    for _ in range(args.runs):
        for url in [None, *args.db]:
            if url is None:  # a new file each run
                url = f"sqlite:///{tempfile.mkdtemp(prefix='xlplan-writer-')}/writer.db"
            ways = [("", copy_values)]
            if url.startswith("postgresql"):
                ways = [("COPY", copy_values), ("json_array_elements", _unpack_in_database)]
            for label, way in ways:
                store_module._copy_values = way
                got = store_all(url, recs)
                name = url.split(":", 1)[0]
                print(f"{name} {label:20s} this process {got['cpu_ms']:.2f} ms/file, database server "
                      f"{got['server_ms']:.2f} ms/file, wall {got['wall_ms']:.2f} ms/file", flush=True)
    store_module._copy_values = copy_values


if __name__ == "__main__":
    main()
