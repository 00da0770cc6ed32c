"""The ``engine`` fixture of the engine contract suite: every engine lakebox has, built
over the test's lake. An engine joins the suite with one entry in ``ENGINES``; a case it
cannot pass yet is declared with ``@pytest.mark.engine_gap("name", SomeError)``, which
expects exactly that error from that engine (a strict xfail: the gap must be real)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lakebox.engine.base import Engine
from lakebox.engine.duckdb import DuckDBEngine
from lakebox.lakehouse import Lakehouse

#: engine name -> how to build it for a lake
ENGINES: dict[str, Callable[[Lakehouse], Engine]] = {
    "duckdb": lambda lake: DuckDBEngine(lake.storage),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "engine_gap(engine, error): a contract case the named engine fails with error",
    )


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
