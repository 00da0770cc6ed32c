"""The catalog store's calls Glue's UpdatePartition, GetPartition and UpdateDatabase use:
one partition by its values, a partition replaced (or renamed) in one transaction, a
database's description and parameters replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebox.catalog.model import Column, Database, Partition, Table
from lakebox.catalog.store import SQLiteCatalogStore
from lakebox.errors import AlreadyExistsError, EntityNotFoundError, InvalidRequestError


@pytest.fixture
def store(tmp_path: Path) -> SQLiteCatalogStore:
    s = SQLiteCatalogStore(tmp_path / "catalog.sqlite")
    s.create_database(Database("sales", description="before"))
    s.create_table(
        Table(
            "sales",
            "orders",
            columns=[Column("a", "int")],
            partition_keys=[Column("year", "string"), Column("month", "string")],
            location="s3://b/orders/",
        )
    )
    s.add_partitions(
        [
            Partition("sales", "orders", ["2024", "1"], "s3://b/orders/1/", {"n": "1"}),
            Partition("sales", "orders", ["2024", "2"]),
        ]
    )
    return s


def test_get_partition(store: SQLiteCatalogStore) -> None:
    part = store.get_partition("SALES", "Orders", ["2024", "1"])
    assert (part.location, part.parameters) == ("s3://b/orders/1/", {"n": "1"})
    with pytest.raises(EntityNotFoundError, match=r"Partition \['2024', '9'\]"):
        store.get_partition("sales", "orders", ["2024", "9"])
    with pytest.raises(EntityNotFoundError, match=r"Table sales\.nope"):
        store.get_partition("sales", "nope", ["2024", "1"])


def test_update_partition_in_place_and_renamed(store: SQLiteCatalogStore) -> None:
    created = store.get_partition("sales", "orders", ["2024", "1"]).create_time
    before = store.generation()
    store.update_partition(
        "sales", "orders", ["2024", "1"], Partition("x", "y", ["2024", "1"], "s3://b/new/")
    )
    part = store.get_partition("sales", "orders", ["2024", "1"])
    assert (part.database, part.table, part.location) == ("sales", "orders", "s3://b/new/")
    assert part.create_time == created and store.generation() > before

    store.update_partition(
        "sales", "orders", ["2024", "1"], Partition("sales", "orders", ["2025", "1"])
    )
    assert sorted(p.values for p in store.get_partitions("sales", "orders")) == [
        ["2024", "2"],
        ["2025", "1"],
    ]


def test_update_partition_refusals_change_nothing(store: SQLiteCatalogStore) -> None:
    before = [p.to_dict() for p in store.get_partitions("sales", "orders")]
    with pytest.raises(AlreadyExistsError):
        store.update_partition(
            "sales", "orders", ["2024", "1"], Partition("sales", "orders", ["2024", "2"])
        )
    with pytest.raises(EntityNotFoundError):
        store.update_partition(
            "sales", "orders", ["2030", "1"], Partition("sales", "orders", ["2030", "1"])
        )
    with pytest.raises(InvalidRequestError, match="2 partition keys"):
        store.update_partition(
            "sales", "orders", ["2024", "1"], Partition("sales", "orders", ["x"])
        )
    with pytest.raises(EntityNotFoundError):
        store.update_partition(
            "sales", "nope", ["2024", "1"], Partition("sales", "nope", ["a", "b"])
        )
    assert [p.to_dict() for p in store.get_partitions("sales", "orders")] == before


def test_update_database(store: SQLiteCatalogStore) -> None:
    created = store.get_database("sales").create_time
    store.update_database(Database("Sales", description="after", parameters={"k": "v"}))
    db = store.get_database("sales")
    assert (db.description, db.parameters, db.create_time) == ("after", {"k": "v"}, created)
    with pytest.raises(EntityNotFoundError):
        store.update_database(Database("nope"))
