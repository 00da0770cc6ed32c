"""Lake Formation's store: ``_lakebox/lakeformation.sqlite``.

Every change runs in one write transaction (``SQLiteStore.transaction``: ``BEGIN
IMMEDIATE``, so writers of several processes queue) and bumps ``meta.generation`` in the
same transaction: a reader that sees the new generation sees the whole change, and the
service's cached evaluation is rebuilt from it (``policy_version``). A crash leaves the
store at a whole change.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lakebox.governance import FILE
from lakebox.governance.model import (
    IAM_ALLOWED_PRINCIPALS,
    DataCellsFilter,
    DataLakeSettings,
    Grant,
    LFTag,
    Registration,
    Resource,
    TagAssignment,
)
from lakebox.metadata.sqlite import Connection, SQLiteStore

MIGRATIONS = (
    """
    CREATE TABLE meta (generation INTEGER NOT NULL);
    INSERT INTO meta VALUES (0);
    CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
    CREATE TABLE permissions (
        principal TEXT NOT NULL,
        resource_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        resource TEXT NOT NULL,
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        perms TEXT NOT NULL,
        grantable TEXT NOT NULL,
        updated REAL NOT NULL,
        updated_by TEXT NOT NULL,
        PRIMARY KEY (principal, resource_key)
    );
    CREATE INDEX permissions_by_object ON permissions (db, tbl);
    CREATE TABLE locations (
        arn TEXT PRIMARY KEY,
        role_arn TEXT NOT NULL,
        service_linked INTEGER NOT NULL,
        hybrid INTEGER NOT NULL,
        federation INTEGER NOT NULL,
        modified REAL NOT NULL
    );
    CREATE TABLE opt_ins (
        principal TEXT NOT NULL,
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (principal, db, tbl)
    );
    CREATE TABLE lf_tags (key TEXT PRIMARY KEY, vals TEXT NOT NULL);
    CREATE TABLE tag_assignments (
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        col TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (db, tbl, col, key)
    );
    CREATE TABLE filters (
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        name TEXT NOT NULL,
        row_filter TEXT,
        columns TEXT,
        excluded TEXT,
        version INTEGER NOT NULL,
        PRIMARY KEY (db, tbl, name)
    );
    CREATE TABLE objects (
        db TEXT NOT NULL,
        tbl TEXT NOT NULL,
        creator TEXT,
        created REAL NOT NULL,
        PRIMARY KEY (db, tbl)
    );
    INSERT INTO permissions VALUES ('IAM_ALLOWED_PRINCIPALS', '{"k":"CATALOG"}', 'CATALOG',
        '{"k":"CATALOG"}', '', '', '["CREATE_DATABASE"]', '[]', 0, 'lakebox');
    """,
    # the settings in force since each change: an object no door reported gets the
    # default permissions in force when it was made
    """
    CREATE TABLE settings_history (changed REAL NOT NULL, doc TEXT NOT NULL);
    """,
    # an LF-tag's creator may change and delete it
    """
    ALTER TABLE lf_tags ADD COLUMN creator TEXT;
    """,
)


@dataclass(frozen=True)
class PolicyState:
    """Everything the evaluation reads, at one generation."""

    generation: int
    settings: DataLakeSettings
    grants: tuple[Grant, ...]
    locations: tuple[Registration, ...]
    opt_ins: frozenset[tuple[str, str, str]]
    tags: tuple[LFTag, ...]
    assignments: tuple[TagAssignment, ...]
    filters: tuple[DataCellsFilter, ...]
    #: (db, table) -> creator ARN (None: made before governance, or by no one known)
    objects: dict[tuple[str, str], str | None]
    #: (since, settings): the settings in force from each time on, oldest first
    history: tuple[tuple[float, DataLakeSettings], ...] = ()


def _resource(text: str, catalog_id: str) -> Resource:
    doc = json.loads(text)
    expression = tuple((k, tuple(v)) for k, v in doc.get("expression", []))
    return Resource(
        doc["k"],
        catalog_id,
        database=doc.get("database", ""),
        table=doc.get("table", ""),
        columns=tuple(doc["columns"]) if "columns" in doc else None,
        excluded=tuple(doc["excluded"]) if "excluded" in doc else None,
        name=doc.get("name", ""),
        values=tuple(doc.get("values", ())),
        resource_type=doc.get("resource_type", ""),
        expression=expression,
    )


class LakeFormationStore:
    """The SQLite rows behind the service; no rule is decided here."""

    def __init__(self, metadata_dir: Path, catalog_id: str) -> None:
        self.path = metadata_dir / FILE
        self.catalog_id = catalog_id
        self._db = SQLiteStore(self.path, MIGRATIONS)

    def close(self) -> None:
        self._db.close()

    def generation(self) -> int:
        row = self._db.connection().execute("SELECT generation FROM meta").fetchone()
        return int(row[0])

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One change: its rows and the generation bump commit together."""
        with self._db.transaction() as con:
            yield con
            con.execute("UPDATE meta SET generation = generation + 1")

    def load(self) -> PolicyState:
        """The whole policy, read in one transaction (a consistent generation)."""
        con = self._db.connection()
        con.execute("BEGIN")
        try:
            generation = int(con.execute("SELECT generation FROM meta").fetchone()[0])
            row = con.execute("SELECT doc FROM settings WHERE id = 1").fetchone()
            settings = DataLakeSettings.from_json(row[0]) if row else DataLakeSettings()
            grants = tuple(
                Grant(
                    r[0],
                    _resource(r[1], self.catalog_id),
                    tuple(json.loads(r[2])),
                    tuple(json.loads(r[3])),
                    r[4],
                    r[5],
                )
                for r in con.execute(
                    "SELECT principal, resource_key, perms, grantable, updated, updated_by "
                    "FROM permissions ORDER BY principal, resource_key"
                ).fetchall()
            )
            locations = tuple(
                Registration(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), r[5])
                for r in con.execute("SELECT * FROM locations ORDER BY arn").fetchall()
            )
            opt_ins = frozenset(
                (r[0], r[1], r[2])
                for r in con.execute("SELECT principal, db, tbl FROM opt_ins").fetchall()
            )
            tags = tuple(
                LFTag(r[0], tuple(json.loads(r[1])), r[2])
                for r in con.execute(
                    "SELECT key, vals, creator FROM lf_tags ORDER BY key"
                ).fetchall()
            )
            assignments = tuple(
                TagAssignment(*r)
                for r in con.execute(
                    "SELECT db, tbl, col, key, value FROM tag_assignments ORDER BY db, tbl, col, key"
                ).fetchall()
            )
            filters = tuple(
                DataCellsFilter(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    tuple(json.loads(r[4])) if r[4] is not None else None,
                    tuple(json.loads(r[5])) if r[5] is not None else None,
                    str(r[6]),
                    self.catalog_id,
                )
                for r in con.execute("SELECT * FROM filters ORDER BY db, tbl, name").fetchall()
            )
            objects = {
                (r[0], r[1]): r[2]
                for r in con.execute("SELECT db, tbl, creator FROM objects").fetchall()
            }
            history = tuple(
                (float(r[0]), DataLakeSettings.from_json(r[1]))
                for r in con.execute(
                    "SELECT changed, doc FROM settings_history ORDER BY changed"
                ).fetchall()
            )
        finally:
            con.execute("COMMIT")
        return PolicyState(
            generation,
            settings,
            grants,
            locations,
            opt_ins,
            tags,
            assignments,
            filters,
            objects,
            history,
        )

    # -- settings ------------------------------------------------------------------------------
    @staticmethod
    def put_settings(con: Connection, settings: DataLakeSettings) -> None:
        con.execute(
            "INSERT INTO settings VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            (settings.to_json(),),
        )
        con.execute("INSERT INTO settings_history VALUES (?, ?)", (time.time(), settings.to_json()))

    # -- permissions ---------------------------------------------------------------------------
    @staticmethod
    def grant_row(con: Connection, principal: str, resource: Resource) -> tuple[set[str], set[str]]:
        row = con.execute(
            "SELECT perms, grantable FROM permissions WHERE principal = ? AND resource_key = ?",
            (principal, resource.key()),
        ).fetchone()
        if row is None:
            return set(), set()
        return set(json.loads(row[0])), set(json.loads(row[1]))

    @staticmethod
    def set_grant(
        con: Connection,
        principal: str,
        resource: Resource,
        perms: set[str],
        grantable: set[str],
        by: str,
    ) -> None:
        key = resource.key()
        if not perms and not grantable:
            con.execute(
                "DELETE FROM permissions WHERE principal = ? AND resource_key = ?", (principal, key)
            )
            return
        con.execute(
            "INSERT INTO permissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (principal, resource_key) DO UPDATE SET perms = excluded.perms, "
            "grantable = excluded.grantable, updated = excluded.updated, "
            "updated_by = excluded.updated_by",
            (
                principal,
                key,
                resource.kind,
                key,
                resource.database,
                resource.table,
                json.dumps(sorted(perms)),
                json.dumps(sorted(grantable)),
                time.time(),
                by,
            ),
        )

    @staticmethod
    def drop_object_grants(con: Connection, database: str, table: str | None) -> None:
        """Forget the grants, tags and filters of an object made anew (a database or table
        dropped and created again is a new resource, as in AWS)."""
        if table is None:
            con.execute(
                "DELETE FROM permissions WHERE db = ? AND kind IN ('DATABASE')", (database,)
            )
            con.execute("DELETE FROM tag_assignments WHERE db = ? AND tbl = ''", (database,))
        else:
            con.execute(
                "DELETE FROM permissions WHERE db = ? AND tbl = ? AND kind IN "
                "('TABLE', 'TABLE_WITH_COLUMNS', 'DATA_CELLS_FILTER')",
                (database, table),
            )
            con.execute("DELETE FROM tag_assignments WHERE db = ? AND tbl = ?", (database, table))
            con.execute("DELETE FROM filters WHERE db = ? AND tbl = ?", (database, table))

    @staticmethod
    def note_object(con: Connection, database: str, table: str, creator: str | None) -> None:
        con.execute(
            "INSERT INTO objects VALUES (?, ?, ?, ?) ON CONFLICT (db, tbl) DO UPDATE SET "
            "creator = excluded.creator, created = excluded.created",
            (database, table, creator, time.time()),
        )

    @staticmethod
    def forget_creator(con: Connection, database: str, table: str | None) -> None:
        """Forget who created a dropped table (or a dropped database and every table in
        it): an object made later under the same name is not theirs. The record stays,
        without a creator, as for an object whose defaults were written down (``None``):
        its grants survive the drop (as on AWS) and are all it holds, whatever the
        ``create_time`` a writer gives the next object of that name."""
        if table is None:
            con.execute("UPDATE objects SET creator = NULL WHERE db = ?", (database,))
        else:
            con.execute(
                "UPDATE objects SET creator = NULL WHERE db = ? AND tbl = ?", (database, table)
            )

    @staticmethod
    def has_object(con: Connection, database: str, table: str) -> bool:
        return (
            con.execute(
                "SELECT 1 FROM objects WHERE db = ? AND tbl = ?", (database, table)
            ).fetchone()
            is not None
        )

    # -- locations -----------------------------------------------------------------------------
    @staticmethod
    def put_location(con: Connection, reg: Registration, *, replace: bool) -> bool:
        try:
            con.execute(
                ("INSERT OR REPLACE" if replace else "INSERT")
                + " INTO locations VALUES (?, ?, ?, ?, ?, ?)",
                (
                    reg.resource_arn,
                    reg.role_arn,
                    int(reg.use_service_linked_role),
                    int(reg.hybrid_access),
                    int(reg.with_federation),
                    reg.last_modified,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    @staticmethod
    def location(con: Connection, arn: str) -> Registration | None:
        r = con.execute("SELECT * FROM locations WHERE arn = ?", (arn,)).fetchone()
        return (
            None
            if r is None
            else Registration(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4]), r[5])
        )

    @staticmethod
    def delete_location(con: Connection, arn: str) -> bool:
        cur = con.execute("DELETE FROM locations WHERE arn = ?", (arn,))
        if cur.rowcount:
            con.execute(
                "DELETE FROM permissions WHERE kind = 'DATA_LOCATION' AND tbl = '' AND "
                "resource_key = ?",
                (Resource("DATA_LOCATION", "", name=arn).key(),),
            )
        return bool(cur.rowcount)

    @staticmethod
    def opt_in(con: Connection, principal: str, database: str, table: str) -> None:
        con.execute(
            "INSERT OR IGNORE INTO opt_ins VALUES (?, ?, ?, ?)",
            (principal, database, table, time.time()),
        )

    @staticmethod
    def opt_out(con: Connection, principal: str, database: str, table: str) -> bool:
        cur = con.execute(
            "DELETE FROM opt_ins WHERE principal = ? AND db = ? AND tbl = ?",
            (principal, database, table),
        )
        return bool(cur.rowcount)

    # -- LF-tags -------------------------------------------------------------------------------
    @staticmethod
    def tag(con: Connection, key: str) -> LFTag | None:
        r = con.execute("SELECT key, vals, creator FROM lf_tags WHERE key = ?", (key,)).fetchone()
        return None if r is None else LFTag(r[0], tuple(json.loads(r[1])), r[2])

    @staticmethod
    def put_tag(con: Connection, tag: LFTag) -> None:
        con.execute(
            "INSERT OR REPLACE INTO lf_tags (key, vals, creator) VALUES (?, ?, ?)",
            (tag.key, json.dumps(list(tag.values)), tag.creator),
        )

    @staticmethod
    def delete_tag(con: Connection, key: str) -> None:
        con.execute("DELETE FROM lf_tags WHERE key = ?", (key,))
        con.execute("DELETE FROM tag_assignments WHERE key = ?", (key,))

    @staticmethod
    def assignments_of(con: Connection, database: str, table: str, column: str) -> dict[str, str]:
        return {
            r[0]: r[1]
            for r in con.execute(
                "SELECT key, value FROM tag_assignments WHERE db = ? AND tbl = ? AND col = ?",
                (database, table, column),
            )
        }

    @staticmethod
    def assign(con: Connection, a: TagAssignment) -> None:
        con.execute(
            "INSERT OR REPLACE INTO tag_assignments VALUES (?, ?, ?, ?, ?)",
            (a.database, a.table, a.column, a.key, a.value),
        )

    @staticmethod
    def unassign(con: Connection, database: str, table: str, column: str, key: str) -> bool:
        cur = con.execute(
            "DELETE FROM tag_assignments WHERE db = ? AND tbl = ? AND col = ? AND key = ?",
            (database, table, column, key),
        )
        return bool(cur.rowcount)

    # -- data cells filters --------------------------------------------------------------------
    @staticmethod
    def put_filter(con: Connection, f: DataCellsFilter, *, replace: bool) -> bool:
        values = (
            f.database,
            f.table,
            f.name,
            f.row_filter,
            json.dumps(list(f.columns)) if f.columns is not None else None,
            json.dumps(list(f.excluded)) if f.excluded is not None else None,
            int(f.version_id) if f.version_id.isdigit() else 0,
        )
        if replace:
            cur = con.execute(
                "UPDATE filters SET row_filter = ?, columns = ?, excluded = ?, "
                "version = version + 1 WHERE db = ? AND tbl = ? AND name = ?",
                (values[3], values[4], values[5], f.database, f.table, f.name),
            )
            return bool(cur.rowcount)
        try:
            con.execute("INSERT INTO filters VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        except sqlite3.IntegrityError:
            return False
        return True

    @staticmethod
    def delete_filter(con: Connection, database: str, table: str, name: str) -> bool:
        cur = con.execute(
            "DELETE FROM filters WHERE db = ? AND tbl = ? AND name = ?", (database, table, name)
        )
        if cur.rowcount:
            con.execute(
                "DELETE FROM permissions WHERE kind = 'DATA_CELLS_FILTER' AND resource_key = ?",
                (
                    Resource(
                        "DATA_CELLS_FILTER", "", database=database, table=table, name=name
                    ).key(),
                ),
            )
        return bool(cur.rowcount)


__all__ = ["FILE", "IAM_ALLOWED_PRINCIPALS", "LakeFormationStore", "PolicyState"]
