"""Hive and OpenX JSON SerDes over real JSON-lines files."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import lakebox
from lakebox.engine.duckdb.formats.base import LITERAL_PATHS, PARAMETER_PATHS
from lakebox.engine.duckdb.formats.json import JsonReader
from lakebox.errors import DataError, InvalidRequestError
from lakebox.formats.plugins import HIVE_JSON_SERDE, OPENX_JSON_SERDE, TEXT_INPUT

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

SERDES = [HIVE_JSON_SERDE, OPENX_JSON_SERDE]


def lines(*objs: Any) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


@pytest.mark.parametrize("serde", SERDES)
def test_keys_match_columns_case_insensitively_and_missing_keys_are_null(
    lake: Lake, serde: str
) -> None:
    t = lake.table([("id", "bigint"), ("username", "string"), ("score", "double")], serde=serde)
    lake.write(
        t, "a.json", lines({"Id": 1, "UserName": "ann", "SCORE": 1.5}, {"id": 2, "extra": True})
    )
    assert lake.read(t) == [(1, "ann", 1.5), (2, None, None)]


@pytest.mark.parametrize("serde", SERDES)
def test_nested_struct_array_map_columns(lake: Lake, serde: str) -> None:
    t = lake.table(
        [
            ("id", "int"),
            ("addr", "struct<city:string,zip:int,geo:struct<lat:double>>"),
            ("tags", "array<string>"),
            ("scores", "map<string,int>"),
            ("items", "array<struct<sku:string,qty:int>>"),
        ],
        serde=serde,
    )
    lake.write(
        t,
        "a.json",
        lines(
            {
                "id": 1,
                "Addr": {"City": "Oslo", "zip": "0150", "GEO": {"Lat": 59.9}},
                "tags": ["a", "b"],
                "scores": {"x": 1, "y": "bad"},
                "items": [{"SKU": "p1", "qty": 2}, {"sku": "p2"}],
            },
            {"id": 2, "addr": None, "tags": [], "scores": {}, "items": None},
            {"id": 3, "addr": "not an object", "tags": "not a list", "scores": [1]},
        ),
    )
    assert lake.read(t) == [
        (
            1,
            {"city": "Oslo", "zip": 150, "geo": {"lat": 59.9}},
            ["a", "b"],
            {"x": 1, "y": None},
            [{"sku": "p1", "qty": 2}, {"sku": "p2", "qty": None}],
        ),
        (2, None, [], {}, None),
        (3, None, None, None, None),
    ]


@pytest.mark.parametrize(
    ("hive", "value", "expected"),
    [
        ("int", 7, 7),
        ("int", "7", 7),
        ("int", 1.5, None),
        ("int", "x", None),
        ("bigint", 2**40, 2**40),
        ("double", "2.5", 2.5),
        ("double", 3, 3.0),
        ("boolean", True, True),
        ("boolean", "FALSE", False),
        ("boolean", 1, None),
        ("string", 12, "12"),
        ("string", {"a": 1}, '{"a":1}'),
        ("string", None, None),
        ("date", "2024-02-29", dt.date(2024, 2, 29)),
        ("timestamp", "2024-01-02 03:04:05.5", dt.datetime(2024, 1, 2, 3, 4, 5, 500000)),
        ("decimal(5,2)", 1.234, Decimal("1.23")),
    ],
)
def test_scalar_conversion(lake: Lake, hive: str, value: Any, expected: Any) -> None:
    t = lake.table([("v", hive)], serde=OPENX_JSON_SERDE)
    lake.write(t, "a.json", lines({"v": value}))
    assert lake.read(t) == [(expected,)]


MALFORMED = lines({"a": 1}, {"a": 2}, '{"a": 3', {"a": 4})
NOT_OBJECT = lines({"a": 1}, "[1, 2]", {"a": 3})


@pytest.mark.parametrize(
    ("serde", "params"),
    [
        (HIVE_JSON_SERDE, {}),
        (HIVE_JSON_SERDE, {"ignore.malformed.json": "true"}),
        (OPENX_JSON_SERDE, {}),
        (OPENX_JSON_SERDE, {"ignore.malformed.json": "false"}),
    ],
)
@pytest.mark.parametrize(
    ("data", "line", "needle"),
    [(MALFORMED, 3, "malformed JSON"), (NOT_OBJECT, 2, "not a JSON object")],
)
def test_malformed_line_fails_naming_file_and_line(
    lake: Lake, serde: str, params: dict[str, str], data: str, line: int, needle: str
) -> None:
    t = lake.table([("a", "int")], serde=serde, serde_params=params)
    lake.write(t, "good.json", lines({"a": 0}))
    uri = lake.write(t, "bad.json", data, codec="gzip")
    with pytest.raises(DataError, match=needle) as info:
        lake.read(t)
    assert (info.value.uri, info.value.line) == (uri, line)
    assert f"line {line}" in str(info.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(MALFORMED, [(1,), (2,), (4,), (None,)]), (NOT_OBJECT, [(1,), (3,), (None,)])],
)
def test_openx_ignore_malformed_gives_a_row_of_nulls(
    lake: Lake, data: str, expected: list[tuple[Any, ...]]
) -> None:
    t = lake.table(
        [("a", "int")], serde=OPENX_JSON_SERDE, serde_params={"ignore.malformed.json": "TRUE"}
    )
    lake.write(t, "a.json", data)
    assert lake.read(t) == expected


def test_openx_case_sensitive_when_asked(lake: Lake) -> None:
    t = lake.table(
        [("id", "int"), ("s", "struct<name:string>")],
        serde=OPENX_JSON_SERDE,
        serde_params={"case.insensitive": "false"},
    )
    lake.write(t, "a.json", lines({"ID": 1, "s": {"Name": "x"}}, {"id": 2, "s": {"name": "y"}}))
    assert lake.read(t) == [(2, {"name": "y"}), (None, {"name": None})]


def test_openx_mapping_reads_a_differently_named_key(lake: Lake) -> None:
    t = lake.table(
        [("ts", "string"), ("timestamp", "string")],
        serde=OPENX_JSON_SERDE,
        serde_params={"mapping.ts": "timestamp", "mapping.timestamp": "Other"},
    )
    lake.write(t, "a.json", lines({"Timestamp": "t1", "other": "o1"}))
    assert lake.read(t) == [("t1", "o1")]


def test_openx_dots_in_keys(lake: Lake) -> None:
    t = lake.table(
        [("user_name", "string"), ("s", "struct<a_b:int>")],
        serde=OPENX_JSON_SERDE,
        serde_params={"dots.in.keys": "true"},
    )
    lake.write(t, "a.json", lines({"user.name": "x", "s": {"a.b": 3}}))
    assert lake.read(t) == [("x", {"a_b": 3})]


def test_spellings_differing_only_in_case_across_rows_and_files(lake: Lake) -> None:
    t = lake.table([("id", "int"), ("name", "string")], serde=HIVE_JSON_SERDE)
    lake.write(t, "1.json", lines({"Id": 1, "name": "a"}, {"ID": 2, "NAME": "b"}))
    lake.write(t, "2.json", lines({"id": 3, "Name": "c"}))
    assert lake.read(t) == [(1, "a"), (2, "b"), (3, "c")]


def test_text_input_format_with_json_serde_reads_json(lake: Lake) -> None:
    t = lake.table([("a", "int")], serde=OPENX_JSON_SERDE, input_format=TEXT_INPUT)
    lake.write(t, "a.json", lines({"a": 5}))
    assert lake.read(t) == [(5,)]


def test_rewritten_file_is_rescanned_for_keys(lake: Lake) -> None:
    t = lake.table([("a", "int"), ("b", "int")], serde=HIVE_JSON_SERDE)
    lake.write(t, "a.json", lines({"a": 1}))
    assert lake.read(t) == [(1, None)]
    lake.write(t, "a.json", lines({"a": 1, "B": 22}, {"a": 2, "B": 33}))
    assert lake.read(t) == [(1, 22), (2, 33)]


def test_many_rows_over_many_files(lake: Lake) -> None:
    t = lake.table([("id", "bigint"), ("v", "struct<x:int>")], serde=OPENX_JSON_SERDE)
    for part in range(20):
        lake.write(
            t,
            f"p{part}.json",
            lines(*({"ID": part * 500 + i, "v": {"X": i}} for i in range(500))),
            codec="gzip",
        )
    rows = lake.con.sql(f"SELECT count(*), sum(id), sum(v.x) FROM ({lake.sql(t)})").fetchall()
    assert rows == [(10000, sum(range(10000)), 20 * sum(range(500)))]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"mapping.nope": "x"}, "names no column"),
        ({"ignore.malformed.json": "yes"}, "must be 'true' or 'false'"),
    ],
)
def test_openx_rejects_bad_properties(lake: Lake, params: dict[str, str], needle: str) -> None:
    t = lake.table([("a", "int")], serde=OPENX_JSON_SERDE, serde_params=params)
    with pytest.raises(InvalidRequestError, match=needle):
        JsonReader(openx=True).validate(t)


def test_object_longer_than_duckdbs_default_limit(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=OPENX_JSON_SERDE)
    long = "y" * (20 * 1024 * 1024)
    lake.write(t, "a.json", lines({"a": "x", "b": 1}, {"A": long, "B": 2}))
    rows = lake.con.sql(f"SELECT length(a), b FROM ({lake.sql(t)})").fetchall()
    assert sorted(rows) == [(1, 1), (len(long), 2)]


@pytest.mark.parametrize("serde", SERDES)
def test_json_timestamp_formats(lake: Lake, serde: str) -> None:
    t = lake.table(
        [("ts", "timestamp"), ("s", "struct<at:timestamp>")],
        serde=serde,
        serde_params={"timestamp.formats": "yyyy/MM/dd HH:mm"},
    )
    lake.write(
        t,
        "a.json",
        lines(
            {"ts": "2024/05/06 07:08", "s": {"AT": "2024/05/06 07:09"}},
            {"ts": "2024-05-06 07:08:09", "s": {"at": "soon"}},
        ),
    )
    assert lake.read(t) == [
        (dt.datetime(2024, 5, 6, 7, 8), {"at": dt.datetime(2024, 5, 6, 7, 9)}),
        (dt.datetime(2024, 5, 6, 7, 8, 9), {"at": None}),
    ]


def test_limit_reads_only_the_files_it_needs(lake: Lake) -> None:
    """No pass over every file precedes the scan: a LIMIT stops before a bad line in a
    later file, while a full count reaches it and names it."""
    t = lake.table([("id", "int"), ("name", "string")], serde=HIVE_JSON_SERDE)
    for n in range(200):
        lake.write(
            t, f"p{n:03d}.json", lines(*({"ID": n * 10 + i, "Name": "x"} for i in range(10)))
        )
    bad = lake.write(t, "p999.json", lines({"id": 1}, '{"id": '))
    scan = lake.sql(t)
    assert lake.con.sql(f"SELECT id, name FROM ({scan}) LIMIT 3").fetchall() == [
        (0, "x"),
        (1, "x"),
        (2, "x"),
    ]
    with pytest.raises(DataError, match="malformed JSON") as info:
        lake.read(t, columns=[])
    assert (info.value.uri, info.value.line) == (bad, 2)


@pytest.mark.parametrize(
    ("data", "params", "rows"),
    [
        (MALFORMED, {"ignore.malformed.json": "true"}, 4),
        (NOT_OBJECT, {"ignore.malformed.json": "true"}, 3),
        (lines({"a": 1}, "", {"A": 2}), {}, 2),
    ],
)
def test_count_without_columns_counts_every_line(
    lake: Lake, data: str, params: dict[str, str], rows: int
) -> None:
    """count(*) reads no column, yet an ignored bad line is still a row (of NULLs) and a
    blank line is none."""
    t = lake.table([("a", "int")], serde=OPENX_JSON_SERDE, serde_params=params)
    lake.write(t, "a.json", data)
    assert lake.read(t, columns=[]) == [(None,)] * rows


def test_count_without_columns_still_fails_on_a_line_that_is_no_object(lake: Lake) -> None:
    t = lake.table([("a", "int")], serde=HIVE_JSON_SERDE)
    uri = lake.write(t, "a.json", NOT_OBJECT)
    with pytest.raises(DataError, match="not a JSON object") as info:
        lake.read(t, columns=[])
    assert (info.value.uri, info.value.line) == (uri, 2)


def test_a_row_with_two_spellings_of_a_column_reads_the_exact_one(lake: Lake) -> None:
    """The declared spelling wins; without it, the row's first matching key."""
    t = lake.table([("id", "int"), ("name", "string")], serde=OPENX_JSON_SERDE)
    lake.write(
        t,
        "a.json",
        lines({"ID": 1, "id": 2, "Name": "a"}, {"Id": 3, "ID": 4, "NAME": "b", "name": None}),
    )
    assert lake.read(t, order=False) == [(2, "a"), (3, None)]


@pytest.mark.parametrize("serde", SERDES)
def test_mixed_spellings_and_missing_keys_match_hive_row_by_row(lake: Lake, serde: str) -> None:
    """Many files of rows whose keys come in random spellings, some missing, some null,
    some extra, read exactly as Hive's rule says (computed here in Python, row by row)."""
    rng = random.Random(14)
    columns = [("id", "bigint"), ("user_name", "string"), ("score", "double"), ("ok", "boolean")]

    def spell(key: str) -> str:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in key)

    t = lake.table(columns, serde=serde)
    expected = []
    for f in range(30):
        objs = []
        for i in range(rng.randint(0, 20)):
            row: dict[str, Any] = {"extra": i}
            values = (f * 100 + i, f"u{i}", i / 4, i % 3 == 0)
            for (name, _type), value in zip(columns, values, strict=True):
                roll = rng.random()
                if roll < 0.15:
                    continue  # missing: NULL
                row[spell(name)] = None if roll < 0.25 else value
            objs.append(row)
            expected.append(
                tuple(
                    next((v for k, v in row.items() if k.lower() == name), None)
                    for name, _type in columns
                )
            )
        lake.write(t, f"f{f:02d}.json", lines(*objs))
    assert lake.read(t) == sorted(expected, key=repr)


@pytest.mark.parametrize(
    "count", [LITERAL_PATHS + 20, PARAMETER_PATHS + 20], ids=["list parameter", "Arrow list"]
)
def test_a_long_file_list_is_read_again_by_a_reused_plan(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """Past ``LITERAL_PATHS`` files the scan reads its paths from a variable of the
    statement's connection (set from a list parameter, or past ``PARAMETER_PATHS`` from an
    Arrow list); a plan reused by a later statement sets it again there."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    folder = lake_home / "b" / "t"
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"p{n:04d}.json").write_text(lines({"ID": n}))
    session = lakebox.connect(lake_home)
    session.sql(
        "CREATE EXTERNAL TABLE t (id int) ROW FORMAT SERDE "
        "'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/t/'"
    )
    query = "SELECT count(*), sum(id) FROM t"
    hits = session.lake.plans.hits
    for _ in range(2):
        assert session.sql(query).fetchall() == [(count, sum(range(count)))]
    assert session.lake.plans.hits == hits + 1
    session.lake.close()


@pytest.mark.parametrize(
    "extra", [0, LITERAL_PATHS, PARAMETER_PATHS], ids=["few files", "many files", "more files"]
)
def test_a_file_name_that_is_not_utf8_fails_as_a_lakebox_error(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    """A file name that is not UTF-8 (read as surrogate escapes) fails the scan with the
    same lakebox error whether its paths are a literal or, past ``LITERAL_PATHS``, a
    variable: never a raw Python error."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    folder = lake_home / "b" / "t"
    folder.mkdir(parents=True)
    for n in range(extra + 1):
        (folder / f"p{n:04d}.json").write_text(lines({"ID": n}))
    with open(os.fsencode(folder) + b"/bad\xff.json", "w") as fh:
        fh.write(lines({"ID": 1}))
    session = lakebox.connect(lake_home)
    try:
        session.sql(
            "CREATE EXTERNAL TABLE t (id int) ROW FORMAT SERDE "
            "'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/t/'"
        )
        with pytest.raises(DataError, match="UTF-8"):
            session.sql("SELECT count(*) FROM t").fetchall()
    finally:
        session.lake.close()
