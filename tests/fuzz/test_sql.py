"""Fuzzing the SQL front end (statement splitting, the Athena dialect, the planner and
its translation to DuckDB): damaged golden queries and generated SELECTs over real tables
either run or fail with a LakeboxError — never a KeyError, IndexError, AttributeError or
a raw DuckDB error."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import lakebox
from engine.duckdb.test_translate import GOLDEN
from fuzz.conftest import lakebox_outcome, scaled
from fuzz.mutate import mutated_text
from lakebox.engine.duckdb.rules import ANONYMOUS
from lakebox.session import Session
from lakebox.sql.split import split_statements

QUERIES = [sql for _, sql, _ in GOLDEN] + [
    "SELECT a, b, c FROM t WHERE a > 1 ORDER BY a LIMIT 2",
    "SELECT year, count(*) FROM logs WHERE year = '2024' GROUP BY year",
    "SELECT t.a, j.tags[1], j.attrs['k'], j.s.x FROM t JOIN j ON t.a = j.id",
    "WITH x AS (SELECT a FROM t) SELECT * FROM x UNION ALL SELECT 1",
    "SELECT * FROM j CROSS JOIN UNNEST(tags) AS u(tag)",
    "SELECT * FROM j CROSS JOIN UNNEST(tags) WITH ORDINALITY AS u(tag, n)",
    "SELECT a, row_number() OVER (PARTITION BY b ORDER BY c DESC) FROM t",
    "SELECT * FROM t TABLESAMPLE BERNOULLI (50)",
    'SELECT "$path", "$file_size" FROM t',
    "SELECT * FROM logs WHERE year = '2024' AND month = 1 AND n BETWEEN 1 AND 3",
    "INSERT INTO t SELECT 9, 'z', 1.5, DATE '2024-01-01', TIMESTAMP '2024-01-01 00:00:00'",
    "CREATE TABLE c1 WITH (format='JSON') AS SELECT * FROM t",
    "UNLOAD (SELECT * FROM t) TO 's3://out/u/' WITH (format='PARQUET')",
    "EXPLAIN SELECT * FROM t",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT * FROM (VALUES (1)) AS v(x)",
]

WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "JOIN",
    "ON",
    "UNION",
    "WITH",
    "AS",
    "CAST(",
    "AS int)",
    "TRY_CAST(",
    "ARRAY[",
    "MAP(",
    "ROW(",
    "INTERVAL '1' DAY",
    "x ->",
    "OVER (",
    "LIMIT",
    "t",
    "j",
    "logs",
    "a",
    "tags",
    '"$path"',
    "*",
    "/ 0",
    "% 0",
]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A lake with a text table, a JSON table with nested columns and a partitioned table
    whose partition holds a file (module-scoped: the fuzz examples only read, mostly)."""
    home = tmp_path_factory.mktemp("sqlfuzz")
    sess = lakebox.connect(home)
    storage = sess.lake.storage
    for stmt in (
        "CREATE EXTERNAL TABLE t (a int, b string, c double, d date, ts timestamp) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://fz/t/'",
        "CREATE EXTERNAL TABLE j (id int, tags array<string>, attrs map<string,string>, "
        "s struct<x:int,y:string>) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' "
        "LOCATION 's3://fz/j/'",
        "CREATE EXTERNAL TABLE logs (ts string, msg string, n int) "
        "PARTITIONED BY (year string, month int) LOCATION 's3://fz/logs/'",
        "ALTER TABLE logs ADD PARTITION (year='2024', month=1)",
    ):
        sess.sql(stmt)
    storage.write_bytes(
        "s3://fz/t/a.csv", b"1,x,1.5,2024-01-01,2024-01-01 10:00:00\n2,y,,bad,\n3,,2e3,,\n"
    )
    storage.write_bytes(
        "s3://fz/j/a.json",
        b'{"id":1,"tags":["a","b"],"attrs":{"k":"v"},"s":{"x":1,"y":"q"}}\n'
        b'{"id":2,"tags":[],"attrs":{},"s":null}\n',
    )
    storage.write_bytes("s3://fz/logs/year=2024/month=1/a.tsv", b"t\x01hello\x013\n")
    try:
        yield sess
    finally:
        sess.lake.close()


@pytest.fixture
def idle_copies(session: Session) -> Iterator[Session]:
    """The module's session, with every compacted copy its examples queued built before the
    test ends: the lake outlives the test, so the copy builder's thread would otherwise
    still run when the test's leftover-thread check looks."""
    yield session
    assert session.lake.engine.copies.wait_idle(timeout=60)


def _function_names() -> list[str]:
    names = set(ANONYMOUS)
    for sql in QUERIES:
        names.update(m.lower() for m in re.findall(r"\b([a-zA-Z_][a-zA-Z0-9_]*)\s*\(", sql))
    return sorted(names - {"select", "values", "unnest", "in", "exists"})


FUNCTIONS = _function_names()
COLUMNS = ["a", "b", "c", "d", "ts", "id", "tags", "attrs", "s", "s.x", "tags[1]", "attrs['k']"]
LITERALS = st.sampled_from(
    [
        "NULL",
        "0",
        "-1",
        "1.5",
        "1e308",
        "99999999999999999999999",
        "''",
        "'a'",
        "'2024-01-01'",
        "'%Y'",
        "'[a-'",
        "DATE '2024-02-30'",
        "TIMESTAMP '2024-01-01 00:00:00'",
        "INTERVAL '1' DAY",
        "ARRAY[1, 2]",
        "ARRAY[]",
        "MAP(ARRAY['a'], ARRAY[1])",
        "ROW(1, 'a')",
        "x -> x",
        "(x, y) -> x",
        "true",
    ]
)


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


EXPRS = st.recursive(
    st.sampled_from(COLUMNS) | LITERALS,
    lambda inner: (
        st.builds(_call, st.sampled_from(FUNCTIONS), st.lists(inner, max_size=4))
        | st.builds(
            "({} {} {})".format,
            inner,
            st.sampled_from(["+", "-", "*", "/", "%", "||", "=", "<", "AND", "OR", "LIKE"]),
            inner,
        )
        | st.builds("CAST({} AS {})".format, inner, st.sampled_from(["int", "varchar", "date"]))
    ),
    max_leaves=5,
)


@st.composite
def generated_select(draw: st.DrawFn) -> str:
    table = draw(st.sampled_from(["t", "j", "logs", "t JOIN j ON t.a = j.id", "(VALUES (1))"]))
    items = draw(st.lists(EXPRS, min_size=1, max_size=3))
    text = f"SELECT {', '.join(items)} FROM {table}"
    if draw(st.booleans()):
        text += f" WHERE {draw(EXPRS)}"
    if draw(st.booleans()):
        text += f" GROUP BY {draw(st.sampled_from(['1', 'a', 'b', 'ROLLUP (a)', '()']))}"
    if draw(st.booleans()):
        text += f" ORDER BY {draw(st.sampled_from(['1', 'a DESC NULLS FIRST', '99']))}"
    if draw(st.booleans()):
        text += f" LIMIT {draw(st.sampled_from(['0', '1', '-1', '99999999999999999999']))}"
    return text


@given(text=mutated_text(QUERIES, WORDS) | st.text(max_size=80))
@settings(max_examples=scaled(200))
def test_split_statements_never_crashes(text: str) -> None:
    statements = lakebox_outcome(lambda: split_statements(text))
    if isinstance(statements, list):
        for st_ in statements:
            assert st_.text.strip()
            assert st_.line >= 1


@given(sql=mutated_text(QUERIES, WORDS, max_edits=3))
@settings(max_examples=scaled(80), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_queries_run_or_raise_lakebox_error(idle_copies: Session, sql: str) -> None:
    lakebox_outcome(lambda: idle_copies.sql(sql))


@given(sql=generated_select())
# crashes found by this suite: IndexError in a translation rule, sqlglot's ParseError
@example(sql="SELECT at_timezone(a) FROM t")
@example(sql="SELECT date() FROM t")
@settings(max_examples=scaled(100), suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_selects_run_or_raise_lakebox_error(idle_copies: Session, sql: str) -> None:
    lakebox_outcome(lambda: idle_copies.sql(sql))
