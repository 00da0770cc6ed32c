"""Keys made by `lakebox iam ...` in another process while the server runs are honoured by
the running server at once (the way the issue's outside scripts get their keys), however
often other processes open and close the lake's identity store in between."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, Served


def _cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lakebox.cli", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("round_", range(3))
def test_a_key_made_by_the_cli_works_against_the_running_server(
    served: Served, round_: int
) -> None:
    # another process opens and closes the identity store (the way a script using the
    # Python API does), then the CLI makes a user and a key
    opened = Lakehouse.open(LakeConfig.from_env(home=served.home), create=False)
    try:
        assert opened.iam.list_users()
    finally:
        opened.close()
    name = f"cli-made-{round_}"
    _cli(served.home, "iam", "create-user", name, "--admin")
    made = json.loads(_cli(served.home, "iam", "create-access-key", name))["AccessKey"]
    sts = boto3.session.Session().client(
        "sts",
        endpoint_url=served.url,
        region_name=REGION,
        aws_access_key_id=made["AccessKeyId"],
        aws_secret_access_key=made["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert sts.get_caller_identity()["Arn"].endswith(f":user/{name}")
