"""The DuckDB binding's readers and writers for one file at a time, outside any query: for
another engine's workers (the Spark engine's executors, ``lakebox.engine.spark.python_readers``)
to read and write the SerDes the way the DuckDB engine does, with the same code.

A SerDe's semantics live once, in its DuckDB reader (``lakebox.engine.duckdb.formats``:
RegexSerDe's Java regex as RE2, LazySimpleSerDe's separators and conversions, Ion's path
extractors...) and in the DuckDB writer (``lakebox.engine.duckdb.write``: LazySimpleSerDe's
lines, DuckDB's JSON and CSV, fastavro, amazon-ion). Here a worker opens its own small
in-memory DuckDB database (one thread, Athena's session settings, the careful CSV
settings the copy builder uses) and runs those very readers and writers on the files it is
given: the answers are the DuckDB engine's, by construction.

What the readers ask of the lake's storage is only to open and read the files they are
given; ``ListedFiles`` does that from the paths the driver's planning resolved, so a worker
needs no lake configuration.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import duckdb
import pyarrow as pa

from lakebox.catalog.model import Column, Table
from lakebox.engine.duckdb.formats.base import ReadContext, reader_for, sql_string
from lakebox.engine.duckdb.translate import DUCKDB_SETTINGS
from lakebox.errors import DataError, LakeboxError, StorageError
from lakebox.formats.arrow_values import arrow_schema
from lakebox.formats.base import DataFile, ReadRequest
from lakebox.formats.writing import WriteTarget
from lakebox.storage import Storage

BATCH_ROWS = 64 * 1024


class ListedFiles:
    """What the format readers use of ``Storage`` (``open``, ``read_bytes``), for the files
    of one scan only: each lake URI opens the local path planning resolved for it."""

    def __init__(self, paths: dict[str, str]) -> None:
        self._paths = paths

    def _path(self, location: str) -> str:
        path = self._paths.get(location)
        if path is None:
            raise StorageError(f"{location} is not one of the scan's files")
        return path.removeprefix("file://")

    def open(self, location: str, mode: str = "rb") -> IO[Any]:
        try:
            return open(self._path(location), mode)
        except FileNotFoundError as err:
            raise StorageError(f"no such object: {location}") from err

    def read_bytes(self, location: str) -> bytes:
        with self.open(location) as fh:
            data: bytes = fh.read()
        return data


def connect() -> duckdb.DuckDBPyConnection:
    """A worker's database: one thread (a worker is one of many tasks), Athena's settings,
    the text readers' careful CSV settings."""
    from lakebox.engine.duckdb.formats.text import SET_CSV_FALLBACK

    con = duckdb.connect(":memory:", config={"threads": "1"})
    for name, value in DUCKDB_SETTINGS.items():
        setting = str(value).lower() if isinstance(value, bool) else sql_string(str(value))
        con.execute(f"SET {name} = {setting}")
    con.execute(SET_CSV_FALLBACK)
    return con


def read_files(
    table: Table, files: list[DataFile], local: Callable[[DataFile], DataFile] | None = None
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """The rows of ``files``, file by file, as the DuckDB engine reads them: (index of the
    file in ``files``, a batch of the table's data columns typed as
    ``lakebox.formats.arrow_values.arrow_schema`` says). A file the reader refuses raises
    a DataError naming it (its lake URI). Engine paths are local, or ``local`` gives each
    file as a local one (same URI), when the reader comes to it (an S3 object copied to a
    temporary file)."""
    reader = reader_for(table)
    schema = arrow_schema(table.columns)
    paths = {f.uri: f.engine_path for f in files}
    storage = cast(Storage, ListedFiles(paths))
    with tempfile.TemporaryDirectory(prefix="lakebox-read-") as cache, connect() as con:
        ctx = ReadContext(storage, con, Path(cache))
        try:
            for index, listed in enumerate(files):
                f = listed if local is None else local(listed)
                paths[f.uri] = f.engine_path
                sql = reader.scan_sql(ctx, ReadRequest(table, [f], table.columns))
                try:
                    result = con.sql(sql).to_arrow_reader(BATCH_ROWS)
                    for batch in result:
                        yield index, _as_schema(batch, schema)
                except duckdb.Error as err:
                    raise _read_error(err, ctx, f) from err
                ctx.release()
        finally:
            ctx.release()


def _as_schema(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    arrays = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(batch.columns, schema, strict=False)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _read_error(err: duckdb.Error, ctx: ReadContext, f: DataFile) -> LakeboxError:
    from lakebox.engine.duckdb.formats.text import data_error_from_duckdb

    found = data_error_from_duckdb(err, ctx, [f])
    if found is not None:
        return found
    first = str(err).split("\n", 1)[0]
    return DataError(f"cannot read data: {first}", f.uri)


def write_file(
    path: str,
    target: WriteTarget,
    columns: list[Column],
    batches: Iterable[pa.RecordBatch],
    avro: dict[str, Any] | None = None,
) -> int:
    """Write ``batches`` (the data columns of ``columns``) as one file at the local
    ``path`` in the target's format, as the DuckDB engine writes it; the rows written."""
    from lakebox.engine.duckdb.write import (
        COPY_FORMATS,
        copy_options,
        data_sql,
        write_avro,
        write_ion,
    )

    schema = arrow_schema(columns)
    rows = [0]

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows[0] += batch.num_rows
            yield _as_schema(batch, schema)

    family = target.fmt.name
    if family in COPY_FORMATS:
        stream = pa.RecordBatchReader.from_batches(schema, counted())
        with connect() as con:
            con.register("__lakebox_rows", stream)
            select = f"SELECT {data_sql(columns, target)} FROM __lakebox_rows"
            con.execute(f"COPY ({select}) TO {sql_string(path)} ({copy_options(target)})")
        return rows[0]
    with open(path, "wb") as fh:
        if family == "avro":
            write_avro(counted(), fh, columns, target, avro)
        elif family == "ion":
            write_ion(counted(), fh, columns, target)
        else:
            raise ValueError(f"no standalone writer for {family}")
    return rows[0]
