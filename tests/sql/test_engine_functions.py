"""Athena SQL reaches the lake's tables only: a function in FROM (the engine's table
functions read any file the process can read, ``read_text('/etc/passwd')``, or list the
engine's catalog) and the engine's state functions are refused by name, wherever the query
puts them: a join, a subquery, a CTE, a view, CTAS, INSERT, UNLOAD. The lake's own secrets
file is the bait: its text must never come back.

Real lake, real engine; the refusals are what Athena answers for a function it does not
have (FUNCTION_NOT_FOUND).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lakebox.errors import SemanticError
from lakebox.session import Session

SECRET = "lakebox-test-secret-7f3a"

TABLE_FUNCTIONS = [
    "read_text('{bait}')",
    "read_blob('{bait}')",
    "read_csv('{bait}')",
    "read_json('{bait}')",
    "read_parquet('{bait}')",
    "duckdb_settings()",
    "duckdb_tables()",
    "query_table('t')",
    "sequence(1, 3)",
]

#: where a query can hold a FROM item: ``{f}`` is the table function
PLACES = [
    "SELECT * FROM {f}",
    "SELECT * FROM t, {f}",
    "SELECT * FROM t CROSS JOIN {f} AS x",
    "SELECT * FROM (SELECT * FROM {f})",
    "WITH c AS (SELECT * FROM {f}) SELECT * FROM c",
    "SELECT * FROM t WHERE a IN (SELECT * FROM {f})",
    "SELECT (SELECT count(*) FROM {f})",
    "SELECT * FROM t UNION ALL SELECT * FROM {f}",
    "CREATE TABLE leak AS SELECT * FROM {f}",
    "INSERT INTO t SELECT * FROM {f}",
    "UNLOAD (SELECT * FROM {f}) TO 's3://b/out/' WITH (format = 'JSON')",
    "CREATE VIEW leak AS SELECT * FROM {f}",
]


@pytest.fixture
def lake(lake_session: Session, lake_home: Path) -> tuple[Session, str]:
    bait = lake_home / "_lakebox" / "bait.txt"
    bait.write_text(SECRET + "\n")
    lake_session.sql("CREATE EXTERNAL TABLE t (a string) LOCATION 's3://b/t/'")
    return lake_session, str(bait)


@pytest.mark.parametrize("function", TABLE_FUNCTIONS)
@pytest.mark.parametrize("place", PLACES)
def test_a_function_in_from_is_refused(
    lake: tuple[Session, str], place: str, function: str
) -> None:
    session, bait = lake
    name = function.split("(", 1)[0]
    sql = place.format(f=function.format(bait=bait))
    with pytest.raises(SemanticError) as err:
        session.sql(sql).fetchall()
    assert "FUNCTION_NOT_FOUND: line 1:" in str(err.value)
    assert f"Table function '{name}' not registered" in str(err.value)
    assert SECRET not in str(err.value)
    # nothing was made: no table, no view, no file under the UNLOAD target
    assert [r[0] for r in session.sql("SHOW TABLES").fetchall()] == ["t"]


@pytest.mark.parametrize(
    "call", ["current_setting('threads')", "getvariable('x')", "GETENV('HOME')"]
)
def test_the_engines_state_functions_are_refused(lake: tuple[Session, str], call: str) -> None:
    session, _ = lake
    with pytest.raises(SemanticError, match=r"FUNCTION_NOT_FOUND: .*Function '\w+' not registered"):
        session.sql(f"SELECT {call}").fetchall()


def test_a_view_stored_before_the_rule_is_refused_when_read(
    lake: tuple[Session, str], lake_home: Path
) -> None:
    """A view whose text reads a file (written by an older lakebox, or into the catalog by
    hand) is refused when a query expands it."""
    session, bait = lake
    session.sql("CREATE VIEW v AS SELECT a FROM t")
    store = session.lake.catalog
    view = store.get_table("default", "v")
    text = f"SELECT content AS a FROM read_text('{bait}')"
    store.update_table(dataclasses.replace(view, view_original_text=text))
    with pytest.raises(SemanticError, match="Table function 'read_text' not registered"):
        session.sql("SELECT * FROM v").fetchall()


def test_unnest_and_tables_still_work(lake: tuple[Session, str], lake_home: Path) -> None:
    session, _ = lake
    (lake_home / "b" / "t").mkdir(parents=True, exist_ok=True)
    (lake_home / "b" / "t" / "a.txt").write_text("x\ny\n")
    rows = session.sql(
        "SELECT a, n FROM t CROSS JOIN UNNEST(ARRAY[1, 2]) AS u(n) ORDER BY a, n"
    ).fetchall()
    assert rows == [("x", 1), ("x", 2), ("y", 1), ("y", 2)]
