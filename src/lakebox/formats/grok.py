"""The grok pattern library: named patterns, Glue's field types and how a reference
``%{PATTERN:field:type}`` is read, shared by the grok reader
(``lakebox.engine.duckdb.formats.grok``) and the crawler's log classifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakebox.errors import InvalidRequestError, UnsupportedError

#: a subset of the grok library Glue ships, enough for the common log formats
BASE_PATTERNS: dict[str, str] = {
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"%{USERNAME}",
    "INT": r"(?:[+-]?(?:[0-9]+))",
    "BASE10NUM": r"(?:[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+))",
    "NUMBER": r"(?:%{BASE10NUM})",
    "POSINT": r"\b(?:[1-9][0-9]*)\b",
    "NONNEGINT": r"\b(?:[0-9]+)\b",
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r"\"(?:[^\"\\]|\\.)*\"",
    "QS": r"%{QUOTEDSTRING}",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "IPV4": r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}",
    "IPV6": r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}",
    "IP": r"(?:%{IPV6}|%{IPV4})",
    "HOSTNAME": r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*\.?\b",
    "HOST": r"%{HOSTNAME}",
    "IPORHOST": r"(?:%{IP}|%{HOSTNAME})",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}",
    "PATH": r"(?:/[^\s]*)+",
    "URIPATHPARAM": r"\S+",
    "URI": r"\S+",
    "MONTH": r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b",
    "MONTHNUM": r"(?:0?[1-9]|1[0-2])",
    "MONTHDAY": r"(?:(?:0[1-9])|(?:[12][0-9])|(?:3[01])|[1-9])",
    "DAY": r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*",
    "YEAR": r"(?:\d\d){1,2}",
    "HOUR": r"(?:2[0123]|[01]?[0-9])",
    "MINUTE": r"(?:[0-5][0-9])",
    "SECOND": r"(?:(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?)",
    "TIME": r"%{HOUR}:%{MINUTE}(?::%{SECOND})?",
    "ISO8601_TIMEZONE": r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE}))",
    "TIMESTAMP_ISO8601": r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?",
    "DATE_US": r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}",
    "DATE_EU": r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}",
    "HTTPDATE": r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}",
    "SYSLOGTIMESTAMP": r"%{MONTH} +%{MONTHDAY} %{TIME}",
    "LOGLEVEL": r"(?:[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo|INFO|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?)",
}

#: Glue's grok type suffixes -> Hive types
GROK_TYPES = {
    "string": "string",
    "int": "int",
    "long": "bigint",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "short": "smallint",
    "byte": "tinyint",
}


#: java-grok's conversions that lakebox does not make (it parses dates and times itself)
UNSUPPORTED_TYPES = frozenset({"date", "datetime"})

#: A reference as java-grok (the grok library under Athena's Grok SerDe) reads one: a
#: pattern name, then optionally ``:`` and a capture name (letters, digits and
#: ``_ : ; , - / . '``, blanks too), in which ``:`` or ``;`` also introduce a type and a
#: type parameter, then optionally ``=regex`` defining the pattern in place. So
#: ``%{DATA: returned_obj_size}``, ``%{NUMBER:n:int}``, ``%{NUMBER:n;int}`` and
#: ``%{INT:user.id}`` are references; ``@``, ``[`` and ``]`` are accepted in names too
#: (logstash's field syntax).
REFERENCE = re.compile(
    r"%\{(?P<pattern>[A-Za-z0-9_]+)"
    r"(?::(?P<sub>[A-Za-z0-9_:;,\-/\s.'@\[\]]+))?"
    r"(?:=(?P<definition>[^{}]+))?\}"
)


@dataclass(frozen=True)
class GrokReference:
    """One ``%{...}`` of a grok expression."""

    #: the reference as written
    text: str
    pattern: str
    #: the capture name with the blanks around it removed (java-grok keeps them, but
    #: columns are matched by name here); None for a bare ``%{PATTERN}``
    field: str | None
    #: the type suffix, lower-case (one of ``GROK_TYPES``), or None
    type: str | None
    #: the regex of an in-place definition ``%{NAME=regex}``, or None
    definition: str | None


def reference_at(text: str, pos: int) -> GrokReference | None:
    """The reference starting at ``text[pos]`` (a ``%``), None when no ``%{`` starts there.

    A ``%{`` that is not a reference java-grok reads fails, naming it: Java would reject
    the brace as a regex, and reading it literally would match no line."""
    if not text.startswith("%{", pos):
        return None
    found = REFERENCE.match(text, pos)
    if found is None:
        end = text.find("}", pos)
        if 0 <= end - pos < 80:
            shown = text[pos : end + 1]
        else:
            shown = text[pos : pos + 40] + ("..." if len(text) > pos + 40 else "")
        raise InvalidRequestError(
            f"{shown!r} is not a grok reference: write %{{PATTERN}}, %{{PATTERN:field}} or "
            "%{PATTERN:field:type} (a field name of letters, digits and _ : ; , - / . ')"
        )
    field: str | None = None
    kind: str | None = None
    sub = found.group("sub")
    if sub is not None:
        parts = re.split(r"[:;]", sub, maxsplit=2)
        field = parts[0].strip()
        if not field:
            raise InvalidRequestError(f"grok reference {found.group(0)!r} has an empty field name")
        if len(parts) > 1:
            kind = parts[1].strip().lower()
            if kind in UNSUPPORTED_TYPES:
                raise UnsupportedError(
                    f"type {kind!r} of {found.group(0)} is not supported; capture the text "
                    "(as string) and convert it in SQL with date_parse or parse_datetime"
                )
            if kind not in GROK_TYPES:
                raise InvalidRequestError(
                    f"type {parts[1].strip()!r} of {found.group(0)} is not one of "
                    f"{', '.join(GROK_TYPES)}"
                )
    return GrokReference(
        found.group(0), found.group("pattern"), field, kind, found.group("definition")
    )


def parse_custom_patterns(text: str | None) -> dict[str, str]:
    patterns: dict[str, str] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, body = line.partition(" ")
        if not body.strip():
            raise InvalidRequestError(f"custom grok pattern {line!r}: expected 'NAME regex'")
        patterns[name] = body.strip()
    return patterns
