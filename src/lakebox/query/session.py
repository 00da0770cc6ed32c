"""Sessions that run Athena SQL against a lake (``lakebox.query.lake.LakeParts``; the
composition root ``lakebox.lakehouse.Lakehouse`` is one), and
what a statement's run reports back (``Result``) and is watched by (``ExecutionControl``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import athena_type_from_arrow, hive_type_from_athena
from lakebox.engine.base import CompiledQuery, EngineStatement, RunningStatement
from lakebox.errors import LakeboxError, SemanticError, UnsupportedError
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.sql import plancache
from lakebox.sql.access import (
    OPEN_ACCESS,
    PlanCheck,
    RecordingAccess,
    TableAccess,
    WriteRequest,
    replay_checks,
)
from lakebox.sql.access import request as access_request
from lakebox.sql.dialects import front_end
from lakebox.sql.lexer import split_statements
from lakebox.sql.planner import Plan, Planner, ScanStats
from lakebox.sql.statements import (
    CreateTableAs,
    DdlStatement,
    InsertInto,
    Query,
    Statement,
    Unload,
    Unsupported,
    Use,
)

if TYPE_CHECKING:
    from lakebox.catalog.permissions import LakePermissions
    from lakebox.catalog.store import CatalogStore
    from lakebox.catalog.visibility import Visibility
    from lakebox.config import LakeConfig
    from lakebox.engine.base import Engine
    from lakebox.query.writers import WriteJob
    from lakebox.sql.plancache import PlanCache
    from lakebox.storage import Storage


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
    #: a write's data manifest (CTAS, INSERT, UNLOAD): Athena's DataManifestLocation
    manifest: str | None = None

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
    the engine's progress x those bytes and, for the planned scan, what the engine says it
    consumed of the planned files (``RunningStatement.consumed``), and interrupts the
    engine once they pass the cutoff; when a statement ends, the engine's measure says
    what it really read. Engine-neutral: the engine attaches its ``RunningStatement``."""

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
        #: the engine's file-read log reader (``Engine.logged_reads``), while one is open
        self.read_log: object | None = None
        self._lock = threading.Lock()
        self._statement: RunningStatement | None = None

    def attach(self, statement: RunningStatement) -> None:
        """Watch ``statement`` from now on (before planning: planning passes read lake
        files)."""
        with self._lock:
            self._statement = statement
            self._phase = 0
            if self.stop_reason:
                statement.interrupt()

    def planned(self, stats: ScanStats) -> None:
        """The plan is compiled: its scan reads ``stats.bytes`` of lake files."""
        self.planned_bytes = stats.bytes
        self._rewritten = bool(stats.rewritten)

    def detach(self) -> None:
        with self._lock:
            self._statement = None
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
                statement = self._statement
        got = statement.bytes_read() if self.measure and statement is not None else 0
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
            if self._statement is not None:
                self._statement.interrupt()

    def interrupt_again(self) -> None:
        """Interrupt once more: a stop that lands between two statements, or just before
        the engine starts one, would otherwise be missed."""
        with self._lock:
            if self._statement is not None and self.stop_reason:
                self._statement.interrupt()

    def check_progress(self) -> float | None:
        """Bytes read so far (progress x the running statement's bytes, plus finished
        scans), stopping the query when they cross the cutoff. None when nothing runs."""
        with self._lock:
            statement = self._statement
            if statement is None:
                return None
            progress = statement.progress() if self.progress else -1.0
            phase, main = self._phase, self._phase_main
        self.percent = progress if phase else -1.0
        if phase:
            live = phase * min(progress, 100.0) / 100.0 if progress > 0 else 0.0
            if main:
                # an engine's progress moves per finished file or task: what it says it
                # consumed of the planned files is often further along
                live = max(live, statement.consumed()) + self.bytes_read
            self.estimate = max(self.estimate, live)
        if self._over():
            self.stop(self.limit_message())
        return self.scanned()

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
    #: it runs as an Athena query execution, whose results (and a write's data manifest)
    #: go to ``output_location``; a session of its own (CLI, DB-API) writes none there
    athena_results: bool = False


@dataclass
class PlannedQuery:
    """A compiled query on its engine statement, open for the duration of a ``planned``
    block: it runs there, and writers materialise and write it there."""

    statement: EngineStatement
    query: CompiledQuery
    stats: ScanStats
    names: list[str] | None
    plan: Plan | None = None
    #: the catalog generation read before planning (None when the plan will not be kept)
    generation: int | None = None
    #: the access checks planning made, in order (none for the local administrator)
    checks: tuple[PlanCheck, ...] = ()

    @property
    def sql(self) -> str:
        """The engine's text of the query."""
        return self.query.sql

    @property
    def con(self) -> Any:
        """The DuckDB engine's cursor, for writers that still issue their own statements
        (until they go through the engine's write entry points)."""
        return getattr(self.statement, "con", None)


class _OnDemandStatement:
    """The planner's partition filter: an engine statement opened on first use (by
    ``matching``, or ``opened`` once the plan is made)."""

    def __init__(self, open_statement: Callable[[], EngineStatement]) -> None:
        self._open = open_statement
        self._statement: EngineStatement | None = None

    @property
    def opened(self) -> EngineStatement:
        if self._statement is None:
            self._statement = self._open()
        return self._statement

    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        return self.opened.matching(table, predicate, values)


class Session:
    """Runs statements with a current database, like an Athena query context."""

    def __init__(
        self,
        lake: LakeParts,
        database: str,
        principal: Principal = LOCAL_ADMIN,
        *,
        engine: str | None = None,
    ) -> None:
        self.lake = lake
        self.database = database.lower()
        #: who runs the statements: what they may see and whose caches serve them
        self.principal = principal
        #: the engine its statements run on (a workgroup's or the caller's choice; the
        #: lake's own by default)
        self.engine_name = engine or lake.config.engine

    @property
    def engine(self) -> Engine:
        """The engine this session's statements run on (made on first use when it is
        not the lake's own)."""
        return self.lake.engine_for(self.engine_name)

    # -- statements ---------------------------------------------------------------------
    #: the SQL front end statements are parsed with (``lakebox.sql.dialects``)
    dialect = "athena"

    def sql(self, text: str, context: StatementContext | None = None) -> Result:
        """Run one statement (a trailing ``;`` is fine). Use ``execute_script`` for many."""
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
        results = []
        for st in split_statements(text):
            try:
                results.append(self._run(st.text, StatementContext()))
            except LakeboxError as err:
                err.message = f"statement starting at line {st.line}: {err.message}"
                raise
        return results

    def _run(self, text: str, context: StatementContext) -> Result:
        with access_request(context.query_id):
            if not self.principal.is_local_admin:
                self.lake.table_access().check_query(self.principal, context.workgroup)
            start = time.perf_counter()
            result = self._dispatch(text, context)
        result.elapsed_ms = (time.perf_counter() - start) * 1000
        result.sql = text
        return result

    def _dispatch(self, text: str, context: StatementContext) -> Result:
        """A kept plan first (on the text, before any parsing: the warm path), else parse
        once with the session's front end and run the statement's handler."""
        reused = self._run_cached(text, context)
        if reused is not None:
            return reused
        return self._handle(front_end(self.dialect)(text), context)

    def _handle(self, stmt: Statement, context: StatementContext) -> Result:
        for kind in type(stmt).__mro__:
            handler = _HANDLERS.get(kind)
            if handler is not None:
                return handler(self, stmt, context)
        raise UnsupportedError(f"cannot run {type(stmt).__name__} statements")  # pragma: no cover

    def query(self, text: str, context: StatementContext | None = None) -> Result:
        """A query or a write (CTAS, INSERT INTO, UNLOAD): the query parser only, no USE or
        DDL."""
        from lakebox.sql.dialects.athena import parse_query_statement

        context = context or StatementContext()
        with access_request(context.query_id):
            if not self.principal.is_local_admin:
                self.lake.table_access().check_query(self.principal, context.workgroup)
            return self._handle(parse_query_statement(text), context)

    def _use(self, stmt: Use, context: StatementContext) -> Result:
        self.lake.catalog.get_database(stmt.database)
        self.database = stmt.database.lower()
        return Result(pa.table({}), kind="UTILITY", message=f"database: {self.database}")

    def _ddl(self, stmt: DdlStatement, context: StatementContext) -> Result:
        from lakebox.sql.ddl_exec import execute_ddl

        is_new = self._makes_new(stmt)
        if not self.principal.is_local_admin:
            self.lake.table_access().check_ddl(self.principal, stmt, self.database)

        ddl = execute_ddl(
            stmt,
            self.lake.catalog,
            self.lake.storage,
            self.database,
            view_columns=self.view_columns,
            principal=self.principal,
            visibility=self.lake.visibility,
            validate_format=self.engine.validate_table,
        )
        if is_new:
            self._note_created(stmt)
        self._note_dropped(stmt)
        arrays = {
            c: pa.array([r[i] for r in ddl.rows], pa.string()) for i, c in enumerate(ddl.columns)
        }
        return Result(pa.table(arrays), kind="DDL", message=ddl.message)

    def _makes_new(self, stmt: DdlStatement) -> bool:
        """Whether ``stmt`` creates something that does not exist yet (``IF NOT EXISTS``
        and ``OR REPLACE`` leave an existing one to its creator)."""
        from lakebox.sql import ddl_statements as ddl

        catalog = self.lake.catalog
        if isinstance(stmt, ddl.CreateDatabase):
            return not catalog.database_exists(stmt.name.lower())
        if isinstance(stmt, ddl.CreateTable):
            db = (stmt.table.database or self.database).lower()
            return not catalog.table_exists(db, stmt.table.name.lower())
        if isinstance(stmt, ddl.CreateView):
            return not catalog.table_exists(*stmt.ref.resolve(self.database))
        return False

    def _note_created(self, stmt: DdlStatement) -> None:
        """Tell the lake's permissions who created a database, table or view (its
        creator holds every permission on it): after the catalog made it."""
        from lakebox.sql import ddl_statements as ddl

        if self.principal.is_local_admin and self.lake.lake_permissions is None:
            return  # nothing set up: the admin holds everything (and IAM is not opened)
        if isinstance(stmt, ddl.CreateDatabase):
            self.lake.table_access().created(self.principal, stmt.name.lower())
        elif isinstance(stmt, ddl.CreateTable):
            db = (stmt.table.database or self.database).lower()
            self.lake.table_access().created(self.principal, db, stmt.table.name.lower())
        elif isinstance(stmt, ddl.CreateView):
            db, name = stmt.ref.resolve(self.database)
            self.lake.table_access().created(self.principal, db, name)

    def _note_dropped(self, stmt: DdlStatement) -> None:
        """Tell the lake's permissions that a database, table or view is gone (after the
        catalog dropped it, whoever dropped it): its creator's record goes with it, so
        an object made later under the same name is not taken for theirs."""
        from lakebox.sql import ddl_statements as ddl

        if not isinstance(stmt, ddl.DropDatabase | ddl.DropTable | ddl.DropView):
            return
        permissions = self.lake.lake_permissions
        if permissions is None:
            return  # nothing was ever recorded
        if isinstance(stmt, ddl.DropDatabase):
            permissions.note_dropped(stmt.name.lower())
        else:
            permissions.note_dropped(*stmt.ref.resolve(self.database))

    def _query(self, stmt: Query, context: StatementContext) -> Result:
        return self._execute(stmt.tree, context, stmt.text)

    def _write(
        self, stmt: CreateTableAs | InsertInto | Unload, context: StatementContext
    ) -> Result:
        """Prepare the write, plan its query here and hand the plan to the job, which
        undoes its work when anything (an error, an interrupt) stops it before its end."""
        from lakebox.query.writers import WriteOutcome, prepare_write

        job = prepare_write(self.lake, self.database, stmt.tree, context)
        if isinstance(job, WriteOutcome):
            outcome = job
        else:
            if not self.principal.is_local_admin:  # before anything is written
                self.lake.table_access().check_write(self.principal, _write_request(job))
            job.begin()
            try:
                with self.planned(job.query, context) as q:
                    job.write(q)
                job.commit()
            except BaseException:
                job.fail()
                raise
            outcome = job.finish()
            if job.kind == "CTAS" and job.database is not None and job.table is not None:
                self.lake.table_access().created(self.principal, job.database, job.table)
        return Result(
            outcome.table,
            kind="DML",
            stats=outcome.stats,
            message=outcome.message,
            manifest=outcome.manifest,
        )

    def _unsupported(self, stmt: Unsupported, context: StatementContext) -> Result:
        raise UnsupportedError(
            f"{stmt.kind} statements are not supported yet by this lakebox version"
        )

    @contextmanager
    def planned(
        self,
        tree: exp.Expression,
        context: StatementContext | None = None,
        cache_key: str | None = None,
    ) -> Iterator[PlannedQuery]:
        """Plan ``tree`` and compile it on a private engine statement that stays open for
        the duration of the block: the query runs there, and writers write from there."""
        from lakebox.sql.dialect import result_column_names

        context = context or StatementContext()
        lake = self.lake
        control = context.control
        with ExitStack() as stack:
            # the statement (its cursor: the first query of a lake waits here for the
            # engine's start) is opened once planning needs it or is done, so the
            # planner lists the table's files while the engine starts
            statement = _OnDemandStatement(
                lambda: stack.enter_context(self.engine.statement(control))
            )
            names = result_column_names(tree)
            keep = cache_key is not None and plancache.enabled()
            generation = lake.catalog.generation() if keep else None
            recorder = (
                None if self.principal.is_local_admin else RecordingAccess(lake.table_access())
            )
            planner = Planner(
                lake.catalog,
                lake.storage,
                statement,
                _parse,
                principal=self.principal,
                visibility=lake.visibility,
                access=OPEN_ACCESS if recorder is None else recorder,
            )
            try:
                plan = planner.plan(tree, self.database, cache_key)
                query = statement.opened.compile(plan)
            except Exception as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                raise
            if control is not None:
                control.check_stop()
            opened = statement.opened
            try:
                checks = () if recorder is None else tuple(recorder.checks)
                yield PlannedQuery(opened, query, plan.stats, names, plan, generation, checks)
            except LakeboxError:
                raise
            except Exception as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                raise opened.error(err, plan) from err

    def _execute(
        self,
        tree: exp.Expression,
        context: StatementContext | None = None,
        text: str | None = None,
    ) -> Result:
        with self.planned(tree, context, cache_key=text) as q:
            table = q.statement.run(q.query) if q.query.sql else pa.table({})
            if text is not None:
                self._keep_plan(text, q)
            if q.names is not None and len(q.names) == table.num_columns:
                table = table.rename_columns(q.names)
            return Result(table, kind="DML", stats=q.stats)

    def _plan_key(self, text: str) -> plancache.PlanKey:
        lake = self.lake
        engine = self.engine
        return lake.plans.key(
            text,
            self.database,
            self.principal.key,
            lake.visibility.policy_version(),
            engine.plan_settings,
            engine=engine.name,
        )

    def _keep_plan(self, text: str, q: PlannedQuery) -> None:
        """Remember a plan that just ran, when everything it depends on can be checked.
        A principal other than the local administrator's plan keeps the access checks its
        planning made: a reuse asks them again (a revoked permission applies at once)."""
        plan = q.plan
        if plan is None or q.generation is None or not plan.reusable or not q.query.sql:
            return
        if not q.query.reusable:
            return
        self.lake.plans.put(
            self._plan_key(text),
            plancache.CachedPlan(
                q.query,
                q.names,
                q.stats.copy(),
                q.generation,
                tuple(plan.listings),
                tuple(q.query.cache_files),
                q.checks,
            ),
        )

    def _run_cached(self, text: str, context: StatementContext) -> Result | None:
        """Run ``text`` from its kept plan when that plan is still current; None when
        there is none (or it turned out stale while running): plan it then."""
        if not plancache.enabled() or not len(self.lake.plans):
            return None
        plans = self.lake.plans
        key = self._plan_key(text)
        plan = plans.get(key, self.lake.catalog, self.lake.storage)
        if plan is None:
            return None
        if not self.principal.is_local_admin:  # current: the same tables and files as planned
            replay_checks(self.lake.table_access(), self.principal, plan.checks)
        control = context.control
        stats = plan.stats.copy()
        with self.engine.statement(control) as statement:
            statement.restore(plan.query, stats)
            if control is not None:
                control.check_stop()
            try:
                table = statement.run(plan.query)
            except statement.errors as err:
                if control is not None and control.stop_reason:
                    raise control.stop_error() from err
                plans.discard(key)  # e.g. a cache file removed after the check: plan again
                return None
            if plan.names is not None and len(plan.names) == table.num_columns:
                table = table.rename_columns(plan.names)
            return Result(table, kind="DML", stats=stats)

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
            Column(name, hive_type_from_athena(t))
            for name, t in zip(result.columns, result.types, strict=True)
        ]

    # -- convenience --------------------------------------------------------------------
    def tables(self, database: str | None = None) -> list[str]:
        return [t.name for t in self.lake.catalog.list_tables(database or self.database)]


#: what runs each kind of statement; a base class serves its subclasses (every DDL kind)
_HANDLERS: dict[type[Statement], Callable[[Session, Any, StatementContext], Result]] = {
    Use: Session._use,
    DdlStatement: Session._ddl,
    Query: Session._query,
    CreateTableAs: Session._write,
    InsertInto: Session._write,
    Unload: Session._write,
    Unsupported: Session._unsupported,
}


def _write_request(job: WriteJob) -> WriteRequest:
    """What ``job`` writes, as the access seam is asked about it."""
    target = getattr(job, "target_table", None)
    options = getattr(job, "options", None)
    return WriteRequest(
        "CTAS" if job.kind == "CTAS" else "INSERT" if job.kind == "INSERT" else "UNLOAD",
        job.target,
        job.database,
        job.table,
        target,
        bool(getattr(options, "partitioned_by", None)),
    )


def _parse(sql: str) -> exp.Expression:
    from lakebox.sql.dialect import parse_query

    return parse_query(sql)


class LakeParts(Protocol):
    """What a session and the services below the composition root may use of one lake
    (``lakebox.lakehouse.Lakehouse`` is one)."""

    @property
    def config(self) -> LakeConfig: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def engine(self) -> Engine:
        """The lake's own engine (``LakeConfig.engine``)."""
        ...

    def engine_for(self, name: str | None = None) -> Engine:
        """The engine called ``name`` (None: the lake's own), made on first use."""
        ...

    @property
    def visibility(self) -> Visibility:
        """What each principal may see of the catalog."""
        ...

    @property
    def plans(self) -> PlanCache:
        """Plans of repeated statements, reused while their inputs are unchanged."""
        ...

    def session(
        self, database: str | None = None, principal: Principal = ..., *, engine: str | None = ...
    ) -> Session: ...

    def table_access(self) -> TableAccess:
        """Who decides what a principal other than the local administrator may read."""
        ...

    @property
    def lake_permissions(self) -> LakePermissions | None:
        """The lake's Lake Formation, or None while no one has set it up in this lake."""
        ...
