"""Fixtures for ingestion tests: a lake per test, a DynamoDB-compatible server (moto's
standalone server) on loopback, and the URLs of this machine's PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import uuid
from typing import Protocol

import pytest

from lakebox.catalog.model import Column, Table
from lakebox.ingest import DeliveryStreams
from lakebox.session import Lake, Session

PARQUET = (
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
)
ORC = (
    "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
)
JSON = (
    "org.openx.data.jsonserde.JsonSerDe",
    "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
)


@pytest.fixture
def session(lake_session: Session) -> Session:
    return lake_session


@pytest.fixture
def lake(session: Session) -> Lake:
    return session.lake


@pytest.fixture
def streams(lake: Lake) -> DeliveryStreams:
    return DeliveryStreams(lake)


class TableMaker(Protocol):
    def __call__(
        self,
        name: str,
        columns: list[tuple[str, str]],
        location: str,
        fmt: tuple[str, str, str] = ...,
        partition_keys: list[tuple[str, str]] | None = ...,
    ) -> Table: ...


@pytest.fixture
def make_table(lake: Lake) -> TableMaker:
    """Registers a catalog table as CREATE EXTERNAL TABLE would."""

    def make(
        name: str,
        columns: list[tuple[str, str]],
        location: str,
        fmt: tuple[str, str, str] = PARQUET,
        partition_keys: list[tuple[str, str]] | None = None,
    ) -> Table:
        table = Table(
            "default",
            name,
            [Column(n, t) for n, t in columns],
            [Column(n, t) for n, t in partition_keys or []],
            location=location,
            serde_library=fmt[0],
            input_format=fmt[1],
            output_format=fmt[2],
        )
        lake.catalog.create_table(table)
        return lake.catalog.get_table("default", name)

    return make


@pytest.fixture(scope="session")
def dynamodb_endpoint(aws_server: str) -> str:
    """moto's standalone server (tests/conftest.py) speaks DynamoDB's API as well as S3's."""
    return aws_server


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
