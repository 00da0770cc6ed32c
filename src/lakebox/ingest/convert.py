"""JSON records to Arrow columns typed by a catalog table, as Firehose's record format
conversion does with the OpenX JSON deserializer: keys match columns case-insensitively,
missing keys are NULL, and a value that does not fit its column fails the whole record.

Two paths give the same table. The vectorised one (``read_records`` + ``from_parsed``)
parses a whole buffer of records with Arrow's JSON reader, which is strict (a string
where a number is declared, a duplicate key, a raw control character, a number out of
range all fail), and takes its result only where it provably equals the per-record
path: every record one single-line JSON object (so row i is record i), valid UTF-8, no key
that differs from a column only by case, timestamps and dates in a checked ISO subset.
Anything else answers None and the caller converts those records one by one
(``row``: one ``json.loads`` plus one small function per column), which also names the
bad record and its column.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column
from lakebox.catalog.types import arrow_type, parse_type

if TYPE_CHECKING:
    import numpy as np

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
        v.encode()  # a lone surrogate ("\ud800" in JSON) has no UTF-8: the record fails
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

    def parse_fields(self) -> list[pa.Field] | None:
        """The fields Arrow's reader is asked for (keys lowercased, timestamps and dates as
        text, float as double), or None when a column has no vectorised path (map,
        binary) or two columns differ only by case."""
        fields = []
        for key, field in zip(self.keys, self.schema, strict=True):
            parse = _parse_type(field.type)
            if parse is None:
                return None
            fields.append(pa.field(key, parse))
        return fields if len(set(self.keys)) == len(self.keys) else None

    def from_parsed(self, parsed: pa.Table) -> pa.Table | None:
        """The table ``row`` would give for the records Arrow parsed into ``parsed`` (with
        ``parse_fields``), or None when that cannot be proved."""
        if _case_clash(parsed.column_names, self.keys):
            return None
        arrays = []
        for key, field in zip(self.keys, self.schema, strict=True):
            arr = _finish(parsed.column(key).combine_chunks(), field.type)
            if arr is None:
                return None
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=self.schema)


def null_scalar(typ: pa.DataType) -> pa.Scalar:
    """A null of ``typ``, taken from an array of nulls.

    Not ``pa.scalar(None, typ)``: pyarrow's conversion of Python objects first asks whether
    pandas is installed, importing it if so (0.3-0.5 s of a stream's first delivery)."""
    return pa.nulls(1, typ)[0]


def binary_scalar(value: bytes, typ: pa.DataType) -> pa.Scalar:
    """``value`` as a scalar of ``typ`` (``pa.large_binary()``), built from buffers, not
    converted from a Python object (which imports pandas: ``null_scalar``)."""
    offsets = pa.py_buffer(array("q", [0, len(value)]))
    return pa.Array.from_buffers(typ, 1, [None, offsets, pa.py_buffer(value)])[0]


def _parse_type(t: pa.DataType) -> pa.DataType | None:
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return pa.string()
    if pa.types.is_float32(t):
        return pa.float64()
    if pa.types.is_list(t):
        inner = _parse_type(t.value_type)
        return None if inner is None else pa.list_(inner)
    if pa.types.is_struct(t):
        names = [t.field(i).name.lower() for i in range(t.num_fields)]
        inners = [_parse_type(t.field(i).type) for i in range(t.num_fields)]
        if len(set(names)) != len(names) or any(x is None for x in inners):
            return None
        return pa.struct([pa.field(n, x) for n, x in zip(names, inners, strict=True)])
    if (
        pa.types.is_integer(t)
        or pa.types.is_float64(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
    ):
        return t
    return None  # map, binary


def _case_clash(found: Sequence[str], keys: Sequence[str]) -> bool:
    """Whether a key Arrow found (matched exactly) differs from a column only by case: the
    per-record path would fold it onto that column."""
    wanted = set(keys)
    return any(k not in wanted and k.lower() in wanted for k in found)


_YEAR = r"(?:000[2-9]|00[1-9]\d|0[1-9]\d{2}|[1-8]\d{3}|9[0-8]\d{2}|99[0-8]\d)"
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_ZONE = r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)"
#: the ISO forms Python's fromisoformat and Arrow's cast read alike (Arrow refuses a day
#: the month lacks, so the cast fails rather than differs)
_TIMESTAMP = "^" + _DATE + r"[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?" + _ZONE + "?$"


def _finish(arr: pa.Array, out: pa.DataType) -> pa.Array | None:
    """Arrow's parse of one column (as ``_parse_type`` asked) as the column's type, or None
    when a value is outside what provably converts alike."""
    import pyarrow.compute as pc

    if len(arr) and arr.null_count == len(arr):
        return pa.nulls(len(arr), out)
    try:
        if pa.types.is_timestamp(out):
            if not pc.all(pc.match_substring_regex(arr, _TIMESTAMP), min_count=0).as_py():
                return None
            zoned = pc.match_substring_regex(arr, _ZONE + "$")
            none = null_scalar(pa.string())
            naive = pc.cast(pc.if_else(zoned, none, arr), out)
            utc = pc.cast(pc.if_else(zoned, arr, none), pa.timestamp(out.unit, "UTC"))
            return pc.if_else(zoned, pc.cast(utc, out), naive)
        if pa.types.is_date(out):
            # the per-record path reads the first ten characters of the (stripped) text
            if not pc.all(pc.match_substring_regex(arr, "^" + _DATE), min_count=0).as_py():
                return None
            return pc.cast(pc.utf8_slice_codeunits(arr, 0, 10), out)
        if pa.types.is_float32(out):
            return pc.cast(arr, out, safe=False)
        if pa.types.is_list(out):
            assert isinstance(arr, pa.ListArray)
            values = _finish(arr.values, out.value_type)
            if values is None:
                return None
            return pa.ListArray.from_arrays(arr.offsets, values, type=out, mask=arr.is_null())
        if pa.types.is_struct(out):
            assert isinstance(arr, pa.StructArray)
            keys = [out.field(i).name.lower() for i in range(out.num_fields)]
            found = [arr.type.field(i).name for i in range(arr.type.num_fields)]
            if _case_clash(found, keys):
                return None
            children = dict(zip(found, arr.flatten(), strict=True))
            fields = [out.field(i) for i in range(out.num_fields)]
            done = [_finish(children[k], f.type) for k, f in zip(keys, fields, strict=True)]
            if any(d is None for d in done):
                return None
            return pa.StructArray.from_arrays(done, fields=fields, mask=arr.is_null())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return arr if arr.type == out else None


def read_records(
    offsets: np.ndarray, data: bytes | bytearray, fields: Sequence[pa.Field], infer: bool
) -> pa.Table | None:
    """Records ``data[offsets[i]:offsets[i + 1]]`` parsed by Arrow's JSON reader into one row
    each, with ``fields`` declared (other keys inferred when ``infer``, else ignored); None
    unless every record is provably one single-line JSON object that Arrow parsed: it
    starts with ``{`` and ends with ``}`` (and at most two newlines), holds no newline or
    carriage return inside, is UTF-8, and Arrow gave exactly one row per record."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.json as pj

    count = len(offsets) - 1
    if count < 1:
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    if int((ends - starts).min()) < 2 or bool((raw[starts] != ord("{")).any()):
        return None
    # up to two newlines may end a record (its own and a delimiter's); before them, "}"
    last = raw[ends - 1] == ord("\n")
    second = last & (raw[np.maximum(ends - 2, starts)] == ord("\n"))
    content = ends - last - second
    if bool((content - starts < 2).any()) or bool((raw[content - 1] != ord("}")).any()):
        return None
    trailing = int(last.sum()) + int(second.sum())
    # one record a line for Arrow's reader: no newline inside a record, and no carriage
    # return (a line end to some readers). Other raw control characters Arrow's reader
    # refuses inside a string, as json.loads does, and between tokens as any JSON parser.
    if data.count(b"\n") != trailing or b"\r" in data:
        return None
    text = pa.py_buffer(data)
    whole = pa.Array.from_buffers(
        pa.large_string(), 1, [None, pa.py_buffer(offsets[[0, -1]]), text]
    )
    try:
        whole.validate(full=True)  # UTF-8, checked in place
    except pa.ArrowInvalid:
        return None
    if not last.all():
        # one record a line; a record that already ends a line leaves a blank line, skipped
        records = pa.Array.from_buffers(
            pa.large_binary(), count, [None, pa.py_buffer(offsets), text]
        )
        big = pa.large_binary()
        joined = pc.binary_join_element_wise(
            records, binary_scalar(b"", big), binary_scalar(b"\n", big)
        )
        text = joined.buffers()[2].slice(0, int(offsets[-1]) + count)
    options = pj.ParseOptions(
        explicit_schema=pa.schema(fields),
        unexpected_field_behavior="infer" if infer else "ignore",
    )
    try:
        table = pj.read_json(
            pa.BufferReader(text),
            read_options=pj.ReadOptions(block_size=1 << 20),  # > the largest record
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table if table.num_rows == count else None


def loads(data: bytes | str) -> Any:
    """JSON with exact decimals, so 38-digit numbers survive."""
    return json.loads(data, parse_float=decimal.Decimal)
