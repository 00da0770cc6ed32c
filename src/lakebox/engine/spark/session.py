"""The process's SparkSession, shared by every lake that runs on Spark.

Spark allows one SparkContext (and one JVM) per Python process, so every ``SparkEngine``
of the process shares it: the first engine to need it starts it with its lake's settings
(``LakeConfig.spark_master``), later engines must ask for the same master. It is counted:
the session stops, and its JVM ends, when the last engine that held it closes
(``release``). Each statement works on its own ``newSession()`` of it (private temporary
views and settings, one SparkContext).

The session listens on 127.0.0.1 only (or on ``LakeConfig.spark_driver_host``), with the
web UI off, its scratch space (shuffle and spill files) in a private folder under the
system's temp dir, the Athena settings translated SQL relies on (UTC session time zone,
ANSI mode: a bad cast or a division by zero fails the query as it does on Athena) and logs
quiet (errors only, no progress bar).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakebox.config import DEFAULT_SPARK_DRIVER_HOST, check_spark_driver_host, check_spark_master
from lakebox.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Spark settings every lakebox session has (see the module's docstring)
BASE_SETTINGS: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    # Athena's TIMESTAMP has no time zone: Spark's TIMESTAMP_NTZ, read back as a naive
    # Arrow timestamp (TIMESTAMP WITH TIME ZONE is written TIMESTAMP_LTZ)
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # small lakes, small machines: Spark's 200 shuffle partitions cost more than they give
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    # Athena folds identifiers to lower case and matches columns case-insensitively
    "spark.sql.caseSensitive": "false",
    # written Parquet timestamps as Trino writes them (not Spark's legacy INT96)
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # no _SUCCESS marker among a write's staged files
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
}

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex{0}
# the shell's loggers set as the root is: pyspark's session then prints no advice on start
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
# a failed task's error is the query's, which lakebox reports in Athena's words
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = fatal
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = fatal
"""


@dataclass(frozen=True)
class SparkSettings:
    """What a lake asks of the process's session."""

    master: str = "local[*]"
    app_name: str = "lakebox"
    #: extra ``spark.*`` settings (``LAKEBOX_SPARK_CONF``: ``key=value`` pairs split by ``;``)
    extra: tuple[tuple[str, str], ...] = ()
    #: where executors reach the driver (``LakeConfig.spark_driver_host``); the driver
    #: listens on that address (``LAKEBOX_SPARK_CONF`` may set ``spark.driver.bindAddress``)
    driver_host: str = DEFAULT_SPARK_DRIVER_HOST

    @property
    def driver_settings(self) -> dict[str, str]:
        """``spark.driver.host`` and ``spark.driver.bindAddress`` for ``driver_host``."""
        return {"spark.driver.host": self.driver_host, "spark.driver.bindAddress": self.driver_host}

    @classmethod
    def from_env(cls, master: str, driver_host: str = DEFAULT_SPARK_DRIVER_HOST) -> SparkSettings:
        extra: list[tuple[str, str]] = []
        for pair in os.environ.get("LAKEBOX_SPARK_CONF", "").split(";"):
            if not pair.strip():
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip().startswith("spark."):
                raise ConfigError(
                    f"LAKEBOX_SPARK_CONF entry {pair.strip()!r} is not spark.<name>=<value>"
                )
            extra.append((key.strip(), value.strip()))
        return cls(
            check_spark_master(master),
            extra=tuple(extra),
            driver_host=check_spark_driver_host(driver_host),
        )


class _Shared:
    """The process's one session, the settings it was started with and its holders."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.session: SparkSession | None = None
        self.settings: SparkSettings | None = None
        self.holders = 0
        self.scratch: Path | None = None


_SHARED = _Shared()


def acquire(settings: SparkSettings) -> SparkSession:
    """The process's session, started with ``settings`` if none runs; the caller holds it
    until ``release``. A running session with another master is a ConfigError: one
    process has one SparkContext."""
    with _SHARED.lock:
        if _SHARED.session is not None:
            running = _SHARED.settings
            assert running is not None
            if running.master != settings.master:
                raise ConfigError(
                    f"this process already runs Spark with master {running.master!r}; "
                    f"a lake asking for {settings.master!r} needs its own process"
                )
            if running.driver_host != settings.driver_host:
                raise ConfigError(
                    f"this process already runs a Spark driver on {running.driver_host}; a "
                    f"lake asking for {settings.driver_host} (LAKEBOX_SPARK_DRIVER_HOST) "
                    "needs its own process"
                )
            _SHARED.holders += 1
            return _SHARED.session
        _SHARED.session = _start(settings)
        _SHARED.settings = settings
        _SHARED.holders = 1
        return _SHARED.session


def release() -> None:
    """Let go of the session; the last holder stops it and ends its JVM."""
    with _SHARED.lock:
        _SHARED.holders = max(_SHARED.holders - 1, 0)
        if _SHARED.holders or _SHARED.session is None:
            return
        session, _SHARED.session, _SHARED.settings = _SHARED.session, None, None
        scratch, _SHARED.scratch = _SHARED.scratch, None
    _stop(session)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def running() -> bool:
    """Whether this process runs a Spark session now."""
    return _SHARED.session is not None


def _quiet_python_side() -> None:
    """pyspark logs every failed query's error, with its JVM stack, as JSON on stderr
    (its query-context loggers), and warns once that it does not know the installed
    pandas: lakebox reports errors itself and does not use pandas."""
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyspark.testing.utils  # noqa: F401  (imported once, its warning silenced)


def _start(settings: SparkSettings) -> SparkSession:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyspark.sql import SparkSession
    _quiet_python_side()
    scratch = Path(tempfile.mkdtemp(prefix="lakebox-spark-"))
    _SHARED.scratch = scratch
    log4j = scratch / "log4j2.properties"
    log4j.write_text(_LOG4J)
    java_options = f"-Dlog4j2.configurationFile=file:{log4j} -Dderby.system.home={scratch}"
    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    conf = {
        **BASE_SETTINGS,
        **settings.driver_settings,
        "spark.local.dir": str(scratch / "local"),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.driver.extraJavaOptions": java_options,
        "spark.executor.extraJavaOptions": java_options,
        **dict(settings.extra),
    }
    for key, value in conf.items():
        builder = builder.config(key, value)
    # the JVM's own start-up lines ("Using Spark's default log4j profile") go to its
    # stderr before the configuration is read: the launcher honours this variable
    before = os.environ.get("SPARK_SUBMIT_OPTS")
    os.environ["SPARK_SUBMIT_OPTS"] = f"{before or ''} -Dlog4j2.configurationFile=file:{log4j}"
    # the Python the executors run lakebox's Python readers in (``python_readers``): this
    # one, unless PYSPARK_PYTHON names another (a cluster's workers may need their own)
    python_before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = python_before or sys.executable
    try:
        session = builder.getOrCreate()
    except Exception as err:
        shutil.rmtree(scratch, ignore_errors=True)
        _SHARED.scratch = None
        raise ConfigError(
            f"cannot start Spark (master {settings.master}): {str(err).splitlines()[0]}; "
            "Spark needs Java 17 or later on PATH (or JAVA_HOME)"
        ) from err
    finally:
        restore = (("SPARK_SUBMIT_OPTS", before), ("PYSPARK_PYTHON", python_before))
        for variable, previous in restore:
            if previous is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = previous
    session.sparkContext.setLogLevel("ERROR")
    return session


def _stop(session: SparkSession) -> None:
    """Stop the session and end its JVM (pyspark leaves the gateway process running until
    the Python process exits)."""
    from pyspark import SparkContext

    try:
        session.stop()
    finally:
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)
        if gateway is not None:
            try:
                gateway.shutdown()
            except Exception:
                pass
        if proc is not None:
            try:
                proc.stdin.close()  # the launcher ends the JVM when its stdin closes
            except Exception:
                pass
            try:
                proc.wait(timeout=20)
            except Exception:
                proc.kill()
                proc.wait()
        SparkContext._gateway = None
        SparkContext._jvm = None
