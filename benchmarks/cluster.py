"""A merge into PostgreSQL on a Dask cluster, its workers storing the files, against the same merge
with a local process pool and the writer process.

    .venv/bin/python benchmarks/cluster.py FOLDER --db postgresql+psycopg://… [--workers 2] [--runs 2]

Both merge the same folder into the emptied database (its xlplan tables are dropped
before each merge), alternately: a local pool of --workers processes whose results a
writer process stores, and a dask.distributed LocalCluster of as many single-threaded
worker processes that store what they read themselves. Reports files/s, the merging
process's CPU time per file and the PostgreSQL server processes' (from /proc, on this
machine), and checks that both stored the same submissions.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlplan.hq import merge  # noqa: E402
from xlplan.hq import store as store_module  # noqa: E402


def _server_cpu(store: store_module.Store) -> float:
    """CPU seconds so far of every process of the PostgreSQL server this machine runs for `store`
    (asked through the store's own engine: no second connection pool left open)."""
    with store.engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent or int(entry.name) == parent:
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def one_merge(folder: Path, url: str, **where) -> dict:
    store_module.drop_all(url)
    store = store_module.Store(url)
    server, cpu, wall = _server_cpu(store), time.process_time(), time.perf_counter()
    summary = merge.merge([folder], store, **where)
    seconds, main = time.perf_counter() - wall, time.process_time() - cpu
    server = _server_cpu(store) - server
    stored = sorted((s["sha256"], s["version"], s["status"]) for s in store.submissions())
    store.close()
    n = summary.seen
    return {"rate": n / seconds, "main_ms": main / n * 1000, "server_ms": server / n * 1000,
            "new": summary.new, "stored": stored}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--db", required=True, help="a PostgreSQL URL (its xlplan tables are dropped)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        stored = set()
        for _ in range(args.runs):
            for label, where in ((f"local pool of {args.workers}, writer process", {"workers": args.workers}),
                                 (f"Dask, {args.workers} workers storing", {"scheduler": cluster.scheduler_address})):
                got = one_merge(args.folder, args.db, **where)
                stored.add(tuple(got["stored"]))
                print(f"{label:40s} {got['rate']:6.1f} files/s, merging process {got['main_ms']:.2f} ms/file, "
                      f"PostgreSQL {got['server_ms']:.2f} ms/file ({got['new']} new)", flush=True)
    print("both stored the same submissions" if len(stored) == 1 else "the merges stored different submissions")


if __name__ == "__main__":
    main()
