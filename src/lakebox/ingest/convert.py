"""JSON records to Arrow columns typed by a catalog table, as Firehose's record format
conversion does with the OpenX JSON deserializer: keys match columns case-insensitively,
missing keys are NULL, and a value that does not fit its column fails the whole record.

Converters are built once per schema; per-record work is one ``json.loads`` plus one
small function per column (Arrow has no JSON reader that isolates one bad record).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column
from lakebox.catalog.types import arrow_type, parse_type

Converter = Callable[[Any], Any]

_INT_RANGES = {
    exp.DType.TINYINT: 8,
    exp.DType.SMALLINT: 16,
    exp.DType.INT: 32,
    exp.DType.BIGINT: 64,
}


class ConversionError(ValueError):
    """A value does not fit its column; the message names the column."""


def _to_int(bits: int) -> Converter:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def conv(v: Any) -> int:
        if isinstance(v, bool):
            raise ValueError(f"boolean {v} is not an integer")
        if isinstance(v, int):
            out = v
        elif isinstance(v, decimal.Decimal | float):
            if v != int(v):
                raise ValueError(f"{v} is not an integer")
            out = int(v)
        elif isinstance(v, str):
            out = int(v.strip())
        else:
            raise ValueError(f"{type(v).__name__} is not an integer")
        if not low <= out <= high:
            raise ValueError(f"{out} is out of range for a {bits}-bit integer")
        return out

    return conv


def _to_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | decimal.Decimal | str):
        raise ValueError(f"{v!r} is not a number")
    return float(v)


def _to_decimal(precision: int, scale: int) -> Converter:
    quantum = decimal.Decimal(1).scaleb(-scale)
    ctx = decimal.Context(prec=80)

    def conv(v: Any) -> decimal.Decimal:
        if isinstance(v, bool):
            raise ValueError(f"boolean {v} is not a decimal")
        if isinstance(v, float):
            v = repr(v)
        try:
            d = decimal.Decimal(v) if not isinstance(v, decimal.Decimal) else v
        except (decimal.InvalidOperation, TypeError) as err:
            raise ValueError(f"{v!r} is not a decimal") from err
        q = d.quantize(quantum, context=ctx)
        if q != d:
            raise ValueError(f"{d} has more than {scale} fractional digits")
        if len(q.as_tuple().digits) > precision and q != 0:
            raise ValueError(f"{d} does not fit decimal({precision},{scale})")
        return q

    return conv


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise ValueError(f"{v!r} is not a boolean")


def _to_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return json.dumps(v, default=str, separators=(",", ":"))
    return str(v)


def _to_date(v: Any) -> dt.date:
    if isinstance(v, str):
        return dt.date.fromisoformat(v.strip()[:10])
    if isinstance(v, int) and not isinstance(v, bool):
        return dt.date(1970, 1, 1) + dt.timedelta(days=v)
    raise ValueError(f"{v!r} is not a date")


def _to_timestamp(v: Any) -> dt.datetime:
    """ISO-8601 text (``T`` or space, optional zone, converted to UTC) or epoch seconds /
    milliseconds (numbers above 1e11 are taken as milliseconds, as Firehose does)."""
    if isinstance(v, str):
        text = v.strip().replace("Z", "+00:00")
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed
    if isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool):
        seconds = float(v) / 1000 if abs(float(v)) > 1e11 else float(v)
        return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    raise ValueError(f"{v!r} is not a timestamp")


def _to_binary(v: Any) -> bytes:
    if isinstance(v, str):
        return base64.b64decode(v, validate=True)
    raise ValueError(f"{v!r} is not base64 text")


def converter_for(dtype: exp.DataType) -> Converter:
    kind = dtype.this
    if kind in _INT_RANGES:
        return _to_int(_INT_RANGES[kind])
    if kind in (exp.DType.FLOAT, exp.DType.DOUBLE):
        return _to_float
    if kind == exp.DType.DECIMAL:
        params = [
            int(p.this.this) if isinstance(p.this, exp.Literal) else int(p.name)
            for p in dtype.expressions
        ]
        precision, scale = [*params, 0][:2] if params else (38, 0)
        return _to_decimal(precision, scale)
    if kind == exp.DType.BOOLEAN:
        return _to_bool
    if kind == exp.DType.DATE:
        return _to_date
    if kind == exp.DType.TIMESTAMP:
        return _to_timestamp
    if kind in (exp.DType.BINARY, exp.DType.VARBINARY):
        return _to_binary
    if kind == exp.DType.ARRAY:
        inner = converter_for(dtype.expressions[0])

        def conv_list(v: Any) -> list[Any]:
            if not isinstance(v, list):
                raise ValueError(f"{_short(v)} is not an array")
            return [None if x is None else inner(x) for x in v]

        return conv_list
    if kind == exp.DType.MAP:
        kconv, vconv = converter_for(dtype.expressions[0]), converter_for(dtype.expressions[1])

        def conv_map(v: Any) -> list[tuple[Any, Any]]:
            if not isinstance(v, dict):
                raise ValueError(f"{_short(v)} is not an object")
            return [(kconv(k), None if x is None else vconv(x)) for k, x in v.items()]

        return conv_map
    if kind == exp.DType.STRUCT:
        fields = [
            (f.name, f.name.lower(), converter_for(f.args["kind"])) for f in dtype.expressions
        ]

        def conv_struct(v: Any) -> dict[str, Any]:
            if not isinstance(v, dict):
                raise ValueError(f"{_short(v)} is not an object")
            low = {str(k).lower(): x for k, x in v.items()}
            return {name: None if low.get(key) is None else c(low[key]) for name, key, c in fields}

        return conv_struct
    return _to_string


def _short(v: Any) -> str:
    text = json.dumps(v, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


class RecordConverter:
    """Turns parsed JSON objects into an Arrow table with the table's data columns."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.keys = [c.name.lower() for c in self.columns]
        self.converters = [converter_for(parse_type(c.type)) for c in self.columns]
        self.schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in self.columns])

    def row(self, doc: Any) -> list[Any]:
        """One record's column values; raises ConversionError naming the column."""
        if not isinstance(doc, dict):
            raise ConversionError(f"record is a JSON {type(doc).__name__}, not an object")
        low = {k.lower(): v for k, v in doc.items()} if any(not k.islower() for k in doc) else doc
        out: list[Any] = []
        for key, conv, col in zip(self.keys, self.converters, self.columns, strict=True):
            value = low.get(key)
            if value is None:
                out.append(None)
                continue
            try:
                out.append(conv(value))
            except (ValueError, TypeError, ArithmeticError) as err:
                raise ConversionError(f"column '{col.name}' ({col.type}): {err}") from err
        return out

    def table(self, rows: list[list[Any]]) -> pa.Table:
        arrays = [pa.array([r[i] for r in rows], type=f.type) for i, f in enumerate(self.schema)]
        return pa.Table.from_arrays(arrays, schema=self.schema)


def loads(data: bytes | str) -> Any:
    """JSON with exact decimals, so 38-digit numbers survive."""
    return json.loads(data, parse_float=decimal.Decimal)
