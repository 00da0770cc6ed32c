"""The lake a job's process works on, and its job bookmarks (lakebox's own module of the
shim, not part of AWS's API).

The lake is opened from the job's environment, as a pythonshell script's
``lakebox.connect()`` opens it (``LAKEBOX_HOME``, ``LAKEBOX_STORAGE``), on the Spark engine
(``LAKEBOX_ENGINE=spark``, ``LAKEBOX_SPARK_MASTER`` set by the job runner), acting as the
job's role session (``LAKEBOX_GLUE_PRINCIPAL``) so its IAM policies and Lake Formation
permissions decide what the script may read and write. It is closed when the process
exits.

Bookmarks: per job, ``<metadata_dir>/glue-jobs/bookmarks/<job>.json`` maps each
``transformation_ctx`` to the files it has read (URI and modification time). A source
read with a bookmark skips those files; ``Job.commit`` adds the files of this run.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakebox.query.session import Session

_LOCK = threading.Lock()
_SESSION: list[Session] = []


def session() -> Session:
    """The lakebox session of this process (opened on first use)."""
    with _LOCK:
        if not _SESSION:
            import lakebox

            principal = os.environ.get("LAKEBOX_GLUE_PRINCIPAL") or None
            if principal is not None and ":assumed-role/" in principal:
                # the role session Glue assumed for the run: its keys, checked by the lake
                keys = (
                    os.environ["AWS_ACCESS_KEY_ID"],
                    os.environ["AWS_SECRET_ACCESS_KEY"],
                    os.environ["AWS_SESSION_TOKEN"],
                )
                opened = lakebox.connect(create=False, credentials=keys)
            else:
                opened = lakebox.connect(create=False, principal=principal)
            _SESSION.append(opened)
            atexit.register(_close)
        return _SESSION[0]


def _close() -> None:
    with _LOCK:
        if _SESSION:
            lake: Any = _SESSION.pop().lake  # the Lakehouse lakebox.connect opened
            lake.close()


class Bookmarks:
    """The bookmark state of the running job (``Job.init`` sets it up)."""

    def __init__(self) -> None:
        self.job: str | None = None
        #: job-bookmark-enable / -disable / -pause
        self.option = "job-bookmark-disable"
        #: transformation_ctx -> files read by this run ("uri@mtime")
        self.pending: dict[str, set[str]] = {}

    @property
    def enabled(self) -> bool:
        return self.job is not None and self.option in (
            "job-bookmark-enable",
            "job-bookmark-pause",
        )

    def _path(self) -> Path:
        assert self.job is not None
        root = session().lake.config.metadata_dir / "glue-jobs" / "bookmarks"
        return root / f"{self.job}.json"

    def _state(self) -> dict[str, list[str]]:
        path = self._path()
        if not path.exists():
            return {}
        data: Any = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}

    def unseen(self, ctx: str | None, files: list[tuple[str, float]]) -> list[int]:
        """The positions of ``files`` (URI, mtime) this source has not read in an earlier
        committed run; every position without a bookmark."""
        if not ctx or not self.enabled:
            return list(range(len(files)))
        seen = set(self._state().get(ctx, []))
        keep = [i for i, (uri, mtime) in enumerate(files) if _key(uri, mtime) not in seen]
        self.pending.setdefault(ctx, set()).update(_key(*files[i]) for i in keep)
        return keep

    def commit(self) -> None:
        if self.job is None or self.option != "job-bookmark-enable" or not self.pending:
            return
        state = self._state()
        for ctx, files in self.pending.items():
            state[ctx] = sorted(set(state.get(ctx, [])) | files)
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(path)
        self.pending = {}


def _key(uri: str, mtime: float) -> str:
    return f"{uri}@{mtime:.6f}"


BOOKMARKS = Bookmarks()
