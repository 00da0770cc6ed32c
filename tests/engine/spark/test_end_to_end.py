"""Queries through ``lakebox.connect`` on a lake whose engine is Spark
(``LAKEBOX_ENGINE=spark``) give DuckDB's answers: the same lake, the same statements,
both engines, compared row by row, with the same column names and types."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.engine.spark import SparkEngine
from lakebox.errors import DataError, UnsupportedError

pytestmark = pytest.mark.spark


QUERIES = [
    "SELECT region, sum(amount) AS total, count(*) FROM sales GROUP BY region ORDER BY region",
    # NULLs last in both directions; the text table's \\N and 'x' are NULLs
    "SELECT * FROM people ORDER BY age DESC, id",
    # integer division truncates (Trino types integer / integer as integer, DuckDB's
    # engine as bigint: bigint operands keep the types equal)
    "SELECT CAST(id AS bigint) / 2 AS half, id % 2 AS odd, CAST(id AS double) / 2 AS exact "
    "FROM people ORDER BY id",
    "SELECT p.name, s.amount, s.dt FROM people p JOIN sales s ON p.id = s.id ORDER BY 1, 2",
    "SELECT kind, count(*) AS n, sum(ms) AS ms FROM events GROUP BY kind ORDER BY kind",
    'SELECT count(*), min("$partition") FROM sales WHERE "$path" LIKE \'%/dt=2024-01-01/%\' '
    "AND dt = '2024-01-01'",
    "SELECT substr(name, 1, 2) AS s, length(name) AS l, upper(name) AS u, "
    "e.id IN (SELECT id FROM sales WHERE region = 'eu') AS eu "
    "FROM people p JOIN events e ON p.id = e.id WHERE name IS NOT NULL ORDER BY p.id",
    "SELECT c.id, c.page, c.ms, p.name FROM clicks c LEFT JOIN people p ON c.id = p.id "
    "ORDER BY c.id",
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default' "
    "ORDER BY table_name",
]


def _answers(home: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> list[pa.Table]:
    monkeypatch.setenv("LAKEBOX_ENGINE", engine)
    session = lakebox.connect(home)
    try:
        assert session.lake.engine.name == engine
        return [session.sql(q).to_arrow() for q in QUERIES]
    finally:
        session.lake.close()


def _shape(table: pa.Table) -> tuple[list[str], list[pa.DataType], list[dict[str, object]]]:
    return table.column_names, table.schema.types, table.to_pylist()


def test_spark_gives_duckdbs_answers(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    duck = _answers(home, "duckdb", monkeypatch)
    spark = _answers(home, "spark", monkeypatch)
    for sql, d, s in zip(QUERIES, duck, spark, strict=True):
        assert _shape(s) == _shape(d), sql
    # the answers are not trivially equal: each query returned rows
    assert all(t.num_rows for t in duck)


@pytest.fixture
def spark_session(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[lakebox.Session]:
    monkeypatch.setenv("LAKEBOX_ENGINE", "spark")
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    session = lakebox.connect(home)
    try:
        yield session
    finally:
        session.lake.close()


WRITES = [
    "CREATE TABLE {t} WITH (format = 'PARQUET', partitioned_by = ARRAY['region']) AS "
    "SELECT id, amount, dt, region FROM sales",
    "INSERT INTO {t} SELECT id * 10, amount, 'x', region FROM sales WHERE dt = '2024-01-02'",
    "CREATE TABLE {t}_orc WITH (format = 'ORC') AS SELECT * FROM people WHERE id > 2",
]
READ_BACK = [
    "SELECT id, amount, dt, region FROM {t} ORDER BY id, dt",
    "SELECT region, count(*) AS n FROM {t} GROUP BY region ORDER BY region",
    "SELECT * FROM {t}_orc ORDER BY id",
]


def _write_then_read(home: Path, engine: str, table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEBOX_ENGINE", engine)
    session = lakebox.connect(home)
    try:
        for sql in WRITES:
            session.sql(sql.format(t=table))
    finally:
        session.lake.close()


def test_spark_writes_what_duckdb_writes(
    home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CTAS (partitioned Parquet, ORC) and INSERT INTO on Spark; the tables read back (on
    DuckDB) as DuckDB's own writes of the same statements, partitions included."""
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    _write_then_read(home, "duckdb", "by_duck", monkeypatch)
    _write_then_read(home, "spark", "by_spark", monkeypatch)
    monkeypatch.setenv("LAKEBOX_ENGINE", "duckdb")
    session = lakebox.connect(home)
    try:
        for sql in READ_BACK:
            duck = session.sql(sql.format(t="by_duck")).to_arrow()
            spark = session.sql(sql.format(t="by_spark")).to_arrow()
            assert _shape(spark) == _shape(duck), sql
            assert duck.num_rows
        parts = session.sql("SHOW PARTITIONS by_spark").fetchall()
        assert parts == session.sql("SHOW PARTITIONS by_duck").fetchall()
        assert ("region=__HIVE_DEFAULT_PARTITION__",) in parts
    finally:
        session.lake.close()


def test_unload_and_unwritable_formats(spark_session: lakebox.Session) -> None:
    spark_session.sql(
        "UNLOAD (SELECT id, name FROM people WHERE id < 3) TO 's3://lake/out/' "
        "WITH (format = 'PARQUET')"
    )
    lake = spark_session.lake
    files = [f.uri for f in lake.storage.list_files("s3://lake/out/")]
    assert files and all(f.endswith(".parquet") for f in files)
    rows = pa.concat_tables(pq.read_table(io.BytesIO(lake.storage.read_bytes(f))) for f in files)
    assert sorted(rows.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "name": "ann"},
        {"id": 2, "name": "bob"},
    ]
    with pytest.raises(UnsupportedError, match="does not write JSON yet"):
        spark_session.sql("CREATE TABLE j WITH (format = 'JSON') AS SELECT * FROM people")
    # nothing was registered
    assert [r[0] for r in spark_session.sql("SHOW TABLES").fetchall()] == [
        "clicks",
        "events",
        "people",
        "sales",
    ]


def test_an_unreadable_format_is_named(spark_session: lakebox.Session) -> None:
    assert isinstance(spark_session.lake.engine, SparkEngine)
    spark_session.sql(
        "CREATE EXTERNAL TABLE logs (line string) ROW FORMAT SERDE "
        "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
        "('input.regex' = '(.*)') LOCATION 's3://lake/people/'"
    )
    with pytest.raises(UnsupportedError, match="does not read regex tables"):
        spark_session.sql("SELECT * FROM logs")


def test_the_query_service_runs_on_spark(spark_session: lakebox.Session) -> None:
    """StartQueryExecution's path on a Spark lake: the execution succeeds, its result reads
    back as GetQueryResults returns it, and the bytes scanned are Spark's measure of the
    partition it read (not the whole table, not nothing)."""
    queries = spark_session.lake.queries
    qe, _ = queries.run("SELECT count(*) AS n, sum(id) AS s FROM sales WHERE dt = '2024-01-01'")
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    page = queries.get_query_results(qe.query_execution_id)
    rows = [[c.get("VarCharValue") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
    assert rows == [["n", "s"], ["3", "6"]]
    storage = spark_session.lake.storage
    day = sum(f.size for f in storage.list_files("s3://lake/sales/dt=2024-01-01/"))
    assert 0 < qe.data_scanned_bytes <= day


def test_a_damaged_avro_file_is_named(spark_session: lakebox.Session) -> None:
    """A file the executors' Avro reader cannot decode fails the query with a DataError
    naming the file by its lake URI, as on DuckDB."""
    lake = spark_session.lake
    lake.storage.write_bytes("s3://lake/bad/c.avro", b"Obj\x01 this is not Avro")
    spark_session.sql(
        "CREATE EXTERNAL TABLE bad (id bigint) STORED AS AVRO LOCATION 's3://lake/bad/'"
    )
    with pytest.raises(DataError, match="cannot decode Avro data") as caught:
        spark_session.sql("SELECT * FROM bad")
    assert caught.value.uri == "s3://lake/bad/c.avro"


def test_duckdb_stays_the_default(lake_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEBOX_ENGINE", raising=False)
    session = lakebox.connect(lake_home)
    try:
        assert isinstance(session.lake.engine, DuckDBEngine)
    finally:
        session.lake.close()
