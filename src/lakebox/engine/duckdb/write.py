"""DuckDB's side of CTAS, INSERT INTO and UNLOAD: one pass over the planned query writes
every partition's and bucket's files into staging, with DuckDB's partitioned ``COPY``
(Parquet, JSON, CSV, text) or, for the formats DuckDB cannot write (ORC, Avro, Ion), one
stream of Arrow batches ordered by partition and bucket, a file per group.

Nothing is materialised: DuckDB streams the rows from the source files to the written ones
and spills to disk when it must. The partition values are DuckDB's text of each value
(``CAST(... AS VARCHAR)``), read back from the folder names DuckDB gave (which escape every
character but letters, digits and ``-._~``, so they decode exactly); the writers
(``lakebox.query.writers``) name and move the files and keep the commit protocol; nothing
here knows about sessions, the catalog or the journal. An engine offers the same through
``Engine.open_write``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from operator import itemgetter
from typing import IO, Any
from urllib.parse import unquote

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.func import FunctionNullHandling, PythonUDFType
from sqlglot import exp

from lakebox.catalog.model import HIVE_DEFAULT_PARTITION, Column
from lakebox.catalog.types import athena_type_from_arrow, duckdb_type, parse_type
from lakebox.engine.base import SourceColumns, Staged, StagedFile
from lakebox.engine.duckdb.formats.base import quote_ident, sql_string
from lakebox.engine.duckdb.rules.temporal import plain_column_sql
from lakebox.errors import UnsupportedError
from lakebox.formats.base import ScanMeter
from lakebox.formats.writing import (
    MAX_PARTITIONS,
    WriteTarget,
    avro_schema,
    check_partition_count,
    hive_bucket_numbers,
    python_converter,
)
from lakebox.storage import Storage

BATCH_ROWS = 64 * 1024
#: the columns a write partitions its files by: the partition values as text, the bucket
_KEY_PREFIX = "__lakebox_key"
_BUCKET_COLUMN = "__lakebox_bucket"
#: the sub-folders of staging DuckDB writes into
_PASS_FOLDER = "pass/"
_EMPTY_FOLDER = "empty/"


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
    """Writes a planned query's rows into staging in one pass: Parquet, JSON and text with
    DuckDB's partitioned ``COPY``, ORC, Avro and Ion from Arrow batches (DuckDB writes none
    of them) through the storage facade."""

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
        #: the rows to write (``select_as`` / ``select_into`` set it)
        self.select_sql = ""
        #: the Avro writer schema; a table's own ``avro.schema.literal`` when it has one,
        #: since Avro readers resolve records by name
        self.avro_schema: dict[str, Any] | None = None

    def check_stop(self) -> None:
        if self.meter is not None:
            self.meter.check_stop()

    def _reading(self) -> AbstractContextManager[None]:
        """The one statement that reads the lake: a scan cutoff counts it and may stop it."""
        return self.meter.reading() if self.meter is not None else nullcontext()

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

    def select_as(
        self, source: SourceColumns, out_names: list[str], no_data: bool = False
    ) -> pa.Schema:
        """Write the query with its columns renamed to ``out_names`` (CTAS, UNLOAD); the
        Arrow schema of those rows (no data read)."""
        limit = " LIMIT 0" if no_data else ""
        renames = _renames(source.names, source.engine_types, out_names)
        self.select_sql = f"SELECT {renames} FROM ({self.planned_sql}) AS src_{limit}"
        return self._schema(self.select_sql)

    def select_into(self, columns: list[Column], positions: dict[str, int]) -> None:
        """Write the query as the table's ``columns`` (INSERT INTO): column ``c`` takes the
        query's column ``positions[c]``, the others NULL, each cast to its Hive type."""
        aliases = [f"c{i}" for i in range(len(positions))]
        kinds = [str(t) for t in self.con.sql(self.planned_sql).types]
        values = [plain_column_sql(f"src_.{a}", t) for a, t in zip(aliases, kinds, strict=False)]
        select = ", ".join(
            f"CAST({values[positions[c.name]] if c.name in positions else 'NULL'}"
            f" AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
            for c in columns
        )
        source = f"({self.planned_sql}) AS src_({', '.join(aliases)})"
        self.select_sql = f"SELECT {select} FROM {source}"

    def _schema(self, sql: str) -> pa.Schema:
        return self.con.sql(sql).limit(0).to_arrow_table().schema

    # -- the one pass ---------------------------------------------------------------------
    def write(self, staging: str, columns: list[Column], partition_cols: list[str]) -> Staged:
        """Write the selected rows' ``columns`` into files under ``staging``, one set of
        files per partition (the values of ``partition_cols``) and bucket, reading the
        query once; fails once more than 100 partitions appear. A bucketed write has
        ``bucket_count`` files in every partition it wrote, empty buckets included, as
        Hive expects."""
        assert self.select_sql, "select_as or select_into says what to write"
        # Hive writes NULL and the empty string to its default partition (a folder name
        # cannot be empty) and reads both back as NULL: they are one partition here too,
        # or '' would be registered as a second partition over the same folder
        keys = {
            f"{_KEY_PREFIX}{i}": f"NULLIF(CAST({quote_ident(c)} AS VARCHAR), '')"
            for i, c in enumerate(partition_cols)
        }
        with self._bucket_function() as bucket:
            if bucket is not None:
                keys[_BUCKET_COLUMN] = bucket
            if _WRITE_KINDS[self.options.fmt.name] == "copy":
                staged = self._copy_pass(staging, columns, keys)
            else:
                staged = self._stream_pass(staging, columns, keys)
        if self.options.bucket_count and staged.rows:
            staged.files.extend(self._empty_buckets(staging, columns, staged.files))
        return staged

    @contextmanager
    def _bucket_function(self) -> Iterator[str | None]:
        """While the block runs, a DuckDB function giving each row its Hive bucket number
        (computed in Arrow by ``hive_bucket_numbers``); yields the SQL calling it on the
        bucketing columns, None when the write is not bucketed."""
        count = self.options.bucket_count
        if not count:
            yield None
            return
        cols = ", ".join(quote_ident(c) for c in self.options.bucketed_by)
        types = self.con.sql(f"SELECT {cols} FROM ({self.select_sql}) AS rows_").types
        name = "__lakebox_bucket_" + self.query_id.replace("-", "_")

        def buckets(*arrays: pa.Array) -> pa.Array:
            table = pa.table({f"c{i}": a for i, a in enumerate(arrays)})
            return hive_bucket_numbers(table, count)

        self.con.create_function(
            name,
            buckets,
            list(types),
            "INTEGER",
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,  # NULL hashes to 0, as in Hive
        )
        try:
            yield f"{name}({cols})"
        finally:
            self.con.remove_function(name)

    def _copy_pass(self, staging: str, columns: list[Column], keys: dict[str, str]) -> Staged:
        """One ``COPY`` of the query: to one file, or partitioned by the key columns into
        DuckDB's Hive folders, whose names give each file's partition and bucket."""
        select = (
            f"SELECT {self._data_sql(columns)}{_key_list(keys)} FROM ({self.select_sql}) AS rows_"
        )
        if not keys:
            uri = staging + _PASS_FOLDER + "data" + self.options.spec.extension
            return Staged(self._copy(select, uri), [StagedFile(uri, (), None)])
        folder = staging + _PASS_FOLDER
        digests: dict[str, str] = {}
        try:
            rows = self._copy(select, folder, f"PARTITION_BY ({', '.join(keys)})")
        except duckdb.IOException as err:
            if "File name too long" not in str(err):
                raise
            rows, digests = self._copy_by_digest(columns, keys, folder)
        files = []
        for f in self.storage.list_files(folder, include_hidden=True):
            staged = _staged_file(f.uri, folder)
            if digests:
                values = tuple(None if v is None else digests[v] for v in staged.values)
                staged = StagedFile(staged.uri, values, staged.bucket)
            files.append(staged)
        check_partition_count(len({f.values for f in files}))
        return Staged(rows, files)

    def _copy_by_digest(
        self, columns: list[Column], keys: dict[str, str], folder: str
    ) -> tuple[int, dict[str, str]]:
        """The pass again for a value too long for a folder name (a file system allows 255
        bytes, and DuckDB writes each byte of a non-ASCII letter as three characters; Hive's
        own escaping keeps letters, so the final folder may well fit): the staging folders
        are named by the values' MD5 digests, and a second query over the same rows finds
        the values behind the digests. Only such writes read their query twice."""
        self.storage.delete_prefix(folder)
        hashed = {
            name: f"md5({sql})" if name.startswith(_KEY_PREFIX) else sql
            for name, sql in keys.items()
        }
        select = (
            f"SELECT {self._data_sql(columns)}{_key_list(hashed)} FROM ({self.select_sql}) AS rows_"
        )
        rows = self._copy(select, folder, f"PARTITION_BY ({', '.join(hashed)})")
        values = ", ".join(sql for name, sql in keys.items() if name.startswith(_KEY_PREFIX))
        with self._reading():
            found = _exec(self.con, f"SELECT DISTINCT {values} FROM ({self.select_sql}) AS rows_")
        digests = {
            hashlib.md5(v.encode(), usedforsecurity=False).hexdigest(): v
            for row in found
            for v in row
            if v is not None
        }
        return rows, digests

    def _data_sql(self, columns: list[Column]) -> str:
        return data_sql(columns, self.options)

    def _copy(
        self,
        select: str,
        uri: str,
        partition_by: str = "",
        reads: bool = True,
    ) -> int:
        """``COPY`` the rows of ``select`` to ``uri`` in the target's format; the rows.
        ``reads``: the statement reads the lake (the write's pass, not an empty file)."""
        opts = self.options
        target = self.storage.engine_path(uri)
        self.storage.makedirs(uri.rsplit("/", 1)[0] + "/")
        options = copy_options(opts)
        if partition_by:
            # the staging folder is the write's own: DuckDB need not list it first (which
            # fails through fsspec's S3 for a folder that has no object yet)
            options += f", {partition_by}, OVERWRITE_OR_IGNORE true"
            # past this many open files DuckDB closes some and later opens a second file
            # for the same partition: one file per partition and bucket, up to the
            # partition limit, is what Hive's layout (and a bucket's name) needs
            most = (MAX_PARTITIONS + 1) * max(1, opts.bucket_count or 0)
            _exec(self.con, f"SET partitioned_write_max_open_files = {most}")
        with self._reading() if reads else nullcontext():
            rows = _exec(self.con, f"COPY ({select}) TO {sql_string(target)} ({options})")
        self.check_stop()
        return int(rows[0][0])

    def _stream_pass(self, staging: str, columns: list[Column], keys: dict[str, str]) -> Staged:
        """One stream of the query's rows ordered by partition and bucket (DuckDB sorts,
        spilling when it must), each group's run of rows written as one file."""
        data = ", ".join(quote_ident(c.name) for c in columns)
        names = list(keys)
        order = f" ORDER BY {', '.join(names)}" if names else ""
        sql = f"SELECT {data}{_key_list(keys)} FROM ({self.select_sql}) AS rows_{order}"
        schema = self._schema(f"SELECT {data} FROM ({self.select_sql}) AS rows_")
        parts = len(names) - (1 if self.options.bucket_count else 0)
        rows = [0]
        files: list[StagedFile] = []
        partitions: set[tuple[str | None, ...]] = set()
        with self._reading():
            reader = self.con.sql(sql).to_arrow_reader(BATCH_ROWS)
            runs = self._runs(reader, len(columns), names, rows)
            for index, (key, group) in enumerate(itertools.groupby(runs, key=itemgetter(0))):
                values = tuple(key[:parts])
                partitions.add(values)
                check_partition_count(len(partitions))
                bucket = key[parts] if self.options.bucket_count else None
                uri = f"{staging}{_PASS_FOLDER}{index:05d}{self.options.spec.extension}"
                self._write_file(uri, columns, schema, (batch for _, batch in group))
                files.append(StagedFile(uri, values, bucket))
        return Staged(rows[0], files)

    def _runs(
        self,
        reader: pa.RecordBatchReader,
        width: int,
        keys: list[str],
        rows: list[int],
    ) -> Iterator[tuple[tuple[Any, ...], pa.RecordBatch]]:
        """The data columns of the ordered stream in runs of one key each: (key, batch);
        counts the rows into ``rows[0]``."""
        for batch in reader:
            self.check_stop()
            rows[0] += batch.num_rows
            data = batch.select(list(range(width)))
            cuts = {0, batch.num_rows}
            for name in keys:
                cuts.update(pc.run_end_encode(batch.column(name)).run_ends.to_pylist())
            bounds = sorted(cuts)
            for start, end in itertools.pairwise(bounds):
                key = tuple(batch.column(name)[start].as_py() for name in keys)
                yield key, data.slice(start, end - start)

    def _empty_buckets(
        self, staging: str, columns: list[Column], files: list[StagedFile]
    ) -> list[StagedFile]:
        """An empty file for every bucket of a written partition that got no rows."""
        present = {(f.values, f.bucket) for f in files}
        copy = _WRITE_KINDS[self.options.fmt.name] == "copy"
        data = self._data_sql(columns) if copy else ", ".join(quote_ident(c.name) for c in columns)
        select = f"SELECT {data} FROM ({self.select_sql}) AS rows_ LIMIT 0"
        schema = None if copy else self._schema(select)
        empty: list[StagedFile] = []
        for values in dict.fromkeys(f.values for f in files):
            for bucket in range(self.options.bucket_count):
                if (values, bucket) in present:
                    continue
                uri = f"{staging}{_EMPTY_FOLDER}{len(empty):05d}{self.options.spec.extension}"
                if schema is None:
                    self._copy(select, uri, reads=False)
                else:
                    self._write_file(uri, columns, schema, iter(()))
                empty.append(StagedFile(uri, values, bucket))
        return empty

    # -- the formats DuckDB does not write ------------------------------------------------
    def _write_file(
        self,
        uri: str,
        columns: list[Column],
        schema: pa.Schema,
        batches: Iterator[pa.RecordBatch],
    ) -> None:
        kind = _WRITE_KINDS[self.options.fmt.name]
        if kind == "orc":
            self.storage.write_with(uri, lambda fh: self._orc(batches, fh, schema))
        elif kind == "avro":
            self.storage.write_with(uri, lambda fh: self._avro(batches, fh, columns))
        else:
            self.storage.write_with(uri, lambda fh: self._ion(batches, fh, columns))

    def _orc(self, batches: Iterator[pa.RecordBatch], fh: IO[bytes], schema: pa.Schema) -> None:
        from pyarrow import orc

        writer: orc.ORCWriter | None = None
        try:
            writer = orc.ORCWriter(pa.PythonFile(fh, mode="w"), compression=self.options.codec)
            wrote = False
            for batch in batches:
                if any(column.offset for column in batch.columns):
                    # pyarrow's ORC writer loses a sliced struct's offset (its fields'
                    # rows shift): a group's run of a batch is written from a copy
                    batch = batch.take(np.arange(batch.num_rows))
                writer.write(pa.Table.from_batches([batch]))
                wrote = True
            if not wrote:
                writer.write(schema.empty_table())
        finally:
            if writer is not None:
                writer.close()

    def _avro(
        self, batches: Iterator[pa.RecordBatch], fh: IO[bytes], columns: list[Column]
    ) -> None:
        write_avro(batches, fh, columns, self.options, self.avro_schema)

    def _ion(self, batches: Iterator[pa.RecordBatch], fh: IO[bytes], columns: list[Column]) -> None:
        write_ion(batches, fh, columns, self.options)


# -- one file of a format, for this engine and for another engine's workers
# (``lakebox.engine.duckdb.standalone``) ------------------------------------------------

#: the plugins DuckDB's ``COPY`` writes (the others are written from Arrow batches)
COPY_FORMATS = frozenset(kind for kind, how in _WRITE_KINDS.items() if how == "copy")


def data_sql(columns: list[Column], opts: WriteTarget) -> str:
    """The select list of what a file holds: the columns, or a text file's line."""
    if opts.fmt.name == "text":
        return f"{_text_line(columns, opts)} AS line"
    return ", ".join(quote_ident(c.name) for c in columns)


def copy_options(opts: WriteTarget) -> str:
    """The options of DuckDB's ``COPY`` writing the target's format and codec."""
    plugin = opts.fmt.name
    if plugin == "parquet":
        return f"FORMAT parquet, COMPRESSION {opts.codec}"
    if plugin == "json":
        return f"FORMAT json, COMPRESSION {opts.codec}"
    if plugin == "csv":
        # opencsv's writer quotes every value; NULL has no spelling and is written empty
        return (
            f"FORMAT csv, HEADER false, DELIMITER {sql_string(opts.field_delimiter)}, "
            f"QUOTE {sql_string(opts.quote)}, ESCAPE {sql_string(opts.escape or opts.quote)}, "
            f"FORCE_QUOTE *, COMPRESSION {opts.codec}"
        )
    # no quoting and no escaping: LazySimpleSerDe text is written as is
    return (
        f"FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER {sql_string(chr(0x1F))}"
        f", COMPRESSION {opts.codec}"
    )


def write_avro(
    batches: Iterable[pa.RecordBatch],
    fh: IO[bytes],
    columns: list[Column],
    opts: WriteTarget,
    schema: dict[str, Any] | None = None,
) -> None:
    """One Avro container of the rows: ``schema`` (a table's own ``avro.schema.literal``)
    or one made from ``columns``."""
    import fastavro

    schema = schema or avro_schema(columns)
    convert = python_converter(columns)
    # a table's own schema may spell field names in another case than its columns
    spelling = {f["name"].lower(): f["name"] for f in schema.get("fields", [])}

    def records() -> Iterator[dict[str, Any]]:
        for batch in batches:
            for row in batch.to_pylist():
                yield {spelling.get(k, k): v for k, v in convert(row).items()}

    fastavro.writer(fh, fastavro.parse_schema(schema), records(), codec=opts.codec)


def write_ion(
    batches: Iterable[pa.RecordBatch], fh: IO[bytes], columns: list[Column], opts: WriteTarget
) -> None:
    """Ion values, one top-level struct per row; each batch is its own Ion stream
    (a version marker mid-file is valid Ion and resets the symbol table)."""
    import cramjam
    from amazon.ion import simpleion

    convert = python_converter(columns, ion=True)
    compressor: Any = None
    if opts.codec == "gzip":
        compressor = cramjam.gzip.Compressor()
    elif opts.codec == "zstd":
        compressor = cramjam.zstd.Compressor()
    for batch in batches:
        values = [convert(row) for row in batch.to_pylist()]
        data = simpleion.dumps(values, binary=opts.ion_binary, sequence_as_stream=True)
        chunk = data if isinstance(data, bytes) else data.encode() + b"\n"
        if compressor is None:
            fh.write(chunk)
        else:
            compressor.compress(chunk)
            fh.write(bytes(compressor.flush()))
    if compressor is not None:
        fh.write(bytes(compressor.finish()))


def _staged_file(uri: str, folder: str) -> StagedFile:
    """A file of DuckDB's partitioned ``COPY`` under ``folder``, with the partition values
    and bucket its Hive folders name: DuckDB percent-escapes a value (every byte but
    letters, digits and ``-._~``), and writes NULL as the bare default partition."""
    values: list[str | None] = []
    bucket: int | None = None
    for part in uri[len(folder) :].split("/")[:-1]:
        name, _, text = part.partition("=")
        if name == _BUCKET_COLUMN:
            bucket = int(text)
        else:
            values.append(
                None if text == HIVE_DEFAULT_PARTITION else unquote(text, errors="strict")
            )
    return StagedFile(uri, tuple(values), bucket)


def _key_list(keys: dict[str, str]) -> str:
    """The key columns appended to a select list."""
    return "".join(f", {sql} AS {name}" for name, sql in keys.items())


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
