"""QueryService: Athena's StartQueryExecution / GetQueryExecution / GetQueryResults /
StopQueryExecution / ListQueryExecutions / BatchGetQueryExecution and workgroups, over a
lake's sessions.

Executions run on worker threads. A per-lake concurrency limit holds across processes:
each running query holds one of N slot files locked with ``flock``; the others wait in
QUEUED. Every state change is persisted, so history and results survive a restart, and
executions left RUNNING by a process that died are marked FAILED when a service starts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import IO, Any

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.visibility import OPEN, Visibility
from lakebox.errors import InvalidRequestError, LakeboxError, os_error_text
from lakebox.iam.errors import AccessDenied
from lakebox.names import workgroup_name
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.query import results
from lakebox.query.lake import LakeParts
from lakebox.query.model import (
    AUTO,
    CANCELLED,
    ENGINE_VERSIONS,
    FAILED,
    MIN_CUTOFF_BYTES,
    RUNNING,
    SUCCEEDED,
    QueryExecution,
    Usage,
    WorkGroup,
)
from lakebox.query.session import (
    DEFAULT_OUTPUT_LOCATION,
    ExecutionControl,
    QueryStoppedError,
    Result,
    Session,
    StatementContext,
)
from lakebox.query.store import QueryStore
from lakebox.sql.access import QueryAccessDenied
from lakebox.sql.access import request as access_request
from lakebox.storage import Storage
from lakebox.util import pid_alive

DEFAULT_CONCURRENCY = int(os.environ.get("LAKEBOX_MAX_CONCURRENT_QUERIES", "4"))
POLL_SECONDS = 0.02
#: how often a running statement's progress is read (a scan cutoff acts on it)
WATCH_SECONDS = 0.01
#: how long the sync thread gathers result files before it fsyncs them (``_sync_loop``)
SYNC_DELAY_SECONDS = 0.05
#: how many finished executions keep their in-memory Result (``result``): a long-running
#: server answers many thousands of queries, whose results live in their result files
#: (GetQueryResults reads those); memory keeps only the most recent few
RESULTS_KEPT = 64
#: the role name of a principal holding no grant of its own: what Lake Formation gives it
#: of a table is what it gives everyone (``QueryService._restricted``)
_NO_GRANTS = "lakebox-no-grants-of-its-own"


class QueryService:
    """Athena's query executions and workgroups over one lake. The lake's composition root
    makes one (``Lakehouse.queries``); ``visibility`` decides what its callers see.

    Every public call takes the calling ``principal`` (the local administrator by
    default): executions remember who started them, and an earlier result is reused only
    for the same principal under the same visibility policy version."""

    def __init__(
        self,
        lake: LakeParts,
        max_concurrency: int | None = None,
        *,
        visibility: Visibility = OPEN,
    ) -> None:
        self.lake = lake
        self.visibility = visibility
        self.store = QueryStore(lake.config.metadata_dir / "queries.sqlite")
        self.max_concurrency = max(1, max_concurrency or DEFAULT_CONCURRENCY)
        self._slots = lake.config.metadata_dir / "query-slots"
        self._slots.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency + 4, thread_name_prefix="lakebox-query"
        )
        # ``run``'s executions that took a slot already (see ``run``)
        self._held_pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="lakebox-query-run"
        )
        self._controls: dict[str, ExecutionControl] = {}
        self._futures: dict[str, Future[None]] = {}
        #: the most recent executions' Results, oldest first (at most ``RESULTS_KEPT``,
        #: besides those a ``run`` caller is waiting for: ``_pinned``)
        self._results: OrderedDict[str, Result] = OrderedDict()
        self._pinned: set[str] = set()
        self._lock = threading.Lock()
        # one watcher thread for all running statements (see ``_watch``)
        self._watch_cond = threading.Condition()
        self._watched: set[ExecutionControl] = set()
        self._watcher: threading.Thread | None = None
        self._closed = False
        # one sync thread for result files committed with their execution (``_sync_later``)
        self._sync_cond = threading.Condition()
        self._unsynced: list[results.UnsyncedFile] = []
        self._syncer: threading.Thread | None = None
        self._sync_closed = False
        _SERVICES.add(self)
        self.recover()

    def _after_fork(self) -> None:
        """In a forked child: locks and conditions another thread held at the fork would
        never be released there, and the pools' workers, the watcher and the sync thread
        did not come along. They are made anew; the parent's executions stay the
        parent's (the child waits for them through the store, as another process does),
        and so do the result files its sync thread has yet to fsync."""
        self._lock = threading.Lock()
        self._watch_cond = threading.Condition()
        self._sync_cond = threading.Condition()
        self._watcher = None
        self._syncer = None
        self._watched = set()
        self._unsynced = []
        self._futures = {}
        self._pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency + 4, thread_name_prefix="lakebox-query"
        )
        self._held_pool = ThreadPoolExecutor(
            max_workers=self.max_concurrency, thread_name_prefix="lakebox-query-run"
        )

    # -- lifecycle ----------------------------------------------------------------------
    def recover(self) -> int:
        """Mark executions whose process is gone as FAILED, never silently lost, and make
        the result files of SUCCEEDED ones durable (``_restore_results``). Returns how
        many executions were marked FAILED."""
        self._restore_results()
        count = 0
        for qe in self.store.unfinished():
            if qe.pid == os.getpid() or _alive(qe.pid):
                continue
            qe.state = FAILED
            qe.error_type = "SYSTEM"
            qe.state_change_reason = (
                f"the lakebox process (pid {qe.pid}) running this query exited before it finished"
            )
            qe.completion_time = time.time()
            self.store.save(qe)
            count += 1
        return count

    def close(self) -> None:
        for control in list(self._controls.values()):
            control.stop("the query service was shut down")
        self._wake_watcher()
        self._pool.shutdown(wait=True)
        self._held_pool.shutdown(wait=True)
        with self._watch_cond:
            self._closed = True
            self._watch_cond.notify_all()
        with self._sync_cond:  # the sync thread fsyncs what is left, then ends
            self._sync_closed = True
            self._sync_cond.notify_all()
            syncer = self._syncer
        if syncer is not None:
            syncer.join()

    # -- executions ---------------------------------------------------------------------
    def start_query_execution(
        self,
        query: str,
        database: str | None = None,
        workgroup: str = "primary",
        output_location: str | None = None,
        client_request_token: str | None = None,
        result_reuse_max_age_minutes: int | None = None,
        progress: bool = False,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> str:
        """Queue a statement for ``principal`` and return its QueryExecutionId at once.
        With ``progress`` the engine reports how far it is (``progress()``), for a client
        that shows it."""
        qe, wg = self._new_execution(
            query, database, workgroup, output_location, client_request_token
        )
        qe.principal_arn = principal.arn
        qe.policy_version = self.visibility.policy_version()
        # fsynced: the id goes back to the caller before the execution ends
        stored = self.store.insert(qe, durable=True)
        if stored.query_execution_id != qe.query_execution_id:
            if (
                stored.query != qe.query
                or stored.database != qe.database
                or stored.principal_arn != qe.principal_arn
            ):
                raise InvalidRequestError(
                    "IdempotentParameterMismatchException: the ClientRequestToken was "
                    "already used with a different query"
                )
            return stored.query_execution_id
        control = self._control(qe, wg, progress)
        with self._lock:
            self._controls[qe.query_execution_id] = control
            self._futures[qe.query_execution_id] = self._pool.submit(
                self._run, qe, control, result_reuse_max_age_minutes, principal=principal
            )
        return qe.query_execution_id

    @staticmethod
    def _control(qe: QueryExecution, wg: WorkGroup, progress: bool) -> ExecutionControl:
        return ExecutionControl(
            cutoff_bytes=wg.bytes_scanned_cutoff_per_query,
            measure=True,
            progress=progress,
            workgroup=qe.workgroup,
        )

    def _new_execution(
        self,
        query: str,
        database: str | None,
        workgroup: str,
        output_location: str | None,
        client_request_token: str | None,
    ) -> tuple[QueryExecution, WorkGroup]:
        """A new QUEUED execution and its workgroup (read once: it gives the output
        location and the scan cutoff both)."""
        if not query.strip():
            raise InvalidRequestError("QueryString must not be empty")
        if client_request_token is not None and not 32 <= len(client_request_token) <= 128:
            raise InvalidRequestError("ClientRequestToken must be 32 to 128 characters long")
        wg = self.store.get_workgroup(workgroup)
        if wg.state != "ENABLED":
            raise InvalidRequestError(f"WorkGroup {workgroup} is disabled.")
        location = (
            (wg.output_location if wg.enforce_configuration else None)
            or output_location
            or wg.output_location
            or DEFAULT_OUTPUT_LOCATION
        )
        self.lake.storage.check(location)
        qid = str(uuid.uuid4())
        db = (database or self.lake.config.default_database).lower()
        qe = QueryExecution(
            qid,
            query,
            workgroup,
            db,
            results.result_uri(location, qid, "DML"),
            client_request_token=client_request_token,
            pid=os.getpid(),
            selected_engine_version=wg.engine_version,
            engine=wg.engine(self.default_engine),
        )
        return qe, wg

    @property
    def default_engine(self) -> str:
        """The lake's own engine: what a workgroup whose engine version is AUTO runs on."""
        return self.lake.config.engine

    def _run(
        self,
        qe: QueryExecution,
        control: ExecutionControl,
        reuse_minutes: int | None,
        slot: IO[bytes] | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> None:
        """Run ``qe`` to its final state as ``principal`` (what it may read is theirs);
        with ``slot`` it already holds a query slot and is stored as RUNNING (``run``)."""
        try:
            with self._slot(qe, control, slot):
                if control.stop_reason:
                    raise QueryStoppedError(control.stop_reason)
                if slot is None:
                    qe.state, qe.start_time = RUNNING, time.time()
                    qe.queue_ms = int((qe.start_time - qe.submission_time) * 1000)
                    self.store.save(qe)
                self._execute(qe, control, reuse_minutes, principal)
        except QueryStoppedError as err:
            self._finish(qe, CANCELLED, str(err), "USER", control)
        except LakeboxError as err:
            self._finish(qe, FAILED, str(err), "USER", control)
        except OSError as err:  # a full disk, a permission: name the path
            self._finish(qe, FAILED, os_error_text(err), "SYSTEM", control)
        except RecursionError:  # thousands of nested parentheses or subqueries
            message = "the statement is nested too deeply to analyse; simplify it"
            self._finish(qe, FAILED, message, "USER", control)
        except Exception as err:  # an engine bug must still end the execution
            self._finish(qe, FAILED, f"internal error: {err!r}", "SYSTEM", control)
        finally:
            with self._lock:
                self._controls.pop(qe.query_execution_id, None)
                self._futures.pop(qe.query_execution_id, None)

    def _execute(
        self,
        qe: QueryExecution,
        control: ExecutionControl,
        reuse_minutes: int | None,
        principal: Principal = LOCAL_ADMIN,
    ) -> None:
        # the engine its workgroup chose when it was started
        session = self.lake.session(qe.database, principal, engine=qe.engine or None)
        base = qe.output_location.rsplit("/", 1)[0] + "/"
        context = StatementContext(
            qe.query_execution_id, base, qe.workgroup, control, athena_results=True
        )
        # Athena writes the results as the caller; lakebox's own default location (when
        # neither the request nor the workgroup names one: Athena would refuse) is not
        # the caller's to be granted
        if not principal.is_local_admin and base != DEFAULT_OUTPUT_LOCATION:
            access = self.lake.table_access()
            access.check_query(principal, qe.workgroup)
            access.check_results(principal, base)
        if reuse_minutes and self._reuse(qe, session, reuse_minutes):
            return
        with contextlib.ExitStack() as stack:
            if control.progress:  # a cutoff, or a client showing progress
                control.read_log = stack.enter_context(session.engine.logged_reads())
            engine_start = time.perf_counter()
            try:
                with self._watching(control):  # ends before the log reader closes
                    result = session.sql(qe.query, context)
            finally:
                qe.engine_execution_ms = int((time.perf_counter() - engine_start) * 1000)
                control.read_log = None
        qe.statement_type = result.kind
        qe.data_scanned_bytes = 0 if result.kind != "DML" else data_scanned(result, control)
        cutoff = control.cutoff_bytes
        if cutoff is not None and qe.data_scanned_bytes > cutoff:
            # the scans stop themselves; this is the last line of defence
            control.finished_over = True
            raise QueryStoppedError(control.limit_message())
        qe.output_location = results.result_uri(base, qe.query_execution_id, result.kind)
        unsynced = results.write_results(
            self.lake.storage, qe.output_location, result.table, result.kind, defer_sync=True
        )
        qe.rows = result.rowcount
        qe.manifest_location = result.manifest
        qe.restricted_read = self._restricted(result)
        if result.kind == "DML":
            qe.result_fingerprint = self._fingerprint(result)
        self._remember(qe.query_execution_id, result)
        self._finish(qe, SUCCEEDED, None, None, control, unsynced)
        if unsynced:
            self._sync_later(unsynced)

    def _remember(self, query_id: str, result: Result) -> None:
        """Keep ``result`` for ``result()``, forgetting the oldest kept beyond
        ``RESULTS_KEPT`` (never one a ``run`` caller has yet to take)."""
        with self._lock:
            self._results[query_id] = result
            self._results.move_to_end(query_id)
            excess = len(self._results) - RESULTS_KEPT
            for old in list(self._results):
                if excess <= 0:
                    break
                if old not in self._pinned:
                    del self._results[old]
                    excess -= 1

    @contextlib.contextmanager
    def _watching(self, control: ExecutionControl) -> Iterator[None]:
        """Have the watcher follow ``control`` while the block runs. When the block ends
        the watcher has let go of it: its checks run under the same condition lock.

        The watcher is woken for a statement whose progress it must read (a scan cutoff, a
        client showing progress) or once a stop is asked for (``_wake_watcher``); a plain
        statement does not wake it, which spared a thread switch per query (two threads
        taking turns at the interpreter, on a loaded machine up to a millisecond)."""
        with self._watch_cond:
            self._watched.add(control)
            if self._watcher is None or not self._watcher.is_alive():  # first use, or forked
                self._watcher = threading.Thread(
                    target=self._watch, name="lakebox-query-watch", daemon=True
                )
                self._watcher.start()
            if control.progress or control.stop_reason:
                self._watch_cond.notify()
        try:
            yield
        finally:
            with self._watch_cond:
                self._watched.discard(control)

    def _wake_watcher(self) -> None:
        """Have the watcher repeat a stop just asked for until its statement has ended."""
        with self._watch_cond:
            self._watch_cond.notify()

    def _watch(self) -> None:
        """Poll engine progress so a scan cutoff stops a query while it runs, and repeat a
        stop until the statement has ended. One long-lived thread serves every running
        statement: starting a thread per statement cost 0.2 ms on an idle machine and over
        2 ms on a loaded one, most of a ``SELECT 1`` through the service."""
        with self._watch_cond:
            while not self._closed:
                if not self._watched:
                    self._watch_cond.wait()  # woken by ``_watching`` or ``close``
                    continue
                self._watch_cond.wait(WATCH_SECONDS)
                for control in list(self._watched):
                    if control.stop_reason:
                        control.interrupt_again()
                    else:
                        control.check_progress()

    def _finish(
        self,
        qe: QueryExecution,
        state: str,
        reason: str | None,
        error_type: str | None,
        control: ExecutionControl,
        unsynced: list[results.UnsyncedFile] | None = None,
    ) -> None:
        qe.state = state
        qe.state_change_reason = reason
        qe.error_type = error_type
        qe.completion_time = time.time()
        qe.total_ms = int((qe.completion_time - qe.submission_time) * 1000)
        if state == CANCELLED and qe.statement_type == "DML":
            qe.data_scanned_bytes = control.scanned_at_stop()
        self.store.save(qe, [(f.uri, f.data) for f in unsynced or ()])

    def _sync_later(self, files: list[results.UnsyncedFile]) -> None:
        """Have the sync thread fsync result files whose bytes were committed with their
        execution (see ``results.write_results``), off the caller's path: a fsync of a new
        file waits for the file system's journal, 0.3 ms on an idle disk and often 2-10 ms
        on a busy one, three per ``SELECT 1`` (the file, its ``.metadata``, their folder)."""
        with self._sync_cond:
            idle = not self._unsynced  # else the thread is gathering or syncing already
            self._unsynced.extend(files)
            if self._syncer is None or not self._syncer.is_alive():  # first use, or forked
                self._syncer = threading.Thread(
                    target=self._sync_loop, name="lakebox-result-sync", daemon=True
                )
                self._syncer.start()
            elif idle:
                self._sync_cond.notify()

    def _sync_loop(self) -> None:
        """Fsync the files handed over so far, all at once, then forget their committed
        copies; until the service closes and nothing is left. It waits a little before
        each batch, so a burst of queries costs one wake-up, one fsync per folder and one
        commit, not one each (a query's thread and this one share the interpreter). A
        batch that fails (a disk error, a store busy past its timeout) keeps its copies,
        for ``recover`` at the next start; this thread must not die of it."""
        while True:
            with self._sync_cond:
                while not self._unsynced and not self._sync_closed:
                    self._sync_cond.wait()
                if not self._unsynced:
                    return
                if not self._sync_closed:  # gather what a burst of queries adds
                    self._sync_cond.wait(SYNC_DELAY_SECONDS)
                files, self._unsynced = self._unsynced, []
            with contextlib.suppress(Exception):
                failed = set(results.sync_files([f.path for f in files]))
                self.store.forget_unsynced([f.uri for f in files if f.path not in failed])

    def _restore_results(self) -> int:
        """Result files committed with their execution whose fsync a crash may have
        prevented (``restore_results``). Returns how many were written again."""
        return restore_results(self.store, self.lake.storage)

    @contextlib.contextmanager
    def _slot(
        self, qe: QueryExecution, control: ExecutionControl, held: IO[bytes] | None = None
    ) -> Iterator[None]:
        """Hold one of the lake's N query slots (flock on slot files) while running:
        ``held`` when the caller took one already (``_try_slot``), else the first that
        frees up."""
        handle = held
        while handle is None:
            handle = self._try_slot()
            if handle is None:
                if control.stop_reason:
                    raise QueryStoppedError(control.stop_reason)
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _try_slot(self) -> IO[bytes] | None:
        """One of the lake's query slots, locked, or None when all N are taken."""
        for i in range(self.max_concurrency):
            fh = open(self._slots / f"slot-{i}.lock", "ab")  # noqa: SIM115
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            return fh
        return None

    def _restricted(self, result: Result) -> bool:
        """Whether ``result`` holds data Lake Formation restricts: it read a table that a
        principal holding no grant of its own (only what ``IAMAllowedPrincipals`` and
        the defaults give everyone) may not read whole. Such results are what their
        principal may see, never filtered again for another (see ``get_query_results``)."""
        if not result.stats.tables:
            return False
        permissions = self.lake.lake_permissions
        if permissions is None or not permissions.active:
            return False
        account = self.lake.config.account_id
        nobody = Principal(account, f"arn:aws:iam::{account}:role/{_NO_GRANTS}")
        for name in sorted(set(result.stats.tables)):
            db, _, tbl = name.partition(".")
            try:
                table = self.lake.catalog.get_table(db, tbl)
                view = permissions.table_view(nobody, table)
            except LakeboxError:
                return True  # gone meanwhile, or nothing of it for everyone: restricted
            except AccessDenied:
                return True
            if not view.unrestricted:
                return True
        return False

    # -- result reuse -------------------------------------------------------------------
    def _fingerprint(self, result: Result) -> str:
        """Identifies the data a query read: the versions of its tables and every file's
        URI, size and modification time."""
        h = hashlib.sha256()
        for name in sorted(set(result.stats.tables)):
            db, _, tbl = name.partition(".")
            t = self.lake.catalog.get_table(db, tbl)
            h.update(f"{name}:{t.version}:{t.update_time}\n".encode())
        for f in sorted(result.stats.data_files, key=lambda f: f.uri):
            h.update(f"{f.uri}:{f.size}:{f.mtime}\n".encode())
        return h.hexdigest()

    def _reuse(self, qe: QueryExecution, session: Session, minutes: int) -> bool:
        from lakebox.sql.dialect import parse_query

        tree = parse_query(qe.query)
        if not isinstance(tree, exp.Query):
            return False  # Athena reuses results of SELECT queries only, never of writes
        candidates = self.store.reusable(
            qe.query,
            qe.database,
            qe.workgroup,
            time.time() - minutes * 60,
            qe.principal_arn,
            self.visibility.policy_version(),
        )
        # another engine's answer may differ (a workgroup's engine changed since)
        candidates = [c for c in candidates if (c.engine or self.default_engine) == qe.engine]
        if not candidates:
            return False
        try:
            with access_request(qe.query_execution_id), session.planned(tree) as planned:
                probe = Result(table=pa.table({}), stats=planned.stats)
        except LakeboxError:
            return False
        current = self._fingerprint(probe)
        for old in candidates:
            if old.result_fingerprint == current and self.lake.storage.exists(old.output_location):
                qe.output_location = old.output_location
                qe.statement_type = old.statement_type
                qe.rows = old.rows
                qe.reused_previous_result = True
                qe.result_fingerprint = current
                qe.restricted_read = old.restricted_read
                self._finish(qe, SUCCEEDED, None, None, ExecutionControl())
                return True
        return False

    # -- reading back -------------------------------------------------------------------
    def get_query_execution(
        self, query_id: str, *, principal: Principal = LOCAL_ADMIN
    ) -> QueryExecution:
        return self.store.get(query_id)

    def wait(
        self, query_id: str, timeout: float | None = None, *, principal: Principal = LOCAL_ADMIN
    ) -> QueryExecution:
        """Block until the execution reaches a final state: on its future when this service
        runs it (no sleep), polling the store when another process does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            future = self._futures.get(query_id)
        if future is not None:
            with contextlib.suppress(Exception):
                future.result(timeout=timeout)
        while True:
            qe = self.store.get(query_id)
            if qe.done:
                return qe
            if deadline is not None and time.monotonic() > deadline:
                return qe
            time.sleep(POLL_SECONDS)

    def get_query_results(
        self,
        query_id: str,
        next_token: str | None = None,
        max_results: int = results.MAX_PAGE,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> dict[str, Any]:
        qe = self.store.get(query_id)
        if qe.state != SUCCEEDED:
            raise InvalidRequestError(
                f"Query has not yet finished. Current state: {qe.state}"
                if not qe.done
                else f"Query did not succeed: {qe.state} ({qe.state_change_reason})"
            )
        if not principal.is_local_admin:
            self._check_results_read(qe, principal)
        page = results.read_page(
            self.lake.storage, qe.output_location, qe.statement_type, next_token, max_results
        )
        return page

    def _check_results_read(self, qe: QueryExecution, principal: Principal) -> None:
        """GetQueryResults reads the result file with the caller's own S3 permissions
        (``s3:GetObject`` on it, as on AWS; lakebox's own default location, which no
        caller is granted, excepted as for writing there). With Lake Formation, the
        results of a query that read restricted data go to its own principal and the
        data lake administrators only: they were filtered for the principal who ran it,
        not for the caller (lakebox's rule, stricter than AWS's)."""
        if qe.output_location.rsplit("/", 1)[0] + "/" != DEFAULT_OUTPUT_LOCATION:
            self.lake.table_access().check_results_read(principal, qe.output_location)
        if not qe.restricted_read or qe.principal_arn == principal.arn:
            return
        permissions = self.lake.lake_permissions
        if permissions is not None and permissions.is_admin(principal):
            return
        raise QueryAccessDenied(
            f"User: {principal.arn} may not read the results of query "
            f"{qe.query_execution_id}: it read data Lake Formation restricts, and its "
            "results are shown only to the principal who ran it and to data lake "
            "administrators",
            "athena:GetQueryResults",
            qe.query_execution_id,
        )

    def progress(
        self, query_id: str, *, principal: Principal = LOCAL_ADMIN
    ) -> tuple[float, int] | None:
        """How far a running execution is: the engine's percent for the statement it runs
        (-1 when unknown) and the bytes it read so far; None when it is not running here."""
        with self._lock:
            control = self._controls.get(query_id)
        if control is None:
            return None
        return control.percent, control.scanned()

    def result(self, query_id: str, *, principal: Principal = LOCAL_ADMIN) -> Result | None:
        """The in-memory Result of a query this service ran (None after a restart, or
        once ``RESULTS_KEPT`` later executions finished: its result file remains).
        Another principal gets it only as ``get_query_results`` would answer it."""
        with self._lock:
            found = self._results.get(query_id)
        if found is not None and not principal.is_local_admin:
            self._check_results_read(self.store.get(query_id), principal)
        return found

    def stop_query_execution(self, query_id: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        qe = self.store.get(query_id)
        if qe.done:
            return
        with self._lock:
            control = self._controls.get(query_id)
        if control is not None:
            control.stop("Query cancelled by user")
            self._wake_watcher()
            return
        qe.state, qe.state_change_reason = CANCELLED, "Query cancelled by user"
        qe.completion_time = time.time()
        self.store.save(qe)

    def list_query_executions(
        self,
        workgroup: str | None = None,
        max_results: int = 50,
        next_token: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> tuple[list[str], str | None]:
        if not 0 < max_results <= 50:
            raise InvalidRequestError("MaxResults must be between 1 and 50")
        if workgroup is None and not principal.is_local_admin:
            # AWS: "If a workgroup is not specified, returns a list of query execution IDs
            # for the primary workgroup" (the workgroup the caller was authorized on)
            workgroup = "primary"
        if workgroup is not None:
            self.store.get_workgroup(workgroup)
        offset = results.decode_token(next_token)
        found = self.store.recent(workgroup, max_results + 1, offset)
        token = results.encode_token(offset + max_results) if len(found) > max_results else None
        return [q.query_execution_id for q in found[:max_results]], token

    def batch_get_query_execution(
        self, ids: list[str], *, principal: Principal = LOCAL_ADMIN
    ) -> tuple[list[QueryExecution], list[dict[str, str]]]:
        if not 1 <= len(ids) <= 50:
            raise InvalidRequestError("QueryExecutionIds must hold 1 to 50 ids")
        found, missing = [], []
        for qid in ids:
            try:
                found.append(self.store.get(qid))
            except InvalidRequestError as err:
                missing.append(
                    {
                        "QueryExecutionId": qid,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": str(err),
                    }
                )
        return found, missing

    def history(
        self, workgroup: str | None = None, limit: int = 20, *, principal: Principal = LOCAL_ADMIN
    ) -> list[QueryExecution]:
        return self.store.recent(workgroup, limit)

    def run(
        self,
        query: str,
        database: str | None = None,
        workgroup: str = "primary",
        output_location: str | None = None,
        *,
        principal: Principal = LOCAL_ADMIN,
    ) -> tuple[QueryExecution, Result | None]:
        """Start and wait: the synchronous form the CLI uses.

        When a query slot is free the execution is stored as RUNNING at once (one write
        instead of QUEUED, then RUNNING). That first write is not fsynced: the id reaches
        the caller only with the final state, whose fsynced commit makes the log before it
        durable too (see ``lakebox.query.store``); a process that dies before leaves the
        execution to ``recover``, a power loss before leaves no trace of a query nobody
        was told of. The statement runs on a worker as every execution does, so an
        interrupt (Ctrl-C) reaches the caller at once; the execution is then stopped when
        the service closes.

        An execution that took its slot here runs on a pool of its own, never queued in
        the shared one: there every worker may be busy waiting for a slot (executions
        started with ``start_query_execution``), and a task holding the slot they wait for
        would never get a worker. That pool has one worker per slot, and its tasks hold a
        slot each and wait for nothing, so a worker is always free or about to be."""
        qe, wg = self._new_execution(query, database, workgroup, output_location, None)
        qe.principal_arn = principal.arn
        qe.policy_version = self.visibility.policy_version()
        control = self._control(qe, wg, progress=False)
        slot = self._try_slot()  # handed to the worker, which lets go of it
        try:
            if slot is not None:
                qe.state, qe.start_time = RUNNING, qe.submission_time
            self.store.insert(qe, durable=False)
            qid = qe.query_execution_id
            with self._lock:
                self._controls[qid] = control
                self._pinned.add(qid)
                pool = self._pool if slot is None else self._held_pool
                future = self._futures[qid] = pool.submit(
                    self._run, qe, control, None, slot, principal=principal
                )
        except BaseException:
            if slot is not None:
                slot.close()  # closing the file lets go of its lock
            with self._lock:
                self._pinned.discard(qe.query_execution_id)
            raise
        try:
            future.result()  # ``_run`` ends every execution itself, raising nothing
            return qe, self.result(qid, principal=principal)
        finally:
            with self._lock:
                self._pinned.discard(qid)

    # -- workgroups ---------------------------------------------------------------------
    def create_work_group(
        self,
        name: str,
        description: str = "",
        output_location: str | None = None,
        enforce: bool = False,
        bytes_scanned_cutoff: int | None = None,
        state: str = "ENABLED",
        *,
        engine_version: str = AUTO,
        principal: Principal = LOCAL_ADMIN,
    ) -> WorkGroup:
        """A new workgroup; ``engine_version`` is Athena's SelectedEngineVersion (AUTO: the
        lake's engine; ``PySpark engine version 3``: the Spark engine)."""
        wg = WorkGroup(
            name,
            description,
            state,
            output_location,
            enforce,
            bytes_scanned_cutoff,
            engine_version=engine_version,
        )
        _validate_workgroup(wg)
        if wg.output_location is not None:
            self.lake.storage.check(wg.output_location)
        self.store.create_workgroup(wg)
        return wg

    def update_work_group(
        self, name: str, *, principal: Principal = LOCAL_ADMIN, **changes: Any
    ) -> WorkGroup:
        """Change the named fields of a workgroup (``engine_version`` switches the engine
        its next queries run on; running ones finish where they started)."""
        wg = replace(self.store.get_workgroup(name), **changes)
        _validate_workgroup(wg, engine="engine_version" in changes)
        if wg.output_location is not None:
            self.lake.storage.check(wg.output_location)
        self.store.update_workgroup(wg)
        return wg

    def delete_work_group(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> None:
        if name == "primary":
            raise InvalidRequestError("The primary workgroup cannot be deleted")
        self.store.delete_workgroup(name)

    def get_work_group(self, name: str, *, principal: Principal = LOCAL_ADMIN) -> WorkGroup:
        return self.store.get_workgroup(name)

    def list_work_groups(self, *, principal: Principal = LOCAL_ADMIN) -> list[WorkGroup]:
        return self.store.list_workgroups()

    def usage(self, workgroup: str, *, principal: Principal = LOCAL_ADMIN) -> Usage:
        self.store.get_workgroup(workgroup)
        usage = Usage(workgroup)
        for qe in self.store.all_in(workgroup):
            if not qe.done:
                continue
            usage.queries += 1
            usage.bytes_scanned += qe.data_scanned_bytes
            usage.cost_usd += qe.cost_usd
        return usage


#: every query service of this process, made anew in a forked child (``_after_fork``)
_SERVICES: weakref.WeakSet[QueryService] = weakref.WeakSet()


def _after_fork() -> None:
    for service in list(_SERVICES):
        service._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def restore_results(store: QueryStore, storage: Storage) -> int:
    """Result files committed with their execution whose fsync a crash may have prevented
    (``QueryStore.unsynced``): fsynced now, after being written again from the committed
    bytes when a power loss took them or cut them short (``results.restore_file``), and
    their copies forgotten. The lake's start runs it when there are any
    (``Lakehouse.start``), before anything reads a result file. Each file on its own: one
    that cannot be made durable (a folder made read-only) keeps its copy for a later
    start and holds back no other. Returns how many were written again."""
    done: list[str] = []
    rewritten = 0
    for uri, data in store.unsynced():
        try:
            path = storage.local_path(uri)  # refuses a location made unsafe
            if path is not None:
                rewritten += results.restore_file(path, data)
        except LakeboxError:
            pass  # refused: never written outside the lake; reading it fails the same way
        except OSError:
            continue  # e.g. a folder made read-only: the copy stays for a later start
        done.append(uri)
    if done:
        store.forget_unsynced(done)
    return rewritten


def data_scanned(result: Result, control: ExecutionControl) -> int:
    """Bytes the engine read. A scan served from a compacted copy reads the copy, not the
    lake's files; such queries report the bytes of the original files they cover (what a
    row-format scan reads in Athena), so a cache never makes a query look cheaper."""
    if result.stats.rewritten:
        return max(control.bytes_read, result.stats.bytes)
    return control.bytes_read


def _validate_workgroup(wg: WorkGroup, *, engine: bool = True) -> None:
    """Athena's checks of a workgroup's settings (of its engine version when ``engine``:
    an update that leaves it alone is not refused for it)."""
    workgroup_name(wg.name)
    if wg.state not in ("ENABLED", "DISABLED"):
        raise InvalidRequestError("State must be ENABLED or DISABLED")
    cutoff = wg.bytes_scanned_cutoff_per_query
    if cutoff is not None and cutoff < MIN_CUTOFF_BYTES:
        raise InvalidRequestError(
            f"BytesScannedCutoffPerQuery must be at least {MIN_CUTOFF_BYTES} bytes (10 MB)"
        )
    if wg.output_location is not None:
        from lakebox.storage import parse_uri

        parse_uri(wg.output_location)
    if engine:
        _validate_engine_version(wg.engine_version)


def _validate_engine_version(selected: str) -> None:
    """Athena's check of ``SelectedEngineVersion``; a Spark version also needs pyspark
    installed (looked up, not imported)."""
    if selected != AUTO and selected not in ENGINE_VERSIONS:
        choices = ", ".join([AUTO, *ENGINE_VERSIONS])
        raise InvalidRequestError(
            f"Invalid engine version: {selected!r}. The engine version must be one of: "
            f"{choices} (EngineVersion.SelectedEngineVersion)"
        )
    if ENGINE_VERSIONS.get(selected) == "spark":
        import importlib.util

        if importlib.util.find_spec("pyspark") is None:
            raise InvalidRequestError(
                f"{selected} runs on lakebox's Spark engine, which is not installed: "
                "pip install 'lakebox[spark]' (it needs Java 17 or later)"
            )


def _alive(pid: int) -> bool:
    return pid_alive(pid)
