"""DuckDB's side of CTAS, INSERT INTO and UNLOAD: materialise the planned query, group it
by partition and bucket, and write each group's file (``COPY`` or Arrow batches).

The write statements (``lakebox.query.writers``) drive it through ``open_write`` and keep the
commit protocol; nothing here knows about sessions, the catalog or the journal. An engine
offers the same through ``Engine.open_write``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from typing import IO, Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column
from lakebox.catalog.types import athena_type_from_arrow, duckdb_type, parse_type
from lakebox.engine.base import Group, SourceColumns
from lakebox.engine.duckdb.formats.base import quote_ident, sql_string
from lakebox.engine.duckdb.rules.temporal import plain_column_sql
from lakebox.errors import InvalidRequestError, UnsupportedError
from lakebox.formats.base import ScanMeter
from lakebox.formats.writing import (
    MAX_PARTITIONS,
    WriteTarget,
    avro_schema,
    hive_bucket_numbers,
    python_converter,
)
from lakebox.storage import Storage

BATCH_ROWS = 64 * 1024
_BUCKET_COLUMN = "__lakebox_bucket"


def open_write(
    con: duckdb.DuckDBPyConnection,
    planned_sql: str,
    storage: Storage,
    meter: ScanMeter | None,
    target: WriteTarget,
) -> DuckDBWrite:
    """The write of ``planned_sql`` (run on ``con``, the planned query's connection) into
    ``target``; ``meter`` counts its lake reads and stops it when the query is cancelled."""
    return DuckDBWrite(con, planned_sql, storage, meter, target)


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


class DuckDBWrite:
    """Materialises a planned query in a DuckDB temp table, checks it and writes its files
    into staging: Parquet, JSON and text with DuckDB's ``COPY``, ORC, Avro and Ion from
    Arrow batches (DuckDB writes none of them) through the storage facade."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        planned_sql: str,
        storage: Storage,
        meter: ScanMeter | None,
        options: WriteTarget,
    ) -> None:
        self.storage = storage
        self.con = con
        self.planned_sql = planned_sql
        self.meter = meter
        self.options = options
        self.query_id = options.query_id
        self.tmp = "__lakebox_write_" + self.query_id.replace("-", "_")
        #: the Avro writer schema; a table's own ``avro.schema.literal`` when it has one,
        #: since Avro readers resolve records by name
        self.avro_schema: dict[str, Any] | None = None

    def check_stop(self) -> None:
        if self.meter is not None:
            self.meter.check_stop()

    def source(self) -> SourceColumns:
        """The planned query's columns (no data read)."""
        rel = self.con.sql(self.planned_sql)
        schema = rel.limit(0).to_arrow_table().schema
        types = [str(t) for t in rel.types]
        # DuckDB widens integer sums to HUGEINT; Trino keeps BIGINT
        athena = [
            "bigint" if t in ("HUGEINT", "UHUGEINT") else athena_type_from_arrow(f.type)
            for f, t in zip(schema, types, strict=True)
        ]
        return SourceColumns(list(rel.columns), athena, types)

    def materialise_as(
        self, source: SourceColumns, out_names: list[str], no_data: bool = False
    ) -> int:
        """Materialise the query with its columns renamed to ``out_names`` (CTAS, UNLOAD);
        the row count."""
        limit = " LIMIT 0" if no_data else ""
        renames = _renames(source.names, source.engine_types, out_names)
        return self._materialise(f"SELECT {renames} FROM ({self.planned_sql}) AS src_{limit}")

    def materialise_into(self, columns: list[Column], positions: dict[str, int]) -> int:
        """Materialise the query as the table's ``columns`` (INSERT INTO): column ``c`` takes
        the query's column ``positions[c]``, the others NULL, each cast to its Hive type."""
        aliases = [f"c{i}" for i in range(len(positions))]
        kinds = [str(t) for t in self.con.sql(self.planned_sql).types]
        values = [plain_column_sql(f"src_.{a}", t) for a, t in zip(aliases, kinds, strict=False)]
        select = ", ".join(
            f"CAST({values[positions[c.name]] if c.name in positions else 'NULL'}"
            f" AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
            for c in columns
        )
        source = f"({self.planned_sql}) AS src_({', '.join(aliases)})"
        return self._materialise(f"SELECT {select} FROM {source}")

    def _materialise(self, select_sql: str) -> int:
        # the one statement that reads the lake: a scan cutoff counts it and may stop it,
        # before anything is written
        with self.meter.reading() if self.meter is not None else nullcontext():
            _exec(self.con, f"CREATE TEMP TABLE {self.tmp} AS {select_sql}")
        self.check_stop()
        return int(_exec(self.con, f"SELECT count(*) FROM {self.tmp}")[0][0])

    def schema(self) -> pa.Schema:
        """Arrow schema of the materialised result."""
        return self.con.sql(f"SELECT * FROM {self.tmp} LIMIT 0").to_arrow_table().schema

    def groups(self, partition_cols: list[str]) -> list[Group]:
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
            return [Group([], None, -1)]
        key_sql = ", ".join(keys)
        rows = _exec(
            self.con, f"SELECT {key_sql}, count(*) FROM {self.tmp} GROUP BY ALL ORDER BY ALL"
        )
        groups = []
        for row in rows:
            values = [None if v is None else str(v) for v in row[: len(partition_cols)]]
            bucket = int(row[len(partition_cols)]) if self.options.bucket_count else None
            groups.append(Group(values, bucket, int(row[-1])))
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
                        groups.append(Group(list(key), bucket, 0))
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

    def group_sql(self, group: Group, partition_cols: list[str], data_cols: list[str]) -> str:
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
        spec = self.options.spec
        return stem + spec.extension + spec.codec_extensions.get(self.options.codec, "")

    def write_group(
        self, group: Group, partition_cols: list[str], columns: list[Column], uri: str
    ) -> None:
        """Write one (partition, bucket) group's ``columns`` as the file ``uri``."""
        self.write(self.group_sql(group, partition_cols, [c.name for c in columns]), uri, columns)

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
        convert = python_converter(columns)
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

        convert = python_converter(columns, ion=True)
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


def _text_line(columns: list[Column], opts: WriteTarget) -> str:
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


def _renames(names: list[str], types: list[str], out_names: list[str]) -> str:
    """Select list giving the query's columns their Athena names. DuckDB widens integer
    sums to HUGEINT; Trino keeps BIGINT, so those are narrowed back."""
    parts = []
    for src, duck_type, dst in zip(names, types, out_names, strict=True):
        expr = plain_column_sql(quote_ident(src), duck_type)
        if duck_type in ("HUGEINT", "UHUGEINT"):
            expr = f"CAST({expr} AS BIGINT)"
        parts.append(f"{expr} AS {quote_ident(dst)}")
    return ", ".join(parts)
