"""Dates, times, intervals and time zones: Trino's date and time functions and operators on
DuckDB.

How a ``timestamp(p) with time zone`` keeps its zone
----------------------------------------------------
A Trino ``timestamp with time zone`` is an instant *and* a zone
(``2001-08-22 03:04:05.321 America/New_York``); DuckDB's TIMESTAMPTZ keeps only the
instant. The translation therefore knows, from the expression itself, which kind each
temporal value is (``temporal_type``) and gives it one of three runtime forms:

- ``timestamp`` (no zone): DuckDB TIMESTAMP (TIMESTAMP_NS above six fractional digits);
- ``utc``, a zoned value whose zone is the session's (UTC): DuckDB TIMESTAMPTZ, the session
  time zone being UTC. ``now()``, ``from_unixtime(x)``, ``parse_datetime`` without a zone
  and ``TIMESTAMP '... UTC'`` are of this kind;
- ``zoned``, any other zone: a DuckDB ``STRUCT("$instant" TIMESTAMPTZ, "$zone" VARCHAR)``
  (see ``lakebox.catalog.types.INSTANT_FIELD``). Literals with a zone, ``AT TIME ZONE``,
  ``at_timezone``, ``with_timezone``, ``from_unixtime(x, zone)``,
  ``from_unixtime(x, h, m)``, ``from_iso8601_timestamp`` and ``parse_datetime`` with a zone
  make it.

The rules here read the zone where Trino does: ``hour()``, ``extract``, ``date_format``,
``CAST(... AS timestamp / date / varchar)``, ``date_trunc`` and day-or-longer arithmetic see
the wall-clock time in the value's zone; ``to_unixtime``, comparisons and sub-day arithmetic
see the instant. A zoned value that reaches any other function is a STRUCT, which DuckDB
rejects at bind time naming the function: the zone is never silently dropped. The kind is
followed through columns of subqueries, WITH queries, VALUES lists and UNIONs, through
CASE / IF / COALESCE and max / min / arbitrary; where it cannot be followed (a view's
column, say), zoned values compare as structs (instant first, then zone name).

Precision
---------
``TIMESTAMP '2020-06-10 15:55:23.383345'`` is ``timestamp(6)`` and prints six digits; the
precision comes from the literal, a CAST, and carries through arithmetic, ``date_add`` and
``date_trunc`` (``temporal_type``). Arrow cannot say "6 digits", so a result column whose
precision is not Athena's default of 3 is wrapped, in the outermost select only (its aliased
columns, and ``SELECT *`` through DuckDB's ``* REPLACE``), in a struct
whose one field is named by the type (``"timestamp(6)"``, ``"time(0)"``, or
``"timestamp(0) with time zone"`` with ``"$zone"``); values above six digits are carried as
epoch nanoseconds there. ``result_table`` turns the result back into plain Arrow for every
consumer (the Python API, the result file): the timestamp column with its Trino type in the
field metadata, a zoned column as an Arrow timestamp whose time zone is the rows' zone (an
instant + zone struct when the rows' zones differ); ``lakebox.query.results`` prints them.
CTAS and INSERT unwrap the struct in SQL (``plain_column_sql``).
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa
from sqlglot import exp
from sqlglot.generators.duckdb import DuckDBGenerator

from lakebox.catalog.types import ATHENA_TYPE_KEY, INSTANT_FIELD, ZONE_FIELD, temporal_marker
from lakebox.engine.duckdb.rules import system
from lakebox.engine.duckdb.rules.base import AnonHandler, Handler, is_date, sqlglot_default, unit
from lakebox.errors import SemanticError, UnsupportedError
from lakebox.sql.dialect import outermost_select

_DAY_OR_LONGER = {"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"}

DEFAULT_PRECISION = 3
SESSION_ZONE = "UTC"

# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class Temporal:
    """The Trino type of a temporal expression as far as the translation can see it.

    ``kind``: ``timestamp`` | ``utc`` | ``zoned`` (both ``timestamp with time zone``, see
    the module docstring) | ``time``."""

    kind: str
    precision: int = DEFAULT_PRECISION

    @property
    def trino(self) -> str:
        if self.kind == "time":
            return f"time({self.precision})"
        zone = " with time zone" if self.kind in ("utc", "zoned") else ""
        return f"timestamp({self.precision}){zone}"


def _param(to: exp.DataType, default: int) -> int:
    for p in to.expressions:
        value = p.this if isinstance(p, exp.DataTypeParam) else p
        if isinstance(value, exp.Literal) and not value.is_string:
            return int(value.this)
    return default


def _string(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    return None


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _anon_name(node: exp.Expression) -> str:
    return str(node.this).lower() if isinstance(node, exp.Anonymous) else ""


def _zone_kind(zone: exp.Expression | None) -> str:
    """``utc`` when the zone is a literal naming UTC, else ``zoned``."""
    text = _string(zone)
    return "utc" if text is not None and canonical_zone(text) == SESSION_ZONE else "zoned"


def _precision_of(node: exp.Expression | None) -> int:
    kind = temporal_type(node) if node is not None else None
    return kind.precision if kind is not None else DEFAULT_PRECISION


def _cte(name: str, node: exp.Expression) -> exp.Expression | None:
    scope: exp.Expression | None = node
    while scope is not None:
        with_ = scope.args.get("with_") if isinstance(scope, exp.Query) else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name.lower() == name:
                    return cte.this
        scope = scope.parent  # type: ignore[assignment]
    return None


def _select_sources(select: exp.Select) -> list[exp.Expression]:
    sources = []
    from_ = select.args.get("from_")
    if isinstance(from_, exp.From):
        sources.append(from_.this)
    sources.extend(j.this for j in select.args.get("joins") or [])
    return sources


def _source_body(source: exp.Expression, select: exp.Select) -> exp.Expression | None:
    """The query a FROM source reads: a subquery's, or a WITH query's by name."""
    if isinstance(source, exp.Subquery):
        return source.this
    if isinstance(source, exp.Table) and not source.db:
        return _cte(source.name.lower(), select)
    return None


def _column_sources(column: exp.Column) -> list[exp.Expression]:
    """The expressions a column of a subquery, WITH query or VALUES list stands for (one per
    row of VALUES, one per part of a UNION), so that its kind (a zoned value, a precision)
    is known where it is used: ``SELECT hour(x) FROM (SELECT TIMESTAMP '... UTC' x)``."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return []
    name = column.name.lower()
    found: list[list[exp.Expression]] = []
    for source in _select_sources(select):
        if column.table and column.table.lower() != source.alias_or_name.lower():
            continue
        if isinstance(source, exp.Values):
            found.append(_values_column(source, name))
            continue
        selects = _set_parts(_source_body(source, select))
        names = [p.alias_or_name.lower() for p in selects[0].expressions] if selects else []
        if names.count(name) != 1 or any(len(p.expressions) != len(names) for p in selects):
            continue
        index = names.index(name)  # later parts of a UNION match by position
        found.append([_unalias(part.expressions[index]) for part in selects])
    return found[0] if len(found) == 1 else []


def _unalias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def _set_parts(body: exp.Expression | None) -> list[exp.Select]:
    """The selects of a query: itself, or each part of a UNION / INTERSECT / EXCEPT."""
    if isinstance(body, exp.Subquery):
        return _set_parts(body.this)
    if isinstance(body, exp.SetOperation):
        return _set_parts(body.this) + _set_parts(body.expression)
    return [body] if isinstance(body, exp.Select) else []


def _values_column(values: exp.Values, name: str) -> list[exp.Expression]:
    """Every row's expression for column ``name`` of ``(VALUES ...) AS t(a, b)``."""
    alias = values.args.get("alias")
    names = [c.name.lower() for c in alias.columns] if alias is not None else []
    if name not in names:
        return []
    index = names.index(name)
    cells = []
    for row in values.expressions:
        items = row.expressions if isinstance(row, exp.Tuple) else [row]
        if index >= len(items):
            return []
        cells.append(items[index])
    return cells


def _common(kinds: list[Temporal | None]) -> Temporal | None:
    """The type of a column whose rows come from several expressions: one kind, the
    largest precision (as Trino's common supertype); None when they differ in kind."""
    if not kinds or any(k is None for k in kinds):
        return None
    known = [k for k in kinds if k is not None]
    if len({k.kind for k in known}) != 1:
        return None
    return Temporal(known[0].kind, max(k.precision for k in known))


def temporal_type(node: exp.Expression, depth: int = 0) -> Temporal | None:
    """The temporal type of ``node`` when the translation can tell it from the expression
    (or, for a column of a subquery or WITH query, from the expression it stands for); None
    for anything else (table columns, other functions)."""
    node = _unparen(node)
    if isinstance(node, exp.Column):
        sources = _column_sources(node) if depth < 8 else []
        return _common([temporal_type(x, depth + 1) for x in sources])
    if isinstance(node, exp.Cast):
        to = node.to
        if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
            precision = _param(to, DEFAULT_PRECISION)
            text = _string(node.this)
            if text is not None:
                _, zone = split_zoned_literal(text)
                return Temporal("utc" if zone == SESSION_ZONE else "zoned", precision)
            source_kind = temporal_type(node.this)
            zoned = source_kind is not None and source_kind.kind == "zoned"
            return Temporal("zoned" if zoned else "utc", precision)
        if to.is_type(exp.DataType.Type.TIMESTAMP):
            return Temporal("timestamp", _param(to, DEFAULT_PRECISION))
        if to.is_type(exp.DataType.Type.TIME):
            return Temporal("time", _param(to, DEFAULT_PRECISION))
        return None
    if isinstance(node, exp.AtTimeZone):
        return Temporal(_zone_kind(node.args.get("zone")), _precision_of(node.this))
    name = _anon_name(node)
    if name in ("at_timezone", "with_timezone") and len(node.expressions) == 2:
        return Temporal(_zone_kind(node.expressions[1]), _precision_of(node.expressions[0]))
    if isinstance(node, exp.FromISO8601Timestamp):
        text = _string(node.this)
        if text is not None:
            return Temporal("utc" if _iso_zone(text) == SESSION_ZONE else "zoned")
        return Temporal("zoned")
    if isinstance(node, exp.FromISO8601TimestampNanos):
        return Temporal("utc", 9)
    if _anon_name(node) == "from_unixtime_nanos":
        return Temporal("utc", 9)
    if isinstance(node, exp.UnixToTime):
        if node.args.get("hours") is not None:
            return Temporal("zoned")
        zone_arg = node.args.get("zone")
        return Temporal("utc" if zone_arg is None else _zone_kind(zone_arg))
    if isinstance(node, exp.CurrentTimestamp):
        return Temporal("utc", _precision_of_literal(node.this))
    if isinstance(node, exp.Localtimestamp):
        return Temporal("timestamp", _precision_of_literal(node.this))
    if isinstance(node, exp.ParseDatetime):
        pattern = _string(node.args.get("format"))
        has_zone = pattern is not None and _joda_zone_letters(pattern)
        return Temporal("zoned" if has_zone else "utc")
    if isinstance(node, exp.StrToTime):
        return Temporal("timestamp")
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = _unparen(node.this), _unparen(node.expression)
        if isinstance(right, exp.Interval):
            return temporal_type(left)
        if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
            return temporal_type(right)
        return None
    if isinstance(node, (exp.DateAdd, exp.TimestampTrunc, exp.DateTrunc)):
        return temporal_type(node.this, depth)
    if isinstance(node, (exp.Max, exp.Min, exp.AnyValue)):
        return temporal_type(node.this, depth)
    branches = _branches(node)
    if branches:
        return _common([temporal_type(b, depth) for b in branches if not isinstance(b, exp.Null)])
    return None


def _branches(node: exp.Expression) -> list[exp.Expression]:
    """The values a conditional expression (CASE, IF, COALESCE) may return."""
    if isinstance(node, exp.Case):
        values = [i.args.get("true") for i in node.args.get("ifs") or []]
        return [v for v in [*values, node.args.get("default")] if v is not None]
    if isinstance(node, exp.If):
        return [v for v in (node.args.get("true"), node.args.get("false")) if v is not None]
    if isinstance(node, exp.Coalesce):
        return [node.this, *node.expressions]
    return []


def _precision_of_literal(node: exp.Expression | None) -> int:
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this)
    return DEFAULT_PRECISION


def is_zoned(node: exp.Expression) -> bool:
    kind = temporal_type(node)
    return kind is not None and kind.kind == "zoned"


# --------------------------------------------------------------------------- zones

_OFFSET = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")
_UTC_NAMES = {"UTC", "Z", "GMT", "UT", "ZULU", "UCT", "UNIVERSAL", "ETC/UTC", "ETC/GMT"}


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def canonical_zone(text: str) -> str:
    """Trino's spelling of a zone: ``UTC`` for UTC and its aliases (and a zero offset),
    ``+hh:mm`` for offsets (with or without a ``UTC`` / ``GMT`` / ``UT`` prefix), IANA names
    in their canonical case. Raises SemanticError naming an unknown zone."""
    zone = text.strip()
    upper = zone.upper()
    if upper in _UTC_NAMES:
        return SESSION_ZONE
    for prefix in ("UTC", "GMT", "UT"):
        if upper.startswith(prefix) and upper[len(prefix) : len(prefix) + 1] in ("+", "-"):
            zone = zone[len(prefix) :]
            break
    m = _OFFSET.match(zone)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise SemanticError(f"Invalid time zone offset: {text!r}")
        if hours == 0 and minutes == 0:
            return SESSION_ZONE
        return f"{m.group(1)}{hours:02d}:{minutes:02d}"
    name = _zone_names().get(zone.lower())
    if name is None:
        raise SemanticError(f"Time zone not supported: {text}")
    return name


_ZONED_LITERAL = re.compile(
    r"^\s*(\d{4,}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)\s*(.*?)\s*$"
)


def split_zoned_literal(text: str) -> tuple[str, str]:
    """(wall-clock part, canonical zone) of a ``timestamp with time zone`` literal; no zone
    means the session's."""
    m = _ZONED_LITERAL.match(text)
    if not m:
        raise SemanticError(f"Value cannot be cast to timestamp with time zone: {text}")
    return m.group(1), canonical_zone(m.group(2)) if m.group(2) else SESSION_ZONE


_ISO_ZONE = re.compile(r"(Z|[+-]\d{2}(?::?\d{2})?)$")


def _iso_zone(text: str) -> str:
    """The zone an ISO 8601 timestamp string names (the session's when it names none)."""
    if "T" not in text:
        return SESSION_ZONE
    m = _ISO_ZONE.search(text.strip())
    return canonical_zone(m.group(1)) if m else SESSION_ZONE


# DuckDB's ICU zones have no ``+01:00``: an offset zone is UTC plus that many minutes.
_OFFSET_RE = r"'^[+-]\d\d:\d\d$'"

MACROS: list[str] = [
    # minutes east of UTC that an offset zone names (0 for a named zone)
    "CREATE OR REPLACE MACRO lakebox_offset_minutes(z) AS "
    f"CASE WHEN regexp_matches(z, {_OFFSET_RE}) THEN "
    "(CASE WHEN z[1] = '-' THEN -1 ELSE 1 END) * "
    "(CAST(z[2:3] AS INTEGER) * 60 + CAST(z[5:6] AS INTEGER)) ELSE 0 END",
    "CREATE OR REPLACE MACRO lakebox_icu_zone(z) AS "
    f"CASE WHEN regexp_matches(z, {_OFFSET_RE}) THEN 'UTC' ELSE z END",
    # wall-clock TIMESTAMP of an instant in a zone
    "CREATE OR REPLACE MACRO lakebox_local(i, z) AS "
    "timezone(lakebox_icu_zone(z), i) + to_minutes(lakebox_offset_minutes(z))",
    # the instant of a wall-clock TIMESTAMP in a zone
    "CREATE OR REPLACE MACRO lakebox_instant(t, z) AS "
    "timezone(lakebox_icu_zone(z), CAST(t AS TIMESTAMP)) - to_minutes(lakebox_offset_minutes(z))",
    # the offset of a zone at an instant, as +hh:mm
    "CREATE OR REPLACE MACRO lakebox_offset_text(i, z) AS "
    "CASE WHEN date_diff('minute', timezone('UTC', i), lakebox_local(i, z)) < 0 THEN '-' "
    "ELSE '+' END || "
    "lpad(CAST(abs(date_diff('minute', timezone('UTC', i), lakebox_local(i, z))) // 60 "
    "AS VARCHAR), 2, '0') || ':' || "
    "lpad(CAST(abs(date_diff('minute', timezone('UTC', i), lakebox_local(i, z))) % 60 "
    "AS VARCHAR), 2, '0')",
    "CREATE OR REPLACE MACRO lakebox_tstz(t) AS CAST(t AS TIMESTAMPTZ)",
    # a zone written per row, spelled as Trino prints it (UTC aliases, +hh:mm offsets)
    "CREATE OR REPLACE MACRO lakebox_zone(z) AS "
    "CASE WHEN upper(z) IN ('UTC', 'Z', 'GMT', 'UT', '+00:00', '-00:00', '+0000', '+00') "
    "THEN 'UTC' "
    "WHEN regexp_matches(z, '^[+-]\\d\\d\\d\\d$') THEN z[1:3] || ':' || z[4:5] "
    "WHEN regexp_matches(z, '^[+-]\\d\\d$') THEN z || ':00' "
    "ELSE z END",
    # a zoned value; lakebox_local fails on an unknown zone, so none is ever carried
    "CREATE OR REPLACE MACRO lakebox_zoned(i, z) AS "
    f'struct_pack("{INSTANT_FIELD}" := i, "{ZONE_FIELD}" := '
    "CASE WHEN lakebox_local(i, lakebox_zone(z)) IS NULL AND i IS NOT NULL THEN NULL "
    "ELSE lakebox_zone(z) END)",
    # ISO 8601 dates: calendar, week (2020-W10, 2020-W10-3) and ordinal (2020-123) forms
    "CREATE OR REPLACE MACRO lakebox_iso8601_date(s) AS "
    "CASE WHEN regexp_matches(s, '^\\d{4}-?W\\d\\d(-?\\d)?$') THEN CAST("
    "make_date(CAST(s[1:4] AS INTEGER), 1, 4) "
    "- CAST(isodow(make_date(CAST(s[1:4] AS INTEGER), 1, 4)) - 1 AS INTEGER) "
    "+ (CAST(regexp_extract(s, 'W(\\d\\d)', 1) AS INTEGER) - 1) * 7 "
    "+ COALESCE(TRY_CAST(NULLIF(regexp_extract(s, 'W\\d\\d-?(\\d)$', 1), '') AS INTEGER), 1) "
    "- 1 AS DATE) "
    "WHEN regexp_matches(s, '^\\d{4}-?\\d{3}$') THEN CAST(make_date(CAST(s[1:4] AS INTEGER), "
    "1, 1) + CAST(s[-3:] AS INTEGER) - 1 AS DATE) "
    "ELSE CAST(s AS DATE) END",
    # human_readable_seconds: weeks, days, hours, minutes, seconds; zero parts left out
    "CREATE OR REPLACE MACRO lakebox_unit_text(n, name) AS "
    "CASE WHEN n > 0 THEN n || ' ' || name || CASE WHEN n > 1 THEN 's' ELSE '' END END",
    "CREATE OR REPLACE MACRO lakebox_human_seconds(x) AS "
    "CASE WHEN x IS NULL THEN NULL WHEN CAST(round(abs(x)) AS BIGINT) = 0 THEN '0 seconds' "
    "ELSE array_to_string(list_filter(["
    "lakebox_unit_text(CAST(round(abs(x)) AS BIGINT) // 604800, 'week'), "
    "lakebox_unit_text(CAST(round(abs(x)) AS BIGINT) % 604800 // 86400, 'day'), "
    "lakebox_unit_text(CAST(round(abs(x)) AS BIGINT) % 86400 // 3600, 'hour'), "
    "lakebox_unit_text(CAST(round(abs(x)) AS BIGINT) % 3600 // 60, 'minute'), "
    "lakebox_unit_text(CAST(round(abs(x)) AS BIGINT) % 60, 'second')], "
    "lambda p: p IS NOT NULL), ', ') END",
    # parse_duration: '<value> <unit>' with ns us ms s m h d, kept to the millisecond
    "CREATE OR REPLACE MACRO lakebox_parse_duration(s) AS "
    "CASE WHEN s IS NULL THEN NULL "
    "WHEN NOT regexp_matches(s, '^\\s*\\d+(\\.\\d+)?\\s*(ns|us|ms|s|m|h|d)\\s*$') THEN "
    "error('INVALID_FUNCTION_ARGUMENT: parse_duration: duration is not valid: ' || s) "
    "ELSE to_milliseconds(round(CAST(regexp_extract(s, '(\\d+(\\.\\d+)?)', 1) AS DOUBLE) * "
    "CASE regexp_extract(s, '(ns|us|ms|s|m|h|d)\\s*$', 1) WHEN 'ns' THEN 0.000001 "
    "WHEN 'us' THEN 0.001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'm' THEN 60000 "
    "WHEN 'h' THEN 3600000 ELSE 86400000 END)) END",
]


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _field(node: exp.Expression, name: str) -> exp.Expression:
    return _call("struct_extract", node.copy(), exp.Literal.string(name))


def instant_node(node: exp.Expression) -> exp.Expression:
    """The instant (DuckDB TIMESTAMPTZ) of a zoned or timestamp expression."""
    kind = temporal_type(node)
    if kind is None:
        # a table's timestamp column (session zone) or a TIMESTAMPTZ: DuckDB's cast gives
        # the instant of either
        return _call("lakebox_tstz", node.copy())
    if kind.kind == "utc":
        return node.copy()
    if kind.kind == "zoned":
        return _field(node, INSTANT_FIELD)
    # a timestamp without zone stands for that wall-clock time in the session zone
    return _call("lakebox_instant", node.copy(), exp.Literal.string(SESSION_ZONE))


def zone_node(node: exp.Expression) -> exp.Expression:
    kind = temporal_type(node)
    if kind is not None and kind.kind == "zoned":
        return _field(node, ZONE_FIELD)
    return exp.Literal.string(SESSION_ZONE)


def local_node(node: exp.Expression) -> exp.Expression:
    """The wall-clock TIMESTAMP of a zoned value in its zone (other values unchanged)."""
    if not is_zoned(node):
        return node.copy()
    return _call("lakebox_local", _field(node, INSTANT_FIELD), _field(node, ZONE_FIELD))


def _zoned(gen: DuckDBGenerator, instant: exp.Expression, zone: exp.Expression) -> str:
    return gen.func("lakebox_zoned", instant, zone)


def _zone_arg(zone: exp.Expression) -> exp.Expression:
    """A zone argument: literals checked and spelled as Trino does at translation time."""
    text = _string(zone)
    if text is not None:
        return exp.Literal.string(canonical_zone(text))
    return zone


# --------------------------------------------------------------------------- defaults


def _in_local_time(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Field extraction (year .. second, day_of_week, date(), last_day_of_month,
    date_format...) reads a zoned value's wall clock in its own zone."""
    arg_key = "expression" if isinstance(e, exp.Extract) else "this"
    arg = e.args.get(arg_key)
    if arg is not None and is_zoned(arg):
        e = e.copy()
        e.set(arg_key, local_node(arg))
    return sqlglot_default(gen, e)


def _as_date(sql: str) -> str:
    """Trino keeps DATE for date +/- days..years and date_trunc(date); DuckDB widens to
    TIMESTAMP."""
    return f"CAST({sql} AS DATE)"


def _keep_type(sql: str, kind: Temporal | None) -> str:
    """DuckDB widens TIMESTAMP_NS arithmetic to TIMESTAMP: keep nanoseconds above p = 6."""
    if kind is not None and kind.kind == "timestamp" and kind.precision > 6:
        return f"CAST({sql} AS TIMESTAMP_NS)"
    return sql


def _rezone(gen: DuckDBGenerator, local_sql: str, node: exp.Expression) -> str:
    """A zoned value from its new wall-clock time, in the zone of ``node``."""
    zone = gen.sql(zone_node(node))
    return f"lakebox_zoned(lakebox_instant({local_sql}, {zone}), {zone})"


def _date_add(gen: DuckDBGenerator, e: exp.Expression) -> str:
    this = e.this
    step = f"({gen.sql(e, 'expression')}) * INTERVAL 1 {unit(e)}"
    if is_zoned(this):
        if unit(e) in _DAY_OR_LONGER:
            return _rezone(gen, f"({gen.sql(local_node(this))}) + {step}", this)
        instant = gen.sql(instant_node(this))
        return f"lakebox_zoned(({instant}) + {step}, {gen.sql(zone_node(this))})"
    sql = f"({gen.sql(this)}) + {step}"
    if is_date(this) and unit(e) in _DAY_OR_LONGER:
        return _as_date(sql)
    return _keep_type(f"({sql})", temporal_type(this))


def _date_diff(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """Trino counts whole units elapsed (like DuckDB's date_sub), not boundaries crossed;
    zoned values are compared on the first one's wall clock."""
    name = exp.Literal.string(unit(e).lower())
    start, end = e.expression, e.this
    if is_zoned(start) or is_zoned(end):
        zone = zone_node(start)
        start_local = _call("lakebox_local", instant_node(start), zone)
        end_local = _call("lakebox_local", instant_node(end), zone.copy())
        return gen.func("DATE_SUB", name, start_local, end_local)
    return gen.func("DATE_SUB", name, start, end)


def _date_trunc(gen: DuckDBGenerator, e: exp.Expression) -> str:
    name = exp.Literal.string(unit(e).lower())
    if is_zoned(e.this):
        return _rezone(gen, gen.func("DATE_TRUNC", name, local_node(e.this)), e.this)
    sql = gen.func("DATE_TRUNC", name, e.this)
    return _as_date(sql) if is_date(e.this) else _keep_type(sql, temporal_type(e.this))


def _interval_arith(op: str) -> Handler:
    def handler(gen: DuckDBGenerator, e: exp.Expression) -> str:
        left, right = e.this, e.expression
        if isinstance(_unparen(right), exp.Interval) and is_zoned(left):
            interval = gen.sql(right)
            if unit(_unparen(right)) in ("MONTH", "YEAR", "QUARTER"):
                return _rezone(gen, f"({gen.sql(local_node(left))}) {op} {interval}", left)
            instant = gen.sql(instant_node(left))
            return f"lakebox_zoned(({instant}) {op} {interval}, {gen.sql(zone_node(left))})"
        sql = gen.binary(e, op)  # type: ignore[arg-type]
        if is_date(left) and isinstance(right, exp.Interval) and unit(right) in _DAY_OR_LONGER:
            return _as_date(sql)
        if isinstance(_unparen(right), exp.Interval):
            return _keep_type(sql, temporal_type(left))
        return sql

    return handler


_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
}


def compare_sql(gen: DuckDBGenerator, e: exp.Expression) -> str | None:
    """A comparison of zoned values: equal when their instants are (whatever their zones).
    None when neither side is zoned. (The text family owns the comparison rules and asks
    here first.)"""
    left, right = e.this, e.expression
    op = _COMPARISONS.get(type(e))
    if op is None or not (is_zoned(left) or is_zoned(right)):
        return None
    return f"({gen.sql(instant_node(left))}) {op} ({gen.sql(instant_node(right))})"


def _between(gen: DuckDBGenerator, e: exp.Expression) -> str:
    assert isinstance(e, exp.Between)
    if (addresses := system.between_sql(gen, e)) is not None:
        return addresses
    parts = [e.this, e.args["low"], e.args["high"]]
    if any(is_zoned(p) for p in parts):
        this, low, high = (gen.sql(instant_node(p)) for p in parts)
        return f"({this}) BETWEEN ({low}) AND ({high})"
    return sqlglot_default(gen, e)


# --------------------------------------------------------------------------- producers


def _at_timezone(gen: DuckDBGenerator, value: exp.Expression, zone: exp.Expression) -> str:
    """``x AT TIME ZONE z`` / ``at_timezone(x, z)``: the same instant, shown in zone z."""
    instant = instant_node(value)
    if _zone_kind(zone) == "utc":
        return gen.sql(instant)
    return _zoned(gen, instant, _zone_arg(zone))


def _with_timezone(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """The same wall-clock time, in zone z."""
    value, zone = e.expressions
    zone = _zone_arg(zone)
    local_sql = f"CAST({gen.sql(local_node(value))} AS TIMESTAMP)"
    zone_sql = gen.sql(zone)
    instant = f"lakebox_instant({local_sql}, {zone_sql})"
    if _zone_kind(zone) == "utc":
        return instant
    return f"lakebox_zoned({instant}, {zone_sql})"


def _from_iso8601_timestamp(gen: DuckDBGenerator, e: exp.Expression) -> str:
    text = _string(e.this)
    value = gen.sql(e, "this")
    instant = f"CAST({value} AS TIMESTAMPTZ)"
    if text is not None:
        zone = _iso_zone(text)
        if zone == SESSION_ZONE:
            return instant
        return f"lakebox_zoned({instant}, {exp.Literal.string(zone).sql()})"
    zone = (
        f"CASE WHEN strpos({value}, 'T') = 0 THEN 'UTC' ELSE "
        f"COALESCE(NULLIF(regexp_extract({value}, '(Z|[+-]\\d\\d(:?\\d\\d)?)$', 1), ''), "
        "'UTC') END"
    )
    return f"lakebox_zoned({instant}, {zone})"


def _from_iso8601_timestamp_nanos(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """timestamp(9) with time zone; only a literal in the session zone can keep its
    nanoseconds (a UTC value above microseconds is a TIMESTAMP_NS of its UTC wall clock)."""
    text = _string(e.this)
    if text is None or _iso_zone(text) != SESSION_ZONE:
        raise UnsupportedError(
            "from_iso8601_timestamp_nanos: only a literal without a zone other than UTC is "
            "supported (nanoseconds with a time zone are not carried)"
        )
    local = re.sub(r"(Z|[+-]\d{2}(:?\d{2})?)$", "", text.strip()).replace("T", " ")
    return _literal_timestamp(local, 9)


def _from_unixtime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """from_unixtime(x), (x, zone), (x, hours, minutes): the instant, shown in that zone."""
    if e.args.get("scale") is not None or e.args.get("format") is not None:
        return str(DuckDBGenerator.TRANSFORMS[exp.UnixToTime](gen, e))
    instant = gen.func("TO_TIMESTAMP", e.this)
    hours = e.args.get("hours")
    if hours is not None:
        minutes = e.args.get("minutes") or exp.Literal.number(0)
        total = f"(({gen.sql(hours)}) * 60 + ({gen.sql(minutes)}))"
        offset = (
            f"CASE WHEN {total} < 0 THEN '-' ELSE '+' END || "
            f"lpad(CAST(abs({total}) // 60 AS VARCHAR), 2, '0') || ':' || "
            f"lpad(CAST(abs({total}) % 60 AS VARCHAR), 2, '0')"
        )
        return f"lakebox_zoned({instant}, {offset})"
    zone = e.args.get("zone")
    if zone is None or _zone_kind(zone) == "utc":
        return instant
    return f"lakebox_zoned({instant}, {gen.sql(_zone_arg(zone))})"


def _current_timestamp(gen: DuckDBGenerator, e: exp.Expression) -> str:
    precision = _precision_of_literal(e.this)
    if precision < 6:
        return f"CAST(time_bucket(INTERVAL {10 ** (6 - precision)} MICROSECONDS, now()) AS TIMESTAMPTZ)"
    return "CURRENT_TIMESTAMP"


def _current_time(gen: DuckDBGenerator, e: exp.Expression) -> str:
    raise UnsupportedError(
        "current_time: time with time zone is not supported; use localtime or current_timestamp"
    )


def _localtimestamp(gen: DuckDBGenerator, e: exp.Expression) -> str:
    precision = _precision_of_literal(e.this)
    local = f"timezone('{SESSION_ZONE}', now())"
    if precision < 6:
        return f"time_bucket(INTERVAL {10 ** (6 - precision)} MICROSECONDS, {local})"
    return local


# --------------------------------------------------------------------------- casts


def _round_to(sql: str, precision: int, kind: str) -> str:
    """Trino rounds (half up) when casting to fewer fractional digits."""
    if precision >= 6:
        return sql
    step = 10 ** (6 - precision)
    if kind == "time":
        micros = f"epoch_us(CAST('1970-01-01' AS DATE) + {sql})"
        rounded = f"(({micros}) + {step // 2}) // {step} * {step}"
        return f"CAST(make_timestamp({rounded}) AS TIME)"
    micros = f"epoch_us({sql})"
    rounded = f"(({micros}) + {step // 2}) // {step} * {step}"
    return f"make_timestamp({rounded})"


def _literal_timestamp(text: str, precision: int) -> str:
    digits = re.search(r"\.(\d+)", text)
    fraction = digits.group(1) if digits else ""
    if len(fraction) > 9 and fraction[9:].strip("0"):
        raise UnsupportedError(
            f"timestamp({precision}): values below the nanosecond are not supported ({text!r})"
        )
    target = "TIMESTAMP_NS" if precision > 6 else "TIMESTAMP"
    if len(fraction) > 9:
        text = text.replace("." + fraction, "." + fraction[:9])
    sql = f"CAST({exp.Literal.string(text).sql()} AS {target})"
    # a literal written with more digits than its type holds is rounded, as Trino does
    return _round_to(sql, precision, "timestamp") if len(fraction) > precision else sql


def cast_sql(gen: DuckDBGenerator, e: exp.Expression) -> str | None:
    """Casts to and from the temporal types (called first by the text family's CAST rule);
    None leaves the cast to it."""
    assert isinstance(e, exp.Cast)
    to, source = e.to, e.this
    text = _string(source)
    source_kind = temporal_type(source)
    if to.is_type(exp.DataType.Type.TIMETZ):
        raise UnsupportedError("time with time zone is not supported; use time or timestamp")
    if to.is_type(exp.DataType.Type.TIMESTAMPTZ):
        precision = _param(to, DEFAULT_PRECISION)
        if text is not None:
            local, zone = split_zoned_literal(text)
            local_sql = _literal_timestamp(local, precision)
            if zone == SESSION_ZONE:
                # above microseconds, a UTC value stays a TIMESTAMP_NS of its UTC wall clock
                return local_sql if precision > 6 else f"CAST({local_sql} AS TIMESTAMPTZ)"
            zone_sql = exp.Literal.string(zone).sql()
            return f"lakebox_zoned(lakebox_instant({local_sql}, {zone_sql}), {zone_sql})"
        if source_kind is not None and source_kind.kind == "zoned":
            return gen.sql(source)
        temporal_source = source.type is not None and source.type.is_type(
            exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMPTZ
        )
        if source_kind is not None or temporal_source:
            return f"CAST({gen.sql(source)} AS TIMESTAMPTZ)"
        # a string's zone would be lost in DuckDB's cast
        raise UnsupportedError(
            "CAST(... AS timestamp with time zone) of a string that is not a literal is not "
            "supported; use from_iso8601_timestamp or parse_datetime"
        )
    if to.is_type(exp.DataType.Type.TIMESTAMP):
        precision = _param(to, DEFAULT_PRECISION)
        if text is not None:
            return _literal_timestamp(text, precision)
        if source_kind is not None and source_kind.kind == "zoned":
            value = gen.sql(local_node(source))
        elif source_kind is not None and source_kind.kind == "utc":
            value = f"timezone('{SESSION_ZONE}', {gen.sql(source)})"
        elif source_kind is not None:
            value = gen.sql(source)
        else:
            return None
        value = _round_to(f"CAST({value} AS TIMESTAMP)", precision, "timestamp")
        return _keep_type(value, Temporal("timestamp", precision))
    if to.is_type(exp.DataType.Type.TIME):
        precision = _param(to, DEFAULT_PRECISION)
        if source_kind is not None and source_kind.kind == "zoned":
            return _round_to(f"CAST({gen.sql(local_node(source))} AS TIME)", precision, "time")
        value = gen.sql(source)
        return _round_to(f"CAST({value} AS TIME)", precision, "time")
    if to.is_type(exp.DataType.Type.DATE) and is_zoned(source):
        return f"CAST({gen.sql(local_node(source))} AS DATE)"
    if to.is_type(*exp.DataType.TEXT_TYPES) and source_kind is not None:
        return _text_sql(gen, source, source_kind)
    return None


def _text_sql(gen: DuckDBGenerator, source: exp.Expression, kind: Temporal) -> str:
    """A temporal value as Trino prints it: ``2001-08-22 03:04:05.321 America/New_York``."""
    digits = kind.precision
    local = gen.sql(local_node(source)) if kind.kind == "zoned" else gen.sql(source)
    if kind.kind == "utc":
        local = f"timezone('{SESSION_ZONE}', {local})"
    pattern = "%H:%M:%S" if kind.kind == "time" else "%Y-%m-%d %H:%M:%S"
    text = f"strftime({local}, '{pattern}')"
    if digits > 0:
        fraction = f"lpad(CAST(CAST(epoch_ns(CAST({local} AS TIMESTAMP_NS)) % 1000000000 + 1000000000 AS BIGINT) % 1000000000 AS VARCHAR), 9, '0')"
        if kind.kind == "time":
            fraction = f"strftime(CAST('1970-01-01' AS DATE) + {local}, '%n')"
        fraction = f"rpad({fraction}, {digits}, '0')[1:{digits}]"
        text = f"{text} || '.' || {fraction}"
    if kind.kind == "zoned":
        text = f"{text} || ' ' || {gen.sql(zone_node(source))}"
    elif kind.kind == "utc":
        text = f"{text} || ' {SESSION_ZONE}'"
    return text


def typeof_sql(gen: DuckDBGenerator, e: exp.Expression) -> str | None:
    """typeof() of a temporal expression whose type the translation knows (timestamp(6),
    timestamp(3) with time zone...); None leaves it to the text family."""
    kind = temporal_type(e.this)
    return None if kind is None else exp.Literal.string(kind.trino).sql()


# --------------------------------------------------------------------------- results


def _marked(value: str, kind: Temporal) -> str | None:
    """SQL wrapping a result column's value in the struct that carries its type, or None
    when Arrow describes the type itself (precision 3)."""
    if kind.precision == DEFAULT_PRECISION and kind.kind != "time":
        return None
    if kind.kind in ("timestamp", "time"):
        field = f"epoch_ns({value})" if kind.precision > 6 else value
        return f'struct_pack("{kind.trino}" := {field})'
    if kind.kind == "utc":
        instant, zone = value, f"'{SESSION_ZONE}'"
    else:
        instant = f"struct_extract({value}, '{INSTANT_FIELD}')"
        zone = f"struct_extract({value}, '{ZONE_FIELD}')"
    if kind.precision > 6:
        instant = f"epoch_ns({instant})"
    return f'struct_pack("{kind.trino}" := {instant}, "{ZONE_FIELD}" := {zone})'


def _result_select(e: exp.Expression) -> bool:
    """Whether ``e`` is a projection of the query's result."""
    select = e.parent
    return (
        isinstance(select, exp.Select)
        and e.arg_key == "expressions"
        and select is outermost_select(e.root())  # type: ignore[arg-type]
    )


def _check_top_set_operation(root: exp.Expression, index: int) -> None:
    """A UNION at the top of a query returns its parts' values as they are, with Athena's
    default precision: a column of another precision fails rather than print wrong digits."""
    parts = _set_parts(root)
    if any(len(p.expressions) <= index for p in parts):
        return
    kind = _common([temporal_type(_unalias(p.expressions[index])) for p in parts])
    if kind is not None and kind.precision != DEFAULT_PRECISION:
        raise UnsupportedError(
            f"a {kind.trino} column of a UNION / INTERSECT / EXCEPT at the top of a query is "
            "not supported; select from it as a subquery: SELECT * FROM (...)"
        )


def _alias(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """A result column of a temporal type that Arrow cannot describe (precision other than
    3, or a zone) is wrapped in the struct ``lakebox.catalog.types`` reads back."""
    default = str(DuckDBGenerator.alias_sql(gen, e))  # type: ignore[arg-type]
    if not _result_select(e):
        return default
    root = e.root()
    if isinstance(root, exp.SetOperation):
        _check_top_set_operation(root, e.parent.expressions.index(e))  # type: ignore[union-attr]
        return default
    kind = temporal_type(e.this)
    marked = _marked(gen.sql(e, "this"), kind) if kind is not None else None
    return default if marked is None else f"{marked} AS {gen.sql(e, 'alias')}"


def _source_columns(select: exp.Select) -> list[tuple[str, Temporal | None]]:
    """(name, kind) of each column of the select's one FROM source, as ``*`` lists them."""
    sources = _select_sources(select)
    if len(sources) != 1:
        return []
    source = sources[0]
    if isinstance(source, exp.Values):
        alias = source.args.get("alias")
        names = [c.name for c in alias.columns] if alias is not None else []
        return [
            (n, _common([temporal_type(x) for x in _values_column(source, n.lower())]))
            for n in names
        ]
    selects = _set_parts(_source_body(source, select))
    if not selects or len({len(p.expressions) for p in selects}) != 1:
        return []
    return [
        (
            projection.alias_or_name,
            _common([temporal_type(_unalias(p.expressions[i])) for p in selects]),
        )
        for i, projection in enumerate(selects[0].expressions)
        if projection.alias_or_name
    ]


def _star(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """``SELECT *`` of a subquery or WITH query: its columns that need a type struct are
    replaced by it (DuckDB's ``* REPLACE``)."""
    default = str(DuckDBGenerator.star_sql(gen, e))  # type: ignore[arg-type]
    select = e.parent
    if not _result_select(e) or not isinstance(select, exp.Select):
        return default
    replaced = []
    for name, kind in _source_columns(select):
        column = exp.column(name, quoted=True).sql(dialect="duckdb")
        marked = _marked(column, kind) if kind is not None else None
        if marked is not None:
            replaced.append(f"{marked} AS {column}")
    if not replaced or len(_select_sources(select)) != 1:
        return default
    return f"{default} REPLACE ({', '.join(replaced)})"


_MARKED_COLUMN = re.compile(r'^STRUCT\("((?:timestamp|time)\(\d+\))" (\w+)\)$')


def plain_column_sql(column_sql: str, engine_type: str) -> str:
    """A result column as a writer stores it: the value inside a precision struct (see
    ``_alias``), since a table column's type has no precision; anything else unchanged."""
    m = _MARKED_COLUMN.match(engine_type)
    if m is None:
        return column_sql
    value = f"struct_extract({column_sql}, '{m.group(1)}')"
    return f"make_timestamp_ns({value})" if m.group(2) == "BIGINT" else value


def result_table(table: pa.Table) -> pa.Table:
    """The engine's result in plain Arrow: a precision struct becomes its timestamp or time
    column, a zoned struct a timestamp column whose time zone is the values' zone when they
    share one (kept as an instant + zone struct when they do not); the Trino type goes into
    the field's metadata (``ATHENA_TYPE_KEY``) for the result file to print."""
    if not any(pa.types.is_struct(f.type) for f in table.schema):
        return table
    fields, columns = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        names = [field.type.field(i).name for i in range(field.type.num_fields)]
        marked = temporal_marker(names) if pa.types.is_struct(field.type) else None
        if marked is None:
            fields.append(field)
            columns.append(column)
            continue
        parts = column.combine_chunks().flatten() if len(column) else None
        meta = {ATHENA_TYPE_KEY: marked.encode()}
        value = parts[0] if parts is not None else pa.array([], field.type.field(0).type)
        if pa.types.is_integer(value.type):  # epoch nanoseconds
            value = value.cast(pa.timestamp("ns", "UTC" if len(names) == 2 else None))
        if len(names) == 2:
            zones = parts[1].unique().drop_null().to_pylist() if parts is not None else []
            if len(zones) > 1:
                fields.append(field.with_metadata(meta))
                columns.append(column)
                continue
            value = value.cast(pa.timestamp(value.type.unit, zones[0] if zones else "UTC"))
        fields.append(pa.field(field.name, value.type, metadata=meta))
        columns.append(value)
    return pa.table(columns, schema=pa.schema(fields))


# --------------------------------------------------------------------------- patterns


def _parse_datetime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """parse_datetime takes a Java (Joda) pattern, unlike date_parse's MySQL specifiers; it
    returns a timestamp with time zone: the session's, or the one the text names."""
    pattern = e.args.get("format")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise UnsupportedError("parse_datetime: the pattern must be a string literal")
    text = pattern.this
    zone_letters = _joda_zone_letters(text)
    if not zone_letters:
        parsed = gen.func("STRPTIME", e.this, exp.Literal.string(joda_to_strftime(text)))
        return f"CAST({parsed} AS TIMESTAMPTZ)"
    if zone_letters != "Z" or not _joda_tokens(text)[-1].startswith("Z"):
        raise UnsupportedError(
            f"parse_datetime: time zone pattern letters in {text!r} are supported only as a "
            "trailing offset (Z)"
        )
    value = gen.sql(e, "this")
    local_pattern = joda_to_strftime("".join(_joda_tokens(text)[:-1]))
    zone_re = "'(Z|[+-]\\d\\d:?\\d\\d)$'"
    local = f"strptime(regexp_replace({value}, {zone_re}, ''), '{local_pattern}')"
    zone = f"lakebox_zone(regexp_extract({value}, {zone_re}, 1))"
    return f"lakebox_zoned(lakebox_instant({local}, {zone}), {zone})"


_JODA_TO_STRFTIME = {
    "yyyy": "%Y",
    "YYYY": "%Y",
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


# a quoted literal ('T', 'o''clock'; one left open runs to the end, as in Joda), a run of
# one pattern letter, or other text
_JODA_TOKEN = re.compile(r"'(?:[^']|'')*(?:'|$)|([A-Za-z])\1*|[^A-Za-z']+")


def _joda_tokens(pattern: str) -> list[str]:
    return [m.group(0) for m in _JODA_TOKEN.finditer(pattern)]


def _joda_zone_letters(pattern: str) -> str:
    """The zone letters (Z, z) a Joda pattern uses outside quotes."""
    found = {t[0] for t in _joda_tokens(pattern) if t[0] in "Zz"}
    return "".join(sorted(found))


def joda_to_strftime(pattern: str) -> str:
    """Translate a Java/Joda DateTimeFormat pattern (format_datetime) to DuckDB strftime."""
    out = []
    for token in _joda_tokens(pattern):
        if token.startswith("'"):
            body = token[1:-1] if token.endswith("'") and len(token) > 1 else token[1:]
            out.append(body.replace("''", "'").replace("%", "%%") or "'")
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
    if is_zoned(value) and _joda_zone_letters(pattern.this):
        raise UnsupportedError(
            "format_datetime: time zone pattern letters (Z, z) on a value with a time zone "
            "other than UTC are not supported"
        )
    return gen.func(
        "STRFTIME", local_node(value), exp.Literal.string(joda_to_strftime(pattern.this))
    )


# The parser has already turned MySQL specifiers into strftime ones; these come only from
# the MySQL specifiers Trino does not support (%u, Monday-first week, arrives as %W).
_UNSUPPORTED_MYSQL = {"%D": "%D", "%U": "%U", "%W": "%u", "%V": "%V", "%w": "%w", "%X": "%X"}
_STRFTIME_SPEC = re.compile(r"%-?.")


def _mysql_pattern_check(name: str, pattern: exp.Expression | None) -> None:
    text = _string(pattern)
    for spec in _STRFTIME_SPEC.findall(text or ""):
        if spec in _UNSUPPORTED_MYSQL:
            raise UnsupportedError(
                f"{name}: format specifier {_UNSUPPORTED_MYSQL[spec]} is not supported"
            )


def _date_format(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """%f prints six digits of the value truncated to milliseconds (000000..999000)."""
    pattern = e.args.get("format")
    _mysql_pattern_check("date_format", pattern)
    text = _string(pattern)
    if text is not None and "%f" in text:
        e = e.copy()
        e.set("format", exp.Literal.string(re.sub(r"(?<!%)((?:%%)*)%f", r"\1%g000", text)))
    return _in_local_time(gen, e)


def _date_parse(gen: DuckDBGenerator, e: exp.Expression) -> str:
    """MySQL's two-digit years run 1970..2069 (DuckDB's %y: 1969..2068)."""
    pattern = e.args.get("format")
    _mysql_pattern_check("date_parse", pattern)
    sql = sqlglot_default(gen, e)
    if "%y" in (_string(pattern) or ""):
        return f"(CASE WHEN year({sql}) = 1969 THEN {sql} + INTERVAL 100 YEAR ELSE {sql} END)"
    return sql


def _to_iso8601(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    """Dates print as yyyy-MM-dd; timestamps with millisecond precision and a T."""
    (value,) = e.expressions
    sql = gen.sql(local_node(value))
    text = (
        f"CASE WHEN TYPEOF({sql}) = 'DATE' THEN STRFTIME({sql}, '%Y-%m-%d') "
        f"ELSE STRFTIME({sql}, '%Y-%m-%dT%H:%M:%S.%g') END"
    )
    kind = temporal_type(value)
    if kind is None or kind.kind == "timestamp":
        return text
    zone = gen.sql(zone_node(value))
    offset = (
        f"CASE WHEN {zone} = 'UTC' THEN 'Z' "
        f"ELSE lakebox_offset_text({gen.sql(instant_node(value))}, {zone}) END"
    )
    return f"{text} || {offset}"


def _timezone_part(part: str) -> AnonHandler:
    def handler(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
        (value,) = e.expressions
        instant = gen.sql(instant_node(value))
        minutes = (
            f"date_diff('minute', timezone('UTC', {instant}), "
            f"lakebox_local({instant}, {gen.sql(zone_node(value))}))"
        )
        if part == "hour":
            return f"CAST(trunc(({minutes}) / 60) AS BIGINT)"
        return f"CAST(({minutes}) % 60 AS BIGINT)"

    return handler


def _extract(gen: DuckDBGenerator, e: exp.Expression) -> str:
    field = e.this.name.upper()
    if field in ("TIMEZONE_HOUR", "TIMEZONE_MINUTE"):
        part = "hour" if field == "TIMEZONE_HOUR" else "minute"
        anon = exp.Anonymous(this=f"timezone_{part}", expressions=[e.expression])
        return _timezone_part(part)(gen, anon)
    trino_to_duckdb = {
        "DAY_OF_MONTH": "DAY",
        "DAY_OF_WEEK": "ISODOW",
        "DOW": "ISODOW",
        "DAY_OF_YEAR": "DOY",
        "YEAR_OF_WEEK": "ISOYEAR",
        "YOW": "ISOYEAR",
    }
    if field in trino_to_duckdb:
        e = e.copy()
        e.set("this", exp.var(trino_to_duckdb[field]))
    return _in_local_time(gen, e)


def _timezone(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    (value,) = e.expressions
    kind = temporal_type(value)
    if kind is None or kind.kind not in ("utc", "zoned"):
        gen.sql(value)  # an unsupported argument type names itself first
        raise UnsupportedError(
            "timezone(): the argument must be a timestamp with time zone the translation can "
            "see (a literal, AT TIME ZONE, from_iso8601_timestamp...)"
        )
    return gen.sql(zone_node(value))


def _millisecond(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    (value,) = e.expressions
    return f"CAST(millisecond({gen.sql(local_node(value))}) % 1000 AS BIGINT)"


def _year_of_week(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    (value,) = e.expressions
    return f"CAST(isoyear({gen.sql(local_node(value))}) AS BIGINT)"


def _to_unixtime(gen: DuckDBGenerator, e: exp.Expression) -> str:
    if is_zoned(e.this):
        return f"epoch({gen.sql(instant_node(e.this))})"
    return sqlglot_default(gen, e)


def _to_milliseconds(gen: DuckDBGenerator, e: exp.Anonymous) -> str:
    (value,) = e.expressions
    return f"CAST(round(epoch({gen.sql(value)}) * 1000) AS BIGINT)"


TRANSFORMS: dict[type[exp.Expression], Handler] = {
    exp.Add: _interval_arith("+"),
    exp.Sub: _interval_arith("-"),
    exp.Alias: _alias,
    exp.Star: _star,
    exp.AtTimeZone: lambda gen, e: _at_timezone(gen, e.this, e.args["zone"]),
    exp.Between: _between,
    exp.CurrentTime: _current_time,
    exp.CurrentTimestamp: _current_timestamp,
    exp.CurrentTimezone: lambda gen, e: f"'{SESSION_ZONE}'",
    exp.Date: _in_local_time,
    exp.DateAdd: _date_add,
    exp.DateDiff: _date_diff,
    exp.DateTrunc: _date_trunc,
    exp.Day: _in_local_time,
    exp.DayOfMonth: _in_local_time,
    exp.DayOfWeekIso: _in_local_time,
    exp.DayOfYear: _in_local_time,
    exp.Extract: _extract,
    exp.FromISO8601Date: lambda gen, e: gen.func("lakebox_iso8601_date", e.this),
    exp.FromISO8601Timestamp: _from_iso8601_timestamp,
    exp.FromISO8601TimestampNanos: _from_iso8601_timestamp_nanos,
    exp.Hour: _in_local_time,
    exp.LastDay: _in_local_time,
    exp.Localtimestamp: _localtimestamp,
    exp.Minute: _in_local_time,
    exp.Month: _in_local_time,
    exp.ParseDatetime: _parse_datetime,
    exp.Quarter: _in_local_time,
    exp.Second: _in_local_time,
    exp.StrToTime: _date_parse,
    exp.TimestampTrunc: _date_trunc,
    exp.TimeToStr: _date_format,
    exp.TimeToUnix: _to_unixtime,
    exp.UnixToTime: _from_unixtime,
    exp.WeekOfYear: _in_local_time,
    exp.Year: _in_local_time,
}

ANONYMOUS: dict[str, AnonHandler] = {
    "at_timezone": lambda gen, e: _at_timezone(gen, e.expressions[0], e.expressions[1]),
    "format_datetime": _format_datetime,
    "from_unixtime_nanos": lambda gen, e: (
        f"make_timestamp_ns(CAST(floor({gen.sql(e.expressions[0])}) AS BIGINT))"
    ),
    "human_readable_seconds": lambda gen, e: gen.func("lakebox_human_seconds", *e.expressions),
    "millisecond": _millisecond,
    "parse_duration": lambda gen, e: gen.func("lakebox_parse_duration", *e.expressions),
    "timezone": _timezone,
    "timezone_hour": _timezone_part("hour"),
    "timezone_minute": _timezone_part("minute"),
    "to_iso8601": _to_iso8601,
    "to_milliseconds": _to_milliseconds,
    "with_timezone": _with_timezone,
    "year_of_week": _year_of_week,
    "yow": _year_of_week,
}
