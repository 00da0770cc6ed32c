"""The DuckDB engine's database: opened ahead of a Python API session's first query."""

from __future__ import annotations

import time
from pathlib import Path

import lakebox


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
