"""The seams of the write statements: a write is prepared from a lake, a database name and
the statement, its caller plans the job's query and hands the plan to the job; writers
write through an engine's ``OpenWrite`` and return a ``WriteOutcome``, never touching the
Session itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grimp
import pytest
from sqlglot import exp

from lakebox.catalog.store import CatalogStore
from lakebox.config import LakeConfig
from lakebox.engine.base import CompiledQuery, EngineStatement, Staged
from lakebox.engine.duckdb import write as duckdb_write
from lakebox.engine.duckdb.statement import DuckDBQuery
from lakebox.errors import LakeboxError
from lakebox.formats.base import ScanMeter
from lakebox.formats.writing import WriteTarget
from lakebox.query.writers import (
    OpenWrite,
    TableWrite,
    WriteJob,
    WriteOutcome,
    prepare_write,
)
from lakebox.session import Lake, Session, StatementContext
from lakebox.sql.dialect import parse_query
from lakebox.sql.planner import ScanStats
from lakebox.storage import Storage


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


def _run(
    session: Session,
    tree: exp.Expression,
    context: StatementContext,
    open_write: OpenWrite = duckdb_write.open_write,
) -> WriteOutcome:
    """A write as the Session runs it, with the engine write given."""
    job = prepare_write(session.lake, session.database, tree, context, open_write)
    if isinstance(job, WriteOutcome):
        return job
    job.begin()
    try:
        with session.planned(job.query, context) as q:
            job.write(q)
        job.commit()
    except BaseException:
        job.fail()
        raise
    return job.finish()


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
    outcome = _run(session, tree, context, open_write=recording_open_write)
    assert isinstance(outcome, WriteOutcome)
    assert outcome.table.to_pylist() == [{"rows": 1}]
    assert [(t.fmt.name, t.query_id) for t in opened] == [("json", context.query_id)]
    assert session.sql("SELECT a, b FROM t").to_pylist() == [{"a": 1, "b": "x"}]


def test_unload_outcome_carries_its_message(lake: Lake, config: LakeConfig) -> None:
    session = lake.session()
    tree = parse_query("UNLOAD (SELECT 1 AS a) TO 's3://out/u/' WITH (format = 'PARQUET')")
    assert isinstance(tree, exp.Command)
    lake.storage.ensure_bucket("out")
    outcome = _run(session, tree, StatementContext())
    assert outcome.message == "1 rows unloaded"
    assert outcome.table.num_columns == 0


@dataclass(frozen=True)
class _LakeParts:
    """Only what a write may use of a lake: its config, storage and catalog."""

    config: LakeConfig
    storage: Storage
    catalog: CatalogStore


@dataclass(frozen=True)
class _Planned:
    """A planned query made by hand: the writers need nothing else from a planner."""

    statement: EngineStatement
    query: CompiledQuery
    names: list[str] | None
    stats: ScanStats = field(default_factory=ScanStats)

    @property
    def con(self) -> Any:
        return getattr(self.statement, "con", None)

    @property
    def sql(self) -> str:
        return self.query.sql


def test_ctas_runs_from_a_plan_made_without_a_session(lake: Lake) -> None:
    parts = _LakeParts(lake.config, lake.storage, lake.catalog)
    context = StatementContext()
    tree = parse_query("CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS a, 'x' AS b")
    job = prepare_write(parts, "default", tree, context)
    assert isinstance(job, WriteJob)
    assert isinstance(job.query, exp.Select)
    job.begin()
    stats = ScanStats()
    with lake.engine.statement() as statement:
        query = DuckDBQuery("SELECT 1 AS a, 'x' AS b")
        job.write(_Planned(statement, query, ["a", "b"], stats))
    job.commit()
    outcome = job.finish()
    assert outcome.table.to_pylist() == [{"rows": 1}]
    assert outcome.stats is stats
    assert lake.session().sql("SELECT a, b FROM t").to_pylist() == [{"a": 1, "b": "x"}]


def test_ctas_if_not_exists_of_an_existing_table_is_an_immediate_outcome(lake: Lake) -> None:
    lake.session().sql("CREATE TABLE t AS SELECT 1 AS a")
    parts = _LakeParts(lake.config, lake.storage, lake.catalog)
    tree = parse_query("CREATE TABLE IF NOT EXISTS t AS SELECT 2 AS a")
    outcome = prepare_write(parts, "default", tree, StatementContext())
    assert isinstance(outcome, WriteOutcome)
    assert outcome.table.to_pylist() == [{"rows": 0}]


def test_writers_never_import_the_session() -> None:
    graph = grimp.build_graph("lakebox")
    for upward in ("lakebox.query.session", "lakebox.session", "lakebox.lakehouse"):
        assert not graph.chain_exists(importer="lakebox.query.writers", imported=upward)


def test_two_staged_files_of_one_bucket_fail_the_write_and_leave_nothing(lake: Lake) -> None:
    """Hive names a bucket's file by its number: a second file of the same bucket would
    overwrite the first when moved, so the write fails instead of losing rows."""

    class TwoFilesPerBucket:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def write(self, staging: str, columns: list[Any], partition_cols: list[str]) -> Staged:
            staged = self.inner.write(staging, columns, partition_cols)
            return Staged(staged.rows, [*staged.files, staged.files[0]])

    def doubling_open_write(
        con: Any, sql: str, storage: Storage, meter: ScanMeter | None, target: WriteTarget
    ) -> TableWrite:
        return TwoFilesPerBucket(duckdb_write.open_write(con, sql, storage, meter, target))

    session = lake.session()
    tree = parse_query(
        "CREATE TABLE t WITH (external_location = 's3://lake/b/', bucketed_by = ARRAY['a'], "
        "bucket_count = 2) AS SELECT 1 AS a"
    )
    with pytest.raises(LakeboxError, match="two files for bucket"):
        _run(session, tree, StatementContext(), open_write=doubling_open_write)
    assert not lake.catalog.table_exists("default", "t")
    assert lake.storage.list_files("s3://lake/b/", include_hidden=True) == []
