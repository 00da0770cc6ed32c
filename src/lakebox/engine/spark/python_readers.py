"""Formats Spark has no reader for here, decoded in Spark's executors (``mapInArrow``) by
the DuckDB engine's own readers: a scan is a small DataFrame of its files, spread over
tasks, each task reading its files into Arrow batches of the table's columns. Nothing
passes through the driver: it scales with the executors as Spark's own readers do.

Each SerDe's semantics are implemented once, in its DuckDB reader
(``lakebox.engine.duckdb.formats``): RegexSerDe's Java regex as RE2, Grok's patterns,
MultiDelimitSerDe's and LazySimpleSerDe's separators and conversions, CloudTrail's record
documents, Ion's path extractors, Avro's schema resolution. An executor runs that reader
over each of its files in a small DuckDB database of its own
(``lakebox.engine.duckdb.standalone``), so the Spark engine's answers are the DuckDB
engine's, value for value. Compressed files (``.gz``, ``.zst``, ``.bz2``...) are
decompressed as the DuckDB engine does. In S3 mode a task copies each ``s3://`` file to a
private temporary file (``lakebox.engine.spark.s3_objects``), reads it there and deletes
it; its rows keep the file's lake URI. Avro's ``avro.schema.url`` is read once, on the
driver, and handed to the executors as the table's ``avro.schema.literal``.

The executors run the driver's Python (``spark.pyspark.python``), which must have lakebox
installed: on a cluster, every worker needs the same environment.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.engine.spark.s3_objects import ExecutorS3, local_copies
from lakebox.errors import DataError, InvalidRequestError, LakeboxError
from lakebox.formats.base import DataFile

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakebox.storage import Storage

#: formats read by this module (``lakebox.formats.plugins`` names)
PYTHON_READABLE = ("avro", "ion", "regex", "grok", "cloudtrail", "multidelimit")
_TASKS_PER_CORE = 4
_SCHEMA_LITERAL = "avro.schema.literal"
_SCHEMA_URL = "avro.schema.url"


def validate(table: Table) -> None:
    """The DuckDB reader's own checks of the table's SerDe properties (a bad regex, a
    missing ``field.delim``...), on the driver, so a query fails before Spark starts."""
    from lakebox.engine.duckdb.formats import reader_for

    reader_for(table).validate(table)


def with_schema_literal(table: Table, storage: Storage | None) -> Table:
    """The table with its ``avro.schema.url`` read (on the driver, through the lake's
    storage and its boundary) into ``avro.schema.literal``, for the executors."""
    params = {**table.parameters, **table.serde_parameters}
    url = params.get(_SCHEMA_URL)
    if url is None or _SCHEMA_LITERAL in params:
        return table
    if storage is None:
        raise InvalidRequestError(
            f"table {table.qualified_name}: cannot read {_SCHEMA_URL} {url} here; give the "
            f"schema as {_SCHEMA_LITERAL}"
        )
    if url.lower().startswith(("http://", "https://")):
        validate(table)  # the DuckDB reader's refusal of web schemas, in its words
    try:
        text = storage.read_bytes(url).decode()
    except (LakeboxError, OSError, UnicodeDecodeError) as err:
        raise InvalidRequestError(f"cannot read {_SCHEMA_URL} {url}: {err}") from err
    serde = {**table.serde_parameters, _SCHEMA_LITERAL: text}
    return dataclasses.replace(table, serde_parameters=serde)


def python_scan(
    spark: SparkSession,
    table: Table,
    files: list[tuple[DataFile, str]],
    target: pa.Schema,
    file_column: str,
    s3: ExecutorS3 | None = None,
) -> DataFrame:
    """The table's rows decoded in the executors from ``files`` ((file, join key) each):
    its data columns as ``target`` says, and ``file_column`` (the file's join key). ``s3``:
    how the executors reach the lake's S3 (S3 mode), to copy each ``s3://`` file to a
    local temporary file before reading it."""
    listing = spark.createDataFrame(
        pa.table(
            {
                "uri": [f.uri for f, _ in files],
                "path": [f.engine_path for f, _ in files],
                "size": pa.array([f.size for f, _ in files], pa.int64()),
                "mtime": pa.array([f.mtime for f, _ in files], pa.float64()),
                "ctime": pa.array([f.ctime for f, _ in files], pa.float64()),
                "key": [key for _, key in files],
            }
        )
    )
    from pyspark.sql.pandas.types import from_arrow_schema

    # a file per task, up to a few tasks per core: a table of many small files is not
    # thousands of tasks (each opens a DuckDB database of its own)
    tasks = min(len(files), _TASKS_PER_CORE * spark.sparkContext.defaultParallelism)
    spread = listing.repartition(max(1, tasks))
    with warnings.catch_warnings():
        # pyspark checks the installed pandas (lakebox does not use it) and warns about it
        warnings.simplefilter("ignore", FutureWarning)
        return spread.mapInArrow(
            _decoder(table, target, file_column, s3), from_arrow_schema(target)
        )


def _decoder(
    table: Table, target: pa.Schema, file_column: str, s3: ExecutorS3 | None
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The executors' function: each input row names one file, read into batches."""

    def decode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from lakebox.engine.duckdb.standalone import read_files

        for listing in batches:
            rows = listing.to_pylist()
            files = [DataFile(r["uri"], r["path"], r["size"], r["mtime"], r["ctime"]) for r in rows]
            try:
                with local_copies(s3) as local:
                    for index, batch in read_files(table, files, local):
                        yield _typed(batch, rows[index]["key"], target)
            except DataError as err:
                if type(err) is DataError:
                    raise
                # the driver knows a refused file by the plain class's name in the
                # executor's traceback (``messages.engine_error``)
                message = str(err).split(" — file ")[0]
                raise DataError(message, err.uri, err.line) from err

    return decode


def _typed(batch: pa.RecordBatch, key: str, target: pa.Schema) -> pa.RecordBatch:
    """The reader's batch as Spark's Arrow types, with the file's join key."""
    width = len(target) - 1
    arrays = [
        batch.column(i).cast(target.field(i).type)
        if batch.column(i).type != target.field(i).type
        else batch.column(i)
        for i in range(width)
    ]
    arrays.append(pa.array([key] * batch.num_rows, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
