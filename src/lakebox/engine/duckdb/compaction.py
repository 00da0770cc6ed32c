"""Compacted copies: a scan strategy of the DuckDB engine. A transparent, automatically
maintained Parquet copy of a partition's scan, for the two layouts where reading the files
themselves is the slow part.

- Many small files: DuckDB pays ~0.1 ms just to open a file, so 10,000 small files cost
  about a second whatever their format; one Parquet file of the same rows costs a few ms.
- Row formats (JSON, CSV, delimited text, regex, Avro, Ion): parsing text dominates every
  query; the copy is columnar, so a projection or a filter reads only what it needs.

The copy is the reader's own scan (``scans.scan_sql`` for that partition: same columns,
types, partition values and rows) written once with ``COPY ... TO`` into the lake cache,
keyed by a fingerprint of the table definition and of every file's URI, size and
modification time. Any added, replaced or deleted file changes the fingerprint, so the next
query rebuilds the copy (synchronously: the build is one scan of the files, which the query
would have paid anyway, plus a Parquet write) and older copies of that partition are
deleted. The cache is bounded (``LAKEBOX_COMPACTION_CACHE_MB``, default 4096): least
recently used copies go first. Data-scanned accounting is untouched: the planner counts the
original files, whatever strategy the engine picks.

Controls: ``LAKEBOX_COMPACTION=off`` disables copies, ``=always`` copies every partition;
the table property ``lakebox.compaction`` = ``'false'`` / ``'true'`` does the same per
table. ``LAKEBOX_COMPACTION_MIN_FILES`` (default 50) is the file count from which columnar
formats (Parquet, ORC) are copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lakebox.catalog.model import Table
from lakebox.engine.duckdb import pseudo
from lakebox.engine.duckdb.formats.base import ReadContext, quote_ident, reader_for, sql_string
from lakebox.errors import LakeboxError
from lakebox.formats.base import DataFile
from lakebox.sql.plan import PartitionFiles
from lakebox.storage.watch import derived

#: the environment settings read here: they change compiled queries (plan cache key)
SETTINGS = ("LAKEBOX_COMPACTION", "LAKEBOX_COMPACTION_MIN_FILES", "LAKEBOX_COMPACTION_CACHE_MB")
#: the reader's own scan of some partitions of a table, with these pseudo-columns
#: (``scans.scan_sql``)
ScanSql = Callable[[ReadContext, Table, list[PartitionFiles], tuple[str, ...]], str]

#: bump when the copy's layout or the fingerprint changes
VERSION = "4"
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
        if derived(part.version, "undated", lambda: any(f.mtime <= 0 for f in files)):
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
    """The scan of ``table`` with worthwhile partitions read from compacted copies (built
    first when missing or stale); None when no partition is read from one. ``scan_sql``
    is the reader's own scan, which a copy holds.

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
    parts: list[str] = []
    budget = ctx.scan_budget
    used = False
    for part, want in zip(partitions, wanted_parts, strict=True):
        if not part.files:
            continue
        copy = _current_copy(ctx, table, part) if want else None
        original = None
        if copy is None:
            if budget is not None and part.total_size > budget:
                # a build reads the whole partition: past a scan cutoff it could only be
                # stopped half-way, while the query itself may need less (a LIMIT)
                want = False
            # the reader's scan is planned only when it is needed: for JSON it reads a key
            # index entry per file, for Parquet it lists every path
            plain = scan_sql(ctx, table, [part], ()) if want or not wanted else None
            if want:
                assert plain is not None
                copy = _build_copy(ctx, table, part, plain, policy)
            if copy is None:
                original = plain if not wanted else scan_sql(ctx, table, [part], wanted)
        if copy is not None:
            used = True
            if wanted:
                one = part.files[0] if per_file else None
                copy = f"SELECT *{pseudo.constants(table, part.values, one, wanted)} FROM ({copy})"
            parts.append(copy)
        else:
            assert original is not None
            parts.append(original)
    if not parts or not used:
        return None  # the files themselves, as the planner reads them (and counts them)
    if len(parts) == 1:
        return parts[0]
    return "\nUNION ALL BY NAME\n".join(f"SELECT * FROM ({p})" for p in parts)


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
    fp = fingerprint(table, part)
    return slot, slot / f"{fp}.parquet", slot / f"{fp}.json"


def _current_copy(ctx: ReadContext, table: Table, part: PartitionFiles) -> str | None:
    """SQL reading the partition's copy when one matches its files now, else None."""
    _slot, data, meta = _paths(ctx, table, part)
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
    ctx: ReadContext, table: Table, part: PartitionFiles, original: str, policy: Policy
) -> str | None:
    slot, data, meta = _paths(ctx, table, part)
    with _lock_for(str(slot)):
        columns = _load_meta(meta, trusted_only=True) if data.exists() else None
        if columns is None:
            newest = max((max(f.mtime, f.ctime) for f in part.files), default=0.0)
            columns = _build(ctx, original, slot, data, meta, newest, part.total_size)
            if columns is None:
                return None
            _enforce_limit(ctx.cache_dir / "compacted", policy.cache_bytes, keep=data)
    ctx.cache_files.append(str(data))
    return _read_sql(data, columns)


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
    newest: float,
    size: int,
) -> list[tuple[str, str, bool]] | None:
    """Write the copy; None (read the files themselves) when the scan fails, so the query
    reports the reader's own error, naming file and line. ``newest`` is the latest
    modification or change time among the files, ``size`` their bytes (the build reads them
    for the query: a scan cutoff counts and can stop it)."""
    started = time.time()
    slot.mkdir(parents=True, exist_ok=True)
    tmp = slot / f".{data.stem}.{uuid.uuid4().hex}.tmp"
    try:
        rel = ctx.con.sql(original)  # bound once: its types are what the scan yields
        want = [(str(c), str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]
        with ctx.reading(size):
            rel.to_parquet(str(tmp), compression="snappy", row_group_size=COPY_ROW_GROUP_ROWS)
        got = {
            str(r[0]): str(r[1])
            for r in ctx.con.sql(
                f"DESCRIBE SELECT * FROM read_parquet({sql_string(str(tmp))})"
            ).fetchall()
        }
    except (duckdb.Error, LakeboxError):
        tmp.unlink(missing_ok=True)
        ctx.check_stop()  # a cancelled build stops the query, not just the copy
        return None
    columns = [(name, typ, got.get(name) != typ) for name, typ in want]
    meta_tmp = slot / f".{meta.stem}.{uuid.uuid4().hex}.tmp"
    trusted = newest < started - RACY_SECONDS
    meta_tmp.write_text(json.dumps({"columns": columns, "trusted": trusted, "source_bytes": size}))
    os.replace(meta_tmp, meta)
    os.replace(tmp, data)
    _drop_stale(slot, keep=data.stem)
    return columns


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
