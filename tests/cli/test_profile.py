"""``lakebox --profile NAME`` acts as the principal whose keys are in that profile (checked
with the lake's IAM); without it the command is the lake's local administrator, whatever
AWS keys the environment holds, unless ``--profile @env`` asks for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lakebox
from lakebox.cli import app

READ_PEOPLE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["athena:StartQueryExecution", "glue:GetDatabase", "glue:GetTable"],
            "Resource": [
                "arn:aws:athena:us-east-1:000000000000:workgroup/primary",
                "arn:aws:glue:us-east-1:000000000000:catalog",
                "arn:aws:glue:us-east-1:000000000000:database/default",
                "arn:aws:glue:us-east-1:000000000000:table/default/people",
            ],
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/people/*"},
    ],
}


@dataclass(frozen=True)
class Lake:
    home: Path
    credentials: Path
    #: analyst's keys
    key: str
    secret: str


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """A lake with table ``people``, users ``analyst`` (may read it) and ``nobody``, and a
    credentials file with a profile for each (and one with a wrong secret)."""
    home = tmp_path / "lake"
    data = home / "data" / "people" / "p.csv"
    data.parent.mkdir(parents=True)
    data.write_text("1,ann\n2,bob\n3,cy\n")
    session = lakebox.connect(home)
    try:
        session.sql(
            "CREATE EXTERNAL TABLE people (id int, name string) ROW FORMAT DELIMITED "
            "FIELDS TERMINATED BY ',' LOCATION 's3://data/people/'"
        )
        iam = session.lake.iam
        keys = {}
        for name in ("analyst", "nobody"):
            iam.create_user(name)
            made = iam.create_access_key(name)
            keys[name] = (made.key.access_key_id, made.secret_access_key)
        iam.put_user_policy("analyst", "read", json.dumps(READ_PEOPLE))
    finally:
        session.lake.close()
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "".join(
            f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
            for profile, (key, secret) in {
                **keys,
                "wrong": (keys["analyst"][0], "not-its-secret"),
            }.items()
        )
    )
    return Lake(home, credentials, *keys["analyst"])


def _env(lake: Lake, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_PROFILE"))}
    return {**env, "AWS_SHARED_CREDENTIALS_FILE": str(lake.credentials), "COLUMNS": "200", **extra}


def run(lake: Lake, *argv: str, **env: str) -> tuple[int, str, str]:
    """``lakebox <argv> --home <lake>`` in this process, through Typer's runner."""
    result = CliRunner().invoke(app, [*argv, "--home", str(lake.home)], env=_env(lake, **env))
    return result.exit_code, result.stdout, result.stderr


COUNT = ("sql", "SELECT count(*) AS n FROM people", "--format", "csv")


def test_a_profile_acts_as_its_user_in_a_real_process(lake: Lake) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lakebox.cli", "--profile", "analyst", *COUNT],
        capture_output=True,
        text=True,
        env={**_env(lake), "LAKEBOX_HOME": str(lake.home)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "3"]


def test_a_profile_without_the_rights_is_refused_naming_the_action(lake: Lake) -> None:
    code, _, err = run(lake, "--profile", "nobody", *COUNT)
    assert code == 1
    assert "user/nobody is not authorized to perform: athena:StartQueryExecution" in err
    assert "Traceback" not in err


def test_lakebox_profile_in_the_environment_does_the_same(lake: Lake) -> None:
    code, _, err = run(lake, *COUNT, LAKEBOX_PROFILE="nobody")
    assert code == 1
    assert "user/nobody is not authorized" in err


def test_a_wrong_secret_or_missing_profile_is_a_clear_error(lake: Lake) -> None:
    code, _, err = run(lake, "--profile", "wrong", *COUNT)
    assert code == 1
    assert "SignatureDoesNotMatch" in err
    code, _, err = run(lake, "--profile", "ghost", *COUNT)
    assert code == 1
    assert "has no profile 'ghost'" in err


def test_aws_keys_in_the_environment_are_ignored_unless_asked_for(lake: Lake) -> None:
    # a single user's real AWS keys: not this lake's, and not asked for -> the local admin
    code, out, err = run(
        lake, *COUNT, AWS_ACCESS_KEY_ID="AKIAREALAWSKEY000000", AWS_SECRET_ACCESS_KEY="x" * 40
    )
    assert code == 0, err
    assert out.split() == ["n", "3"]
    # asked for: --profile @env takes them as AWS tools would
    code, out, err = run(
        lake,
        "--profile",
        "@env",
        *COUNT,
        AWS_ACCESS_KEY_ID=lake.key,
        AWS_SECRET_ACCESS_KEY=lake.secret,
    )
    assert code == 0, err
    assert out.split() == ["n", "3"]
    code, _, err = run(
        lake,
        "--profile",
        "@env",
        *COUNT,
        AWS_ACCESS_KEY_ID="AKIAREALAWSKEY000000",
        AWS_SECRET_ACCESS_KEY="x" * 40,
    )
    assert code == 1
    assert "InvalidClientTokenId" in err


def test_commands_that_do_not_act_as_a_principal_refuse_a_profile(lake: Lake) -> None:
    code, _, err = run(lake, "--profile", "analyst", "workflow", "list")
    assert code == 1
    assert "--profile (LAKEBOX_PROFILE) is honoured by the sql and shell commands only" in err
