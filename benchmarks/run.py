"""xlplan's benchmarks, each measured against its baseline in the same run.

    .venv/bin/python benchmarks/run.py                   # N = 500 and 2,000
    .venv/bin/python benchmarks/run.py --sizes 200 --runs 0 --generate 0

- merge: `xlplan merge` into SQLite against (a) the obvious script, a loop of
  `pandas.read_excel(sheet_name=None)` (openpyxl) concatenating every sheet, and (b) the
  floor, opening each zip and reading every part. Wall time, files per second and peak
  memory (resident set of the whole process tree, sampled every 20 ms), on the
  synthetic set (benchmarks/synth.py) and on the same set as LibreOffice writes it,
  as files from other programs arrive (--resaved: LibreOffice's save of each template's
  base workbook varied as the synthetic set is, or every file converted). Before a
  re-saved set is measured, a sample of its files must read exactly as their synthetic
  originals (values, findings, status).
  The pandas loop takes about a fifth of a second a file, so it is timed on an even
  sample of --baseline-files files and its rate is reported; the loop is linear in the
  number of files.
- where a merge's time goes: files/s against the number of worker processes (1, 2 and
  every core), the main process's CPU time per file, the writer process's and the
  workers' (getrusage), and the CPU time of `merge.process` per annual plan and per
  scorecard in one process set up as a pool worker is (time.process_time, median and mean of
  a sample; its stages on other files of the sample, so that each file is read once).
- recalculate: a full annual plan through `xlplan recalc` (file in, file out) and
  through the add-in's Recalculate endpoint (book JSON in, actions out).
- custom function: one call through the add-in server.
- generate: personalised workbooks per second, as `xlplan new` makes them.

The run writes its report itself: benchmarks/RESULTS.md (every figure, and the bars of
issue 17 met or missed, judged from the figures), benchmarks/results.json (the same
figures as data) and the figures in README.md's Benchmarks section, between its markers.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

import synth  # noqa: E402

PYTHON = sys.executable


# -- measuring a command -------------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc.

    Walks the tree through /proc/PID/task/TID/children rather than reading every
    process's stat: the sampler runs beside the merge on the same cores and must cost
    next to nothing.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(argv: list[str]) -> dict:
    """Run a command; its wall time and the peak resident memory of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    seconds = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} … failed ({proc.returncode}):\n{err[-2000:]}")
    return {"seconds": seconds, "peak_mib": peak / 2**20, "stdout": out}


# -- the three ways to merge ---------------------------------------------------------------------
PANDAS_LOOP = """
import sys, pandas as pd
frames = []
for path in sys.argv[1:]:
    for sheet, df in pd.read_excel(path, sheet_name=None, engine="openpyxl", header=None).items():
        long = df.stack().reset_index()
        long.insert(0, "sheet", sheet)
        long.insert(0, "file", path)
        frames.append(long.astype(str))
print(len(pd.concat(frames)))
"""

UNZIP_FLOOR = """
import sys, zipfile
n = 0
for path in sys.argv[1:]:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            n += len(zf.read(name))
print(n)
"""


def fresh_db(work: Path) -> Path:
    db = work / "bench.db"
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    return db


def bench_merge(files: list[Path], work: Path, baseline_files: int) -> dict:
    db = fresh_db(work)
    folder = files[0].parent
    merged = measure([PYTHON, "-m", "xlplan.cli", "merge", str(folder), "--db", f"sqlite:///{db}"])
    floor = measure([PYTHON, "-c", UNZIP_FLOOR, *map(str, files)])
    step = max(1, len(files) // baseline_files)
    sample = files[::step][:baseline_files]
    pandas = measure([PYTHON, "-c", PANDAS_LOOP, *map(str, sample)])
    n = len(files)
    pandas_rate = len(sample) / pandas["seconds"]
    return {
        "n": n,
        "merge_s": merged["seconds"], "merge_rate": n / merged["seconds"], "merge_mib": merged["peak_mib"],
        "floor_s": floor["seconds"], "floor_rate": n / floor["seconds"],
        "pandas_files": len(sample), "pandas_rate": pandas_rate, "pandas_s_for_n": n / pandas_rate,
        "pandas_mib": pandas["peak_mib"],
        "vs_pandas": (n / merged["seconds"]) / pandas_rate,
        "vs_floor": merged["seconds"] / floor["seconds"],
    }


def verify_resaved(synthetic: list[Path], resaved: list[Path], sample: int = 6) -> int:
    """A re-saved set must hold what the synthetic set holds: for an even sample of files, each
    re-saved file gives the same plan values, findings and status as its synthetic original.

    Stops the run, naming the file, when one does not: a benchmark on files that read
    differently would measure something else."""
    import datetime as dt

    from xlplan.hq import merge

    received = dt.datetime(2027, 1, 1)
    step = max(1, len(synthetic) // sample)
    checked = 0
    for original, copy in list(zip(synthetic, resaved))[::step][:sample]:
        a = merge.process(original.name, original.read_bytes(), received)
        b = merge.process(copy.name, copy.read_bytes(), received)
        same_findings = [f[:2] + f[3:] for f in a.findings] == [f[:2] + f[3:] for f in b.findings]
        if (a.status, a.unit, a.values) != (b.status, b.unit, b.values) or not same_findings:
            raise SystemExit(f"{copy}: reads differently from {original.name} ({b.status} against {a.status}, "
                             f"{len(b.findings)} findings against {len(a.findings)}); not measured")
        checked += 1
    return checked


# -- where a merge's time goes ------------------------------------------------------------------
MERGE_CPU = """
import json, resource, sys, time
from xlplan.hq import merge
from xlplan.hq.store import Store
start, wall = time.process_time(), time.perf_counter()
with Store(sys.argv[1]) as store:
    summary = merge.merge([sys.argv[2]], store, workers=int(sys.argv[3]))
main = time.process_time() - start
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - wall, "main_cpu": main, "writer_cpu": summary.writer_cpu,
                  "children_cpu": children.ru_utime + children.ru_stime, "new": summary.new,
                  "accepted": summary.accepted, "rejected": summary.rejected}))
"""

PROCESS_CPU = """
import datetime as dt, hashlib, json, statistics, sys, time
from pathlib import Path
from xlplan.hq import merge
from xlplan.hq.store import pack_values
from xlplan.template import compute
from xlplan.workbook import checks, read, safety
from xlplan.workbook import recalculation as recalc

merge._worker_collector()  # the garbage collector as a pool worker sets it (merge.Pool's initializer)

def stages(name, data, clock):
    # merge.process, step by step (its steps, without its error handling)
    t0 = time.process_time()
    hashlib.sha256(data).hexdigest()
    with safety.admit_bytes(name, data) as zf:
        t1 = time.process_time()
        plan = read.read_bytes(name, data, zf)
        merge._submitter_in(zf)
    t2 = time.process_time()
    inputs, tables, notes = checks.accepted_inputs(plan)
    values, tables = compute.compute_into(plan.template, inputs, tables, plan.sizes)
    t3 = time.process_time()
    found = checks.run_all(plan, values, tables, notes)
    t4 = time.process_time()
    pack_values(merge.long_form(recalc.Result(plan, values, tables, found)))  # as merge.process
    t5 = time.process_time()
    for key, a, b in (("open", t0, t1), ("read", t1, t2), ("compute", t2, t3), ("check", t3, t4), ("long form", t4, t5)):
        clock.setdefault(key, []).append((b - a) * 1000)

paths = sorted(Path(sys.argv[1]).glob("*.xlsx"))
received = dt.datetime(2027, 1, 1)
out = {}
for kind in ("annual_plan", "kpi_scorecard"):
    files = [(p.name, p.read_bytes()) for p in paths if p.name.startswith(kind)][:2 * int(sys.argv[2]) + 5]
    for name, data in files[:5]:
        merge.process(name, data, received)  # compiles the template's engine
    times, clock = [], {}
    # each file read once: merge.process is timed on every other file, its stages on the others (a
    # file read a second time finds its own small parts and strings already read, scan.py)
    for i, (name, data) in enumerate(files[5:]):
        if i % 2:
            stages(name, data, clock)
            continue
        start = time.process_time()
        merge.process(name, data, received)
        times.append(time.process_time() - start)
    out[kind] = {"files": len(times), "median_ms": statistics.median(times) * 1000,
                 "mean_ms": statistics.fmean(times) * 1000,
                 "steps_ms": {key: statistics.median(found) for key, found in clock.items()}}
print(json.dumps(out))
"""


def bench_workers(folder: Path, work: Path, counts: list[int]) -> list[dict]:
    """One merge of `folder` per number of worker processes: files/s and CPU time per file where it is spent."""
    rows = []
    n = len(list(folder.glob("*.xlsx")))
    for workers in counts:
        run = measure([PYTHON, "-c", MERGE_CPU, f"sqlite:///{fresh_db(work)}", str(folder), str(workers)])
        got = json.loads(run["stdout"])
        assert got["new"] == n, got
        workers_cpu = got["children_cpu"] - got["writer_cpu"]
        rows.append({"workers": workers, "n": n, "rate": n / got["seconds"], "peak_mib": run["peak_mib"],
                     "main_ms": got["main_cpu"] / n * 1000, "writer_ms": got["writer_cpu"] / n * 1000,
                     "workers_ms": workers_cpu / n * 1000, "accepted": got["accepted"], "rejected": got["rejected"]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def bench_process_cpu(folder: Path, files: int) -> dict:
    return json.loads(measure([PYTHON, "-c", PROCESS_CPU, str(folder), str(files)])["stdout"])


# -- recalculation, functions, generation -----------------------------------------------------------
def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def bench_recalc(work: Path, runs: int) -> dict:
    import copy

    from plans import clean_annual_plan, make

    from xlplan.workbook import recalculation as recalc

    source = make(work, "full_annual_plan", clean_annual_plan())
    file_times = []
    for _ in range(runs):
        out = work / "recalc_out.xlsx"
        start = time.perf_counter()
        recalc.recalc_file(source, out)
        file_times.append(time.perf_counter() - start)
    cli = measure([PYTHON, "-m", "xlplan.cli", "recalc", str(source), "-o", str(work / "cli_out.xlsx")])

    from xlplan.excel import use_development_license

    use_development_license()
    from fastapi.testclient import TestClient

    from xlplan.hq.tokens import Tokens
    from xlplan.excel.bookjson import book_json
    from xlplan.excel.server import Settings, create_app
    from xlplan.template import generate, spec

    tokens = Tokens(work / "tokens.json")
    key = tokens.issue("北区营业部")
    client = TestClient(create_app(Settings(tokens=work / "tokens.json", inbox=work / "inbox")))
    headers = {"Authorization": f"Bearer {key}"}
    cycle = generate.Cycle(unit="北区营业部", year=2027)
    book = book_json(generate.build_workbook(spec.load("annual_plan", cycle.template_params()), cycle,
                                             clean_annual_plan()), "north.xlsx")
    endpoint_times = []
    for i in range(runs + 3):
        body = copy.deepcopy(book)
        start = time.perf_counter()
        response = client.post("/xlwings/custom-scripts-call/recalculate", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text
        if i >= 3:  # the first calls compile the template's engine
            endpoint_times.append(elapsed)
    call = {"func_name": "productivity", "args": [[[900]], [[2400]], [[None]]],
            "caller_address": "[north.xlsx]计划进度!D20", "content_language": "zh-CN",
            "version": "0.37.8", "runtime": "1.4", "client": "Office.js"}
    function_times = []
    for i in range(runs * 5 + 3):
        start = time.perf_counter()
        response = client.post("/xlwings/custom-functions-call", json=call, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and response.json()["result"] == [[3750]], response.text
        if i >= 3:
            function_times.append(elapsed)
    return {"file": percentiles(file_times), "cli_s": cli["seconds"],
            "endpoint": percentiles(endpoint_times), "function": percentiles(function_times)}


def bench_generate(work: Path, n: int) -> dict:
    import json as json_

    from xlplan.template import generate, spec

    data = json_.loads((ROOT / "workbooks" / "samples" / "annual_plan.json").read_text(encoding="utf-8"))
    data.pop("params", None)
    folder = work / "generated"
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    for i in range(n):
        cycle = generate.Cycle(unit=f"营业部{i:04d}", year=2027)
        generate.write(spec.load("annual_plan", cycle.template_params()), cycle, folder / f"{i:04d}.xlsx",
                       {**data, "hq_target": 8000 + i})
    seconds = time.perf_counter() - start
    cli = measure([PYTHON, "-m", "xlplan.cli", "new", "annual_plan", "--unit", "北区", "--year", "2027",
                   "-o", str(work / "one.xlsx")])
    return {"n": n, "seconds": seconds, "rate": n / seconds, "cli_s": cli["seconds"]}


# -- the report -----------------------------------------------------------------------------------
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


# The bars of issue 17 (merge near the limit), judged from the figures of one run
SPEEDUP_BARS = {500: 10.0, 2000: 20.0}  # × the pandas loop, on re-saved files
WORKER_CPU_BAR_MS = 5.0  # merge.process CPU per annual plan
MAIN_BAR_MS = 1.0  # main-process CPU per file, with every worker count measured
FLAT_MEMORY = 1.10  # peak memory at the largest N at most 10 % above the smallest N's


def bars(results: dict) -> list[dict]:
    """Each bar: what it asks, the figure measured, and met (True/False) or None when not measured."""
    out = []
    resaved = {m["n"]: m for m in results["merges"] if m["set"] != "synthetic"}
    for n, bar in SPEEDUP_BARS.items():
        m = resaved.get(n)
        out.append({"bar": f"merge ≥ {bar:.0f}× the pandas loop at N = {n:,} (re-saved files)",
                    "figure": f"{m['vs_pandas']:.1f}×" if m else "not measured",
                    "met": m["vs_pandas"] >= bar if m else None})
    cpu = results.get("cpu") or {}
    for name, found in cpu.items():
        median = found["annual_plan"]["median_ms"]
        out.append({"bar": f"≤ {WORKER_CPU_BAR_MS:.0f} ms of worker CPU per annual plan ({name} files)",
                    "figure": f"{median:.2f} ms (median)", "met": median <= WORKER_CPU_BAR_MS})
    for w in results.get("workers") or ():
        workers = f"{w['workers']} worker" + ("s" if w["workers"] != 1 else "")
        out.append({"bar": f"≤ {MAIN_BAR_MS:.0f} ms of main-process CPU per file, {workers}",
                    "figure": f"{w['main_ms']:.2f} ms", "met": w["main_ms"] <= MAIN_BAR_MS})
    by_set: dict[str, dict[int, float]] = {}
    for m in results["merges"]:
        by_set.setdefault(m["set"], {})[m["n"]] = m["merge_mib"]
    for name, peaks in by_set.items():
        if len(peaks) < 2:
            out.append({"bar": f"peak memory flat in N ({name})", "figure": "one size only", "met": None})
            continue
        small, large = min(peaks), max(peaks)
        growth = peaks[large] / peaks[small]
        out.append({"bar": f"peak memory flat in N ({name}: at most {FLAT_MEMORY - 1:.0%} more at N = {large:,} "
                           f"than at {small:,})",
                    "figure": f"{peaks[small]:.0f} → {peaks[large]:.0f} MiB ({growth - 1:+.0%})",
                    "met": growth <= FLAT_MEMORY})
    return out


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def figures_table(results: dict) -> list[str]:
    """The merge table, as the README and RESULTS.md show it."""
    lines = ["| files | set | xlplan merge | files/s | peak memory | pandas loop (files/s) | × pandas "
             "| unzip floor | × floor |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in results["merges"]:
        lines.append(f"| {m['n']:,} | {m['set']} | {m['merge_s']:.1f} s | {m['merge_rate']:.0f} | {m['merge_mib']:.0f} MiB "
                     f"| {m['pandas_rate']:.2f} ({m['pandas_files']} files) "
                     f"| {m['vs_pandas']:.1f}× | {m['floor_s']:.1f} s | {m['vs_floor']:.1f}× |")
    return lines


def workers_table(results: dict) -> list[str]:
    workers = results.get("workers") or ()
    if not workers:
        return []
    return ["| workers | files/s | main process CPU/file | writer process CPU/file | workers' CPU/file "
            "| peak memory |", "|---:|---:|---:|---:|---:|---:|",
            *(f"| {w['workers']} | {w['rate']:.0f} | {w['main_ms']:.2f} ms | {w['writer_ms']:.2f} ms "
              f"| {w['workers_ms']:.2f} ms | {w['peak_mib']:.0f} MiB |" for w in workers)]


STEPS = {"open": "zip opened and admitted, hash", "read": "read (fast path)", "compute": "inputs accepted, engine",
         "check": "checks", "long form": "long form, packed"}


def cpu_table(results: dict) -> list[str]:
    cpu = results.get("cpu") or {}
    if not cpu:
        return []
    lines = ["| set | annual plan (median / mean) | scorecard (median / mean) |", "|---|---:|---:|"]
    for name, found in cpu.items():
        a, k = found["annual_plan"], found["kpi_scorecard"]
        lines.append(f"| {name} | {a['median_ms']:.2f} / {a['mean_ms']:.2f} ms ({a['files']} files) "
                     f"| {k['median_ms']:.2f} / {k['mean_ms']:.2f} ms ({k['files']} files) |")
    for name, found in cpu.items():
        a, k = found["annual_plan"].get("steps_ms"), found["kpi_scorecard"].get("steps_ms")
        if a and k:
            lines += [f"| {name}: {STEPS.get(step, step)} (median) | {a[step]:.2f} ms | {k[step]:.2f} ms |"
                      for step in a if step in k]
    return lines


def bars_table(results: dict) -> list[str]:
    return ["| bar (issue 17) | measured | |", "|---|---:|---|",
            *(f"| {b['bar']} | {b['figure']} | {verdict(b['met'])} |" for b in results["bars"])]


def report(results: dict) -> str:
    """RESULTS.md: every figure of the run, and the bars met or missed."""
    lines = [f"Run of {results['started']} to {results['ended']} UTC on commit {results['commit']}; "
             f"load average {results['load'][0]:.1f} at the start, {results['load'][1]:.1f} at the end.", "",
             f"Command: `{results['command']}`", "", f"Machine: {results['machine']}", "",
             "Merge (`xlplan merge` into SQLite, every core) against the pandas loop and the unzip floor, "
             "in the same run:", "", *figures_table(results)]
    if results.get("workers"):
        w = results["workers"][0]
        lines += ["", f"Files/s against worker processes ({w['n']:,} files of the {results['workers_set']} set, "
                      "merge.merge into SQLite; CPU time per file from getrusage, start-up included):", "",
                  *workers_table(results)]
    if results.get("cpu"):
        lines += ["", "CPU time of `merge.process` per file (read, recompute, check, long form; one process with a "
                      "pool worker's garbage collector, time.process_time):", "", *cpu_table(results)]
    rec, gen = results.get("recalc"), results.get("generate")
    if rec:
        lines += ["", "| recalculate a full annual plan | median | 95th percentile |", "|---|---:|---:|",
                  f"| `xlplan recalc` in process (file in, file out) | {rec['file'][0] * 1000:.0f} ms | {rec['file'][1] * 1000:.0f} ms |",
                  f"| `xlplan recalc` as a command (with interpreter start) | {rec['cli_s'] * 1000:.0f} ms | |",
                  f"| add-in Recalculate endpoint (JSON in, actions out) | {rec['endpoint'][0] * 1000:.1f} ms | {rec['endpoint'][1] * 1000:.1f} ms |",
                  f"| one custom-function call through the server | {rec['function'][0] * 1000:.2f} ms | {rec['function'][1] * 1000:.2f} ms |"]
    if gen:
        lines += ["", f"Generate: {gen['n']} personalised annual plans in {gen['seconds']:.1f} s "
                      f"({gen['rate']:.1f} workbooks/s); one `xlplan new` command {gen['cli_s']:.2f} s."]
    lines += ["", "Against the bars of issue 17 (judged by benchmarks/run.py from the figures above):", "",
              *bars_table(results)]
    return "\n".join(lines) + "\n"


README_START = "<!-- benchmarks/run.py: figures -->"
README_END = "<!-- end of benchmarks/run.py's figures -->"


def readme_figures(results: dict) -> str:
    """The README's figures: written by the run between two markers, never typed by hand."""
    lines = [README_START, "",
             f"Run of {results['started']} UTC on commit {results['commit']} ({results['machine']}; load average "
             f"{results['load'][0]:.1f} at the start); `{results['command']}`:", "",
             *figures_table(results)]
    if results.get("workers"):
        lines += ["", f"{results['workers'][0]['n']:,} {results['workers_set']} files by number of worker processes "
                      "(CPU time per file):", "", *workers_table(results)]
    if results.get("cpu"):
        lines += ["", "CPU time of `merge.process` per file:", "", *cpu_table(results)]
    lines += ["", *bars_table(results), "", README_END]
    return "\n".join(lines)


def update_readme(path: Path, results: dict) -> bool:
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[:start] + readme_figures(results) + text[end + len(README_END):], encoding="utf-8")
    return True


def commit() -> str:
    try:
        found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return found + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--baseline-files", type=int, default=100,
                        help="files the pandas loop is timed on, at most")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cpu-files", type=int, default=150, help="files per template timed for CPU per file")
    parser.add_argument("--resaved", choices=("bases", "each", "none"), default="bases",
                        help="the set saved by LibreOffice: its save of each template's base workbook varied "
                             "as the synthetic set is (two conversions; default), every file converted, or none")
    parser.add_argument("--generate", type=int, default=500)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "xlplan-bench")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument("--readme", default=str(ROOT / "README.md"),
                        help="README whose figures (between its two markers) are replaced; '' for none")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results: dict = {"started": now(), "commit": commit(), "command": command.strip(), "machine": machine(),
                     "merges": []}
    load_start = os.getloadavg()[0]
    sets: dict[int, dict[str, list[Path]]] = {}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        files = synth.make(args.work / f"submissions-{n}", n)
        sets[n] = {"synthetic": files}
        if args.resaved == "bases":
            sets[n]["re-saved"] = synth.make(args.work / f"resaved-bases-{n}", n, resaved_bases=True)
        elif args.resaved == "each":
            sets[n]["re-saved"] = synth.resaved(files, args.work / f"resaved-{n}")
        if "re-saved" in sets[n]:
            verify_resaved(files, sets[n]["re-saved"])
        for name, found in sets[n].items():
            results["merges"].append({"set": name, **bench_merge(found, args.work, args.baseline_files)})
            print(json.dumps(results["merges"][-1]), flush=True)
    largest = max(sets)
    results["workers_set"] = list(sets[largest])[-1]  # the re-saved set, if measured
    counts = sorted({1, 2, os.cpu_count() or 1})
    results["workers"] = bench_workers(sets[largest][results["workers_set"]][0].parent, args.work, counts)
    results["cpu"] = {name: bench_process_cpu(found[0].parent, args.cpu_files) for name, found in sets[largest].items()}
    print(json.dumps(results["cpu"]), flush=True)
    results["recalc"] = bench_recalc(args.work, args.runs) if args.runs else None
    results["generate"] = bench_generate(args.work, args.generate) if args.generate else None
    results["ended"] = now()
    results["load"] = (load_start, os.getloadavg()[0])
    results["bars"] = bars(results)
    text = report(results)
    print(text)
    args.output.write_text(text, encoding="utf-8")
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.readme and not update_readme(Path(args.readme), results):
        print(f"{args.readme}: no figures markers ({README_START}); not updated", file=sys.stderr)


if __name__ == "__main__":
    main()
