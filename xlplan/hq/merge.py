"""HQ's merge: a folder of submitted workbooks → the store, fast and without losing one.

The work per file is one pure function, `process(name, data, received_at)`: bytes in,
a `store.Incoming` record out (hash, status, findings, plan values in long form). It never
raises for a bad file: a file that is not a workbook at all becomes a rejected
submission with one finding naming it. Because it is pure and takes bytes, it runs
the same inline, in a local process pool (all cores) or on a Dask cluster, whose
workers need no access to HQ's folder.

The main process streams: it lists the inputs lazily, reads and hashes a window of
files, skips bytes the store already holds, keeps a bounded number of chunks in
flight and hands results to the store in batches, so memory stays flat however many
files there are. When the work runs in other processes, the batches are written by a
writer process of their own (`Writer`): inserting a file's few hundred rows costs the
database a few milliseconds, more than everything else the main process does for it.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import glob
import hashlib
import io
import multiprocessing
import os
import signal
import time
import zipfile
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..model import WorkbookError, XlplanError, normal_unit
from ..template.xlfuncs import XlErr
from ..workbook import ooxml, read, safety
from ..workbook import recalculation as recalc
from ..workbook.plan import Plan
from .store import ACCEPTED, REJECTED, Incoming, RosterEntry, Store, StoreError, pack_values

if TYPE_CHECKING:
    from . import report  # for the annotation only: run() imports it when it takes the status


SUFFIXES = (".xlsx", ".xlsm")
CHUNK = 16  # files per task sent to a worker
# files per database transaction: the writer's CPU per file is the same from 32 to 256 files a
# transaction (benchmarks/writer.py's records), and the last batch is written while the workers
# have nothing left to do, so a small one ends the merge sooner
BATCH = 64


@dataclass
class Summary:
    """What one merge did."""

    seen: int = 0
    new: int = 0
    duplicates: int = 0
    accepted: int = 0
    rejected: int = 0
    rejected_files: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # files that vanished or could not be opened
    writer_cpu: float = 0.0  # CPU seconds of the writer process, when one wrote (see Writer)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) of files that are no submission

    def __str__(self) -> str:
        return (f"{self.seen} files: {self.new} new ({self.accepted} accepted, {self.rejected} rejected), "
                f"{self.duplicates} already stored")


# -- the per-file work --------------------------------------------------------------
def read_plan(name: str, data: bytes) -> Plan:
    """The fast reader on bytes, in memory: the reader's limits (safety.admit_bytes) and messages
    apply as to a file of that name."""
    return read.read_bytes(name, data)


def read_submission(name: str, data: bytes) -> tuple[Plan, str | None]:
    """A received file's plan and who sent it, from one opening of its zip."""
    name = Path(name).name or "submission.xlsx"
    with safety.admit_bytes(name, data) as zf:
        return read.read_bytes(name, data, zf), _submitter_in(zf)


def submitter_of(data: bytes) -> str | None:
    """Who last saved the workbook, from its document properties (docProps/core.xml)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _submitter_in(zf)
    except Exception:  # meant: this runs while recording a file that failed, and must not fail itself
        return None


def _submitter_in(zf: zipfile.ZipFile) -> str | None:
    try:
        found = ooxml.core_properties(zf)
    except ooxml.DAMAGED:  # damaged properties are never a reason to reject; the reader judges the rest
        return None
    for key in ("lastModifiedBy", "creator"):
        if found.get(key, "openpyxl") != "openpyxl":
            return found[key][:200]
    return None


def long_form(result: recalc.Result) -> tuple[tuple, ...]:
    """Every non-blank value of a recomputed plan: (block, row, col, row_key, col_key, number, text, role),
    in the order of the store's index (block, then row and column).

    Table rows with no input at all are left out: a template's 30 empty action rows
    would otherwise store 30 rows of zeros each. Rows arriving in the index's order are
    appended to it rather than inserted among each other: 5-7 % less of the database's
    time per file (benchmarks/writer.py).
    """
    out: list[tuple] = []
    append = out.append
    used: dict[str, list[int]] | None = None
    values, tables = result.values, result.tables
    for name, is_column, role, row_labels, col_labels in _long_form_plan(
            result.plan.template, result.plan.lang, tuple(values), tuple(tables)):
        if is_column:
            if used is None:
                used = _used_rows(result)
            column = tables[name]
            rows = used.get(name.split(".", 1)[0], ())
            for i, v in zip(rows, [column[i - 1] if i <= len(column) else None for i in rows]):
                if v is not None and v != "":
                    number, text = _cell(v)  # named, not unpacked into the row: a list less per row
                    append((name, i, 1, None, None, number, text, role))
            continue
        for r, row in enumerate(values[name], start=1):
            row_key = row_labels[r - 1] if r <= len(row_labels) else None
            for c, v in enumerate(row, start=1):
                if v is None or v == "":
                    continue
                number, text = _cell(v)
                append((name, r, c, row_key, col_labels[c - 1] if c <= len(col_labels) else None, number, text, role))
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _long_form_plan(template, lang: str, grids: tuple[str, ...], columns: tuple[str, ...]) \
        -> tuple[tuple[str, bool, str, tuple, tuple], ...]:
    """(name, is a table column, role, row keys, column keys) of every grid and table column, by name as
    the database sorts text (UTF-8 bytes, i.e. code points)."""
    keys, quarters = _long_form_keys(template, lang)
    out = []
    for name in grids:
        # a grid the template does not declare: no axis labels, but a quarterly one's quarters
        out.append((name, False, *(keys.get(name) or ("computed", (), quarters if name.endswith("_q") else ()))))
    for name in columns:
        out.append((name, True, keys[name][0] if name in keys else "computed", (), ()))
    return tuple(sorted(out, key=lambda entry: entry[0]))


@functools.lru_cache(maxsize=64)
def _long_form_keys(template, lang: str) -> tuple[dict[str, tuple[str, tuple, tuple]], tuple]:
    """Block → (role, row keys, column keys), the labels of its axes in the plan's language; and the quarters'."""
    labels = {name: tuple(dim.labels.get(lang) or next(iter(dim.labels.values())))
              for name, dim in template.dims.items()}
    quarters = labels.get("quarter", ())
    out = {}
    for name, block in template.blocks.items():
        rows = labels.get(block.rows, ()) if block.rows else ()
        cols = labels.get(block.cols, ()) if block.cols else (quarters if name.endswith("_q") else ())
        out[name] = (block.role, rows, cols)
    return out, quarters


def _used_rows(result: recalc.Result) -> dict[str, list[int]]:
    """Table → its rows holding an input, in order."""
    used: dict[str, set[int]] = {}
    for name, column in result.plan.tables.items():
        rows = used.setdefault(name.split(".", 1)[0], set())
        rows.update([i for i, v in enumerate(column, start=1) if v is not None and v != ""])
    return {table: sorted(rows) for table, rows in used.items()}


def _cell(v) -> tuple[float | None, str | None]:
    """(number, text) of a value that is not blank (the callers pass over blanks)."""
    kind = type(v)
    if kind is float or kind is int:  # the common case first
        return (float(v), None) if v - v == 0 else (None, "#NUM!")
    if kind is str:
        return None, v.replace("\x00", "") if "\x00" in v else v  # a NUL character: no database stores it
    if isinstance(v, XlErr):
        return None, v.code
    if isinstance(v, bool):
        return float(v), None
    if isinstance(v, (int, float)):
        return (float(v), None) if v == v and abs(v) != float("inf") else (None, "#NUM!")
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return None, v.isoformat()
    return None, str(v).replace("\x00", "")  # a NUL character decoded from a cell: no database stores it


def _findings(result_findings) -> tuple[tuple, ...]:
    return tuple((f.severity, f.code, f.message, f.cell.sheet if f.cell else None,
                  f.cell.address if f.cell else None, f.block) for f in result_findings)


def process(name: str, data: bytes, received_at: dt.datetime) -> Incoming:
    """Read, recompute and check one received file. Pure: bytes in, a record out; never raises."""
    digest = hashlib.sha256(data).hexdigest()
    base: dict[str, Any] = dict(source=name, sha256=digest, size=len(data), received_at=received_at)
    try:
        plan, base["submitter"] = read_submission(name, data)
        result = recalc.evaluate(plan)
    except WorkbookError as exc:
        return _unreadable(base, data, "UNREADABLE", str(exc))
    except Exception as exc:  # a merge must go on: any other failure is recorded on the file, by type
        return _unreadable(base, data, "UNREADABLE", f"{name}: cannot be read as an xlplan workbook "
                                                       f"({type(exc).__name__}: {exc})")
    found = _findings(result.findings)
    status = REJECTED if any(f[0] == "error" for f in found) else ACCEPTED
    return Incoming(**base, unit=plan.unit or None, template=plan.template.id,
                     template_version=str(plan.meta.get("version")), period=plan.period, status=status,
                     findings=found, values=pack_values(long_form(result)))


def _unreadable(base: dict, data: bytes, code: str, message: str) -> Incoming:
    base = {**base, "submitter": base["submitter"] if "submitter" in base else submitter_of(data)}
    return Incoming(**base, unit=None, template=None, template_version=None, period=None, status=REJECTED,
                     findings=(("error", code, message, None, None, None),), values="[]")


ALONE_TIMEOUT = 600  # seconds for one file on its own: far beyond the milliseconds a plan takes


def process_alone(name: str, data: bytes, received_at: dt.datetime) -> Incoming:
    """`process` in a process of its own: for the files of a chunk whose worker died.

    The file that kills its process (a worker out of memory, killed by the system) is
    recorded as rejected with the reason; the others of its chunk are read as usual.
    """
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork") if "fork" in methods else multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_alone, args=(sender, name, data, received_at), daemon=True)
    child.start()
    sender.close()
    result = None
    try:
        if receiver.poll(ALONE_TIMEOUT):
            result = receiver.recv()
    except (EOFError, OSError):
        result = None  # the process died before it answered
    finally:
        receiver.close()
        child.join(5)
        if child.is_alive():
            child.kill()
            child.join()
    if isinstance(result, Incoming):
        return result
    base = dict(source=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data), received_at=received_at)
    return _unreadable(base, data, "WORKER_DIED",
                       f"{name}: the process reading this file stopped ({_ended(child.exitcode)}); the file is "
                       "kept, the other files were stored. Ask the sender to check it, or merge it again")


def _alone(sender, name, data, received_at) -> None:
    sender.send(process(name, data, received_at))
    sender.close()


def _ended(exitcode: int | None) -> str:
    if exitcode is None:
        return f"no answer within {ALONE_TIMEOUT} s"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        why = " — out of memory, or stopped by the system" if -exitcode == signal.SIGKILL else ""
        return f"killed by {name}{why}"
    return f"exit status {exitcode}"


def process_chunk(items: list[tuple[str, bytes, dt.datetime]]) -> list[Incoming]:
    """`process` over a chunk: the unit of work sent to a pool or a cluster."""
    return [process(name, data, received) for name, data, received in items]


@dataclass(frozen=True)
class Stored:
    """What a worker that writes to the database itself sends back for a file: small, no rows."""

    source: str
    status: str
    submission_id: int | None  # None: these bytes were stored before


@dataclass(frozen=True)
class WriteFailed:
    """A worker could not write to the database (it cannot reach it, the database refused)."""

    message: str


_WORKER_STORES: dict[tuple[str, str], Store] = {}  # per worker process: opened (and migrated) once


def process_and_store_chunk(url: str, options: dict, items: list[tuple[str, bytes, dt.datetime]]) \
        -> list[Stored] | WriteFailed:
    """`process` over a chunk, then the chunk stored by this worker itself, in one transaction.

    For a cluster writing to PostgreSQL: the main process sends bytes and gets back a
    few words per file. Idempotent as the main process's writing is: bytes stored before
    (by another worker, another merge) are skipped by their SHA-256 inside the
    transaction, and a unit's versions are recounted under a lock on that unit (see
    Store.add), so workers storing versions of one unit at once number them as one
    writer would.
    """
    from .distribute import GivenCheck  # here: the module is only needed where the work runs

    results = process_chunk(items)
    key = (url, repr(sorted(options.items())))
    try:
        if key not in _WORKER_STORES:
            _WORKER_STORES[key] = Store(url, **options).for_appending()
        store = _WORKER_STORES[key]
        given_as_issued = GivenCheck(store)
        checked = [given_as_issued(r) for r in results]
        ids = store.add([(item, data) for item, (_, data, _) in zip(checked, items)])
    except StoreError as exc:
        _WORKER_STORES.pop(key, None)
        return WriteFailed(str(exc))
    return [Stored(item.source, item.status, sid) for item, sid in zip(checked, ids)]


def workers_write(run, store: Store) -> bool:
    """Do the workers write to the database themselves? On a cluster, to a database server (PostgreSQL):
    an SQLite file lies on HQ's disk, which a cluster's workers do not share, and takes one writer."""
    return isinstance(run, Cluster) and store.engine.dialect.name != "sqlite"


# -- inputs -------------------------------------------------------------------------
def expand(inputs: Iterable[str | Path], exclude: Iterable[str | Path] = (),
           skipped: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Files, folders (searched recursively) and glob patterns → workbook paths, lazily.

    A file named explicitly is taken whatever its suffix (it is then stored as rejected
    if it is no workbook); in folders and globs only .xlsx/.xlsm count. Everywhere,
    Excel's lock files (~$*), hidden and temporary files and the paths in `exclude`
    (this run's own outputs) are left out; each is appended to `skipped` as
    (path, why), so the caller can say what it left out.
    """
    excluded = {_same_file_key(p) for p in exclude if p}

    def why_not(path: Path, named: bool) -> str | None:
        reason = skip_reason(path.name)
        if reason is None and excluded and _same_file_key(path) in excluded:
            reason = "this merge's own output"
        if reason is None and not named and not path.name.lower().endswith(SUFFIXES):
            reason = NOT_A_WORKBOOK
        if reason and skipped is not None:
            skipped.append((str(path), reason))
        return reason

    for item in inputs:
        path = Path(item)
        if path.is_file():
            if why_not(path, named=True) is None:
                yield path
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                for hidden in sorted(d for d in dirs if d.startswith(".")):
                    if skipped is not None:
                        skipped.append((str(Path(root) / hidden), "hidden folder"))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if why_not(Path(root) / name, named=False) is None:
                        yield Path(root) / name
        else:
            matches = sorted(glob.iglob(str(item), recursive=True))
            if not matches:
                raise FileNotFoundError(f"{item}: no such file, folder or matching files")
            for match in matches:
                p = Path(match)
                if p.is_file():
                    if why_not(p, named=False) is None:
                        yield p
                elif p.is_dir():
                    yield from expand([p], exclude, skipped)


NOT_A_WORKBOOK = "not .xlsx or .xlsm"


def skip_reason(name: str) -> str | None:
    """Why a file of this name is never a submission, or None."""
    if name.startswith("~$"):
        return "Excel's lock file"
    if name.startswith("."):
        return "hidden file"
    if name.startswith("~") or name.lower().endswith((".tmp", ".temp", "~")):
        return "temporary file"
    return None


def _same_file_key(path: str | Path) -> str:
    return os.path.normcase(os.path.abspath(path))


# A consolidated workbook carries this zip comment (consolidate.write): a merge
# recognises HQ's own output wherever it lies, from the file's last bytes.
CONSOLIDATED_MARK = b"xlplan consolidated workbook"


def is_consolidated(data: bytes) -> bool:
    return CONSOLIDATED_MARK in data[-(len(CONSOLIDATED_MARK) + 64):]


def utc(timestamp: float) -> dt.datetime:
    """A file time as the store keeps times: UTC, to the microsecond. Two versions a unit sent
    within one second are numbered in the order they arrived (to the second, they tied, and the
    order of their names decided: "东区-v2.xlsx" sorts before "东区.xlsx")."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def _read_within_limits(path: Path, summary: Summary) -> tuple[bytes, dt.datetime] | None:
    """A file's bytes and when it arrived (its modification time); a file over the size limit is kept
    by its first bytes only.

    The reader refuses such a file anyway (see safety.check_size), and the merge must not
    load gigabytes into memory to say so; what is stored lets HQ see what was sent.
    A file that disappeared since it was listed is reported and skipped.
    """
    limit = safety.DEFAULT_LIMITS.file_bytes
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
            mtime = os.fstat(f.fileno()).st_mtime
    except OSError as exc:
        summary.unreadable.append(f"{path}: {exc.strerror or exc}")
        return None
    return data, utc(mtime)


def _windows(paths: Iterator[Path], size: int) -> Iterator[list[Path]]:
    window: list[Path] = []
    for p in paths:
        window.append(p)
        if len(window) == size:
            yield window
            window = []
    if window:
        yield window


# -- running ------------------------------------------------------------------------
class Inline:
    """Runs chunks in this process (one core; tests and tiny merges)."""

    class _Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    width = 1

    def submit(self, fn, arg):
        return self._Done(fn(arg))

    def recover(self):
        pass

    def close(self):
        pass


class Pool:
    """A local process pool over every core."""

    def __init__(self, workers: int | None = None):
        self.width = workers or os.cpu_count() or 1
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.width, initializer=_worker_collector)

    def submit(self, fn, arg):
        return self.executor.submit(fn, arg)

    def recover(self):
        """A new pool after a worker died (a pool with a dead worker takes no more work)."""
        if getattr(self.executor, "_broken", False):
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._start()

    def close(self):
        self.executor.shutdown()


WORKER_GC_ALLOCATIONS = 10_000  # a worker's youngest generation is collected after this many (Python's default: 700)


def _worker_collector() -> None:
    """A pool worker's garbage collector, set as it starts: what it inherited from the merging process
    (the modules) frozen, never scanned again, and the youngest objects collected less often.

    Reading a file makes tens of thousands of short-lived objects, which reference counting frees;
    the collector's passes over them and over the inherited modules took ~8 % of merge.process's CPU
    (4.41 -> 3.99 ms per file, 400 re-saved files in one process, 4 rounds alternating)."""
    gc.freeze()
    gc.set_threshold(WORKER_GC_ALLOCATIONS, *gc.get_threshold()[1:])


class ClusterError(XlplanError, RuntimeError):
    """The Dask scheduler cannot be used (Dask missing, address unreachable)."""


class Cluster:
    """A Dask cluster: `--scheduler tcp://host:8786` (install xlplan[cluster])."""

    def __init__(self, address):
        try:
            from dask.distributed import Client
        except ImportError:
            raise ClusterError("--scheduler needs Dask: install xlplan[cluster]") from None
        try:
            self.client = address if hasattr(address, "submit") else Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"--scheduler {address}: cannot reach the Dask scheduler ({exc})") from None
        self.own = self.client is not address
        self.width = max(1, sum(self.client.nthreads().values()))

    def submit(self, fn, arg):
        return self.client.submit(fn, arg, pure=False)

    def recover(self):
        pass  # the scheduler replaces a lost worker itself

    def close(self):
        if self.own:
            self.client.close()


class Writer:
    """Stores batches in a process of its own, one batch after the other, in the order given.

    The main process hands a batch over and goes on reading and dispatching; `done()`
    gives back, batch by batch, what `Store.add` returned. One writer, in order: submission
    ids and versions come out exactly as when the main process writes, and each batch is
    still one transaction, so a merge killed at any point loses nothing.
    """

    def __init__(self, store: Store, depth: int = 2, threads_running: bool = False):
        # fork starts at once; but a process whose other threads (a Dask client's) may hold a lock
        # is not forked: the writer starts afresh
        fork = "fork" in multiprocessing.get_all_start_methods() and not threads_running
        context = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_write_batches, args=(store.url, store.engine_options, child),
                                       daemon=True, name="xlplan-store-writer")
        self.process.start()
        child.close()
        self.depth = depth  # batches handed over and not yet written
        self.waiting = 0
        self.cpu = 0.0  # CPU seconds the writer process used, known once it ended

    def add(self, batch: list[tuple[Incoming, bytes]]) -> Iterator[list[int | None]]:
        """Hand a batch over; yields the ids of batches written meanwhile (when `depth` are waiting).

        The batch goes in pieces of a few files: one message of a whole batch (tens of MB)
        makes each process hold it twice, pickled and not, and leaves its memory fragmented,
        growing with every batch."""
        for i in range(0, len(batch), WRITER_PIECE):
            self.pipe.send(batch[i:i + WRITER_PIECE])
        self.pipe.send(END_OF_BATCH)
        self.waiting += 1
        while self.waiting >= self.depth:
            yield self._result()

    def done(self) -> Iterator[list[int | None]]:
        """The ids of every batch not yet given back; then the writer ends."""
        while self.waiting:
            yield self._result()

    def _result(self) -> list[int | None]:
        try:
            kind, value = self.pipe.recv()
        except EOFError:
            raise StoreError("the process writing to the database ended unexpectedly; nothing of the "
                             "batches not yet written was stored, merge the same files again") from None
        self.waiting -= 1
        if kind == "error":
            raise StoreError(value)
        return value

    def close(self) -> None:
        try:
            self.pipe.send(None)
            if self.pipe.poll(30):
                kind, value = self.pipe.recv()
                self.cpu = value if kind == "cpu" else 0.0
        except (OSError, EOFError):
            pass
        self.pipe.close()
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()


WRITER_PIECE = 16  # files per message to the writer process
END_OF_BATCH = "end of batch"


def _batches(pipe) -> Iterator[list]:
    """The batches received in pieces (Writer.add), until None."""
    batch: list = []
    while True:
        piece = pipe.recv()
        if piece is None:
            return
        if piece == END_OF_BATCH:
            yield batch
            batch = []
        else:
            batch += piece


def _write_batches(url: str, options: dict, pipe) -> None:
    """The writer process: Store.add for each batch received, until None."""
    try:
        store = Store(url, **options).for_appending()
    except StoreError as exc:
        for _ in _batches(pipe):
            pipe.send(("error", str(exc)))
        return
    with store:
        for batch in _batches(pipe):
            try:
                pipe.send(("ids", store.add(batch)))
            except StoreError as exc:
                pipe.send(("error", str(exc)))
            except Exception as exc:  # reported by the main process, which stops the merge
                pipe.send(("error", f"{store.display_url}: writing a batch failed ({type(exc).__name__}: {exc}); "
                                    "nothing of it was stored"))
            del batch  # not held while the next one arrives
        pipe.send(("cpu", time.process_time()))


def runner(workers: int | None = None, scheduler=None):
    """Where the per-file work runs: a Dask scheduler, a process pool, or inline (workers=0)."""
    if scheduler is not None:
        return Cluster(scheduler)
    if workers == 0 or (workers is None and (os.cpu_count() or 1) == 1):
        return Inline()
    return Pool(workers)


def merge(inputs: Iterable[str | Path], store: Store, *, workers: int | None = None, scheduler=None,
          chunk: int = CHUNK, batch: int = BATCH, progress: Callable[[int], None] | None = None,
          exclude: Iterable[str | Path] = ()) -> Summary:
    """Merge every workbook in `inputs` into `store`; `progress(n)` is called as files are done.

    Files that are no submission (lock, hidden and temporary files, `exclude`, consolidated
    workbooks) are left out and listed in the summary's `skipped`.
    """
    summary = Summary()
    run = runner(workers, scheduler)
    stored_by_workers = workers_write(run, store)
    # the work elsewhere: the rows are written elsewhere too, if the database can be opened twice
    writer = Writer(store, threads_running=isinstance(run, Cluster)) \
        if not isinstance(run, Inline) and store.shared and not stored_by_workers else None
    task = functools.partial(process_and_store_chunk, store.url, store.engine_options) if stored_by_workers \
        else process_chunk
    written: deque = deque()  # per batch handed to the writer: (source, status) of each file
    inflight: deque = deque()  # (future, [(path, data, received)]) in input order
    # enough chunks in flight that the workers keep busy while this process writes a batch
    # (a few hundred files in memory, not more: memory stays flat)
    depth = max(2 * run.width + 2, batch // chunk + run.width)
    pending: list[tuple[Incoming, bytes]] = []
    from .distribute import GivenCheck

    given_as_issued = GivenCheck(store)  # HQ's grey cells must hold what distribute issued

    def collect(block: bool):
        while inflight and (block or len(inflight) >= depth):
            future, items = inflight.popleft()
            try:
                results = future.result()
            except Exception:  # its worker died (out of memory, killed) or a cluster lost it
                run.recover()
                results = [process_alone(p.name, data, received) for p, data, received in items]
            if isinstance(results, WriteFailed):
                raise StoreError(f"a worker cannot write to {store.display_url}: {results.message}")
            if results and isinstance(results[0], Stored):  # the worker stored them
                count([(r.source, r.status) for r in results], [r.submission_id for r in results])
                results = []
            for processed, (_, data, _) in zip(results, items):
                pending.append((given_as_issued(processed), data))
            if progress:
                progress(len(items))
            if len(pending) >= batch or (block and pending):  # at the end, each chunk as it comes
                flush()

    def flush():
        if writer is None:
            count([(p.source, p.status) for p, _ in pending], store.add(pending))
        else:
            written.append([(p.source, p.status) for p, _ in pending])
            for ids in writer.add(list(pending)):
                count(written.popleft(), ids)
        pending.clear()

    def count(files: list[tuple[str, str]], ids: list[int | None]):
        for (source, status), sid in zip(files, ids):
            if sid is None:
                summary.duplicates += 1
                continue
            summary.new += 1
            if status == ACCEPTED:
                summary.accepted += 1
            else:
                summary.rejected += 1
                summary.rejected_files.append(source)

    window_skipped = 0
    try:
        for window in _windows(expand(inputs, exclude, summary.skipped), batch):
            loaded = []  # (path, bytes, received)
            for p in window:
                read_ = _read_within_limits(p, summary)
                if read_ is not None and is_consolidated(read_[0]):
                    summary.skipped.append((str(p), "a consolidated workbook (a merge's output)"))
                    window_skipped += 1
                elif read_ is not None:
                    loaded.append((p, *read_))
            summary.seen += len(window) - window_skipped
            if progress and window_skipped:
                progress(window_skipped)
            window_skipped = 0
            digests = [hashlib.sha256(data).hexdigest() for _, data, _ in loaded]
            known = store.known(digests)
            fresh = []
            for item, digest in zip(loaded, digests):
                if digest in known:
                    summary.duplicates += 1
                else:
                    fresh.append(item)
            if progress and len(fresh) < len(window):
                progress(len(window) - len(fresh))
            for i in range(0, len(fresh), chunk):
                items = fresh[i:i + chunk]
                work = [(p.name, data, received) for p, data, received in items]
                inflight.append((run.submit(task, work), items))
                collect(block=False)
        collect(block=True)
        if pending:
            flush()
        if writer is not None:
            for ids in writer.done():
                count(written.popleft(), ids)
    finally:
        run.close()
        if writer is not None:
            writer.close()
            summary.writer_cpu = writer.cpu
    return summary


# -- the roster -----------------------------------------------------------------------
def read_roster(path: str | Path) -> list[RosterEntry]:
    """A CSV of expected units: columns unit, template, period (optional), due (YYYY-MM-DD, optional)."""
    path = Path(path)
    try:
        text_ = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file") from None
    reader = csv.DictReader(io.StringIO(text_))
    columns = {(c or "").strip().lower() for c in reader.fieldnames or ()}
    missing = {"unit", "template"} - columns
    if missing:
        raise RosterError(f"{path.name}:1: the roster needs columns unit and template "
                          f"(missing: {', '.join(sorted(missing))}; found: {', '.join(sorted(columns)) or 'none'})")
    entries, problems = [], []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not row.get("unit") and not row.get("template"):
            continue
        if not row.get("unit") or not row.get("template"):
            problems.append(f"{path.name}:{line}: both unit and template are needed")
            continue
        due = None
        if row.get("due"):
            try:
                due = dt.date.fromisoformat(row["due"])
            except ValueError:
                problems.append(f"{path.name}:{line}: due {row['due']!r} is not a date like 2027-01-10")
                continue
        entries.append(RosterEntry(normal_unit(row["unit"]), row["template"], row.get("period", ""), due))
    if problems:
        raise RosterError("\n".join(problems))
    return entries


class RosterError(XlplanError, ValueError):
    """The roster CSV cannot be used: the message names the file and line."""


# -- one HQ run: what `xlplan merge` and the demo do ---------------------------------------
@dataclass
class Outcome:
    summary: Summary
    status: report.Status
    workbook: Path | None
    report: Path | None


def run(inputs, store: Store, *, roster: str | Path | None = None, output: str | Path | None = None,
        report_path: str | Path | None = None, scheduler=None, workers: int | None = None,
        progress: Callable[[int], None] | None = None, lang: str = "zh-Hans", basis: str = "approved",
        zone=None) -> Outcome:
    """Roster in, files merged, status taken, consolidated workbook and status page written.

    `basis`: the consolidated plan uses each unit's latest approved version, or with
    "accepted" its latest accepted one whether reviewed or not. `zone`: the time zone the
    status shows its times in (`report.time_zone(name)`; None: the machine's)."""
    from . import report

    if roster:
        store.set_roster(read_roster(roster))
    own = [p for p in (output, report_path) if p]
    summary = merge(inputs, store, workers=workers, scheduler=scheduler, progress=progress, exclude=own)
    st = report.status(store, basis=basis, zone=zone)
    workbook = None
    if output:  # imported here: consolidate brings pandas and openpyxl's charts, ~0.27 s before the workers start
        from . import consolidate

        workbook = consolidate.write(store, output, lang=lang, st=st, basis=basis)
    page = report.write_html(st, report_path, lang=lang) if report_path else None
    return Outcome(summary, st, workbook, page)
