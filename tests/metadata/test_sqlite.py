"""The SQLite helper every metadata store opens through: damaged files give one clear
error naming the file, and are never written over."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakebox.catalog.model import Column, Database, Table
from lakebox.catalog.store import SQLiteCatalogStore
from lakebox.config import LakeConfig
from lakebox.crawler.model import Crawler, Target
from lakebox.crawler.store import CrawlerStore
from lakebox.metadata import sqlite as metadb
from lakebox.metadata.sqlite import MetadataCorruptError, MetadataVersionError
from lakebox.query.store import QueryStore
from lakebox.session import Lake
from lakebox.workflows.jobs import JobRegistry
from metadata.damage import KINDS, damage, settle


def _catalog(path: Path) -> Callable[[], Any]:
    store = SQLiteCatalogStore(path)
    store.create_database(Database("shop"))
    for i in range(40):
        store.create_table(Table("shop", f"t{i}", [Column("a", "int")], location=f"s3://b/{i}/"))
    store._con().close()
    return lambda: SQLiteCatalogStore(path).list_tables("shop")


def _queries(path: Path) -> Callable[[], Any]:
    from lakebox.query.model import WorkGroup

    store = QueryStore(path)
    for i in range(40):
        store.create_workgroup(WorkGroup(f"wg{i}", description="x" * 200))
    store._con().close()
    return lambda: QueryStore(path).list_workgroups()


def _workflows(path: Path) -> Callable[[], Any]:
    from lakebox.workflows.service import WorkflowService

    service = WorkflowService(db_path=path)
    definition = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    for i in range(30):
        service.create_state_machine(f"m{i}", definition)
    service.close()

    def use() -> Any:
        again = WorkflowService(db_path=path)
        try:
            return again.list_state_machines()
        finally:
            again.close()

    return use


def _crawlers(path: Path) -> Callable[[], Any]:
    store = CrawlerStore(path)
    for i in range(40):
        store.create(Crawler(f"c{i}", "shop", [Target(f"s3://b/{i}/")], description="x" * 200))
    return lambda: CrawlerStore(path).all()


def _jobs(path: Path) -> Callable[[], Any]:
    lake = Lake(LakeConfig.from_env(home=path.parent.parent))
    registry = JobRegistry(lake)
    for i in range(40):
        registry.register_job(f"j{i}", path.parent / "script.py", description="x" * 200)
    lake.close()

    def use() -> Any:
        again = Lake(LakeConfig.from_env(home=path.parent.parent))
        try:
            return JobRegistry(again).list_jobs()
        finally:
            again.close()

    return use


STORES: dict[str, tuple[str, Callable[[Path], Callable[[], Any]]]] = {
    "catalog": ("catalog.sqlite", _catalog),
    "queries": ("queries.sqlite", _queries),
    "workflows": ("workflows.sqlite", _workflows),
    "crawlers": ("crawlers.sqlite", _crawlers),
    "glue-jobs": ("glue-jobs.sqlite", _jobs),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("store", list(STORES))
def test_damaged_store_raises_one_error_naming_the_file_and_is_left_as_it_was(
    tmp_path: Path, store: str, kind: str
) -> None:
    file, build = STORES[store]
    path = tmp_path / "lake" / "_lakebox" / file
    path.parent.mkdir(parents=True)
    use = build(path)
    assert use()  # healthy: the store answers
    damage(path, kind)
    before = _digest(path)

    with pytest.raises(MetadataCorruptError) as caught:
        use()

    message = str(caught.value)
    assert str(path) in message
    assert "lakebox doctor" in message and "lakebox restore" in message
    assert "\n" not in message
    assert caught.value.path == path
    assert _digest(path) == before, "a damaged store must not be written over"


def test_missing_and_empty_files_are_new_stores(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    assert metadb.header_problem(tmp_path / "missing.sqlite") is None
    assert metadb.header_problem(empty) is None
    store = SQLiteCatalogStore(empty)
    assert store.list_databases() == []


def test_folder_in_place_of_a_store_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "catalog.sqlite"
    folder.mkdir()
    with pytest.raises(MetadataCorruptError, match="folder"):
        SQLiteCatalogStore(folder)


def test_corruption_met_while_fetching_rows_is_translated(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite"
    con = metadb.connect(path)
    con.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", ((i, "v" * 300) for i in range(2000)))
    con.commit()
    con.close()
    settle(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    last = len(data) - page  # a leaf near the end: met only after many rows were fetched
    for i in range(last, last + 16):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))

    con = metadb.connect(path)
    cursor = con.execute("SELECT v FROM t ORDER BY k")
    with pytest.raises(MetadataCorruptError, match="malformed"):
        for _ in cursor:
            pass
    con.close()


def test_other_sqlite_errors_keep_their_type(tmp_path: Path) -> None:
    con = metadb.connect(tmp_path / "x.sqlite")
    con.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    con.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO t VALUES ('a')")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        con.execute("SELECT * FROM missing")
    con.close()


def test_store_written_by_a_newer_lakebox_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    SQLiteCatalogStore(path)._con().close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(MetadataVersionError, match="schema version 99"):
        SQLiteCatalogStore(path)


def test_store_from_before_versions_keeps_its_data_and_gets_a_version(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    store = SQLiteCatalogStore(path)
    store.create_database(Database("kept"))
    con = store._con()
    con.execute("PRAGMA user_version = 0")
    con.close()

    again = SQLiteCatalogStore(path)
    assert [d.name for d in again.list_databases()] == ["kept"]
    version = again._con().execute("PRAGMA user_version").fetchone()[0]
    assert version == metadb.schema_version("catalog.sqlite")


def test_every_store_file_the_code_opens_is_registered() -> None:
    src = Path(metadb.__file__).parents[1]
    opened = set()
    for py in src.rglob("*.py"):
        opened.update(re.findall(r'"([a-z][a-z0-9-]*\.sqlite)"', py.read_text()))
    assert "catalog.sqlite" in opened
    assert opened <= {s.file for s in metadb.STORES}
