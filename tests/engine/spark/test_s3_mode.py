"""A lake in S3 mode on the Spark engine: Spark reads and writes the lake's bucket through
Hadoop's S3A (``lakebox.engine.spark.s3a``) on a real S3 server (moto's, on loopback),
and answers as the DuckDB engine does over the same lake, row by row.

The S3A jars come from ``./dev spark-jars`` (``./dev test`` fetches them first); without
them these tests fail under CI and are skipped elsewhere."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox
from lakebox.engine.spark import SparkEngine
from lakebox.engine.spark.s3a import find_jars
from lakebox.errors import ConfigError, DataError, LakeboxError, StorageError

pytestmark = [pytest.mark.spark, pytest.mark.s3]


@pytest.fixture(scope="module")
def s3a_jars() -> None:
    if find_jars():
        return
    message = "the S3A jars are missing: run ./dev spark-jars"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _engine_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_connect`` sets LAKEBOX_ENGINE for the lake it opens; the test's end restores it,
    so no later test of the worker runs on the engine this one chose last."""
    monkeypatch.setenv("LAKEBOX_ENGINE", "duckdb")


def _connect(home: Path, engine: str, endpoint: str) -> lakebox.Session:
    os.environ["LAKEBOX_ENGINE"] = engine
    return lakebox.connect(home, storage="s3", s3_endpoint=endpoint)


@pytest.fixture
def s3_lake(
    s3_endpoint: str,
    tmp_path: Path,
    bucket: str,
    spark_held: str,
    s3a_jars: None,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Path, str, str]:
    """A lake in S3 mode (home, endpoint, bucket): a partitioned Parquet table, a text
    table with NULL markers and a value that is not a number, an OpenCSV table and a JSON
    table, all in one fresh bucket, made on DuckDB."""
    # no region: the DuckDB engine's partitioned write through fsspec then asks s3fs to
    # make the bucket with that region as its LocationConstraint, which S3 refuses for
    # us-east-1 (a DuckDB-side issue, seen here; Spark is not concerned)
    names = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION")
    for var in (*names, "LAKEBOX_SPARK_JARS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("LAKEBOX_ENGINE", "duckdb")
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    home = tmp_path / "lake"
    session = _connect(home, "duckdb", s3_endpoint)
    lake = session.lake
    b = bucket
    try:
        lake.storage.ensure_bucket(b)
        put = lake.storage.write_bytes
        put(
            f"s3://{b}/sales/dt=2024-01-01/a.parquet",
            _parquet({"id": [1, 2], "amount": [10.5, 20.0], "region": ["eu", "us"]}),
        )
        put(
            f"s3://{b}/sales/dt=2024-01-01/b c.parquet",  # a space in the key
            _parquet({"id": [3], "amount": [1.25], "region": ["eu"]}),
        )
        put(
            f"s3://{b}/sales/dt=2024-01-02/a.parquet",
            _parquet({"id": [1, 4], "amount": [2.0, None], "region": ["us", None]}),
        )
        put(f"s3://{b}/people/p.csv", b"1,ann,34\n2,bob,\\N\n3,cy,x\n4,dee,51\n5,\\N,7\n")
        put(f"s3://{b}/quoted/q.csv", b'1,"a, b",x\n2,"",y\n3,say hi,z\n')
        events = [
            {"id": 1, "kind": "click", "ms": 120},
            {"id": 2, "kind": "view"},
            {"id": 3, "kind": "click", "ms": 80},
            {"id": 4, "kind": None, "ms": 5},
        ]
        put(f"s3://{b}/events/e.json", b"".join(json.dumps(r).encode() + b"\n" for r in events))
        for ddl in [
            "CREATE EXTERNAL TABLE sales (id bigint, amount double, region string) "
            f"PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://{b}/sales/'",
            "MSCK REPAIR TABLE sales",
            "CREATE EXTERNAL TABLE people (id int, name string, age int) "
            f"ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://{b}/people/'",
            "CREATE EXTERNAL TABLE quoted (id string, label string, tag string) ROW FORMAT "
            f"SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' LOCATION 's3://{b}/quoted/'",
            "CREATE EXTERNAL TABLE events (id int, kind string, ms bigint) ROW FORMAT SERDE "
            f"'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://{b}/events/'",
        ]:
            session.sql(ddl)
    finally:
        lake.close()
    return home, s3_endpoint, b


QUERIES = [
    "SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region ORDER BY region",
    "SELECT id, dt, \"$path\" AS path FROM sales WHERE dt = '2024-01-01' ORDER BY id",
    "SELECT * FROM people ORDER BY age DESC, id",
    "SELECT * FROM quoted ORDER BY id",
    "SELECT kind, count(*) AS n, sum(ms) AS ms FROM events GROUP BY kind ORDER BY kind",
]

WRITES = [
    "CREATE TABLE {t} WITH (format = 'PARQUET', partitioned_by = ARRAY['region']) AS "
    "SELECT id, amount, dt, region FROM sales",
    "INSERT INTO {t} SELECT id * 10, amount, 'x', region FROM sales WHERE dt = '2024-01-02'",
    "UNLOAD (SELECT id, name FROM people WHERE id < 4) TO 's3://{b}/unload-{t}/' "
    "WITH (format = 'PARQUET')",
]
READ_BACK = [
    "SELECT id, amount, dt, region FROM {t} ORDER BY id, dt",
    "SELECT region, count(*) AS n FROM {t} GROUP BY region ORDER BY region",
]


def _shape(table: pa.Table) -> tuple[list[str], list[pa.DataType], list[dict[str, object]]]:
    return table.column_names, table.schema.types, table.to_pylist()


def _run(home: Path, engine: str, endpoint: str, bucket: str, table: str) -> list[pa.Table]:
    """The queries' answers on ``engine``, after its writes into ``table``."""
    session = _connect(home, engine, endpoint)
    try:
        assert session.lake.engine.name == engine
        answers = [session.sql(q).to_arrow() for q in QUERIES]
        for sql in WRITES:
            session.sql(sql.format(t=table, b=bucket))
        return answers
    finally:
        session.lake.close()


def test_spark_on_s3_answers_and_writes_as_duckdb(s3_lake: tuple[Path, str, str]) -> None:
    home, endpoint, bucket = s3_lake
    duck = _run(home, "duckdb", endpoint, bucket, "by_duck")
    spark = _run(home, "spark", endpoint, bucket, "by_spark")
    for sql, d, s in zip(QUERIES, duck, spark, strict=True):
        assert _shape(s) == _shape(d), sql
        assert d.num_rows, sql
    # "$path" names the lake's s3:// URIs, the key with a space included
    paths = spark[1].column("path").to_pylist()
    assert f"s3://{bucket}/sales/dt=2024-01-01/b c.parquet" in paths
    # what each engine wrote reads back the same (on DuckDB), partitions included
    session = _connect(home, "duckdb", endpoint)
    try:
        for sql in READ_BACK:
            d = session.sql(sql.format(t="by_duck")).to_arrow()
            s = session.sql(sql.format(t="by_spark")).to_arrow()
            assert _shape(s) == _shape(d), sql
            assert d.num_rows
        parts = session.sql("SHOW PARTITIONS by_spark").fetchall()
        assert parts == session.sql("SHOW PARTITIONS by_duck").fetchall()
        assert ("region=__HIVE_DEFAULT_PARTITION__",) in parts
        storage = session.lake.storage
        unloaded = {}
        for name in ("by_duck", "by_spark"):
            files = [f.uri for f in storage.list_files(f"s3://{bucket}/unload-{name}/")]
            assert files and all(f.endswith(".parquet") for f in files)
            rows = pa.concat_tables(pq.read_table(io.BytesIO(storage.read_bytes(f))) for f in files)
            unloaded[name] = sorted(rows.to_pylist(), key=lambda r: r["id"])
        assert (
            unloaded["by_spark"]
            == unloaded["by_duck"]
            == [
                {"id": 1, "name": "ann"},
                {"id": 2, "name": "bob"},
                {"id": 3, "name": "cy"},
            ]
        )
        # the commit left no staging behind: every object is a table's or UNLOAD's file
        keys = [f.uri for f in storage.list_files(f"s3://{bucket}/", include_hidden=True)]
        assert not [k for k in keys if ".lakebox-staging-" in k]
    finally:
        session.lake.close()


def _avro(rows: list[dict[str, Any]]) -> bytes:
    import fastavro

    schema = {
        "type": "record",
        "name": "click",
        "fields": [{"name": "id", "type": "long"}, {"name": "page", "type": ["null", "string"]}],
    }
    buf = io.BytesIO()
    fastavro.writer(buf, schema, rows)
    return buf.getvalue()


EXECUTOR_QUERIES = [
    'SELECT id, page, dt, "$path" AS path, "$file_size" AS size FROM clicks ORDER BY id',
    "SELECT dt, count(*) AS n FROM clicks WHERE dt = 2 GROUP BY dt",
    'SELECT id, v, "$path" AS path FROM logs ORDER BY id',
]


def test_executor_formats_read_in_s3_mode_as_on_duckdb(s3_lake: tuple[Path, str, str]) -> None:
    """Avro and Regex tables, read by the DuckDB engine's readers in Spark's executors
    (each object copied to a temporary file first), answer as DuckDB does over the same
    S3 lake: partition values and pseudo-columns name each file's s3:// URI, a gzip'd
    object is decompressed, a key with a space is read; a damaged object fails the query
    with a DataError naming its s3:// URI."""
    home, endpoint, bucket = s3_lake
    session = _connect(home, "duckdb", endpoint)
    try:
        put = session.lake.storage.write_bytes
        put(f"s3://{bucket}/clicks/dt=1/a.avro", _avro([{"id": 1, "page": "home"}]))
        put(
            f"s3://{bucket}/clicks/dt=2/b c.avro",
            _avro([{"id": 2, "page": None}, {"id": 3, "page": "cart"}]),
        )
        put(f"s3://{bucket}/logs/a.log", b"1 first line\n2 second\nnot matched\n")
        put(f"s3://{bucket}/logs/b.log.gz", gzip.compress(b"3 third\n4 fourth\n"))
        for ddl in [
            "CREATE EXTERNAL TABLE clicks (id bigint, page string) PARTITIONED BY (dt int) "
            f"STORED AS AVRO LOCATION 's3://{bucket}/clicks/'",
            "MSCK REPAIR TABLE clicks",
            "CREATE EXTERNAL TABLE logs (id int, v string) ROW FORMAT SERDE "
            "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
            f"('input.regex' = '(\\\\d+) (.*)') LOCATION 's3://{bucket}/logs/'",
        ]:
            session.sql(ddl)
        duck = [session.sql(q).to_arrow() for q in EXECUTOR_QUERIES]
    finally:
        session.lake.close()
    session = _connect(home, "spark", endpoint)
    try:
        assert isinstance(session.lake.engine, SparkEngine)
        spark = [session.sql(q).to_arrow() for q in EXECUTOR_QUERIES]
        session.lake.storage.write_bytes(f"s3://{bucket}/bad/c.avro", b"Obj\x01 not Avro")
        session.sql(
            f"CREATE EXTERNAL TABLE bad (id bigint) STORED AS AVRO LOCATION 's3://{bucket}/bad/'"
        )
        with pytest.raises(DataError, match="cannot decode Avro data") as caught:
            session.sql("SELECT * FROM bad")
        assert caught.value.uri == f"s3://{bucket}/bad/c.avro"
        _clean(caught.value)
    finally:
        session.lake.close()
    for sql, d, s in zip(EXECUTOR_QUERIES, duck, spark, strict=True):
        assert _shape(s) == _shape(d), sql
    clicks = spark[0].to_pylist()
    assert [(r["id"], r["page"], r["dt"]) for r in clicks] == [
        (1, "home", 1),
        (2, None, 2),
        (3, "cart", 2),
    ]
    assert clicks[1]["path"] == f"s3://{bucket}/clicks/dt=2/b c.avro"
    assert spark[1].to_pylist() == [{"dt": 2, "n": 2}]
    logs = spark[2].to_pylist()
    assert [r["v"] for r in logs if r["id"] is not None] == [
        "first line",
        "second",
        "third",
        "fourth",
    ]
    assert {r["path"] for r in logs} == {
        f"s3://{bucket}/logs/a.log",
        f"s3://{bucket}/logs/b.log.gz",
    }


EXECUTOR_WRITES = [
    "CREATE TABLE {t}_text WITH (format = 'TEXTFILE', partitioned_by = ARRAY['region'], "
    "external_location = 's3://{b}/{t}-text/') AS SELECT id, amount, dt, region FROM sales",
    "CREATE TABLE {t}_json WITH (format = 'JSON', write_compression = 'GZIP', "
    "external_location = 's3://{b}/{t}-json/') AS SELECT id, name, age FROM people",
]


def _files(storage: Any, prefix: str) -> dict[str, list[bytes]]:
    """The objects under ``prefix`` by folder (relative) and extension: their lines,
    decompressed and sorted (the engines name their files differently)."""
    found: dict[str, list[bytes]] = {}
    for f in storage.list_files(prefix, include_hidden=True):
        relative = f.uri[len(prefix) :]
        folder, _, name = relative.rpartition("/")
        data = storage.read_bytes(f.uri)
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        key = f"{folder}/*.{name.split('.', 1)[-1] if '.' in name else ''}"
        found.setdefault(key, []).extend(data.splitlines())
    return {k: sorted(v) for k, v in found.items()}


def test_executor_formats_write_in_s3_mode_as_on_duckdb(s3_lake: tuple[Path, str, str]) -> None:
    """CTAS to TEXTFILE (partitioned) and to gzip'd JSON in S3 mode: Spark's executors
    write each file locally and upload it to staging, the commit moves it; the objects
    hold the lines DuckDB writes, in the same folders with the same extensions, the
    tables read back the same and no staging is left behind."""
    home, endpoint, bucket = s3_lake
    for engine, name in (("duckdb", "by_duck"), ("spark", "by_spark")):
        session = _connect(home, engine, endpoint)
        try:
            assert session.lake.engine.name == engine
            for sql in EXECUTOR_WRITES:
                session.sql(sql.format(t=name, b=bucket))
        finally:
            session.lake.close()
    session = _connect(home, "duckdb", endpoint)
    try:
        storage = session.lake.storage
        for kind in ("text", "json"):
            duck = _files(storage, f"s3://{bucket}/by_duck-{kind}/")
            spark = _files(storage, f"s3://{bucket}/by_spark-{kind}/")
            assert spark == duck, kind
            assert duck and all(duck.values()), kind
        text = _files(storage, f"s3://{bucket}/by_spark-text/")
        assert {k.split("/")[0] for k in text} == {
            "region=eu",
            "region=us",
            "region=__HIVE_DEFAULT_PARTITION__",
        }
        for sql in (
            "SELECT id, amount, dt, region FROM {t}_text ORDER BY id, dt",
            "SELECT * FROM {t}_json ORDER BY id",
        ):
            d = session.sql(sql.format(t="by_duck")).to_arrow()
            s = session.sql(sql.format(t="by_spark")).to_arrow()
            assert _shape(s) == _shape(d), sql
            assert d.num_rows, sql
        keys = [f.uri for f in storage.list_files(f"s3://{bucket}/", include_hidden=True)]
        assert not [k for k in keys if ".lakebox-staging-" in k]
    finally:
        session.lake.close()


GLUE_SCRIPT = """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])
glueContext = GlueContext(SparkContext())
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
sales = glueContext.create_dynamic_frame.from_catalog(database="default", table_name="sales")
mapped = ApplyMapping.apply(frame=sales, mappings=[
    ("id", "bigint", "order_id", "long"), ("amount", "double", "amount", "double"),
    ("region", "string", "region", "string"), ("dt", "string", "dt", "string"),
])
glueContext.write_dynamic_frame.from_options(
    frame=mapped, connection_type="s3", format="parquet",
    connection_options={"path": args["target"], "partitionKeys": ["dt"]},
)
print("written", mapped.count())
job.commit()
"""


def test_a_glueetl_job_on_an_s3_lake_writes_what_duckdb_computes(
    s3_lake: tuple[Path, str, str], spark_held: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``glueetl`` run of a lake in S3 mode: its process reaches the lake's S3 (the
    lake's endpoint and keys, handed over as ``LAKEBOX_S3_*`` apart from the job's own AWS
    keys; nothing in the environment names the endpoint) through S3A, reads a catalog
    table there and writes Parquet partitions there; DuckDB reads them back and finds the
    rows it computes from the source."""
    from lakebox.config import LakeConfig, S3Settings
    from lakebox.lakehouse import Lakehouse

    home, endpoint, bucket = s3_lake
    script = home.parent / "etl.py"
    script.write_text(GLUE_SCRIPT)
    s3 = S3Settings(endpoint_url=endpoint, access_key_id="testing", secret_access_key="testing")
    for name in ("LAKEBOX_S3_ENDPOINT", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    config = LakeConfig.from_env(home=home, storage="s3", s3=s3, spark_master=spark_held)
    lake = Lakehouse.open(config)
    target = f"s3://{bucket}/etl/sales/"
    try:
        jobs = lake.glue_jobs
        jobs.register_job("etl", script, "glueetl", {"--target": target})
        run = jobs.wait(jobs.start_job_run("etl"), 600)
    finally:
        lake.close()
    log = Path(run.log_path or "").read_text()
    assert run.state == "SUCCEEDED", (run.error_message, log[-3000:])
    assert "written 5" in log
    session = _connect(home, "duckdb", endpoint)
    try:
        for ddl in [
            "CREATE EXTERNAL TABLE etl_sales (order_id bigint, amount double, region string) "
            f"PARTITIONED BY (dt string) STORED AS PARQUET LOCATION '{target}'",
            "MSCK REPAIR TABLE etl_sales",
        ]:
            session.sql(ddl)
        written = session.sql("SELECT * FROM etl_sales ORDER BY order_id, dt").fetchall()
        computed = session.sql(
            "SELECT id, amount, region, dt FROM sales ORDER BY id, dt"
        ).fetchall()
        assert written == computed and len(computed) == 5
    finally:
        session.lake.close()


def test_without_the_jars_s3_mode_says_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``acquire`` checks before it starts a JVM for a lake in S3 mode."""
    from lakebox.config import S3Settings
    from lakebox.engine.spark.session import SparkSettings, check_s3a_jars

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("LAKEBOX_SPARK_JARS", raising=False)
    settings = SparkSettings("local[1]", s3=S3Settings(endpoint_url="http://127.0.0.1:1"))
    with pytest.raises(ConfigError, match=r"\./dev spark-jars.*LAKEBOX_SPARK_JARS"):
        check_s3a_jars(settings)
    # jars brought through Spark's own settings are the user's business
    check_s3a_jars(
        SparkSettings("local[1]", extra=(("spark.jars.packages", "org.apache.hadoop:x:1"),))
    )
    monkeypatch.setenv("LAKEBOX_SPARK_JARS", str(tmp_path / "nowhere.jar"))
    with pytest.raises(ConfigError, match=r"LAKEBOX_SPARK_JARS names .*nowhere\.jar"):
        check_s3a_jars(settings)
    jar = tmp_path / "mine" / "hadoop-aws.jar"
    jar.parent.mkdir()
    jar.write_bytes(b"PK")
    monkeypatch.setenv("LAKEBOX_SPARK_JARS", str(jar.parent))
    check_s3a_jars(settings)


@pytest.fixture(scope="module")
def checking_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A second S3 server (moto's) that checks every request's keys and signature and
    what the IAM user may do: ``admin`` may do anything, ``lister`` may list buckets'
    keys but not read objects. Yields its URL and the users' ``key:secret``."""
    log = tmp_path_factory.mktemp("checking-s3") / "server.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    # the users, their keys and policies are made by the first six requests, unchecked
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "6"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"S3 server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
            region_name="us-east-1",
        )
        users = {}
        for user, actions in (("admin", ["s3:*"]), ("lister", ["s3:ListBucket"])):
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
            }
            iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
            users[user] = f"{key['AccessKeyId']}:{key['SecretAccessKey']}"
        yield url, users
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _as(keys: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key, _, secret = keys.partition(":")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)


def _clean(err: LakeboxError) -> None:
    text = str(err)
    assert "java." not in text and "\tat " not in text and "Traceback" not in text, text
    assert "py4j" not in text.lower() and "calling o" not in text, text


def test_refused_credentials_are_a_lakebox_error(
    checking_s3: tuple[str, dict[str, str]],
    tmp_path: Path,
    spark_held: str,
    s3a_jars: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong secret fails the query with lakebox's StorageError naming the location it
    could not list; keys that may list but not read fail it when Spark's S3A (or an
    executor copying an object for the DuckDB engine's readers) is refused the object,
    with a StorageError naming the object by its s3:// URI, S3's status and what to
    check. None shows a Java stack or a Python traceback."""
    url, users = checking_s3
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", spark_held)
    bucket = f"lb-{uuid.uuid4().hex[:12]}"
    home = tmp_path / "lake"
    _as(users["admin"], monkeypatch)
    session = _connect(home, "duckdb", url)
    try:
        session.lake.storage.ensure_bucket(bucket)
        session.lake.storage.write_bytes(f"s3://{bucket}/t/a.parquet", _parquet({"id": [1, 2]}))
        session.sql(
            f"CREATE EXTERNAL TABLE t (id bigint) STORED AS PARQUET LOCATION 's3://{bucket}/t/'"
        )
        assert session.sql("SELECT count(*) FROM t").fetchall() == [(2,)]
        session.lake.storage.write_bytes(f"s3://{bucket}/r/a.log", b"1 a\n")
        session.sql(
            "CREATE EXTERNAL TABLE r (id int, v string) ROW FORMAT SERDE "
            "'org.apache.hadoop.hive.serde2.RegexSerDe' WITH SERDEPROPERTIES "
            f"('input.regex' = '(\\\\d+) (.*)') LOCATION 's3://{bucket}/r/'"
        )
    finally:
        session.lake.close()

    admin_key = users["admin"].partition(":")[0]
    _as(f"{admin_key}:not-the-secret", monkeypatch)
    session = _connect(home, "spark", url)
    try:
        with pytest.raises(StorageError, match=f"cannot list s3://{bucket}/t/.*signature") as bad:
            session.sql("SELECT * FROM t")
        _clean(bad.value)
    finally:
        session.lake.close()

    _as(users["lister"], monkeypatch)
    session = _connect(home, "spark", url)
    try:
        assert isinstance(session.lake.engine, SparkEngine)
        with pytest.raises(StorageError) as refused:
            session.sql("SELECT * FROM t")
        _clean(refused.value)
        assert str(refused.value).startswith(
            f"S3 refused Spark's (S3A) request for s3://{bucket}/t/a.parquet: 403"
        ), refused.value
        assert "check the lake's S3 credentials" in str(refused.value)
        # the executors' own copy of an object (a Regex table) is refused the same way
        with pytest.raises(StorageError) as copying:
            session.sql("SELECT * FROM r")
        _clean(copying.value)
        assert str(copying.value).startswith(
            f"S3 refused the executor's read of s3://{bucket}/r/a.log: 403"
        ), copying.value
        assert "check the lake's S3 credentials" in str(copying.value)
        # and so is an executor's upload of a file it wrote (a JSON CTAS)
        with pytest.raises(StorageError) as uploading:
            session.sql(
                "CREATE TABLE w WITH (format = 'JSON', "
                f"external_location = 's3://{bucket}/w/') AS SELECT 1 AS id"
            )
        _clean(uploading.value)
        assert str(uploading.value).startswith(
            f"S3 refused the executor's write of s3://{bucket}/w/.lakebox-staging-"
        ), uploading.value
        assert ": 403 AccessDenied: check the lake's S3 credentials" in str(uploading.value)
    finally:
        session.lake.close()


def test_the_jar_installer_refuses_an_archive_that_is_not_the_pinned_one(
    tmp_path: Path,
) -> None:
    """``./dev spark-jars`` checks the archive's SHA-256 before it extracts anything: an
    archive with the right file names but other bytes (served here over HTTP on
    loopback) installs nothing."""
    import http.server
    import tarfile
    import threading

    from lakebox.engine.spark import jars

    archive = tmp_path / "fake.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in jars.JARS:
            part = tmp_path / name
            part.write_bytes(b"not the jar")
            tar.add(part, arcname=jars.SDIST_FOLDER + name)

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no request lines on the test's stderr

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/fake.tar.gz"
        target = tmp_path / "cache"
        with pytest.raises(ConfigError, match=f"{url} has SHA-256 .*expected {jars.SDIST_SHA256}"):
            jars.install(target, url=url)
        assert not jars.installed(target)
        assert [p.name for p in target.iterdir()] == []
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
