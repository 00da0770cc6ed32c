"""How result files reach the disk: folders made durably, temporary names that never
collide, and the per-file care of ``sync_files`` and ``restore_file`` after a crash.

An fsync leaves nothing a test can see short of a power loss, so the folder tests record
which paths were fsynced (a wrapper around ``os.fsync`` that calls the real one)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from lakebox.config import LakeConfig
from lakebox.query import results
from lakebox.storage import Storage

SMALL = pa.table({"n": [1, 2, 3]})


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    config = LakeConfig.from_env(home=tmp_path / "lake")
    config.open_home(create=True)
    store = Storage(config)
    store.ensure_bucket("out")
    return store


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths fsynced while the test runs, in order (each fsync still done)."""
    paths: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield paths


def _bucket(storage: Storage) -> Path:
    path = storage.local_path("s3://out/x")
    assert path is not None
    return path.parent


@pytest.mark.parametrize("defer_sync", [True, False], ids=["small", "large"])
def test_new_result_folders_are_made_durable_top_down(
    storage: Storage, fsynced: list[str], defer_sync: bool
) -> None:
    bucket = _bucket(storage)
    table = SMALL if defer_sync else pa.table({"s": ["x" * 100] * 3000})  # over LOGGED_BYTES
    written = results.write_results(
        storage, "s3://out/new/deep/a.csv", table, "DML", defer_sync=defer_sync
    )
    assert bool(written) == defer_sync
    # each new folder's name is fsynced in its parent, the outer one first
    folders = [p for p in fsynced if Path(p).is_dir()]
    assert folders[:2] == [str(bucket), str(bucket / "new")]
    if not defer_sync:  # the large result: its files and then their folder too
        assert fsynced[-1] == str(bucket / "new" / "deep")
        names = [Path(p).name for p in fsynced[2:-1]]  # fsynced under temporary names
        assert [n.rsplit(".", 2)[0] for n in names] == [
            ".lakebox-tmp-a.csv",
            ".lakebox-tmp-a.csv.metadata",
        ]
    # a second result in the same folder makes none
    fsynced.clear()
    results.write_results(storage, "s3://out/new/deep/b.csv", SMALL, "DML", defer_sync=True)
    assert fsynced == []


def test_a_taken_temporary_name_moves_on_to_the_next(storage: Storage) -> None:
    """A dead process whose pid came round again may have left a temporary file under the
    name this process would use next: the write takes the following one."""
    folder = _bucket(storage)
    target = folder / "a.csv"
    nxt = next(results._TEMPORARY) + 1
    left = [folder / f".lakebox-tmp-a.csv.{os.getpid()}.{nxt + i}" for i in range(5)]
    for path in left:
        path.write_bytes(b"left by a dead process")
    [csv, meta] = results.write_results(storage, "s3://out/a.csv", SMALL, "DML", defer_sync=True)
    assert target.read_bytes() == csv.data
    assert Path(f"{target}.metadata").read_bytes() == meta.data
    assert all(p.read_bytes() == b"left by a dead process" for p in left)


def test_sync_files_deals_with_each_file_on_its_own(storage: Storage, tmp_path: Path) -> None:
    """A file whose folder was deleted is done (nothing left to make durable), one that
    cannot be fsynced (a FIFO put in its place) is reported, and neither holds back the
    other files of the batch."""
    unsynced = results.write_results(storage, "s3://out/a/r.csv", SMALL, "DML", defer_sync=True)
    gone = results.write_results(storage, "s3://out/b/r.csv", SMALL, "DML", defer_sync=True)
    folder = _bucket(storage)
    for f in gone:
        f.path.unlink()
    (folder / "b").rmdir()
    fifo = folder / "a" / "fifo.csv"
    os.mkfifo(fifo)
    paths = [f.path for f in gone] + [fifo] + [f.path for f in unsynced]
    out: list[list[Path]] = []
    worker = threading.Thread(target=lambda: out.append(results.sync_files(paths)))
    worker.daemon = True  # a blocked open of the FIFO would never return
    worker.start()
    worker.join(timeout=30)
    assert out == [[fifo]]


def test_restore_leaves_anything_but_a_regular_file_alone(storage: Storage) -> None:
    """A FIFO at a result's name must not block the start-up that restores results, nor
    be replaced: someone put it there since."""
    path = _bucket(storage) / "r.csv"
    os.mkfifo(path)
    out: list[bool] = []
    worker = threading.Thread(target=lambda: out.append(results.restore_file(path, b"x")))
    worker.daemon = True  # a blocked open would never return
    worker.start()
    worker.join(timeout=30)
    assert out == [False]
    assert path.is_fifo()
    (path.parent / "d.csv").mkdir()
    assert results.restore_file(path.parent / "d.csv", b"x") is False
    (path.parent / "l.csv").symlink_to(path.parent / "elsewhere.csv")
    assert results.restore_file(path.parent / "l.csv", b"x") is False
    assert not (path.parent / "elsewhere.csv").exists()


def test_restore_does_not_make_a_deleted_results_folder_again(storage: Storage) -> None:
    [csv, _meta] = results.write_results(storage, "s3://out/q/r.csv", SMALL, "DML", defer_sync=True)
    for f in csv.path.parent.iterdir():
        f.unlink()
    csv.path.parent.rmdir()
    assert results.restore_file(csv.path, csv.data) is False
    assert not csv.path.parent.exists()


def test_restore_writes_a_missing_or_different_file_again(
    storage: Storage, fsynced: list[str]
) -> None:
    [csv, meta] = results.write_results(storage, "s3://out/r.csv", SMALL, "DML", defer_sync=True)
    csv.path.unlink()
    meta.path.write_bytes(meta.data + b"more")
    assert results.restore_file(csv.path, csv.data) is True
    assert results.restore_file(meta.path, meta.data) is True
    assert (csv.path.read_bytes(), meta.path.read_bytes()) == (csv.data, meta.data)
    fsynced.clear()
    assert results.restore_file(csv.path, csv.data) is False  # intact: only fsynced
    assert fsynced == [str(csv.path), str(csv.path.parent)]
