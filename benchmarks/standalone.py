"""A Spark standalone cluster on 127.0.0.1 for the benchmarks: a master and N workers
started with pyspark's own launch classes (``bin/spark-class
org.apache.spark.deploy.master.Master`` / ``...worker.Worker``) on free ports, each in a
process group of its own, stopped (and waited for) when the ``cluster`` block ends.

The one launcher of the project: the ``spark_cluster`` fixture of
``tests/engine/spark/conftest.py`` uses ``StandaloneCluster`` too. In a benchmark::

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
from collections.abc import Callable, Iterator
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


class StandaloneCluster:
    """A master and ``workers`` workers of ``cores`` cores and ``memory`` each on
    127.0.0.1, each process leading its own process group (spark-class, its JVM and, for a
    worker, the executors it runs), logs and scratch under ``work``. ``kill_worker``
    empties a slot as a machine that dies would; ``ensure_workers`` refills it."""

    def __init__(
        self,
        work: Path,
        workers: int = 2,
        cores: int = 1,
        memory: str = "1g",
        on_start: Callable[[int], None] | None = None,
    ) -> None:
        home = spark_home()
        work.mkdir(parents=True, exist_ok=True)
        self.work = work
        self.cores = cores
        self.memory = memory
        #: told each launched process id (the tests' leak check keeps the workers' pids)
        self.on_start = on_start
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
        #: the live worker in each slot (None once killed)
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self._dead: list[subprocess.Popen[bytes]] = []
        self._started = 0

    def start(self) -> None:
        port = free_port()
        self.url = f"spark://127.0.0.1:{port}"
        log = self.work / "master.log"
        with open(log, "wb") as out:
            self.master = subprocess.Popen(
                [
                    self.launcher,
                    "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1",
                    "--port", str(port),
                    "--webui-port", str(free_port()),
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
                        "--port", str(free_port()),
                        "--webui-port", str(free_port()),
                        "--cores", str(self.cores),
                        "--memory", self.memory,
                        "--work-dir", str(self.work / name),
                    ],
                    stdout=out, stderr=subprocess.STDOUT, env=self.env,
                    start_new_session=True,
                )  # fmt: skip
            self.workers[slot] = worker
            if self.on_start is not None:
                self.on_start(worker.pid)
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
        stop(self.processes())


@contextmanager
def cluster(work: Path, workers: int = 2, cores: int = 1, memory: str = "1g") -> Iterator[Cluster]:
    """A ``StandaloneCluster`` for the length of the block, stopped when it ends."""
    nodes = StandaloneCluster(work, workers, cores, memory)
    start = time.monotonic()
    try:
        nodes.start()
        running = Cluster(nodes.url, [p.pid for p in nodes.processes()])
        running.started_s = time.monotonic() - start
        yield running
    finally:
        nodes.stop()
