"""A Spark standalone cluster on 127.0.0.1 for the benchmarks: a master and N workers
started with pyspark's own launch classes (``bin/spark-class
org.apache.spark.deploy.master.Master`` / ``...worker.Worker``) on free ports, each in a
process group of its own, stopped (and waited for) when the ``cluster`` block ends.

It is the launcher of ``tests/engine/spark/conftest.py`` (the ``spark_cluster`` fixture)
made importable, with the workers' cores and memory as parameters::

    with cluster(work, workers=2, cores=1, memory="2g") as running:
        os.environ["LAKEBOX_SPARK_MASTER"] = running.url
        ...
    # running.pids: the launchers' process ids (their trees hold the JVMs and executors)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: how long a master or worker may take to come up on a busy machine
START_TIMEOUT = 180.0


@dataclass
class Cluster:
    """A running cluster: its master's URL and the process ids of its launchers."""

    url: str
    pids: list[int] = field(default_factory=list)
    started_s: float = 0.0  # seconds from the master's launch to the last worker registered


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
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
    raise RuntimeError(f"the Spark {what} did not start (log {log}):\n{tail}")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the cluster's processes (each leads its own process group: spark-class, the
    JVM it runs and a worker's executors), workers first, and wait for them."""
    for proc in reversed(procs):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in reversed(procs):
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@contextmanager
def cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[Cluster]:
    """A master and ``workers`` workers of ``cores`` cores and ``memory`` each, on
    127.0.0.1, their logs and scratch under ``work``; stopped when the block ends."""
    home = spark_home()
    work.mkdir(parents=True, exist_ok=True)
    env = {
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
    launcher = str(home / "bin" / "spark-class")
    port = free_port()
    running = Cluster(f"spark://127.0.0.1:{port}")
    procs: list[subprocess.Popen[bytes]] = []
    start = time.monotonic()
    try:
        log = work / "master.log"
        with open(log, "wb") as out:
            master = subprocess.Popen(
                [
                    launcher,
                    "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1",
                    "--port", str(port),
                    "--webui-port", str(free_port()),
                ],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        procs.append(master)
        _wait_for(log, "I have been elected leader", master, "master")
        for i in range(workers):
            log = work / f"worker{i}.log"
            with open(log, "wb") as out:
                worker = subprocess.Popen(
                    [
                        launcher,
                        "org.apache.spark.deploy.worker.Worker",
                        running.url,
                        "--host", "127.0.0.1",
                        "--port", str(free_port()),
                        "--webui-port", str(free_port()),
                        "--cores", str(cores),
                        "--memory", memory,
                        "--work-dir", str(work / f"worker{i}"),
                    ],
                    stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                )  # fmt: skip
            procs.append(worker)
        for i, worker in enumerate(procs[1:]):
            _wait_for(
                work / f"worker{i}.log", "Successfully registered with master", worker, "worker"
            )
        running.pids = [p.pid for p in procs]
        running.started_s = time.monotonic() - start
        yield running
    finally:
        stop(procs)
