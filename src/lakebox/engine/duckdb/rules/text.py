"""Strings, regular expressions, URLs, JSON and conversions (CAST, format, typeof): Trino's
functions on DuckDB."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules import temporal
from lakebox.engine.duckdb.rules.base import (
    FLOAT_TYPES,
    INTEGER_TYPES,
    AnonHandler,
    Handler,
    renamed,
)
from lakebox.errors import UnsupportedError


def _json_extract_scalar(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when the path points at an object or array; DuckDB returns its text."""
    this, path = gen.sql(e, "this"), gen.sql(e, "expression")
    return (
        f"CASE WHEN JSON_TYPE({this}, {path}) IN ('OBJECT', 'ARRAY') THEN NULL "
        f"ELSE {this} ->> {path} END"
    )


def _regexp_extract(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL when nothing matches; DuckDB returns ''."""
    this, pattern = e.this, e.expression
    group = e.args.get("group") or exp.Literal.number(0)
    extract = gen.func("REGEXP_EXTRACT", this, pattern, group)
    return f"CASE WHEN {gen.func('REGEXP_MATCHES', this, pattern)} THEN {extract} END"


_JAVA_GROUP_REF = re.compile(r"\\(.)|\$(\d+)|\$\{(\w+)\}")


def _java_replacement_to_re2(text: str) -> str:
    r"""Trino (Java) writes group references as $1 and escapes with \; RE2 wants \1 and \\."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return "\\\\" if m.group(1) == "\\" else m.group(1)
        if m.group(2) is not None:
            return "\\" + m.group(2)
        raise UnsupportedError(
            f"regexp_replace: named group reference ${{{m.group(3)}}} is not supported; "
            "use a numbered group ($1)"
        )

    return _JAVA_GROUP_REF.sub(sub, text)


def _regexp_replace(gen: DuckDBGenerator, e: exp.Expression) -> str:
    replacement = e.args.get("replacement") or exp.Literal.string("")
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        replacement = exp.Literal.string(_java_replacement_to_re2(replacement.this))
    return gen.func("REGEXP_REPLACE", e.this, e.expression, replacement, exp.Literal.string("g"))


def _split(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """split(s, d, limit): at most ``limit`` parts, the last holding the rest of the string."""
    parts = gen.func("STR_SPLIT", e.this, e.expression)
    limit = e.args.get("limit")
    if limit is None:
        return parts
    n, delimiter = gen.sql(limit), gen.sql(e, "expression")
    rest = f"ARRAY_TO_STRING({parts}[{n}:], {delimiter})"
    return (
        f"CASE WHEN LEN({parts}) <= {n} THEN {parts} "
        f"ELSE LIST_APPEND({parts}[1:{n} - 1], {rest}) END"
    )


def _split_part(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino returns NULL past the last field; DuckDB's split_part returns ''."""
    parts = gen.func("STR_SPLIT", e.this, e.args["delimiter"])
    return f"{parts}[{gen.sql(e.args['part_index'])}]"


_TRINO_TYPE_NAMES = {
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "VARCHAR": "varchar",
    "DATE": "date",
    "TIMESTAMP": "timestamp(3)",
    "TIMESTAMP_MS": "timestamp(3)",
    "TIMESTAMP_S": "timestamp(0)",
    "TIMESTAMP_NS": "timestamp(9)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "BLOB": "varbinary",
    "JSON": "json",
    '"NULL"': "unknown",
}


def _typeof(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino spells types in lower case with its own names (real, varbinary, array(x),
    row(...)); nested element names are only lower-cased."""
    if (known := temporal.typeof_sql(gen, e)) is not None:
        return known
    duck = gen.func("TYPEOF", e.this)
    keys = ", ".join(f"'{k}'" for k in _TRINO_TYPE_NAMES)
    values = ", ".join(f"'{v}'" for v in _TRINO_TYPE_NAMES.values())
    spelled = f"REPLACE(LOWER({duck}), 'struct(', 'row(')"
    arrays = f"REGEXP_REPLACE({spelled}, '^(.*)\\[\\]$', 'array(\\1)')"
    nested = f"REGEXP_REPLACE({arrays}, '^array\\((.*)\\[\\]\\)$', 'array(array(\\1))')"
    return f"COALESCE(MAP([{keys}], [{values}])[{duck}], {nested})"


def _reverse(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """reverse() takes strings and arrays in Trino; DuckDB's reverse only strings."""
    kind = e.this.type
    if kind is not None and kind.is_type(exp.DataType.Type.ARRAY):
        return gen.func("LIST_REVERSE", e.this)
    return gen.func("REVERSE", e.this)


def _format(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino's format() takes Java format specifiers (%s, %d, %.2f): DuckDB calls that printf."""
    return gen.func("PRINTF", e.this, *e.expressions)


def _is_json(node: exp.Expression) -> bool:
    typed = node.type is not None and node.type.is_type(exp.DataType.Type.JSON)
    return typed or isinstance(node, (exp.JSONExtract, exp.ParseJSON))


def _cast(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino rounds a double half away from zero when casting to an integer (DuckDB: half to
    even), and casting a JSON scalar to varchar gives its value, not its JSON text."""
    assert isinstance(e, exp.Cast)
    if (temporal_sql := temporal.cast_sql(gen, e)) is not None:
        return temporal_sql
    source = e.this
    if e.to.is_type(*exp.DataType.TEXT_TYPES) and _is_json(source):
        return f"({gen.sql(source)} ->> '$')"
    if (
        e.to.is_type(*INTEGER_TYPES)
        and source.type is not None
        and source.type.is_type(*FLOAT_TYPES)
    ):
        e = e.copy()
        e.set("this", exp.Round(this=source.copy()))
    return str(DuckDBGenerator.cast_sql(gen, e))


def _json_array_length(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Trino returns NULL for a non-array; DuckDB returns 0."""
    (value,) = e.expressions
    length = gen.func("JSON_ARRAY_LENGTH", value)
    return f"CASE WHEN {gen.func('JSON_TYPE', value)} = 'ARRAY' THEN {length} END"


_URL = (
    r"^(?:([a-zA-Z][a-zA-Z0-9+.-]*):)?(?://([^/?#:]*)(?::(\d+))?)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
)
"""RFC 3986 appendix B, split further into host and port: groups protocol, host, port, path,
query, fragment — what Trino's url_extract_* return."""


def _url_part(group: int) -> Callable[[DuckDBGenerator, exp.Anonymous], str]:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        (url,) = e.expressions
        part = gen.func("REGEXP_EXTRACT", url, exp.Literal.string(_URL), exp.Literal.number(group))
        if group == 3:
            return f"TRY_CAST(NULLIF({part}, '') AS BIGINT)"
        if group in (2, 4):
            return part
        return f"NULLIF({part}, '')"

    return handler


def _url_extract_parameter(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """First value of a query-string parameter, NULL when absent (no percent-decoding)."""
    url, name = e.expressions
    query = _url_part(5)(gen, exp.Anonymous(this="url_extract_query", expressions=[url]))
    pattern = f"'(?:^|&)' || {gen.sql(name)} || '=([^&]*)'"
    return (
        f"CASE WHEN REGEXP_MATCHES({query}, {pattern}) "
        f"THEN REGEXP_EXTRACT({query}, {pattern}, 1) END"
    )


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.Cast: _cast,
    exp.Format: _format,
    exp.JSONExtractScalar: _json_extract_scalar,
    exp.RegexpExtract: _regexp_extract,
    exp.RegexpReplace: _regexp_replace,
    exp.Reverse: _reverse,
    exp.Split: _split,
    exp.SplitPart: _split_part,
    exp.Typeof: _typeof,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "codepoint": renamed("UNICODE"),
    "json_array_length": _json_array_length,
    "url_extract_fragment": _url_part(6),
    "url_extract_host": _url_part(2),
    "url_extract_parameter": _url_extract_parameter,
    "url_extract_path": _url_part(4),
    "url_extract_port": _url_part(3),
    "url_extract_protocol": _url_part(1),
    "url_extract_query": _url_part(5),
}

MACROS: list[str] = []
