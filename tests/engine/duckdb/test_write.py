"""DuckDB's side of CTAS, INSERT INTO and UNLOAD (``lakebox.engine.duckdb.write``): one pass
over the query, DuckDB's partitioned ``COPY`` or one ordered Arrow stream, with lakebox's
Hive folder names and bucket files whatever DuckDB calls them."""

from __future__ import annotations

from typing import Any, cast

import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from lakebox.catalog.model import escape_path_name
from lakebox.config import LakeConfig
from lakebox.engine.duckdb import write as duckdb_write
from lakebox.errors import InvalidRequestError
from lakebox.formats.base import ScanMeter
from lakebox.formats.writing import WriteTarget
from lakebox.query.writers import TableWrite, WriteOutcome, prepare_write
from lakebox.session import Lake, Session, StatementContext
from lakebox.sql.dialect import parse_query
from lakebox.storage import Storage

#: partition values whose folder names DuckDB and Hive spell differently: escaped
#: characters, non-ASCII letters, NULL and the default partition's name (the empty string
#: has a test of its own: it becomes NULL)
TRICKY = [
    "a/b",
    "x y,z",
    "é=%",
    None,
    "__HIVE_DEFAULT_PARTITION__",
    "a:b*c?",
    "tab\there",
    "..",
]


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


@pytest.fixture
def session(lake: Lake) -> Session:
    return lake.session()


def _values_sql(values: list[str | None]) -> str:
    rows = ", ".join(f"({i}, {'NULL' if v is None else _quote(v)})" for i, v in enumerate(values))
    return f"SELECT id, CAST(p AS VARCHAR) AS p FROM (VALUES {rows}) AS v(id, p)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(lake: Lake, uri: str) -> list[str]:
    return [f.uri for f in lake.storage.list_files(uri)]


class _Recording:
    """The planned query's connection, recording every statement the write runs on it."""

    def __init__(self, con: Any, log: list[str]) -> None:
        self._con = con
        self._log = log

    def execute(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return self._con.execute(sql, *args)

    def sql(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return self._con.sql(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _run_recorded(session: Session, sql: str, log: list[str]) -> WriteOutcome:
    """Run a write as the Session does, recording the engine write's statements."""

    def open_write(
        con: Any, planned_sql: str, storage: Storage, meter: ScanMeter | None, target: WriteTarget
    ) -> TableWrite:
        recording = cast(Any, _Recording(con, log))
        return duckdb_write.open_write(recording, planned_sql, storage, meter, target)

    context = StatementContext()
    job = prepare_write(session.lake, session.database, parse_query(sql), context, open_write)
    assert not isinstance(job, WriteOutcome)
    job.begin()
    try:
        with session.planned(job.query, context) as planned:
            job.write(planned)
        job.commit()
    except BaseException:
        job.fail()
        raise
    return job.finish()


@pytest.mark.parametrize("fmt", ["PARQUET", "JSON", "TEXTFILE"])
def test_a_partitioned_write_is_one_copy_of_the_query_however_many_partitions(
    session: Session, fmt: str
) -> None:
    log: list[str] = []
    outcome = _run_recorded(
        session,
        f"CREATE TABLE t WITH (format = '{fmt}', partitioned_by = ARRAY['p']) AS "
        "SELECT x AS v, x % 40 AS p FROM UNNEST(sequence(1, 4000)) AS u(x)",
        log,
    )
    assert outcome.table.to_pylist() == [{"rows": 4000}]
    copies = [s for s in log if s.startswith("COPY")]
    assert len(copies) == 1 and "PARTITION_BY" in copies[0]
    assert not [s for s in log if "CREATE" in s.upper()]  # nothing materialised
    assert len(session.lake.catalog.get_partitions("default", "t")) == 40
    assert session.sql("SELECT count(*) AS n, sum(v) AS s FROM t").to_pylist() == [
        {"n": 4000, "s": 4000 * 4001 // 2}
    ]


@pytest.mark.parametrize("fmt", ["PARQUET", "JSON", "TEXTFILE", "ORC", "AVRO", "ION"])
def test_partition_folders_keep_hives_spelling_of_every_value(
    session: Session, lake: Lake, fmt: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/t/', "
        f"partitioned_by = ARRAY['p']) AS {_values_sql(TRICKY)}"
    )
    parts = {tuple(p.values): p.location for p in lake.catalog.get_partitions("default", "t")}
    # NULL and the default partition's own name are one partition, as they always were
    expected = {v if v is not None else "__HIVE_DEFAULT_PARTITION__" for v in TRICKY}
    assert {values[0] for values in parts} == expected
    for (value,), location in parts.items():
        assert location == f"s3://lake/t/p={escape_path_name(value)}/"
        assert _files(lake, location or "")
    rows = session.sql("SELECT id FROM t ORDER BY id").to_pylist()
    assert [r["id"] for r in rows] == list(range(len(TRICKY)))
    assert session.sql("SELECT id FROM t WHERE p = 'a/b'").to_pylist() == [{"id": 0}]


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC", "JSON"])
@pytest.mark.parametrize("statement", ["ctas", "bucketed ctas", "insert"])
def test_an_empty_string_partition_value_is_the_default_partition_read_once_as_null(
    session: Session, lake: Lake, fmt: str, statement: str
) -> None:
    rows = "SELECT * FROM (VALUES (1, ''), (2, CAST(NULL AS varchar)), (3, 'a')) AS v(x, p)"
    if statement == "ctas":
        session.sql(
            f"CREATE TABLE t WITH (format = '{fmt}', partitioned_by = ARRAY['p']) AS {rows}"
        )
    elif statement == "bucketed ctas":
        session.sql(
            f"CREATE TABLE t WITH (format = '{fmt}', partitioned_by = ARRAY['p'], "
            f"bucketed_by = ARRAY['x'], bucket_count = 2) AS {rows}"
        )
    else:
        session.sql(
            "CREATE EXTERNAL TABLE t (x int) PARTITIONED BY (p string) "
            f"STORED AS {fmt} LOCATION 's3://lake/t/'"
        )
        session.sql(f"INSERT INTO t {rows}")
    values = sorted(tuple(p.values) for p in lake.catalog.get_partitions("default", "t"))
    assert values == [("__HIVE_DEFAULT_PARTITION__",), ("a",)]
    assert session.sql("SELECT x, p FROM t ORDER BY x").to_pylist() == [
        {"x": 1, "p": None},
        {"x": 2, "p": None},
        {"x": 3, "p": "a"},
    ]


@pytest.mark.parametrize("fmt", ["PARQUET", "JSON", "TEXTFILE"])
def test_a_value_too_long_for_duckdbs_folder_name_still_writes_its_hive_folder(
    session: Session, lake: Lake, fmt: str
) -> None:
    """30 CJK letters: 90 bytes in Hive's folder name, 270 characters (over the 255 a file
    system allows) in DuckDB's percent-escaped staging folder."""
    long = "漢" * 30
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/t/', "
        "partitioned_by = ARRAY['p'], bucketed_by = ARRAY['x'], bucket_count = 2) AS "
        f"SELECT * FROM (VALUES (1, '{long}'), (2, 'a'), (3, NULL), (4, '{long}')) AS v(x, p)"
    )
    parts = {p.values[0]: p.location for p in lake.catalog.get_partitions("default", "t")}
    assert parts == {
        long: f"s3://lake/t/p={long}/",
        "a": "s3://lake/t/p=a/",
        "__HIVE_DEFAULT_PARTITION__": "s3://lake/t/p=__HIVE_DEFAULT_PARTITION__/",
    }
    assert len(_files(lake, f"s3://lake/t/p={long}/")) == 2  # one per bucket
    assert session.sql("SELECT x, p FROM t ORDER BY x").to_pylist() == [
        {"x": 1, "p": long},
        {"x": 2, "p": "a"},
        {"x": 3, "p": None},
        {"x": 4, "p": long},
    ]


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC"])
def test_dates_timestamps_and_doubles_name_partitions_as_duckdb_casts_them(
    session: Session, lake: Lake, fmt: str
) -> None:
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/t/', "
        "partitioned_by = ARRAY['d', 'ts', 'x']) AS SELECT 1 AS id, DATE '2024-02-29' AS d, "
        "TIMESTAMP '2024-01-02 03:04:05.123' AS ts, CAST(2.5 AS DOUBLE) AS x"
    )
    [part] = lake.catalog.get_partitions("default", "t")
    assert part.values == ["2024-02-29", "2024-01-02 03:04:05.123", "2.5"]
    assert part.location == "s3://lake/t/d=2024-02-29/ts=2024-01-02 03%3A04%3A05.123/x=2.5/"


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC", "ION"])
def test_files_are_named_by_query_id_in_order_of_their_partitions(
    session: Session, lake: Lake, fmt: str
) -> None:
    context = StatementContext()
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/t/', "
        "partitioned_by = ARRAY['p']) AS "
        "SELECT x AS v, CASE WHEN x < 3 THEN NULL ELSE chr(CAST(100 - x AS INTEGER)) END AS p "
        "FROM UNNEST(sequence(1, 6)) AS u(x)",
        context,
    )
    names = {uri.rsplit("/", 2)[1]: uri.rsplit("/", 1)[1] for uri in _files(lake, "s3://lake/t/")}
    ext = {"PARQUET": ".parquet", "ORC": ".orc", "ION": ".ion.gz"}[fmt]
    qid = context.query_id
    assert names == {
        "p=%5E": f"{qid}_00000{ext}",
        "p=_": f"{qid}_00001{ext}",
        "p=`": f"{qid}_00002{ext}",
        "p=a": f"{qid}_00003{ext}",
        "p=__HIVE_DEFAULT_PARTITION__": f"{qid}_00004{ext}",
    }


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC"])
def test_over_100_partitions_fail_and_leave_nothing(session: Session, lake: Lake, fmt: str) -> None:
    with pytest.raises(InvalidRequestError, match="HIVE_TOO_MANY_OPEN_PARTITIONS"):
        session.sql(
            f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/many/', "
            "partitioned_by = ARRAY['p']) AS SELECT x AS v, x AS p "
            "FROM UNNEST(sequence(1, 250)) AS u(x)"
        )
    assert [f.uri for f in lake.storage.list_files("s3://lake/many/", include_hidden=True)] == []
    assert not lake.catalog.table_exists("default", "t")


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC", "AVRO"])
def test_bucket_files_of_many_partitions_are_one_per_bucket_with_hives_hash(
    session: Session, lake: Lake, fmt: str
) -> None:
    """30 partitions of 5 buckets: more (partition, bucket) files than DuckDB keeps open by
    default; for DuckDB's partitioned COPY, more rows than it buffers before it flushes
    (lowered here from 524,288), past which it would close files and open second ones
    for some buckets."""
    rows = 300_000 if fmt == "PARQUET" else 3000
    lake.engine.base.execute("SET GLOBAL partitioned_write_flush_threshold = 1000")
    session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/b/', "
        "bucketed_by = ARRAY['id'], bucket_count = 5, partitioned_by = ARRAY['p']) AS "
        "SELECT CAST(x AS INTEGER) AS id, (x / 5) % 30 AS p "  # every bucket in every p
        f"FROM UNNEST(sequence(1, {rows})) AS u(x)"
    )
    by_partition: dict[str, list[str]] = {}
    for uri in _files(lake, "s3://lake/b/"):
        folder, name = uri.rsplit("/", 2)[1:]
        by_partition.setdefault(folder, []).append(name)
        bucket = int(name.split("_", 1)[0])
        if fmt == "PARQUET":
            path = lake.storage.local_path(uri)
            assert path is not None
            ids = pq.read_table(path).column("id").to_pylist()
            assert {i % 5 for i in ids} <= {bucket}  # Hive hashes an int to itself
        elif fmt == "ORC":
            path = lake.storage.local_path(uri)
            assert path is not None
            ids = orc.read_table(path).column("id").to_pylist()
            assert {i % 5 for i in ids} <= {bucket}
    assert len(by_partition) == 30
    for names in by_partition.values():
        assert sorted(n.split("_", 1)[0] for n in names) == [f"{b:07d}" for b in range(5)]
    assert session.sql("SELECT count(*) AS n, count(DISTINCT id) AS d FROM t").to_pylist() == [
        {"n": rows, "d": rows}
    ]


@pytest.mark.parametrize("fmt", ["PARQUET", "ORC", "JSON"])
def test_an_empty_result_writes_no_file_and_no_partition(
    session: Session, lake: Lake, fmt: str
) -> None:
    result = session.sql(
        f"CREATE TABLE t WITH (format = '{fmt}', external_location = 's3://lake/e/', "
        "partitioned_by = ARRAY['p']) AS SELECT x AS v, x AS p "
        "FROM UNNEST(sequence(1, 10)) AS u(x) WHERE x > 10"
    )
    assert result.to_pylist() == [{"rows": 0}]
    assert lake.catalog.get_partitions("default", "t") == []
    assert [f.uri for f in lake.storage.list_files("s3://lake/e/", include_hidden=True)] == []
    session.sql("INSERT INTO t SELECT 1 AS v, 2 AS p WHERE false")
    assert session.sql("SELECT count(*) AS n FROM t").to_pylist() == [{"n": 0}]


def test_insert_partitions_by_the_tables_types(session: Session, lake: Lake) -> None:
    """INSERT casts to the table's columns before it partitions: the folders spell the
    table type's value (a decimal(10,2) partition fed a double)."""
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/i/', partitioned_by = "
        "ARRAY['d']) AS SELECT 1 AS v, CAST(1.5 AS DECIMAL(10,2)) AS d"
    )
    session.sql("INSERT INTO t SELECT 2, 2.5E0")
    parts = {p.values[0]: p.location for p in lake.catalog.get_partitions("default", "t")}
    assert parts == {"1.50": "s3://lake/i/d=1.50/", "2.50": "s3://lake/i/d=2.50/"}
    assert len(_files(lake, "s3://lake/i/d=2.50/")) == 1
    assert session.sql("SELECT v FROM t WHERE d = 2.5").to_pylist() == [{"v": 2}]


def test_the_write_reads_the_lake_in_one_watched_statement(session: Session) -> None:
    """The scan meter's ``reading`` wraps the one pass (cutoffs and bytes scanned)."""
    entered: list[bool] = []

    class Meter:
        cutoff_bytes: int | None = None

        def check_stop(self) -> None:
            pass

        def reading(self, nbytes: int | None = None) -> Any:
            from contextlib import nullcontext

            entered.append(nbytes is None)
            return nullcontext()

    def open_write(
        con: Any, planned_sql: str, storage: Storage, meter: ScanMeter | None, target: WriteTarget
    ) -> TableWrite:
        return duckdb_write.open_write(con, planned_sql, storage, Meter(), target)

    for fmt in ("PARQUET", "ION"):
        entered.clear()
        context = StatementContext()
        sql = (
            f"CREATE TABLE t_{fmt} WITH (format = '{fmt}', partitioned_by = ARRAY['p']) AS "
            "SELECT x AS v, x % 3 AS p FROM UNNEST(sequence(1, 30)) AS u(x)"
        )
        job = prepare_write(session.lake, "default", parse_query(sql), context, open_write)
        assert not isinstance(job, WriteOutcome) and isinstance(job.query, exp.Expression)
        job.begin()
        with session.planned(job.query, context) as planned:
            job.write(planned)
        job.commit()
        job.finish()
        assert entered == [True]
