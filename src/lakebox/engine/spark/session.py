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

S3 mode reads and writes through Hadoop's S3A (``lakebox.engine.spark.s3a``): its jars
(``s3a.find_jars``) are on the JVM's class path whenever they are installed, and the
first lake in S3 mode to take the session sets the process's ``fs.s3a.*`` settings from
its ``S3Settings``; they stay while some lake in S3 mode holds the session, and a lake
asking for another endpoint or other credentials meanwhile is a ConfigError (as another
master is). When the last such lake lets go, they are removed and S3A's cached
filesystems closed, so a later lake may bring its own.
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
from typing import TYPE_CHECKING, Any

from lakebox.config import (
    DEFAULT_SPARK_DRIVER_HOST,
    S3Settings,
    check_spark_driver_host,
    check_spark_master,
)
from lakebox.engine.spark import s3a
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
    #: the lake's S3 settings when it is in S3 mode (read and written through S3A)
    s3: S3Settings | None = None

    @property
    def driver_settings(self) -> dict[str, str]:
        """``spark.driver.host`` and ``spark.driver.bindAddress`` for ``driver_host``."""
        return {"spark.driver.host": self.driver_host, "spark.driver.bindAddress": self.driver_host}

    @classmethod
    def from_env(
        cls,
        master: str,
        driver_host: str = DEFAULT_SPARK_DRIVER_HOST,
        s3: S3Settings | None = None,
    ) -> SparkSettings:
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
            s3=s3,
        )


class _Shared:
    """The process's one session, the settings it was started with and its holders."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.session: SparkSession | None = None
        self.settings: SparkSettings | None = None
        self.holders = 0
        self.scratch: Path | None = None
        #: the ``fs.s3a.*`` settings in force and how many holders use them
        self.s3a: dict[str, str] | None = None
        self.s3_holders = 0


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
            if settings.s3 is not None:
                _use_s3(_SHARED.session, settings.s3)
            _SHARED.holders += 1
            return _SHARED.session
        if settings.s3 is not None:
            check_s3a_jars(settings)
        session = _start(settings)
        if settings.s3 is not None:
            try:
                _use_s3(session, settings.s3)
            except BaseException:
                _stop(session)
                _drop_scratch()
                raise
        _SHARED.session = session
        _SHARED.settings = settings
        _SHARED.holders = 1
        return _SHARED.session


def release(settings: SparkSettings | None = None) -> None:
    """Let go of the session (``settings``: what the holder acquired it with); the last
    holder stops it and ends its JVM, the last holder in S3 mode removes the S3
    settings."""
    with _SHARED.lock:
        _SHARED.holders = max(_SHARED.holders - 1, 0)
        if settings is not None and settings.s3 is not None and _SHARED.s3a is not None:
            _SHARED.s3_holders = max(_SHARED.s3_holders - 1, 0)
            if not _SHARED.s3_holders and _SHARED.holders and _SHARED.session is not None:
                _drop_s3(_SHARED.session)
        if _SHARED.holders or _SHARED.session is None:
            return
        session, _SHARED.session, _SHARED.settings = _SHARED.session, None, None
        scratch, _SHARED.scratch = _SHARED.scratch, None
        _SHARED.s3a, _SHARED.s3_holders = None, 0
        s3a.forget_buckets()
    _stop(session)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _drop_scratch() -> None:
    scratch, _SHARED.scratch = _SHARED.scratch, None
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _hadoop_confs(session: SparkSession) -> list[object]:
    """The Hadoop configurations S3A reads: the SparkContext's and the one every SQL
    session copies its own from (Spark's shared state keeps a copy of the former)."""
    jsc = session.sparkContext._jsc
    assert jsc is not None
    return [jsc.hadoopConfiguration(), session._jsparkSession.sharedState().hadoopConf()]


#: settings through which a user may have brought S3A's jars themselves
_JAR_SETTINGS = ("spark.jars", "spark.jars.packages", "spark.driver.extraClassPath")


def check_s3a_jars(settings: SparkSettings) -> None:
    """Before a JVM starts for a lake in S3 mode: S3A's jars must be on hand."""
    if s3a.find_jars() or any(key in _JAR_SETTINGS for key, _ in settings.extra):
        return
    raise ConfigError(
        "S3 mode on Spark needs Hadoop's S3A (hadoop-aws and the AWS SDK jars), which "
        f"pyspark does not bundle: {s3a.how_to_get()}"
    )


def _use_s3(session: SparkSession, s3: S3Settings) -> None:
    """Set the process's S3A settings from ``s3``, or check that those in force are the
    same (under ``_SHARED.lock``)."""
    wanted = s3a.hadoop_settings(s3)
    if _SHARED.s3a is not None:
        if _SHARED.s3a != wanted:
            raise ConfigError(
                "this process already runs Spark on S3 with another endpoint or other "
                f"credentials ({_SHARED.s3a.get('fs.s3a.endpoint', 'AWS')}); a lake with "
                "other S3 settings needs its own process"
            )
        _SHARED.s3_holders += 1
        return
    jvm = session.sparkContext._jvm
    assert jvm is not None
    try:
        _load_class(jvm, s3a.S3A_CLASS)
    except Exception as err:
        found = s3a.find_jars()
        if found:
            raise ConfigError(
                "S3 mode on Spark needs Hadoop's S3A, but this process's Spark session "
                f"started without it (the jars {', '.join(str(p) for p in found)} are there "
                "now): start the process again"
            ) from err
        raise ConfigError(
            "S3 mode on Spark needs Hadoop's S3A (hadoop-aws and the AWS SDK jars), "
            f"which pyspark does not bundle: {s3a.how_to_get()}"
        ) from err
    for conf in _hadoop_confs(session):
        for key, value in wanted.items():
            conf.set(key, value)  # type: ignore[attr-defined]
    _SHARED.s3a = wanted
    _SHARED.s3_holders = 1


def _load_class(jvm: Any, name: str) -> None:
    """Load ``name`` as the JVM's code would: from the class path (the jars of
    ``add_class_path``), else from Spark's loader (``spark.jars``, ``spark.jars.packages``)."""
    try:
        jvm.java.lang.Thread.currentThread().getContextClassLoader().loadClass(name)
    except Exception:
        jvm.org.apache.spark.util.Utils.classForName(name, False, False)


def _drop_s3(session: SparkSession) -> None:
    """Remove the S3A settings and close S3A's cached filesystems (they keep the
    credentials they were made with), under ``_SHARED.lock``."""
    settings, _SHARED.s3a, _SHARED.s3_holders = _SHARED.s3a or {}, None, 0
    jvm = session.sparkContext._jvm
    assert jvm is not None
    confs = _hadoop_confs(session)
    try:
        for bucket in s3a.used_buckets():
            uri = jvm.java.net.URI(f"s3a://{bucket}/")
            try:
                jvm.org.apache.hadoop.fs.FileSystem.get(uri, confs[-1]).close()
            except Exception:  # a filesystem that cannot be made holds nothing to close
                pass
    finally:
        s3a.forget_buckets()
        for conf in confs:
            for key in settings:
                conf.unset(key)  # type: ignore[attr-defined]


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
    add_class_path(conf)
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


def add_class_path(conf: dict[str, str]) -> None:
    """Put the S3A jars (``s3a.find_jars``), when there are any, on the driver's and the
    executors' class path (the JVM's own: nothing is copied per session; a cluster's
    workers need them at the same path, or ``spark.jars.packages``)."""
    jars = [str(p) for p in s3a.find_jars()]
    if not jars:
        return
    for key in ("spark.driver.extraClassPath", "spark.executor.extraClassPath"):
        conf[key] = os.pathsep.join([*filter(None, [conf.get(key)]), *jars])


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
