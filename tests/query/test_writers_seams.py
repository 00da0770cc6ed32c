"""The seams of the write statements: they plan through a ``QueryPlanner``, write through an
engine's ``OpenWrite`` and return a ``WriteOutcome``, never touching the Session itself."""

from __future__ import annotations

from typing import Any

import pytest
from sqlglot import exp

from lakebox.config import LakeConfig
from lakebox.engine.duckdb import write as duckdb_write
from lakebox.formats.base import ScanMeter
from lakebox.formats.writing import WriteTarget
from lakebox.query.writers import TableWrite, WriteOutcome, execute_write
from lakebox.session import Lake, StatementContext
from lakebox.sql.dialect import parse_query
from lakebox.storage import Storage


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


def test_ctas_writes_through_the_given_engine_write(lake: Lake) -> None:
    opened: list[WriteTarget] = []

    def recording_open_write(
        con: Any, sql: str, storage: Storage, meter: ScanMeter | None, target: WriteTarget
    ) -> TableWrite:
        opened.append(target)
        return duckdb_write.open_write(con, sql, storage, meter, target)

    session = lake.session()
    tree = parse_query("CREATE TABLE t WITH (format = 'JSON') AS SELECT 1 AS a, 'x' AS b")
    context = StatementContext()
    outcome = execute_write(session, tree, "", context, open_write=recording_open_write)
    assert isinstance(outcome, WriteOutcome)
    assert outcome.table.to_pylist() == [{"rows": 1}]
    assert [(t.fmt.name, t.query_id) for t in opened] == [("json", context.query_id)]
    assert session.sql("SELECT a, b FROM t").to_pylist() == [{"a": 1, "b": "x"}]


def test_unload_outcome_carries_its_message(lake: Lake, config: LakeConfig) -> None:
    session = lake.session()
    tree = parse_query("UNLOAD (SELECT 1 AS a) TO 's3://out/u/' WITH (format = 'PARQUET')")
    assert isinstance(tree, exp.Command)
    lake.storage.ensure_bucket("out")
    outcome = execute_write(session, tree, "", StatementContext())
    assert outcome.message == "1 rows unloaded"
    assert outcome.table.num_columns == 0
