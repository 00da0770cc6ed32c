"""Shared fixtures: every test gets its own lake home in a temporary folder; S3 tests get a
real S3-compatible server (moto's standalone server) in a subprocess on loopback; and every
test fails if it leaves a thread or a child process running after it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# every engine's runs of a suite: the engine_name and spark_held fixtures, engine_gap
from engine_params import configure, engine_name, modify_items, spark_held  # noqa: F401
from lakebox.config import LakeConfig, S3Settings
from lakebox.session import Session
from lakebox.storage import Storage

#: how long a test's threads and child processes get to finish after its fixtures closed
#: (a thread told to stop by close() may still be returning from a poll or a query)
LEAK_GRACE_SECONDS = 2.0

#: the session-wide AWS API server's pid (see aws_server): a test that is the first to need
#: it starts it, and the session stops it at its end
_KEPT_PIDS: set[int] = set()


def _kept_threads() -> set[threading.Thread]:
    """Threads a library keeps for the life of the process by design, with no way to stop
    them: fsspec's one event-loop thread ('fsspecIO', on which s3fs runs every S3 request of
    every filesystem) and the workers of that loop's default executor (its DNS look-ups).
    A test that first touches S3 through s3fs starts them; all later ones reuse them."""
    asyn = sys.modules.get("fsspec.asyn")
    if asyn is None:
        return set()
    kept: set[threading.Thread] = {t for t in asyn.iothread if isinstance(t, threading.Thread)}
    for loop in asyn.loop:
        executor = getattr(loop, "_default_executor", None)
        kept.update(getattr(executor, "_threads", ()))
    return kept


def _kept_pids() -> set[int]:
    """Child processes that outlive a test on purpose: the session's AWS API server, and
    multiprocessing's resource tracker (one per process, started by the first test that
    makes a multiprocessing lock or queue; it exits with the process)."""
    kept = set(_KEPT_PIDS)
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    pid = getattr(getattr(tracker, "_resource_tracker", None), "_pid", None)
    if isinstance(pid, int):
        kept.add(pid)
    return kept


def _children() -> set[int]:
    """This process's live child processes, from /proc (each thread's children file; a
    zombie has finished, so it is not counted)."""
    pids: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:  # no /proc (not Linux): threads are still checked
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children", encoding="ascii") as fh:
                pids.update(int(p) for p in fh.read().split())
        except OSError:
            continue  # the thread ended meanwhile
    return {pid for pid in pids if _state(pid) not in ("Z", "X", "")}


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def _describe_process(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = "?"
    return f"process {pid}: {cmd[:300]}"


def _describe_thread(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    where = ""
    if target is not None:
        where = f", target {getattr(target, '__module__', '?')}."
        where += getattr(target, "__qualname__", repr(target))
    return f"thread {thread.name!r}{where}, daemon={thread.daemon}"


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    # a _DummyThread is a thread started outside Python (DuckDB's pool calling back into
    # Python); Python never learns that it ended, so it cannot be checked
    kept = _kept_threads()
    return [
        t
        for t in threading.enumerate()
        if t not in before
        and t not in kept
        and t.is_alive()
        and not isinstance(t, threading._DummyThread)
    ]


@pytest.fixture(autouse=True)
def _no_leftover_threads_or_processes() -> Iterator[None]:
    """Fail a test that leaves a thread or a child process running once its fixtures have
    closed what they opened: such leftovers outlive the lake they work on and fail some
    later test (a query on a closed SQLite database), or keep a worker busy. Autouse and
    function-scoped, this fixture is set up before and torn down after the test's others."""
    threads = set(threading.enumerate())
    children = _children()
    yield
    deadline = time.monotonic() + LEAK_GRACE_SECONDS
    for thread in _new_threads(threads):
        thread.join(max(0.0, deadline - time.monotonic()))
    left = _new_threads(threads)
    procs = _children() - children - _kept_pids()
    while procs and time.monotonic() < deadline:
        time.sleep(0.02)
        procs = _children() - children - _kept_pids()
    if not left and not procs:
        return
    found = [_describe_thread(t) for t in left] + [_describe_process(p) for p in sorted(procs)]
    for pid in procs:  # stop them, so that they do not disturb the tests that follow
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    pytest.fail(
        f"the test left {len(found)} thread(s) / process(es) running "
        f"{LEAK_GRACE_SECONDS:.0f} s after its fixtures closed:\n  " + "\n  ".join(found),
        pytrace=False,
    )


@pytest.fixture
def lake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lake, made explicitly (read-only CLI commands do not create one)."""
    home = tmp_path / "lake"
    LakeConfig.from_env(home=home).open_home(create=True)
    monkeypatch.setenv("LAKEBOX_HOME", str(home))
    return home


@pytest.fixture
def config(lake_home: Path) -> LakeConfig:
    return LakeConfig.from_env(home=lake_home, storage="local")


@pytest.fixture
def lake_session(lake_home: Path) -> Iterator[Session]:
    """A session on the test's lake, closed afterwards."""
    import lakebox

    sess = lakebox.connect(lake_home)
    try:
        yield sess
    finally:
        sess.lake.close()


@pytest.fixture
def storage(config: LakeConfig) -> Storage:
    return Storage(config)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real AWS API server process (moto's standalone server: S3, DynamoDB, ...) on
    127.0.0.1 for the whole test session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("s3server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    _KEPT_PIDS.add(proc.pid)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"S3 server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def s3_endpoint(aws_server: str) -> str:
    return aws_server


@pytest.fixture
def s3_config(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = S3Settings(
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    home = tmp_path / "s3lake"
    home.mkdir()
    return LakeConfig(home=home, storage="s3", s3=settings)


@pytest.fixture
def bucket() -> str:
    """A fresh bucket name per test (buckets are created on first write)."""
    return f"lb-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["local", "s3"])
def any_config(request: pytest.FixtureRequest, lake_home: Path) -> LakeConfig:
    """Both storage backends, for contract tests that every backend must pass."""
    if request.param == "local":
        return LakeConfig.from_env(home=lake_home, storage="local")
    cfg: LakeConfig = request.getfixturevalue("s3_config")
    return cfg


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    configure(config)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modify_items(items)
