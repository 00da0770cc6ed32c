"""Partition-column constraints extracted from a query's WHERE clause.

Both partition projection and catalog partition pruning need to know which partition values
a query can possibly touch; the value model (``ColumnConstraint``) lives in
``lakebox.catalog.constraints``. The answer only has to be a *superset* of the matching
partitions, so every conjunct we do not understand is simply ignored, and ``OR`` keeps a
column only when every branch constrains it (taking the union of the branches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlglot import exp

from lakebox.catalog.constraints import (
    BOOLEAN,
    DATETIME,
    NUMBER,
    STRING,
    Bound,
    ColumnConstraint,
    Constraints,
    canonical,
    convert,
    to_number,
    type_kind,
)
from lakebox.javatime import JavaDateFormat, add_months


def extract_constraints(
    predicate: exp.Expression | None, columns: dict[str, str], *, now: datetime | None = None
) -> Constraints:
    """Constraints on the partition ``columns`` (lower-case name -> Hive type) implied by
    ``predicate``, whose column references are already unqualified.

    With ``now`` (the query's start time, UTC), ``current_date`` / ``current_timestamp`` /
    ``now()`` and simple date arithmetic and formatting on them count as literals, so the
    common ``dt >= date_format(current_date - INTERVAL '7' DAY, '%Y/%m/%d')`` prunes too.
    """
    typed = _Scope(
        {name.lower(): hive for name, hive in columns.items() if type_kind(hive) is not None}
    )
    typed.now = _naive_utc(now) if now is not None else None
    if predicate is None or not typed:
        return Constraints()
    found = _visit(predicate, typed)
    return Constraints({name: c for name, c in found.items() if not c.is_unconstrained})


class _Scope(dict[str, str]):
    """Partition column types, plus the clock that ``current_date`` reads."""

    now: datetime | None = None


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


_FLIPPED: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.EQ: exp.EQ,
}


def _visit(node: exp.Expr, columns: _Scope) -> dict[str, ColumnConstraint]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        # flatten() walks a long AND / OR chain without recursing once per operand.
        merged: dict[str, ColumnConstraint] = {}
        for operand in node.flatten():
            for name, constraint in _visit(operand, columns).items():
                merged[name] = merged[name].intersect(constraint) if name in merged else constraint
        return merged
    if isinstance(node, exp.Or):
        common: dict[str, ColumnConstraint] | None = None
        for operand in node.flatten():
            found = _visit(operand, columns)
            if common is None:
                common = found
            else:
                common = {n: common[n].union(found[n]) for n in common.keys() & found.keys()}
            if not common:
                return {}
        return common or {}
    leaf = _leaf(node, columns)
    return {leaf.column: leaf} if leaf is not None else {}


def _leaf(node: exp.Expr, columns: _Scope) -> ColumnConstraint | None:
    if type(node) in _FLIPPED:
        column, literal, op = node.this, node.expression, type(node)
        if _column_name(column, columns) is None:
            column, literal, op = literal, column, _FLIPPED[op]
        return _comparison(op, column, literal, columns)
    if isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            return None
        return _membership(node.this, node.expressions, columns)
    if isinstance(node, exp.Between):
        return _between(node, columns)
    if isinstance(node, exp.Like) and not node.args.get("negate"):
        return _like(node.this, node.expression, columns)
    return None


def _column_name(node: exp.Expr, columns: _Scope) -> str | None:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column) and not node.table:
        name = node.name.lower()
        return name if name in columns else None
    return None


def _comparison(
    op: type[exp.Expr],
    column: exp.Expr,
    literal: exp.Expr,
    columns: _Scope,
) -> ColumnConstraint | None:
    name = _column_name(column, columns)
    if name is None:
        return None
    value = _typed_literal(literal, columns[name], columns.now)
    if value is None:
        return None
    base = ColumnConstraint(name, columns[name])
    if op is exp.EQ:
        return replace(base, values=frozenset({value}))
    if op in (exp.GT, exp.GTE):
        return replace(base, low=Bound(value, op is exp.GTE))
    return replace(base, high=Bound(value, op is exp.LTE))


def _membership(
    column: exp.Expr, items: Iterable[exp.Expr], columns: _Scope
) -> ColumnConstraint | None:
    name = _column_name(column, columns)
    if name is None:
        return None
    values = [_typed_literal(item, columns[name], columns.now) for item in items]
    if not values or any(v is None for v in values):
        return None
    return ColumnConstraint(name, columns[name], values=frozenset(values))


def _between(node: exp.Between, columns: _Scope) -> ColumnConstraint | None:
    name = _column_name(node.this, columns)
    if name is None:
        return None
    low = _typed_literal(node.args["low"], columns[name], columns.now)
    high = _typed_literal(node.args["high"], columns[name], columns.now)
    if low is None or high is None:
        return None
    if node.args.get("symmetric") and low > high:
        low, high = high, low
    return ColumnConstraint(name, columns[name], low=Bound(low, True), high=Bound(high, True))


_LIKE_WILDCARD = re.compile(r"[%_]")


def _like(column: exp.Expr, pattern: exp.Expr, columns: _Scope) -> ColumnConstraint | None:
    """``col LIKE 'prefix%'`` bounds a string column to the prefix's range.

    Date-partitioned tables are often queried this way (``dt LIKE '2024/01/02/%'``).
    """
    name = _column_name(column, columns)
    if name is None or type_kind(columns[name]) != STRING:
        return None
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return None
    text = pattern.this
    wildcard = _LIKE_WILDCARD.search(text)
    base = ColumnConstraint(name, columns[name])
    if wildcard is None:
        return replace(base, values=frozenset({text}))
    prefix = text[: wildcard.start()]
    if not prefix:
        return None
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return replace(base, low=Bound(prefix, True), high=Bound(upper, False))


#: Internal literal kind: a DATE value (midnight datetime), which casts to text as a date.
_DATE = "date"

_SHIFT_UNITS = {
    "YEAR": (12, None),
    "MONTH": (1, None),
    "WEEK": (0, timedelta(weeks=1)),
    "DAY": (0, timedelta(days=1)),
    "HOUR": (0, timedelta(hours=1)),
    "MINUTE": (0, timedelta(minutes=1)),
    "SECOND": (0, timedelta(seconds=1)),
}
_TRUNC_FIELDS = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")


def _literal(node: exp.Expr, now: datetime | None) -> tuple[str, Any] | None:
    """A constant as (kind, value): the literal forms Athena queries use, and with ``now``
    the current date / time and simple arithmetic and formatting on it."""
    if isinstance(node, exp.Paren):
        return _literal(node.this, now)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return STRING, node.this
        number = to_number(node.this)
        return (NUMBER, number) if number is not None else None
    if isinstance(node, exp.Boolean):
        return BOOLEAN, bool(node.this)
    if isinstance(node, exp.Neg):
        inner = _literal(node.this, now)
        if inner is not None and inner[0] == NUMBER:
            return NUMBER, -inner[1]
        return None
    if isinstance(node, exp.Cast):
        return _cast(node, now)
    if now is not None:
        return _clock_literal(node, now)
    return None


def _cast(node: exp.Cast, now: datetime | None) -> tuple[str, Any] | None:
    inner = _literal(node.this, now)
    is_date = node.to.this == exp.DType.DATE
    target = _DATE if is_date else type_kind(node.to.sql(dialect="hive"))
    if inner is None or target is None:
        return None
    value = _coerce(inner, DATETIME if is_date else target, explicit=True)
    if value is None:
        return None
    if is_date:
        value = datetime(value.year, value.month, value.day)
    return target, value


def _clock_literal(node: exp.Expr, now: datetime) -> tuple[str, Any] | None:
    if isinstance(node, exp.CurrentDate):
        return _DATE, datetime(now.year, now.month, now.day)
    if isinstance(node, exp.CurrentTimestamp):
        return DATETIME, now
    if isinstance(node, (exp.Add, exp.Sub)):
        left, right = node.this, node.expression
        if isinstance(left, exp.Interval) and isinstance(node, exp.Add):
            left, right = right, left
        if not isinstance(right, exp.Interval):
            return None
        amount = _literal(right.this, now)
        number = _coerce(amount, NUMBER) if amount is not None else None
        sign = -1 if isinstance(node, exp.Sub) else 1
        return _shifted(_literal(left, now), number, right.args.get("unit"), sign)
    if isinstance(node, exp.DateAdd):
        amount = _literal(node.expression, now)
        number = _coerce(amount, NUMBER) if amount is not None else None
        return _shifted(_literal(node.this, now), number, node.args.get("unit"), 1)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
        return _truncated(_literal(node.this, now), node.args.get("unit"))
    if isinstance(node, exp.TimeToStr):
        source = _literal(node.this, now)
        fmt = node.args.get("format")
        if source is None or source[0] not in (_DATE, DATETIME):
            return None
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            return None
        return STRING, source[1].strftime(fmt.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "format_datetime":
        return _format_datetime(node, now)
    return None


def _unit_name(unit: exp.Expr | None) -> str | None:
    if unit is None:
        return None
    name = unit.name.upper().rstrip("S")
    return name if name in _SHIFT_UNITS else None


def _shifted(
    base: tuple[str, Any] | None, amount: Any, unit: exp.Expr | None, sign: int
) -> tuple[str, Any] | None:
    name = _unit_name(unit)
    if base is None or base[0] not in (_DATE, DATETIME) or not isinstance(amount, Decimal):
        return None
    if name is None or amount != amount.to_integral_value():
        return None
    months, step = _SHIFT_UNITS[name]
    count = int(amount) * sign
    value = add_months(base[1], count * months) if step is None else base[1] + step * count
    kind = _DATE if base[0] == _DATE and name in ("YEAR", "MONTH", "WEEK", "DAY") else DATETIME
    return kind, value


def _truncated(base: tuple[str, Any] | None, unit: exp.Expr | None) -> tuple[str, Any] | None:
    name = _unit_name(unit)
    if base is None or base[0] not in (_DATE, DATETIME) or name not in _TRUNC_FIELDS:
        return None
    value: datetime = base[1]
    keep = _TRUNC_FIELDS.index(name)
    parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
    defaults = [1, 1, 1, 0, 0, 0]
    year, month, day, hour, minute, second = parts[: keep + 1] + defaults[keep + 1 :]
    return base[0], datetime(year, month, day, hour, minute, second)


def _format_datetime(node: exp.Anonymous, now: datetime) -> tuple[str, Any] | None:
    """Trino's ``format_datetime(ts, 'yyyy/MM/dd')`` takes a Java pattern, like projection."""
    if len(node.expressions) != 2:
        return None
    source = _literal(node.expressions[0], now)
    pattern = node.expressions[1]
    if source is None or source[0] not in (_DATE, DATETIME):
        return None
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return None
    try:
        return STRING, JavaDateFormat(pattern.this).format(source[1])
    except ValueError:
        return None


def _coerce(literal: tuple[str, Any], kind: str, *, explicit: bool = False) -> Any | None:
    """A literal as a value of ``kind``; dates only become text through an explicit CAST."""
    source, value = literal
    if source == _DATE:
        source = DATETIME
        if kind == STRING and explicit:
            return value.date().isoformat()
    if source == kind:
        return value
    if source == STRING:
        return convert(value, kind)
    if kind == STRING and source in (NUMBER, BOOLEAN):
        return canonical(value)
    if kind == STRING and source == DATETIME and explicit:
        return value.isoformat(sep=" ", timespec="milliseconds")
    return None


def _typed_literal(node: exp.Expr, hive_type: str, now: datetime | None) -> Any | None:
    literal = _literal(node, now)
    kind = type_kind(hive_type)
    if literal is None or kind is None:
        return None
    return _coerce(literal, kind)
