"""Sessions that run Athena SQL against a lake (``lakebox.lakehouse.Lakehouse``), and
what a statement's run reports back (``Result``) and is watched by (``ExecutionControl``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from sqlglot import exp

import lakebox.engine.compaction  # noqa: F401  (registers the compacted-copy scan rewriter)
from lakebox.catalog.model import Column
from lakebox.catalog.types import athena_type_from_arrow
from lakebox.engine import compaction
from lakebox.engine.duckdb.formats.base import ReadContext, quote_ident
from lakebox.errors import DataError, LakeboxError, SemanticError, UnsupportedError
from lakebox.sql import plancache
from lakebox.sql.planner import Plan, Planner, ScanStats

if TYPE_CHECKING:
    from lakebox.lakehouse import Lakehouse

_USE = re.compile(r"^\s*use\s+(?:`([^`]+)`|\"([^\"]+)\"|([A-Za-z0-9_]+))\s*;?\s*$", re.I | re.S)


@dataclass
class Result:
    """The outcome of one statement. ``kind`` is Athena's StatementType: DDL, DML or
    UTILITY. DDL results are text rows, as Athena returns them."""

    table: pa.Table
    kind: str = "DML"
    message: str = ""
    stats: ScanStats = field(default_factory=ScanStats)
    elapsed_ms: float = 0.0
    sql: str = ""
    column_types: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    @property
    def types(self) -> list[str]:
        """Athena type names of the result columns (varchar, bigint, decimal(38,0), ...)."""
        return self.column_types or [athena_type_from_arrow(f.type) for f in self.table.schema]

    @property
    def rowcount(self) -> int:
        return self.table.num_rows

    def to_arrow(self) -> pa.Table:
        return self.table

    def fetchall(self) -> list[tuple[Any, ...]]:
        cols = [c.to_pylist() for c in self.table.columns]
        return list(zip(*cols, strict=True)) if cols else []

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())

    def __len__(self) -> int:
        return self.table.num_rows


DEFAULT_OUTPUT_LOCATION = "s3://lakebox-query-results/"


class ExecutionControl:
    """Lets the query service watch and stop a running statement: cancel it, enforce a
    data-scanned cutoff while it runs, and measure the bytes the engine really read.

    Every engine statement that reads lake files runs inside ``reading``: the planned scan
    (its bytes add up) and planning passes over files the query reads anyway (a compacted
    copy's build, a JSON key scan: counted once, as far as the furthest pass got). While
    one runs, the watcher's ``check_progress`` takes as the bytes read so far the larger of
    the engine's progress x those bytes and, for the planned scan, what DuckDB's file-read
    log shows consumed (``_logged_read``), and interrupts the engine once they pass the
    cutoff; when a statement ends, the engine's profile says what it really read."""

    def __init__(
        self,
        cutoff_bytes: int | None = None,
        measure: bool = False,
        progress: bool = False,
        workgroup: str = "primary",
    ) -> None:
        self.cutoff_bytes = cutoff_bytes
        self.measure = measure
        self.workgroup = workgroup
        #: ask the engine for progress (a cutoff needs it; the CLI shows it)
        self.progress = progress or cutoff_bytes is not None
        self.stop_reason: str | None = None
        #: measured bytes of the planned scans that finished
        self.bytes_read = 0
        self.planned_bytes = 0
        #: bytes read so far as far as the engine's progress tells (passes and scans)
        self.estimate = 0.0
        #: the running statement's progress in percent (-1: none or unknown)
        self.percent = -1.0
        #: the cutoff was found crossed only once the engine had finished
        self.finished_over = False
        self._phase = 0
        self._phase_main = False
        self._rewritten = False
        #: a connection reading DuckDB's file-read log (``DuckDBEngine.logged_reads``)
        self.read_log: duckdb.DuckDBPyConnection | None = None
        self._con_id: int | None = None
        self._columnar: frozenset[str] = frozenset()
        self._sizes: dict[str, int] = {}
        #: Parquet copies the scan reads: their size and the original bytes they hold
        #: (None when unknown: a decoded Avro/Ion copy)
        self._copies: dict[str, tuple[int, int | None]] = {}
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Watch ``con`` from now on (before planning: planning passes read lake files)."""
        with self._lock:
            self._con = con
            self._phase = 0
            if self.measure:
                con.execute("SET enable_profiling = 'no_output'")
                con.execute("SET profiling_coverage = 'ALL'")
            if self.progress:
                con.execute("SET enable_progress_bar = true")
                con.execute("SET enable_progress_bar_print = false")
            if self.read_log is not None:
                found = con.execute("SELECT current_connection_id()").fetchall()
                self._con_id = int(found[0][0])
            if self.stop_reason:
                con.interrupt()

    def planned(self, stats: ScanStats, cache_files: list[str] | tuple[str, ...] = ()) -> None:
        """The plan is made: its scan reads ``stats.bytes`` of lake files, some of them
        through the Parquet copies among ``cache_files`` (compacted or decoded copies)."""
        self.planned_bytes = stats.bytes
        self._rewritten = bool(stats.rewritten)
        self._columnar = frozenset(stats.columnar)
        self._sizes = {f.engine_path: f.size for f in stats.data_files}
        self._copies = {}
        if self.read_log is None:
            return  # nothing reads the file-read log: no need to weigh the copies
        for path in cache_files:
            if path.endswith(".parquet"):
                with contextlib.suppress(OSError):
                    self._copies[path] = (os.path.getsize(path), compaction.source_bytes(path))

    def detach(self) -> None:
        with self._lock:
            self._con = None
            self._phase = 0

    @contextmanager
    def reading(self, nbytes: int | None = None) -> Iterator[None]:
        """Run one engine statement that reads lake files: ``nbytes`` of them for a planning
        pass, the planned scan when None."""
        main = nbytes is None
        size = self.planned_bytes if main else int(nbytes or 0)
        self.check_stop()
        with self._lock:
            self._phase, self._phase_main = size, main
        try:
            yield
        finally:
            with self._lock:
                self._phase = 0
                con = self._con
        got = _bytes_read(con) if self.measure and con is not None else 0
        if main:
            if self._rewritten:
                # a compacted copy stands for the original files: they count, not the copy
                got = max(got, size)
            self.bytes_read += got
        else:
            self.estimate = max(self.estimate, got)
        if self._over() and not self.stop_reason:
            self.finished_over = True  # over before the watcher could stop it
            self.stop(self.limit_message())
        self.check_stop()

    def stop(self, reason: str) -> None:
        """Interrupt the engine work (from any thread)."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
            if self._con is not None:
                self._con.interrupt()

    def interrupt_again(self) -> None:
        """Interrupt once more: a stop that lands between two statements, or just before
        the engine starts one, would otherwise be missed."""
        with self._lock:
            if self._con is not None and self.stop_reason:
                self._con.interrupt()

    def check_progress(self) -> float | None:
        """Bytes read so far (progress x the running statement's bytes, plus finished
        scans), stopping the query when they cross the cutoff. None when nothing runs."""
        with self._lock:
            con = self._con
            if con is None:
                return None
            progress = con.query_progress() if self.progress else -1.0
            phase, main = self._phase, self._phase_main
        self.percent = progress if phase else -1.0
        if phase:
            live = phase * min(progress, 100.0) / 100.0 if progress > 0 else 0.0
            if main:
                # DuckDB's progress moves per finished file or task: what its file-read
                # log shows consumed is often further along
                live = max(live, self._logged_read()) + self.bytes_read
            self.estimate = max(self.estimate, live)
        if self._over():
            self.stop(self.limit_message())
        return self.scanned()

    def _logged_read(self) -> int:
        """Bytes of the plan's files the engine has consumed so far, from DuckDB's file-read
        log for this connection: a columnar file by the bytes read from it (column chunks
        as row groups are read), any other file by its size once the engine closed it
        (read through; a row-format reader reads a whole buffer ahead, so an open file's
        reads say little about how far it got). A Parquet copy (compacted or decoded) counts
        the share of it read as that share of the original files it holds: an
        approximation (the copy's rows are the files' rows in order, so equal shares of
        either hold about the same rows), as fine as the copy's row groups, which DuckDB
        reads whole (``compaction.COPY_ROW_GROUP_ROWS`` rows, about a tenth of the smallest cutoff)."""
        log = self.read_log
        if log is None or self._con_id is None or not (self._sizes or self._copies):
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
            total += int(share * max(self.planned_bytes - known, 0))
        return min(total, self.planned_bytes)

    def scanned(self) -> int:
        """Bytes read so far, measured or estimated."""
        return max(self.bytes_read, int(self.estimate))

    def scanned_at_stop(self) -> int:
        """DataScannedInBytes of a stopped query: what it read before the engine stopped.
        One that crossed the cutoff only after the engine had finished (a read faster than
        the watcher's poll, typically from a compacted copy) is billed the cutoff, as Athena
        bills a query its cutoff stops."""
        if self.finished_over and self.cutoff_bytes is not None:
            return self.cutoff_bytes
        return self.scanned()

    def _over(self) -> bool:
        return self.cutoff_bytes is not None and self.scanned() > self.cutoff_bytes

    def limit_message(self) -> str:
        """Athena's reason for a query its workgroup's cutoff stopped, and what to do."""
        cutoff = self.cutoff_bytes or 0
        return (
            f"Bytes scanned limit was exceeded: the query read more than {cutoff} bytes, the "
            f"BytesScannedCutoffPerQuery of workgroup {self.workgroup}; filter on partition "
            "columns or read fewer columns, or raise the limit (lakebox workgroup update "
            f"{self.workgroup} --bytes-scanned-cutoff N)"
        )

    def check_stop(self) -> None:
        if self.stop_reason:
            raise self.stop_error()

    def stop_error(self) -> LakeboxError:
        return QueryStoppedError(self.stop_reason or "Query was cancelled")


def reading(control: ExecutionControl | None) -> AbstractContextManager[None]:
    """``control.reading()`` for the planned scan, or nothing when there is no control."""
    return control.reading() if control is not None else nullcontext()


class QueryStoppedError(LakeboxError):
    """A statement was cancelled by the user or by a workgroup limit."""

    code = "QueryCancelled"


@dataclass
class StatementContext:
    """What the query service tells a statement: its execution id (CTAS default locations
    and file names use it), where results go, and how to watch it."""

    query_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    output_location: str = DEFAULT_OUTPUT_LOCATION
    workgroup: str = "primary"
    control: ExecutionControl | None = None


@dataclass
class PlannedQuery:
    con: duckdb.DuckDBPyConnection
    sql: str
    stats: ScanStats
    names: list[str] | None
    ctx: ReadContext
    plan: Plan | None = None
    #: the catalog generation read before planning (None when the plan will not be kept)
    generation: int | None = None


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


def _is_write(tree: exp.Expression) -> bool:
    if isinstance(tree, exp.Create) and tree.args.get("expression") is not None:
        return True
    if isinstance(tree, exp.Insert):
        return True
    return isinstance(tree, exp.Command) and str(tree.this).upper() == "UNLOAD"


class Session:
    """Runs statements with a current database, like an Athena query context."""

    def __init__(self, lake: Lakehouse, database: str) -> None:
        self.lake = lake
        self.database = database.lower()

    # -- statements ---------------------------------------------------------------------
    def sql(self, text: str, context: StatementContext | None = None) -> Result:
        """Run one statement (a trailing ``;`` is fine). Use ``execute_script`` for many."""
        from lakebox.sql.split import split_statements

        statements = split_statements(text)
        if len(statements) != 1:
            if not statements:
                raise SemanticError("no statement to run")
            raise SemanticError(
                f"{len(statements)} statements given; run one at a time or use execute_script"
            )
        return self._run(statements[0].text, context or StatementContext())

    def execute_script(self, text: str) -> list[Result]:
        """Run a script statement by statement; stops at the first failure, naming it."""
        from lakebox.sql.split import split_statements

        results = []
        for st in split_statements(text):
            try:
                results.append(self._run(st.text, StatementContext()))
            except LakeboxError as err:
                err.message = f"statement starting at line {st.line}: {err.message}"
                raise
        return results

    def _run(self, text: str, context: StatementContext) -> Result:
        start = time.perf_counter()
        result = self._dispatch(text, context)
        result.elapsed_ms = (time.perf_counter() - start) * 1000
        result.sql = text
        return result

    def _dispatch(self, text: str, context: StatementContext) -> Result:
        from lakebox.catalog.ddl import parse_ddl
        from lakebox.catalog.ddl_exec import execute_ddl

        reused = self._run_cached(text, context)
        if reused is not None:
            return reused
        use = _USE.match(text)
        if use:
            name = next(g for g in use.groups() if g)
            self.lake.catalog.get_database(name)
            self.database = name.lower()
            return Result(pa.table({}), kind="UTILITY", message=f"database: {self.database}")
        stmt = parse_ddl(text)
        if stmt is not None:
            ddl = execute_ddl(
                stmt,
                self.lake.catalog,
                self.lake.storage,
                self.database,
                view_columns=self.view_columns,
            )
            arrays = {
                c: pa.array([r[i] for r in ddl.rows], pa.string())
                for i, c in enumerate(ddl.columns)
            }
            return Result(pa.table(arrays), kind="DDL", message=ddl.message)
        return self.query(text, context)

    def query(self, text: str, context: StatementContext | None = None) -> Result:
        """A query or a write (CTAS, INSERT INTO, UNLOAD)."""
        from lakebox.sql.dialect import parse_query

        context = context or StatementContext()
        tree = parse_query(text)
        if _is_write(tree):
            from lakebox.query.writers import execute_write

            outcome = execute_write(self, tree, text, context)
            return Result(outcome.table, kind="DML", stats=outcome.stats, message=outcome.message)
        if not isinstance(tree, exp.Query | exp.Values):
            kind = tree.key.upper()
            raise UnsupportedError(
                f"{kind} statements are not supported yet by this lakebox version"
            )
        return self._execute(tree, context, text)

    @contextmanager
    def planned(
        self,
        tree: exp.Expression,
        context: StatementContext | None = None,
        cache_key: str | None = None,
    ) -> Iterator[PlannedQuery]:
        """Plan ``tree`` on a private DuckDB connection whose scan views exist for the
        duration of the block: writers run ``COPY (<sql>) TO ...`` through it."""
        from lakebox.sql.dialect import result_column_names, to_duckdb

        context = context or StatementContext()
        con = self.lake.engine.cursor()
        control = context.control
        ctx = ReadContext(self.lake.storage, con, self.lake.config.cache_dir, meter=control)
        try:
            if control is not None:
                control.attach(con)  # planning may read lake files (copies, key scans)
            names = result_column_names(tree)
            keep = cache_key is not None and plancache.enabled()
            generation = self.lake.catalog.generation() if keep else None
            planner = Planner(self.lake.catalog, self.lake.storage, ctx, to_duckdb, _parse)
            try:
                plan = planner.plan(tree, self.database, cache_key)
            except Exception as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                raise
            if control is not None:
                control.planned(plan.stats, ctx.cache_files)
                control.check_stop()
            sql = with_views(plan.sql, plan.views)
            try:
                yield PlannedQuery(con, sql, plan.stats, names, ctx, plan, generation)
            except LakeboxError:
                raise
            except Exception as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                if isinstance(err, duckdb.BinderException):
                    unresolved = plan.unresolved_column()
                    if unresolved:
                        raise SemanticError(unresolved) from err
                raise _engine_error(err, plan.stats, ctx) from err
        finally:
            if control is not None:
                control.detach()
            ctx.release()
            con.close()

    def _execute(
        self,
        tree: exp.Expression,
        context: StatementContext | None = None,
        text: str | None = None,
    ) -> Result:
        with self.planned(tree, context, cache_key=text) as q:
            with reading(context.control if context is not None else None):
                table = _fetch(q.con, q.sql) if q.sql else pa.table({})
            if text is not None:
                self._keep_plan(text, q)
            if q.names is not None and len(q.names) == table.num_columns:
                table = table.rename_columns(q.names)
            return Result(table, kind="DML", stats=q.stats)

    def _keep_plan(self, text: str, q: PlannedQuery) -> None:
        """Remember a plan that just ran, when everything it depends on can be checked."""
        plan = q.plan
        if plan is None or q.generation is None or not plan.reusable or not q.sql:
            return
        if not all(isinstance(obj, pa.Table) for obj in q.ctx.objects.values()):
            return  # a one-shot reader (a stream of batches) cannot be scanned again
        self.lake.plans.put(
            self.lake.plans.key(text, self.database),
            plancache.CachedPlan(
                q.sql,
                q.names,
                q.stats.copy(),
                q.generation,
                tuple(plan.listings),
                tuple(q.ctx.cache_files),
                tuple(q.ctx.objects.items()),
            ),
        )

    def _run_cached(self, text: str, context: StatementContext) -> Result | None:
        """Run ``text`` from its kept plan when that plan is still current; None when
        there is none (or it turned out stale while running): plan it then."""
        if not plancache.enabled() or not len(self.lake.plans):
            return None
        plans = self.lake.plans
        key = plans.key(text, self.database)
        plan = plans.get(key, self.lake.catalog, self.lake.storage)
        if plan is None:
            return None
        con = self.lake.engine.cursor()
        control = context.control
        ctx = ReadContext(self.lake.storage, con, self.lake.config.cache_dir, meter=control)
        stats = plan.stats.copy()
        try:
            for name, obj in plan.objects:
                ctx.register_as(name, obj)
            if control is not None:
                control.attach(con)
                control.planned(stats, plan.cache_files)
                control.check_stop()
            try:
                with reading(control):
                    table = _fetch(con, plan.sql)
            except duckdb.Error as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                plans.discard(key)  # e.g. a cache file removed after the check: plan again
                return None
            if plan.names is not None and len(plan.names) == table.num_columns:
                table = table.rename_columns(plan.names)
            return Result(table, kind="DML", stats=stats)
        finally:
            if control is not None:
                control.detach()
            ctx.release()
            con.close()

    def view_columns(self, select_sql: str, database: str) -> list[Column]:
        """The columns a view's SELECT produces (Athena validates a view at CREATE)."""
        from lakebox.sql.dialect import parse_query

        tree = parse_query(select_sql)
        if not isinstance(tree, exp.Query):
            raise SemanticError("a view must be defined by a query")
        saved, self.database = self.database, database
        try:
            limited = tree.copy()
            if isinstance(limited, exp.Select | exp.Union):
                limited = exp.select("*").from_(limited.subquery("v")).limit(0)
            result = self._execute(limited)
        finally:
            self.database = saved
        return [
            Column(name, _hive_from_athena(t))
            for name, t in zip(result.columns, result.types, strict=True)
        ]

    # -- convenience --------------------------------------------------------------------
    def tables(self, database: str | None = None) -> list[str]:
        return [t.name for t in self.lake.catalog.list_tables(database or self.database)]


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
    return rel.to_arrow_table()


def _parse(sql: str) -> exp.Expression:
    from lakebox.sql.dialect import parse_query

    return parse_query(sql)


def _engine_error(err: Exception, stats: ScanStats, ctx: ReadContext) -> LakeboxError:
    from lakebox.engine.duckdb.formats.text import data_error_from_duckdb

    named = data_error_from_duckdb(err, ctx, stats.data_files)
    if named is not None:
        return named
    from lakebox.engine.messages import engine_message

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


def _hive_from_athena(name: str) -> str:
    simple = {
        "varchar": "string",
        "integer": "int",
        "real": "float",
        "varbinary": "binary",
        "timestamp with time zone": "timestamp",
        "unknown": "string",
    }
    if name in simple:
        return simple[name]
    if name.startswith("array(") and name.endswith(")"):
        return f"array<{_hive_from_athena(name[6:-1])}>"
    if name.startswith(("map(", "row(")):
        return "string"  # nested view column types are informational only
    return name
