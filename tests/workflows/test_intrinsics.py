"""Every intrinsic function, its argument checks and the call parser."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from lakebox.workflows.asl import intrinsics
from lakebox.workflows.errors import StatesError

DATA = {
    "name": "Ada",
    "n": 3,
    "list": [1, 2, 2, "a", {"k": 1}, {"k": 1}],
    "obj": {"a": 1, "b": {"c": 2}},
    "json": '{"x": [1, 2]}',
    "csv": "a,b;;c",
}


def ev(text: str) -> Any:
    return intrinsics.evaluate(text, DATA, {"Execution": {"Name": "exec"}}, {"v": 10})


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("States.Format('Hello, {}!', $.name)", "Hello, Ada!"),
        ("States.Format('{} {} {} {}', $.n, true, null, 'x')", "3 true null x"),
        ("States.Format('{}', 1.5)", "1.5"),
        # AWS renders objects and arrays as Java's map and list text, strings unquoted
        ("States.Format('{}', $.obj)", "{a=1, b={c=2}}"),
        ("States.Format('{}', $.list)", "[1, 2, 2, a, {k=1}, {k=1}]"),
        # non-integers are rounded to the nearest integer, halves upwards
        ("States.MathAdd(1.5, 1)", 3),
        ("States.MathAdd(-1.5, 1.49)", 0),
        ("States.Format('literal \\{\\} and \\'q\\'')", "literal {} and 'q'"),
        ("States.Format('{}-{}', $$.Execution.Name, $v)", "exec-10"),
        ("States.StringToJson($.json)", {"x": [1, 2]}),
        ("States.JsonToString($.obj)", '{"a":1,"b":{"c":2}}'),
        ("States.Array(1, 'two', $.n, States.Array())", [1, "two", 3, []]),
        ("States.ArrayPartition(States.ArrayRange(1, 5, 1), 2)", [[1, 2], [3, 4], [5]]),
        ("States.ArrayContains($.list, 'a')", True),
        ("States.ArrayContains($.list, 7)", False),
        ("States.ArrayContains($.list, $.obj.b)", False),
        ("States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayGetItem($.list, 3)", "a"),
        ("States.ArrayLength($.list)", 6),
        ("States.ArrayUnique($.list)", [1, 2, "a", {"k": 1}]),
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Hash('input data', 'SHA-1')", hashlib.sha1(b"input data").hexdigest()),
        ("States.Hash($.name, 'MD5')", hashlib.md5(b"Ada").hexdigest()),
        ("States.Hash('x', 'SHA-512')", hashlib.sha512(b"x").hexdigest()),
        ("States.JsonMerge($.obj, States.StringToJson('{\"b\":5}'), false)", {"a": 1, "b": 5}),
        ("States.MathAdd($.n, -4)", -1),
        ("States.MathAdd(States.ArrayLength($.list), 1)", 7),
        ("States.StringSplit($.csv, ',;')", ["a", "b", "c"]),
        ("States.StringSplit('1,2,3', ',')", ["1", "2", "3"]),
        ("States.ArrayLength(States.StringSplit('a b  c', ' '))", 3),
    ],
)
def test_functions(call: str, expected: Any) -> None:
    assert ev(call) == expected


def test_math_random_range_and_seed() -> None:
    values = {ev("States.MathRandom(1, 4)") for _ in range(200)}
    assert values <= {1, 2, 3} and len(values) > 1
    assert ev("States.MathRandom(0, 1000, 42)") == ev("States.MathRandom(0, 1000, 42)")


def test_uuid_is_v4() -> None:
    value = ev("States.UUID()")
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
    )
    assert value != ev("States.UUID()")


@pytest.mark.parametrize(
    "call",
    [
        "States.Format('{} {}', 1)",
        "States.Format('{}', 1, 2)",
        "States.StringToJson('{nope')",
        "States.ArrayPartition($.list, 0)",
        "States.ArrayRange(1, 5000, 1)",
        "States.ArrayRange(1, 5, 0)",
        "States.ArrayGetItem($.list, 10)",
        "States.ArrayLength($.name)",
        "States.Base64Decode('***')",
        "States.Hash('x', 'SHA-3')",
        "States.JsonMerge($.obj, $.obj, true)",
        "States.MathRandom(5, 1)",
        "States.UUID(1)",
        f"States.Base64Encode('{'x' * 10001}')",
    ],
)
def test_bad_arguments_fail_with_intrinsic_failure(call: str) -> None:
    with pytest.raises(StatesError) as err:
        ev(call)
    assert err.value.error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    "call",
    [
        "States.Nope(1)",
        "States.Format('x'",
        "States.Array(1,,2)",
        "States.Format('unterminated)",
        "States.Array(1) extra",
        "States.Array({})",
    ],
)
def test_syntax_errors(call: str) -> None:
    with pytest.raises(intrinsics.IntrinsicSyntaxError):
        intrinsics.parse(call)


def test_path_argument_missing_is_runtime_error() -> None:
    with pytest.raises(StatesError) as err:
        ev("States.ArrayLength($.missing)")
    assert err.value.error == "States.Runtime"


def test_base64_round_trip_of_unicode() -> None:
    encoded = intrinsics.evaluate("States.Base64Encode($.s)", {"s": "héllo ✓"}, {})
    assert base64.b64decode(encoded).decode() == "héllo ✓"
    assert intrinsics.evaluate("States.Base64Decode($.e)", {"e": encoded}, {}) == "héllo ✓"


def test_path_arguments_may_hold_filters() -> None:
    data = {"items": [{"v": 1}, {"v": 5}]}
    assert intrinsics.evaluate("States.ArrayLength($.items[?(@.v > 2)])", data, {}) == 1
