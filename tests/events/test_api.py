"""EventBridge's and Lambda's operation tables, as every door calls them: AWS shapes in
and out (checked against botocore's models), AWS error codes, and each operation
authorized on the rule or function it names."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.lakehouse import Lakehouse


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", text)
    return buffer.getvalue()


@pytest.fixture
def admin(lake: Lakehouse) -> ServiceContext:
    return ServiceContext(
        account_id=lake.config.account_id,
        region=lake.config.region,
        provider=lambda name: getattr(lake, name),
    )


def test_eventbridge_operations_answer_botocores_shapes(admin: ServiceContext) -> None:
    pattern = json.dumps({"source": ["app"]})
    assert call(admin, "events", "PutRule", {"Name": "r", "EventPattern": pattern})["RuleArn"]
    described = call(admin, "events", "DescribeRule", {"Name": "r"})
    assert described["EventPattern"] == pattern
    assert [r["Name"] for r in call(admin, "events", "ListRules", {})["Rules"]] == ["r"]
    target = {"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}
    put = call(admin, "events", "PutTargets", {"Rule": "r", "Targets": [target]})
    assert put["FailedEntryCount"] == 0
    assert call(admin, "events", "ListTargetsByRule", {"Rule": "r"})["Targets"] == [target]
    entry = {"Source": "other", "DetailType": "x", "Detail": "{}"}
    sent = call(admin, "events", "PutEvents", {"Entries": [entry]})
    assert sent["FailedEntryCount"] == 0 and sent["Entries"][0]["EventId"]
    call(admin, "events", "DisableRule", {"Name": "r"})
    call(admin, "events", "EnableRule", {"Name": "r"})
    call(admin, "events", "RemoveTargets", {"Rule": "r", "Ids": ["t"]})
    call(admin, "events", "DeleteRule", {"Name": "r"})
    with pytest.raises(AwsError) as caught:
        dispatch("events", "PutRule", {"Name": "s", "ScheduleExpression": "rate(1 hour)"}, admin)
    assert caught.value.code == "ValidationException"
    with pytest.raises(AwsError) as caught:
        dispatch("events", "DescribeRule", {"Name": "nope"}, admin)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        dispatch("events", "ListRules", {"EventBusName": "custom"}, admin)
    assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        dispatch("events", "PutRule", {"Name": "bad", "EventPattern": "{}"}, admin)
    assert caught.value.code == "InvalidEventPatternException"
    with pytest.raises(AwsError) as caught:
        dispatch(
            "events",
            "PutEvents",
            {"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11},
            admin,
        )
    assert caught.value.code == "ValidationException"


def test_lambda_operations_answer_botocores_shapes(lake: Lakehouse, admin: ServiceContext) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = lake.iam.create_role("echo-role", json.dumps(trust)).arn
    code = _zip("def lambda_handler(event, context):\n    return {'got': event}\n")
    made = call(
        admin,
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "echo",
            "Runtime": "python3.12",
            "Role": role,
            "Handler": "lambda_function.lambda_handler",
            "Code": {"ZipFile": code},
        },
    )
    assert made["FunctionName"] == "echo"
    answer = call(admin, "lambda", "Invoke", {"FunctionName": "echo", "Payload": b'{"a": 1}'})
    assert json.loads(answer["Payload"]) == {"got": {"a": 1}}
    assert call(admin, "lambda", "GetFunction", {"FunctionName": "echo"})["Configuration"]
    assert len(call(admin, "lambda", "ListFunctions", {})["Functions"]) == 1
    new_code = _zip("def other(event, context):\n    return 'new'\n")
    updated = call(
        admin, "lambda", "UpdateFunctionCode", {"FunctionName": "echo", "ZipFile": new_code}
    )
    assert updated["CodeSize"] == len(new_code)
    configured = call(
        admin,
        "lambda",
        "UpdateFunctionConfiguration",
        {"FunctionName": "echo", "Handler": "lambda_function.other", "Timeout": 9},
    )
    assert (configured["Handler"], configured["Timeout"], configured["Role"]) == (
        "lambda_function.other",
        9,
        role,
    )
    assert json.loads(call(admin, "lambda", "Invoke", {"FunctionName": "echo"})["Payload"]) == "new"
    with pytest.raises(AwsError) as caught:
        dispatch(
            "lambda", "UpdateFunctionConfiguration", {"FunctionName": "echo", "Timeout": 0}, admin
        )
    assert caught.value.code == "InvalidParameterValueException"
    assert lake.events.get_function("echo").timeout == 9
    with pytest.raises(AwsError) as caught:
        dispatch("lambda", "Invoke", {"FunctionName": "echo", "Payload": b"{not json"}, admin)
    assert caught.value.code == "InvalidRequestContentException"
    with pytest.raises(AwsError) as caught:
        dispatch(
            "lambda", "CreateFunction", {"FunctionName": "x", "Code": {"S3Bucket": "b"}}, admin
        )
    assert caught.value.code == "InvalidParameterValueException"
    dispatch("lambda", "DeleteFunction", {"FunctionName": "echo"}, admin)
    with pytest.raises(AwsError) as caught:
        dispatch("lambda", "GetFunction", {"FunctionName": "echo"}, admin)
    assert caught.value.code == "ResourceNotFoundException"


def test_operations_are_authorized_on_the_rule_and_the_function(lake: Lakehouse) -> None:
    lake.iam.create_user("bob")
    region, account = lake.config.region, lake.config.account_id
    lake.iam.put_user_policy(
        "bob",
        "scoped",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["events:PutRule", "events:DescribeRule", "events:PutTargets"],
                        "Resource": f"arn:aws:events:{region}:{account}:rule/mine-*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "lambda:Invoke",
                        "Resource": f"arn:aws:lambda:{region}:{account}:function:open",
                    },
                ],
            }
        ),
    )
    bob = ServiceContext(
        principal=lake.iam.user_principal("bob"),
        account_id=account,
        region=region,
        provider=lambda name: getattr(lake, name),
    )
    pattern = json.dumps({"source": ["app"]})
    dispatch("events", "PutRule", {"Name": "mine-1", "EventPattern": pattern}, bob)
    denied: list[tuple[str, str, dict[str, Any]]] = [
        ("events", "PutRule", {"Name": "theirs", "EventPattern": pattern}),
        ("events", "DeleteRule", {"Name": "mine-1"}),
        # a rule's deliveries act as the administrator: only one may give it targets
        (
            "events",
            "PutTargets",
            {
                "Rule": "mine-1",
                "Targets": [{"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}],
            },
        ),
        ("lambda", "Invoke", {"FunctionName": "closed"}),
        (
            "lambda",
            "CreateFunction",
            {"FunctionName": "open", "Handler": "a.b", "Code": {"ZipFile": b""}},
        ),
    ]
    for service, operation, request in denied:
        with pytest.raises(AwsError) as caught:
            dispatch(service, operation, request, bob)
        assert caught.value.code == "AccessDeniedException", (operation, caught.value)
    assert [r.name for r in lake.events.list_rules()] == ["mine-1"]
