"""Secrets Manager over a real ``lakebox serve`` with boto3 and the AWS CLI: every operation,
versions and staging labels, encryption at rest, accounts and authorization, and
AWS-shaped errors for bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served, aws_cli

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
OTHER = "123456789012"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = exc.value.response
    return (
        str(response["Error"]["Code"]),
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
        str(response["Error"]["Message"]),
    )


def test_versions_and_stages_move_as_aws(client: ClientFactory) -> None:
    sm = client("secretsmanager")
    made = sm.create_secret(
        Name="app/db",
        SecretString='{"password":"one"}',
        Description="the db",
        Tags=[{"Key": "team", "Value": "data"}],
    )
    assert made["ARN"].startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app/db-")
    first = made["VersionId"]
    got = sm.get_secret_value(SecretId="app/db")
    assert json.loads(got["SecretString"]) == {"password": "one"}
    assert got["VersionStages"] == ["AWSCURRENT"] and got["VersionId"] == first
    put = sm.put_secret_value(SecretId=made["ARN"], SecretString="two")
    second = put["VersionId"]
    assert put["VersionStages"] == ["AWSCURRENT"]
    described = sm.describe_secret(SecretId="app/db")
    assert described["VersionIdsToStages"] == {first: ["AWSPREVIOUS"], second: ["AWSCURRENT"]}
    assert described["Description"] == "the db"
    assert described["Tags"] == [{"Key": "team", "Value": "data"}]
    assert sm.get_secret_value(SecretId="app/db", VersionStage="AWSPREVIOUS")["VersionId"] == first
    assert sm.get_secret_value(SecretId="app/db", VersionId=first)["SecretString"].startswith("{")

    pending = sm.put_secret_value(
        SecretId="app/db", SecretBinary=b"\x00three", VersionStages=["AWSPENDING"]
    )["VersionId"]
    assert sm.get_secret_value(SecretId="app/db")["SecretString"] == "two"
    assert (
        sm.get_secret_value(SecretId="app/db", VersionStage="AWSPENDING")["SecretBinary"]
        == b"\x00three"
    )
    sm.update_secret_version_stage(
        SecretId="app/db",
        VersionStage="AWSCURRENT",
        RemoveFromVersionId=second,
        MoveToVersionId=pending,
    )
    versions = sm.list_secret_version_ids(SecretId="app/db")["Versions"]
    stages = {v["VersionId"]: sorted(v["VersionStages"]) for v in versions}
    assert stages == {second: ["AWSPREVIOUS"], pending: ["AWSCURRENT", "AWSPENDING"]}
    every = sm.list_secret_version_ids(SecretId="app/db", IncludeDeprecated=True)["Versions"]
    assert {v["VersionId"] for v in every} == {first, second, pending}

    updated = sm.update_secret(SecretId="app/db", Description="new", SecretString="four")
    assert sm.get_secret_value(SecretId="app/db")["VersionId"] == updated["VersionId"]
    assert sm.describe_secret(SecretId="app/db")["Description"] == "new"
    sm.tag_resource(SecretId="app/db", Tags=[{"Key": "env", "Value": "dev"}])
    sm.untag_resource(SecretId="app/db", TagKeys=["team"])
    assert sm.describe_secret(SecretId="app/db")["Tags"] == [{"Key": "env", "Value": "dev"}]


def test_client_request_token_idempotency(client: ClientFactory) -> None:
    sm = client("secretsmanager")
    token = str(uuid.uuid4())
    made = sm.create_secret(Name="idem", SecretString="v", ClientRequestToken=token)
    again = sm.create_secret(Name="idem", SecretString="v", ClientRequestToken=token)
    assert (again["ARN"], again["VersionId"]) == (made["ARN"], token)
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name="idem", SecretString="other", ClientRequestToken=token)
    assert _error(exc)[:2] == ("ResourceExistsException", 400)
    with pytest.raises(ClientError) as exc:
        sm.create_secret(Name="idem", SecretString="v")
    assert _error(exc)[0] == "ResourceExistsException"


def test_delete_restore_and_list(client: ClientFactory) -> None:
    sm = client("secretsmanager")
    for i in range(3):
        sm.create_secret(Name=f"listed/{i}", SecretString="x")
    deleted = sm.delete_secret(SecretId="listed/0", RecoveryWindowInDays=7)
    assert deleted["DeletionDate"] > sm.describe_secret(SecretId="listed/0")["DeletedDate"]
    with pytest.raises(ClientError) as exc:
        sm.get_secret_value(SecretId="listed/0")
    assert _error(exc)[0] == "InvalidRequestException"
    assert "marked for deletion" in _error(exc)[2]
    names = [
        s["Name"]
        for s in sm.list_secrets(Filters=[{"Key": "name", "Values": ["listed/"]}])["SecretList"]
    ]
    assert names == ["listed/1", "listed/2"]
    with_deleted = sm.list_secrets(
        Filters=[{"Key": "name", "Values": ["listed/"]}], IncludePlannedDeletion=True
    )["SecretList"]
    assert len(with_deleted) == 3
    sm.restore_secret(SecretId="listed/0")
    assert sm.get_secret_value(SecretId="listed/0")["SecretString"] == "x"
    # pages, through boto3's own paginator
    pages = list(
        sm.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": ["listed/"]}], PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["SecretList"]) for p in pages] == [2, 1]
    sm.delete_secret(SecretId="listed/1", ForceDeleteWithoutRecovery=True)
    with pytest.raises(ClientError) as exc:
        sm.describe_secret(SecretId="listed/1")
    assert _error(exc)[:2] == ("ResourceNotFoundException", 400)
    assert len(sm.get_random_password(PasswordLength=20)["RandomPassword"]) == 20


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "text"),
    [
        ("get_secret_value", {"SecretId": "no-such-secret"}, "ResourceNotFoundException", ""),
        ("create_secret", {"Name": "bad name!"}, "InvalidParameterException", "name"),
        (
            "create_secret",
            {"Name": "both", "SecretString": "a", "SecretBinary": b"b"},
            "InvalidParameterException",
            "both",
        ),
        (
            "delete_secret",
            {"SecretId": "bad-input-target", "RecoveryWindowInDays": 3},
            "InvalidParameterException",
            "between 7 and 30",
        ),
        (
            "get_secret_value",
            {"SecretId": "arn:aws:secretsmanager:us-east-1:0:nope"},
            "InvalidParameterException",
            "ARN",
        ),
        ("list_secrets", {"NextToken": "forged"}, "InvalidNextTokenException", "NextToken"),
        (
            "list_secrets",
            {"Filters": [{"Key": "owning-service", "Values": ["x"]}]},
            "InvalidParameterException",
            "filters",
        ),
    ],
)
def test_bad_input_is_aws_shaped(
    client: ClientFactory, call: str, kwargs: dict[str, Any], code: str, text: str
) -> None:
    sm = client("secretsmanager")
    try:
        sm.create_secret(Name="bad-input-target", SecretString="x")
    except ClientError:
        pass
    with pytest.raises(ClientError) as exc:
        getattr(sm, call)(**kwargs)
    got_code, status, message = _error(exc)
    assert (got_code, status) == (code, 400)
    assert text.lower() in message.lower()


def test_plaintext_never_reaches_the_lake_home(client: ClientFactory, served: Served) -> None:
    sm = client("secretsmanager")
    sm.create_secret(Name="at-rest", SecretString="plaintext-canary-4f1d")
    sm.put_secret_value(SecretId="at-rest", SecretBinary=b"binary-canary-9e2a")
    assert sm.get_secret_value(SecretId="at-rest")["SecretBinary"] == b"binary-canary-9e2a"
    for path in served.home.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert b"plaintext-canary-4f1d" not in data, path
            assert b"binary-canary-9e2a" not in data, path
    key = served.home / "_lakebox" / "secretsmanager" / "secrets.key"
    assert key.exists() and (key.stat().st_mode & 0o077) == 0


def _keys_in(lake: Lakehouse, account: str, user: str, admin: bool) -> tuple[str, str]:
    try:
        lake.iam.create_account(account)
    except Exception:  # made by an earlier test of the module
        pass
    lake.iam.create_user(user, account_id=account, admin=admin)
    made = lake.iam.create_access_key(user, account_id=account)
    return made.key.access_key_id, made.secret_access_key


def test_other_accounts_and_unauthorized_users_are_refused(
    client: ClientFactory, lake: Lakehouse
) -> None:
    mine = client("secretsmanager").create_secret(Name="private", SecretString="mine")
    theirs = client("secretsmanager", *_keys_in(lake, OTHER, "sm-other-admin", admin=True))
    with pytest.raises(ClientError) as exc:
        theirs.get_secret_value(SecretId="private")
    assert _error(exc)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        theirs.get_secret_value(SecretId=mine["ARN"])
    assert _error(exc)[0] == "AccessDeniedException"
    # the other account has a namespace of its own
    made = theirs.create_secret(Name="private", SecretString="theirs")
    assert f":{OTHER}:secret:private-" in made["ARN"]
    assert theirs.get_secret_value(SecretId="private")["SecretString"] == "theirs"

    # a user of this account with no policy is refused secretsmanager:GetSecretValue
    plain = client("secretsmanager", *_keys_in(lake, ACCOUNT, "sm-nobody", admin=False))
    with pytest.raises(ClientError) as exc:
        plain.get_secret_value(SecretId="private")
    code, _, message = _error(exc)
    assert code == "AccessDeniedException" and "secretsmanager:GetSecretValue" in message
    # one allowed on secret:private-* reads it
    lake.iam.create_user("sm-reader", account_id=ACCOUNT)
    lake.iam.put_user_policy(
        "sm-reader",
        "read",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:private-*",
                    }
                ],
            }
        ),
        account_id=ACCOUNT,
    )
    key = lake.iam.create_access_key("sm-reader", account_id=ACCOUNT)
    reader = client("secretsmanager", key.key.access_key_id, key.secret_access_key)
    assert reader.get_secret_value(SecretId="private")["SecretString"] == "mine"
    with pytest.raises(ClientError) as exc:
        reader.describe_secret(SecretId="private")
    assert _error(exc)[0] == "AccessDeniedException"


def test_aws_cli_get_secret_value(client: ClientFactory, served: Served) -> None:
    client("secretsmanager").create_secret(Name="cli/secret", SecretString="from-the-cli")
    proc = aws_cli(served, "secretsmanager", "get-secret-value", "--secret-id", "cli/secret")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["SecretString"] == "from-the-cli"
    assert answer["VersionStages"] == ["AWSCURRENT"]
