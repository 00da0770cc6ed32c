"""Definition validation: every problem collected, located like AWS's InvalidDefinition."""

from __future__ import annotations

from typing import Any

import pytest

from lakebox.errors import InvalidRequestError
from lakebox.workflows.asl.validate import find_problems, validate
from lakebox.workflows.errors import InvalidDefinitionError
from lakebox.workflows.tasks import DEFAULT_REGISTRY
from workflows.helpers import machine

PASS_END = {"Type": "Pass", "End": True}


def problems(definition: Any) -> list[str]:
    return [str(p) for p in find_problems(definition, DEFAULT_REGISTRY)]


def test_valid_definition_passes() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": PASS_END})
    assert validate(definition, DEFAULT_REGISTRY) is definition


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("{not json", "INVALID_JSON_DESCRIPTION"),
        ({"States": {"A": PASS_END}}, "These fields are required: [StartAt] at /"),
        (
            {"StartAt": "Z", "States": {"A": PASS_END}},
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /StartAt",
        ),
        (
            machine({"A": {"Type": "Pass", "Next": "Nowhere"}}),
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next",
        ),
        (
            machine({"A": PASS_END, "B": PASS_END}),
            "UNREACHABLE_STATE: State 'B' is not reachable. at /States/B",
        ),
        (
            machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}),
            "MISSING_END_STATE",
        ),
        (machine({"A": {"Type": "Bogus"}}), "The field 'Type' should have one of these values"),
        (machine({"A": {"Type": "Pass"}}), "must have either Next or End: true at /States/A"),
        (
            machine({"A": {"Type": "Pass", "End": True, "Next": "A"}}),
            "cannot have both Next and End at /States/A",
        ),
        (machine({"A": {"Type": "Succeed", "Next": "A"}}), "'Next' is not supported"),
        (
            machine({"A": {"Type": "Pass", "End": True, "Resultt": 1}}),
            "The field 'Resultt' is not supported by Step Functions at /States/A/Resultt",
        ),
        (
            machine({"A": {"Type": "Task", "End": True}}),
            "These fields are required: [Resource] at /States/A",
        ),
        (
            machine({"A": {"Type": "Task", "Resource": "arn:aws:states:::nope:doIt", "End": True}}),
            "The resource provided arn:aws:states:::nope:doIt is not recognized",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sns:publish.sync",
                        "End": True,
                    }
                }
            ),
            "does not support the .sync integration pattern",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "TimeoutSeconds": 5,
                        "HeartbeatSeconds": 10,
                        "End": True,
                    }
                }
            ),
            "HeartbeatSeconds must be smaller than TimeoutSeconds",
        ),
        (
            machine({"A": {"Type": "Pass", "InputPath": "$.a[", "End": True}}),
            "'InputPath' must be a valid JSONPath",
        ),
        (
            machine({"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": True}}),
            "'ResultPath' must be a valid Reference Path",
        ),
        (
            machine({"A": {"Type": "Pass", "Parameters": {"x.$": "nope"}, "End": True}}),
            "'x.$' must be a valid JSONPath or a valid intrinsic function call",
        ),
        (
            machine({"A": {"Type": "Pass", "Parameters": {"x.$": "States.Nope(1)"}, "End": True}}),
            "unknown intrinsic function States.Nope",
        ),
        (machine({"A": {"Type": "Wait", "End": True}}), "exactly one of Seconds"),
        (
            machine({"A": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}}),
            "exactly one of Seconds",
        ),
        (
            machine({"A": {"Type": "Wait", "Timestamp": "2024-01-01 00:00", "End": True}}),
            "String does not match RFC3339 timestamp",
        ),
        (machine({"A": {"Type": "Choice", "Choices": []}}), "Choices must be a non-empty array"),
        (
            machine(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.x", "NumericEquals": "1", "Next": "B"}],
                    },
                    "B": PASS_END,
                }
            ),
            "NumericEquals needs a number value",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [
                            {
                                "Variable": "$.x",
                                "StringEquals": "a",
                                "NumericEquals": 1,
                                "Next": "B",
                            }
                        ],
                    },
                    "B": PASS_END,
                }
            ),
            "exactly one comparison operator",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.x", "StringEquals": "a"}],
                        "Default": "B",
                    },
                    "B": PASS_END,
                }
            ),
            "A top-level choice rule must have Next at /States/A/Choices[0]",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [
                            {
                                "Not": {"Variable": "$.x", "StringEquals": "a", "Next": "B"},
                                "Next": "B",
                            }
                        ],
                    },
                    "B": PASS_END,
                }
            ),
            "Nested choice rules cannot have Next",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Choice",
                        "Choices": [
                            {"Variable": "$.x", "TimestampEquals": "yesterday", "Next": "B"}
                        ],
                    },
                    "B": PASS_END,
                }
            ),
            "TimestampEquals needs a timestamp value",
        ),
        (
            machine({"A": {"Type": "Parallel", "Branches": [], "End": True}}),
            "Value cannot be empty at /States/A/Branches",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Parallel",
                        "End": True,
                        "Branches": [
                            {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "A"}}}
                        ],
                    }
                }
            ),
            "Missing 'Next' target: A at /States/A/Branches[0]/States/X/Next",
        ),
        (machine({"A": {"Type": "Map", "End": True}}), "exactly one of ItemProcessor or Iterator"),
        (
            machine(
                {
                    "A": {
                        "Type": "Map",
                        "End": True,
                        "ToleratedFailurePercentage": 150,
                        "ItemProcessor": {"StartAt": "X", "States": {"X": PASS_END}},
                    }
                }
            ),
            "ToleratedFailurePercentage must be a number between 0 and 100",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Map",
                        "End": True,
                        "ItemProcessor": {"StartAt": "A", "States": {"A": PASS_END}},
                    }
                }
            ),
            "DUPLICATE_STATE_NAME",
        ),
        (
            machine({"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}}),
            "Error and ErrorPath cannot both be set",
        ),
        (
            machine(
                {
                    "A": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Arguments": {},
                        "End": True,
                    }
                }
            ),
            "'Arguments' is not supported by Step Functions in a JSONPath state",
        ),
        (
            machine(
                {"A": {"Type": "Pass", "InputPath": "$", "End": True, "QueryLanguage": "JSONata"}}
            ),
            "'InputPath' is not supported by Step Functions in a JSONata state",
        ),
        (
            machine(
                {"A": {"Type": "Pass", "Output": "{% $states.input. %}", "End": True}},
                QueryLanguage="JSONata",
            ),
            "The JSONata expression in 'Output' is not valid",
        ),
        (
            machine(
                {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": True}},
                QueryLanguage="JSONata",
            ),
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata'",
        ),
        (
            machine({"A": {"Type": "Pass", "Assign": {"bad-name": 1}, "End": True}}),
            "'bad-name' is not a valid variable name",
        ),
        (machine({"A": PASS_END}, TimeoutSeconds=0), "TimeoutSeconds must be a positive integer"),
        (machine({"A": PASS_END}, Foo=1), "The field 'Foo' is not supported"),
    ],
)
def test_problems(definition: Any, expected: str) -> None:
    found = problems(definition)
    assert any(expected in p for p in found), found


def _task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "B", **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"Retry": [{"ErrorEquals": ["States.ALL", "X"]}]},
            "States.ALL must appear alone in ErrorEquals at /States/A/Retry[0]/ErrorEquals",
        ),
        (
            {"Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]},
            "The retrier containing States.ALL must be the last one at /States/A/Retry[0]",
        ),
        (
            {
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "Next": "B"},
                    {"ErrorEquals": ["X"], "Next": "B"},
                ]
            },
            "The catcher containing States.ALL must be the last one at /States/A/Catch[0]",
        ),
        ({"Retry": [{"ErrorEquals": []}]}, "ErrorEquals must be a non-empty array"),
        ({"Retry": [{"ErrorEquals": ["States.Bogus"]}]}, "'States.Bogus' is not a predefined"),
        ({"Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}, "BackoffRate must be"),
        ({"Retry": [{"ErrorEquals": ["X"], "MaxAttempts": -1}]}, "MaxAttempts must be"),
        ({"Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": 0}]}, "IntervalSeconds must be"),
        ({"Retry": [{"ErrorEquals": ["X"], "MaxDelaySeconds": 0}]}, "MaxDelaySeconds must be"),
        ({"Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}]}, "JitterStrategy must be"),
        ({"Catch": [{"ErrorEquals": ["X"]}]}, "A catcher must have Next at /States/A/Catch[0]"),
        (
            {"Catch": [{"ErrorEquals": ["X"], "Next": "Gone"}]},
            "Missing 'Next' target: Gone at /States/A/Catch[0]/Next",
        ),
    ],
)
def test_retry_and_catch_rules(fields: dict[str, Any], expected: str) -> None:
    found = problems(machine({"A": _task(**fields), "B": PASS_END}))
    assert any(expected in p for p in found), found


def test_retry_on_pass_is_not_allowed() -> None:
    found = problems(
        machine({"A": {"Type": "Pass", "End": True, "Retry": [{"ErrorEquals": ["X"]}]}})
    )
    assert any("The field 'Retry' is not supported" in p for p in found)


def test_all_problems_in_one_error() -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Next": "Nowhere", "InputPath": "bad"},
            "B": {"Type": "Wait", "End": True},
        }
    )
    with pytest.raises(InvalidDefinitionError) as err:
        validate(definition, DEFAULT_REGISTRY)
    assert isinstance(err.value, InvalidRequestError)
    message = str(err.value)
    assert message.startswith("Invalid State Machine Definition: ")
    assert len(err.value.problems) >= 4
    for fragment in ("/States/A/Next", "/States/A/InputPath", "/States/B", "UNREACHABLE_STATE"):
        assert fragment in message


def test_jsonata_definition_is_valid() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
                "Output": "{% $states.result.Payload %}",
                "Assign": {"x": "{% 1 %}"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Output": "{% $states.errorOutput %}",
                        "Next": "C",
                    }
                ],
                "Next": "C",
            },
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $x = 1 %}", "Next": "D"}],
                "Default": "D",
            },
            "D": {"Type": "Succeed", "Output": "{% $x %}"},
        },
        QueryLanguage="JSONata",
    )
    assert problems(definition) == []
