"""One way to open the lake's SQLite metadata stores.

``connect`` checks the file's header before SQLite touches it (10-40 us; a full
``PRAGMA quick_check`` costs 1.3 ms on a 2 MB catalog of 1,000 tables and grows with the
store, too much for a CLI that opens stores on every command), and returns a connection whose "file is not a
database" / "database disk image is malformed" errors, wherever they surface later,
become ``MetadataCorruptError`` naming the file and what to do. A damaged store is never
replaced or written over: the header check refuses it before SQLite could, and SQLite
itself refuses to write into pages it finds corrupt.

``SQLiteStore`` is how every store uses its file: one connection per thread (re-opened in a
forked child), WAL, a busy timeout so writers of other threads and processes wait instead of
failing, writes in ``BEGIN IMMEDIATE`` transactions, and the store's numbered migrations
run once (``migrate``). The schema version lives in SQLite's ``user_version``, so a lake
written by a newer lakebox is refused instead of misread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NoReturn

from lakebox.errors import LakeboxError

#: first 16 bytes of every SQLite 3 database file
MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100

_CORRUPT = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_ACCESS = {3, 8, 10, 13, 14}  # SQLITE_PERM, _READONLY, _IOERR, _FULL, _CANTOPEN


@dataclass(frozen=True)
class StoreInfo:
    """A store lakebox keeps in the metadata folder and the schema version it writes."""

    file: str
    holds: str
    version: int = 1


#: every SQLite store of a lake; doctor and backup also take any other ``*.sqlite`` found
STORES: tuple[StoreInfo, ...] = (
    StoreInfo("catalog.sqlite", "the Data Catalog: databases, tables, partitions"),
    StoreInfo("queries.sqlite", "query executions and workgroups", version=3),
    StoreInfo("workflows.sqlite", "state machines, executions, schedules", version=3),
    StoreInfo("crawlers.sqlite", "crawlers and their runs"),
    StoreInfo("glue-jobs.sqlite", "Glue-style jobs and job runs"),
    StoreInfo("iam.sqlite", "identities: accounts, users, roles, access keys, policies"),
    StoreInfo("events.sqlite", "bucket notifications, functions, event rules, failed deliveries"),
    StoreInfo("secretsmanager.sqlite", "Secrets Manager: secrets and their sealed versions"),
    StoreInfo("sns.sqlite", "SNS: topics and subscriptions"),
    StoreInfo(
        "lakeformation.sqlite",
        "Lake Formation: settings, grants, LF-tags, data cells filters, locations",
        version=3,
    ),
)


def schema_version(file: str) -> int:
    """The schema version this lakebox writes for store ``file`` (e.g. catalog.sqlite)."""
    for store in STORES:
        if store.file == file:
            return store.version
    raise KeyError(file)


class MetadataError(LakeboxError):
    """Something is wrong with a metadata store itself, not with the request."""

    code = "InternalServerException"

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _home_option(path: Path) -> str:
    return f" --home {path.parent.parent}" if path.parent.name == "_lakebox" else ""


class MetadataCorruptError(MetadataError):
    """A store's file is not a SQLite database, or SQLite found it damaged."""

    def __init__(self, path: Path, detail: str) -> None:
        home = _home_option(path)
        super().__init__(
            f"metadata store {path} is damaged ({detail}); lakebox left it as it is. "
            f"See 'lakebox doctor{home}'; restore with 'lakebox restore BACKUP{home}'",
            path,
        )
        self.detail = detail


class MetadataAccessError(MetadataError):
    """The store's file cannot be opened, read or written (permissions, disk, I/O)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"cannot use metadata store {path} ({detail}); check that its folder exists "
            "and is writable and that the disk has space",
            path,
        )
        self.detail = detail


class MetadataVersionError(MetadataError):
    """The store was written by a newer lakebox with a schema this one does not know."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            f"metadata store {path} has schema version {found}, newer than the {known} this "
            "lakebox knows; upgrade lakebox (pip install -U lakebox) to open this lake",
            path,
        )


def header_problem(path: Path) -> str | None:
    """What is wrong with the file's SQLite header, or None when it looks like a database.
    A missing or empty file is fine: SQLite starts a new database there."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_SIZE)
            size = os.fstat(fh.fileno()).st_size
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "it is a folder, not a file"
    except OSError as err:
        raise MetadataAccessError(path, err.strerror or str(err)) from err
    if size == 0:
        return None
    if not head.startswith(MAGIC):
        return "file is not a SQLite database"
    if len(head) < HEADER_SIZE:
        return f"file is cut short: {size} bytes, less than SQLite's header"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"its header is damaged (page size {page})"
    if size % page and not _has_log(path):
        return f"file is cut short: {size} bytes is not a whole number of {page}-byte pages"
    return None


def _has_log(path: Path) -> bool:
    """A writer may be mid-way through extending the file while a -wal or -journal exists."""
    return any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))


def check_header(path: Path) -> None:
    """Raise MetadataCorruptError when ``path`` is no SQLite database."""
    problem = header_problem(path)
    if problem is not None:
        raise MetadataCorruptError(path, problem)


def _reraise(err: sqlite3.Error, path: Path) -> NoReturn:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _CORRUPT:
        raise MetadataCorruptError(path, str(err)) from err
    if code is not None and code & 0xFF in _ACCESS:
        raise MetadataAccessError(path, str(err)) from err
    raise err


class Cursor(sqlite3.Cursor):
    """A cursor whose damaged-file errors name the store (rows can fail while fetched)."""

    connection: Connection

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def executescript(self, sql_script: str, /) -> Cursor:
        try:
            super().executescript(sql_script)
            return self
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as err:
            _reraise(err, self.connection.path)


class Connection(sqlite3.Connection):
    """A connection to one metadata store; see the module docstring."""

    path: Path

    def cursor(self, factory: Any = Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        cursor: Cursor = self.cursor()
        return cursor.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Cursor:
        cursor: Cursor = self.cursor()
        return cursor.executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> Cursor:
        cursor: Cursor = self.cursor()
        return cursor.executescript(sql_script)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.DatabaseError as err:
            _reraise(err, self.path)

    def rollback(self) -> None:
        """Also safe after SQLite rolled back by itself (it does on some corruption)."""
        if not self.in_transaction:
            return
        try:
            super().rollback()
        except sqlite3.DatabaseError as err:
            _reraise(err, self.path)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return False


#: (process, real path) of every store this process has connected to: its header was
#: checked then, and must not be read again by the process (see ``connect``)
_CONNECTED: set[tuple[int, str]] = set()
_CONNECTED_LOCK = threading.Lock()


def connect(
    path: Path | str,
    *,
    timeout: float = 60.0,
    isolation_level: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None = "DEFERRED",
    check_same_thread: bool = True,
    read_only: bool = False,
) -> Connection:
    """Open the metadata store at ``path`` after checking its header; raises
    MetadataCorruptError (damaged), MetadataAccessError (cannot open)."""
    path = Path(path)
    # The header is read with a plain open() only before this process's first connection
    # to the file. Closing any descriptor of a file drops every POSIX lock the process holds
    # on it (fcntl semantics), including the shared lock by which SQLite's open WAL-mode
    # connections tell other processes they are there; without it, another process closing
    # its last connection would checkpoint and delete the -wal and -shm files under this
    # one, whose connections then read through a stale index and miss every later write
    # (a key made by `lakebox iam create-access-key` unknown to a running server).
    # Damage appearing later is still reported: SQLite raises "file is not a database".
    key = (os.getpid(), os.path.realpath(path))
    with _CONNECTED_LOCK:
        checked = key in _CONNECTED
    if not checked:
        check_header(path)
    target = f"file:{path}?mode=ro" if read_only else str(path)
    try:
        con = sqlite3.connect(
            target,
            timeout=timeout,
            isolation_level=isolation_level,
            check_same_thread=check_same_thread,
            factory=Connection,
            uri=read_only,
        )
    except sqlite3.DatabaseError as err:
        _reraise(err, path)
    con.path = path
    with _CONNECTED_LOCK:
        _CONNECTED.add(key)
    return con


#: One schema step: SQL statements, or a function for what SQL alone cannot do.
Migration = str | Callable[["Connection"], None]


def migrate(con: Connection, migrations: Sequence[Migration]) -> None:
    """Bring a store to schema version ``len(migrations)``: migration ``n`` (1-based) runs on
    stores whose version is below ``n``, each in its own transaction together with its
    version bump, so a crash leaves a store at a whole version. Several processes may open
    a store at once: the version is read again under the write lock, and a migration another
    process has run is skipped. A store newer than the list is refused (MetadataVersionError).
    Stores made before versions were kept have version 0; their first migration must be
    idempotent (``CREATE ... IF NOT EXISTS``) because their tables may already exist."""
    known = len(migrations)
    found = _user_version(con)
    if found > known:
        raise MetadataVersionError(con.path, found, known)
    for number in range(found + 1, known + 1):
        con.execute("BEGIN IMMEDIATE")
        try:
            current = _user_version(con)
            if current > known:
                raise MetadataVersionError(con.path, current, known)
            if current < number:
                step = migrations[number - 1]
                if isinstance(step, str):
                    for statement in _statements(step):
                        con.execute(statement)
                else:
                    step(con)
                con.execute(f"PRAGMA user_version = {number}")
            con.execute("COMMIT")
        except BaseException:
            con.rollback()
            raise


def _user_version(con: Connection) -> int:
    return int(con.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> Iterator[str]:
    """The statements of a SQL script (``;`` inside quotes does not end one)."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\n;"):
                yield pending.strip()
            pending = ""


class SQLiteStore:
    """The one way a metadata store uses its SQLite file.

    Each thread gets its own connection in autocommit mode, so a thread never waits on a
    Python lock another holds; SQLite's locking serialises writers across threads and
    processes, and the busy ``timeout`` makes them wait their turn. A process forked from
    the owner opens its own connections (SQLite connections must not cross a fork). Files
    are in WAL mode so readers never block writers. ``transaction`` takes the write lock
    up front (``BEGIN IMMEDIATE``), so concurrent writers queue instead of failing on
    upgrade. ``migrations`` are the store's schema steps (see :func:`migrate`).
    """

    def __init__(
        self,
        path: Path,
        migrations: Sequence[Migration],
        *,
        timeout: float = 60.0,
        synchronous: Literal["NORMAL", "FULL"] = "FULL",
    ) -> None:
        self.path = path
        self._timeout = timeout
        self._synchronous = synchronous
        self._local = threading.local()
        self._open: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._guard = threading.Lock()
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)
        migrate(self.connection(), migrations)

    def connection(self) -> Connection:
        """This thread's connection (in autocommit mode)."""
        con: Connection | None = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            return con
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        con = connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(f"PRAGMA synchronous={self._synchronous}")
        self._local.con = con
        self._local.pid = os.getpid()
        with self._guard:
            self._open.add(con)
        return con

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction on this thread's connection: committed when the block
        ends, rolled back when it raises."""
        con = self.connection()
        for attempt in range(200):
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as err:  # pragma: no cover - timing dependent
                if "locked" not in str(err) or attempt == 199:
                    raise
                time.sleep(0.05)
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.rollback()
            raise

    def close(self) -> None:
        """Close every connection this store opened, in any thread; later use fails as
        on a closed sqlite3 connection."""
        with self._guard:
            self._closed = True
            opened = list(self._open)
        for con in opened:
            con.close()
