"""The ``engine`` fixture of the engine contract suite: every engine lakebox has, built
over the test's lake. An engine joins the suite with one entry in ``ENGINES``; a case it
cannot pass yet is declared with ``@pytest.mark.engine_gap("name", SomeError)``, which
expects exactly that error from that engine (a strict xfail: the gap must be real).

The Spark engine shares one SparkSession per test process (``spark_held``: started by the
first test that needs it, stopped with its JVM when the session of tests ends)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from lakebox.engine.base import Engine
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.lakehouse import Lakehouse

#: the master every Spark test runs on (two cores: CI's machines have two)
SPARK_TEST_MASTER = "local[2]"


def _spark(lake: Lakehouse) -> Engine:
    from lakebox.engine.spark import SparkEngine
    from lakebox.engine.spark.session import SparkSettings

    return SparkEngine(lake.storage, SparkSettings(SPARK_TEST_MASTER))


#: engine name -> how to build it for a lake
ENGINES: dict[str, Callable[[Lakehouse], Engine]] = {
    "duckdb": lambda lake: DuckDBEngine(lake.storage),
    "spark": _spark,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_gap(engine, error): a contract case the named engine fails with error",
    )
    config.addinivalue_line("markers", "spark: runs queries on the Spark engine (local mode)")
    config.addinivalue_line(
        "markers",
        "spark_cluster: starts a Spark standalone cluster (a master and two workers) on "
        "127.0.0.1; slow, run with -m spark_cluster",
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A contract case on Spark holds the session from before its own fixtures (and the
    root conftest's check for leftover threads and processes) are set up: the JVM and the
    threads pyspark keeps for it belong to the session of tests, not to the first test.
    Every Spark test runs on one test worker (``xdist_group``): one JVM per run.
    The cluster tests (four JVMs) run only when ``-m`` selects them (``-m spark_cluster``)."""
    chosen = "spark_cluster" in (config.getoption("markexpr", "") or "")
    skip = pytest.mark.skip(reason="a Spark cluster test: run with -m spark_cluster")
    for item in items:
        if item.get_closest_marker("spark_cluster") is not None and not chosen:
            item.add_marker(skip)
        callspec = getattr(item, "callspec", None)
        on_spark = callspec is not None and callspec.params.get("engine") == "spark"
        if on_spark or item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
        if on_spark:
            # a new list: the parametrized items of one test share the one they have
            names = item.fixturenames  # type: ignore[attr-defined]
            if "spark_held" not in names:
                item.fixturenames = ["spark_held", *names]  # type: ignore[attr-defined]


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


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest, lake: Lakehouse) -> Iterator[Engine]:
    name = request.param
    for mark in request.node.iter_markers("engine_gap"):
        gap_engine, error = mark.args
        if gap_engine == name:
            request.applymarker(
                pytest.mark.xfail(raises=error, strict=True, reason=f"{name}: known gap")
            )
    built = ENGINES[name](lake)
    try:
        yield built
    finally:
        built.close()
