"""Engines chosen per workgroup and per session in one lake and one process: a workgroup
whose ``SelectedEngineVersion`` is ``PySpark engine version 3`` runs its queries on the
Spark engine while ``primary`` stays on DuckDB, with the same answers; switching it back
runs the next queries on DuckDB again; a session opened with ``engine="spark"`` runs on
Spark whatever the lake's default."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox import dbapi
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.engine.spark import SparkEngine
from lakebox.lakehouse import Lakehouse
from lakebox.query.model import ATHENA_SQL, AUTO, PYSPARK

pytestmark = pytest.mark.spark

QUERY = (
    "SELECT region, count(*) AS n, sum(amount) AS total FROM sales "
    "WHERE dt >= '2024-01-01' GROUP BY region ORDER BY region"
)
EXPECTED = [("eu", 2, 11.75), ("us", 2, 22.0)]


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


@pytest.fixture
def lake(lake_home: Path, spark_held: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lakehouse]:
    """A DuckDB lake (the default engine) with a partitioned Parquet table."""
    monkeypatch.delenv("LAKEBOX_ENGINE", raising=False)
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    session = lakebox.connect(lake_home)
    opened = session.lake
    assert isinstance(opened, Lakehouse)
    try:
        put = opened.storage.write_bytes
        put(
            "s3://lake/sales/dt=2024-01-01/a.parquet",
            _parquet({"region": ["eu", "us"], "amount": [10.5, 20.0]}),
        )
        put(
            "s3://lake/sales/dt=2024-01-02/a.parquet",
            _parquet({"region": ["eu", "us"], "amount": [1.25, 2.0]}),
        )
        session.sql(
            "CREATE EXTERNAL TABLE sales (region string, amount double) "
            "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/sales/'"
        )
        session.sql("MSCK REPAIR TABLE sales")
        yield opened
    finally:
        opened.close()


def test_a_spark_workgroup_runs_on_spark_while_primary_stays_on_duckdb(lake: Lakehouse) -> None:
    queries = lake.queries
    queries.create_work_group("spark-wg", engine_version=PYSPARK)
    assert isinstance(lake.engine, DuckDBEngine)
    spark = lake.engine_for("spark")
    assert isinstance(spark, SparkEngine)

    on_duck, duck_result = queries.run(QUERY)
    on_spark, spark_result = queries.run(QUERY, workgroup="spark-wg")
    assert (on_duck.state, on_spark.state) == ("SUCCEEDED", "SUCCEEDED")
    assert (on_duck.engine, on_spark.engine) == ("duckdb", "spark")
    assert on_spark.to_api()["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }
    assert on_duck.to_api()["EngineVersion"] == {
        "SelectedEngineVersion": AUTO,
        "EffectiveEngineVersion": ATHENA_SQL,
    }
    assert duck_result is not None and spark_result is not None
    assert duck_result.fetchall() == spark_result.fetchall() == EXPECTED
    # the Spark engine really ran it: its session was taken by this lake's Spark engine
    assert spark.is_open
    # one plan per engine: a plan compiled by one engine never serves the other
    assert len(lake.plans) == 2
    again, result = queries.run(QUERY, workgroup="spark-wg")
    assert again.engine == "spark" and result is not None and result.fetchall() == EXPECTED
    # the workgroup, as GetWorkGroup answers
    config = queries.get_work_group("spark-wg").to_api(queries.default_engine)["Configuration"]
    assert config["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }


def test_a_workgroup_switched_back_runs_on_duckdb_and_reuses_no_spark_result(
    lake: Lakehouse,
) -> None:
    queries = lake.queries
    queries.create_work_group("switching", engine_version=PYSPARK)
    first = queries.wait(
        queries.start_query_execution(QUERY, workgroup="switching", result_reuse_max_age_minutes=60)
    )
    assert (first.state, first.engine) == ("SUCCEEDED", "spark")

    queries.update_work_group("switching", engine_version=ATHENA_SQL)
    second = queries.wait(
        queries.start_query_execution(QUERY, workgroup="switching", result_reuse_max_age_minutes=60)
    )
    assert (second.state, second.engine) == ("SUCCEEDED", "duckdb")
    # the Spark engine's answer is not reused for a query now on DuckDB
    assert not second.reused_previous_result
    assert second.to_api()["EngineVersion"]["EffectiveEngineVersion"] == ATHENA_SQL
    third = queries.wait(
        queries.start_query_execution(QUERY, workgroup="switching", result_reuse_max_age_minutes=60)
    )
    assert third.reused_previous_result and third.engine == "duckdb"
    for qe in (first, second):
        page = queries.get_query_results(qe.query_execution_id)
        rows = [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        assert rows[1:] == [["eu", "2", "11.75"], ["us", "2", "22.0"]]

    queries.update_work_group("switching", engine_version=AUTO)
    qe, _ = queries.run(QUERY, workgroup="switching")
    assert qe.engine == "duckdb"  # AUTO: the lake's engine


def test_a_session_chooses_its_engine(lake: Lakehouse, lake_home: Path) -> None:
    on_spark = lakebox.connect(lake_home, engine="spark")
    try:
        assert on_spark.engine_name == "spark"
        assert isinstance(on_spark.engine, SparkEngine)
        assert isinstance(on_spark.lake.engine, DuckDBEngine)  # the lake's default is kept
        assert on_spark.sql(QUERY).fetchall() == EXPECTED
        assert on_spark.lake.engine_for("spark").is_open
    finally:
        on_spark.lake.close()
    # the same lake, a session of each engine on one Lakehouse
    duck, spark = lake.session(), lake.session(engine="spark")
    assert duck.sql(QUERY).fetchall() == spark.sql(QUERY).fetchall() == EXPECTED
    assert (duck.engine.name, spark.engine.name) == ("duckdb", "spark")
    # the DB-API door passes the choice on
    con = dbapi.connect(str(lake_home), engine="spark")
    try:
        assert con.session.engine_name == "spark"
        cur = con.cursor()
        cur.execute(QUERY)
        assert cur.fetchall() == EXPECTED
    finally:
        con.close()
        con.session.lake.close()


def test_on_a_spark_lake_a_workgroup_can_choose_athenas_sql_engine(
    lake: Lakehouse, lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other way round: the lake's default is Spark (``LAKEBOX_ENGINE=spark``), AUTO
    runs there, and a workgroup selecting ``Athena engine version 3`` runs on DuckDB."""
    monkeypatch.setenv("LAKEBOX_ENGINE", "spark")
    session = lakebox.connect(lake_home)
    spark_lake = session.lake
    try:
        queries = spark_lake.queries
        assert queries.default_engine == "spark"
        queries.create_work_group("sql-wg", engine_version=ATHENA_SQL)
        on_spark, spark_result = queries.run(QUERY)
        on_duck, duck_result = queries.run(QUERY, workgroup="sql-wg")
        assert (on_spark.engine, on_duck.engine) == ("spark", "duckdb")
        assert on_spark.to_api()["EngineVersion"] == {
            "SelectedEngineVersion": AUTO,
            "EffectiveEngineVersion": PYSPARK,
        }
        assert spark_result is not None and duck_result is not None
        assert spark_result.fetchall() == duck_result.fetchall() == EXPECTED
        primary = queries.get_work_group("primary").to_api(queries.default_engine)
        assert primary["Configuration"]["EngineVersion"]["EffectiveEngineVersion"] == PYSPARK
        assert isinstance(spark_lake.engine_for("duckdb"), DuckDBEngine)
    finally:
        spark_lake.close()
