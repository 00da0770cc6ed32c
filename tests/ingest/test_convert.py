"""JSON record conversion to a catalog table's Arrow schema."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pytest

from lakebox.catalog.model import Column
from lakebox.ingest.convert import ConversionError, RecordConverter, loads, read_records


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


# -- the vectorised path (Arrow's JSON reader) agrees with the record-by-record one ----------

VECTOR_COLUMNS = [
    Column("i", "int"),
    Column("s", "smallint"),
    Column("b", "bigint"),
    Column("d", "double"),
    Column("f", "float"),
    Column("m", "decimal(10,2)"),
    Column("ok", "boolean"),
    Column("t", "string"),
    Column("day", "date"),
    Column("ts", "timestamp"),
    Column("arr", "array<string>"),
    Column("tsa", "array<timestamp>"),
    Column("st", "struct<Name:string,n:int>"),
    Column("nested", "array<struct<x:bigint>>"),
    Column("deep", "struct<l:array<timestamp>,d:date>"),
]

#: records the vectorised path must take (and give what the record path gives)
PROVABLE = [
    b'{"i": 1, "s": 2, "b": 3, "d": 1.5, "f": 0.1, "m": "12.30", "ok": true, "t": "x", '
    b'"day": "2024-02-29", "ts": "2024-01-01T10:00:00+02:00", "arr": ["a", null], '
    b'"tsa": ["2024-01-01 00:00:00.5", null], "st": {"name": "n", "n": 1}, '
    b'"nested": [{"x": 1}, null, {}]}\n',
    b"{}",
    b'{"m": 1.5e1, "d": 1, "b": -0, "f": 3.4028235e38}',
    b'{"m": 7, "d": 123456789012345678901234567890}',
    b'{"ts": "2024-01-01T10:00:00Z", "day": "2024-01-02T10:00:00"}',
    b'{"ts": "2024-06-30 23:59:59.123456-05:30"}',
    b'{"t": "caf\\u00e9 \\"q\\" \\n", "extra": {"deep": [1, 2]}}',
    b'{"i": null, "arr": [], "st": null, "nested": null}',
    b'{"st": {"n": -5, "other": true}}\n',
    b'{"deep": {"l": ["2024-01-01T00:00:00", null], "d": "2024-03-01"}}',
    b'{"deep": {"l": null}, "nested": [{"x": 9}]}',
    b'{"m": "-0.5", "ok": false, "t": "\xc3\xa9t\xc3\xa9"}',
    b'{"d": NaN}',
]

#: records the vectorised path may refuse (then they go one by one); if it takes one, it
#: must give what the record path gives
TRICKY = [
    b'{"I": 7}',
    b'{"i": 1, "I": 2}',
    b'{"st": {"NAME": "upper"}}',
    b'{"st": {"Name": "as declared"}}',
    b'{"i": "42"}',
    b'{"d": "1.5"}',
    b'{"ok": "TRUE"}',
    b'{"m": " 1.5"}',
    b'{"m": "1.234"}',
    b'{"m": 123456789.12}',
    b'{"t": 5}',
    b'{"t": {"a": 1}}',
    b'{"t": true}',
    b'{"arr": "x"}',
    b'{"arr": [1]}',
    b'{"s": 40000}',
    b'{"b": 9223372036854775808}',
    b'{"f": 1e300}',
    b'{"ts": 1700000000}',
    b'{"ts": "2024-02-30T00:00:00"}',
    b'{"ts": "2024-01-01"}',
    b'{"ts": "2024-01-01T25:00:00"}',
    b'{"ts": "0001-01-01T00:00:00+01:00"}',
    b'{"ts": "2024-01-01T00:00:00.1234567"}',
    b'{"ts": " 2024-01-01T00:00:00"}',
    b'{"day": 19000}',
    b'{"day": "2024-13-01"}',
    b'{"day": "2024-02-30"}',
    b'{"t": "a\tb"}',
    b'{"t": "a\x01b"}',
    b'{"t": "a\x1fb"}',
    b'{"t":\t"tab between tokens"}',
    b'{"t":\r"carriage return between tokens"}',
    b'{"t": "a\rb"}',
    b'{"t": "\xff"}',
    b'{"t": "\\ud800"}',
    b'{"i": 1, "i": 2}',
    b'{\n"i": 1\n}',
    b'{"i": 1',
    b"not json",
    b"[1, 2]",
    b"",
    b"  ",
    b'{"i": 1}{"i": 2}',
    b'{"i": 1} {"i": 2}',
    b' {"i": 1}',
    b'{"i": 1},',
    b'{"i": 1,}',
    b'{"nested": [{"X": 1}]}',
    b'{"nested": [{"x": "1"}]}',
    b'{"extra": [1, "x"]}',  # an undeclared key whose type Arrow cannot infer
]


def _offsets(records: list[bytes]) -> tuple[np.ndarray, bytes]:
    sizes = np.array([len(r) for r in records], dtype=np.int64)
    offsets = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets, b"".join(records)


def _vectorised(conv: RecordConverter, records: list[bytes]) -> list[dict[str, object]] | None:
    fields = conv.parse_fields()
    assert fields is not None
    parsed = read_records(*_offsets(records), fields, infer=True)
    table = None if parsed is None else conv.from_parsed(parsed)
    return None if table is None else table.to_pylist()


def _one_by_one(conv: RecordConverter, record: bytes) -> dict[str, object] | None:
    try:
        row = conv.row(loads(record))
    except ValueError:  # what a delivery sends to the error output
        return None
    return conv.table([row]).to_pylist()[0]


@pytest.mark.parametrize("record", PROVABLE + TRICKY)
def test_vectorised_conversion_agrees_with_record_by_record(record: bytes) -> None:
    conv = RecordConverter(VECTOR_COLUMNS)
    fast = _vectorised(conv, [record])
    slow = _one_by_one(conv, record)
    if record in PROVABLE:
        assert fast is not None, "the vectorised path should take this record"
    if fast is not None:
        assert slow is not None, "the vectorised path took a record the record path refuses"
        assert repr(fast) == repr([slow])  # repr: NaN equals NaN


def test_vectorised_conversion_of_many_records_keeps_their_order() -> None:
    conv = RecordConverter(VECTOR_COLUMNS)
    records = PROVABLE * 50
    assert repr(_vectorised(conv, records)) == repr([_one_by_one(conv, r) for r in records])


@pytest.mark.parametrize("bad", [b"", b"  ", b"not json", b'{"i": 1}{"i": 2}', b'{"I": 7}'])
def test_one_bad_record_makes_the_vectorised_path_refuse_the_batch(bad: bytes) -> None:
    conv = RecordConverter(VECTOR_COLUMNS)
    assert _vectorised(conv, [*PROVABLE, bad, *PROVABLE]) is None


@pytest.mark.parametrize("hive", ["map<string,int>", "binary", "struct<a:int,A:string>"])
def test_columns_without_a_vectorised_path_are_left_to_the_record_path(hive: str) -> None:
    assert RecordConverter([Column("c", hive)]).parse_fields() is None


def test_a_lone_surrogate_fails_the_record_not_the_delivery() -> None:
    conv = RecordConverter([Column("t", "array<string>")])
    with pytest.raises(ConversionError, match="column 't'"):
        conv.row(loads(b'{"t": ["\\ud800"]}'))
