"""``lakebox doctor``: check a lake's metadata stores, journals and layout, read-only.

Every check yields one ``Finding``: ok, or a problem with what to do about it. Nothing here
opens the lake (which would recover journals and create stores); stores are opened
read-only for SQLite's full ``integrity_check``. ``fix`` does the few repairs that cannot
lose anything: finishing or undoing the writes of dead processes (what the next open of
the lake would do anyway) and removing temp files no process is writing.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lakebox.metadata import sqlite as metadb
from lakebox.util import pid_alive

METADATA = "_lakebox"
#: temp files older than this belong to no running write
STALE_SECONDS = 60.0
#: where ``restore`` keeps the metadata it replaced, and stages the new one
ASIDE_PREFIX = f"{METADATA}-before-restore-"
STAGING_PREFIX = f"{METADATA}-restoring-"


@dataclass(frozen=True)
class Finding:
    """One checked thing: ``ok``, or a problem whose message says what to do."""

    check: str
    ok: bool
    message: str
    #: ``fix`` can repair it without losing anything
    fixable: bool = False


def store_files(metadata_dir: Path) -> list[Path]:
    """The known stores that exist, then any other ``*.sqlite`` (a store added later)."""
    known = [metadata_dir / s.file for s in metadb.STORES]
    others = sorted(p for p in metadata_dir.glob("*.sqlite") if p not in known)
    return [p for p in known if p.exists()] + others


def check_store(path: Path, home: Path) -> Finding:
    """Header, SQLite's full integrity_check and the schema version of one store."""
    where = f"'lakebox restore BACKUP --home {home}'"
    problem = metadb.header_problem(path)
    if problem is None:
        try:
            con = metadb.connect(path, read_only=True, timeout=10)
            try:
                rows = [r[0] for r in con.execute("PRAGMA integrity_check(20)").fetchall()]
                version = int(con.execute("PRAGMA user_version").fetchone()[0])
            finally:
                con.close()
        except metadb.MetadataCorruptError as err:
            problem = err.detail
        except metadb.MetadataAccessError as err:
            return Finding(path.name, False, f"cannot be read ({err.detail})")
        except sqlite3.Error as err:
            return Finding(path.name, False, f"cannot be checked now ({err}); try again")
        else:
            if rows != ["ok"]:
                problem = "; ".join(" ".join(str(r).split()) for r in rows[:3])
    if problem is not None:
        return Finding(
            path.name,
            False,
            f"damaged ({problem}); restore the metadata with {where}, or move the file "
            "aside to start this store empty",
        )
    known = {s.file: s.version for s in metadb.STORES}.get(path.name)
    if known is not None and version > known:
        return Finding(
            path.name,
            False,
            f"schema version {version} is newer than this lakebox's {known}; upgrade lakebox",
        )
    return Finding(path.name, True, f"intact, {_size(path.stat().st_size)}")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _tree_size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # a cache entry evicted meanwhile
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _stale(folder: Path, pattern: str, now: float) -> list[Path]:
    out = []
    for path in folder.glob(pattern):
        try:
            if now - path.lstat().st_mtime > STALE_SECONDS:
                out.append(path)
        except OSError:
            continue
    return out


def _alive(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return True  # another machine's process: not ours to judge
    return pid_alive(pid)


def check_journals(metadata_dir: Path, now: float) -> Iterator[Finding]:
    """The query write journal: writes in progress, unfinished writes of dead processes,
    unreadable journals and temp files left by a save cut short."""
    folder = metadata_dir / "writes"
    if not folder.is_dir():
        yield Finding("write journal", True, "no writes yet")
        return
    journals = sorted(folder.glob("*.json"))
    dead = []
    for path in journals:
        try:
            doc = json.loads(path.read_text())
            pid, host = int(doc["pid"]), str(doc["host"])
        except (OSError, ValueError, KeyError, TypeError):
            yield Finding(
                f"write journal {path.name}",
                False,
                f"cannot be read; if no lakebox write is running, move {path} aside",
            )
            continue
        what = f"{doc.get('kind', 'write')} {doc.get('query_id', path.stem)}"
        if _alive(pid, host):
            yield Finding(f"write journal {path.name}", True, f"{what} in progress (pid {pid})")
        else:
            dead.append(path)
            yield Finding(
                f"write journal {path.name}",
                False,
                f"{what} stopped at phase '{doc.get('phase')}' when its process died; "
                "the next command that opens the lake finishes or undoes it "
                "(or run 'lakebox doctor --fix')",
                fixable=True,
            )
    stale = _stale(folder, ".journal-*", now)
    if stale:
        yield Finding(
            "write journal",
            False,
            f"{len(stale)} temp file(s) left by an interrupted save; 'lakebox doctor --fix' "
            "removes them",
            fixable=True,
        )
    elif not journals:
        yield Finding("write journal", True, "no unfinished writes")


def check_streams(metadata_dir: Path, now: float) -> Iterator[Finding]:
    """Stream definitions and delivery state readable, records waiting, leftovers."""
    root = metadata_dir / "streams"
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".deleted-"):
            yield Finding(
                "streams",
                False,
                f"{folder.name} is what remains of a deleted stream; "
                "'lakebox doctor --fix' removes it",
                fixable=True,
            )
            continue
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        check = f"stream {folder.name}"
        try:
            json.loads((folder / "stream.json").read_text())
        except (OSError, ValueError) as err:
            yield Finding(check, False, f"definition stream.json cannot be read ({err})")
            continue
        try:
            state_path = folder / "state.json"
            state = json.loads(state_path.read_text()) if state_path.exists() else {}
            delivered = int(state.get("delivered", 0))
        except (OSError, ValueError, TypeError, AttributeError) as err:
            yield Finding(check, False, f"delivery state state.json cannot be read ({err})")
            continue
        waiting = _waiting_records(folder / "wal", delivered)
        stale = _stale(folder, ".*.tmp", now)
        if stale:
            yield Finding(
                check,
                False,
                f"{len(stale)} temp file(s) left by an interrupted save; "
                "'lakebox doctor --fix' removes them",
                fixable=True,
            )
        elif waiting:
            yield Finding(
                check,
                True,
                f"{waiting} record(s) waiting for delivery "
                f"('lakebox stream flush {folder.name}' delivers them now)",
            )
        else:
            yield Finding(check, True, "nothing waiting for delivery")


def _waiting_records(wal: Path, delivered: int) -> int:
    if not wal.is_dir():
        return 0
    from lakebox.ingest.wal import DeliveryState, WriteAheadLog

    log = WriteAheadLog(wal.parent)
    return len(log.pending(DeliveryState(delivered=delivered)))


def check_exports(metadata_dir: Path) -> Iterator[Finding]:
    folder = metadata_dir / "exports" / "descriptions"
    if not folder.is_dir():
        return
    bad = []
    for path in sorted(folder.glob("*.json")):
        try:
            json.loads(path.read_text())
        except (OSError, ValueError):
            bad.append(path.name)
    if bad:
        yield Finding(
            "exports",
            False,
            f"export description(s) {', '.join(bad[:3])} cannot be read; restore the "
            "metadata from a backup or move them aside",
        )
    else:
        yield Finding("exports", True, "descriptions readable")


def check_layout(home: Path) -> Iterator[Finding]:
    """Buckets are folders; leftovers of a restore are named."""
    for entry in sorted(home.iterdir()):
        name = entry.name
        if name == METADATA or name.startswith("."):
            continue
        if name.startswith(ASIDE_PREFIX):
            yield Finding(
                "lake layout",
                True,
                f"{name} holds the metadata a restore replaced; delete it when no longer needed",
            )
        elif name.startswith(STAGING_PREFIX):
            yield Finding(
                "lake layout",
                False,
                f"{name} is left from an interrupted restore; run the restore again, "
                "then delete it",
            )
        elif not entry.is_dir():
            yield Finding(
                "lake layout",
                False,
                f"{entry} is a file, but everything in the lake folder is a bucket "
                "(a folder); move it into a bucket",
            )


def diagnose(home: Path) -> list[Finding]:
    """Every check of the lake at ``home``, in the order they are printed."""
    if not home.exists():
        return [
            Finding(
                "lake",
                False,
                f"no lake at {home}; give the lake's folder with --home, or create "
                "one with any lakebox command that writes (e.g. lakebox sql)",
            )
        ]
    if not home.is_dir():
        return [Finding("lake", False, f"{home} is a file, not a lake folder; check --home")]
    metadata_dir = home / METADATA
    if not metadata_dir.is_dir():
        what = "is a file" if metadata_dir.exists() else "is missing"
        return [
            Finding(
                "lake",
                False,
                f"metadata folder {metadata_dir} {what}, so {home} is not a lake; check "
                "--home, or restore the metadata with 'lakebox restore BACKUP'",
            )
        ]
    now = time.time()
    findings = [Finding("lake", True, f"{home}")]
    stores = store_files(metadata_dir)
    findings += [check_store(p, home) for p in stores]
    missing = [s.file for s in metadb.STORES if not (metadata_dir / s.file).exists()]
    if missing:
        names = ", ".join(m.removesuffix(".sqlite") for m in missing)
        findings.append(Finding("stores", True, f"not created yet: {names}"))
    findings += check_journals(metadata_dir, now)
    findings += check_streams(metadata_dir, now)
    findings += check_exports(metadata_dir)
    cache = metadata_dir / "cache"
    if cache.is_dir():
        findings.append(Finding("cache", True, f"{_size(_tree_size(cache))}, rebuilt on demand"))
    findings += check_layout(home)
    return findings


def fix(home: Path) -> list[str]:
    """Safe repairs; returns what was done. Dead writes are finished or undone through the
    lake's own recovery, so the catalog must be healthy for that part."""
    done: list[str] = []
    metadata_dir = home / METADATA
    now = time.time()
    for path in _stale(metadata_dir / "writes", ".journal-*", now):
        path.unlink(missing_ok=True)
        done.append(f"removed temp file {path}")
    streams = metadata_dir / "streams"
    if streams.is_dir():
        import shutil

        for folder in sorted(streams.glob(".deleted-*")):
            shutil.rmtree(folder, ignore_errors=True)
            done.append(f"removed {folder}")
        for folder in sorted(p for p in streams.iterdir() if p.is_dir()):
            for path in _stale(folder, ".*.tmp", now):
                path.unlink(missing_ok=True)
                done.append(f"removed temp file {path}")
    dead = [
        metadata_dir / "writes" / f.check.removeprefix("write journal ")
        for f in check_journals(metadata_dir, now)
        if f.fixable and f.check.startswith("write journal ")
    ]
    if dead:
        _recover_writes(home)
        done += [f"finished or undid write {p.stem}" for p in dead if not p.exists()]
    return done


class _WriteRecoveryParts:
    """The parts of a lake that write recovery reads (config, storage, catalog): what
    opening the lake would do for dead writes, without the engine and services the
    composition root above this package builds."""

    def __init__(self, home: Path) -> None:
        from lakebox.catalog.store import SQLiteCatalogStore
        from lakebox.config import LakeConfig
        from lakebox.storage import Storage

        self.config = LakeConfig.from_env(home=home)
        self.storage = Storage(self.config)
        self.catalog = SQLiteCatalogStore(self.config.metadata_dir / "catalog.sqlite")


def _recover_writes(home: Path) -> None:
    from lakebox.query.journal import recover_writes

    recover_writes(_WriteRecoveryParts(home))
