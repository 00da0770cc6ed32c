"""Compacted copies answer exactly what the files say, before and after the files change.

Every check compares a query answered through the compacted copy with the same query
answered straight from the files (``LAKEBOX_COMPACTION=off``) and with rows the test wrote
itself, so neither a stale copy nor a copy with drifted types can pass. Copies are built in
the background, once queries have read files that kept still for ``RACY_SECONDS`` twice
(``BUILD_AFTER_READS``): a test lets its files settle, reads them twice and waits for the
lake's builder (``built``) before it expects one.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.engine.duckdb import compaction
from lakebox.engine.duckdb.formats.base import ReadContext
from lakebox.errors import DataError
from lakebox.query.model import MIN_CUTOFF_BYTES
from lakebox.session import Lake, Session
from lakebox.storage import Storage

Row = dict[str, Any]


def _json(rows: list[Row]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _csv(rows: list[Row]) -> bytes:
    return b"".join(f'"{r["id"]}","{r["name"]}","{r["score"]}"\n'.encode() for r in rows)


def _text(rows: list[Row]) -> bytes:
    return b"".join(f"{r['id']}\t{r['name']}\t{r['score']}\n".encode() for r in rows)


def _parquet(rows: list[Row]) -> bytes:
    table = pa.table(
        {
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "name": pa.array([r["name"] for r in rows], pa.string()),
            "score": pa.array([r["score"] for r in rows], pa.float64()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _gzip_json(rows: list[Row]) -> bytes:
    return gzip.compress(_json(rows), mtime=0)


FORMATS: dict[str, tuple[str, str, Callable[[list[Row]], bytes]]] = {
    "json": ("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'", ".json", _json),
    "json_gz": ("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'", ".json.gz", _gzip_json),
    "csv": (
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' STORED AS TEXTFILE",
        ".csv",
        _csv,
    ),
    "text": ("ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t'", ".tsv", _text),
    "parquet": ("STORED AS PARQUET", ".parquet", _parquet),
}


def rows_for(start: int, count: int, tag: str = "r") -> list[Row]:
    return [{"id": i, "name": f"{tag}{i}", "score": i * 1.5} for i in range(start, start + count)]


def write(folder: Path, name: str, fmt: str, rows: list[Row]) -> Path:
    _ddl, ext, encode = FORMATS[fmt]
    path = folder / f"{name}{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(rows))
    return path


def bump_mtime(path: Path) -> None:
    """A later modification time, as a real rewrite a moment later would have."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def session(lake_home: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setenv("LAKEBOX_COMPACTION", "auto")
    monkeypatch.setenv("LAKEBOX_COMPACTION_MIN_FILES", "3")
    return lakebox.connect(lake_home)


def create(session: Session, fmt: str, name: str = "t", partitioned: bool = False) -> None:
    ddl, _ext, _enc = FORMATS[fmt]
    parts = "PARTITIONED BY (dt string) " if partitioned else ""
    session.sql(
        f"CREATE EXTERNAL TABLE {name} (id bigint, name string, score double) {parts}{ddl} "
        f"LOCATION 's3://b/{name}/'"
    )


def copies(home: Path) -> list[Path]:
    return sorted((home / "_lakebox" / "cache" / "compacted").glob("*/*.parquet"))


def age_copies(home: Path, seconds: float = 3600) -> None:
    """Make every copy look last read ``seconds`` ago (order kept)."""
    for path in copies(home):
        st = path.stat()
        os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


def settle(session: Session) -> None:
    """Wait until the lake's background builder has built (or given up on) every copy
    queued so far."""
    assert session.lake.engine.copies.wait_idle(60), "background builds did not finish"


def built(session: Session, sql: str) -> None:
    """Run ``sql`` twice once the files just written have kept still long enough for their
    copies to be trusted (so it queues them), and wait for the builder. A local file may
    carry a modification time ahead of the clock (``bump_mtime``)."""
    folder = session.lake.config.home / "b"
    stamps = [max(p.stat().st_mtime, p.stat().st_ctime) for p in folder.rglob("*") if p.is_file()]
    ahead = max([0.0, *(t - time.time() for t in stamps)])
    time.sleep(ahead + compaction.RACY_SECONDS + 0.1)
    for _ in range(compaction.BUILD_AFTER_READS):
        session.sql(sql)
    settle(session)


def answer(
    session: Session, sql: str, monkeypatch: pytest.MonkeyPatch, served: bool = True
) -> pa.Table:
    """The result of a first run (from the files), then of a run once copies were queued
    and built (through the copy, unless ``served`` is false), each checked against the
    files read directly."""
    first = session.sql(sql).to_arrow()
    built(session, sql)
    result = session.sql(sql)
    assert bool(result.stats.rewritten) == served, result.stats.rewritten
    through_copy = result.to_arrow()
    with monkeypatch.context() as m:
        m.setenv("LAKEBOX_COMPACTION", "off")
        direct = session.sql(sql).to_arrow()
    for got in (first, through_copy):
        assert got.schema == direct.schema
        assert got.to_pylist() == direct.to_pylist()
    return through_copy


def ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_copy_follows_added_replaced_and_deleted_files(
    fmt: str, session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = lake_home / "b" / "t"
    for n in range(4):
        write(folder, f"part-{n}", fmt, rows_for(n * 10, 10))
    create(session, fmt)
    query = "SELECT id, name, score FROM t ORDER BY id"

    first = answer(session, query, monkeypatch)
    assert ids(first) == list(range(40))
    built = copies(lake_home)
    assert len(built) == 1

    write(folder, "part-9", fmt, rows_for(100, 5))  # added
    assert ids(answer(session, query, monkeypatch)) == [*range(40), *range(100, 105)]

    replaced = write(folder, "part-1", fmt, rows_for(500, 3, tag="new"))  # replaced
    bump_mtime(replaced)
    after = answer(session, query, monkeypatch)
    assert ids(after) == [*range(0, 10), *range(20, 40), *range(100, 105), 500, 501, 502]
    assert after.to_pylist()[-1] == {"id": 502, "name": "new502", "score": 753.0}

    age_copies(lake_home)  # no query is still reading the older copies
    (folder / f"part-0{FORMATS[fmt][1]}").unlink()  # deleted
    assert ids(answer(session, query, monkeypatch)) == [
        *range(20, 40),
        *range(100, 105),
        500,
        501,
        502,
    ]
    # one current copy per partition: stale ones are removed when a new one is built
    assert len(copies(lake_home)) == 1
    assert copies(lake_home) != built


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_partitions_mix_copies_and_direct_reads(
    fmt: str, session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With min files 3, a Parquet partition of 4 files is copied and one of 1 is not; JSON
    partitions are always copied. Partition values and pruning come out the same."""
    folder = lake_home / "b" / "p"
    for n in range(4):
        write(folder / "dt=2024-01-01", f"f{n}", fmt, rows_for(n * 10, 10))
    write(folder / "dt=2024-01-02", "f0", fmt, rows_for(1000, 2))
    create(session, fmt, "p", partitioned=True)
    session.sql("MSCK REPAIR TABLE p")

    whole = answer(session, "SELECT id, dt FROM p ORDER BY id", monkeypatch)
    assert whole.num_rows == 42
    assert whole.to_pylist()[-1] == {"id": 1001, "dt": "2024-01-02"}
    assert len(copies(lake_home)) == (2 if fmt == "json" else 1)

    pruned = answer(
        session,
        "SELECT count(*) AS n FROM p WHERE dt = '2024-01-02'",
        monkeypatch,
        served=fmt == "json",
    )
    assert pruned.column("n").to_pylist() == [2]


def test_copy_keeps_every_type(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {
            "i": n,
            "b": n * 10_000_000_000,
            "d": n / 3,
            "dec": f"{n}.25",
            "ok": n % 2 == 0,
            "day": f"2024-02-{n + 1:02d}",
            "ts": f"2024-02-01 10:00:0{n}",
            "s": f"s{n}",
            "arr": [n, n + 1],
            "m": {"k": n},
            "st": {"a": n, "b": f"x{n}"},
        }
        for n in range(5)
    ]
    (lake_home / "b" / "types").mkdir(parents=True)
    (lake_home / "b" / "types" / "a.json").write_bytes(_json(rows[:3]))
    (lake_home / "b" / "types" / "b.json").write_bytes(_json(rows[3:]))
    session.sql(
        "CREATE EXTERNAL TABLE types (i int, b bigint, d double, dec decimal(10,2), ok boolean, "
        "day date, ts timestamp, s string, arr array<int>, m map<string,int>, "
        "st struct<a:int,b:string>) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
        "LOCATION 's3://b/types/'"
    )
    got = answer(session, "SELECT * FROM types ORDER BY i", monkeypatch)
    assert got.num_rows == 5
    assert got.to_pylist()[4]["st"] == {"a": 4, "b": "x4"}
    assert len(copies(lake_home)) == 1


def test_data_scanned_counts_the_original_files(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = lake_home / "b" / "t"
    paths = [write(folder, f"part-{n}", "json", rows_for(n * 10, 10)) for n in range(3)]
    create(session, "json")
    built(session, "SELECT count(*) FROM t")
    result = session.sql("SELECT count(*) FROM t")
    assert copies(lake_home) and result.stats.rewritten
    assert result.stats.files == 3
    assert result.stats.bytes == sum(p.stat().st_size for p in paths)


def test_bad_data_still_fails_naming_file_and_line(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = lake_home / "b" / "t"
    write(folder, "good", "json", rows_for(0, 3))
    (folder / "bad.json").write_bytes(b'{"id": 1}\n{"id": \n')
    create(session, "json")
    time.sleep(compaction.RACY_SECONDS + 0.1)  # steady files: the second read queues a build
    for pending in (0, 1, 0):  # which fails; it is not retried, and the error stays the same
        with pytest.raises(DataError) as err:
            session.sql("SELECT * FROM t")
        assert session.lake.engine.copies.pending == pending
        assert err.value.uri is not None and err.value.uri.endswith("bad.json")
        assert err.value.line == 2
        settle(session)
        assert not copies(lake_home)


def test_switched_off_by_table_property_and_environment(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = lake_home / "b" / "t"
    write(folder, "a", "json", rows_for(0, 3))
    create(session, "json")
    time.sleep(compaction.RACY_SECONDS + 0.1)  # steady files: only the switches stop a copy

    def count_enough_times() -> None:
        for _ in range(compaction.BUILD_AFTER_READS):
            assert session.sql("SELECT count(*) FROM t").fetchall() == [(3,)]
        settle(session)

    session.sql("ALTER TABLE t SET TBLPROPERTIES ('lakebox.compaction' = 'false')")
    count_enough_times()
    assert not copies(lake_home)
    session.sql("ALTER TABLE t SET TBLPROPERTIES ('lakebox.compaction' = 'true')")
    monkeypatch.setenv("LAKEBOX_COMPACTION", "off")
    count_enough_times()
    assert not copies(lake_home)
    monkeypatch.setenv("LAKEBOX_COMPACTION", "auto")
    count_enough_times()
    assert len(copies(lake_home)) == 1


def test_cache_drops_least_recently_used_copies(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("t1", "t2", "t3"):
        write(lake_home / "b" / name, "a", "json", rows_for(0, 50, tag=name))
        create(session, "json", name)
    for name in ("t1", "t2", "t3"):
        built(session, f"SELECT count(*) FROM {name}")
    age_copies(lake_home)
    made = copies(lake_home)
    assert len(made) == 3
    oldest = min(made, key=lambda p: p.stat().st_mtime)
    keep = max(made, key=lambda p: p.stat().st_mtime)
    limit = sum(p.stat().st_size for p in made) - 1
    compaction._enforce_limit(lake_home / "_lakebox" / "cache" / "compacted", limit, keep)
    left = copies(lake_home)
    assert len(left) == 2 and oldest not in left
    # the evicted table is read from its files, and rebuilt once read enough again
    for _ in range(compaction.BUILD_AFTER_READS):
        assert session.sql("SELECT count(*) FROM t1").fetchall() == [(50,)]
    settle(session)
    assert len(copies(lake_home)) == 3


def test_recently_read_stale_copy_outlives_a_rebuild(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query planned on the old copy may still be reading it when another query rebuilds."""
    folder = lake_home / "b" / "t"
    write(folder, "a", "json", rows_for(0, 3))
    create(session, "json")
    built(session, "SELECT count(*) FROM t")
    (old,) = copies(lake_home)
    write(folder, "b", "json", rows_for(10, 2))
    assert session.sql("SELECT count(*) FROM t").fetchall() == [(5,)]
    built(session, "SELECT count(*) FROM t")
    assert old in copies(lake_home) and len(copies(lake_home)) == 2
    age_copies(lake_home)
    write(folder, "c", "json", rows_for(20, 1))
    assert session.sql("SELECT count(*) FROM t").fetchall() == [(6,)]
    built(session, "SELECT count(*) FROM t")
    assert len(copies(lake_home)) == 1 and old not in copies(lake_home)


def test_fingerprint_changes_with_definition_and_files() -> None:
    from lakebox.catalog.model import Column, Table
    from lakebox.engine.duckdb.formats.base import DataFile
    from lakebox.sql.planner import PartitionFiles

    table = Table("db", "t", [Column("a", "int")], location="s3://b/t/")
    files = [DataFile("s3://b/t/x", "/x", 10, 1.0)]
    base = compaction.fingerprint(table, PartitionFiles([], files))
    assert base == compaction.fingerprint(table, PartitionFiles([], list(files)))
    other_size = [DataFile("s3://b/t/x", "/x", 11, 1.0)]
    assert base != compaction.fingerprint(table, PartitionFiles([], other_size))
    other_time = [DataFile("s3://b/t/x", "/x", 10, 2.0)]
    assert base != compaction.fingerprint(table, PartitionFiles([], other_time))
    retyped = Table("db", "t", [Column("a", "bigint")], location="s3://b/t/")
    assert base != compaction.fingerprint(retyped, PartitionFiles([], files))


def test_copies_work_in_s3_mode(
    s3_config: LakeConfig, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files in a real S3 API server, the copy in the local lake cache."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "auto")
    lake = Lake(s3_config)
    lake.storage.ensure_bucket(bucket)
    s = lake.session()
    for n in range(3):
        lake.storage.write_bytes(f"s3://{bucket}/t/p{n}.json", _json(rows_for(n * 10, 10)))
    s.sql(
        "CREATE EXTERNAL TABLE t (id bigint, name string, score double) "
        f"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{bucket}/t/'"
    )
    query = "SELECT id, name, score FROM t ORDER BY id"
    assert ids(answer(s, query, monkeypatch)) == list(range(30))
    assert len(copies(s3_config.home)) == 1
    age_copies(s3_config.home)
    lake.storage.write_bytes(f"s3://{bucket}/t/p9.json", _json(rows_for(90, 2)))
    lake.storage.delete(f"s3://{bucket}/t/p0.json")
    assert ids(answer(s, query, monkeypatch)) == [*range(10, 30), 90, 91]
    age_copies(s3_config.home)
    lake.storage.write_bytes(f"s3://{bucket}/t/p1.json", _json(rows_for(500, 1, tag="z")))
    assert ids(answer(s, query, monkeypatch)) == [*range(20, 30), 90, 91, 500]
    assert len(copies(s3_config.home)) == 1
    lake.close()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_same_size_rewrite_with_the_old_mtime_rebuilds_the_copy(
    fmt: str, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cp -p`` style: new content, same size, modification time put back. A new lake
    (no reused plan) must still notice: the copy's identity includes the change time."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    folder = lake_home / "b" / "t"
    for n in range(3):
        write(folder, f"part-{n}", fmt, rows_for(n * 10, 5))
    for path in folder.iterdir():  # old files: the copy is trusted by its fingerprint
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    first = lakebox.connect(lake_home)
    create(first, fmt)
    query = "SELECT id, name, score FROM t ORDER BY id"
    assert ids(answer(first, query, monkeypatch)) == [*range(5), *range(10, 15), *range(20, 25)]
    target = folder / f"part-1{FORMATS[fmt][1]}"
    st = target.stat()
    # new rows whose encoding has exactly the old size (compressed formats vary)
    encode = FORMATS[fmt][2]
    start = next(n for n in range(60, 10_000, 5) if len(encode(rows_for(n, 5))) == st.st_size)
    write(folder, "part-1", fmt, rows_for(start, 5))
    assert target.stat().st_size == st.st_size
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = lakebox.connect(lake_home)
    expected = sorted([*range(5), *range(20, 25), *range(start, start + 5)])
    assert ids(answer(second, query, monkeypatch)) == expected


def test_copy_of_just_written_objects_is_not_trusted_later(
    s3_config: LakeConfig, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 keeps modification times in whole seconds: an object rewritten with the same
    size within that second looks unchanged, so a copy built from objects that recent is
    rebuilt by the next query rather than reused."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    lake = Lake(s3_config)
    lake.storage.ensure_bucket(bucket)
    s = lake.session()
    uri = f"s3://{bucket}/t/p.json"
    lake.storage.write_bytes(uri, _json(rows_for(10, 3)))
    s.sql(
        "CREATE EXTERNAL TABLE t (id bigint, name string, score double) "
        f"ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{bucket}/t/'"
    )
    query = "SELECT id, name, score FROM t ORDER BY id"
    assert ids(s.sql(query).to_arrow()) == [10, 11, 12]
    lake.storage.write_bytes(uri, _json(rows_for(20, 3)))  # same size, same second (likely)
    assert ids(answer(s, query, monkeypatch)) == [20, 21, 22]
    lake.close()


def test_a_copy_is_read_in_steps_far_below_the_smallest_scan_cutoff(
    session: Session, lake_home: Path
) -> None:
    """A scan cutoff counts a copy by the share of it DuckDB has read, and DuckDB reads a
    row group's column chunks at once: a copy's row groups must be a small fraction of the
    smallest cutoff (10 MB), and the copy must know the bytes of the files it holds."""
    folder = lake_home / "b" / "t"
    paths = [write(folder, f"part-{n}", "json", rows_for(n * 60_000, 60_000)) for n in range(3)]
    create(session, "json")
    built(session, "SELECT count(*) FROM t")
    [copy] = copies(lake_home)
    meta = pq.ParquetFile(copy).metadata
    groups = [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    assert meta.num_row_groups > 1
    assert max(groups) <= MIN_CUTOFF_BYTES / 5, groups
    # and not one tiny row group per source file, which makes every later scan slow
    assert meta.num_rows / meta.num_row_groups >= 4096, meta.num_row_groups
    assert compaction.source_bytes(str(copy)) == sum(p.stat().st_size for p in paths)


def test_a_copy_of_many_small_files_keeps_few_row_groups(session: Session, lake_home: Path) -> None:
    folder = lake_home / "b" / "t"
    for n in range(200):
        write(folder, f"part-{n:03d}", "json", rows_for(n * 50, 50))
    create(session, "json")
    built(session, "SELECT count(*) FROM t")
    [copy] = copies(lake_home)
    meta = pq.ParquetFile(copy).metadata
    assert meta.num_rows == 10_000 and meta.num_row_groups <= 2, meta.num_row_groups


def test_a_filter_on_path_neither_uses_nor_replaces_the_partitions_copy(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy stands for all of a partition's files: a query that reads some of them
    (pruned by "$path") reads those files, and the copy of the whole partition stays."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    folder = lake_home / "b" / "t"
    for n in range(3):
        write(folder, f"part-{n}", "json", rows_for(n * 10, 2))
    s = lakebox.connect(lake_home)
    create(s, "json")
    everything = "SELECT id FROM t ORDER BY id"
    assert ids(answer(s, everything, monkeypatch)) == [0, 1, 10, 11, 20, 21]
    [copy] = copies(lake_home)
    one = 'SELECT id, "$path" FROM t WHERE "$path" = \'s3://b/t/part-1.json\' ORDER BY id'
    result = s.sql(one)
    assert result.fetchall() == [(10, "s3://b/t/part-1.json"), (11, "s3://b/t/part-1.json")]
    assert result.stats.files == 1 and not result.stats.rewritten
    settle(s)
    assert copies(lake_home) == [copy]
    assert ids(answer(s, everything, monkeypatch)) == [0, 1, 10, 11, 20, 21]
    assert copies(lake_home) == [copy]


def test_no_query_waits_for_a_copy(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first query on steady files answers from the files; the copy is built after it,
    in the background, and serves the next query."""
    folder = lake_home / "b" / "t"
    for n in range(4):
        write(folder, f"part-{n}", "json", rows_for(n * 10, 10))
    create(session, "json")
    time.sleep(compaction.RACY_SECONDS + 0.1)
    query = "SELECT id, name, score FROM t ORDER BY id"
    first = session.sql(query)
    assert not first.stats.rewritten  # read from the files, not from a copy built for it
    settle(session)
    assert not copies(lake_home)  # a table read once never pays for a copy
    second = session.sql(query)  # the first plan was not kept: this read is counted
    assert not second.stats.rewritten
    settle(session)
    assert len(copies(lake_home)) == 1
    third = session.sql(query)
    assert third.stats.rewritten
    assert third.to_arrow().to_pylist() == first.to_arrow().to_pylist()


def test_a_first_read_hashes_no_file_list(
    session: Session, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before any copy of a partition exists its fingerprint (a hash over every file's
    name, size and times: 26 ms for 10,000 files) decides nothing: the first read of a
    table computes none, its reads are counted by listing version, and the second read
    still queues the copy, which the build names by the fingerprint of its files."""
    folder = lake_home / "b" / "t"
    for n in range(4):
        write(folder, f"part-{n}", "json", rows_for(n * 10, 10))
    create(session, "json")
    time.sleep(compaction.RACY_SECONDS + 0.1)
    computed: list[str] = []
    real = compaction.fingerprint

    def counted(table: Any, part: Any) -> str:
        computed.append(threading.current_thread().name)
        return real(table, part)

    monkeypatch.setattr(compaction, "fingerprint", counted)
    query = "SELECT id, name, score FROM t ORDER BY id"
    first = session.sql(query)
    assert computed == []
    session.sql(query)
    settle(session)
    assert computed and "MainThread" not in computed  # the build's own
    (built_copy,) = copies(lake_home)
    assert built_copy.stem == real(
        session.lake.catalog.get_table("default", "t"), _partition(session, "t")
    )
    third = session.sql(query)
    assert third.stats.rewritten
    assert third.to_arrow().to_pylist() == first.to_arrow().to_pylist()


def _partition(session: Session, name: str) -> Any:
    """The partition of an unpartitioned table as the planner lists it now."""
    from lakebox.formats.base import DataFile
    from lakebox.sql.plan import PartitionFiles

    table = session.lake.catalog.get_table("default", name)
    listing = session.lake.storage.listing(table.location, row=DataFile)
    return PartitionFiles([], listing.files, listing.version, table.location)


def test_builds_wait_for_the_lakes_running_queries(tmp_path: Path, storage: Storage) -> None:
    builder = compaction.CopyBuilder(duckdb.connect, storage, tmp_path / "cache")
    ran: list[object] = []
    builder.query_started()
    try:
        for _ in range(compaction.BUILD_AFTER_READS):
            assert builder.pending == 0
            assert builder.submit(
                "k",
                lambda ctx: ran.append(
                    (
                        ctx.con.sql("SELECT 42").fetchall(),
                        os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                    )
                ),
            )
        assert builder.submit("k", lambda ctx: ran.append("twice"))  # queued once
        assert builder.pending == 1
        assert not builder.wait_idle(0.3) and not ran
    finally:
        builder.query_finished()
    assert builder.wait_idle(30)
    assert ran == [([(42,)], compaction.BUILDER_NICE)]  # once, at the lowest priority
    builder.close()
    assert not builder.submit("later", lambda ctx: None)


def test_a_failed_build_is_not_queued_again(tmp_path: Path, storage: Storage) -> None:
    builder = compaction.CopyBuilder(duckdb.connect, storage, tmp_path / "cache")
    calls: list[int] = []

    def fail(ctx: ReadContext) -> None:
        calls.append(1)
        ctx.con.sql("SELECT * FROM no_such_table").fetchall()

    for _ in range(compaction.BUILD_AFTER_READS):
        assert builder.submit("bad", fail)
    assert builder.wait_idle(30)
    assert not builder.submit("bad", fail)
    assert builder.wait_idle(30) and calls == [1]
    builder.close()


def test_close_interrupts_a_running_build_and_joins_its_thread(
    tmp_path: Path, storage: Storage
) -> None:
    builder = compaction.CopyBuilder(
        lambda: duckdb.connect(config={"threads": "1"}), storage, tmp_path / "cache"
    )
    started = threading.Event()

    def endless(ctx: ReadContext) -> None:
        started.set()
        ctx.con.sql("SELECT count(*) FROM range(1000000000000) a").fetchall()

    for _ in range(compaction.BUILD_AFTER_READS):
        builder.submit("slow", endless)
    assert started.wait(30)
    t0 = time.monotonic()
    builder.close()
    assert time.monotonic() - t0 < 10
    assert not [t for t in threading.enumerate() if t.name == "lakebox-copy-builder"]


def test_closing_the_lake_cancels_queued_builds(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build still waiting when the lake closes never runs: no copy, no temporary file,
    no thread left (the suite's leak check)."""
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    folder = lake_home / "b" / "t"
    write(folder, "a", "json", rows_for(0, 5))
    s = lakebox.connect(lake_home)
    create(s, "json")
    time.sleep(compaction.RACY_SECONDS + 0.1)
    builder = s.lake.engine.copies
    builder.query_started()  # a query of the lake runs: the build waits for it
    try:
        for _ in range(compaction.BUILD_AFTER_READS):
            assert s.sql("SELECT count(*) FROM t").fetchall() == [(5,)]
        assert builder.pending == 1
        s.lake.close()
    finally:
        builder.query_finished()
    assert builder.pending == 0
    assert not list((lake_home / "_lakebox" / "cache").rglob("*.parquet"))
    assert not list((lake_home / "_lakebox" / "cache").rglob("*.tmp"))
