"""Dates, times, intervals and time zones: Trino's date and time functions and operators on
DuckDB."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.engine.duckdb.rules.base import AnonHandler, Handler, is_date, unit
from lakebox.errors import UnsupportedError

_DAY_OR_LONGER = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}


def _as_date(sql: str) -> str:
    """Trino keeps DATE for date +/- days..years and date_trunc(date); DuckDB widens to
    TIMESTAMP."""
    return f"CAST({sql} AS DATE)"


def _date_add(gen: DuckDBGenerator, e: exp.Expression) -> str:
    this = e.this
    sql = f"({gen.sql(this)}) + ({gen.sql(e, 'expression')}) * INTERVAL 1 {unit(e)}"
    if is_date(this) and unit(e) in _DAY_OR_LONGER:
        return _as_date(sql)
    return f"({sql})"


def _date_diff(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino counts whole units elapsed (like DuckDB's date_sub), not boundaries crossed."""
    name = exp.Literal.string(unit(e).lower())
    return gen.func("DATE_SUB", name, e.expression, e.this)


def _date_trunc(gen: DuckDBGenerator, e: exp.Expression) -> str:
    sql = gen.func("DATE_TRUNC", exp.Literal.string(unit(e).lower()), e.this)
    return _as_date(sql) if is_date(e.this) else sql


def _interval_arith(op: str) -> Handler:
    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        sql = gen.binary(e, op)  # type: ignore[arg-type]
        right = e.expression
        if is_date(e.this) and isinstance(right, exp.Interval) and unit(right) in _DAY_OR_LONGER:
            return _as_date(sql)
        return sql

    return handler


def _parse_datetime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """parse_datetime takes a Java (Joda) pattern, unlike date_parse's MySQL specifiers."""
    pattern = e.args.get("format")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError("parse_datetime: the pattern must be a string literal")
    return gen.func("STRPTIME", e.this, exp.Literal.string(joda_to_strftime(pattern.this)))


def _from_unixtime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """from_unixtime(x, zone): the wall-clock time in that zone (as at_timezone)."""
    sql = gen.func("TO_TIMESTAMP", e.this)
    zone = e.args.get("zone")
    if e.args.get("scale") is not None or e.args.get("format") is not None:
        return str(DuckDBGenerator.TRANSFORMS[exp.UnixToTime](gen, e))
    return f"({sql} AT TIME ZONE {gen.sql(zone)})" if zone is not None else sql


_JODA_TO_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSSSSS": "%f",
    "SSS": "%g",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "E": "%a",
    "DDD": "%j",
    "Z": "%z",
    "z": "%Z",
}


_JODA_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def joda_to_strftime(pattern: str) -> str:
    """Translate a Java/Joda DateTimeFormat pattern (format_datetime) to DuckDB strftime."""
    out = []
    for m in _JODA_TOKEN.finditer(pattern):
        token = m.group(0)
        if token.startswith("'"):
            out.append(token[1:-1].replace("''", "'").replace("%", "%%") or "'")
        elif token[0].isalpha():
            if token not in _JODA_TO_STRFTIME:
                raise UnsupportedError(
                    f"format_datetime: pattern letters {token!r} in {pattern!r} are not "
                    "supported; use date_format with MySQL specifiers instead"
                )
            out.append(_JODA_TO_STRFTIME[token])
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


def _format_datetime(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    value, pattern = e.expressions
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError("format_datetime: the pattern must be a string literal")
    return gen.func("STRFTIME", value, exp.Literal.string(joda_to_strftime(pattern.this)))


def _to_iso8601(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Dates print as yyyy-MM-dd; timestamps with millisecond precision and a T."""
    (value,) = e.expressions
    sql = gen.sql(value)
    return (
        f"CASE WHEN TYPEOF({sql}) = 'DATE' THEN STRFTIME({sql}, '%Y-%m-%d') "
        f"ELSE STRFTIME({sql}, '%Y-%m-%dT%H:%M:%S.%g') END"
    )


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.Add: _interval_arith("+"),
    exp.Sub: _interval_arith("-"),
    exp.CurrentTimezone: lambda gen, e: "CURRENT_SETTING('TimeZone')",
    exp.DateAdd: _date_add,
    exp.DateDiff: _date_diff,
    exp.ParseDatetime: _parse_datetime,
    exp.TimestampTrunc: _date_trunc,
    exp.DateTrunc: _date_trunc,
    exp.UnixToTime: _from_unixtime,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "at_timezone": lambda gen, e: gen.sql(
        exp.AtTimeZone(this=e.expressions[0], zone=e.expressions[1])
    ),
    "format_datetime": _format_datetime,
    "to_iso8601": _to_iso8601,
}

MACROS: list[str] = []
