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

import io
import json
import os
import uuid
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import fastavro
import fastavro.read
import pyarrow as pa
import pyarrow.parquet as pq
from cramjam import lz4, zstd

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import arrow_type
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    sql_list,
    sql_string,
)
from lakebox.engine.duckdb.formats.parquet import empty_scan, non_empty
from lakebox.errors import DataError, InvalidRequestError, LakeboxError, UnsupportedError
from lakebox.formats import compression
from lakebox.formats.arrow_values import (
    EMPTY_COLUMN,
    arrow_column,
    arrow_schema,
    value_converter,
)

SCHEMA_LITERAL = "avro.schema.literal"
SCHEMA_URL = "avro.schema.url"
#: rows gathered before they become one Arrow record batch
BATCH_ROWS = 65536


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
        if not non_empty(request.files):
            return empty_scan(request.columns)
        sources, _copies = self._decoded(ctx, request)
        cols = ", ".join(quote_ident(c.name) for c in request.columns)
        select = cols or f"NULL AS {EMPTY_COLUMN}"
        return " UNION ALL ".join(f"SELECT {select} FROM {src}" for src in sources)

    def scan_sql_with_file(
        self, ctx: ReadContext, request: ReadRequest, file_column: str
    ) -> tuple[str, list[str]] | None:
        """The decoded copies name each row's file (one copy per file); None when some
        file's rows could not be cached (they are held in memory, with no file)."""
        if not non_empty(request.files):
            return None
        _sources, copies = self._decoded(ctx, request)
        paths = [p for p in copies.values() if p is not None]
        if len(paths) != len(copies):
            return None
        cols = ", ".join(quote_ident(c.name) for c in request.columns)
        select = cols or f"NULL AS {EMPTY_COLUMN}"
        sql = (
            f"SELECT {select}, {quote_ident(file_column)} FROM read_parquet({sql_list(paths)}, "
            f"hive_partitioning = false, filename = {sql_string(file_column)})"
        )
        # an empty file has no copy and no rows: a value no row takes
        return sql, [copies.get(f.uri) or f"{f.uri}\0empty" for f in request.files]

    def _decoded(
        self, ctx: ReadContext, request: ReadRequest
    ) -> tuple[list[str], dict[str, str | None]]:
        """The SQL sources of the non-empty files' decoded rows, and each file's decoded
        copy by URI (None for rows held in memory)."""
        state, identity = self.prepare(ctx, request.table)
        request = ReadRequest(request.table, non_empty(request.files), request.columns)
        try:
            return self._sources(ctx, request, state, identity, request.table.columns)
        except ColumnValueError as err:
            # a bad value in a column the query does not read must not fail it
            if any(c.name == err.column for c in request.columns):
                raise
            return self._sources(ctx, request, state, identity, request.columns)

    def _sources(
        self,
        ctx: ReadContext,
        request: ReadRequest,
        state: Any,
        identity: str,
        columns: list[Column],
    ) -> tuple[list[str], dict[str, str | None]]:
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
        copies: dict[str, str | None] = {}
        uncached: list[pa.RecordBatch] = []
        for f in request.files:
            batches = (
                pa.RecordBatch.from_arrays(arrays, schema=schema)
                for arrays in self.decode(ctx, f, state, columns)
            )
            copies[f.uri] = None
            if f.mtime <= 0:  # no identity to key a cache entry on
                uncached.extend(batches)
                continue
            digest = compression.cache_key(f.uri + "\0" + key, f.size, f.mtime)
            target = ctx.cache_dir / "decoded" / f"{self.name}-{digest}.parquet"
            if target.exists() or _write_parquet(target, schema, batches):
                paths.append(str(target))
                copies[f.uri] = str(target)
                ctx.cache_files.append(str(target))
            else:
                uncached.extend(batches)
        sources = []
        if paths:
            sources.append(f"read_parquet({sql_list(paths)}, hive_partitioning = false)")
        if uncached or not paths:
            table = pa.Table.from_batches(uncached, schema=schema)
            sources.append(quote_ident(ctx.register(table, self.name)))
        return sources, copies


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
