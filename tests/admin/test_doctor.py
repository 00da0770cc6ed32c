"""``diagnose`` finds each kind of problem in a real lake, and ``fix`` repairs only what
is safe."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebox
from lakebox.admin.doctor import Finding, diagnose, fix
from lakebox.ingest import DeliveryStreams
from lakebox.query.journal import start_journal
from lakebox.session import Lake
from lakebox.workflows.service import WorkflowService
from metadata.damage import KINDS, damage


@pytest.fixture
def lake(lake_home: Path) -> Iterator[Lake]:
    """A lake with a table, a query, a workflow and a delivery stream."""
    data = lake_home / "b" / "t" / "x.csv"
    data.parent.mkdir(parents=True)
    data.write_text("1,a\n2,b\n")
    session = lakebox.connect(lake_home)
    session.sql(
        "CREATE EXTERNAL TABLE t (id int, v string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/t/'"
    )
    workflows = WorkflowService(session.lake.config)
    workflows.create_state_machine(
        "m", '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}'
    )
    workflows.close()
    streams = DeliveryStreams(session.lake)
    streams.create_delivery_stream("s", {"BucketARN": "arn:aws:s3:::b"})
    try:
        yield session.lake
    finally:
        session.lake.close()


def problems(home: Path) -> list[Finding]:
    return [f for f in diagnose(home) if not f.ok]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_healthy_lake_has_no_problems_and_every_store_is_checked(lake: Lake) -> None:
    findings = diagnose(lake.config.home)
    assert [f for f in findings if not f.ok] == []
    checked = {f.check for f in findings}
    assert {"catalog.sqlite", "workflows.sqlite", "stream s", "write journal"} <= checked


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("store", ["catalog.sqlite", "workflows.sqlite"])
def test_damaged_store_is_a_problem_naming_it_and_restore(
    lake: Lake, store: str, kind: str
) -> None:
    lake.close()
    path = lake.config.metadata_dir / store
    damage(path, kind)
    before = path.read_bytes()

    found = problems(lake.config.home)

    assert [f.check for f in found] == [store]
    assert "damaged" in found[0].message and "lakebox restore" in found[0].message
    assert path.read_bytes() == before


def test_store_from_a_newer_lakebox_is_a_problem(lake: Lake) -> None:
    con = sqlite3.connect(lake.config.metadata_dir / "workflows.sqlite")
    con.execute("PRAGMA user_version = 7")
    con.close()
    [found] = problems(lake.config.home)
    assert found.check == "workflows.sqlite" and "upgrade lakebox" in found.message


def test_unfinished_write_of_a_dead_process_is_fixed_by_rolling_back(lake: Lake) -> None:
    staging = lake.config.home / "b" / "out" / ".staging-q1"
    staging.mkdir(parents=True)
    (staging / "part-0.parquet").write_bytes(b"PAR1")
    journal = start_journal(lake, "q1", "UNLOAD", "s3://b/out/", "s3://b/out/.staging-q1/")
    journal.pid = _dead_pid()
    journal.save()
    lake.close()

    [found] = problems(lake.config.home)
    assert found.check == "write journal q1.json" and found.fixable
    assert "UNLOAD q1" in found.message and "--fix" in found.message

    done = fix(lake.config.home)

    assert done == ["finished or undid write q1"]
    assert not staging.exists()
    assert problems(lake.config.home) == []


def test_write_of_a_live_process_is_reported_in_progress_not_fixed(lake: Lake) -> None:
    start_journal(lake, "q2", "UNLOAD", "s3://b/out/", "s3://b/out/.staging-q2/")
    findings = diagnose(lake.config.home)
    [write] = [f for f in findings if f.check == "write journal q2.json"]
    assert write.ok and "in progress" in write.message
    assert fix(lake.config.home) == []
    assert (lake.config.metadata_dir / "writes" / "q2.json").exists()


def test_unreadable_journal_is_a_problem_fix_leaves_alone(lake: Lake) -> None:
    writes = lake.config.metadata_dir / "writes"
    writes.mkdir(exist_ok=True)
    (writes / "q3.json").write_text("{not json")
    [found] = problems(lake.config.home)
    assert found.check == "write journal q3.json" and not found.fixable
    fix(lake.config.home)
    assert (writes / "q3.json").exists()


def test_stale_temp_files_are_found_and_removed_by_fix(lake: Lake) -> None:
    writes = lake.config.metadata_dir / "writes"
    writes.mkdir(exist_ok=True)
    stale = writes / ".journal-abc"
    fresh = writes / ".journal-def"
    stale.write_text("{")
    fresh.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    stream_tmp = lake.config.metadata_dir / "streams" / "s" / ".state.json.tmp"
    stream_tmp.write_text("{")
    os.utime(stream_tmp, (old, old))

    found = problems(lake.config.home)
    assert {f.check for f in found} == {"write journal", "stream s"}
    assert all(f.fixable for f in found)

    fix(lake.config.home)
    assert not stale.exists() and not stream_tmp.exists()
    assert fresh.exists(), "a temp file a running save may still be writing is kept"
    assert problems(lake.config.home) == []


def test_records_waiting_for_delivery_are_reported(lake: Lake) -> None:
    streams = DeliveryStreams(lake)
    streams.put_record_batch("s", [b"a\n", b"b\n"])
    [line] = [f for f in diagnose(lake.config.home) if f.check == "stream s"]
    assert line.ok and line.message.startswith("2 record(s) waiting")


def test_unreadable_stream_definition_is_a_problem(lake: Lake) -> None:
    (lake.config.metadata_dir / "streams" / "s" / "stream.json").write_text("[")
    [found] = problems(lake.config.home)
    assert found.check == "stream s" and "stream.json" in found.message


def test_file_where_a_bucket_belongs_is_a_problem(lake: Lake) -> None:
    (lake.config.home / "notes.txt").write_text("hello")
    [found] = problems(lake.config.home)
    assert found.check == "lake layout" and "notes.txt" in found.message


def test_missing_lake_file_as_lake_and_missing_metadata(tmp_path: Path) -> None:
    [missing] = diagnose(tmp_path / "nowhere")
    assert not missing.ok and "no lake at" in missing.message
    (tmp_path / "file").write_text("x")
    [as_file] = diagnose(tmp_path / "file")
    assert not as_file.ok and "is a file" in as_file.message
    [no_meta] = diagnose(tmp_path)
    assert not no_meta.ok and "_lakebox" in no_meta.message
    assert not (tmp_path / "nowhere").exists(), "doctor must not create a lake"


def test_doctor_changes_nothing(lake: Lake) -> None:
    lake.close()
    metadata = lake.config.metadata_dir

    def snapshot() -> dict[str, bytes]:
        return {
            str(p.relative_to(metadata)): p.read_bytes()
            for p in sorted(metadata.rglob("*"))
            if p.is_file() and not p.name.endswith(("-shm", "-wal"))
        }

    before = snapshot()
    diagnose(lake.config.home)
    assert snapshot() == before
    assert json.loads((metadata / "streams" / "s" / "stream.json").read_text())
