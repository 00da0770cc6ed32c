"""Partitioned tables of row formats (delimited text, OpenCSV, JSON, regex, grok) whose
files lie in their Hive folders are read in one scan that takes the partition values from
the folders (DuckDB's Hive partitioning: constants per file), with no per-row join to a
table of values; files read from a copy in the lake cache (a codec DuckDB cannot open, a
charset other than UTF-8), keys named like a column of the reader's own, and partitions
outside their folders are read as before. Every way gives the catalog's values.

Real files in a real lake, read through a session; expected rows are what the test wrote.
"""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lakebox.engine.duckdb import scans
from lakebox.session import Session

D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)

#: format -> (the table's storage clause, a row of (id, name) as the format writes it)
FORMATS: dict[str, tuple[str, Callable[[int, str], str]]] = {
    "delimited": ("ROW FORMAT DELIMITED FIELDS TERMINATED BY ','", lambda i, n: f"{i},{n}"),
    "opencsv": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'",
        lambda i, n: f'"{i}","{n}"',
    ),
    "json": (
        "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'",
        lambda i, n: f'{{"id": {i}, "name": "{n}"}}',
    ),
    "regex": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe' "
        "WITH SERDEPROPERTIES ('input.regex' = '([0-9]+) (.*)')",
        lambda i, n: f"{i} {n}",
    ),
    "grok": (
        "ROW FORMAT SERDE 'com.amazonaws.glue.serde.GrokSerDe' "
        "WITH SERDEPROPERTIES ('input.format' = '%{NUMBER:id} %{GREEDYDATA:name}')",
        lambda i, n: f"{i} {n}",
    ),
}


@pytest.fixture
def folder_scans(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The SQL of every folder scan made (None when the reader declined), read from files:
    compacted copies are off, so every query reads the files as the first query does."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    made: list[str | None] = []
    original = scans._scan_by_folder

    def spy(*args: Any) -> str | None:
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(scans, "_scan_by_folder", spy)
    return made


def _write(path: Path, lines: list[str], opener: Callable[..., Any] = open) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


def _table(session: Session, fmt: str, location: str, keys: str = "dt date, region string") -> None:
    session.sql(
        f"CREATE EXTERNAL TABLE t (id int, name string) PARTITIONED BY ({keys}) "
        f"{FORMATS[fmt][0]} LOCATION '{location}'"
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_partitions_in_their_folders_are_read_in_one_scan(
    fmt: str, lake_session: Session, lake_home: Path, folder_scans: list[str | None]
) -> None:
    row = FORMATS[fmt][1]
    root = lake_home / "b" / "t"
    _write(root / "dt=2024-01-01/region=eu/a.txt", [row(1, "a"), row(2, "b")])
    _write(root / "dt=2024-01-02/region=us/b.txt", [row(3, "c")])
    # gzip: DuckDB reads it where it lies, so from its folders too
    _write(root / "dt=2024-01-02/region=eu/c.txt.gz", [row(4, "d")], gzip.open)
    # a value that is no date: NULL, as Athena's typing makes it
    _write(root / "dt=soon/region=eu/d.txt", [row(5, "e")])
    # a partition added at another location keeps the catalog's values
    _write(lake_home / "b" / "elsewhere" / "e.txt", [row(6, "f")])
    s = lake_session
    _table(s, fmt, "s3://b/t/")
    s.sql("MSCK REPAIR TABLE t")
    s.sql("ALTER TABLE t ADD PARTITION (dt='2024-02-01', region='ap') LOCATION 's3://b/elsewhere/'")
    rows = s.sql('SELECT id, name, dt, region, "$partition" FROM t ORDER BY id').fetchall()
    assert rows == [
        (1, "a", D1, "eu", "dt=2024-01-01/region=eu"),
        (2, "b", D1, "eu", "dt=2024-01-01/region=eu"),
        (3, "c", D2, "us", "dt=2024-01-02/region=us"),
        (4, "d", D2, "eu", "dt=2024-01-02/region=eu"),
        (5, "e", None, "eu", "dt=soon/region=eu"),
        (6, "f", dt.date(2024, 2, 1), "ap", "dt=2024-02-01/region=ap"),
    ]
    made = [m for m in folder_scans if m is not None]
    assert made and "hive_partitioning = true" in made[-1]
    assert " JOIN " not in made[-1]  # the partitions in their folders: no per-row join
    pruned = s.sql("SELECT id FROM t WHERE region = 'eu' AND dt = DATE '2024-01-02'")
    assert pruned.fetchall() == [(4,)]


@pytest.mark.parametrize("fmt", ["delimited", "json"])
def test_files_read_from_a_copy_keep_the_catalog_values(
    fmt: str, lake_session: Session, lake_home: Path, folder_scans: list[str | None]
) -> None:
    """bzip2 is decompressed into the lake cache, whose path has no Hive folders: the
    reader declines, and the partitions are read by file with the catalog's values."""
    row = FORMATS[fmt][1]
    root = lake_home / "b" / "t"
    _write(root / "dt=2024-01-01/region=eu/a.txt.bz2", [row(1, "a")], bz2.open)
    _write(root / "dt=2024-01-02/region=us/b.txt.bz2", [row(2, "b")], bz2.open)
    s = lake_session
    _table(s, fmt, "s3://b/t/")
    s.sql("MSCK REPAIR TABLE t")
    rows = s.sql("SELECT id, name, dt, region FROM t ORDER BY id").fetchall()
    assert rows == [(1, "a", D1, "eu"), (2, "b", D2, "us")]
    assert folder_scans and folder_scans[-1] is None


def test_a_charset_other_than_utf8_keeps_the_catalog_values(
    lake_session: Session, lake_home: Path, folder_scans: list[str | None]
) -> None:
    root = lake_home / "b" / "t"
    for day, name in ((1, "café"), (2, "naïve")):
        path = root / f"dt=2024-01-0{day}/region=eu/a.txt"
        path.parent.mkdir(parents=True)
        path.write_bytes(f"{day},{name}\n".encode("latin-1"))
    s = lake_session
    s.sql(
        "CREATE EXTERNAL TABLE t (id int, name string) PARTITIONED BY (dt date, region string) "
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe' "
        "WITH SERDEPROPERTIES ('field.delim' = ',', 'serialization.encoding' = 'ISO-8859-1') "
        "LOCATION 's3://b/t/'"
    )
    s.sql("MSCK REPAIR TABLE t")
    rows = s.sql("SELECT id, name, dt, region FROM t ORDER BY id").fetchall()
    assert rows == [(1, "café", D1, "eu"), (2, "naïve", D2, "eu")]
    assert folder_scans and folder_scans[-1] is None


@pytest.mark.parametrize(
    ("fmt", "key"), [("delimited", "line"), ("opencsv", "c0"), ("json", "json")]
)
def test_a_key_named_like_a_column_of_the_reader_keeps_the_catalog_values(
    fmt: str, key: str, lake_session: Session, lake_home: Path, folder_scans: list[str | None]
) -> None:
    row = FORMATS[fmt][1]
    root = lake_home / "b" / "t"
    _write(root / f"{key}=x/a.txt", [row(1, "a")])
    _write(root / f"{key}=y/b.txt", [row(2, "b")])
    s = lake_session
    _table(s, fmt, "s3://b/t/", keys=f"`{key}` string")
    s.sql("MSCK REPAIR TABLE t")
    rows = s.sql(f'SELECT id, name, "{key}" FROM t ORDER BY id').fetchall()
    assert rows == [(1, "a", "x"), (2, "b", "y")]
    assert folder_scans and folder_scans[-1] is None
