"""lakebox on a real Spark standalone cluster (a master and two workers on 127.0.0.1,
``conftest.spark_cluster``): a lake whose ``LAKEBOX_SPARK_MASTER`` names the cluster runs
its queries and writes in the cluster's executors and answers as DuckDB does.

The lake runs in a child process: a process has one SparkContext, and this test process
may hold its own local one for the other Spark tests. Slow (four JVMs): selected with
``-m spark_cluster``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lakebox

from .test_end_to_end import QUERIES

pytestmark = pytest.mark.spark_cluster

CTAS = (
    "CREATE TABLE by_region WITH (format = 'PARQUET', partitioned_by = ARRAY['region']) AS "
    "SELECT id, amount, dt, region FROM sales"
)
#: the queries of the end-to-end test (but the listing of tables, which differ here: the
#: DuckDB side makes its own copy of the CTAS table) and a read of the written table
STATEMENTS = [
    *(q for q in QUERIES if "information_schema" not in q),
    "SELECT * FROM by_region ORDER BY id, dt",
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
    print(json.dumps({"master": spark.sparkContext.master, "executors": executors}))
    session.sql(sys.argv[2])
    for sql in json.loads(sys.argv[3]):
        print(json.dumps(session.sql(sql).to_arrow().to_pylist(), default=str))
finally:
    session.lake.close()
"""


def _rows(session: lakebox.Session, sql: str) -> object:
    return json.loads(json.dumps(session.sql(sql).to_arrow().to_pylist(), default=str))


def test_a_two_worker_cluster_answers_as_duckdb(home: Path, spark_cluster: str) -> None:
    env = {
        **os.environ,
        "LAKEBOX_ENGINE": "spark",
        "LAKEBOX_SPARK_MASTER": spark_cluster,
        # one executor per worker, small enough for a CI machine
        "LAKEBOX_SPARK_CONF": "spark.executor.memory=512m; spark.executor.cores=1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(home), CTAS, json.dumps(STATEMENTS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    info = json.loads(lines[0])
    assert info == {"master": spark_cluster, "executors": 2}
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
