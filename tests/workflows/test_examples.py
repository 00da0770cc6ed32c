"""Published state machine definitions (the States Language specification, AWS's console
blueprints, docs and tutorials), run as written with the functions they name registered as
Python callables."""

from __future__ import annotations

import json
from typing import Any

from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService

# AWS console "Hello world" blueprint.
HELLO_WORLD = """
{
  "Comment": "A Hello World example demonstrating various state types of the Amazon States Language",
  "StartAt": "Pass",
  "States": {
    "Pass": {
      "Comment": "A Pass state passes its input to its output, without performing work.",
      "Type": "Pass",
      "Next": "Hello World example?"
    },
    "Hello World example?": {
      "Comment": "A Choice state adds branching logic to a state machine.",
      "Type": "Choice",
      "Choices": [
        {"Variable": "$.IsHelloWorldExample", "BooleanEquals": true, "Next": "Yes"},
        {"Variable": "$.IsHelloWorldExample", "BooleanEquals": false, "Next": "No"}
      ],
      "Default": "Yes"
    },
    "Yes": {"Type": "Pass", "Next": "Wait 3 sec"},
    "No": {"Type": "Fail", "Cause": "Not Hello World"},
    "Wait 3 sec": {
      "Comment": "A Wait state delays the state machine from continuing for a specified time.",
      "Type": "Wait",
      "Seconds": 3,
      "Next": "Parallel State"
    },
    "Parallel State": {
      "Comment": "A Parallel state can be used to create parallel branches of execution.",
      "Type": "Parallel",
      "Next": "Hello World",
      "Branches": [
        {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": true}}},
        {"StartAt": "World", "States": {"World": {"Type": "Pass", "End": true}}}
      ]
    },
    "Hello World": {"Type": "Pass", "End": true}
  }
}
"""


def test_hello_world_blueprint(service: WorkflowService, clock: ManualClock) -> None:
    service.create_state_machine("hello", HELLO_WORLD)
    yes = service.start_execution("hello", {"IsHelloWorldExample": True})
    assert yes.status == "SUCCEEDED"
    assert yes.output == [{"IsHelloWorldExample": True}, {"IsHelloWorldExample": True}]
    assert clock.slept == [3.0]
    no = service.start_execution("hello", {"IsHelloWorldExample": False})
    assert (no.status, no.cause) == ("FAILED", "Not Hello World")


# States Language specification, Map State example (with the Parameters variant).
SHIPPING = """
{
  "Comment": "An example of the Amazon States Language using a map state.",
  "StartAt": "Validate-All",
  "States": {
    "Validate-All": {
      "Type": "Map",
      "InputPath": "$.detail",
      "ItemsPath": "$.shipped",
      "MaxConcurrency": 0,
      "Parameters": {
        "parcel.$": "$$.Map.Item.Value",
        "courier.$": "$.delivery-partner"
      },
      "Iterator": {
        "StartAt": "Validate",
        "States": {
          "Validate": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val",
            "End": true
          }
        }
      },
      "ResultPath": "$.detail.shipped",
      "End": true
    }
  }
}
"""

SHIPPING_INPUT = {
    "ship-date": "2016-03-14T01:59:00Z",
    "detail": {
        "delivery-partner": "UQS",
        "shipped": [
            {"prod": "R31", "dest-code": 9511, "quantity": 1344},
            {"prod": "S39", "dest-code": 9511, "quantity": 40},
            {"prod": "R31", "dest-code": 9833, "quantity": 12},
            {"prod": "R40", "dest-code": 9860, "quantity": 887},
            {"prod": "R40", "dest-code": 9511, "quantity": 1220},
        ],
    },
}


def test_spec_map_example(service: WorkflowService) -> None:
    seen: list[Any] = []

    def ship_val(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return {
            "prod": event["parcel"]["prod"],
            "ok": event["parcel"]["quantity"] < 1000,
            "courier": event["courier"],
        }

    service.register_function("ship-val", ship_val)
    service.create_state_machine("ship", SHIPPING)
    out = service.start_execution("ship", SHIPPING_INPUT)
    assert out.status == "SUCCEEDED"
    assert sorted(e["parcel"]["prod"] for e in seen) == ["R31", "R31", "R40", "R40", "S39"]
    assert out.output["ship-date"] == "2016-03-14T01:59:00Z"
    assert out.output["detail"]["delivery-partner"] == "UQS"
    assert [(r["prod"], r["ok"]) for r in out.output["detail"]["shipped"]] == [
        ("R31", False),
        ("S39", True),
        ("R31", True),
        ("R40", True),
        ("R40", False),
    ]


# States Language specification, Parallel State example.
LOOKUP = """
{
  "Comment": "Parallel Example.",
  "StartAt": "LookupCustomerInfo",
  "States": {
    "LookupCustomerInfo": {
      "Type": "Parallel",
      "End": true,
      "Branches": [
        {
          "StartAt": "LookupAddress",
          "States": {
            "LookupAddress": {
              "Type": "Task",
              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:AddressFinder",
              "End": true
            }
          }
        },
        {
          "StartAt": "LookupPhone",
          "States": {
            "LookupPhone": {
              "Type": "Task",
              "Resource": "arn:aws:lambda:us-east-1:123456789012:function:PhoneFinder",
              "End": true
            }
          }
        }
      ]
    }
  }
}
"""


def test_spec_parallel_example(service: WorkflowService) -> None:
    service.register_function("AddressFinder", lambda e: {"address": f"1 {e['name']} St"})
    service.register_function("PhoneFinder", lambda e: {"phone": "555-0100"})
    service.create_state_machine("lookup", LOOKUP)
    out = service.start_execution("lookup", {"name": "Main"})
    assert out.output == [{"address": "1 Main St"}, {"phone": "555-0100"}]


# States Language specification, Choice State example.
CHOICE = """
{
  "StartAt": "ChoiceStateX",
  "States": {
    "ChoiceStateX": {
      "Type": "Choice",
      "Choices": [
        {
          "Not": {"Variable": "$.type", "StringEquals": "Private"},
          "Next": "Public"
        },
        {
          "And": [
            {"Variable": "$.value", "IsPresent": true},
            {"Variable": "$.value", "IsNumeric": true},
            {"Variable": "$.value", "NumericGreaterThanEquals": 20},
            {"Variable": "$.value", "NumericLessThan": 30}
          ],
          "Next": "ValueInTwenties"
        },
        {
          "Variable": "$.rating",
          "NumericGreaterThanPath": "$.auditThreshold",
          "Next": "StartAudit"
        }
      ],
      "Default": "DefaultState"
    },
    "Public": {"Type": "Pass", "Result": "Public", "End": true},
    "ValueInTwenties": {"Type": "Pass", "Result": "ValueInTwenties", "End": true},
    "StartAudit": {"Type": "Pass", "Result": "StartAudit", "End": true},
    "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"}
  }
}
"""


def test_spec_choice_example(service: WorkflowService) -> None:
    service.create_state_machine("choice", CHOICE)
    cases = [
        ({"type": "Public"}, "Public"),
        ({"type": "Private", "value": 25}, "ValueInTwenties"),
        ({"type": "Private", "value": "25", "rating": 9, "auditThreshold": 5}, "StartAudit"),
    ]
    for data, expected in cases:
        assert service.start_execution("choice", data).output == expected
    failed = service.start_execution(
        "choice", {"type": "Private", "value": 35, "rating": 1, "auditThreshold": 5}
    )
    assert (failed.error, failed.cause) == ("DefaultStateError", "No Matches!")


# AWS tutorial "Handling error conditions": a function throwing a custom error.
ERRORS = """
{
  "Comment": "A Hello World example of the Amazon States Language using an AWS Lambda function",
  "StartAt": "HelloWorld",
  "States": {
    "HelloWorld": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:FailFunction",
      "Catch": [
        {"ErrorEquals": ["CustomError"], "Next": "CustomErrorFallback"},
        {"ErrorEquals": ["States.TaskFailed"], "Next": "ReservedTypeFallback"},
        {"ErrorEquals": ["States.ALL"], "Next": "CatchAllFallback"}
      ],
      "End": true
    },
    "CustomErrorFallback": {
      "Type": "Pass",
      "Result": "This is a fallback from a custom Lambda function exception",
      "End": true
    },
    "ReservedTypeFallback": {
      "Type": "Pass",
      "Result": "This is a fallback from a reserved error code",
      "End": true
    },
    "CatchAllFallback": {
      "Type": "Pass",
      "Result": "This is a fallback from any error code",
      "End": true
    }
  }
}
"""


class CustomError(Exception):
    pass


def test_error_handling_tutorial(service: WorkflowService) -> None:
    def fail_function(event: Any) -> Any:
        if event.get("custom"):
            raise CustomError("This is a custom error!")
        raise RuntimeError("something else")

    service.register_function("FailFunction", fail_function)
    service.create_state_machine("errors", ERRORS)
    custom = service.start_execution("errors", {"custom": True})
    assert custom.output == "This is a fallback from a custom Lambda function exception"
    other = service.start_execution("errors", {"custom": False})
    assert other.output == "This is a fallback from a reserved error code"


# AWS docs, intrinsic function examples gathered in one Pass state.
INTRINSICS = r"""
{
  "StartAt": "Intrinsics",
  "States": {
    "Intrinsics": {
      "Type": "Pass",
      "Parameters": {
        "greeting.$": "States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
        "unescaped.$": "States.StringToJson($.escapedJsonString)",
        "escaped.$": "States.JsonToString($.unescapedJson)",
        "array.$": "States.Array('Foo', 2020, $.unescapedJson, 5)",
        "partitioned.$": "States.ArrayPartition($.inputArray, 4)",
        "contains.$": "States.ArrayContains($.inputArray, $.lookingFor)",
        "range.$": "States.ArrayRange(1, 9, 2)",
        "item.$": "States.ArrayGetItem($.inputArray, $.index)",
        "length.$": "States.ArrayLength($.inputArray)",
        "unique.$": "States.ArrayUnique($.duplicates)",
        "base64.$": "States.Base64Encode($.input)",
        "decoded.$": "States.Base64Decode($.base64)",
        "hash.$": "States.Hash($.Data, $.Algorithm)",
        "merged.$": "States.JsonMerge($.json1, $.json2, false)",
        "sum.$": "States.MathAdd($.value1, $.step)",
        "split.$": "States.StringSplit($.inputString, $.splitter)"
      },
      "End": true
    }
  }
}
"""


def test_documented_intrinsic_examples(service: WorkflowService) -> None:
    service.create_state_machine("intrinsics", INTRINSICS)
    out = service.start_execution(
        "intrinsics",
        {
            "firstName": "John",
            "lastName": "Doe",
            "escapedJsonString": '{"foo": "bar"}',
            "unescapedJson": {"foo": "bar"},
            "inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "lookingFor": 5,
            "index": 5,
            "duplicates": [1, 2, 3, 3, 3, 3, 3, 3, 4],
            "input": "Data to encode",
            "base64": "RGF0YSB0byBlbmNvZGU=",
            "Data": "input data",
            "Algorithm": "SHA-1",
            "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
            "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
            "value1": 111,
            "step": -1,
            "inputString": "This.is+a,test=string",
            "splitter": ".+,=",
        },
    )
    assert out.status == "SUCCEEDED", out.cause
    assert out.output == {
        "greeting": "Welcome to John Doe's playlist.",
        "unescaped": {"foo": "bar"},
        "escaped": '{"foo":"bar"}',
        "array": ["Foo", 2020, {"foo": "bar"}, 5],
        "partitioned": [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
        "contains": True,
        "range": [1, 3, 5, 7, 9],
        "item": 6,
        "length": 9,
        "unique": [1, 2, 3, 4],
        "base64": "RGF0YSB0byBlbmNvZGU=",
        "decoded": "Data to encode",
        "hash": "aaff4a450a104cd177d28d18d74485e8cae074b7",
        "merged": {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
        "sum": 110,
        "split": ["This", "is", "a", "test", "string"],
    }


# States Language specification, Wait State with TimestampPath.
WAIT_UNTIL = """
{
  "StartAt": "wait_until",
  "States": {
    "wait_until": {"Type": "Wait", "TimestampPath": "$.expirydate", "Next": "done"},
    "done": {"Type": "Succeed"}
  }
}
"""


def test_spec_wait_until(service: WorkflowService, clock: ManualClock) -> None:
    service.create_state_machine("wait", WAIT_UNTIL)
    out = service.start_execution("wait", {"expirydate": "2024-03-01T12:30:00Z"})
    assert out.status == "SUCCEEDED"
    assert clock.slept == [1800.0]


# AWS docs (workflow variables), JSONata with Assign between two Lambda calls.
VARIABLES = """
{
  "QueryLanguage": "JSONata",
  "StartAt": "GetSomeData",
  "States": {
    "GetSomeData": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {"FunctionName": "function-1", "Payload": "{% $states.input %}"},
      "Assign": {
        "taskResult": "{% $states.result %}",
        "functionOutput": "{% $states.result.Payload %}"
      },
      "Next": "DoSomething"
    },
    "DoSomething": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Arguments": {
        "FunctionName": "function-2",
        "Payload": {
          "function_output": "{% $functionOutput %}",
          "status_code": "{% $taskResult.StatusCode %}"
        }
      },
      "Output": "{% $states.result.Payload %}",
      "End": true
    }
  }
}
"""


def test_jsonata_variables_example(service: WorkflowService) -> None:
    service.register_function("function-1", lambda e: {"seen": e["id"]})
    service.register_function("function-2", lambda e: e)
    service.create_state_machine("vars", VARIABLES)
    out = service.start_execution("vars", {"id": 7})
    assert out.output == {"function_output": {"seen": 7}, "status_code": 200}


def test_definitions_round_trip_through_describe(service: WorkflowService) -> None:
    for name, text in (("hello", HELLO_WORLD), ("lookup", LOOKUP)):
        service.create_state_machine(name, text)
        assert json.loads(service.describe_state_machine(name).definition) == json.loads(text)


# AWS docs, "Wait for a Callback with the Task Token" (Lambda variant).
CALLBACK = """
{
  "StartAt": "GetReviewDecision",
  "States": {
    "GetReviewDecision": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:get-model-review-decision",
        "Payload": {
          "model.$": "$.new_model",
          "token.$": "$$.Task.Token"
        },
        "Qualifier": "prod-v1"
      },
      "TimeoutSeconds": 3600,
      "Next": "Approved?"
    },
    "Approved?": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.approved", "BooleanEquals": true, "Next": "Deploy"}],
      "Default": "Rejected"
    },
    "Deploy": {"Type": "Succeed"},
    "Rejected": {"Type": "Fail", "Error": "ModelRejected"}
  }
}
"""


def test_callback_with_task_token(service: WorkflowService) -> None:
    import threading

    def reviewer(event: dict[str, Any]) -> dict[str, Any]:
        verdict = {"approved": event["model"]["accuracy"] > 0.9}
        threading.Thread(
            target=service.send_task_success, args=(event["token"], json.dumps(verdict))
        ).start()
        return {"queued": True}

    service.register_function("get-model-review-decision", reviewer)
    service.create_state_machine("review", CALLBACK)
    good = service.start_execution("review", {"new_model": {"accuracy": 0.95}})
    bad = service.start_execution("review", {"new_model": {"accuracy": 0.5}})
    assert (good.status, good.output) == ("SUCCEEDED", {"approved": True})
    assert (bad.status, bad.error) == ("FAILED", "ModelRejected")
