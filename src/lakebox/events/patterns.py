"""EventBridge event patterns: checked when a rule is made, matched against every event.

A pattern is a JSON object shaped like the events it matches; each leaf is a list of
values, any of which may match (exact values, or one-key filter objects: ``prefix``,
``suffix``, ``anything-but``, ``numeric``, ``exists``, ``equals-ignore-case``,
``wildcard``, ``cidr``), and ``$or`` takes a list of alternative patterns at any level.
Keys of one object must all match (and); a field whose value is an array matches when any
element does. Matching is type-aware, as EventBridge's: the string ``"5"`` is not the
number ``5``, a pattern's ``null`` matches a JSON null and never a missing field.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from lakebox.errors import InvalidRequestError

#: a field the event does not have (distinct from a JSON null)
_MISSING = object()

_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
_FILTERS = {
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "equals-ignore-case",
    "wildcard",
    "cidr",
}


class InvalidEventPatternError(InvalidRequestError):
    """A pattern EventBridge would refuse (``InvalidEventPatternException``)."""

    code = "InvalidEventPatternException"


def _bad(reason: str) -> InvalidEventPatternError:
    return InvalidEventPatternError(f"Event pattern is not valid. Reason: {reason}")


#: EventBridge's limit on a pattern's length; and how deeply lakebox lets one nest
MAX_LENGTH = 4096
MAX_DEPTH = 64


def parse_pattern(text: str) -> dict[str, Any]:
    """The pattern ``text`` holds, checked; raises InvalidEventPatternError naming what
    is wrong."""
    if not isinstance(text, str):
        raise _bad("Filter is not an object")
    if len(text) > MAX_LENGTH:
        raise InvalidEventPatternError(
            "1 validation error detected: Value at 'eventPattern' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_LENGTH}"
        )
    try:
        pattern = json.loads(text)
    except (ValueError, RecursionError):
        raise _bad("Filter is not an object") from None
    check_pattern(pattern)
    result: dict[str, Any] = pattern
    return result


def check_pattern(pattern: Any, where: str = "", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _bad(f"Filter is nested more than {MAX_DEPTH} levels deep (at {where})")
    if not isinstance(pattern, dict):
        raise _bad(f"Filter is not an object{f' at {where}' if where else ''}")
    if not pattern and not where:
        raise _bad("Empty objects are not allowed")
    for key, value in pattern.items():
        path = f"{where}.{key}" if where else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _bad(f"{path} must be a list of at least two patterns")
            for i, alternative in enumerate(value):
                check_pattern(alternative, f"{path}[{i}]", depth + 1)
        elif isinstance(value, dict):
            if not value:
                raise _bad(f"Empty objects are not allowed (at {path})")
            check_pattern(value, path, depth + 1)
        elif isinstance(value, list):
            if not value:
                raise _bad(f"Empty arrays are not allowed (at {path})")
            for item in value:
                _check_value(item, path)
        else:
            raise _bad(f'"{path}" must be an object or an array')


def _check_value(item: Any, path: str) -> None:
    if item is None or isinstance(item, str | int | float | bool):
        return
    if isinstance(item, list):
        raise _bad(f"Arrays inside arrays are not allowed (at {path})")
    if not isinstance(item, dict) or len(item) != 1:
        raise _bad(f"A filter object at {path} must have exactly one key")
    ((name, arg),) = item.items()
    if name not in _FILTERS:
        raise _bad(f"Unrecognized match type {name} (at {path})")
    if name in ("prefix", "suffix"):
        if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
            arg = arg["equals-ignore-case"]
        if not isinstance(arg, str):
            raise _bad(f"{name} match pattern must be a string (at {path})")
    elif name in ("equals-ignore-case", "wildcard"):
        if not isinstance(arg, str):
            raise _bad(f"{name} match pattern must be a string (at {path})")
        if name == "wildcard":
            _check_wildcard(arg, path)
    elif name == "exists":
        if not isinstance(arg, bool):
            raise _bad(f"exists match pattern must be either true or false (at {path})")
    elif name == "numeric":
        _numeric_ranges(arg, path)
    elif name == "cidr":
        try:
            ipaddress.ip_network(str(arg), strict=False)
        except ValueError:
            raise _bad(f"Malformed CIDR, one '/' required (at {path})") from None
    elif name == "anything-but":
        _check_anything_but(arg, path)


def _check_anything_but(arg: Any, path: str) -> None:
    if isinstance(arg, dict):
        if len(arg) != 1 or next(iter(arg)) not in (
            "prefix",
            "suffix",
            "equals-ignore-case",
            "wildcard",
        ):
            raise _bad(f"Unsupported anything-but pattern (at {path})")
        value = next(iter(arg.values()))
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise _bad(f"anything-but {next(iter(arg))} must be a string (at {path})")
        if next(iter(arg)) == "wildcard":
            for v in values:
                _check_wildcard(v, path)
        return
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
    ):
        raise _bad(f"Inside anything-but list, only strings and numbers are allowed (at {path})")


def _numeric_ranges(arg: Any, path: str) -> list[tuple[str, float]]:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise _bad(f"Value of numeric must be an array of operator, number pairs (at {path})")
    out = []
    for op, number in zip(arg[::2], arg[1::2], strict=True):
        if op not in _NUMERIC_OPS:
            raise _bad(f"Unrecognized numeric range operator: {op} (at {path})")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _bad(f"Value of {op} must be numeric (at {path})")
        out.append((op, float(number)))
    return out


# -- matching ---------------------------------------------------------------------------------


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a decoded JSON object) matches the checked ``pattern``."""
    return _object(pattern, event if isinstance(event, dict) else {})


def _object(pattern: dict[str, Any], event: Any) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not any(_object(alt, event) for alt in spec):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(spec, dict):
            if isinstance(value, list):
                if not any(_object(spec, v) for v in value if isinstance(v, dict)):
                    return False
            elif not _object(spec, value if isinstance(value, dict) else {}):
                return False
        elif not _leaf(spec, value):
            return False
    return True


def _leaf(spec: list[Any], value: Any) -> bool:
    if isinstance(value, list):
        values = value
    elif value is _MISSING:
        values = []
    else:
        values = [value]
    for item in spec:
        if isinstance(item, dict) and "exists" in item:
            present = value is not _MISSING and not isinstance(value, dict)
            if isinstance(value, list):
                present = bool(value)
            if present == item["exists"]:
                return True
            continue
        if any(_one(item, v) for v in values):
            return True
    return False


def _same(expected: Any, value: Any) -> bool:
    if expected is None or isinstance(expected, bool):
        return value is expected
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    return isinstance(value, int | float) and not isinstance(value, bool) and value == expected


def _one(item: Any, value: Any) -> bool:
    if not isinstance(item, dict):
        return _same(item, value)
    ((name, arg),) = item.items()
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(_compare(op, float(value), n) for op, n in _numeric_ranges(arg, ""))
    if name == "anything-but":
        return _anything_but(arg, value)
    if not isinstance(value, str):
        return False
    if name in ("prefix", "suffix"):
        ignore = isinstance(arg, dict)
        text = arg["equals-ignore-case"] if ignore else arg
        subject, text = (value.lower(), text.lower()) if ignore else (value, text)
        return subject.startswith(text) if name == "prefix" else subject.endswith(text)
    if name == "equals-ignore-case":
        return value.lower() == str(arg).lower()
    if name == "wildcard":
        return wildcard_match(str(arg), value)
    if name == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(str(arg), strict=False)
        except ValueError:
            return False
    return False


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        if not isinstance(value, str):
            return False
        ((name, inner),) = arg.items()
        texts = inner if isinstance(inner, list) else [inner]
        return not any(_one({name: t}, value) for t in texts)
    values = arg if isinstance(arg, list) else [arg]
    return not any(_same(v, value) for v in values)


def _compare(op: str, value: float, bound: float) -> bool:
    if op == "=":
        return value == bound
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    return value >= bound


def _wildcard_parts(text: str) -> list[str]:
    """A wildcard value's literal pieces, between its unescaped ``*`` (``\\*`` is a literal
    star): ``"a*b*"`` is ``["a", "b", ""]``."""
    parts = [""]
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] == "*":
            parts[-1] += "*"
            i += 2
            continue
        if char == "*":
            parts.append("")
        else:
            parts[-1] += char
        i += 1
    return parts


def _check_wildcard(text: str, path: str) -> None:
    """EventBridge refuses two ``*`` in a row (``**`` says nothing ``*`` does not)."""
    i = 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 2] == "*":
            i += 2
            continue
        if text[i] == "*" and text[i + 1 : i + 2] == "*":
            raise _bad(f"Consecutive wildcard characters at pos {i + 1} (at {path})")
        i += 1


def wildcard_match(text: str, value: str) -> bool:
    """Whether ``value`` matches the wildcard ``text`` (``*``: any run of characters).

    Not a regular expression: ``.*`` repeated backtracks exponentially on a value that
    almost matches, and matching runs on the bus's own thread for every event. Here the
    first piece must start the value and the last end it, and each piece between is found
    at its leftmost place after the one before (leftmost is always best with ``*`` only),
    so each character of the value is looked at a bounded number of times."""
    parts = _wildcard_parts(text)
    if len(parts) == 1:
        return value == parts[0]
    first, *middle, last = parts
    if len(first) + len(last) > len(value):
        return False
    if not value.startswith(first) or not value.endswith(last):
        return False
    at, end = len(first), len(value) - len(last)
    for piece in middle:
        found = value.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True
