"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath states.

A small recursive-descent parser turns the call text into a tree once (cached); evaluation
resolves path arguments against the input, the context object and variables. Every failure
is ``States.IntrinsicFailure`` with a message naming the function, as AWS reports it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lakebox.workflows.asl import paths
from lakebox.workflows.errors import StatesError


class IntrinsicSyntaxError(ValueError):
    """Text that starts like an intrinsic call but does not parse."""


@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None  # for strings: text with \{ \} escapes kept (States.Format needs them)


@dataclass(frozen=True)
class PathArg:
    path: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.lstrip().startswith("States.")


@lru_cache(maxsize=2048)
def parse(text: str) -> Call:
    parser = _Parser(text)
    call = parser.call()
    parser.skip_ws()
    if parser.pos != len(text):
        raise IntrinsicSyntaxError(f"unexpected text after the call at position {parser.pos}")
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self) -> Call:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] in "._"
        ):
            self.pos += 1
        name = self.text[start : self.pos]
        if not name.startswith("States."):
            raise IntrinsicSyntaxError(f"expected a States.<Function> call at position {start}")
        if name not in FUNCTIONS:
            raise IntrinsicSyntaxError(f"unknown intrinsic function {name}")
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise IntrinsicSyntaxError(f"expected '(' after {name}")
        self.pos += 1
        args: list[Any] = []
        self.skip_ws()
        if self.pos < len(self.text) and self.text[self.pos] == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            args.append(self.arg())
            self.skip_ws()
            if self.pos >= len(self.text):
                raise IntrinsicSyntaxError(f"missing ')' in {name}")
            c = self.text[self.pos]
            self.pos += 1
            if c == ")":
                return Call(name, tuple(args))
            if c != ",":
                raise IntrinsicSyntaxError(f"expected ',' or ')' at position {self.pos - 1}")

    def arg(self) -> Any:
        self.skip_ws()
        if self.pos >= len(self.text):
            raise IntrinsicSyntaxError("missing argument")
        c = self.text[self.pos]
        if c == "'":
            return self.string()
        if c == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        start = self.pos
        while (
            self.pos < len(self.text)
            and self.text[self.pos] not in ",)"
            and not self.text[self.pos].isspace()
        ):
            self.pos += 1
        token = self.text[start : self.pos]
        try:
            value = json.loads(token)
        except json.JSONDecodeError as exc:
            raise IntrinsicSyntaxError(f"bad argument {token!r}") from exc
        if isinstance(value, dict | list):
            raise IntrinsicSyntaxError(f"bad argument {token!r}")
        return Literal(value)

    def string(self) -> Literal:
        self.pos += 1
        value: list[str] = []
        raw: list[str] = []
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                value.append(nxt)
                raw.append("\\" + nxt if nxt in "{}\\" else nxt)
                self.pos += 2
                continue
            if c == "'":
                self.pos += 1
                return Literal("".join(value), "".join(raw))
            value.append(c)
            raw.append(c)
            self.pos += 1
        raise IntrinsicSyntaxError("unterminated string literal")

    def path(self) -> PathArg:
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"" and depth > 0:
                quote = c
            elif c in "[(":
                depth += 1
            elif c in "])":
                if depth == 0:
                    break
                depth -= 1
            elif (c == "," and depth == 0) or (c.isspace() and depth == 0):
                break
            self.pos += 1
        text = self.text[start : self.pos]
        try:
            paths.parse_path(text)
        except paths.PathSyntaxError as exc:
            raise IntrinsicSyntaxError(str(exc)) from exc
        return PathArg(text)


def evaluate(text: str, data: Any, context: Any, variables: dict[str, Any] | None = None) -> Any:
    try:
        call = parse(text)
    except IntrinsicSyntaxError as exc:
        raise StatesError("States.IntrinsicFailure", f"Invalid intrinsic {text!r}: {exc}") from exc
    return _eval(call, data, context, variables)


def _eval(node: Any, data: Any, context: Any, variables: dict[str, Any] | None) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, PathArg):
        try:
            return paths.evaluate(node.path, data, context, variables)
        except paths.PathNotFound as exc:
            raise StatesError(
                "States.Runtime",
                f"The JSONPath '{node.path}' given to an intrinsic function could not be found "
                f"in the input '{json.dumps(data, separators=(',', ':'), ensure_ascii=False)}'",
            ) from exc
    assert isinstance(node, Call)
    if node.name == "States.Format":
        return _format(node, data, context, variables)
    args = [_eval(a, data, context, variables) for a in node.args]
    return FUNCTIONS[node.name](node.name, args)


def _fail(name: str, message: str) -> StatesError:
    return StatesError("States.IntrinsicFailure", f"Invalid arguments in {name}: {message}")


def _arity(name: str, args: list[Any], low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise _fail(name, f"expected {want} arguments, got {len(args)}")


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()
    )


def _text(v: Any) -> str:
    """How States.Format prints an argument: strings as they are, objects and arrays the way
    AWS renders them (``{a=1, b=[x, y]}``: Java's map and list text, strings unquoted)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_text(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return str(v)


def _format(node: Call, data: Any, context: Any, variables: dict[str, Any] | None) -> str:
    name = node.name
    if (
        not node.args
        or not isinstance(node.args[0], Literal)
        or not isinstance(node.args[0].value, str)
    ):
        if node.args and not isinstance(node.args[0], Literal):
            template_value = _eval(node.args[0], data, context, variables)
            if not isinstance(template_value, str):
                raise _fail(name, "the first argument must be a string template")
            template = template_value
        else:
            raise _fail(name, "the first argument must be a string template")
    else:
        template = node.args[0].raw or ""
    values = [_eval(a, data, context, variables) for a in node.args[1:]]
    out: list[str] = []
    i, used = 0, 0
    while i < len(template):
        c = template[i]
        if c == "\\" and i + 1 < len(template) and template[i + 1] in "{}\\":
            out.append(template[i + 1])
            i += 2
        elif template.startswith("{}", i):
            if used >= len(values):
                raise _fail(name, "the template has more '{}' than arguments")
            out.append(_text(values[used]))
            used += 1
            i += 2
        else:
            out.append(c)
            i += 1
    if used != len(values):
        raise _fail(name, "the template has fewer '{}' than arguments")
    return "".join(out)


def _string_to_json(name: str, args: list[Any]) -> Any:
    _arity(name, args, 1)
    if not isinstance(args[0], str):
        raise _fail(name, "the argument must be a string")
    try:
        return json.loads(args[0]) if args[0].strip() else None
    except json.JSONDecodeError as exc:
        raise _fail(name, "the argument is not a JSON text") from exc


def _json_to_string(name: str, args: list[Any]) -> str:
    _arity(name, args, 1)
    return json.dumps(args[0], separators=(",", ":"), ensure_ascii=False)


def _array(name: str, args: list[Any]) -> list[Any]:
    return list(args)


def _need_list(name: str, v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(name, "the first argument must be an array")
    return v


def _array_partition(name: str, args: list[Any]) -> list[Any]:
    _arity(name, args, 2)
    arr = _need_list(name, args[0])
    size = args[1]
    if not _is_int(size) or size <= 0:
        raise _fail(name, "the chunk size must be a positive integer")
    n = int(size)
    return [arr[i : i + n] for i in range(0, len(arr), n)]


def _array_contains(name: str, args: list[Any]) -> bool:
    _arity(name, args, 2)
    return any(paths.json_equal(x, args[1]) for x in _need_list(name, args[0]))


def _array_range(name: str, args: list[Any]) -> list[int]:
    _arity(name, args, 3)
    if not all(_is_int(a) for a in args):
        raise _fail(name, "start, end and step must be integers")
    start, end, step = (int(a) for a in args)
    if step == 0:
        raise _fail(name, "step must not be 0")
    out = list(range(start, end + (1 if step > 0 else -1), step))
    if len(out) > 1000:
        raise _fail(name, "the range has more than 1000 items")
    return out


def _array_get_item(name: str, args: list[Any]) -> Any:
    _arity(name, args, 2)
    arr = _need_list(name, args[0])
    if not _is_int(args[1]) or not 0 <= int(args[1]) < len(arr):
        raise _fail(name, f"index {args[1]} is out of bounds for an array of {len(arr)}")
    return arr[int(args[1])]


def _array_length(name: str, args: list[Any]) -> int:
    _arity(name, args, 1)
    return len(_need_list(name, args[0]))


def _array_unique(name: str, args: list[Any]) -> list[Any]:
    _arity(name, args, 1)
    out: list[Any] = []
    for x in _need_list(name, args[0]):
        if not any(paths.json_equal(x, y) for y in out):
            out.append(x)
    return out


def _b64_encode(name: str, args: list[Any]) -> str:
    _arity(name, args, 1)
    if not isinstance(args[0], str) or len(args[0]) > 10000:
        raise _fail(name, "the argument must be a string of at most 10000 characters")
    return base64.b64encode(args[0].encode()).decode()


def _b64_decode(name: str, args: list[Any]) -> str:
    _arity(name, args, 1)
    if not isinstance(args[0], str) or len(args[0]) > 10000:
        raise _fail(name, "the argument must be a string of at most 10000 characters")
    try:
        return base64.b64decode(args[0], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _fail(name, "the argument is not valid base64 text") from exc


_HASHES = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


def _hash(name: str, args: list[Any]) -> str:
    _arity(name, args, 2)
    data, algorithm = args
    if algorithm not in _HASHES:
        raise _fail(name, f"algorithm must be one of {', '.join(_HASHES)}")
    if not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"))
    if len(data) > 10000:
        raise _fail(name, "the input is longer than 10000 characters")
    return hashlib.new(_HASHES[algorithm], data.encode()).hexdigest()


def _json_merge(name: str, args: list[Any]) -> dict[str, Any]:
    _arity(name, args, 3)
    a, b, deep = args
    if not isinstance(a, dict) or not isinstance(b, dict):
        raise _fail(name, "both inputs must be JSON objects")
    if deep is not False:
        raise _fail(name, "only shallow merge is supported: the third argument must be false")
    return {**a, **b}


def _rounded(name: str, value: Any) -> int:
    """A math argument as an integer: AWS rounds a non-integer to the nearest integer, halves
    upwards (1.5 -> 2, -1.5 -> -1, as Java's Math.round)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise _fail(name, f"the arguments must be numbers, got {json.dumps(value)}")
    return value if isinstance(value, int) else math.floor(value + 0.5)


def _math_random(name: str, args: list[Any]) -> int:
    _arity(name, args, 2, 3)
    start, end, *seed = (_rounded(name, a) for a in args)
    if end <= start:
        raise _fail(name, "end must be greater than start")
    rng = random.Random(seed[0]) if seed else random.SystemRandom()
    return rng.randrange(start, end)


def _math_add(name: str, args: list[Any]) -> int:
    _arity(name, args, 2)
    return _rounded(name, args[0]) + _rounded(name, args[1])


def _string_split(name: str, args: list[Any]) -> list[str]:
    _arity(name, args, 2)
    text, splitter = args
    if not isinstance(text, str) or not isinstance(splitter, str):
        raise _fail(name, "both arguments must be strings")
    parts: list[str] = []
    cur: list[str] = []
    for c in text:
        if c in splitter:
            if cur:
                parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if cur:
        parts.append("".join(cur))
    return parts


def _uuid(name: str, args: list[Any]) -> str:
    _arity(name, args, 0)
    return str(uuid.uuid4())


FUNCTIONS: dict[str, Callable[[str, list[Any]], Any]] = {
    "States.Format": lambda name, args: None,  # evaluated by _format, needs raw text
    "States.StringToJson": _string_to_json,
    "States.JsonToString": _json_to_string,
    "States.Array": _array,
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": _array_contains,
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": _array_length,
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": _b64_encode,
    "States.Base64Decode": _b64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": _math_add,
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}
