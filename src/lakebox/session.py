"""The lake service: one object that owns storage, catalog and engine, and sessions that
run Athena SQL against it. The CLI, the DB-API module, the server and workflow tasks are
thin shells over ``Lake`` and ``Session``.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

import lakebox.engine.compaction  # noqa: F401  (registers the compacted-copy scan rewriter)
from lakebox.catalog.model import Column, Database
from lakebox.catalog.store import CatalogStore, SQLiteCatalogStore
from lakebox.catalog.types import athena_type_from_arrow
from lakebox.config import LakeConfig, S3Settings
from lakebox.engine import DuckDBEngine
from lakebox.errors import DataError, LakeboxError, SemanticError, UnsupportedError
from lakebox.formats.base import ReadContext, quote_ident
from lakebox.sql import plancache
from lakebox.sql.planner import Plan, Planner, ScanStats
from lakebox.storage import Storage

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
    data-scanned cutoff while it runs, and measure the bytes the engine really read."""

    def __init__(self, cutoff_bytes: int | None = None, measure: bool = False) -> None:
        self.cutoff_bytes = cutoff_bytes
        self.measure = measure
        self.stop_reason: str | None = None
        self.bytes_read = 0
        self.planned_bytes = 0
        self.estimate = 0.0
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def attach(self, con: duckdb.DuckDBPyConnection, stats: ScanStats) -> None:
        with self._lock:
            self._con = con
            self.planned_bytes = stats.bytes
            if self.measure:
                con.execute("SET enable_profiling = 'no_output'")
                con.execute("SET profiling_coverage = 'ALL'")
            if self.cutoff_bytes is not None:
                con.execute("SET enable_progress_bar = true")
                con.execute("SET enable_progress_bar_print = false")
            if self.stop_reason:
                con.interrupt()

    def detach(self) -> None:
        with self._lock:
            con, self._con = self._con, None
        if con is not None and self.measure and self.stop_reason is not None:
            # an interrupted statement leaves no profile: count what progress says it read
            self.bytes_read = max(self.bytes_read, int(self.estimate))

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        """Add what the statement just run on ``con`` read (call after each statement that
        scans lake data: the profiler only keeps the last one)."""
        if self.measure:
            self.bytes_read += _bytes_read(con)

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
        """Estimated bytes scanned so far (progress x planned bytes), stopping the query
        when it crosses the cutoff. None when nothing is running."""
        with self._lock:
            con = self._con
            if con is None:
                return None
            progress = con.query_progress()
        if progress < 0:
            return 0.0
        estimate = self.planned_bytes * min(progress, 100.0) / 100.0
        self.estimate = max(self.estimate, estimate)
        if self.cutoff_bytes is not None and estimate > self.cutoff_bytes:
            self.stop(
                f"Query exhausted the data scanned limit of {self.cutoff_bytes} bytes "
                "(BytesScannedCutoffPerQuery)"
            )
        return estimate

    def stop_error(self) -> LakeboxError:
        return QueryStoppedError(self.stop_reason or "Query was cancelled")


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


class Lake:
    """One lake: configuration, storage, catalog and engine. Thread-safe; open sessions
    with ``session()`` (or ``lakebox.connect``)."""

    def __init__(self, config: LakeConfig, catalog: CatalogStore | None = None) -> None:
        self.config = config
        self.storage = Storage(config)
        config.metadata_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = catalog or SQLiteCatalogStore(config.metadata_dir / "catalog.sqlite")
        self.engine = DuckDBEngine(self.storage)
        #: plans of repeated SELECTs, reused while their inputs are unchanged
        self.plans = plancache.PlanCache()
        if not self.catalog.database_exists(config.default_database):
            self.catalog.create_database(
                Database(config.default_database, description="Default database"),
                if_not_exists=True,
            )
        from lakebox.query.journal import recover_writes

        recover_writes(self)

    def session(self, database: str | None = None) -> Session:
        return Session(self, database or self.config.default_database)

    def close(self) -> None:
        self.engine.close()


class Session:
    """Runs statements with a current database, like an Athena query context."""

    def __init__(self, lake: Lake, database: str) -> None:
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

            return execute_write(self, tree, text, context)
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
        ctx = ReadContext(self.lake.storage, con, self.lake.config.cache_dir)
        control = context.control
        try:
            names = result_column_names(tree)
            keep = cache_key is not None and plancache.enabled()
            generation = self.lake.catalog.generation() if keep else None
            planner = Planner(self.lake.catalog, self.lake.storage, ctx, to_duckdb, _parse)
            plan = planner.plan(tree, self.database, cache_key)
            if control is not None:
                control.attach(con, plan.stats)
                if control.stop_reason:
                    raise control.stop_error()
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
            table = _fetch(q.con, q.sql) if q.sql else pa.table({})
            if context is not None and context.control is not None:
                context.control.record(q.con)
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
        ctx = ReadContext(self.lake.storage, con, self.lake.config.cache_dir)
        control = context.control
        stats = plan.stats.copy()
        try:
            for name, obj in plan.objects:
                ctx.register_as(name, obj)
            if control is not None:
                control.attach(con, stats)
                if control.stop_reason:
                    raise control.stop_error()
            try:
                table = _fetch(con, plan.sql)
            except duckdb.Error as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                plans.discard(key)  # e.g. a cache file removed after the check: plan again
                return None
            if control is not None:
                control.record(con)
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
    from lakebox.formats.text import data_error_from_duckdb

    named = data_error_from_duckdb(err, ctx, stats.data_files)
    if named is not None:
        return named
    text = str(err)
    lowered = text.lower()
    for uri in stats.file_uris:
        tail = uri.rsplit("/", 1)[-1]
        if tail and tail in text:
            line = re.search(r"line[: ]+(\d+)", text, re.I)
            return DataError(
                f"cannot read data: {text.splitlines()[0]}",
                uri,
                int(line.group(1)) if line else None,
            )
    stream_or_parquet = "registered as '__lakebox_" in text or "parquet metadata" in lowered
    if stream_or_parquet and len(stats.file_uris) == 1:
        # a reader's Arrow stream (ORC, Avro, Ion) or DuckDB's Parquet reader failed on the
        # scan's only file without naming it
        return DataError(f"cannot read data: {text.splitlines()[0]}", stats.file_uris[0])
    if "binder error" in lowered or "catalog error" in lowered:
        return SemanticError(
            text.split("\n")[0].replace("Binder Error: ", "").replace("Catalog Error: ", "")
        )
    if "conversion error" in lowered or "invalid input" in lowered:
        return DataError(text.split("\n")[0])
    return SemanticError(text.split("\n")[0])


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


def connect(
    home: str | os.PathLike[str] | None = None,
    *,
    database: str = "default",
    storage: str | None = None,
    s3_endpoint: str | None = None,
    region: str | None = None,
) -> Session:
    """Open (creating if needed) the lake at ``home`` (default ``$LAKEBOX_HOME`` or
    ``./.lakebox``) and return a session whose current database is ``database``."""
    s3 = S3Settings.from_env()
    if s3_endpoint or region:
        s3 = S3Settings(
            endpoint_url=s3_endpoint or s3.endpoint_url,
            region=region or s3.region,
            access_key_id=s3.access_key_id,
            secret_access_key=s3.secret_access_key,
            session_token=s3.session_token,
            profile=s3.profile,
        )
    config = LakeConfig.from_env(home=Path(home) if home else None, storage=storage, s3=s3)
    return Lake(config).session(database)
