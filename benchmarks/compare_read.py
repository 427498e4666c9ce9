"""The CPU time of a submission's reading, two trees of xlplan alternating over the same files.

    .venv/bin/python benchmarks/compare_read.py OLD_TREE NEW_TREE FOLDER... [--rounds 3] [--files 150]

OLD_TREE is, for example, `git archive main | tar -x -C /tmp/old`. In each round, each tree
runs in a process of its own (old first, then new) over an even sample of each folder's annual
plans, after a warm-up: per file, `safety.admit_bytes` (open: the zip's directory and the
limits), `read.read_scanned` (read: the fast path) and `merge.read_submission` (both, and the
submitter), each the median of five passes. The report gives each figure's median over the
rounds, in ms of CPU per file (time.process_time).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def measure(folders: list[str], files: int) -> dict:
    """Per folder: open, read, submission, ms per file (median of five passes). Runs in the tree on sys.path."""
    from xlplan.hq import merge
    from xlplan.workbook import read, safety
    out = {}
    for folder in folders:
        paths = sorted(Path(folder).glob("annual_plan-*.xlsx"))
        paths = paths[::max(1, len(paths) // files)][:files]
        sample = [(p.name, p.read_bytes()) for p in paths]
        for name, data in sample[:10]:
            merge.read_submission(name, data)
        passes: dict[str, list[float]] = {"open": [], "read": [], "submission": []}
        for _ in range(5):
            opening = reading = 0.0
            for name, data in sample:
                t0 = time.process_time()
                zf = safety.admit_bytes(name, data)
                t1 = time.process_time()
                read.read_scanned(name, zf)
                reading += time.process_time() - t1
                opening += t1 - t0
                zf.close()
            t0 = time.process_time()
            for name, data in sample:
                merge.read_submission(name, data)
            whole = time.process_time() - t0
            for key, seconds in (("open", opening), ("read", reading), ("submission", whole)):
                passes[key].append(seconds / len(sample) * 1000)
        out[folder] = {key: statistics.median(values) for key, values in passes.items()}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.measure:
        import xlplan
        print(json.dumps({"tree": str(Path(xlplan.__file__).parent.parent), **measure(args.folders, args.files)}))
        return
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for label, tree in (("old", args.old), ("new", args.new)):
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            child = subprocess.run([sys.executable, __file__, str(args.old), str(args.new), *args.folders,
                                    "--files", str(args.files), "--measure"],
                                   env=env, capture_output=True, text=True, check=True)
            run = json.loads(child.stdout)
            if Path(run.pop("tree")).resolve() != tree.resolve():  # an installed xlplan came first
                raise SystemExit(f"{tree}: the child imported xlplan from elsewhere")
            runs[label].append(run)
    for folder in args.folders:
        for label in ("old", "new"):
            figures = {key: statistics.median(run[folder][key] for run in runs[label])
                       for key in ("open", "read", "submission")}
            print(f"{label} {folder}: " + ", ".join(f"{key} {ms:.2f} ms" for key, ms in figures.items()))


if __name__ == "__main__":
    main()
