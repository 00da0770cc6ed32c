"""Authorization over HTTP against the resources each operation declares (not guessed by the
door from whatever members a request carries), as a scoped user ``bob`` sees it with boto3."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _user(client: ClientFactory, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    """A user with one inline policy of ``statements`` (none: no policy), and its keys."""
    iam = client("iam")
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(
            UserName=name,
            PolicyName="scoped",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


def _post_json(
    served: Served, keys: tuple[str, str], service: str, target: str, doc: Any
) -> tuple[int, dict[str, Any]]:
    """A JSON-protocol request sent as written (boto3 would drop members its model lacks)."""
    body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
    request = AWSRequest(method="POST", url=served.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(*keys), service, REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def test_glue_database_actions_are_authorized_on_the_named_database(
    client: ClientFactory, served: Served
) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "authz_mine"})
    glue.create_database(DatabaseInput={"Name": "authz_theirs"})
    keys = _user(
        client,
        "authz-db-bob",
        [
            {
                "Effect": "Allow",
                "Action": "glue:*",
                "Resource": [
                    f"arn:aws:glue:{REGION}:{ACCOUNT}:catalog",
                    f"arn:aws:glue:{REGION}:{ACCOUNT}:database/authz_mine",
                ],
            },
            {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
        ],
    )
    bob = client("glue", *keys)
    assert bob.get_database(Name="authz_mine")["Database"]["Name"] == "authz_mine"
    with pytest.raises(ClientError) as exc:
        bob.get_database(Name="authz_theirs")
    assert _code(exc) == "AccessDeniedException"
    assert "database/authz_theirs" in str(exc.value)
    with pytest.raises(ClientError) as exc:
        bob.delete_database(Name="authz_theirs")
    assert _code(exc) == "AccessDeniedException"
    # a member DeleteDatabase does not have cannot choose the resource authorized: it is
    # refused, and the database is still there
    status, answer = _post_json(
        served,
        keys,
        "glue",
        "AWSGlue.DeleteDatabase",
        {
            "Name": "authz_theirs",
            "stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:x",
        },
    )
    assert status == 400 and answer["__type"].endswith("InvalidInputException"), answer
    assert "stateMachineArn" in answer["message"]
    assert glue.get_database(Name="authz_theirs")["Database"]["Name"] == "authz_theirs"


def test_glue_table_actions_need_the_table_and_its_database(client: ClientFactory) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "authz_tables"})
    for name in ("open_t", "closed_t"):
        glue.create_table(
            DatabaseName="authz_tables",
            TableInput={
                "Name": name,
                "StorageDescriptor": {
                    "Columns": [{"Name": "a", "Type": "int"}],
                    "Location": f"s3://lake/authz/{name}/",
                },
            },
        )
    base = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    keys = _user(
        client,
        "authz-table-bob",
        [
            {
                "Effect": "Allow",
                "Action": "glue:GetTable",
                "Resource": [
                    f"{base}:catalog",
                    f"{base}:database/authz_tables",
                    f"{base}:table/authz_tables/open_t",
                ],
            }
        ],
    )
    bob = client("glue", *keys)
    assert bob.get_table(DatabaseName="authz_tables", Name="open_t")["Table"]["Name"] == "open_t"
    with pytest.raises(ClientError) as exc:
        bob.get_table(DatabaseName="authz_tables", Name="closed_t")
    assert _code(exc) == "AccessDeniedException"
    assert "table/authz_tables/closed_t" in str(exc.value)


def test_athena_query_ids_are_authorized_on_their_workgroup(client: ClientFactory) -> None:
    athena = client("athena")
    qid = athena.start_query_execution(QueryString="SELECT 1")["QueryExecutionId"]
    keys = _user(
        client,
        "authz-athena-bob",
        [
            {
                "Effect": "Allow",
                "Action": "athena:*",
                "Resource": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/other",
            }
        ],
    )
    bob = client("athena", *keys)
    with pytest.raises(ClientError) as exc:
        bob.get_query_execution(QueryExecutionId=qid)
    assert _code(exc) == "AccessDeniedException"
    assert "workgroup/primary" in str(exc.value)


def test_state_machines_are_authorized_by_name_and_need_pass_role(
    client: ClientFactory,
) -> None:
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:authz-mine"
    role = f"arn:aws:iam::{ACCOUNT}:role/authz-runner"
    keys = _user(
        client,
        "authz-sfn-bob",
        [{"Effect": "Allow", "Action": "states:*", "Resource": machine}],
    )
    sfn = client("stepfunctions", *keys)
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name="authz-other", definition=definition, roleArn=role)
    assert _code(exc) == "AccessDeniedException"
    assert "stateMachine:authz-other" in str(exc.value)
    # the machine it may make, but not with a role it may not pass
    with pytest.raises(ClientError) as exc:
        sfn.create_state_machine(name="authz-mine", definition=definition, roleArn=role)
    assert _code(exc) == "AccessDeniedException"
    assert "iam:PassRole" in str(exc.value)
    client("iam").put_user_policy(
        UserName="authz-sfn-bob",
        PolicyName="pass",
        PolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": role}]}
        ),
    )
    made = sfn.create_state_machine(name="authz-mine", definition=definition, roleArn=role)
    assert made["stateMachineArn"] == machine


def test_assume_role_and_self_service_need_no_identity_policy(
    client: ClientFactory, served: Served
) -> None:
    # no sts:AssumeRole of its own; IAM on itself only (the door used to authorize a call
    # without UserName on "*", which this policy does not allow)
    me = f"arn:aws:iam::{ACCOUNT}:user/authz-trusted"
    keys = _user(
        client,
        "authz-trusted",
        [{"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListAccessKeys"], "Resource": me}],
    )
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/authz-trusted"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    role = client("iam").create_role(
        RoleName="authz-trusting", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    creds = client("sts", *keys).assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    # IAM's self-service calls, with no UserName: the caller itself
    iam = client("iam", *keys)
    assert iam.get_user()["User"]["UserName"] == "authz-trusted"
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == [keys[0]]


def test_a_schedule_runs_as_its_creator_so_their_deny_still_applies(
    client: ClientFactory, served: Served
) -> None:
    """A schedule used to run as the lake's administrator, and any caller allowed ``*`` on
    ``*`` could make one, even with a Deny of the target: the Deny was escaped. Now it runs
    as whoever made it, whose Deny refuses the firing."""
    target = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:authz-sched-target"
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    client("stepfunctions").create_state_machine(
        name="authz-sched-target",
        definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/x",
    )
    keys = _user(
        client,
        "authz-sched-bob",
        [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "states:StartExecution", "Resource": target},
        ],
    )
    client("scheduler", *keys).create_schedule(
        Name="authz-nightly",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/x"},
    )
    lake = Lakehouse.open(LakeConfig.from_env(home=served.home), create=False)
    try:
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1, seconds=5)
        fired = [f for f in lake.workflows.run_due(soon) if f.schedule == "authz-nightly"]
        assert len(fired) == 1
        assert fired[0].execution_arn is None
        assert "authz-sched-bob is not authorized to perform: states:StartExecution" in str(
            fired[0].error
        )
        assert lake.workflows.list_executions("authz-sched-target") == []
    finally:
        lake.close()


@pytest.mark.parametrize(
    ("service", "target", "body", "said"),
    [
        (
            "states",
            "AWSStepFunctions.ListExecutions",
            b'{"maxResults": ' + b"9" * 5000 + b"}",
            "cannot read",
        ),
        (
            "dynamodb",
            "DynamoDB_20120810.ExportTableToPointInTime",
            b'{"TableArn": "t", "S3Bucket": "b", "ExportTime": "1e400"}',
            "ExportTime",
        ),
    ],
)
def test_unreadable_numbers_are_validation_errors(
    served: Served, service: str, target: str, body: bytes, said: str
) -> None:
    status, answer = _post_json(
        served, (served.admin_key, served.admin_secret), service, target, body
    )
    assert status == 400, answer
    assert answer["__type"].endswith(("ValidationException", "InvalidInputException")), answer
    assert said in answer["message"]
