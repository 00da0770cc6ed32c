"""The format-reader extension point.

A reader turns one table's data files into a DuckDB ``SELECT`` that yields the requested
data columns, named and typed as the table declares them (Hive semantics: a value that
does not convert becomes NULL rather than failing the query, unless the SerDe says so).
Readers are registered by SerDe class and by input format; the planner picks one with
``reader_for(table)`` and adds partition columns itself.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import duckdb

from lakebox.catalog.model import Column, Table
from lakebox.errors import UnsupportedError
from lakebox.formats import compression
from lakebox.storage import Storage


class DataFile(NamedTuple):
    """One data file of a scan. ``engine_path`` is what DuckDB opens (local path or s3://).

    A NamedTuple: planning builds one per file, 10,000 for a small-file table, and a frozen
    dataclass costs several times more to construct."""

    uri: str
    engine_path: str
    size: int
    mtime: float
    #: inode change time of a local file (0 when unknown): part of its identity
    ctime: float = 0.0

    @property
    def codec(self) -> str | None:
        return compression.codec_for(self.uri)


@dataclass
class ReadRequest:
    table: Table
    files: list[DataFile]
    #: data columns wanted, a subset of ``table.columns`` in table order
    columns: list[Column]

    @property
    def serde_params(self) -> dict[str, str]:
        return self.table.serde_parameters

    @property
    def table_params(self) -> dict[str, str]:
        return self.table.parameters


class ScanMeter(Protocol):
    """What watches a query's reads (``lakebox.session.ExecutionControl``): planning passes
    over lake files run inside ``reading`` so a scan cutoff counts and stops them too."""

    cutoff_bytes: int | None

    def reading(self, nbytes: int | None = None) -> AbstractContextManager[None]: ...

    def check_stop(self) -> None: ...


@dataclass
class ReadContext:
    """What a reader may use: storage, the query's DuckDB connection and a cache folder.
    Objects registered on the connection are dropped when the query ends."""

    storage: Storage
    con: duckdb.DuckDBPyConnection
    cache_dir: Path
    #: what is registered on ``con``, by name (a cached plan registers the Arrow tables again)
    objects: dict[str, Any] = field(default_factory=dict)
    #: files in the lake cache the planned SQL reads (decompressed or decoded copies,
    #: compacted copies): a cached plan is reusable only while they exist
    cache_files: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    #: the query's scan meter, when something watches it (a workgroup cutoff, progress)
    meter: ScanMeter | None = None

    def reading(self, nbytes: int) -> AbstractContextManager[None]:
        """Wrap an engine statement that reads ``nbytes`` of the query's lake files while
        planning (they count towards data scanned once, and a cutoff may stop it)."""
        return self.meter.reading(nbytes) if self.meter is not None else nullcontext()

    def check_stop(self) -> None:
        """Raise the query's stop error when it was cancelled (call where an engine error
        would otherwise be turned into another message or a fallback)."""
        if self.meter is not None:
            self.meter.check_stop()

    @property
    def scan_budget(self) -> int | None:
        """The query's data-scanned cutoff in bytes, or None."""
        return self.meter.cutoff_bytes if self.meter is not None else None

    def register(self, obj: Any, hint: str = "scan") -> str:
        """Register an Arrow table / reader (or anything DuckDB scans) under a fresh name."""
        name = f"__lakebox_{hint}_{id(self):x}_{next(self._counter)}"
        self.register_as(name, obj)
        return name

    def register_as(self, name: str, obj: Any) -> None:
        self.con.register(name, obj)
        self.objects[name] = obj

    def release(self) -> None:
        for name in self.objects:
            try:
                self.con.unregister(name)
            except duckdb.Error:
                pass
        self.objects.clear()

    def readable_path(self, f: DataFile, native_codecs: frozenset[str] = frozenset()) -> str:
        """A path DuckDB can open for ``f``: the file itself when its codec is one DuckDB
        handles (``native_codecs``), otherwise a decompressed copy in the cache."""
        codec = f.codec
        if codec is None or codec in native_codecs:
            return f.engine_path
        path = str(
            compression.decompressed_copy(
                self.cache_dir,
                f.uri,
                f.size,
                f.mtime,
                lambda: self.storage.read_bytes(f.uri),
                codec,
            )
        )
        self.cache_files.append(path)
        return path

    def read_bytes(self, f: DataFile, decompress: bool = True) -> bytes:
        data = self.storage.read_bytes(f.uri)
        codec = f.codec
        if decompress and codec is not None:
            return compression.decompress(data, codec, f.uri)
        return data


class FormatReader(ABC):
    """Reads one SerDe family. ``name`` is used in messages and EXPLAIN output."""

    name: str = "format"

    @abstractmethod
    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        """A DuckDB SELECT over ``request.files`` yielding ``request.columns`` (quoted
        names, DuckDB types from ``lakebox.catalog.types.duckdb_type``). Never called with
        an empty file list."""

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        """Like ``scan_sql`` plus a column ``file_column`` naming the file each row came from,
        and the values that column takes, one per ``request.files`` entry. The planner uses it
        to read many partitions in one scan; None (the default) means unsupported and the
        planner reads partition by partition."""
        return None

    def validate(self, table: Table) -> None:  # noqa: B027 - optional hook
        """Reject bad SerDe / table properties at CREATE time (raise InvalidRequestError)."""


_BY_SERDE: dict[str, Callable[[], FormatReader]] = {}
_BY_INPUT_FORMAT: dict[str, Callable[[], FormatReader]] = {}
#: input formats that decide how files are framed whatever the SerDe says
_FRAMING_INPUT_FORMAT: dict[str, Callable[[], FormatReader]] = {}


def register_reader(
    factory: Callable[[], FormatReader],
    serdes: tuple[str, ...] = (),
    input_formats: tuple[str, ...] = (),
    framing_input_formats: tuple[str, ...] = (),
) -> None:
    """``framing_input_formats`` win over the table's SerDe: CloudTrail tables in AWS's docs
    pair the Hive JsonSerDe with CloudTrailInputFormat, whose files are one JSON document of
    many records, not JSON lines."""
    for s in serdes:
        _BY_SERDE[s.lower()] = factory
    for f in input_formats:
        _BY_INPUT_FORMAT[f.lower()] = factory
    for f in framing_input_formats:
        _FRAMING_INPUT_FORMAT[f.lower()] = factory


def known_serdes() -> list[str]:
    return sorted(_BY_SERDE)


def reader_for(table: Table) -> FormatReader:
    """The reader for a table: by a framing input format, then by SerDe class, then by
    input format."""
    from lakebox.formats import load_builtin_readers

    load_builtin_readers()
    framing = _FRAMING_INPUT_FORMAT.get((table.input_format or "").lower())
    if framing is not None:
        return framing()
    if table.serde_library:
        factory = _BY_SERDE.get(table.serde_library.lower())
        if factory is None:
            raise UnsupportedError(
                f"SerDe {table.serde_library!r} of table {table.qualified_name} is not "
                f"supported; known SerDes: {', '.join(known_serdes())}"
            )
        return factory()
    if table.input_format:
        factory = _BY_INPUT_FORMAT.get(table.input_format.lower())
        if factory is not None:
            return factory()
    raise UnsupportedError(
        f"table {table.qualified_name} names no SerDe this lakebox can read "
        f"(input format {table.input_format!r})"
    )


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"
