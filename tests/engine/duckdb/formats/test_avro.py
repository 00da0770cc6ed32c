from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pytest

from lakebox.catalog.types import arrow_type
from lakebox.engine.duckdb.formats.avro import BATCH_ROWS, AvroReader
from lakebox.engine.duckdb.formats.base import reader_for
from lakebox.errors import DataError, InvalidRequestError, UnsupportedError
from lakebox.formats.arrow_values import ConversionError, Overflow, arrow_column, value_converter
from lakebox.formats.plugins import AVRO_INPUT, AVRO_SERDE
from lakebox.storage import Storage

try:
    from .binary_helpers import LOCATION, enable_avro_zstd_writer, local_path, make_table, scan
except ImportError:
    from binary_helpers import (  # type: ignore[no-redef]
        LOCATION,
        enable_avro_zstd_writer,
        local_path,
        make_table,
        scan,
    )

EVENT = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "EventId", "type": "long"},
        {"name": "Name", "type": ["null", "string"], "default": None},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 2},
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {
            "name": "Address",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Addr",
                    "fields": [{"name": "City", "type": "string"}, {"name": "zip", "type": "int"}],
                },
            ],
        },
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
        {"name": "raw", "type": "bytes"},
    ],
}
EVENT_COLUMNS = [
    ("eventid", "bigint"),
    ("name", "string"),
    ("day", "date"),
    ("at", "timestamp"),
    ("at_us", "timestamp"),
    ("amount", "decimal(20,2)"),
    ("tags", "array<string>"),
    ("attrs", "map<string,bigint>"),
    ("address", "struct<city:string,zip:int>"),
    ("kind", "string"),
    ("raw", "binary"),
]


def event(i: int) -> dict[str, Any]:
    return {
        "EventId": 10**15 + i,
        "Name": None if i % 2 else f"n{i}",
        "day": dt.date(2024, 1, 1) + dt.timedelta(days=i),
        "at": dt.datetime(2024, 1, 1, 12, 0, 0, 123000, tzinfo=dt.UTC),
        "at_us": dt.datetime(2024, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
        "amount": Decimal("123456789012345678.25"),
        "tags": ["a", str(i)],
        "attrs": {"k": i},
        "Address": None if i % 2 else {"City": "Oslo", "zip": 150},
        "kind": "B",
        "raw": b"\x00\x01",
    }


def write(
    storage: Storage,
    name: str,
    schema: dict[str, Any],
    records: list[dict[str, Any]],
    codec: str = "null",
) -> None:
    if codec == "zstandard":
        enable_avro_zstd_writer()
    with local_path(storage, LOCATION + name).open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), records, codec=codec)


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_reads_logical_and_nested_types_with_every_codec(
    storage: Storage, tmp_path: Path, codec: str
) -> None:
    write(storage, "part-0.avro", EVENT, [event(0), event(1)], codec)
    result = scan(storage, tmp_path, make_table(EVENT_COLUMNS, AVRO_SERDE))
    first, second = result.rows()
    assert first == {
        "eventid": 10**15,
        "name": "n0",
        "day": dt.date(2024, 1, 1),
        "at": dt.datetime(2024, 1, 1, 12, 0, 0, 123000),
        "at_us": dt.datetime(2024, 1, 1, 12, 0, 0, 123456),
        "amount": Decimal("123456789012345678.25"),
        "tags": ["a", "0"],
        "attrs": [("k", 0)],
        "address": {"city": "Oslo", "zip": 150},
        "kind": "B",
        "raw": b"\x00\x01",
    }
    assert second["name"] is None
    assert second["address"] is None
    assert second["day"] == dt.date(2024, 1, 2)


def test_many_rows_span_batches_and_files(storage: Storage, tmp_path: Path) -> None:
    write(storage, "a.avro", EVENT, [event(i) for i in range(700)], "deflate")
    write(storage, "b.avro", EVENT, [event(i) for i in range(700, 1000)])
    table = make_table(EVENT_COLUMNS, AVRO_SERDE)
    result = scan(storage, tmp_path, table, columns=["eventid"], where="eventid % 100 = 0")
    assert sorted(result.column("eventid")) == [10**15 + i for i in range(0, 1000, 100)]


def test_file_larger_than_one_batch(storage: Storage, tmp_path: Path) -> None:
    rows = BATCH_ROWS + 10
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}
    write(storage, "big.avro", schema, [{"a": i} for i in range(rows)], "snappy")
    result = scan(storage, tmp_path, make_table([("a", "bigint")], AVRO_SERDE))
    assert result.table.num_rows == rows
    assert sorted(result.column("a"))[-1] == rows - 1


def test_missing_columns_and_files_with_different_schemas(storage: Storage, tmp_path: Path) -> None:
    old = {"type": "record", "name": "r", "fields": [{"name": "ID", "type": "int"}]}
    new = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": "string"}],
    }
    write(storage, "1.avro", old, [{"ID": 1}])
    write(storage, "2.avro", new, [{"id": 2, "note": "x"}])
    result = scan(
        storage,
        tmp_path,
        make_table([("id", "bigint"), ("note", "string"), ("gone", "double")], AVRO_SERDE),
    )
    assert sorted(result.rows(), key=lambda r: r["id"]) == [
        {"id": 1, "note": None, "gone": None},
        {"id": 2, "note": "x", "gone": None},
    ]


def test_schema_literal_resolves_defaults_and_promotions(storage: Storage, tmp_path: Path) -> None:
    writer = {"type": "record", "name": "r", "fields": [{"name": "n", "type": "int"}]}
    write(storage, "1.avro", writer, [{"n": 7}])
    reader_schema = {
        "type": "record",
        "name": "r",
        "fields": [
            {"name": "n", "type": "long"},
            {"name": "label", "type": "string", "default": "unset"},
        ],
    }
    table = make_table(
        [("n", "bigint"), ("label", "string")],
        AVRO_SERDE,
        serde_params={"avro.schema.literal": json.dumps(reader_schema)},
    )
    assert scan(storage, tmp_path, table).rows() == [{"n": 7, "label": "unset"}]


def test_schema_url_is_read_from_the_lake(storage: Storage, tmp_path: Path) -> None:
    write(
        storage,
        "1.avro",
        {"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]},
        [{"a": 1}],
    )
    reader_schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "int", "default": 5}],
    }
    storage.write_bytes("s3://lake/schemas/r.avsc", json.dumps(reader_schema).encode())
    table = make_table(
        [("a", "int"), ("b", "int")],
        AVRO_SERDE,
        params={"avro.schema.url": "s3://lake/schemas/r.avsc"},
    )
    assert scan(storage, tmp_path, table).rows() == [{"a": 1, "b": 5}]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"avro.schema.literal": "{not json"}, InvalidRequestError),
        ({"avro.schema.literal": '"string"'}, InvalidRequestError),
        ({"avro.schema.url": "https://example.com/s.avsc"}, UnsupportedError),
    ],
)
def test_bad_schema_properties_are_rejected(params: dict[str, str], error: type) -> None:
    with pytest.raises(error, match=r"avro\.schema"):
        AvroReader().validate(make_table([("a", "int")], AVRO_SERDE, serde_params=params))


@pytest.mark.parametrize(
    ("value", "declared", "expected"),
    [
        ("12", "int", 12),
        ("x", "int", None),
        (2**40, "int", None),
        (1.9, "bigint", 1),
        (Decimal("1.005"), "decimal(5,2)", Decimal("1.01")),
        (Decimal("123456"), "decimal(5,2)", None),
        (5, "string", "5"),
        (True, "string", "true"),
        ("2024-03-01T10:00:00+02:00", "timestamp", dt.datetime(2024, 3, 1, 8)),
        ("true", "boolean", True),
        ("abcdef", "varchar(3)", "abc"),
        ({"A": 1, "extra": 2}, "struct<a:int,b:string>", {"a": 1, "b": None}),
        ([1, "x"], "array<int>", [1, None]),
        ("not a list", "array<int>", None),
    ],
)
def test_values_convert_like_hive_casts(value: Any, declared: str, expected: Any) -> None:
    assert value_converter(declared)(value) == expected


@pytest.mark.parametrize(
    ("value", "declared", "wrapped"),
    [(40000, "smallint", -25536), (2**31, "int", -(2**31)), (300, "tinyint", 44)],
)
def test_overflow_policies(value: int, declared: str, wrapped: int) -> None:
    assert value_converter(declared, Overflow.WRAP)(value) == wrapped
    assert value_converter(declared, Overflow.NULL)(value) is None
    with pytest.raises(ConversionError, match=declared):
        value_converter(declared, Overflow.FAIL)(value)


def test_corrupt_file_names_the_file(storage: Storage, tmp_path: Path) -> None:
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(EVENT), [event(0)] * 50, codec="deflate")
    local_path(storage, LOCATION + "cut.avro").write_bytes(buf.getvalue()[:-40])
    with pytest.raises(DataError, match=r"cut\.avro"):
        scan(storage, tmp_path, make_table(EVENT_COLUMNS, AVRO_SERDE))


def test_registered_by_serde_and_input_format() -> None:
    assert isinstance(reader_for(make_table([("a", "int")], AVRO_SERDE)), AvroReader)
    assert isinstance(reader_for(make_table([("a", "int")], None, AVRO_INPUT)), AvroReader)


def decoded_copies(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "decoded").glob("*.parquet"))


def test_decoded_copies_are_reused_until_the_file_changes(storage: Storage, tmp_path: Path) -> None:
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}
    write(storage, "1.avro", schema, [{"a": 1}])
    write(storage, "2.avro", schema, [{"a": 2}])
    table = make_table([("a", "bigint")], AVRO_SERDE)
    assert sorted(scan(storage, tmp_path, table).column("a")) == [1, 2]
    first = decoded_copies(tmp_path)
    assert len(first) == 2
    assert "read_parquet" in scan(storage, tmp_path, table).sql
    assert decoded_copies(tmp_path) == first
    write(storage, "2.avro", schema, [{"a": 20}, {"a": 21}])
    assert sorted(scan(storage, tmp_path, table).column("a")) == [1, 20, 21]
    retyped = make_table([("a", "string")], AVRO_SERDE)
    assert sorted(scan(storage, tmp_path, retyped).column("a")) == ["1", "20", "21"]


def test_files_without_modification_time_are_decoded_every_time(
    storage: Storage, tmp_path: Path
) -> None:
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}
    write(storage, "1.avro", schema, [{"a": 1}])
    table = make_table([("a", "bigint")], AVRO_SERDE)
    result = scan(storage, tmp_path, table, known_mtime=False)
    assert result.column("a") == [1]
    assert "read_parquet" not in result.sql
    assert decoded_copies(tmp_path) == []


@pytest.mark.parametrize("with_data", [True, False])
def test_zero_byte_files_hold_no_rows(storage: Storage, tmp_path: Path, with_data: bool) -> None:
    local_path(storage, LOCATION + "empty.avro").write_bytes(b"")
    if with_data:
        schema = {"type": "record", "name": "r", "fields": [{"name": "id", "type": "long"}]}
        write(storage, "a.avro", schema, [{"id": 1}])
    result = scan(storage, tmp_path, make_table([("id", "bigint"), ("s", "string")], AVRO_SERDE))
    assert result.rows() == ([{"id": 1, "s": None}] if with_data else [])


def test_reader_schema_that_does_not_resolve_names_the_file(
    storage: Storage, tmp_path: Path
) -> None:
    writer = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "string"}]}
    write(storage, "strings.avro", writer, [{"a": "x"}])
    reader_schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]}
    table = make_table(
        [("a", "int")], AVRO_SERDE, serde_params={"avro.schema.literal": json.dumps(reader_schema)}
    )
    with pytest.raises(DataError, match=r"strings\.avro"):
        scan(storage, tmp_path, table)


def test_unwritable_cache_falls_back_to_memory(storage: Storage, tmp_path: Path) -> None:
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}
    write(storage, "1.avro", schema, [{"a": 1}, {"a": 2}])
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    result = scan(storage, tmp_path, make_table([("a", "bigint")], AVRO_SERDE))
    assert result.column("a") == [1, 2]
    assert "read_parquet" not in result.sql


@pytest.mark.parametrize(
    ("values", "declared"),
    [
        ([{"Id": 1, "Tags": ["a"]}, None, {"id": 2}], "struct<id:bigint,tags:array<string>>"),
        ([{"id": 1}, {"id": "x"}], "struct<id:int>"),
        ([{"id": 2**40}], "struct<id:int>"),
        ([{"d": Decimal("1.25")}, {"d": 3}], "struct<d:decimal(10,1)>"),
        ([[{"Z": 1}, None], [], None], "array<struct<z:smallint>>"),
        ([[1, 2.5]], "array<double>"),
        ([[1, "2"]], "array<int>"),
        (
            [{"t": dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))}],
            "struct<t:timestamp>",
        ),
        ([{"s": "abcdef"}], "struct<s:varchar(3)>"),
        ([{"a": {"B": [1]}}], "struct<a:struct<b:array<bigint>>>"),
        ([1, None, 2**40], "bigint"),
        ([Decimal("1.5"), 2, 2.5], "double"),
        ([1.5, Decimal("2.25"), "3"], "decimal(10,2)"),
        ([dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-3)))], "timestamp"),
        ([dt.date(2024, 2, 29), dt.datetime(2024, 3, 1, 23, 59)], "date"),
        (["a", None, 5], "string"),
        ([b"x", "y"], "binary"),
        ([1, 0, "true"], "boolean"),
    ],
)
def test_columnar_conversion_matches_value_by_value(values: list[Any], declared: str) -> None:
    """The Arrow fast paths must give what Hive's per-value conversion gives."""
    convert = value_converter(declared)
    expected = pa.array([convert(v) for v in values], type=arrow_type(declared))
    assert arrow_column(values, declared, convert).equals(expected)
