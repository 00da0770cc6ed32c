"""The SQLite catalog store: Glue semantics, atomic calls, and several processes at once."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakebox.catalog.model import Column, Database, Partition, Table
from lakebox.catalog.store import SQLiteCatalogStore, matches
from lakebox.errors import (
    AlreadyExistsError,
    ConcurrentModificationError,
    EntityNotFoundError,
    InvalidRequestError,
)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteCatalogStore:
    s = SQLiteCatalogStore(tmp_path / "catalog.sqlite")
    s.create_database(Database("sales"))
    return s


def make_table(name: str, db: str = "sales", keys: int = 1) -> Table:
    return Table(
        db,
        name,
        columns=[Column("a", "int")],
        partition_keys=[Column(f"k{i}", "string") for i in range(keys)],
        location=f"s3://b/{name}/",
    )


def test_names_are_stored_lower_case(store: SQLiteCatalogStore) -> None:
    store.create_table(make_table("Orders", db="SALES"))
    table = store.get_table("Sales", "ORDERS")
    assert (table.database, table.name, table.version) == ("sales", "orders", 1)
    assert [t.name for t in store.list_tables("sales")] == ["orders"]


def test_update_table_accepts_mixed_case_names(store: SQLiteCatalogStore) -> None:
    store.create_table(make_table("orders"))
    table = store.get_table("sales", "orders")
    table.database, table.name = "SALES", "Orders"
    table.parameters["x"] = "1"
    assert store.update_table(table).version == 2
    assert store.get_table("sales", "orders").parameters == {"x": "1"}


def test_missing_entities_are_named(store: SQLiteCatalogStore) -> None:
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        store.get_table("nodb", "t")
    with pytest.raises(EntityNotFoundError, match=r"Table sales\.t not found"):
        store.get_table("sales", "t")
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        store.create_table(make_table("t", db="nodb"))
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        store.list_tables("nodb")


def test_create_table_if_not_exists_and_replace(store: SQLiteCatalogStore) -> None:
    assert store.create_table(make_table("t"))
    with pytest.raises(AlreadyExistsError):
        store.create_table(make_table("t"))
    assert not store.create_table(make_table("t"), if_not_exists=True)
    store.add_partitions([Partition("sales", "t", ["a"])])
    replacement = make_table("t", keys=2)
    assert store.create_table(replacement, replace=True)
    assert store.get_table("sales", "t").version == 2
    assert store.get_partitions("sales", "t") == []


def test_drop_database_restrict_and_cascade(store: SQLiteCatalogStore) -> None:
    store.create_table(make_table("t"))
    store.add_partitions([Partition("sales", "t", ["a"])])
    with pytest.raises(InvalidRequestError, match="not empty"):
        store.drop_database("sales")
    assert store.drop_database("sales", cascade=True)
    store.create_database(Database("sales"))
    store.create_table(make_table("t"))
    assert store.get_partitions("sales", "t") == []
    assert not store.drop_database("nodb", if_exists=True)


def test_add_partitions_is_one_transaction(store: SQLiteCatalogStore) -> None:
    store.create_table(make_table("t"))
    store.add_partitions([Partition("sales", "t", ["a"])])
    generation = store.generation()
    with pytest.raises(AlreadyExistsError, match="k0"):
        store.add_partitions([Partition("sales", "t", ["b"]), Partition("sales", "t", ["a"])])
    assert [p.values for p in store.get_partitions("sales", "t")] == [["a"]]
    assert store.generation() == generation
    with pytest.raises(InvalidRequestError, match="2 values"):
        store.add_partitions([Partition("sales", "t", ["x", "y"])])
    assert (
        store.add_partitions(
            [
                Partition("sales", "t", ["b"]),
                Partition("sales", "t", ["a"]),
                Partition("sales", "t", ["b"]),
            ],
            if_not_exists=True,
        )
        == 1
    )


def test_drop_partitions_all_or_nothing(store: SQLiteCatalogStore) -> None:
    store.create_table(make_table("t"))
    store.add_partitions([Partition("sales", "t", [v]) for v in "abc"])
    with pytest.raises(EntityNotFoundError):
        store.drop_partitions("sales", "t", [["a"], ["zz"]])
    assert len(store.get_partitions("sales", "t")) == 3
    assert store.drop_partitions("sales", "t", [["a"], ["zz"]], if_exists=True) == 1


def test_update_table_refuses_a_stale_version(store: SQLiteCatalogStore, tmp_path: Path) -> None:
    store.create_table(make_table("t"))
    other = SQLiteCatalogStore(tmp_path / "catalog.sqlite")
    mine, theirs = store.get_table("sales", "t"), other.get_table("sales", "t")
    theirs.parameters["who"] = "them"
    other.update_table(theirs)
    mine.parameters["who"] = "me"
    with pytest.raises(ConcurrentModificationError, match="reload it and retry"):
        store.update_table(mine)
    assert store.get_table("sales", "t").parameters == {"who": "them"}


@pytest.mark.parametrize(
    ("name", "pattern", "expected"),
    [
        ("orders", None, True),
        ("orders", "ord*", True),
        ("orders", "cust*|ord*", True),
        ("orders", "cust*", False),
        ("Orders", "ORDERS", True),
        ("orders", "order", False),
    ],
)
def test_like_patterns(name: str, pattern: str | None, expected: bool) -> None:
    assert matches(name, pattern) is expected


# -- several processes ----------------------------------------------------------------------
WORKERS = 3
PER_WORKER = 40


def _add_partitions_and_tables(path: str, worker: int) -> None:
    store = SQLiteCatalogStore(Path(path))
    for i in range(PER_WORKER):
        store.add_partitions([Partition("sales", "shared", [f"w{worker}-{i}"])])
        if i % 5 == 0:
            store.create_table(make_table(f"t_{worker}_{i}"))


def _bump_parameters(path: str, worker: int) -> None:
    """Read-modify-write with compare-and-swap; retries when another process won."""
    store = SQLiteCatalogStore(Path(path))
    for i in range(PER_WORKER):
        while True:
            table = store.get_table("sales", "shared")
            table.parameters[f"w{worker}-{i}"] = str(i)
            try:
                store.update_table(table)
                break
            except ConcurrentModificationError:
                continue


def _run_workers(target: Callable[[str, int], None], path: Path, start_method: str) -> None:
    ctx: Any = multiprocessing.get_context(start_method)
    procs = [ctx.Process(target=target, args=(str(path), w)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * WORKERS


def test_concurrent_processes_lose_no_partitions_or_tables(
    store: SQLiteCatalogStore, tmp_path: Path
) -> None:
    store.create_table(make_table("shared"))
    _run_workers(_add_partitions_and_tables, tmp_path / "catalog.sqlite", "fork")
    values = {p.values[0] for p in store.get_partitions("sales", "shared")}
    assert values == {f"w{w}-{i}" for w in range(WORKERS) for i in range(PER_WORKER)}
    tables = {t.name for t in store.list_tables("sales")}
    assert len(tables) == 1 + WORKERS * (PER_WORKER // 5)


def test_concurrent_updates_lose_nothing_thanks_to_compare_and_swap(
    store: SQLiteCatalogStore, tmp_path: Path
) -> None:
    store.create_table(make_table("shared"))
    _run_workers(_bump_parameters, tmp_path / "catalog.sqlite", "fork")
    table = store.get_table("sales", "shared")
    assert len(table.parameters) == WORKERS * PER_WORKER
    assert table.version == 1 + WORKERS * PER_WORKER


def _stale_writer(path: str, loaded: Any, go: Any, outcome: Any) -> None:
    store = SQLiteCatalogStore(Path(path))
    table = store.get_table("sales", "shared")
    loaded.set()
    go.wait(60)
    table.parameters["writer"] = "child"
    try:
        store.update_table(table)
        outcome.put("updated")
    except ConcurrentModificationError as err:
        outcome.put(f"refused: {err.message}")


def test_a_process_holding_a_stale_version_is_refused(
    store: SQLiteCatalogStore, tmp_path: Path
) -> None:
    store.create_table(make_table("shared"))
    ctx: Any = multiprocessing.get_context("spawn")
    loaded, go, outcome = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(
        target=_stale_writer, args=(str(tmp_path / "catalog.sqlite"), loaded, go, outcome)
    )
    child.start()
    assert loaded.wait(60)
    table = store.get_table("sales", "shared")
    table.parameters["writer"] = "parent"
    store.update_table(table)
    go.set()
    result = outcome.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0
    assert result.startswith("refused:") and "version 2, expected 1" in result
    assert store.get_table("sales", "shared").parameters == {"writer": "parent"}
