"""CTAS: every statement of the Athena User Guide's "Examples of CTAS queries", over small
source tables of sample JSON records, each new table read back and checked against the
source records in plain Python."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from integration.aws_examples.conftest import Athena, unordered

URL = "https://docs.aws.amazon.com/athena/latest/ug/ctas-examples.html"

TABLE1 = [
    {"key1": 1, "name1": "Alice", "address1": "1 Main St., Anytown", "phone1": "555-0100",
     "acctbal": 1200.5, "mktsegment": "BUILDING", "comment1": 'said "hi", twice',
     "nationkey": 7, "dt": "2023-01-15", "date": "2023-01-15"},
    {"key1": 2, "name1": "Bob", "address1": "2 High St.", "phone1": "555-0101",
     "acctbal": -20.25, "mktsegment": "MACHINERY", "comment1": None,
     "nationkey": 7, "dt": "2023-02-01", "date": "2023-02-01"},
    {"key1": 2, "name1": "Carla", "address1": None, "phone1": "555-0102",
     "acctbal": 0.0, "mktsegment": "BUILDING", "comment1": "tab\there",
     "nationkey": 9, "dt": "2023-02-28", "date": "2023-02-28"},
]  # fmt: skip
TYPES = {"key1": "int", "acctbal": "double", "nationkey": "int", "dt": "date", "date": "date"}


def value(rec: dict[str, Any], col: str) -> Any:
    v = rec[col]
    return dt.date.fromisoformat(v) if TYPES.get(col) == "date" and v is not None else v


def put_table(athena: Athena, name: str, rows: list[dict[str, Any]]) -> None:
    cols = ", ".join(f"`{c}` {TYPES.get(c, 'string')}" for c in rows[0])
    athena.put(f"s3://ctas-sample/{name}/data.json", "".join(json.dumps(r) + "\n" for r in rows))
    athena.run(
        f"CREATE EXTERNAL TABLE {name} ({cols}) "
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe' "
        f"LOCATION 's3://ctas-sample/{name}/'"
    )


@pytest.fixture
def sources(athena: Athena) -> Athena:
    put_table(athena, "table1", TABLE1)
    put_table(athena, "old_table", TABLE1)
    return athena


def select(cols: list[str], where: Any = None) -> list[tuple[Any, ...]]:
    return [tuple(value(r, c) for c in cols) for r in TABLE1 if where is None or where(r)]


ALL = list(TABLE1[0])

# (statement verbatim from URL, new table, expected rows)
CASES: dict[str, tuple[str, str, list[tuple[Any, ...]]]] = {
    "duplicate": (
        """CREATE TABLE new_table AS 
SELECT * 
FROM old_table;""",
        "new_table",
        select(ALL),
    ),
    "parquet_snappy": (
        """CREATE TABLE new_table
WITH (
      format = 'Parquet',
      write_compression = 'SNAPPY')
AS SELECT *
FROM old_table;""",
        "new_table",
        select(ALL),
    ),
    "orc_snappy": (
        """CREATE TABLE new_table
WITH (format = 'ORC',
      write_compression = 'SNAPPY')
AS SELECT *
FROM old_table ;""",
        "new_table",
        select(ALL),
    ),
    "textfile_snappy": (
        """CREATE TABLE new_table
WITH (format = 'TEXTFILE',
      write_compression = 'SNAPPY')
AS SELECT *
FROM old_table ;""",
        "new_table",
        select(ALL),
    ),
    "orc_external": (
        """CREATE TABLE my_orc_ctas_table
WITH (
      external_location = 's3://my_athena_results/my_orc_stas_table/',
      format = 'ORC')
AS SELECT * 
FROM old_table;""",
        "my_orc_ctas_table",
        select(ALL),
    ),
    "csv_unpartitioned": (
        """CREATE TABLE ctas_csv_unpartitioned 
WITH (
     format = 'TEXTFILE', 
     external_location = 's3://my_athena_results/ctas_csv_unpartitioned/') 
AS SELECT key1, name1, address1, comment1
FROM table1;""",
        "ctas_csv_unpartitioned",
        select(["key1", "name1", "address1", "comment1"]),
    ),
    "parquet_unpartitioned": (
        """CREATE TABLE ctas_parquet_unpartitioned 
WITH (format = 'PARQUET') 
AS SELECT key1, name1, comment1
FROM table1;""",
        "ctas_parquet_unpartitioned",
        select(["key1", "name1", "comment1"]),
    ),
    "json_unpartitioned": (
        """CREATE TABLE ctas_json_unpartitioned 
WITH (
     format = 'JSON',  
     external_location = 's3://my_athena_results/ctas_json_unpartitioned/') 
AS SELECT key1, name1, address1, comment1
FROM table1;""",
        "ctas_json_unpartitioned",
        select(["key1", "name1", "address1", "comment1"]),
    ),
    "orc_unpartitioned": (
        """CREATE TABLE ctas_orc_unpartitioned 
WITH (
     format = 'ORC') 
AS SELECT key1, name1, comment1 
FROM table1;""",
        "ctas_orc_unpartitioned",
        select(["key1", "name1", "comment1"]),
    ),
    "avro_unpartitioned": (
        """CREATE TABLE ctas_avro_unpartitioned 
WITH (
     format = 'AVRO', 
     external_location = 's3://my_athena_results/ctas_avro_unpartitioned/') 
AS SELECT key1, name1, comment1
FROM table1;""",
        "ctas_avro_unpartitioned",
        select(["key1", "name1", "comment1"]),
    ),
    "json_partitioned": (
        """CREATE TABLE ctas_json_partitioned 
WITH (
     format = 'JSON', 
     external_location = 's3://my_athena_results/ctas_json_partitioned/', 
     partitioned_by = ARRAY['key1']) 
AS select name1, address1, comment1, key1 
FROM table1;""",
        "ctas_json_partitioned",
        select(["name1", "address1", "comment1", "key1"]),
    ),
    "avro_bucketed": (
        """CREATE TABLE ctas_avro_bucketed 
WITH (
      format = 'AVRO', 
      external_location = 's3://my_athena_results/ctas_avro_bucketed/', 
      partitioned_by = ARRAY['nationkey'], 
      bucketed_by = ARRAY['mktsegment'], 
      bucket_count = 3) 
AS SELECT key1, name1, address1, phone1, acctbal, mktsegment, comment1, nationkey 
FROM table1;""",
        "ctas_avro_bucketed",
        select(
            [
                "key1",
                "name1",
                "address1",
                "phone1",
                "acctbal",
                "mktsegment",
                "comment1",
                "nationkey",
            ]
        ),
    ),
}


# 'my_athena_results' is not a valid bucket name (S3 refuses '_'): the page's examples write
# to 's3://my-athena-results/' instead, the only change made to them
def results_bucket(statement: str) -> str:
    return statement.replace("s3://my_athena_results/", "s3://my-athena-results/")


MARKS = {
    "textfile_snappy": pytest.mark.xfail(
        strict=True,
        reason="TEXTFILE with write_compression = 'SNAPPY' (Hadoop's snappy codec) is not "
        "written by lakebox: it refuses with an error naming the codec (engine writes)",
    )
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=MARKS[n]) if n in MARKS else n for n in CASES]
)
def test_ctas(sources: Athena, name: str) -> None:
    statement, table, expected = CASES[name]
    sources.run(results_bucket(statement))
    assert unordered(sources.run(f"SELECT * FROM {table}")) == unordered(expected)


# The page's templates, with their placeholders (condition, column_1 ... column_n,
# old_table_1 ... old_table_n) replaced by concrete names at run time.
def test_where_condition(sources: Athena) -> None:
    statement = """CREATE TABLE new_table AS 
SELECT * 
FROM old_table 
WHERE condition;"""
    sources.run(statement.replace("condition", "key1 = 2"))
    assert unordered(sources.run("SELECT * FROM new_table")) == unordered(
        select(ALL, lambda r: r["key1"] == 2)
    )


def test_specific_columns(sources: Athena) -> None:
    statement = """CREATE TABLE new_table AS 
SELECT column_1, column_2, ... column_n 
FROM old_table;"""
    sources.run(statement.replace("column_1, column_2, ... column_n", "name1, acctbal"))
    assert unordered(sources.run("SELECT * FROM new_table")) == unordered(
        select(["name1", "acctbal"])
    )


def test_columns_of_several_tables(sources: Athena) -> None:
    put_table(sources, "old_table_1", [{"a": "x"}, {"a": "y"}])
    put_table(sources, "old_table_2", [{"b": "1"}, {"b": "2"}])
    statement = """CREATE TABLE new_table AS
SELECT column_1, column_2, ... column_n 
FROM old_table_1, old_table_2, ... old_table_n;"""
    statement = statement.replace("column_1, column_2, ... column_n", "a, b")
    sources.run(
        statement.replace("old_table_1, old_table_2, ... old_table_n", "old_table_1, old_table_2")
    )
    expected = [(a, b) for a in ("x", "y") for b in ("1", "2")]
    assert unordered(sources.run("SELECT * FROM new_table")) == unordered(expected)


def test_empty_copy(sources: Athena) -> None:
    sources.run(
        """CREATE TABLE new_table 
AS SELECT * 
FROM old_table
WITH NO DATA;"""
    )
    result = sources.session.sql("SELECT * FROM new_table")
    assert result.fetchall() == []
    assert result.columns == ALL


def test_csv_partitioned_names_a_missing_table(sources: Athena) -> None:
    # the page's statement reads FROM tables1, a table its other examples never create:
    # Athena fails it, naming the table
    statement = """CREATE TABLE ctas_csv_partitioned 
WITH (
     format = 'TEXTFILE',  
     external_location = 's3://my_athena_results/ctas_csv_partitioned/', 
     partitioned_by = ARRAY['key1']) 
AS SELECT name1, address1, comment1, key1
FROM tables1;"""
    statement = results_bucket(statement)
    with pytest.raises(Exception, match="tables1"):
        sources.run(statement)
    # with the table the other examples use, it writes the partitioned table
    sources.run(statement.replace("FROM tables1", "FROM table1"))
    expected = select(["name1", "address1", "comment1", "key1"])
    assert unordered(sources.run("SELECT * FROM ctas_csv_partitioned")) == unordered(expected)


ICEBERG = pytest.mark.xfail(
    strict=True,
    reason="Iceberg tables (table_type = 'ICEBERG') are not supported by lakebox: the CTAS "
    "fails naming the table_type",
)


@ICEBERG
def test_iceberg_parquet(sources: Athena) -> None:
    sources.run(
        results_bucket(
            """CREATE TABLE ctas_iceberg_parquet
WITH (table_type = 'ICEBERG',
      format = 'PARQUET', 
      location = 's3://my_athena_results/ctas_iceberg_parquet/', 
      is_external = false,
      partitioning = ARRAY['month(dt)'],
      vacuum_min_snapshots_to_keep = 10,
      vacuum_max_snapshot_age_ms = 259200
   ) 
AS SELECT key1, name1, dt FROM table1;"""
        )
    )
    assert unordered(sources.run("SELECT * FROM ctas_iceberg_parquet")) == unordered(
        select(["key1", "name1", "dt"])
    )


@ICEBERG
def test_iceberg_avro(sources: Athena) -> None:
    sources.run(
        results_bucket(
            """CREATE TABLE ctas_iceberg_avro
WITH ( format = 'AVRO', 
       location = 's3://my_athena_results/ctas_iceberg_avro/', 
       is_external = false,
       table_type = 'ICEBERG',
       partitioning = ARRAY['key1']) 
AS SELECT key1, name1, date FROM table1;"""
        )
    )
    assert unordered(sources.run("SELECT * FROM ctas_iceberg_avro")) == unordered(
        select(["key1", "name1", "date"])
    )
