"""The eight state types, input/output processing, errors, Retry and Catch."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from lakebox.workflows.tasks.registry import TaskContext
from workflows.helpers import START, Runner, machine

FN = "arn:aws:lambda:us-east-1:123456789012:function:"


def task(name: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FN + name, **fields}


# ----------------------------------------------------------------------------- Pass


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Result": {"x": 1}}, {"x": 1}),
        ({"Result": {"x": 1}, "ResultPath": "$.r"}, {"a": 1, "r": {"x": 1}}),
        ({"Result": {"x": 1}, "ResultPath": "$.deep.er"}, {"a": 1, "deep": {"er": {"x": 1}}}),
        ({"Result": {"x": 1}, "ResultPath": None}, {"a": 1}),
        ({"Result": {"x": 1}, "ResultPath": "$.r", "OutputPath": "$.r"}, {"x": 1}),
        ({"OutputPath": None}, {}),
        ({"InputPath": "$.a"}, 1),
        ({"InputPath": None}, {}),
        ({"InputPath": None, "ResultPath": "$.r"}, {"a": 1, "r": {}}),
        ({"Parameters": {"b.$": "$.a", "c": "lit"}}, {"b": 1, "c": "lit"}),
        ({"Parameters": {"name.$": "$$.State.Name"}}, {"name": "P"}),
        ({"Parameters": {"n.$": "States.MathAdd($.a, 41)"}}, {"n": 42}),
    ],
)
def test_pass_processing(run: Runner, fields: dict[str, Any], expected: Any) -> None:
    out = run(machine({"P": {"Type": "Pass", "End": True, **fields}}), {"a": 1})
    assert out.status == "SUCCEEDED"
    assert out.output == expected


def test_result_path_into_scalar_fails_with_result_path_match_failure(run: Runner) -> None:
    out = run(
        machine({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}}), {"a": 5}
    )
    assert out.status == "FAILED"
    assert out.error == "States.ResultPathMatchFailure"


def test_missing_input_path_is_runtime_error(run: Runner) -> None:
    out = run(machine({"P": {"Type": "Pass", "InputPath": "$.nope", "End": True}}), {"a": 1})
    assert (out.status, out.error) == ("FAILED", "States.Runtime")
    assert "$.nope" in (out.cause or "")


def test_parameters_path_not_found_is_runtime_error(run: Runner) -> None:
    out = run(machine({"P": {"Type": "Pass", "Parameters": {"x.$": "$.missing"}, "End": True}}))
    assert out.error == "States.Runtime"
    assert "x.$" in (out.cause or "")


def test_context_object_fields(run: Runner, service: WorkflowService) -> None:
    definition = machine(
        {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "id.$": "$$.Execution.Id",
                    "name.$": "$$.Execution.Name",
                    "input.$": "$$.Execution.Input",
                    "sm.$": "$$.StateMachine.Name",
                    "entered.$": "$$.State.EnteredTime",
                    "start.$": "$$.Execution.StartTime",
                },
                "End": True,
            }
        }
    )
    service.create_state_machine("ctx", definition)
    out = service.start_execution("ctx", {"k": "v"}, name="run-1")
    assert out.output == {
        "id": out.arn,
        "name": "run-1",
        "input": {"k": "v"},
        "sm": "ctx",
        "entered": "2024-03-01T12:00:00.000Z",
        "start": "2024-03-01T12:00:00.000Z",
    }


# ----------------------------------------------------------------------------- Task


def test_task_processing_order(run: Runner, service: WorkflowService) -> None:
    seen: list[Any] = []

    def echo(event: Any) -> Any:
        seen.append(event)
        return {"got": event, "extra": 1}

    service.register_function("echo", echo)
    state = task(
        "echo",
        InputPath="$.in",
        Parameters={"p.$": "$.v"},
        ResultSelector={"sel.$": "$.got.p"},
        ResultPath="$.res",
        OutputPath="$.res",
        End=True,
    )
    out = run(machine({"T": state}), {"in": {"v": 7}, "other": 0})
    assert seen == [{"p": 7}]
    assert out.output == {"sel": 7}


def test_task_result_path_combines_with_raw_input(run: Runner, service: WorkflowService) -> None:
    service.register_function("one", lambda e: 1)
    out = run(
        machine({"T": task("one", InputPath="$.a", ResultPath="$.r", End=True)}),
        {"a": {"x": 1}, "b": 2},
    )
    assert out.output == {"a": {"x": 1}, "b": 2, "r": 1}


def test_lambda_invoke_wraps_payload(run: Runner, service: WorkflowService) -> None:
    service.register_function(
        "add", lambda e, ctx: {"sum": e["a"] + e["b"], "fn": ctx.function_name}
    )
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": FN + "add:$LATEST", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "End": True,
    }
    out = run(machine({"T": state}), {"a": 2, "b": 3})
    assert out.output == {"sum": 5, "fn": "add"}


def test_function_exception_becomes_error_named_after_class(
    run: Runner, service: WorkflowService
) -> None:
    class CustomError(Exception):
        pass

    def boom(event: Any) -> Any:
        raise CustomError("it broke")

    service.register_function("boom", boom)
    out = run(machine({"T": task("boom", End=True)}))
    assert out.status == "FAILED"
    assert out.error == "CustomError"
    assert json.loads(out.cause or "{}")["errorMessage"] == "it broke"
    types = run.types(out)
    assert types[-3:] == ["LambdaFunctionStarted", "LambdaFunctionFailed", "ExecutionFailed"]


def test_unknown_function_fails_with_resource_not_found(run: Runner) -> None:
    out = run(machine({"T": task("ghost", End=True)}))
    assert out.error == "Lambda.ResourceNotFoundException"


class Flaky:
    def __init__(self, failures: int, error: type[Exception] = RuntimeError) -> None:
        self.failures = failures
        self.calls = 0
        self.error = error

    def __call__(self, event: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return {"calls": self.calls}


@pytest.mark.parametrize(
    ("retrier", "failures", "sleeps", "status"),
    [
        ({"ErrorEquals": ["RuntimeError"]}, 2, [1.0, 2.0], "SUCCEEDED"),
        ({"ErrorEquals": ["RuntimeError"]}, 3, [1.0, 2.0, 4.0], "SUCCEEDED"),
        ({"ErrorEquals": ["RuntimeError"]}, 4, [1.0, 2.0, 4.0], "FAILED"),
        (
            {
                "ErrorEquals": ["RuntimeError"],
                "IntervalSeconds": 3,
                "BackoffRate": 1.5,
                "MaxAttempts": 2,
            },
            2,
            [3.0, 4.5],
            "SUCCEEDED",
        ),
        (
            {
                "ErrorEquals": ["RuntimeError"],
                "IntervalSeconds": 10,
                "MaxDelaySeconds": 15,
                "MaxAttempts": 4,
            },
            4,
            [10.0, 15.0, 15.0, 15.0],
            "SUCCEEDED",
        ),
        ({"ErrorEquals": ["RuntimeError"], "MaxAttempts": 0}, 1, [], "FAILED"),
        ({"ErrorEquals": ["States.ALL"]}, 1, [1.0], "SUCCEEDED"),
        ({"ErrorEquals": ["States.TaskFailed"]}, 1, [1.0], "SUCCEEDED"),
        ({"ErrorEquals": ["ValueError"]}, 1, [], "FAILED"),
    ],
)
def test_retry_backoff(
    run: Runner,
    service: WorkflowService,
    clock: ManualClock,
    retrier: dict[str, Any],
    failures: int,
    sleeps: list[float],
    status: str,
) -> None:
    service.register_function("flaky", Flaky(failures))
    out = run(machine({"T": task("flaky", Retry=[retrier], End=True)}))
    assert out.status == status
    assert clock.slept == sleeps


def test_full_jitter_stays_below_the_backoff(
    run: Runner, service: WorkflowService, clock: ManualClock
) -> None:
    service.register_function("flaky", Flaky(3))
    retrier = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "JitterStrategy": "FULL"}
    out = run(machine({"T": task("flaky", Retry=[retrier], End=True)}))
    assert out.status == "SUCCEEDED"
    assert len(clock.slept) == 3
    for slept, cap in zip(clock.slept, [4, 8, 16], strict=True):
        assert 0 <= slept <= cap


def test_each_retrier_counts_its_own_attempts(run: Runner, service: WorkflowService) -> None:
    calls: list[str] = []

    def alternate(event: Any) -> Any:
        calls.append("x")
        if len(calls) <= 4:
            raise (KeyError if len(calls) % 2 else ValueError)("again")
        return len(calls)

    service.register_function("alt", alternate)
    retry = [
        {"ErrorEquals": ["KeyError"], "MaxAttempts": 2, "IntervalSeconds": 1},
        {"ErrorEquals": ["ValueError"], "MaxAttempts": 2, "IntervalSeconds": 1},
    ]
    out = run(machine({"T": task("alt", Retry=retry, End=True)}))
    assert (out.status, out.output) == ("SUCCEEDED", 5)


def test_retry_count_in_context(run: Runner, service: WorkflowService) -> None:
    seen: list[int] = []

    def record(event: Any) -> Any:
        seen.append(event["retry"])
        if len(seen) < 3:
            raise RuntimeError("again")
        return "ok"

    service.register_function("rec", record)
    state = task(
        "rec",
        Parameters={"retry.$": "$$.State.RetryCount"},
        Retry=[{"ErrorEquals": ["States.ALL"]}],
        End=True,
    )
    assert run(machine({"T": state})).status == "SUCCEEDED"
    assert seen == [0, 1, 2]


@pytest.mark.parametrize(
    ("catcher", "expected"),
    [
        (
            {"ErrorEquals": ["RuntimeError"], "Next": "H"},
            {"Error": "RuntimeError", "Cause": "failure 1"},
        ),
        (
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "H"},
            {"keep": 1, "err": {"Error": "RuntimeError", "Cause": "failure 1"}},
        ),
        ({"ErrorEquals": ["States.TaskFailed"], "ResultPath": None, "Next": "H"}, {"keep": 1}),
    ],
)
def test_catch(
    run: Runner, service: WorkflowService, catcher: dict[str, Any], expected: Any
) -> None:
    service.register_function("f", Flaky(5))
    definition = machine(
        {"T": task("f", Catch=[catcher], End=True), "H": {"Type": "Pass", "End": True}}
    )
    out = run(definition, {"keep": 1})
    assert out.status == "SUCCEEDED"
    cause = out.output.get("Cause") or out.output.get("err", {}).get("Cause")
    if cause is not None:
        assert json.loads(cause)["errorMessage"] == "failure 1"
        expected = json.loads(json.dumps(expected).replace('"failure 1"', json.dumps(cause)))
    assert out.output == expected


def test_retry_then_catch(run: Runner, service: WorkflowService, clock: ManualClock) -> None:
    flaky = Flaky(10)
    service.register_function("f", flaky)
    definition = machine(
        {
            "T": task(
                "f",
                Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}],
                End=True,
            ),
            "H": {"Type": "Pass", "Result": "handled", "End": True},
        }
    )
    out = run(definition)
    assert (out.output, flaky.calls, clock.slept) == ("handled", 3, [1.0, 2.0])


def test_catch_first_matching_catcher_wins(run: Runner, service: WorkflowService) -> None:
    service.register_function("f", Flaky(1, ValueError))
    definition = machine(
        {
            "T": task(
                "f",
                Catch=[
                    {"ErrorEquals": ["KeyError"], "Next": "A"},
                    {"ErrorEquals": ["ValueError", "KeyError"], "Next": "B"},
                    {"ErrorEquals": ["States.ALL"], "Next": "A"},
                ],
                End=True,
            ),
            "A": {"Type": "Pass", "Result": "A", "End": True},
            "B": {"Type": "Pass", "Result": "B", "End": True},
        }
    )
    assert run(definition).output == "B"


def test_states_all_does_not_catch_runtime_errors(run: Runner) -> None:
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "x", "Payload.$": "$.missing"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
                "End": True,
            },
            "H": {"Type": "Pass", "End": True},
        }
    )
    out = run(definition)
    assert (out.status, out.error) == ("FAILED", "States.Runtime")


def test_task_timeout_with_manual_clock(run: Runner, service: WorkflowService) -> None:
    def slow(event: Any, ctx: Any) -> Any:
        return "late"

    def sleeper(params: Any, ctx: TaskContext) -> Any:
        ctx.sleep(30)
        return "late"

    service.register_resource("arn:aws:states:::lakebox:sleep", sleeper)
    definition = machine(
        {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lakebox:sleep",
                "TimeoutSeconds": 10,
                "Catch": [
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                    {"ErrorEquals": ["States.Timeout"], "Next": "Timed"},
                ],
                "End": True,
            },
            "Wrong": {"Type": "Pass", "Result": "wrong", "End": True},
            "Timed": {"Type": "Pass", "Result": "timed out", "End": True},
        }
    )
    out = run(definition)
    assert out.output == "timed out"
    assert "TaskTimedOut" in run.types(out)


def test_heartbeat_timeout(run: Runner, service: WorkflowService) -> None:
    def worker(params: Any, ctx: TaskContext) -> Any:
        for pause in params["pauses"]:
            ctx.sleep(pause)
            ctx.heartbeat()
        return "done"

    service.register_resource("arn:aws:states:::lakebox:work", worker)
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lakebox:work",
        "TimeoutSeconds": 100,
        "HeartbeatSeconds": 10,
        "End": True,
    }
    ok = run(machine({"T": state}), {"pauses": [5, 9, 9]})
    late = run(machine({"T": state}), {"pauses": [5, 11]})
    assert ok.status == "SUCCEEDED"
    assert (late.status, late.error) == ("FAILED", "States.HeartbeatTimeout")


def test_timeout_seconds_path(run: Runner, service: WorkflowService) -> None:
    service.register_resource(
        "arn:aws:states:::lakebox:sleep", lambda p, ctx: ctx.sleep(p["s"]) or "ok"
    )
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lakebox:sleep",
        "TimeoutSecondsPath": "$.limit",
        "End": True,
    }
    assert run(machine({"T": state}), {"s": 5, "limit": 10}).status == "SUCCEEDED"
    assert run(machine({"T": state}), {"s": 50, "limit": 10}).error == "States.Timeout"


def test_task_timeout_has_no_cause(run: Runner, service: WorkflowService) -> None:
    """AWS records a task timeout with the error alone: no cause in TaskTimedOut,
    ExecutionFailed or DescribeExecution, and an empty Cause in a catcher's error output."""
    service.register_resource(
        "arn:aws:states:::lakebox:sleep", lambda p, ctx: ctx.sleep(p["s"]) or "ok"
    )
    task = {"Type": "Task", "Resource": "arn:aws:states:::lakebox:sleep", "TimeoutSeconds": 2}
    out = run(machine({"T": {**task, "End": True}}), {"s": 5})
    described = out.to_aws()
    assert (described["error"], "cause" in described) == ("States.Timeout", False)
    events = {e["type"]: e for e in run.history(out)}
    assert events["TaskTimedOut"]["taskTimedOutEventDetails"].keys() == {
        "error",
        "resource",
        "resourceType",
    }
    assert events["ExecutionFailed"]["executionFailedEventDetails"] == {"error": "States.Timeout"}
    caught = run(
        machine(
            {
                "T": {**task, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": True},
                "H": {"Type": "Pass", "End": True},
            }
        ),
        {"s": 5},
    )
    assert caught.output == {"Error": "States.Timeout", "Cause": ""}


# ----------------------------------------------------------------------------- Choice


def test_choice_routes_and_default(run: Runner) -> None:
    definition = machine(
        {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                    {
                        "And": [
                            {"Variable": "$.n", "NumericGreaterThanEquals": 0},
                            {"Not": {"Variable": "$.n", "NumericEquals": 5}},
                        ],
                        "Next": "Small",
                    },
                ],
                "Default": "Other",
            },
            "Big": {"Type": "Pass", "Result": "big", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "End": True},
            "Other": {"Type": "Pass", "Result": "other", "End": True},
        }
    )
    assert [run(definition, {"n": n}).output for n in (11, 3, 5, -1)] == [
        "big",
        "small",
        "other",
        "other",
    ]


def test_choice_without_match_fails_no_choice_matched(run: Runner) -> None:
    definition = machine(
        {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}],
            },
            "A": {"Type": "Succeed"},
        }
    )
    out = run(definition, {"n": 2})
    assert (out.status, out.error) == ("FAILED", "States.NoChoiceMatched")


def test_choice_missing_variable_is_runtime_error(run: Runner) -> None:
    definition = machine(
        {
            "C": {
                "Type": "Choice",
                "Default": "A",
                "Choices": [{"Variable": "$.nope", "StringEquals": "x", "Next": "A"}],
            },
            "A": {"Type": "Succeed"},
        }
    )
    assert run(definition, {}).error == "States.Runtime"


def test_choice_input_and_output_path(run: Runner) -> None:
    definition = machine(
        {
            "C": {
                "Type": "Choice",
                "InputPath": "$.sub",
                "OutputPath": "$.v",
                "Choices": [{"Variable": "$.v", "StringEquals": "x", "Next": "A"}],
            },
            "A": {"Type": "Succeed"},
        }
    )
    assert run(definition, {"sub": {"v": "x"}}).output == "x"


# ----------------------------------------------------------------------------- Wait


@pytest.mark.parametrize(
    ("state", "input", "slept"),
    [
        ({"Seconds": 30}, {}, [30.0]),
        ({"Seconds": 0}, {}, []),
        ({"SecondsPath": "$.s"}, {"s": 12}, [12.0]),
        ({"Timestamp": "2024-03-01T12:05:00Z"}, {}, [300.0]),
        ({"TimestampPath": "$.t"}, {"t": "2024-03-01T13:00:00+01:00"}, []),
        ({"TimestampPath": "$.t"}, {"t": "2024-03-01T12:00:01.500Z"}, [1.5]),
        ({"Timestamp": "2020-01-01T00:00:00Z"}, {}, []),
    ],
)
def test_wait(
    run: Runner, clock: ManualClock, state: dict[str, Any], input: Any, slept: list[float]
) -> None:
    out = run(machine({"W": {"Type": "Wait", "End": True, **state}}), input)
    assert out.status == "SUCCEEDED"
    assert out.output == input
    assert [s for s in clock.slept if s > 0] == slept


@pytest.mark.parametrize("value", [-1, "ten", None])
def test_wait_seconds_path_must_be_a_non_negative_number(run: Runner, value: Any) -> None:
    out = run(machine({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}), {"s": value})
    assert out.error == "States.Runtime"


@pytest.mark.parametrize("field", ["SecondsPath", "TimestampPath"])
def test_wait_path_that_finds_nothing_fails_naming_it(run: Runner, field: str) -> None:
    out = run(machine({"W": {"Type": "Wait", field: "$.missing", "End": True}}), {"s": 1})
    assert out.error == "States.Runtime"
    assert (out.cause or "").endswith(
        f"The {field} parameter does not reference an input value: $.missing"
    )


def test_wait_timestamp_path_rejects_lowercase_t(run: Runner) -> None:
    out = run(
        machine({"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}}),
        {"t": "2024-03-01t12:00:00Z"},
    )
    assert out.error == "States.Runtime"


# ----------------------------------------------------------------------------- Succeed / Fail


def test_succeed_paths(run: Runner) -> None:
    out = run(
        machine({"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}),
        {"a": {"b": 3}},
    )
    assert out.output == 3


@pytest.mark.parametrize(
    ("state", "error", "cause"),
    [
        ({"Error": "MyError", "Cause": "because"}, "MyError", "because"),
        ({"ErrorPath": "$.e", "CausePath": "$.c"}, "FromInput", "input cause"),
        ({"ErrorPath": "States.Format('E{}', $.n)", "Cause": "x"}, "E7", "x"),
        ({}, "", ""),
    ],
)
def test_fail(run: Runner, state: dict[str, Any], error: str, cause: str) -> None:
    out = run(
        machine({"F": {"Type": "Fail", **state}}), {"e": "FromInput", "c": "input cause", "n": 7}
    )
    assert (out.status, out.error or "", out.cause or "") == ("FAILED", error, cause)
    assert run.types(out)[-2:] == ["FailStateEntered", "ExecutionFailed"]


# ----------------------------------------------------------------------------- Parallel


def test_parallel_collects_branch_outputs_in_order(run: Runner) -> None:
    definition = machine(
        {
            "P": {
                "Type": "Parallel",
                "ResultPath": "$.out",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "A",
                        "States": {
                            "A": {"Type": "Wait", "Seconds": 5, "Next": "A2"},
                            "A2": {"Type": "Pass", "Result": "a", "End": True},
                        },
                    },
                    {
                        "StartAt": "B",
                        "States": {"B": {"Type": "Pass", "InputPath": "$.x", "End": True}},
                    },
                ],
            }
        }
    )
    out = run(definition, {"x": 1})
    assert out.output == {"x": 1, "out": ["a", 1]}
    types = run.types(out)
    assert types.index("ParallelStateStarted") < types.index("ParallelStateSucceeded")


def test_parallel_branch_failure_is_catchable_by_name(run: Runner) -> None:
    definition = machine(
        {
            "P": {
                "Type": "Parallel",
                "End": True,
                "Catch": [{"ErrorEquals": ["BranchBroke"], "ResultPath": "$.e", "Next": "H"}],
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "BranchBroke"}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
            },
            "H": {"Type": "Pass", "OutputPath": "$.e.Error", "End": True},
        }
    )
    assert run(definition, {}).output == "BranchBroke"


def test_parallel_result_selector(run: Runner) -> None:
    definition = machine(
        {
            "P": {
                "Type": "Parallel",
                "End": True,
                "ResultSelector": {"first.$": "$[0]", "n.$": "States.ArrayLength($)"},
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": True}}},
                ],
            }
        }
    )
    assert run(definition).output == {"first": 1, "n": 2}


# ----------------------------------------------------------------------------- Map


def _iterator(state: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "I", "States": {"I": state}}


@pytest.mark.parametrize("key", ["ItemProcessor", "Iterator"])
def test_map_items_path_and_selector(run: Runner, key: str) -> None:
    selector = "ItemSelector" if key == "ItemProcessor" else "Parameters"
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ResultPath": "$.results",
                "End": True,
                selector: {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
                key: _iterator(
                    {
                        "Type": "Pass",
                        "Parameters": {"s.$": "States.Format('{}:{}:{}', $.i, $.v, $.k)"},
                        "End": True,
                    }
                ),
            }
        }
    )
    out = run(definition, {"items": ["a", "b"], "k": "K"})
    assert out.output["results"] == [{"s": "0:a:K"}, {"s": "1:b:K"}]


@pytest.mark.parametrize("concurrency", [0, 1, 2])
def test_map_concurrency_keeps_order(run: Runner, concurrency: int) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "MaxConcurrency": concurrency,
                "End": True,
                "ItemProcessor": {
                    "StartAt": "W",
                    "States": {
                        "W": {"Type": "Wait", "SecondsPath": "$.w", "Next": "P"},
                        "P": {"Type": "Pass", "InputPath": "$.id", "End": True},
                    },
                },
            }
        }
    )
    items = [{"id": i, "w": (5 - i) % 3} for i in range(6)]
    out = run(definition, items)
    assert out.output == list(range(6))
    types = run.types(out)
    assert types.count("MapIterationStarted") == 6
    assert types.count("MapIterationSucceeded") == 6


def test_map_failure_fails_the_state(run: Runner) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": _iterator(
                    {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "Bad"}],
                        "Default": "Ok",
                    }
                )
                | {
                    "States": {
                        "I": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 3, "Next": "Bad"}],
                            "Default": "Ok",
                        },
                        "Bad": {"Type": "Fail", "Error": "Three"},
                        "Ok": {"Type": "Succeed"},
                    }
                },
            }
        }
    )
    out = run(definition, [1, 2, 3, 4])
    assert (out.status, out.error) == ("FAILED", "Three")


@pytest.mark.parametrize(
    ("tolerance", "status", "error"),
    [
        ({"ToleratedFailureCount": 2}, "SUCCEEDED", None),
        ({"ToleratedFailureCount": 1}, "FAILED", "States.ExceedToleratedFailureThreshold"),
        ({"ToleratedFailurePercentage": 50}, "SUCCEEDED", None),
        ({"ToleratedFailurePercentage": 25}, "FAILED", "States.ExceedToleratedFailureThreshold"),
        (
            {"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 25},
            "FAILED",
            "States.ExceedToleratedFailureThreshold",
        ),
        (
            {"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 90},
            "FAILED",
            "States.ExceedToleratedFailureThreshold",
        ),
        ({"ToleratedFailureCount": 2, "ToleratedFailurePercentage": 50}, "SUCCEEDED", None),
    ],
)
def test_map_tolerated_failures(
    run: Runner, tolerance: dict[str, Any], status: str, error: str | None
) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                **tolerance,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "I",
                    "States": {
                        "I": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "Bad"}],
                            "Default": "Ok",
                        },
                        "Bad": {"Type": "Fail", "Error": "TooBig", "Cause": "big"},
                        "Ok": {"Type": "Pass", "End": True},
                    },
                },
            }
        }
    )
    out = run(definition, [1, 2, 3, 4])
    assert (out.status, out.error) == (status, error)
    if status == "SUCCEEDED":
        assert out.output == [
            1,
            2,
            {"Error": "TooBig", "Cause": "big"},
            {"Error": "TooBig", "Cause": "big"},
        ]
    assert "MapRunStarted" in run.types(out)


def test_map_item_batcher(run: Runner) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag": "t"}},
                "ItemProcessor": _iterator({"Type": "Pass", "End": True}),
            }
        }
    )
    out = run(definition, [1, 2, 3])
    assert out.output == [
        {"Items": [1, 2], "BatchInput": {"tag": "t"}},
        {"Items": [3], "BatchInput": {"tag": "t"}},
    ]


def test_map_over_a_scalar_is_runtime_error(run: Runner) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.x",
                "End": True,
                "ItemProcessor": _iterator({"Type": "Pass", "End": True}),
            }
        }
    )
    assert run(definition, {"x": 5}).error == "States.Runtime"


def test_map_over_an_object_runs_once_per_key_value_pair(run: Runner) -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.servers",
                "End": True,
                "ItemSelector": {"k.$": "$$.Map.Item.Key", "port.$": "$$.Map.Item.Value.port"},
                "ItemProcessor": _iterator({"Type": "Pass", "End": True}),
            }
        }
    )
    out = run(definition, {"servers": {"web": {"port": 80}, "db": {"port": 5432}}})
    assert out.output == [{"k": "web", "port": 80}, {"k": "db", "port": 5432}]


def test_map_retry_reruns_the_whole_map(run: Runner, service: WorkflowService) -> None:
    flaky = Flaky(1)
    service.register_function("f", flaky)
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "End": True,
                "Retry": [{"ErrorEquals": ["RuntimeError"]}],
                "ItemProcessor": _iterator(task("f", End=True)),
            }
        }
    )
    out = run(definition, [1, 2])
    assert out.status == "SUCCEEDED"
    assert flaky.calls >= 3


# ----------------------------------------------------------------------------- execution


def test_execution_timeout(run: Runner) -> None:
    definition = machine({"W": {"Type": "Wait", "Seconds": 100, "End": True}}, TimeoutSeconds=60)
    out = run(definition)
    assert (out.status, out.error) == ("TIMED_OUT", "States.Timeout")
    assert run.types(out)[-2:] == ["WaitStateAborted", "ExecutionTimedOut"]


def test_variables_assign_and_read_jsonpath(run: Runner) -> None:
    definition = machine(
        {
            "A": {
                "Type": "Pass",
                "Result": {"v": 5},
                "Assign": {"saved.$": "$.v", "lit": "x"},
                "Next": "B",
            },
            "B": {"Type": "Pass", "Result": "ignored", "Next": "C"},
            "C": {"Type": "Pass", "Parameters": {"s.$": "$saved", "l.$": "$lit"}, "End": True},
        }
    )
    assert run(definition).output == {"s": 5, "l": "x"}


def test_variables_in_choice_and_map_scope(run: Runner) -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Assign": {"limit": 2}, "Next": "M"},
            "M": {
                "Type": "Map",
                "Next": "C",
                "ItemProcessor": _iterator(
                    {
                        "Type": "Pass",
                        "Parameters": {"over.$": "States.MathAdd($, 0)", "lim.$": "$limit"},
                        "End": True,
                    }
                ),
            },
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$limit", "NumericEquals": 2, "Next": "Yes"}],
                "Default": "No",
            },
            "Yes": {"Type": "Pass", "Result": "yes", "End": True},
            "No": {"Type": "Pass", "Result": "no", "End": True},
        }
    )
    out = run(definition, [1, 2])
    assert out.output == "yes"


def test_history_shape(run: Runner) -> None:
    out = run(machine({"P": {"Type": "Pass", "Next": "S"}, "S": {"Type": "Succeed"}}), {"a": 1})
    history = run.history(out)
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history] == [1, 2, 3, 4, 5, 6]
    assert [e["previousEventId"] for e in history] == [0, 1, 2, 3, 4, 5]
    assert json.loads(history[0]["executionStartedEventDetails"]["input"]) == {"a": 1}
    assert history[1]["stateEnteredEventDetails"]["name"] == "P"
    assert json.loads(history[-1]["executionSucceededEventDetails"]["output"]) == {"a": 1}


def test_task_history_events(run: Runner, service: WorkflowService) -> None:
    service.register_function("one", lambda e: 1)
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "one"},
        "End": True,
    }
    out = run(machine({"T": state}))
    history = run.history(out)
    types = [e["type"] for e in history]
    assert types[1:6] == [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    scheduled = history[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "one"}


def test_wait_timestamps_in_history_follow_the_clock(run: Runner) -> None:
    out = run(machine({"W": {"Type": "Wait", "Seconds": 90, "End": True}}))
    history = run.history(out)
    assert history[1]["timestamp"] == START.isoformat()
    assert history[-1]["timestamp"] == (START + timedelta(seconds=90)).isoformat()


@pytest.mark.parametrize(
    ("names", "error", "matches"),
    [
        (["States.ALL"], "Anything", True),
        (["States.ALL"], "States.Runtime", False),
        # the guide calls it terminal, but AWS's recorded executions show a Task's oversized
        # result caught by States.ALL (a state's own output is checked after Catch, so that
        # one still ends the execution)
        (["States.ALL"], "States.DataLimitExceeded", True),
        (["States.TaskFailed"], "Lambda.Unknown", True),
        (["States.TaskFailed"], "States.Timeout", False),
        (["States.TaskFailed"], "States.HeartbeatTimeout", False),
        (["States.Timeout"], "States.HeartbeatTimeout", True),
        (["States.Timeout"], "States.TaskFailed", False),
        (["States.HeartbeatTimeout"], "States.Timeout", False),
        (["A", "B"], "B", True),
        (["A", "B"], "C", False),
        (["States.Runtime"], "States.Runtime", False),
    ],
)
def test_error_matching_rules(names: list[str], error: str, matches: bool) -> None:
    from lakebox.workflows.asl.interpreter import error_matches

    assert error_matches(names, error) is matches
