"""The AWS CLI against a real ``lakebox serve``, and what ``lakebox --help`` costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.conftest import Served

pytestmark = pytest.mark.xdist_group("server")


def _aws(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    aws = Path(sys.executable).parent / "aws"
    if not aws.exists():
        pytest.skip("the AWS CLI is not installed (pyproject's dev extra has it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(  # the keys file the first serve wrote, as docs/server.md says to use it
        AWS_SHARED_CREDENTIALS_FILE=str(served.keys_file),
        AWS_DEFAULT_REGION="us-east-1",
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


def test_aws_cli_calls_json_and_query_services(served: Served) -> None:
    me = _aws(served, "sts", "get-caller-identity")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["Arn"] == "arn:aws:iam::000000000000:user/admin"
    groups = _aws(served, "athena", "list-work-groups")
    assert groups.returncode == 0, groups.stderr
    assert "primary" in [g["Name"] for g in json.loads(groups.stdout)["WorkGroups"]]


def test_aws_cli_shows_the_error_code(served: Served) -> None:
    missing = _aws(served, "glue", "get-tables", "--database-name", "no_such_db")
    assert missing.returncode != 0
    assert "EntityNotFoundException" in missing.stderr


def test_help_does_not_load_the_server() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lakebox.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "serve" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert not {m for m in imported if m.split(".")[0] in ("starlette", "uvicorn", "botocore")}
    assert "lakebox.server" not in imported


def test_serve_on_a_port_in_use_is_a_plain_error(served: Served, tmp_path: Path) -> None:
    port = served.url.rsplit(":", 1)[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakebox.cli",
            "serve",
            "--home",
            str(tmp_path / "other"),
            "--port",
            port,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
