"""Every text-family reader over every codec Athena picks by file extension."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from lakebox.formats.plugins import (
    HIVE_JSON_SERDE,
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    OPENX_JSON_SERDE,
    REGEX_SERDE,
)

if TYPE_CHECKING:
    from tests.engine.duckdb.formats.conftest import Lake

    from lakebox.catalog.model import Table

#: the codecs conftest.CODECS can write (snappy in both Hadoop-block and framed layouts)
CODECS = [
    "none",
    "gzip",
    "gzip-long-ext",
    "bzip2",
    "zstd",
    "zstd-long-ext",
    "snappy-hadoop",
    "snappy-framed",
    "lz4",
    "deflate",
]
ROWS = [(1, "alpha"), (2, "beta"), (3, None)]


def _lazy(lake: Lake) -> tuple[Table, str]:
    t = lake.table(
        [("id", "int"), ("name", "string")],
        serde=LAZY_SIMPLE_SERDE,
        serde_params={"field.delim": "|"},
        params={"skip.header.line.count": "1"},
    )
    return t, "id|name\n1|alpha\n2|beta\n3|\\N\n"


def _csv(lake: Lake) -> tuple[Table, str]:
    t = lake.table([("id", "int"), ("name", "string")], serde=OPEN_CSV_SERDE)
    return t, '1,"alpha"\n"2",beta\n3\n'


def _json(serde: str) -> Any:
    def make(lake: Lake) -> tuple[Table, str]:
        t = lake.table([("id", "int"), ("name", "string")], serde=serde)
        data = [{"ID": 1, "Name": "alpha"}, {"id": 2, "name": "beta"}, {"id": 3}]
        return t, "".join(json.dumps(d) + "\n" for d in data)

    return make


def _regex(lake: Lake) -> tuple[Table, str]:
    t = lake.table(
        [("id", "int"), ("name", "string")],
        serde=REGEX_SERDE,
        serde_params={"input.regex": r"id=(\d+)(?: name=(\S+))?"},
    )
    return t, "id=1 name=alpha\nid=2 name=beta\nid=3\n"


READERS = {
    "lazy-simple": _lazy,
    "open-csv": _csv,
    "hive-json": _json(HIVE_JSON_SERDE),
    "openx-json": _json(OPENX_JSON_SERDE),
    "regex": _regex,
}


def expected(reader: str, copies: int = 1) -> list[tuple[Any, ...]]:
    # a regex group that takes no part in the match reads as NULL (as in Java), and so
    # does OpenCSV's missing trailing field
    rows = [*ROWS[:2], (3, None)] * copies
    return sorted(rows, key=repr)


@pytest.mark.parametrize("codec", list(CODECS))
@pytest.mark.parametrize("reader", list(READERS))
def test_reader_reads_every_codec(lake: Lake, reader: str, codec: str) -> None:
    table, data = READERS[reader](lake)
    lake.write(table, "part-0.data", data, codec=codec)
    assert lake.read(table) == expected(reader)


@pytest.mark.parametrize("reader", list(READERS))
def test_one_table_mixing_codecs(lake: Lake, reader: str) -> None:
    table, data = READERS[reader](lake)
    for i, codec in enumerate(CODECS):
        lake.write(table, f"part-{i}.data", data, codec=codec)
    assert lake.read(table) == expected(reader, copies=len(CODECS))


@pytest.mark.parametrize("ext", [".GZ", ".Gz"])
def test_extension_case_does_not_matter(lake: Lake, ext: str) -> None:
    import gzip

    table, data = _lazy(lake)
    assert table.location is not None
    lake.storage.write_bytes(table.location + "part" + ext, gzip.compress(data.encode()))
    assert lake.read(table) == expected("lazy-simple")


@pytest.mark.parametrize("codec", ["none", "gzip", "bzip2"])
def test_file_larger_than_ten_megabytes(lake: Lake, codec: str) -> None:
    table = lake.table(
        [("id", "bigint"), ("pad", "string")],
        serde=LAZY_SIMPLE_SERDE,
        serde_params={"field.delim": ","},
    )
    pad = "x" * 100
    n = 110_000
    lake.write(table, "big.csv", "".join(f"{i},{pad}\n" for i in range(n)), codec=codec)
    rows = lake.con.sql(
        f"SELECT count(*), sum(id), min(length(pad)) FROM ({lake.sql(table)})"
    ).fetchall()
    assert rows == [(n, n * (n - 1) // 2, 100)]


@pytest.mark.parametrize("reader", list(READERS))
def test_row_count_without_columns(lake: Lake, reader: str) -> None:
    """count(*) asks for no data columns; every line still makes a row."""
    table, data = READERS[reader](lake)
    lake.write(table, "a.data", data, codec="bzip2")
    lake.write(table, "b.data", data, codec="gzip")
    assert lake.read(table, columns=[]) == [(None,)] * 6
