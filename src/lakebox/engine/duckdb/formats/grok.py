"""Glue's GrokSerDe (``com.amazonaws.glue.serde.GrokSerDe``): log lines parsed with a grok
pattern (``input.format``) and optional custom patterns (``input.grokCustomPatterns``, one
``NAME regex`` a line).

Columns map to captures by name, case-insensitively: ``%{PATTERN:field}`` is captured as
``field`` and a bare ``%{PATTERN}`` as ``PATTERN`` (the docs' Postfix example fills column
``syslogbase`` from ``%{SYSLOGBASE}``), at any nesting depth, and so is a regex named group
``(?<field>...)``. Trino's grok reader (Athena engine 3) instead hands named captures to
columns by position, which gives that example's columns the wrong values; lakebox follows
the docs' examples. As the grok library does: the pattern is searched for in the line (not
anchored), a value in matching quotes loses them, the last capture of a repeated name that
matched wins, and a line the pattern does not match is a row of NULLs. A capture that is
empty or did not take part reads as NULL (DuckDB's regex functions cannot tell them apart).
The type suffix of ``%{NUMBER:n:int}`` is checked; values convert to the declared column
type, NULL when they do not (a boolean is true for 'true' in any case, else false).

References are read as java-grok reads them (``lakebox.formats.grok.reference_at``):
``%{DATA: size}`` names ``size``, ``;`` may stand for ``:``, ``%{NAME:field=regex}``
defines ``NAME`` in place. What lakebox cannot honour fails when the table is created and
when it is read, naming it, rather than reading rows of NULLs: a ``%{`` that is no
reference, java-grok's date conversions, and a column that no capture names.

The grok pattern is expanded to one regex here, with only the captures some column reads
left capturing, then translated from Java's regex dialect to RE2 by the RegexSerDe's
translator and matched in DuckDB over whole lines, like RegexSerDe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from lakebox.catalog.model import Table
from lakebox.catalog.types import is_primitive, parse_type
from lakebox.engine.duckdb.formats.base import (
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.regex import translate_java_regex
from lakebox.engine.duckdb.formats.text import (
    LineReader,
    RowTags,
    convert_text,
    lines_source,
    skip_header_lines,
    text_charset,
)
from lakebox.errors import InvalidRequestError
from lakebox.formats.grok import (
    BASE_PATTERNS,
    GrokReference,
    parse_custom_patterns,
    reference_at,
)

#: patterns of the logstash grok library (the one Athena's docs point to) that the crawler's
#: subset lacks; spelled without look-behind, which RE2 cannot match
EXTRA_PATTERNS: dict[str, str] = {
    "MONTHNUM2": r"(?:0[1-9]|1[0-2])",
    "ISO8601_SECOND": r"(?:%{SECOND}|60)",
    "DATE": r"%{DATE_US}|%{DATE_EU}",
    "DATESTAMP": r"%{DATE}[- ]%{TIME}",
    "TZ": r"(?:[PMCE][SD]T|UTC)",
    "DATESTAMP_RFC822": r"%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}",
    "DATESTAMP_OTHER": r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}",
    "DATESTAMP_EVENTLOG": r"%{YEAR}%{MONTHNUM2}%{MONTHDAY}%{HOUR}%{MINUTE}%{SECOND}",
    "BASE16NUM": r"(?:[+-]?(?:0x)?(?:[0-9A-Fa-f]+))",
    "EMAILLOCALPART": r"[a-zA-Z][a-zA-Z0-9_.+=:-]+",
    "EMAILADDRESS": r"%{EMAILLOCALPART}@%{HOSTNAME}",
    "HTTPDUSER": r"%{EMAILADDRESS}|%{USER}",
    "CISCOMAC": r"(?:(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4})",
    "WINDOWSMAC": r"(?:(?:[A-Fa-f0-9]{2}-){5}[A-Fa-f0-9]{2})",
    "COMMONMAC": r"(?:(?:[A-Fa-f0-9]{2}:){5}[A-Fa-f0-9]{2})",
    "MAC": r"(?:%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC})",
    "URIPROTO": r"[A-Za-z]+(?:\+[A-Za-z+]+)?",
    "URIHOST": r"%{IPORHOST}(?::%{POSINT:port})?",
    "PROG": r"(?:[\w._/%-]+)",
    "SYSLOGPROG": r"%{PROG:program}(?:\[%{POSINT:pid}\])?",
    "SYSLOGHOST": r"%{IPORHOST}",
    "SYSLOGFACILITY": r"<%{NONNEGINT:facility}.%{NONNEGINT:priority}>",
    "SYSLOGBASE": (
        r"%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} "
        r"%{SYSLOGPROG}:"
    ),
    "COMMONAPACHELOG": (
        r"%{IPORHOST:clientip} %{HTTPDUSER:ident} %{USER:auth} \[%{HTTPDATE:timestamp}\] "
        r'"(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|'
        r'%{DATA:rawrequest})" %{NUMBER:response} (?:%{NUMBER:bytes}|-)'
    ),
    "COMBINEDAPACHELOG": r"%{COMMONAPACHELOG} %{QS:referrer} %{QS:agent}",
}
LIBRARY: dict[str, str] = {**BASE_PATTERNS, **EXTRA_PATTERNS}

_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z][A-Za-z0-9_]*)>")
#: recursion a pattern library may need; deeper means a pattern refers to itself
_MAX_DEPTH = 30


@dataclass(frozen=True)
class GrokRegex:
    """An RE2 pattern and, per capturing group in order, the column (lower-case) it fills."""

    pattern: str
    groups: tuple[str, ...]
    #: the expression's capture names (lower-case) that name a field, in order (bare
    #: patterns nested in library patterns capture too, but are not listed)
    captures: tuple[str, ...] = ()


def compile_grok(
    fmt: str, custom: str | None, columns: list[str], where: str = "grok pattern"
) -> GrokRegex:
    """Expand ``fmt`` with the library and ``custom`` patterns into one RE2 regex whose
    capturing groups are exactly the captures that name one of ``columns``."""
    try:
        library = {**LIBRARY, **_custom_patterns(custom)}
    except InvalidRequestError as err:
        raise InvalidRequestError(f"{where}: input.grokCustomPatterns: {err}") from err
    wanted = {c.lower() for c in columns}
    groups: list[str] = []
    #: the capture names a user would recognise (fields, top-level patterns), in order
    captured: dict[str, None] = {}

    def _reference(text: str, i: int) -> GrokReference | None:
        try:
            return reference_at(text, i)
        except InvalidRequestError as err:  # UnsupportedError too: keep the class
            raise type(err)(f"{where}: {err.message}") from err

    def capture(key: str, listed: bool = True) -> str:
        if listed:
            captured.setdefault(key.lower(), None)
        if key.lower() in wanted:
            groups.append(key.lower())
            return "("
        return "(?:"

    def expand(text: str, depth: int, origin: str) -> str:
        if depth > _MAX_DEPTH:
            raise InvalidRequestError(f"{where}: pattern %{{{origin}}} refers to itself")
        out: list[str] = []
        i = 0
        in_class = False
        while i < len(text):
            c = text[i]
            if c == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            if in_class:
                in_class = c != "]"
                out.append(c)
                i += 1
                continue
            if c == "[":
                start = i
                i += 1
                if text.startswith("^", i):
                    i += 1
                if text.startswith("]", i):  # a leading ']' is literal
                    i += 1
                out.append(text[start:i])
                in_class = True
                continue
            ref = _reference(text, i) if c == "%" else None
            if ref is not None:
                name = ref.pattern
                if ref.definition is not None:
                    library[name] = ref.definition  # java-grok: defined for later uses too
                if name not in library:
                    raise InvalidRequestError(
                        f"{where}: pattern %{{{name}}} is not defined; define it in "
                        "'input.grokCustomPatterns' as a line 'NAME regex'"
                    )
                # a bare %{PATTERN} captures as its name; inside a library pattern such a
                # capture is no name a user chose, so messages do not list it
                opening = capture(ref.field or name, ref.field is not None or depth == 0)
                out.append(f"{opening}{expand(library[name], depth + 1, name)})")
                i += len(ref.text)
                continue
            if c == "(":
                named = _NAMED_GROUP.match(text, i)
                if named is not None:
                    out.append(capture(named.group(1)))
                    i = named.end()
                elif text.startswith("(?", i):
                    out.append("(")  # non-capturing, flags, look-around: as written
                    i += 1
                else:
                    out.append("(?:")
                    i += 1
                continue
            out.append(c)
            i += 1
        return "".join(out)

    java = expand(fmt, 0, "input.format")
    try:
        translated = translate_java_regex(java)
    except InvalidRequestError as err:  # UnsupportedError too: keep the class
        # the translator speaks of RegexSerDe's property; here the regex came from input.format
        message = err.message.replace("input.regex", "the expanded input.format")
        raise type(err)(f"{where}: {message}") from err
    if translated.lookaheads:
        raise InvalidRequestError(f"{where}: a leading look-ahead is not supported")
    if translated.groups != len(groups):  # pragma: no cover - the expander's invariant
        raise InvalidRequestError(f"{where}: could not number the captures of {fmt!r}")
    return GrokRegex(translated.pattern, tuple(groups), tuple(captured))


def _unquote(x: str) -> str:
    """The grok library drops the quotes around a captured value (``"curl/8.0"`` reads as
    ``curl/8.0``; a lone quote as '')."""
    # RE2 has no back-references, so each quote kind is its own alternative
    return (
        f"CASE WHEN {x} IN ('\"', '''') THEN '' ELSE regexp_replace({x}, "
        "'^\"(.*)\"$|^''(.*)''$', '\\1\\2', 's') END"
    )


def _convert(x: str, type_text: str) -> str:
    """Text to the column type; a boolean is true exactly when the text is 'true' in any
    case, as Java's Boolean.parseBoolean reads it in Athena's grok reader."""
    if parse_type(type_text).this == exp.DType.BOOLEAN:
        return f"(lower({x}) = 'true')"
    return convert_text(x, type_text)


def _custom_patterns(text: str | None) -> dict[str, str]:
    """Custom pattern lines: a name, whitespace (a tab too), the regex."""
    lines = [re.sub(r"^(\S+)\s+", r"\1 ", line.strip()) for line in (text or "").splitlines()]
    return parse_custom_patterns("\n".join(lines))


class GrokReader(LineReader):
    name = "grok (GrokSerDe)"

    def compiled(self, table: Table) -> GrokRegex:
        params = table.serde_parameters
        fmt = params.get("input.format")
        if not fmt:
            raise InvalidRequestError(
                f"table {table.qualified_name}: GrokSerDe needs the SerDe property "
                "'input.format' (a grok pattern such as '%{COMBINEDAPACHELOG}')"
            )
        where = f"table {table.qualified_name}"
        grok = compile_grok(
            fmt, params.get("input.grokCustomPatterns"), [c.name for c in table.columns], where
        )
        filled = set(grok.groups)
        for col in table.columns:
            if col.name.lower() not in filled:
                # it could only ever read NULL: a misspelt capture, most likely
                raise InvalidRequestError(
                    f"{where}: no capture of input.format is named {col.name!r}, so the column "
                    f"would always be NULL; the captures are: {', '.join(grok.captures) or 'none'}"
                    " (name one %{PATTERN:" + col.name + "})"
                )
        return grok

    def validate(self, table: Table) -> None:
        skip_header_lines(table)
        text_charset(table)
        for col in table.columns:
            if not is_primitive(col.type):
                raise InvalidRequestError(
                    f"table {table.qualified_name}: GrokSerDe reads primitive columns only; "
                    f"column {col.name!r} is {col.type!r}"
                )
        grok = self.compiled(table)
        try:  # let RE2 itself judge what the translation could not
            with duckdb.connect() as con:
                con.sql(f"SELECT regexp_matches('', {sql_string(grok.pattern)})").fetchall()
        except duckdb.Error as err:
            raise InvalidRequestError(
                f"table {table.qualified_name}: input.format does not compile to a valid "
                f"regular expression: {err}"
            ) from err

    def _select(self, ctx: ReadContext, request: ReadRequest, tags: RowTags) -> str:
        table = request.table
        grok = self.compiled(table)
        names = [f"g{i}" for i in range(len(grok.groups))]
        cols = []
        for col in request.columns:
            # the grok library keeps the last capture of a name that matched
            parts = [
                f"nullif(__m.{g}, '')"
                for g, column in zip(names, grok.groups, strict=True)
                if column == col.name.lower()
            ][::-1]
            if not parts:
                raw = "NULL::VARCHAR"
            else:
                raw = _unquote(parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})")
            cols.append(f"{_convert(raw, col.type)} AS {quote_ident(col.name)}")
        select = ", ".join(cols) or "NULL AS __lakebox_empty"
        source = lines_source(ctx, table, request.files, tags)
        keep = tags.passed()
        # no separate match test: a line the pattern misses extracts '' for every group,
        # which reads as NULL like an empty capture, so one regex pass per line suffices
        extract = (
            f"regexp_extract(coalesce(line, ''), {sql_string(grok.pattern)}, {sql_list(names)})"
            if names
            else "NULL::STRUCT(__none VARCHAR)"
        )
        return f"SELECT {select}{keep} FROM (SELECT {extract} AS __m{keep} FROM {source})"
