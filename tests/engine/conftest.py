"""The ``engine`` fixture of the engine contract suite: every engine lakebox has, built
over the test's lake. An engine joins the suite with one entry in ``ENGINES``; a case it
cannot pass yet is declared with ``@pytest.mark.engine_gap("name", SomeError)``, which
expects exactly that error from that engine (a strict xfail: the gap must be real).

The Spark engine shares one SparkSession per test process (``spark_held``: started by the
first test that needs it, stopped with its JVM when the session of tests ends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from engine_params import SPARK_TEST_MASTER
from lakebox.engine.base import Engine
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.lakehouse import Lakehouse


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
        "spark_cluster: starts a Spark standalone cluster (a master and two workers) on "
        "127.0.0.1; slow, run with -m spark_cluster",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The cluster tests (four JVMs) run only when ``-m`` selects them (``-m spark_cluster``).
    (Spark cases holding the session and ``engine_gap`` markers: ``tests/engine_params.py``.)"""
    chosen = "spark_cluster" in (config.getoption("markexpr", "") or "")
    skip = pytest.mark.skip(reason="a Spark cluster test: run with -m spark_cluster")
    for item in items:
        if item.get_closest_marker("spark_cluster") is not None and not chosen:
            item.add_marker(skip)


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest, lake: Lakehouse) -> Iterator[Engine]:
    name = request.param
    built = ENGINES[name](lake)
    try:
        yield built
    finally:
        built.close()
