"""A workgroup's engine (Athena's ``Configuration.EngineVersion``) as the query service
keeps and checks it, without starting Spark: AUTO by default, Athena's wording for an
engine version it does not know, and a DuckDB lake that never imports pyspark, even when
one of its workgroups is set to Spark (the Spark engine is made when a query needs it;
tests/engine/spark/test_workgroup_engine.py runs those queries)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.errors import ConfigError, InvalidRequestError
from lakebox.lakehouse import Lakehouse
from lakebox.query.model import ATHENA_SQL, AUTO, PYSPARK, WorkGroup
from lakebox.query.session import Session


def test_a_workgroup_runs_on_the_lakes_engine_by_default(lake_session: Session) -> None:
    queries = lake_session.lake.queries
    wg = queries.create_work_group("analysts")
    assert wg.engine_version == AUTO
    assert wg.to_api("duckdb")["Configuration"]["EngineVersion"] == {
        "SelectedEngineVersion": AUTO,
        "EffectiveEngineVersion": ATHENA_SQL,
    }
    # AUTO on a lake whose engine is Spark (LAKEBOX_ENGINE=spark) is Spark's version
    assert wg.to_api("spark")["Configuration"]["EngineVersion"]["EffectiveEngineVersion"] == (
        PYSPARK
    )
    qe, result = queries.run("SELECT 1 AS one", workgroup="analysts")
    assert qe.engine == "duckdb" and result is not None and result.fetchall() == [(1,)]
    assert queries.get_query_execution(qe.query_execution_id).to_api()["EngineVersion"] == {
        "SelectedEngineVersion": AUTO,
        "EffectiveEngineVersion": ATHENA_SQL,
    }


@pytest.mark.parametrize(
    "version", ["Athena engine version 9", "pyspark engine version 3", "spark", ""]
)
def test_an_unknown_engine_version_is_an_invalid_request(
    lake_session: Session, version: str
) -> None:
    queries = lake_session.lake.queries
    with pytest.raises(
        InvalidRequestError, match=r"Invalid engine version: .* must be one of: AUTO"
    ):
        queries.create_work_group("bad", engine_version=version)
    queries.create_work_group("good")
    with pytest.raises(InvalidRequestError, match="Invalid engine version"):
        queries.update_work_group("good", engine_version=version)
    assert queries.get_work_group("good").engine_version == AUTO  # unchanged
    assert [w.name for w in queries.list_work_groups()] == ["good", "primary"]


def test_a_workgroup_stored_before_engines_were_chosen_is_auto(lake_session: Session) -> None:
    lake = lake_session.lake
    queries = lake.queries
    queries.create_work_group("old")
    path = lake.config.metadata_dir / "queries.sqlite"
    con = sqlite3.connect(path)
    try:
        (doc,) = con.execute("SELECT doc FROM workgroups WHERE name='old'").fetchone()
        data = json.loads(doc)
        del data["engine_version"]
        with con:
            con.execute("UPDATE workgroups SET doc=? WHERE name='old'", (json.dumps(data),))
    finally:
        con.close()
    assert queries.get_work_group("old") == WorkGroup.from_dict({**data, "engine_version": AUTO})


def test_an_unknown_session_engine_is_refused(lake_home: Path, lake: Lakehouse) -> None:
    with pytest.raises(ConfigError, match="unknown engine 'presto': use one of duckdb, spark"):
        lakebox.connect(lake_home, engine="presto")
    with pytest.raises(ConfigError, match="unknown engine 'presto'"):
        lake.session(engine="presto")
    with pytest.raises(ConfigError, match="unknown engine 'presto'"):
        lake.engine_for("presto")


_PROBE = """
import sys
import lakebox
session = lakebox.connect(sys.argv[1])
lake = session.lake
try:
    queries = lake.queries
    queries.create_work_group("later-on-spark", engine_version="PySpark engine version 3")
    queries.create_work_group("sql", engine_version="Athena engine version 3")
    for wg in ("primary", "sql"):
        qe, result = queries.run("SELECT 41 + 1 AS answer", workgroup=wg)
        print(wg, qe.engine, result.fetchall())
    other = lakebox.connect(sys.argv[1], engine="duckdb")
    print(other.sql("SELECT 2 AS two").fetchall())
    other.lake.close()
finally:
    lake.close()
print("pyspark" in sys.modules, "py4j" in sys.modules)
"""


def test_a_duckdb_lake_with_a_spark_workgroup_never_imports_pyspark(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEBOX_ENGINE", raising=False)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(lake_home)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "primary duckdb [(42,)]",
        "sql duckdb [(42,)]",
        "[(2,)]",
        "False False",
    ]


@pytest.fixture
def lake(lake_home: Path) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    try:
        yield opened
    finally:
        opened.close()


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LAKEBOX_ENGINE"}
    return subprocess.run(
        [sys.executable, "-m", "lakebox.cli", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


def test_the_workgroup_command_sets_and_shows_the_engine(lake_home: Path) -> None:
    made = _cli(lake_home, "workgroup", "create", "wg", "--engine-version", PYSPARK)
    assert made.returncode == 0, made.stderr
    shown = _cli(lake_home, "workgroup", "show", "wg")
    assert json.loads(shown.stdout)["WorkGroup"]["Configuration"]["EngineVersion"] == {
        "SelectedEngineVersion": PYSPARK,
        "EffectiveEngineVersion": PYSPARK,
    }
    listed = _cli(lake_home, "workgroup", "list")
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if "│" in line}
    assert "spark" in rows["wg"] and "duckdb" in rows["primary"]
    bad = _cli(lake_home, "workgroup", "update", "wg", "--engine-version", "Presto 0.217")
    assert bad.returncode == 1
    assert "Invalid engine version: 'Presto 0.217'" in bad.stderr
    assert "Traceback" not in bad.stderr
    back = _cli(lake_home, "workgroup", "update", "wg", "--engine-version", ATHENA_SQL)
    assert back.returncode == 0, back.stderr
    shown = _cli(lake_home, "workgroup", "show", "wg")
    engine = json.loads(shown.stdout)["WorkGroup"]["Configuration"]["EngineVersion"]
    assert engine["EffectiveEngineVersion"] == ATHENA_SQL


def test_a_spark_version_without_pyspark_names_the_extra(
    lake_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where pyspark is not installed (the ``spark`` extra), a Spark workgroup is refused
    at once rather than failing its first query."""
    import importlib.util

    found = importlib.util.find_spec

    def without_pyspark(name: str, *args: object, **kwargs: object) -> object:
        return None if name == "pyspark" else found(name, *args, **kwargs)  # type: ignore[arg-type]

    queries = lake_session.lake.queries
    queries.create_work_group("made-before", engine_version=PYSPARK)
    monkeypatch.setattr(importlib.util, "find_spec", without_pyspark)
    with pytest.raises(InvalidRequestError, match=r"pip install 'lakebox\[spark\]'"):
        queries.create_work_group("wg", engine_version=PYSPARK)
    queries.create_work_group("wg", engine_version=ATHENA_SQL)  # the SQL engine needs nothing
    with pytest.raises(InvalidRequestError, match=r"pip install 'lakebox\[spark\]'"):
        queries.update_work_group("wg", engine_version=PYSPARK)
    # a change that leaves a Spark workgroup's engine alone is not refused for it
    queries.update_work_group("made-before", description="still Spark")
    assert queries.get_work_group("made-before").engine_version == PYSPARK
