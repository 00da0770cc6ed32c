"""Python values -> Arrow columns of a declared Hive type, with Hive's conversion and
overflow rules: the engine-neutral half of the decoded formats (Avro, Ion), which any
engine's reader can turn into batches."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from lakebox.catalog.model import Column
from lakebox.catalog.types import arrow_type, hive_type, parse_type
from lakebox.errors import LakeboxError, UnsupportedError

# -- Python values -> Arrow columns of a declared Hive type --------------------------------


class Overflow(enum.Enum):
    """What a number (or string) too large for its column becomes."""

    NULL = "null"  # Hive's cast semantics
    FAIL = "fail"  # Ion SerDe default (ion.fail_on_overflow = true)
    WRAP = "wrap"  # Ion SerDe with fail_on_overflow = false: Java's narrowing conversion


class ConversionError(LakeboxError):
    """A value does not fit its column and the SerDe is told to fail."""


Converter = Callable[[Any], Any]
_INT_BITS = {
    exp.DType.TINYINT: 8,
    exp.DType.SMALLINT: 16,
    exp.DType.INT: 32,
    exp.DType.BIGINT: 64,
}
_DEC_CONTEXT = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_UP)


def value_converter(
    hive: str, overflow: Overflow = Overflow.NULL, null_types: tuple[type, ...] = ()
) -> Converter:
    """A function turning one decoded value into what ``pa.array`` accepts for ``hive``,
    or None when it does not convert."""
    return _converter(parse_type(hive), hive, overflow, null_types)


def _converter(
    dt_: exp.DataType, text: str, overflow: Overflow, nulls: tuple[type, ...]
) -> Converter:
    kind = dt_.this
    nulls = (type(None), *nulls)
    not_numbers = (*nulls, bool)

    def too_big(value: object) -> Any:
        if overflow is Overflow.FAIL:
            raise ConversionError(f"value {value!s:.60} does not fit column type {text}")
        return None

    if kind in _INT_BITS:
        bits = _INT_BITS[kind]
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

        def to_int(v: Any) -> Any:
            if isinstance(v, not_numbers):
                return None
            n = _as_int(v)
            if n is None or lo <= n <= hi:
                return n
            if overflow is Overflow.WRAP:
                return ((n - lo) % (1 << bits)) + lo
            return too_big(n)

        return to_int
    if kind in (exp.DType.FLOAT, exp.DType.DOUBLE):

        def to_float(v: Any) -> Any:
            if isinstance(v, not_numbers):
                return None
            try:
                return float(v)
            except (TypeError, ValueError, OverflowError):
                return None

        return to_float
    if kind == exp.DType.DECIMAL:
        arrow_dec = arrow_type(hive_type(dt_))
        assert isinstance(arrow_dec, pa.Decimal128Type)
        precision, scale = arrow_dec.precision, arrow_dec.scale
        quantum = decimal.Decimal(1).scaleb(-scale)

        def to_decimal(v: Any) -> Any:
            if isinstance(v, not_numbers):
                return None
            try:
                d = v if isinstance(v, decimal.Decimal) else decimal.Decimal(str(v).strip())
                if not d.is_finite():
                    return None
                q = d.quantize(quantum, context=_DEC_CONTEXT)
            except (decimal.InvalidOperation, ValueError):
                return None
            if q.adjusted() >= precision - scale:
                return too_big(v)
            return q

        return to_decimal
    if kind in (exp.DType.TEXT, exp.DType.VARCHAR, exp.DType.CHAR):
        limit = int(dt_.expressions[0].name) if dt_.expressions else None

        def to_str(v: Any) -> Any:
            if isinstance(v, nulls):
                return None
            s = _as_str(v)
            if limit is not None and len(s) > limit:
                return s[:limit] if overflow is not Overflow.FAIL else too_big(s)
            return s

        return to_str
    if kind == exp.DType.BOOLEAN:

        def to_bool(v: Any) -> Any:
            if isinstance(v, nulls):
                return None
            if isinstance(v, bool | int):
                return bool(v)
            if isinstance(v, str) and v.lower() in ("true", "false"):
                return v.lower() == "true"
            return None

        return to_bool
    if kind == exp.DType.DATE:
        return lambda v: None if isinstance(v, nulls) else _as_date(v)
    if kind == exp.DType.TIMESTAMP:
        return lambda v: None if isinstance(v, nulls) else _as_timestamp(v)
    if kind in (exp.DType.BINARY, exp.DType.VARBINARY):

        def to_bytes(v: Any) -> Any:
            if isinstance(v, bytes | bytearray | memoryview):
                return bytes(v)
            if isinstance(v, str):
                return v.encode()
            return None

        return to_bytes
    if kind == exp.DType.ARRAY:
        elem = _converter(dt_.expressions[0], text, overflow, nulls)

        def to_list(v: Any) -> Any:
            if isinstance(v, list | tuple):
                return [elem(x) for x in v]
            return None

        return to_list
    if kind == exp.DType.MAP:
        key = _converter(dt_.expressions[0], text, overflow, nulls)
        val = _converter(dt_.expressions[1], text, overflow, nulls)

        def to_map(v: Any) -> Any:
            if not isinstance(v, dict):
                return None
            pairs = [(key(k), val(x)) for k, x in v.items()]
            return [(k, x) for k, x in pairs if k is not None]

        return to_map
    if kind == exp.DType.STRUCT:
        fields = [
            (f.name, _converter(f.args["kind"], text, overflow, nulls)) for f in dt_.expressions
        ]
        by_lower = {name.lower(): (name, conv) for name, conv in fields}
        names = [name for name, _ in fields]

        def to_struct(v: Any) -> Any:
            if not isinstance(v, dict):
                return None
            out: dict[str, Any] = dict.fromkeys(names)
            for k, x in v.items():
                hit = by_lower.get(str(k).lower())
                if hit is not None:
                    out[hit[0]] = hit[1](x)
            return out

        return to_struct
    raise UnsupportedError(f"cannot convert values to column type {text}")


def _as_int(v: Any) -> int | None:
    if isinstance(v, int):
        return int(v)
    try:
        if isinstance(v, float | decimal.Decimal):
            return int(v)
        if isinstance(v, str):
            s = v.strip()
            try:
                return int(s)
            except ValueError:
                return int(decimal.Decimal(s))
    except (ValueError, OverflowError, decimal.InvalidOperation):
        return None
    return None


def _as_str(v: Any) -> str:
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, bytes | bytearray):
        return bytes(v).decode("utf-8", "replace")
    if isinstance(v, dt.datetime):
        return _as_timestamp(v).isoformat(sep=" ")  # type: ignore[union-attr]
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, default=str, separators=(",", ":"))
    return str(v)


def _as_date(v: Any) -> dt.date | None:
    if isinstance(v, dt.datetime):
        ts = _as_timestamp(v)
        return ts.date() if ts else None
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip()[:10])
        except ValueError:
            return None
    return None


def _as_timestamp(v: Any) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return dt.datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, str):
        try:
            return _as_timestamp(dt.datetime.fromisoformat(v.strip()))
        except ValueError:
            return None
    return None


def _fast_path_ok(hive: str) -> bool:
    """Whether ``pa.array(values, type)`` may be tried first: only for primitive types
    whose conversion pyarrow does with Hive's result (struct field names are matched
    case-sensitively by pyarrow, and char/varchar lengths are not checked)."""
    dt_ = parse_type(hive)
    if dt_.this in (exp.DType.ARRAY, exp.DType.MAP, exp.DType.STRUCT, exp.DType.BOOLEAN):
        return False
    return not (dt_.this in (exp.DType.VARCHAR, exp.DType.CHAR) and dt_.expressions)


def _nested_fast_path_ok(hive: str) -> bool:
    """Structs and arrays without maps, booleans or length-limited strings inside may go
    through Arrow's type inference and ``_conform``."""
    dt_ = parse_type(hive)
    if dt_.this not in (exp.DType.ARRAY, exp.DType.STRUCT):
        return False
    return not any(
        d.this in (exp.DType.MAP, exp.DType.BOOLEAN)
        or (d.this in (exp.DType.VARCHAR, exp.DType.CHAR) and d.expressions)
        for d in dt_.find_all(exp.DataType)
    )


class _NoFastPath(Exception):
    """The inferred Arrow type cannot be conformed losslessly; convert value by value."""


def _same_family(source: pa.DataType, target: pa.DataType) -> bool:
    t = pa.types
    if t.is_integer(source):
        return t.is_integer(target) or t.is_floating(target) or t.is_decimal(target)
    families = (
        t.is_floating,
        t.is_decimal,
        t.is_string,
        t.is_binary,
        t.is_boolean,
        t.is_date,
        t.is_timestamp,
    )
    return any(f(source) and f(target) for f in families) or (
        t.is_large_string(source) and t.is_string(target)
    )


def _conform(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Turn an array of Arrow-inferred type into ``target``: struct fields matched by name
    case-insensitively (missing ones null), list items conformed, primitives cast safely
    (a lossy cast raises, and the caller falls back to Hive's per-value conversion)."""
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), target)
    if pa.types.is_struct(target):
        if not pa.types.is_struct(arr.type):
            raise _NoFastPath
        positions: dict[str, list[int]] = {}
        for i in range(arr.type.num_fields):
            positions.setdefault(arr.type.field(i).name.lower(), []).append(i)
        children = []
        for field in target:
            found = [
                _conform(arr.field(i), field.type) for i in positions.get(field.name.lower(), [])
            ]
            if not found:
                children.append(pa.nulls(len(arr), field.type))
            elif len(found) == 1:
                children.append(found[0])
            else:  # rows spelled the name differently ("Id" here, "id" there)
                children.append(pc.coalesce(*found))
        return pa.StructArray.from_arrays(children, fields=list(target), mask=arr.is_null())
    if pa.types.is_list(target):
        if not pa.types.is_list(arr.type):
            raise _NoFastPath
        items = _conform(arr.values, target.value_type)
        return pa.ListArray.from_arrays(arr.offsets, items, type=target, mask=arr.is_null())
    if not _same_family(arr.type, target):
        raise _NoFastPath
    return arr.cast(target, safe=True)


def arrow_column(values: list[Any], hive: str, convert: Converter) -> pa.Array:
    """An Arrow array of the declared type: pyarrow converts clean columns in C (nested
    ones through type inference and ``_conform``); anything it rejects (nulls of other
    models, out-of-range numbers, strings to parse, mixed types) goes value by value
    through ``convert``."""
    target = arrow_type(hive)
    if _fast_path_ok(hive):
        try:
            return pa.array(values, type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
    elif _nested_fast_path_ok(hive):
        try:
            return _conform(pa.array(values), target)
        except (_NoFastPath, pa.ArrowException, TypeError, ValueError, OverflowError):
            pass
    return pa.array([convert(v) for v in values], type=target)


def arrow_schema(columns: list[Column]) -> pa.Schema:
    """The Arrow schema of decoded batches; a placeholder column keeps row counts when a
    table declares no data columns."""
    fields = [pa.field(c.name, arrow_type(c.type)) for c in columns]
    return pa.schema(fields or [pa.field(EMPTY_COLUMN, pa.bool_())])


EMPTY_COLUMN = "__lakebox_empty"
