"""Every Choice operator, its Path form, the Is* tests and the combinators."""

from __future__ import annotations

from typing import Any

import pytest

from lakebox.workflows.asl.choice import COMPARISONS, evaluate_rule, string_matches
from lakebox.workflows.errors import StatesError

DATA = {
    "b": True,
    "n": 10,
    "f": 2.5,
    "s": "beta",
    "t": "2024-03-01T12:00:00Z",
    "null": None,
    "other": {"n": 10, "s": "beta", "t": "2024-03-01T12:00:00.000+00:00", "b": True},
    "later": "2024-03-01T12:00:01Z",
    "list": [1],
}

CASES: list[tuple[str, str, Any, bool]] = [
    ("BooleanEquals", "$.b", True, True),
    ("BooleanEquals", "$.b", False, False),
    ("BooleanEquals", "$.n", True, False),
    ("NumericEquals", "$.n", 10, True),
    ("NumericEquals", "$.n", 10.0, True),
    ("NumericEquals", "$.s", 10, False),
    ("NumericEquals", "$.b", 1, False),
    ("NumericLessThan", "$.f", 3, True),
    ("NumericLessThan", "$.n", 10, False),
    ("NumericLessThanEquals", "$.n", 10, True),
    ("NumericGreaterThan", "$.n", 9.5, True),
    ("NumericGreaterThan", "$.n", 10, False),
    ("NumericGreaterThanEquals", "$.n", 10, True),
    ("StringEquals", "$.s", "beta", True),
    ("StringEquals", "$.n", "10", False),
    ("StringLessThan", "$.s", "gamma", True),
    ("StringLessThan", "$.s", "alpha", False),
    ("StringLessThanEquals", "$.s", "beta", True),
    ("StringGreaterThan", "$.s", "alpha", True),
    ("StringGreaterThanEquals", "$.s", "beta", True),
    ("StringMatches", "$.s", "b*a", True),
    ("StringMatches", "$.s", "*z*", False),
    ("TimestampEquals", "$.t", "2024-03-01T13:00:00+01:00", True),
    ("TimestampEquals", "$.s", "2024-03-01T12:00:00Z", False),
    ("TimestampLessThan", "$.t", "2024-03-01T12:00:00.001Z", True),
    ("TimestampLessThanEquals", "$.t", "2024-03-01T12:00:00Z", True),
    ("TimestampGreaterThan", "$.t", "2024-02-29T23:59:59Z", True),
    ("TimestampGreaterThanEquals", "$.t", "2024-03-01T12:00:01Z", False),
]


@pytest.mark.parametrize(("op", "variable", "value", "expected"), CASES)
def test_comparisons(op: str, variable: str, value: Any, expected: bool) -> None:
    assert evaluate_rule({"Variable": variable, op: value}, DATA, {}) is expected


PATH_CASES = [
    ("BooleanEqualsPath", "$.b", "$.other.b", True),
    ("NumericEqualsPath", "$.n", "$.other.n", True),
    ("NumericLessThanPath", "$.f", "$.other.n", True),
    ("NumericLessThanEqualsPath", "$.n", "$.other.n", True),
    ("NumericGreaterThanPath", "$.n", "$.f", True),
    ("NumericGreaterThanEqualsPath", "$.f", "$.n", False),
    ("StringEqualsPath", "$.s", "$.other.s", True),
    ("StringLessThanPath", "$.s", "$.other.s", False),
    ("StringLessThanEqualsPath", "$.s", "$.other.s", True),
    ("StringGreaterThanPath", "$.s", "$.other.s", False),
    ("StringGreaterThanEqualsPath", "$.s", "$.other.s", True),
    ("StringMatchesPath", "$.s", "$.other.s", True),
    ("TimestampEqualsPath", "$.t", "$.other.t", True),
    ("TimestampLessThanPath", "$.t", "$.later", True),
    ("TimestampLessThanEqualsPath", "$.later", "$.t", False),
    ("TimestampGreaterThanPath", "$.later", "$.t", True),
    ("TimestampGreaterThanEqualsPath", "$.t", "$.other.t", True),
]


@pytest.mark.parametrize(("op", "variable", "other", "expected"), PATH_CASES)
def test_path_comparisons(op: str, variable: str, other: str, expected: bool) -> None:
    assert evaluate_rule({"Variable": variable, op: other}, DATA, {}) is expected


def test_every_operator_is_covered() -> None:
    covered = {c[0] for c in CASES} | {c[0] for c in PATH_CASES}
    assert covered == set(COMPARISONS) | {k + "Path" for k in COMPARISONS}


@pytest.mark.parametrize(
    ("op", "variable", "expected"),
    [
        ("IsNull", "$.null", True),
        ("IsNull", "$.n", False),
        ("IsBoolean", "$.b", True),
        ("IsBoolean", "$.n", False),
        ("IsNumeric", "$.f", True),
        ("IsNumeric", "$.b", False),
        ("IsNumeric", "$.s", False),
        ("IsString", "$.s", True),
        ("IsString", "$.list", False),
        ("IsTimestamp", "$.t", True),
        ("IsTimestamp", "$.s", False),
        ("IsPresent", "$.s", True),
        ("IsPresent", "$.missing", False),
        ("IsPresent", "$.null", True),
        ("IsPresent", "$.list[3]", False),
    ],
)
@pytest.mark.parametrize("wanted", [True, False])
def test_type_tests(op: str, variable: str, expected: bool, wanted: bool) -> None:
    assert evaluate_rule({"Variable": variable, op: wanted}, DATA, {}) is (expected == wanted)


def test_combinators_nest() -> None:
    rule = {
        "Or": [
            {
                "And": [
                    {"Variable": "$.n", "NumericGreaterThan": 100},
                    {"Variable": "$.s", "StringEquals": "beta"},
                ]
            },
            {"Not": {"Variable": "$.b", "BooleanEquals": False}},
        ]
    }
    assert evaluate_rule(rule, DATA, {}) is True
    assert evaluate_rule({"Not": rule}, DATA, {}) is False


def test_missing_variable_is_runtime_error() -> None:
    with pytest.raises(StatesError) as err:
        evaluate_rule({"Variable": "$.missing", "StringEquals": "x"}, DATA, {})
    assert err.value.error == "States.Runtime"


def test_missing_path_operand_is_runtime_error() -> None:
    with pytest.raises(StatesError):
        evaluate_rule({"Variable": "$.s", "StringEqualsPath": "$.missing"}, DATA, {})


def test_variables_and_context_as_operands() -> None:
    assert (
        evaluate_rule(
            {"Variable": "$limit", "NumericGreaterThanPath": "$$.Map.Item.Index"},
            {},
            {"Map": {"Item": {"Index": 1}}},
            {"limit": 2},
        )
        is True
    )


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2024.txt", "log-*.txt", True),
        ("log-2024.csv", "log-*.txt", False),
        ("a*b", "a\\*b", True),
        ("axb", "a\\*b", False),
        ("back\\slash", "back\\\\slash", True),
        ("anything", "*", True),
        ("", "*", True),
        ("x.y", "x.y", True),
        ("xzy", "x.y", False),
    ],
)
def test_string_matches(value: str, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected
