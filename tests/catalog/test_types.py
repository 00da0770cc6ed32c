"""The one Arrow / Athena -> Hive type mapping (lakebox.catalog.types)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakebox.catalog.types import (
    arrow_type,
    athena_type_from_arrow,
    hive_type_from_arrow,
    hive_type_from_athena,
    normalize_type,
)
from lakebox.errors import SemanticError

# Arrow type -> (Hive type a CTAS declares, Athena result type name)
ARROW_TYPES: list[tuple[pa.DataType, str, str]] = [
    (pa.string(), "string", "varchar"),
    (pa.large_string(), "string", "varchar"),
    (pa.string_view(), "string", "varchar"),
    (pa.bool_(), "boolean", "boolean"),
    (pa.int8(), "tinyint", "tinyint"),
    (pa.int16(), "smallint", "smallint"),
    (pa.int32(), "int", "integer"),
    (pa.int64(), "bigint", "bigint"),
    (pa.uint8(), "smallint", "smallint"),
    (pa.uint16(), "int", "integer"),
    (pa.uint32(), "bigint", "bigint"),
    (pa.uint64(), "bigint", "bigint"),
    (pa.float32(), "float", "real"),
    (pa.float64(), "double", "double"),
    (pa.decimal128(10, 2), "decimal(10,2)", "decimal(10,2)"),
    (pa.decimal128(38, 0), "decimal(38,0)", "decimal(38,0)"),
    (pa.date32(), "date", "date"),
    (pa.date64(), "date", "date"),
    (pa.timestamp("us"), "timestamp", "timestamp"),
    (pa.timestamp("ns"), "timestamp", "timestamp"),
    (pa.binary(), "binary", "varbinary"),
    (pa.large_binary(), "binary", "varbinary"),
    (pa.binary(16), "binary", "varbinary"),
    (pa.list_(pa.int32()), "array<int>", "array(integer)"),
    (pa.large_list(pa.uint8()), "array<smallint>", "array(smallint)"),
    (pa.list_(pa.string(), 2), "array<string>", "array(varchar)"),
    (pa.map_(pa.string(), pa.uint16()), "map<string,int>", "map(varchar, integer)"),
    (
        pa.struct([("A", pa.float32()), ("b", pa.list_(pa.int64()))]),
        "struct<a:float,b:array<bigint>>",
        "row(A real, b array(bigint))",
    ),
]


@pytest.mark.parametrize(("arrow", "hive", "athena"), ARROW_TYPES, ids=str)
def test_every_arrow_type_maps_to_one_hive_and_athena_type(
    arrow: pa.DataType, hive: str, athena: str
) -> None:
    assert hive_type_from_arrow(arrow, "c") == hive
    assert athena_type_from_arrow(arrow) == athena
    assert normalize_type(hive) == hive


@pytest.mark.parametrize(
    ("arrow", "wider"),
    [(pa.uint8(), pa.int16()), (pa.uint16(), pa.int32()), (pa.uint32(), pa.int64())],
    ids=str,
)
def test_unsigned_integers_widen_to_the_signed_type_holding_every_value(
    arrow: pa.DataType, wider: pa.DataType
) -> None:
    hive = hive_type_from_arrow(arrow, "c")
    assert arrow_type(hive) == wider
    biggest = pa.array([2 ** (arrow.bit_width) - 1], arrow)
    assert biggest.cast(wider).to_pylist() == biggest.to_pylist()
    assert hive_type_from_athena(athena_type_from_arrow(arrow)) == hive


@pytest.mark.parametrize(
    ("arrow", "athena"),
    [
        (pa.timestamp("us", tz="UTC"), "timestamp with time zone"),
        (pa.time64("us"), "time"),
        (pa.null(), "unknown"),
        (pa.duration("s"), "interval day to second"),
    ],
    ids=str,
)
def test_types_a_hive_table_cannot_hold_fail_naming_their_athena_type(
    arrow: pa.DataType, athena: str
) -> None:
    assert athena_type_from_arrow(arrow) == athena
    with pytest.raises(SemanticError, match=rf"Unsupported Hive type: {athena} \(column 'c'\)"):
        hive_type_from_arrow(arrow, "c")


def test_decimal_wider_than_38_digits_is_refused() -> None:
    with pytest.raises(SemanticError, match="decimal precision 40 exceeds 38"):
        hive_type_from_arrow(pa.decimal256(40, 2), "c")


@pytest.mark.parametrize(
    ("athena", "hive"),
    [
        ("varchar", "string"),
        ("integer", "int"),
        ("real", "float"),
        ("varbinary", "binary"),
        ("timestamp with time zone", "timestamp"),
        ("unknown", "string"),
        ("bigint", "bigint"),
        ("decimal(10,2)", "decimal(10,2)"),
        ("array(integer)", "array<int>"),
        ("array(array(varchar))", "array<array<string>>"),
        ("map(varchar, integer)", "string"),
        ("row(a integer)", "string"),
    ],
)
def test_view_columns_declare_the_hive_type_of_their_athena_type(athena: str, hive: str) -> None:
    assert hive_type_from_athena(athena) == hive
