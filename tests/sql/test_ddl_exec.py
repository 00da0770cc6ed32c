"""Running Athena DDL against a real SQLite catalog and a lake folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from lakebox.catalog.model import Column, Database, Table
from lakebox.catalog.store import SQLiteCatalogStore
from lakebox.catalog.visibility import Visibility
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    SemanticError,
)
from lakebox.principal import Principal
from lakebox.query.session import Session
from lakebox.sql.ddl_exec import DdlResult, execute_ddl
from lakebox.sql.dialects.athena_ddl import parse_ddl, render_create_table
from lakebox.storage import Storage

from .dialects.test_athena_ddl import DOC_DDL


@pytest.fixture
def catalog(tmp_path: Path) -> SQLiteCatalogStore:
    store = SQLiteCatalogStore(tmp_path / "catalog.sqlite")
    return store


class Lake:
    def __init__(self, catalog: SQLiteCatalogStore, storage: Storage) -> None:
        self.catalog = catalog
        self.storage = storage
        self.current = "default"
        #: the engine checks format properties at CREATE, as the Session wires it
        self.engine = DuckDBEngine(storage)

    def run(self, sql: str, view_columns: bool = True) -> DdlResult:
        stmt = parse_ddl(sql)
        assert stmt is not None, sql
        return execute_ddl(
            stmt,
            self.catalog,
            self.storage,
            self.current,
            view_columns=select_columns if view_columns else None,
            validate_format=self.engine.validate_table,
        )

    def lines(self, sql: str) -> list[str]:
        return [row[0] for row in self.run(sql).rows]


def select_columns(select_sql: str, current_db: str) -> list[Column]:
    """Stands in for the query layer: one string column per output name of the SELECT."""
    tree = sqlglot.parse_one(select_sql, read="athena")
    assert isinstance(tree, exp.Select)
    return [Column(e.alias_or_name.lower(), "string") for e in tree.expressions]


@pytest.fixture
def lake(catalog: SQLiteCatalogStore, storage: Storage) -> Lake:
    lake = Lake(catalog, storage)
    lake.run("CREATE DATABASE `default`")
    return lake


def comparable(table: Table) -> dict[str, object]:
    data = table.to_dict()
    for key in ("create_time", "update_time", "version"):
        data.pop(key)
    return data


@pytest.mark.parametrize("name", sorted(DOC_DDL))
def test_show_create_table_recreates_an_identical_table(lake: Lake, name: str) -> None:
    lake.run("CREATE DATABASE IF NOT EXISTS salesdb")
    lake.run(DOC_DDL[name])
    (table,) = [t for db in ("default", "salesdb") for t in lake.catalog.list_tables(db)]
    shown = "\n".join(lake.lines(f"SHOW CREATE TABLE {table.database}.{table.name}"))
    lake.run(f"DROP TABLE `{table.database}`.`{table.name}`")
    assert not lake.catalog.table_exists(table.database, table.name)
    lake.run(shown)
    again = lake.catalog.get_table(table.database, table.name)
    assert comparable(again) == comparable(table)
    assert render_create_table(again) == shown


def test_create_table_uses_the_current_database(lake: Lake) -> None:
    lake.run("CREATE DATABASE other")
    lake.current = "other"
    lake.run("CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION 's3://b/t/'")
    assert lake.catalog.get_table("other", "t").columns == [Column("a", "int")]
    assert lake.lines("SHOW TABLES") == ["t"]


def test_create_table_in_unknown_database_names_it(lake: Lake) -> None:
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        lake.run("CREATE EXTERNAL TABLE nodb.t (a int) LOCATION 's3://b/t/'")


def test_create_existing_table_fails_unless_if_not_exists(lake: Lake) -> None:
    sql = "CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION 's3://b/t/'"
    lake.run(sql)
    with pytest.raises(AlreadyExistsError, match=r"default\.t already exists"):
        lake.run(sql)
    result = lake.run(sql.replace("TABLE", "TABLE IF NOT EXISTS").replace("a int", "b int"))
    assert "already exists" in result.message
    assert lake.catalog.get_table("default", "t").columns == [Column("a", "int")]


def test_unknown_serde_is_rejected_at_create_time(lake: Lake) -> None:
    with pytest.raises(SemanticError, match=r"com\.example\.NoSuchSerDe"):
        lake.run(
            "CREATE EXTERNAL TABLE t (a int) ROW FORMAT SERDE 'com.example.NoSuchSerDe' "
            "LOCATION 's3://b/t/'"
        )
    assert lake.catalog.list_tables("default") == []


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ("(a int, A string)", "Duplicate column name 'a'"),
        ("(a int) PARTITIONED BY (a string)", "Partition column name 'a'"),
        ("(a int) CLUSTERED BY (zz) INTO 2 BUCKETS", "Bucket column 'zz'"),
        ("(a int) PARTITIONED BY (p array<int>)", "must have a primitive type"),
    ],
)
def test_bad_column_layouts_are_rejected(lake: Lake, columns: str, match: str) -> None:
    with pytest.raises(SemanticError, match=match):
        lake.run(f"CREATE EXTERNAL TABLE t {columns} STORED AS PARQUET LOCATION 's3://b/t/'")
    assert lake.catalog.list_tables("default") == []


def test_bad_type_is_named(lake: Lake) -> None:
    with pytest.raises(SemanticError, match="strin"):
        lake.run("CREATE EXTERNAL TABLE t (a int, b strin) LOCATION 's3://b/t/'")


# -- databases ------------------------------------------------------------------------------
def test_database_lifecycle(lake: Lake) -> None:
    lake.run(
        "CREATE SCHEMA sales COMMENT 'sales data' LOCATION 's3://b/sales/' "
        "WITH DBPROPERTIES ('team'='bi')"
    )
    db = lake.catalog.get_database("sales")
    assert (db.description, db.location, db.parameters) == (
        "sales data",
        "s3://b/sales/",
        {"team": "bi"},
    )
    with pytest.raises(AlreadyExistsError, match="sales"):
        lake.run("CREATE DATABASE sales")
    lake.run("CREATE DATABASE IF NOT EXISTS sales")
    lake.run("CREATE DATABASE marketing")
    assert lake.lines("SHOW DATABASES") == ["default", "marketing", "sales"]
    assert lake.lines("SHOW SCHEMAS LIKE 'sal*|mark*'") == ["marketing", "sales"]
    lake.run("CREATE EXTERNAL TABLE sales.t (a int) STORED AS PARQUET LOCATION 's3://b/t/'")
    with pytest.raises(InvalidRequestError, match="not empty"):
        lake.run("DROP DATABASE sales")
    with pytest.raises(InvalidRequestError, match="not empty"):
        lake.run("DROP DATABASE sales RESTRICT")
    lake.run("DROP DATABASE sales CASCADE")
    assert not lake.catalog.database_exists("sales")
    with pytest.raises(EntityNotFoundError, match="Database sales not found"):
        lake.run("DROP SCHEMA sales")
    assert "does not exist" in lake.run("DROP SCHEMA IF EXISTS sales").message


# -- views ----------------------------------------------------------------------------------
def test_views(lake: Lake) -> None:
    lake.run("CREATE EXTERNAL TABLE t (a int, b string) STORED AS PARQUET LOCATION 's3://b/t/'")
    lake.run("CREATE VIEW v AS SELECT a, b AS bee FROM t")
    view = lake.catalog.get_table("default", "v")
    assert view.is_view and view.columns == [Column("a", "string"), Column("bee", "string")]
    assert view.view_original_text == "SELECT a, b AS bee FROM t"
    with pytest.raises(AlreadyExistsError, match="OR REPLACE"):
        lake.run("CREATE VIEW v AS SELECT 1 AS x")
    lake.run("CREATE OR REPLACE VIEW v AS SELECT a FROM t")
    assert lake.catalog.get_table("default", "v").columns == [Column("a", "string")]
    with pytest.raises(AlreadyExistsError, match="as a table"):
        lake.run("CREATE OR REPLACE VIEW t AS SELECT 1 AS x")
    assert lake.lines("SHOW VIEWS") == ["v"]
    assert lake.lines("SHOW TABLES") == ["t", "v"]
    assert lake.lines("SHOW CREATE VIEW v") == ['CREATE VIEW "default"."v" AS', "SELECT a FROM t"]
    assert lake.run("DESCRIBE v").rows == [("a", "string", "")]
    with pytest.raises(SemanticError, match="not a view"):
        lake.run("SHOW CREATE VIEW t")
    with pytest.raises(SemanticError, match="DROP VIEW"):
        lake.run("DROP TABLE v")
    with pytest.raises(SemanticError, match="DROP TABLE"):
        lake.run("DROP VIEW t")
    lake.run("DROP VIEW v")
    assert lake.lines("SHOW VIEWS") == []
    lake.run("DROP VIEW IF EXISTS v")
    with pytest.raises(EntityNotFoundError, match=r"default\.v not found"):
        lake.run("DROP VIEW v")


def test_view_without_query_layer_has_no_columns(lake: Lake) -> None:
    lake.run("CREATE VIEW v AS SELECT 1 AS x", view_columns=False)
    assert lake.catalog.get_table("default", "v").columns == []


def test_show_create_view_round_trips(lake: Lake) -> None:
    lake.run("CREATE VIEW v AS SELECT 1 AS x")
    shown = "\n".join(lake.lines("SHOW CREATE VIEW v"))
    lake.run("DROP VIEW v")
    lake.run(shown)
    assert lake.catalog.get_table("default", "v").view_original_text == "SELECT 1 AS x"


# -- partitions -----------------------------------------------------------------------------
@pytest.fixture
def logs(lake: Lake) -> Lake:
    lake.run(
        "CREATE EXTERNAL TABLE logs (msg string) PARTITIONED BY (year string, month int) "
        "STORED AS PARQUET LOCATION 's3://lake/logs'"
    )
    return lake


def test_add_partitions_with_and_without_location(logs: Lake) -> None:
    result = logs.run(
        "ALTER TABLE logs ADD PARTITION (year='2024', month=1) "
        "PARTITION (month=2, year='2024') LOCATION 's3://elsewhere/feb/'"
    )
    assert "Added 2" in result.message
    parts = logs.catalog.get_partitions("default", "logs")
    assert {tuple(p.values): p.location for p in parts} == {
        ("2024", "1"): "s3://lake/logs/year=2024/month=1/",
        ("2024", "2"): "s3://elsewhere/feb/",
    }
    assert logs.lines("SHOW PARTITIONS logs") == ["year=2024/month=1", "year=2024/month=2"]


def test_add_partitions_is_all_or_nothing(logs: Lake) -> None:
    logs.run("ALTER TABLE logs ADD PARTITION (year='2024', month=1)")
    with pytest.raises(AlreadyExistsError, match="IF NOT EXISTS"):
        logs.run(
            "ALTER TABLE logs ADD PARTITION (year='2024', month=2) PARTITION (year='2024', month=1)"
        )
    assert logs.lines("SHOW PARTITIONS logs") == ["year=2024/month=1"]
    logs.run(
        "ALTER TABLE logs ADD IF NOT EXISTS PARTITION (year='2024', month=2) "
        "PARTITION (year='2024', month=1)"
    )
    assert logs.lines("SHOW PARTITIONS logs") == ["year=2024/month=1", "year=2024/month=2"]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("(year='2024')", "lacks partition column"),
        ("(year='2024', month=1, day=3)", "day, which is not a partition column"),
    ],
)
def test_partition_specs_must_name_the_keys(logs: Lake, spec: str, match: str) -> None:
    with pytest.raises(SemanticError, match=match):
        logs.run(f"ALTER TABLE logs ADD PARTITION {spec}")


def test_drop_partitions(logs: Lake) -> None:
    logs.run(
        "ALTER TABLE logs ADD PARTITION (year='2023', month=12) "
        "PARTITION (year='2024', month=1) PARTITION (year='2024', month=2)"
    )
    logs.run("ALTER TABLE logs DROP PARTITION (year='2023', month=12), PARTITION (month=2)")
    assert logs.lines("SHOW PARTITIONS logs") == ["year=2024/month=1"]
    with pytest.raises(EntityNotFoundError, match="IF EXISTS"):
        logs.run("ALTER TABLE logs DROP PARTITION (year='1999', month=1)")
    logs.run("ALTER TABLE logs DROP IF EXISTS PARTITION (year='1999', month=1)")
    logs.run("ALTER TABLE logs DROP PARTITION (year='2024')")
    assert logs.lines("SHOW PARTITIONS logs") == []


def test_partition_set_location(logs: Lake) -> None:
    logs.run("ALTER TABLE logs ADD PARTITION (year='2024', month=1)")
    logs.run("ALTER TABLE logs PARTITION (year='2024', month=1) SET LOCATION 's3://x/jan/'")
    (part,) = logs.catalog.get_partitions("default", "logs")
    assert part.location == "s3://x/jan/"
    with pytest.raises(EntityNotFoundError, match="not found"):
        logs.run("ALTER TABLE logs PARTITION (year='2024', month=9) SET LOCATION 's3://x/'")


def test_show_partitions_of_unpartitioned_or_missing_table(lake: Lake) -> None:
    lake.run("CREATE EXTERNAL TABLE flat (a int) STORED AS PARQUET LOCATION 's3://b/f/'")
    with pytest.raises(SemanticError, match="not a partitioned table"):
        lake.run("SHOW PARTITIONS flat")
    with pytest.raises(EntityNotFoundError, match=r"Table default\.nope not found"):
        lake.run("SHOW PARTITIONS nope")
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        lake.run("SHOW PARTITIONS nodb.flat")


def test_msck_repair_adds_folders_found_in_storage(logs: Lake) -> None:
    for key in (
        "year=2024/month=1/a.parquet",
        "year=2024/month=2/b.parquet",
        "year=2024/month=2/c.parquet",
        "year=2025/month=10/part/d.parquet",
        "year=2024/month=3/_SUCCESS",
        "not_a_partition/e.parquet",
        "month=1/year=2024/wrong_order.parquet",
        "f.parquet",
    ):
        logs.storage.write_bytes(f"s3://lake/logs/{key}", b"x")
    logs.run(
        "ALTER TABLE logs ADD PARTITION (year='2024', month=1) PARTITION (year='2020', month=5)"
    )
    result = logs.run("MSCK REPAIR TABLE logs")
    assert result.rows == [
        ("Partitions not in metastore:\tlogs:year=2024/month=2\tlogs:year=2025/month=10",),
        ("Partitions missing from filesystem:\tlogs:year=2020/month=5",),
        ("Repair: Added partition to metastore logs:year=2024/month=2",),
        ("Repair: Added partition to metastore logs:year=2025/month=10",),
    ]
    assert "Added 2" in result.message
    parts = {tuple(p.values): p.location for p in logs.catalog.get_partitions("default", "logs")}
    assert parts[("2025", "10")] == "s3://lake/logs/year=2025/month=10/"
    assert len(parts) == 4
    assert "Added 0" in logs.run("MSCK REPAIR TABLE logs").message


# -- ALTER TABLE ----------------------------------------------------------------------------
def test_alter_table_properties_columns_and_location(logs: Lake) -> None:
    logs.run("ALTER TABLE logs SET TBLPROPERTIES ('projection.enabled'='true', 'x'='1')")
    logs.run("ALTER TABLE logs SET TBLPROPERTIES ('x'='2')")
    assert logs.run("SHOW TBLPROPERTIES logs").rows == [
        ("EXTERNAL", "TRUE"),
        ("projection.enabled", "true"),
        ("x", "2"),
    ]
    assert logs.lines("SHOW TBLPROPERTIES logs('x')") == ["2"]
    with pytest.raises(SemanticError, match="does not have property: y"):
        logs.run("SHOW TBLPROPERTIES logs('y')")
    logs.run("ALTER TABLE logs ADD COLUMNS (level string COMMENT 'severity', n bigint)")
    assert logs.lines("SHOW COLUMNS IN logs") == ["msg", "level", "n", "year", "month"]
    version = logs.catalog.get_table("default", "logs").version
    with pytest.raises(SemanticError, match="Duplicate column name 'n'"):
        logs.run("ALTER TABLE logs ADD COLUMNS (n int)")
    with pytest.raises(SemanticError, match="Partition column name 'year'"):
        logs.run("ALTER TABLE logs REPLACE COLUMNS (year int)")
    assert logs.catalog.get_table("default", "logs").version == version
    logs.run("ALTER TABLE logs REPLACE COLUMNS (body string)")
    logs.run("ALTER TABLE logs SET LOCATION 's3://lake/logs_v2/'")
    table = logs.catalog.get_table("default", "logs")
    assert table.columns == [Column("body", "string")]
    assert table.location == "s3://lake/logs_v2/"


def test_alter_on_a_view_or_missing_table(lake: Lake) -> None:
    lake.run("CREATE VIEW v AS SELECT 1 AS x")
    with pytest.raises(SemanticError, match="is a view"):
        lake.run("ALTER TABLE v ADD COLUMNS (y int)")
    with pytest.raises(EntityNotFoundError, match=r"default\.nope"):
        lake.run("ALTER TABLE nope SET LOCATION 's3://b/'")


# -- SHOW / DESCRIBE ------------------------------------------------------------------------
def test_show_tables_patterns(lake: Lake) -> None:
    lake.run("CREATE DATABASE s")
    for name in ("orders", "order_items", "customers"):
        lake.run(
            f"CREATE EXTERNAL TABLE s.{name} (a int) STORED AS PARQUET LOCATION 's3://b/{name}/'"
        )
    assert lake.lines("SHOW TABLES IN s") == ["customers", "order_items", "orders"]
    assert lake.lines("SHOW TABLES IN s 'order*'") == ["order_items", "orders"]
    assert lake.lines("SHOW TABLES IN s 'cust*|orders'") == ["customers", "orders"]
    assert lake.lines("SHOW COLUMNS FROM customers IN s") == ["a"]
    with pytest.raises(EntityNotFoundError, match="Database nodb not found"):
        lake.run("SHOW TABLES IN nodb")


def test_describe_lists_columns_and_partition_information(lake: Lake) -> None:
    lake.run(
        "CREATE EXTERNAL TABLE t (a int COMMENT 'the a', b array<string>) "
        "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://b/t/'"
    )
    result = lake.run("DESCRIBE t")
    assert result.columns == ["col_name", "data_type", "comment"]
    assert result.rows == [
        ("a", "int", "the a"),
        ("b", "array<string>", ""),
        ("", "", ""),
        ("# Partition Information", "", ""),
        ("# col_name", "data_type", "comment"),
        ("", "", ""),
        ("dt", "string", ""),
    ]
    assert (
        result.text().splitlines()[0] == "a" + " " * 19 + "\tint" + " " * 17 + "\tthe a" + " " * 15
    )
    assert lake.run("DESCRIBE t b").rows == [("b", "array<string>", "")]
    with pytest.raises(SemanticError, match="Column zz does not exist"):
        lake.run("DESCRIBE t zz")
    formatted = dict((r[0], r[1]) for r in lake.run("DESCRIBE FORMATTED t").rows)
    assert formatted["Location:"] == "s3://b/t/"
    assert formatted["SerDe Library:"].endswith("ParquetHiveSerDe")
    assert formatted["Table Type:"] == "EXTERNAL_TABLE"
    extended = lake.run("DESCRIBE EXTENDED t").rows[-1]
    assert extended[0] == "Detailed Table Information" and "location:s3://b/t/" in extended[1]


def test_describe_says_from_deserializer_for_serde_defined_schemas(lake: Lake) -> None:
    lake.run(DOC_DDL["openx_json_mapping"])
    rows = lake.run("DESCRIBE impressions").rows
    assert rows[0] == ("requestbegintime", "string", "from deserializer")
    assert rows[-1] == ("dt", "string", "")
    lake.run("CREATE EXTERNAL TABLE pq (a int) STORED AS PARQUET LOCATION 's3://b/pq/'")
    assert lake.run("DESCRIBE pq").rows == [("a", "int", "")]


@pytest.mark.parametrize(
    ("path", "row"),
    [
        (
            "user",
            (
                "user",
                "struct<id:int,tags:array<string>,attrs:map<string,double>>",
                "from deserializer",
            ),
        ),
        ("user.id", ("id", "int", "from deserializer")),
        ("user.tags.'$elem$'", ("$elem$", "string", "from deserializer")),
        ("`user`.attrs.'$key$'", ("$key$", "string", "from deserializer")),
        ("user.attrs.'$value$'", ("$value$", "double", "from deserializer")),
    ],
)
def test_describe_column_paths(lake: Lake, path: str, row: tuple[str, str, str]) -> None:
    lake.run(
        "CREATE EXTERNAL TABLE j (`user` struct<id:int, tags:array<string>, "
        "attrs:map<string,double>>) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
        "LOCATION 's3://b/j/'"
    )
    assert lake.run(f"DESCRIBE j {path}").rows == [row]


def test_describe_bad_path_and_partition(logs: Lake) -> None:
    with pytest.raises(SemanticError, match="does not name a field"):
        logs.run("DESCRIBE logs msg.nope")
    with pytest.raises(EntityNotFoundError, match="not found"):
        logs.run("DESCRIBE logs PARTITION (year='2024', month=1)")
    logs.run("ALTER TABLE logs ADD PARTITION (year='2024', month=1)")
    assert logs.run("DESCRIBE logs PARTITION (year='2024', month=1) msg").rows == [
        ("msg", "string", "")
    ]


@pytest.mark.parametrize(
    ("props", "match"),
    [
        ("'avro.schema.literal'='{not json'", "not a valid Avro schema"),
    ],
)
def test_the_readers_validation_rejects_bad_serde_properties(
    lake: Lake, props: str, match: str
) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        lake.run(
            "CREATE EXTERNAL TABLE a (x int) ROW FORMAT SERDE "
            f"'org.apache.hadoop.hive.serde2.avro.AvroSerDe' WITH SERDEPROPERTIES ({props}) "
            "STORED AS AVRO LOCATION 's3://b/a/'"
        )
    assert not lake.catalog.table_exists("default", "a")


def test_json_mapping_must_name_a_column(lake: Lake) -> None:
    with pytest.raises(InvalidRequestError, match=r"mapping\.nope"):
        lake.run(
            "CREATE EXTERNAL TABLE j (x int) ROW FORMAT SERDE "
            "'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES "
            "('mapping.nope'='y') LOCATION 's3://b/j/'"
        )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "ALTER TABLE logs CHANGE msg message string COMMENT 'text'",
            [Column("message", "string", "text"), Column("lvl", "int"), Column("n", "bigint")],
        ),
        (
            "ALTER TABLE logs CHANGE COLUMN n n decimal(20,0) FIRST",
            [Column("n", "decimal(20,0)"), Column("msg", "string"), Column("lvl", "int")],
        ),
        (
            "ALTER TABLE logs CHANGE COLUMN msg msg varchar(10) AFTER n",
            [Column("lvl", "int"), Column("n", "bigint"), Column("msg", "varchar(10)")],
        ),
    ],
)
def test_change_column(logs: Lake, sql: str, expected: list[Column]) -> None:
    logs.run("ALTER TABLE logs ADD COLUMNS (lvl int, n bigint)")
    logs.run(sql)
    assert logs.catalog.get_table("default", "logs").columns == expected


@pytest.mark.parametrize(
    ("sql", "match"),
    [
        ("ALTER TABLE logs CHANGE year yr string", "is a partition column"),
        ("ALTER TABLE logs CHANGE nope x string", "is not a column"),
        ("ALTER TABLE logs CHANGE msg msg string AFTER nope", "nope .AFTER."),
        ("ALTER TABLE logs CHANGE msg year string", "Partition column name 'year'"),
    ],
)
def test_change_column_errors(logs: Lake, sql: str, match: str) -> None:
    with pytest.raises(SemanticError, match=match):
        logs.run(sql)
    assert logs.catalog.get_table("default", "logs").columns == [Column("msg", "string")]


def test_rename_partition_keeps_its_location(logs: Lake) -> None:
    logs.run(
        "ALTER TABLE logs ADD PARTITION (year='2024', month=1) LOCATION 's3://x/jan/' "
        "PARTITION (year='2024', month=2)"
    )
    logs.run(
        "ALTER TABLE logs PARTITION (year='2024', month=1) "
        "RENAME TO PARTITION (year='2023', month=1)"
    )
    parts = {tuple(p.values): p.location for p in logs.catalog.get_partitions("default", "logs")}
    assert parts == {
        ("2023", "1"): "s3://x/jan/",
        ("2024", "2"): "s3://lake/logs/year=2024/month=2/",
    }
    with pytest.raises(AlreadyExistsError, match="already exists"):
        logs.run(
            "ALTER TABLE logs PARTITION (year='2023', month=1) "
            "RENAME TO PARTITION (year='2024', month=2)"
        )
    assert len(logs.catalog.get_partitions("default", "logs")) == 2


def test_describe_view_and_security_clause(lake: Lake) -> None:
    lake.run('CREATE VIEW "default"."v" SECURITY DEFINER AS SELECT 1 AS x')
    assert lake.run("DESCRIBE VIEW v").rows == [("x", "string", "")]
    assert lake.run("DESCRIBE v").rows == [("x", "string", "")]


def test_partition_folders_use_hive_escaping(lake: Lake) -> None:
    lake.run(
        "CREATE EXTERNAL TABLE ev (a int) PARTITIONED BY (city string, ts string) "
        "STORED AS PARQUET LOCATION 's3://lake/ev/'"
    )
    lake.run(
        "ALTER TABLE ev ADD PARTITION (city='München, Bayern', ts='2024-01-01 10:00') "
        "PARTITION (city='a/b=c', ts='')"
    )
    shown = lake.lines("SHOW PARTITIONS ev")
    assert shown == [
        "city=München, Bayern/ts=2024-01-01 10%3A00",
        "city=a%2Fb%3Dc/ts=__HIVE_DEFAULT_PARTITION__",
    ]
    lake.storage.write_bytes("s3://lake/ev/city=K%C3%B6ln/ts=09%3A30/f.parquet", b"x")
    lake.storage.write_bytes(
        "s3://lake/ev/city=München, Bayern/ts=2024-01-01 10%3A00/f.parquet", b"x"
    )
    lake.run("MSCK REPAIR TABLE ev")
    values = sorted(tuple(p.values) for p in lake.catalog.get_partitions("default", "ev"))
    assert values == [("Köln", "09:30"), ("München, Bayern", "2024-01-01 10:00"), ("a/b=c", "")]


def test_the_default_database_cannot_be_dropped(lake: Lake) -> None:
    with pytest.raises(InvalidRequestError, match="Can not drop default database"):
        lake.run("DROP DATABASE IF EXISTS `default` CASCADE")
    assert lake.catalog.database_exists("default")


def test_describe_formatted_partition_shows_its_location(logs: Lake) -> None:
    logs.run("ALTER TABLE logs ADD PARTITION (year='2024', month=1) LOCATION 's3://x/jan/'")
    rows = logs.run("DESCRIBE FORMATTED logs PARTITION (year='2024', month=1)").rows
    details = {r[0]: r[1] for r in rows}
    assert details["Partition Value:"] == "[2024, 1]"
    assert details["Location:"] == "s3://x/jan/"


# -- listings go through Visibility -------------------------------------------------------------
class _Hiding(Visibility):
    """Hides database ``secret``, table ``hidden`` and every column named ``pii``."""

    def databases(self, principal: Principal, databases: Iterable[Database]) -> list[Database]:
        return [d for d in databases if d.name != "secret"]

    def tables(self, principal: Principal, tables: Iterable[Table]) -> list[Table]:
        return [t for t in tables if t.name != "hidden"]

    def columns(self, principal: Principal, table: Table) -> list[Column]:
        return [c for c in table.all_columns if c.name != "pii"]


ANALYST = Principal("000000000000", "arn:aws:iam::000000000000:user/analyst")


@pytest.fixture
def governed(lake: Lake) -> Callable[[str], DdlResult]:
    lake.run("CREATE DATABASE secret")
    lake.run(
        "CREATE EXTERNAL TABLE t (a int, pii string) PARTITIONED BY (p string) "
        "LOCATION 's3://bucket/t/'"
    )
    lake.run("CREATE EXTERNAL TABLE hidden (a int) LOCATION 's3://bucket/h/'")
    lake.run("ALTER TABLE t ADD PARTITION (p = '1')")

    def run(sql: str) -> DdlResult:
        stmt = parse_ddl(sql)
        assert stmt is not None
        return execute_ddl(
            stmt, lake.catalog, lake.storage, "default", principal=ANALYST, visibility=_Hiding()
        )

    return run


def test_listings_show_what_the_principal_may_see(governed: Callable[[str], DdlResult]) -> None:
    assert governed("SHOW DATABASES").rows == [("default",)]
    assert governed("SHOW SCHEMAS").rows == [("default",)]
    assert governed("SHOW TABLES").rows == [("t",)]
    assert governed("SHOW COLUMNS IN t").rows == [("a",), ("p",)]
    assert [r[0] for r in governed("DESCRIBE t").rows] == [
        "a",
        "",
        "# Partition Information",
        "# col_name",
        "",
        "p",
    ]
    shown = "\n".join(r[0] for r in governed("SHOW CREATE TABLE t").rows)
    assert "`a` int" in shown and "pii" not in shown
    assert governed("SHOW PARTITIONS t").rows == [("p=1",)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SHOW TABLES IN secret", "Database secret not found."),
        ("SHOW COLUMNS IN hidden", "Table default.hidden not found."),
        ("DESCRIBE hidden", "Table default.hidden not found."),
        ("SHOW CREATE TABLE hidden", "Table default.hidden not found."),
        ("SHOW PARTITIONS hidden", "Table default.hidden not found."),
        ("SHOW TBLPROPERTIES hidden", "Table default.hidden not found."),
        ("DESCRIBE t pii", "Column pii does not exist in default.t"),
    ],
)
def test_hidden_objects_are_not_found(
    governed: Callable[[str], DdlResult], sql: str, message: str
) -> None:
    with pytest.raises((EntityNotFoundError, SemanticError), match=message):
        governed(sql)


def test_the_local_admin_sees_everything_by_default(lake: Lake) -> None:
    lake.run("CREATE DATABASE secret")
    lake.run("CREATE EXTERNAL TABLE hidden (a int, pii string) LOCATION 's3://bucket/h/'")
    assert lake.lines("SHOW DATABASES") == ["default", "secret"]
    assert lake.lines("SHOW COLUMNS IN hidden") == ["a", "pii"]


def test_the_session_passes_its_principal_and_the_lake_visibility(lake_session: Session) -> None:
    lake_session.sql("CREATE EXTERNAL TABLE hidden (a int) LOCATION 's3://bucket/h/'")
    lake_session.sql("CREATE EXTERNAL TABLE t (a int, pii string) LOCATION 's3://bucket/t/'")
    assert lake_session.sql("SHOW TABLES").table.column("tab_name").to_pylist() == ["hidden", "t"]
    lake_session.lake.visibility = _Hiding()
    lake_session.principal = ANALYST
    assert lake_session.sql("SHOW TABLES").table.column("tab_name").to_pylist() == ["t"]
    assert lake_session.sql("SHOW COLUMNS IN t").table.column("field").to_pylist() == ["a"]
