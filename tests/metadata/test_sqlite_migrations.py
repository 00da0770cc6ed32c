"""Schema versions and migrations of the metadata stores (``SQLiteStore`` / ``migrate``)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from lakebox.catalog import store as catalog_store
from lakebox.crawler import store as crawler_store
from lakebox.metadata import sqlite as metadb
from lakebox.metadata.sqlite import MetadataVersionError, SQLiteStore
from lakebox.query import store as query_store
from lakebox.workflows import jobs as job_store
from lakebox.workflows import store as workflow_store
from metadata.test_sqlite import STORES

V1 = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT); INSERT INTO t VALUES ('a;b', 'x');"
V2 = "ALTER TABLE t ADD COLUMN n INTEGER NOT NULL DEFAULT 7"


def _version(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()


def test_a_new_store_runs_every_migration_and_records_the_version(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite", [V1, V2])
    rows = store.connection().execute("SELECT k, v, n FROM t").fetchall()
    store.close()
    assert rows == [("a;b", "x", 7)]
    assert _version(tmp_path / "s.sqlite") == 2


def test_an_older_store_runs_only_the_migrations_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = SQLiteStore(path, [V1])
    first.connection().execute("INSERT INTO t VALUES ('kept', 'y')")
    first.close()

    second = SQLiteStore(path, [V1, V2])  # V1 again would fail on the primary key
    rows = second.connection().execute("SELECT k, n FROM t ORDER BY k").fetchall()
    second.close()
    assert rows == [("a;b", 7), ("kept", 7)]
    assert _version(path) == 2


def test_a_store_newer_than_this_lakebox_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path, [V1, V2]).close()
    with pytest.raises(MetadataVersionError, match="schema version 2, newer than the 1"):
        SQLiteStore(path, [V1])
    assert _version(path) == 2


def test_a_failing_migration_leaves_the_store_at_its_last_whole_version(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    bad = "ALTER TABLE t ADD COLUMN n INTEGER; INSERT INTO missing VALUES (1)"
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        SQLiteStore(path, [V1, bad])
    assert _version(path) == 1
    store = SQLiteStore(path, [V1, V2])
    assert store.connection().execute("SELECT n FROM t").fetchall() == [(7,)]
    store.close()


def test_migrations_may_be_functions(tmp_path: Path) -> None:
    def fill(con: metadb.Connection) -> None:
        con.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [("b", "1"), ("c", "2")])

    store = SQLiteStore(tmp_path / "s.sqlite", [V1, fill])
    assert store.connection().execute("SELECT count(*) FROM t").fetchone() == (3,)
    store.close()


def test_stores_opened_at_once_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path, [V1]).close()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_store() -> None:
        start.wait()
        try:
            SQLiteStore(path, [V1, V2]).close()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _version(path) == 2


def test_each_thread_has_its_own_connection_and_close_ends_them_all(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite", [V1])
    mine = store.connection()
    theirs: list[metadb.Connection] = []
    thread = threading.Thread(target=lambda: theirs.append(store.connection()))
    thread.start()
    thread.join()
    assert store.connection() is mine and theirs[0] is not mine
    assert mine.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        mine.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        theirs[0].execute("SELECT 1")


def test_a_transaction_commits_or_rolls_back_as_a_whole(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite", [V1])
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as con:
        con.execute("INSERT INTO t VALUES ('new', 'z')")
        con.execute("INSERT INTO t VALUES ('a;b', 'duplicate')")
    with store.transaction() as con:
        con.execute("INSERT INTO t VALUES ('later', 'z')")
    keys = [k for (k,) in store.connection().execute("SELECT k FROM t ORDER BY k")]
    store.close()
    assert keys == ["a;b", "later"]


@pytest.mark.parametrize(
    ("file", "migrations"),
    [
        ("catalog.sqlite", catalog_store.MIGRATIONS),
        ("queries.sqlite", query_store.MIGRATIONS),
        ("workflows.sqlite", workflow_store.MIGRATIONS),
        ("crawlers.sqlite", crawler_store.MIGRATIONS),
        ("glue-jobs.sqlite", job_store.MIGRATIONS),
    ],
)
def test_each_store_declares_as_many_migrations_as_its_registered_version(
    file: str, migrations: tuple[metadb.Migration, ...]
) -> None:
    assert len(migrations) == metadb.schema_version(file)


@pytest.mark.parametrize("old_version", [0, 1])
@pytest.mark.parametrize("store", list(STORES))
def test_every_store_opens_a_lake_made_before_migrations(
    tmp_path: Path, store: str, old_version: int
) -> None:
    """Lakes written by earlier lakebox releases: version 1 (one schema script) or 0 (from
    before versions were kept). They open, keep their data and are brought to the current
    version."""
    file, build = STORES[store]
    path = tmp_path / "lake" / "_lakebox" / file
    path.parent.mkdir(parents=True)
    use = build(path)
    expected = use()
    assert expected
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(f"PRAGMA user_version = {old_version}")
    con.close()

    assert use() == expected
    assert _version(path) == metadb.schema_version(file)
