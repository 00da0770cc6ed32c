"""The engine interface: what runs an engine-neutral plan (``lakebox.sql.plan.Plan``).

An ``Engine`` belongs to one lake. Each statement opens an ``EngineStatement``: the
engine's private state for that statement (DuckDB: a cursor and the Arrow objects
registered on it), which

- decides partition predicates for the planner (it is a ``PartitionFilter``),
- compiles a plan into a ``CompiledQuery`` (scan strategies, translation) and runs it,
- performs the write entry points of CTAS, INSERT INTO and UNLOAD,
- is watched by an ``ExecutionWatch`` (the query's control: cancellation, scan cutoff,
  progress, bytes read) through the ``RunningStatement`` methods.

A second engine is one package implementing these classes; ``tests/engine/test_contract.py``
runs the same cases against every engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.errors import LakeboxError
from lakebox.sql.plan import Plan, ScanStats
from lakebox.storage import Storage

if TYPE_CHECKING:  # its module imports pyarrow.compute, which only a write needs
    from lakebox.formats.writing import WriteTarget


class RunningStatement(ABC):
    """What a watcher may ask of the engine while it works on a statement (any thread)."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the running engine work as soon as possible."""

    @abstractmethod
    def progress(self) -> float:
        """The running work's progress in percent; -1 when unknown or nothing runs."""

    @abstractmethod
    def bytes_read(self) -> int:
        """Bytes the last finished engine work read, as the engine measured them (0 when
        it does not measure)."""

    @abstractmethod
    def consumed(self) -> int:
        """Bytes of the planned scan's files the running work has consumed so far, from
        the engine's own file reads (0 when unknown): finer than ``progress``."""


class ExecutionWatch(Protocol):
    """The engine-neutral control of one statement (``lakebox.query.session.
    ExecutionControl``), as an engine sees it."""

    cutoff_bytes: int | None
    #: measure the bytes the engine reads (its profile)
    measure: bool
    #: report progress (a cutoff needs it)
    progress: bool
    stop_reason: str | None
    #: the engine's file-read log reader (``Engine.logged_reads``), when one is open
    read_log: object | None

    def attach(self, statement: RunningStatement) -> None: ...

    def detach(self) -> None: ...

    def planned(self, stats: ScanStats) -> None: ...

    def reading(self, nbytes: int | None = None) -> AbstractContextManager[None]: ...

    def check_stop(self) -> None: ...

    def stop_error(self) -> LakeboxError: ...


class CompiledQuery(ABC):
    """A plan compiled for one engine: runnable on this statement, and on a later
    statement of the same engine when ``reusable`` (the plan cache keeps it)."""

    #: the engine's text of the query (its SQL); empty when there is nothing to run
    sql: str
    #: lake-cache files the query reads (compacted and decoded copies): it may run again
    #: only while they exist
    cache_files: tuple[str, ...]

    @property
    @abstractmethod
    def reusable(self) -> bool:
        """Whether another statement can run this query again."""


class EngineStatement(RunningStatement):
    """One statement's private engine state; use it as a context manager."""

    #: exceptions the engine raises for a failed query (worded by ``error``)
    errors: ClassVar[tuple[type[BaseException], ...]] = ()

    # -- planning -------------------------------------------------------------------------
    @abstractmethod
    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        """``PartitionFilter``: indexes of ``values`` that satisfy ``predicate``."""

    @abstractmethod
    def compile(self, plan: Plan) -> CompiledQuery:
        """The plan as this engine runs it; fills the plan's engine-side stats (scans
        served from copies, columnar files) and tells the watch what it will read."""

    @abstractmethod
    def restore(self, query: CompiledQuery, stats: ScanStats) -> None:
        """Prepare this statement to run a query compiled by an earlier one (plan reuse)."""

    # -- running --------------------------------------------------------------------------
    @abstractmethod
    def run(self, query: CompiledQuery) -> pa.Table:
        """The query's rows (Athena's types: integer sums stay BIGINT), read inside the
        watch's ``reading``; raises one of ``errors`` when the engine fails."""

    @abstractmethod
    def error(self, err: Exception, plan: Plan) -> LakeboxError:
        """The lakebox error for an engine failure while running ``plan``."""

    # -- writes (CTAS, INSERT INTO, UNLOAD) -------------------------------------------------
    @abstractmethod
    def open_write(self, query: CompiledQuery, storage: Storage, target: WriteTarget) -> TableWrite:
        """The engine's write of ``query`` (compiled on this statement) into ``target``:
        what CTAS, INSERT INTO and UNLOAD write through; its reads of the lake are watched
        like the query's."""

    # -- life -----------------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None:
        """Drop everything the statement registered; detach the watch."""

    def __enter__(self) -> EngineStatement:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class SourceColumns:
    """A planned query's column names, their Athena types and the engine's own type names."""

    names: list[str]
    athena_types: list[str]
    engine_types: list[str]


@dataclass(frozen=True)
class StagedFile:
    """One file an engine's write left in staging: the partition values of its rows as
    text (None for NULL) and its Hive bucket (None when the table is not bucketed)."""

    uri: str
    values: tuple[str | None, ...]
    bucket: int | None


@dataclass(frozen=True)
class Staged:
    """What one pass of a write left in staging: the rows written and their files."""

    rows: int
    files: list[StagedFile]


class TableWrite(Protocol):
    """An engine's write of one planned query into a ``WriteTarget``: the writers
    (``lakebox.query.writers``) say which rows to write (``select_as`` or ``select_into``,
    which read no data), then ``write`` makes one pass over the query, writing every
    partition's and bucket's files into a staging folder; the writers name and move them."""

    avro_schema: dict[str, Any] | None

    def source(self) -> SourceColumns: ...

    def select_as(
        self, source: SourceColumns, out_names: list[str], no_data: bool = False
    ) -> pa.Schema: ...

    def select_into(self, columns: list[Column], positions: dict[str, int]) -> None: ...

    def write(self, staging: str, columns: list[Column], partition_cols: list[str]) -> Staged: ...


class Engine(ABC):
    """An execution engine for one lake."""

    name: ClassVar[str]
    #: environment settings the engine reads while compiling: part of the plan cache key
    plan_settings: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def statement(self, watch: ExecutionWatch | None = None) -> EngineStatement:
        """Open one statement's private state, watched by ``watch`` from now on
        (compiling may read lake files: copies, key scans)."""

    @abstractmethod
    def logged_reads(self) -> AbstractContextManager[object]:
        """While the block runs, the engine logs file reads for ``RunningStatement.consumed``;
        yields the reader to set as ``ExecutionWatch.read_log``."""

    @abstractmethod
    def validate_table(self, table: Table) -> None:
        """Check at CREATE time that the engine can read the table's format with its SerDe
        properties (a bad regex, an unknown option); raise a LakeboxError naming it."""

    @abstractmethod
    def close(self) -> None:
        """Release the engine's resources (the lake is closing)."""
