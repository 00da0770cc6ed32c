"""JsonPath as ASL uses it.

Written here rather than taken from jsonpath-ng because ASL needs things a general library
does not give: the ``$$`` context root and ``$var`` variable roots, the definite / indefinite
distinction (a definite path that misses is an error, an indefinite one yields ``[]``), and
Reference Paths (single-node paths that ResultPath writes through).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lakebox.workflows.errors import StatesError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_MISSING = object()


class PathSyntaxError(ValueError):
    """The text is not a JsonPath ASL accepts."""


class PathNotFound(LookupError):
    """A definite path found nothing in the data."""


@dataclass(frozen=True)
class Step:
    kind: str  # field, index, wild, slice, union, descend, filter
    name: str = ""
    index: int = 0
    items: tuple[Any, ...] = ()
    slice_: tuple[int | None, int | None, int | None] = (None, None, None)
    expr: Any = None


@dataclass(frozen=True)
class JsonPath:
    text: str
    root: str  # "$", "$$" or a variable name
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def definite(self) -> bool:
        return all(s.kind in ("field", "index") for s in self.steps)

    @property
    def is_reference(self) -> bool:
        return self.root == "$" and self.definite


# --------------------------------------------------------------------------- parsing


@lru_cache(maxsize=4096)
def parse_path(text: str) -> JsonPath:
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"path must start with '$': {text!r}")
    if text.startswith("$$"):
        root, pos = "$$", 2
    else:
        m = _VAR.match(text)
        if m:
            root, pos = m.group(1), m.end()
        else:
            root, pos = "$", 1
    steps: list[Step] = []
    n = len(text)
    while pos < n:
        ch = text[pos]
        if text.startswith("..", pos):
            pos += 2
            if pos < n and text[pos] == "*":
                steps.append(Step("descend", name="*"))
                pos += 1
            elif pos < n and text[pos] == "[":
                end = _bracket_end(text, pos)
                inner = _parse_bracket(text[pos + 1 : end], text)
                steps.append(Step("descend", name="", expr=inner))
                pos = end + 1
            else:
                name, pos = _read_name(text, pos)
                steps.append(Step("descend", name=name))
        elif ch == ".":
            pos += 1
            if pos < n and text[pos] == "*":
                steps.append(Step("wild"))
                pos += 1
            else:
                name, pos = _read_name(text, pos)
                steps.append(Step("field", name=name))
        elif ch == "[":
            end = _bracket_end(text, pos)
            steps.append(_parse_bracket(text[pos + 1 : end], text))
            pos = end + 1
        else:
            raise PathSyntaxError(f"unexpected {ch!r} at position {pos} in {text!r}")
    return JsonPath(text, root, tuple(steps))


def _read_name(text: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(text) and text[pos] not in ".[":
        if text[pos] in " ()'\"=<>!&|,":
            break
        pos += 1
    if pos == start:
        raise PathSyntaxError(f"missing field name at position {start} in {text!r}")
    if pos < len(text) and text[pos] not in ".[":
        raise PathSyntaxError(f"unexpected {text[pos]!r} at position {pos} in {text!r}")
    return text[start:pos], pos


def _bracket_end(text: str, pos: int) -> int:
    depth, quote, i = 0, "", pos
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise PathSyntaxError(f"unclosed '[' in {text!r}")


def _unquote(token: str) -> str | None:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1].replace("\\" + token[0], token[0])
    return None


def _parse_bracket(inner: str, text: str) -> Step:
    body = inner.strip()
    if body == "*":
        return Step("wild")
    if body.startswith("?"):
        expr = body[1:].strip()
        if not (expr.startswith("(") and expr.endswith(")")):
            raise PathSyntaxError(f"filter must be ?(...) in {text!r}")
        return Step("filter", expr=_FilterParser(expr[1:-1], text).parse())
    if ":" in body and _unquote(body) is None:
        parts = body.split(":")
        if len(parts) > 3:
            raise PathSyntaxError(f"bad slice [{body}] in {text!r}")
        try:
            nums = [int(p) if p.strip() else None for p in parts] + [None] * (3 - len(parts))
        except ValueError as exc:
            raise PathSyntaxError(f"bad slice [{body}] in {text!r}") from exc
        return Step("slice", slice_=(nums[0], nums[1], nums[2]))
    items: list[Any] = []
    for part in _split_top(body, ","):
        name = _unquote(part)
        if name is not None:
            items.append(name)
            continue
        try:
            items.append(int(part))
        except ValueError as exc:
            raise PathSyntaxError(f"bad subscript [{body}] in {text!r}") from exc
    if len(items) == 1:
        item = items[0]
        return Step("field", name=item) if isinstance(item, str) else Step("index", index=item)
    return Step("union", items=tuple(items))


def _split_top(body: str, sep: str) -> list[str]:
    out, cur, quote = [], "", ""
    for c in body:
        if quote:
            cur += c
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            cur += c
        elif c == sep:
            out.append(cur)
            cur = ""
        else:
            cur += c
    out.append(cur)
    return [p.strip() for p in out]


_FILTER_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|<=|>=|<|>|&&|\|\||!|\(|\))|(?P<str>'(?:\\.|[^'])*'|\"(?:\\.|[^\"])*\")"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<word>true|false|null)"
    r"|(?P<path>@(?:\.[A-Za-z_][\w\-]*|\[[^\]]*\])*))"
)


class _FilterParser:
    """Recursive descent over ``||``, ``&&``, ``!``, comparisons and ``@`` paths."""

    def __init__(self, expr: str, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        expr = expr.rstrip()
        while pos < len(expr):
            m = _FILTER_TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                raise PathSyntaxError(f"bad filter expression {expr!r} in {text!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def parse(self) -> Any:
        node = self._or()
        if self.i != len(self.tokens):
            raise PathSyntaxError(f"bad filter expression in {self.text!r}")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _or(self) -> Any:
        node = self._and()
        while self._peek() == ("op", "||"):
            self.i += 1
            node = ("or", node, self._and())
        return node

    def _and(self) -> Any:
        node = self._not()
        while self._peek() == ("op", "&&"):
            self.i += 1
            node = ("and", node, self._not())
        return node

    def _not(self) -> Any:
        if self._peek() == ("op", "!"):
            self.i += 1
            return ("not", self._not())
        return self._cmp()

    def _cmp(self) -> Any:
        left = self._atom()
        tok = self._peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return ("cmp", tok[1], left, self._atom())
        return ("exists", left) if left[0] == "path" else ("truthy", left)

    def _atom(self) -> Any:
        tok = self._peek()
        if tok is None:
            raise PathSyntaxError(f"incomplete filter in {self.text!r}")
        self.i += 1
        kind, value = tok
        if kind == "op" and value == "(":
            node = self._or()
            if self._peek() != ("op", ")"):
                raise PathSyntaxError(f"missing ')' in {self.text!r}")
            self.i += 1
            return ("group", node)
        if kind == "path":
            return ("path", parse_path("$" + value[1:]))
        if kind == "str":
            return (
                "lit",
                json.loads('"' + value[1:-1].replace('\\"', '"').replace('"', '\\"') + '"'),
            )
        if kind == "num":
            return ("lit", json.loads(value))
        if kind == "word":
            return ("lit", json.loads(value))
        raise PathSyntaxError(f"unexpected {value!r} in filter of {self.text!r}")


# --------------------------------------------------------------------------- evaluation


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _apply(step: Step, nodes: list[Any]) -> list[Any]:
    out: list[Any] = []
    kind = step.kind
    for node in nodes:
        if kind == "field":
            if isinstance(node, dict) and step.name in node:
                out.append(node[step.name])
        elif kind == "index":
            if isinstance(node, list) and -len(node) <= step.index < len(node):
                out.append(node[step.index])
        elif kind == "wild":
            out.extend(_children(node))
        elif kind == "slice":
            if isinstance(node, list):
                a, b, c = step.slice_
                out.extend(node[slice(a, b, c)])
        elif kind == "union":
            for item in step.items:
                out.extend(_apply(_item_step(item), [node]))
        elif kind == "filter":
            for child in _children(node):
                if _truthy(_eval_filter(step.expr, child)):
                    out.append(child)
        elif kind == "descend":
            for sub in _descendants(node):
                if step.expr is not None:
                    out.extend(_apply(step.expr, [sub]))
                elif step.name == "*":
                    out.extend(_children(sub))
                elif isinstance(sub, dict) and step.name in sub:
                    out.append(sub[step.name])
    return out


def _item_step(item: str | int) -> Step:
    return Step("field", name=item) if isinstance(item, str) else Step("index", index=item)


def _descendants(node: Any) -> list[Any]:
    out = [node]
    for child in _children(node):
        out.extend(_descendants(child))
    return out


def _truthy(value: Any) -> bool:
    return value is not _MISSING and value is not None and value is not False


def _eval_filter(node: Any, current: Any) -> Any:
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "group":
        return _eval_filter(node[1], current)
    if op == "path":
        found = _apply_all(node[1], current)
        if node[1].definite:
            return found[0] if found else _MISSING
        return found
    if op == "exists":
        return _eval_filter(node[1], current) is not _MISSING
    if op == "truthy":
        return _truthy(_eval_filter(node[1], current))
    if op == "not":
        return not _truthy(_eval_filter(node[1], current))
    if op == "and":
        return _truthy(_eval_filter(node[1], current)) and _truthy(_eval_filter(node[2], current))
    if op == "or":
        return _truthy(_eval_filter(node[1], current)) or _truthy(_eval_filter(node[2], current))
    if op == "cmp":
        a, b = _eval_filter(node[2], current), _eval_filter(node[3], current)
        return _compare(node[1], a, b)
    raise AssertionError(op)


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return False
    if op == "==":
        return json_equal(a, b)
    if op == "!=":
        return not _compare("==", a, b)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if not numeric and not (isinstance(a, str) and isinstance(b, str)):
        return False
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1`` (Python says it is)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _apply_all(path: JsonPath, data: Any) -> list[Any]:
    nodes = [data]
    for step in path.steps:
        nodes = _apply(step, nodes)
        if not nodes:
            break
    return nodes


def evaluate(
    path: str | JsonPath,
    data: Any,
    context: Any = None,
    variables: dict[str, Any] | None = None,
) -> Any:
    """Value of ``path``; a definite path that finds nothing raises ``PathNotFound``."""
    p = parse_path(path) if isinstance(path, str) else path
    if p.root == "$":
        root = data
    elif p.root == "$$":
        root = context
    else:
        if variables is None or p.root not in variables:
            raise PathNotFound(f"variable ${p.root} is not defined")
        root = variables[p.root]
    if not p.steps:
        return root
    found = _apply_all(p, root)
    if p.definite:
        if not found:
            raise PathNotFound(p.text)
        return found[0]
    return found


def _bracket(steps: tuple[Step, ...]) -> str:
    return "$" + "".join(f"['{s.name}']" if s.kind == "field" else f"[{s.index}]" for s in steps)


def not_found_reason(
    path: str, data: Any, context: Any = None, variables: dict[str, Any] | None = None
) -> str:
    """Why a definite path found nothing, in the words AWS uses (the Jayway JsonPath
    messages): ``No results for path: $['a']['b']`` when only the last step misses,
    ``Missing property in path $['a']`` when an earlier one does."""
    p = parse_path(path)
    if not p.definite or p.root not in ("$", "$$"):
        return f"No results for path: {path}"
    node = data if p.root == "$" else context
    for i, step in enumerate(p.steps):
        found = _apply(step, [node])
        if not found:
            if i == len(p.steps) - 1:
                return f"No results for path: {_bracket(p.steps)}"
            return f"Missing property in path {_bracket(p.steps[: i + 1])}"
        node = found[0]
    return f"No results for path: {_bracket(p.steps)}"


def exists(
    path: str, data: Any, context: Any = None, variables: dict[str, Any] | None = None
) -> bool:
    try:
        value = evaluate(path, data, context, variables)
    except PathNotFound:
        return False
    p = parse_path(path)
    return p.definite or bool(value)


def set_path(data: Any, path: str, value: Any) -> Any:
    """Return a copy of ``data`` with ``value`` written at Reference Path ``path`` (ResultPath),
    creating objects on the way; writing into a non-object fails like AWS's
    States.ResultPathMatchFailure."""
    p = parse_path(path)
    if not p.is_reference:
        raise PathSyntaxError(f"{path!r} is not a Reference Path")
    if not p.steps:
        return value
    root = copy.copy(data) if isinstance(data, dict | list) else data
    if not isinstance(root, dict | list):
        raise StatesError(
            "States.ResultPathMatchFailure",
            f"Unable to apply ReferencePath {path} to input {json.dumps(data)}",
        )
    node = root
    for i, step in enumerate(p.steps):
        last = i == len(p.steps) - 1
        if step.kind == "field":
            if not isinstance(node, dict):
                raise StatesError(
                    "States.ResultPathMatchFailure",
                    f"Unable to apply ReferencePath {path} to input {json.dumps(data)}",
                )
            if last:
                node[step.name] = value
            else:
                child = node.get(step.name, _MISSING)
                if child is _MISSING:
                    child = {}
                elif isinstance(child, dict | list):
                    child = copy.copy(child)
                else:
                    raise StatesError(
                        "States.ResultPathMatchFailure",
                        f"Unable to apply ReferencePath {path} to input {json.dumps(data)}",
                    )
                node[step.name] = child
                node = child
        else:
            if not isinstance(node, list) or not -len(node) <= step.index < len(node):
                raise StatesError(
                    "States.ResultPathMatchFailure",
                    f"Unable to apply ReferencePath {path} to input {json.dumps(data)}",
                )
            if last:
                node[step.index] = value
            else:
                child = copy.copy(node[step.index])
                node[step.index] = child
                node = child
    return root
