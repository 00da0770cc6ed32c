"""Fuzzing the Hive DDL parser and statement routing: damaged and generated DDL must parse,
or fail with a LakeboxError, both in ``parse_ddl`` and through ``Session.sql`` (which runs
what parses against a real catalog and lake)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import lakebox
from fuzz.conftest import lakebox_outcome, scaled
from fuzz.mutate import mutated_text
from lakebox.session import Session
from lakebox.sql.dialects.athena_ddl import CreateTable, parse_ddl, render_create_table
from sql.dialects.test_athena_ddl import DOC_DDL

#: statements of every DDL kind, as the catalog tests and the Athena docs write them
STATEMENTS = [
    "CREATE DATABASE IF NOT EXISTS sales COMMENT 'x' LOCATION 's3://b/sales/' "
    "WITH DBPROPERTIES ('a'='b')",
    "CREATE SCHEMA s",
    "CREATE EXTERNAL TABLE IF NOT EXISTS logs (ts string, msg string COMMENT 'text', n int) "
    "PARTITIONED BY (year string, month int) "
    "ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
    "LINES TERMINATED BY '\\n' NULL DEFINED AS '' "
    "STORED AS TEXTFILE LOCATION 's3://b/logs/' TBLPROPERTIES ('skip.header.line.count'='1')",
    "CREATE EXTERNAL TABLE t (a struct<b:int, c:array<map<string,decimal(10,2)>>>) "
    "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
    "WITH SERDEPROPERTIES ('ignore.malformed.json'='true', 'mapping.x'='y') "
    "LOCATION 's3://b/t/'",
    "CREATE EXTERNAL TABLE `db`.`t` (`a` varchar(10), b char(3), c timestamp, d date, "
    "e binary, f boolean, g tinyint, h smallint, i bigint, j float, k double) "
    "STORED AS PARQUET LOCATION 's3://b/p/' TBLPROPERTIES ('parquet.compression'='SNAPPY')",
    "CREATE EXTERNAL TABLE t (a int) STORED AS INPUTFORMAT "
    "'org.apache.hadoop.mapred.TextInputFormat' OUTPUTFORMAT "
    "'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' LOCATION 's3://b/x/'",
    "CREATE TABLE ctas WITH (format='PARQUET', external_location='s3://b/c/') AS SELECT 1 AS a",
    "CREATE VIEW v AS SELECT a, b AS bee FROM t",
    "CREATE OR REPLACE VIEW sales.v AS\nSELECT a, b FROM t WHERE a > 1;",
    "ALTER DATABASE db SET DBPROPERTIES ('a'='b')",
    "ALTER TABLE logs ADD IF NOT EXISTS PARTITION (year='2024', month=2) "
    "LOCATION 's3://b/logs/2024/2/' PARTITION (year='2020', month=5)",
    "ALTER TABLE logs DROP IF EXISTS PARTITION (year='2023', month=12), PARTITION (month=2)",
    "ALTER TABLE logs PARTITION (year='2024', month=1) SET LOCATION 's3://x/jan/'",
    "ALTER TABLE t PARTITION (dt='a') RENAME TO PARTITION (dt='b')",
    "ALTER TABLE logs ADD COLUMNS (level string COMMENT 'severity', n bigint)",
    "ALTER TABLE logs REPLACE COLUMNS (body string)",
    "ALTER TABLE logs CHANGE COLUMN msg msg varchar(10) AFTER n",
    "ALTER TABLE logs CHANGE COLUMN n n decimal(20,0) FIRST",
    "ALTER TABLE logs SET TBLPROPERTIES ('projection.enabled'='true', 'x'='1')",
    "ALTER TABLE t SET SERDEPROPERTIES ('a'='b')",
    "ALTER TABLE t SET LOCATION 's3://b/new/'",
    "ALTER TABLE t RENAME TO u",
    "MSCK REPAIR TABLE logs",
    "DROP TABLE IF EXISTS logs",
    "DROP VIEW IF EXISTS v",
    "DROP DATABASE IF EXISTS sales CASCADE",
    "SHOW DATABASES LIKE 's*'",
    "SHOW TABLES IN db 'l*'",
    "SHOW VIEWS",
    "SHOW PARTITIONS logs",
    "SHOW CREATE TABLE logs",
    "SHOW COLUMNS IN logs",
    "SHOW TBLPROPERTIES logs ('x')",
    "DESCRIBE FORMATTED logs PARTITION (year='2024', month=1)",
    "DESCRIBE EXTENDED db.t",
    "DESCRIBE logs msg",
    "USE sales",
    *DOC_DDL.values(),
]

WORDS = [
    "CREATE",
    "EXTERNAL",
    "TABLE",
    "VIEW",
    "DATABASE",
    "IF NOT EXISTS",
    "PARTITIONED BY",
    "PARTITION",
    "ROW FORMAT",
    "SERDE",
    "DELIMITED",
    "STORED AS",
    "LOCATION",
    "TBLPROPERTIES",
    "WITH SERDEPROPERTIES",
    "STRUCT<",
    "ARRAY<",
    "MAP<",
    "decimal(38,38)",
    "decimal(99999999999999999999,1)",
    "varchar(0)",
    "AS SELECT",
    "CASCADE",
    "COMMENT",
    "s3://",
    "s3://b/../../x/",
    "file:///etc/",
]

IDENT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=8
) | st.sampled_from(["a", "t", "logs", "default", "_x", "1a", "a.b", "select", "../y"])
TYPES = st.recursive(
    st.sampled_from(
        [
            "int",
            "string",
            "bigint",
            "double",
            "boolean",
            "date",
            "timestamp",
            "binary",
            "decimal(10,2)",
            "decimal(38,0)",
            "decimal(0,0)",
            "decimal(40,50)",
            "varchar(65536)",
            "char(0)",
            "strang",
            "",
        ]
    ),
    lambda inner: (
        st.builds("array<{}>".format, inner)
        | st.builds("map<{},{}>".format, inner, inner)
        | st.builds(
            lambda fields: "struct<" + ",".join(f"{n}:{t}" for n, t in fields) + ">",
            st.lists(st.tuples(IDENT, inner), max_size=3),
        )
    ),
    max_leaves=6,
)


def _quote(name: str, style: str) -> str:
    if style == "`":
        return "`" + name.replace("`", "``") + "`"
    if style == '"':
        return '"' + name.replace('"', '""') + '"'
    return name


@st.composite
def generated_create(draw: st.DrawFn) -> str:
    """CREATE EXTERNAL TABLE built from the grammar, with arbitrary names, types and
    properties."""
    style = st.sampled_from(["", "`", '"'])
    cols = draw(st.lists(st.tuples(IDENT, TYPES, style), min_size=0, max_size=5))
    parts = draw(st.lists(st.tuples(IDENT, TYPES, style), max_size=2))
    props = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3))
    text = "CREATE EXTERNAL TABLE " + _quote(draw(IDENT), draw(style))
    text += " (" + ", ".join(f"{_quote(n, s)} {t}" for n, t, s in cols) + ")"
    if parts:
        text += " PARTITIONED BY (" + ", ".join(f"{_quote(n, s)} {t}" for n, t, s in parts) + ")"
    storage = draw(
        st.sampled_from(
            [
                "",
                " STORED AS PARQUET",
                " STORED AS ORC",
                " STORED AS AVRO",
                " STORED AS ION",
                " STORED AS TEXTFILE",
                " STORED AS JSON",
                " STORED AS SEQUENCEFILE",
                " ROW FORMAT DELIMITED FIELDS TERMINATED BY '{}'",
                " ROW FORMAT SERDE '{}'",
            ]
        )
    )
    if "{}" in storage:
        storage = storage.format(draw(st.text(max_size=4)).replace("'", "\\'"))
    text += storage
    if props and draw(st.booleans()):
        text += " WITH SERDEPROPERTIES (" + _props(props) + ")"
    text += " LOCATION '" + draw(st.text(max_size=20)).replace("'", "''") + "'"
    if props:
        text += " TBLPROPERTIES (" + _props(props) + ")"
    return text


def _props(props: dict[str, str]) -> str:
    return ", ".join(
        "'{}'='{}'".format(k.replace("'", "\\'"), v.replace("'", "\\'")) for k, v in props.items()
    )


DDL_TEXT = mutated_text(STATEMENTS, WORDS) | generated_create() | st.text(max_size=60)


@given(sql=DDL_TEXT)
# crashes found by this suite (KeyError / AssertionError in the type normaliser)
@example(sql="CREATE EXTERNAL TABLE x (a map<int,struct<:decimal(10,2)>>) LOCATION 's3://b/x/'")
@example(sql="CREATE EXTERNAL TABLE x (a STRUCT<INT, b STRING>) LOCATION 's3://b/x/'")
@example(sql="CREATE EXTERNAL TABLE x (a struct<b:string,decimal(38,38) c:int>) LOCATION ''")
@example(sql="ALTER TABLE logs CHANGE COLUMN n n decimal(20,\x000) FIRST")
@settings(max_examples=scaled(150))
def test_parse_ddl_accepts_or_raises_lakebox_error(sql: str) -> None:
    outcome = lakebox_outcome(lambda: parse_ddl(sql))
    if isinstance(outcome, CreateTable):
        # what parses renders back to DDL that parses again to the same table
        again = parse_ddl(render_create_table(outcome.table))
        assert isinstance(again, CreateTable)
        assert again.table.columns == outcome.table.columns


@pytest.fixture
def session(fuzz_home: Path) -> Iterator[Session]:
    sess = lakebox.connect(fuzz_home)
    for stmt in (
        "CREATE DATABASE db",
        "CREATE EXTERNAL TABLE logs (ts string, msg string, n int) "
        "PARTITIONED BY (year string, month int) LOCATION 's3://b/logs/'",
        "CREATE EXTERNAL TABLE t (a int, b string) LOCATION 's3://b/t/'",
        "ALTER TABLE logs ADD PARTITION (year='2024', month=1)",
    ):
        sess.sql(stmt)
    try:
        yield sess
    finally:
        sess.lake.close()


@given(sql=DDL_TEXT)
@settings(max_examples=scaled(60))
def test_session_runs_ddl_or_raises_lakebox_error(session: Session, sql: str) -> None:
    lakebox_outcome(lambda: session.sql(sql))
    # the catalog still answers after whatever the statement did
    session.lake.catalog.list_databases()
