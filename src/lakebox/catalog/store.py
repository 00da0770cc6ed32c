"""Where catalog metadata lives. ``CatalogStore`` is the interface; ``SQLiteCatalogStore``
is the embedded default. A server database (PostgreSQL) can implement the same interface
when several hosts share one lake.

Every method is one atomic transaction. Updates of a table are compare-and-swap on its
``version``: a writer that lost the race gets ConcurrentModificationError instead of
silently overwriting the winner. Names are stored lower-cased, as Glue does.
"""

from __future__ import annotations

import fnmatch
import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lakebox import names
from lakebox.catalog.model import Database, Partition, Table
from lakebox.errors import (
    AlreadyExistsError,
    ConcurrentModificationError,
    EntityNotFoundError,
    InvalidRequestError,
)
from lakebox.metadata import sqlite as metadb


def matches(name: str, pattern: str | None) -> bool:
    if pattern is None:
        return True
    return any(fnmatch.fnmatchcase(name.lower(), alt.strip().lower()) for alt in pattern.split("|"))


class CatalogStore(ABC):
    """Persistent catalog. Implementations must make each call atomic and safe across
    processes."""

    # databases
    @abstractmethod
    def create_database(self, db: Database, if_not_exists: bool = False) -> bool: ...
    @abstractmethod
    def get_database(self, name: str) -> Database: ...
    @abstractmethod
    def list_databases(self, pattern: str | None = None) -> list[Database]: ...
    @abstractmethod
    def drop_database(self, name: str, cascade: bool = False, if_exists: bool = False) -> bool: ...

    # tables
    @abstractmethod
    def create_table(
        self, table: Table, if_not_exists: bool = False, replace: bool = False
    ) -> bool: ...
    @abstractmethod
    def get_table(self, database: str, name: str) -> Table: ...
    @abstractmethod
    def list_tables(self, database: str, pattern: str | None = None) -> list[Table]: ...
    @abstractmethod
    def update_table(self, table: Table) -> Table: ...
    @abstractmethod
    def drop_table(self, database: str, name: str, if_exists: bool = False) -> bool: ...

    # partitions
    @abstractmethod
    def add_partitions(self, partitions: list[Partition], if_not_exists: bool = False) -> int: ...
    @abstractmethod
    def get_partitions(self, database: str, table: str) -> list[Partition]: ...
    @abstractmethod
    def drop_partitions(
        self, database: str, table: str, values: list[list[str]], if_exists: bool = False
    ) -> int: ...

    def get_partition(self, database: str, table: str, values: list[str]) -> Partition:
        """One partition by its values (EntityNotFoundError if the table has none such)."""
        for part in self.get_partitions(database, table):
            if part.values == values:
                return part
        self.get_table(database, table)
        raise EntityNotFoundError(
            f"Partition {values} of {database.lower()}.{table.lower()} not found."
        )

    def update_partition(
        self, database: str, table: str, values: list[str], new: Partition
    ) -> None:
        """Replace partition ``values`` by ``new`` (whose values may differ: a rename).
        Stores that can should do it in one transaction, as SQLiteCatalogStore does."""
        self.get_partition(database, table, values)
        self.drop_partitions(database, table, [values])
        self.add_partitions([new])

    def update_database(self, db: Database) -> None:
        """Replace a database's description, location and parameters (not its name)."""
        raise NotImplementedError

    @abstractmethod
    def generation(self) -> int:
        """A counter bumped on every change; caches compare it to stay correct."""

    def table_exists(self, database: str, name: str) -> bool:
        try:
            self.get_table(database, name)
        except EntityNotFoundError:
            return False
        return True

    def database_exists(self, name: str) -> bool:
        try:
            self.get_database(name)
        except EntityNotFoundError:
            return False
        return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
  db TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (db, name));
CREATE TABLE IF NOT EXISTS partitions (
  db TEXT NOT NULL, tbl TEXT NOT NULL, vkey TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (db, tbl, vkey));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', 0);
"""

#: The schema steps of catalog.sqlite, by version (see ``lakebox.metadata.sqlite.migrate``).
MIGRATIONS: tuple[metadb.Migration, ...] = (_SCHEMA,)


def _check_columns(table: Table, existing: set[str]) -> None:
    """Glue's rule for the columns a call adds; names the table had before are kept as
    they are, so a table created under older rules can still be updated. A view's columns
    are aliases of its query and never reach storage, so they are not checked."""
    if table.is_view:
        return
    for col in table.columns:
        if col.name not in existing:
            names.glue_column(col.name)
    for col in table.partition_keys:
        if col.name not in existing:
            names.glue_column(col.name, "partition column")


class SQLiteCatalogStore(CatalogStore):
    """SQLite in WAL mode; writers take the database lock up front (BEGIN IMMEDIATE) so
    concurrent processes serialise instead of failing, and each call is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = metadb.SQLiteStore(path, MIGRATIONS, synchronous="NORMAL")

    def _con(self) -> sqlite3.Connection:
        """This thread's connection."""
        return self._db.connection()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._db.transaction() as con:
            yield con
            con.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def _read(self) -> sqlite3.Connection:
        return self._con()

    def generation(self) -> int:
        row = self._read().execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0])

    # -- databases ----------------------------------------------------------------------
    def create_database(self, db: Database, if_not_exists: bool = False) -> bool:
        db.name = names.glue_database(db.name)
        with self._write() as con:
            if con.execute("SELECT 1 FROM databases WHERE name=?", (db.name,)).fetchone():
                if if_not_exists:
                    return False
                raise AlreadyExistsError(f"Database {db.name} already exists")
            con.execute("INSERT INTO databases VALUES (?, ?)", (db.name, json.dumps(db.to_dict())))
        return True

    def get_database(self, name: str) -> Database:
        row = (
            self._read()
            .execute("SELECT doc FROM databases WHERE name=?", (name.lower(),))
            .fetchone()
        )
        if row is None:
            raise EntityNotFoundError(f"Database {name.lower()} not found.")
        return Database.from_dict(json.loads(row[0]))

    def list_databases(self, pattern: str | None = None) -> list[Database]:
        rows = self._read().execute("SELECT doc FROM databases ORDER BY name").fetchall()
        dbs = [Database.from_dict(json.loads(r[0])) for r in rows]
        return [d for d in dbs if matches(d.name, pattern)]

    def drop_database(self, name: str, cascade: bool = False, if_exists: bool = False) -> bool:
        name = name.lower()
        with self._write() as con:
            if not con.execute("SELECT 1 FROM databases WHERE name=?", (name,)).fetchone():
                if if_exists:
                    return False
                raise EntityNotFoundError(f"Database {name} not found.")
            count = con.execute("SELECT count(*) FROM tables WHERE db=?", (name,)).fetchone()[0]
            if count and not cascade:
                raise InvalidRequestError(
                    f"Database {name} is not empty ({count} tables). Use DROP DATABASE "
                    f"{name} CASCADE to drop it with its tables."
                )
            con.execute("DELETE FROM partitions WHERE db=?", (name,))
            con.execute("DELETE FROM tables WHERE db=?", (name,))
            con.execute("DELETE FROM databases WHERE name=?", (name,))
        return True

    def update_database(self, db: Database) -> None:
        name = db.name.lower()
        with self._write() as con:
            row = con.execute("SELECT doc FROM databases WHERE name=?", (name,)).fetchone()
            if row is None:
                raise EntityNotFoundError(f"Database {name} not found.")
            db.name = name
            db.create_time = Database.from_dict(json.loads(row[0])).create_time
            con.execute("UPDATE databases SET doc=? WHERE name=?", (json.dumps(db.to_dict()), name))

    # -- tables -------------------------------------------------------------------------
    def _require_db(self, con: sqlite3.Connection, db: str) -> None:
        if not con.execute("SELECT 1 FROM databases WHERE name=?", (db,)).fetchone():
            raise EntityNotFoundError(f"Database {db} not found.")

    def create_table(
        self, table: Table, if_not_exists: bool = False, replace: bool = False
    ) -> bool:
        table.database, table.name = table.database.lower(), names.glue_table(table.name)
        _check_columns(table, set())
        with self._write() as con:
            self._require_db(con, table.database)
            row = con.execute(
                "SELECT version, doc FROM tables WHERE db=? AND name=?",
                (table.database, table.name),
            ).fetchone()
            if row is not None:
                if if_not_exists:
                    return False
                if not replace:
                    raise AlreadyExistsError(f"Table {table.qualified_name} already exists")
                table.version = int(row[0]) + 1
                con.execute(
                    "DELETE FROM partitions WHERE db=? AND tbl=?", (table.database, table.name)
                )
                con.execute(
                    "UPDATE tables SET version=?, doc=? WHERE db=? AND name=?",
                    (table.version, json.dumps(table.to_dict()), table.database, table.name),
                )
                return True
            table.version = 1
            con.execute(
                "INSERT INTO tables VALUES (?, ?, ?, ?)",
                (table.database, table.name, table.version, json.dumps(table.to_dict())),
            )
        return True

    def get_table(self, database: str, name: str) -> Table:
        row = (
            self._read()
            .execute(
                "SELECT doc FROM tables WHERE db=? AND name=?", (database.lower(), name.lower())
            )
            .fetchone()
        )
        if row is None:
            if not self.database_exists(database):
                raise EntityNotFoundError(f"Database {database.lower()} not found.")
            raise EntityNotFoundError(f"Table {database.lower()}.{name.lower()} not found.")
        return Table.from_dict(json.loads(row[0]))

    def list_tables(self, database: str, pattern: str | None = None) -> list[Table]:
        con = self._read()
        if not con.execute("SELECT 1 FROM databases WHERE name=?", (database.lower(),)).fetchone():
            raise EntityNotFoundError(f"Database {database.lower()} not found.")
        rows = con.execute(
            "SELECT doc FROM tables WHERE db=? ORDER BY name", (database.lower(),)
        ).fetchall()
        tables = [Table.from_dict(json.loads(r[0])) for r in rows]
        return [t for t in tables if matches(t.name, pattern)]

    def update_table(self, table: Table) -> Table:
        """Replace a table's definition if nobody changed it since ``table.version``."""
        table.database, table.name = table.database.lower(), table.name.lower()
        with self._write() as con:
            row = con.execute(
                "SELECT version, doc FROM tables WHERE db=? AND name=?",
                (table.database, table.name),
            ).fetchone()
            if row is None:
                raise EntityNotFoundError(f"Table {table.qualified_name} not found.")
            old = json.loads(row[1])
            _check_columns(
                table,
                {c["name"] for c in [*old.get("columns", []), *old.get("partition_keys", [])]},
            )
            if int(row[0]) != table.version:
                raise ConcurrentModificationError(
                    f"Table {table.qualified_name} was changed by someone else "
                    f"(version {row[0]}, expected {table.version}); reload it and retry"
                )
            table.version += 1
            table.update_time = time.time()
            con.execute(
                "UPDATE tables SET version=?, doc=? WHERE db=? AND name=?",
                (table.version, json.dumps(table.to_dict()), table.database, table.name),
            )
        return table

    def drop_table(self, database: str, name: str, if_exists: bool = False) -> bool:
        db, name = database.lower(), name.lower()
        with self._write() as con:
            row = con.execute("SELECT 1 FROM tables WHERE db=? AND name=?", (db, name)).fetchone()
            if row is None:
                if if_exists:
                    return False
                raise EntityNotFoundError(f"Table {db}.{name} not found.")
            con.execute("DELETE FROM partitions WHERE db=? AND tbl=?", (db, name))
            con.execute("DELETE FROM tables WHERE db=? AND name=?", (db, name))
        return True

    # -- partitions ---------------------------------------------------------------------
    def add_partitions(self, partitions: list[Partition], if_not_exists: bool = False) -> int:
        if not partitions:
            return 0
        added = 0
        with self._write() as con:
            seen: set[tuple[str, str, str]] = set()
            for part in partitions:
                part.database, part.table = part.database.lower(), part.table.lower()
                row = con.execute(
                    "SELECT doc FROM tables WHERE db=? AND name=?", (part.database, part.table)
                ).fetchone()
                if row is None:
                    raise EntityNotFoundError(f"Table {part.database}.{part.table} not found.")
                keys = json.loads(row[0]).get("partition_keys", [])
                if len(keys) != len(part.values):
                    raise InvalidRequestError(
                        f"Partition {part.values} has {len(part.values)} values but table "
                        f"{part.database}.{part.table} has {len(keys)} partition keys"
                    )
                vkey = json.dumps(part.values)
                key = (part.database, part.table, vkey)
                exists = (
                    key in seen
                    or con.execute(
                        "SELECT 1 FROM partitions WHERE db=? AND tbl=? AND vkey=?", key
                    ).fetchone()
                )
                if exists:
                    if if_not_exists:
                        continue
                    raise AlreadyExistsError(
                        f"Partition already exists: {dict(zip((k['name'] for k in keys), part.values, strict=True))}"
                    )
                seen.add(key)
                con.execute(
                    "INSERT INTO partitions VALUES (?, ?, ?, ?)", (*key, json.dumps(part.to_dict()))
                )
                added += 1
        return added

    def get_partitions(self, database: str, table: str) -> list[Partition]:
        rows = (
            self._read()
            .execute(
                "SELECT doc FROM partitions WHERE db=? AND tbl=? ORDER BY vkey",
                (database.lower(), table.lower()),
            )
            .fetchall()
        )
        return [Partition.from_dict(json.loads(r[0])) for r in rows]

    def update_partition(
        self, database: str, table: str, values: list[str], new: Partition
    ) -> None:
        db, tbl = database.lower(), table.lower()
        new.database, new.table = db, tbl
        with self._write() as con:
            row = con.execute("SELECT doc FROM tables WHERE db=? AND name=?", (db, tbl)).fetchone()
            if row is None:
                raise EntityNotFoundError(f"Table {db}.{tbl} not found.")
            keys = json.loads(row[0]).get("partition_keys", [])
            if len(keys) != len(new.values):
                raise InvalidRequestError(
                    f"Partition {new.values} has {len(new.values)} values but table "
                    f"{db}.{tbl} has {len(keys)} partition keys"
                )
            old_key, new_key = json.dumps(values), json.dumps(new.values)
            old = con.execute(
                "SELECT doc FROM partitions WHERE db=? AND tbl=? AND vkey=?", (db, tbl, old_key)
            ).fetchone()
            if old is None:
                raise EntityNotFoundError(f"Partition {values} of {db}.{tbl} not found.")
            if (
                new_key != old_key
                and con.execute(
                    "SELECT 1 FROM partitions WHERE db=? AND tbl=? AND vkey=?", (db, tbl, new_key)
                ).fetchone()
            ):
                raise AlreadyExistsError(f"Partition already exists: {new.values}")
            new.create_time = Partition.from_dict(json.loads(old[0])).create_time
            con.execute(
                "DELETE FROM partitions WHERE db=? AND tbl=? AND vkey=?", (db, tbl, old_key)
            )
            con.execute(
                "INSERT INTO partitions VALUES (?, ?, ?, ?)",
                (db, tbl, new_key, json.dumps(new.to_dict())),
            )

    def drop_partitions(
        self, database: str, table: str, values: list[list[str]], if_exists: bool = False
    ) -> int:
        db, tbl = database.lower(), table.lower()
        dropped = 0
        with self._write() as con:
            for vals in values:
                cur = con.execute(
                    "DELETE FROM partitions WHERE db=? AND tbl=? AND vkey=?",
                    (db, tbl, json.dumps(vals)),
                )
                if cur.rowcount == 0 and not if_exists:
                    raise EntityNotFoundError(f"Partition {vals} of {db}.{tbl} not found.")
                dropped += cur.rowcount
        return dropped
