"""Crash-safe write journal for CTAS, INSERT INTO and UNLOAD.

A write stages its files in a hidden folder (readers skip names starting with ``.``), then
moves them into place and changes the catalog. Before each phase it records, atomically,
what it is about to do in ``<metadata_dir>/writes/<query_id>.json``. When the process dies
(SIGKILL, power loss) the journal tells ``recover_writes`` exactly what to undo.

Recovery rolls *back* every write that did not reach its commit point and rolls *forward*
(only cleanup is left) the ones that did. Rolling back is the right default: until the commit
the client never saw success, so the statement failed, and a failed Athena statement must
leave no table, no partition and no visible file. The commit point is the catalog change for
CTAS (the table appears) and the ``committed`` journal phase for INSERT INTO and UNLOAD
(written after every file is in place and every partition registered).

Hive tables have no snapshot to swap, so an INSERT's files become visible one rename at a
time during the short move phase; a reader running exactly then may see part of the insert,
and a crash then is undone by recovery. The files of a killed write never stay visible.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lakebox.catalog.store import CatalogStore
from lakebox.config import LakeConfig
from lakebox.errors import LakeboxError, StorageError
from lakebox.storage import Storage

log = logging.getLogger(__name__)


class Lake(Protocol):
    """What the journal needs of a lake (``lakebox.lakehouse.Lakehouse`` is one): where
    journals live, and the storage and catalog a write changes."""

    @property
    def config(self) -> LakeConfig: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def catalog(self) -> CatalogStore: ...


#: phases in order; ``committed`` is the only one recovery rolls forward
STAGING = "staging"
MOVING = "moving"
CATALOG = "catalog"
COMMITTED = "committed"


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), so a recycled pid is not mistaken for the
    writer; None where /proc is unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


@dataclass
class WriteJournal:
    """What one write has done so far; saved atomically before each phase."""

    query_id: str
    kind: str
    target: str
    staging: str
    database: str | None = None
    table: str | None = None
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)
    proc_start: str | None = None
    started: float = field(default_factory=time.time)
    phase: str = STAGING
    #: [staged uri, final uri] for every data file of the write
    moves: list[list[str]] = field(default_factory=list)
    #: partition values this write registers (INSERT: only those that did not exist)
    partitions_added: list[list[str]] = field(default_factory=list)
    #: extra objects written outside the target (UNLOAD's manifest)
    extras: list[str] = field(default_factory=list)
    path: str = ""

    def save(self, phase: str | None = None) -> None:
        if phase is not None:
            self.phase = phase
        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        fd, tmp = tempfile.mkstemp(prefix=".journal-", dir=target.parent)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def finish(self) -> None:
        Path(self.path).unlink(missing_ok=True)

    def owner_alive(self) -> bool:
        if self.host != socket.gethostname():
            return True  # another machine's write: not ours to judge
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return self.proc_start is None or _proc_start(self.pid) == self.proc_start


def journal_dir(lake: Lake) -> Path:
    return Path(lake.config.metadata_dir) / "writes"


def start_journal(
    lake: Lake,
    query_id: str,
    kind: str,
    target: str,
    staging: str,
    database: str | None = None,
    table: str | None = None,
) -> WriteJournal:
    journal = WriteJournal(
        query_id=query_id,
        kind=kind,
        target=target,
        staging=staging,
        database=database,
        table=table,
        proc_start=_proc_start(os.getpid()),
        path=str(journal_dir(lake) / f"{query_id}.json"),
    )
    journal.save()
    return journal


def load_journal(path: Path) -> WriteJournal | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):  # damaged like unreadable: doctor names it
        return None
    data["path"] = str(path)
    known = set(WriteJournal.__dataclass_fields__)
    try:
        journal = WriteJournal(**{k: v for k, v in data.items() if k in known})
    except TypeError:  # a required field is missing
        return None
    texts = (journal.query_id, journal.kind, journal.target, journal.staging, journal.phase)
    lists = (journal.moves, journal.partitions_added, journal.extras)
    if not all(isinstance(v, str) for v in texts) or not all(isinstance(v, list) for v in lists):
        return None
    if not isinstance(journal.pid, int) or not isinstance(journal.started, int | float):
        return None
    return journal


def _committed(lake: Lake, journal: WriteJournal) -> bool:
    if journal.phase == COMMITTED:
        return True
    if journal.kind == "CTAS" and journal.phase == CATALOG and journal.table:
        # the crash may have come between the catalog insert and the journal update
        try:
            table = lake.catalog.get_table(journal.database or "", journal.table)
        except LakeboxError:
            return False
        return (table.location or "").rstrip("/") == journal.target.rstrip("/")
    return False


def rollback(lake: Lake, journal: WriteJournal) -> None:
    """Undo a write that did not commit: its files, its new partitions, its staging."""
    storage = lake.storage
    for final in [m[1] for m in journal.moves] + journal.extras:
        storage.delete(final)
    remove_tree(lake, journal.staging)
    if journal.kind == "INSERT" and journal.partitions_added and journal.table:
        db, name = journal.database or "", journal.table
        try:
            existing = {tuple(p.values): p for p in lake.catalog.get_partitions(db, name)}
        except LakeboxError:
            existing = {}
        drop = []
        for values in journal.partitions_added:
            part = existing.get(tuple(values))
            # a concurrent writer may have put files in the same new partition: keep it then
            if part is not None and (not part.location or not storage.list_files(part.location)):
                drop.append(list(values))
        if drop:
            lake.catalog.drop_partitions(db, name, drop, if_exists=True)
    for final in [m[1] for m in journal.moves]:
        prune_empty_dirs(lake, final, journal.target)
    journal.finish()


def roll_forward(lake: Lake, journal: WriteJournal) -> None:
    """Finish a committed write: a CTAS whose table exists gets any partitions the crash
    kept it from registering; then the staging folder and the journal go."""
    if journal.kind == "CTAS" and journal.phase == CATALOG and journal.partitions_added:
        from lakebox.catalog.model import Partition, partition_path

        db, name = journal.database or "", journal.table or ""
        keys = lake.catalog.get_table(db, name).partition_keys
        base = journal.target if journal.target.endswith("/") else journal.target + "/"
        lake.catalog.add_partitions(
            [
                Partition(db, name, v, base + partition_path(keys, v))
                for v in journal.partitions_added
            ],
            if_not_exists=True,
        )
    remove_tree(lake, journal.staging)
    journal.finish()


def remove_tree(lake: Lake, location: str) -> None:
    fs, path = lake.storage.fs_for(location)
    try:
        if fs.exists(path):
            fs.rm(path, recursive=True)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise StorageError(f"cannot remove {location}: {err}") from err


def prune_empty_dirs(lake: Lake, file_uri: str, stop: str) -> None:
    """Remove the local folders a rolled-back file leaves empty, up to ``stop``; S3 has no
    folders to remove."""
    local = lake.storage.local_path(file_uri)
    root = lake.storage.local_path(stop)
    if local is None or root is None:
        return
    folder = local.parent
    root = root.resolve() if root.exists() else root
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def recover_writes(lake: Lake) -> list[str]:
    """Finish or undo the writes of dead processes; returns their query ids. Safe to run
    concurrently: every step is idempotent."""
    folder = journal_dir(lake)
    if not folder.is_dir():
        return []
    for stale in folder.glob(".journal-*"):  # a save cut short by the crash
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 60:
                stale.unlink()
    done = []
    for path in sorted(folder.glob("*.json")):
        journal = load_journal(path)
        if journal is None or journal.owner_alive():
            continue
        try:
            if _committed(lake, journal):
                roll_forward(lake, journal)
            else:
                rollback(lake, journal)
        except (LakeboxError, OSError) as err:
            # the lake must still open (storage may be unreachable); the next open retries
            log.warning("cannot recover write %s yet: %s", journal.query_id, err)
            continue
        done.append(journal.query_id)
    return done
