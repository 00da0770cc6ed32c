"""JSONata states: Arguments, Output, Assign, Condition, Items, $states and AWS's functions."""

from __future__ import annotations

from typing import Any

import pytest

from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from workflows.helpers import Runner, machine


def jsonata(states: dict[str, Any]) -> dict[str, Any]:
    return machine(states, QueryLanguage="JSONata")


def test_task_arguments_output_and_assign(run: Runner, service: WorkflowService) -> None:
    service.register_function("price", lambda e: {"total": e["qty"] * e["unit"]})
    definition = jsonata(
        {
            "Price": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {
                    "FunctionName": "price",
                    "Payload": {"qty": "{% $states.input.order.qty %}", "unit": 2.5},
                },
                "Assign": {
                    "total": "{% $states.result.Payload.total %}",
                    "seenInput": "{% $states.input.order.id %}",
                },
                "Output": "{% $states.result.Payload %}",
                "Next": "Done",
            },
            "Done": {
                "Type": "Pass",
                "Output": {
                    "id": "{% $seenInput %}",
                    "total": "{% $total %}",
                    "doubled": "{% $total * 2 %}",
                },
                "End": True,
            },
        }
    )
    out = run(definition, {"order": {"id": "o-1", "qty": 4}})
    assert out.output == {"id": "o-1", "total": 10, "doubled": 20}


def test_assign_and_output_see_values_from_before_the_state(run: Runner) -> None:
    definition = jsonata(
        {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "Assign": {"x": "{% $x + 1 %}"},
                "Output": "{% $x %}",
                "Next": "C",
            },
            "C": {
                "Type": "Pass",
                "Output": {"before": "{% $states.input %}", "after": "{% $x %}"},
                "End": True,
            },
        }
    )
    assert run(definition).output == {"before": 1, "after": 2}


def test_choice_condition_and_default(run: Runner) -> None:
    definition = jsonata(
        {
            "C": {
                "Type": "Choice",
                "Default": "Low",
                "Choices": [
                    {
                        "Condition": "{% $states.input.n > 10 %}",
                        "Next": "High",
                        "Output": {"level": "high"},
                    }
                ],
            },
            "High": {"Type": "Succeed"},
            "Low": {"Type": "Pass", "Output": {"level": "low"}, "End": True},
        }
    )
    assert run(definition, {"n": 11}).output == {"level": "high"}
    assert run(definition, {"n": 1}).output == {"level": "low"}


def test_condition_must_be_boolean(run: Runner) -> None:
    definition = jsonata(
        {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.n %}", "Next": "S"}],
            },
            "S": {"Type": "Succeed"},
        }
    )
    assert run(definition, {"n": 1}).error == "States.QueryEvaluationError"


def test_map_items_and_item_selector(run: Runner) -> None:
    definition = jsonata(
        {
            "M": {
                "Type": "Map",
                "Items": "{% $states.input.rows[qty > 1] %}",
                "ItemSelector": {
                    "pos": "{% $states.context.Map.Item.Index %}",
                    "sku": "{% $states.context.Map.Item.Value.sku %}",
                },
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {
                        "P": {
                            "Type": "Pass",
                            "Output": "{% $states.input.sku & '#' & $string($states.input.pos) %}",
                            "End": True,
                        }
                    },
                },
                "Output": "{% $join($states.result, ',') %}",
                "End": True,
            }
        }
    )
    rows = [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}, {"sku": "c", "qty": 3}]
    assert run(definition, {"rows": rows}).output == "a#0,c#1"


def test_wait_seconds_expression(run: Runner, clock: ManualClock) -> None:
    definition = jsonata(
        {"W": {"Type": "Wait", "Seconds": "{% $states.input.delay * 60 %}", "End": True}}
    )
    run(definition, {"delay": 2})
    assert clock.slept == [120.0]


def test_fail_error_and_cause_expressions(run: Runner) -> None:
    definition = jsonata(
        {
            "F": {
                "Type": "Fail",
                "Error": "{% $states.input.code %}",
                "Cause": "{% 'bad ' & $states.input.why %}",
            }
        }
    )
    out = run(definition, {"code": "E42", "why": "input"})
    assert (out.error, out.cause) == ("E42", "bad input")


def test_catch_output_sees_error_output(run: Runner, service: WorkflowService) -> None:
    def fail(event: Any) -> Any:
        raise ValueError("nope")

    service.register_function("fail", fail)
    definition = jsonata(
        {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "fail"},
                "Catch": [
                    {
                        "ErrorEquals": ["ValueError"],
                        "Next": "H",
                        "Assign": {"err": "{% $states.errorOutput.Error %}"},
                        "Output": {"caught": "{% $states.errorOutput.Error %}"},
                    }
                ],
                "End": True,
            },
            "H": {
                "Type": "Pass",
                "Output": {"out": "{% $states.input.caught %}", "v": "{% $err %}"},
                "End": True,
            },
        }
    )
    assert run(definition).output == {"out": "ValueError", "v": "ValueError"}


def test_parallel_branches_do_not_leak_variables(run: Runner) -> None:
    definition = jsonata(
        {
            "A": {"Type": "Pass", "Assign": {"outer": "o"}, "Next": "P"},
            "P": {
                "Type": "Parallel",
                "Next": "Check",
                "Branches": [
                    {
                        "StartAt": "B",
                        "States": {
                            "B": {
                                "Type": "Pass",
                                "Assign": {"inner": 1},
                                "Output": "{% $outer %}",
                                "End": True,
                            }
                        },
                    }
                ],
            },
            "Check": {
                "Type": "Pass",
                "Output": {"r": "{% $states.input %}", "inner": "{% $exists($inner) %}"},
                "End": True,
            },
        }
    )
    assert run(definition).output == {"r": ["o"], "inner": False}


@pytest.mark.parametrize(
    ("expr", "check"),
    [
        ("{% $partition([1,2,3,4,5], 2) %}", lambda v: v == [[1, 2], [3, 4], [5]]),
        ("{% $range(0, 10, 5) %}", lambda v: v == [0, 5, 10]),
        ("{% $hash('abc', 'SHA-256') %}", lambda v: v.startswith("ba7816bf")),
        ("{% $parse('{\"a\": [1]}') %}", lambda v: v == {"a": [1]}),
        ("{% $random() %}", lambda v: 0 <= v < 1),
        ("{% $uuid() %}", lambda v: len(v) == 36),
    ],
)
def test_aws_jsonata_functions(run: Runner, expr: str, check: Any) -> None:
    out = run(jsonata({"P": {"Type": "Pass", "Output": {"v": expr}, "End": True}}))
    assert out.status == "SUCCEEDED", out.cause
    assert check(out.output["v"])


def test_undefined_result_is_query_evaluation_error(run: Runner) -> None:
    out = run(
        jsonata({"P": {"Type": "Pass", "Output": "{% $states.input.nope %}", "End": True}}), {}
    )
    assert out.error == "States.QueryEvaluationError"


def test_jsonata_state_inside_jsonpath_machine(run: Runner) -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Result": {"v": 2}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $states.input.v * 21 %}",
                "End": True,
            },
        }
    )
    assert run(definition).output == 42
