"""Grok patterns compiled to one regular expression with a capture group per field.

Glue writes log tables with its GrokSerDe; lakebox's readers read Hive's RegexSerDe, so a
grok pattern becomes ``input.regex`` whose groups are the columns in order. Library
patterns therefore use only non-capturing groups, and the regex avoids syntax that Java's
and RE2's engines disagree on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakebox.crawler.infer import HType
from lakebox.errors import InvalidRequestError
from lakebox.formats.grok import (
    BASE_PATTERNS,
    GROK_TYPES,
    REFERENCE,
    parse_custom_patterns,
    reference_at,
)

_CAPTURING = re.compile(r"(?<!\\)\((?!\?)")


@dataclass(frozen=True)
class CompiledGrok:
    regex: str
    columns: tuple[tuple[str, HType], ...]
    compiled: re.Pattern[str]

    def matches(self, line: str) -> bool:
        return self.compiled.fullmatch(line) is not None


def compile_grok(pattern: str, custom: str | None = None) -> CompiledGrok:
    library = {**BASE_PATTERNS, **parse_custom_patterns(custom)}
    columns: list[tuple[str, HType]] = []

    def expand(text: str, depth: int) -> str:
        if depth > 20:
            raise InvalidRequestError(f"grok pattern {pattern!r} refers to itself")

        def sub(m: re.Match[str]) -> str:
            ref = reference_at(m.string, m.start())
            assert ref is not None
            name, field = ref.pattern, ref.field
            if ref.definition is not None:
                library[name] = ref.definition
            if name not in library:
                raise InvalidRequestError(
                    f"grok pattern %{{{name}}} is not defined; add it to "
                    "the classifier's custom patterns"
                )
            body = expand(_CAPTURING.sub("(?:", library[name]), depth + 1)
            if field and depth == 0:
                columns.append((field.lower(), HType(GROK_TYPES[ref.type or "string"])))
                return f"({body})"
            return f"(?:{body})"

        for brace in re.finditer(r"%\{", text):
            reference_at(text, brace.start())  # a %{ that is no reference fails, named
        return REFERENCE.sub(sub, text)

    top = _CAPTURING.sub("(?:", pattern)
    regex = expand(top, 0)
    try:
        compiled = re.compile(regex)
    except re.error as err:
        raise InvalidRequestError(
            f"grok pattern {pattern!r} is not a valid expression: {err}"
        ) from err
    if not columns:
        raise InvalidRequestError(f"grok pattern {pattern!r} names no field (use %{{NAME:field}})")
    return CompiledGrok(regex, tuple(columns), compiled)


def compile_named_regex(pattern: str) -> CompiledGrok:
    """A regex classifier: each named group ``(?P<col>...)`` is a column; other groups must
    be non-capturing so the RegexSerDe's groups line up with the columns."""
    try:
        compiled = re.compile(pattern)
    except re.error as err:
        raise InvalidRequestError(f"regex {pattern!r} is not valid: {err}") from err
    names = list(compiled.groupindex)
    if not names or compiled.groups != len(names):
        raise InvalidRequestError(
            f"regex {pattern!r}: every capturing group must be named (?P<column>...); use "
            "(?:...) for the others"
        )
    plain = re.sub(r"\(\?P<\w+>", "(", pattern)
    return CompiledGrok(plain, tuple((n.lower(), HType("string")) for n in names), compiled)


_APACHE = (
    r'^(\S+) (\S+) (\S+) \[([^\]]+)\] "(?:(\S+) (\S+)(?: HTTP/([0-9.]+))?|([^"]*))" '
    r"(\d{3}|-) (\d+|-)"
)
_APACHE_COLUMNS = (
    "clientip",
    "ident",
    "auth",
    "timestamp",
    "verb",
    "request",
    "httpversion",
    "rawrequest",
    "response",
    "bytes",
)


def _log(classification: str, regex: str, names: tuple[str, ...]) -> tuple[str, CompiledGrok]:
    return classification, CompiledGrok(
        regex, tuple((n, HType("string")) for n in names), re.compile(regex)
    )


#: built-in log classifiers in Glue's order (combined before common Apache format)
BUILTIN_LOGS: tuple[tuple[str, CompiledGrok], ...] = (
    _log(
        "combined_apache",
        _APACHE + r' "([^"]*)" "([^"]*)"$',
        (*_APACHE_COLUMNS, "referrer", "agent"),
    ),
    _log("apache", _APACHE + "$", _APACHE_COLUMNS),
    _log(
        "linux_kernel",
        r"^(\w{3} +\d{1,2} \d{2}:\d{2}:\d{2}) (\S+) kernel: (?:\[ *(\d+\.\d+)\] )?(.*)$",
        ("timestamp", "logsource", "uptime", "message"),
    ),
    _log(
        "ruby_logger",
        r"^([DIWEFA]), \[([^\] ]+) #(\d+)\] +(\w+) -- ([^:]*): (.*)$",
        ("severity", "timestamp", "pid", "loglevel", "progname", "message"),
    ),
    _log(
        "squid",
        r"^(\d+\.\d+) +(\d+) (\S+) (\w+)/(\d{3}) (\d+) (\S+) (\S+) (\S+) (\w+)/(\S+) (\S+)$",
        (
            "timestamp",
            "duration",
            "client_address",
            "cache_result",
            "status_code",
            "bytes",
            "request_method",
            "url",
            "user",
            "hierarchy_code",
            "server",
            "content_type",
        ),
    ),
    _log(
        "redismonlog",
        r"^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$",
        ("timestamp", "database", "client", "command"),
    ),
    _log(
        "redislog",
        r"^(\d+):([XCSM]) (\d{1,2} \w{3} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}) ([.*#-]) (.*)$",
        ("pid", "role", "timestamp", "loglevel", "message"),
    ),
)
