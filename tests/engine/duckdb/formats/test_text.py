"""LazySimpleSerDe and OpenCSVSerde over real files, with Hive's / Athena's semantics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import lakebox
from lakebox.catalog.model import Table
from lakebox.config import LakeConfig
from lakebox.engine.duckdb.formats.text import (
    LazySimpleReader,
    OpenCsvReader,
    data_error_from_duckdb,
    joda_to_strptime,
    parse_delimiter,
)
from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.charsets import resolve_charset
from lakebox.formats.plugins import (
    LAZY_SIMPLE_SERDE,
    MULTI_DELIMIT_SERDE,
    OPEN_CSV_SERDE,
    REGEX_SERDE,
    TEXT_INPUT,
)
from lakebox.storage import Storage

from .conftest import BUCKET, Lake

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


@pytest.mark.parametrize("quote", ['"', "'", "|"])
def test_opencsv_doubled_quotes_in_typed_columns(lake: Lake, quote: str) -> None:
    """A doubled quote is one quote (OpenCSV) in every column: a number, boolean or date
    holding one does not convert (Hive's Lazy* objects), a string keeps it."""
    columns = [("i", "int"), ("f", "double"), ("b", "boolean"), ("d", "date"), ("s", "string")]
    t = lake.table(columns, serde=CSV, serde_params={"quoteChar": quote})
    q = quote

    def field(text: str) -> str:
        return q + text.replace("~", q * 2) + q

    good = ",".join(field(v) for v in ("12", "1.5", "true", "2024-01-02", "a~b"))
    doubled = ",".join(field(v) for v in ("1~2", "1.~5", "tr~ue", "2024-01-0~2", "~"))
    lake.write(t, "a.csv", f"{good}\n{doubled}\n")
    assert lake.read(t) == [
        (12, 1.5, True, dt.date(2024, 1, 2), f"a{q}b"),
        (None, None, None, None, q),
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


# -- Hive's line reader, control bytes and charsets --------------------------------------

#: the SerDes that read whole lines first: (SerDe, SerDe properties) reading 'id,s' rows
_LINE_SERDES = {
    "lazy": (LAZY, {"field.delim": ","}),
    "opencsv": (CSV, {}),
    "multidelimit": (MULTI_DELIMIT_SERDE, {"field.delim": ","}),
    "regex": (REGEX_SERDE, {"input.regex": "([^,]*),(.*)"}),
}


def _id_s_table(lake: Lake, serde: str, extra: dict[str, str] | None = None) -> Table:
    library, params = _LINE_SERDES[serde]
    # OpenCSVSerde reads every column as text in Athena; the others convert
    id_type = "string" if serde == "opencsv" else "int"
    return lake.table(
        [("id", id_type), ("s", "string")],
        serde=library,
        serde_params={**params, **(extra or {})},
        params={"skip.header.line.count": "1"},
    )


def _ids(rows: list[tuple[object, ...]]) -> list[tuple[str, object]]:
    return sorted((str(i), s) for i, s in rows)


@pytest.mark.parametrize("codec", ["none", "gzip", "bzip2"])
@pytest.mark.parametrize("serde", sorted(_LINE_SERDES))
@pytest.mark.parametrize(
    "data",
    [
        b"id,s\n1,a\n2,b\r\n3,c\r\n4,d\n",  # the issue's file: LF first, then CRLF
        b"id,s\r\n1,a\r\n2,b\n3,c\n4,d",  # CRLF first, then LF, no final line end
        b"id,s\r1,a\r2,b\r3,c\r4,d\r",  # classic Mac: lone CR
        b"id,s\r\n1,a\r2,b\n3,c\r\n4,d\r\n",  # all three
        b"id,s\r\n1,a\r\n2,b\r\n3,c\r\n4,d\r\n",  # Windows throughout
    ],
    ids=["lf-then-crlf", "crlf-then-lf", "cr", "all-three", "crlf"],
)
def test_every_hive_line_end_ends_one_line(lake: Lake, serde: str, data: bytes, codec: str) -> None:
    t = _id_s_table(lake, serde)
    lake.write(t, "a.csv", data, codec=codec)
    rows = lake.read(t)
    assert len(rows) == 4
    assert _ids(rows) == [("1", "a"), ("2", "b"), ("3", "c"), ("4", "d")]


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_blank_lines_between_cr_line_ends_are_rows(lake: Lake, codec: str) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string")], serde=LAZY, serde_params={"field.delim": ","}
    )
    # lines: 'x,1', '', 'y,2', '', 'z,3' ('\r\r' and '\r\n\r\n' each hold one blank line)
    lake.write(t, "a.txt", b"x,1\r\ry,2\r\n\r\nz,3\n", codec=codec)
    assert lake.read(t) == [("", None), ("", None), ("x", "1"), ("y", "2"), ("z", "3")]


def test_a_cr_after_the_first_mib_is_still_a_line_end(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=LAZY, serde_params={"field.delim": ","})
    body = b"".join(b"k%07d,%d\n" % (i, i) for i in range(200_000))  # ~2.6 MB of '\n' lines
    lake.write(t, "a.txt", body + b"last,1\r\nend,2\r\n")
    rows = lake.con.sql(f"SELECT count(*), count(b) FROM ({lake.sql(t)})").fetchall()
    assert rows == [(200_002, 200_002)]


@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize("serde", sorted(_LINE_SERDES))
def test_nul_and_control_bytes_are_kept(lake: Lake, serde: str, codec: str) -> None:
    t = _id_s_table(lake, serde)
    kept = "a\x00b\x01\x07\x0b\x0c\x1b\x1c\x1d\x1e\x7f\x85z"
    lake.write(t, "a.csv", (f"id,s\n1,{kept}\n2,\x00\x00\n").encode(), codec=codec)
    rows = lake.con.sql(f"SELECT id, s, length(s) FROM ({lake.sql(t)}) ORDER BY 1").fetchall()
    assert [(str(i), s, n) for i, s, n in rows] == [
        ("1", kept, len(kept)),
        ("2", "\x00\x00", 2),
    ]


def test_nul_inside_a_field_keeps_its_length(lake: Lake) -> None:
    t = lake.table([("a", "string"), ("b", "int")], serde=LAZY, serde_params={"field.delim": ","})
    lake.write(t, "a.txt", b"a\x00c,1\n")
    assert lake.con.sql(f"SELECT length(a), b FROM ({lake.sql(t)})").fetchall() == [(3, 1)]


def test_plain_utf8_files_are_read_directly_and_only_odd_files_are_copied(lake: Lake) -> None:
    t = lake.table([("a", "string")], serde=LAZY)
    lake.write(t, "plain.txt", "x\ny\n")
    lake.write(t, "crlf.txt", "x\r\ny\r\n")
    sql = lake.sql(t)
    assert "transcoded" not in sql
    lake.write(t, "mixed.txt", "x\ny\r\n")
    sql = lake.sql(t)
    assert sql.count("transcoded") == 1 and "plain.txt" in sql and "crlf.txt" in sql
    assert sorted(lake.read(t)) == [("x",)] * 3 + [("y",)] * 3


#: every character windows-1252 puts at 0x80-0x9F (where ISO-8859-1 has C1 controls)
_CP1252_0X80_0X9F = bytes(
    b for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
).decode("cp1252")

#: (Java name a user writes, Python codec that writes the file, text)
_CHARSET_CASES = [
    ("UTF-8", "utf-8", "naïve ☃ 日本"),
    ("utf8", "utf-8", "naïve"),
    ("US-ASCII", "ascii", "plain"),
    ("ISO-8859-1", "latin-1", "café"),
    ("latin1", "latin-1", "Ærø"),
    ("ISO8859_1", "latin-1", "ü"),
    ("windows-1252", "cp1252", "café " + _CP1252_0X80_0X9F),
    ("cp1252", "cp1252", "\u201cquoted\u201d \u2013 dash"),
    ("Windows-1252", "cp1252", "€"),
    ("ISO-8859-15", "iso8859_15", "€ œ"),
    ("ISO-8859-2", "iso8859_2", "Łódź"),
    ("windows-1250", "cp1250", "Łódź"),
    ("windows-1251", "cp1251", "Привет"),
    ("KOI8-R", "koi8_r", "Привет"),
    ("Shift_JIS", "shift_jis", "日本語のテキスト"),
    ("SJIS", "shift_jis", "ｶﾀｶﾅ"),
    ("MS932", "cp932", "①②\uff5eNEC特殊"),  # wave dash: MS932 only
    ("windows-31j", "cp932", "髙﨑"),
    ("EUC-JP", "euc_jp", "日本語"),
    ("GBK", "gbk", "中文"),
    ("GB18030", "gb18030", "中文𠀀"),
    ("GB2312", "gb2312", "中文"),
    ("Big5", "big5", "繁體"),
    ("EUC-KR", "euc_kr", "한국어"),
    ("UTF-16", "utf-16", "with BOM ☃"),
    ("UTF-16", "utf-16-be", "no BOM so big-endian"),
    ("UTF-16BE", "utf-16-be", "big ☃"),
    ("UTF-16LE", "utf-16-le", "little ☃"),
    ("utf_16le", "utf-16-le", "squashed name"),
    ("UTF-32", "utf-32", "thirty-two"),
]


@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize("serde", ["lazy", "opencsv"])
@pytest.mark.parametrize(("java", "python", "text"), _CHARSET_CASES)
def test_java_charset_names_decode_the_file(
    lake: Lake, java: str, python: str, text: str, serde: str, codec: str
) -> None:
    t = _id_s_table(lake, serde, {"serialization.encoding": java})
    lake.write(t, "a.csv", f"id,s\n1,{text}\r\n2,x\n".encode(python), codec=codec)
    assert _ids(lake.read(t)) == [("1", text), ("2", "x")]


def test_iso_8859_1_maps_every_byte(lake: Lake) -> None:
    t = lake.table(
        [("a", "string")], serde=LAZY, serde_params={"serialization.encoding": "ISO-8859-1"}
    )
    every = bytes(b for b in range(1, 256) if b not in b"\n\r\x01")
    lake.write(t, "a.txt", every + b"\n")
    assert lake.read(t) == [(every.decode("latin-1"),)]


@pytest.mark.parametrize(
    ("java", "data", "value"),
    [
        ("US-ASCII", b"caf\xe9", "caf\ufffd"),
        ("windows-1252", b"a\x81b", "a\ufffdb"),  # a byte windows-1252 leaves unmapped
        ("UTF-8", b"ok", "ok"),
        ("Shift_JIS", b"a\x82", "a\ufffd"),  # a lead byte with no trail byte
        ("UTF-16LE", "ab".encode("utf-16-le") + b"\x00\xd8", "ab\ufffd"),  # lone surrogate
    ],
)
def test_malformed_bytes_become_replacement_characters(
    lake: Lake, java: str, data: bytes, value: str
) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=LAZY,
        serde_params={"field.delim": ",", "serialization.encoding": java},
    )
    sep = ",".encode("utf-16-le") if java == "UTF-16LE" else b","
    end = "1\n".encode("utf-16-le") if java == "UTF-16LE" else b"1\n"
    lake.write(t, "a.txt", data + sep + end)
    assert lake.read(t) == [(value, 1)]


@pytest.mark.parametrize("name", ["EBCDIC", "utf-9", "Shift JIS"])
@pytest.mark.parametrize("reader", [LazySimpleReader, OpenCsvReader])
def test_unknown_charset_names_the_property_and_value(
    lake: Lake, reader: type[LazySimpleReader], name: str
) -> None:
    t = lake.table([("a", "string")], serde=LAZY, serde_params={"serialization.encoding": name})
    with pytest.raises(InvalidRequestError, match=f"serialization.encoding {name!r}"):
        reader().validate(t)


@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ("windows-1252", "windows-1252"),
        ("CP1252", "windows-1252"),
        ("ms932", "windows-31j"),
        ("Windows-31J", "windows-31j"),
        ("shift_jis", "Shift_JIS"),
        ("x-sjis", "Shift_JIS"),
        ("eucjp", "EUC-JP"),
        ("ISO-8859-1", "ISO-8859-1"),
        ("iso_8859_1", "ISO-8859-1"),
        ("L1", "ISO-8859-1"),
        ("UnicodeLittleUnmarked", "UTF-16LE"),
        ("cp936", "GBK"),
        (" UTF-8 ", "UTF-8"),
    ],
)
def test_charset_names_and_aliases_are_case_insensitive(spelled: str, canonical: str) -> None:
    assert resolve_charset(spelled).java_name == canonical


def test_encoding_and_null_format_may_be_table_properties(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string")],
        serde=LAZY,
        serde_params={"field.delim": ","},
        params={"serialization.encoding": "windows-1252", "serialization.null.format": ""},
    )
    lake.write(t, "a.txt", "é,\n,x\n".encode("cp1252"))
    assert lake.read(t) == [("é", None), (None, "x")]


def test_serde_property_wins_over_table_property(lake: Lake) -> None:
    t = lake.table(
        [("a", "string")],
        serde=LAZY,
        serde_params={"serialization.null.format": "NA"},
        params={"serialization.null.format": ""},
    )
    lake.write(t, "a.txt", "NA\n\n")
    assert lake.read(t) == [("",), (None,)]


def _put(home: Path, uri: str, data: bytes) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    path = home / bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_issue_file_counts_four_rows_through_sql(lake_home: Path) -> None:
    """``printf 'id,s\\n1,a\\n2,b\\r\\n3,c\\r\\n4,d\\n'`` with the header skipped."""
    _put(lake_home, "s3://data/mixed/a.csv", b"id,s\n1,a\n2,b\r\n3,c\r\n4,d\n")
    session = lakebox.connect(lake_home)
    session.sql(
        "CREATE EXTERNAL TABLE mixed (id int, s string) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' LOCATION 's3://data/mixed/' "
        "TBLPROPERTIES ('skip.header.line.count'='1')"
    )
    assert session.sql("SELECT count(*) FROM mixed").fetchall() == [(4,)]
    assert session.sql("SELECT max(length(s)), sum(id) FROM mixed").fetchall() == [(1, 10)]


@pytest.mark.parametrize(
    "row_format",
    [
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "WITH SERDEPROPERTIES ('serialization.encoding'='windows-1252')",
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' "
        "WITH SERDEPROPERTIES ('field.delim'=',', 'serialization.encoding'='windows-1252')",
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
        "WITH SERDEPROPERTIES ('serialization.encoding'='windows-1252')",
    ],
    ids=["delimited", "lazy-serde", "opencsv"],
)
def test_windows_1252_declared_in_ddl_reads_through_sql(lake_home: Path, row_format: str) -> None:
    """The AWS docs' example: a windows-1252 file declared with serialization.encoding."""
    _put(lake_home, "s3://data/w/a.csv", "name,price\ncafé,3 €\nNaïve,€\n".encode("cp1252"))
    session = lakebox.connect(lake_home)
    session.sql(
        f"CREATE EXTERNAL TABLE w (name string, price string) {row_format} "
        "LOCATION 's3://data/w/' TBLPROPERTIES ('skip.header.line.count'='1')"
    )
    assert session.sql("SELECT name, price FROM w ORDER BY name").fetchall() == [
        ("Naïve", "€"),
        ("café", "3 €"),
    ]


def test_null_defined_as_and_null_format_property_through_sql(lake_home: Path) -> None:
    _put(lake_home, "s3://data/n/a.txt", b"a,\n,b\n")
    session = lakebox.connect(lake_home)
    session.sql(
        "CREATE EXTERNAL TABLE n1 (x string, y string) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' NULL DEFINED AS '' LOCATION 's3://data/n/'"
    )
    session.sql(
        "CREATE EXTERNAL TABLE n2 (x string, y string) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' LOCATION 's3://data/n/' "
        "TBLPROPERTIES ('serialization.null.format'='')"
    )
    for table in ("n1", "n2"):
        assert session.sql(f"SELECT count(x), count(y) FROM {table}").fetchall() == [(1, 1)]


class _PrefixedLake(Lake):
    """Tables under a prefix of their own: the S3 server outlives one test."""

    def location(self, name: str) -> str:
        return f"s3://{BUCKET}/{self.cache_dir.parent.name}/{name}/"


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_mixed_line_ends_and_charsets_read_alike_from_s3(
    any_config: LakeConfig, tmp_path: Path, codec: str
) -> None:
    """In S3 mode the line-end check samples the object's head instead of mapping it."""
    storage = Storage(any_config)
    storage.ensure_bucket(BUCKET)
    s3_lake = _PrefixedLake(storage, tmp_path / "s3cache")
    try:
        t = s3_lake.table(
            [("id", "int"), ("s", "string")],
            serde=LAZY,
            serde_params={"field.delim": ",", "serialization.encoding": "MS932"},
            params={"skip.header.line.count": "1"},
        )
        s3_lake.write(t, "a.csv", "id,s\n1,東\n2,京\r\n3,都\r\n".encode("cp932"), codec=codec)
        assert s3_lake.read(t) == [(1, "東"), (2, "京"), (3, "都")]
        plain = s3_lake.table([("a", "string")], serde=LAZY)
        s3_lake.write(plain, "b.txt", "x\ny\rz\n", codec=codec)
        assert s3_lake.read(plain) == [("x",), ("y",), ("z",)]
    finally:
        s3_lake.con.close()
