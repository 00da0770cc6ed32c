"""The access log: every access decision as one JSON line, queryable as the catalog table
``lakebox_audit.access_log`` (the way CloudTrail's logs are queried with Athena).

A record is one ``write`` of a whole line to a file opened with ``O_APPEND`` (one file
per process, so lines of several processes never interleave), with no fsync: a crash may
lose the last records the kernel had not written back, never half a line. Where the lake's
buckets are real S3, records are kept in memory and written as one new object per
``FLUSH_EVERY`` records (and when the service closes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import uuid
from typing import Any

from lakebox.catalog.model import Column, Database, Table
from lakebox.catalog.store import CatalogStore
from lakebox.storage import Storage

AUDIT_LOCATION = "s3://lakebox-audit/access_log"
FLUSH_EVERY = 200

#: the columns of ``lakebox_audit.access_log``, in the order of each JSON line
COLUMNS = (
    Column("event_time", "string", "when the decision was made (ISO 8601, UTC)"),
    Column("principal", "string", "the ARN of the principal that asked"),
    Column("account_id", "string", "the principal's account"),
    Column("action", "string", "what was asked (SELECT, DESCRIBE, lakeformation:GrantPermissions)"),
    Column("resource", "string", "what it was asked of (database.table, an S3 location)"),
    Column("allowed", "boolean", "whether it was allowed"),
    Column("request_id", "string", "the query execution id or API request id"),
)


def audit_table(database: str, table: str, location: str) -> Table:
    return Table(
        database,
        table,
        columns=list(COLUMNS),
        location=location + "/",
        input_format="org.apache.hadoop.mapred.TextInputFormat",
        output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serde_library="org.openx.data.jsonserde.JsonSerDe",
        parameters={"classification": "json", "lakebox.audit": "true"},
        comment="Lake Formation access decisions (lakebox)",
    )


class AuditLog:
    """Appends decisions under ``location``; see the module docstring."""

    def __init__(self, storage: Storage, location: str = AUDIT_LOCATION) -> None:
        self.storage = storage
        self.location = location.rstrip("/")
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._pending: list[bytes] = []

    def _file(self) -> int | None:
        """This process's log file (None when the location is not a local folder)."""
        if self._fd is not None and self._pid == os.getpid():
            return self._fd
        name = f"{self.location}/{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        path = self.storage.local_path(name)
        if path is None:
            return None
        self.storage.ensure_bucket(self.location[len("s3://") :].split("/", 1)[0])
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self._pid = os.getpid()
        return self._fd

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        with self._lock:
            fd = self._file()
            if fd is not None:
                os.write(fd, line)
                return
            self._pending.append(line)
            if len(self._pending) >= FLUSH_EVERY:
                self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        data, self._pending = b"".join(self._pending), []
        self.storage.ensure_bucket(self.location[len("s3://") :].split("/", 1)[0])
        name = f"{self.location}/{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.json"
        self.storage.write_bytes(name, data)

    def close(self) -> None:
        with self._lock:
            self._flush()
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def ensure_audit_table(catalog: CatalogStore, database: str, table: str, location: str) -> bool:
    """Make the audit database and table when they are missing; True when made now."""
    made = False
    if not catalog.database_exists(database):
        catalog.create_database(
            Database(database, description="lakebox's Lake Formation access log"),
            if_not_exists=True,
        )
        made = True
    if not catalog.table_exists(database, table):
        catalog.create_table(audit_table(database, table, location), if_not_exists=True)
        made = True
    return made
