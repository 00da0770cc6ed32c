"""Step Functions' operation table over the WorkflowService: botocore-shaped round trips
and Step Functions' error codes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lake
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START

PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
WAIT_FOR_TOKEN = json.dumps(
    {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lakebox:callback.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token"},
                "End": True,
            }
        },
    }
)
ROLE = "arn:aws:iam::000000000000:role/sfn"


@pytest.fixture
def sfn(lake: Lake) -> Iterator[ServiceContext]:
    workflows = WorkflowService(lake.config, stop_poll_seconds=0.05)
    try:
        yield ServiceContext(
            account_id=lake.config.account_id,
            region=lake.config.region,
            services={"workflows": workflows},
        )
    finally:
        workflows.close()


def test_state_machine_round_trip(sfn: ServiceContext) -> None:
    created = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "orders", "definition": PASS, "roleArn": ROLE},
    )
    arn = created["stateMachineArn"]
    assert arn == f"arn:aws:states:{sfn.region}:{sfn.account_id}:stateMachine:orders"
    described = call(sfn, "stepfunctions", "DescribeStateMachine", {"stateMachineArn": arn})
    assert (described["name"], described["roleArn"]) == ("orders", ROLE)
    listed = call(sfn, "stepfunctions", "ListStateMachines", {})
    assert [m["name"] for m in listed["stateMachines"]] == ["orders"]
    updated = call(
        sfn,
        "stepfunctions",
        "UpdateStateMachine",
        {"stateMachineArn": arn, "definition": PASS.replace('"P"', '"Q"')},
    )
    assert updated["revisionId"] != described["revisionId"]
    assert call(sfn, "stepfunctions", "DeleteStateMachine", {"stateMachineArn": arn}) == {}
    assert call(sfn, "stepfunctions", "ListStateMachines", {})["stateMachines"] == []


def test_executions_round_trip(sfn: ServiceContext) -> None:
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "m", "definition": PASS, "roleArn": ROLE},
    )["stateMachineArn"]
    started = call(
        sfn,
        "stepfunctions",
        "StartExecution",
        {"stateMachineArn": arn, "name": "first", "input": '{"n": 1}'},
    )
    ex_arn = started["executionArn"]
    assert ex_arn.endswith(":execution:m:first")
    sfn.workflows.wait_for(ex_arn, 30)
    described = call(sfn, "stepfunctions", "DescribeExecution", {"executionArn": ex_arn})
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 1})
    listed = call(sfn, "stepfunctions", "ListExecutions", {"stateMachineArn": arn})
    assert [e["executionArn"] for e in listed["executions"]] == [ex_arn]
    # lakebox's ExecutionStarted details also name the state machine
    history = call(
        sfn,
        "stepfunctions",
        "GetExecutionHistory",
        {"executionArn": ex_arn},
        loose=frozenset({"executionStartedEventDetails"}),
    )
    assert history["events"][0]["type"] == "ExecutionStarted"
    # botocore: "StartSyncExecution is not available for STANDARD workflows"
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "StartSyncExecution", {"stateMachineArn": arn}, sfn)
    assert info.value.code == "StateMachineTypeNotSupported"


def test_express_executions(sfn: ServiceContext) -> None:
    """Express ARNs carry an id after the name (names may be reused at once), and AWS keeps
    no execution record for DescribeExecution, StopExecution, GetExecutionHistory or
    ListExecutions to read: those answer InvalidArn / StateMachineTypeNotSupported."""
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "quick", "definition": PASS, "roleArn": ROLE, "type": "EXPRESS"},
    )["stateMachineArn"]
    prefix = f"arn:aws:states:{sfn.region}:{sfn.account_id}:express:quick:again:"
    answers = [
        call(
            sfn,
            "stepfunctions",
            "StartSyncExecution",
            {"stateMachineArn": arn, "input": "[1]", "name": "again"},
        )
        for _ in range(2)
    ]
    for sync in answers:
        assert (sync["status"], sync["output"], sync["name"]) == ("SUCCEEDED", "[1]", "again")
        # AWS-recorded: every answer has billingDetails in Express billing's units
        billing = sync["billingDetails"]
        assert billing["billedDurationInMilliseconds"] % 100 == 0
        assert billing["billedDurationInMilliseconds"] >= 100
        assert billing["billedMemoryUsedInMB"] == 64
        assert sync["executionArn"].startswith(prefix)
        assert len(sync["executionArn"]) > len(prefix)
    assert answers[0]["executionArn"] != answers[1]["executionArn"]
    started = call(sfn, "stepfunctions", "StartExecution", {"stateMachineArn": arn})
    ex_arn = started["executionArn"]
    assert ex_arn.split(":")[5] == "express"
    assert sfn.workflows.wait_for(ex_arn, 30).status == "SUCCEEDED"
    for operation in ("DescribeExecution", "StopExecution", "GetExecutionHistory"):
        with pytest.raises(AwsError) as info:
            dispatch("stepfunctions", operation, {"executionArn": ex_arn}, sfn)
        assert info.value.code == "InvalidArn"
        assert str(info.value) == "Invalid Arn: 'Resource type not valid in this context: express'"
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "ListExecutions", {"stateMachineArn": arn}, sfn)
    assert info.value.code == "StateMachineTypeNotSupported"
    # AWS refuses the patterns an Express machine cannot wait on
    with pytest.raises(AwsError) as info:
        dispatch(
            "stepfunctions",
            "CreateStateMachine",
            {"name": "cb", "definition": WAIT_FOR_TOKEN, "roleArn": ROLE, "type": "EXPRESS"},
            sfn,
        )
    assert info.value.code == "InvalidDefinition"
    assert "Express state machine does not support '.waitForTaskToken'" in str(info.value)


def test_task_callbacks(sfn: ServiceContext) -> None:
    tokens: list[str] = []

    def callback(params: Any, ctx: Any) -> None:
        tokens.append(params["token"])

    sfn.workflows.register_resource("arn:aws:states:::lakebox:callback", callback)
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "cb", "definition": WAIT_FOR_TOKEN, "roleArn": ROLE},
    )["stateMachineArn"]
    ex_arn = call(sfn, "stepfunctions", "StartExecution", {"stateMachineArn": arn})["executionArn"]
    for _ in range(300):
        if tokens:
            break
        sfn.workflows.clock.sleep(0.05)
    [token] = tokens
    assert call(sfn, "stepfunctions", "SendTaskHeartbeat", {"taskToken": token}) == {}
    call(sfn, "stepfunctions", "SendTaskSuccess", {"taskToken": token, "output": '{"ok": true}'})
    assert sfn.workflows.wait_for(ex_arn, 30).output == {"ok": True}
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "SendTaskFailure", {"taskToken": token}, sfn)
    assert info.value.code == "TaskDoesNotExist"


def test_stop_execution(sfn: ServiceContext) -> None:
    sfn.workflows.register_resource("arn:aws:states:::lakebox:callback", lambda p, c: None)
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "wait", "definition": WAIT_FOR_TOKEN, "roleArn": ROLE},
    )["stateMachineArn"]
    ex_arn = call(sfn, "stepfunctions", "StartExecution", {"stateMachineArn": arn})["executionArn"]
    stopped = call(
        sfn, "stepfunctions", "StopExecution", {"executionArn": ex_arn, "error": "Manual"}
    )
    assert stopped["stopDate"]
    assert sfn.workflows.wait_for(ex_arn, 30).status == "ABORTED"


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("DescribeStateMachine", {"stateMachineArn": "nope"}, "StateMachineDoesNotExist"),
        (
            "DescribeExecution",
            {"executionArn": "arn:aws:states:us-east-1:000000000000:execution:a:b"},
            "ExecutionDoesNotExist",
        ),
        ("CreateStateMachine", {"name": "bad", "definition": "{}"}, "InvalidDefinition"),
        ("CreateStateMachine", {"definition": PASS}, "ValidationException"),
        ("StartExecution", {"stateMachineArn": "m", "input": "{not json"}, "InvalidExecutionInput"),
        ("SendTaskSuccess", {"taskToken": "t", "output": "{"}, "InvalidOutput"),
        ("SendTaskHeartbeat", {"taskToken": "no-such-token"}, "TaskDoesNotExist"),
    ],
)
def test_step_functions_error_codes(
    sfn: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", operation, request_, sfn)
    assert info.value.code == code


def test_duplicate_names(sfn: ServiceContext) -> None:
    request = {"name": "m", "definition": PASS, "roleArn": ROLE}
    arn = call(sfn, "stepfunctions", "CreateStateMachine", request)["stateMachineArn"]
    with pytest.raises(AwsError) as info:
        dispatch(
            "stepfunctions",
            "CreateStateMachine",
            {**request, "definition": PASS.replace('"P"', '"Q"')},
            sfn,
        )
    assert info.value.code == "StateMachineAlreadyExists"
    started = {"stateMachineArn": arn, "name": "once"}
    sfn.workflows.wait_for(
        dispatch("stepfunctions", "StartExecution", started, sfn)["executionArn"], 30
    )
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "StartExecution", started, sfn)
    assert info.value.code == "ExecutionAlreadyExists"


def test_names_with_dots_and_redrive_members(sfn: ServiceContext) -> None:
    """AWS-recorded: names may hold '.', and DescribeExecution tells whether a STANDARD
    execution can be redriven."""
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "state.machine_1", "definition": PASS, "roleArn": ROLE},
    )["stateMachineArn"]
    assert arn.endswith(":stateMachine:state.machine_1")
    ex_arn = call(
        sfn,
        "stepfunctions",
        "StartExecution",
        {"stateMachineArn": arn, "name": "state.machine.execution_1"},
    )["executionArn"]
    assert ex_arn.endswith(":execution:state.machine_1:state.machine.execution_1")
    sfn.workflows.wait_for(ex_arn, 30)
    described = call(sfn, "stepfunctions", "DescribeExecution", {"executionArn": ex_arn})
    assert (described["redriveCount"], described["redriveStatus"]) == (0, "NOT_REDRIVABLE")
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    failing = json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "fails", "definition": failing, "roleArn": ROLE},
    )["stateMachineArn"]
    ex_arn = call(sfn, "stepfunctions", "StartExecution", {"stateMachineArn": arn})["executionArn"]
    sfn.workflows.wait_for(ex_arn, 30)
    described = call(sfn, "stepfunctions", "DescribeExecution", {"executionArn": ex_arn})
    assert (described["status"], described["redriveStatus"]) == ("FAILED", "REDRIVABLE")
    assert "redriveStatusReason" not in described
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "StartExecution", {"stateMachineArn": arn, "name": "a b"}, sfn)
    assert (info.value.code, str(info.value).split(" (")[0]) == (
        "InvalidName",
        "Invalid Name: 'a b'",
    )


def test_express_executions_end_after_five_minutes(lake: Lake) -> None:
    """Express workflows run for at most five minutes (developer guide)."""
    workflows = WorkflowService(lake.config, clock=ManualClock(START), stop_poll_seconds=0.05)
    try:
        long_wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 301, "End": True}}}
        workflows.create_state_machine("slow", long_wait, type="EXPRESS")
        assert workflows.start_sync_execution("slow", {}).status == "TIMED_OUT"
        short = {**long_wait, "States": {"W": {"Type": "Wait", "Seconds": 299, "End": True}}}
        workflows.create_state_machine("quick", short, type="EXPRESS")
        assert workflows.start_sync_execution("quick", {}).status == "SUCCEEDED"
    finally:
        workflows.close()


@pytest.mark.parametrize(
    ("definition", "kind", "diagnostics"),
    [
        (PASS, "STANDARD", []),
        ("{}", "STANDARD", [("/", "These fields are required: [States, StartAt]")]),
        (
            json.dumps({"States": {"P": {"Type": "Pass", "End": True}}}),
            "EXPRESS",
            [("/", "These fields are required: [StartAt]")],
        ),
        (
            WAIT_FOR_TOKEN,
            "EXPRESS",
            [
                (
                    "/States/T/Resource",
                    "Express state machine does not support '.waitForTaskToken' service "
                    "integration ",
                )
            ],
        ),
    ],
)
def test_validate_state_machine_definition(
    sfn: ServiceContext, definition: str, kind: str, diagnostics: list[tuple[str, str]]
) -> None:
    """AWS-recorded ValidateStateMachineDefinition answers (result, code, location, message)."""
    answer = call(
        sfn,
        "stepfunctions",
        "ValidateStateMachineDefinition",
        {"definition": definition, "type": kind},
    )
    assert answer["result"] == ("FAIL" if diagnostics else "OK")
    assert [(d["location"], d["message"]) for d in answer["diagnostics"]] == diagnostics
    assert {d["code"] for d in answer["diagnostics"]} <= {"SCHEMA_VALIDATION_FAILED"}
    assert answer["truncated"] is False


def test_arns_use_the_lakes_account_and_region(config: LakeConfig) -> None:
    settings = dataclasses.replace(config, account_id="123456789012", region="eu-west-3")
    workflows = WorkflowService(settings, clock=ManualClock(START), stop_poll_seconds=0.05)
    try:
        for kind in ("STANDARD", "EXPRESS"):
            machine = workflows.create_state_machine(kind.lower(), PASS, type=kind)
            assert (
                machine.arn == f"arn:aws:states:eu-west-3:123456789012:stateMachine:{kind.lower()}"
            )
        run = workflows.start_execution("standard", {}, "one")
        assert run.arn == "arn:aws:states:eu-west-3:123456789012:execution:standard:one"
        sync = workflows.start_sync_execution("express", {}, "one")
        assert sync.arn.startswith("arn:aws:states:eu-west-3:123456789012:express:express:one:")
    finally:
        workflows.close()


def test_describe_state_machine_as_aws_answers(sfn: ServiceContext) -> None:
    """AWS-recorded: logging and tracing shown off, no empty description."""
    for kind in ("STANDARD", "EXPRESS"):
        arn = call(
            sfn,
            "stepfunctions",
            "CreateStateMachine",
            {"name": kind.lower(), "definition": PASS, "roleArn": ROLE, "type": kind},
        )["stateMachineArn"]
        described = call(sfn, "stepfunctions", "DescribeStateMachine", {"stateMachineArn": arn})
        assert described["type"] == kind
        assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
        assert described["tracingConfiguration"] == {"enabled": False}
        assert "description" not in described


def test_api_errors_in_aws_words(sfn: ServiceContext) -> None:
    """AWS-recorded answers: execution input, an update with nothing to change, a status
    filter outside the enum, and StartExecution's idempotency for a running execution."""
    sfn.workflows.register_resource("arn:aws:states:::lakebox:callback", lambda p, c: None)
    arn = call(
        sfn,
        "stepfunctions",
        "CreateStateMachine",
        {"name": "m", "definition": WAIT_FOR_TOKEN, "roleArn": ROLE},
    )["stateMachineArn"]
    for given, message in (
        ("", "Invalid State Machine Execution Input: 'Invalid execution input.'"),
        ("not json", "Invalid State Machine Execution Input: '"),
    ):
        with pytest.raises(AwsError) as info:
            dispatch(
                "stepfunctions", "StartExecution", {"stateMachineArn": arn, "input": given}, sfn
            )
        assert info.value.code == "InvalidExecutionInput"
        assert str(info.value).startswith(message)
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "UpdateStateMachine", {"stateMachineArn": arn}, sfn)
    assert info.value.code == "MissingRequiredParameter"
    with pytest.raises(AwsError) as info:
        dispatch(
            "stepfunctions",
            "ListExecutions",
            {"stateMachineArn": arn, "statusFilter": "succeeded"},
            sfn,
        )
    assert (info.value.code, str(info.value)) == (
        "ValidationException",
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, "
        "PENDING_REDRIVE, ABORTED, FAILED, RUNNING]",
    )
    listed = call(
        sfn,
        "stepfunctions",
        "ListExecutions",
        {"stateMachineArn": arn, "statusFilter": "PENDING_REDRIVE"},
    )
    assert listed["executions"] == []
    start = {"stateMachineArn": arn, "name": "once", "input": '{"a": 1}'}
    first = call(sfn, "stepfunctions", "StartExecution", start)
    again = call(sfn, "stepfunctions", "StartExecution", start)
    assert again == first  # idempotent while it runs with the same input
    with pytest.raises(AwsError) as info:
        dispatch("stepfunctions", "StartExecution", {**start, "input": '{"a": 2}'}, sfn)
    assert info.value.code == "ExecutionAlreadyExists"
    call(sfn, "stepfunctions", "StopExecution", {"executionArn": first["executionArn"]})
    assert sfn.workflows.wait_for(first["executionArn"], 30).status == "ABORTED"


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({}, "definition must be a string"),
        ({"definition": {"StartAt": "P"}}, "definition must be a string"),
        ({"definition": PASS, "type": "BATCH"}, "Invalid type 'BATCH'"),
        ({"definition": PASS, "maxResults": 101}, "maxResults must be an integer"),
        ({"definition": PASS, "maxResults": "5"}, "maxResults must be an integer"),
        ({"definition": PASS, "maxResults": True}, "maxResults must be an integer"),
    ],
)
def test_validate_state_machine_definition_rejects_bad_requests(
    sfn: ServiceContext, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(AwsError, match=message) as info:
        dispatch("stepfunctions", "ValidateStateMachineDefinition", request_body, sfn)
    assert info.value.code == "ValidationException"


@pytest.mark.parametrize("definition", ["not json", "[1, 2]", "{" * 5000])
def test_validate_state_machine_definition_reports_what_is_not_a_definition(
    sfn: ServiceContext, definition: str
) -> None:
    answer = call(
        sfn, "stepfunctions", "ValidateStateMachineDefinition", {"definition": definition}
    )
    assert answer["result"] == "FAIL" and answer["diagnostics"]
    assert all("Traceback" not in d["message"] for d in answer["diagnostics"])


def test_validate_state_machine_definition_truncates_at_max_results(sfn: ServiceContext) -> None:
    states = {f"S{i}": {"Type": "Bogus"} for i in range(5)}
    definition = json.dumps({"StartAt": "S0", "States": states})
    answer = call(
        sfn,
        "stepfunctions",
        "ValidateStateMachineDefinition",
        {"definition": definition, "maxResults": 2},
    )
    assert answer["result"] == "FAIL"
    assert len(answer["diagnostics"]) == 2 and answer["truncated"] is True
