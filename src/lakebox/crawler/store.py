"""Crawler definitions, run records and incremental-crawl state in ``crawlers.sqlite``.

Kept apart from the catalog database so crawls never hold the catalog's write lock while
they read files. Each call is one transaction; starting a run checks, in the same
transaction, that no other run of the crawler is in progress (Glue's
CrawlerRunningException). A run left RUNNING by a process that died is marked FAILED.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from lakebox.crawler.model import FAILED, RUNNING, Crawler, CrawlRun
from lakebox.errors import (
    AlreadyExistsError,
    ConcurrentModificationError,
    EntityNotFoundError,
    InvalidRequestError,
)
from lakebox.metadata import sqlite as metadb
from lakebox.util import pid_alive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crawlers (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, crawler TEXT NOT NULL, start REAL NOT NULL, state TEXT NOT NULL,
  pid INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_crawler ON runs (crawler, start);
CREATE TABLE IF NOT EXISTS folders (
  crawler TEXT NOT NULL, uri TEXT NOT NULL, PRIMARY KEY (crawler, uri));
"""

#: The schema steps of crawlers.sqlite, by version (see ``lakebox.metadata.sqlite.migrate``).
MIGRATIONS: tuple[metadb.Migration, ...] = (_SCHEMA,)


class CrawlerRunningError(InvalidRequestError):
    code = "CrawlerRunningException"


class CrawlerStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = metadb.SQLiteStore(path, MIGRATIONS)

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._db.transaction()

    # -- crawlers -----------------------------------------------------------------------
    def create(self, crawler: Crawler) -> None:
        with self._tx() as con:
            if con.execute("SELECT 1 FROM crawlers WHERE name=?", (crawler.name,)).fetchone():
                raise AlreadyExistsError(f"Crawler {crawler.name} already exists")
            con.execute(
                "INSERT INTO crawlers VALUES (?, ?)", (crawler.name, json.dumps(crawler.to_dict()))
            )

    def get(self, name: str) -> Crawler:
        with self._tx() as con:
            row = con.execute("SELECT doc FROM crawlers WHERE name=?", (name,)).fetchone()
        if row is None:
            raise EntityNotFoundError(
                f"Crawler {name} not found; list them with 'lakebox crawler list'"
            )
        return Crawler.from_dict(json.loads(row[0]))

    def all(self) -> list[Crawler]:
        with self._tx() as con:
            rows = con.execute("SELECT doc FROM crawlers ORDER BY name").fetchall()
        return [Crawler.from_dict(json.loads(r[0])) for r in rows]

    def update(self, crawler: Crawler, expected_version: int) -> None:
        with self._tx() as con:
            row = con.execute("SELECT doc FROM crawlers WHERE name=?", (crawler.name,)).fetchone()
            if row is None:
                raise EntityNotFoundError(f"Crawler {crawler.name} not found")
            if json.loads(row[0]).get("version", 1) != expected_version:
                raise ConcurrentModificationError(
                    f"Crawler {crawler.name} was changed by someone else; reload and retry"
                )
            self._require_idle(con, crawler.name)
            con.execute(
                "UPDATE crawlers SET doc=? WHERE name=?",
                (json.dumps(crawler.to_dict()), crawler.name),
            )

    def delete(self, name: str) -> None:
        with self._tx() as con:
            if not con.execute("SELECT 1 FROM crawlers WHERE name=?", (name,)).fetchone():
                raise EntityNotFoundError(f"Crawler {name} not found")
            self._require_idle(con, name)
            con.execute("DELETE FROM crawlers WHERE name=?", (name,))
            con.execute("DELETE FROM runs WHERE crawler=?", (name,))
            con.execute("DELETE FROM folders WHERE crawler=?", (name,))

    # -- runs ---------------------------------------------------------------------------
    def _require_idle(self, con: sqlite3.Connection, name: str) -> None:
        self._fail_dead_runs(con, name)
        for (run_id,) in con.execute(
            "SELECT id FROM runs WHERE crawler=? AND state=?", (name, RUNNING)
        ):
            raise CrawlerRunningError(f"Crawler {name} is already running (run {run_id})")

    def _fail_dead_runs(self, con: sqlite3.Connection, name: str) -> None:
        rows = con.execute(
            "SELECT id, pid, doc FROM runs WHERE crawler=? AND state=?", (name, RUNNING)
        ).fetchall()
        for run_id, pid, doc in rows:
            if _alive(pid):
                continue
            stale = CrawlRun.from_dict(json.loads(doc))
            stale.state = FAILED
            stale.error = "the process running this crawl stopped before it finished"
            con.execute(
                "UPDATE runs SET state=?, doc=? WHERE id=?",
                (FAILED, json.dumps(stale.to_dict()), run_id),
            )

    def begin_run(self, run: CrawlRun) -> None:
        with self._tx() as con:
            if not con.execute("SELECT 1 FROM crawlers WHERE name=?", (run.crawler,)).fetchone():
                raise EntityNotFoundError(f"Crawler {run.crawler} not found")
            self._require_idle(con, run.crawler)
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.crawler,
                    run.start_time,
                    run.state,
                    os.getpid(),
                    json.dumps(run.to_dict()),
                ),
            )

    def save_run(self, run: CrawlRun) -> None:
        with self._tx() as con:
            con.execute(
                "UPDATE runs SET state=?, doc=? WHERE id=?",
                (run.state, json.dumps(run.to_dict()), run.id),
            )

    def runs(self, name: str, limit: int | None = None) -> list[CrawlRun]:
        sql = "SELECT doc FROM runs WHERE crawler=? ORDER BY start DESC, rowid DESC"
        args: tuple[object, ...] = (name,)
        if limit is not None:
            sql += " LIMIT ?"
            args = (name, limit)
        with self._tx() as con:
            # a run whose process died is FAILED, not RUNNING for ever (pollers wait on it)
            self._fail_dead_runs(con, name)
            rows = con.execute(sql, args).fetchall()
        return [CrawlRun.from_dict(json.loads(r[0])) for r in rows]

    # -- incremental state --------------------------------------------------------------
    def known_folders(self, name: str) -> set[str]:
        with self._tx() as con:
            rows = con.execute("SELECT uri FROM folders WHERE crawler=?", (name,)).fetchall()
        return {r[0] for r in rows}

    def add_folders(self, name: str, uris: Iterable[str]) -> None:
        with self._tx() as con:
            con.executemany(
                "INSERT OR IGNORE INTO folders VALUES (?, ?)", [(name, u) for u in uris]
            )


def _alive(pid: int) -> bool:
    return pid_alive(pid)
