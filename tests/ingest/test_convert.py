"""JSON record conversion to a catalog table's Arrow schema."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from lakebox.catalog.model import Column
from lakebox.ingest.convert import ConversionError, RecordConverter, loads


@pytest.mark.parametrize(
    ("hive", "value", "expected"),
    [
        ("bigint", 9007199254740993, 9007199254740993),
        ("int", "42", 42),
        ("tinyint", 5.0, 5),
        ("double", 1, 1.0),
        (
            "decimal(38,0)",
            12345678901234567890123456789012345678,
            decimal.Decimal("12345678901234567890123456789012345678"),
        ),
        ("decimal(5,2)", decimal.Decimal("1.5"), decimal.Decimal("1.50")),
        ("boolean", "TRUE", True),
        ("string", {"a": [1]}, '{"a":[1]}'),
        ("string", False, "false"),
        ("date", "2024-02-29", dt.date(2024, 2, 29)),
        ("timestamp", "2024-01-01T10:00:00+02:00", dt.datetime(2024, 1, 1, 8, 0)),
        ("timestamp", 1700000000000, dt.datetime(2023, 11, 14, 22, 13, 20)),
        ("array<int>", [1, None, "3"], [1, None, 3]),
        ("map<string,int>", {"k": 1}, [("k", 1)]),
        ("struct<A:int>", {"a": 1}, {"A": 1}),
        ("binary", "AAE=", b"\x00\x01"),
    ],
)
def test_values_convert_to_their_column_type(hive: str, value: object, expected: object) -> None:
    conv = RecordConverter([Column("c", hive)])
    assert conv.row({"C": value}) == [expected]
    conv.table([conv.row({"c": value})])  # Arrow accepts what the converter produced


@pytest.mark.parametrize(
    ("hive", "value"),
    [
        ("int", 2**31),
        ("tinyint", 1.5),
        ("int", True),
        ("decimal(5,2)", "1.234"),
        ("decimal(3,0)", 1000),
        ("boolean", "yes"),
        ("array<int>", 1),
        ("date", 1.5),
    ],
)
def test_values_that_do_not_fit_fail_naming_the_column(hive: str, value: object) -> None:
    conv = RecordConverter([Column("amount", hive)])
    with pytest.raises(ConversionError, match="column 'amount'"):
        conv.row({"amount": value})


def test_non_object_records_fail() -> None:
    with pytest.raises(ConversionError, match="not an object"):
        RecordConverter([Column("a", "int")]).row([1])


def test_loads_keeps_decimal_digits() -> None:
    assert loads(b'{"x": 0.1000000000000000000000000000001}')["x"] == decimal.Decimal(
        "0.1000000000000000000000000000001"
    )
