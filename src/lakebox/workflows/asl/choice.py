"""Choice rules of JSONPath states: comparison operators, their ``...Path`` forms, the
``Is*`` tests and the Boolean ``And`` / ``Or`` / ``Not`` combinators.

A value of the wrong type makes a comparison false (not an error); a ``Variable`` that
does not exist is ``States.Runtime`` except for ``IsPresent``, as in AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lakebox.workflows.asl import paths
from lakebox.workflows.errors import StatesError

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """RFC 3339 timestamp with an upper-case ``T`` and a zone, or None."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    text = value
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", text)
    if m:
        text = f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}{m.group(3)}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    return _is_number(a) and _is_number(b) and op(a, b)


def _str(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    return isinstance(a, str) and isinstance(b, str) and op(a, b)


def _ts(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    ta, tb = parse_timestamp(a), parse_timestamp(b)
    return ta is not None and tb is not None and op(ta, tb)


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


def _lt(a: Any, b: Any) -> bool:
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _gt(a: Any, b: Any) -> bool:
    return bool(a > b)


def _ge(a: Any, b: Any) -> bool:
    return bool(a >= b)


def string_matches(value: str, pattern: str) -> bool:
    """``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    regex = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), value, flags=re.DOTALL) is not None


def _bool_eq(a: Any, b: Any) -> bool:
    return isinstance(a, bool) and isinstance(b, bool) and a == b


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "BooleanEquals": _bool_eq,
    "NumericEquals": lambda a, b: _num(a, b, _eq),
    "NumericLessThan": lambda a, b: _num(a, b, _lt),
    "NumericLessThanEquals": lambda a, b: _num(a, b, _le),
    "NumericGreaterThan": lambda a, b: _num(a, b, _gt),
    "NumericGreaterThanEquals": lambda a, b: _num(a, b, _ge),
    "StringEquals": lambda a, b: _str(a, b, _eq),
    "StringLessThan": lambda a, b: _str(a, b, _lt),
    "StringLessThanEquals": lambda a, b: _str(a, b, _le),
    "StringGreaterThan": lambda a, b: _str(a, b, _gt),
    "StringGreaterThanEquals": lambda a, b: _str(a, b, _ge),
    "StringMatches": lambda a, b: _str(a, b, string_matches),
    "TimestampEquals": lambda a, b: _ts(a, b, _eq),
    "TimestampLessThan": lambda a, b: _ts(a, b, _lt),
    "TimestampLessThanEquals": lambda a, b: _ts(a, b, _le),
    "TimestampGreaterThan": lambda a, b: _ts(a, b, _gt),
    "TimestampGreaterThanEquals": lambda a, b: _ts(a, b, _ge),
}

#: The literal type each operator's right-hand side must have (validation).
OPERAND_TYPES: dict[str, str] = {
    "BooleanEquals": "boolean",
    **{k: "number" for k in COMPARISONS if k.startswith("Numeric")},
    **{k: "string" for k in COMPARISONS if k.startswith("String")},
    **{k: "timestamp" for k in COMPARISONS if k.startswith("Timestamp")},
}

TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}

OPERATORS = set(COMPARISONS) | {k + "Path" for k in COMPARISONS} | set(TESTS) | {"IsPresent"}
COMBINATORS = ("And", "Or", "Not")


def rule_operator(rule: dict[str, Any]) -> str | None:
    """The single comparison / test key of a rule, if it has exactly one."""
    found = [k for k in rule if k in OPERATORS]
    return found[0] if len(found) == 1 else None


def _resolve(path: str, data: Any, context: Any, variables: dict[str, Any] | None) -> Any:
    try:
        return paths.evaluate(path, data, context, variables)
    except paths.PathNotFound as exc:
        raise StatesError(
            "States.Runtime",
            f"Invalid path '{path}': The choice state's condition path references an invalid value.",
        ) from exc


def evaluate_rule(
    rule: dict[str, Any], data: Any, context: Any, variables: dict[str, Any] | None = None
) -> bool:
    if "And" in rule:
        return all(evaluate_rule(r, data, context, variables) for r in rule["And"])
    if "Or" in rule:
        return any(evaluate_rule(r, data, context, variables) for r in rule["Or"])
    if "Not" in rule:
        return not evaluate_rule(rule["Not"], data, context, variables)
    op = rule_operator(rule)
    if op is None:
        raise StatesError("States.Runtime", f"Choice rule has no single operator: {rule}")
    variable = rule.get("Variable", "$")
    if op == "IsPresent":
        present = paths.exists(variable, data, context, variables)
        return present == bool(rule[op])
    value = _resolve(variable, data, context, variables)
    if op in TESTS:
        return TESTS[op](value) == bool(rule[op])
    if op.endswith("Path"):
        other = _resolve(rule[op], data, context, variables)
        return COMPARISONS[op[:-4]](value, other)
    return COMPARISONS[op](value, rule[op])
