"""A real Spark standalone cluster for the tests marked ``spark_cluster``: a master and two
workers on 127.0.0.1, started with pyspark's own launch classes
(``bin/spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``) on free
ports, each worker with one core, stopped (and waited for) when the tests end. One cluster
serves the session; a test may kill a worker (``StandaloneCluster.kill_worker``, benchmarks/standalone.py), and the next
test that asks for ``spark_cluster`` gets a fresh worker in its place."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from benchmarks.standalone import StandaloneCluster

import lakebox


@pytest.fixture(scope="session")
def spark_cluster_nodes(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StandaloneCluster]:
    """The session's cluster (started once: four JVMs take a while); a test that kills a
    worker leaves its slot empty for ``spark_cluster`` to refill."""
    cluster = StandaloneCluster(tmp_path_factory.mktemp("spark-cluster"), on_start=_keep_pid)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        # no JVM of the cluster outlives it (a killed worker's executors included)
        leftovers = _group_members({p.pid for p in cluster.processes()})
        assert not leftovers, f"cluster processes left running: {leftovers}"


@pytest.fixture
def spark_cluster(spark_cluster_nodes: StandaloneCluster) -> str:
    """``spark://127.0.0.1:<port>`` of a master with two live one-core workers."""
    spark_cluster_nodes.ensure_workers()
    return spark_cluster_nodes.url


def _keep_pid(pid: int) -> None:
    """Tell the root conftest's leak check that ``pid`` outlives the test that started it
    on purpose (see ``tests/engine/conftest.py``)."""
    kept = getattr(sys.modules.get("conftest"), "_KEPT_PIDS", None)
    if isinstance(kept, set):
        kept.add(pid)


def _group_members(groups: set[int]) -> list[int]:
    """The live (not zombie) processes whose process group is one of ``groups``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) in groups:
            found.append(int(entry.name))
    return found


def _parquet(rows: dict[str, list[object]]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(rows), buf)
    return buf.getvalue()


@pytest.fixture
def home(lake_home: Path) -> Path:
    """A lake with a partitioned Parquet table (two files in one partition), a text table
    with NULL markers and a value that is not a number, a JSON table and an Avro table;
    its tables made on the default engine."""
    session = lakebox.connect(lake_home)
    lake = session.lake
    try:
        put = lake.storage.write_bytes
        put(
            "s3://lake/sales/dt=2024-01-01/a.parquet",
            _parquet({"id": [1, 2], "amount": [10.5, 20.0], "region": ["eu", "us"]}),
        )
        put(
            "s3://lake/sales/dt=2024-01-01/b.parquet",
            _parquet({"id": [3], "amount": [1.25], "region": ["eu"]}),
        )
        put(
            "s3://lake/sales/dt=2024-01-02/a.parquet",
            _parquet({"id": [1, 4], "amount": [2.0, None], "region": ["us", None]}),
        )
        put("s3://lake/people/p.csv", b"1,ann,34\n2,bob,\\N\n3,cy,x\n4,dee,51\n5,\\N,7\n")
        put(
            "s3://lake/events/e.json",
            b"".join(
                json.dumps(r).encode() + b"\n"
                for r in [
                    {"id": 1, "kind": "click", "ms": 120},
                    {"id": 2, "kind": "view"},
                    {"id": 3, "kind": "click", "ms": 80},
                    {"id": 4, "kind": None, "ms": 5},
                ]
            ),
        )
        avro = io.BytesIO()
        fastavro.writer(
            avro,
            {
                "type": "record",
                "name": "click",
                "fields": [
                    {"name": "ID", "type": "long"},
                    {"name": "page", "type": ["null", "string"]},
                    {"name": "ms", "type": "string"},
                ],
            },
            [
                {"ID": 1, "page": "/a", "ms": "12"},
                {"ID": 3, "page": None, "ms": "x"},
                {"ID": 4, "page": "/b", "ms": "7"},
            ],
        )
        put("s3://lake/clicks/c.avro", avro.getvalue())
        for ddl in [
            "CREATE EXTERNAL TABLE sales (id bigint, amount double, region string) "
            "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/sales/'",
            "MSCK REPAIR TABLE sales",
            "CREATE EXTERNAL TABLE people (id int, name string, age int) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://lake/people/'",
            "CREATE EXTERNAL TABLE events (id int, kind string, ms bigint) "
            "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://lake/events/'",
            # Avro fields match columns case-insensitively; 'x' is not an int: NULL
            "CREATE EXTERNAL TABLE clicks (id bigint, page string, ms int) STORED AS AVRO "
            "LOCATION 's3://lake/clicks/'",
        ]:
            session.sql(ddl)
    finally:
        lake.close()
    return lake_home
