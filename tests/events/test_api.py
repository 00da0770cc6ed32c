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
                        "Action": "lambda:InvokeFunction",
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


OTHER = "222222222222"


def _other_account_admin(lake: Lakehouse) -> ServiceContext:
    """A user of another account allowed ``lambda:*`` and ``events:*`` (everything) in its
    own account, as a door would give it."""
    lake.iam.create_account(OTHER, name="elsewhere")
    lake.iam.create_user("mallory", account_id=OTHER)
    lake.iam.put_user_policy(
        "mallory",
        "own-account",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["lambda:*", "events:*"], "Resource": "*"}
                ],
            }
        ),
        account_id=OTHER,
    )
    return ServiceContext(
        principal=lake.iam.user_principal("mallory", account_id=OTHER),
        account_id=OTHER,
        region=lake.config.region,
        provider=lambda name: getattr(lake, name),
    )


def test_functions_and_rules_are_the_lake_accounts(lake: Lakehouse, admin: ServiceContext) -> None:
    """Functions and rules are kept lake-wide, with no account of their own: they are the
    lake account's, and a principal of another account reaches none of them, by name or by
    ARN, whatever its own account's policies allow."""
    region, account = lake.config.region, lake.config.account_id
    lake.iam.create_user("admin-user", account_id=account, admin=True)
    made = dispatch(  # no Role: the function gets no credentials
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "lake-fn",
            "Handler": "lambda_function.lambda_handler",
            "Runtime": "python3.12",
            "Code": {"ZipFile": _zip("def lambda_handler(e, c):\n    return 'mine'\n")},
        },
        admin,
    )
    assert made["FunctionArn"] == f"arn:aws:lambda:{region}:{account}:function:lake-fn"
    pattern = json.dumps({"source": ["app"]})
    rule_arn = call(admin, "events", "PutRule", {"Name": "lake-rule", "EventPattern": pattern})
    assert rule_arn["RuleArn"] == f"arn:aws:events:{region}:{account}:rule/lake-rule"
    mallory = _other_account_admin(lake)
    fn_arn = made["FunctionArn"]
    entry = {"Source": "app", "DetailType": "x", "Detail": "{}"}
    denied: list[tuple[str, str, dict[str, Any]]] = [
        ("lambda", "GetFunction", {"FunctionName": "lake-fn"}),
        ("lambda", "GetFunction", {"FunctionName": fn_arn}),
        ("lambda", "GetFunction", {"FunctionName": f"{account}:function:lake-fn"}),
        ("lambda", "UpdateFunctionCode", {"FunctionName": "lake-fn", "ZipFile": _zip("")}),
        ("lambda", "Invoke", {"FunctionName": "lake-fn"}),
        ("lambda", "Invoke", {"FunctionName": fn_arn}),
        ("lambda", "ListFunctions", {}),
        ("lambda", "DeleteFunction", {"FunctionName": "lake-fn"}),
        ("events", "PutRule", {"Name": "lake-rule", "EventPattern": '{"source": ["x"]}'}),
        ("events", "DescribeRule", {"Name": "lake-rule"}),
        ("events", "ListRules", {}),
        ("events", "DisableRule", {"Name": "lake-rule"}),
        ("events", "DeleteRule", {"Name": "lake-rule"}),
        ("events", "PutEvents", {"Entries": [entry]}),
    ]
    for service, operation, request in denied:
        with pytest.raises(AwsError) as caught:
            dispatch(service, operation, request, mallory)
        assert caught.value.code == "AccessDeniedException", (operation, caught.value)
        assert account in str(caught.value), (operation, caught.value)
    # a function ARN of another account names no function of the lake's, even for the
    # lake's own administrator (the name part alone must not reach the lake's function)
    for ref in (f"arn:aws:lambda:{region}:{OTHER}:function:lake-fn", f"{OTHER}:function:lake-fn"):
        with pytest.raises(AwsError) as caught:
            dispatch("lambda", "Invoke", {"FunctionName": ref}, admin)
        assert caught.value.code == "ResourceNotFoundException"
    with pytest.raises(AwsError) as caught:
        dispatch(
            "events",
            "ListRules",
            {"EventBusName": f"arn:aws:events:{region}:{OTHER}:event-bus/default"},
            admin,
        )
    assert caught.value.code == "ResourceNotFoundException"
    # nothing changed, and the lake's principals still act on them
    described = call(admin, "events", "DescribeRule", {"Name": "lake-rule"})
    assert (described["State"], described["CreatedBy"]) == ("ENABLED", account)
    got = call(admin, "lambda", "GetFunction", {"FunctionName": fn_arn})
    assert got["Configuration"]["CodeSha256"] == made["CodeSha256"]
    answer = call(admin, "lambda", "Invoke", {"FunctionName": f"{account}:function:lake-fn"})
    assert json.loads(answer["Payload"]) == "mine"


def test_invoke_is_authorized_as_lambda_invoke_function(
    lake: Lakehouse, admin: ServiceContext
) -> None:
    """IAM's action for Invoke is ``lambda:InvokeFunction`` (there is no ``lambda:Invoke``):
    a policy written for AWS allows and denies it by that name."""
    dispatch(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "guarded",
            "Handler": "lambda_function.lambda_handler",
            "Runtime": "python3.12",
            "Code": {"ZipFile": _zip("def lambda_handler(e, c):\n    return 'ran'\n")},
        },
        admin,
    )
    region, account = lake.config.region, lake.config.account_id
    function = f"arn:aws:lambda:{region}:{account}:function:guarded"
    statements = {
        "caller": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function}],
        "blocked": [
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": function},
        ],
    }
    contexts = {}
    for user, statement in statements.items():
        lake.iam.create_user(user)
        lake.iam.put_user_policy(
            user, "p", json.dumps({"Version": "2012-10-17", "Statement": statement})
        )
        contexts[user] = ServiceContext(
            principal=lake.iam.user_principal(user),
            account_id=account,
            region=region,
            provider=lambda name: getattr(lake, name),
        )
    answer = dispatch("lambda", "Invoke", {"FunctionName": "guarded"}, contexts["caller"])
    assert json.loads(answer["Payload"]) == "ran"
    with pytest.raises(AwsError) as caught:
        dispatch("lambda", "Invoke", {"FunctionName": "guarded"}, contexts["blocked"])
    assert caught.value.code == "AccessDeniedException"
    assert "lambda:InvokeFunction" in str(caught.value)
    assert dispatch("lambda", "GetFunction", {"FunctionName": "guarded"}, contexts["blocked"])
