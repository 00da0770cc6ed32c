"""Listings of local folders kept exact by the kernel, so a repeated query need not list
and stat every file again.

Listing a folder of 10,000 files (scandir plus a stat of each) costs 60-90 ms here, on
every query of such a table. A listing is a snapshot of a folder tree; inotify says when
that snapshot may have changed: every folder of a cached tree is watched for entries
created, deleted, moved, written, truncated or touched, and pending events are read
(without blocking) before a cached listing is handed out. The kernel queues an event
before the write, rename or unlink that caused it returns, so a change that finished
before a query started is seen by that query, whichever process made it. That is stricter
than comparing sizes and modification times: a file rewritten in place within one mtime
tick, with the same size, is noticed too.

Each stored listing has a ``version``, a number never reused in the process (nor by a
forked child): anything derived from a listing (a compacted copy's fingerprint, a whole
query plan) can be remembered under that version and is current exactly while
``Storage.listing_version`` still returns it. A folder may be listed into different
records (``FileInfo``, the planner's ``DataFile``); listings of one unchanged snapshot
share its version.

Not cached (listed every time): S3, folders on network or FUSE file systems (their other
clients send no events), platforms without inotify, and trees whose watches would pass the
budget below. Not noticed: writes through a shared memory map, for which Linux sends no
event; ``LAKEBOX_LISTING_CACHE=off`` turns the cache off for such set-ups.

The three inotify system calls are made through ctypes (``_INotify``): the inotify-simple
package wraps the same calls but imports ``ctypes.util`` and ``subprocess`` to find libc
(~6 ms on a table's first query), where the process's own symbols already hold them. The
bookkeeping (which watch serves which listing, overflow, fork, eviction) is lakebox's own
because no library keeps snapshot listings.
"""

from __future__ import annotations

import itertools
import os
import stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

#: file systems whose every change on this host reaches inotify (network file systems and
#: FUSE are absent on purpose: a change made by another client sends no event)
LOCAL_FILESYSTEMS = frozenset(
    {
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "tmpfs",
        "ramfs",
        "zfs",
        "f2fs",
        "overlay",
        "bcachefs",
        "jfs",
        "reiserfs",
        "nilfs2",
        "vfat",
        "exfat",
        "ntfs3",
        "hfsplus",
    }
)
DEFAULT_MAX_FILES = 1_000_000
DEFAULT_MAX_WATCHES = 65_536

# <sys/inotify.h>: the events that may change a listing, and what the kernel reports
IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
IN_ONLYDIR = 0x1000000
#: struct inotify_event: wd, mask, cookie, len, then ``len`` bytes of name
_EVENT = struct.Struct("iIII")

T = TypeVar("T")


class _Key(NamedTuple):
    root: str
    prefix: str
    recursive: bool
    include_hidden: bool
    #: what built each file's record (``Storage.listing``'s ``row``)
    row: object


@dataclass
class _Entry:
    files: list[Any]
    version: int
    wds: frozenset[int]
    #: (st_dev, st_ino) of the root folder when listed: a folder swapped in under the
    #: same path (an ancestor renamed) is a different tree
    root_id: tuple[int, int]


@dataclass
class Recorder:
    """Watches added while one listing walks its tree. ``ok`` turns false when a folder
    could not be watched; such a listing is returned but not kept."""

    cache: ListingCache
    started: int
    wds: set[int] = field(default_factory=set)
    ok: bool = True

    def watch(self, folder: str) -> None:
        """Call before reading ``folder``: a change after this call is noticed."""
        if self.ok:
            self.ok = self.cache._add_watch(folder, self)


class _INotify:
    """One non-blocking inotify instance, by the C library's own functions (Linux)."""

    def __init__(self) -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        self._init1 = libc.inotify_init1  # AttributeError where there is none
        self._add = libc.inotify_add_watch
        self._rm = libc.inotify_rm_watch
        self._init1.argtypes = [ctypes.c_int]
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm.argtypes = [ctypes.c_int, ctypes.c_int]
        self._get_errno = ctypes.get_errno
        self.fd = self._check(self._init1(os.O_NONBLOCK | os.O_CLOEXEC))

    def _check(self, result: int, path: str | None = None) -> int:
        if result < 0:
            code = self._get_errno()
            raise OSError(code, os.strerror(code), path)
        return result

    def add_watch(self, path: str, mask: int) -> int:
        return self._check(self._add(self.fd, os.fsencode(path), mask), path)

    def rm_watch(self, wd: int) -> None:
        self._check(self._rm(self.fd, wd))

    def close(self) -> None:
        os.close(self.fd)


def _events(data: bytes) -> list[tuple[int, int]]:
    """(watch, mask) of each event in what ``read`` returned from an inotify instance."""
    out = []
    pos, end = 0, len(data)
    while pos + _EVENT.size <= end:
        wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
        out.append((wd, mask))
        pos += _EVENT.size + length
    return out


class ListingCache:
    """Process-wide cache of folder listings. Callers hold ``lock`` around ``lookup`` /
    ``begin`` / the walk / ``store``: listing under the lock keeps a concurrent eviction
    from removing a watch a walk has just added (the walk is the slow part only on a miss).
    """

    def __init__(self, max_files: int = DEFAULT_MAX_FILES, max_watches: int | None = None):
        self.lock = threading.RLock()
        self._notify = _INotify()
        self._mask = (
            IN_CREATE
            | IN_DELETE
            | IN_MODIFY
            | IN_ATTRIB
            | IN_CLOSE_WRITE
            | IN_MOVED_FROM
            | IN_MOVED_TO
            | IN_DELETE_SELF
            | IN_MOVE_SELF
            | IN_ONLYDIR
        )
        self._overflow = IN_Q_OVERFLOW
        self._ignored = IN_IGNORED
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._keys_by_wd: dict[int, set[_Key]] = {}
        self._refs: dict[int, int] = {}
        self._last_event: dict[int, int] = {}
        self._seq = itertools.count(1)
        self._last_overflow = 0
        self._files = 0
        self._max_files = max_files
        self._max_watches = max_watches or _watch_budget()
        self._fs_ok: dict[int, bool] = {}
        #: the record makers listings were made with (``_Key.row``)
        self._rows: set[object] = set()

    # -- reading ------------------------------------------------------------------------
    def lookup(self, key: _Key) -> _Entry | None:
        """The cached listing of ``key`` if nothing under it changed since it was made."""
        self._drain()
        entry = self._entries.get(key)
        if entry is None:
            return None
        if _identity(key.root) != entry.root_id:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def version(self, key: _Key) -> int | None:
        """The version of the current listing of ``key``'s folder made with any records
        (``key.row`` is not looked at): all of them share it (``store``)."""
        for row in list(self._rows):
            entry = self.lookup(key._replace(row=row))
            if entry is not None:
                return entry.version
        return None

    def begin(self, root: str) -> Recorder | None:
        """A recorder for a new listing of ``root``, or None when ``root`` cannot be kept
        current (not a folder, or on a file system that sends no events for every change)."""
        ident = _identity(root)
        if ident is None or not self._local_fs(ident[0], root):
            return None
        self._drain()
        return Recorder(self, next(self._seq))

    def store(self, key: _Key, files: list[Any], rec: Recorder) -> int | None:
        """Keep a finished listing; its version, or None when it was not kept (a folder
        changed while it was walked, or one could not be watched)."""
        self._drain()
        stale = rec.started < self._last_overflow or any(
            self._last_event.get(wd, 0) > rec.started for wd in rec.wds
        )
        ident = _identity(key.root)
        if not rec.ok or stale or ident is None or len(files) > self._max_files:
            self._release(rec.wds)
            return None
        self._drop(key)
        wds = frozenset(rec.wds)
        entry = _Entry(files, self._snapshot(key, wds, ident) or next(_versions), wds, ident)
        self._entries[key] = entry
        self._rows.add(key.row)
        for wd in entry.wds:
            self._keys_by_wd.setdefault(wd, set()).add(key)
        self._files += len(files)
        while self._files > self._max_files and len(self._entries) > 1:
            self._drop(next(iter(self._entries)))
        return entry.version

    def _snapshot(self, key: _Key, wds: frozenset[int], ident: tuple[int, int]) -> int | None:
        """The version of a kept listing of the same folder made with other records, when
        it shows the same snapshot as a walk just finished without change (called after
        ``_drain``): it is still kept, so nothing under its folders changed since its
        own walk began, and it watches the same folders of the same root. Sharing the
        version lets ``version`` answer for every kind of record."""
        for row in self._rows:
            if row is key.row:
                continue
            other = self._entries.get(key._replace(row=row))
            if other is not None and other.wds == wds and other.root_id == ident:
                return other.version
        return None

    def abandon(self, rec: Recorder) -> None:
        """A walk that failed: give back the watches it added."""
        self._release(rec.wds)
        rec.wds.clear()

    # -- watches ------------------------------------------------------------------------
    def _add_watch(self, folder: str, rec: Recorder) -> bool:
        while len(self._refs) >= self._max_watches and self._entries:
            self._drop(next(iter(self._entries)))
        if len(self._refs) >= self._max_watches:
            return False
        try:
            wd = self._notify.add_watch(folder, self._mask)
        except OSError:
            return False  # gone already, not a folder, or the user's watch limit is reached
        if wd not in rec.wds:
            rec.wds.add(wd)
            self._refs[wd] = self._refs.get(wd, 0) + 1
        return True

    def _release(self, wds: frozenset[int] | set[int]) -> None:
        for wd in wds:
            if wd not in self._refs:
                continue  # the kernel dropped it (IN_IGNORED) and the number may be reused
            left = self._refs[wd] - 1
            if left > 0:
                self._refs[wd] = left
                continue
            self._refs.pop(wd, None)
            self._last_event.pop(wd, None)
            self._keys_by_wd.pop(wd, None)
            try:
                self._notify.rm_watch(wd)
            except OSError:
                pass  # the kernel removed it already (folder deleted)

    def _drop(self, key: _Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._files -= len(entry.files)
        for wd in entry.wds:
            keys = self._keys_by_wd.get(wd)
            if keys is not None:
                keys.discard(key)
        self._release(entry.wds)

    def _drain(self) -> None:
        """Apply every pending event: listings under a changed folder are dropped."""
        data = b""
        while True:
            try:
                chunk = os.read(self._notify.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        if not data:
            return
        for wd, mask in _events(data):
            seq = next(self._seq)
            if mask & self._overflow:
                self._last_overflow = seq
                for key in list(self._entries):
                    self._drop(key)
                continue
            if wd in self._refs:
                self._last_event[wd] = seq
            for key in list(self._keys_by_wd.get(wd, ())):
                self._drop(key)
            if mask & self._ignored and wd in self._refs:
                # the kernel dropped the watch (folder deleted): nothing may rely on it
                self._refs.pop(wd, None)
                self._keys_by_wd.pop(wd, None)
                self._last_event[wd] = seq  # a walk holding it must not be kept

    def _local_fs(self, dev: int, root: str) -> bool:
        known = self._fs_ok.get(dev)
        if known is None:
            known = _fs_type(dev, root) in LOCAL_FILESYSTEMS
            self._fs_ok[dev] = known
        return known

    def close(self) -> None:
        self._notify.close()


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None
    return st.st_dev, st.st_ino


def _fs_type(dev: int, path: str) -> str:
    """The file system type of device ``dev`` from /proc/self/mountinfo ('' if unknown)."""
    want = f"{os.major(dev)}:{os.minor(dev)}"
    best, best_len = "", -1
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                parts = left.split()
                if len(parts) < 5 or parts[2] != want:
                    continue
                mount = parts[4].replace("\\040", " ")
                inside = real == mount or real.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > best_len:
                    best, best_len = (right.split() or [""])[0], len(mount)
    except OSError:
        return ""
    return best


def _watch_budget() -> int:
    """A quarter of the user's inotify watch limit (other lakebox processes and other
    programs share it), at most 65,536."""
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", encoding="ascii") as fh:
            limit = int(fh.read().strip())
    except (OSError, ValueError):
        limit = 8192
    return max(1, min(DEFAULT_MAX_WATCHES, limit // 4))


#: listing versions, never reused in the process: not by a later cache (a forked child
#: starts its own), since what was derived from a version is remembered under it
#: (``derived``) and a plan or copy build counted by it (``compaction``)
_versions = itertools.count(1)
_cache: ListingCache | None = None
_cache_failed = False
_cache_guard = threading.Lock()


def listing_cache() -> ListingCache | None:
    """The process's listing cache, or None when it is off or cannot work here."""
    global _cache, _cache_failed
    if os.environ.get("LAKEBOX_LISTING_CACHE", "on").strip().lower() in ("off", "0", "false"):
        return None
    if _cache is not None or _cache_failed:
        return _cache
    with _cache_guard:
        if _cache is None and not _cache_failed:
            try:
                _cache = ListingCache()
            except (ImportError, OSError, AttributeError, TypeError):
                _cache_failed = True  # no inotify (not Linux) or no instance left
    return _cache


def _after_fork() -> None:
    """A child must not read the parent's event queue: it starts its own cache (its
    versions go on from the parent's count). Locks another thread held at the fork would
    never be released in the child: they are made anew."""
    global _cache, _cache_guard, _derived_lock
    old, _cache = _cache, None
    _cache_guard = threading.Lock()
    _derived_lock = threading.Lock()
    if old is not None:
        try:
            old.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def make_key(
    root: str, prefix: str, recursive: bool, include_hidden: bool, row: object = None
) -> _Key:
    return _Key(root, prefix, recursive, include_hidden, row)


_derived: OrderedDict[tuple[int, str], object] = OrderedDict()
_derived_lock = threading.Lock()
_DERIVED_SIZE = 1024


def derived(version: int | None, kind: str, compute: Callable[[], T]) -> T:
    """``compute()`` remembered for one listing version (a version names one immutable
    listing, so the value never goes stale); computed every time when ``version`` is None."""
    if version is None:
        return compute()
    key = (version, kind)
    with _derived_lock:
        if key in _derived:
            _derived.move_to_end(key)
            return _derived[key]  # type: ignore[return-value]
    value = compute()
    with _derived_lock:
        _derived[key] = value
        while len(_derived) > _DERIVED_SIZE:
            _derived.popitem(last=False)
    return value
