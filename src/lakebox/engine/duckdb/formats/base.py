"""The DuckDB binding of the format plugins: readers and what they read with.

A reader turns one table's data files into a DuckDB ``SELECT`` that yields the requested
data columns, named and typed as the table declares them (Hive semantics: a value that
does not convert becomes NULL rather than failing the query, unless the SerDe says so).
Which reader a table needs is the format plugin's decision (``lakebox.formats.format_for``);
``reader_for(table)`` maps that plugin to its DuckDB reader, and the planner adds partition
columns itself.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.errors import UnsupportedError
from lakebox.formats import compression
from lakebox.formats.base import DataFile, ReadRequest
from lakebox.formats.plugins import FormatPlugin, format_for, register_plugin
from lakebox.principal import LOCAL_ADMIN
from lakebox.storage import Storage


class Background(Protocol):
    """The lake's background worker (``compaction.CopyBuilder``): work a query wants done
    but must not wait for, run later on the worker's own connection and ReadContext."""

    def submit(self, key: str, work: Callable[[ReadContext], None]) -> bool:
        """Ask for ``work`` under ``key`` (the worker decides when to queue it, and queues a
        key once: not while it is queued or running, never after it failed). Whether it is
        still to be done (False: it failed before, or the worker is closed)."""
        ...


#: path lists up to this long are written into the SQL (``ReadContext.paths_sql``)
LITERAL_PATHS = 8
#: longer lists up to this long are a DuckDB variable set from a list parameter, longer
#: ones still from an Arrow list (``ReadContext.paths_sql``)
PARAMETER_PATHS = 500


def string_list(texts: list[str]) -> pa.Array:
    """``[texts]`` as a one-row Arrow ``list<string>`` array, built from buffers.

    Not ``pa.array([texts], ...)``: pyarrow's conversion of Python objects first asks
    whether pandas is installed, importing it if so (0.3-0.5 s), and a lake's first query
    must not pay for a library it never uses. Nor a ``large_string`` array cast to
    ``string``: a cast imports ``pyarrow.compute`` (~60 ms), so the 32-bit offsets are
    written here (texts past 2 GiB together stay ``large_string``, which DuckDB reads the
    same way). Raises
    UnicodeEncodeError for a text that is not UTF-8 (a surrogate-escaped file name)."""
    data = [t.encode("utf-8") for t in texts]
    total = sum(map(len, data))
    large = total >= 2**31
    offsets = array("q" if large else "i", [0])
    offsets.extend(itertools.accumulate(map(len, data)))
    kind = pa.LargeStringArray if large else pa.StringArray
    values = kind.from_buffers(len(data), pa.py_buffer(offsets), pa.py_buffer(b"".join(data)))
    bounds = pa.Array.from_buffers(pa.int32(), 2, [None, pa.py_buffer(array("i", [0, len(data)]))])
    return pa.ListArray.from_arrays(bounds, values)


@dataclass
class ReadContext:
    """What a reader may use: storage, the query's DuckDB connection and a cache folder.
    Objects registered on the connection are dropped when the query ends."""

    storage: Storage
    con: duckdb.DuckDBPyConnection
    cache_dir: Path
    #: what is registered on ``con``, by name (a cached plan registers the Arrow tables again)
    objects: dict[str, Any] = field(default_factory=dict)
    #: DuckDB variables set on ``con`` that the SQL reads (``paths_sql``), by name (a cached
    #: plan sets them again)
    variables: dict[str, Any] = field(default_factory=dict)
    #: files in the lake cache the planned SQL reads (decompressed or decoded copies,
    #: compacted copies): a cached plan is reusable only while they exist
    cache_files: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    #: whom the query is planned for and under which policy version: caches of what a
    #: reader derives are keyed by both (the local admin and 0 until permissions exist)
    principal_key: str = LOCAL_ADMIN.key
    policy_version: int = 0
    #: where work the query should not wait for goes (None: nowhere, it is not done)
    background: Background | None = None
    #: the planned SQL reads files that queued background work will soon serve faster (a
    #: compacted copy being built): a plan kept now would keep reading the files
    provisional: bool = False

    def register(self, obj: Any, hint: str = "scan") -> str:
        """Register an Arrow table / reader (or anything DuckDB scans) under a fresh name."""
        name = f"__lakebox_{hint}_{id(self):x}_{next(self._counter)}"
        self.register_as(name, obj)
        return name

    def register_as(self, name: str, obj: Any) -> None:
        self.con.register(name, obj)
        self.objects[name] = obj

    def paths_sql(self, paths: list[str]) -> str:
        """SQL for a table function's list of ``paths``: a literal when short, else a DuckDB
        variable set on ``con`` (DuckDB takes about 50 µs a path to parse and bind a list
        literal: 5 ms for 100 files, half a second for 10,000, five times reading the first
        of them; setting the variable from a list parameter costs about 0.5 ms for 100)."""
        if len(paths) <= LITERAL_PATHS:
            return sql_list(paths)
        if len(paths) <= PARAMETER_PATHS:
            try:
                for path in paths:
                    path.encode("utf-8")
            except UnicodeEncodeError:
                return sql_list(paths)  # as below
            name = f"__lakebox_paths_{id(self):x}_{next(self._counter)}"
            self.set_variable(name, list(paths))
            return f"getvariable({sql_string(name)})"
        try:
            values = string_list(paths)
        except UnicodeEncodeError:
            # a file name that is not UTF-8 (surrogate-escaped): the literal, which
            # DuckDB refuses as it refuses such a name among a few files (a DataError)
            return sql_list(paths)
        name = f"__lakebox_paths_{id(self):x}_{next(self._counter)}"
        # one row holding the list: DuckDB reads an Arrow list in bulk, where a Python
        # list parameter costs ~2 µs a path to convert (20-80 ms for 10,000 paths)
        self.set_variable(name, pa.Table.from_arrays([values], names=["v"]))
        return f"getvariable({sql_string(name)})"

    def set_variable(self, name: str, value: Any) -> None:
        """Set a DuckDB variable the SQL reads; a one-row, one-column Arrow table sets its
        value (a long list, converted in bulk)."""
        if isinstance(value, pa.Table):
            source = f"__lakebox_value_{id(self):x}_{next(self._counter)}"
            self.con.register(source, value)
            try:
                self.con.execute(f"SET VARIABLE {name} = (SELECT v FROM {source})")
            finally:
                self.con.unregister(source)
        else:
            self.con.execute(f"SET VARIABLE {name} = $1", [value])
        self.variables[name] = value

    def release(self, closing: bool = False) -> None:
        """Drop what the query registered and set on ``con``. ``closing``: ``con`` is closed
        next, which drops its variables with it (DuckDB's variables are a connection's
        own), so they are not reset one statement each."""
        for name in self.objects:
            try:
                self.con.unregister(name)
            except duckdb.Error:
                pass
        self.objects.clear()
        if closing:
            self.variables.clear()
            return
        for name in self.variables:
            try:
                self.con.execute(f"RESET VARIABLE {name}")
            except duckdb.Error:
                pass
        self.variables.clear()

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
        and the values that column takes, one per ``request.files`` entry. Scans use it to
        read many partitions in one scan, and to join each file's pseudo-columns
        (``"$path"``...) to its rows; None (the default) means unsupported: partitions are
        then read one by one, and for pseudo-columns each file on its own."""
        return None

    def scan_sql_with_hive_keys(
        self, ctx: ReadContext, request: ReadRequest, keys: list[str]
    ) -> str | None:
        """Like ``scan_sql`` plus one VARCHAR column per name in ``keys``: the value of the
        ``key=value`` folder the row's file lies in, as DuckDB's Hive partitioning reads it
        (``%XX`` decoded). The caller passes only files whose folders are exactly those keys
        with the partition's values. None (the default) means unsupported: partitions are
        then read with ``scan_sql_with_file`` or one by one."""
        return None

    def validate(self, table: Table) -> None:  # noqa: B027 - optional hook
        """Reject bad SerDe / table properties at CREATE time (raise InvalidRequestError)."""


#: readers bound to plugins added with ``register_reader`` (the built-in bindings are the
#: table in ``lakebox.engine.duckdb.formats``)
_EXTRA: dict[str, Callable[[], FormatReader]] = {}


def register_reader(
    factory: Callable[[], FormatReader],
    serdes: tuple[str, ...] = (),
    input_formats: tuple[str, ...] = (),
    framing_input_formats: tuple[str, ...] = (),
) -> None:
    """Add a format lakebox does not know: a plugin with these names, read by ``factory``.
    ``framing_input_formats`` win over the table's SerDe (see ``FormatPlugin``)."""
    name = (serdes or input_formats or framing_input_formats)[0]
    register_plugin(
        FormatPlugin(
            name,
            serdes=serdes,
            input_formats=input_formats,
            framing_input_formats=framing_input_formats,
        )
    )
    _EXTRA[name] = factory


def reader_for(table: Table) -> FormatReader:
    """The DuckDB reader of the table's format plugin (``lakebox.formats.format_for``)."""
    from lakebox.engine.duckdb.formats import builtin_readers

    plugin = format_for(table)
    factory = _EXTRA.get(plugin.name) or builtin_readers().get(plugin.name)
    if factory is None:
        raise UnsupportedError(
            f"format {plugin.name} of table {table.qualified_name} has no DuckDB reader"
        )
    return factory()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join(sql_string(v) for v in values) + "]"
