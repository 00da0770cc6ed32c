"""The SQL/JSON path language of ``json_exists``, ``json_query`` and ``json_value``, evaluated
in Python (DuckDB's JSON paths have no lax/strict modes, filters or ``last``).

A path is parsed once per distinct text and evaluated per row on Python values from
``json.loads``. Items are plain values; a sequence is a list of items. Errors are raised as
``PathError``; the SQL functions turn them into their ON ERROR behaviour.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Item = Any
Sequence = list[Item]


class PathError(ValueError):
    """A path that fails to parse or to evaluate (a structural or type error)."""


_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<string>\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>==|!=|<>|<=|>=|&&|\|\||[$@.\[\]()*?,<>!+\-/%])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r")"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise PathError(f"invalid JSON path near {text[pos:]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


Node = Callable[["_Context", Sequence], Sequence]


@dataclass
class _Context:
    lax: bool
    root: Item
    current: Item = None
    last: int | None = None
    variables: dict[str, Item] | None = None


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        return value is None or self.tokens[self.i][1] == value

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens) or (value is not None and self.tokens[self.i][1] != value):
            found = self.tokens[self.i][1] if self.i < len(self.tokens) else "end of path"
            raise PathError(f"JSON path: expected {value or 'more'}, found {found!r}")
        token = self.tokens[self.i]
        self.i += 1
        return token

    # arithmetic over paths ----------------------------------------------------------
    def expression(self) -> Callable[[_Context], Sequence]:
        left = self.term()
        while self.peek("+") or self.peek("-"):
            op = self.take()[1]
            right = self.term()
            left = _arith(op, left, right)
        return left

    def term(self) -> Callable[[_Context], Sequence]:
        left = self.unary()
        while self.peek("*") or self.peek("/") or self.peek("%"):
            op = self.take()[1]
            right = self.unary()
            left = _arith(op, left, right)
        return left

    def unary(self) -> Callable[[_Context], Sequence]:
        if self.peek("-") or self.peek("+"):
            op = self.take()[1]
            inner = self.unary()
            if op == "+":
                return inner
            return lambda ctx: [-_number(x) for x in inner(ctx)]
        return self.accessors(self.primary())

    def primary(self) -> Callable[[_Context], Sequence]:
        kind, value = self.take()
        if value == "$" and self.i < len(self.tokens) and self.tokens[self.i][0] == "name":
            name = self.take()[1]
            return lambda ctx: [_variable(ctx, name)]
        if value == "$":
            return lambda ctx: [ctx.root]
        if value == "@":
            return lambda ctx: [ctx.current]
        if kind == "number":
            number = float(value) if any(c in value for c in ".eE") else int(value)
            return lambda ctx: [number]
        if kind == "string":
            text = json.loads(value)
            return lambda ctx: [text]
        if kind == "name" and value in ("true", "false", "null"):
            literal = {"true": True, "false": False, "null": None}[value]
            return lambda ctx: [literal]
        if kind == "name" and value == "last":
            return lambda ctx: _last(ctx)
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        raise PathError(f"JSON path: unexpected {value!r}")

    def accessors(self, base: Callable[[_Context], Sequence]) -> Callable[[_Context], Sequence]:
        while True:
            if self.peek("."):
                self.take(".")
                if self.peek("."):
                    self.take(".")
                    kind, name = self.take()
                    if kind not in ("name", "string"):
                        raise PathError(f"JSON path: unexpected {name!r} after '..'")
                    base = _descendant(base, json.loads(name) if kind == "string" else name)
                    continue
                if self.peek("*"):
                    self.take("*")
                    base = _wildcard_member(base)
                    continue
                kind, name = self.take()
                if kind == "string":
                    name = json.loads(name)
                elif kind != "name":
                    raise PathError(f"JSON path: unexpected {name!r} after '.'")
                elif self.peek("("):
                    self.take("(")
                    self.take(")")
                    base = _method(base, name)
                    continue
                base = _member(base, name)
            elif self.peek("["):
                self.take("[")
                if self.peek("*"):
                    self.take("*")
                    self.take("]")
                    base = _wildcard_array(base)
                    continue
                subscripts: list[tuple[Callable[[_Context], Sequence], Any]] = []
                while True:
                    start = self.expression()
                    end = None
                    if self.peek("to"):
                        self.take("to")
                        end = self.expression()
                    subscripts.append((start, end))
                    if not self.peek(","):
                        break
                    self.take(",")
                self.take("]")
                base = _subscript(base, subscripts)
            elif self.peek("?"):
                self.take("?")
                self.take("(")
                predicate = self.predicate()
                self.take(")")
                base = _filter(base, predicate)
            else:
                return base

    # predicates -----------------------------------------------------------------------
    def predicate(self) -> Callable[[_Context], bool | None]:
        left = self.conjunction()
        while self.peek("||"):
            self.take("||")
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Callable[[_Context], bool | None]:
        left = self.negation()
        while self.peek("&&"):
            self.take("&&")
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self) -> Callable[[_Context], bool | None]:
        if self.peek("!"):
            self.take("!")
            inner = self.negation()
            return lambda ctx: None if (v := inner(ctx)) is None else not v
        if self.peek("exists"):
            self.take("exists")
            self.take("(")
            path = self.expression()
            self.take(")")
            return _exists(path)
        if self.peek("("):
            saved = self.i
            try:
                self.take("(")
                inner = self.predicate()
                self.take(")")
                if self.peek("is"):
                    self.take("is")
                    self.take("unknown")
                    return lambda ctx: inner(ctx) is None
                return inner
            except PathError:
                self.i = saved
        left = self.expression()
        if self.peek("starts"):
            self.take("starts")
            self.take("with")
            return _starts_with(left, self.expression())
        if self.peek("like_regex"):
            self.take("like_regex")
            kind, pattern = self.take()
            if kind != "string":
                raise PathError("JSON path: like_regex needs a string pattern")
            flags = ""
            if self.peek("flag"):
                self.take("flag")
                kind, flags = self.take()
                flags = json.loads(flags) if kind == "string" else ""
            return _like_regex(left, json.loads(pattern), flags)
        _, op = self.take()
        if op not in ("==", "!=", "<>", "<", ">", "<=", ">="):
            raise PathError(f"JSON path: expected a comparison, found {op!r}")
        right = self.expression()
        return _compare(op, left, right)


def _starts_with(
    left: Callable[[_Context], Sequence], right: Callable[[_Context], Sequence]
) -> Callable[[_Context], bool | None]:
    def run(ctx: _Context) -> bool | None:
        try:
            items, prefixes = _unwrap(ctx, left(ctx)), right(ctx)
        except PathError:
            return None
        if len(prefixes) != 1 or not isinstance(prefixes[0], str):
            return None
        unknown = False
        for item in items:
            if not isinstance(item, str):
                unknown = True
            elif item.startswith(prefixes[0]):
                return True
        return None if unknown else False

    return run


def _like_regex(
    left: Callable[[_Context], Sequence], pattern: str, flags: str
) -> Callable[[_Context], bool | None]:
    options = 0
    for flag in flags:
        options |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(
            flag, 0
        )
    try:
        compiled = re.compile(pattern, options)
    except re.error as err:
        raise PathError(f"JSON path: invalid like_regex pattern {pattern!r}") from err

    def run(ctx: _Context) -> bool | None:
        try:
            items = _unwrap(ctx, left(ctx))
        except PathError:
            return None
        unknown = False
        for item in items:
            if not isinstance(item, str):
                unknown = True
            elif compiled.search(item):
                return True
        return None if unknown else False

    return run


def _variable(ctx: _Context, name: str) -> Item:
    if ctx.variables is None or name not in ctx.variables:
        raise PathError(f"JSON path: no value passed for ${name}")
    return ctx.variables[name]


def _last(ctx: _Context) -> Sequence:
    if ctx.last is None:
        raise PathError("JSON path: 'last' outside an array subscript")
    return [ctx.last]


def _number(item: Item) -> float | int:
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        raise PathError(f"JSON path: {json.dumps(item)} is not a number")
    return item


def _arith(
    op: str, left: Callable[[_Context], Sequence], right: Callable[[_Context], Sequence]
) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        a, b = left(ctx), right(ctx)
        if len(a) != 1 or len(b) != 1:
            raise PathError("JSON path: arithmetic needs one number on each side")
        x, y = _number(a[0]), _number(b[0])
        if op in "/%" and y == 0:
            raise PathError("JSON path: division by zero")
        if op == "+":
            return [x + y]
        if op == "-":
            return [x - y]
        if op == "*":
            return [x * y]
        if op == "/":
            return [x / y if isinstance(x, float) or isinstance(y, float) else int(x / y)]
        return [
            math.fmod(x, y)
            if isinstance(x, float) or isinstance(y, float)
            else int(math.fmod(x, y))
        ]

    return run


def _unwrap(ctx: _Context, items: Sequence) -> Sequence:
    """Lax mode opens arrays before an operation that needs something else."""
    if not ctx.lax:
        return items
    out: Sequence = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def _member(base: Callable[[_Context], Sequence], name: str) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        out: Sequence = []
        for item in _unwrap(ctx, base(ctx)):
            if isinstance(item, dict) and name in item:
                out.append(item[name])
            elif not ctx.lax:
                raise PathError(f"JSON path: no member {name!r}")
        return out

    return run


def _descendant(base: Callable[[_Context], Sequence], name: str) -> Callable[[_Context], Sequence]:
    """``..name``: the member in every object at any depth, in preorder (no lax unwrapping)."""

    def visit(item: Item, out: Sequence) -> None:
        if isinstance(item, dict):
            if name in item:
                out.append(item[name])
            for value in item.values():
                visit(value, out)
        elif isinstance(item, list):
            for value in item:
                visit(value, out)

    def run(ctx: _Context) -> Sequence:
        out: Sequence = []
        for item in base(ctx):
            visit(item, out)
        return out

    return run


def _wildcard_member(base: Callable[[_Context], Sequence]) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        out: Sequence = []
        for item in _unwrap(ctx, base(ctx)):
            if isinstance(item, dict):
                out.extend(item.values())
            elif not ctx.lax:
                raise PathError("JSON path: .* needs an object")
        return out

    return run


def _arrays(ctx: _Context, items: Sequence) -> list[list[Item]]:
    """Lax mode wraps a non-array in a one-element array before an array accessor."""
    out: list[list[Item]] = []
    for item in items:
        if isinstance(item, list):
            out.append(item)
        elif ctx.lax:
            out.append([item])
        else:
            raise PathError("JSON path: an array accessor needs an array")
    return out


def _wildcard_array(base: Callable[[_Context], Sequence]) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        return [x for array in _arrays(ctx, base(ctx)) for x in array]

    return run


def _index(ctx: _Context, node: Callable[[_Context], Sequence]) -> int:
    values = node(ctx)
    if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], (int, float)):
        raise PathError("JSON path: an array subscript must be one number")
    return int(values[0])


def _subscript(
    base: Callable[[_Context], Sequence], subscripts: list[tuple[Any, Any]]
) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        out: Sequence = []
        for array in _arrays(ctx, base(ctx)):
            inner = _Context(ctx.lax, ctx.root, ctx.current, len(array) - 1, ctx.variables)
            for start, end in subscripts:
                first = _index(inner, start)
                final = _index(inner, end) if end is not None else first
                out_of_bounds = first > final or first < 0 or final >= len(array)
                if out_of_bounds and not ctx.lax:
                    raise PathError("JSON path: array subscript out of bounds")
                out.extend(array[i] for i in range(max(first, 0), min(final, len(array) - 1) + 1))
        return out

    return run


def _filter(
    base: Callable[[_Context], Sequence], predicate: Callable[[_Context], bool | None]
) -> Callable[[_Context], Sequence]:
    def run(ctx: _Context) -> Sequence:
        out: Sequence = []
        for item in _unwrap(ctx, base(ctx)):
            if predicate(_Context(ctx.lax, ctx.root, item, ctx.last, ctx.variables)) is True:
                out.append(item)
        return out

    return run


def _method(base: Callable[[_Context], Sequence], name: str) -> Callable[[_Context], Sequence]:
    def item_type(x: Item) -> str:
        if x is None:
            return "null"
        if isinstance(x, bool):
            return "boolean"
        if isinstance(x, (int, float)):
            return "number"
        if isinstance(x, str):
            return "string"
        return "array" if isinstance(x, list) else "object"

    def run(ctx: _Context) -> Sequence:
        items = base(ctx)
        if name == "type":
            return [item_type(x) for x in items]
        if name == "size":
            return [
                len(x) if isinstance(x, list) else 1 if ctx.lax else _fail("size") for x in items
            ]
        items = _unwrap(ctx, items)
        if name == "double":
            return [
                float(x)
                if not isinstance(x, bool) and isinstance(x, (int, float, str))
                else _fail("double")
                for x in items
            ]
        if name in ("ceiling", "floor", "abs"):
            rounding: dict[str, Callable[[float], float]] = {
                "ceiling": math.ceil,
                "floor": math.floor,
                "abs": abs,
            }
            return [rounding[name](_number(x)) for x in items]
        if name == "keyvalue":
            out: Sequence = []
            for n, x in enumerate(items):
                if not isinstance(x, dict):
                    raise PathError("JSON path: keyvalue() needs an object")
                out.extend({"name": k, "value": v, "id": n} for k, v in x.items())
            return out
        raise PathError(f"JSON path: unsupported item method {name}()")

    return run


def _fail(name: str) -> Any:
    raise PathError(f"JSON path: {name}() cannot apply to this item")


def _exists(path: Callable[[_Context], Sequence]) -> Callable[[_Context], bool | None]:
    def run(ctx: _Context) -> bool | None:
        try:
            return bool(path(ctx))
        except PathError:
            return None

    return run


def _and(
    a: Callable[[_Context], bool | None], b: Callable[[_Context], bool | None]
) -> Callable[[_Context], bool | None]:
    def run(ctx: _Context) -> bool | None:
        x, y = a(ctx), b(ctx)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return run


def _or(
    a: Callable[[_Context], bool | None], b: Callable[[_Context], bool | None]
) -> Callable[[_Context], bool | None]:
    def run(ctx: _Context) -> bool | None:
        x, y = a(ctx), b(ctx)
        if x is True or y is True:
            return True
        return None if x is None or y is None else False

    return run


def _compare(
    op: str, left: Callable[[_Context], Sequence], right: Callable[[_Context], Sequence]
) -> Callable[[_Context], bool | None]:
    def one(x: Item, y: Item) -> bool | None:
        if x is None or y is None:
            return (x is None and y is None) if op == "==" else False
        if isinstance(x, (list, dict)) or isinstance(y, (list, dict)):
            return None
        numeric = (
            isinstance(x, (int, float)) and not isinstance(x, bool),
            isinstance(y, (int, float)) and not isinstance(y, bool),
        )
        if numeric[0] != numeric[1] or (not numeric[0] and type(x) is not type(y)):
            return None
        if op == "==":
            return bool(x == y)
        if op in ("!=", "<>"):
            return bool(x != y)
        if op == "<":
            return bool(x < y)
        if op == ">":
            return bool(x > y)
        if op == "<=":
            return bool(x <= y)
        return bool(x >= y)

    def run(ctx: _Context) -> bool | None:
        try:
            xs, ys = _unwrap(ctx, left(ctx)), _unwrap(ctx, right(ctx))
        except PathError:
            return None
        unknown = False
        for x in xs:
            for y in ys:
                result = one(x, y)
                if result is True:
                    return True
                if result is None:
                    unknown = True
                    if not ctx.lax:
                        return None
        return None if unknown else False

    return run


@lru_cache(maxsize=256)
def compile_path(text: str) -> tuple[bool, Callable[[_Context], Sequence]]:
    """(lax, evaluator) for a path such as ``lax $.a[*]?(@ > 1)``."""
    stripped = text.strip()
    mode, _, rest = stripped.partition(" ")
    if mode in ("lax", "strict"):
        lax, body = mode == "lax", rest
    else:
        lax, body = True, stripped
    parser = _Parser(body)
    node = parser.expression()
    if parser.i != len(parser.tokens):
        raise PathError(f"JSON path: unexpected {parser.tokens[parser.i][1]!r}")
    return lax, node


def path_variables(text: str) -> set[str]:
    """The $names a path refers to (its PASSING variables)."""
    stripped = text.strip()
    mode, _, rest = stripped.partition(" ")
    tokens = _tokens(rest if mode in ("lax", "strict") else stripped)
    return {
        tokens[i + 1][1]
        for i, (_, value) in enumerate(tokens[:-1])
        if value == "$" and tokens[i + 1][0] == "name"
    }


def evaluate(document: str, path: str, variables: dict[str, Item] | None = None) -> Sequence:
    """The sequence a path gives over a JSON text (``PathError`` when it fails);
    ``variables`` are the PASSING values, by name."""
    try:
        root = json.loads(document)
    except ValueError as err:
        raise PathError(f"malformed JSON input: {document[:50]!r}") from err
    lax, node = compile_path(path)
    return node(_Context(lax, root, variables=variables or {}))


def dumps(item: Item) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False)
