"""Watched listings: a cached listing is handed out only while nothing under its folder
changed, whoever changed it, so every query sees exactly the files that are there.

Each change test lists a real folder, changes it the way a user or another program would,
and checks both that the version moved on and that the new listing equals a fresh walk of
the folder (``LAKEBOX_LISTING_CACHE=off``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lakebox.formats.base import DataFile
from lakebox.storage import FileInfo, Storage
from lakebox.storage.base import Listing
from lakebox.storage.watch import ListingCache, derived, listing_cache, make_key

LOCATION = "s3://b/t/"


def fresh(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The folder's files walked now, without the cache."""
    with monkeypatch.context() as m:
        m.setenv("LAKEBOX_LISTING_CACHE", "off")
        return [(f.uri, f.size) for f in storage.list_files(LOCATION)]


def assert_relisted(
    storage: Storage, before: Listing, monkeypatch: pytest.MonkeyPatch
) -> list[FileInfo]:
    """The folder is listed again (a new version) and the listing equals a fresh walk."""
    after = storage.listing(LOCATION)
    assert after.version != before.version
    assert [(f.uri, f.size) for f in after.files] == fresh(storage, monkeypatch)
    return after.files


@pytest.fixture
def folder(lake_home: Path) -> Path:
    root = lake_home / "b" / "t"
    (root / "dt=1").mkdir(parents=True)
    (root / "a.json").write_text('{"a": 1}\n')
    (root / "b.json").write_text('{"a": 2}\n')
    (root / "dt=1" / "c.json").write_text('{"a": 3}\n')
    return root


def _same_size_rewrite(folder: Path) -> None:
    """New content, same size, modification time put back (as ``cp -p`` would)."""
    path = folder / "a.json"
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.write(b'{"a": 9}\n')
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _append(folder: Path) -> None:
    with open(folder / "a.json", "a") as fh:
        fh.write("{}\n")


def _truncate(folder: Path) -> None:
    with open(folder / "a.json", "w"):
        pass


def _swap_root(folder: Path) -> None:
    """Another folder renamed into the table's place (its parent changed, not the folder)."""
    other = folder.parent / "t-new"
    other.mkdir()
    (other / "z.json").write_text("{}\n")
    folder.rename(folder.parent / "t-old")
    other.rename(folder)


CHANGES: dict[str, Callable[[Path], object]] = {
    "file added": lambda f: (f / "d.json").write_text("{}\n"),
    "file added in a sub-folder": lambda f: (f / "dt=1" / "e.json").write_text("{}\n"),
    "sub-folder added": lambda f: (f / "dt=2").mkdir(),
    "file deleted": lambda f: (f / "b.json").unlink(),
    "file in a sub-folder deleted": lambda f: (f / "dt=1" / "c.json").unlink(),
    "file renamed": lambda f: (f / "b.json").rename(f / "bb.json"),
    "file appended to": _append,
    "file truncated": _truncate,
    "file touched": lambda f: os.utime(f / "a.json", (1, 1)),
    "same-size rewrite with the old mtime": _same_size_rewrite,
    "file replaced by rename": lambda f: os.replace(
        Path(shutil.copy(f / "b.json", f.parent / "tmp.json")), f / "a.json"
    ),
    "sub-folder removed": lambda f: shutil.rmtree(f / "dt=1"),
    "folder swapped in under the same path": _swap_root,
}


def test_unchanged_folder_keeps_its_listing(storage: Storage, folder: Path) -> None:
    first = storage.listing(LOCATION)
    again = storage.listing(LOCATION)
    assert first.version is not None
    assert again.version == first.version
    assert again.files is first.files  # served from the cache, not walked again
    assert storage.listing_version(LOCATION) == first.version


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_under_the_folder_is_seen(
    change: str, storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = storage.listing(LOCATION)
    CHANGES[change](folder)
    assert storage.listing_version(LOCATION) != before.version
    assert_relisted(storage, before, monkeypatch)


def test_change_made_by_another_process_is_seen_at_once(
    storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = storage.listing(LOCATION)
    target = folder / "from-elsewhere.json"
    subprocess.run(
        [sys.executable, "-c", f"open({str(target)!r}, 'w').write('{{}}\\n')"], check=True
    )
    files = assert_relisted(storage, before, monkeypatch)
    assert any(f.uri.endswith("from-elsewhere.json") for f in files)


def test_unrelated_folder_changes_keep_the_listing(
    storage: Storage, folder: Path, lake_home: Path
) -> None:
    before = storage.listing(LOCATION)
    (lake_home / "b" / "other").mkdir()
    (lake_home / "b" / "other" / "x.json").write_text("{}\n")
    assert storage.listing(LOCATION).version == before.version


def test_reading_files_keeps_the_listing(storage: Storage, folder: Path) -> None:
    before = storage.listing(LOCATION)
    for f in before.files:
        storage.read_bytes(f.uri)
    assert storage.listing(LOCATION).version == before.version


def test_event_queue_overflow_drops_every_listing(
    storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = storage.listing(LOCATION)
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    # alternate two files so the kernel cannot merge consecutive identical events
    with open(folder / "a.json", "ab") as a, open(folder / "b.json", "ab") as b:
        for _ in range(limit // 2 + 10):
            a.write(b" ")
            a.flush()
            b.write(b" ")
            b.flush()
    assert_relisted(storage, before, monkeypatch)


def test_switched_off_by_environment(
    storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_LISTING_CACHE", "off")
    assert storage.listing(LOCATION).version is None
    assert storage.listing_version(LOCATION) is None


def test_missing_folder_is_listed_but_not_kept(storage: Storage, lake_home: Path) -> None:
    listing = storage.listing("s3://b/nothing-here/")
    assert listing.files == [] and listing.version is None


def test_folders_without_change_events_are_not_kept() -> None:
    """procfs stands in for any file system whose changes inotify does not report
    (network and FUSE file systems are refused the same way, by type)."""
    cache = ListingCache()
    try:
        assert cache.begin("/proc/self") is None
    finally:
        cache.close()


def test_tree_over_the_watch_budget_is_listed_but_not_kept(folder: Path) -> None:
    cache = ListingCache(max_watches=1)  # the table folder and dt=1 need two
    try:
        key = make_key(str(folder), LOCATION, True, False)
        with cache.lock:
            rec = cache.begin(str(folder))
            assert rec is not None
            for sub in (folder, folder / "dt=1"):
                rec.watch(str(sub))
            assert cache.store(key, [], rec) is None
            assert cache.lookup(key) is None
    finally:
        cache.close()


def test_forked_child_keeps_its_own_events(storage: Storage, folder: Path) -> None:
    """A child must not consume the parent's event queue: after the child listed and a
    file changed, the parent still notices the change."""
    before = storage.listing(LOCATION)
    assert listing_cache() is not None
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            child = storage.listing(LOCATION)
            (folder / "child.json").write_text("{}\n")
            storage.listing(LOCATION)
            code = 0 if child.version is not None else 3
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    after = storage.listing(LOCATION)
    assert after.version != before.version
    assert any(f.uri.endswith("child.json") for f in after.files)


def test_listings_with_other_records_share_the_snapshot_version(
    storage: Storage, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planner lists with its own records (``DataFile``): the same files, sorted the
    same way, and the version ``listing_version`` answers with for the folder (the plan
    cache asks it without naming records), until something under it changes."""
    infos = storage.listing(LOCATION)
    files = storage.listing(LOCATION, row=DataFile)
    assert files.version == infos.version == storage.listing_version(LOCATION)
    assert all(type(f) is DataFile for f in files.files)
    assert [(f.uri, f.engine_path, f.size, f.mtime, f.ctime) for f in files.files] == [
        (f.uri, f.path, f.size, f.mtime, f.ctime) for f in infos.files
    ]
    assert storage.listing(LOCATION, row=DataFile).files is files.files  # kept
    (folder / "new.json").write_text("{}\n")
    assert storage.listing_version(LOCATION) is None
    again = storage.listing(LOCATION, row=DataFile)
    assert again.version not in (None, files.version)
    assert storage.listing_version(LOCATION) == again.version
    assert [(f.uri, f.size) for f in again.files] == fresh(storage, monkeypatch)
    # a FileInfo listing made now shows the same snapshot: it shares the new version
    assert storage.listing(LOCATION).version == again.version


def test_a_listing_with_records_alone_answers_for_its_folder(
    storage: Storage, folder: Path
) -> None:
    files = storage.listing(LOCATION, row=DataFile)
    assert files.version is not None
    assert storage.listing_version(LOCATION) == files.version
    (folder / "dt=1" / "c.json").unlink()
    assert storage.listing_version(LOCATION) is None


def test_a_forked_childs_listings_never_reuse_a_version(
    storage: Storage, folder: Path, lake_home: Path
) -> None:
    """What was derived from a listing is remembered under its version (``derived``), in
    the child too: the child's own cache must not hand out a version the parent used
    for another folder, or the child would read the parent's files for it."""
    parent = storage.listing(LOCATION)
    assert parent.version is not None
    derived(parent.version, "names", lambda: [f.uri for f in parent.files])
    other = lake_home / "b" / "u"
    other.mkdir()
    (other / "z.json").write_text("{}\n")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            child = storage.listing("s3://b/u/")
            names = derived(child.version, "names", lambda: [f.uri for f in child.files])
            if child.version is None or child.version <= parent.version:
                code = 3
            elif names != ["s3://b/u/z.json"]:
                code = 5
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
