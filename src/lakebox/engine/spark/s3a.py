"""S3 mode on Spark: Hadoop's S3A filesystem with the lake's endpoint and credentials.

pyspark bundles Hadoop's client (``hadoop-client-api`` / ``-runtime``) but not S3A
(``hadoop-aws``) nor the AWS SDK it calls. On a real cluster they come from Maven
(``spark.jars.packages=org.apache.hadoop:hadoop-aws:<Spark's Hadoop version>``) or from
the cluster's own Spark distribution. lakebox's development machines reach PyPI but not
Maven Central, so lakebox takes the two jars from a pinned PyPI source distribution
that happens to ship them (``lakebox.engine.spark.jars``). ``./dev spark-jars`` (and
``./dev test``) runs it; ``LAKEBOX_SPARK_JARS`` points at other jars instead
(``lakebox.config.spark_jars_setting``).

hadoop-aws 3.3.1 is older than pyspark's Hadoop (3.5): Hadoop 3.5's defaults write some
S3A durations with units (``60s``, ``24h``) that 3.3.1 reads as plain numbers and fails
on. ``hadoop_settings`` gives every such setting as a number in the unit both versions
read, so the same settings suit 3.3.1 and a matching hadoop-aws alike.

The settings go into the process's Hadoop configuration when the first lake in S3 mode
takes the session (``lakebox.engine.spark.session``): one process talks to one S3
endpoint with one set of credentials at a time, as it runs one Spark master.
"""

from __future__ import annotations

import threading
from pathlib import Path

from lakebox.config import S3Settings, spark_jar_cache, spark_jars_setting

#: the class S3A's ``s3a://`` scheme is served by
S3A_CLASS = "org.apache.hadoop.fs.s3a.S3AFileSystem"


def how_to_get() -> str:
    """What to do when S3 mode needs S3A and the session has no S3A jars."""
    return (
        "run `./dev spark-jars` in lakebox's repository (or `python -m "
        "lakebox.engine.spark.s3a`), which puts hadoop-aws and the AWS SDK bundle in "
        f"{spark_jar_cache()}, or point LAKEBOX_SPARK_JARS at your own hadoop-aws and AWS "
        "SDK jars (on a cluster: LAKEBOX_SPARK_CONF='spark.jars.packages=org.apache.hadoop:"
        "hadoop-aws:<the Hadoop version of your Spark>')"
    )


#: Hadoop 3.5 default durations hadoop-aws 3.3.1 cannot parse, as plain numbers in the
#: unit each version reads them in (seconds for the first and the purge age, else ms)
_NUMERIC_DEFAULTS = {
    "fs.s3a.threads.keepalivetime": "60",
    "fs.s3a.connection.establish.timeout": "5000",
    "fs.s3a.connection.timeout": "200000",
    "fs.s3a.multipart.purge.age": "86400",
    "fs.s3a.connection.ttl": "300000",
    "fs.s3a.connection.request.timeout": "0",
    "fs.s3a.connection.acquisition.timeout": "60000",
    "fs.s3a.connection.idle.time": "60000",
}

_BUCKETS_LOCK = threading.Lock()
#: the buckets Spark was given paths in: their cached filesystems are closed when the
#: process's S3 settings go (``lakebox.engine.spark.session``)
_BUCKETS: set[str] = set()


def spark_path(engine_path: str) -> str:
    """What Spark opens for a storage engine path: ``s3://`` (S3 mode) as ``s3a://``,
    a local path as it is."""
    if engine_path.startswith("s3://"):
        bucket = engine_path[5:].split("/", 1)[0]
        with _BUCKETS_LOCK:
            _BUCKETS.add(bucket)
        return "s3a://" + engine_path[5:]
    return engine_path


def used_buckets() -> list[str]:
    """The buckets ``spark_path`` named since the last ``forget_buckets``."""
    with _BUCKETS_LOCK:
        return sorted(_BUCKETS)


def forget_buckets() -> None:
    with _BUCKETS_LOCK:
        _BUCKETS.clear()


def hadoop_settings(s3: S3Settings) -> dict[str, str]:
    """The ``fs.s3a.*`` settings that reach the lake's S3: its endpoint (path-style
    addressing, as the DuckDB engine uses, and plain HTTP for an ``http://`` endpoint),
    region and credentials. Keys the lake leaves unset are resolved here as the storage
    layer resolves them (botocore: environment, ``AWS_PROFILE``, instance roles), so Spark
    and the planner's listings use the same credentials."""
    conf = dict(_NUMERIC_DEFAULTS)
    if s3.endpoint_url:
        conf["fs.s3a.endpoint"] = s3.endpoint_url
        conf["fs.s3a.path.style.access"] = "true"
        secure = not s3.endpoint_url.lower().startswith("http://")
        conf["fs.s3a.connection.ssl.enabled"] = str(secure).lower()
    if s3.region:
        conf["fs.s3a.endpoint.region"] = s3.region
    key, secret, token = s3.credentials()
    if key:
        conf["fs.s3a.access.key"] = key
        conf["fs.s3a.secret.key"] = secret or ""
        if token:
            conf["fs.s3a.session.token"] = token
            conf["fs.s3a.aws.credentials.provider"] = (
                "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
            )
        else:
            conf["fs.s3a.aws.credentials.provider"] = (
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            )
    return conf


def find_jars() -> tuple[Path, ...]:
    """The S3A jars the session puts on its class path: ``LAKEBOX_SPARK_JARS``'s when it
    is set, else ``install``'s when they are there, else none."""
    from lakebox.engine.spark.jars import JARS, installed

    chosen = spark_jars_setting()
    if chosen is not None:
        return chosen
    folder = spark_jar_cache()
    return tuple(folder / name for name in JARS) if installed(folder) else ()
