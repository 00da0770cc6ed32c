"""Partitioned scans (``lakebox.engine.duckdb.scans.scan_sql``): partitions whose files lie
in their Hive folders are read in one scan that takes the values from the paths, the others
by the file each row came from or one by one; every way gives the catalog's values, typed
as the keys declare (a value that does not convert is NULL, the default partition is NULL).

Real Parquet files, read by real DuckDB; expected rows are what the test wrote.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakebox.catalog.model import Column, Table
from lakebox.config import LakeConfig
from lakebox.engine.duckdb import scans
from lakebox.engine.duckdb.formats.base import ReadContext
from lakebox.engine.duckdb.scans import _in_hive_folders, scan_sql
from lakebox.formats.base import DataFile
from lakebox.query.model import MB
from lakebox.query.service import QueryService
from lakebox.session import Lake, Session
from lakebox.sql.plan import HIVE_DEFAULT_PARTITION, PartitionFiles
from lakebox.storage import Storage

TABLE = Table(
    "db",
    "t",
    [Column("id", "bigint"), Column("name", "string")],
    [Column("dt", "date"), Column("region", "string")],
    location="s3://b/t/",
    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    serde_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
)


def _file(path: Path, ids: list[int], **extra: list[str]) -> DataFile:
    """A Parquet file of rows (id, name) plus ``extra`` columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": ids, "name": [f"n{i}" for i in ids], **extra}), path)
    return DataFile(path.as_uri(), str(path), path.stat().st_size, path.stat().st_mtime)


def _rows(ctx: ReadContext, sql: str) -> list[tuple[object, ...]]:
    return ctx.con.sql(f"SELECT * FROM ({sql}) ORDER BY id").fetchall()


@pytest.fixture
def ctx(storage: Storage, tmp_path: Path) -> ReadContext:
    return ReadContext(storage, duckdb.connect(), tmp_path / "cache")


def test_partitions_in_their_folders_take_values_from_the_paths(
    ctx: ReadContext, tmp_path: Path
) -> None:
    root = tmp_path / "t"
    parts = [
        PartitionFiles(
            ["2024-01-01", "eu"], [_file(root / "dt=2024-01-01/region=eu/a.parquet", [1, 2])]
        ),
        PartitionFiles(
            ["2024-01-02", "us"],
            [
                _file(root / "dt=2024-01-02/region=us/b.parquet", [3]),
                # a file column named like a key: the partition's value wins, as in Athena
                _file(root / "dt=2024-01-02/region=us/c.parquet", [4], region=["file"]),
            ],
        ),
        # a folder value that is no date: NULL, as Athena's typing makes it
        PartitionFiles(["soon", "eu"], [_file(root / "dt=soon/region=eu/d.parquet", [5])]),
    ]
    sql = scan_sql(ctx, TABLE, parts, ("$partition",))
    assert "hive_partitioning = true" in sql and " JOIN " not in sql  # no per-row join
    day = dt.date(2024, 1, 1)
    assert _rows(ctx, sql) == [
        (1, "n1", day, "eu", "dt=2024-01-01/region=eu"),
        (2, "n2", day, "eu", "dt=2024-01-01/region=eu"),
        (3, "n3", dt.date(2024, 1, 2), "us", "dt=2024-01-02/region=us"),
        (4, "n4", dt.date(2024, 1, 2), "us", "dt=2024-01-02/region=us"),
        (5, "n5", None, "eu", "dt=soon/region=eu"),
    ]


def test_partitions_outside_their_folders_keep_the_catalog_values(
    ctx: ReadContext, tmp_path: Path
) -> None:
    """Partitions added at any LOCATION, values Hive escapes in folder names, the default
    partition: read beside the others with the catalog's values, never the folders'."""
    root = tmp_path / "t"
    parts = [
        PartitionFiles(
            ["2024-01-01", "eu"], [_file(root / "dt=2024-01-01/region=eu/a.parquet", [1])]
        ),
        # ALTER TABLE ADD PARTITION (dt='2024-01-03', region='ap') LOCATION '.../region=eu/'
        PartitionFiles(
            ["2024-01-03", "ap"], [_file(root / "dt=2024-01-01/region=eu/x.parquet", [2])]
        ),
        PartitionFiles(["2024-01-04", "ap"], [_file(tmp_path / "elsewhere/y.parquet", [3])]),
        # DuckDB would decode %3A and read a%3Ab as "a:b"; here the catalog says so itself
        PartitionFiles(
            ["2024-01-05", "a:b"], [_file(root / "dt=2024-01-05/region=a%3Ab/z.parquet", [4])]
        ),
        PartitionFiles(
            ["2024-01-06", HIVE_DEFAULT_PARTITION],
            [_file(root / f"dt=2024-01-06/region={HIVE_DEFAULT_PARTITION}/w.parquet", [5])],
        ),
        PartitionFiles(
            ["2024-01-07", "NULL"], [_file(root / "dt=2024-01-07/region=NULL/v.parquet", [6])]
        ),
    ]
    assert [_in_hive_folders(TABLE, p) for p in parts] == [True, False, False, False, False, False]
    sql = scan_sql(ctx, TABLE, parts, ("$partition",))
    assert "hive_partitioning = true" in sql
    assert _rows(ctx, sql) == [
        (1, "n1", dt.date(2024, 1, 1), "eu", "dt=2024-01-01/region=eu"),
        (2, "n2", dt.date(2024, 1, 3), "ap", "dt=2024-01-03/region=ap"),
        (3, "n3", dt.date(2024, 1, 4), "ap", "dt=2024-01-04/region=ap"),
        (4, "n4", dt.date(2024, 1, 5), "a:b", "dt=2024-01-05/region=a%3Ab"),
        (5, "n5", dt.date(2024, 1, 6), None, f"dt=2024-01-06/region={HIVE_DEFAULT_PARTITION}"),
        (6, "n6", dt.date(2024, 1, 7), "NULL", "dt=2024-01-07/region=NULL"),
    ]


def test_hive_folders_must_be_exactly_the_keys(tmp_path: Path) -> None:
    values = ["2024-01-01", "eu"]

    def part(path: str) -> PartitionFiles:
        return PartitionFiles(values, [DataFile("s3://b/" + path, str(tmp_path / path), 1, 1.0)])

    assert _in_hive_folders(TABLE, part("t/dt=2024-01-01/region=eu/f.parquet"))
    assert _in_hive_folders(TABLE, part("t/dt=2024-01-01/region=eu/sub/f.parquet"))
    # another key=value folder above the table would add (or replace) a column
    assert not _in_hive_folders(TABLE, part("x=1/t/dt=2024-01-01/region=eu/f.parquet"))
    assert not _in_hive_folders(TABLE, part("t/dt=2024-01-01/region=eu/k=v.parquet"))
    assert not _in_hive_folders(TABLE, part("t/region=eu/dt=2024-01-01/f.parquet"))
    assert not _in_hive_folders(TABLE, part("t/DT=2024-01-01/region=eu/f.parquet"))
    assert not _in_hive_folders(TABLE, part("t/dt=2024-01-01/f.parquet"))


def test_a_file_listed_twice_is_read_twice(ctx: ReadContext, tmp_path: Path) -> None:
    """A manifest may list a file twice: its rows count twice, as they do when each
    partition is read on its own."""
    a = _file(tmp_path / "t/dt=2024-01-01/region=eu/a.parquet", [1])
    b = _file(tmp_path / "t/dt=2024-01-02/region=eu/b.parquet", [2])
    parts = [
        PartitionFiles(["2024-01-01", "eu"], [a, a]),
        PartitionFiles(["2024-01-02", "eu"], [b]),
    ]
    sql = scan_sql(ctx, TABLE, parts)
    assert "hive_partitioning = true" in sql
    assert [r[0] for r in _rows(ctx, sql)] == [1, 1, 2]


def test_per_file_pseudo_columns_are_joined_by_file(ctx: ReadContext, tmp_path: Path) -> None:
    a = _file(tmp_path / "t/dt=2024-01-01/region=eu/a.parquet", [1])
    b = _file(tmp_path / "t/dt=2024-01-02/region=eu/b.parquet", [2])
    parts = [PartitionFiles(["2024-01-01", "eu"], [a]), PartitionFiles(["2024-01-02", "eu"], [b])]
    sql = scan_sql(ctx, TABLE, parts, ("$path",))
    assert "hive_partitioning = true" not in sql
    assert [(r[0], r[3], r[4]) for r in _rows(ctx, sql)] == [(1, "eu", a.uri), (2, "eu", b.uri)]


def test_queries_on_a_partitioned_parquet_table(lake_session: Session, lake_home: Path) -> None:
    """Through a session: pruning, grouping by keys, "$partition", a partition added at
    another location, and the bytes scanned are those of the partitions read."""
    root = lake_home / "b" / "t"
    sizes = {}
    for day in (1, 2, 3):
        for k, region in enumerate(("eu", "us"), 1):
            path = root / f"dt=2024-01-0{day}/region={region}/f.parquet"
            sizes[(day, region)] = _file(path, [day * 10 + k, day * 100 + k]).size
    moved = _file(lake_home / "b" / "old" / "f.parquet", [7])
    s = lake_session
    s.sql(
        "CREATE EXTERNAL TABLE t (id bigint, name string) PARTITIONED BY (dt date, region string) "
        "STORED AS PARQUET LOCATION 's3://b/t/'"
    )
    s.sql("MSCK REPAIR TABLE t")
    s.sql("ALTER TABLE t ADD PARTITION (dt='2024-02-01', region='ap') LOCATION 's3://b/old/'")
    grouped = s.sql(
        'SELECT dt, region, "$partition", count(*) FROM t GROUP BY 1, 2, 3 ORDER BY 1, 2'
    ).fetchall()
    assert grouped == [
        *(
            (dt.date(2024, 1, d), r, f"dt=2024-01-0{d}/region={r}", 2)
            for d in (1, 2, 3)
            for r in ("eu", "us")
        ),
        (dt.date(2024, 2, 1), "ap", "dt=2024-02-01/region=ap", 1),
    ]
    pruned = s.sql("SELECT id FROM t WHERE region = 'us' AND dt >= DATE '2024-01-02' ORDER BY id")
    assert pruned.fetchall() == [(22,), (32,), (202,), (302,)]
    assert pruned.stats.bytes == sizes[(2, "us")] + sizes[(3, "us")]
    top = s.sql("SELECT id, dt, region FROM t ORDER BY id LIMIT 2").fetchall()
    assert top == [(7, dt.date(2024, 2, 1), "ap"), (11, dt.date(2024, 1, 1), "eu")]
    assert s.sql("SELECT count(*) FROM t").stats.bytes == sum(sizes.values()) + moved.size


def test_a_scan_cutoff_stops_a_scan_of_partitions_in_their_folders(
    config: LakeConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read through Hive partitioning, a capped query still stops while it reads and is
    billed what it read (tests/query/test_cutoff.py's measure: within a file or two of the
    cutoff, well below the table); uncapped, it is billed as one scan of the files is."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    cutoff, rows = 10 * MB, 20_000
    lake = Lake(config)
    service = QueryService(lake)
    try:
        service.create_work_group("capped", bytes_scanned_cutoff=cutoff)
        size = 0
        for p in range(24):  # 24 files of 2.5 MB of incompressible text
            path = config.home / "data" / "big" / f"p={p}" / "f.parquet"
            path.parent.mkdir(parents=True)
            text = os.urandom(rows * 60).hex()
            strings = [text[i * 120 : (i + 1) * 120] for i in range(rows)]
            table = pa.table({"id": range(rows), "s": strings})
            pq.write_table(table, path, row_group_size=5_000, compression="none")
            size += path.stat().st_size
        session = lake.session()
        session.sql(
            "CREATE EXTERNAL TABLE big (id bigint, s string) PARTITIONED BY (p int) "
            "STORED AS PARQUET LOCATION 's3://data/big/'"
        )
        session.sql("MSCK REPAIR TABLE big")
        query = "SELECT count(*) FROM big WHERE regexp_matches(s, '([a-f]+[0-9]+)+zz')"
        capped, _ = service.run(query, workgroup="capped")
        assert capped.state == "CANCELLED"
        assert cutoff < capped.data_scanned_bytes < 0.6 * size
        full, answer = service.run(query)
        # billed as the same files read by one scan with no partitions (the column chunks
        # the query reads, not whole files)
        session.sql(
            "CREATE EXTERNAL TABLE flat (id bigint, s string) STORED AS PARQUET "
            "LOCATION 's3://data/big/'"
        )
        flat, flat_answer = service.run(query.replace("big", "flat"))
        assert full.state == flat.state == "SUCCEEDED"
        assert full.data_scanned_bytes == flat.data_scanned_bytes > 0.9 * size
        assert answer is not None and flat_answer is not None
        assert answer.fetchall() == flat_answer.fetchall()
    finally:
        service.close()
        lake.close()


def test_both_storage_modes_read_values_from_the_folders(
    any_config: LakeConfig, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local folders and a real S3 API: the engine's paths (local files, ``s3://`` URIs)
    both carry the Hive folders, and the answers are the catalog's."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    made: list[str | None] = []
    original = scans._scan_by_folder

    def spy(*args: Any) -> str | None:
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(scans, "_scan_by_folder", spy)
    lake = Lake(any_config)
    try:
        lake.storage.ensure_bucket(bucket)
        for n, value in enumerate(["7", "8", "x"]):
            buf = io.BytesIO()
            pq.write_table(pa.table({"id": [n]}), buf)
            lake.storage.write_bytes(f"s3://{bucket}/t/k={value}/f.parquet", buf.getvalue())
        session = lake.session()
        session.sql(
            "CREATE EXTERNAL TABLE t (id bigint) PARTITIONED BY (k int) STORED AS PARQUET "
            f"LOCATION 's3://{bucket}/t/'"
        )
        session.sql("MSCK REPAIR TABLE t")
        rows = session.sql('SELECT id, k, "$partition" FROM t ORDER BY id').fetchall()
        assert rows == [(0, 7, "k=7"), (1, 8, "k=8"), (2, None, "k=x")]
        assert made and made[-1] is not None and "hive_partitioning = true" in made[-1]
    finally:
        lake.close()
