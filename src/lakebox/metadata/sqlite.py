"""One way to open the lake's SQLite metadata stores.

``connect`` checks the file's header before SQLite touches it (10-40 us; a full
``PRAGMA quick_check`` costs 1.3 ms on a 2 MB catalog of 1,000 tables and grows with the
store, too much for a CLI that opens stores on every command), and returns a connection whose "file is not a
database" / "database disk image is malformed" errors, wherever they surface later,
become ``MetadataCorruptError`` naming the file and what to do. A damaged store is never
replaced or written over: the header check refuses it before SQLite could, and SQLite
itself refuses to write into pages it finds corrupt.

``ensure_schema`` keeps each store's schema version in SQLite's ``user_version``, so a lake
written by a newer lakebox is refused instead of misread.
"""

from __future__ import annotations

import os
import sqlite3
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
    StoreInfo("queries.sqlite", "query executions and workgroups", version=2),
    StoreInfo("workflows.sqlite", "state machines, executions, schedules"),
    StoreInfo("crawlers.sqlite", "crawlers and their runs"),
    StoreInfo("glue-jobs.sqlite", "Glue-style jobs and job runs"),
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
    return con


def ensure_schema(con: sqlite3.Connection, schema: str, version: int) -> None:
    """Create (or bring up to date) a store's tables, once per schema version: ``schema``
    must be idempotent (``CREATE ... IF NOT EXISTS``). Stores made before versions were
    kept have version 0 and get the script once."""
    found = int(con.execute("PRAGMA user_version").fetchone()[0])
    if found == version:
        return
    if found > version:
        raise MetadataVersionError(Path(getattr(con, "path", "?")), found, version)
    try:
        con.executescript(f"BEGIN IMMEDIATE;\n{schema}\nPRAGMA user_version = {version};\nCOMMIT;")
    except BaseException:
        if con.in_transaction:
            con.rollback()
        raise
