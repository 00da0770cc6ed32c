"""LazySimpleSerDe and OpenCSVSerde over real files, with Hive's / Athena's semantics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import duckdb
import pytest

from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.text import (
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    TEXT_INPUT,
    LazySimpleReader,
    OpenCsvReader,
    data_error_from_duckdb,
    joda_to_strptime,
    parse_delimiter,
)

if TYPE_CHECKING:
    from tests.formats.conftest import Lake

LAZY = LAZY_SIMPLE_SERDE
CSV = OPEN_CSV_SERDE


@pytest.mark.parametrize(
    ("spelled", "char"),
    [
        ("\\t", "\t"),
        ("\t", "\t"),
        ("\\001", "\x01"),
        ("\\u0001", "\x01"),
        ("|", "|"),
        (",", ","),
        ("9", "\t"),
        ("1", "\x01"),
        ("\\x1f", "\x1f"),
        ("\\\\", "\\"),
        ("::", ":"),
    ],
)
def test_parse_delimiter_reads_ddl_spellings(spelled: str, char: str) -> None:
    assert parse_delimiter(spelled, "\x01") == char


def test_parse_delimiter_keeps_digits_for_opencsv() -> None:
    assert parse_delimiter("9", ",", numeric_byte=False) == "9"
    assert parse_delimiter(None, ",") == ","


def test_default_delimiter_nulls_ragged_rows_and_bad_values(lake: Lake) -> None:
    t = lake.table([("id", "int"), ("name", "string"), ("score", "double")], serde=LAZY)
    lake.write(t, "a.txt", "1\x01ann\x012.5\n2\x01\\N\n3\x01cy\x01x\x01extra\nbad\x01dee\x011e3\n")
    assert lake.read(t) == [
        (1, "ann", 2.5),
        (2, None, None),
        (3, "cy", None),
        (None, "dee", 1000.0),
    ]


@pytest.mark.parametrize("delim", ["\\t", "\t", "\\u0009", "9", "\\011"])
def test_tab_delimiter_in_every_spelling(lake: Lake, delim: str) -> None:
    t = lake.table(
        [("a", "string"), ("b", "bigint")], serde=LAZY, serde_params={"field.delim": delim}
    )
    lake.write(t, "a.tsv", "x\t10\ny\t20\n")
    assert lake.read(t) == [("x", 10), ("y", 20)]


def test_serialization_format_sets_the_delimiter(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")], serde=LAZY, serde_params={"serialization.format": "|"}
    )
    lake.write(t, "a.txt", "x|1\n")
    assert lake.read(t) == [("x", 1)]


def test_no_quoting_in_lazy_simple(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string")], serde=LAZY, serde_params={"field.delim": ","}
    )
    lake.write(t, "a.csv", '"x,y",z\n')
    assert lake.read(t) == [('"x', 'y"')]


def test_blank_line_is_a_row(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=LAZY, serde_params={"field.delim": ","})
    lake.write(t, "a.csv", "x,1\n\ny,2\n")
    assert lake.read(t) == [("", None), ("x", 1), ("y", 2)]


def test_header_skipped_in_every_file(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=LAZY,
        serde_params={"field.delim": ","},
        params={"skip.header.line.count": "2"},
    )
    for i in range(3):
        lake.write(t, f"part-{i}.csv", f"title\na,b\nrow{i},{i}\n")
    assert lake.read(t) == [("row0", 0), ("row1", 1), ("row2", 2)]


def test_custom_null_format(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=LAZY,
        serde_params={"field.delim": ",", "serialization.null.format": ""},
    )
    lake.write(t, "a.csv", ",1\nx,\n\\N,3\n")
    assert lake.read(t) == [("\\N", 3), ("x", None), (None, 1)]


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("FALSE", False), ("True", True), ("yes", None), ("1", None), ("", None)],
)
def test_boolean_per_hive(lake: Lake, text: str, value: bool | None) -> None:
    t = lake.table([("k", "int"), ("b", "boolean")], serde=LAZY, serde_params={"field.delim": ","})
    lake.write(t, "a.csv", f"1,{text}\n")
    assert lake.read(t) == [(1, value)]


@pytest.mark.parametrize(
    ("hive", "text", "value"),
    [
        ("int", "42", 42),
        ("int", "1.5", None),
        ("int", "99999999999", None),
        ("int", "-7", -7),
        ("int", " 4", None),
        ("bigint", "99999999999", 99999999999),
        ("tinyint", "300", None),
        ("double", "2.5e2", 250.0),
        ("double", "abc", None),
        ("decimal(10,2)", "3.14159", Decimal("3.14")),
        ("date", "2024-02-29", dt.date(2024, 2, 29)),
        ("date", "2024-13-01", None),
        ("timestamp", "2024-01-02 03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ("timestamp", "2024-01-02 03:04:05.123456789", dt.datetime(2024, 1, 2, 3, 4, 5, 123456)),
        ("timestamp", "yesterday noon", None),
        ("varchar(3)", "abcdef", "abc"),
        ("string", "", ""),
    ],
)
def test_value_conversion(lake: Lake, hive: str, text: str, value: object) -> None:
    t = lake.table([("k", "int"), ("v", hive)], serde=LAZY, serde_params={"field.delim": ","})
    lake.write(t, "a.csv", f"1,{text}\n")
    assert lake.read(t) == [(1, value)]


def test_complex_columns_with_default_separators(lake: Lake) -> None:
    """Each nesting level takes the next separator, as in Hive (a map inside an array splits
    entries on \\003 and keys on \\004)."""
    t = lake.table(
        [
            ("id", "int"),
            ("tags", "array<string>"),
            ("m", "map<string,int>"),
            ("s", "struct<a:int,b:string>"),
            ("nested", "array<map<string,int>>"),
        ],
        serde=LAZY,
    )
    line = "\x01".join(
        ["1", "x\x02y\x02\\N", "k\x031\x02j\x03bad", "5\x02q", "a\x041\x03b\x042\x02c\x043"]
    )
    lake.write(t, "a.txt", line + "\n2\x01\x01\x01\x01\n3\n")
    assert lake.read(t) == [
        (
            1,
            ["x", "y", None],
            {"k": 1, "j": None},
            {"a": 5, "b": "q"},
            [{"a": 1, "b": 2}, {"c": 3}],
        ),
        (2, [], {}, {"a": None, "b": None}, []),
        (3, None, None, None, None),
    ]


def test_custom_collection_and_mapkey_delimiters(lake: Lake) -> None:
    # 'colelction.delim' is Hive's historical misspelling, still honoured
    t = lake.table(
        [("tags", "array<int>"), ("m", "map<string,string>")],
        serde=LAZY,
        serde_params={"field.delim": ",", "colelction.delim": "|", "mapkey.delim": ":"},
    )
    lake.write(t, "a.csv", "1|2|x,a:b|c:d:e\n")
    assert lake.read(t) == [([1, 2, None], {"a": "b", "c": "d:e"})]


def test_escape_delim(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string"), ("c", "string")],
        serde=LAZY,
        serde_params={"field.delim": ",", "escape.delim": "\\"},
    )
    lake.write(t, "a.csv", "x\\,y,back\\\\,\\N\nq\\z,,\n")
    assert lake.read(t) == [("qz", "", ""), ("x,y", "back\\", None)]


def test_text_input_format_without_serde_is_lazy_simple(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")], input_format=TEXT_INPUT, serde_params={"field.delim": ","}
    )
    lake.write(t, "a.csv", "x,1\n")
    assert lake.read(t) == [("x", 1)]


def test_column_subset_keeps_positions(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int"), ("c", "string")],
        serde=LAZY,
        serde_params={"field.delim": ","},
    )
    lake.write(t, "a.csv", "x,1,y\n")
    assert lake.read(t, columns=["c"]) == [("y",)]


def test_large_file_with_many_files(lake: Lake) -> None:
    t = lake.table(
        [("id", "bigint"), ("name", "string")], serde=LAZY, serde_params={"field.delim": ","}
    )
    for part in range(40):
        lake.write(t, f"p{part:03d}.csv", "".join(f"{part * 1000 + i},n{i}\n" for i in range(1000)))
    rows = lake.con.sql(f"SELECT count(*), sum(id) FROM ({lake.sql(t)})").fetchall()
    assert rows == [(40000, sum(range(40000)))]


@pytest.mark.parametrize(
    ("serde_params", "params", "needle"),
    [
        ({"field.delim": ",", "collection.delim": ","}, {}, "must differ"),
        ({}, {"skip.header.line.count": "one"}, "whole number"),
        ({}, {"skip.header.line.count": "-1"}, "negative"),
        ({"line.delim": "\\r"}, {}, "line.delim"),
    ],
)
def test_lazy_simple_rejects_bad_properties(
    lake: Lake, serde_params: dict[str, str], params: dict[str, str], needle: str
) -> None:
    t = lake.table([("a", "string")], serde=LAZY, serde_params=serde_params, params=params)
    with pytest.raises(InvalidRequestError, match=needle):
        LazySimpleReader().validate(t)


# -- OpenCSVSerde -------------------------------------------------------------------------


def test_opencsv_quotes_escapes_and_empty_fields(lake: Lake) -> None:
    t = lake.table(
        [("id", "int"), ("name", "string"), ("note", "string"), ("n", "bigint")],
        serde=CSV,
        params={"skip.header.line.count": "1"},
    )
    lake.write(
        t,
        "a.csv",
        'id,name,note,n\n1,"Smith, J","say ""hi""",7\n2,"back\\"slash",,\n3,plain,"",x\n4\n',
    )
    assert lake.read(t) == [
        (1, "Smith, J", 'say "hi"', 7),
        (2, 'back"slash', "", None),
        (3, "plain", "", None),
        (4, None, None, None),
    ]


def test_opencsv_custom_separator_and_quote(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "double")],
        serde=CSV,
        serde_params={"separatorChar": "\\t", "quoteChar": "'"},
    )
    lake.write(t, "a.tsv", "'x\ty'\t1.5\nz\tnope\n")
    assert lake.read(t) == [("x\ty", 1.5), ("z", None)]


def test_opencsv_unix_millis_timestamps_and_epoch_day_dates(lake: Lake) -> None:
    t = lake.table([("ts", "timestamp"), ("d", "date"), ("b", "boolean")], serde=CSV)
    lake.write(t, "a.csv", '1579059880000,18276,true\n"2020-01-15 03:44:40",2020-01-15,no\n')
    expected_ts = dt.datetime(2020, 1, 15, 3, 44, 40)
    assert lake.read(t) == [
        (expected_ts, dt.date(2020, 1, 15), None),
        (expected_ts, dt.date(2020, 1, 15), True),
    ]


def test_opencsv_header_skip_over_many_files(lake: Lake) -> None:
    t = lake.table([("a", "string")], serde=CSV, params={"skip.header.line.count": "1"})
    lake.write(t, "1.csv", "a\none\n")
    lake.write(t, "2.csv", "a\ntwo\n")
    assert lake.read(t) == [("one",), ("two",)]


@pytest.mark.parametrize(
    ("columns", "serde_params", "needle"),
    [
        ([("a", "array<string>")], {}, "complex type"),
        ([("a", "string")], {"separatorChar": '"'}, "must differ"),
    ],
)
def test_opencsv_rejects_bad_tables(
    lake: Lake, columns: list[tuple[str, str]], serde_params: dict[str, str], needle: str
) -> None:
    t = lake.table(columns, serde=CSV, serde_params=serde_params)
    with pytest.raises(InvalidRequestError, match=needle):
        OpenCsvReader().validate(t)


def test_line_longer_than_duckdbs_default_limit(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=LAZY, serde_params={"field.delim": ","})
    long = "y" * (3 * 1024 * 1024)
    lake.write(t, "a.csv", f"x,1\n{long},2\n")
    rows = lake.con.sql(f"SELECT length(a), b FROM ({lake.sql(t)})").fetchall()
    assert sorted(rows) == [(1, 1), (len(long), 2)]


@pytest.mark.parametrize("serde", [LAZY, CSV])
def test_latin1_encoding(lake: Lake, serde: str) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=serde,
        serde_params={"field.delim": ",", "serialization.encoding": "ISO-8859-1"},
    )
    lake.write(t, "a.csv", "café,1\n".encode("latin-1"))
    assert lake.read(t) == [("café", 1)]


@pytest.mark.parametrize("reader", [LazySimpleReader, OpenCsvReader])
def test_unknown_encoding_is_rejected(lake: Lake, reader: type[LazySimpleReader]) -> None:
    t = lake.table([("a", "string")], serde=LAZY, serde_params={"serialization.encoding": "EBCDIC"})
    with pytest.raises(InvalidRequestError, match="EBCDIC"):
        reader().validate(t)


def test_opencsv_extra_fields_are_ignored_and_blank_values_kept(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=CSV)
    lake.write(t, "a.csv", 'x,1,extra,"more, here"\n" y ",2\n')
    assert lake.read(t) == [(" y ", 2), ("x", 1)]


@pytest.mark.parametrize(
    ("joda", "duck"),
    [
        ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "%Y-%m-%dT%H:%M:%S.%gZ"),
        ("dd/MMM/yyyy:HH:mm:ss Z", "%d/%b/%Y:%H:%M:%S %z"),
        ("yyyy.M.d h:mm a", "%Y.%-m.%-d %-I:%M %p"),
        ("'at' HH'h' 100%", "at %Hh 100%%"),
    ],
)
def test_joda_patterns_become_strptime_formats(joda: str, duck: str) -> None:
    assert joda_to_strptime(joda) == duck


def test_unsupported_joda_letter_is_rejected(lake: Lake) -> None:
    t = lake.table([("ts", "timestamp")], serde=LAZY, serde_params={"timestamp.formats": "G yyyy"})
    with pytest.raises(UnsupportedError, match="'G'"):
        LazySimpleReader().validate(t)


def test_timestamp_formats_tried_before_hive_default(lake: Lake) -> None:
    t = lake.table(
        [("k", "int"), ("ts", "timestamp")],
        serde=LAZY,
        serde_params={"field.delim": "|", "timestamp.formats": "yyyy-MM-dd'T'HH:mm:ssXXX,millis"},
    )
    lake.write(
        t,
        "a.txt",
        "1|2024-03-01T10:00:00+02:00\n2|1579059880000\n3|2024-03-01 10:00:00\n4|March 1st\n",
    )
    assert lake.read(t) == [
        (1, dt.datetime(2024, 3, 1, 8, 0)),
        (2, dt.datetime(2020, 1, 15, 3, 44, 40)),
        (3, dt.datetime(2024, 3, 1, 10, 0)),
        (4, None),
    ]


@pytest.mark.parametrize("serde", [LAZY, CSV])
def test_crlf_line_ends_and_missing_final_newline(lake: Lake, serde: str) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=serde, serde_params={"field.delim": ","})
    lake.write(t, "a.csv", "x,1\r\ny,2\r\nz,3")
    assert lake.read(t) == [("x", 1), ("y", 2), ("z", 3)]


@pytest.mark.parametrize("codec", ["none", "gzip", "bzip2"])
def test_invalid_utf8_is_reported_with_file_and_line(lake: Lake, codec: str) -> None:
    t = lake.table([("a", "string")], serde=LAZY)
    lake.write(t, "a-good.txt", "fine\n")
    uri = lake.write(t, "b-bad.txt", b"ok\nbad \xff\xfe here\nok\n", codec=codec)
    with pytest.raises(duckdb.Error) as info:
        lake.read(t)
    err = data_error_from_duckdb(info.value, lake.context(), lake.files(t))
    assert err is not None
    assert (err.uri, err.line) == (uri, 2)
    assert "serialization.encoding" in str(err)


def test_unrelated_errors_are_not_translated(lake: Lake) -> None:
    assert (
        data_error_from_duckdb(duckdb.Error("Binder Error: no such column"), lake.context(), [])
        is None
    )
