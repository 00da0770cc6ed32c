"""One statement on the Spark engine: its own ``newSession()`` of the process's session
(private temporary views: the plan's scans under their placeholders' names), its own job
group (how a watcher cancels it, follows its progress and reads its input bytes), and the
compiled query: the translated Spark SQL and the scans it reads.

Compiling does no Spark work: the scans' DataFrames are made when the query runs, inside
the statement's job group, so a reader's first pass (Parquet footers, for the merged
schema) is watched and cancelled like the query, and a compiled query runs again on a
later statement as it is.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.engine.base import CompiledQuery, EngineStatement, ExecutionWatch, TableWrite
from lakebox.engine.spark.scans import check_scan, in_executors, quote, scan_frame
from lakebox.engine.spark.translate import spark_type, to_spark
from lakebox.errors import LakeboxError
from lakebox.sql.plan import PSEUDO_COLUMNS, Plan, ScanSpec, ScanStats, partition_value
from lakebox.storage import Storage

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakebox.formats.writing import WriteTarget


@dataclass(frozen=True)
class SparkQuery(CompiledQuery):
    """Spark SQL over the plan's scans, registered under their placeholders' names."""

    sql: str
    scans: tuple[ScanSpec, ...] = ()
    cache_files: tuple[str, ...] = ()

    @property
    def reusable(self) -> bool:
        return True  # nothing of a statement is in it: the scans are made when it runs


class SparkStatement(EngineStatement):
    """A private session of the process's Spark session; its views vanish with it."""

    errors: ClassVar[tuple[type[BaseException], ...]] = (PySparkException, Py4JError)

    def __init__(
        self,
        root: Callable[[], SparkSession],
        watch: ExecutionWatch | None = None,
        storage: Storage | None = None,
    ) -> None:
        #: gives the process's session (started on first use) for as long as it is held
        self._root = root
        #: the lake's storage, for what the driver reads besides data (``scan_frame``)
        self._storage = storage
        self._session: SparkSession | None = None
        self._views: list[str] = []
        #: bytes of the files read in the executors by lakebox's readers, which Spark's
        #: input metrics do not see (``bytes_read``)
        self._executor_bytes = 0
        self.watch = watch
        self.group = f"lakebox-{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        self._interrupted = False
        self._running = False
        #: building the scans' frames (schema jobs run), and the jobs that did
        self._planning = False
        self._planning_jobs: set[int] = set()
        #: the planned files' bytes: what a statement's measure is capped at
        self._planned_bytes = 0
        if watch is not None:
            watch.attach(self)

    @property
    def session(self) -> SparkSession:
        if self._session is None:
            session = self._root().newSession()
            # Parquet's vectored reads run in a pool of threads whose reads Spark's input
            # metrics do not see: a 60 MB scan was counted as its 50 KB of footers. Read
            # in the task's thread, the metrics hold the column chunks read (60 MB, and
            # 135 KB for a LIMIT 5), which is what a query is billed and cut off by
            session.conf.set("parquet.hadoop.vectored.io.enabled", "false")
            cutoff = self.watch.cutoff_bytes if self.watch is not None else None
            if cutoff:
                # Spark counts a task's input bytes when the task ends, and by default
                # packs small files into one split per core: a 2-core scan of 60 MB is two
                # 30 MB tasks, so a 10 MB cutoff is first seen at 30 MB or at the end. Splits
                # of an eighth of the cutoff let the watcher stop the scan near it.
                split = max(1 << 20, cutoff // 8)
                session.conf.set("spark.sql.files.maxPartitionBytes", str(split))
                session.conf.set("spark.sql.files.openCostInBytes", str(split))
            self._session = session
        return self._session

    # -- planning ---------------------------------------------------------------------
    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        """Decided by Spark over a small typed table of the values (exact, whatever the
        predicate); every index when Spark cannot decide."""
        keys = table.partition_keys
        arrays = {"__idx": pa.array(range(len(values)), pa.int64())}
        for i, k in enumerate(keys):
            arrays[k.name.lower()] = pa.array([partition_value(v[i]) for v in values], pa.string())
        typed = [
            f"try_cast({quote(k.name.lower())} AS {_key_type(k.type)}) AS {quote(k.name.lower())}"
            for k in keys
        ]
        try:
            condition = to_spark(predicate)
            frame = self.session.createDataFrame(pa.table(arrays)).selectExpr("__idx", *typed)
            with self._jobs():
                rows = frame.where(condition).select("__idx").toArrow()
        except Exception:
            return set(range(len(values)))
        return {int(i) for i in rows.column("__idx").to_pylist()}

    def compile(self, plan: Plan) -> SparkQuery:
        for scan in plan.scans:
            check_scan(scan)
        query = SparkQuery(to_spark(plan.tree, plan.schema), tuple(plan.scans))
        self._planned(plan.stats)
        return query

    def restore(self, query: CompiledQuery, stats: ScanStats) -> None:
        assert isinstance(query, SparkQuery)
        self._planned(stats)

    def _planned(self, stats: ScanStats) -> None:
        self._planned_bytes = stats.bytes
        if self.watch is not None:
            self.watch.planned(stats)

    # -- running ----------------------------------------------------------------------
    def run(self, query: CompiledQuery) -> pa.Table:
        assert isinstance(query, SparkQuery)
        with self._reading(), self._jobs():
            return self._frame(query).toArrow()

    def _frame(self, query: SparkQuery) -> DataFrame:
        """The query's rows, its scans registered under their placeholders' names (a
        Parquet scan's merged schema is read here: inside the caller's job group)."""
        session = self.session
        # a Parquet scan's merged schema is a small job of its own (the files' footers):
        # it is not the scan, so its tasks must not count as the scan's progress (they
        # made a capped query look done, and billed whole, when the footers were read)
        self._planning = True
        try:
            for scan in query.scans:
                if scan.name not in self._views:
                    scan_frame(session, scan, self._storage).createOrReplaceTempView(scan.name)
                    self._views.append(scan.name)
                    if scan.table is not None and in_executors(scan.table):
                        self._executor_bytes += sum(f.size for f in scan.files)
            self._planning_jobs.update(self._jobs_so_far())
        finally:
            self._planning = False
        self._check_interrupted()
        return session.sql(query.sql)

    def _jobs(self) -> AbstractContextManager[None]:
        return _JobGroup(self)

    def _check_interrupted(self) -> None:
        if self._interrupted:
            raise _Interrupted("the statement was interrupted")

    def _reading(self) -> AbstractContextManager[None]:
        return self.watch.reading() if self.watch is not None else nullcontext()

    def error(self, err: Exception, plan: Plan) -> LakeboxError:
        from lakebox.engine.spark.messages import engine_error

        return engine_error(err, plan)

    # -- writes -----------------------------------------------------------------------
    def open_write(self, query: CompiledQuery, storage: Storage, target: WriteTarget) -> TableWrite:
        from lakebox.engine.spark.write import SparkWrite

        assert isinstance(query, SparkQuery)

        def frame() -> DataFrame:
            with self._jobs():  # planning may read footers (a Parquet scan's schema)
                return self._frame(query)

        return SparkWrite(frame, self._writing, storage, target)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The write's one pass over the lake: watched as the query's reads, in the
        statement's job group."""
        with self._reading(), self._jobs():
            yield

    # -- watched ----------------------------------------------------------------------
    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            session = self._session if self._running else None
        if session is not None:
            try:
                session.sparkContext.cancelJobGroup(self.group)
            except Exception:
                pass  # the session is stopping: nothing runs

    def _jobs_so_far(self) -> list[int]:
        session = self._session
        if session is None:
            return []
        return list(session.sparkContext.statusTracker().getJobIdsForGroup(self.group))

    def _stages(self, scans_only: bool = False) -> list[int]:
        """The stages of the statement's jobs; with ``scans_only``, not those of the jobs
        that read schemas while the query was planned."""
        session = self._session
        if session is None:
            return []
        tracker = session.sparkContext.statusTracker()
        stages: list[int] = []
        for job in tracker.getJobIdsForGroup(self.group):
            if scans_only and job in self._planning_jobs:
                continue
            info = tracker.getJobInfo(job)
            if info is not None:
                stages.extend(info.stageIds)
        return stages

    def progress(self) -> float:
        """Finished tasks of the statement's scan jobs' stages known so far (not the
        schema jobs of planning), in percent."""
        session = self._session
        if session is None or not self._running or self._planning:
            return -1.0
        try:
            tracker = session.sparkContext.statusTracker()
            done = total = 0
            for stage in set(self._stages(scans_only=True)):
                info = tracker.getStageInfo(stage)
                if info is not None:
                    done += info.numCompletedTasks
                    total += info.numTasks
        except Exception:
            return -1.0
        return 100.0 * done / total if total else -1.0

    def bytes_read(self) -> int:
        """The input bytes Spark's tasks read for the statement's scan jobs (its status store:
        bytes read from files by the scans), plus the sizes of the files lakebox's readers
        read in the executors (counted whole, when their scan is set up)."""
        session = self._session
        if session is None:
            return 0
        try:
            store = session.sparkContext._jsc.sc().statusStore()
            total = self._executor_bytes
            for stage in set(self._stages(scans_only=True)):
                try:
                    total += int(store.lastStageAttempt(stage).inputBytes())
                except Py4JError:
                    continue  # a stage that never ran (skipped) has no attempt
        except Exception:
            total = self._executor_bytes
        # no more than the planned files hold: Spark's Parquet reader reads a footer again
        # in each task (a 1 KB file's footer is most of it), which a query is not billed
        return min(total, self._planned_bytes) if self._planned_bytes else total

    def consumed(self) -> int:
        return 0

    # -- life -------------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self.watch is not None:
                self.watch.detach()
            session = self._session
            if session is not None:
                for name in self._views:
                    try:
                        session.catalog.dropTempView(name)
                    except Exception:
                        pass
        finally:
            self._views = []
            self._session = None


class _Interrupted(PySparkException):
    """The statement was interrupted before Spark started its jobs."""


class _JobGroup:
    """Spark jobs started by this thread inside the block belong to the statement's job
    group, which ``interrupt`` cancels."""

    def __init__(self, statement: SparkStatement) -> None:
        self.statement = statement

    def __enter__(self) -> None:
        st = self.statement
        sc = st.session.sparkContext
        sc.setJobGroup(st.group, "lakebox statement", interruptOnCancel=True)
        with st._lock:
            st._running = True
        st._check_interrupted()

    def __exit__(self, *exc: object) -> None:
        st = self.statement
        with st._lock:
            st._running = False
        session = st._session
        if session is not None:
            session.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]


def _key_type(hive_type: str) -> str:
    if hive_type == PSEUDO_COLUMNS["$file_modified_time"]:
        return "TIMESTAMP_LTZ"
    return spark_type(hive_type)
