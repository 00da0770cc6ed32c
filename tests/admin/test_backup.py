"""Backups are consistent while others write, restore round-trips a lake, and a damaged or
foreign backup is refused before anything in the lake changes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebox
from lakebox.admin.backup import MANIFEST, BackupError, backup, restore
from lakebox.metadata.sqlite import MetadataCorruptError
from lakebox.query.journal import start_journal
from lakebox.query.service import QueryService
from lakebox.session import Lake
from metadata.damage import damage

CREATE = (
    "CREATE EXTERNAL TABLE t (id int, v string) PARTITIONED BY (day string) "
    "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://b/t/'"
)


@pytest.fixture
def lake(lake_home: Path) -> Iterator[Lake]:
    for day, rows in (("1", "1,a\n2,b\n"), ("2", "3,c\n")):
        data = lake_home / "b" / "t" / f"day={day}" / "x.csv"
        data.parent.mkdir(parents=True)
        data.write_text(rows)
    session = lakebox.connect(lake_home)
    session.sql(CREATE)
    session.sql("MSCK REPAIR TABLE t")
    queries = QueryService(session.lake)
    queries.create_work_group("etl", description="nightly loads")
    qe, _ = queries.run("CREATE TABLE copy AS SELECT id, v FROM t WHERE day = '1'", workgroup="etl")
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    queries.close()
    try:
        yield session.lake
    finally:
        session.lake.close()


def _rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    session = lakebox.connect(home)
    try:
        return session.sql(sql).fetchall()
    finally:
        session.lake.close()


def _metadata_files(metadata: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(metadata)): p.read_bytes()
        for p in sorted(metadata.rglob("*"))
        if p.is_file() and "cache" not in p.parts
    }


@pytest.mark.parametrize("name", ["backup", "backup.tar.gz"])
def test_restore_brings_back_tables_after_the_catalog_was_damaged(
    lake: Lake, tmp_path: Path, name: str
) -> None:
    home = lake.config.home
    before = _rows(home, "SELECT id, v, day FROM t ORDER BY id")
    assert before == [(1, "a", "1"), (2, "b", "1"), (3, "c", "2")]
    report = backup(home, tmp_path / name)
    assert set(report.stores) >= {"catalog.sqlite", "queries.sqlite"}

    _rows(home, "DROP TABLE copy")
    lake.close()
    catalog = lake.config.metadata_dir / "catalog.sqlite"
    damage(catalog, "junk")
    damaged = catalog.read_bytes()

    result = restore(tmp_path / name, home)

    assert _rows(home, "SELECT id, v, day FROM t ORDER BY id") == before
    assert _rows(home, "SELECT id, v FROM copy ORDER BY id") == [(1, "a"), (2, "b")]
    session = lakebox.connect(home)
    queries = QueryService(session.lake)
    try:
        assert queries.get_work_group("etl").description == "nightly loads"
        assert [q.workgroup for q in queries.history("etl")] == ["etl"]
    finally:
        queries.close()
        session.lake.close()
    assert result.aside is not None and result.aside.parent == home
    assert (result.aside / "catalog.sqlite").read_bytes() == damaged, "kept aside, not lost"


def test_restore_into_a_new_home_creates_the_lake(lake: Lake, tmp_path: Path) -> None:
    backup(lake.config.home, tmp_path / "bk")
    new_home = tmp_path / "elsewhere"
    result = restore(tmp_path / "bk", new_home)
    assert result.aside is None
    session = lakebox.connect(new_home)
    try:
        assert [t.name for t in session.lake.catalog.list_tables("default")] == ["copy", "t"]
    finally:
        session.lake.close()


def test_backup_while_another_process_writes_is_consistent(lake: Lake, tmp_path: Path) -> None:
    """Every catalog change bumps a generation counter in the same transaction, so in a
    consistent copy the counter and the tables written agree exactly."""
    catalog = lake.config.metadata_dir / "catalog.sqlite"
    start = lake.catalog.generation()
    known = {t.name for t in lake.catalog.list_tables("default")}
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from lakebox.catalog.store import SQLiteCatalogStore\n"
            "from lakebox.catalog.model import Table, Column\n"
            "store = SQLiteCatalogStore(pathlib.Path(sys.argv[1]))\n"
            "stop = pathlib.Path(sys.argv[2])\n"
            "i = 0\n"
            "while not stop.exists():\n"
            "    store.create_table(Table('default', f'w{i}', [Column('a', 'int')],"
            " location=f's3://b/w{i}/', parameters={'pad': 'x' * 2000}))\n"
            "    i += 1\n",
            str(catalog),
            str(stop),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while lake.catalog.generation() == start and time.monotonic() < deadline:
            time.sleep(0.05)  # the writer is starting
        counts: list[int] = []
        while len(counts) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            dest = tmp_path / f"bk{len(counts)}"
            backup(lake.config.home, dest)
            con = sqlite3.connect(dest / "metadata" / "catalog.sqlite")
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            names = {r[0] for r in con.execute("SELECT name FROM tables")}
            generation = con.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            con.close()
            written = names - known
            assert written == {f"w{i}" for i in range(len(written))}
            assert generation[0] == start + len(written)
            counts.append(len(written))
    finally:
        stop.write_text("")
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert len(counts) == 3 and counts[-1] > counts[0] > 0, counts


def test_backup_of_a_damaged_store_fails_and_leaves_nothing(lake: Lake, tmp_path: Path) -> None:
    lake.close()
    damage(lake.config.metadata_dir / "catalog.sqlite", "flipped-pages")
    with pytest.raises(MetadataCorruptError, match=r"catalog\.sqlite"):
        backup(lake.config.home, tmp_path / "bk.tar.gz")
    assert list(tmp_path.glob("bk*")) == [] and list(tmp_path.glob(".bk*")) == []


def test_backup_refuses_existing_destination_and_the_metadata_folder(
    lake: Lake, tmp_path: Path
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "f").write_text("keep")
    with pytest.raises(BackupError, match="already exists"):
        backup(lake.config.home, tmp_path / "taken")
    with pytest.raises(BackupError, match="inside the lake's metadata"):
        backup(lake.config.home, lake.config.metadata_dir / "bk")
    with pytest.raises(BackupError, match="no lake at"):
        backup(tmp_path / "nowhere", tmp_path / "bk")


def _made(lake: Lake, tmp_path: Path) -> Path:
    dest = tmp_path / "bk"
    backup(lake.config.home, dest)
    return dest


def _rewrite_manifest(dest: Path, change: dict[str, object]) -> None:
    manifest = json.loads((dest / MANIFEST).read_text())
    manifest.update(change)
    (dest / MANIFEST).write_text(json.dumps(manifest))


def _flip_a_byte(dest: Path) -> None:
    path = dest / "metadata" / "catalog.sqlite"
    data = bytearray(path.read_bytes())
    data[5000] ^= 1
    path.write_bytes(bytes(data))


def _newer_schema(dest: Path) -> None:
    path = dest / "metadata" / "catalog.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 42")
    con.close()
    manifest = json.loads((dest / MANIFEST).read_text())
    entry = manifest["stores"]["catalog.sqlite"]
    entry.update(version=42, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    (dest / MANIFEST).write_text(json.dumps(manifest))


def _damaged_inside(dest: Path) -> None:
    """Damaged in a way the checksum cannot see: the backup was made of a bad page."""
    path = dest / "metadata" / "catalog.sqlite"
    damage(path, "flipped-pages")
    manifest = json.loads((dest / MANIFEST).read_text())
    manifest["stores"]["catalog.sqlite"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (dest / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_flip_a_byte, "catalog.sqlite changed since the backup"),
        (lambda d: (d / "metadata" / "queries.sqlite").unlink(), "queries.sqlite is missing"),
        (lambda d: _rewrite_manifest(d, {"format": 2}), "format 2"),
        (lambda d: (d / MANIFEST).unlink(), "not a lakebox backup"),
        (lambda d: (d / MANIFEST).write_text("{"), "cannot be read"),
        (_newer_schema, "schema version 42"),
        (_damaged_inside, "is damaged: catalog.sqlite"),
    ],
)
def test_bad_backup_is_refused_and_the_lake_is_unchanged(
    lake: Lake, tmp_path: Path, spoil: object, message: str
) -> None:
    dest = _made(lake, tmp_path)
    assert callable(spoil)
    spoil(dest)
    lake.close()
    before = _metadata_files(lake.config.metadata_dir)

    with pytest.raises(BackupError, match=message):
        restore(dest, lake.config.home)

    assert _metadata_files(lake.config.metadata_dir) == before
    assert sorted(p.name for p in lake.config.home.iterdir()) == sorted(
        ["_lakebox", "b", "lakebox-query-results"]
    )


def test_truncated_archive_is_refused(lake: Lake, tmp_path: Path) -> None:
    archive = tmp_path / "bk.tar.gz"
    backup(lake.config.home, archive)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError, match="damaged or not a backup archive"):
        restore(archive, lake.config.home)
    with tarfile.open(tmp_path / "other.tar.gz", "w:gz") as tar:
        tar.add(lake.config.home / "b", arcname="b")
    with pytest.raises(BackupError, match="not a lakebox backup"):
        restore(tmp_path / "other.tar.gz", lake.config.home)


def test_restore_refuses_while_a_write_runs_or_a_writer_holds_a_store(
    lake: Lake, tmp_path: Path
) -> None:
    dest = _made(lake, tmp_path)
    journal = start_journal(lake, "q9", "UNLOAD", "s3://b/o/", "s3://b/o/.s/")
    with pytest.raises(BackupError, match="in use: a write is running"):
        restore(dest, lake.config.home)
    journal.finish()

    holder = sqlite3.connect(lake.config.metadata_dir / "queries.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BackupError, match="another process is writing"):
            restore(dest, lake.config.home)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert restore(dest, lake.config.home).aside is not None
