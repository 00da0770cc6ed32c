"""``lakebox backup`` / ``lakebox restore``: a consistent copy of a lake's metadata.

A backup is a folder, or one ``.tar.gz`` file when the destination's name ends so, holding
``lakebox-backup.json`` (format, schema versions, SHA-256 of every file) and a
``metadata/`` folder: each SQLite store copied with SQLite's online backup API (a
consistent snapshot even while other processes write) and the other metadata files
(write journal, streams' logs and state, export descriptions, job logs). The cache and
lock files are left out: they are rebuilt. Bucket data is not part of it.

Restore checks the whole backup first (format, checksums, SQLite integrity_check, schema
versions), refuses while the lake is in use, and never deletes: the metadata it replaces
is moved to ``<home>/_lakebox-before-restore-<time>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakebox.admin.doctor import ASIDE_PREFIX, METADATA, STAGING_PREFIX, store_files
from lakebox.errors import InvalidRequestError
from lakebox.metadata import sqlite as metadb

MANIFEST = "lakebox-backup.json"
FORMAT = 1
#: metadata the lake rebuilds by itself, left out of backups
SKIP_DIRS = frozenset({"cache", "query-slots"})
_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(InvalidRequestError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    stores: list[str]
    files: int
    bytes: int


@dataclass(frozen=True)
class RestoreReport:
    home: Path
    stores: list[str]
    files: int
    #: where the replaced metadata went (None when the lake had none)
    aside: Path | None


def _is_archive(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _other_files(metadata_dir: Path) -> Iterator[Path]:
    """Every non-SQLite metadata file worth keeping (relative paths)."""
    for root, dirs, files in os.walk(metadata_dir):
        rel_root = Path(root).relative_to(metadata_dir)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        dirs.sort()
        for name in sorted(files):
            rel = rel_root / name
            if rel_root == Path(".") and (
                name.endswith(".sqlite") or name.endswith(tuple(f".sqlite{s}" for s in _SIDE_FILES))
            ):
                continue
            if name == "lock":  # streams' flock files
                continue
            yield rel


def _copy_store(source: Path, target: Path) -> int:
    """Copy one store with SQLite's backup API; returns its schema version. The copy is
    checked, so a damaged store fails the backup instead of hiding in it."""
    src = metadb.connect(source, read_only=True, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            rows = [r[0] for r in dst.execute("PRAGMA integrity_check(5)").fetchall()]
            version = int(dst.execute("PRAGMA user_version").fetchone()[0])
        finally:
            dst.close()
    except sqlite3.DatabaseError as err:
        code = getattr(err, "sqlite_errorcode", 0) & 0xFF
        if code in (11, 26):
            raise metadb.MetadataCorruptError(source, str(err)) from err
        raise BackupError(f"cannot copy metadata store {source}: {err}") from err
    finally:
        src.close()
    if rows != ["ok"]:
        raise metadb.MetadataCorruptError(source, "; ".join(str(r) for r in rows[:2]))
    return version


def backup(home: Path, dest: Path) -> BackupReport:
    """Copy the metadata of the lake at ``home`` to ``dest`` (a new folder, or a new
    ``.tar.gz`` file); nothing is left at ``dest`` when it fails."""
    metadata_dir = home / METADATA
    if not metadata_dir.is_dir():
        raise BackupError(f"no lake at {home} (no {METADATA} folder); check --home")
    dest = dest.absolute()
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise BackupError(f"{dest} already exists; give a new name for the backup")
    if dest == metadata_dir or metadata_dir in dest.parents:
        raise BackupError(f"{dest} is inside the lake's metadata folder; put it elsewhere")
    if not dest.parent.is_dir():
        raise BackupError(f"folder {dest.parent} does not exist; create it first")
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        out = staging / METADATA_IN_BACKUP
        out.mkdir()
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "lakebox": _version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "home": str(home),
            "stores": {},
            "files": {},
        }
        total = 0
        # journals first: a write that commits meanwhile is then found committed in the
        # catalog copied next, and recovery after a restore rolls it forward
        for rel in _other_files(metadata_dir):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(metadata_dir / rel, target)
            except FileNotFoundError:
                continue  # removed while we copied (a finished write's journal)
            manifest["files"][rel.as_posix()] = _entry(target)
            total += target.stat().st_size
        for store in store_files(metadata_dir):
            version = _copy_store(store, out / store.name)
            manifest["stores"][store.name] = {"version": version, **_entry(out / store.name)}
            total += (out / store.name).stat().st_size
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if _is_archive(dest):
            partial = dest.with_name(f".{dest.name}.partial-{uuid.uuid4().hex[:8]}")
            try:
                with tarfile.open(partial, "w:gz") as tar:
                    tar.add(staging, arcname=".")
                os.replace(partial, dest)
            finally:
                partial.unlink(missing_ok=True)
        else:
            if dest.exists():
                dest.rmdir()  # the empty folder checked above
            os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupReport(dest, list(manifest["stores"]), len(manifest["files"]), total)


METADATA_IN_BACKUP = "metadata"


def _entry(path: Path) -> dict[str, Any]:
    return {"sha256": _sha256(path), "size": path.stat().st_size}


def _version() -> str:
    from lakebox.version import __version__

    return __version__


@contextlib.contextmanager
def _opened(src: Path, scratch: Path) -> Iterator[Path]:
    """The backup's root folder: ``src`` itself, or an archive unpacked into ``scratch``."""
    if not src.exists():
        raise BackupError(f"no backup at {src}")
    if src.is_dir():
        yield src
        return
    try:
        with tarfile.open(src, "r:*") as tar:
            tar.extractall(scratch, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise BackupError(f"backup {src} is damaged or not a backup archive ({err})") from err
    yield scratch


def verify(root: Path, src: Path) -> dict[str, Any]:
    """Check a backup completely; returns its manifest. Raises BackupError naming the
    first problem: not a backup, other format, missing or changed file, damaged store."""
    try:
        manifest: dict[str, Any] = json.loads((root / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{src} is not a lakebox backup (no {MANIFEST}); make one with 'lakebox backup'"
        ) from None
    except (OSError, ValueError) as err:
        raise BackupError(f"backup {src} is damaged: {MANIFEST} cannot be read ({err})") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(
            f"backup {src} has format {found!r}, not the {FORMAT} this lakebox reads; restore "
            "it with the lakebox version that made it"
        )
    data = root / METADATA_IN_BACKUP
    entries = {**manifest.get("files", {}), **manifest.get("stores", {})}
    for rel, entry in entries.items():
        path = data / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise BackupError(f"backup {src} is damaged: bad file name {rel!r}")
        if not path.is_file():
            raise BackupError(f"backup {src} is damaged: {rel} is missing")
        if _sha256(path) != entry.get("sha256"):
            raise BackupError(f"backup {src} is damaged: {rel} changed since the backup")
    known = {s.file: s.version for s in metadb.STORES}
    for name, entry in manifest.get("stores", {}).items():
        if int(entry.get("version", 0)) > known.get(name, entry.get("version", 0)):
            raise BackupError(
                f"backup {src} holds {name} with schema version {entry['version']}, newer "
                f"than this lakebox's {known[name]}; upgrade lakebox to restore it"
            )
        try:
            con = metadb.connect(data / name, read_only=True)
            try:
                rows = [r[0] for r in con.execute("PRAGMA integrity_check(5)").fetchall()]
            finally:
                con.close()
        except metadb.MetadataError as err:
            raise BackupError(f"backup {src} is damaged: {name}: {err}") from err
        if rows != ["ok"]:
            raise BackupError(f"backup {src} is damaged: {name}: {rows[0]}")
    return manifest


def _in_use(metadata_dir: Path) -> str | None:
    """Why the lake cannot be restored now, or None: a live write, or a store a writer holds."""
    from lakebox.admin.doctor import check_journals

    for finding in check_journals(metadata_dir, time.time()):
        if finding.ok and "in progress" in finding.message:
            return f"a write is running ({finding.message})"
    for store in store_files(metadata_dir):
        try:
            con = sqlite3.connect(store, timeout=0, isolation_level=None)
        except sqlite3.Error:
            continue
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                return f"another process is writing {store}"
        except sqlite3.DatabaseError:
            pass  # a damaged store: exactly what a restore is for
        finally:
            con.close()
    return None


def restore(src: Path, home: Path) -> RestoreReport:
    """Put the metadata in backup ``src`` back into the lake at ``home`` (created when
    missing). The lake's current metadata is moved aside, not deleted."""
    src = src.absolute()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    staging = home / f"{STAGING_PREFIX}{stamp}-{uuid.uuid4().hex[:6]}"
    with (
        tempfile.TemporaryDirectory(prefix="lakebox-restore-") as scratch,
        _opened(src, Path(scratch)) as root,
    ):
        manifest = verify(root, src)
        metadata_dir = home / METADATA
        if metadata_dir.exists():
            busy = _in_use(metadata_dir)
            if busy:
                raise BackupError(
                    f"the lake at {home} is in use: {busy}; stop lakebox processes using "
                    "it, then restore again"
                )
        home.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copytree(root / METADATA_IN_BACKUP, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    aside: Path | None = None
    if metadata_dir.exists():
        aside = home / f"{ASIDE_PREFIX}{stamp}"
        while aside.exists():
            aside = home / f"{ASIDE_PREFIX}{stamp}-{uuid.uuid4().hex[:6]}"
        os.replace(metadata_dir, aside)
    os.replace(staging, metadata_dir)
    return RestoreReport(home, list(manifest["stores"]), len(manifest["files"]), aside)
