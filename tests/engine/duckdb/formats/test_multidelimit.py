"""MultiDelimitSerDe over real files: string field delimiters, LazySimpleSerDe values,
validation at CREATE and DDL + queries through a lake session."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import lakebox
from lakebox.engine.duckdb.formats.multidelimit import MultiDelimitReader, parse_multi_delimiter
from lakebox.errors import InvalidRequestError
from lakebox.formats.plugins import MULTI_DELIMIT_SERDE, MULTI_DELIMIT_SERDE_CONTRIB

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

COMPRESSIONS = ["none", "gzip", "gzip-long-ext", "bzip2", "zstd", "snappy-hadoop", "deflate"]


@pytest.mark.parametrize("codec", COMPRESSIONS)
@pytest.mark.parametrize("serde", [MULTI_DELIMIT_SERDE, MULTI_DELIMIT_SERDE_CONTRIB])
def test_string_field_delimiter_over_compressed_files(lake: Lake, codec: str, serde: str) -> None:
    t = lake.table(
        [("id", "int"), ("name", "string"), ("score", "double")],
        serde=serde,
        serde_params={"field.delim": "|~|"},
    )
    lake.write(t, "a.txt", "1|~|ann|~|1.5\n2|~|b|ob|~|\\N\n", codec=codec)
    lake.write(t, "b.txt", "3|~|cy~|~|x\n", codec=codec)
    assert lake.read(t) == [(1, "ann", 1.5), (2, "b|ob", None), (3, "cy~", None)]


@pytest.mark.parametrize(
    ("delim", "line"),
    [
        ("[,]", "7[,]a:b:c[,]k1@1:k2@2"),
        ("\\t\\t", "7\t\ta:b:c\t\tk1@1:k2@2"),
        ("\\001\\001", "7\x01\x01a:b:c\x01\x01k1@1:k2@2"),
        ("::|", "7::|a:b:c::|k1@1:k2@2"),
    ],
)
def test_collections_use_single_character_delimiters(lake: Lake, delim: str, line: str) -> None:
    t = lake.table(
        [("id", "string"), ("arr", "array<string>"), ("m", "map<string,int>")],
        serde=MULTI_DELIMIT_SERDE,
        serde_params={"field.delim": delim, "collection.delim": ":", "mapkey.delim": "@"},
    )
    lake.write(t, "a.txt", line + "\n")
    assert lake.read(t) == [("7", ["a", "b", "c"], {"k1": 1, "k2": 2})]


def test_missing_and_extra_fields_like_lazy_simple(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int"), ("c", "string")],
        serde=MULTI_DELIMIT_SERDE,
        serde_params={"field.delim": "##"},
    )
    lake.write(t, "a.txt", "x##1\ny##2##z##extra\n\n")
    assert lake.read(t) == [("", None, None), ("x", 1, None), ("y", 2, "z")]


def test_escaped_delimiter_stays_in_the_value(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "string")],
        serde=MULTI_DELIMIT_SERDE,
        serde_params={"field.delim": "||", "escape.delim": "\\"},
    )
    lake.write(t, "a.txt", "left\\||side||right\n")
    assert lake.read(t) == [("left||side", "right")]


def test_header_lines_skipped(lake: Lake) -> None:
    t = lake.table(
        [("a", "string"), ("b", "int")],
        serde=MULTI_DELIMIT_SERDE,
        serde_params={"field.delim": "<>"},
        params={"skip.header.line.count": "1"},
    )
    lake.write(t, "a.txt", "a<>b\nq<>5\n")
    assert lake.read(t) == [("q", 5)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("|~|", "|~|"), ("\\t|", "\t|"), ("\\u0001x", "\x01x"), ("12", "12"), ("\\\\", "\\")],
)
def test_delimiter_escapes_decode_every_character(value: str, expected: str) -> None:
    assert parse_multi_delimiter(value) == expected


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "field.delim"),
        ({"field.delim": ""}, "field.delim"),
        ({"field.delim": "|~|", "collection.delim": "::"}, "collection.delim"),
        ({"field.delim": "|~|", "mapkey.delim": "=>"}, "mapkey.delim"),
        ({"field.delim": "|~|", "collection.delim": ":", "mapkey.delim": ":"}, "delimiters"),
    ],
)
def test_validate_rejects_bad_properties(lake: Lake, params: dict[str, str], named: str) -> None:
    t = lake.table([("a", "string")], serde=MULTI_DELIMIT_SERDE, serde_params=params)
    with pytest.raises(InvalidRequestError, match=re.escape(named)):
        MultiDelimitReader().validate(t)


def _session(home: Path) -> lakebox.Session:
    return lakebox.connect(home)


def test_ddl_and_query_through_a_session(lake_home: Path) -> None:
    session = _session(lake_home)
    session.lake.storage.ensure_bucket("logs")
    session.lake.storage.write_bytes(
        "s3://logs/md/part-0.txt", b"1|~|web|~|a,b|~|10.5\n2|~|api|~|c|~|\\N\n"
    )
    session.sql(
        """CREATE EXTERNAL TABLE md (id int, svc string, tags array<string>, cost double)
        ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.MultiDelimitSerDe'
        WITH SERDEPROPERTIES ('field.delim'='|~|', 'collection.delim'=',')
        STORED AS TEXTFILE LOCATION 's3://logs/md/'"""
    )
    rows = session.sql(
        "SELECT id, svc, cardinality(tags), cost FROM md WHERE id > 0 ORDER BY id"
    ).fetchall()
    assert rows == [(1, "web", 2, 10.5), (2, "api", 1, None)]


def test_create_rejects_multi_character_collection_delimiter(lake_home: Path) -> None:
    session = _session(lake_home)
    with pytest.raises(InvalidRequestError, match=re.escape("collection.delim")):
        session.sql(
            """CREATE EXTERNAL TABLE bad (a string, b array<string>)
            ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.MultiDelimitSerDe'
            WITH SERDEPROPERTIES ('field.delim'='|~|', 'collection.delim'='::')
            LOCATION 's3://logs/bad/'"""
        )
