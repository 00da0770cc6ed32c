"""Choosing the engine: ``LAKEBOX_ENGINE`` (DuckDB by default) and ``LAKEBOX_SPARK_MASTER``
are lake settings, checked when the lake's configuration is made; a DuckDB lake never
imports pyspark (start-up time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakebox.config import LakeConfig
from lakebox.engine.spark.session import SparkSettings
from lakebox.errors import ConfigError


def test_duckdb_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEBOX_ENGINE", raising=False)
    monkeypatch.delenv("LAKEBOX_SPARK_MASTER", raising=False)
    config = LakeConfig.from_env(home=tmp_path)
    assert (config.engine, config.spark_master) == ("duckdb", "local[*]")


def test_the_environment_chooses_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEBOX_ENGINE", "Spark")
    monkeypatch.setenv("LAKEBOX_SPARK_MASTER", "spark://10.0.0.5:7077")
    config = LakeConfig.from_env(home=tmp_path)
    assert (config.engine, config.spark_master) == ("spark", "spark://10.0.0.5:7077")
    # an argument wins over the environment
    assert LakeConfig.from_env(home=tmp_path, engine="duckdb").engine == "duckdb"


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("LAKEBOX_ENGINE", "presto", "unknown engine 'presto'"),
        ("LAKEBOX_SPARK_MASTER", "yarn", "spark master 'yarn' is not"),
        ("LAKEBOX_SPARK_MASTER", "local[0]", "spark master 'local\\[0\\]' is not"),
        ("LAKEBOX_SPARK_MASTER", "spark://host", "spark master 'spark://host' is not"),
    ],
)
def test_bad_settings_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, message: str
) -> None:
    monkeypatch.setenv(setting, value)
    with pytest.raises(ConfigError, match=message):
        LakeConfig.from_env(home=tmp_path)


def test_extra_spark_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LAKEBOX_SPARK_CONF", "spark.executor.memory=2g; spark.sql.shuffle.partitions=4"
    )
    settings = SparkSettings.from_env("local[2]")
    assert settings.extra == (
        ("spark.executor.memory", "2g"),
        ("spark.sql.shuffle.partitions", "4"),
    )
    monkeypatch.setenv("LAKEBOX_SPARK_CONF", "executor.memory=2g")
    with pytest.raises(ConfigError, match=r"not spark\.<name>=<value>"):
        SparkSettings.from_env("local[2]")


_PROBE = """
import sys
import lakebox
session = lakebox.connect(sys.argv[1])
try:
    print(session.lake.engine.name, session.sql("SELECT 1 AS one").fetchall())
finally:
    session.lake.close()
print("pyspark" in sys.modules, "py4j" in sys.modules)
"""


def test_a_duckdb_lake_never_imports_pyspark(
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
    assert done.stdout.split("\n")[:2] == ["duckdb [(1,)]", "False False"]


def test_spark_is_not_started_before_a_query(
    lake_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a Spark lake for DDL only does not take the session (nor start a JVM):
    DDL runs on the catalog."""
    from lakebox.engine.spark import SparkEngine
    from lakebox.lakehouse import Lakehouse

    monkeypatch.setenv("LAKEBOX_ENGINE", "spark")
    lake = Lakehouse.open(LakeConfig.from_env(home=lake_home))
    try:
        lake.session().sql("CREATE DATABASE sales")
        assert isinstance(lake.engine, SparkEngine) and not lake.engine.is_open
    finally:
        lake.close()
