"""Running a suite on every engine (imported by the root ``conftest.py``).

A test joins with the ``engine_name`` fixture (``"duckdb"``, ``"spark"``), or the engine
contract suite's ``engine`` fixture (``tests/engine/conftest.py``). A case an engine
cannot pass yet is declared with ``@pytest.mark.engine_gap("spark", SomeError)``: on that
engine it becomes a strict expected failure that must raise exactly ``SomeError`` (a case
that starts passing fails, so that its marker gets removed).

Every Spark case holds the process's one SparkSession (``spark_held``: started by the
first test that needs it, stopped with its JVM when the session of tests ends), so each
test worker starts at most one JVM."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

#: the engines a lake can run on, as ``LAKEBOX_ENGINE`` names them
ENGINE_NAMES = ["duckdb", "spark"]
#: the master every Spark test runs on (two cores: CI's machines have two)
SPARK_TEST_MASTER = "local[2]"


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_gap(engine, error): a case the named engine fails with error (strict xfail)",
    )
    config.addinivalue_line("markers", "spark: runs queries on the Spark engine (local mode)")


def item_engine(item: pytest.Item) -> str | None:
    """The engine a parametrised test item runs on, if it is one."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for key in ("engine", "engine_name"):
        name = callspec.params.get(key)
        if isinstance(name, str):
            return name
    return None


def modify_items(items: list[pytest.Item]) -> None:
    """Spark cases hold the session from before their own fixtures (and the root
    conftest's check for leftover threads and processes) are set up: the JVM and the
    threads pyspark keeps for it belong to the session of tests, not to the first test.
    A case's ``engine_gap`` for its engine becomes a strict xfail raising that error."""
    for item in items:
        name = item_engine(item)
        if name == "spark" or item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
        if name == "spark":
            # a new list: the parametrized items of one test share the one they have
            names = item.fixturenames  # type: ignore[attr-defined]
            if "spark_held" not in names:
                item.fixturenames = ["spark_held", *names]  # type: ignore[attr-defined]
        if name is None:
            continue
        for mark in item.iter_markers("engine_gap"):
            gap_engine, error = mark.args
            if gap_engine == name:
                item.add_marker(
                    pytest.mark.xfail(raises=error, strict=True, reason=f"{name}: known gap")
                )
                break


def _keep_pid(pid: int) -> None:
    """Tell the root conftest's leak check that ``pid`` (the Spark JVM) outlives tests on
    purpose: it belongs to the session of tests."""
    root = sys.modules.get("conftest")
    kept = getattr(root, "_KEPT_PIDS", None)
    if isinstance(kept, set):
        kept.add(pid)


@pytest.fixture(scope="session")
def spark_held() -> Iterator[str]:
    """The process's SparkSession, held from the first test that needs it to the end of
    the session of tests (one JVM per test worker, stopped at the end); yields its master.
    Tests opening lakes through ``lakebox.connect`` set ``LAKEBOX_SPARK_MASTER`` to it."""
    from pyspark import SparkContext

    from lakebox.engine.spark import session
    from lakebox.engine.spark.session import SparkSettings

    session.acquire(SparkSettings(SPARK_TEST_MASTER))
    proc = getattr(SparkContext._gateway, "proc", None)
    if proc is not None:
        _keep_pid(proc.pid)
    try:
        yield SPARK_TEST_MASTER
    finally:
        session.release()
        assert not session.running()


@pytest.fixture(params=ENGINE_NAMES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """The engine a test's lake runs on (``LakeConfig.engine``); on Spark, the suite's
    shared local session."""
    return str(request.param)
