"""The Spark engine of one lake: holds the process's SparkSession (``session``) from its
first statement until the lake closes, and opens a ``SparkStatement`` per statement."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING

from lakebox.catalog.model import Table
from lakebox.engine.base import Engine, ExecutionWatch
from lakebox.engine.spark import session as sessions
from lakebox.engine.spark.session import SparkSettings
from lakebox.engine.spark.statement import SparkStatement
from lakebox.storage import Storage

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkEngine(Engine):
    name = "spark"

    def __init__(self, storage: Storage, settings: SparkSettings | None = None) -> None:
        self.storage = storage
        config = storage.config
        self.settings = settings or SparkSettings.from_env(
            config.spark_master, config.spark_driver_host
        )
        if storage.mode == "s3" and self.settings.s3 is None:  # through S3A (``s3a``)
            self.settings = replace(self.settings, s3=config.s3)
        self._lock = threading.Lock()
        self._spark: SparkSession | None = None
        self._warming: threading.Thread | None = None
        self._closed = False

    @property
    def spark(self) -> SparkSession:
        """The process's session, held by this engine from its first use to ``close``."""
        with self._lock:
            if self._spark is None:
                if self._closed:
                    from lakebox.errors import ConfigError

                    raise ConfigError("the lake's Spark engine is closed")
                self._spark = sessions.acquire(self.settings)
            return self._spark

    @property
    def is_open(self) -> bool:
        return self._spark is not None

    def _root(self) -> SparkSession:
        return self.spark

    def warm(self) -> None:
        """Start Spark in the background now (seconds: a JVM), for a caller about to
        query; a failure is left for that query to report."""
        with self._lock:
            if self._spark is not None or self._warming is not None or self._closed:
                return
            self._warming = threading.Thread(
                target=self._warm, name="lakebox-spark-start", daemon=True
            )
            self._warming.start()

    def _warm(self) -> None:
        try:
            _ = self.spark
        except Exception:
            pass

    def statement(self, watch: ExecutionWatch | None = None) -> SparkStatement:
        return SparkStatement(self._root, watch, self.storage)

    def logged_reads(self) -> AbstractContextManager[object]:
        """Spark has no file-read log lakebox reads: ``consumed`` stays 0 and a cutoff
        follows the statement's progress."""
        return nullcontext(None)

    def validate_table(self, table: Table) -> None:
        """Nothing to check at CREATE time: a format the engine cannot read is refused
        when a query reads it (``scans.check_scan``), as the DDL itself is valid."""

    def close(self) -> None:
        warming = self._warming
        if warming is not None:
            warming.join()
        with self._lock:
            self._closed = True
            spark, self._spark = self._spark, None
        if spark is not None:
            sessions.release(self.settings)
