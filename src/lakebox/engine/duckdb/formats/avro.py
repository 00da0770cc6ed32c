"""Avro (AvroSerDe / AvroContainerInputFormat) with Hive's semantics, decoded by fastavro.

DuckDB's avro extension cannot be loaded here, so records are decoded by fastavro and
gathered column-wise into Arrow arrays of the declared types, written once per file to a
cached Parquet copy that DuckDB then scans. Columns match Avro fields by name, case-insensitively;
``avro.schema.literal`` / ``avro.schema.url`` (SerDe or table property) give the reader
schema, so fastavro applies Avro's schema resolution (defaults for fields a file lacks,
promotions). Values that do not convert to the declared type read as NULL (Hive semantics).

This module also holds what the Ion reader shares: the Python-value -> Arrow conversion
and ``DecodedFormatReader``, the decode-once cache.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import io
import json
import os
import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import fastavro
import fastavro.read
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cramjam import lz4, zstd
from sqlglot import exp

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import arrow_type, hive_type, parse_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
)
from lakebox.engine.duckdb.formats.parquet import empty_scan, non_empty
from lakebox.errors import DataError, InvalidRequestError, LakeboxError, UnsupportedError
from lakebox.formats import compression

SCHEMA_LITERAL = "avro.schema.literal"
SCHEMA_URL = "avro.schema.url"
#: rows gathered before they become one Arrow record batch
BATCH_ROWS = 65536


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
#: bump when decoding changes, so cached copies written by older code are not reused
DECODER_VERSION = 1


class DecodedFormatReader(FormatReader):
    """A reader for files that Python decodes (Avro, Ion).

    Each file is decoded once, all of the table's data columns at a time, into a Parquet
    copy in the cache, keyed by the file's identity (URI, size, modification time) and by
    everything that shapes the result (columns, types, properties, reader schema). DuckDB
    then streams those copies with projection and filter pushdown, memory stays bounded by
    one batch during decoding, and later queries skip decoding altogether.
    """

    @abstractmethod
    def prepare(self, ctx: ReadContext, table: Table) -> tuple[Any, str]:
        """Per-scan state handed to ``decode`` and a text that identifies it for the cache."""

    @abstractmethod
    def decode(
        self, ctx: ReadContext, f: DataFile, state: Any, columns: list[Column]
    ) -> Iterator[list[pa.Array]]:
        """Arrays of ``columns`` (declared types), one list per batch of rows; with no
        columns, one null array per batch that carries the row count."""

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        state, identity = self.prepare(ctx, request.table)
        files = non_empty(request.files)
        if not files:
            return empty_scan(request.columns)
        request = ReadRequest(request.table, files, request.columns)
        try:
            sources = self._sources(ctx, request, state, identity, request.table.columns)
        except ColumnValueError as err:
            # a bad value in a column the query does not read must not fail it
            if any(c.name == err.column for c in request.columns):
                raise
            sources = self._sources(ctx, request, state, identity, request.columns)
        cols = ", ".join(quote_ident(c.name) for c in request.columns)
        select = cols or f"NULL AS {EMPTY_COLUMN}"
        return " UNION ALL ".join(f"SELECT {select} FROM {src}" for src in sources)

    def _sources(
        self,
        ctx: ReadContext,
        request: ReadRequest,
        state: Any,
        identity: str,
        columns: list[Column],
    ) -> list[str]:
        schema = arrow_schema(columns)
        key = json.dumps(
            [
                self.name,
                DECODER_VERSION,
                [(c.name, c.type) for c in columns],
                identity,
                sorted(request.table.serde_parameters.items()),
                sorted(request.table.parameters.items()),
            ]
        )
        paths: list[str] = []
        uncached: list[pa.RecordBatch] = []
        for f in request.files:
            batches = (
                pa.RecordBatch.from_arrays(arrays, schema=schema)
                for arrays in self.decode(ctx, f, state, columns)
            )
            if f.mtime <= 0:  # no identity to key a cache entry on
                uncached.extend(batches)
                continue
            digest = compression.cache_key(f.uri + "\0" + key, f.size, f.mtime)
            target = ctx.cache_dir / "decoded" / f"{self.name}-{digest}.parquet"
            if target.exists() or _write_parquet(target, schema, batches):
                paths.append(str(target))
                ctx.cache_files.append(str(target))
            else:
                uncached.extend(batches)
        sources = []
        if paths:
            sources.append(f"read_parquet({sql_list(paths)}, hive_partitioning = false)")
        if uncached or not paths:
            table = pa.Table.from_batches(uncached, schema=schema)
            sources.append(quote_ident(ctx.register(table, self.name)))
        return sources


class ColumnValueError(DataError):
    """A value of one column cannot be read (e.g. Ion overflow with fail_on_overflow)."""

    def __init__(self, message: str, uri: str, column: str) -> None:
        super().__init__(message, uri)
        self.column = column


def _write_parquet(target: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> bool:
    """Write atomically: a reader (another query, another process) sees the whole file
    or none, and a decoding error leaves nothing behind. False when the cache folder
    cannot be written (read-only lake home): the caller then keeps the rows in memory."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        writer = pq.ParquetWriter(tmp, schema, compression="zstd")
    except OSError:
        return False
    try:
        with writer:
            for batch in batches:
                writer.write_batch(batch)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True


# -- Avro --------------------------------------------------------------------------------


def _varint(fo: IO[bytes]) -> int:
    """Avro's zig-zag long (block length) as fastavro hands the raw stream to codecs."""
    shift = result = 0
    while True:
        byte = fo.read(1)
        if not byte:
            raise EOFError("truncated Avro block")
        result |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return (result >> 1) ^ -(result & 1)
        shift += 7


def _install_codecs() -> None:
    """fastavro wants optional packages for zstandard / lz4 blocks; cramjam (already a
    dependency) decodes both, so register it instead of adding packages."""

    def zstd_block(fo: IO[bytes]) -> io.BytesIO:
        return io.BytesIO(bytes(zstd.decompress(fo.read(_varint(fo)))))

    def lz4_block(fo: IO[bytes]) -> io.BytesIO:
        return io.BytesIO(bytes(lz4.decompress_block(fo.read(_varint(fo)))))

    readers = fastavro.read.BLOCK_READERS
    for codec, func in (("zstandard", zstd_block), ("lz4", lz4_block)):
        if getattr(readers.get(codec), "__name__", "") in ("missing", ""):
            readers[codec] = func


_install_codecs()


def _params(table: Table) -> dict[str, str]:
    return {**table.parameters, **table.serde_parameters}


def parse_avro_schema(text: str, where: str) -> dict[str, Any]:
    try:
        schema = json.loads(text)
        parsed = fastavro.parse_schema(schema)
    except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException) as err:
        raise InvalidRequestError(f"{where} is not a valid Avro schema: {err}") from err
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise InvalidRequestError(f"{where} must be an Avro record schema")
    return schema


class AvroReader(DecodedFormatReader):
    name = "avro"

    def validate(self, table: Table) -> None:
        params = _params(table)
        literal = params.get(SCHEMA_LITERAL)
        if literal is not None:
            parse_avro_schema(literal, f"{SCHEMA_LITERAL} of table {table.qualified_name}")
        url = params.get(SCHEMA_URL)
        if url is not None and url.lower().startswith(("http://", "https://")):
            raise UnsupportedError(
                f"{SCHEMA_URL} {url!r} of table {table.qualified_name}: only s3:// and "
                f"local schema files can be read; use {SCHEMA_LITERAL} instead"
            )

    def reader_schema(self, ctx: ReadContext, table: Table) -> dict[str, Any] | None:
        params = _params(table)
        if SCHEMA_LITERAL in params:
            return parse_avro_schema(params[SCHEMA_LITERAL], SCHEMA_LITERAL)
        url = params.get(SCHEMA_URL)
        if url is None:
            return None
        self.validate(table)
        try:
            text = ctx.storage.read_bytes(url).decode()
        except (LakeboxError, OSError, UnicodeDecodeError) as err:
            raise InvalidRequestError(f"cannot read {SCHEMA_URL} {url}: {err}") from err
        return parse_avro_schema(text, f"{SCHEMA_URL} {url}")

    def prepare(self, ctx: ReadContext, table: Table) -> tuple[Any, str]:
        schema = self.reader_schema(ctx, table)
        return schema, json.dumps(schema, sort_keys=True)

    def decode(
        self, ctx: ReadContext, f: DataFile, state: Any, columns: list[Column]
    ) -> Iterator[list[pa.Array]]:
        converters = [value_converter(c.type) for c in columns]
        for keys, records in self._read(ctx, f, state, columns):
            arrays = []
            for col, key, conv in zip(columns, keys, converters, strict=True):
                if key is None:
                    arrays.append(pa.nulls(len(records), arrow_type(col.type)))
                else:
                    arrays.append(arrow_column([r.get(key) for r in records], col.type, conv))
            yield arrays if columns else [pa.nulls(len(records), pa.bool_())]

    @staticmethod
    def _read(
        ctx: ReadContext, f: DataFile, schema: dict[str, Any] | None, columns: list[Column]
    ) -> Iterator[tuple[list[str | None], list[dict[str, Any]]]]:
        """(field name per column, records) chunks of one file."""
        try:
            with _open(ctx, f) as fh:
                reader = fastavro.reader(fh, reader_schema=schema)
                effective = reader.reader_schema or reader.writer_schema
                if not isinstance(effective, dict) or effective.get("type") != "record":
                    raise DataError("top-level Avro schema is not a record", f.uri)
                names = {fld["name"].lower(): fld["name"] for fld in effective["fields"]}
                keys = [names.get(c.name.lower()) for c in columns]
                for chunk in _chunks(reader, BATCH_ROWS):
                    yield keys, chunk
        except DataError:
            raise
        except (
            ValueError,
            EOFError,
            KeyError,
            TypeError,
            OSError,
            OverflowError,
            MemoryError,  # a damaged length field: fastavro asks for terabytes
            fastavro.read.SchemaResolutionError,
            fastavro.schema.SchemaParseException,  # a damaged schema in the file's header
        ) as err:
            raise DataError(
                f"cannot decode Avro data ({err or type(err).__name__})", f.uri
            ) from err


def _open(ctx: ReadContext, f: DataFile) -> IO[bytes]:
    if f.codec is not None:  # an externally compressed container (rare): decompress first
        return io.BytesIO(ctx.read_bytes(f))
    return ctx.storage.open(f.uri)


def _chunks(records: Iterable[Any], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
