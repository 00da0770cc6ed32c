"""SQLite persistence for state machines, executions, their history and schedules.

One file (``<metadata_dir>/workflows.sqlite``) in WAL mode so a CLI in another process can
read while an execution writes. Conditional updates (``WHERE status = 'RUNNING'``,
``WHERE last_fired_slot IS ?``) make outcomes and schedule slots first-writer-wins across
processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lakebox.metadata import sqlite as metadb
from lakebox.principal import LOCAL_ADMIN
from lakebox.workflows.history import HistoryEvent

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state_machines (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    creation_date TEXT NOT NULL,
    update_date TEXT NOT NULL,
    revision_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date TEXT NOT NULL,
    stop_date TEXT,
    owner TEXT NOT NULL,
    stop_request TEXT,
    redrive_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    previous_id INTEGER NOT NULL,
    timestamp TEXT NOT NULL,
    type TEXT NOT NULL,
    details TEXT,
    PRIMARY KEY (execution_arn, id)
);
CREATE TABLE IF NOT EXISTS task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    heartbeat TEXT
);
CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    expression TEXT NOT NULL,
    timezone TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    input TEXT NOT NULL,
    state TEXT NOT NULL,
    flexible_window_minutes INTEGER,
    start_date TEXT,
    end_date TEXT,
    creation_date TEXT NOT NULL,
    last_fired_slot TEXT,
    last_execution_arn TEXT,
    description TEXT NOT NULL DEFAULT ''
);
"""


def _principal(con: sqlite3.Connection) -> None:
    """Version 2: who started each execution (the ARN of its principal; NULL in older rows
    reads as the local administrator). Idempotent, as a store whose version was reset may
    have the column already."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(executions)")}
    if "principal" not in columns:
        con.execute("ALTER TABLE executions ADD COLUMN principal TEXT")


def _schedule_principal(con: sqlite3.Connection) -> None:
    """Version 3: who made (or last changed) each schedule, whose rights its executions
    run with (the ARN of its principal; NULL in older rows reads as the local
    administrator, as those schedules always ran). Idempotent, as ``_principal``."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(schedules)")}
    if "principal" not in columns:
        con.execute("ALTER TABLE schedules ADD COLUMN principal TEXT")


#: The schema steps of workflows.sqlite, by version (see ``lakebox.metadata.sqlite.migrate``).
MIGRATIONS: tuple[metadb.Migration, ...] = (_SCHEMA, _principal, _schedule_principal)


@dataclass(frozen=True)
class StateMachineRow:
    name: str
    arn: str
    definition: str
    role_arn: str
    type: str
    description: str
    creation_date: datetime
    update_date: datetime
    revision_id: str


@dataclass(frozen=True)
class ExecutionRow:
    arn: str
    name: str
    state_machine_arn: str
    definition: str
    status: str
    input: str | None
    output: str | None
    error: str | None
    cause: str | None
    start_date: datetime
    stop_date: datetime | None
    owner: str
    stop_request: str | None
    redrive_count: int = 0
    #: who started it
    principal_arn: str = LOCAL_ADMIN.arn


@dataclass(frozen=True)
class ScheduleRow:
    name: str
    expression: str
    timezone: str
    target_arn: str
    input: str
    state: str
    flexible_window_minutes: int | None
    start_date: datetime | None
    end_date: datetime | None
    creation_date: datetime
    last_fired_slot: datetime | None
    last_execution_arn: str | None
    description: str
    #: who made or last changed it: its executions run as this principal
    principal_arn: str = LOCAL_ADMIN.arn


#: the schedules' columns in ``ScheduleRow``'s order
_SCHEDULE_COLUMNS = (
    "name, expression, timezone, target_arn, input, state, flexible_window_minutes, "
    "start_date, end_date, creation_date, last_fired_slot, last_execution_arn, description, "
    "principal"
)


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _req_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _private(path: Path) -> None:
    """Make the store readable by the lake's own user only (mode 0600): execution histories
    hold task results in clear, a secret an ``aws-sdk:secretsmanager:getSecretValue`` task
    read among them (as Step Functions' own history does). SQLite makes its -wal and -shm
    files with the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                path.chmod(0o600)
        return
    os.close(fd)


class WorkflowStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _private(self.path)
        self._db = metadb.SQLiteStore(self.path, MIGRATIONS, timeout=30, synchronous="NORMAL")
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").chmod(0o600)

    def close(self) -> None:
        self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._db.connection().execute(sql, tuple(args))

    def _all(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.connection().execute(sql, tuple(args)).fetchall()

    # ---------------------------------------------------------------- state machines

    def insert_state_machine(self, row: StateMachineRow) -> bool:
        try:
            self._exec(
                "INSERT INTO state_machines VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    row.name,
                    row.arn,
                    row.definition,
                    row.role_arn,
                    row.type,
                    row.description,
                    _ts(row.creation_date),
                    _ts(row.update_date),
                    row.revision_id,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def update_state_machine(self, row: StateMachineRow) -> None:
        self._exec(
            "UPDATE state_machines SET definition=?, role_arn=?, description=?, update_date=?, "
            "revision_id=? WHERE arn=?",
            (
                row.definition,
                row.role_arn,
                row.description,
                _ts(row.update_date),
                row.revision_id,
                row.arn,
            ),
        )

    def get_state_machine(self, arn: str) -> StateMachineRow | None:
        rows = self._all("SELECT * FROM state_machines WHERE arn=?", (arn,))
        return self._sm(rows[0]) if rows else None

    def list_state_machines(self) -> list[StateMachineRow]:
        return [self._sm(r) for r in self._all("SELECT * FROM state_machines ORDER BY name")]

    def delete_state_machine(self, arn: str) -> bool:
        return self._exec("DELETE FROM state_machines WHERE arn=?", (arn,)).rowcount > 0

    @staticmethod
    def _sm(r: tuple[Any, ...]) -> StateMachineRow:
        return StateMachineRow(
            r[0], r[1], r[2], r[3], r[4], r[5], _req_dt(r[6]), _req_dt(r[7]), r[8]
        )

    # ---------------------------------------------------------------- executions

    def insert_execution(self, row: ExecutionRow) -> bool:
        try:
            self._exec(
                "INSERT INTO executions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.arn,
                    row.name,
                    row.state_machine_arn,
                    row.definition,
                    row.status,
                    row.input,
                    row.output,
                    row.error,
                    row.cause,
                    _ts(row.start_date),
                    _ts(row.stop_date),
                    row.owner,
                    row.stop_request,
                    row.redrive_count,
                    row.principal_arn,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def finish_execution(
        self,
        arn: str,
        status: str,
        stop: datetime,
        output: str | None,
        error: str | None,
        cause: str | None,
    ) -> bool:
        """Record the outcome unless someone else already did (first writer wins)."""
        cur = self._exec(
            "UPDATE executions SET status=?, stop_date=?, output=?, error=?, cause=? "
            "WHERE arn=? AND status='RUNNING'",
            (status, _ts(stop), output, error, cause, arn),
        )
        return cur.rowcount > 0

    def restart_execution(self, arn: str, owner: str) -> bool:
        """Redrive: back to RUNNING, unless it already is (first writer wins)."""
        cur = self._exec(
            "UPDATE executions SET status='RUNNING', stop_date=NULL, output=NULL, error=NULL, "
            "cause=NULL, stop_request=NULL, owner=?, redrive_count=redrive_count+1 "
            "WHERE arn=? AND status IN ('FAILED','ABORTED','TIMED_OUT')",
            (owner, arn),
        )
        return cur.rowcount > 0

    def request_stop(self, arn: str, reason: str) -> bool:
        cur = self._exec(
            "UPDATE executions SET stop_request=? WHERE arn=? AND status='RUNNING'", (reason, arn)
        )
        return cur.rowcount > 0

    def get_execution(self, arn: str) -> ExecutionRow | None:
        rows = self._all("SELECT * FROM executions WHERE arn=?", (arn,))
        return self._ex(rows[0]) if rows else None

    def list_executions(
        self, state_machine_arn: str | None = None, status: str | None = None
    ) -> list[ExecutionRow]:
        sql, args = "SELECT * FROM executions WHERE 1=1", []
        if state_machine_arn:
            sql += " AND state_machine_arn=?"
            args.append(state_machine_arn)
        if status:
            sql += " AND status=?"
            args.append(status)
        sql += " ORDER BY start_date DESC, arn"
        return [self._ex(r) for r in self._all(sql, args)]

    @staticmethod
    def _ex(r: tuple[Any, ...]) -> ExecutionRow:
        return ExecutionRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            _req_dt(r[9]),
            _dt(r[10]),
            r[11],
            r[12],
            int(r[13] or 0),
            r[14] or LOCAL_ADMIN.arn,
        )

    # ---------------------------------------------------------------- events

    def append_events(self, arn: str, events: list[HistoryEvent]) -> None:
        with self._db.transaction() as con:
            con.executemany(
                "INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?)",
                [
                    (
                        arn,
                        e.id,
                        e.previous_event_id,
                        _ts(e.timestamp),
                        e.type,
                        json.dumps(e.details) if e.details is not None else None,
                    )
                    for e in events
                ],
            )

    def events(self, arn: str) -> list[HistoryEvent]:
        rows = self._all(
            "SELECT id, previous_id, timestamp, type, details FROM events "
            "WHERE execution_arn=? ORDER BY id",
            (arn,),
        )
        return [
            HistoryEvent(
                r[0], r[1], _req_dt(r[2]), r[3], json.loads(r[4]) if r[4] is not None else None
            )
            for r in rows
        ]

    def last_event_id(self, arn: str) -> int:
        rows = self._all("SELECT MAX(id) FROM events WHERE execution_arn=?", (arn,))
        return int(rows[0][0] or 0)

    # ---------------------------------------------------------------- task tokens

    def open_token(self, token: str, execution_arn: str) -> None:
        self._exec(
            "INSERT OR REPLACE INTO task_tokens VALUES (?,?,'WAITING',NULL,NULL,NULL,NULL)",
            (token, execution_arn),
        )

    def close_token(self, token: str) -> None:
        self._exec("DELETE FROM task_tokens WHERE token=?", (token,))

    def answer_token(
        self, token: str, status: str, output: str | None, error: str | None, cause: str | None
    ) -> bool:
        cur = self._exec(
            "UPDATE task_tokens SET status=?, output=?, error=?, cause=? "
            "WHERE token=? AND status='WAITING'",
            (status, output, error, cause, token),
        )
        return cur.rowcount > 0

    def beat_token(self, token: str, when: datetime) -> bool:
        cur = self._exec(
            "UPDATE task_tokens SET heartbeat=? WHERE token=? AND status='WAITING'",
            (_ts(when), token),
        )
        return cur.rowcount > 0

    def get_token(
        self, token: str
    ) -> tuple[str, str | None, str | None, str | None, datetime | None] | None:
        rows = self._all(
            "SELECT status, output, error, cause, heartbeat FROM task_tokens WHERE token=?",
            (token,),
        )
        if not rows:
            return None
        r = rows[0]
        return r[0], r[1], r[2], r[3], _dt(r[4])

    # ---------------------------------------------------------------- schedules

    def insert_schedule(self, row: ScheduleRow) -> bool:
        try:
            self._exec(
                "INSERT INTO schedules (name, expression, timezone, target_arn, input, state, "
                "flexible_window_minutes, start_date, end_date, creation_date, "
                "last_fired_slot, last_execution_arn, description, principal) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.name,
                    row.expression,
                    row.timezone,
                    row.target_arn,
                    row.input,
                    row.state,
                    row.flexible_window_minutes,
                    _ts(row.start_date),
                    _ts(row.end_date),
                    _ts(row.creation_date),
                    _ts(row.last_fired_slot),
                    row.last_execution_arn,
                    row.description,
                    row.principal_arn,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get_schedule(self, name: str) -> ScheduleRow | None:
        rows = self._all(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE name=?", (name,))
        return self._sc(rows[0]) if rows else None

    def list_schedules(self) -> list[ScheduleRow]:
        return [
            self._sc(r)
            for r in self._all(f"SELECT {_SCHEDULE_COLUMNS} FROM schedules ORDER BY name")
        ]

    def delete_schedule(self, name: str) -> bool:
        return self._exec("DELETE FROM schedules WHERE name=?", (name,)).rowcount > 0

    def claim_slot(self, name: str, previous: datetime | None, slot: datetime) -> bool:
        """Move ``last_fired_slot`` from ``previous`` to ``slot``; False when another
        scheduler (or an earlier run) got there first, so a slot never fires twice."""
        cur = self._exec(
            "UPDATE schedules SET last_fired_slot=? WHERE name=? AND last_fired_slot IS ?",
            (_ts(slot), name, _ts(previous)),
        )
        return cur.rowcount > 0

    def update_schedule(
        self,
        name: str,
        *,
        expression: str,
        timezone: str,
        input: str,
        state: str,
        last_fired_slot: datetime | None,
        principal_arn: str,
    ) -> None:
        self._exec(
            "UPDATE schedules SET expression=?, timezone=?, input=?, state=?, "
            "last_fired_slot=?, principal=? WHERE name=?",
            (expression, timezone, input, state, _ts(last_fired_slot), principal_arn, name),
        )

    def set_last_execution(self, name: str, arn: str) -> None:
        self._exec("UPDATE schedules SET last_execution_arn=? WHERE name=?", (arn, name))

    @staticmethod
    def _sc(r: tuple[Any, ...]) -> ScheduleRow:
        return ScheduleRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            _dt(r[7]),
            _dt(r[8]),
            _req_dt(r[9]),
            _dt(r[10]),
            r[11],
            r[12],
            r[13] or LOCAL_ADMIN.arn,
        )
