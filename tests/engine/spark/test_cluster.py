"""lakebox on a real Spark standalone cluster (a master and two workers on 127.0.0.1,
``conftest.spark_cluster``): a lake whose ``LAKEBOX_SPARK_MASTER`` names the cluster runs
its queries and writes in the cluster's executors and answers as DuckDB does, also when a
worker dies in the middle of a query; a Glue ETL job runs on the cluster and writes what
DuckDB computes.

The lake runs in a child process: a process has one SparkContext, and this test process
may hold its own local one for the other Spark tests. Slow (four JVMs and a driver per
test): selected with ``-m spark_cluster``."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmarks.standalone import StandaloneCluster

import lakebox
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse

from .conftest import _parquet
from .test_end_to_end import QUERIES

pytestmark = pytest.mark.spark_cluster

#: one executor per worker, small enough for a CI machine
EXECUTORS = "spark.executor.memory=512m; spark.executor.cores=1"

CTAS = (
    "CREATE TABLE by_region WITH (format = 'PARQUET', partitioned_by = ARRAY['region']) AS "
    "SELECT id, amount, dt, region FROM sales"
)
#: tables whose partitions are projected (Athena's partition projection), not stored: a
#: date projection over the ``sales`` folders, and a date x integer projection with a
#: location template (shard 3 and most days have no files: no rows, as on Athena)
PROJECTED = [
    "CREATE EXTERNAL TABLE sales_projected (id bigint, amount double, region string) "
    "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/sales/' "
    "TBLPROPERTIES ('projection.enabled'='true', 'projection.dt.type'='date', "
    "'projection.dt.format'='yyyy-MM-dd', 'projection.dt.range'='2024-01-01,2024-01-31')",
    "CREATE EXTERNAL TABLE visits (user_id bigint, ms bigint) "
    "PARTITIONED BY (day string, shard int) STORED AS PARQUET LOCATION 's3://lake/visits/' "
    "TBLPROPERTIES ('projection.enabled'='true', 'projection.day.type'='date', "
    "'projection.day.format'='yyyy/MM/dd', 'projection.day.range'='2024/01/01,2024/01/10', "
    "'projection.shard.type'='integer', 'projection.shard.range'='0,3', "
    "'storage.location.template'='s3://lake/visits/${day}/${shard}/')",
]
#: the queries of the end-to-end test (but the listing of tables, which differ here: the
#: DuckDB side makes its own copy of the CTAS table), a read of the written table and
#: queries over the projected tables
STATEMENTS = [
    *(q for q in QUERIES if "information_schema" not in q),
    "SELECT * FROM by_region ORDER BY id, dt",
    "SELECT dt, count(*) AS n, sum(amount) AS total FROM sales_projected "
    "WHERE dt BETWEEN '2024-01-01' AND '2024-01-05' GROUP BY dt ORDER BY dt",
    "SELECT day, shard, count(*) AS n, sum(ms) AS ms FROM visits GROUP BY day, shard "
    "ORDER BY day, shard",
    "SELECT * FROM visits WHERE day >= '2024/01/02' AND shard = 1 ORDER BY user_id",
    'SELECT user_id, "$path" FROM visits WHERE shard IN (0, 2) ORDER BY user_id',
]

_DRIVER = """
import json, sys, time
import lakebox
session = lakebox.connect(sys.argv[1])
try:
    spark = session.lake.engine.spark
    tracker = spark.sparkContext._jsc.sc().statusTracker()
    deadline = time.monotonic() + 120
    while len(tracker.getExecutorInfos()) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)  # the workers' executors register with the driver
    executors = len(tracker.getExecutorInfos()) - 1  # the driver is listed too
    conf = spark.sparkContext.getConf()
    print(json.dumps({
        "master": spark.sparkContext.master,
        "executors": executors,
        "driver_host": conf.get("spark.driver.host"),
    }))
    session.sql(sys.argv[2])
    for sql in json.loads(sys.argv[3]):
        print(json.dumps(session.sql(sql).to_arrow().to_pylist(), default=str))
finally:
    session.lake.close()
"""


def _rows(session: lakebox.Session, sql: str) -> object:
    return json.loads(json.dumps(session.sql(sql).to_arrow().to_pylist(), default=str))


def _spark_env(spark_cluster: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LAKEBOX_ENGINE": "spark",
        "LAKEBOX_SPARK_MASTER": spark_cluster,
        "LAKEBOX_SPARK_CONF": EXECUTORS,
        **extra,
    }


def _add_projected_tables(home: Path) -> None:
    session = lakebox.connect(home)
    try:
        put = session.lake.storage.write_bytes
        for day, shard, ids in [
            ("2024/01/01", 0, [1, 2]),
            ("2024/01/01", 2, [3]),
            ("2024/01/03", 1, [4, 5, 6]),
            ("2024/01/03", 2, [7]),
        ]:
            put(
                f"s3://lake/visits/{day}/{shard}/v.parquet",
                _parquet({"user_id": ids, "ms": [i * 10 for i in ids]}),
            )
        for ddl in PROJECTED:
            session.sql(ddl)
    finally:
        session.lake.close()


def test_a_two_worker_cluster_answers_as_duckdb(home: Path, spark_cluster: str) -> None:
    """Queries, a CTAS to partitioned Parquet and partition projection on the cluster,
    the driver reached by the executors at the configured ``LAKEBOX_SPARK_DRIVER_HOST``
    (127.0.0.2: another loopback address than the default one)."""
    _add_projected_tables(home)
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(home), CTAS, json.dumps(STATEMENTS)],
        capture_output=True,
        text=True,
        env=_spark_env(spark_cluster, LAKEBOX_SPARK_DRIVER_HOST="127.0.0.2"),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    info = json.loads(lines[0])
    assert info == {"master": spark_cluster, "executors": 2, "driver_host": "127.0.0.2"}
    on_cluster = [json.loads(line) for line in lines[1:]]
    session = lakebox.connect(home)  # DuckDB: the default engine
    try:
        session.sql(CTAS.replace("by_region", "by_region_duck"))
        expected = [
            _rows(session, sql.replace("by_region", "by_region_duck")) for sql in STATEMENTS
        ]
    finally:
        session.lake.close()
    assert on_cluster == expected
    # the projected tables' answers are not empty (a query that found no partition
    # would agree with DuckDB too)
    assert all(expected[-4:]), expected[-4:]


# -- a worker killed mid-query -----------------------------------------------------------

#: many small files, one task each (``spark.sql.files.*`` below): the scan keeps both
#: one-core executors busy for a while
BIG_FILES = 24
BIG_ROWS = 50_000
#: the worker dies once this many of the scan's tasks are done: some of the map output
#: Spark keeps on the dead worker (no external shuffle service) is lost with it
DONE_BEFORE_KILL = 6
BIG_QUERY = (
    "SELECT k % 50 AS g, count(*) AS n, sum(v) AS s, min(v) AS lo, max(v) AS hi, "
    "count(DISTINCT v % 1000) AS d FROM big GROUP BY k % 50 ORDER BY g"
)

_KILL_DRIVER = """
import json, sys, threading, time
import lakebox
from lakebox.errors import LakeboxError
session = lakebox.connect(sys.argv[1])
try:
    spark = session.lake.engine.spark
    tracker = spark.sparkContext.statusTracker()
    jtracker = spark.sparkContext._jsc.sc().statusTracker()
    deadline = time.monotonic() + 120
    while len(jtracker.getExecutorInfos()) < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    print(json.dumps({"executors": len(jtracker.getExecutorInfos()) - 1}), flush=True)
    outcome = {}

    def run():
        try:
            outcome["rows"] = session.sql(sys.argv[2]).to_arrow().to_pylist()
        except LakeboxError as err:
            outcome["error"] = [type(err).__name__, str(err)]
        except BaseException as err:  # not a lakebox error: the test fails on it
            outcome["raw"] = [type(err).__name__, str(err)]

    query = threading.Thread(target=run)
    query.start()
    # both executors (one core each) run a task of the query, some are done: say so, once
    while query.is_alive():
        infos = [tracker.getStageInfo(i) for i in tracker.getActiveStageIds()]
        infos = [i for i in infos if i is not None]
        active = sum(i.numActiveTasks for i in infos)
        if active >= 2 and sum(i.numCompletedTasks for i in infos) >= int(sys.argv[3]):
            print(json.dumps({"running": [i.numCompletedTasks for i in infos]}), flush=True)
            break
        time.sleep(0.02)
    query.join()
    outcome["executors"] = len(jtracker.getExecutorInfos()) - 1
    print(json.dumps(outcome, default=str), flush=True)
finally:
    session.lake.close()
"""


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the driver printed nothing in time"
    return proc.stdout.readline()


def test_a_worker_killed_mid_query_never_gives_a_wrong_answer(
    home: Path, spark_cluster: str, spark_cluster_nodes: StandaloneCluster
) -> None:
    """One worker's JVM and its executor are SIGKILLed while both executors run the
    query's tasks: Spark runs the lost tasks again on the other worker and the answer is
    DuckDB's; were it to give up, the error would be lakebox's, without a Java stack."""
    session = lakebox.connect(home)
    try:
        for i in range(BIG_FILES):
            k = range(i * BIG_ROWS, (i + 1) * BIG_ROWS)
            v = [x * 7919 % 100_003 for x in k]
            buf = pa.BufferOutputStream()
            pq.write_table(pa.table({"k": pa.array(k, pa.int64()), "v": v}), buf)
            session.lake.storage.write_bytes(
                f"s3://lake/big/part-{i:03d}.parquet", buf.getvalue().to_pybytes()
            )
        session.sql(
            "CREATE EXTERNAL TABLE big (k bigint, v bigint) STORED AS PARQUET "
            "LOCATION 's3://lake/big/'"
        )
        expected = _rows(session, BIG_QUERY)
    finally:
        session.lake.close()
    tasks = "spark.sql.files.maxPartitionBytes=64k; spark.sql.files.openCostInBytes=64k"
    env = _spark_env(spark_cluster, LAKEBOX_SPARK_CONF=f"{EXECUTORS}; {tasks}")
    driver = subprocess.Popen(
        [sys.executable, "-c", _KILL_DRIVER, str(home), BIG_QUERY, str(DONE_BEFORE_KILL)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert json.loads(_readline(driver, 300)) == {"executors": 2}
        running = json.loads(_readline(driver, 300))
        assert "running" in running, running
        killed_at = time.monotonic()
        spark_cluster_nodes.kill_worker(0)
        out, err = driver.communicate(timeout=600)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.communicate()
    assert driver.returncode == 0, err[-3000:]
    outcome = json.loads(out.strip().splitlines()[-1])
    print(f"killed after {running['running']} finished tasks; the query ended "
          f"{time.monotonic() - killed_at:.1f}s later: {sorted(outcome)}")  # fmt: skip
    # the worker died during the query: its executor is gone from the driver's list
    assert outcome["executors"] == 1
    assert "raw" not in outcome, outcome["raw"]
    if "rows" in outcome:
        assert json.loads(json.dumps(outcome["rows"], default=str)) == expected
    else:
        # Athena's form: an error name, then its sentence, on one line
        message = outcome["error"][1]
        assert re.match(r"^[A-Z][A-Z_]+: \S", message) and "\n" not in message, message
    # nothing the user sees carries a Java or Python stack
    assert "\tat " not in err and "Traceback" not in err, err[-3000:]
    assert len(expected) == 50 and sum(r["n"] for r in expected) == BIG_FILES * BIG_ROWS


# -- a Glue ETL job on the cluster -------------------------------------------------------

ETL_SCRIPT = """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "sales_out", "visits_out"])
sc = SparkContext()
print("master", sc.master, "driver", sc.getConf().get("spark.driver.host"))
glueContext = GlueContext(sc)
job = Job(glueContext)
job.init(args["JOB_NAME"], args)
sales = glueContext.create_dynamic_frame.from_catalog(database="default", table_name="sales")
mapped = ApplyMapping.apply(frame=sales, mappings=[
    ("id", "bigint", "order_id", "long"), ("amount", "double", "amount", "double"),
    ("region", "string", "region", "string"), ("dt", "string", "dt", "string"),
])
glueContext.write_dynamic_frame.from_options(
    frame=mapped, connection_type="s3", format="parquet",
    connection_options={"path": args["sales_out"], "partitionKeys": ["dt"]},
)
# a table with projected partitions, pruned by the push-down predicate
visits = glueContext.create_dynamic_frame.from_catalog(
    database="default", table_name="visits", push_down_predicate="day >= '2024/01/02'"
)
glueContext.write_dynamic_frame.from_options(
    frame=visits, connection_type="s3", format="parquet",
    connection_options={"path": args["visits_out"]},
)
job.commit()
"""


def _values(session: lakebox.Session, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r.values()) for r in session.sql(sql).to_arrow().to_pylist()]


def test_a_glueetl_job_on_the_cluster_writes_what_duckdb_computes(
    home: Path, spark_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``glueetl`` run of a lake whose Spark master is the cluster: a catalog table
    mapped and written partitioned, a projected table read with a push-down predicate;
    DuckDB reads the written files back and finds the rows it computes from the sources."""
    _add_projected_tables(home)
    script = home.parent / "etl.py"
    script.write_text(ETL_SCRIPT)
    monkeypatch.setenv("LAKEBOX_SPARK_CONF", EXECUTORS)
    monkeypatch.setenv("LAKEBOX_SPARK_DRIVER_HOST", "127.0.0.2")
    lake = Lakehouse.open(LakeConfig.from_env(home=home, spark_master=spark_cluster))
    try:
        jobs = lake.glue_jobs
        jobs.register_job(
            "etl",
            script,
            "glueetl",
            {"--sales_out": "s3://lake/etl/sales/", "--visits_out": "s3://lake/etl/visits/"},
        )
        run = jobs.wait(jobs.start_job_run("etl"), 600)
    finally:
        lake.close()
    log = Path(run.log_path or "").read_text()
    assert run.state == "SUCCEEDED", (run.error_message, log[-3000:])
    assert f"master {spark_cluster} driver 127.0.0.2" in log
    session = lakebox.connect(home)  # DuckDB
    try:
        for ddl in [
            "CREATE EXTERNAL TABLE etl_sales (order_id bigint, amount double, region string) "
            "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/etl/sales/'",
            "MSCK REPAIR TABLE etl_sales",
            "CREATE EXTERNAL TABLE etl_visits (user_id bigint, ms bigint, day string, shard int) "
            "STORED AS PARQUET LOCATION 's3://lake/etl/visits/'",
        ]:
            session.sql(ddl)
        written = _values(session, "SELECT * FROM etl_sales ORDER BY order_id, dt")
        computed = _values(session, "SELECT id, amount, region, dt FROM sales ORDER BY id, dt")
        assert written == computed and len(computed) == 5
        written = _values(session, "SELECT * FROM etl_visits ORDER BY user_id")
        computed = _values(
            session,
            "SELECT user_id, ms, day, shard FROM visits WHERE day >= '2024/01/02' ORDER BY user_id",
        )
        assert written == computed and len(computed) == 4
    finally:
        session.lake.close()
