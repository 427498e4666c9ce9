"""Where a merge's time goes, per file: the stages of `merge.process` and the store's insert.

    .venv/bin/python benchmarks/profile_merge.py FOLDER [--files 150] [--profile 30]

Times each stage (CPU time of this process) on an even sample of the folder's workbooks (one process, after a
warm-up that compiles the templates' engines), then the store's `add` of the same
records into a fresh SQLite file, and with --profile prints cProfile's top functions.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlplan.hq import merge  # noqa: E402
from xlplan.hq.store import Store  # noqa: E402
from xlplan.template import compute
from xlplan.workbook import checks
from xlplan.workbook import recalculation as recalc


def stages(name: str, data: bytes, clock: dict) -> None:
    """merge.process, stage by stage, adding each stage's seconds to `clock`."""
    t0 = time.process_time()
    plan, _ = merge.read_submission(name, data)
    t1 = time.process_time()
    inputs, tables, notes = checks.accepted_inputs(plan)
    values, tables = compute.compute(plan.template, inputs, tables, plan.sizes)
    t2 = time.process_time()
    result = recalc.Result(plan, values, tables, checks.run_all(plan, values, tables, notes))
    t3 = time.process_time()
    merge.long_form(result)
    t4 = time.process_time()
    for key, seconds in (("read", t1 - t0), ("compute", t2 - t1), ("checks", t3 - t2), ("long form", t4 - t3)):
        clock[key] = clock.get(key, 0.0) + seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of cProfile's report")
    args = parser.parse_args(argv)
    paths = sorted(args.folder.glob("*.xlsx"))
    paths = paths[::max(1, len(paths) // args.files)][:args.files]
    files = [(p.name, p.read_bytes()) for p in paths]
    received = dt.datetime(2027, 1, 1)
    for name, data in files[:6]:
        merge.process(name, data, received)
    clock: dict[str, float] = {}
    for name, data in files:
        stages(name, data, clock)
    start = time.process_time()
    records = [(merge.process(name, data, received), data) for name, data in files]
    process_s = time.process_time() - start
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/profile.db")
        start = time.process_time()
        for i in range(0, len(records), merge.BATCH):
            store.add(records[i:i + merge.BATCH])
        store_s = time.process_time() - start
        store.close()
    n = len(files)
    rows = sum(len(p.rows) for p, _ in records) / n
    print(f"{n} files from {args.folder}; per file:")
    for key, seconds in clock.items():
        print(f"  {key:<10} {seconds / n * 1000:6.2f} ms")
    print(f"  {'process':<10} {process_s / n * 1000:6.2f} ms  (merge.process, all stages)")
    print(f"  {'store.add':<10} {store_s / n * 1000:6.2f} ms  ({rows:.0f} long-form rows, SQLite)")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for name, data in files:
            merge.process(name, data, received)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
