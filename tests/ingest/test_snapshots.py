"""RDS-style snapshot exports from real SQLite, PostgreSQL and MariaDB databases."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from lakebox.ingest.errors import ResourceInUseError, ResourceNotFoundError
from lakebox.ingest.snapshots import SnapshotExports, describe_export_tasks, start_export_task
from lakebox.session import Lake

from .conftest import in_ci, unique

URLS = {
    "postgresql": os.environ.get(
        "LAKEBOX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("LAKEBOX_TEST_MYSQL_URL", "mysql+pymysql://root:@127.0.0.1:3306/test"),
}
BIG = decimal.Decimal("1234567890123456789012345678901234.5678")

#: per dialect: column DDL, one full row and the values it exports as
COLUMNS: dict[str, list[tuple[str, str, Any, Any, str]]] = {
    "common": [
        ("id", "BIGINT", 1, 1, "bigint"),
        ("amount", "DECIMAL(38,4)", BIG, BIG, "decimal(38,4)"),
        (
            "price",
            "NUMERIC(10,2)",
            decimal.Decimal("9.99"),
            decimal.Decimal("9.99"),
            "decimal(10,2)",
        ),
        ("name", "VARCHAR(40)", "héllo", "héllo", "string"),
        ("d", "DATE", dt.date(2024, 2, 29), dt.date(2024, 2, 29), "date"),
        ("small", "SMALLINT", -3, -3, "smallint"),
        ("n", "INTEGER", 2147483647, 2147483647, "int"),
        ("x", "DOUBLE PRECISION", 2.5, 2.5, "double"),
    ],
    "postgresql": [
        (
            "ts",
            "TIMESTAMP",
            dt.datetime(2024, 1, 1, 1, 2, 3, 456000),
            dt.datetime(2024, 1, 1, 1, 2, 3, 456000),
            "timestamp",
        ),
        (
            "tstz",
            "TIMESTAMPTZ",
            dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2023, 12, 31, 22, 0),
            "timestamp",
        ),
        ("ok", "BOOLEAN", True, True, "boolean"),
        ("doc", "JSONB", '{"a": 1}', '{"a":1}', "string"),
        ("nums", "INTEGER[]", [1, 2], [1, 2], "array<int>"),
        ("raw", "BYTEA", b"\x00\x01", b"\x00\x01", "binary"),
    ],
    "mysql": [
        (
            "ts",
            "DATETIME(6)",
            dt.datetime(2024, 1, 1, 1, 2, 3, 456000),
            dt.datetime(2024, 1, 1, 1, 2, 3, 456000),
            "timestamp",
        ),
        (
            "big_unsigned",
            "BIGINT UNSIGNED",
            18446744073709551615,
            decimal.Decimal(18446744073709551615),
            "decimal(20,0)",
        ),
        ("raw", "BLOB", b"\x00\x01", b"\x00\x01", "binary"),
        ("t", "TIME", "10:11:12", "10:11:12", "string"),
    ],
    "sqlite": [
        ("ts", "TIMESTAMP", "2024-01-01 01:02:03", dt.datetime(2024, 1, 1, 1, 2, 3), "timestamp"),
        ("raw", "BLOB", b"\x00\x01", b"\x00\x01", "binary"),
    ],
}


@dataclass
class SourceDb:
    dialect: str
    url: str
    engine: sa.Engine
    database: str
    schema: str

    def only(self, table: str) -> str:
        if self.dialect == "postgresql":
            return f"{self.database}.{self.schema}.{table}"
        return f"{self.database}.{table}"


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SourceDb]:
    dialect: str = request.param
    url = f"sqlite:///{tmp_path / 'shop.db'}" if dialect == "sqlite" else URLS[dialect]
    engine = sa.create_engine(url)
    if dialect != "sqlite":
        try:
            engine.connect().close()
        except sa.exc.OperationalError as err:
            if in_ci():
                raise
            pytest.skip(f"{dialect} server not reachable: {err}")
    database = {"sqlite": "shop", "postgresql": engine.url.database, "mysql": engine.url.database}[
        dialect
    ]
    schema = {"sqlite": "main", "postgresql": "public", "mysql": database}[dialect]
    try:
        yield SourceDb(dialect, url, engine, str(database), str(schema))
    finally:
        engine.dispose()


@pytest.fixture
def table_of(source: SourceDb) -> Iterator[Any]:
    """Creates uniquely named tables in the source and drops them afterwards."""
    made: list[str] = []

    def make(
        ddl_columns: str,
        rows: list[tuple[Any, ...]] | None = None,
        raw_inserts: list[str] | None = None,
    ) -> str:
        name = unique("lb_snap")
        with source.engine.begin() as con:
            con.exec_driver_sql(f"CREATE TABLE {name} ({ddl_columns})")
            made.append(name)
            for row in rows or []:
                marks = ", ".join(["%s" if source.dialect != "sqlite" else "?"] * len(row))
                con.exec_driver_sql(f"INSERT INTO {name} VALUES ({marks})", tuple(row))
            for stmt in raw_inserts or []:
                con.exec_driver_sql(stmt.format(table=name))
        return name

    yield make
    with source.engine.begin() as con:
        for name in made:
            con.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _columns(dialect: str) -> list[tuple[str, str, Any, Any, str]]:
    cols = list(COLUMNS["common"])
    if dialect == "sqlite":  # SQLite keeps numbers as REAL and dates as text
        swap = {
            "x": ("x", "REAL", 2.5, 2.5, "double"),
            "amount": (
                "amount",
                "DECIMAL(38,4)",
                "12345.6789",
                decimal.Decimal("12345.6789"),
                "decimal(38,4)",
            ),
            "price": ("price", "NUMERIC(10,2)", "9.99", decimal.Decimal("9.99"), "decimal(10,2)"),
            "d": ("d", "DATE", "2024-02-29", dt.date(2024, 2, 29), "date"),
        }
        cols = [swap.get(c[0], c) for c in cols]
    return cols + COLUMNS[dialect]


def read_parts(lake: Lake, files: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for uri in files:
        rows.extend(pq.read_table(io.BytesIO(lake.storage.read_bytes(uri))).to_pylist())
    return rows


def test_export_layout_types_and_values(lake: Lake, source: SourceDb, table_of: Any) -> None:
    cols = _columns(source.dialect)
    ddl = ", ".join(f"{n} {t}" for n, t, *_ in cols)
    full = tuple(v for _, _, v, _, _ in cols)
    rows = [full] + [tuple([i] + [None] * (len(cols) - 1)) for i in range(2, 6)]
    name = table_of(ddl, rows)
    task_id = f"exp-{name.replace('_', '-')}"
    task = start_export_task(
        lake,
        {
            "ExportTaskIdentifier": task_id,
            "SourceArn": source.url,
            "S3BucketName": "snap",
            "S3Prefix": "rds",
            "ExportOnly": [source.only(name)],
            "BatchRows": 2,
            "CatalogDatabase": "shop_export",
        },
    )
    assert task["Status"] == "COMPLETE", task
    folder = f"s3://snap/rds/{task_id}/{source.database}/{source.schema}.{name}/1/"
    files = [f.uri for f in lake.storage.list_files(folder)]
    assert len(files) == 3  # 5 rows in batches of 2
    for i, uri in enumerate(files):
        assert re.fullmatch(
            re.escape(folder) + f"part-{i:05d}-[0-9a-f-]{{36}}\\.gz\\.parquet", uri
        ), uri
    got = sorted(read_parts(lake, files), key=lambda r: r["id"])
    assert got[0] == {n: expected for n, _, _, expected, _ in cols}
    assert [r["id"] for r in got] == [1, 2, 3, 4, 5]
    assert all(v is None for k, v in got[1].items() if k != "id")
    info = json.loads(
        lake.storage.read_bytes(f"s3://snap/rds/{task_id}/export_info_{task_id}.json")
    )
    assert info["status"] == "COMPLETE"
    assert info["perTableStatus"][0]["target"] == f"{source.database}.{source.schema}.{name}"
    tables = json.loads(
        lake.storage.read_bytes(
            f"s3://snap/rds/{task_id}/export_tables_info_{task_id}_from_1_to_1.json"
        )
    )
    mappings = tables["perTableStatus"][0]["schemaMetadata"]["originalTypeMappings"]
    assert [m["expectedExportedType"] for m in mappings] == [c[4] for c in cols]
    table = lake.catalog.get_table("shop_export", name)
    assert [(c.name, c.type) for c in table.columns] == [(c[0], c[4]) for c in cols]
    assert table.location == folder.rsplit("1/", 1)[0]
    assert table.serde_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@pytest.mark.parametrize("source", ["postgresql", "mysql"], indirect=True)
def test_unsupported_column_types_are_reported_per_column(
    lake: Lake, source: SourceDb, table_of: Any
) -> None:
    kind, literal, text = {
        "postgresql": ("POINT", "'(1,2)'", "(1,2)"),
        "mysql": ("GEOMETRY", "ST_GeomFromText('POINT(1 2)')", "POINT(1 2)"),
    }[source.dialect]
    name = table_of(
        f"id INTEGER, shape {kind}", raw_inserts=[f"INSERT INTO {{table}} VALUES (1, {literal})"]
    )
    task = start_export_task(
        lake,
        {
            "ExportTaskIdentifier": unique("x").replace("_", "-"),
            "SourceArn": source.url,
            "S3BucketName": "snap",
            "ExportOnly": [source.only(name)],
        },
    )
    assert task["Status"] == "COMPLETE"
    assert f"shape ({kind.lower()})" in task["WarningMessage"].lower()
    assert "id (" not in task["WarningMessage"]
    files = lake.storage.list_files(f"s3://snap/{task['ExportTaskIdentifier']}/")
    parts = [f.uri for f in files if f.uri.endswith(".parquet")]
    assert read_parts(lake, parts) == [{"id": 1, "shape": text}]


def test_failing_table_marks_export_failed_and_leaves_no_data(lake: Lake, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE a_ok (id INTEGER)")
        con.exec_driver_sql("INSERT INTO a_ok VALUES (1)")
        con.exec_driver_sql("CREATE TABLE b_bad (id INTEGER)")
        for i in range(5):
            con.exec_driver_sql(f"INSERT INTO b_bad VALUES ({i})")
        con.exec_driver_sql("INSERT INTO b_bad VALUES ('not a number')")
    engine.dispose()
    exports = SnapshotExports(lake, batch_rows=2)
    task = exports.start_export_task(
        {"ExportTaskIdentifier": "broken", "SourceArn": url, "S3BucketName": "snap"}
    )
    assert task["Status"] == "FAILED"
    assert "bad.main.b_bad" in task["FailureCause"]
    files = [f.uri for f in lake.storage.list_files("s3://snap/broken/")]
    assert not [f for f in files if f.endswith(".parquet")]
    info = json.loads(lake.storage.read_bytes("s3://snap/broken/export_info_broken.json"))
    assert info["status"] == "FAILED"
    assert not lake.catalog.database_exists("broken")
    assert (
        describe_export_tasks(lake, {"ExportTaskIdentifier": "broken"})["ExportTasks"][0]["Status"]
        == "FAILED"
    )
    with pytest.raises(ResourceInUseError):
        exports.start_export_task(
            {"ExportTaskIdentifier": "broken", "SourceArn": url, "S3BucketName": "snap"}
        )
    with pytest.raises(ResourceNotFoundError):
        describe_export_tasks(lake, {"ExportTaskIdentifier": "nope"})


def test_exported_tables_return_source_rows_through_sql(
    lake: Lake, session: Any, source: SourceDb, table_of: Any
) -> None:
    cols = _columns(source.dialect)
    ddl = ", ".join(f"{n} {t}" for n, t, *_ in cols)
    name = table_of(
        ddl, [tuple(v for _, _, v, _, _ in cols), tuple([2] + [None] * (len(cols) - 1))]
    )
    task = start_export_task(
        lake,
        {
            "ExportTaskIdentifier": f"sql-{name.replace('_', '-')}",
            "SourceArn": source.url,
            "S3BucketName": "snap",
            "ExportOnly": [source.only(name)],
            "CatalogDatabase": "rds",
        },
    )
    assert task["Status"] == "COMPLETE"
    result = session.sql(f"SELECT * FROM rds.{name} ORDER BY id")
    assert result.fetchall() == [tuple(c[3] for c in cols), tuple([2] + [None] * (len(cols) - 1))]
    assert result.columns == [c[0] for c in cols]


def test_empty_tables_and_mixed_case_columns_are_queryable(
    lake: Lake, session: Any, source: SourceDb, table_of: Any
) -> None:
    quote = "`" if source.dialect == "mysql" else '"'
    empty = table_of("id INTEGER")
    mixed = table_of(
        f"id INTEGER, {quote}CustomerName{quote} VARCHAR(20)",
        raw_inserts=["INSERT INTO {table} VALUES (1, 'Ann')"],
    )
    task = start_export_task(
        lake,
        {
            "ExportTaskIdentifier": f"m-{mixed.replace('_', '-')}",
            "SourceArn": source.url,
            "S3BucketName": "snap",
            "ExportOnly": [source.only(empty), source.only(mixed)],
            "CatalogDatabase": "mixed",
        },
    )
    assert task["Status"] == "COMPLETE", task
    assert session.sql(f"SELECT count(*) FROM mixed.{empty}").fetchall() == [(0,)]
    assert session.sql(f"SELECT id, customername FROM mixed.{mixed}").fetchall() == [(1, "Ann")]


@pytest.mark.parametrize("content", [b"", b"[1]", b'{"Status": "COMPLETE"}'])
def test_damaged_export_task_file_is_an_error_naming_the_file(lake: Lake, content: bytes) -> None:
    from lakebox.metadata.files import MetadataFileError

    exports = SnapshotExports(lake)
    exports.root.mkdir(parents=True, exist_ok=True)
    path = exports.root / "task-1.json"
    path.write_bytes(content)
    with pytest.raises(MetadataFileError, match=f"metadata file {path} is damaged"):
        exports.describe_export_tasks()
