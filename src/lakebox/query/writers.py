"""The write statements of the query service: CTAS, INSERT INTO and UNLOAD.

Every write runs the same way, so that a failed, cancelled or killed write leaves nothing a
reader can see:

1. the query is planned and its result materialised in a DuckDB temp table (a failing query
   fails here, before any file exists; the partition count is checked here too);
2. one file per (partition, bucket) is written into a hidden staging folder
   ``<target>/.lakebox-staging-<query id>/`` (readers skip names starting with ``.``);
3. the files are moved into place, then the catalog changes (the CTAS commit point), then
   the journal says ``committed`` and the staging folder goes.

``lakebox.query.journal`` records each phase before it starts, so ``recover_writes`` can
undo the work of a process that died. Parquet, JSON and text files are written by DuckDB's
``COPY``; ORC, Avro and Ion from Arrow batches (DuckDB writes none of them) through the
storage facade, so S3 mode works the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from lakebox.catalog.model import (
    HIVE_DEFAULT_PARTITION,
    Column,
    Partition,
    Table,
    partition_path,
)
from lakebox.catalog.types import arrow_type, athena_type_from_arrow, duckdb_type, parse_type
from lakebox.engine.duckdb.formats.base import quote_ident, sql_string
from lakebox.engine.duckdb.formats.text import (
    LazySimpleReader,
    OpenCsvReader,
    parse_delimiter,
    table_param,
    text_charset,
)
from lakebox.errors import (
    AlreadyExistsError,
    InvalidRequestError,
    LakeboxError,
    SemanticError,
    SqlSyntaxError,
    UnsupportedError,
)
from lakebox.formats.plugins import (
    BUILTIN_PLUGINS,
    FormatPlugin,
    WriteSpec,
    ctas_format,
    ctas_format_names,
    plugin_for_serde,
)
from lakebox.names import athena_column, athena_table
from lakebox.query import journal as jn
from lakebox.storage.uri import join_uri, parse_uri

if TYPE_CHECKING:
    import duckdb

    from lakebox.catalog.projection import ProjectionConfig
    from lakebox.query.session import ExecutionControl, Result, Session, StatementContext
    from lakebox.sql.planner import ScanStats

#: Athena's limit on partitions one CTAS / INSERT INTO / UNLOAD may write
MAX_PARTITIONS = 100
BATCH_ROWS = 64 * 1024
STAGING_PREFIX = ".lakebox-staging-"


#: CTAS / UNLOAD ``format`` values -> their plugins, in the order messages list them
FORMATS: dict[str, FormatPlugin] = {
    p.write.format: p for p in BUILTIN_PLUGINS if p.write is not None and p.write.ctas
}


def _spec(plugin: FormatPlugin) -> WriteSpec:
    assert plugin.write is not None  # only writable plugins become WriteOptions
    return plugin.write


_CTAS_PROPERTIES = {
    "table_type",
    "format",
    "external_location",
    "partitioned_by",
    "bucketed_by",
    "bucket_count",
    "write_compression",
    "parquet_compression",
    "orc_compression",
    "field_delimiter",
    "ion_encoding",
    "compression_level",
}
_UNLOAD_PROPERTIES = {
    "format",
    "compression",
    "compression_level",
    "field_delimiter",
    "partitioned_by",
}


@dataclass
class WriteOptions:
    """What a write produces: format, codec, delimiter, partitioning and bucketing."""

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


# -- entry point -----------------------------------------------------------------------------
def execute_write(
    session: Session, tree: exp.Expression, text: str, context: StatementContext
) -> Result:
    """Run a CTAS, INSERT INTO or UNLOAD statement atomically (see the module docstring)."""
    jn.recover_writes(session.lake)
    if isinstance(tree, exp.Create):
        return _ctas(session, tree, context)
    if isinstance(tree, exp.Insert):
        return _insert(session, tree, context)
    if isinstance(tree, exp.Command) and str(tree.this).upper() == "UNLOAD":
        rest = tree.expression.name if tree.expression is not None else ""
        return _unload(session, rest, context)
    raise UnsupportedError(f"{tree.key.upper()} is not a write statement")


# -- properties ------------------------------------------------------------------------------
def _literal(node: exp.Expression, name: str) -> str:
    if isinstance(node, exp.Literal):
        return node.name
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return "-" + node.this.name
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    raise InvalidRequestError(f"property {name!r} must be a literal, got {node.sql('athena')}")


def _array(node: exp.Expression, name: str) -> list[str]:
    if isinstance(node, exp.Array):
        return [_literal(e, name).lower() for e in node.expressions]
    raise InvalidRequestError(f"property {name!r} must be an ARRAY['col', ...]")


def _properties(props: exp.Properties | None, allowed: set[str], what: str) -> dict[str, Any]:
    """The WITH (...) properties of a CTAS or UNLOAD as plain values; unknown ones fail
    naming the property, as Athena does."""
    out: dict[str, Any] = {}
    if props is None:
        return out
    for prop in props.expressions:
        if isinstance(prop, exp.WithDataProperty):
            out["__no_data"] = bool(prop.args.get("no"))
            continue
        if isinstance(prop, exp.FileFormatProperty):
            key, value = "format", prop.this
        elif isinstance(prop, exp.PartitionedByProperty):
            key, value = "partitioned_by", prop.this
        elif isinstance(prop, exp.Property):
            key, value = prop.name.lower(), prop.args.get("value")
        else:
            raise InvalidRequestError(f"unsupported {what} property: {prop.sql('athena')}")
        if key not in allowed:
            raise InvalidRequestError(
                f"Catalog 'awsdatacatalog' {what} property '{key}' does not exist"
            )
        if key in out:
            raise InvalidRequestError(f"{what} property '{key}' is given more than once")
        assert isinstance(value, exp.Expression)
        if key in ("partitioned_by", "bucketed_by"):
            if isinstance(value, exp.Schema):
                out[key] = [e.name.lower() for e in value.expressions]
            else:
                out[key] = _array(value, key)
        else:
            out[key] = _literal(value, key)
    return out


def _options(props: dict[str, Any], compression_key: str = "write_compression") -> WriteOptions:
    fmt_name = str(props.get("format", "PARQUET")).upper()
    plugin = ctas_format(fmt_name)
    if plugin is None:
        raise InvalidRequestError(
            f"format {fmt_name!r} is not supported; use one of {', '.join(ctas_format_names())}"
        )
    fmt = _spec(plugin)
    compression = props.get(compression_key)
    legacy_keys = {
        p.write.legacy_compression_key: p.write.format
        for p in FORMATS.values()
        if p.write is not None and p.write.legacy_compression_key
    }
    for legacy, legacy_fmt in legacy_keys.items():
        if legacy in props:
            if fmt.legacy_compression_key != legacy:
                raise InvalidRequestError(f"{legacy} can only be used with format {legacy_fmt}")
            if compression is not None:
                raise InvalidRequestError(f"use either write_compression or {legacy}, not both")
            compression = props[legacy]
    codec_name = str(compression or fmt.default_compression).upper()
    if codec_name not in fmt.codecs:
        raise InvalidRequestError(
            f"compression {codec_name!r} is not supported for format {fmt.format} by lakebox; "
            f"use one of {', '.join(fmt.codecs)}"
        )
    delimiter = "\x01"
    if "field_delimiter" in props:
        if not fmt.field_delimiter:
            raise InvalidRequestError("field_delimiter can only be used with format TEXTFILE")
        delimiter = parse_delimiter(str(props["field_delimiter"]), "\x01")
        if len(delimiter) != 1:
            raise InvalidRequestError("field_delimiter must be a single character")
    encoding = str(props.get("ion_encoding", "BINARY")).upper()
    if "ion_encoding" in props and (not fmt.ion_encoding or encoding not in ("BINARY", "TEXT")):
        raise InvalidRequestError("ion_encoding is BINARY or TEXT and only for format ION")
    table_type = str(props.get("table_type", "HIVE")).upper()
    if table_type != "HIVE":
        raise UnsupportedError(f"table_type {table_type!r}: lakebox writes HIVE tables only")
    bucket_count = 0
    if "bucket_count" in props:
        try:
            bucket_count = int(props["bucket_count"])
        except ValueError as err:
            raise InvalidRequestError("bucket_count must be an integer") from err
        if bucket_count < 1:
            raise InvalidRequestError("bucket_count must be positive")
    bucketed_by = list(props.get("bucketed_by", []))
    if bool(bucketed_by) != bool(bucket_count):
        raise InvalidRequestError("bucketed_by and bucket_count must be given together")
    return WriteOptions(
        fmt=plugin,
        codec=fmt.codecs[codec_name],
        compression=codec_name,
        field_delimiter=delimiter,
        partitioned_by=list(props.get("partitioned_by", [])),
        bucketed_by=bucketed_by,
        bucket_count=bucket_count,
        ion_binary=encoding == "BINARY",
    )


# -- types ----------------------------------------------------------------------------------
def hive_type_from_arrow(t: pa.DataType, column: str) -> str:
    """The Hive (Glue) type a CTAS column gets from its result type; types Hive tables
    cannot hold fail as in Athena ("Unsupported Hive type")."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "int"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        if t.precision > 38:
            raise SemanticError(f"column {column!r}: decimal precision {t.precision} exceeds 38")
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t) and t.tz is None:
        return "timestamp"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"array<{hive_type_from_arrow(t.value_type, column)}>"
    if pa.types.is_map(t):
        key = hive_type_from_arrow(t.key_type, column)
        return f"map<{key},{hive_type_from_arrow(t.item_type, column)}>"
    if pa.types.is_struct(t):
        fields = ",".join(
            f"{t.field(i).name.lower()}:{hive_type_from_arrow(t.field(i).type, column)}"
            for i in range(t.num_fields)
        )
        return f"struct<{fields}>"
    raise SemanticError(
        f"NOT_SUPPORTED: Unsupported Hive type: {athena_type_from_arrow(t)} (column {column!r}); "
        "cast the column to a type a Hive table can hold"
    )


_NUMERIC = ("tinyint", "smallint", "integer", "bigint", "real", "double", "decimal")


def _type_family(athena: str) -> str:
    base = athena.split("(", 1)[0]
    if base in _NUMERIC:
        return "number"
    if base in ("varchar", "char"):
        return "string"
    if base.startswith("timestamp"):
        return "timestamp"
    return base


def _coercible(source: str, target: str) -> bool:
    """Whether Athena would accept a query column of type ``source`` for a table column of
    type ``target`` (loosely: within numbers, strings, and date to timestamp)."""
    if source == "unknown":
        return True
    s, t = _type_family(source), _type_family(target)
    return s == t or (s == "date" and t == "timestamp")


# -- Hive bucketing -------------------------------------------------------------------------
_BUCKET_COLUMN = "__lakebox_bucket"
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


# -- the shared write pipeline ---------------------------------------------------------------
#: how the DuckDB binding writes each writable plugin: DuckDB's ``COPY`` or Arrow batches
_WRITE_KINDS = {
    "parquet": "copy",
    "json": "copy",
    "text": "copy",
    "csv": "copy",
    "orc": "orc",
    "avro": "avro",
    "ion": "ion",
}


def _exec(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """Run a statement to completion (DuckDB 2.0 keeps a result open until fetched)."""
    return con.execute(sql).fetchall()


@dataclass
class _Group:
    values: list[str | None]
    bucket: int | None
    rows: int


class _Writer:
    """Materialises a planned query, checks it and writes its files into staging."""

    def __init__(
        self,
        session: Session,
        con: duckdb.DuckDBPyConnection,
        control: ExecutionControl | None,
        options: WriteOptions,
        query_id: str,
    ) -> None:
        self.session = session
        self.storage = session.lake.storage
        self.con = con
        self.control = control
        self.options = options
        self.query_id = query_id
        self.tmp = "__lakebox_write_" + query_id.replace("-", "_")
        #: the Avro writer schema; a table's own ``avro.schema.literal`` when it has one,
        #: since Avro readers resolve records by name
        self.avro_schema: dict[str, Any] | None = None

    def check_stop(self) -> None:
        if self.control is not None and self.control.stop_reason:
            raise self.control.stop_error()

    def materialise(self, select_sql: str) -> int:
        from lakebox.query.session import reading

        # the one statement that reads the lake: a scan cutoff counts it and may stop it,
        # before anything is written
        with reading(self.control):
            _exec(self.con, f"CREATE TEMP TABLE {self.tmp} AS {select_sql}")
        self.check_stop()
        return int(_exec(self.con, f"SELECT count(*) FROM {self.tmp}")[0][0])

    def columns(self) -> list[Column]:
        """Hive columns of the materialised result (fails on types Hive cannot hold)."""
        schema = self.con.sql(f"SELECT * FROM {self.tmp} LIMIT 0").to_arrow_table().schema
        return [Column(f.name, hive_type_from_arrow(f.type, f.name)) for f in schema]

    def groups(self, partition_cols: list[str]) -> list[_Group]:
        """Non-empty (partition, bucket) groups; fails before anything is written when more
        than 100 partitions would be.

        Each group becomes one ``COPY`` (or Arrow write) of its own rather than one DuckDB
        ``PARTITION_BY``: folder names must follow Hive's escaping and its default partition
        for NULL, file names carry the query id and bucket number, and the Python-written
        formats need the same grouping anyway. At most 100 partitions keep the extra scans
        of the temp table cheap."""
        keys = [f"CAST({quote_ident(c)} AS VARCHAR)" for c in partition_cols]
        if self.options.bucket_count:
            self._add_buckets()
            keys.append(_BUCKET_COLUMN)
        if not keys:
            return [_Group([], None, -1)]
        key_sql = ", ".join(keys)
        rows = _exec(
            self.con, f"SELECT {key_sql}, count(*) FROM {self.tmp} GROUP BY ALL ORDER BY ALL"
        )
        groups = []
        for row in rows:
            values = [None if v is None else str(v) for v in row[: len(partition_cols)]]
            bucket = int(row[len(partition_cols)]) if self.options.bucket_count else None
            groups.append(_Group(values, bucket, int(row[-1])))
        partitions = {tuple(g.values) for g in groups}
        if len(partitions) > MAX_PARTITIONS:
            raise InvalidRequestError(
                f"HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_PARTITIONS} open writers "
                f"for partitions/buckets: this write would create {len(partitions)} partitions. "
                "Write at most 100 partitions per statement (split it with a WHERE on the "
                "partition columns and add the rest with INSERT INTO)"
            )
        if self.options.bucket_count:
            # Hive expects exactly bucket_count files per partition, empty buckets included
            present = {(tuple(g.values), g.bucket) for g in groups}
            for key in sorted(partitions, key=lambda v: [x or "" for x in v]):
                for bucket in range(self.options.bucket_count):
                    if (key, bucket) not in present:
                        groups.append(_Group(list(key), bucket, 0))
        return groups

    def _add_buckets(self) -> None:
        """Give every row its Hive bucket number (computed in Arrow, joined back by rowid)."""
        cols = ", ".join(quote_ident(c) for c in self.options.bucketed_by)
        keyed = self.con.sql(f"SELECT rowid AS __rid, {cols} FROM {self.tmp}").to_arrow_table()
        buckets = pa.table(
            {
                "__rid": keyed.column(0),
                "__bucket": hive_bucket_numbers(
                    keyed.drop_columns(["__rid"]), self.options.bucket_count
                ),
            }
        )
        name = self.tmp + "_buckets"
        self.con.register(name, buckets)
        try:
            _exec(self.con, f"ALTER TABLE {self.tmp} ADD COLUMN {_BUCKET_COLUMN} INTEGER")
            _exec(
                self.con,
                f"UPDATE {self.tmp} SET {_BUCKET_COLUMN} = b.__bucket FROM {name} AS b "
                f"WHERE {self.tmp}.rowid = b.__rid",
            )
        finally:
            self.con.unregister(name)

    def group_sql(self, group: _Group, partition_cols: list[str], data_cols: list[str]) -> str:
        conds = []
        for col, value in zip(partition_cols, group.values, strict=True):
            ident = quote_ident(col)
            conds.append(
                f"{ident} IS NULL"
                if value is None
                else f"CAST({ident} AS VARCHAR) = {sql_string(value)}"
            )
        if group.bucket is not None:
            conds.append(f"{_BUCKET_COLUMN} = {group.bucket}")
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return f"SELECT {', '.join(quote_ident(c) for c in data_cols)} FROM {self.tmp}{where}"

    def file_name(self, index: int, bucket: int | None) -> str:
        stem = f"{self.query_id}_{index:05d}"
        if bucket is not None:
            # Hive's bucket file naming (the bucket number leads), which Athena parses
            stem = f"0{bucket:06d}_0_{self.query_id}"
        spec = _spec(self.options.fmt)
        return stem + spec.extension + spec.codec_extensions.get(self.options.codec, "")

    def write(self, sql: str, uri: str, columns: list[Column]) -> None:
        self.check_stop()
        kind = _WRITE_KINDS[self.options.fmt.name]
        if kind == "copy":
            self._copy(sql, uri, columns)
        elif kind == "orc":
            self.storage.write_with(uri, lambda fh: self._orc(sql, fh))
        elif kind == "avro":
            self.storage.write_with(uri, lambda fh: self._avro(sql, fh, columns))
        else:
            self.storage.write_with(uri, lambda fh: self._ion(sql, fh, columns))

    def _copy(self, sql: str, uri: str, columns: list[Column]) -> None:
        opts = self.options
        target = self.storage.engine_path(uri)
        self.storage.makedirs(uri.rsplit("/", 1)[0] + "/")
        plugin = opts.fmt.name
        if plugin == "parquet":
            options = f"FORMAT parquet, COMPRESSION {opts.codec}"
        elif plugin == "json":
            options = f"FORMAT json, COMPRESSION {opts.codec}"
        elif plugin == "csv":
            # opencsv's writer quotes every value; NULL has no spelling and is written empty
            options = (
                f"FORMAT csv, HEADER false, DELIMITER {sql_string(opts.field_delimiter)}, "
                f"QUOTE {sql_string(opts.quote)}, ESCAPE {sql_string(opts.escape or opts.quote)}, "
                f"FORCE_QUOTE *, COMPRESSION {opts.codec}"
            )
        else:
            line = _text_line(columns, opts)
            sql = f"SELECT {line} AS line FROM ({sql}) AS rows_"
            # no quoting and no escaping: LazySimpleSerDe text is written as is
            options = (
                f"FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER {sql_string(chr(0x1F))}"
                f", COMPRESSION {opts.codec}"
            )
        _exec(self.con, f"COPY ({sql}) TO {sql_string(target)} ({options})")

    def _batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        reader = self.con.sql(sql).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            self.check_stop()
            yield batch

    def _orc(self, sql: str, fh: IO[bytes]) -> None:
        from pyarrow import orc

        writer: orc.ORCWriter | None = None
        schema = self.con.sql(sql).limit(0).to_arrow_table().schema
        try:
            writer = orc.ORCWriter(pa.PythonFile(fh, mode="w"), compression=self.options.codec)
            wrote = False
            for batch in self._batches(sql):
                writer.write(pa.Table.from_batches([batch]))
                wrote = True
            if not wrote:
                writer.write(schema.empty_table())
        finally:
            if writer is not None:
                writer.close()

    def _avro(self, sql: str, fh: IO[bytes], columns: list[Column]) -> None:
        import fastavro

        schema = self.avro_schema or avro_schema(columns)
        convert = _python_converter(columns)
        # a table's own schema may spell field names in another case than its columns
        spelling = {f["name"].lower(): f["name"] for f in schema.get("fields", [])}

        def records() -> Iterator[dict[str, Any]]:
            for batch in self._batches(sql):
                for row in batch.to_pylist():
                    yield {spelling.get(k, k): v for k, v in convert(row).items()}

        fastavro.writer(fh, fastavro.parse_schema(schema), records(), codec=self.options.codec)

    def _ion(self, sql: str, fh: IO[bytes], columns: list[Column]) -> None:
        """Ion values, one top-level struct per row; each batch is its own Ion stream
        (a version marker mid-file is valid Ion and resets the symbol table)."""
        import cramjam
        from amazon.ion import simpleion

        convert = _python_converter(columns, ion=True)
        compressor: Any = None
        if self.options.codec == "gzip":
            compressor = cramjam.gzip.Compressor()
        elif self.options.codec == "zstd":
            compressor = cramjam.zstd.Compressor()
        for batch in self._batches(sql):
            values = [convert(row) for row in batch.to_pylist()]
            data = simpleion.dumps(values, binary=self.options.ion_binary, sequence_as_stream=True)
            chunk = data if isinstance(data, bytes) else data.encode() + b"\n"
            if compressor is None:
                fh.write(chunk)
            else:
                compressor.compress(chunk)
                fh.write(bytes(compressor.flush()))
        if compressor is not None:
            fh.write(bytes(compressor.finish()))


def _text_line(columns: list[Column], opts: WriteOptions) -> str:
    """SQL building one LazySimpleSerDe line: Hive's separators by nesting level, the
    table's NULL text, separators escaped when the table has ``escape.delim``; the inverse
    of lakebox's text reader."""
    seps = [
        opts.field_delimiter,
        opts.collection_delimiter,
        opts.mapkey_delimiter,
        *[chr(c) for c in range(4, 9)],
    ]
    counter = [0]

    def var() -> str:
        counter[0] += 1
        return f"__w{counter[0]}"

    def sep(level: int) -> str:
        if level >= len(seps):
            raise UnsupportedError("type nests deeper than LazySimpleSerDe's separator levels")
        return sql_string(seps[level])

    def escaped(text: str) -> str:
        if opts.escape is None:
            return text
        for ch in dict.fromkeys([opts.escape, *seps[:3]]):
            text = f"replace({text}, {sql_string(ch)}, {sql_string(opts.escape + ch)})"
        return text

    def nullable(x: str, dtype: exp.DataType, level: int) -> str:
        null = sql_string(opts.null_format)
        return f"CASE WHEN {x} IS NULL THEN {null} ELSE {value(x, dtype, level)} END"

    def value(x: str, dtype: exp.DataType, level: int) -> str:
        kind = dtype.this
        if kind == exp.DType.ARRAY:
            v = var()
            inner = nullable(v, dtype.expressions[0], level + 1)
            return f"array_to_string(list_transform({x}, lambda {v}: {inner}), {sep(level)})"
        if kind == exp.DType.MAP:
            kdt, vdt = dtype.expressions
            e = var()
            entry = (
                f"{nullable(f'{e}.key', kdt, level + 2)} || {sep(level + 1)} || "
                f"{nullable(f'{e}.value', vdt, level + 2)}"
            )
            return (
                f"array_to_string(list_transform(map_entries({x}), lambda {e}: {entry}), "
                f"{sep(level)})"
            )
        if kind == exp.DType.STRUCT:
            parts = [
                nullable(f"struct_extract({x}, {sql_string(f.name)})", f.args["kind"], level + 1)
                for f in dtype.expressions
            ]
            return f" || {sep(level)} || ".join(parts)
        if kind in (exp.DType.BINARY, exp.DType.VARBINARY):
            return escaped(f"decode({x})")
        return escaped(f"CAST({x} AS VARCHAR)")

    parts = [nullable(quote_ident(c.name), parse_type(c.type), 1) for c in columns]
    return f" || {sep(0)} || ".join(parts) if parts else "''"


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


def _python_converter(
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
            return lambda v: _convert_fields(v, subs, ion)
        if ion and kind == exp.DType.DATE:
            return lambda v: Timestamp(v.year, v.month, v.day, precision=TimestampPrecision.DAY)
        if ion and kind == exp.DType.DECIMAL:
            return lambda v: Decimal(v)
        return None

    convs = {c.name: conv_for(parse_type(c.type)) for c in columns}

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        return _convert_fields(row, convs, ion)

    return convert


def _convert_fields(
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


# -- planning helpers -------------------------------------------------------------------------
def _source(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], pa.Schema, list[str]]:
    """Column names, Arrow schema and DuckDB type names of a planned query (no data read)."""
    rel = con.sql(sql)
    schema = rel.limit(0).to_arrow_table().schema
    return list(rel.columns), schema, [str(t) for t in rel.types]


def _renames(names: list[str], types: list[str], out_names: list[str]) -> str:
    """Select list giving the query's columns their Athena names. DuckDB widens integer
    sums to HUGEINT; Trino keeps BIGINT, so those are narrowed back."""
    parts = []
    for src, duck_type, dst in zip(names, types, out_names, strict=True):
        expr = quote_ident(src)
        if duck_type in ("HUGEINT", "UHUGEINT"):
            expr = f"CAST({expr} AS BIGINT)"
        parts.append(f"{expr} AS {quote_ident(dst)}")
    return ", ".join(parts)


def _unnamed_position(tree: exp.Expression) -> int | None:
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return None
    for i, e in enumerate(select.expressions):
        if not isinstance(e, exp.Alias | exp.Column | exp.Star | exp.Dot):
            return i + 1
    return None


def _move_all(session: Session, journal: jn.WriteJournal) -> None:
    storage = session.lake.storage
    for staged, final in journal.moves:
        fs, src = storage.fs_for(staged)
        dst = storage.fs_for(final)[1]
        storage.makedirs(final.rsplit("/", 1)[0] + "/")
        fs.mv(src, dst)


def _fail(session: Session, journal: jn.WriteJournal) -> None:
    """Undo what this process wrote; the original error is re-raised by the caller."""
    try:
        jn.rollback(session.lake, journal)
    except LakeboxError:
        pass  # recovery finishes it: the journal stays when rollback fails


def _rows_result(rows: int, stats: ScanStats) -> Result:
    from lakebox.query.session import Result

    return Result(pa.table({"rows": pa.array([rows], pa.int64())}), kind="DML", stats=stats)


def _check_stop(context: StatementContext) -> None:
    if context.control is not None and context.control.stop_reason:
        raise context.control.stop_error()


# -- CTAS -----------------------------------------------------------------------------------
def _ctas(session: Session, tree: exp.Create, context: StatementContext) -> Result:
    from lakebox.sql.planner import ScanStats

    if str(tree.args.get("kind") or "").upper() != "TABLE":
        raise UnsupportedError(f"CREATE {tree.args.get('kind')} ... AS is not a table write")
    if tree.args.get("replace"):
        raise UnsupportedError("CREATE OR REPLACE TABLE is not supported for Hive tables")
    target = tree.this
    if isinstance(target, exp.Schema):
        raise SemanticError(
            "CREATE TABLE AS cannot declare a column list; alias the SELECT columns"
        )
    assert isinstance(target, exp.Table)
    db_part, table_part = target.db, target.name
    if not db_part and table_part.count(".") == 1 and all(table_part.split(".")):
        db_part, table_part = table_part.split(".")  # Athena: `db.table` as one identifier
    database = (db_part or session.database).lower()  # exists already: looked up
    name = athena_table(table_part)
    query = tree.expression
    assert isinstance(query, exp.Expression)
    props = _properties(tree.args.get("properties"), _CTAS_PROPERTIES, "table")
    no_data = bool(props.pop("__no_data", False))
    options = _options(props)
    catalog, storage = session.lake.catalog, session.lake.storage
    catalog.get_database(database)
    if catalog.table_exists(database, name):
        if tree.args.get("exists"):
            return _rows_result(0, ScanStats())
        raise AlreadyExistsError(f"Table '{database}.{name}' already exists")
    if "external_location" in props:
        location = str(parse_uri(str(props["external_location"])).as_prefix())
    else:
        location = join_uri(context.output_location, "tables", context.query_id) + "/"
    if not storage.is_empty(location):
        raise AlreadyExistsError(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{database}.{name}' already "
            f"exists: {location}. Empty it or choose another external_location"
        )
    position = _unnamed_position(query)
    if position is not None:
        raise SemanticError(f"Column name not specified at position {position}")
    staging = join_uri(location, STAGING_PREFIX + context.query_id) + "/"
    journal = jn.start_journal(
        session.lake, context.query_id, "CTAS", location, staging, database, name
    )
    created = False
    try:
        with session.planned(query, context) as q:
            names, _schema, types = _source(q.con, q.sql)
            out_names = [athena_column(n) for n in (q.names or names)]
            seen: set[str] = set()
            for n in out_names:
                if n in seen:
                    raise SemanticError(f"Column name '{n}' specified more than once")
                seen.add(n)
            parts = options.partitioned_by
            _check_partition_columns(parts, out_names)
            for b in options.bucketed_by:
                if b not in out_names or b in parts:
                    raise SemanticError(
                        f"bucketed_by column '{b}' must be a non-partition column of the query"
                    )
            writer = _Writer(session, q.con, context.control, options, context.query_id)
            limit = " LIMIT 0" if no_data else ""
            rows = writer.materialise(
                f"SELECT {_renames(names, types, out_names)} FROM ({q.sql}) AS src_{limit}"
            )
            cols = writer.columns()
            data_cols, part_cols = cols[: len(cols) - len(parts)], cols[len(cols) - len(parts) :]
            if _spec(options.fmt).avro_schema:
                writer.avro_schema = avro_schema(data_cols, name)
            partitions = _stage(writer, journal, data_cols, parts, location, staging, rows)
            stats = q.stats
        table = _table_for(database, name, data_cols, part_cols, location, options)
        _check_stop(context)
        journal.partitions_added = partitions
        journal.save(jn.MOVING)
        _move_all(session, journal)
        journal.save(jn.CATALOG)
        catalog.create_table(table)
        created = True
        catalog.add_partitions(
            [
                Partition(database, name, list(v), location + partition_path(part_cols, list(v)))
                for v in partitions
            ],
            if_not_exists=True,
        )
        journal.save(jn.COMMITTED)
    except BaseException:
        if created:  # never a table a concurrent CTAS of the same name created first
            catalog.drop_table(database, name, if_exists=True)
        _fail(session, journal)
        raise
    jn.roll_forward(session.lake, journal)
    return _rows_result(rows, stats)


def _check_partition_columns(parts: list[str], names: list[str]) -> None:
    for p in parts:
        if p not in names:
            raise SemanticError(f"Partition column '{p}' is not among the query's columns")
    if parts and names[len(names) - len(parts) :] != parts:
        raise SemanticError(
            "Partition columns must be the last columns of the SELECT, in partitioned_by "
            f"order: expected the query to end with {', '.join(parts)}"
        )
    if parts and len(parts) == len(names):
        raise SemanticError("Table contains only partition columns; keep at least one data column")


def _stage(
    writer: _Writer,
    journal: jn.WriteJournal,
    data_cols: list[Column],
    parts: list[str],
    location: str,
    staging: str,
    rows: int,
) -> list[list[str]]:
    """Write every group into staging, recording the moves to ``location``; returns the
    partition values written (Hive's default partition for NULL)."""
    if rows == 0:
        return []
    groups = writer.groups(parts)
    keys = [Column(p, "string") for p in parts]
    partitions: dict[tuple[str, ...], None] = {}
    for index, group in enumerate(groups):
        values = [HIVE_DEFAULT_PARTITION if v is None else v for v in group.values]
        rel = partition_path(keys, values) if parts else ""
        fname = writer.file_name(index, group.bucket)
        staged = staging + rel + fname
        writer.write(writer.group_sql(group, parts, [c.name for c in data_cols]), staged, data_cols)
        journal.moves.append([staged, location + rel + fname])
        if parts:
            partitions[tuple(values)] = None
    return [list(v) for v in partitions]


def _table_for(
    database: str,
    name: str,
    data_cols: list[Column],
    part_cols: list[Column],
    location: str,
    options: WriteOptions,
) -> Table:
    fmt = options.fmt
    spec = _spec(fmt)
    serde_params: dict[str, str] = {}
    params: dict[str, str] = {"has_encrypted_data": "false"}
    if spec.field_delimiter:
        serde_params = {
            "field.delim": options.field_delimiter,
            "serialization.format": options.field_delimiter,
        }
    if spec.compression_property:
        params[spec.compression_property] = options.compression
    if spec.avro_schema:
        import json

        serde_params["avro.schema.literal"] = json.dumps(avro_schema(data_cols, name))
    if spec.json_paths:
        serde_params["paths"] = ",".join(c.name for c in data_cols)
    if spec.records_write_compression and options.codec != "none":
        params["write.compression"] = options.compression
    return Table(
        database=database,
        name=name,
        columns=data_cols,
        partition_keys=part_cols,
        location=location,
        input_format=fmt.input_format,
        output_format=fmt.output_format,
        serde_library=fmt.serde,
        serde_parameters=serde_params,
        parameters=params,
        bucket_columns=list(options.bucketed_by),
        num_buckets=options.bucket_count,
    )


# -- INSERT INTO ----------------------------------------------------------------------------
def _table_options(table: Table) -> WriteOptions:
    plugin = plugin_for_serde(table.serde_library or "")
    if plugin is None or plugin.write is None:
        raise UnsupportedError(
            f"INSERT INTO table {table.qualified_name} with SerDe {table.serde_library!r} is not "
            "supported; Athena (and lakebox) write Parquet, ORC, Avro, JSON (Hive JsonSerDe), "
            "text (LazySimpleSerDe), CSV (OpenCSVSerde, string columns) and Ion tables"
        )
    fmt = plugin.write
    params = {k.lower(): v for k, v in table.parameters.items()}
    legacy = fmt.compression_property or "orc.compress"
    compression = (
        params.get("write.compression") or params.get(legacy) or fmt.default_compression
    ).upper()
    if compression == "UNCOMPRESSED" and "UNCOMPRESSED" not in fmt.codecs:
        compression = "NONE"
    if compression not in fmt.codecs:
        compression = fmt.default_compression
    sp = table.serde_parameters
    partitioned_by = [k.name.lower() for k in table.partition_keys]
    if fmt.text and not text_charset(table).is_utf8:
        # the readers decode the table's charset; written UTF-8 would read back garbled
        raise UnsupportedError(
            f"INSERT INTO table {table.qualified_name}: lakebox writes text as UTF-8, and the "
            f"table declares serialization.encoding {text_charset(table).java_name!r}; insert "
            "into a UTF-8 table instead"
        )
    if plugin.name == "csv":
        not_strings = [c.name for c in table.columns if c.type.lower() != "string"]
        if not_strings:
            raise UnsupportedError(
                f"INSERT INTO OpenCSVSerde table {table.qualified_name}: writes are supported "
                f"only for string columns (Athena's rule); {', '.join(not_strings)} are not"
            )
        sep, quote, csv_escape = OpenCsvReader().options(table)
        return WriteOptions(
            fmt=plugin,
            codec=fmt.codecs[compression],
            compression=compression,
            field_delimiter=sep,
            quote=quote,
            escape=csv_escape,
            partitioned_by=partitioned_by,
        )
    seps = LazySimpleReader().separators(table)
    escape = sp.get("escape.delim")
    return WriteOptions(
        fmt=plugin,
        codec=fmt.codecs[compression],
        compression=compression,
        field_delimiter=seps[0],
        collection_delimiter=seps[1],
        mapkey_delimiter=seps[2],
        null_format=_null_format(table),
        escape=parse_delimiter(escape, "\\") if escape else None,
        partitioned_by=partitioned_by,
        ion_binary=sp.get("ion.encoding", "BINARY").upper() != "TEXT",
    )


def _null_format(table: Table) -> str:
    """LazySimpleSerDe's NULL text, from SerDe or table properties as the reader takes it."""
    value = table_param(table, "serialization.null.format")
    return "\\N" if value is None else value


def _table_avro_schema(table: Table) -> dict[str, Any]:
    import json

    literal = table.serde_parameters.get("avro.schema.literal") or table.parameters.get(
        "avro.schema.literal"
    )
    if literal:
        try:
            parsed = json.loads(literal)
        except ValueError as err:
            raise SemanticError(
                f"avro.schema.literal of {table.qualified_name} is not JSON"
            ) from err
        if isinstance(parsed, dict):
            return parsed
    data_cols = [Column(c.name.lower(), c.type) for c in table.columns]
    return avro_schema(data_cols, table.name)


def _insert(session: Session, tree: exp.Insert, context: StatementContext) -> Result:
    from lakebox.catalog.projection import ProjectionConfig

    target = tree.this
    column_list: list[str] | None = None
    if isinstance(target, exp.Schema):
        column_list = [e.name.lower() for e in target.expressions]
        target = target.this
    assert isinstance(target, exp.Table)
    database = (target.db or session.database).lower()
    catalog = session.lake.catalog
    table = catalog.get_table(database, target.name.lower())
    if table.is_view:
        raise SemanticError("Inserting into views is not supported")
    if table.bucket_columns or table.num_buckets > 0:
        raise UnsupportedError("INSERT INTO is not supported on bucketed tables")
    if not table.location:
        raise SemanticError(f"table {table.qualified_name} has no LOCATION to write into")
    options = _table_options(table)
    projection = ProjectionConfig.from_table(table) if table.partition_keys else None
    all_cols = [Column(c.name.lower(), c.type) for c in table.all_columns]
    if column_list is not None:
        seen: set[str] = set()
        for n in column_list:
            if n not in {c.name for c in all_cols}:
                raise SemanticError(f"Insert column name does not exist in target table: {n}")
            if n in seen:
                raise SemanticError(f"Insert column name is specified more than once: {n}")
            seen.add(n)
    wanted = column_list if column_list is not None else [c.name for c in all_cols]
    query = tree.expression
    assert isinstance(query, exp.Expression)
    location = str(parse_uri(table.location).as_prefix())
    staging = join_uri(location, STAGING_PREFIX + context.query_id) + "/"
    journal = jn.start_journal(
        session.lake, context.query_id, "INSERT", location, staging, database, table.name
    )
    try:
        with session.planned(query, context) as q:
            names, schema, types = _source(q.con, q.sql)
            by_name = {c.name: c for c in all_cols}
            table_types = [athena_type_from_arrow(arrow_type(by_name[n].type)) for n in wanted]
            query_types = [
                "bigint" if t in ("HUGEINT", "UHUGEINT") else athena_type_from_arrow(f.type)
                for f, t in zip(schema, types, strict=True)
            ]
            if len(names) != len(wanted) or not all(
                _coercible(s, t) for s, t in zip(query_types, table_types, strict=False)
            ):
                raise SemanticError(
                    "TYPE_MISMATCH: Insert query has mismatched column types: Table: "
                    f"[{', '.join(table_types)}], Query: [{', '.join(query_types)}]"
                )
            aliases = [f"c{i}" for i in range(len(names))]
            position = {n: i for i, n in enumerate(wanted)}
            select = ", ".join(
                f"CAST({'src_.' + aliases[position[c.name]] if c.name in position else 'NULL'}"
                f" AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
                for c in all_cols
            )
            source = f"({q.sql}) AS src_({', '.join(aliases)})"
            writer = _Writer(session, q.con, context.control, options, context.query_id)
            rows = writer.materialise(f"SELECT {select} FROM {source}")
            if _spec(options.fmt).avro_schema:
                writer.avro_schema = _table_avro_schema(table)
            data_cols = [Column(c.name.lower(), c.type) for c in table.columns]
            part_keys = [Column(k.name.lower(), k.type) for k in table.partition_keys]
            new_parts = _stage_insert(
                session, writer, journal, table, data_cols, part_keys, projection, staging, rows
            )
            stats = q.stats
        _check_stop(context)
        journal.partitions_added = [p.values for p in new_parts]
        journal.save(jn.MOVING)
        _move_all(session, journal)
        journal.save(jn.CATALOG)
        catalog.add_partitions(new_parts, if_not_exists=True)
        journal.save(jn.COMMITTED)
    except BaseException:
        _fail(session, journal)
        raise
    jn.roll_forward(session.lake, journal)
    return _rows_result(rows, stats)


def _stage_insert(
    session: Session,
    writer: _Writer,
    journal: jn.WriteJournal,
    table: Table,
    data_cols: list[Column],
    part_keys: list[Column],
    projection: ProjectionConfig | None,
    staging: str,
    rows: int,
) -> list[Partition]:
    """Stage an INSERT's files; existing partitions keep their location, new ones are
    created Hive-style under the table (projected tables register none)."""
    if rows == 0:
        return []
    parts = [k.name for k in part_keys]
    existing = {
        tuple(p.values): p.location
        for p in (session.lake.catalog.get_partitions(table.database, table.name) if parts else [])
    }
    base = str(parse_uri(table.location or "").as_prefix())
    new: dict[tuple[str, ...], Partition] = {}
    for index, group in enumerate(writer.groups(parts)):
        values = [HIVE_DEFAULT_PARTITION if v is None else v for v in group.values]
        rel = partition_path(part_keys, values) if parts else ""
        if not parts:
            folder = base
        elif projection is not None:
            folder = str(parse_uri(projection.location(values)).as_prefix())
        elif tuple(values) in existing and existing[tuple(values)]:
            folder = str(parse_uri(existing[tuple(values)] or "").as_prefix())
        else:
            folder = base + rel
            new[tuple(values)] = Partition(table.database, table.name, values, folder)
        fname = writer.file_name(index, group.bucket)
        staged = staging + rel + fname
        writer.write(writer.group_sql(group, parts, [c.name for c in data_cols]), staged, data_cols)
        journal.moves.append([staged, folder + fname])
    return list(new.values())


# -- UNLOAD ---------------------------------------------------------------------------------
_UNLOAD_TAIL = re.compile(
    r"^\s*TO\s+'((?:[^']|'')*)'\s*(?:WITH\s*\((.*)\))?\s*;?\s*$", re.IGNORECASE | re.DOTALL
)


def split_unload(text: str) -> tuple[str, str, str]:
    """``(query) TO 's3://...' WITH (...)`` -> (query, target, properties text)."""
    body = text.strip()
    if not body.startswith("("):
        raise SqlSyntaxError("UNLOAD expects (SELECT ...) TO 's3://bucket/prefix/' WITH (...)")
    depth, i, quote = 0, 0, ""
    while i < len(body):
        ch = body[i]
        if quote:
            if ch == quote:
                if i + 1 < len(body) and body[i + 1] == quote:
                    i += 1
                else:
                    quote = ""
        elif ch in ("'", '"'):
            quote = ch
        elif body.startswith("--", i):
            nl = body.find("\n", i)
            i = len(body) if nl < 0 else nl
        elif body.startswith("/*", i):
            end = body.find("*/", i + 2)
            i = len(body) if end < 0 else end + 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if depth != 0:
        raise SqlSyntaxError("UNLOAD: unbalanced parentheses around the query")
    match = _UNLOAD_TAIL.match(body[i + 1 :])
    if not match:
        raise SqlSyntaxError("UNLOAD expects (SELECT ...) TO 's3://bucket/prefix/' WITH (...)")
    return body[1:i], match.group(1).replace("''", "'"), match.group(2) or ""


def _unload(session: Session, rest: str, context: StatementContext) -> Result:
    from lakebox.query.session import Result
    from lakebox.sql.dialect import parse_query

    query_text, to, props_text = split_unload(rest)
    props: dict[str, Any] = {}
    if props_text.strip():
        fake = parse_query(f"CREATE TABLE __unload WITH ({props_text}) AS SELECT 1")
        props = _properties(fake.args.get("properties"), _UNLOAD_PROPERTIES, "UNLOAD")
    if "format" not in props:
        raise InvalidRequestError(
            "UNLOAD needs WITH (format = 'PARQUET' | 'ORC' | 'AVRO' | 'JSON' | 'TEXTFILE' | 'ION')"
        )
    props.pop("compression_level", None)
    options = _options(props, compression_key="compression")
    query = parse_query(query_text)
    if not isinstance(query, exp.Query | exp.Values):
        raise SemanticError("UNLOAD needs a SELECT query in parentheses")
    target = str(parse_uri(to).as_prefix())
    storage = session.lake.storage
    if not options.partitioned_by and not storage.is_empty(target):
        raise AlreadyExistsError(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for UNLOAD already exists: {target}. "
            "UNLOAD writes only into an empty location"
        )
    staging = join_uri(target, STAGING_PREFIX + context.query_id) + "/"
    manifest = join_uri(context.output_location, f"{context.query_id}-manifest.csv")
    journal = jn.start_journal(session.lake, context.query_id, "UNLOAD", target, staging)
    try:
        with session.planned(query, context) as q:
            names, _schema, types = _source(q.con, q.sql)
            out_names = [n.lower() for n in (q.names or names)]
            parts = options.partitioned_by
            _check_partition_columns(parts, out_names)
            writer = _Writer(session, q.con, context.control, options, context.query_id)
            rows = writer.materialise(
                f"SELECT {_renames(names, types, out_names)} FROM ({q.sql}) AS src_"
            )
            cols = writer.columns()
            data_cols = cols[: len(cols) - len(parts)]
            _stage(writer, journal, data_cols, parts, target, staging, rows)
            stats = q.stats
        _check_stop(context)
        journal.extras = [manifest]
        journal.save(jn.MOVING)
        _move_all(session, journal)
        storage.write_bytes(manifest, "".join(f"{m[1]}\n" for m in journal.moves).encode())
        journal.save(jn.COMMITTED)
    except BaseException:
        _fail(session, journal)
        raise
    jn.roll_forward(session.lake, journal)
    return Result(pa.table({}), kind="DML", stats=stats, message=f"{rows} rows unloaded")


__all__ = [
    "FORMATS",
    "MAX_PARTITIONS",
    "avro_schema",
    "execute_write",
    "hive_type_from_arrow",
    "split_unload",
]
