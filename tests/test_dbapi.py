"""PEP 249 module over a real lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lakebox import dbapi


@pytest.fixture
def conn(lake_home: Path) -> dbapi.Connection:
    return dbapi.connect(str(lake_home))


def test_module_globals_follow_pep_249() -> None:
    assert (dbapi.apilevel, dbapi.paramstyle) == ("2.0", "qmark")
    assert issubclass(dbapi.ProgrammingError, dbapi.DatabaseError)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ((1, "it's"), (1, "it's")),
        ((None, "x"), (None, "x")),
        ((2.5, dt.date(2024, 1, 2)), (2.5, dt.date(2024, 1, 2))),
        ((True, dt.datetime(2024, 1, 2, 3, 4, 5)), (True, dt.datetime(2024, 1, 2, 3, 4, 5))),
    ],
)
def test_qmark_parameters_round_trip(
    conn: dbapi.Connection, params: tuple[object, ...], expected: tuple[object, ...]
) -> None:
    cur = conn.cursor()
    cur.execute("SELECT ? AS a, ? AS b -- a '?' in a comment is not a placeholder", params)
    assert cur.fetchone() == expected
    assert [d[0] for d in cur.description or []] == ["a", "b"]
    assert cur.fetchone() is None


def test_question_marks_in_strings_are_not_placeholders(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 'why?' AS q, ? AS p", ["x"])
    assert cur.fetchall() == [("why?", "x")]


@pytest.mark.parametrize(
    ("operation", "params", "bound"),
    [
        ("SELECT ?", [1], "SELECT 1"),
        ("SELECT 'it''s ?', ?", ["a"], "SELECT 'it''s ?', 'a'"),
        ('SELECT "a?""b" FROM t WHERE x = ?', [2], 'SELECT "a?""b" FROM t WHERE x = 2'),
        ("SELECT `?` /* ?; '? */, ? -- ?\n", ["o'k"], "SELECT `?` /* ?; '? */, 'o''k' -- ?\n"),
        ("SELECT ?, ''", [None], "SELECT NULL, ''"),
        ("SELECT ? /* open ?", [1], "SELECT 1 /* open ?"),
        ("SELECT ?, 'open ?", [1], "SELECT 1, 'open ?"),
    ],
)
def test_bind_replaces_only_placeholders_outside_quotes_and_comments(
    operation: str, params: list[object], bound: str
) -> None:
    assert dbapi.bind(operation, params) == bound
    assert dbapi.bind(operation, None) == operation


def test_parameter_count_mismatch_is_a_programming_error(conn: dbapi.Connection) -> None:
    with pytest.raises(dbapi.ProgrammingError, match="fewer parameters"):
        conn.cursor().execute("SELECT ?, ?", [1])
    with pytest.raises(dbapi.ProgrammingError, match="more parameters"):
        conn.cursor().execute("SELECT ?", [1, 2])


def test_errors_map_to_dbapi_classes(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.ProgrammingError, match="does not exist"):
        cur.execute("SELECT * FROM missing_table")
    with pytest.raises(dbapi.ProgrammingError, match="line 1"):
        cur.execute("SELEC 1")


def test_fetchmany_and_rowcount(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT x FROM UNNEST(sequence(1, 5)) AS t(x) ORDER BY x")
    assert cur.rowcount == 5
    assert cur.fetchmany(2) == [(1,), (2,)]
    assert cur.fetchall() == [(3,), (4,), (5,)]


def test_closed_connection_refuses_work(conn: dbapi.Connection) -> None:
    conn.close()
    with pytest.raises(dbapi.InterfaceError):
        conn.cursor()


def test_a_connection_acts_as_the_principal_it_names(lake_home: Path) -> None:
    admin = dbapi.connect(str(lake_home))
    admin.session.lake.iam.create_user("dbapi-nobody")
    conn = dbapi.connect(str(lake_home), principal="dbapi-nobody")
    try:
        with pytest.raises(dbapi.OperationalError, match="athena:StartQueryExecution"):
            conn.cursor().execute("SELECT 1")
    finally:
        conn.session.lake.close()
        admin.session.lake.close()
