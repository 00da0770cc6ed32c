"""Naming rules (lakebox.names) and every door that creates a named thing: a bad name is
refused with a message naming the kind, the value and the rule, and nothing is created."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakebox
from lakebox import names
from lakebox.catalog.model import Column, Database, Table
from lakebox.cli import app
from lakebox.names import InvalidNameError

runner = CliRunner()

# -- the rules, kind by kind -----------------------------------------------------------------
# Good names come from AWS documentation examples (Athena's log-table DDL, "Name databases,
# tables, and columns", Firehose / Step Functions / Scheduler getting-started pages).
RULES: list[tuple[Callable[[str], str], list[str], list[str]]] = [
    (
        names.athena_database,
        ["default", "sampledb", "mydatabase", "_myunderscoredb", "2024_sales", "a" * 255],
        ["", "a" * 256, "../../evil", "a b", "my-db", "a.b", "café", "a/b", "db\x00", " db"],
    ),
    (
        names.athena_table,
        [
            "cloudtrail_logs",
            "alb_access_logs",
            "cloudfront_standard_logs",
            "vpc_flow_logs",
            "_myunderscoretable",
            "123table",
            "a" * 255,
        ],
        ["", "a" * 256, "../../y", "v-1", "a b", "a.b", "x\\y", "tab\t", "ü"],
    ),
    (
        names.athena_column,
        [
            "_col0",
            "_id",
            "eventversion",
            "useridentity",
            "request_verb",
            "Castle",
            "user agent",
            "x-edge-location",
            "a.b",
            "a" * 255,
        ],
        ["", "a" * 256, "a/b", "a\\b", ".", "..", "x\x00", "x\n", "x\t", "x\x7f", "x\x85"],
    ),
    (
        lambda n: names.glue_name(n, "crawler"),
        ["my-crawler", "crawler with spaces", "ünïcode", "a.b", "tab\tok", "a" * 255],
        ["", "a" * 256, "a\nb", "\x00", "a\rb", "lone\ud800"],
    ),
    (
        names.glue_database,
        ["my-db", "sales db", "tpc.ds", "a" * 255],
        ["", "a" * 256, "../x", "..", ".", "a\\b", "a\tb", "a\x9fb"],
    ),
    (
        names.glue_table,
        ["my-table", "orders 2024", "a" * 255],
        ["", "a" * 256, "a/b", "..", "a\x00b"],
    ),
    (
        names.delivery_stream_name,
        ["PUT-S3-abc12", "my.stream_1", "KDS-S3-x", "a" * 64],
        ["", "a" * 65, ".", "..", ".hidden", "a/b", "a b", "ü", "a:b"],
    ),
    (
        names.state_machine_name,
        ["HelloWorld", "my.machine-1_x", "日本語", "..", "a" * 80],
        [
            *("", "a" * 81, "a b", "a<b", "a{b}", "a[0]", "a*", "a?", "a:b", "a/b"),
            *("a\x7f", "a\x01", "a\U0010ffff"),
        ],
    ),
    (
        names.schedule_name,
        ["my-schedule", "nightly.v1_x", "a" * 64],
        ["", "a" * 65, "a b", "a/b", "a:b", "é"],
    ),
    (
        names.schedule_group_name,
        ["default", "my-group.v1_x", "a" * 64],
        ["", "a" * 65, "a b", "a/b"],
    ),
    (
        names.workgroup_name,
        ["primary", "my.wg-1_x", "a" * 128],
        ["", "a" * 129, "a b", "a/b", "é", "wg:x"],
    ),
]

GOOD = [
    pytest.param(check, name, id=f"{check.__name__}-{name[:20]!r}")
    for check, good, _ in RULES
    for name in good
]
BAD = [
    pytest.param(check, name, id=f"{check.__name__}-{name[:20]!r}")
    for check, _, bad in RULES
    for name in bad
]


@pytest.mark.parametrize(("check", "name"), GOOD)
def test_good_names_are_accepted(check: Callable[[str], str], name: str) -> None:
    assert check(name) in (name, name.lower())


@pytest.mark.parametrize(("check", "name"), BAD)
def test_bad_names_are_refused_naming_value_and_rule(
    check: Callable[[str], str], name: str
) -> None:
    with pytest.raises(InvalidNameError) as info:
        check(name)
    err = info.value
    assert isinstance(err, lakebox.LakeboxError)
    assert repr(name.lower() if err.value != name else name) in str(err)
    assert f"Invalid {err.kind} name" in str(err)
    assert err.rule in str(err) and err.problem in str(err)


@pytest.mark.parametrize(
    ("check", "code"),
    [
        (names.athena_table, "InvalidRequestException"),
        (names.glue_table, "InvalidInputException"),
        (names.delivery_stream_name, "ValidationException"),
        (names.state_machine_name, "InvalidName"),
        (names.schedule_name, "ValidationException"),
        (names.workgroup_name, "InvalidRequestException"),
    ],
)
def test_each_service_reports_its_own_error_code(check: Callable[[str], str], code: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        check("a/b")
    assert info.value.code == code


def test_catalog_names_are_lower_cased_as_athena_and_glue_store_them() -> None:
    assert names.athena_database("SalesDB") == "salesdb"
    assert names.athena_table("MyTable", "view") == "mytable"
    assert names.athena_column("Castle") == "castle"
    assert names.glue_table("My-Table") == "my-table"


def test_the_message_says_what_is_wrong_with_a_path_like_name() -> None:
    with pytest.raises(InvalidNameError, match=r"'/' at position 3 is not allowed \(a name is"):
        names.athena_table("../../y")
    with pytest.raises(InvalidNameError, match="only dots"):
        names.athena_column("..")
    with pytest.raises(InvalidNameError, match="longer than 255"):
        names.athena_database("a" * 256)
    with pytest.raises(InvalidNameError, match=r"U\+0000"):
        names.glue_column("a\x00")


@pytest.mark.parametrize(
    ("folder", "table"),
    [
        ("my-data", "my_data"),
        ("Sales.2024", "sales_2024"),
        ("web logs (old)", "web_logs_old"),
        ("---", "table"),
        ("日本", "table"),
    ],
)
def test_crawler_table_names_are_sanitised_as_glue_does(folder: str, table: str) -> None:
    assert names.crawler_table_name(folder) == table
    assert names.crawler_table_name(folder, "raw_") == "raw_" + table


def test_crawler_table_name_leaves_room_for_a_suffix() -> None:
    name = names.crawler_table_name("x" * 400, "raw_", room=9)
    assert name.startswith("raw_x") and len(name) == 255 - 9


def test_stream_lookups_refuse_only_what_cannot_be_a_folder() -> None:
    assert names.stream_folder_ok(".older-hidden-stream")
    assert not names.stream_folder_ok("..")
    assert not names.stream_folder_ok(".")
    assert not names.stream_folder_ok("a/b")


def test_names_module_imports_nothing_heavy() -> None:
    """The CLI imports it on every command: only the standard library and lakebox.errors."""
    tree = ast.parse(Path(names.__file__).read_text())
    imported = {
        alias.name.split(".")[0] if isinstance(node, ast.Import) else str(node.module)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "re", "lakebox.errors"}


# -- SQL: nothing is created -------------------------------------------------------------------
def _tree(home: Path) -> set[str]:
    """Every path under the lake but its metadata folder and the result file of each query
    (CTAS table folders under the results location are kept)."""
    paths = set()
    for p in home.rglob("*"):
        parts = p.relative_to(home).parts
        if parts[0] == "_lakebox" or (
            parts[0] == "lakebox-query-results" and len(parts) == 2 and p.is_file()
        ):
            continue
        paths.add("/".join(parts))
    return paths


def _catalog(session: lakebox.Session) -> dict[str, list[tuple[str, list[str]]]]:
    catalog = session.lake.catalog
    return {
        d.name: [(t.name, [c.name for c in t.all_columns]) for t in catalog.list_tables(d.name)]
        for d in catalog.list_databases()
    }


@pytest.fixture
def session(tmp_path: Path) -> lakebox.Session:
    s = lakebox.connect(tmp_path / "lake")
    (tmp_path / "lake" / "data" / "t").mkdir(parents=True)
    (tmp_path / "lake" / "data" / "t" / "a.csv").write_text("1,x\n")
    s.sql("CREATE DATABASE b")
    s.sql(
        "CREATE EXTERNAL TABLE b.t (n int, s string) ROW FORMAT DELIMITED "
        "FIELDS TERMINATED BY ',' LOCATION 's3://data/t/'"
    )
    return s


@pytest.mark.parametrize(
    ("statement", "kind", "value"),
    [
        ('CREATE DATABASE "../../evil"', "database", "../../evil"),
        ("CREATE DATABASE `a b`", "database", "a b"),
        ("CREATE SCHEMA IF NOT EXISTS `my-db`", "database", "my-db"),
        ('CREATE TABLE b."../../y" AS SELECT 1 AS a', "table", "../../y"),
        ("CREATE TABLE b.\"x y\" WITH (format = 'JSON') AS SELECT 1 AS a", "table", "x y"),
        ('CREATE TABLE b.c AS SELECT 1 AS "a/b"', "column", "a/b"),
        ('CREATE TABLE b.c AS SELECT 1 AS ".."', "column", ".."),
        (
            "CREATE TABLE b.c WITH (partitioned_by = ARRAY['..']) AS SELECT 1 AS a, 2 AS \"..\"",
            "column",
            "..",
        ),
        ("CREATE EXTERNAL TABLE b.`../../x` (a int) LOCATION 's3://data/x/'", "table", "../../x"),
        ("CREATE EXTERNAL TABLE `../../x` (a int) LOCATION 's3://data/x/'", "table", "../../x"),
        ("CREATE EXTERNAL TABLE b.x (`a/b` int) LOCATION 's3://data/x/'", "column", "a/b"),
        (
            "CREATE EXTERNAL TABLE b.x (a int) PARTITIONED BY (`..` string) "
            "LOCATION 's3://data/x/'",
            "partition column",
            "..",
        ),
        ('CREATE VIEW b."v-1" AS SELECT 1 AS a', "view", "v-1"),
        ("ALTER TABLE b.t ADD COLUMNS (`../c` int)", "column", "../c"),
        ("ALTER TABLE b.t REPLACE COLUMNS (n int, `s\\x` string)", "column", "s\\x"),
        ("ALTER TABLE b.t CHANGE COLUMN s `a/b` string", "column", "a/b"),
    ],
)
def test_sql_refuses_bad_names_and_creates_nothing(
    session: lakebox.Session, statement: str, kind: str, value: str
) -> None:
    home = session.lake.config.home
    before_catalog, before_files = _catalog(session), _tree(home)
    with pytest.raises(InvalidNameError) as info:
        session.sql(statement)
    assert (info.value.kind, info.value.value) == (kind, value)
    assert f"Invalid {kind} name {value!r}" in str(info.value)
    assert _catalog(session) == before_catalog
    assert _tree(home) == before_files
    assert not (home.parent / "y").exists() and not (home.parent / "evil").exists()


def test_sql_keeps_accepting_the_names_athena_produces(session: lakebox.Session) -> None:
    session.sql("CREATE DATABASE IF NOT EXISTS `_Staging`")
    session.sql('CREATE TABLE _staging."2024_Sales" AS SELECT 1 AS _col0, 2 AS "Weird Name"')
    session.sql("CREATE OR REPLACE VIEW _staging.v_1 AS SELECT count(*) FROM b.t")
    session.sql("ALTER TABLE b.t ADD COLUMNS (`x-edge-location` string)")
    tables = _catalog(session)["_staging"]
    assert ("2024_sales", ["_col0", "weird name"]) in tables
    result = session.sql('SELECT "weird name" FROM _staging."2024_sales"').table
    assert result.column(0).to_pylist() == [2]


def test_a_table_from_an_older_lakebox_with_an_odd_name_can_still_be_dropped(
    session: lakebox.Session,
) -> None:
    """Only creation is checked: objects written before the rules stay reachable."""
    table = Table(database="b", name="../../y", columns=[Column("a", "int")], location=None)
    path = session.lake.config.metadata_dir / "catalog.sqlite"
    with sqlite3.connect(path) as con:  # written the way older lakebox versions stored it
        con.execute(
            "INSERT INTO tables VALUES (?, ?, 1, ?)",
            ("b", "../../y", json.dumps(table.to_dict())),
        )
        con.execute("INSERT INTO databases VALUES (?, ?)", ("a b", json.dumps({"name": "a b"})))
    described = session.sql('DESCRIBE b."../../y"').table
    assert described.column(0).to_pylist()[0].strip() == "a"
    session.sql('DROP TABLE b."../../y"')
    session.sql("DROP DATABASE `a b`")
    assert "../../y" not in [t for t, _ in _catalog(session)["b"]]
    assert "a b" not in _catalog(session)


# -- the catalog's Python API (Glue's CreateDatabase / CreateTable / UpdateTable) --------------
def test_catalog_api_refuses_path_like_names_and_creates_nothing(
    session: lakebox.Session,
) -> None:
    catalog = session.lake.catalog
    before = _catalog(session)
    with pytest.raises(InvalidNameError, match=re.escape("Invalid database name '../x'")):
        catalog.create_database(Database("../x"))
    with pytest.raises(InvalidNameError, match="Invalid table name 'a/b'"):
        catalog.create_table(Table("b", "a/b", [Column("a", "int")]))
    with pytest.raises(InvalidNameError, match=re.escape("Invalid partition column name '..'")):
        catalog.create_table(Table("b", "ok", [Column("a", "int")], [Column("..", "string")]))
    table = catalog.get_table("b", "t")
    table.columns.append(Column("x\x00", "int"))
    with pytest.raises(InvalidNameError, match="Invalid column name"):
        catalog.update_table(table)
    assert _catalog(session) == before
    catalog.create_database(Database("glue-style db"))  # Glue's API takes what Athena SQL does not
    assert "glue-style db" in _catalog(session)


def test_catalog_api_keeps_updating_a_table_whose_old_column_breaks_todays_rule(
    session: lakebox.Session,
) -> None:
    path = session.lake.config.metadata_dir / "catalog.sqlite"
    old = Table("b", "legacy", [Column("a/b", "int")], version=1)
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO tables VALUES ('b', 'legacy', 1, ?)", (json.dumps(old.to_dict()),))
    table = session.lake.catalog.get_table("b", "legacy")
    table.parameters["note"] = "still updatable"
    table.columns.append(Column("c", "int"))
    assert session.lake.catalog.update_table(table).version == 2


# -- every CLI door ----------------------------------------------------------------------------
def _cli(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--home", str(home)], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def _no_traceback(code: int, output: str, message: str) -> None:
    assert code == 1, output
    assert message in " ".join(output.split()), output
    assert "Traceback" not in output


def test_cli_sql_refuses_bad_names(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    code, output = _cli(home, "sql", 'CREATE DATABASE "../../evil"')
    _no_traceback(code, output, "Invalid database name '../../evil'")
    code, output = _cli(home, "sql", 'CREATE TABLE "../../y" AS SELECT 1 AS a')
    _no_traceback(code, output, "Invalid table name '../../y'")
    code, output = _cli(home, "sql", "SHOW DATABASES")
    assert code == 0 and "evil" not in output
    assert not (tmp_path / "evil").exists() and not (tmp_path / "y").exists()


def test_cli_crawler_create_refuses_bad_names(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    for args, message in [
        (["crawler", "create", "bad\nname", "-d", "default", "-t", "s3://data/"], "crawler name"),
        (
            [
                "crawler",
                "create",
                "c",
                "-d",
                "default",
                "-t",
                "s3://data/",
                "--table-prefix",
                "../",
            ],
            "Invalid table prefix name '../'",
        ),
    ]:
        code, output = _cli(home, *args)
        _no_traceback(code, output, message)
    code, output = _cli(home, "crawler", "list", "--json")
    assert code == 0 and json.loads(output) == []


def test_crawled_folder_names_become_glue_style_table_names(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    (home / "data" / "Web-Logs.v1" / "dt=1").mkdir(parents=True)
    (home / "data" / "Web-Logs.v1" / "dt=1" / "a.json").write_text('{"a": 1}\n')
    code, output = _cli(
        home,
        "crawler",
        "create",
        "c",
        "-d",
        "default",
        "-t",
        "s3://data/Web-Logs.v1/",
        "--table-prefix",
        "Raw_",
    )
    assert code == 0, output
    code, output = _cli(home, "crawler", "start", "c")
    assert code == 0 and "raw_web_logs_v1" in output, output
    table = lakebox.connect(home).lake.catalog.get_table("default", "raw_web_logs_v1")
    assert [k.name for k in table.partition_keys] == ["dt"]


def test_a_partition_folder_whose_key_glue_cannot_store_is_an_unnamed_level() -> None:
    from lakebox.crawler.plan import partition_keys

    assert partition_keys([("dt=1", "a\x01b=2")], 2) == ["dt", "partition_1"]


def test_cli_stream_create_refuses_bad_names_and_writes_no_folder(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    for name in ["..", ".", ".hidden", "a b", "x" * 65]:
        code, output = _cli(home, "stream", "create", name, "--bucket", "lake")
        _no_traceback(code, output, f"Invalid delivery stream name {name!r}")
    assert not list(home.rglob("stream.json"))
    code, output = _cli(home, "stream", "describe", "..")
    assert code == 1 and "not found" in output and "Traceback" not in output


def test_cli_workflow_and_schedule_create_refuse_bad_names(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    definition = tmp_path / "m.json"
    definition.write_text(
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )
    code, output = _cli(home, "workflow", "create", "my machine", str(definition))
    _no_traceback(code, output, "Invalid Name: 'my machine' (Invalid state machine name")
    code, output = _cli(home, "workflow", "create", "nightly.etl-v1", str(definition))
    assert code == 0, output
    code, output = _cli(home, "schedule", "create", "every:5", "rate(5 minutes)", "nightly.etl-v1")
    _no_traceback(code, output, "Invalid schedule name 'every:5'")
    code, output = _cli(home, "workflow", "list", "--json")
    assert [m["name"] for m in json.loads(output)] == ["nightly.etl-v1"]
    code, output = _cli(home, "schedule", "list", "--json")
    assert json.loads(output) == []


def test_cli_workgroup_create_refuses_bad_names(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    code, output = _cli(home, "workgroup", "create", "../wg")
    _no_traceback(code, output, "Invalid workgroup name '../wg'")
    code, output = _cli(home, "workgroup", "list")
    assert code == 0 and "../wg" not in output
