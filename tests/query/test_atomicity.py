"""Atomic writes: a write killed with SIGKILL, cancelled, or failing half-way leaves the lake
readable, the catalog consistent and no file visible to readers; recovery cleans up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lakebox.catalog.model import Partition
from lakebox.config import LakeConfig
from lakebox.errors import DataError, LakeboxError
from lakebox.query import journal as jn
from lakebox.session import ExecutionControl, Lake, QueryStoppedError, StatementContext

#: ION is written row by row in Python, so 200k rows take seconds: time to kill it mid-way
BIG = (
    "SELECT x AS v, 'some text to write' AS s, x % 20 AS p FROM UNNEST(sequence(1, 200000)) AS u(x)"
)

SCRIPT = """
import sys
from pathlib import Path
from lakebox.config import LakeConfig
from lakebox.session import Lake
lake = Lake(LakeConfig.from_env(home=Path(sys.argv[1]), storage="local"))
lake.session().sql(sys.argv[2])
"""


@pytest.fixture
def lake(config: LakeConfig) -> Lake:
    return Lake(config)


def _files(lake: Lake, uri: str) -> list[str]:
    return [f.uri for f in lake.storage.list_files(uri, include_hidden=True)]


def _journals(lake: Lake) -> list[Path]:
    return list((lake.config.metadata_dir / "writes").glob("*.json"))


def _staged_file_exists(folder: Path) -> bool:
    return any(
        f.is_file() and not f.name.startswith(".lakebox-tmp")
        for d in folder.glob(".lakebox-staging-*")
        for f in d.rglob("*")
    )


def _wait_for_staging(folder: Path, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 60
    while not _staged_file_exists(folder):
        if proc is not None and proc.poll() is not None:
            pytest.fail(
                f"writer exited early: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            pytest.fail("the write never staged a file")
        time.sleep(0.01)


def _kill_mid_write(config: LakeConfig, sql: str, folder: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(config.home), sql],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_staging(folder, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sigkill_during_ctas_leaves_no_table_and_a_retry_succeeds(
    config: LakeConfig, lake: Lake, tmp_path: Path
) -> None:
    folder = config.home / "lake" / "killed"
    sql = (
        "CREATE TABLE killed WITH (format = 'ION', external_location = 's3://lake/killed/', "
        f"partitioned_by = ARRAY['p']) AS {BIG}"
    )
    _kill_mid_write(config, sql, folder, tmp_path)
    assert len(_journals(lake)) == 1  # the dead writer's journal is still there
    assert lake.storage.list_files("s3://lake/killed/") == []  # readers never saw a file

    reopened = Lake(config)  # recovery runs when a lake opens
    assert not reopened.catalog.table_exists("default", "killed")
    assert _files(reopened, "s3://lake/killed/") == []
    assert _journals(reopened) == []
    assert not list(folder.glob(".lakebox-staging-*"))

    session = reopened.session()
    retry = sql.replace("sequence(1, 200000)", "sequence(1, 40)")
    assert session.sql(retry).to_pylist() == [{"rows": 40}]
    assert session.sql("SELECT count(*) AS n FROM killed").to_pylist() == [{"n": 40}]


def test_a_lake_opened_before_the_kill_recovers_when_it_next_writes(
    config: LakeConfig, lake: Lake, tmp_path: Path
) -> None:
    sql = (
        "CREATE TABLE killed WITH (format = 'ION', external_location = 's3://lake/killed/', "
        f"partitioned_by = ARRAY['p']) AS {BIG}"
    )
    _kill_mid_write(config, sql, config.home / "lake" / "killed", tmp_path)
    assert not lake.catalog.table_exists("default", "killed")
    retry = sql.replace("sequence(1, 200000)", "sequence(1, 40)")
    assert lake.session().sql(retry).to_pylist() == [{"rows": 40}]
    assert _journals(lake) == []
    assert all(".lakebox-staging" not in u for u in _files(lake, "s3://lake/killed/"))


def test_sigkill_during_insert_keeps_old_rows_and_partitions(
    config: LakeConfig, lake: Lake, tmp_path: Path
) -> None:
    session = lake.session()
    session.sql(
        "CREATE TABLE t WITH (format = 'ION', external_location = 's3://lake/t/', "
        "partitioned_by = ARRAY['p']) AS SELECT x AS v, 'old' AS s, x % 2 AS p "
        "FROM UNNEST(sequence(1, 10)) AS u(x)"
    )
    before_parts = [p.values for p in lake.catalog.get_partitions("default", "t")]
    before_rows = session.sql("SELECT * FROM t ORDER BY v").to_pylist()
    before_files = _files(lake, "s3://lake/t/")

    _kill_mid_write(config, f"INSERT INTO t {BIG}", config.home / "lake" / "t", tmp_path)

    reopened = Lake(config)
    assert [p.values for p in reopened.catalog.get_partitions("default", "t")] == before_parts
    assert reopened.session().sql("SELECT * FROM t ORDER BY v").to_pylist() == before_rows
    assert _files(reopened, "s3://lake/t/") == before_files
    assert _journals(reopened) == []


def test_failing_select_in_ctas_leaves_nothing(lake: Lake) -> None:
    session = lake.session()
    with pytest.raises(LakeboxError, match=r"(?i)division by zero"):
        session.sql(
            "CREATE TABLE bad WITH (external_location = 's3://lake/bad/') AS "
            "SELECT x, 10 / (x - 500) AS y FROM UNNEST(sequence(1, 1000)) AS u(x)"
        )
    assert not lake.catalog.table_exists("default", "bad")
    assert _files(lake, "s3://lake/bad/") == []
    assert _journals(lake) == []


def test_malformed_source_file_in_ctas_leaves_nothing(lake: Lake) -> None:
    lake.storage.write_bytes("s3://raw/j/a.json", b'{"a": 1}\n{"a": \n')
    session = lake.session()
    session.sql(
        "CREATE EXTERNAL TABLE raw (a int) ROW FORMAT SERDE "
        "'org.apache.hive.hcatalog.data.JsonSerDe' LOCATION 's3://raw/j/'"
    )
    with pytest.raises(DataError, match=r"a\.json"):
        session.sql(
            "CREATE TABLE out WITH (format = 'ORC', external_location = 's3://lake/out/') "
            "AS SELECT * FROM raw"
        )
    assert not lake.catalog.table_exists("default", "out")
    assert _files(lake, "s3://lake/out/") == []


@pytest.mark.parametrize("statement", ["CTAS", "INSERT", "UNLOAD"])
def test_cancel_during_write_leaves_nothing(lake: Lake, statement: str) -> None:
    session = lake.session()
    session.sql(
        "CREATE TABLE t WITH (format = 'ION', external_location = 's3://lake/t/', "
        "partitioned_by = ARRAY['p']) AS SELECT 1 AS v, 'old' AS s, 0 AS p"
    )
    before = _files(lake, "s3://lake/t/")
    sql, folder = {
        "CTAS": (
            "CREATE TABLE c WITH (format = 'ION', external_location = 's3://lake/c/', "
            f"partitioned_by = ARRAY['p']) AS {BIG}",
            "c",
        ),
        "INSERT": (f"INSERT INTO t {BIG}", "t"),
        "UNLOAD": (
            f"UNLOAD ({BIG}) TO 's3://lake/u/' WITH (format = 'ION', partitioned_by = ARRAY['p'])",
            "u",
        ),
    }[statement]
    control = ExecutionControl()
    context = StatementContext(control=control)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            session.sql(sql, context)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for_staging(lake.config.home / "lake" / folder)
    control.stop("Query cancelled by user")
    thread.join(timeout=60)
    assert len(errors) == 1 and isinstance(errors[0], QueryStoppedError)
    assert not lake.catalog.table_exists("default", "c")
    assert _files(lake, "s3://lake/t/") == before
    assert _files(lake, "s3://lake/c/") == []
    assert _files(lake, "s3://lake/u/") == []
    assert _files(lake, f"s3://lakebox-query-results/{context.query_id}-manifest.csv") == []
    assert [p.values for p in lake.catalog.get_partitions("default", "t")] == [["0"]]
    assert _journals(lake) == []


def test_recovery_rolls_back_an_insert_that_died_while_moving_files(lake: Lake) -> None:
    """The crash came after some files were moved into place and a new partition was
    registered, but before the commit: the rows must not stay visible."""
    session = lake.session()
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/t/', partitioned_by = ARRAY['p']) "
        "AS SELECT 1 AS v, 'a' AS p"
    )
    good = session.sql("SELECT * FROM t").to_pylist()
    qid = "dead-insert"
    staging = f"s3://lake/t/.lakebox-staging-{qid}/"
    moved = f"s3://lake/t/p=a/{qid}_00000.parquet"
    new_part = f"s3://lake/t/p=b/{qid}_00001.parquet"
    still_staged = f"{staging}p=c/{qid}_00002.parquet"
    data = lake.storage.read_bytes(_files(lake, "s3://lake/t/p=a/")[0])
    for uri in (moved, new_part, still_staged):
        lake.storage.write_bytes(uri, data)
    lake.catalog.add_partitions([Partition("default", "t", ["b"], "s3://lake/t/p=b/")])
    journal = jn.start_journal(lake, qid, "INSERT", "s3://lake/t/", staging, "default", "t")
    journal.moves = [
        [f"{staging}p=a/{qid}_00000.parquet", moved],
        [f"{staging}p=b/{qid}_00001.parquet", new_part],
        [still_staged, f"s3://lake/t/p=c/{qid}_00002.parquet"],
    ]
    journal.partitions_added = [["b"], ["c"]]
    journal.pid, journal.proc_start = _dead_pid(), None
    journal.save(jn.CATALOG)
    assert len(session.sql("SELECT * FROM t").to_pylist()) == 3  # the half-done state

    assert jn.recover_writes(lake) == [qid]
    assert session.sql("SELECT * FROM t").to_pylist() == good
    assert [p.values for p in lake.catalog.get_partitions("default", "t")] == [["a"]]
    assert all(qid not in u for u in _files(lake, "s3://lake/t/"))
    assert not (lake.config.home / "lake" / "t" / "p=b").exists()


def test_recovery_finishes_a_ctas_whose_table_was_already_created(lake: Lake) -> None:
    """Past the commit point (the table exists) recovery rolls forward: it registers the
    partitions the crash kept from the catalog and removes the staging folder."""
    session = lake.session()
    session.sql(
        "CREATE TABLE done WITH (external_location = 's3://lake/d/', partitioned_by = "
        "ARRAY['p']) AS SELECT x AS v, x % 3 AS p FROM UNNEST(sequence(1, 9)) AS u(x)"
    )
    lake.catalog.drop_partitions("default", "done", [["1"], ["2"]])
    staging = "s3://lake/d/.lakebox-staging-dead-ctas/"
    lake.storage.write_bytes(staging + "leftover", b"x")
    journal = jn.start_journal(
        lake, "dead-ctas", "CTAS", "s3://lake/d/", staging, "default", "done"
    )
    journal.partitions_added = [["0"], ["1"], ["2"]]
    journal.pid, journal.proc_start = _dead_pid(), None
    journal.save(jn.CATALOG)

    assert jn.recover_writes(lake) == ["dead-ctas"]
    assert sorted(p.values[0] for p in lake.catalog.get_partitions("default", "done")) == [
        "0",
        "1",
        "2",
    ]
    assert session.sql("SELECT count(*) AS n FROM done").to_pylist() == [{"n": 9}]
    assert _files(lake, staging) == []
    assert _journals(lake) == []


def test_recovery_leaves_writes_of_live_processes_alone(lake: Lake) -> None:
    journal = jn.start_journal(
        lake, "live", "UNLOAD", "s3://lake/live/", "s3://lake/live/.lakebox-staging-live/"
    )
    lake.storage.write_bytes("s3://lake/live/.lakebox-staging-live/f", b"x")
    assert jn.recover_writes(lake) == []
    assert json.loads(Path(journal.path).read_text())["phase"] == jn.STAGING
    assert _files(lake, "s3://lake/live/") == ["s3://lake/live/.lakebox-staging-live/f"]
    journal.pid = _dead_pid()
    journal.save()
    assert jn.recover_writes(lake) == ["live"]
    assert _files(lake, "s3://lake/live/") == []


def test_ctas_losing_a_race_for_the_name_keeps_the_winners_table(lake: Lake) -> None:
    session = lake.session()
    errors: list[BaseException] = []
    sql = (
        "CREATE TABLE raced WITH (format = 'ION', external_location = 's3://lake/slow/', "
        f"partitioned_by = ARRAY['p']) AS {BIG}"
    )

    def run() -> None:
        try:
            session.sql(sql)
        except BaseException as err:  # handed to the test thread
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    _wait_for_staging(lake.config.home / "lake" / "slow")
    lake.session().sql(
        "CREATE TABLE raced WITH (external_location = 's3://lake/fast/') AS SELECT 1 AS v"
    )
    thread.join(timeout=60)
    assert len(errors) == 1 and "already exists" in str(errors[0])
    assert lake.catalog.get_table("default", "raced").location == "s3://lake/fast/"
    assert lake.session().sql("SELECT v FROM raced").to_pylist() == [{"v": 1}]
    assert _files(lake, "s3://lake/slow/") == []


#: a writer that kills itself at a chosen point of the one-pass write: ``staged`` once the
#: pass has left every file in staging (before any rename), ``moving`` after the first file
#: was renamed into place
CRASH_SCRIPT = """
import os, signal, sys
from pathlib import Path
import fsspec.implementations.local as local
from lakebox.config import LakeConfig
from lakebox.query import writers
from lakebox.session import Lake

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if sys.argv[3] == "staged":
    writers._check_stop = die  # the first thing a commit does
else:
    moved = []
    real_mv = local.LocalFileSystem.mv

    def mv(self, *args, **kwargs):
        if moved:
            die()
        moved.append(args)
        return real_mv(self, *args, **kwargs)

    local.LocalFileSystem.mv = mv
lake = Lake(LakeConfig.from_env(home=Path(sys.argv[1]), storage="local"))
lake.session().sql(sys.argv[2])
"""

PARTITIONED = "SELECT x AS v, 'text' AS s, x % 5 AS p FROM UNNEST(sequence(1, 5000)) AS u(x)"


def _crash(config: LakeConfig, sql: str, point: str, tmp_path: Path) -> None:
    script = tmp_path / "crashing_writer.py"
    script.write_text(CRASH_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(config.home), sql, point],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


@pytest.mark.parametrize("point", ["staged", "moving"])
@pytest.mark.parametrize("fmt", ["PARQUET", "JSON", "ORC"])
def test_a_ctas_killed_between_its_pass_and_its_renames_leaves_no_table(
    config: LakeConfig, lake: Lake, tmp_path: Path, point: str, fmt: str
) -> None:
    sql = (
        f"CREATE TABLE killed WITH (format = '{fmt}', external_location = 's3://lake/k/', "
        f"partitioned_by = ARRAY['p']) AS {PARTITIONED}"
    )
    _crash(config, sql, point, tmp_path)
    [journal] = _journals(lake)
    phase = json.loads(journal.read_text())["phase"]
    assert phase == (jn.STAGING if point == "staged" else jn.MOVING)
    staged = [u for u in _files(lake, "s3://lake/k/") if ".lakebox-staging-" in u]
    visible = lake.storage.list_files("s3://lake/k/")
    assert staged and len(visible) == (0 if point == "staged" else 1)

    reopened = Lake(config)  # recovery rolls the write back
    assert not reopened.catalog.table_exists("default", "killed")
    assert _files(reopened, "s3://lake/k/") == []
    assert _journals(reopened) == []
    session = reopened.session()
    assert session.sql(sql).to_pylist() == [{"rows": 5000}]
    assert session.sql("SELECT count(*) AS n FROM killed").to_pylist() == [{"n": 5000}]


@pytest.mark.parametrize("point", ["staged", "moving"])
def test_an_insert_killed_between_its_pass_and_its_renames_keeps_the_table(
    config: LakeConfig, lake: Lake, tmp_path: Path, point: str
) -> None:
    session = lake.session()
    session.sql(
        "CREATE TABLE t WITH (external_location = 's3://lake/t/', partitioned_by = "
        "ARRAY['p']) AS SELECT 0 AS v, 'old' AS s, 0 AS p"
    )
    before_rows = session.sql("SELECT * FROM t").to_pylist()
    before_files = _files(lake, "s3://lake/t/")
    _crash(config, f"INSERT INTO t {PARTITIONED}", point, tmp_path)

    reopened = Lake(config)
    assert [p.values for p in reopened.catalog.get_partitions("default", "t")] == [["0"]]
    assert reopened.session().sql("SELECT * FROM t").to_pylist() == before_rows
    assert _files(reopened, "s3://lake/t/") == before_files
    assert _journals(reopened) == []
