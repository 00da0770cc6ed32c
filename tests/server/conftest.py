"""A real ``lakebox serve`` process on a free loopback port, one per test module (the
module's tests run on one xdist worker: ``xdist_group("server")``), and real boto3 clients
signed with access keys the lake's IAM service made."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse

REGION = "us-east-1"


@dataclass
class Served:
    """A running server: its URL, its lake's home, the first administrator's keys and
    the files its output goes to."""

    url: str
    home: Path
    admin_key: str
    admin_secret: str
    keys_file: Path
    stdout: Path
    stderr: Path

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's structured log so far, one JSON object per line."""
        out = []
        for line in self.stderr.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_keys(path: Path) -> tuple[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values["aws_access_key_id"], values["aws_secret_access_key"]


def _server_env() -> dict[str, str]:
    """The server's environment without the tester's AWS settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}


@contextlib.contextmanager
def serving(
    root: Path, home: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[Served, subprocess.Popen[bytes]]]:
    """``lakebox serve`` on ``home`` (default: a new lake under ``root``), ready; stopped
    with SIGTERM (and checked to have stopped cleanly) at the end. Its output goes to
    files under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    fresh = home is None
    home = home or root / "lake"
    port = _free_port()
    out, err = root / "stdout.txt", root / "stderr.txt"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lakebox.cli",
                "serve",
                "--home",
                str(home),
                "--port",
                f"{port}",
            ],
            stdout=fo,
            stderr=fe,
            env={**_server_env(), **(env or {})},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/_lakebox/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"lakebox serve did not start: {out.read_text()} {err.read_text()[-3000:]}")
        time.sleep(0.1)
    printed = out.read_text()
    keys_file = home / "_lakebox" / "iam" / "admin-credentials"
    assert (str(keys_file) in printed) == fresh, printed
    key, secret = _read_keys(keys_file)
    try:
        yield Served(url, home, key, secret, keys_file, out, err), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("lakebox serve did not stop within 90 s of SIGTERM")
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert code in (0, -signal.SIGTERM), err.read_text()[-3000:]
        events = [json.loads(line).get("event") for line in err.read_text().splitlines()[-3:]]
        assert "stopped" in events, err.read_text()[-3000:]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("serve")) as (server, _):
        yield server


@pytest.fixture(scope="module")
def lake(served: Served) -> Iterator[Lakehouse]:
    """The served lake, opened in the test process too (to make users and keys)."""
    opened = Lakehouse.open(LakeConfig.from_env(home=served.home), create=False)
    try:
        yield opened
    finally:
        opened.close()


ClientFactory = Callable[..., Any]


@pytest.fixture(scope="module")
def client(served: Served) -> ClientFactory:
    """``client("athena")``: a boto3 client of the served lake, signed with the admin's
    keys unless ``key`` / ``secret`` are given; no retries, so an error is seen as sent."""

    def make(service: str, key: str | None = None, secret: str | None = None, **config: Any) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=served.url,
            region_name=REGION,
            aws_access_key_id=key or served.admin_key,
            aws_secret_access_key=secret or served.admin_secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    return make


def aws_cli(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    """``aws --endpoint-url <server> --output json <args>`` with the keys file the first
    serve wrote (as docs/server.md says to use it), and none of the machine's AWS settings."""
    aws = Path(sys.executable).parent / "aws"
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed (pyproject's dev extra has it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(served.keys_file),
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
    )
    return subprocess.run(
        [str(aws), "--endpoint-url", served.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
