"""Formats Spark has no reader for here, decoded by lakebox's Python readers in Spark's
executors (``mapInArrow``): a scan is a small DataFrame of its files, spread over tasks,
each task decoding its files into Arrow batches of the table's columns. Nothing passes
through the driver: it scales with the executors as Spark's own readers do.

Avro is the first: fastavro decodes the records (the table's ``avro.schema.literal`` as
the reader schema, so Avro's schema resolution applies), fields match columns by name,
case-insensitively, and values that do not convert to the declared type are NULL (Hive's
semantics), through the engine-neutral converters of ``lakebox.formats.arrow_values``.

The executors run the driver's Python (``spark.pyspark.python``), which must have lakebox
installed: on a cluster, every worker needs the same environment.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.errors import DataError, UnsupportedError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: formats read by this module (``lakebox.formats.plugins`` names)
PYTHON_READABLE = ("avro",)
BATCH_ROWS = 16 * 1024
_SCHEMA_LITERAL = "avro.schema.literal"


def avro_reader_schema(table: Table) -> dict[str, Any] | None:
    """The table's Avro reader schema (SerDe property first, then table property)."""
    for params in (table.serde_parameters, table.parameters):
        if "avro.schema.url" in params and _SCHEMA_LITERAL not in params:
            raise UnsupportedError(
                f"table {table.qualified_name}: the Spark engine does not read "
                "avro.schema.url yet; give the schema as avro.schema.literal"
            )
        text = params.get(_SCHEMA_LITERAL)
        if text:
            try:
                found = json.loads(text)
            except ValueError as err:
                raise DataError(f"{_SCHEMA_LITERAL} is not JSON: {err}") from err
            return found if isinstance(found, dict) else None
    return None


def python_scan(
    spark: SparkSession,
    table: Table,
    files: list[tuple[str, str, str]],
    target: pa.Schema,
    file_column: str,
) -> DataFrame:
    """The table's rows decoded in the executors from ``files`` ((engine path, lake URI,
    join key) each): its data columns as ``target`` says, and ``file_column``."""
    columns = [(c.name, c.type) for c in table.columns]
    decode = _avro_decoder(columns, avro_reader_schema(table), target, file_column)
    listing = spark.createDataFrame(
        pa.table(
            {
                "path": [f[0] for f in files],
                "uri": [f[1] for f in files],
                "key": [f[2] for f in files],
            }
        )
    )
    from pyspark.sql.pandas.types import from_arrow_schema

    spread = listing.repartition(max(1, len(files)))
    with warnings.catch_warnings():
        # pyspark checks the installed pandas (lakebox does not use it) and warns about it
        warnings.simplefilter("ignore", FutureWarning)
        return spread.mapInArrow(decode, from_arrow_schema(target))


def _avro_decoder(
    columns: list[tuple[str, str]],
    schema: dict[str, Any] | None,
    target: pa.Schema,
    file_column: str,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The executors' function: each input row names one file, decoded into batches."""

    def decode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for path, uri, key in zip(
                batch.column("path").to_pylist(),
                batch.column("uri").to_pylist(),
                batch.column("key").to_pylist(),
                strict=True,
            ):
                yield from _avro_file(path, uri, key, columns, schema, target, file_column)

    return decode


def _avro_file(
    path: str,
    uri: str,
    key: str,
    columns: list[tuple[str, str]],
    schema: dict[str, Any] | None,
    target: pa.Schema,
    file_column: str,
) -> Iterator[pa.RecordBatch]:
    import fastavro

    from lakebox.formats.arrow_values import value_converter

    converters = [value_converter(hive) for _, hive in columns]
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        reader = fastavro.reader(io.BytesIO(data), reader_schema=schema)
        effective = reader.reader_schema or reader.writer_schema
        if not isinstance(effective, dict) or effective.get("type") != "record":
            raise DataError("top-level Avro schema is not a record", uri)
        names = {fld["name"].lower(): fld["name"] for fld in effective["fields"]}
        fields = [names.get(name.lower()) for name, _ in columns]
        chunk: list[dict[str, Any]] = []
        for record in reader:
            if not isinstance(record, dict):
                raise DataError("an Avro record is not a record", uri)
            chunk.append(record)
            if len(chunk) >= BATCH_ROWS:
                yield _batch(chunk, columns, fields, converters, target, key, file_column)
                chunk = []
        if chunk:
            yield _batch(chunk, columns, fields, converters, target, key, file_column)
    except DataError:
        raise
    except Exception as err:  # fastavro's many ways of failing on a damaged file
        raise DataError(f"cannot decode Avro data ({err or type(err).__name__})", uri) from err


def _batch(
    records: list[dict[str, Any]],
    columns: list[tuple[str, str]],
    fields: list[str | None],
    converters: list[Callable[[Any], Any]],
    target: pa.Schema,
    key: str,
    file_column: str,
) -> pa.RecordBatch:
    from lakebox.formats.arrow_values import arrow_column

    arrays: list[pa.Array] = []
    for (_name, hive), field, convert, spec in zip(
        columns, fields, converters, target, strict=False
    ):
        if field is None:
            arrays.append(pa.nulls(len(records), spec.type))
        else:
            values = arrow_column([r.get(field) for r in records], hive, convert)
            arrays.append(values.cast(spec.type))
    arrays.append(pa.array([key] * len(records), pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
