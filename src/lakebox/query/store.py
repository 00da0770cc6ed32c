"""Persistence of executions and workgroups (SQLite beside the catalog), so results and
history survive a restart.

What is fsynced: a new execution whose id is acknowledged to the caller before it ends
(``StartQueryExecution``), every final state (SUCCEEDED / FAILED / CANCELLED, written after
the result file is durable) and every workgroup change are on disk before the call
returns. Other commits are made without an fsync (``synchronous=NORMAL`` in WAL mode): the
step to RUNNING, and the first record of an execution whose caller waits for its end
(``QueryService.run``). A process that dies loses none of them (the write is in the OS,
and ``QueryService.recover`` marks the execution FAILED); a machine that loses power may
lose them, which leaves an acknowledged execution QUEUED (recovery ends it as FAILED) and
no trace of one nobody was told of. The log is replayed in order, so the fsync of a final
state makes every earlier commit durable as well. Those fsyncs were a third of a
``SELECT 1``'s time through the service (docs/query-service.md, "The service path").
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lakebox.errors import AlreadyExistsError, EntityNotFoundError, InvalidRequestError
from lakebox.metadata import sqlite as metadb
from lakebox.query.model import QueryExecution, WorkGroup

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
  id TEXT PRIMARY KEY, token TEXT, workgroup TEXT NOT NULL, submitted REAL NOT NULL,
  state TEXT NOT NULL, doc TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS executions_token ON executions(token) WHERE token IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_wg ON executions(workgroup, submitted);
CREATE TABLE IF NOT EXISTS workgroups (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
"""


def _principal(con: sqlite3.Connection) -> None:
    """Version 2: who started each execution (the ARN of its principal). Idempotent, as a
    store whose version was reset (restored by hand, copied) may have the column already."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(executions)")}
    if "principal" not in columns:
        con.execute("ALTER TABLE executions ADD COLUMN principal TEXT")


_INSERT = (
    "INSERT INTO executions (id, token, workgroup, submitted, state, doc, principal) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

#: Version 3: small result files committed with their execution's final state until they
#: are fsynced (``QueryStore.save``). Idempotent like every first step.
_UNSYNCED = """
CREATE TABLE IF NOT EXISTS unsynced_results (
  uri TEXT PRIMARY KEY, execution TEXT NOT NULL, data BLOB NOT NULL);
"""

#: The schema steps of queries.sqlite, by version (see ``lakebox.metadata.sqlite.migrate``).
MIGRATIONS: tuple[metadb.Migration, ...] = (_SCHEMA, _principal, _UNSYNCED)


class QueryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = metadb.SQLiteStore(path, MIGRATIONS, synchronous="NORMAL")
        if not self._con().execute("SELECT 1 FROM workgroups WHERE name='primary'").fetchone():
            try:
                self.create_workgroup(WorkGroup("primary", description="The default workgroup"))
            except AlreadyExistsError:
                pass

    def _con(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._db.connection()

    @contextmanager
    def _durable(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, whose commits inside the block are fsynced."""
        con = self._con()
        con.execute("PRAGMA synchronous=FULL")
        try:
            yield con
        finally:
            con.execute("PRAGMA synchronous=NORMAL")

    # -- executions ---------------------------------------------------------------------
    def insert(self, qe: QueryExecution, durable: bool = True) -> QueryExecution:
        """Insert a new execution; with a client request token already used, return the
        execution that token created instead (Athena's idempotency). ``durable``: fsynced
        before the call returns, for an id acknowledged to the caller before the execution
        ends, which must survive a power loss (as FAILED, by ``QueryService.recover``).
        ``QueryService.run`` acknowledges the id only with the fsynced final state, which
        makes this commit durable too: WAL frames are replayed in order, and an fsync of
        the log covers every frame written before it."""
        row = (
            qe.query_execution_id,
            qe.client_request_token,
            qe.workgroup,
            qe.submission_time,
            qe.state,
            json.dumps(qe.to_dict()),
            qe.principal_arn,
        )
        with contextlib.ExitStack() as stack:
            if durable:
                stack.enter_context(self._durable())
            if not qe.client_request_token:  # one statement: autocommit is its transaction
                self._con().execute(_INSERT, row)
                return qe
            with self._db.transaction() as con:
                found = con.execute(
                    "SELECT doc FROM executions WHERE token=?", (qe.client_request_token,)
                ).fetchone()
                if found is not None:
                    return QueryExecution.from_dict(json.loads(found[0]))
                con.execute(_INSERT, row)
        return qe

    def save(self, qe: QueryExecution, unsynced: Sequence[tuple[str, bytes]] = ()) -> None:
        """Store ``qe``'s new state; a final state is fsynced (see the module docstring).
        ``unsynced``: result files (URI, bytes) written without an fsync, committed in the
        same transaction, so the result is as durable as its SUCCEEDED state; they stay
        here until ``forget_unsynced`` (once fsynced) and are restored from here after a
        power loss (``QueryService.recover``)."""
        update = (
            "UPDATE executions SET state=?, doc=? WHERE id=?",
            (qe.state, json.dumps(qe.to_dict()), qe.query_execution_id),
        )
        if not qe.done:
            self._con().execute(*update)
            return
        with self._durable():
            if not unsynced:
                self._con().execute(*update)
                return
            with self._db.transaction() as con:
                con.execute(*update)
                con.executemany(
                    "INSERT OR REPLACE INTO unsynced_results (uri, execution, data) "
                    "VALUES (?, ?, ?)",
                    [(uri, qe.query_execution_id, data) for uri, data in unsynced],
                )

    def unsynced(self) -> list[tuple[str, bytes]]:
        """Result files committed with their execution, perhaps not yet fsynced."""
        rows = self._con().execute("SELECT uri, data FROM unsynced_results").fetchall()
        return [(uri, bytes(data)) for uri, data in rows]

    def forget_unsynced(self, uris: Sequence[str]) -> None:
        """Drop the committed copies of result files that are now fsynced. Not fsynced
        itself: a copy that a power loss brings back is only checked once more."""
        with self._db.transaction() as con:
            con.executemany("DELETE FROM unsynced_results WHERE uri=?", [(u,) for u in uris])

    def get(self, query_id: str) -> QueryExecution:
        row = self._con().execute("SELECT doc FROM executions WHERE id=?", (query_id,)).fetchone()
        if row is None:
            raise InvalidRequestError(f"QueryExecution {query_id} was not found")
        return QueryExecution.from_dict(json.loads(row[0]))

    def recent(
        self, workgroup: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[QueryExecution]:
        if workgroup is None:
            rows = (
                self._con()
                .execute(
                    "SELECT doc FROM executions ORDER BY submitted DESC LIMIT ? OFFSET ?",
                    (limit, offset),
                )
                .fetchall()
            )
        else:
            rows = (
                self._con()
                .execute(
                    "SELECT doc FROM executions WHERE workgroup=? ORDER BY submitted DESC "
                    "LIMIT ? OFFSET ?",
                    (workgroup, limit, offset),
                )
                .fetchall()
            )
        return [QueryExecution.from_dict(json.loads(r[0])) for r in rows]

    def unfinished(self) -> list[QueryExecution]:
        rows = (
            self._con()
            .execute("SELECT doc FROM executions WHERE state IN ('QUEUED', 'RUNNING')")
            .fetchall()
        )
        return [QueryExecution.from_dict(json.loads(r[0])) for r in rows]

    def all_in(self, workgroup: str) -> list[QueryExecution]:
        rows = (
            self._con()
            .execute("SELECT doc FROM executions WHERE workgroup=?", (workgroup,))
            .fetchall()
        )
        return [QueryExecution.from_dict(json.loads(r[0])) for r in rows]

    def reusable(
        self,
        query: str,
        database: str,
        workgroup: str,
        since: float,
        principal_arn: str,
        policy_version: int,
    ) -> list[QueryExecution]:
        """Earlier successful runs of ``query`` whose results may serve a new execution:
        the same principal's, under the same visibility policy version, never another's."""
        rows = (
            self._con()
            .execute(
                "SELECT doc FROM executions WHERE workgroup=? AND state='SUCCEEDED' AND "
                "submitted >= ? ORDER BY submitted DESC",
                (workgroup, since),
            )
            .fetchall()
        )
        found = [QueryExecution.from_dict(json.loads(r[0])) for r in rows]
        return [
            q
            for q in found
            if q.query == query
            and q.database == database
            and q.principal_arn == principal_arn
            and q.policy_version == policy_version
            and q.result_fingerprint
            and not q.reused_previous_result
        ]

    # -- workgroups ---------------------------------------------------------------------
    def create_workgroup(self, wg: WorkGroup) -> None:
        try:
            with self._durable() as con:
                con.execute(
                    "INSERT INTO workgroups VALUES (?, ?)", (wg.name, json.dumps(wg.to_dict()))
                )
        except sqlite3.IntegrityError as err:
            raise AlreadyExistsError(f"WorkGroup {wg.name} is already created") from err

    def get_workgroup(self, name: str) -> WorkGroup:
        row = self._con().execute("SELECT doc FROM workgroups WHERE name=?", (name,)).fetchone()
        if row is None:
            raise EntityNotFoundError(f"WorkGroup {name} is not found.")
        return WorkGroup.from_dict(json.loads(row[0]))

    def update_workgroup(self, wg: WorkGroup) -> None:
        with self._durable() as con:
            cur = con.execute(
                "UPDATE workgroups SET doc=? WHERE name=?", (json.dumps(wg.to_dict()), wg.name)
            )
        if cur.rowcount == 0:
            raise EntityNotFoundError(f"WorkGroup {wg.name} is not found.")

    def delete_workgroup(self, name: str) -> None:
        with self._durable() as con:
            cur = con.execute("DELETE FROM workgroups WHERE name=?", (name,))
        if cur.rowcount == 0:
            raise EntityNotFoundError(f"WorkGroup {name} is not found.")

    def list_workgroups(self) -> list[WorkGroup]:
        rows = self._con().execute("SELECT doc FROM workgroups ORDER BY name").fetchall()
        return [WorkGroup.from_dict(json.loads(r[0])) for r in rows]
