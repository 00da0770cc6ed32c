"""Firehose prefix templates: ``!{namespace:value}`` expressions evaluated per object.

Namespaces: ``timestamp`` (Java pattern, UTC, oldest record in the object),
``firehose`` (``random-string``, ``error-output-type``), ``partitionKeyFromQuery`` and
``partitionKeyFromLambda`` (dynamic partitioning keys).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass

from lakebox.ingest.errors import InvalidArgumentError
from lakebox.javatime import JavaPatternError, check_format, format_java

DEFAULT_TIME_PREFIX = "!{timestamp:yyyy/MM/dd/HH/}"
_EXPR = re.compile(r"!\{([^:}]*):([^}]*)\}")
_NAMESPACES = ("timestamp", "firehose", "partitionKeyFromQuery", "partitionKeyFromLambda")
_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class Expr:
    namespace: str
    value: str


Part = str | Expr


@dataclass(frozen=True)
class PrefixTemplate:
    parts: tuple[Part, ...]
    text: str

    @property
    def expressions(self) -> list[Expr]:
        return [p for p in self.parts if isinstance(p, Expr)]

    def uses(self, namespace: str) -> bool:
        return any(e.namespace == namespace for e in self.expressions)

    @property
    def query_keys(self) -> list[str]:
        return [e.value for e in self.expressions if e.namespace == "partitionKeyFromQuery"]

    @property
    def lambda_keys(self) -> list[str]:
        return [e.value for e in self.expressions if e.namespace == "partitionKeyFromLambda"]

    def render(
        self, when: dt.datetime, keys: dict[str, str] | None = None, error_type: str | None = None
    ) -> str:
        """The evaluated prefix. Every timestamp expression sees the same instant."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif part.namespace == "timestamp":
                out.append(format_java(part.value, when))
            elif part.namespace == "firehose":
                if part.value == "random-string":
                    out.append(random_string())
                else:
                    out.append(error_type or "")
            else:
                value = (keys or {}).get(f"{part.namespace}:{part.value}")
                if value is None:
                    raise KeyError(part.value)
                out.append(value)
        return "".join(out)


def random_string() -> str:
    """Firehose's ``random-string``: 11 random characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(11))


def parse_prefix(text: str, field: str = "Prefix") -> PrefixTemplate:
    parts: list[Part] = []
    pos = 0
    for m in _EXPR.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        ns, value = m.group(1), m.group(2)
        if ns not in _NAMESPACES:
            raise InvalidArgumentError(
                f"{field} {text!r}: unknown namespace {ns!r} in !{{{ns}:{value}}}; valid "
                f"namespaces are {', '.join(_NAMESPACES)}"
            )
        if ns == "firehose" and value not in ("random-string", "error-output-type"):
            raise InvalidArgumentError(
                f"{field} {text!r}: !{{firehose:{value}}} is not valid; use random-string "
                "or error-output-type"
            )
        if ns == "timestamp":
            if not value:
                raise InvalidArgumentError(f"{field} {text!r}: empty timestamp pattern")
            _check_timestamp_pattern(value)
        if ns.startswith("partitionKey") and not value:
            raise InvalidArgumentError(f"{field} {text!r}: empty partition key name")
        parts.append(Expr(ns, value))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    rest = "".join(p for p in parts if isinstance(p, str))
    if "!{" in rest:
        raise InvalidArgumentError(f"{field} {text!r} has a malformed !{{...}} expression")
    return PrefixTemplate(tuple(parts), text)


def validate_prefixes(
    prefix: str,
    error_prefix: str | None,
    dynamic_partitioning: bool,
) -> tuple[PrefixTemplate, PrefixTemplate | None]:
    """Firehose's rules for Prefix / ErrorOutputPrefix combinations."""
    templ = parse_prefix(prefix, "Prefix")
    err_templ = parse_prefix(error_prefix, "ErrorOutputPrefix") if error_prefix else None
    if templ.uses("firehose") and any(e.value == "error-output-type" for e in templ.expressions):
        raise InvalidArgumentError(
            "!{firehose:error-output-type} can be used only in ErrorOutputPrefix"
        )
    if templ.expressions and err_templ is None:
        raise InvalidArgumentError(
            "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
        )
    if err_templ is not None and (err_templ.query_keys or err_templ.lambda_keys):
        raise InvalidArgumentError(
            "ErrorOutputPrefix cannot contain dynamic partitioning keys "
            "(partitionKeyFromQuery / partitionKeyFromLambda)"
        )
    has_keys = bool(templ.query_keys or templ.lambda_keys)
    if has_keys and not dynamic_partitioning:
        raise InvalidArgumentError(
            "Prefix uses partitionKeyFromQuery / partitionKeyFromLambda but dynamic "
            "partitioning is not enabled (DynamicPartitioningConfiguration.Enabled)"
        )
    if dynamic_partitioning and err_templ is None:
        raise InvalidArgumentError(
            "ErrorOutputPrefix is required when dynamic partitioning is enabled"
        )
    if dynamic_partitioning and not has_keys:
        raise InvalidArgumentError(
            "dynamic partitioning is enabled, so Prefix must contain at least one "
            "!{partitionKeyFromQuery:...} or !{partitionKeyFromLambda:...} expression"
        )
    if not templ.expressions:
        templ = parse_prefix(prefix + DEFAULT_TIME_PREFIX)
    return templ, err_templ


def default_error_prefix() -> PrefixTemplate:
    """Where failed records go when no ErrorOutputPrefix is configured."""
    return parse_prefix("!{firehose:error-output-type}/" + DEFAULT_TIME_PREFIX)


def _check_timestamp_pattern(pattern: str) -> None:
    """Firehose's InvalidArgumentException for a pattern it cannot format."""
    try:
        check_format(pattern)
    except JavaPatternError as err:
        if err.letter is None:
            raise InvalidArgumentError(f"unterminated quote in date pattern {pattern!r}") from err
        raise InvalidArgumentError(
            f"pattern letter {err.letter!r} in {pattern!r} is not supported in a prefix"
        ) from err
