"""The Trino documentation's examples (``trino/*.sqltest``, see ``corpus.py``), each run as
written through the query service, with the answer read back as GetQueryResults returns it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.corpus import EMPTY, NULL, SqlCase, sql_pages
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse

CASES = [case for page in sql_pages() for case in page.cases]


@pytest.fixture(scope="module")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    home: Path = tmp_path_factory.mktemp("conformance")
    lake = Lakehouse.open(LakeConfig(home=home))
    # the service's worker thread starts with the first query: here, so that the tests
    # (each checked for threads it leaves behind) all find it running already
    lake.queries.run("SELECT 1")
    try:
        yield lake
    finally:
        lake.close()


def run(lake: Lakehouse, sql: str) -> tuple[str, list[tuple[str, ...]] | str]:
    """("SUCCEEDED", rows as text) or (state, the error message)."""
    qe, _ = lake.queries.run(sql)
    if qe.state != "SUCCEEDED":
        return qe.state, qe.state_change_reason or ""
    page: dict[str, Any] = lake.queries.get_query_results(qe.query_execution_id)
    rows = page["ResultSet"]["Rows"][1:]  # the first row holds the column names
    return qe.state, [tuple(_text(cell) for cell in row["Data"]) for row in rows]


def _text(cell: dict[str, str]) -> str:
    if "VarCharValue" not in cell:
        return NULL
    return cell["VarCharValue"] or EMPTY


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_documented_example(lakehouse: Lakehouse, case: SqlCase) -> None:
    state, answer = run(lakehouse, case.sql)
    if case.kind == "query":
        assert state == "SUCCEEDED", f"{case.sql}\nfailed: {answer}"
        assert answer == list(case.expected), case.sql
    else:
        assert state == "FAILED", f"{case.sql}\nexpected an error, got {answer}"
        assert isinstance(answer, str) and re.search(case.error, answer), (
            f"{case.sql}\nerror {answer!r} does not match {case.error!r}"
        )
        assert "Traceback" not in answer
