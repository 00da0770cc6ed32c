"""IAM's and STS's operation tables: requests and answers checked against botocore's
service models, IAM's error codes, authorization of every call in the caller's account,
and temporary credentials from AssumeRole that verify."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote

import pytest

from api.helpers import call
from iam.signing import ENDPOINT, Keys, sign
from lakebox.api import SERVICES, AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.iam.service import IamService
from lakebox.lakehouse import Lake
from lakebox.principal import Principal, local_admin

ACCOUNT = "000000000000"
OTHER = "111122223333"
TRUST_ANN = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ann"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def iam(lake: Lake) -> IamService:
    return lake.iam


def _ctx(iam: IamService, principal: Principal) -> ServiceContext:
    return ServiceContext(
        principal=principal, account_id=principal.account_id, services={"iam": iam}
    )


@pytest.fixture
def admin(iam: IamService) -> ServiceContext:
    return _ctx(iam, local_admin(ACCOUNT))


def _error(ctx: ServiceContext, service: str, operation: str, request: dict[str, Any]) -> AwsError:
    with pytest.raises(AwsError) as caught:
        call(ctx, service, operation, request)
    return caught.value


def test_services_are_registered() -> None:
    assert SERVICES["iam"].name == "IAM" and SERVICES["sts"].name == "STS"


def test_user_lifecycle(admin: ServiceContext) -> None:
    user = call(admin, "iam", "CreateUser", {"UserName": "ann", "Path": "/analysts/"})["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/analysts/ann"
    assert user["UserId"].startswith("AIDA")
    dt.datetime.strptime(user["CreateDate"], "%Y-%m-%dT%H:%M:%SZ")
    assert call(admin, "iam", "GetUser", {"UserName": "ann"})["User"] == user
    assert _error(admin, "iam", "CreateUser", {"UserName": "ANN"}).code == "EntityAlreadyExists"
    assert _error(admin, "iam", "CreateUser", {"UserName": "a/b"}).code == "ValidationError"
    assert _error(admin, "iam", "GetUser", {"UserName": "bob"}).code == "NoSuchEntity"
    for name in ("bob", "cy", "dee"):
        call(admin, "iam", "CreateUser", {"UserName": name})
    first = call(admin, "iam", "ListUsers", {"MaxItems": 2})
    assert first["IsTruncated"] and len(first["Users"]) == 2
    rest = call(admin, "iam", "ListUsers", {"MaxItems": 2, "Marker": first["Marker"]})
    assert not rest["IsTruncated"]
    assert [u["UserName"] for u in first["Users"] + rest["Users"]] == ["ann", "bob", "cy", "dee"]
    only = call(admin, "iam", "ListUsers", {"PathPrefix": "/analysts/"})["Users"]
    assert [u["UserName"] for u in only] == ["ann"]
    call(admin, "iam", "DeleteUser", {"UserName": "bob"})
    assert _error(admin, "iam", "DeleteUser", {"UserName": "bob"}).code == "NoSuchEntity"


def test_access_keys(admin: ServiceContext, iam: IamService) -> None:
    call(admin, "iam", "CreateUser", {"UserName": "ann"})
    key = call(admin, "iam", "CreateAccessKey", {"UserName": "ann"})["AccessKey"]
    assert set(key) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    call(admin, "iam", "CreateAccessKey", {"UserName": "ann"})
    assert _error(admin, "iam", "CreateAccessKey", {"UserName": "ann"}).code == "LimitExceeded"
    listed = call(admin, "iam", "ListAccessKeys", {"UserName": "ann"})["AccessKeyMetadata"]
    assert key["AccessKeyId"] in [k["AccessKeyId"] for k in listed]
    assert all("SecretAccessKey" not in k for k in listed)
    assert _error(admin, "iam", "DeleteUser", {"UserName": "ann"}).code == "DeleteConflict"
    keys = Keys(key["AccessKeyId"], key["SecretAccessKey"])
    iam.authenticate(sign(keys, "s3", ENDPOINT + "/b"))
    call(
        admin,
        "iam",
        "UpdateAccessKey",
        {"UserName": "ann", "AccessKeyId": key["AccessKeyId"], "Status": "Inactive"},
    )
    call(admin, "iam", "DeleteAccessKey", {"UserName": "ann", "AccessKeyId": key["AccessKeyId"]})
    missing = _error(
        admin, "iam", "DeleteAccessKey", {"UserName": "ann", "AccessKeyId": key["AccessKeyId"]}
    )
    assert missing.code == "NoSuchEntity"


def test_a_user_acts_on_itself_when_user_name_is_left_out(
    admin: ServiceContext, iam: IamService
) -> None:
    call(admin, "iam", "CreateUser", {"UserName": "ann"})
    call(
        admin,
        "iam",
        "PutUserPolicy",
        {
            "UserName": "ann",
            "PolicyName": "own-keys",
            "PolicyDocument": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": {
                        "Effect": "Allow",
                        "Action": ["iam:*AccessKey*", "iam:GetUser"],
                        "Resource": "arn:aws:iam::*:user/${aws:username}",
                    },
                }
            ),
        },
    )
    ann = _ctx(iam, iam.user_principal("ann"))
    assert call(ann, "iam", "GetUser", {})["User"]["UserName"] == "ann"
    key = call(ann, "iam", "CreateAccessKey", {})["AccessKey"]
    assert key["UserName"] == "ann"
    assert len(call(ann, "iam", "ListAccessKeys", {})["AccessKeyMetadata"]) == 1
    denied = _error(ann, "iam", "CreateAccessKey", {"UserName": "admin"})
    assert denied.code == "AccessDenied"
    assert _error(ann, "iam", "CreateUser", {"UserName": "new"}).code == "AccessDenied"
    assert _error(ann, "iam", "ListUsers", {}).code == "AccessDenied"


def test_roles_and_policies(admin: ServiceContext) -> None:
    role = call(
        admin,
        "iam",
        "CreateRole",
        {
            "RoleName": "etl",
            "AssumeRolePolicyDocument": TRUST_ANN,
            "MaxSessionDuration": 7200,
            "Description": "jobs",
        },
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/etl" and role["RoleId"].startswith("AROA")
    assert json.loads(unquote(role["AssumeRolePolicyDocument"])) == json.loads(TRUST_ANN)
    assert call(admin, "iam", "GetRole", {"RoleName": "etl"})["Role"] == role
    bad_trust = _error(
        admin,
        "iam",
        "CreateRole",
        {"RoleName": "r2", "AssumeRolePolicyDocument": '{"Statement": [{"Effect": "Allow"}]}'},
    )
    assert bad_trust.code == "MalformedPolicyDocument" and "Statement[0]" in bad_trust.message
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "glue:*", "Resource": "*"},
        }
    )
    call(
        admin,
        "iam",
        "PutRolePolicy",
        {"RoleName": "etl", "PolicyName": "glue", "PolicyDocument": document},
    )
    got = call(admin, "iam", "GetRolePolicy", {"RoleName": "etl", "PolicyName": "glue"})
    assert json.loads(unquote(got["PolicyDocument"])) == json.loads(document)
    call(admin, "iam", "CreateUser", {"UserName": "ann"})
    call(
        admin,
        "iam",
        "PutUserPolicy",
        {"UserName": "ann", "PolicyName": "p", "PolicyDocument": document},
    )
    got = call(admin, "iam", "GetUserPolicy", {"UserName": "ann", "PolicyName": "p"})
    assert (got["UserName"], got["PolicyName"]) == ("ann", "p")
    assert call(admin, "iam", "ListUserPolicies", {"UserName": "ann"})["PolicyNames"] == ["p"]
    malformed = _error(
        admin,
        "iam",
        "PutUserPolicy",
        {
            "UserName": "ann",
            "PolicyName": "q",
            "PolicyDocument": '{"Statement": {"Effect": "Allow", "Action": "x", "Resource": "*"}}',
        },
    )
    assert malformed.code == "MalformedPolicyDocument" and "Action" in malformed.message
    assert (
        _error(admin, "iam", "GetUserPolicy", {"UserName": "ann", "PolicyName": "q"}).code
        == "NoSuchEntity"
    )
    call(
        admin,
        "iam",
        "AttachUserPolicy",
        {"UserName": "ann", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    attached = call(admin, "iam", "ListAttachedUserPolicies", {"UserName": "ann"})[
        "AttachedPolicies"
    ]
    assert attached == [
        {
            "PolicyName": "AdministratorAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess",
        }
    ]
    other = _error(
        admin,
        "iam",
        "AttachUserPolicy",
        {"UserName": "ann", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
    )
    assert other.code == "NoSuchEntity"
    call(admin, "iam", "DeleteUserPolicy", {"UserName": "ann", "PolicyName": "p"})


def test_login_profiles(admin: ServiceContext, iam: IamService) -> None:
    call(admin, "iam", "CreateUser", {"UserName": "ann"})
    profile = call(
        admin,
        "iam",
        "CreateLoginProfile",
        {"UserName": "ann", "Password": "a long password", "PasswordResetRequired": True},
    )["LoginProfile"]
    assert (profile["UserName"], profile["PasswordResetRequired"]) == ("ann", True)
    assert iam.check_password("ann", "a long password") is not None
    again = _error(
        admin, "iam", "CreateLoginProfile", {"UserName": "ann", "Password": "another password"}
    )
    assert again.code == "EntityAlreadyExists"
    call(admin, "iam", "CreateUser", {"UserName": "bob"})
    weak = _error(admin, "iam", "CreateLoginProfile", {"UserName": "bob", "Password": "short"})
    assert weak.code == "PasswordPolicyViolation"


def test_accounts_are_separate(iam: IamService, admin: ServiceContext) -> None:
    iam.create_account(OTHER)
    other = _ctx(iam, local_admin(OTHER))
    call(other, "iam", "CreateUser", {"UserName": "ann"})
    assert call(admin, "iam", "ListUsers", {})["Users"] == []
    assert (
        call(other, "iam", "GetUser", {"UserName": "ann"})["User"]["Arn"]
        == f"arn:aws:iam::{OTHER}:user/ann"
    )
    assert _error(admin, "iam", "GetUser", {"UserName": "ann"}).code == "NoSuchEntity"


# -- STS ------------------------------------------------------------------------------------


def test_get_caller_identity(admin: ServiceContext, iam: IamService) -> None:
    assert call(admin, "sts", "GetCallerIdentity", {}) == {
        "UserId": ACCOUNT,
        "Account": ACCOUNT,
        "Arn": f"arn:aws:iam::{ACCOUNT}:root",
    }
    iam.create_user("ann")
    ann = _ctx(iam, iam.user_principal("ann"))  # no policy: GetCallerIdentity still answers
    found = call(ann, "sts", "GetCallerIdentity", {})
    assert (found["Arn"], found["UserId"]) == (
        f"arn:aws:iam::{ACCOUNT}:user/ann",
        iam.get_user("ann").user_id,
    )


def test_assume_role_gives_credentials_that_verify_and_expire(
    admin: ServiceContext, iam: IamService
) -> None:
    iam.create_user("ann")
    iam.create_user("bob")
    call(admin, "iam", "CreateRole", {"RoleName": "etl", "AssumeRolePolicyDocument": TRUST_ANN})
    ann = _ctx(iam, iam.user_principal("ann"))
    answer = call(
        ann,
        "sts",
        "AssumeRole",
        {
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/etl",
            "RoleSessionName": "job-7",
            "DurationSeconds": 900,
        },
    )
    creds, who = answer["Credentials"], answer["AssumedRoleUser"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/etl/job-7"
    assert who["AssumedRoleId"].endswith(":job-7")
    expiration = dt.datetime.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.UTC
    )
    assert (
        dt.timedelta(seconds=880)
        < expiration - dt.datetime.now(dt.UTC)
        <= dt.timedelta(seconds=900)
    )
    keys = Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    caller = iam.authenticate(sign(keys, "sts", ENDPOINT + "/", body=b"Action=GetCallerIdentity"))
    session = _ctx(iam, caller.principal)
    assert call(session, "sts", "GetCallerIdentity", {})["Arn"] == who["Arn"]
    assert call(session, "sts", "GetCallerIdentity", {})["UserId"] == who["AssumedRoleId"]
    bob = _ctx(iam, iam.user_principal("bob"))
    denied = _error(
        bob,
        "sts",
        "AssumeRole",
        {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/etl", "RoleSessionName": "x1"},
    )
    assert denied.code == "AccessDenied"


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ({"DurationSeconds": 899}, "between 900 and 43200"),
        ({"DurationSeconds": 43201}, "between 900 and 43200"),
        ({"DurationSeconds": 7200}, "MaxSessionDuration"),
        ({"RoleSessionName": "has space"}, "roleSessionName"),
        ({"RoleArn": "arn:aws:iam::000000000000:user/ann"}, "RoleArn"),
        ({"Policy": "{}"}, "Policy"),
    ],
)
def test_assume_role_validation(
    admin: ServiceContext, iam: IamService, request_: dict[str, Any], fragment: str
) -> None:
    iam.create_user("ann")
    iam.create_role("etl", TRUST_ANN)
    ann = _ctx(iam, iam.user_principal("ann"))
    body = {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/etl", "RoleSessionName": "s1", **request_}
    with pytest.raises(AwsError) as caught:  # as a door hands it over: not checked by botocore
        dispatch("sts", "AssumeRole", body, ann)
    assert caught.value.code == "ValidationError"
    assert fragment in caught.value.message


def test_role_chaining_is_limited_to_an_hour(iam: IamService) -> None:
    iam.create_user("ann")
    iam.create_role("first", TRUST_ANN)
    iam.create_role(
        "second",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/first"},
                    "Action": "sts:AssumeRole",
                },
            }
        ),
        max_session_duration=7200,
    )
    creds = iam.assume_role(iam.user_principal("ann"), f"arn:aws:iam::{ACCOUNT}:role/first", "s1")
    keys = Keys(creds.access_key_id, creds.secret_access_key, creds.session_token)
    session = _ctx(iam, iam.authenticate(sign(keys, "sts", ENDPOINT + "/")).principal)
    body = {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/second", "RoleSessionName": "s2"}
    too_long = _error(session, "sts", "AssumeRole", {**body, "DurationSeconds": 7200})
    assert too_long.code == "ValidationError" and "role chaining" in too_long.message
    chained = call(session, "sts", "AssumeRole", body)
    assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/second/s2"


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("CreateUser", {"UserName": 5}, "ValidationError"),
        ("CreateUser", {}, "ValidationError"),
        ("ListUsers", {"MaxItems": "10"}, "ValidationError"),
        ("ListUsers", {"MaxItems": 0}, "ValidationError"),
        ("ListUsers", {"Marker": "not-ours"}, "ValidationError"),
        ("ListUsers", {"Marker": "\u00b2"}, "ValidationError"),  # "²".isdigit() is True
        ("ListUsers", {"Marker": "9" * 5000}, "ValidationError"),
        (
            "CreateRole",
            {"RoleName": "r", "AssumeRolePolicyDocument": "[]"},
            "MalformedPolicyDocument",
        ),
        (
            "CreateRole",
            {"RoleName": "r", "AssumeRolePolicyDocument": TRUST_ANN, "MaxSessionDuration": 60},
            "ValidationError",
        ),
        (
            "PutUserPolicy",
            {"UserName": "nobody", "PolicyName": "p", "PolicyDocument": "{}"},
            "NoSuchEntity",
        ),
        ("CreateAccessKey", {}, "ValidationError"),
        ("GetUser", {"UserName": ["ann"]}, "ValidationError"),
        ("NoSuchOperation", {}, "UnknownOperationException"),
    ],
)
def test_hostile_requests_get_iam_codes(
    admin: ServiceContext, operation: str, request_: dict[str, Any], code: str
) -> None:
    with pytest.raises(AwsError) as caught:
        dispatch("iam", operation, request_, admin)
    assert caught.value.code == code, caught.value.message


def test_detaching_deleting_and_login_profile_operations(
    admin: ServiceContext, iam: IamService
) -> None:
    admin_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        }
    )
    call(admin, "iam", "CreateRole", {"RoleName": "etl", "AssumeRolePolicyDocument": TRUST_ANN})
    call(
        admin,
        "iam",
        "PutRolePolicy",
        {"RoleName": "etl", "PolicyName": "s3", "PolicyDocument": document},
    )
    call(admin, "iam", "AttachRolePolicy", {"RoleName": "etl", "PolicyArn": admin_arn})
    assert call(admin, "iam", "ListRolePolicies", {"RoleName": "etl"})["PolicyNames"] == ["s3"]
    attached = call(admin, "iam", "ListAttachedRolePolicies", {"RoleName": "etl"})[
        "AttachedPolicies"
    ]
    assert [a["PolicyArn"] for a in attached] == [admin_arn]
    assert _error(admin, "iam", "DeleteRole", {"RoleName": "etl"}).code == "DeleteConflict"
    call(admin, "iam", "DetachRolePolicy", {"RoleName": "etl", "PolicyArn": admin_arn})
    assert (
        _error(admin, "iam", "DetachRolePolicy", {"RoleName": "etl", "PolicyArn": admin_arn}).code
        == "NoSuchEntity"
    )
    call(admin, "iam", "DeleteRolePolicy", {"RoleName": "etl", "PolicyName": "s3"})
    call(admin, "iam", "DeleteRole", {"RoleName": "etl"})
    assert _error(admin, "iam", "GetRole", {"RoleName": "etl"}).code == "NoSuchEntity"

    call(admin, "iam", "CreateUser", {"UserName": "ann"})
    call(admin, "iam", "AttachUserPolicy", {"UserName": "ann", "PolicyArn": admin_arn})
    call(admin, "iam", "DetachUserPolicy", {"UserName": "ann", "PolicyArn": admin_arn})
    assert (
        call(admin, "iam", "ListAttachedUserPolicies", {"UserName": "ann"})["AttachedPolicies"]
        == []
    )
    assert _error(admin, "iam", "GetLoginProfile", {"UserName": "ann"}).code == "NoSuchEntity"
    call(admin, "iam", "CreateLoginProfile", {"UserName": "ann", "Password": "first password"})
    call(
        admin,
        "iam",
        "UpdateLoginProfile",
        {"UserName": "ann", "Password": "second password", "PasswordResetRequired": True},
    )
    profile = call(admin, "iam", "GetLoginProfile", {"UserName": "ann"})["LoginProfile"]
    assert profile["PasswordResetRequired"] is True
    assert iam.check_password("ann", "second password") is not None
    weak = _error(admin, "iam", "UpdateLoginProfile", {"UserName": "ann", "Password": "weak"})
    assert weak.code == "PasswordPolicyViolation"
    call(admin, "iam", "DeleteLoginProfile", {"UserName": "ann"})
    assert iam.check_password("ann", "second password") is None
    call(admin, "iam", "DeleteUser", {"UserName": "ann"})


def test_simulate_principal_policy(admin: ServiceContext, iam: IamService) -> None:
    iam.create_user("ann")
    iam.put_user_policy(
        "ann",
        "p",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "glue:*",
                        "Resource": "*",
                        "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
                    },
                    {"Effect": "Deny", "Action": "glue:DeleteTable", "Resource": "*"},
                ],
            }
        ),
    )
    answer = call(
        admin,
        "iam",
        "SimulatePrincipalPolicy",
        {
            "PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/ann",
            "ActionNames": ["glue:GetTable", "glue:DeleteTable", "s3:GetObject"],
            "ContextEntries": [
                {
                    "ContextKeyName": "aws:SourceIp",
                    "ContextKeyValues": ["10.1.1.1"],
                    "ContextKeyType": "ip",
                }
            ],
        },
    )
    decisions = [(r["EvalActionName"], r["EvalDecision"]) for r in answer["EvaluationResults"]]
    assert decisions == [
        ("glue:GetTable", "allowed"),
        ("glue:DeleteTable", "explicitDeny"),
        ("s3:GetObject", "implicitDeny"),
    ]
    outside = call(
        admin,
        "iam",
        "SimulatePrincipalPolicy",
        {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/ann", "ActionNames": ["glue:GetTable"]},
    )
    assert outside["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    missing = _error(
        admin,
        "iam",
        "SimulatePrincipalPolicy",
        {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/nobody", "ActionNames": ["s3:GetObject"]},
    )
    assert missing.code == "NoSuchEntity"


def test_every_sts_operation_is_named_as_authorizing_itself() -> None:
    from lakebox.api import sts as sts_api

    assert set(SERVICES["sts"].operations) == sts_api.SELF_AUTHORIZED
