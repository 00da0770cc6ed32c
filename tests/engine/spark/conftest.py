"""A real Spark standalone cluster for the tests marked ``spark_cluster``: a master and two
workers on 127.0.0.1, started with pyspark's own launch classes
(``bin/spark-class org.apache.spark.deploy.master.Master`` / ``...worker.Worker``) on free
ports, each worker with one core, stopped (and waited for) when the tests end. One cluster
serves the session; a test may kill a worker (``SparkCluster.kill_worker``), and the next
test that asks for ``spark_cluster`` gets a fresh worker in its place."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakebox

#: how long a master or worker may take to come up on a busy machine
START_TIMEOUT = 180.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"the Spark {what} did not start:\n{tail}")


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the cluster's processes (each leads its own process group: spark-class and
    the JVM it runs), workers first; what is left in a group (an executor) is killed."""
    for proc in reversed(procs):
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in reversed(procs):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class SparkCluster:
    """A standalone master and two one-core workers on 127.0.0.1, each process leading its
    own process group (spark-class, its JVM and, for a worker, the executors it runs)."""

    def __init__(self, work: Path) -> None:
        home = _spark_home()
        self.work = work
        self.env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOCAL_DIRS": str(work / "local"),
            "SPARK_LOG_DIR": str(work / "logs"),
            "SPARK_WORKER_DIR": str(work / "worker"),
            # no web UIs (the workers' and the master's are served on their own ports)
            "SPARK_MASTER_OPTS": "-Dspark.ui.enabled=false",
            "SPARK_WORKER_OPTS": "-Dspark.ui.enabled=false",
        }
        self.launcher = str(home / "bin" / "spark-class")
        self.url = ""
        self.master: subprocess.Popen[bytes] | None = None
        #: the live worker in each of the two slots (None once killed)
        self.workers: list[subprocess.Popen[bytes] | None] = [None, None]
        self._dead: list[subprocess.Popen[bytes]] = []
        self._started = 0

    def start(self) -> None:
        port = _free_port()
        self.url = f"spark://127.0.0.1:{port}"
        log = self.work / "master.log"
        with open(log, "wb") as out:
            self.master = subprocess.Popen(
                [
                    self.launcher,
                    "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1",
                    "--port", str(port),
                    "--webui-port", str(_free_port()),
                ],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
            )  # fmt: skip
        _wait_for(log, "I have been elected leader", self.master, "master")
        self.ensure_workers()

    def ensure_workers(self) -> None:
        """Start a worker in every empty slot (at start, or after ``kill_worker``) and
        wait until each has registered with the master."""
        started: list[tuple[Path, subprocess.Popen[bytes]]] = []
        for slot, current in enumerate(self.workers):
            if current is not None and current.poll() is None:
                continue
            self._started += 1
            name = f"worker{slot}-{self._started}"
            log = self.work / f"{name}.log"
            with open(log, "wb") as out:
                worker = subprocess.Popen(
                    [
                        self.launcher,
                        "org.apache.spark.deploy.worker.Worker",
                        self.url,
                        "--host", "127.0.0.1",
                        "--port", str(_free_port()),
                        "--webui-port", str(_free_port()),
                        "--cores", "1",
                        "--memory", "1g",
                        "--work-dir", str(self.work / name),
                    ],
                    stdout=out, stderr=subprocess.STDOUT, env=self.env,
                    start_new_session=True,
                )  # fmt: skip
            self.workers[slot] = worker
            _keep_pid(worker.pid)  # the session's, even when a test's set-up starts it
            started.append((log, worker))
        for log, worker in started:
            _wait_for(log, "Successfully registered with master", worker, "worker")

    def kill_worker(self, slot: int) -> None:
        """SIGKILL the worker's whole process group at once, as a machine that dies: the
        worker's JVM and the executors it launched (they share its group)."""
        worker = self.workers[slot]
        assert worker is not None, f"worker {slot} is not running"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        self.workers[slot] = None
        self._dead.append(worker)

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in [self.master, *self.workers, *self._dead] if p is not None]

    def stop(self) -> None:
        _stop(self.processes())


@pytest.fixture(scope="session")
def spark_cluster_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkCluster]:
    """The session's cluster (started once: four JVMs take a while); a test that kills a
    worker leaves its slot empty for ``spark_cluster`` to refill."""
    cluster = SparkCluster(tmp_path_factory.mktemp("spark-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        # no JVM of the cluster outlives it (a killed worker's executors included)
        leftovers = _group_members({p.pid for p in cluster.processes()})
        assert not leftovers, f"cluster processes left running: {leftovers}"


@pytest.fixture
def spark_cluster(spark_cluster_nodes: SparkCluster) -> str:
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
