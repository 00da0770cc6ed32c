"""Lake Formation's store as the lake's other metadata stores: registered with its schema
version, migrations run once, writers of two processes queue, a change is whole."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from lakebox.governance.model import IAM_ALLOWED_PRINCIPALS, DataLakeSettings, Resource
from lakebox.governance.store import FILE, MIGRATIONS, LakeFormationStore
from lakebox.metadata import sqlite as metadb

A = "000000000000"


def test_the_store_is_registered_with_its_schema_version() -> None:
    assert metadb.schema_version(FILE) == len(MIGRATIONS)


def test_a_new_store_holds_aws_defaults(tmp_path: Path) -> None:
    store = LakeFormationStore(tmp_path, A)
    try:
        state = store.load()
        assert state.settings == DataLakeSettings()
        assert [(g.principal, g.resource.kind, g.permissions) for g in state.grants] == [
            (IAM_ALLOWED_PRINCIPALS, "CATALOG", ("CREATE_DATABASE",))
        ]
        assert state.generation == 0
    finally:
        store.close()
    con = sqlite3.connect(tmp_path / FILE)
    assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    con.close()


def _grant_many(home: str, who: str, count: int) -> None:
    store = LakeFormationStore(Path(home), A)
    try:
        for i in range(count):
            resource = Resource("DATABASE", A, database=f"db{i}")
            with store.write() as con:
                perms, grantable = store.grant_row(con, who, resource)
                store.set_grant(con, who, resource, perms | {"DESCRIBE"}, grantable, who)
    finally:
        store.close()


def test_two_processes_write_without_losing_a_change(tmp_path: Path) -> None:
    LakeFormationStore(tmp_path, A).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_grant_many, args=(str(tmp_path), f"arn:aws:iam::{A}:user/u{n}", 40))
        for n in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    store = LakeFormationStore(tmp_path, A)
    try:
        state = store.load()
        assert state.generation == 80
        assert len([g for g in state.grants if g.principal != IAM_ALLOWED_PRINCIPALS]) == 80
    finally:
        store.close()


def test_a_change_that_fails_leaves_nothing(tmp_path: Path) -> None:
    store = LakeFormationStore(tmp_path, A)
    try:
        resource = Resource("DATABASE", A, database="db")
        try:
            with store.write() as con:
                store.set_grant(con, "x", resource, {"DESCRIBE"}, set(), "x")
                raise RuntimeError("crash in the middle")
        except RuntimeError:
            pass
        state = store.load()
        assert state.generation == 0 and len(state.grants) == 1
    finally:
        store.close()
