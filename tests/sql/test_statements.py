"""The athena front end's parse(): each statement kind comes out as its typed statement."""

from __future__ import annotations

import dataclasses

import pytest

from lakebox.errors import InvalidRequestError, SqlSyntaxError
from lakebox.sql import dialects, statements
from lakebox.sql.dialects import athena
from lakebox.sql.dialects.athena import parse, split_unload


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", statements.Query),
        ("WITH x AS (SELECT 1 AS a) SELECT a FROM x", statements.Query),
        ("VALUES 1, 2", statements.Query),
        ("(SELECT 1) UNION ALL (SELECT 2)", statements.Query),
        ("-- lead\nSELECT 1", statements.Query),
        ("CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS a", statements.CreateTableAs),
        ("CREATE TABLE t AS SELECT 1 AS a", statements.CreateTableAs),
        ("INSERT INTO t SELECT 1", statements.InsertInto),
        ("UNLOAD (SELECT 1) TO 's3://b/p/' WITH (format = 'JSON')", statements.Unload),
        ("DELETE FROM t WHERE a = 1", statements.Unsupported),
        ("CREATE DATABASE d", statements.CreateDatabase),
        ("DROP DATABASE d CASCADE", statements.DropDatabase),
        ("CREATE EXTERNAL TABLE t (a int) LOCATION 's3://b/t/'", statements.CreateTable),
        ("CREATE VIEW v AS SELECT 1 AS a", statements.CreateView),
        ("DROP TABLE t", statements.DropTable),
        ("DROP VIEW v", statements.DropView),
        ("ALTER TABLE t ADD PARTITION (p = '1')", statements.AddPartitions),
        ("ALTER TABLE t DROP PARTITION (p = '1')", statements.DropPartitions),
        ("ALTER TABLE t SET TBLPROPERTIES ('k' = 'v')", statements.SetTableProperties),
        ("ALTER TABLE t ADD COLUMNS (b string)", statements.AddColumns),
        ("ALTER TABLE t REPLACE COLUMNS (b string)", statements.ReplaceColumns),
        ("ALTER TABLE t CHANGE a b string", statements.ChangeColumn),
        (
            "ALTER TABLE t PARTITION (p = '1') RENAME TO PARTITION (p = '2')",
            statements.RenamePartition,
        ),
        ("ALTER TABLE t SET LOCATION 's3://b/u/'", statements.SetLocation),
        ("MSCK REPAIR TABLE t", statements.MsckRepair),
        ("SHOW DATABASES", statements.ShowDatabases),
        ("SHOW SCHEMAS LIKE 'a*'", statements.ShowDatabases),
        ("SHOW TABLES IN d", statements.ShowTables),
        ("SHOW VIEWS", statements.ShowViews),
        ("SHOW PARTITIONS t", statements.ShowPartitions),
        ("SHOW CREATE TABLE t", statements.ShowCreateTable),
        ("SHOW COLUMNS IN t", statements.ShowColumns),
        ("SHOW TBLPROPERTIES t", statements.ShowTblProperties),
        ("DESCRIBE t", statements.Describe),
        ("DESC FORMATTED t", statements.Describe),
    ],
)
def test_parse_routes_each_statement_kind(sql: str, kind: type[statements.Statement]) -> None:
    stmt = parse(sql)
    assert type(stmt) is kind
    assert dataclasses.is_dataclass(stmt)
    if isinstance(stmt, statements.Query | statements.CreateTableAs | statements.Unload):
        assert stmt.text == sql


def test_statements_are_frozen() -> None:
    stmt = parse("DROP TABLE t")
    with pytest.raises(dataclasses.FrozenInstanceError):
        stmt.if_exists = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("sql", "database"),
    [
        ("USE sales", "sales"),
        ("use Sales;", "Sales"),
        ("USE `my db`", "my db"),
        ('USE "x"', "x"),
        ("-- switch\nUSE d", "d"),
    ],
)
def test_use(sql: str, database: str) -> None:
    assert parse(sql) == statements.Use(database)


@pytest.mark.parametrize("sql", ["USE a b", "USE a.b", "USE ``"])
def test_what_is_not_a_use_goes_to_the_query_parser(sql: str) -> None:
    stmt = parse(sql)
    assert isinstance(stmt, statements.Unsupported) and stmt.kind == "USE"
    with pytest.raises(SqlSyntaxError, match="Expecting: <table name>"):
        parse("USE")


def test_unsupported_names_its_kind() -> None:
    stmt = parse("DELETE FROM t")
    assert isinstance(stmt, statements.Unsupported) and stmt.kind == "DELETE"


def test_parse_errors_keep_their_messages() -> None:
    with pytest.raises(SqlSyntaxError, match="line 1:1: mismatched input 'SELEC'"):
        parse("SELEC 1")
    with pytest.raises(SqlSyntaxError, match="expected TABLE after ALTER"):
        parse("ALTER foo")


def test_front_end_registry() -> None:
    assert dialects.front_end("athena")("SELECT 1") == athena.parse("SELECT 1")
    assert dialects.front_end("ATHENA") is dialects.front_end("athena")
    with pytest.raises(InvalidRequestError, match="unknown SQL dialect 'redshift'; known: athena"):
        dialects.front_end("redshift")


# -- UNLOAD ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "(SELECT ')' AS x, f(1) FROM t -- )\n) TO 's3://b/it''s/' WITH (format = 'JSON')",
            ("SELECT ')' AS x, f(1) FROM t -- )\n", "s3://b/it's/", "format = 'JSON'"),
        ),
        ("(SELECT '') TO 's3://b/p/'", ("SELECT ''", "s3://b/p/", "")),
        ("  (SELECT 1) to 's3://b/p/' ;", ("SELECT 1", "s3://b/p/", "")),
        (
            "(SELECT 1) TO 's3://b/p/' WITH (format = 'CSV', partitioned_by = ARRAY['p']);",
            ("SELECT 1", "s3://b/p/", "format = 'CSV', partitioned_by = ARRAY['p']"),
        ),
    ],
)
def test_split_unload(text: str, expected: tuple[str, str, str]) -> None:
    assert split_unload(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1 TO 's3://b/'", "UNLOAD expects"),
        ("(SELECT 1 TO 's3://b/'", "unbalanced parentheses"),
        ("(SELECT 'x) TO 's3://b/'", "unbalanced parentheses"),
        ("(SELECT 1) TO s3", "UNLOAD expects"),
        ("(SELECT 1) TO 's3://b/", "UNLOAD expects"),
        ("(SELECT 1) TO 's3://b/' WITH format = 'JSON'", "UNLOAD expects"),
        ("(SELECT 1) TO 's3://b/' WITH (format = 'JSON') x", "UNLOAD expects"),
    ],
)
def test_split_unload_rejects(text: str, message: str) -> None:
    with pytest.raises(SqlSyntaxError, match=message):
        split_unload(text)
