"""``lakebox iam ...`` as a user meets it: real ``lakebox`` processes on a real lake folder
(the prompt for a password through Typer's runner), JSON where IAM answers JSON, one error
line and exit status 1 for bad input, keys that verify."""

from __future__ import annotations

import configparser
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iam.signing import ENDPOINT, Keys, sign
from lakebox.cli import app
from lakebox.config import LakeConfig
from lakebox.iam.service import IamService


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def run(home: Path, *args: str, stdin: str | None = None, process: bool = False) -> Done:
    """``lakebox iam <args> --home <home>``: in a real process with ``process``, else in
    this one through Typer's runner (the same app, without the start-up cost)."""
    argv = ["iam", *args, "--home", str(home)]
    if process:
        env = {**os.environ, "COLUMNS": "200"}
        env.pop("LAKEBOX_HOME", None)
        done = subprocess.run(
            [sys.executable, "-m", "lakebox.cli", *argv],
            capture_output=True,
            text=True,
            env=env,
            input=stdin,
            timeout=120,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)
    result = CliRunner().invoke(app, argv, input=stdin, env={"COLUMNS": "200"})
    return Done(result.exit_code, result.stdout, result.stderr)


def _service(home: Path) -> IamService:
    return IamService(LakeConfig(home=home).metadata_dir)


def test_bootstrap_writes_private_keys_that_verify_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    first = run(home, "bootstrap", process=True)
    assert first.returncode == 0, first.stderr
    path = Path(first.stdout.split("written to ", 1)[1].split()[0])
    assert path.is_relative_to(home) and stat.S_IMODE(path.stat().st_mode) == 0o600
    profile = configparser.ConfigParser()
    profile.read(path)
    keys = Keys(
        profile["default"]["aws_access_key_id"], profile["default"]["aws_secret_access_key"]
    )
    iam = _service(home)
    try:
        assert iam.authenticate(sign(keys, "s3", ENDPOINT + "/b")).principal.name == "admin"
    finally:
        iam.close()
    again = run(home, "bootstrap", process=True)
    assert again.returncode == 0 and "users already" in again.stdout
    assert profile["default"]["aws_access_key_id"] in path.read_text()


def test_users_and_access_keys(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    assert run(home, "create-account", "111122223333", "--name", "analytics").returncode == 0
    made = run(home, "create-user", "ann", "--account", "111122223333", "--admin")
    assert made.returncode == 0, made.stderr
    assert "arn:aws:iam::111122223333:user/ann" in made.stdout
    answer = run(home, "create-access-key", "ann", "--account", "111122223333")
    assert answer.returncode == 0, answer.stderr
    key = json.loads(answer.stdout)["AccessKey"]
    assert {"UserName", "AccessKeyId", "SecretAccessKey", "Status"} <= set(key)
    assert (key["UserName"], key["Status"]) == ("ann", "Active")
    iam = _service(home)
    try:
        caller = iam.authenticate(
            sign(
                Keys(key["AccessKeyId"], key["SecretAccessKey"]), "glue", ENDPOINT + "/", body=b"{}"
            )
        )
        assert caller.principal.arn == "arn:aws:iam::111122223333:user/ann"
        iam.authorize(
            caller.principal,
            "glue:CreateDatabase",
            "arn:aws:glue:us-east-1:111122223333:database/d",
        )
    finally:
        iam.close()
    listed = json.loads(run(home, "list-users", "--all-accounts", "--json").stdout)["Users"]
    assert [u["Arn"] for u in listed] == ["arn:aws:iam::111122223333:user/ann"]
    assert json.loads(run(home, "list-users", "--json").stdout) == {"Users": []}
    accounts = json.loads(run(home, "list-accounts", "--json").stdout)["Accounts"]
    assert [(a["AccountId"], a["Name"]) for a in accounts] == [
        ("000000000000", "default"),
        ("111122223333", "analytics"),
    ]
    keys = json.loads(
        run(home, "list-access-keys", "ann", "--account", "111122223333", "--json").stdout
    )
    assert [k["AccessKeyId"] for k in keys["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    assert "SecretAccessKey" not in json.dumps(keys)
    conflict = run(home, "delete-user", "ann", "--account", "111122223333")
    assert conflict.returncode == 1 and "must delete access keys" in conflict.stderr
    deleted = run(
        home,
        "delete-access-key",
        key["AccessKeyId"],
        "--user-name",
        "ann",
        "--account",
        "111122223333",
    )
    assert deleted.returncode == 0, deleted.stderr
    forced = run(home, "delete-user", "ann", "--account", "111122223333", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(run(home, "list-users", "--all-accounts", "--json").stdout) == {"Users": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-user", "bad name"), "userName"),
        (("create-account", "12345"), "12 digits"),
        (("create-user", "u", "--account", "999999999999"), "create-account 999999999999"),
        (("create-access-key", "nobody"), "nobody cannot be found"),
        (("delete-access-key", "AKIANOTAKEY"), "cannot be found"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    assert run(tmp_path / "lake", "create-user", "someone").returncode == 0
    done = run(tmp_path / "lake", *args, process=args[0] == "create-user")
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_read_commands_do_not_make_a_lake(tmp_path: Path) -> None:
    done = run(tmp_path / "none", "list-users")
    assert done.returncode == 1 and "no lake at" in done.stderr
    assert not (tmp_path / "none").exists()


def test_set_password_from_stdin_and_from_the_prompt(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    assert run(home, "create-user", "ann").returncode == 0
    piped = run(
        home, "set-password", "ann", "--password-stdin", stdin="first secret\n", process=True
    )
    assert piped.returncode == 0, piped.stderr
    short = run(home, "set-password", "ann", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "8 to 128" in short.stderr
    iam = _service(home)
    try:
        assert iam.check_password("ann", "first secret") is not None
    finally:
        iam.close()
    runner = CliRunner()
    mismatch = runner.invoke(
        app,
        ["iam", "set-password", "ann", "--home", str(home)],
        input="one pass\nother pass\none pass\none pass\n",
    )
    assert mismatch.exit_code == 0, mismatch.output
    iam = _service(home)
    try:
        assert iam.check_password("ann", "one pass") is not None
        assert iam.check_password("ann", "first secret") is None
    finally:
        iam.close()


PROBE = """
import json, sys
from lakebox.cli import app
try:
    app(sys.argv[1:], prog_name="lakebox")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("--help",), ("iam", "--help")])
def test_help_does_not_import_the_identity_package(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0
    assert "iam" in done.stdout
    loaded = [m for m in report["modules"] if m.startswith(("lakebox.iam", "cryptography"))]
    assert not loaded, f"lakebox {' '.join(args)} imported {loaded}"


def test_roles_and_policies_from_files(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    trust = tmp_path / "trust.json"
    trust.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": "000000000000"},
                    "Action": "sts:AssumeRole",
                },
            }
        )
    )
    allow = tmp_path / "allow.json"
    allow.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": "glue:Get*", "Resource": "*"},
            }
        )
    )
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "glue:Get*"}]}'
    )
    made = run(home, "create-role", "etl", "--trust", str(trust), "--max-session-duration", "7200")
    assert made.returncode == 0, made.stderr
    assert "arn:aws:iam::000000000000:role/etl" in made.stdout
    assert run(home, "put-role-policy", "etl", "read", str(allow)).returncode == 0
    roles = json.loads(run(home, "list-roles", "--json").stdout)["Roles"]
    assert [(r["RoleName"], r["MaxSessionDuration"]) for r in roles] == [("etl", 7200)]
    assert roles[0]["AssumeRolePolicyDocument"]["Statement"]["Action"] == "sts:AssumeRole"
    assert run(home, "create-user", "ann").returncode == 0
    bad = run(home, "put-user-policy", "ann", "p", str(broken))
    assert bad.returncode == 1 and "Statement[0]" in bad.stderr and "Resource" in bad.stderr
    missing = run(home, "put-user-policy", "ann", "p", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert run(home, "put-user-policy", "ann", "p", str(allow)).returncode == 0
    iam = _service(home)
    try:
        ann = iam.user_principal("ann")
        assert iam.is_allowed(ann, "glue:GetTable", "arn:aws:glue:us-east-1:000000000000:table/d/t")
        key = iam.create_access_key("ann").key.access_key_id
    finally:
        iam.close()
    assert run(home, "update-access-key", key, "--status", "Inactive").returncode == 0
    listed = json.loads(run(home, "list-access-keys", "ann", "--json").stdout)["AccessKeyMetadata"]
    assert listed[0]["Status"] == "Inactive"
    assert run(home, "delete-role", "etl").returncode == 1
    assert run(home, "delete-role", "etl", "--force").returncode == 0
    assert json.loads(run(home, "list-roles", "--json").stdout) == {"Roles": []}


def test_simulate_says_what_policies_decide(tmp_path: Path) -> None:
    home = tmp_path / "lake"
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::sales/*"},
                    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
                ],
            }
        )
    )
    assert run(home, "create-user", "ann").returncode == 0
    assert run(home, "put-user-policy", "ann", "p", str(policy)).returncode == 0
    allowed = run(home, "simulate", "ann", "s3:GetObject", "arn:aws:s3:::sales/a.csv")
    assert allowed.returncode == 0 and allowed.stdout.startswith("allowed:")
    denied = run(
        home,
        "simulate",
        "arn:aws:iam::000000000000:user/ann",
        "s3:DeleteObject",
        "arn:aws:s3:::sales/a.csv",
        "arn:aws:s3:::hr/b.csv",
    )
    assert denied.returncode == 1
    lines = denied.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("denied:") for line in lines)
    assert "explicit deny" in lines[0]
