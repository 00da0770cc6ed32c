"""Spark's side of CTAS, INSERT INTO and UNLOAD: one pass of Spark's partitioned writer
over the planned query writes the rows into staging, in the executors, a file per Spark
task and partition (each partition's rows are first gathered into one task, so a partition
gets one file, as on the DuckDB engine).

The partition values are Spark's text of each value (``CAST(... AS STRING)``, the empty
string and NULL both Hive's default partition), read back from the folder names Spark
gave (Hive's escaping, decoded exactly). The rows written are counted from the files'
footers. The writers (``lakebox.query.writers``) name and move the files and keep the
commit protocol, as for any engine.

Parquet and ORC are written by Spark's own writers. TEXTFILE (LazySimpleSerDe), CSV
(OpenCSVSerde), JSON, Avro and Ion are written in the executors by the DuckDB engine's own
writers (``lakebox.engine.duckdb.standalone``, through ``mapInArrow``): Spark's text, CSV
and JSON writers cannot write these SerDes' exact text (Hive's ``\\N`` NULL marker and
separators by nesting level, OpenCSV's quoting of every value, DuckDB's JSON spelling of
decimals, timestamps and nested values), and pyspark bundles no Avro or Ion writer. The
rows are gathered by partition into tasks and sorted by it within each task, and each run
of one partition is written as one file into staging; the files hold what the DuckDB
engine writes for the same rows. In S3 mode each file is written to a local temporary
file and uploaded to its staging key (``lakebox.engine.spark.s3_objects``), where the
commit moves it as it moves Spark's own files. Not yet: bucketed tables.
"""

from __future__ import annotations

import io
import itertools
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa

from lakebox.catalog.model import HIVE_DEFAULT_PARTITION, Column
from lakebox.catalog.types import athena_type_from_arrow
from lakebox.engine.base import SourceColumns, Staged, StagedFile
from lakebox.engine.spark.s3_objects import ExecutorS3
from lakebox.engine.spark.s3a import spark_path
from lakebox.engine.spark.scans import quote
from lakebox.engine.spark.translate import spark_type
from lakebox.errors import UnsupportedError
from lakebox.formats.writing import WriteTarget, check_partition_count
from lakebox.storage import Storage

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: Spark's codec names for lakebox's (``WriteTarget.codec``), per format
_CODECS = {
    "parquet": {"snappy": "snappy", "gzip": "gzip", "zstd": "zstd", "uncompressed": "none"},
    "orc": {
        "snappy": "snappy",
        "zlib": "zlib",
        "zstd": "zstd",
        "lz4": "lz4",
        "uncompressed": "none",
    },
}
#: the formats written by the DuckDB engine's writers in the executors
_PYTHON_WRITTEN = ("text", "csv", "json", "avro", "ion")
_KEY_PREFIX = "__lakebox_key"
_PASS_FOLDER = "pass/"


class SparkWrite:
    """A planned query's rows written into staging by Spark (``TableWrite``)."""

    def __init__(
        self,
        frame: Callable[[], DataFrame],
        running: Callable[[], Any],
        storage: Storage,
        target: WriteTarget,
    ) -> None:
        #: the planned query's rows (made when first asked: it registers the scans)
        self._frame = frame
        #: a context manager the write's Spark work runs in (the statement's job group
        #: and the watch's reading)
        self._running = running
        self.storage = storage
        self.target = target
        self.avro_schema: dict[str, Any] | None = None
        self._selected: DataFrame | None = None
        family = target.fmt.name
        if family not in _CODECS and family not in _PYTHON_WRITTEN:
            raise UnsupportedError(
                f"the Spark engine does not write {target.spec.format} yet (it writes PARQUET, "
                "ORC, TEXTFILE, CSV, JSON, AVRO and ION); run this statement on the DuckDB "
                "engine (LAKEBOX_ENGINE=duckdb)"
            )
        if family in _CODECS and target.codec not in _CODECS[family]:
            raise UnsupportedError(
                f"the Spark engine does not write {target.spec.format} with {target.compression}"
            )
        if target.bucket_count:
            raise UnsupportedError("the Spark engine does not write bucketed tables yet")

    def source(self) -> SourceColumns:
        """The planned query's columns (no data read: Spark plans the query only)."""
        frame = self._frame()
        schema = _arrow_schema(frame)
        return SourceColumns(
            list(frame.columns),
            [athena_type_from_arrow(f.type) for f in schema],
            [f.dataType.simpleString() for f in frame.schema.fields],
        )

    def select_as(
        self, source: SourceColumns, out_names: list[str], no_data: bool = False
    ) -> pa.Schema:
        """Write the query with its columns renamed to ``out_names`` (CTAS, UNLOAD)."""
        selected = self._frame().toDF(*out_names)
        if no_data:
            selected = selected.limit(0)
        self._selected = selected
        return _arrow_schema(selected)

    def select_into(self, columns: list[Column], positions: dict[str, int]) -> None:
        """Write the query as the table's ``columns`` (INSERT INTO): column ``c`` takes the
        query's column ``positions[c]``, the others NULL, each cast to its Hive type."""
        frame = self._frame()
        aliases = [f"c{i}" for i in range(len(frame.columns))]
        renamed = frame.toDF(*aliases)
        self._selected = renamed.selectExpr(
            *(
                f"CAST({aliases[positions[c.name]] if c.name in positions else 'NULL'} "
                f"AS {spark_type(c.type)}) AS {quote(c.name)}"
                for c in columns
            )
        )

    def write(self, staging: str, columns: list[Column], partition_cols: list[str]) -> Staged:
        assert self._selected is not None, "select_as or select_into says what to write"
        keys = [f"{_KEY_PREFIX}{i}" for i in range(len(partition_cols))]
        rows = self._selected.selectExpr(
            *(quote(c.name) for c in columns),
            *(
                f"NULLIF(CAST({quote(p)} AS STRING), '') AS {k}"
                for p, k in zip(partition_cols, keys, strict=True)
            ),
        )
        folder = staging + _PASS_FOLDER
        family = self.target.fmt.name
        if family in _PYTHON_WRITTEN:
            return self._python_write(rows, folder, columns, keys)
        writer = (rows.repartition(*keys) if keys else rows).write.mode("overwrite")
        writer = writer.option("compression", _CODECS[family][self.target.codec])
        if keys:
            writer = writer.partitionBy(*keys)
        with self._running():
            writer.format(family).save(spark_path(self.storage.engine_path(folder)))
        files: list[StagedFile] = []
        total = 0
        for f in self.storage.list_files(folder, include_hidden=True):
            name = f.uri.rsplit("/", 1)[-1]
            if name.startswith((".", "_")):
                continue  # Spark's checksums and _SUCCESS marker
            values = _values(f.uri[len(folder) :], keys)
            total += self._rows_in(f.uri)
            files.append(StagedFile(f.uri, values, None))
        check_partition_count(len({f.values for f in files}))
        return Staged(total, files)

    def _python_write(
        self, rows: DataFrame, folder: str, columns: list[Column], keys: list[str]
    ) -> Staged:
        """The rows written by the DuckDB engine's writers in the executors: a file per
        run of one partition in a task (the rows of a partition are gathered into one
        task and sorted by partition there), named by the task; one empty file when a
        write without partitions has no rows, as the DuckDB engine writes it."""
        from pyspark.sql.pandas.types import from_arrow_schema

        from lakebox.engine.duckdb.standalone import write_file

        self.storage.makedirs(folder)
        local = self.storage.engine_path(folder)
        spec = self.target.spec
        extension = spec.extension + spec.codec_extensions.get(self.target.codec, "")
        s3 = ExecutorS3.for_storage(self.storage)
        encode = _encoder(self.target, columns, len(keys), local, extension, self.avro_schema, s3)
        written = pa.schema(
            [("name", pa.string()), ("rows", pa.int64())] + [(k, pa.string()) for k in keys]
        )
        spread = rows.repartition(*keys).sortWithinPartitions(*keys) if keys else rows
        with self._running(), warnings.catch_warnings():
            # pyspark checks the installed pandas (lakebox does not use it) and warns
            warnings.simplefilter("ignore", FutureWarning)
            result = spread.mapInArrow(encode, from_arrow_schema(written)).toArrow()
        files: list[StagedFile] = []
        for entry in result.to_pylist():
            values = tuple(entry[k] for k in keys)
            files.append(StagedFile(folder + entry["name"], values, None))
        total = sum(int(n) for n in result.column("rows").to_pylist())
        if not files and not keys:
            name = f"part-empty{extension}"
            with _written(_in(local, name), s3) as path:
                write_file(path, self.target, columns, iter(()), self.avro_schema)
            files.append(StagedFile(folder + name, (), None))
        check_partition_count(len({f.values for f in files}))
        return Staged(total, files)

    def _rows_in(self, uri: str) -> int:
        data = self.storage.read_bytes(uri)
        if self.target.fmt.name == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
        from pyarrow import orc

        return int(orc.ORCFile(io.BytesIO(data)).nrows)


def _encoder(
    target: WriteTarget,
    columns: list[Column],
    key_count: int,
    folder: str,
    extension: str,
    avro: dict[str, Any] | None,
    s3: ExecutorS3 | None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The executors' function: a task's rows (data columns, then the partition keys,
    sorted by them) written as a file per partition into ``folder`` (an engine path:
    ``s3://`` in S3 mode, each file then uploaded from a local temporary one); yields each
    file's name, rows and partition values."""
    width = len(columns)

    def encode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        from lakebox.engine.duckdb.standalone import write_file

        context = TaskContext.get()
        task = context.partitionId() if context is not None else 0
        runs = itertools.groupby(_runs(batches, width, key_count), key=itemgetter(0))
        for index, (key, group) in enumerate(runs):
            name = f"part-{task:05d}-{index:05d}{extension}"
            with _written(_in(folder, name), s3) as path:
                count = write_file(path, target, columns, (b for _, b in group), avro)
            arrays = [pa.array([name]), pa.array([count], pa.int64())]
            arrays += [pa.array([v], pa.string()) for v in key]
            names = ["name", "rows"] + [f"{_KEY_PREFIX}{i}" for i in range(key_count)]
            yield pa.RecordBatch.from_arrays(arrays, names=names)

    return encode


def _in(folder: str, name: str) -> str:
    return (
        folder.rstrip("/") + "/" + name
        if folder.startswith("s3://")
        else os.path.join(folder, name)
    )


@contextmanager
def _written(path: str, s3: ExecutorS3 | None) -> Iterator[str]:
    """Where to write the file at ``path``: the local path itself, or for ``s3://`` a
    local temporary file, uploaded there when the block ends and then deleted."""
    if not path.startswith("s3://"):
        yield path
        return
    if s3 is None:
        raise UnsupportedError(f"cannot write {path}: the executors are not given the lake's S3")
    with tempfile.TemporaryDirectory(prefix="lakebox-s3-write-") as folder:
        local = os.path.join(folder, path.rsplit("/", 1)[-1])
        yield local
        s3.upload(s3.client(), local, path)


def _runs(
    batches: Iterator[pa.RecordBatch], width: int, key_count: int
) -> Iterator[tuple[tuple[str | None, ...], pa.RecordBatch]]:
    """The data columns of a task's rows, in runs of one partition: (values, batch)."""
    for batch in batches:
        data = batch.select(list(range(width)))
        if not key_count:
            yield (), data
            continue
        keys = list(
            zip(*(batch.column(width + i).to_pylist() for i in range(key_count)), strict=True)
        )
        start = 0
        for end in range(1, len(keys) + 1):
            if end == len(keys) or keys[end] != keys[start]:
                yield keys[start], data.slice(start, end - start)
                start = end


def _values(relative: str, keys: list[str]) -> tuple[str | None, ...]:
    """A staged file's partition values from its folders (``__lakebox_key0=<escaped>/``)."""
    found: dict[str, str | None] = {}
    for part in relative.split("/")[:-1]:
        name, sep, value = part.partition("=")
        if sep and name in keys:
            text = unquote(value)
            found[name] = None if text == HIVE_DEFAULT_PARTITION else text
    return tuple(found.get(k) for k in keys)


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    """The frame's columns as Arrow types, without running it."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema, prefers_large_types=False)
