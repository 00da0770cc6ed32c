"""Result files where Athena writes them: ``<output>/<id>.csv`` (RFC 4180, every value
quoted, NULL as an empty unquoted field, header row) with a ``.csv.metadata`` companion, and
``<id>.txt`` for DDL. GetQueryResults pages are read back from these files, so results
stay readable by id after a restart.

Athena's ``.csv.metadata`` is a binary protobuf; lakebox writes the same column information
as JSON (a documented difference).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import errno
import io
import itertools
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from lakebox.catalog.types import (
    ATHENA_TYPE_KEY,
    athena_type_from_arrow,
    precision_of,
    temporal_marker,
)
from lakebox.errors import InvalidRequestError
from lakebox.storage import Storage, join_uri

MAX_PAGE = 1000
#: rows of a result file rendered at a time (``write_csv``)
WRITE_BATCH_ROWS = 65_536
#: results up to this size are committed with their execution's final state and their
#: files fsynced after it (``write_results``' ``defer_sync``); larger ones before it
LOGGED_BYTES = 256 * 1024
#: results of at most this many rows, of integers and strings, are rendered in Python
PLAIN_CSV_ROWS = 100
#: a result with more rows than this (or over 4 x ``LOGGED_BYTES`` as Arrow) is not
#: rendered in memory to see whether it is that small
LOGGED_ROWS = 10_000


def result_uri(output_location: str, query_id: str, statement_type: str) -> str:
    suffix = ".txt" if statement_type in ("DDL", "UTILITY") else ".csv"
    return join_uri(output_location, f"{query_id}{suffix}")


def athena_text(value: Any) -> str | None:
    """A value as Athena prints it in result files (``{a=1, b=x}`` rows, ``[1, 2]`` arrays,
    millisecond timestamps, ``2001-08-22 03:04:05.321 America/New_York``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return _zoned_text(value, _zone_name(value.tzinfo), 3)
        return _clock_text(value, 3)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _clock_text(value, 3)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if not math.isfinite(value):  # Java's Double.toString, as Athena writes them
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return repr(value) if value != int(value) or abs(value) >= 1e16 else f"{value:.1f}"
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, pa.MonthDayNano):
        return _interval_text(value)
    if isinstance(value, dict):
        marked = temporal_marker(list(value))
        if marked is not None:
            return _temporal_text(list(value.values()), precision_of(marked))
        return "{" + ", ".join(f"{k}={_nested(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):  # Arrow maps
            return "{" + ", ".join(f"{athena_text(k)}={_nested(v)}" for k, v in value) + "}"
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return str(value)


_EPOCH = dt.datetime(1970, 1, 1)


def _clock_text(value: dt.datetime | dt.time, precision: int, nanos: int | None = None) -> str:
    """Wall-clock time with ``precision`` fractional digits (truncated, as Trino prints a
    value already rounded to its precision)."""
    pattern = "%H:%M:%S" if isinstance(value, dt.time) else "%Y-%m-%d %H:%M:%S"
    text = value.strftime(pattern)
    if precision <= 0:
        return text
    fraction = f"{nanos:09d}" if nanos is not None else f"{value.microsecond:06d}000"
    return f"{text}.{fraction.ljust(precision, '0')[:precision]}"


def _zone_name(tz: dt.tzinfo) -> str:
    key = getattr(tz, "key", None)
    if key:
        return "UTC" if key in ("UTC", "Etc/UTC") else str(key)
    return "UTC" if tz.utcoffset(None) == dt.timedelta(0) else str(tz)


def _zoned_text(instant: dt.datetime, zone: str, precision: int, nanos: int | None = None) -> str:
    """An instant shown in its zone: ``2001-08-22 03:04:05.321 America/New_York``."""
    utc = instant.astimezone(dt.UTC).replace(tzinfo=None)
    offset = _OFFSET.match(zone)
    if zone == "UTC":
        local = utc
    elif offset:
        sign = -1 if offset.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
        local = utc + sign * delta
    else:
        local = utc.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return f"{_clock_text(local, precision, nanos)} {zone}"


_OFFSET = re.compile(r"^([+-])(\d\d):(\d\d)$")


def _temporal_text(parts: list[Any], precision: int) -> str | None:
    """A value carried in a temporal struct (``lakebox.catalog.types.temporal_marker``):
    the value (a datetime, a time, or epoch nanoseconds), then the zone if it has one."""
    value = parts[0]
    if value is None:
        return None
    nanos = None
    if isinstance(value, int):  # epoch nanoseconds, above microsecond precision
        nanos = value % 1_000_000_000
        value = _EPOCH + dt.timedelta(seconds=value // 1_000_000_000)
        if len(parts) == 2:
            value = value.replace(tzinfo=dt.UTC)
    if len(parts) == 2:
        if parts[1] is None:
            return None
        return _zoned_text(value, str(parts[1]), precision, nanos)
    return _clock_text(value, precision, nanos)


def _interval_text(value: Any) -> str:
    """``3-5`` for a year-to-month interval, ``2 03:00:00.000`` for day-to-second."""
    months, days, nanos = value.months, value.days, value.nanoseconds
    if months and not days and not nanos:
        sign = "-" if months < 0 else ""
        return f"{sign}{abs(months) // 12}-{abs(months) % 12}"
    total_ms = days * 86_400_000 + nanos // 1_000_000
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    day, rest = divmod(total_ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{sign}{day} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _nested(value: Any) -> str:
    """An element inside an array, map or row: null as ``null``, an empty string as nothing."""
    text = athena_text(value)
    return "null" if text is None else text


def column_info(table: pa.Table) -> list[dict[str, Any]]:
    info = []
    for f in table.schema:
        trino = (f.metadata or {}).get(ATHENA_TYPE_KEY)
        typ = re.sub(r"\(\d+\)", "", trino.decode()) if trino else athena_type_from_arrow(f.type)
        base = typ.split("(", 1)[0]
        entry: dict[str, Any] = {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": f.name,
            "Label": f.name,
            "Type": base,
            "Precision": 0,
            "Scale": 0,
            "Nullable": "UNKNOWN",
            "CaseSensitive": base == "varchar",
        }
        if pa.types.is_decimal(f.type):
            entry["Precision"], entry["Scale"] = f.type.precision, f.type.scale
        elif base == "varchar":
            entry["Precision"] = 2147483647
        info.append(entry)
    return info


class UnsyncedFile(NamedTuple):
    """A result file written without an fsync (``write_results``' ``defer_sync``)."""

    uri: str
    path: Path
    data: bytes


def write_results(
    storage: Storage, uri: str, table: pa.Table, statement_type: str, *, defer_sync: bool = False
) -> list[UnsyncedFile]:
    """Write a result file (and a CSV's ``.metadata``), durable when this returns: the
    query service marks the execution SUCCEEDED only after, so a SUCCEEDED execution
    never points at a file that a crash or a power loss could take or cut short.

    With ``defer_sync``, a small result (at most ``LOGGED_BYTES``, in a lake folder) is
    written atomically but without an fsync, and its files' paths and bytes are returned:
    the query service commits them with the SUCCEEDED state (``QueryStore.save``), one
    fsynced commit that makes the result durable, and the files are fsynced after it
    (``sync_files``) or restored from it after a power loss (``restore_file``). Every
    other result is written durably and the list is empty."""
    writers = _writers(uri, table, statement_type)
    path = storage.local_path(uri)  # checks the location, as every storage call does
    if path is None:  # S3: each PUT is atomic and durable when it returns
        for location, writer in writers:
            storage.write_with(location, writer)
        return []
    folder = path.parent
    if not defer_sync or table.num_rows > LOGGED_ROWS or table.nbytes > 4 * LOGGED_BYTES:
        # big: streamed to the files, never held as text
        _write_local([(folder / _name(location), w) for location, w in writers], sync=True)
        return []
    rendered: list[UnsyncedFile] = []
    for location, writer in writers:
        buf = io.BytesIO()
        writer(buf)
        rendered.append(UnsyncedFile(location, folder / _name(location), buf.getvalue()))
    small = sum(len(f.data) for f in rendered) <= LOGGED_BYTES
    _write_local([(f.path, _bytes_writer(f.data)) for f in rendered], sync=not small)
    return rendered if small else []


def _writers(
    uri: str, table: pa.Table, statement_type: str
) -> list[tuple[str, Callable[[IO[bytes]], object]]]:
    """The files of a result, each with what writes it."""
    if statement_type in ("DDL", "UTILITY"):
        lines = [
            "\t".join(athena_text(v) or "" for v in row)
            for row in zip(*(c.to_pylist() for c in table.columns), strict=True)
        ]
        text = ("\n".join(lines) + ("\n" if lines else "")).encode()
        return [(uri, _bytes_writer(text))]
    meta = json.dumps({"columnInfo": column_info(table), "rowCount": table.num_rows}).encode()
    plain = _plain_csv(table) if table.num_rows <= PLAIN_CSV_ROWS else None
    csv = _bytes_writer(plain) if plain is not None else lambda fh: write_csv(table, fh)
    return [(uri, csv), (uri + ".metadata", _bytes_writer(meta))]


def _plain_csv(table: pa.Table) -> bytes | None:
    """The bytes ``write_csv`` writes, rendered in Python, for a few rows of integer and
    string columns only (whose Athena text is Arrow's): setting up Arrow's CSV writer
    costs 0.1-0.25 ms, most of writing a one-row result. None for any other table."""
    if not table.num_columns or not all(
        pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
        for t in table.schema.types
    ):
        return None
    lines = [",".join(_quoted(name) for name in table.column_names)]
    for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
        lines.append(",".join("" if v is None else _quoted(str(v)) for v in row))
    return ("\n".join(lines) + "\n").encode()


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _bytes_writer(data: bytes) -> Callable[[IO[bytes]], object]:
    return lambda fh: fh.write(data)


def _name(location: str) -> str:
    return location.rsplit("/", 1)[1]


def _write_local(files: list[tuple[Path, Callable[[IO[bytes]], object]]], sync: bool) -> None:
    """Write local files of one folder atomically: each under a temporary name, then all
    renamed into place. Readers see a whole file or none, and a process killed half-way
    leaves only ``.lakebox-tmp-`` files, which no result is read from. With ``sync``
    durably too, with as few fsyncs as that takes: each file is fsynced before its rename
    and the folder once after the renames (without it the new names could be lost to a
    power loss after the files' data was safe)."""
    folder = files[0][0].parent
    staged: list[tuple[str, Path]] = []
    try:
        for target, writer in files:
            fd, tmp = _temporary(target)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as fh:
                writer(fh)
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    if sync:
        fsync_folder(folder)


_TEMPORARY = itertools.count()
#: temporary names tried before giving up (``_temporary``): a name is taken only when a
#: process with this pid left one behind (a dead process, whose pid came round again)
_TEMPORARY_TRIES = 100


def _temporary(target: Path) -> tuple[int, str]:
    """A new temporary file beside ``target`` (its folder made when missing, durably:
    ``make_folders``), open for writing. Named after the target, this process and a
    counter, which is unique without ``mkstemp``'s random names and retries (0.1 ms a
    file, two files a query); a name already taken (left by a dead process whose pid came
    round again) moves on to the next counter."""
    if len(target.name) > 160:  # the name would get too long: let mkstemp pick one
        make_folders(target.parent)
        return tempfile.mkstemp(prefix=".lakebox-tmp-", dir=target.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    prefix = f"{target.parent}/.lakebox-tmp-{target.name}.{os.getpid()}."
    for attempt in range(_TEMPORARY_TRIES):
        tmp = f"{prefix}{next(_TEMPORARY)}"
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:  # the first result in a new output location
            if attempt:
                raise  # the folder was there a moment ago: it was deleted meanwhile
            make_folders(target.parent)
            try:
                return os.open(tmp, flags, 0o600), tmp
            except FileExistsError:
                continue
    raise FileExistsError(errno.EEXIST, "no free temporary name beside the result", prefix)


def make_folders(folder: Path) -> None:
    """Make ``folder`` and any missing parent, durably: each new folder's name is fsynced
    in its parent, top down, before this returns. A result's folder is made before its
    SUCCEEDED commit, so after a power loss a missing folder was deleted by someone
    (``restore_file`` leaves it deleted), never lost with the result's bytes still owed to
    it; and the fsync of the folder alone after a large result's renames
    (``_write_local``) would not keep a new folder's own name. Made once per output
    location, so the fsyncs cost nothing on the common path."""
    missing: list[Path] = []
    probe = folder
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            if not new.is_dir():
                raise
            continue  # another thread or process made it: it fsyncs its parent
        fsync_folder(new.parent)


def sync_files(paths: list[Path]) -> list[Path]:
    """Make the files a ``defer_sync`` write left durable: each file, then each of their
    folders. A file that is gone (deleted since, or its folder) has nothing left to make
    durable. Errors are per file: returns the paths that could not be made durable (their
    committed copies must stay, for ``restore_file`` at a later start); one folder made
    unreadable does not hold back the others'."""
    folders: dict[Path, list[Path]] = {}
    failed: list[Path] = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            continue
        except OSError:
            failed.append(path)
            continue
        try:
            os.fsync(fd)
        except OSError:
            failed.append(path)
            continue
        finally:
            os.close(fd)
        folders.setdefault(path.parent, []).append(path)
    for folder, synced in folders.items():
        try:
            fsync_folder(folder)
        except FileNotFoundError:
            continue  # deleted since: so were its files
        except OSError:
            failed.extend(synced)
    return failed


def restore_file(path: Path, data: bytes) -> bool:
    """After a crash: make a file of a ``defer_sync`` write durable, first writing it again
    (atomically, durably) when a power loss took it or left it different from the bytes
    committed with its execution. Whether it was written again.

    Only a regular file, or a missing one, is restored: anything else at its name (a FIFO,
    a folder, a symbolic link) was put there by someone since and is left alone, never
    opened in a way that blocks. A missing folder is not made again: ``make_folders``
    made it durable before the execution's commit, so it was deleted since, with the
    result, by someone who wanted it gone. Either way the copy has done its part (the
    caller forgets it) and reading the result fails as it would have without the crash."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if not path.parent.is_dir():
            return False  # the results folder was deleted: leave it so
        _write_local([(path, _bytes_writer(data))], sync=True)
        return True
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            return False  # a symbolic link, a socket, a folder: not our file
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False  # a FIFO or a device put there since
        same = info.st_size == len(data) and _read_all(fd, len(data)) == data
    finally:
        os.close(fd)
    if not same:
        _write_local([(path, _bytes_writer(data))], sync=True)
        return True
    if sync_files([path]):
        raise OSError(errno.EIO, "the result file could not be made durable", str(path))
    return False


def _read_all(fd: int, size: int) -> bytes:
    """``size`` bytes of ``fd`` (fewer when the file is shorter)."""
    chunks: list[bytes] = []
    left = size + 1  # one more, to see a file that grew
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def fsync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (new names, renames) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_csv(table: pa.Table, sink: IO[bytes]) -> None:
    """The result file's CSV, rendered and written ``WRITE_BATCH_ROWS`` rows at a time: a
    large result is not held a second time as text (nor its rendered columns as Python
    strings) while the file is written."""
    options = pacsv.WriteOptions(quoting_style="all_valid")
    schema = athena_columns(table.slice(0, 0)).schema
    with pacsv.CSVWriter(sink, schema, write_options=options) as writer:
        for start in range(0, table.num_rows, WRITE_BATCH_ROWS):
            writer.write_table(athena_columns(table.slice(start, WRITE_BATCH_ROWS)))


def athena_columns(table: pa.Table) -> pa.Table:
    """The table as Athena prints it (result files, the CLI). Columns whose Athena text
    differs from Arrow's CSV rendering (floats keep ``.0``,
    timestamps at their precision and with their zone, nested values) are rendered here;
    the rest stay columnar."""
    cols = []
    for field, column in zip(table.schema, table.columns, strict=True):
        t = column.type
        plain = (
            pa.types.is_integer(t)
            or pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)
            or pa.types.is_date(t)
        )
        if plain:
            cols.append(column)
            continue
        trino = (field.metadata or {}).get(ATHENA_TYPE_KEY)
        if pa.types.is_float32(t):
            texts = [None if v is None else _real_text(v) for v in column.to_pylist()]
        elif pa.types.is_map(t):  # an empty map reads back as [], which would print as an array
            texts = [
                None if v is None else athena_text(v) if v else "{}" for v in column.to_pylist()
            ]
        elif pa.types.is_timestamp(t) or pa.types.is_time(t) or trino is not None:
            precision = precision_of(trino.decode()) if trino else 3
            texts = _temporal_column(column, precision)
        else:
            texts = [athena_text(v) for v in column.to_pylist()]
        cols.append(pa.array(texts, pa.string()))
    return pa.table(cols, names=table.column_names)


def _real_text(value: float) -> str:
    """A REAL as Java's Float.toString prints it: the shortest digits that read back as the
    same 32-bit float (10.3, not the 10.300000190734863 its widening to double shows)."""
    shortest = float(str(np.float32(value)))
    return athena_text(shortest) or ""


def _temporal_column(column: pa.ChunkedArray, precision: int) -> list[str | None]:
    """A timestamp or time column at its precision; a timestamp with a time zone shows
    each instant in the column's zone. Nanoseconds are read from the epoch values, as
    Python's datetime stops at microseconds."""
    t = column.type
    if pa.types.is_struct(t):  # zoned values of several zones: instant + zone
        return [
            athena_text(v) if v is None else _mixed_zone_text(v, precision)
            for v in column.to_pylist()
        ]
    nanos: list[int | None] = [None] * len(column)
    if pa.types.is_timestamp(t) and t.unit == "ns":
        nanos = [
            None if v is None else v % 1_000_000_000 for v in column.cast(pa.int64()).to_pylist()
        ]
        column = column.cast(pa.timestamp("us", t.tz), safe=False)
    values = column.to_pylist()
    if pa.types.is_timestamp(t) and t.tz:
        zone = "UTC" if t.tz in ("UTC", "Etc/UTC", "+00:00") else t.tz
        return [
            None if v is None else _zoned_text(v, zone, precision, n)
            for v, n in zip(values, nanos, strict=True)
        ]
    return [
        None if v is None else _clock_text(v, precision, n)
        for v, n in zip(values, nanos, strict=True)
    ]


def _mixed_zone_text(value: dict[str, Any], precision: int) -> str | None:
    return _temporal_text(list(value.values()), precision)


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        kind, _, num = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return int(num)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidRequestError(f"NextToken {token!r} is not valid") from err


def read_page(
    storage: Storage, uri: str, statement_type: str, next_token: str | None, max_results: int
) -> dict[str, Any]:
    """One GetQueryResults page. For a SELECT the header is row 0 of the file, so the first
    page starts with it, as Athena's does."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidRequestError(f"MaxResults must be between 1 and {MAX_PAGE}")
    offset = decode_token(next_token)
    text = storage.read_bytes(uri).decode("utf-8")
    if statement_type in ("DDL", "UTILITY"):
        rows: list[list[str | None]] = [list(line.split("\t")) for line in text.splitlines()]
        columns: list[dict[str, Any]] = [{"Name": "result", "Type": "string"}]
    else:
        rows = _parse_csv(text)
        meta = json.loads(storage.read_bytes(uri + ".metadata"))
        columns = meta["columnInfo"]
    page = rows[offset : offset + max_results]
    out: dict[str, Any] = {
        "ResultSet": {
            "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in page],
            "ResultSetMetadata": {"ColumnInfo": columns},
        },
        "UpdateCount": 0,
    }
    if offset + max_results < len(rows):
        out["NextToken"] = encode_token(offset + max_results)
    return out


def _parse_csv(text: str) -> list[list[str | None]]:
    """Parse Athena's CSV keeping NULL (empty unquoted) apart from '' (quoted empty)."""
    rows: list[list[str | None]] = []
    i, n = 0, len(text)
    row: list[str | None] = []
    while i < n:
        if text[i] == '"':
            j = i + 1
            parts = []
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(parts))
        else:
            k = i
            while k < n and text[k] not in ",\n":
                k += 1
            row.append(text[i:k] if k > i else None)
            i = k
        if i < n and text[i] == ",":
            i += 1
            if i >= n or text[i] == "\n":
                row.append(None)
        if i < n and text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
    if row:
        rows.append(row)
    return rows
