"""The CPU time of what follows a submission's reading, two trees of xlplan alternating over the same files.

    .venv/bin/python benchmarks/compare_stages.py OLD_TREE NEW_TREE FOLDER [--rounds 4] [--passes 3] [--files 150]

OLD_TREE is, for example, `git archive main | tar -x -C /tmp/old`; FOLDER holds the workbooks (e.g.
the annual plans of a benchmarks/run.py set). In each round, each tree runs in a process of its own
(the first tree alternating) over an even sample of the folder's workbooks, read once, after a
warm-up; each pass times, per file, the
stages of `merge.process` after the read: the inputs accepted (checks.accepted_inputs), the engine
(compute.compute_into), the checks (checks.run_all), the long form (merge.long_form) and its packing
(store.pack_values). The report gives each stage's median over rounds and passes, in ms of CPU per
file (time.process_time).
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

STAGES = ("inputs", "engine", "checks", "long form", "pack")


def measure(folder: str, files: int, passes: int) -> dict[str, list[float]]:
    """Per stage: ms per file of each pass. Runs in the tree on sys.path."""
    from xlplan.hq import merge
    from xlplan.hq.store import pack_values
    from xlplan.template import compute
    from xlplan.workbook import checks
    from xlplan.workbook import recalculation as recalc

    paths = sorted(Path(folder).glob("*.xlsx"))
    paths = paths[::max(1, len(paths) // files)][:files]
    plans = [merge.read_submission(p.name, p.read_bytes())[0] for p in paths]
    for plan in plans[:6]:
        merge.long_form(recalc.evaluate(plan))
    out: dict[str, list[float]] = {stage: [] for stage in STAGES}
    clock = time.process_time
    for _ in range(passes):
        seconds = dict.fromkeys(STAGES, 0.0)
        for plan in plans:
            t0 = clock()
            inputs, tables, notes = checks.accepted_inputs(plan)
            t1 = clock()
            values, tables = compute.compute_into(plan.template, inputs, tables, plan.sizes)
            t2 = clock()
            result = recalc.Result(plan, values, tables, checks.run_all(plan, values, tables, notes))
            t3 = clock()
            rows = merge.long_form(result)
            t4 = clock()
            pack_values(rows)
            t5 = clock()
            for stage, spent in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                seconds[stage] += spent
        for stage in STAGES:
            out[stage].append(seconds[stage] / len(plans) * 1000)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("folder")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child's part
    args = parser.parse_args(argv)
    if args.measure:
        import xlplan
        print(json.dumps({"tree": str(Path(xlplan.__file__).parent.parent),
                          **measure(args.folder, args.files, args.passes)}))
        return
    runs: dict[str, dict[str, list[float]]] = {"old": {s: [] for s in STAGES}, "new": {s: [] for s in STAGES}}
    for k in range(args.rounds):
        order = (("old", args.old), ("new", args.new))
        for label, tree in order if k % 2 == 0 else order[::-1]:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            child = subprocess.run([sys.executable, __file__, str(args.old), str(args.new), args.folder,
                                    "--files", str(args.files), "--passes", str(args.passes), "--measure"],
                                   env=env, capture_output=True, text=True, check=True)
            run = json.loads(child.stdout)
            if Path(run.pop("tree")).resolve() != tree.resolve():  # an installed xlplan came first
                raise SystemExit(f"{tree}: the child imported xlplan from elsewhere")
            for stage in STAGES:
                runs[label][stage] += run[stage]
    print(f"{args.folder}, {args.files} files, {args.rounds} rounds × {args.passes} passes; median ms of CPU per file")
    print(f"{'stage':<10} {'old':>7} {'new':>7}  new/old")
    totals = {"old": 0.0, "new": 0.0}
    for stage in STAGES:
        old, new = (statistics.median(runs[label][stage]) for label in ("old", "new"))
        totals["old"] += old
        totals["new"] += new
        print(f"{stage:<10} {old:7.3f} {new:7.3f}  {new / old:.2f}")
    print(f"{'together':<10} {totals['old']:7.3f} {totals['new']:7.3f}  {totals['new'] / totals['old']:.2f}")


if __name__ == "__main__":
    main()
