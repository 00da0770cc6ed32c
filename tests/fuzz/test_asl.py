"""Fuzzing the States Language validator and interpreter: random JSON and generated state
machines (Pass / Choice / Map / Parallel / Wait / Fail / Succeed / Task with random paths,
intrinsic functions and JSONata) are validated, created and run with random inputs through
the workflow service. Validation never raises; creation succeeds or raises a LakeboxError;
an execution ends in an ASL status, and a failure never carries a Python exception of
lakebox's own (the service records those as ``States.Runtime`` with the type's name)."""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fuzz.conftest import lakebox_outcome, scaled
from fuzz.mutate import mutated_text
from lakebox.config import LakeConfig
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import Execution, WorkflowService
from workflows.test_examples import HELLO_WORLD

#: exception classes Python itself raises: as an execution's error or cause they mean a
#: lakebox bug reached the user instead of an ASL error
PYTHON_ERRORS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["2024-01-01T00:00:00Z", "$.a", "States.Format('x')", "{% 1 %}"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)

PATHS = st.sampled_from(
    [
        "$",
        "$.a",
        "$.a.b",
        "$.items",
        "$.items[0]",
        "$.items[-1]",
        "$.items[*]",
        "$.items[1:3]",
        "$..a",
        "$.a[?(@.b > 1)]",
        "$['a']",
        "$$.Execution.Id",
        "$$.Map.Item.Value",
        "$$.State.EnteredTime",
        "$x",
        "$.nope.deeper",
        "$.",
        "$[",
        "a",
        "",
        "$.a['",
    ]
) | mutated_text(["$.a.b", "$.items[0]", "$$.Execution.Input"], max_edits=2)

INTRINSICS = st.sampled_from(
    [
        "States.Format('{} and {}', $.a, $.b)",
        "States.Format('{}')",
        "States.StringToJson($.s)",
        "States.JsonToString($)",
        "States.Array(1, $.a, 'x')",
        "States.ArrayPartition($.items, 2)",
        "States.ArrayPartition($.items, 0)",
        "States.ArrayContains($.items, 1)",
        "States.ArrayRange(1, 9, 2)",
        "States.ArrayRange(1, 1000000000, 1)",
        "States.ArrayGetItem($.items, 99)",
        "States.ArrayLength($.a)",
        "States.ArrayUnique($.items)",
        "States.Base64Encode($.s)",
        "States.Base64Decode($.s)",
        "States.Hash($.s, 'SHA-256')",
        "States.Hash($.s, 'nope')",
        "States.JsonMerge($.a, $.b, false)",
        "States.MathRandom(1, 0)",
        "States.MathAdd($.n, 99999999999999999999)",
        "States.StringSplit($.s, '')",
        "States.UUID()",
        "States.Nope()",
        "States.Format(",
    ]
) | mutated_text(["States.Format('{} {}', $.a, States.ArrayLength($.items))"], max_edits=3)

JSONATA = st.sampled_from(
    [
        "{% $states.input %}",
        "{% $states.input.a + 1 %}",
        "{% $states.input.items[0] %}",
        "{% $count($states.input.items) %}",
        "{% $sum([1..1000]) %}",
        "{% $x %}",
        "{% $partition($states.input.items, 2) %}",
        "{% $parse($states.input.s) %}",
        "{% $uuid() %}",
        "{% $random() %}",
        "{% $hash($states.input.s) %}",
        "{% 1/0 %}",
        "{% $states.context.Execution.Id %}",
        "{% %}",
        "{% ( %}",
        "{% $string($states.input) & 'x' %}",
        "{% null %}",
    ]
) | mutated_text(["{% $states.input.a & $string($count($states.input.items)) %}"], max_edits=3)

PAYLOAD = st.dictionaries(
    st.sampled_from(["a", "b", "a.$", "b.$", "s.$", "n.$", "items.$", "x"]),
    PATHS | INTRINSICS | JSON,
    max_size=4,
)

ECHO = "arn:aws:lambda:us-east-1:123456789012:function:echo"


@st.composite
def state_machine(
    draw: st.DrawFn, depth: int = 0, jsonata: bool | None = None, prefix: str = ""
) -> dict[str, Any]:
    """A machine whose transitions only go forward (no loops: an ASL loop of Pass states
    never ends, in AWS too), with fields drawn from the spec. Most machines are valid, so
    that they run; a quarter get wild values in every field."""
    if jsonata is None:
        jsonata = draw(st.booleans())
    wild = draw(st.integers(0, 3)) == 0
    names = [f"{prefix}S{i}" for i in range(draw(st.integers(1, 5)))]
    states: dict[str, Any] = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        state = draw(_state(jsonata, depth, wild, name))
        if state["Type"] == "Choice" and not later:
            state = {"Type": "Succeed"}
        elif state["Type"] in ("Succeed", "Fail") and later and not wild:
            state = {"Type": "Pass"}  # what follows a terminal state would be unreachable
        if state["Type"] not in ("Choice", "Succeed", "Fail"):
            if later:
                state["Next"] = later[0] if not wild else draw(st.sampled_from(later))
            else:
                state["End"] = True
        if state["Type"] == "Choice":
            target = st.sampled_from(later)
            for rule in state["Choices"]:
                rule["Next"] = draw(target)
            state["Default"] = later[0]
        if state["Type"] not in ("Succeed", "Fail") and draw(st.integers(0, 4)) == 0:
            state["Assign"] = {"v": draw(JSONATA if jsonata else _paths(wild) | JSON)}
        if state["Type"] in ("Task", "Map", "Parallel") and later and draw(st.booleans()):
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": later[-1]}]
            state["Retry"] = [
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": draw(st.integers(0, 3))}
            ]
        states[name] = state
    machine: dict[str, Any] = {"StartAt": names[0], "States": states}
    if jsonata and depth == 0:
        machine["QueryLanguage"] = "JSONata"
    if depth == 0 and draw(st.integers(0, 4)) == 0:
        machine["TimeoutSeconds"] = draw(st.integers(-1 if wild else 1, 100))
    return machine


GOOD_PATHS = st.sampled_from(
    ["$", "$.a", "$.a.b", "$.items", "$.items[0]", "$.nope", "$.s", "$.n", "$$.Execution.Id"]
)
GOOD_INTRINSICS = st.sampled_from(
    [
        "States.Format('{} and {}', $.a, $.b)",
        "States.JsonToString($)",
        "States.Array(1, $.a, 'x')",
        "States.ArrayLength($.items)",
        "States.StringToJson($.s)",
        "States.MathAdd($.n, 1)",
        "States.Base64Decode($.s)",
        "States.ArrayGetItem($.items, 1)",
    ]
)


def _paths(wild: bool) -> st.SearchStrategy[str]:
    return PATHS if wild else GOOD_PATHS


def _payload(wild: bool) -> st.SearchStrategy[dict[str, Any]]:
    if wild:
        return PAYLOAD
    return st.dictionaries(
        st.sampled_from(["a.$", "b.$", "c.$", "n.$"]), GOOD_PATHS | GOOD_INTRINSICS, max_size=3
    ) | st.dictionaries(st.sampled_from(["a", "b"]), JSON, max_size=2)


@st.composite
def _state(draw: st.DrawFn, jsonata: bool, depth: int, wild: bool, name: str) -> dict[str, Any]:
    kinds = ["Pass", "Pass", "Choice", "Wait", "Fail", "Succeed", "Task"]
    if depth < 1:
        kinds += ["Map", "Map", "Parallel"]
    kind = draw(st.sampled_from(kinds))
    state: dict[str, Any] = {"Type": kind}
    paths = _paths(wild)
    if jsonata:
        if kind != "Fail" and draw(st.booleans()):
            state["Output"] = draw(JSONATA | JSON)
    else:
        for field in ("InputPath", "OutputPath"):
            if kind != "Fail" and draw(st.integers(0, 3)) == 0:
                state[field] = draw(paths | st.none())
        if kind in ("Pass", "Task", "Parallel", "Map") and draw(st.booleans()):
            state["ResultPath"] = draw(st.sampled_from(["$.r", "$", "$.a.r"]) | st.none() | paths)
        if kind in ("Pass", "Task", "Parallel", "Map") and draw(st.booleans()):
            state["Parameters"] = draw(_payload(wild))
    if kind == "Pass" and not jsonata and draw(st.booleans()):
        state["Result"] = draw(JSON)
    elif kind == "Choice":
        state["Choices"] = draw(st.lists(_rule(jsonata, wild), min_size=1, max_size=3))
    elif kind == "Wait":
        field = draw(st.sampled_from(["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]))
        if field.endswith("Path"):
            if jsonata:
                state[field[:-4]] = draw(JSONATA)
            else:
                state[field] = draw(paths)
        elif field == "Seconds":
            state[field] = draw(
                st.integers(0, 10**6)
                | (JSONATA if jsonata else st.nothing())
                | (st.integers(-5, 10**12) | st.just("1") if wild else st.nothing())
            )
        else:
            state[field] = draw(
                st.sampled_from(["2024-03-01T12:00:00Z", "2099-01-01T00:00:00+05:00", "nope"])
                | (JSONATA if jsonata else st.nothing())
            )
    elif kind == "Fail":
        for field in ("Error", "Cause"):
            if draw(st.booleans()):
                if jsonata or draw(st.booleans()):
                    state[field] = draw(
                        st.text(max_size=8) | (JSONATA if jsonata else st.nothing())
                    )
                else:
                    state[field + "Path"] = draw(paths)
    elif kind == "Task":
        resources = [ECHO, "arn:aws:states:::lambda:invoke"]
        if wild:
            resources += ["arn:aws:states:::nope", "x"]
        state["Resource"] = draw(st.sampled_from(resources))
        if state["Resource"] == "arn:aws:states:::lambda:invoke":
            if jsonata:
                state["Arguments"] = {"FunctionName": "echo", "Payload": draw(JSONATA | JSON)}
            else:
                state["Parameters"] = {"FunctionName": "echo", "Payload.$": draw(paths)}
        if draw(st.integers(0, 3)) == 0:
            state["TimeoutSeconds"] = draw(st.integers(-1 if wild else 1, 10))
    elif kind == "Map":
        inner = draw(state_machine(depth + 1, jsonata, name + "."))
        state["ItemProcessor" if draw(st.booleans()) else "Iterator"] = inner
        if jsonata:
            if draw(st.booleans()):
                state["Items"] = draw(JSONATA | JSON)
        elif draw(st.booleans()):
            state["ItemsPath"] = draw(st.sampled_from(["$.items", "$", "$.a"]) | paths)
        if not jsonata and draw(st.booleans()):
            state["ItemSelector"] = draw(_payload(wild))
        if draw(st.booleans()):
            state["MaxConcurrency"] = draw(st.integers(-1 if wild else 0, 5))
        if draw(st.integers(0, 3)) == 0:
            state["ToleratedFailurePercentage"] = draw(
                st.integers(0, 100) | (st.integers(-1, 101) | st.floats() if wild else st.nothing())
            )
    elif kind == "Parallel":
        state["Branches"] = [
            draw(state_machine(depth + 1, jsonata, f"{name}.{b}."))
            for b in range(draw(st.integers(0 if wild else 1, 3)))
        ]
    return state


OPERATORS = [
    "StringEquals",
    "StringLessThan",
    "StringMatches",
    "NumericEquals",
    "NumericGreaterThanEquals",
    "BooleanEquals",
    "TimestampEquals",
    "TimestampLessThan",
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
    "StringEqualsPath",
    "NumericLessThanPath",
    "TimestampGreaterThanPath",
    "Nope",
]


@st.composite
def _rule(draw: st.DrawFn, jsonata: bool, wild: bool) -> dict[str, Any]:
    if jsonata:
        return {"Condition": draw(JSONATA | st.booleans())}
    shape = draw(st.sampled_from(["leaf", "leaf", "And", "Or", "Not"]))
    if shape == "leaf":
        ops = OPERATORS if wild else OPERATORS[:-1]
        op = draw(st.sampled_from(ops))
        if op.endswith("Path"):
            value: Any = draw(_paths(wild))
        elif op.startswith("Is"):
            value = draw(st.booleans() | (JSON if wild else st.nothing()))
        else:
            value = draw(JSON | st.sampled_from(["*", "a*b\\*", "2024-03-01T12:00:00Z", 1]))
        return {"Variable": draw(_paths(wild)), op: value}
    if shape == "Not":
        return {"Not": draw(_rule(False, wild))}
    return {shape: draw(st.lists(_rule(False, wild), min_size=0 if wild else 1, max_size=3))}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[WorkflowService]:
    config = LakeConfig.from_env(home=tmp_path / "lake", storage="local")
    svc = WorkflowService(
        config, clock=ManualClock(datetime(2024, 3, 1, 12, 0, tzinfo=UTC)), stop_poll_seconds=0.05
    )
    svc.register_function("echo", lambda event, context=None: event)
    try:
        yield svc
    finally:
        svc.close()


def _assert_asl_outcome(execution: Execution) -> None:
    assert execution.status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"), execution.status
    if execution.status == "SUCCEEDED":
        json.dumps(execution.output)
        return
    error, cause = execution.error or "", execution.cause or ""
    assert error not in PYTHON_ERRORS, f"a Python error escaped as the ASL error: {error}: {cause}"
    head = re.match(r"(\w+): ", cause)
    assert not (error == "States.Runtime" and head and head.group(1) in PYTHON_ERRORS), (
        f"lakebox crashed inside the execution: {cause}"
    )


_COUNTER = iter(range(10**9))


def _run(service: WorkflowService, definition: Any, data: Any) -> None:
    name = f"m{next(_COUNTER)}"
    created = lakebox_outcome(lambda: service.create_state_machine(name, definition))
    if isinstance(created, Exception):
        event(f"rejected: {type(created).__name__}")
        return
    execution = lakebox_outcome(lambda: service.start_execution(name, data))
    if isinstance(execution, Exception):
        event(f"not started: {type(execution).__name__}")
    else:
        event(f"ran: {execution.status} {execution.error or ''}".strip())
        _assert_asl_outcome(execution)


@given(
    definition=st.dictionaries(st.text(max_size=8), JSON, max_size=4)
    | st.builds(json.dumps, JSON)
    | st.text(max_size=40)
    | mutated_text(
        [HELLO_WORLD, json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})]
    )
)
@settings(max_examples=scaled(120))
def test_validator_reports_problems_for_any_json(service: WorkflowService, definition: Any) -> None:
    problems = lakebox_outcome(lambda: service.validate(definition))
    assert isinstance(problems, list), problems


@given(definition=state_machine(), data=JSON)
@settings(max_examples=scaled(80))
def test_generated_machines_validate_and_run_to_an_asl_outcome(
    service: WorkflowService, definition: dict[str, Any], data: Any
) -> None:
    problems = lakebox_outcome(lambda: service.validate(definition))
    assert isinstance(problems, list), problems
    _run(service, definition, data)


@given(definition=mutated_text([HELLO_WORLD], max_edits=3), data=JSON | st.text(max_size=10))
@settings(max_examples=scaled(40))
def test_mutated_definitions_run_or_raise_lakebox_error(
    service: WorkflowService, definition: str, data: Any
) -> None:
    _run(service, definition, data)
