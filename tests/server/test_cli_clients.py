"""The AWS CLI against a real ``lakebox serve``, and what ``lakebox --help`` costs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.conftest import Served, aws_cli

pytestmark = pytest.mark.xdist_group("server")


def test_aws_cli_calls_json_and_query_services(served: Served) -> None:
    me = aws_cli(served, "sts", "get-caller-identity")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["Arn"] == "arn:aws:iam::000000000000:user/admin"
    groups = aws_cli(served, "athena", "list-work-groups")
    assert groups.returncode == 0, groups.stderr
    assert "primary" in [g["Name"] for g in json.loads(groups.stdout)["WorkGroups"]]


def test_aws_cli_shows_the_error_code(served: Served) -> None:
    missing = aws_cli(served, "glue", "get-tables", "--database-name", "no_such_db")
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
