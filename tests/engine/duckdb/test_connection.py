"""The DuckDB engine's database: opened ahead of a Python API session's first query."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import lakebox
from lakebox.errors import SemanticError


def test_a_python_api_session_opens_the_engine_before_its_first_query(lake_home: Path) -> None:
    session = lakebox.connect(lake_home)
    engine = session.lake.engine
    deadline = time.monotonic() + 60
    while not engine.is_open and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.is_open
    assert session.sql("SELECT 1 AS x").fetchall() == [(1,)]
    session.lake.close()
    assert not engine.is_open


def test_closing_right_after_connect_leaves_the_engine_closed(lake_home: Path) -> None:
    """The background open is joined by close: no database opened after the lake closed
    (and no thread left: the suite's leak check)."""
    session = lakebox.connect(lake_home)
    session.lake.close()
    assert not session.lake.engine.is_open


def test_the_copy_builders_database_is_small_and_reads_csv_the_careful_way(
    lake_home: Path,
) -> None:
    """It runs beside the lake's queries: a bounded share of memory, one thread, and the
    CSV settings that read every file (the fast ones refuse some, and a build that fails
    leaves the partition without a copy for good)."""
    session = lakebox.connect(lake_home)
    engine = session.lake.engine
    try:
        builder = engine._builder_connection()
        try:
            settings = dict(
                builder.sql(
                    "SELECT name, value FROM duckdb_settings() "
                    "WHERE name IN ('threads', 'memory_limit')"
                ).fetchall()
            )
            variable = builder.sql("SELECT getvariable('lakebox_csv_fallback')").fetchall()
            main_limit = engine.base.sql("SELECT current_setting('memory_limit')").fetchall()
        finally:
            builder.close()
        assert settings["threads"] == "1"
        assert variable == [(True,)]
        assert settings["memory_limit"] != main_limit[0][0]
    finally:
        session.lake.close()


def test_a_failure_to_open_in_the_background_stays_in_its_thread(lake_home: Path) -> None:
    """Whatever the background open meets (not only DuckDB's errors: a missing S3 library
    is a lakebox error) is left for the first query to report, never raised in the thread,
    where Python would print it as a traceback."""
    import pytest

    session = lakebox.connect(lake_home)
    engine = session.lake.engine
    session.lake.close()

    def broken(_self: object) -> None:
        raise RuntimeError("no database today")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(engine), "base", property(broken))
        engine._warm()  # as the background thread runs it: returns, raises nothing


SHORT_SCRIPT = """
import sys, lakebox
lake = lakebox.connect(sys.argv[1]).lake
total = sum(range(200_000))  # ends while the engine may still be opening
"""


def test_a_script_that_ends_while_the_engine_opens_exits_cleanly(lake_home: Path) -> None:
    """The background open is no daemon thread: a daemon still inside DuckDB when the
    interpreter ends is stopped through C++ frames, which aborts the process (seen in 7
    of 30 such scripts run side by side before)."""
    import subprocess
    import sys

    lakebox.connect(lake_home).lake.close()  # the lake exists before the scripts start
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SHORT_SCRIPT, str(lake_home)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(12)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else b"") for p in procs]
    for proc in procs:
        if proc.stderr:
            proc.stderr.close()
    assert [code for code, _ in outcomes] == [0] * 12, [err[-300:] for _, err in outcomes]


def _made(engine: object) -> set[str]:
    """The rules' functions that exist on the engine's database, read from DuckDB's own
    catalog (not from the engine's bookkeeping)."""
    from lakebox.engine.duckdb import rules

    names = set(rules.function_catalog().functions)
    base = engine.base  # type: ignore[attr-defined]
    found = base.sql("SELECT DISTINCT lower(function_name) FROM duckdb_functions()").fetchall()
    return {name for (name,) in found if name in names}


def test_the_rules_functions_are_created_when_a_statement_first_calls_them(
    lake_home: Path,
) -> None:
    """A statement that calls none of the rules' macros and UDFs leaves the database
    without them (creating all of them cost ~40 ms of every first query); one that calls
    a macro gets it with the macros its body calls (``strpos`` with an instance calls
    ``trino_strpos``, which calls ``trino_strpos_forward``), a UDF likewise."""
    session = lakebox.connect(lake_home)
    try:
        engine = session.lake.engine
        assert session.sql("SELECT 1 AS x").fetchall() == [(1,)]
        assert _made(engine) == set()
        assert session.sql("SELECT strpos('abcb', 'b', 2) AS p").fetchall() == [(4,)]
        assert _made(engine) == {"trino_strpos", "trino_strpos_forward"}
        found = session.sql("SELECT length(sha512(to_utf8('a'))) AS n").fetchall()
        assert found == [(64,)]
        assert _made(engine) == {"trino_strpos", "trino_strpos_forward", "trino_sha512"}
        # again (the plan cache, the translation cache): nothing is created twice
        assert session.sql("SELECT strpos('abcb', 'b', 2) AS p").fetchall() == [(4,)]
    finally:
        session.lake.close()


def test_duckdbs_catalog_is_not_readable_through_athena_sql(lake_home: Path) -> None:
    """Which functions exist would be visible only through DuckDB's catalog, which Athena
    SQL cannot read (its table functions are refused in FROM: tests/sql/
    test_engine_functions.py), so creating functions on first use changes nothing a query
    can see; a statement of lakebox's own that reads the catalog gets them all first
    (``called_functions``, above)."""
    session = lakebox.connect(lake_home)
    try:
        with pytest.raises(SemanticError, match="Table function 'duckdb_functions' not registered"):
            session.sql("SELECT count(*) FROM duckdb_functions()").fetchall()
    finally:
        session.lake.close()


def test_two_lakes_in_one_process_each_create_the_functions_they_call(
    tmp_path: Path,
) -> None:
    """Translations are shared by the lakes of a process: a lake that finds the statement
    translated still creates the functions it calls on its own database."""
    from lakebox.config import LakeConfig

    sessions = []
    try:
        for name in ("one", "two"):
            home = tmp_path / name
            LakeConfig.from_env(home=home).open_home(create=True)
            sessions.append(lakebox.connect(home))
        for session in sessions:
            found = session.sql("SELECT trim(to_base(255, 16)) AS h").fetchall()
            assert found == [("ff",)]
            assert "trino_to_base" in _made(session.lake.engine)
    finally:
        for session in sessions:
            session.lake.close()


def test_the_functions_sql_calls_are_its_whole_words_in_any_case() -> None:
    """A name counts where it is a whole word (SQL calls a function by its name, in any
    case, quoted or not); a macro brings what its body calls; a word of DuckDB's catalog
    brings everything."""
    from lakebox.engine.duckdb.rules import called_functions, function_catalog

    everything = frozenset(function_catalog().functions)
    assert called_functions("SELECT 1") == frozenset()
    assert called_functions('SELECT "TRINO_SHIFT_LEFT"(1, 2)') == {
        "trino_shift_left",
        "trino_signed",
    }
    assert called_functions("SELECT my_trino_cbrt(x), trino_cbrt_x FROM t") == frozenset()
    assert called_functions("SELECT Trino_Cbrt(27.0)") == {"trino_cbrt"}
    for sql in (
        "SELECT * FROM duckdb_functions()",
        "SELECT * FROM pg_catalog.pg_proc",
        "SELECT * FROM information_schema.routines",
        "SELECT * FROM pragma_version()",
    ):
        assert called_functions(sql) == everything, sql


def test_connect_opens_the_database_before_it_returns(lake_home: Path) -> None:
    """``lakebox.connect`` opens the engine's database on the caller's thread, as
    ``duckdb.connect`` does: the first query neither waits for a background start nor
    shares the CPU with one."""
    session = lakebox.connect(lake_home)
    try:
        engine = session.lake.engine
        assert engine.is_open
        assert engine._warming is None  # no thread was started for it
        assert session.sql("SELECT 1").fetchall() == [(1,)]
    finally:
        session.lake.close()


def test_a_query_over_the_memory_limit_fails_as_athena_says_without_duckdbs_advice(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An aggregate that cannot spill (one array of three million values) over a 20 MB
    limit: EXCEEDED_LOCAL_MEMORY_LIMIT, a ResourceLimitError, naming the setting."""
    from lakebox.errors import ResourceLimitError

    monkeypatch.setenv("LAKEBOX_MEMORY_LIMIT", "20MB")
    session = lakebox.connect(lake_home)
    try:
        with pytest.raises(ResourceLimitError) as caught:
            session.sql(
                "SELECT array_agg(y) FROM (SELECT sequence(1, 3000000) AS x) "
                "CROSS JOIN UNNEST(x) AS t(y)"
            ).to_arrow()
        message = str(caught.value)
        assert message.startswith("EXCEEDED_LOCAL_MEMORY_LIMIT: Query exceeded")
        assert "LAKEBOX_MEMORY_LIMIT" in message
        assert "SET " not in message and "PRAGMA" not in message
        # the session goes on once the query is over
        assert session.sql("SELECT 1 AS one").to_arrow().to_pylist() == [{"one": 1}]
    finally:
        session.lake.close()
