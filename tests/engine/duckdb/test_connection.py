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
