"""What every engine's writer shares: the write target, Athena's limits, Hive bucketing and
Arrow values made ready for the Avro and Ion writers. Engine-neutral, so a second engine
writes the same files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from lakebox.catalog.model import Column
from lakebox.catalog.types import duckdb_type, parse_type
from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.plugins import FormatPlugin, WriteSpec

#: Athena's limit on partitions one CTAS / INSERT INTO / UNLOAD may write
MAX_PARTITIONS = 100


@dataclass
class WriteTarget:
    """What a write produces, for any engine: the format plugin, codec, delimiters,
    partitioning and bucketing; files are named by ``query_id``."""

    fmt: FormatPlugin
    codec: str
    compression: str
    field_delimiter: str = "\x01"
    #: LazySimpleSerDe's collection and map-key separators, its NULL text and escape
    collection_delimiter: str = "\x02"
    mapkey_delimiter: str = "\x03"
    null_format: str = "\\N"
    escape: str | None = None
    #: OpenCSVSerde's quote character
    quote: str = '"'
    partitioned_by: list[str] = field(default_factory=list)
    bucketed_by: list[str] = field(default_factory=list)
    bucket_count: int = 0
    ion_binary: bool = True
    #: names the written files (``<query id>_<index>`` or Hive's bucket naming)
    query_id: str = ""

    @property
    def spec(self) -> WriteSpec:
        """The plugin's write description (a target is only made for a writable format)."""
        assert self.fmt.write is not None
        return self.fmt.write

    def file_name(self, index: int, bucket: int | None) -> str:
        """The name of the write's ``index``-th file: ``<query id>_<index>``, or Hive's
        bucket file naming (the bucket number leads), which Athena parses."""
        stem = f"{self.query_id}_{index:05d}"
        if bucket is not None:
            stem = f"0{bucket:06d}_0_{self.query_id}"
        return stem + self.spec.extension + self.spec.codec_extensions.get(self.codec, "")


def check_partition_count(count: int) -> None:
    """Fail as Athena does when a write has reached more than ``MAX_PARTITIONS``
    partitions."""
    if count > MAX_PARTITIONS:
        raise InvalidRequestError(
            f"HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_PARTITIONS} open writers "
            f"for partitions/buckets: this write would create more than {MAX_PARTITIONS} "
            f"partitions (at least {count}). "
            "Write at most 100 partitions per statement (split it with a WHERE on the "
            "partition columns and add the rest with INSERT INTO)"
        )


# -- Hive bucketing -------------------------------------------------------------------------
_MASK32 = np.uint64(0xFFFFFFFF)


def _int_hash(values: np.ndarray) -> np.ndarray:
    """Java ``int`` hash of integers (Integer / Short / Byte hashCode: the value)."""
    return values.astype(np.int64).astype(np.uint64) & _MASK32


def _long_hash(values: np.ndarray) -> np.ndarray:
    """Java ``Long.hashCode``: low word XOR high word."""
    v = values.astype(np.int64).view(np.uint64)
    return (v ^ (v >> np.uint64(32))) & _MASK32


def _text_hash(column: pa.ChunkedArray) -> np.ndarray:
    """Hadoop ``Text.hashCode`` (``WritableComparator.hashBytes``: h = 31 * h + signed byte,
    from 1) for every UTF-8 value, vectorised over Arrow's offsets and data buffers."""
    arr = pc.cast(column, pa.large_binary()).combine_chunks()
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    lengths = np.diff(offsets)
    longest = int(lengths.max()) if n else 0
    powers = np.ones(longest + 1, dtype=np.uint64)
    for k in range(1, longest + 1):
        powers[k] = (powers[k - 1] * np.uint64(31)) & _MASK32
    out = powers[lengths].copy()
    total = int(offsets[-1] - offsets[0]) if n else 0
    if total:
        data = np.frombuffer(arr.buffers()[2], dtype=np.int8)[offsets[0] : offsets[-1]]
        owner = np.repeat(np.arange(n), lengths)
        position = np.arange(offsets[0], offsets[-1])
        weight = powers[offsets[1:][owner] - position - 1]
        contrib = (data.astype(np.int64).view(np.uint64) & _MASK32) * weight
        np.add.at(out, owner, contrib)
    return out & _MASK32


def _column_hash(column: pa.ChunkedArray) -> np.ndarray:
    """Hive's ``ObjectInspectorUtils.hashCode`` per value; NULL hashes to 0. Types Hive
    hashes in ways lakebox does not reproduce (decimal, timestamp, nested) are hashed by
    their text, which keeps rows with equal values together."""
    t = column.type
    valid = ~np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_boolean(t):
        hashed = np.asarray(
            pc.fill_null(column, False).to_numpy(zero_copy_only=False), dtype=np.uint64
        )
    elif pa.types.is_integer(t) and t.bit_width <= 32:
        hashed = _int_hash(pc.fill_null(column, 0).to_numpy())
    elif pa.types.is_integer(t):
        hashed = _long_hash(pc.fill_null(column, 0).to_numpy())
    elif pa.types.is_date32(t):
        hashed = _int_hash(pc.fill_null(column.cast(pa.int32()), 0).to_numpy())
    elif pa.types.is_float32(t):
        values = pc.fill_null(column, 0.0).to_numpy().astype(np.float32)
        hashed = _int_hash(values.view(np.int32))
    elif pa.types.is_float64(t):
        hashed = _long_hash(pc.fill_null(column, 0.0).to_numpy().astype(np.float64).view(np.int64))
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t):
        hashed = _text_hash(pc.fill_null(column, ""))
    else:
        hashed = _text_hash(pc.fill_null(column.cast(pa.string()), ""))
    return np.where(valid, hashed, np.uint64(0))


def hive_bucket_numbers(columns: pa.Table, count: int) -> pa.Array:
    """Hive's bucket of each row: ``(hash & Integer.MAX_VALUE) % count`` with the columns'
    hashes combined as ``31 * h + column hash`` (Hive bucketing version 1, Athena's
    default), so Athena's bucket pruning finds the rows lakebox wrote."""
    combined = np.zeros(columns.num_rows, dtype=np.uint64)
    for column in columns.columns:
        combined = (combined * np.uint64(31) + _column_hash(column)) & _MASK32
    return pa.array(((combined & np.uint64(0x7FFFFFFF)) % np.uint64(count)).astype(np.int32))


# -- Avro and Ion values --------------------------------------------------------------------
def avro_schema(columns: list[Column], name: str = "lakebox_record") -> dict[str, Any]:
    """An Avro record schema for Hive columns, every field nullable as Hive writes them."""
    counter = [0]

    def conv(dtype: exp.DataType) -> Any:
        kind = dtype.this
        if kind == exp.DType.DECIMAL:
            text = duckdb_type(dtype.sql("hive"))
            p, s = (int(x) for x in text[8:-1].split(","))
            return {"type": "bytes", "logicalType": "decimal", "precision": p, "scale": s}
        if kind == exp.DType.ARRAY:
            return {"type": "array", "items": ["null", conv(dtype.expressions[0])]}
        if kind == exp.DType.MAP:
            kdt = dtype.expressions[0]
            if kdt.this not in (exp.DType.TEXT, exp.DType.VARCHAR, exp.DType.CHAR):
                raise UnsupportedError("Avro maps need string keys")
            return {"type": "map", "values": ["null", conv(dtype.expressions[1])]}
        if kind == exp.DType.STRUCT:
            counter[0] += 1
            return {
                "type": "record",
                "name": f"record_{counter[0]}",
                "fields": [
                    {"name": f.name, "type": ["null", conv(f.args["kind"])], "default": None}
                    for f in dtype.expressions
                ],
            }
        simple: dict[exp.DType, Any] = {
            exp.DType.TEXT: "string",
            exp.DType.VARCHAR: "string",
            exp.DType.CHAR: "string",
            exp.DType.BOOLEAN: "boolean",
            exp.DType.TINYINT: "int",
            exp.DType.SMALLINT: "int",
            exp.DType.INT: "int",
            exp.DType.BIGINT: "long",
            exp.DType.FLOAT: "float",
            exp.DType.DOUBLE: "double",
            exp.DType.BINARY: "bytes",
            exp.DType.VARBINARY: "bytes",
            exp.DType.DATE: {"type": "int", "logicalType": "date"},
            # Hive's AvroSerDe reads timestamp-millis only
            exp.DType.TIMESTAMP: {"type": "long", "logicalType": "timestamp-millis"},
        }
        return simple[kind]

    return {
        "type": "record",
        "name": name,
        "fields": [
            {"name": c.name, "type": ["null", conv(parse_type(c.type))], "default": None}
            for c in columns
        ],
    }


def python_converter(
    columns: list[Column], ion: bool = False
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Arrow's Python values -> what fastavro / amazon-ion accept: maps as dicts (Arrow gives
    key/value pairs); for Ion, dates as day-precision timestamps and no null fields."""
    from amazon.ion.core import Timestamp, TimestampPrecision

    def conv_for(dtype: exp.DataType) -> Callable[[Any], Any] | None:
        kind = dtype.this
        if kind == exp.DType.MAP:
            kc = conv_for(dtype.expressions[0])
            vc = conv_for(dtype.expressions[1])
            return lambda v: {
                (kc(k) if kc else k): (vc(x) if vc and x is not None else x) for k, x in v
            }
        if kind == exp.DType.ARRAY:
            ec = conv_for(dtype.expressions[0])
            if ec is None:
                return None
            return lambda v: [ec(x) if x is not None else None for x in v]
        if kind == exp.DType.STRUCT:
            subs = {f.name: conv_for(f.args["kind"]) for f in dtype.expressions}
            if not ion and not any(subs.values()):
                return None
            return lambda v: convert_fields(v, subs, ion)
        if ion and kind == exp.DType.DATE:
            return lambda v: Timestamp(v.year, v.month, v.day, precision=TimestampPrecision.DAY)
        if ion and kind == exp.DType.DECIMAL:
            return lambda v: Decimal(v)
        return None

    convs = {c.name: conv_for(parse_type(c.type)) for c in columns}

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        return convert_fields(row, convs, ion)

    return convert


def convert_fields(
    row: dict[str, Any], convs: dict[str, Callable[[Any], Any] | None], drop_nulls: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            if not drop_nulls:
                out[key] = None
            continue
        conv = convs.get(key)
        out[key] = conv(value) if conv is not None else value
    return out
