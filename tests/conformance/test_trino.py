"""The Trino documentation's examples (``trino/*.sqltest``, see ``corpus.py``), each run as
written through the query service of a lake on each engine, with the answer read back as
GetQueryResults returns it. A case an engine fails is declared in ``<engine>_gaps.tsv``
(written by a run, see ``outcome.py``) with how it fails: a strict expected failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.corpus import SqlCase, sql_pages
from conformance.outcome import check, declared_gaps, failure
from engine_params import ENGINE_NAMES, SPARK_TEST_MASTER
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse

CASES = [case for page in sql_pages() for case in page.cases]
GAPS = {name: declared_gaps(name) for name in ENGINE_NAMES}


def _declared(case_id: str) -> list[pytest.MarkDecorator]:
    return [
        pytest.mark.engine_gap(name, failure(gaps[case_id]))
        for name, gaps in GAPS.items()
        if case_id in gaps
    ]


@pytest.fixture(scope="module", params=ENGINE_NAMES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory, engine_name: str) -> Iterator[Lakehouse]:
    home: Path = tmp_path_factory.mktemp(f"conformance-{engine_name}")
    lake = Lakehouse.open(LakeConfig(home=home, engine=engine_name, spark_master=SPARK_TEST_MASTER))
    # the service's worker thread starts with the first query: here, so that the tests
    # (each checked for threads it leaves behind) all find it running already
    lake.queries.run("SELECT 1")
    try:
        yield lake
    finally:
        lake.close()


def test_every_declared_gap_is_a_case() -> None:
    ids = {case.id for case in CASES}
    for name, gaps in GAPS.items():
        assert not set(gaps) - ids, f"{name}_gaps.tsv names cases the corpus lacks"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=_declared(c.id)) for c in CASES])
def test_documented_example(lakehouse: Lakehouse, case: SqlCase) -> None:
    check(lakehouse.queries, case)
