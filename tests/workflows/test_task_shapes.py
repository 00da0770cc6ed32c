"""Built-in task results in botocore's output shapes (Lambda Invoke, SNS Publish, S3, nested
Step Functions executions, ECS), and Lambda Invoke's Payload / LogType / InvocationType
handling as the Lambda integration documents it."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import pytest

from lakebox.workflows.service import WorkflowService
from lakebox.workflows.tasks.notify import LogFileSink
from workflows.helpers import Runner, machine
from workflows.shapes import check_history, check_task_output

INVOKE = "arn:aws:states:::lambda:invoke"


def invoke(**params: Any) -> dict[str, Any]:
    return machine({"T": {"Type": "Task", "Resource": INVOKE, "Parameters": params, "End": True}})


@pytest.fixture
def echo(service: WorkflowService) -> list[Any]:
    """An identity function that also records the events it received."""
    seen: list[Any] = []

    def handler(event: Any) -> Any:
        seen.append(event)
        return event

    service.register_function("echo", handler)
    return seen


@pytest.mark.parametrize(
    ("params", "event"),
    [
        ({}, {}),  # no Payload: Lambda receives an empty object
        ({"Payload": None}, {}),  # a null Payload is no payload
        ({"Payload": {"a": 1}}, {"a": 1}),
        ({"Payload": '"HelloWorld"'}, "HelloWorld"),  # text is JSON for Lambda
        ({"Payload": "[1, 2]"}, [1, 2]),
        ({"Payload": 0}, 0),
    ],
)
def test_invoke_payload_as_lambda_receives_it(
    run: Runner, service: WorkflowService, echo: list[Any], params: dict[str, Any], event: Any
) -> None:
    out = run(invoke(FunctionName="echo", **params))
    assert out.status == "SUCCEEDED", out.cause
    assert echo == [event]
    assert out.output["Payload"] == event
    assert (out.output["StatusCode"], out.output["ExecutedVersion"]) == (200, "$LATEST")
    assert "LogResult" not in out.output
    assert check_history(service, out.arn) == 1


def test_invoke_payload_that_is_not_json_is_refused_as_lambda_does(
    run: Runner, echo: list[Any]
) -> None:
    out = run(invoke(FunctionName="echo", Payload="not json"))
    assert (out.status, out.error) == ("FAILED", "Lambda.InvalidRequestContentException")
    assert echo == []


def test_invoke_log_type_tail_returns_the_log_in_base64(
    run: Runner, service: WorkflowService, echo: list[Any]
) -> None:
    out = run(invoke(FunctionName="echo", Payload=None, LogType="Tail"))
    log = base64.b64decode(out.output["LogResult"]).decode()
    request_id = out.output["SdkResponseMetadata"]["RequestId"]
    assert log.startswith(f"START RequestId: {request_id} Version: $LATEST\n")
    assert f"REPORT RequestId: {request_id}\tDuration: " in log
    headers = out.output["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["X-Amz-Log-Result"] == out.output["LogResult"]
    assert check_history(service, out.arn) == 1


@pytest.mark.parametrize(
    ("kind", "status", "runs"), [("Event", 202, 1), ("DryRun", 204, 0), ("RequestResponse", 200, 1)]
)
def test_invocation_types(
    run: Runner, service: WorkflowService, echo: list[Any], kind: str, status: int, runs: int
) -> None:
    out = run(invoke(FunctionName="echo", Payload={"x": 1}, InvocationType=kind))
    assert out.output["StatusCode"] == status
    assert out.output["SdkHttpMetadata"]["HttpStatusCode"] == status
    assert len(echo) == runs
    assert check_history(service, out.arn) == 1


def test_invoke_bad_parameters(run: Runner, echo: list[Any]) -> None:
    for params in ({"InvocationType": "Later"}, {"LogType": "Full"}):
        out = run(invoke(FunctionName="echo", **params))
        assert (out.status, out.error) == ("FAILED", "Lambda.InvalidParameterValueException")
    dry = run(invoke(FunctionName="nobody", InvocationType="DryRun"))
    assert (dry.status, dry.error) == ("FAILED", "Lambda.ResourceNotFoundException")


def test_sns_publish_shape(run: Runner, service: WorkflowService, tmp_path: Path) -> None:
    service.register_topic("alerts", LogFileSink(tmp_path / "n.jsonl"))
    out = run(
        machine(
            {
                "N": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": "alerts", "Message": "hi"},
                    "End": True,
                }
            }
        )
    )
    assert out.status == "SUCCEEDED"
    assert check_history(service, out.arn) == 1
    # AWS-recorded: an optimised integration's answer carries the HTTP metadata
    metadata = out.output["SdkHttpMetadata"]
    assert (metadata["HttpStatusCode"], metadata["HttpHeaders"]["Content-Type"]) == (
        200,
        "text/xml",
    )
    assert out.output["SdkResponseMetadata"]["RequestId"]


def test_s3_sdk_shapes(run: Runner, service: WorkflowService) -> None:
    def call(action: str, **params: Any) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:s3:{action}",
            "Parameters": {"Bucket": "b", **params},
            "ResultPath": f"$.{action}",
        }

    states = {
        "Put": {**call("putObject", Key="k", Body="hello"), "Next": "Head"},
        "Head": {**call("headObject", Key="k"), "Next": "Get"},
        "Get": {**call("getObject", Key="k"), "Next": "Copy"},
        "Copy": {**call("copyObject", Key="k2", CopySource="b/k"), "Next": "List"},
        "List": {**call("listObjectsV2"), "Next": "Delete"},
        "Delete": {**call("deleteObject", Key="k2"), "End": True},
    }
    out = run(machine(states))
    assert out.status == "SUCCEEDED", out.cause
    assert check_history(service, out.arn) == 6


@pytest.mark.parametrize("suffix", ["", ".sync", ".sync:2"])
def test_nested_execution_shapes(run: Runner, service: WorkflowService, suffix: str) -> None:
    service.create_state_machine("child", machine({"C": {"Type": "Pass", "End": True}}))
    out = run(
        machine(
            {
                "S": {
                    "Type": "Task",
                    "Resource": f"arn:aws:states:::states:startExecution{suffix}",
                    "Parameters": {
                        "StateMachineArn": service.state_machine_arn("child"),
                        "Input": {"n": 1},
                    },
                    "End": True,
                }
            }
        )
    )
    assert out.status == "SUCCEEDED", out.cause
    assert check_history(service, out.arn) == 1
    if not suffix:  # the request-response answer: StartExecution's, with HTTP metadata
        assert set(out.output) == {
            "ExecutionArn",
            "StartDate",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
        }


def test_ecs_run_task_sync_shape(run: Runner, service: WorkflowService) -> None:
    service.register_command("etl", [sys.executable, "-c", "print('ok')"])
    out = run(
        machine(
            {
                "R": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::ecs:runTask.sync",
                    "Parameters": {"Cluster": "lake", "TaskDefinition": "etl"},
                    "End": True,
                }
            }
        )
    )
    assert out.status == "SUCCEEDED", out.cause
    # lakebox adds each container's output as ``Stdout`` / ``Stderr`` (not ECS members)
    for container in out.output["Containers"]:
        container.pop("Stdout", None)
        container.pop("Stderr", None)
    assert check_task_output("ecs", "runTask.sync", out.output)


def test_shape_check_catches_a_wrong_member() -> None:
    with pytest.raises(AssertionError, match="not a member of InvocationResponse"):
        check_task_output("lambda", "invoke", {"StatusCode": 200, "Bogus": 1})
    with pytest.raises(AssertionError, match="is not a integer"):
        check_task_output("lambda", "invoke", {"StatusCode": "200"})


def test_function_error_causes_as_aws_records_them(run: Runner, service: WorkflowService) -> None:
    """AWS-recorded: ``lambda:invoke`` reports the function's error as JSON without blanks,
    a plain function ARN with the Python runtime's spacing."""

    def fails(event: Any) -> Any:
        raise ValueError("Some exception was raised.")

    service.register_function("fails", fails)
    optimised = run(invoke(FunctionName="fails", Payload=None))
    assert (optimised.status, optimised.error) == ("FAILED", "ValueError")
    assert optimised.cause is not None
    assert optimised.cause.startswith('{"errorMessage":"Some exception was raised.","errorType"')
    plain = run(
        machine(
            {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:fails",
                    "End": True,
                }
            }
        )
    )
    assert plain.cause is not None
    assert plain.cause.startswith('{"errorMessage": "Some exception was raised.", "errorType"')
    missing = run(invoke(FunctionName="nobody"))
    assert missing.cause is not None
    assert ":function:nobody:$LATEST (Service: AWSLambda; Status Code: 404;" in missing.cause
