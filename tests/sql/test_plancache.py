"""Reused plans answer exactly what planning afresh would, whatever changed in between.

Every check runs a query twice or more on one lake, changes something between the runs
(files, the catalog, the lake cache, settings) and compares the answer with the truth:
the same query planned from scratch, with every cache off, on the files as they are.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.engine.duckdb import compaction
from lakebox.session import Session

QUERY = "SELECT id, name FROM t ORDER BY id"


def _json(rows: list[tuple[int, str]]) -> bytes:
    return b"".join(json.dumps({"id": i, "name": n}).encode() + b"\n" for i, n in rows)


def _csv(rows: list[tuple[int, str]]) -> bytes:
    return b"".join(f'"{i}","{n}"\n'.encode() for i, n in rows)


def _parquet(rows: list[tuple[int, str]]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        pa.table(
            {
                "id": pa.array([i for i, _ in rows], pa.int64()),
                "name": pa.array([n for _, n in rows], pa.string()),
            }
        ),
        sink,
    )
    return bytes(sink.getvalue().to_pybytes())


FORMATS: dict[str, tuple[str, str, Callable[[list[tuple[int, str]]], bytes]]] = {
    "json": ("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'", "json", _json),
    "csv": ("ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'", "csv", _csv),
    "parquet": ("STORED AS PARQUET", "parquet", _parquet),
}


class Lake:
    """A table ``t`` of one format in a fresh lake, and ways to change it."""

    def __init__(self, home: Path, fmt: str) -> None:
        self.home = home
        self.fmt = fmt
        self.folder = home / "b" / "t"
        self.session: Session = lakebox.connect(home)

    def write(self, name: str, rows: list[tuple[int, str]], folder: Path | None = None) -> Path:
        _ddl, ext, encode = FORMATS[self.fmt]
        path = (folder or self.folder) / f"{name}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(rows))
        return path

    def create(self, partitioned: bool = False) -> None:
        ddl, _ext, _enc = FORMATS[self.fmt]
        parts = "PARTITIONED BY (dt string) " if partitioned else ""
        self.session.sql(
            f"CREATE EXTERNAL TABLE t (id bigint, name string) {parts}{ddl} LOCATION 's3://b/t/'"
        )

    def truth(self, monkeypatch: pytest.MonkeyPatch, sql: str = QUERY) -> list[tuple[object, ...]]:
        with monkeypatch.context() as m:
            for name in ("LAKEBOX_PLAN_CACHE", "LAKEBOX_LISTING_CACHE", "LAKEBOX_COMPACTION"):
                m.setenv(name, "off")
            return lakebox.connect(self.home).sql(sql).fetchall()


@pytest.fixture(params=list(FORMATS))
def lake(request: pytest.FixtureRequest, lake_home: Path) -> Lake:
    lake = Lake(lake_home, str(request.param))
    for n in range(3):
        lake.write(f"part-{n}", [(n * 10 + i, f"r{n * 10 + i}") for i in range(3)])
    lake.create()
    return lake


def test_repeated_query_reuses_its_plan(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    if lake.fmt != "parquet":
        # a plan that reads files a compacted copy will serve is not kept: once the files
        # have kept still and were read enough, the copy is built and its plan is kept
        time.sleep(compaction.RACY_SECONDS + 0.1)
        for _ in range(compaction.BUILD_AFTER_READS):
            lake.session.sql(QUERY)
        assert lake.session.lake.engine.copies.wait_idle(60)
    hits = lake.session.lake.plans.hits
    first = lake.session.sql(QUERY)
    second = lake.session.sql(QUERY)
    assert lake.session.lake.plans.hits == hits + 1
    assert second.fetchall() == first.fetchall() == lake.truth(monkeypatch)
    assert second.columns == first.columns and second.types == first.types
    assert second.stats.bytes == first.stats.bytes > 0
    assert second.stats.files == first.stats.files == 3


def _same_size_rewrite(lake: Lake) -> None:
    """Same size, modification time put back: only the listing's watch can tell."""
    path = lake.folder / f"part-1.{FORMATS[lake.fmt][1]}"
    st = path.stat()
    lake.write("part-1", [(10, "x10"), (11, "x11"), (12, "x12")])
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _other_process_writes(lake: Lake) -> None:
    data = FORMATS[lake.fmt][2]([(77, "elsewhere")])
    target = lake.folder / f"from-elsewhere.{FORMATS[lake.fmt][1]}"
    code = f"open({str(target)!r}, 'wb').write({data!r})"
    subprocess.run([sys.executable, "-c", code], check=True)


CHANGES: dict[str, Callable[[Lake], object]] = {
    "file added": lambda lk: lk.write("part-9", [(90, "r90")]),
    "file deleted": lambda lk: (lk.folder / f"part-0.{FORMATS[lk.fmt][1]}").unlink(),
    "same-size rewrite with the old mtime": _same_size_rewrite,
    "file written by another process": _other_process_writes,
    "column added": lambda lk: lk.session.sql("ALTER TABLE t ADD COLUMNS (extra string)"),
    "table dropped and created elsewhere": lambda lk: (
        lk.session.sql("DROP TABLE t"),
        lk.write("p", [(5, "moved")], lk.home / "b" / "t2"),
        lk.session.sql(
            f"CREATE EXTERNAL TABLE t (id bigint, name string) {FORMATS[lk.fmt][0]} "
            "LOCATION 's3://b/t2/'"
        ),
    ),
    "lake cache wiped": lambda lk: shutil.rmtree(lk.home / "_lakebox" / "cache", True),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_reused_plan_follows_every_change(
    change: str, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lake.session.sql(QUERY).fetchall() == lake.truth(monkeypatch)
    assert lake.session.sql(QUERY).fetchall() == lake.truth(monkeypatch)  # reused
    CHANGES[change](lake)
    after = lake.session.sql(QUERY).fetchall()
    assert after == lake.truth(monkeypatch)
    assert lake.session.sql(QUERY).fetchall() == after


def test_partition_added_to_the_catalog_is_read(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake(lake_home, "json")
    lake.write("a", [(1, "one")], lake.folder / "dt=1")
    lake.create(partitioned=True)
    lake.session.sql("ALTER TABLE t ADD PARTITION (dt='1')")
    query = "SELECT id, name, dt FROM t ORDER BY id"
    assert lake.session.sql(query).fetchall() == [(1, "one", "1")]
    assert lake.session.sql(query).fetchall() == [(1, "one", "1")]
    lake.write("b", [(2, "two")], lake.folder / "dt=2")
    # not yet in the catalog: Athena does not see it either
    assert lake.session.sql(query).fetchall() == [(1, "one", "1")]
    lake.session.sql("ALTER TABLE t ADD PARTITION (dt='2')")
    assert lake.session.sql(query).fetchall() == [(1, "one", "1"), (2, "two", "2")]
    assert lake.session.sql(query).fetchall() == lake.truth(monkeypatch, query)


def test_settings_that_change_plans_are_part_of_the_key(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake.session.sql(QUERY)
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    direct = lake.session.sql(QUERY)
    assert lake.session.lake.plans.hits == 0
    assert direct.stats.rewritten == []  # planned again: read from the files
    assert direct.fetchall() == lake.truth(monkeypatch)


def test_switched_off_by_environment(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEBOX_PLAN_CACHE", "off")
    for _ in range(3):
        assert lake.session.sql(QUERY).fetchall() == lake.truth(monkeypatch)
    assert lake.session.lake.plans.hits == 0


def test_writes_are_never_reused(lake_home: Path) -> None:
    lake = Lake(lake_home, "parquet")  # Athena inserts into Parquet, not OpenX JSON tables
    lake.write("a", [(1, "one")])
    lake.create()
    insert = "INSERT INTO t VALUES (100, 'new')"
    lake.session.sql(insert)
    lake.session.sql(insert)
    assert lake.session.lake.plans.hits == 0
    assert lake.session.sql("SELECT count(*) FROM t WHERE id = 100").fetchall() == [(2,)]


def test_projected_tables_are_planned_every_time(lake_home: Path) -> None:
    """Partition projection's candidates depend on the clock (NOW-relative ranges)."""
    lake = Lake(lake_home, "json")
    lake.write("a", [(1, "one")], lake.folder / "dt=2024-01-01")
    lake.session.sql(
        "CREATE EXTERNAL TABLE t (id bigint, name string) PARTITIONED BY (dt string) "
        f"{FORMATS['json'][0]} LOCATION 's3://b/t/' TBLPROPERTIES ("
        "'projection.enabled'='true', 'projection.dt.type'='date', "
        "'projection.dt.range'='2024-01-01,NOW', 'projection.dt.format'='yyyy-MM-dd')"
    )
    for _ in range(2):
        assert lake.session.sql("SELECT id, dt FROM t").fetchall() == [(1, "2024-01-01")]
    assert lake.session.lake.plans.hits == 0
    assert len(lake.session.lake.plans) == 0


def test_information_schema_is_planned_every_time(lake: Lake) -> None:
    sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default'"
    assert lake.session.sql(sql).fetchall() == [("t",)]
    lake.session.sql("CREATE EXTERNAL TABLE u (a int) STORED AS PARQUET LOCATION 's3://b/u/'")
    assert sorted(lake.session.sql(sql).fetchall()) == [("t",), ("u",)]
    assert lake.session.lake.plans.hits == 0


def test_plans_over_s3_are_not_kept(s3_config: object, bucket: str) -> None:
    """An S3 listing cannot be watched: every query lists the bucket again."""
    from lakebox.config import LakeConfig
    from lakebox.session import Lake as LakeService

    assert isinstance(s3_config, LakeConfig)
    service = LakeService(s3_config)
    service.storage.ensure_bucket(bucket)
    service.storage.write_bytes(f"s3://{bucket}/t/a.json", _json([(1, "one")]))
    s = service.session()
    s.sql(
        f"CREATE EXTERNAL TABLE t (id bigint, name string) {FORMATS['json'][0]} "
        f"LOCATION 's3://{bucket}/t/'"
    )
    assert s.sql(QUERY).fetchall() == [(1, "one")]
    service.storage.write_bytes(f"s3://{bucket}/t/b.json", _json([(2, "two")]))
    assert s.sql(QUERY).fetchall() == [(1, "one"), (2, "two")]
    assert service.plans.hits == 0 and len(service.plans) == 0
    service.close()
