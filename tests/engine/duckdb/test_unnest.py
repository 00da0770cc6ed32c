"""UNNEST forms over table columns, run through a session on JSON files: arrays of rows whose
type only the catalog knows, rows inside row columns, chained UNNEST and WITH ORDINALITY.

Expected answers are computed from the written records in plain Python, never from lakebox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lakebox

USERS: list[dict[str, Any]] = [
    {
        "id": 1,
        "user": {
            "name": "ana",
            "orders": [
                {"itemid": 10, "orderdate": "2024-01-02"},
                {"itemid": 11, "orderdate": "2024-01-05"},
            ],
        },
        "tags": ["a", "b", "c"],
        "people": [{"name": "p1", "scores": [1, 2]}, {"name": "p2", "scores": [7]}],
    },
    {"id": 2, "user": {"name": "bo", "orders": []}, "tags": [], "people": []},
    {
        "id": 3,
        "user": {"name": "cy", "orders": [{"itemid": 12, "orderdate": "2024-02-01"}]},
        "tags": None,
        "people": [{"name": "p3", "scores": [4, 5, 6]}],
    },
]


@pytest.fixture
def session(lake_home: Path) -> lakebox.Session:
    session = lakebox.connect(lake_home)
    storage = session.lake.storage
    storage.ensure_bucket("data")
    lines = "\n".join(json.dumps(u) for u in USERS) + "\n"
    storage.write_bytes("s3://data/users/part-0.json", lines.encode())
    session.sql(
        """CREATE EXTERNAL TABLE users (
             id int,
             `user` struct<name:string, orders:array<struct<itemid:int, orderdate:string>>>,
             tags array<string>,
             people array<struct<name:string, scores:array<int>>>)
           ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
           LOCATION 's3://data/users/'"""
    )
    return session


def _orders() -> list[tuple[Any, ...]]:
    return [
        (u["id"], o["itemid"], o["orderdate"])
        for u in USERS
        for o in u["user"]["orders"]  # type: ignore[index]
    ]


def test_unnest_row_field_into_columns(session: lakebox.Session) -> None:
    """The issue's form: the array of rows is a field of a row column."""
    rows = session.sql(
        'SELECT id, itemid, orderdate FROM users CROSS JOIN UNNEST("user".orders) '
        "AS t(itemid, orderdate) ORDER BY id, itemid"
    ).fetchall()
    assert rows == _orders()


def test_unnest_row_field_with_ordinality(session: lakebox.Session) -> None:
    rows = session.sql(
        'SELECT id, itemid, n FROM users CROSS JOIN UNNEST("user".orders) '
        "WITH ORDINALITY AS t(itemid, orderdate, n) ORDER BY id, n"
    ).fetchall()
    expected = [
        (u["id"], o["itemid"], i)
        for u in USERS
        for i, o in enumerate(u["user"]["orders"], 1)  # type: ignore[index]
    ]
    assert rows == expected


def test_single_alias_keeps_the_row(session: lakebox.Session) -> None:
    rows = session.sql(
        'SELECT id, o.itemid, o.orderdate FROM users CROSS JOIN UNNEST("user".orders) '
        "AS t(o) ORDER BY id, o.itemid"
    ).fetchall()
    assert rows == _orders()


def test_chained_unnest_reads_the_first_ones_row(session: lakebox.Session) -> None:
    rows = session.sql(
        "SELECT u.id, tag, itemid FROM users u, UNNEST(u.tags) AS t(tag), "
        'UNNEST(u."user".orders) AS o(itemid, orderdate) ORDER BY 1, 2, 3'
    ).fetchall()
    expected = sorted(
        (u["id"], tag, o["itemid"])
        for u in USERS
        for tag in u["tags"] or []
        for o in u["user"]["orders"]  # type: ignore[index]
    )
    assert rows == expected


def test_left_join_unnest_keeps_rows_without_elements(session: lakebox.Session) -> None:
    rows = session.sql(
        "SELECT id, tag, n FROM users LEFT JOIN UNNEST(tags) WITH ORDINALITY AS t(tag, n) "
        "ON TRUE ORDER BY id, n"
    ).fetchall()
    expected: list[tuple[Any, ...]] = []
    for u in USERS:
        tags = u["tags"] or []
        expected += [(u["id"], tag, i) for i, tag in enumerate(tags, 1)] or [(u["id"], None, None)]
    assert rows == expected


def test_unnest_of_a_typed_array_of_rows_column(session: lakebox.Session) -> None:
    session.sql('CREATE TABLE orders AS SELECT id, "user".orders AS orders FROM users')
    rows = session.sql(
        "SELECT id, itemid, orderdate FROM orders CROSS JOIN UNNEST(orders) AS t(itemid, "
        "orderdate) ORDER BY id, itemid"
    ).fetchall()
    assert rows == _orders()
    single = session.sql(
        "SELECT id, entry.itemid FROM orders CROSS JOIN UNNEST(orders) AS t(entry) "
        "ORDER BY id, entry.itemid"
    ).fetchall()
    assert single == [(i, item) for i, item, _ in _orders()]


def test_second_unnest_reads_a_field_of_the_first_ones_row(session: lakebox.Session) -> None:
    """The Athena guide's flattening pattern, over a table column instead of a literal."""
    rows = session.sql(
        "SELECT id, person.name, score FROM users, UNNEST(users.people) AS t(person), "
        "UNNEST(person.scores) AS t(score) ORDER BY id, person.name, score"
    ).fetchall()
    expected = [
        (u["id"], p["name"], score)
        for u in USERS
        for p in u["people"]  # type: ignore[union-attr]
        for score in p["scores"]
    ]
    assert rows == expected
