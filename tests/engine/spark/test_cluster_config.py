"""Where a cluster's executors reach the driver: ``LAKEBOX_SPARK_DRIVER_HOST`` (Spark's
``spark.driver.host``, default 127.0.0.1), a lake setting checked when the lake's
configuration is made. The cluster tests (``test_cluster.py``) run with it set to another
loopback address and see the executors reach the driver there."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakebox.config import LakeConfig
from lakebox.engine.spark import session
from lakebox.engine.spark.session import SparkSettings
from lakebox.errors import ConfigError


def test_the_driver_listens_on_loopback_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEBOX_SPARK_DRIVER_HOST", raising=False)
    config = LakeConfig.from_env(home=tmp_path)
    assert config.spark_driver_host == "127.0.0.1"
    settings = SparkSettings.from_env(config.spark_master, config.spark_driver_host)
    assert settings.driver_settings == {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


@pytest.mark.parametrize("host", ["10.0.0.7", "driver.internal", "fd00::7", "lake-01"])
def test_the_environment_sets_the_driver_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("LAKEBOX_SPARK_DRIVER_HOST", f" {host} ")
    config = LakeConfig.from_env(home=tmp_path)
    assert config.spark_driver_host == host
    settings = SparkSettings.from_env("spark://10.0.0.5:7077", config.spark_driver_host)
    assert settings.driver_settings == {
        "spark.driver.host": host,
        "spark.driver.bindAddress": host,
    }
    # an argument wins over the environment
    assert LakeConfig.from_env(home=tmp_path, spark_driver_host="h2").spark_driver_host == "h2"


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # where to listen, not where to connect
        "::",
        "10.0.0.7:4040",
        "spark://10.0.0.7",
        "driver host",
        "-driver",
        "999.1.1.1",
        "a" * 64 + ".example",
    ],
)
def test_a_bad_driver_host_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.setenv("LAKEBOX_SPARK_DRIVER_HOST", host)
    message = f"spark driver host '{host}' is not .*LAKEBOX_SPARK_DRIVER_HOST"
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        LakeConfig.from_env(home=tmp_path)
    with pytest.raises(ConfigError, match="LAKEBOX_SPARK_DRIVER_HOST"):
        SparkSettings.from_env("local[2]", host)


def test_the_conf_may_bind_the_driver_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind NAT the address executors connect to is not the machine's own: the driver
    listens on every interface with ``spark.driver.bindAddress`` in LAKEBOX_SPARK_CONF,
    which comes after (and wins over) the driver settings."""
    monkeypatch.setenv("LAKEBOX_SPARK_CONF", "spark.driver.bindAddress=0.0.0.0")
    settings = SparkSettings.from_env("spark://10.0.0.5:7077", "203.0.113.9")
    conf = {**settings.driver_settings, **dict(settings.extra)}
    assert conf == {"spark.driver.host": "203.0.113.9", "spark.driver.bindAddress": "0.0.0.0"}


@pytest.mark.spark
def test_the_running_session_uses_its_driver_host(spark_held: str) -> None:
    """The process's session was started with its settings' driver host (the default),
    and a lake asking for another one is refused: one process, one driver."""
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    assert context is not None
    assert context.getConf().get("spark.driver.host") == "127.0.0.1"
    assert context.getConf().get("spark.driver.bindAddress") == "127.0.0.1"
    with pytest.raises(ConfigError, match=r"runs a Spark driver on 127\.0\.0\.1; .*127\.0\.0\.2"):
        session.acquire(SparkSettings(spark_held, driver_host="127.0.0.2"))
