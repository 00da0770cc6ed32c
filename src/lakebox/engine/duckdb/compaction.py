"""Compacted copies: a scan strategy of the DuckDB engine. A transparent, automatically
maintained Parquet copy of a partition's scan, for the two layouts where reading the files
themselves is the slow part.

- Many small files: DuckDB pays ~0.1 ms just to open a file, so 10,000 small files cost
  about a second whatever their format; one Parquet file of the same rows costs a few ms.
- Row formats (JSON, CSV, delimited text, regex, Avro, Ion): parsing text dominates every
  query; the copy is columnar, so a projection or a filter reads only what it needs.

The copy is the reader's own scan (``scans.scan_sql`` for that partition: same columns,
types, partition values and rows) written with ``COPY ... TO`` into the lake cache, keyed
by a fingerprint of the table definition and of every file's URI, size and modification
time. A query reads a partition from its copy only when a complete copy with the
partition's current fingerprint exists and is trusted; otherwise it reads the files, as
the reader scans them, and never waits for a copy.

Copies are built in the background by the lake's ``CopyBuilder`` (one worker thread on its
own one-thread DuckDB database, lowest CPU priority, starting once the lake's queries have
ended), which the engine closes with the lake (queued builds dropped, a running one
interrupted). A partition's copy is queued when queries have read its files
``BUILD_AFTER_READS`` (2) times in this lake and the files have kept still for
``RACY_SECONDS`` (a copy of files modified closer to its build would never be trusted):
a table read once, by a one-off query or a command-line call, never pays for a copy. A
build writes to temporary names and renames into place (data after metadata), so a
cancelled or crashed build leaves nothing a query reads. Any added, replaced or deleted
file changes the fingerprint, so a stale copy is never read; older copies of a partition
are deleted once a new one is built and no query has read them for ``IN_USE_SECONDS``.
The cache is bounded (``LAKEBOX_COMPACTION_CACHE_MB``, default 4096): least recently used
copies go first. Data-scanned accounting is untouched: the planner counts the original
files, whatever strategy the engine picks.

Controls: ``LAKEBOX_COMPACTION=off`` disables copies, ``=always`` copies every partition;
the table property ``lakebox.compaction`` = ``'false'`` / ``'true'`` does the same per
table. ``LAKEBOX_COMPACTION_MIN_FILES`` (default 50) is the file count from which columnar
formats (Parquet, ORC) are copied.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import duckdb

from lakebox.catalog.model import Table
from lakebox.engine.duckdb import pseudo
from lakebox.engine.duckdb.formats.base import ReadContext, quote_ident, reader_for, sql_string
from lakebox.formats.base import DataFile
from lakebox.sql.plan import PartitionFiles
from lakebox.storage import Storage
from lakebox.storage.watch import derived

log = logging.getLogger(__name__)

#: the environment settings read here: they change compiled queries (plan cache key)
SETTINGS = ("LAKEBOX_COMPACTION", "LAKEBOX_COMPACTION_MIN_FILES", "LAKEBOX_COMPACTION_CACHE_MB")
#: the reader's own scan of some partitions of a table, with these pseudo-columns
#: (``scans.scan_sql``)
ScanSql = Callable[[ReadContext, Table, list[PartitionFiles], tuple[str, ...]], str]

#: bump when the copy's layout, the fingerprint or a reader's rows change (5: a JSON row
#: holding two spellings of a column reads the exact one)
VERSION = "5"
#: rows in a copy's row groups: DuckDB reads a row group's column chunks at once, so a scan
#: cutoff's file-read log sees a copy being read in steps this big (about a megabyte of
#: log lines, a tenth of the smallest cutoff), not in DuckDB's default 122,880-row steps
#: (15 MB of a text column), which let a capped query read a whole copy before its stop.
#: A row count, not ``row_group_size_bytes``: with that option DuckDB 2.0 closes a row
#: group at every input file, and a copy of 1,000 small files read 4x slower
COPY_ROW_GROUP_ROWS = 8192
#: coarsest modification-time tick of the stores we read (FAT, ext3, S3: 1-2 s; ext4's
#: coarse clock a few ms): a file modified this close to a copy's build may be modified
#: again without its size or times changing, so such a copy is never trusted later
RACY_SECONDS = 2.0
#: readers whose files are already columnar: copied only when they are many
COLUMNAR_READERS = frozenset({"parquet", "orc"})
#: measured: from about 50 Parquet files, one copy beats planning and opening each file
DEFAULT_MIN_FILES = 50
DEFAULT_CACHE_MB = 4096
#: a copy must fit this share of the cache, or the partition is read as it is
MAX_SHARE_OF_CACHE = 0.25
PROPERTY = "lakebox.compaction"
#: a copy read this recently may still be scanned by a running query (another thread or
#: process planned it before the files changed): stale or evicted copies are deleted only
#: once they have not been read for this long
IN_USE_SECONDS = 120.0
#: a queued build waits for the lake's running queries to end, at most this long
PATIENCE_SECONDS = 5.0
#: the builder thread's CPU priority (nice value): it yields the CPU to any query
BUILDER_NICE = 19
#: a partition's copy is built once queries of one lake have read its files this many
#: times: a table read once (a one-off query, a command-line call) never pays for a copy
BUILD_AFTER_READS = 2
#: partitions read fewer times than that, remembered (least recently read forgotten first)
ASKED_KEPT = 4096

_MTIME = attrgetter("mtime")
_CTIME = attrgetter("ctime")

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Policy:
    mode: str  # auto | off | always
    min_files: int
    cache_bytes: int

    @classmethod
    def from_env(cls) -> Policy:
        mode = os.environ.get("LAKEBOX_COMPACTION", "auto").strip().lower() or "auto"
        if mode in ("0", "false", "no"):
            mode = "off"
        min_files = _int_env("LAKEBOX_COMPACTION_MIN_FILES", DEFAULT_MIN_FILES)
        cache_mb = _int_env("LAKEBOX_COMPACTION_CACHE_MB", DEFAULT_CACHE_MB)
        return cls(mode, max(1, min_files), max(0, cache_mb) * 1024 * 1024)

    def wants(self, table: Table, reader: str, part: PartitionFiles) -> bool:
        """Whether this partition's files are worth a compacted copy."""
        prop = _table_setting(table)
        files = part.files
        if self.mode == "off" or prop == "false" or not files:
            return False
        if derived(part.version, "undated", lambda: min(map(_MTIME, files)) <= 0):
            return False  # no reliable identity to notice a replaced file
        if part.total_size > self.cache_bytes * MAX_SHARE_OF_CACHE:
            return False
        if self.mode == "always" or prop == "true":
            return True
        return reader not in COLUMNAR_READERS or len(files) >= self.min_files


def _int_env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def _table_setting(table: Table) -> str | None:
    value = table.parameters.get(PROPERTY)
    return value.strip().lower() if value is not None else None


def compacted_scan(
    ctx: ReadContext,
    table: Table,
    partitions: list[PartitionFiles],
    scan_sql: ScanSql,
    wanted: tuple[str, ...] = (),
) -> str | None:
    """The scan of ``table`` with worthwhile partitions read from their compacted copies
    where a complete, current copy exists; None when no partition is read from one.
    ``scan_sql`` is the reader's own scan, which a copy holds.

    A worthwhile partition without a current copy is read from its files, and its copy is
    queued for the lake's background builder (``ctx.background``): no query waits for a
    build. The plan is then provisional (``ctx.provisional``): it is not kept for reuse, so
    a later run of the same statement finds the copy once it is built.

    A copy does not keep which file each row came from, so a partition whose rows need
    per-file pseudo-columns (``wanted``: ``"$path"``...) is served from one only when it
    has a single file; ``"$partition"`` is the same for the whole partition."""
    policy = Policy.from_env()
    if policy.mode == "off" or not partitions:
        return None
    reader = reader_for(table).name
    per_file = bool(set(wanted) - {"$partition"})
    wanted_parts = [
        # a copy of some of a partition's files would replace the copy of all of them
        policy.wants(table, reader, p) and not p.subset and (not per_file or len(p.files) == 1)
        for p in partitions
    ]
    if not any(wanted_parts):
        return None
    found: list[str | None] = []
    for part, want in zip(partitions, wanted_parts, strict=True):
        copy = None
        if want and part.files:
            slot = slot_dir(ctx.cache_dir, table, part.values)
            data: Path | None = None
            if slot.is_dir():  # else no copy of the partition exists: no fingerprint needed
                data, meta = _copy_paths(slot, table, part)  # the fingerprint, once
                copy = _current_copy(ctx, data, meta)
            if copy is None:
                _queue_build(ctx, table, part, slot, data, scan_sql, policy)
        found.append(copy)
    if not any(found):
        return None  # the files themselves, as the planner reads them (and counts them)
    parts: list[str] = []
    for part, copy in zip(partitions, found, strict=True):
        if not part.files:
            continue
        if copy is None:
            parts.append(scan_sql(ctx, table, [part], wanted))
        elif wanted:
            one = part.files[0] if per_file else None
            parts.append(
                f"SELECT *{pseudo.constants(table, part.values, one, wanted)} FROM ({copy})"
            )
        else:
            parts.append(copy)
    if len(parts) == 1:
        return parts[0]
    return "\nUNION ALL BY NAME\n".join(f"SELECT * FROM ({p})" for p in parts)


def _queue_build(
    ctx: ReadContext,
    table: Table,
    part: PartitionFiles,
    slot: Path,
    data: Path | None,
    scan_sql: ScanSql,
    policy: Policy,
) -> None:
    """Ask the background builder for the partition's copy (``data``, when the caller
    computed its fingerprint); the build reads the files on its own connection, with a
    scan planned there: the query's registrations stay its own."""
    if ctx.background is None:
        return

    def build(bctx: ReadContext) -> None:
        _build_copy(bctx, table, part, scan_sql, policy)

    newest = derived(part.version, "newest", lambda: _newest(part.files))
    if newest > time.time() - RACY_SECONDS:
        # a copy of files modified this recently would never be trusted: one is queued by
        # a query once they have kept still that long (this plan is not kept, so that
        # query plans again)
        ctx.provisional = True
    elif ctx.background.submit(_build_key(table, part, slot, data), build):
        ctx.provisional = True


def _newest(files: list[DataFile]) -> float:
    """The latest modification or change time among ``files`` (0 for none)."""
    if not files:
        return 0.0
    return max(max(map(_MTIME, files)), max(map(_CTIME, files)))


def _build_key(table: Table, part: PartitionFiles, slot: Path, data: Path | None) -> str:
    """What names a build in the builder's queue and counts a partition's reads: exactly
    its files. A listing version names one exact listing, so a partition with one (and no
    copy yet, ``data`` None) is named by it and a table's first read hashes no file list
    (26 ms for 10,000 files; the build computes the fingerprint); otherwise by the copy's
    path, which holds the fingerprint."""
    if part.version is not None:
        return f"{slot}@{part.version}"
    if data is None:
        data = _copy_paths(slot, table, part)[0]
    return str(data)


def fingerprint(table: Table, part: PartitionFiles) -> str:
    """Identity of what a copy holds: the table definition, the partition values and each
    file's URI, size and modification time."""
    h = hashlib.sha256()
    definition = {
        "v": VERSION,
        "table": table.qualified_name,
        "columns": [(c.name, c.type) for c in table.columns],
        "keys": [(c.name, c.type) for c in table.partition_keys],
        "location": table.location,
        "input": table.input_format,
        "serde": table.serde_library,
        "serde_params": sorted(table.serde_parameters.items()),
        "params": sorted(
            (k, v) for k, v in table.parameters.items() if not k.startswith("transient_")
        ),
        "values": part.values,
    }
    h.update(json.dumps(definition, sort_keys=True).encode())
    h.update(derived(part.version, "files_digest", lambda: _files_digest(part.files)))
    return h.hexdigest()[:40]


def _files_digest(files: list[DataFile]) -> bytes:
    text = "\n".join(f"{f.uri}\t{f.size}\t{f.mtime!r}\t{f.ctime!r}" for f in files)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def slot_dir(cache_dir: Path, table: Table, values: list[str]) -> Path:
    """The folder holding the copies of one partition (one current copy, at most)."""
    key = json.dumps([table.qualified_name, values]).encode()
    return cache_dir / "compacted" / hashlib.sha256(key).hexdigest()[:24]


def _paths(ctx: ReadContext, table: Table, part: PartitionFiles) -> tuple[Path, Path, Path]:
    slot = slot_dir(ctx.cache_dir, table, part.values)
    return (slot, *_copy_paths(slot, table, part))


def _copy_paths(slot: Path, table: Table, part: PartitionFiles) -> tuple[Path, Path]:
    """The copy of the partition's files now (data, metadata) in its ``slot``."""
    fp = fingerprint(table, part)
    return slot / f"{fp}.parquet", slot / f"{fp}.json"


def _current_copy(ctx: ReadContext, data: Path, meta: Path) -> str | None:
    """SQL reading the partition's copy (``_paths``: named by the fingerprint of its files
    now) when it exists and is trusted, else None."""
    columns = _load_meta(meta, trusted_only=True)
    if columns is None:
        return None
    try:
        os.utime(data)  # recency for the cache's least-recently-used eviction
    except OSError:
        return None  # never built, or evicted a moment ago
    ctx.cache_files.append(str(data))
    return _read_sql(data, columns)


def _build_copy(
    ctx: ReadContext, table: Table, part: PartitionFiles, original: ScanSql, policy: Policy
) -> None:
    """Build the partition's copy unless a trusted one exists (built meanwhile by another
    process); raises what the scan raises (the builder remembers the failure)."""
    slot, data, meta = _paths(ctx, table, part)
    with _lock_for(str(slot)):
        if data.exists() and _load_meta(meta, trusted_only=True) is not None:
            return
        newest = _newest(part.files)
        started = time.time()
        scan = original(ctx, table, [part], ())
        _build(ctx, scan, slot, data, meta, started, newest, part.total_size)
        _enforce_limit(ctx.cache_dir / "compacted", policy.cache_bytes, keep=data)


def _read_sql(data: Path, columns: list[tuple[str, str, bool]]) -> str:
    select = ", ".join(
        f"CAST({quote_ident(name)} AS {typ}) AS {quote_ident(name)}"
        if cast_needed
        else quote_ident(name)
        for name, typ, cast_needed in columns
    )
    return f"SELECT {select} FROM read_parquet({sql_string(str(data))})"


def source_bytes(copy: str) -> int | None:
    """Bytes of the original files the copy at ``copy`` holds (a scan cutoff counts a
    share of the copy read as that share of them); None for a file that is not a copy."""
    try:
        data = json.loads(Path(copy).with_suffix(".json").read_text())
        return int(data["source_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _load_meta(path: Path, trusted_only: bool = False) -> list[tuple[str, str, bool]] | None:
    """The copy's columns; with ``trusted_only``, None for a copy built from files
    modified too close to its build to be told apart from a later same-size rewrite
    (the "racily clean" problem of git's index): such a copy is rebuilt, not reused."""
    try:
        data = json.loads(path.read_text())
        if trusted_only and not data.get("trusted", False):
            return None
        return [(str(n), str(t), bool(c)) for n, t, c in data["columns"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _build(
    ctx: ReadContext,
    original: str,
    slot: Path,
    data: Path,
    meta: Path,
    started: float,
    newest: float,
    size: int,
) -> None:
    """Write the copy of the scan ``original``: data and metadata to temporary names, then
    renamed into place, the metadata first (a copy without it is never read). ``started``
    is when the files were listed, ``newest`` the latest modification or change time among
    them (a copy of files modified within ``RACY_SECONDS`` of that is not trusted later),
    ``size`` their bytes."""
    slot.mkdir(parents=True, exist_ok=True)
    tmp = slot / f".{data.stem}.{uuid.uuid4().hex}.tmp"
    try:
        rel = ctx.con.sql(original)  # bound once: its types are what the scan yields
        want = [(str(c), str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]
        rel.to_parquet(str(tmp), compression="snappy", row_group_size=COPY_ROW_GROUP_ROWS)
        got = {
            str(r[0]): str(r[1])
            for r in ctx.con.sql(
                f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(tmp))})"
            ).fetchall()
        }
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    columns = [(name, typ, got.get(name) != typ) for name, typ in want]
    meta_tmp = slot / f".{meta.stem}.{uuid.uuid4().hex}.tmp"
    trusted = newest < started - RACY_SECONDS
    meta_tmp.write_text(json.dumps({"columns": columns, "trusted": trusted, "source_bytes": size}))
    os.replace(meta_tmp, meta)
    os.replace(tmp, data)
    _drop_stale(slot, keep=data.stem)


def _drop_stale(slot: Path, keep: str) -> None:
    """Delete the partition's older copies that no running query can be reading."""
    cutoff = time.time() - IN_USE_SECONDS
    for old in slot.glob("*.parquet"):
        if old.stem == keep:
            continue
        try:
            if old.stat().st_mtime > cutoff:
                continue
        except OSError:
            continue
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)


def _enforce_limit(root: Path, limit: int, keep: Path) -> None:
    """Delete least recently used copies until the cache fits ``limit`` bytes (copies read
    in the last ``IN_USE_SECONDS`` stay, so the cache may overshoot briefly)."""
    cutoff = time.time() - IN_USE_SECONDS
    entries: list[tuple[float, int, Path]] = []
    total = 0
    for path in root.glob("*/*.parquet"):
        try:
            st = path.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, path))
        total += st.st_size
    entries.sort()
    for mtime, size, path in entries:
        if total <= limit:
            break
        if path == keep or mtime > cutoff:
            continue
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)
        total -= size


def clear(cache_dir: Path) -> None:
    """Delete every compacted copy of a lake."""
    import shutil

    shutil.rmtree(cache_dir / "compacted", ignore_errors=True)


class CopyBuilder:
    """The lake's one background builder of compacted copies (a ``Background``).

    A copy is queued the ``BUILD_AFTER_READS``-th time a query asks for it. One worker
    thread at a time, started when work is queued and no query runs, and ended once the
    queue is empty (an idle lake keeps no thread). Builds run one after another on the builder's own
    DuckDB database with one thread, at the lowest CPU priority, and each starts once no
    query of the lake is running (or after ``PATIENCE_SECONDS``): a query never waits for a
    build nor shares its cores with one it did not ask for. A build writes to temporary
    names and renames into place (``_build``), so a cancelled or crashed build leaves no
    copy behind. ``close`` (the lake's close, or the interpreter's exit) cancels the queue,
    interrupts the running build and joins the thread."""

    def __init__(
        self, connect: Callable[[], duckdb.DuckDBPyConnection], storage: Storage, cache_dir: Path
    ) -> None:
        self._connect = connect
        self._storage = storage
        self._cache_dir = cache_dir
        self._cond = threading.Condition()
        self._queue: OrderedDict[str, Callable[[ReadContext], None]] = OrderedDict()
        #: copies asked for fewer than ``BUILD_AFTER_READS`` times, with their count
        self._asked: OrderedDict[str, int] = OrderedDict()
        self._running: str | None = None
        self._failed: set[str] = set()
        self._queries = 0
        self._thread: threading.Thread | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._closed = False

    def submit(self, key: str, work: Callable[[ReadContext], None]) -> bool:
        """Ask for the copy ``key``: queued at its ``BUILD_AFTER_READS``-th request."""
        with self._cond:
            if self._closed or key in self._failed:
                return False
            if key == self._running or key in self._queue:
                return True
            asked = self._asked.pop(key, 0) + 1
            if asked < BUILD_AFTER_READS:
                self._asked[key] = asked
                while len(self._asked) > ASKED_KEPT:
                    self._asked.popitem(last=False)
                return True
            self._queue[key] = work
            if not self._queries:
                self._start()  # else when the lake's queries end (``query_finished``)
            self._cond.notify_all()
            return True

    def _start(self) -> None:
        """Start the worker when work is queued and none runs (called holding the lock)."""
        if self._thread is None and self._queue and not self._closed:
            self._thread = threading.Thread(
                target=self._run, name="lakebox-copy-builder", daemon=True
            )
            self._thread.start()
            _open_builders.add(self)

    def query_started(self) -> None:
        """A query of the lake runs: queued builds wait for it (``PATIENCE_SECONDS`` at
        most, so the worker starts even if queries never stop overlapping)."""
        with self._cond:
            self._queries += 1
            self._start()

    def query_finished(self) -> None:
        with self._cond:
            self._queries -= 1
            if not self._queries:
                self._start()
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Builds queued or running."""
        with self._cond:
            return len(self._queue) + (self._running is not None)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no build is queued or running (the caller's own queries must have
        ended, or builds wait for them); False when ``timeout`` seconds passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running is not None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Cancel queued builds, interrupt the running one and join the thread."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            thread = self._thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            while thread.is_alive():
                con = self._con
                if con is not None:
                    con.interrupt()  # lost if no statement runs yet: hence the loop
                thread.join(0.05)
        with self._cond:
            con, self._con = self._con, None
        if con is not None:
            con.close()
        _open_builders.discard(self)

    def _next(self) -> tuple[str, Callable[[ReadContext], None]] | None:
        """The next job once the lake's queries are done (or patience ran out); None when
        the queue is empty or the builder closed."""
        with self._cond:
            since = time.monotonic()
            while self._queue and self._queries and not self._closed:
                left = PATIENCE_SECONDS - (time.monotonic() - since)
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._closed or not self._queue:
                self._thread = None
                self._cond.notify_all()
                return None
            key, work = self._queue.popitem(last=False)
            self._running = key
            return key, work

    def _run(self) -> None:
        _lower_priority()
        while (job := self._next()) is not None:
            key, work = job
            failed = False
            try:
                if self._con is None:
                    self._con = self._connect()  # only this thread sets it; close() joins it
                ctx = ReadContext(self._storage, self._con, self._cache_dir)
                try:
                    work(ctx)
                finally:
                    ctx.release()
            except Exception:  # the files are read as they are: the query names the error
                failed = True
                log.debug("background build %s failed", key, exc_info=True)
            with self._cond:
                if failed and not self._closed:
                    self._failed.add(key)
                self._running = None
                self._cond.notify_all()


def _lower_priority() -> None:
    """Lowest CPU priority for the calling thread (Linux: a nice value per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BUILDER_NICE)
    except (AttributeError, OSError):
        pass  # not Linux, or not allowed: the build still runs on one thread


#: builders with a thread: closed at exit when their lake was not (a running build is
#: cancelled rather than finished or killed half-way by the interpreter's exit)
_open_builders: weakref.WeakSet[CopyBuilder] = weakref.WeakSet()


@atexit.register
def _close_open_builders() -> None:
    for builder in list(_open_builders):
        builder.close()
