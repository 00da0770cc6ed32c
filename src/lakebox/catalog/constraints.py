"""Allowed values of partition columns: the value model that partition pruning and
partition projection share.

``lakebox.sql.constraints`` derives these from a query's WHERE clause; the catalog side
(projection, stored-partition pruning) only consumes them, so it never imports the SQL layer.
The answer only has to be a *superset* of the matching partitions: the engine still applies
the whole predicate to the rows it reads.

Values are compared with the column's type, as Athena does: integers and decimals
numerically, ``date`` / ``timestamp`` by parsed value, strings as strings. Partition values
arrive as the strings stored in the catalog or rendered by projection; ``allows`` converts
them before comparing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: Hive's folder name for a NULL partition value; every comparison with NULL is false.
HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

STRING = "string"
NUMBER = "number"
DATETIME = "datetime"
BOOLEAN = "boolean"

_NUMBER_TYPES = frozenset(
    {"tinyint", "smallint", "int", "integer", "bigint", "decimal", "float", "double", "real"}
)
_DATETIME_TYPES = frozenset({"date", "timestamp"})
_STRING_TYPES = frozenset({"string", "varchar", "char"})


def type_kind(hive_type: str) -> str | None:
    """How values of a Hive type compare; None for types a partition column cannot have."""
    base = hive_type.strip().lower().split("(", 1)[0].strip()
    if base in _NUMBER_TYPES:
        return NUMBER
    if base in _DATETIME_TYPES:
        return DATETIME
    if base in _STRING_TYPES:
        return STRING
    if base == "boolean":
        return BOOLEAN
    return None


def parse_datetime(text: str) -> datetime | None:
    """Hive ``date`` / ``timestamp`` text as a naive UTC datetime (None when malformed)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def to_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def convert(raw: str, kind: str) -> Any | None:
    """A partition value or string literal as a comparable value of ``kind``."""
    if kind == NUMBER:
        return to_number(raw)
    if kind == DATETIME:
        return parse_datetime(raw)
    if kind == BOOLEAN:
        low = raw.strip().lower()
        return {"true": True, "false": False}.get(low)
    return raw


def canonical(value: Any) -> str:
    """The partition-value spelling of a typed value (inverse of ``convert`` for lookups)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime):
        if value == datetime(value.year, value.month, value.day):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return str(value)


@dataclass(frozen=True)
class Bound:
    value: Any
    inclusive: bool


@dataclass(frozen=True)
class ColumnConstraint:
    """Allowed values of one partition column: a value set and/or a range, both optional.

    ``values`` None means "no equality filter"; an empty set means "nothing matches".
    """

    column: str
    hive_type: str
    values: frozenset[Any] | None = None
    low: Bound | None = None
    high: Bound | None = None

    @property
    def kind(self) -> str:
        return type_kind(self.hive_type) or STRING

    @property
    def has_equality(self) -> bool:
        """True when the filter pins the column to a finite set of static values."""
        return self.values is not None

    @property
    def is_unconstrained(self) -> bool:
        return self.values is None and self.low is None and self.high is None

    @property
    def is_empty(self) -> bool:
        if self.values is not None and not self.values:
            return True
        if self.low is not None and self.high is not None:
            if self.low.value > self.high.value:
                return True
            if self.low.value == self.high.value and not (
                self.low.inclusive and self.high.inclusive
            ):
                return True
        return False

    def position(self, value: Any) -> int:
        """-1 below the range, 0 inside it, 1 above it (the value set is not consulted)."""
        if self.low is not None and (
            value < self.low.value or (value == self.low.value and not self.low.inclusive)
        ):
            return -1
        if self.high is not None and (
            value > self.high.value or (value == self.high.value and not self.high.inclusive)
        ):
            return 1
        return 0

    def contains(self, value: Any) -> bool:
        if self.values is not None and value not in self.values:
            return False
        return self.position(value) == 0

    def allows(self, raw: str | None) -> bool:
        """Whether a partition whose value is ``raw`` may hold matching rows.

        A value that does not convert to the column type is kept: the engine decides.
        """
        if raw is None or raw == HIVE_NULL_PARTITION:
            return self.is_unconstrained
        value = convert(raw, self.kind)
        if value is None:
            return True
        return self.contains(value)

    def intersect(self, other: ColumnConstraint) -> ColumnConstraint:
        low = _tighter(self.low, other.low, lower=True)
        high = _tighter(self.high, other.high, lower=False)
        if self.values is None:
            values = other.values
        elif other.values is None:
            values = self.values
        else:
            values = self.values & other.values
        merged = replace(self, values=values, low=low, high=high)
        if values is not None:
            merged = replace(merged, values=frozenset(v for v in values if merged.position(v) == 0))
        return merged

    def union(self, other: ColumnConstraint) -> ColumnConstraint:
        """The smallest constraint of this shape that covers both (a superset of the OR)."""
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        if (
            self.values is not None
            and other.values is not None
            and self.low is self.high is other.low is other.high is None
        ):
            return replace(self, values=self.values | other.values)
        a_low, a_high = self._hull()
        b_low, b_high = other._hull()
        low = None if a_low is None or b_low is None else _looser(a_low, b_low, lower=True)
        high = None if a_high is None or b_high is None else _looser(a_high, b_high, lower=False)
        return replace(self, values=None, low=low, high=high)

    def _hull(self) -> tuple[Bound | None, Bound | None]:
        if self.values:
            low = Bound(min(self.values), True)
            high = Bound(max(self.values), True)
            return _tighter(low, self.low, lower=True), _tighter(high, self.high, lower=False)
        return self.low, self.high


def _tighter(a: Bound | None, b: Bound | None, *, lower: bool) -> Bound | None:
    if a is None:
        return b
    if b is None:
        return a
    if a.value == b.value:
        return Bound(a.value, a.inclusive and b.inclusive)
    return (a if a.value > b.value else b) if lower else (a if a.value < b.value else b)


def _looser(a: Bound, b: Bound, *, lower: bool) -> Bound:
    if a.value == b.value:
        return Bound(a.value, a.inclusive or b.inclusive)
    return (a if a.value < b.value else b) if lower else (a if a.value > b.value else b)


class Constraints(dict[str, ColumnConstraint]):
    """Constraints by lower-case partition column name."""

    def has_equality(self, column: str) -> bool:
        """Whether the WHERE clause pins ``column`` to static values (Athena's injected rule)."""
        found = self.get(column.lower())
        return found is not None and found.has_equality


def partition_matches(
    constraints: Mapping[str, ColumnConstraint], keys: Sequence[str], values: Sequence[str]
) -> bool:
    """Whether a catalog partition (its key names and values, in key order) may hold rows
    the query matches: how stored partitions are pruned before any file is listed."""
    for key, value in zip(keys, values, strict=True):
        constraint = constraints.get(key.lower())
        if constraint is not None and not constraint.allows(value):
            return False
    return True
