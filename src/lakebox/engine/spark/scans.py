"""A plan's scans as Spark DataFrames, registered as the placeholders' temporary views.

A files scan reads every file of its surviving partitions in one Spark read (Spark's own
readers, in the executors): Parquet and ORC by column name (ORC files whose columns are
Hive's ``_col0``... by position), text tables (``LazySimpleSerDe``) and OpenCSV tables as
CSV with the SerDe's delimiters, quoting and NULL marker, then each column converted as
the SerDe does (a value that does not convert is NULL), JSON lines with the table's
schema. Partition values and Athena's pseudo-columns (``"$path"``...) come from the
planner's listing, never from Spark: a small table of the scan's files, one row each,
joined to the rows by the file Spark read them from (``_metadata.file_path``).

Avro (the spark-avro package is not bundled with pyspark), Ion, Regex, Grok, CloudTrail
and MultiDelimit tables are read in the executors by the DuckDB engine's own readers
(``python_readers``), with the same partition values and pseudo-columns; so are text
tables with array, map or struct columns or more than one header line, and JSON tables
with the SerDe's ``mapping.*`` properties (``in_executors``). In S3 mode Spark reads
``s3a://`` (Hadoop's S3A, ``lakebox.engine.spark.s3a``); the executors' readers open
local files, so a task copies each object to a temporary file first
(``lakebox.engine.spark.s3_objects``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.engine.spark.python_readers import (
    PYTHON_READABLE,
    python_scan,
    validate,
    with_schema_literal,
)
from lakebox.engine.spark.s3_objects import ExecutorS3
from lakebox.engine.spark.s3a import spark_path
from lakebox.engine.spark.translate import spark_type
from lakebox.errors import UnsupportedError
from lakebox.formats.base import DataFile
from lakebox.formats.plugins import format_for
from lakebox.sql.plan import PSEUDO_COLUMNS, ScanSpec, partition_value, pseudo_values

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, DataFrameReader, SparkSession

    from lakebox.storage import Storage

#: the column that names a row's file, in the scan and in its table of files
FILE_COLUMN = "__lakebox_file"

#: the formats this engine reads (``lakebox.formats.plugins`` names): Spark's readers,
#: then lakebox's Python readers in the executors (``python_readers``)
READABLE = ("parquet", "orc", "text", "csv", "json", "openx-json", *PYTHON_READABLE)

_PSEUDO_TYPES: dict[str, pa.DataType] = {
    "$path": pa.string(),
    "$file_size": pa.int64(),
    "$file_modified_time": pa.timestamp("ms", tz="UTC"),
    "$partition": pa.string(),
}
assert set(_PSEUDO_TYPES) == set(PSEUDO_COLUMNS)

_SPARK_PSEUDO_TYPES = {
    "$path": "STRING",
    "$file_size": "BIGINT",
    "$file_modified_time": "TIMESTAMP_LTZ",
    "$partition": "STRING",
}

#: a NULL marker no CSV field can hold: OpenCSV has no NULLs (an empty field is '')
_NO_NULL = "\u0000lakebox-no-null\u0000"


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def check_scan(scan: ScanSpec) -> None:
    """Refuse at compile time what this engine cannot read (an UnsupportedError naming
    it), so a query fails before Spark starts any work."""
    if scan.rows is not None:
        return
    table = scan.table
    assert table is not None
    family = format_for(table).name
    if family not in READABLE:
        raise UnsupportedError(
            f"table {table.qualified_name}: the Spark engine does not read {family} tables "
            "yet (it reads Parquet, ORC, text, CSV, JSON, Avro, Ion, Regex, Grok, CloudTrail "
            "and MultiDelimit); run this query on the DuckDB engine (LAKEBOX_ENGINE=duckdb)"
        )
    if in_executors(table, family):
        validate(table)  # the DuckDB reader's checks: it reads the files in the executors


def in_executors(table: Table, family: str | None = None) -> bool:
    """Whether the table's files are read by the DuckDB engine's readers in the executors
    (``python_readers``): the formats Spark has no reader for, and what Spark's CSV and
    JSON readers cannot read as the SerDe does (array, map and struct columns of text
    tables, more than one header line, the JSON SerDe's ``mapping.*``)."""
    if family is None:
        family = format_for(table).name
    if family in PYTHON_READABLE:
        return True
    skip = table.parameters.get("skip.header.line.count", "0").strip() or "0"
    if family in ("text", "csv") and skip not in ("0", "1"):
        return True
    if family == "text" and any(_complex(c.type) for c in table.columns):
        return True
    return family == "openx-json" and any(k.startswith("mapping.") for k in table.serde_parameters)


def _complex(hive_type: str) -> bool:
    return hive_type.strip().lower().startswith(("array", "map", "struct", "uniontype"))


def scan_frame(spark: SparkSession, scan: ScanSpec, storage: Storage | None = None) -> DataFrame:
    """The scan's rows: the table's data columns, its partition keys, then the
    pseudo-columns the plan asks for (``ScanSpec.pseudo``). ``storage``: the lake's, for
    what the driver reads besides the data files (an Avro table's ``avro.schema.url``)."""
    if scan.rows is not None:
        return spark.createDataFrame(scan.rows)
    table = scan.table
    assert table is not None
    owned = [(p.values, f) for p in scan.partitions for f in p.files]
    if not owned:
        return _empty(spark, table, scan.pseudo)
    files = [f for _, f in owned]
    data = _typed_columns(spark, table, files, storage)
    keys = table.partition_keys
    if not keys and not scan.pseudo:
        return data.drop(FILE_COLUMN)
    arrays: dict[str, pa.Array] = {
        FILE_COLUMN: pa.array([_file_key(f.engine_path) for f in files], pa.string())
    }
    for i in range(len(keys)):
        arrays[f"__k{i}"] = pa.array([partition_value(v[i]) for v, _ in owned], pa.string())
    for name in scan.pseudo:
        arrays[name] = pa.array(
            [pseudo_values(table, v, f)[name] for v, f in owned], _PSEUDO_TYPES[name]
        )
    from pyspark.sql.functions import broadcast

    mapping = spark.createDataFrame(pa.table(arrays))
    if len(set(arrays[FILE_COLUMN].to_pylist())) != len(files):
        raise UnsupportedError(
            f"table {table.qualified_name}: a file is listed twice (a manifest names it "
            "twice); the Spark engine reads each file once"
        )
    joined = data.join(broadcast(mapping), FILE_COLUMN)
    columns = [quote(c.name) for c in table.columns]
    columns += [
        f"try_cast(__k{i} AS {spark_type(k.type)}) AS {quote(k.name)}" for i, k in enumerate(keys)
    ]
    columns += [quote(name) for name in scan.pseudo]
    return joined.selectExpr(*columns)


def _file_key(engine_path: str) -> str:
    """A file as the join with Spark's rows knows it: its local path, or its ``s3a://``
    URI in S3 mode."""
    return spark_path(engine_path).removeprefix("file://")


#: Spark's ``_metadata.file_path`` (``file:/a%20b/c.parquet``) as ``_file_key`` writes it:
#: percent-decoded (a '+' is a '+', not a space) and without the scheme
_SPARK_FILE_KEY = (
    "regexp_replace(url_decode(replace(_metadata.file_path, '+', '%2B')), '^file:(//)?', '')"
)


def _empty(spark: SparkSession, table: Table, pseudo: tuple[str, ...]) -> DataFrame:
    cols = [f"CAST(NULL AS {spark_type(c.type)}) AS {quote(c.name)}" for c in table.all_columns]
    cols += [f"CAST(NULL AS {_SPARK_PSEUDO_TYPES[n]}) AS {quote(n)}" for n in pseudo]
    return spark.sql(f"SELECT {', '.join(cols)} WHERE false")


def _typed_columns(
    spark: SparkSession, table: Table, files: list[DataFile], storage: Storage | None
) -> DataFrame:
    """The table's data columns, typed as it declares, and ``FILE_COLUMN``."""
    family = format_for(table).name
    if in_executors(table, family):
        if family == "avro":
            table = with_schema_literal(table, storage)
        from pyspark.sql.pandas.types import to_arrow_schema

        casts = [f"CAST(NULL AS {spark_type(c.type)}) AS {quote(c.name)}" for c in table.columns]
        struct = spark.sql(
            f"SELECT {', '.join([*casts, f'CAST(NULL AS STRING) AS {FILE_COLUMN}'])}"
        )
        target = to_arrow_schema(struct.schema, timezone="UTC", prefers_large_types=False)
        listing = [(f, _file_key(f.engine_path)) for f in files]
        s3 = ExecutorS3.for_storage(storage)
        if s3 is None and any(f.engine_path.startswith("s3://") for f in files):
            raise UnsupportedError(
                f"table {table.qualified_name}: the executors cannot reach S3 here (no lake "
                f"storage given) to read {files[0].uri}"
            )
        return python_scan(spark, table, listing, target, FILE_COLUMN, s3)
    paths = [spark_path(f.engine_path) for f in files]
    file_key = f"{_SPARK_FILE_KEY} AS {FILE_COLUMN}"
    if family in ("parquet", "orc"):
        reader = spark.read.option("mergeSchema", "true")
        raw = reader.parquet(*paths) if family == "parquet" else reader.orc(paths)
        by_name = {c.lower(): c for c in raw.columns}
        positional = family == "orc" and all(c.startswith("_col") for c in raw.columns)
        exprs = []
        for i, column in enumerate(table.columns):
            if positional:
                found = raw.columns[i] if i < len(raw.columns) else None
            else:
                found = by_name.get(column.name.lower())
            kind = spark_type(column.type)
            source = f"CAST({quote(found)} AS {kind})" if found else f"CAST(NULL AS {kind})"
            exprs.append(f"{source} AS {quote(column.name)}")
        return raw.selectExpr(*exprs, file_key)
    if family in ("text", "csv"):
        raw = _csv_reader(spark, table, family).csv(paths)
        exprs = [
            f"try_cast(_c{i} AS {spark_type(c.type)}) AS {quote(c.name)}"
            for i, c in enumerate(table.columns)
        ]
        return raw.selectExpr(*exprs, file_key)
    # JSON lines: the table's schema, a malformed line fails the query unless the SerDe
    # is told to ignore it
    schema = ", ".join(f"{quote(c.name)} {spark_type(c.type)}" for c in table.columns)
    ignore = table.serde_parameters.get("ignore.malformed.json", "false").lower() == "true"
    raw = (
        spark.read.schema(schema).option("mode", "PERMISSIVE" if ignore else "FAILFAST").json(paths)
    )
    return raw.selectExpr(*(quote(c.name) for c in table.columns), file_key)


def _csv_reader(spark: SparkSession, table: Table, family: str) -> DataFrameReader:
    """Spark's CSV reader set up as the table's SerDe reads: every column as text, by
    position (``_c0``...)."""
    params = table.serde_parameters
    schema = ", ".join(f"_c{i} STRING" for i in range(len(table.columns)))
    reader = spark.read.schema(schema).option("mode", "PERMISSIVE")
    header = table.parameters.get("skip.header.line.count", "0").strip() == "1"
    reader = reader.option("header", str(header).lower())
    if family == "csv":  # OpenCSVSerde: quoted fields, no NULLs
        return (
            reader.option("sep", params.get("separatorChar", ","))
            .option("quote", params.get("quoteChar", '"'))
            .option("escape", params.get("escapeChar", "\\"))
            .option("nullValue", _NO_NULL)
            .option("emptyValue", "")
            .option("multiLine", "true")
        )
    # LazySimpleSerDe: no quoting, an escape only when the table names one
    sep = params.get("field.delim") or params.get("serialization.format") or "\u0001"
    if sep.isdigit() and len(sep) > 1:  # Hive also takes a delimiter as its byte value
        sep = chr(int(sep))
    reader = (
        reader.option("sep", sep)
        .option("quote", "")
        .option("escape", params.get("escape.delim", "\u0000"))
        .option("nullValue", params.get("serialization.null.format", "\\N"))
        .option("emptyValue", "")
    )
    encoding = params.get("serialization.encoding")
    if encoding:
        reader = reader.option("encoding", encoding)
    return reader
