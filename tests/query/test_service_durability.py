"""Durability of query executions and their result files: a SUCCEEDED execution never
points at a result file that a crash could take or cut short.

Small results are committed with their execution's final state and their files fsynced
after it by a sync thread; these tests kill a real process at the points that matter and
play a power loss's part by hand (taking or cutting short the files it could lose), then
check what a new service finds."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pyarrow as pa
import pytest

from lakebox.config import LakeConfig
from lakebox.query import results
from lakebox.query.model import QueryExecution
from lakebox.query.service import QueryService
from lakebox.query.store import QueryStore
from lakebox.session import Lake

SLOW = (
    "SELECT count(*) FROM UNNEST(sequence(1, 100000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y) WHERE (x + y) % 7 = 3"
)

#: runs queries through the service in a fresh process, then dies at a chosen point:
#: ``before-sync`` right after a result's SUCCEEDED commit, before its files are fsynced;
#: ``mid-query`` while the last statement runs (the parent kills it)
SCRIPT = """
import os, signal, sys
from pathlib import Path
from lakebox.config import LakeConfig
from lakebox.query.service import QueryService
from lakebox.session import Lake

home, point, *queries = sys.argv[1:]
if point == "before-sync":
    QueryService._sync_later = lambda self, files: os.kill(os.getpid(), signal.SIGKILL)
service = QueryService(Lake(LakeConfig.from_env(home=Path(home), storage="local")))
for query in queries:
    print(service.run(query)[0].query_execution_id, flush=True)
"""


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


def _store(lake: Lake) -> QueryStore:
    return QueryStore(lake.config.metadata_dir / "queries.sqlite")


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "service_script.py"
    path.write_text(SCRIPT)
    return path


def _die_before_sync(lake: Lake, tmp_path: Path, query: str) -> str:
    """Run ``query`` in a process killed right after its SUCCEEDED commit; its id."""
    done = subprocess.run(
        [sys.executable, str(_script(tmp_path)), str(lake.config.home), "before-sync", query],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    [qe] = _store(lake).recent()
    assert qe.state == "SUCCEEDED"
    return qe.query_execution_id


def _rows(service: QueryService, qid: str) -> list[list[str | None]]:
    page = service.get_query_results(qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in row["Data"]] for row in page]


def _result_paths(lake: Lake, qid: str) -> tuple[Path, Path]:
    qe = _store(lake).get(qid)
    path = lake.storage.local_path(qe.output_location)
    assert path is not None
    return path, Path(f"{path}.metadata")


def test_a_result_left_unsynced_by_a_killed_process_is_kept_and_synced(
    lake: Lake, tmp_path: Path
) -> None:
    qid = _die_before_sync(lake, tmp_path, "SELECT 1 AS a, 'x' AS b")
    csv, meta = _result_paths(lake, qid)
    assert {uri for uri, _ in _store(lake).unsynced()} == {
        _store(lake).get(qid).output_location,
        _store(lake).get(qid).output_location + ".metadata",
    }
    inodes = (csv.stat().st_ino, meta.stat().st_ino)
    service = QueryService(Lake(lake.config))
    try:
        assert _store(lake).unsynced() == []  # fsynced at start, copies forgotten
        assert (csv.stat().st_ino, meta.stat().st_ino) == inodes  # intact: not rewritten
        assert _rows(service, qid) == [["a", "b"], ["1", "x"]]
    finally:
        service.close()


@pytest.mark.parametrize("loss", ["taken", "cut short", "emptied"])
def test_a_result_file_a_power_loss_took_is_restored_from_the_store(
    lake: Lake, tmp_path: Path, loss: str
) -> None:
    qid = _die_before_sync(lake, tmp_path, "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, NULL")
    csv, meta = _result_paths(lake, qid)
    expected = (csv.read_bytes(), meta.read_bytes())
    # what a power loss can do to files written but not yet fsynced
    if loss == "taken":
        csv.unlink()
        meta.unlink()
    elif loss == "cut short":
        csv.write_bytes(expected[0][: len(expected[0]) // 2])
        meta.write_bytes(expected[1][:5])
    else:
        csv.write_bytes(b"")
        meta.write_bytes(b"")
    service = QueryService(Lake(lake.config))
    try:
        assert (csv.read_bytes(), meta.read_bytes()) == expected
        assert _rows(service, qid) == [["a", "b"], ["1", "x"], ["2", None]]
        assert _store(lake).unsynced() == []
    finally:
        service.close()


def test_a_process_killed_mid_query_leaves_no_succeeded_execution_without_its_result(
    lake: Lake, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(_script(tmp_path)), str(lake.config.home), "mid-query"]
        + [f"SELECT {i} AS n" for i in range(5)]
        + [SLOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        finished = [proc.stdout.readline().strip() for _ in range(5)]
        deadline = time.monotonic() + 60
        while not any(q.state == "RUNNING" for q in _store(lake).recent()):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    service = QueryService(Lake(lake.config))
    try:
        states = {q.query_execution_id: q.state for q in service.history(limit=10)}
        assert sorted(states.values()) == ["FAILED"] + ["SUCCEEDED"] * 5
        for i, qid in enumerate(finished):
            assert states[qid] == "SUCCEEDED"
            assert _rows(service, qid) == [["n"], [str(i)]]
        assert _store(lake).unsynced() == []
    finally:
        service.close()


def test_results_are_fsynced_and_their_copies_forgotten_by_close(lake: Lake) -> None:
    service = QueryService(lake)
    ids = [service.run(f"SELECT {i} AS n")[0].query_execution_id for i in range(20)]
    service.close()
    assert _store(lake).unsynced() == []
    again = QueryService(Lake(lake.config))
    try:
        assert [_rows(again, qid)[1] for qid in ids] == [[str(i)] for i in range(20)]
    finally:
        again.close()


def test_only_small_local_results_are_left_to_a_later_fsync(lake: Lake) -> None:
    lake.storage.ensure_bucket("out")
    small = pa.table({"n": [1, 2, 3]})
    unsynced = results.write_results(lake.storage, "s3://out/a.csv", small, "DML", defer_sync=True)
    assert [f.uri for f in unsynced] == ["s3://out/a.csv", "s3://out/a.csv.metadata"]
    assert [f.path.read_bytes() for f in unsynced] == [f.data for f in unsynced]
    big = pa.table({"s": ["x" * 100] * (results.LOGGED_BYTES // 100 + 1)})
    assert results.write_results(lake.storage, "s3://out/b.csv", big, "DML", defer_sync=True) == []
    assert results.write_results(lake.storage, "s3://out/c.csv", small, "DML") == []
    assert lake.storage.read_bytes("s3://out/c.csv") == unsynced[0].data
    leftovers = [p.name for p in (lake.config.home / "out").iterdir() if "tmp" in p.name]
    assert leftovers == []


def test_run_records_a_running_execution_that_others_can_stop(lake: Lake) -> None:
    service = QueryService(lake)
    out: list[str] = []
    runner = threading.Thread(target=lambda: out.append(service.run(SLOW)[0].state))
    try:
        runner.start()
        deadline = time.monotonic() + 30
        while not (running := [q for q in service.history() if q.state == "RUNNING"]):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        qid = running[0].query_execution_id
        assert service.wait(qid, timeout=0.1).state == "RUNNING"
        service.stop_query_execution(qid)
        runner.join(timeout=30)
        assert out == ["CANCELLED"]
        assert service.wait(qid, timeout=5).state == "CANCELLED"
    finally:
        service.close()
        runner.join(timeout=30)


def test_run_waits_for_a_free_query_slot(lake: Lake) -> None:
    service = QueryService(lake, max_concurrency=1)
    try:
        first = service.start_query_execution(SLOW)
        deadline = time.monotonic() + 30
        while service.get_query_execution(first).state != "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        out: list[tuple[str, int]] = []

        def run() -> None:
            qe, _ = service.run("SELECT 42 AS n")
            out.append((qe.state, qe.queue_ms))

        runner = threading.Thread(target=run)
        runner.start()
        time.sleep(0.5)
        assert [q.state for q in service.history() if q.query != SLOW] == ["QUEUED"]
        service.stop_query_execution(first)
        runner.join(timeout=30)
        [(state, queue_ms)] = out
        assert state == "SUCCEEDED" and queue_ms >= 400
    finally:
        service.close()


def _pool_workers() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("lakebox-query_"))


def test_run_holding_a_slot_never_waits_for_workers_that_wait_for_it(lake: Lake) -> None:
    """``run`` takes a free slot in the caller's thread; every worker of the shared pool
    may be waiting for a slot meanwhile (executions started with
    ``start_query_execution``). The execution holding the slot they wait for must still
    run, or ``run`` and they would wait for ever."""
    service = QueryService(lake, max_concurrency=1)
    slot = lake.config.metadata_dir / "query-slots" / "slot-0.lock"
    started: list[str] = []
    won = 0
    try:
        for _ in range(8):  # ``run`` may lose the freed slot to a worker: try again
            out: list[QueryExecution] = []
            held = open(slot, "ab")  # noqa: SIM115 - closed by the runner
            fcntl.flock(held, fcntl.LOCK_EX)
            queued = [service.start_query_execution(f"SELECT {i} AS n") for i in range(5)]
            started += queued
            deadline = time.monotonic() + 30
            while _pool_workers() < 5:  # each worker now polls for the slot
                assert time.monotonic() < deadline
                time.sleep(0.01)

            def run(held: IO[bytes] = held, out: list[QueryExecution] = out) -> None:
                held.close()  # frees the slot, for ``run`` to take it at once
                out.append(service.run("SELECT 2 AS n")[0])

            runner = threading.Thread(target=run, daemon=True)
            runner.start()
            runner.join(timeout=30)
            assert not runner.is_alive(), "run() waits for a worker busy waiting for its slot"
            [qe] = out
            assert qe.state == "SUCCEEDED"
            assert [service.wait(q, timeout=30).state for q in queued] == ["SUCCEEDED"] * 5
            won += qe.start_time == qe.submission_time  # it took the slot itself
            if won:
                break
        assert won, "run() never took the freed slot itself"
    finally:
        for qid in started:  # on a hang: free the workers, so close can end
            service.stop_query_execution(qid)
        service.close()


def test_the_lakes_start_restores_results_before_anything_reads_them(
    lake: Lake, tmp_path: Path
) -> None:
    """After a power loss the results bucket holds the restored bytes as soon as the lake
    has started, without the query service (made on first use) ever being asked for."""
    qid = _die_before_sync(lake, tmp_path, "SELECT 1 AS a, 'x' AS b")
    uri = _store(lake).get(qid).output_location
    csv, meta = _result_paths(lake, qid)
    expected = (csv.read_bytes(), meta.read_bytes())
    csv.write_bytes(expected[0][:3])  # cut short
    meta.unlink()  # taken
    fresh = Lake(lake.config)
    try:
        assert "queries" not in fresh._services
        assert fresh.storage.read_bytes(uri) == expected[0]
        assert fresh.storage.read_bytes(uri + ".metadata") == expected[1]
        assert _store(lake).unsynced() == []
    finally:
        fresh.close()


def test_a_result_whose_folder_was_deleted_is_not_restored(lake: Lake, tmp_path: Path) -> None:
    qid = _die_before_sync(lake, tmp_path, "SELECT 1 AS a")
    csv, _meta = _result_paths(lake, qid)
    shutil.rmtree(csv.parent)
    fresh = Lake(lake.config)
    try:
        assert not csv.parent.exists()
        assert _store(lake).unsynced() == []
    finally:
        fresh.close()


def test_a_fifo_at_a_results_name_does_not_block_the_start(lake: Lake, tmp_path: Path) -> None:
    qid = _die_before_sync(lake, tmp_path, "SELECT 1 AS a")
    csv, meta = _result_paths(lake, qid)
    expected = meta.read_bytes()
    csv.unlink()
    os.mkfifo(csv)
    meta.unlink()
    done = subprocess.run(  # in a process of its own: a blocked open would never return
        [sys.executable, "-c", START, str(lake.config.home)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert csv.is_fifo()  # left alone
    assert meta.read_bytes() == expected  # the other file restored all the same
    assert _store(lake).unsynced() == []


START = """
import sys
from pathlib import Path
from lakebox.config import LakeConfig
from lakebox.session import Lake

Lake(LakeConfig.from_env(home=Path(sys.argv[1]), storage="local")).close()
"""


def test_a_forked_child_uses_the_service_despite_locks_held_at_the_fork(lake: Lake) -> None:
    """Locks another thread held at the fork, and pool workers the child has not got,
    must not stop the child's own use of the service."""
    service = QueryService(lake, max_concurrency=1)
    try:
        assert service.run("SELECT 1 AS n")[0].state == "SUCCEEDED"
        qid = service.start_query_execution("SELECT 2 AS n")
        assert service.wait(qid, timeout=30).state == "SUCCEEDED"  # idle workers now
        slot = open(lake.config.metadata_dir / "query-slots" / "slot-0.lock", "ab")  # noqa: SIM115
        fcntl.flock(slot, fcntl.LOCK_EX)  # the child's execution stays QUEUED
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with service._lock, service._watch_cond, service._sync_cond:
                holding.set()
                release.wait(60)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert holding.wait(30)
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                code = 0
                try:
                    signal.alarm(60)  # a hang fails the test instead of blocking it
                    child = service.start_query_execution("SELECT 3 AS n")
                    service.stop_query_execution(child)
                    state = service.wait(child, timeout=30).state
                    code = 0 if state == "CANCELLED" else 3
                except BaseException:
                    code = 4
                os._exit(code)
        finally:
            release.set()
            holder.join()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        slot.close()
    finally:
        service.close()
