"""Athena partition projection: partitions computed from table properties, not stored.

A table with ``projection.enabled`` = ``true`` declares, per partition column,
``projection.<col>.type`` = ``integer`` | ``date`` | ``enum`` | ``injected`` and the
properties of that type; ``storage.location.template`` (with ``${col}`` for every partition
column) says where a partition's files live, otherwise ``<location>/col=value/...``.

Enumeration is driven by the query's partition constraints (``lakebox.catalog.constraints``):
equality values are looked up directly and ranges are narrowed by binary search wherever the
column's values sort in the same order as its comparisons, so one day of a three-year hourly
range costs 24 candidates, not 26,000. Constraints outside the projected range simply yield
no candidates (zero rows), as in Athena.

Semantics follow the Athena user guide ("Supported types for partition projection") and, for
details it leaves open, Trino's Athena-compatible implementation:

- date ranges are truncated to the precision of ``format`` (``NOW`` at ``yyyy/MM/dd`` is
  today 00:00 UTC); ``interval`` defaults to 1; ``interval.unit`` defaults to DAYS for a
  day-precision format and MONTHS for a month-precision one and is required otherwise;
- a ``date`` / ``timestamp`` typed column gets Hive's canonical value (``2024-01-02``) while
  the location template gets the value in ``format``;
- month / year steps are computed from the range start (``start + i * interval``), so a start
  on the 31st stays on the 31st where the month has one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import overload

from lakebox.catalog.constraints import (
    DATETIME,
    NUMBER,
    STRING,
    ColumnConstraint,
    canonical,
    convert,
    type_kind,
)
from lakebox.catalog.model import Column, Table, partition_path
from lakebox.errors import InvalidRequestError
from lakebox.javatime import JavaDateFormat, add_months

#: Most candidate partitions one query may enumerate. Athena's documented limit for
#: projected partitions per query is 1,000,000; lakebox uses the same bound so a query that
#: runs on Athena runs here, while a filter-less query over a huge space fails fast instead
#: of listing storage for hours. Counts are known before any value is rendered, so the
#: bound caps both work and memory.
PROJECTED_PARTITION_LIMIT = 1_000_000

TEMPLATE_PROPERTY = "storage.location.template"
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class ProjectedPartition:
    values: list[str]
    location: str


# --------------------------------------------------------------------------- date arithmetic

_UNITS = {
    "YEARS": "YEARS",
    "YEAR": "YEARS",
    "MONTHS": "MONTHS",
    "MONTH": "MONTHS",
    "WEEKS": "WEEKS",
    "WEEK": "WEEKS",
    "DAYS": "DAYS",
    "DAY": "DAYS",
    "HOURS": "HOURS",
    "HOUR": "HOURS",
    "MINUTES": "MINUTES",
    "MINUTE": "MINUTES",
    "SECONDS": "SECONDS",
    "SECOND": "SECONDS",
    "MILLIS": "MILLIS",
    "MILLISECONDS": "MILLIS",
}
#: ``interval.unit`` takes the plural names of java.time's ChronoUnit, case-insensitively.
_INTERVAL_UNITS = {
    name: name for name in ("YEARS", "MONTHS", "WEEKS", "DAYS", "HOURS", "MINUTES", "SECONDS")
} | {"MILLIS": "MILLIS", "MILLISECONDS": "MILLIS"}
_FIXED_UNITS = {
    "WEEKS": timedelta(weeks=1),
    "DAYS": timedelta(days=1),
    "HOURS": timedelta(hours=1),
    "MINUTES": timedelta(minutes=1),
    "SECONDS": timedelta(seconds=1),
    "MILLIS": timedelta(milliseconds=1),
}
_RELATIVE = re.compile(
    r"\s*NOW\s*(?:([+-])\s*([0-9]+)\s*(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?)\s*)?",
    re.IGNORECASE,
)


def _shift(value: datetime, amount: int, unit: str) -> datetime:
    if unit in ("YEARS", "MONTHS"):
        return add_months(value, amount * (12 if unit == "YEARS" else 1))
    return value + _FIXED_UNITS[unit] * amount


# --------------------------------------------------------------------------- candidates


class _Rendered(Sequence[str]):
    """Partition values at grid indexes [start, stop), rendered on demand."""

    def __init__(self, render: Callable[[int], str], start: int, stop: int) -> None:
        self._render = render
        self._range = range(start, max(start, stop))

    def __len__(self) -> int:
        return len(self._range)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self._render(i) for i in self._range[index]]
        return self._render(self._range[index])

    def __iter__(self) -> Iterator[str]:
        return (self._render(i) for i in self._range)


def _too_many(table: str, count: int, limit: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"HIVE_EXCEEDED_PARTITION_LIMIT: Query over table '{table}' can potentially read "
        f"{count} projected partitions, more than the limit of {limit}. Add equality or "
        "range filters on the partition columns to the WHERE clause."
    )


@dataclass
class _Grid:
    """A projected column's values as an indexed, ascending sequence."""

    size: int
    render: Callable[[int], str]
    locate: Callable[[str], int | None]
    ordered_for: frozenset[str]  # constraint kinds whose order matches index order

    def select(self, constraint: ColumnConstraint | None, table: str, limit: int) -> Sequence[str]:
        if constraint is None or constraint.is_unconstrained:
            return _Rendered(self.render, 0, self.size)
        if constraint.is_empty:
            return []
        if constraint.values is not None:
            found = set()
            for value in constraint.values:
                index = self.locate(canonical(value) if constraint.kind != STRING else value)
                if index is not None and 0 <= index < self.size:
                    found.add(index)
            rendered = (self.render(i) for i in sorted(found))
            return [v for v in rendered if constraint.allows(v)]
        if constraint.kind in self.ordered_for:
            start = self._first(lambda i: constraint.position(self._typed(constraint, i)) >= 0)
            stop = self._first(lambda i: constraint.position(self._typed(constraint, i)) > 0)
            return _Rendered(self.render, start, stop)
        if self.size > limit:
            raise _too_many(table, self.size, limit)
        return [v for v in _Rendered(self.render, 0, self.size) if constraint.allows(v)]

    def _typed(self, constraint: ColumnConstraint, index: int) -> object:
        return convert(self.render(index), constraint.kind)

    def _first(self, predicate: Callable[[int], bool]) -> int:
        low, high = 0, self.size
        while low < high:
            mid = (low + high) // 2
            if predicate(mid):
                high = mid
            else:
                low = mid + 1
        return low


# --------------------------------------------------------------------------- column types


class ColumnProjection:
    """One projected partition column."""

    type_name = ""

    def __init__(self, column: Column, table: str) -> None:
        self.column = column
        self.name = column.name
        self.table = table

    def candidates(
        self, constraint: ColumnConstraint | None, now: datetime, limit: int
    ) -> Sequence[str]:
        raise NotImplementedError

    def template_value(self, value: str) -> str:
        """What replaces ``${col}`` in ``storage.location.template`` for a partition value."""
        return value

    def _prop(self, props: dict[str, str], key: str) -> str | None:
        return props.get(f"projection.{self.name}.{key}")

    def _error(self, key: str, problem: str) -> InvalidRequestError:
        return InvalidRequestError(
            f"Table {self.table}: property 'projection.{self.name}.{key}' {problem}"
        )


def _positive_int(projection: ColumnProjection, key: str, raw: str | None) -> int:
    if raw is None:
        return 1
    text = raw.strip()
    if not re.fullmatch(r"\+?[0-9]+", text) or int(text) <= 0:
        raise projection._error(key, f"must be a positive integer, got {raw!r}")
    return int(text)


class IntegerProjection(ColumnProjection):
    type_name = "integer"

    def __init__(self, column: Column, table: str, props: dict[str, str]) -> None:
        super().__init__(column, table)
        raw = self._prop(props, "range")
        if raw is None:
            raise self._error("range", "is required for an integer projection")
        parts = [p.strip() for p in raw.split(",")]
        if len(parts) != 2 or not all(re.fullmatch(r"[+-]?[0-9]+", p) for p in parts):
            raise self._error("range", f"must be two comma-separated integers, got {raw!r}")
        self.minimum, self.maximum = int(parts[0]), int(parts[1])
        if self.minimum > self.maximum:
            raise self._error("range", f"has its minimum above its maximum: {raw!r}")
        self.interval = _positive_int(self, "interval", self._prop(props, "interval"))
        digits = self._prop(props, "digits")
        self.digits = _positive_int(self, "digits", digits) if digits is not None else None
        self.size = (self.maximum - self.minimum) // self.interval + 1

    def render(self, index: int) -> str:
        value = self.minimum + index * self.interval
        return f"{value:0{self.digits}d}" if self.digits else str(value)

    def locate(self, raw: str) -> int | None:
        if not re.fullmatch(r"-?[0-9]+", raw):
            return None
        offset = int(raw) - self.minimum
        return offset // self.interval if offset % self.interval == 0 else None

    def _fixed_width(self) -> bool:
        if self.minimum < 0:
            return False
        width = len(self.render(self.size - 1))
        return len(self.render(0)) == width

    def candidates(
        self, constraint: ColumnConstraint | None, now: datetime, limit: int
    ) -> Sequence[str]:
        ordered = {NUMBER} | ({STRING} if self._fixed_width() else set())
        grid = _Grid(self.size, self.render, self.locate, frozenset(ordered))
        return grid.select(constraint, self.table, limit)


class DateProjection(ColumnProjection):
    type_name = "date"

    def __init__(self, column: Column, table: str, props: dict[str, str]) -> None:
        super().__init__(column, table)
        pattern = self._prop(props, "format")
        if pattern is None:
            raise self._error("format", "is required for a date projection")
        try:
            self.format = JavaDateFormat(pattern)
        except ValueError as err:
            raise self._error(
                "format", f"is not a supported date format ({err}): {pattern!r}"
            ) from err
        raw = self._prop(props, "range")
        if raw is None:
            raise self._error("range", "is required for a date projection")
        parts = raw.split(",")
        if len(parts) != 2:
            raise self._error("range", f"must be two comma-separated dates, got {raw!r}")
        self._bounds = [self._bound(part, raw) for part in parts]
        fixed = [b for b in self._bounds if isinstance(b, datetime)]
        if len(fixed) == 2 and fixed[0] > fixed[1]:
            raise self._error("range", f"has its start after its end: {raw!r}")
        self.interval = _positive_int(self, "interval", self._prop(props, "interval"))
        unit = self._prop(props, "interval.unit")
        if unit is None:
            default = {"d": "DAYS", "M": "MONTHS"}.get(self.format.precision)
            if default is None:
                raise self._error(
                    "interval.unit",
                    f"is required: the format {pattern!r} is not at single-day or single-month "
                    "precision (set YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES or SECONDS)",
                )
            self.unit = default
        else:
            normalised = _INTERVAL_UNITS.get(unit.strip().upper())
            if normalised is None:
                raise self._error(
                    "interval.unit",
                    "must be one of YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS, "
                    f"MILLISECONDS; got {unit!r}",
                )
            self.unit = normalised
        kind = type_kind(column.type)
        self.typed = kind == DATETIME
        self.is_date = column.type.strip().lower() == "date"

    def _bound(self, text: str, raw: str) -> datetime | tuple[int, str]:
        relative = _RELATIVE.fullmatch(text)
        if relative is not None:
            sign, amount, unit = relative.groups()
            if amount is None:
                return (0, "DAYS")
            signed = int(amount) * (-1 if sign == "-" else 1)
            return (signed, _UNITS[unit.upper()])
        parsed = self.format.parse(text)
        if parsed is None:
            raise self._error(
                "range",
                f"must hold two dates formatted as {self.format.pattern!r} or relative "
                f"values like NOW-3YEARS; {text!r} is neither (range {raw!r})",
            )
        return parsed

    def _resolve(self, now: datetime) -> tuple[datetime, datetime]:
        if now.tzinfo is not None:
            now = now.astimezone(UTC).replace(tzinfo=None)
        start, end = (
            b if isinstance(b, datetime) else self.format.truncate(_shift(now, b[0], b[1]))
            for b in self._bounds
        )
        return start, end

    def _grid(self, now: datetime) -> tuple[datetime, int, Callable[[int], datetime]]:
        start, end = self._resolve(now)
        if end < start:
            return start, 0, lambda i: start
        if self.unit in ("YEARS", "MONTHS"):
            step = self.interval * (12 if self.unit == "YEARS" else 1)
            months = (end.year - start.year) * 12 + end.month - start.month
            count = months // step
            while count >= 0 and add_months(start, count * step) > end:
                count -= 1
            return start, count + 1, lambda i: add_months(start, i * step)
        delta = _FIXED_UNITS[self.unit] * self.interval
        return start, (end - start) // delta + 1, lambda i: start + delta * i

    def _index(self, value: datetime, start: datetime, at: Callable[[int], datetime]) -> int | None:
        if self.unit in ("YEARS", "MONTHS"):
            step = self.interval * (12 if self.unit == "YEARS" else 1)
            months = (value.year - start.year) * 12 + value.month - start.month
            if months % step:
                return None
            index = months // step
        else:
            delta = _FIXED_UNITS[self.unit] * self.interval
            if (value - start) % delta:
                return None
            index = (value - start) // delta
        return index if index >= 0 and at(index) == value else None

    def value_of(self, instant: datetime) -> str:
        """The partition value for an instant: Hive's canonical text for date/timestamp
        columns, the ``format`` rendering for string columns."""
        if not self.typed:
            return self.format.format(instant)
        if self.is_date:
            return instant.date().isoformat()
        return instant.isoformat(sep=" ")

    def _instant_of(self, raw: str) -> datetime | None:
        if not self.typed:
            return self.format.parse(raw)
        value = convert(raw, DATETIME)
        return value if isinstance(value, datetime) else None

    def candidates(
        self, constraint: ColumnConstraint | None, now: datetime, limit: int
    ) -> Sequence[str]:
        start, size, at = self._grid(now)

        def locate(raw: str) -> int | None:
            instant = self._instant_of(raw)
            return None if instant is None else self._index(instant, start, at)

        if self.typed:
            ordered = frozenset({DATETIME, STRING})
        else:
            ordered = frozenset({STRING}) if self.format.order_preserving else frozenset()
        grid = _Grid(size, lambda i: self.value_of(at(i)), locate, ordered)
        return grid.select(constraint, self.table, limit)

    def template_value(self, value: str) -> str:
        if not self.typed:
            return value
        instant = convert(value, DATETIME)
        return self.format.format(instant) if isinstance(instant, datetime) else value


class EnumProjection(ColumnProjection):
    type_name = "enum"

    def __init__(self, column: Column, table: str, props: dict[str, str]) -> None:
        super().__init__(column, table)
        raw = self._prop(props, "values")
        if raw is None or raw == "":
            raise self._error("values", "is required for an enum projection")
        # Athena keeps white space as part of each enum value.
        self.values = list(dict.fromkeys(raw.split(",")))

    def candidates(
        self, constraint: ColumnConstraint | None, now: datetime, limit: int
    ) -> Sequence[str]:
        if constraint is None:
            return self.values
        return [v for v in self.values if constraint.allows(v)]


class InjectedProjection(ColumnProjection):
    type_name = "injected"

    def __init__(self, column: Column, table: str, props: dict[str, str]) -> None:
        super().__init__(column, table)
        if type_kind(column.type) != STRING:
            raise self._error(
                "type",
                f"is injected, which needs a string column; {self.name} is {column.type}",
            )

    def candidates(
        self, constraint: ColumnConstraint | None, now: datetime, limit: int
    ) -> Sequence[str]:
        if constraint is None or constraint.values is None:
            raise InvalidRequestError(
                f"CONSTRAINT_VIOLATION: For the injected projected partition column {self.name}, "
                "the WHERE clause must contain only static equality conditions, and at least "
                "one such condition must be present."
            )
        values = sorted(canonical(v) for v in constraint.values)
        return [v for v in values if constraint.allows(v) and not _escapes(v)]


def _escapes(value: str) -> bool:
    """Whether a query-supplied value would climb out of its folder (``..`` segments).

    S3 keys are literal, so on AWS such a partition is merely empty; on a local folder the
    path would resolve into another table's data. Both ways the query reads nothing.
    """
    return any(part in (".", "..") for part in re.split(r"[/\\]", value))


_TYPES: dict[
    str, type[IntegerProjection | DateProjection | EnumProjection | InjectedProjection]
] = {
    "integer": IntegerProjection,
    "date": DateProjection,
    "enum": EnumProjection,
    "injected": InjectedProjection,
}


# --------------------------------------------------------------------------- table config


class ProjectionConfig:
    """The projection of one table: its projected columns and where partitions live."""

    def __init__(self, table: Table, columns: list[ColumnProjection], template: str | None) -> None:
        self.table = table
        self.columns = columns
        self.template = template

    @classmethod
    def from_table(cls, table: Table) -> ProjectionConfig | None:
        """Validated projection settings, or None when projection is not enabled."""
        props = {_normalise_key(k, table): v for k, v in table.parameters.items()}
        if props.get("projection.enabled", "").strip().lower() != "true":
            return None
        if not table.partition_keys:
            return None
        name = table.qualified_name
        missing = [k.name for k in table.partition_keys if f"projection.{k.name}.type" not in props]
        if missing:
            raise InvalidRequestError(
                f"HIVE_METASTORE_ERROR: Table {name} is configured for partition projection, "
                f"but the following partition columns are missing projection configuration: "
                f"[{', '.join(missing)}] (table {name})"
            )
        columns: list[ColumnProjection] = []
        for key in table.partition_keys:
            raw_type = props[f"projection.{key.name}.type"]
            kind = _TYPES.get(raw_type.strip().lower())
            if kind is None:
                raise InvalidRequestError(
                    f"Table {name}: property 'projection.{key.name}.type' must be one of "
                    f"integer, date, enum, injected; got {raw_type!r}"
                )
            columns.append(kind(key, name, props))
        template = props.get(TEMPLATE_PROPERTY)
        if template is not None:
            _check_template(template, table)
        elif not table.location:
            raise InvalidRequestError(
                f"Table {name} uses partition projection but has neither a LOCATION nor a "
                f"'{TEMPLATE_PROPERTY}' property"
            )
        return cls(table, columns, template)

    def location(self, values: list[str]) -> str:
        """Where the partition with these values keeps its files (ends with ``/``)."""
        if self.template is None:
            base = (self.table.location or "").rstrip("/") + "/"
            return base + partition_path(self.table.partition_keys, values)
        by_name = {
            c.name.lower(): c.template_value(v) for c, v in zip(self.columns, values, strict=True)
        }
        rendered = _PLACEHOLDER.sub(lambda m: by_name[m.group(1).lower()], self.template)
        return rendered if rendered.endswith("/") else rendered + "/"

    def enumerate(
        self,
        constraints: dict[str, ColumnConstraint],
        now: datetime,
        limit: int = PROJECTED_PARTITION_LIMIT,
    ) -> Iterator[ProjectedPartition]:
        """The candidate partitions a query with ``constraints`` may read, in key order.

        Raises InvalidRequestError for an injected column without an equality filter and
        when more than ``limit`` candidates would be produced.
        """
        name = self.table.qualified_name
        per_column = [
            c.candidates(constraints.get(c.name.lower()), now, limit) for c in self.columns
        ]
        total = 1
        for values in per_column:
            total *= len(values)
        if total > limit:
            raise _too_many(name, total, limit)
        if total == 0:
            # itertools.product reads every input up front, even when another is empty.
            return iter(())
        return self._partitions(per_column)

    def _partitions(self, per_column: list[Sequence[str]]) -> Iterator[ProjectedPartition]:
        for combo in product(*per_column):
            values = list(combo)
            yield ProjectedPartition(values, self.location(values))


def _normalise_key(key: str, table: Table) -> str:
    """``projection.<Col>.x`` -> the partition key's own spelling (Glue lower-cases names)."""
    parts = key.split(".", 2)
    if len(parts) == 3 and parts[0] == "projection":
        for column in table.partition_keys:
            if column.name.lower() == parts[1].lower():
                return f"projection.{column.name}.{parts[2]}"
    return key


def _check_template(template: str, table: Table) -> None:
    names = {k.name.lower() for k in table.partition_keys}
    used = {m.group(1).lower() for m in _PLACEHOLDER.finditer(template)}
    unknown = sorted(used - names)
    if unknown:
        raise InvalidRequestError(
            f"Table {table.qualified_name}: property '{TEMPLATE_PROPERTY}' refers to "
            f"${{{unknown[0]}}}, which is not a partition column"
        )
    for key in table.partition_keys:
        if key.name.lower() not in used:
            raise InvalidRequestError(
                f"Table {table.qualified_name}: property '{TEMPLATE_PROPERTY}' must contain a "
                f"placeholder for every partition column; ${{{key.name}}} is missing"
            )
