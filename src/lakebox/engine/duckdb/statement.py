"""One statement on the DuckDB engine: a private cursor, what is registered on it, the
compiled query and how a watcher follows it.

Compiling a plan writes each scan as DuckDB SQL (``scans``) and the query tree with
``translate.to_duckdb``, then joins them into one statement with the scans as leading
CTEs. The translation of a plan with a ``key`` is kept (``_TRANSLATIONS``): a repeated
statement skips sqlglot's generator.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb
import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.catalog.types import duckdb_type
from lakebox.engine.base import CompiledQuery, EngineStatement, ExecutionWatch, TableWrite
from lakebox.engine.duckdb import compaction, rules
from lakebox.engine.duckdb.footer_counts import footer_count
from lakebox.engine.duckdb.formats.base import ReadContext, quote_ident
from lakebox.engine.duckdb.rules.temporal import result_table
from lakebox.engine.duckdb.scans import compile_scan
from lakebox.engine.duckdb.translate import to_duckdb
from lakebox.errors import DataError, LakeboxError, ResourceLimitError, SemanticError
from lakebox.sql.plan import PSEUDO_COLUMNS, Plan, ScanStats, partition_value
from lakebox.storage import Storage

if TYPE_CHECKING:
    from lakebox.formats.writing import WriteTarget

#: translated SQL of recent plans and the rules' functions it calls, by ``Plan.key``
#: (statement, database, catalog generation, scan columns, principal, policy version)
_TRANSLATIONS: OrderedDict[tuple[object, ...], tuple[str, frozenset[str]]] = OrderedDict()
_TRANSLATIONS_SIZE = 256
_TRANSLATIONS_LOCK = threading.Lock()


@dataclass(frozen=True)
class DuckDBQuery(CompiledQuery):
    """One DuckDB statement, and the Arrow objects it scans by name."""

    sql: str
    cache_files: tuple[str, ...] = ()
    #: registered again on the cursor of every later run
    objects: tuple[tuple[str, Any], ...] = ()
    #: DuckDB variables the SQL reads, set again on the cursor of every later run
    variables: tuple[tuple[str, Any], ...] = ()
    #: reads files a compacted copy being built will serve (``ReadContext.provisional``)
    provisional: bool = False
    #: the rules' macros and UDFs the SQL calls (``rules.called_functions``), created on
    #: the database before it runs
    functions: frozenset[str] = frozenset()
    #: bytes of Parquet footers read to answer it without DuckDB reading the files
    #: (``footer_counts``): what such a query scanned
    footer_bytes: int = 0

    @property
    def reusable(self) -> bool:
        # a one-shot reader (a stream of batches) cannot be scanned again; a provisional
        # plan kept would go on reading the files once the copy exists
        return not self.provisional and all(isinstance(obj, pa.Table) for _, obj in self.objects)


class DuckDBStatement(EngineStatement):
    """A private cursor of the lake's database; its registrations vanish with it."""

    errors: ClassVar[tuple[type[BaseException], ...]] = (duckdb.Error,)

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        storage: Storage,
        cache_dir: Path,
        watch: ExecutionWatch | None = None,
        copies: compaction.CopyBuilder | None = None,
        functions: Callable[[frozenset[str]], None] | None = None,
        writer: WriterConnection | None = None,
    ) -> None:
        #: the connection the statement runs on: the lake's cursor, then a write's own
        #: (``open_write``); what ``interrupt``, ``progress`` and the measures follow
        self.con = con
        #: creates the rules' functions a query calls on the database (the engine's
        #: ``ensure_functions``); None: the connection was made with all of them
        self._functions = functions
        #: a connection of the writer's database for a write (the engine's
        #: ``write_cursor``); None: a write runs on ``con``
        self._writer = writer
        #: the write's connection, what is registered on it, its file-read log reader
        self._write_ctx: ReadContext | None = None
        self._write_log: duckdb.DuckDBPyConnection | None = None
        self._closing = ExitStack()
        #: held while the watcher reads the write's log, and while the write's log is let
        #: go: DuckDB refuses to close a connection another thread is running a call on
        self._log_lock = threading.Lock()
        self.watch = watch
        self.ctx = ReadContext(storage, con, cache_dir, background=copies)
        #: the lake's copy builder, told while this statement runs (builds wait for it)
        self._builder = copies
        if copies is not None:
            copies.query_started()
        #: what ``consumed`` weighs the file-read log with (set once compiled)
        self._planned_bytes = 0
        #: Parquet footers read to answer the query (``DuckDBQuery.footer_bytes``)
        self._footer_bytes = 0
        self._con_id: int | None = None
        self._columnar: frozenset[str] = frozenset()
        self._sizes: dict[str, int] = {}
        #: Parquet copies the scan reads: their size and the original bytes they hold
        #: (None when unknown: a decoded Avro/Ion copy)
        self._copies: dict[str, tuple[int, int | None]] = {}
        if watch is not None:
            self._con_id = _watched(con, watch)
            watch.attach(self)

    # -- planning ---------------------------------------------------------------------
    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        """Decided by DuckDB over a small typed table of partition values (exact,
        whatever the predicate)."""
        keys = table.partition_keys
        arrays = {"__idx": pa.array(range(len(values)), pa.int64())}
        for i, k in enumerate(keys):
            arrays[k.name.lower()] = pa.array([partition_value(v[i]) for v in values], pa.string())
        name = self.ctx.register(pa.table(arrays), "parts")
        typed = ", ".join(
            f"TRY_CAST({quote_ident(k.name.lower())} AS {_key_type(k.type)}) "
            f"AS {quote_ident(k.name.lower())}"
            for k in keys
        )
        condition = to_duckdb(predicate, {})
        sql = f"SELECT __idx FROM (SELECT __idx, {typed} FROM {name}) WHERE {condition}"
        try:
            self._ensure(rules.called_functions(condition))
            rows = self.con.sql(sql).fetchall()
        except Exception:
            return set(range(len(values)))
        return {int(r[0]) for r in rows}

    def compile(self, plan: Plan) -> DuckDBQuery:
        counted = footer_count(plan)
        if counted is not None:  # a row count of Parquet files: their footers say it
            query = DuckDBQuery(to_duckdb(counted.tree), footer_bytes=counted.bytes_read)
            self._planned(plan.stats, ())
            self._footer_bytes = counted.bytes_read
            return query
        views: list[tuple[str, str]] = []
        for scan in plan.scans:
            sql = compile_scan(self.ctx, scan, plan.stats)
            if sql is not None:
                views.append((scan.name, sql))
        translated, functions = _translate(plan)
        query = DuckDBQuery(
            with_views(translated, views),
            tuple(self.ctx.cache_files),
            tuple(self.ctx.objects.items()),
            tuple(self.ctx.variables.items()),
            self.ctx.provisional,
            functions,
        )
        self._planned(plan.stats, query.cache_files)
        return query

    def restore(self, query: CompiledQuery, stats: ScanStats) -> None:
        assert isinstance(query, DuckDBQuery)
        for name, obj in query.objects:
            self.ctx.register_as(name, obj)
        for name, value in query.variables:
            self.ctx.set_variable(name, value)
        self._footer_bytes = query.footer_bytes
        self._planned(stats, query.cache_files)

    def _planned(self, stats: ScanStats, cache_files: tuple[str, ...]) -> None:
        """The scan reads ``stats.bytes`` of lake files, some of them through the Parquet
        copies among ``cache_files`` (compacted or decoded copies)."""
        watch = self.watch
        if watch is None:
            return
        self._planned_bytes = stats.bytes
        self._columnar = frozenset(stats.columnar)
        self._sizes = {f.engine_path: f.size for f in stats.data_files}
        self._copies = {}
        if watch.read_log is not None:  # only the file-read log needs the copies weighed
            for path in cache_files:
                if path.endswith(".parquet"):
                    with contextlib.suppress(OSError):
                        self._copies[path] = (
                            os.path.getsize(path),
                            compaction.source_bytes(path),
                        )
        watch.planned(stats)

    # -- running ----------------------------------------------------------------------
    def _ensure(self, functions: frozenset[str]) -> None:
        if self._functions is not None and functions:
            self._functions(functions)

    def run(self, query: CompiledQuery) -> pa.Table:
        assert isinstance(query, DuckDBQuery)
        self._ensure(query.functions)
        with self._reading():
            try:
                return _fetch(self.con, query.sql)
            except duckdb.Error as err:
                from lakebox.engine.duckdb.formats import text

                if not text.needs_csv_fallback(err):
                    raise
            # a line too long for DuckDB's defaults, or a quoted line break in an OpenCSV
            # file: the same statement, on the CSV fallback (formats.text.CSV_FALLBACK)
            self.con.execute(text.SET_CSV_FALLBACK)
            try:
                return _fetch(self.con, query.sql)
            finally:
                self.con.execute(text.RESET_CSV_FALLBACK)

    def _reading(self) -> AbstractContextManager[None]:
        return self.watch.reading() if self.watch is not None else nullcontext()

    def error(self, err: Exception, plan: Plan) -> LakeboxError:
        from lakebox.engine.duckdb.formats.parquet import footer_error

        # a Parquet file DuckDB cannot read, among files whose footers were compared here
        # and not read by DuckDB before the query, fails it as that reading would have
        found = footer_error(self.ctx)
        if found is not None:
            return found
        if isinstance(err, duckdb.BinderException):
            # Trino's words for a name that two joined relations both have
            ambiguous = _AMBIGUOUS.search(str(err))
            if ambiguous:
                return SemanticError(f"Column '{ambiguous.group(1)}' is ambiguous")
            unresolved = plan.unresolved_column()
            if unresolved:
                return SemanticError(unresolved)
        return _engine_error(err, plan.stats, self.ctx)

    # -- writes -----------------------------------------------------------------------
    def open_write(self, query: CompiledQuery, storage: Storage, target: WriteTarget) -> TableWrite:
        from lakebox.engine.duckdb.formats import text
        from lakebox.engine.duckdb.write import DuckDBWrite

        assert isinstance(query, DuckDBQuery)
        if self._writer is None:
            self._ensure(query.functions)
        else:
            self._to_writer(query)
        # a write is not run again: it reads CSV on the fallback from the start
        self.con.execute(text.SET_CSV_FALLBACK)
        return DuckDBWrite(self.con, query.sql, storage, self.watch, target)

    def _to_writer(self, query: DuckDBQuery) -> None:
        """Go on on a connection of the writer's database (a database without DuckDB's
        async I/O threads, where an interrupted ``COPY`` cannot deadlock: the engine's
        ``write_cursor`` says why), with what the query registered on the lake's cursor
        registered again, as a cached plan does (``restore``). From here the statement's
        ``con``, so a cancel or a cutoff interrupts the write's ``COPY`` and the watch
        measures it; the lake's cursor stays open until ``close`` (``error`` reads what
        planning found)."""
        assert self._writer is not None
        watch = self.watch
        logged = watch is not None and watch.read_log is not None
        con, log = self._closing.enter_context(self._writer(query.functions, logged))
        self._closing.callback(self._let_go_of_write_log)  # runs before the log is closed
        self._closing.callback(con.close)
        ctx = ReadContext(self.ctx.storage, con, self.ctx.cache_dir)
        self._closing.callback(ctx.release)
        for name, obj in query.objects:
            ctx.register_as(name, obj)
        for name, value in query.variables:
            ctx.set_variable(name, value)
        con_id = _watched(con, watch) if watch is not None else None
        self._write_ctx, self._write_log = ctx, log
        self._con_id = con_id
        self.con = con

    # -- watched ----------------------------------------------------------------------
    def interrupt(self) -> None:
        # a write's COPY runs on the writer's database, where an interrupt cannot leave it
        # waiting forever for DuckDB's async writes (``DuckDBEngine.write_cursor``)
        self.con.interrupt()

    def progress(self) -> float:
        return float(self.con.query_progress())

    def bytes_read(self) -> int:
        return _bytes_read(self.con) + self._footer_bytes

    def consumed(self) -> int:
        """Bytes of the plan's files the engine has consumed so far, from DuckDB's file-read
        log for this connection: a columnar file by the bytes read from it (column chunks
        as row groups are read), any other file by its size once the engine closed it
        (read through; a row-format reader reads a whole buffer ahead, so an open file's
        reads say little about how far it got). A Parquet copy (compacted or decoded) counts
        the share of it read as that share of the original files it holds: an
        approximation (the copy's rows are the files' rows in order, so equal shares of
        either hold about the same rows), as fine as the copy's row groups, which DuckDB
        reads whole (``compaction.COPY_ROW_GROUP_ROWS`` rows, about a tenth of the smallest
        cutoff)."""
        if self._write_ctx is not None:  # a write: its database's own log
            with self._log_lock:
                return self._consumed(self._write_log)
        return self._consumed(self.watch.read_log if self.watch is not None else None)

    def _let_go_of_write_log(self) -> None:
        with self._log_lock:
            self._write_log = None

    def _consumed(self, log: object) -> int:
        if not isinstance(log, duckdb.DuckDBPyConnection) or self._con_id is None:
            return 0
        if not (self._sizes or self._copies):
            return 0
        try:
            rows = log.execute(
                "SELECT message::JSON->>'path', bool_or(message::JSON->>'op' = 'CLOSE'),"
                " sum(TRY_CAST(message::JSON->>'bytes' AS BIGINT))"
                " FROM duckdb_logs WHERE type = 'FileSystem' AND connection_id = ? GROUP BY ALL",
                [self._con_id],
            ).fetchall()
        except duckdb.Error:
            return 0
        total = unknown_read = 0
        for path, closed, nbytes in rows:
            if path in self._columnar:
                total += int(nbytes or 0)
            elif path in self._copies:
                size, source = self._copies[path]
                if source is None:
                    unknown_read += int(nbytes or 0)
                else:
                    # the share of the copy read, as that share of the files it holds
                    total += int(min(int(nbytes or 0) / max(size, 1), 1.0) * source)
            elif closed and path in self._sizes:
                total += self._sizes[path]
        if unknown_read:
            # copies of unknown origin together stand for the planned bytes no other copy
            # accounts for
            known = sum(src for _, src in self._copies.values() if src is not None)
            unknown = sum(size for size, src in self._copies.values() if src is None)
            share = min(unknown_read / max(unknown, 1), 1.0)
            total += int(share * max(self._planned_bytes - known, 0))
        return min(total, self._planned_bytes)

    # -- life -------------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self.watch is not None:
                self.watch.detach()
            self.ctx.release(closing=True)  # its cursor is closed below
        finally:
            try:
                self._closing.close()  # a write's connection, registrations and log
            finally:
                self.ctx.con.close()
                builder, self._builder = self._builder, None
                if builder is not None:
                    builder.query_finished()


#: the engine's ``write_cursor``: for the rules' functions a write calls and whether its
#: reads are logged, a connection of the writer's database and its log reader
WriterConnection = Callable[
    [frozenset[str], bool],
    AbstractContextManager[tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyConnection | None]],
]


def _watched(con: duckdb.DuckDBPyConnection, watch: ExecutionWatch) -> int | None:
    """Set ``con`` up for what ``watch`` asks (measures, progress); its id in the file-read
    log when the watch reads that log."""
    if watch.measure:
        con.execute("SET enable_profiling = 'no_output'")
        con.execute("SET profiling_coverage = 'ALL'")
    if watch.progress:
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
    if watch.read_log is None:
        return None
    found = con.execute("SELECT current_connection_id()").fetchall()
    return int(found[0][0])


def _key_type(hive_type: str) -> str:
    """The DuckDB type of a partition key, or of a pseudo-column the planner asks about
    like one (``$file_modified_time`` has a type no Hive column has)."""
    if hive_type == PSEUDO_COLUMNS["$file_modified_time"]:
        return "TIMESTAMPTZ"
    return duckdb_type(hive_type)


def _translate(plan: Plan) -> tuple[str, frozenset[str]]:
    """The plan's query as DuckDB SQL and the rules' functions that SQL calls (the scans'
    SQL, written by the format readers, calls none of them)."""
    key = plan.key
    if key is not None:
        with _TRANSLATIONS_LOCK:
            found = _TRANSLATIONS.get(key)
            if found is not None:
                _TRANSLATIONS.move_to_end(key)
                return found
    sql = to_duckdb(plan.tree, plan.schema)
    translated = (sql, rules.called_functions(sql))
    if key is not None:
        with _TRANSLATIONS_LOCK:
            _TRANSLATIONS[key] = translated
            while len(_TRANSLATIONS) > _TRANSLATIONS_SIZE:
                _TRANSLATIONS.popitem(last=False)
    return translated


_AMBIGUOUS = re.compile(r'Ambiguous reference to column name "([^"]+)"')
_ALLOCATION = re.compile(r"\((\S+ \w+/\S+ \w+) used\)")

_WITH = re.compile(r"\s*WITH\s+(RECURSIVE\s+)?", re.I)


def with_views(sql: str, views: list[tuple[str, str]]) -> str:
    """The planned query with its scan views as leading CTEs: one statement, bound once
    (temporary views cost an extra bind of every scan, ~1 ms a query)."""
    if not views:
        return sql
    ctes = ", ".join(f"{name} AS NOT MATERIALIZED ({body})" for name, body in views)
    found = _WITH.match(sql)
    if found:
        return f"WITH {found.group(1) or ''}{ctes}, {sql[found.end() :]}"
    return f"WITH {ctes} {sql}"


def _bytes_read(con: duckdb.DuckDBPyConnection) -> int:
    try:
        info = json.loads(con.get_profiling_information(format="json"))
    except (duckdb.Error, ValueError):
        return 0
    return int(info.get("io", {}).get("total_bytes_read", 0) or 0)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """Run planned SQL. DuckDB widens integer sums to HUGEINT; Trino keeps BIGINT (and
    fails on overflow), so such columns are narrowed back."""
    rel = con.sql(sql)
    wide = [
        c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) in ("HUGEINT", "UHUGEINT")
    ]
    if wide:
        casts = ", ".join(f"CAST({quote_ident(c)} AS BIGINT) AS {quote_ident(c)}" for c in wide)
        rel = rel.project(f"* REPLACE ({casts})")
    return result_table(rel.to_arrow_table())


def _engine_error(err: Exception, stats: ScanStats, ctx: ReadContext) -> LakeboxError:
    from lakebox.engine.duckdb.formats import json as json_format
    from lakebox.engine.duckdb.formats.text import data_error_from_duckdb

    named = json_format.data_error(err, ctx, stats.data_files) or data_error_from_duckdb(
        err, ctx, stats.data_files
    )
    if named is not None:
        return named
    from lakebox.engine.duckdb.messages import engine_message

    if isinstance(err, duckdb.OutOfMemoryException):
        # Athena's words for a query over its memory; nothing of DuckDB's advice
        detail = _ALLOCATION.search(str(err))
        return ResourceLimitError(
            "EXCEEDED_LOCAL_MEMORY_LIMIT: Query exceeded the engine's memory limit"
            + (f" ({detail.group(1)} in use)" if detail else "")
            + "; give it more with LAKEBOX_MEMORY_LIMIT, or read less at once"
        )
    text = str(err)
    lowered = text.lower()
    message = engine_message(text)
    for uri in stats.file_uris:
        tail = uri.rsplit("/", 1)[-1]
        if tail and tail in text:
            line = re.search(r"line[: ]+(\d+)", text, re.I)
            # the file is named by its lake URI: drop the engine's local path to it
            local = re.compile(r":?\s*\S*" + re.escape(tail) + r"\S*")
            return DataError(
                f"cannot read data: {local.sub('', message).strip() or message}",
                uri,
                int(line.group(1)) if line else None,
            )
    if message.startswith(("DIVISION_BY_ZERO:", "FUNCTION_NOT_FOUND:")):
        return SemanticError(message)
    stream_or_parquet = "registered as '__lakebox_" in text or "parquet metadata" in lowered
    if stream_or_parquet and len(stats.file_uris) == 1:
        # a reader's Arrow stream (ORC, Avro, Ion) or DuckDB's Parquet reader failed on the
        # scan's only file without naming it
        return DataError(f"cannot read data: {message.splitlines()[0]}", stats.file_uris[0])
    if "conversion error" in lowered or "invalid input" in lowered:
        return DataError(message)
    return SemanticError(message)
