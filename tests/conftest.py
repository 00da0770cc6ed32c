"""Shared fixtures: every test gets its own lake home in a temporary folder; S3 tests get a
real S3-compatible server (moto's standalone server) in a subprocess on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakebox.config import LakeConfig, S3Settings
from lakebox.storage import Storage


@pytest.fixture
def lake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lake, made explicitly (read-only CLI commands do not create one)."""
    home = tmp_path / "lake"
    LakeConfig.from_env(home=home).open_home(create=True)
    monkeypatch.setenv("LAKEBOX_HOME", str(home))
    return home


@pytest.fixture
def config(lake_home: Path) -> LakeConfig:
    return LakeConfig.from_env(home=lake_home, storage="local")


@pytest.fixture
def storage(config: LakeConfig) -> Storage:
    return Storage(config)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def aws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real AWS API server process (moto's standalone server: S3, DynamoDB, ...) on
    127.0.0.1 for the whole test session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("s3server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"S3 server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def s3_endpoint(aws_server: str) -> str:
    return aws_server


@pytest.fixture
def s3_config(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = S3Settings(
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    home = tmp_path / "s3lake"
    home.mkdir()
    return LakeConfig(home=home, storage="s3", s3=settings)


@pytest.fixture
def bucket() -> str:
    """A fresh bucket name per test (buckets are created on first write)."""
    return f"lb-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["local", "s3"])
def any_config(request: pytest.FixtureRequest, lake_home: Path) -> LakeConfig:
    """Both storage backends, for contract tests that every backend must pass."""
    if request.param == "local":
        return LakeConfig.from_env(home=lake_home, storage="local")
    cfg: LakeConfig = request.getfixturevalue("s3_config")
    return cfg


@pytest.fixture
def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
