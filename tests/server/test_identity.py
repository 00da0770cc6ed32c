"""IAM and STS over the query protocol (form-encoded requests, XML answers), with boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")


def test_get_caller_identity_names_the_signer(client: ClientFactory) -> None:
    me = client("sts").get_caller_identity()
    assert me["Account"] == "000000000000"
    assert me["Arn"] == "arn:aws:iam::000000000000:user/admin"
    assert me["UserId"]


def test_a_user_and_key_made_over_iam_can_sign_requests(client: ClientFactory) -> None:
    iam = client("iam")
    user = iam.create_user(UserName="served-bob")["User"]
    assert user["Arn"] == "arn:aws:iam::000000000000:user/served-bob"
    assert user["CreateDate"].year >= 2024  # an ISO timestamp in the XML, parsed by botocore
    made = iam.create_access_key(UserName="served-bob")["AccessKey"]
    assert made["UserName"] == "served-bob" and made["Status"] == "Active"
    assert [u["UserName"] for u in iam.list_users()["Users"]].count("served-bob") == 1

    sts = client("sts", made["AccessKeyId"], made["SecretAccessKey"])
    assert sts.get_caller_identity()["Arn"] == user["Arn"]
    # a new user has no policy: everything else is denied, in each protocol's code
    with pytest.raises(ClientError) as exc:
        client("athena", made["AccessKeyId"], made["SecretAccessKey"]).list_work_groups()
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        client("iam", made["AccessKeyId"], made["SecretAccessKey"]).list_users()
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    iam.put_user_policy(
        UserName="served-bob",
        PolicyName="athena",
        PolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "athena:*", "Resource": "*"}]}
        ),
    )
    groups = client("athena", made["AccessKeyId"], made["SecretAccessKey"]).list_work_groups()
    assert groups["WorkGroups"]


def test_iam_errors_are_xml_error_responses(client: ClientFactory) -> None:
    iam = client("iam")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName="served-nobody")
    assert exc.value.response["Error"]["Code"] == "NoSuchEntity"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    iam.create_user(UserName="served-twice")
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="served-twice")
    assert exc.value.response["Error"]["Code"] == "EntityAlreadyExists"


def test_assumed_role_credentials_sign_requests(client: ClientFactory, served: Served) -> None:
    iam = client("iam")
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    role = iam.create_role(RoleName="served-reader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="served-reader",
        PolicyName="glue-read",
        PolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "glue:Get*", "Resource": "*"}]}
        ),
    )
    creds = client("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="s1")[
        "Credentials"
    ]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )
    me = session.client("sts", endpoint_url=served.url).get_caller_identity()
    assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/served-reader/s1"
    glue = session.client("glue", endpoint_url=served.url)
    assert "default" in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    with pytest.raises(ClientError) as exc:
        glue.create_database(DatabaseInput={"Name": "not_allowed"})
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
