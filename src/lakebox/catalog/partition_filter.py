"""Glue's partition filter: the ``Expression`` of GetPartitions, a SQL ``WHERE``-like
predicate over a table's partition keys (``year = '2024' AND month BETWEEN 1 AND 3``).

The subset Glue documents: ``=``, ``<>`` (also ``!=`` and Glue's own spelling ``< >``),
``<``, ``<=``, ``>``, ``>=``, ``AND``, ``OR``, ``NOT``, ``[NOT] IN (...)``,
``[NOT] BETWEEN .. AND ..``, ``[NOT] LIKE``, ``IS [NOT] NULL``, parentheses, string literals
in single quotes (``''`` for a quote) and number literals. Operands are partition keys
(bare, or quoted with backticks or double quotes) and literals; a comparison may name two
keys (the docs' ``a < b``).

Typed as Glue types them: a comparison is made in the type of the partition key it names
(``string``, ``int``/``bigint``/``long``/``tinyint``/``smallint``, ``decimal``, ``date``,
``timestamp``; any other key type in an expression is an error, as in Glue), so
``month > 9`` on an ``int`` key is numeric and on a ``string`` key compares text (``'10' <
'9'``). A literal that is not a value of the key's type (``day = 'x'`` on an int key) is
an error naming it. A stored value that is not (``__HIVE_DEFAULT_PARTITION__``, a value a
crawler wrote under a string key later retyped) is NULL: it matches no comparison, as SQL's
three-valued logic has it, and matches ``IS NULL``.

Why a small hand parser and not sqlglot: the grammar is a dozen productions; every rule
outside it (functions, arithmetic, subqueries, casts) must be refused anyway, which a
whitelist walk over sqlglot's tree would spend as much code on, and sqlglot reads neither
Glue's ``< >`` nor reports the position of an error in the words this module can.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lakebox.catalog.model import HIVE_DEFAULT_PARTITION, Column
from lakebox.errors import InvalidRequestError


class PartitionFilterError(InvalidRequestError):
    """The expression cannot be read or typed (Glue's InvalidInputException)."""


#: the value a predicate gives a partition: True, False or None (SQL's unknown)
Truth = bool | None
Predicate = Callable[[Sequence[str]], Truth]

_INTS = frozenset({"int", "integer", "bigint", "long", "tinyint", "smallint"})
_STRINGS = frozenset({"string", "varchar", "char"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<unterminated>'.*)
  | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<quoted>`[^`]*`|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op><\s*>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL"})


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, ident, keyword, op, punct, end
    text: str
    pos: int

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "end" else f"{self.text!r}"


def _tokens(expression: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(expression):
        m = _TOKEN.match(expression, pos)
        if m is None:
            raise PartitionFilterError(
                f"Expression: unexpected character {expression[pos]!r} at position {pos + 1}"
            )
        kind, text = m.lastgroup or "", m.group()
        if kind == "unterminated":
            raise PartitionFilterError(
                f"Expression: the string literal at position {pos + 1} has no closing quote"
            )
        if kind == "name" and text.upper() in _KEYWORDS:
            out.append(_Token("keyword", text.upper(), pos))
        elif kind == "name":
            out.append(_Token("ident", text, pos))
        elif kind == "quoted":
            out.append(_Token("ident", text[1:-1], pos))
        elif kind == "op":
            out.append(
                _Token("op", "<>" if text.startswith("<") and text.endswith(">") else text, pos)
            )
        elif kind != "ws":
            out.append(_Token(kind, text, pos))
        pos = m.end()
    out.append(_Token("end", "", len(expression)))
    return out


# -- typing -------------------------------------------------------------------------------------


def _kind(type_text: str) -> str:
    base = type_text.strip().lower().split("(", 1)[0].strip()
    if base in _STRINGS:
        return "string"
    if base in _INTS:
        return "int"
    if base in ("decimal", "date", "timestamp"):
        return base
    return ""


def _convert(text: str, kind: str) -> Any:
    """``text`` as a value of ``kind``; ValueError if it is not one."""
    if kind == "string":
        return text
    if kind == "int":
        if not re.fullmatch(r"\s*[-+]?\d+\s*", text):
            raise ValueError(text)
        return int(text)
    if kind == "decimal":
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise ValueError(text) from None
        if not value.is_finite():
            raise ValueError(text)
        return value
    if kind == "date":
        return dt.date.fromisoformat(text.strip())
    if kind == "timestamp":
        return dt.datetime.fromisoformat(text.strip())
    raise ValueError(text)


@dataclass(frozen=True)
class _Key:
    index: int
    column: Column
    kind: str


@dataclass(frozen=True)
class _Literal:
    text: str
    number: bool
    pos: int


_Operand = _Key | _Literal
_Value = Callable[[Sequence[str]], Any]


# -- parsing ------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, expression: str, keys: Sequence[Column]) -> None:
        self.tokens = _tokens(expression)
        self.at = 0
        self.depth = 0
        self.keys = {k.name.lower(): _Key(i, k, _kind(k.type)) for i, k in enumerate(keys)}
        self.key_names = [k.name for k in keys]

    # tokens
    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "keyword" and self.token.text in words

    def expect(self, kind: str, text: str, what: str) -> _Token:
        token = self.token
        if token.kind != kind or token.text != text:
            raise self.error(what)
        return self.take()

    def error(self, expected: str) -> PartitionFilterError:
        token = self.token
        return PartitionFilterError(
            f"Expression: expected {expected} at position {token.pos + 1}, found {token.describe()}"
        )

    # grammar
    def parse(self) -> Predicate:
        if self.token.kind == "end":
            raise PartitionFilterError("Expression: the expression is empty")
        found = self.disjunction()
        if self.token.kind != "end":
            raise self.error("AND, OR or the end of the expression")
        return found

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.is_keyword("OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else _any(parts)

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.is_keyword("AND"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else _all(parts)

    def nest(self) -> None:
        """One more level of NOT or parentheses; a bound keeps the recursion shallow."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PartitionFilterError(
                f"Expression: more than {MAX_DEPTH} nested parentheses or NOTs at position "
                f"{self.token.pos + 1}"
            )

    def negation(self) -> Predicate:
        if self.is_keyword("NOT"):
            self.take()
            self.nest()
            found = _not(self.negation())
            self.depth -= 1
            return found
        return self.predicate()

    def predicate(self) -> Predicate:
        if self.token.kind == "punct" and self.token.text == "(":
            self.take()
            self.nest()
            inner = self.disjunction()
            self.expect("punct", ")", "')'")
            self.depth -= 1
            return inner
        left = self.operand()
        token = self.token
        if token.kind == "op":
            self.take()
            right = self.operand()
            return _compare(token.text, *self.typed(left, right))
        if self.is_keyword("IS"):
            self.take()
            negated = self.is_keyword("NOT")
            if negated:
                self.take()
            self.expect("keyword", "NULL", "NULL")
            value = self.typed(left, left)[0]

            def is_null(values: Sequence[str]) -> Truth:
                return (value(values) is None) != negated

            return is_null
        negated = self.is_keyword("NOT")
        if negated:
            self.take()
            if not self.is_keyword("IN", "BETWEEN", "LIKE"):
                raise self.error("IN, BETWEEN or LIKE after NOT")
        if self.is_keyword("IN"):
            found = self.in_list(left)
        elif self.is_keyword("BETWEEN"):
            self.take()
            low = self.operand()
            self.expect("keyword", "AND", "AND (of BETWEEN)")
            high = self.operand()
            value, lo = self.typed(left, low)
            _, hi = self.typed(left, high)
            found = _all([_compare(">=", value, lo), _compare("<=", value, hi)])
        elif self.is_keyword("LIKE"):
            found = self.like(left)
        else:
            raise self.error("a comparison (=, <>, <, <=, >, >=, IN, BETWEEN, LIKE, IS NULL)")
        return _not(found) if negated else found

    def in_list(self, left: _Operand) -> Predicate:
        self.take()
        self.expect("punct", "(", "'(' after IN")
        items = [self.operand()]
        while self.token.kind == "punct" and self.token.text == ",":
            self.take()
            items.append(self.operand())
        self.expect("punct", ")", "',' or ')' in the IN list")
        return _any([_compare("=", *self.typed(left, item)) for item in items])

    def like(self, left: _Operand) -> Predicate:
        self.take()
        pattern = self.operand()
        if not isinstance(pattern, _Literal) or pattern.number:
            raise PartitionFilterError(
                "Expression: LIKE needs a string literal pattern such as '2024-%'"
            )
        if isinstance(left, _Key) and left.kind != "string":
            raise PartitionFilterError(
                f"Expression: LIKE compares strings, and partition key {left.column.name} "
                f"is {left.column.type}"
            )
        value = self.typed(left, left)[0]
        wanted = _unquote(pattern.text)

        def like(values: Sequence[str]) -> Truth:
            found = value(values)
            return None if found is None else like_match(wanted, str(found))

        return like

    def operand(self) -> _Operand:
        token = self.token
        if token.kind == "ident":
            self.take()
            if self.token.kind == "punct" and self.token.text == "(":
                raise PartitionFilterError(
                    f"Expression: {token.text}(...) at position {token.pos + 1}: partition "
                    "filters call no functions"
                )
            key = self.keys.get(token.text.lower())
            if key is None:
                raise PartitionFilterError(
                    f"Expression: {token.text!r} at position {token.pos + 1} is not a "
                    f"partition key (the table's are {', '.join(self.key_names) or 'none'})"
                )
            if not key.kind:
                raise PartitionFilterError(
                    f"Expression: partition key {key.column.name} is of type "
                    f"{key.column.type}, which partition filters do not support (string, "
                    "date, timestamp, int, bigint, long, tinyint, smallint, decimal)"
                )
            return key
        if token.kind in ("string", "number"):
            self.take()
            return _Literal(token.text, token.kind == "number", token.pos)
        if token.kind == "keyword" and token.text == "NULL":
            raise PartitionFilterError(
                f"Expression: NULL at position {token.pos + 1} can only follow IS (x IS NULL)"
            )
        raise self.error("a partition key or a literal")

    def typed(self, left: _Operand, right: _Operand) -> tuple[_Value, _Value]:
        """Both operands as functions of a partition's values, in the type of the key the
        comparison names (the left one when both are keys)."""
        kind = (
            left.kind
            if isinstance(left, _Key)
            else right.kind
            if isinstance(right, _Key)
            else ("decimal" if left.number and right.number else "string")
        )
        return self.value(left, kind), self.value(right, kind)

    def value(self, operand: _Operand, kind: str) -> _Value:
        if isinstance(operand, _Key):
            index, own = operand.index, operand.kind

            def read(values: Sequence[str]) -> Any:
                text = values[index]
                if text == HIVE_DEFAULT_PARTITION:
                    return None
                try:
                    found = _convert(text, own)
                    return found if own == kind else _convert(str(found), kind)
                except ValueError:
                    return None

            return read
        text = _unquote(operand.text) if not operand.number else operand.text
        try:
            constant = _convert(text, kind)
        except ValueError:
            raise PartitionFilterError(
                f"Expression: {operand.text} at position {operand.pos + 1} is not a valid "
                f"{kind} value"
            ) from None
        return lambda values: constant


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def like_match(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the LIKE ``pattern`` (``%`` any run of characters, ``_`` one
    character). Not a regular expression: ``%`` as ``.*`` backtracks exponentially on
    patterns such as ``%a%a%a...!`` (and the filter runs once per partition). This walks
    value and pattern once, going back only to just after the last ``%`` seen, so it takes
    at most len(pattern) * len(value) steps."""
    p = v = 0
    star = -1  # the pattern index just after the last % seen
    resume = 0  # the value index that % is taken to have matched up to
    while v < len(value):
        if p < len(pattern) and pattern[p] == "%":
            star, resume = p + 1, v
            p += 1
        elif p < len(pattern) and pattern[p] in ("_", value[v]):
            p += 1
            v += 1
        elif star >= 0:
            resume += 1
            p, v = star, resume
        else:
            return False
    while p < len(pattern) and pattern[p] == "%":
        p += 1
    return p == len(pattern)


# -- three-valued logic -------------------------------------------------------------------------


def _compare(op: str, left: _Value, right: _Value) -> Predicate:
    test: Callable[[Any, Any], bool] = {
        "=": lambda a, b: a == b,
        "<>": lambda a, b: a != b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[op]

    def compare(values: Sequence[str]) -> Truth:
        a, b = left(values), right(values)
        if a is None or b is None:
            return None
        return bool(test(a, b))

    return compare


def _all(parts: list[Predicate]) -> Predicate:
    def conjunction(values: Sequence[str]) -> Truth:
        unknown = False
        for part in parts:
            found = part(values)
            if found is False:
                return False
            unknown = unknown or found is None
        return None if unknown else True

    return conjunction


def _any(parts: list[Predicate]) -> Predicate:
    def disjunction(values: Sequence[str]) -> Truth:
        unknown = False
        for part in parts:
            found = part(values)
            if found is True:
                return True
            unknown = unknown or found is None
        return None if unknown else False

    return disjunction


def _not(part: Predicate) -> Predicate:
    def negation(values: Sequence[str]) -> Truth:
        found = part(values)
        return None if found is None else not found

    return negation


# -- the entry point ----------------------------------------------------------------------------

#: the longest expression read (Glue's PredicateString allows 2048 characters)
MAX_LENGTH = 2048
#: the deepest nesting of parentheses and NOTs read
MAX_DEPTH = 64


def compile_filter(expression: str, keys: Sequence[Column]) -> Callable[[Sequence[str]], bool]:
    """A function telling whether a partition's values (in the order of ``keys``) match
    ``expression``; PartitionFilterError naming the problem if it cannot be read."""
    if len(expression) > MAX_LENGTH:
        raise PartitionFilterError(
            f"Expression: {len(expression)} characters, more than the {MAX_LENGTH} allowed"
        )
    predicate = _Parser(expression, keys).parse()

    def matches(values: Sequence[str]) -> bool:
        return predicate(values) is True

    return matches
