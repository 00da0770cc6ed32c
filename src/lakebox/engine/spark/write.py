"""Spark's side of CTAS, INSERT INTO and UNLOAD: one pass of Spark's partitioned writer
over the planned query writes the rows into staging, in the executors, a file per Spark
task and partition (each partition's rows are first gathered into one task, so a partition
gets one file, as on the DuckDB engine).

The partition values are Spark's text of each value (``CAST(... AS STRING)``, the empty
string and NULL both Hive's default partition), read back from the folder names Spark
gave (Hive's escaping, decoded exactly). The rows written are counted from the files'
footers. The writers (``lakebox.query.writers``) name and move the files and keep the
commit protocol, as for any engine.

Written here: Parquet and ORC. Not yet: bucketed tables, and the text, CSV, JSON, Avro and
Ion formats (an UnsupportedError says so before anything is written).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa

from lakebox.catalog.model import HIVE_DEFAULT_PARTITION, Column
from lakebox.catalog.types import athena_type_from_arrow
from lakebox.engine.base import SourceColumns, Staged, StagedFile
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
        if family not in _CODECS:
            raise UnsupportedError(
                f"the Spark engine does not write {target.spec.format} yet (it writes PARQUET "
                "and ORC); run this statement on the DuckDB engine (LAKEBOX_ENGINE=duckdb)"
            )
        if target.codec not in _CODECS[family]:
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

    def _rows_in(self, uri: str) -> int:
        data = self.storage.read_bytes(uri)
        if self.target.fmt.name == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(io.BytesIO(data)).metadata.num_rows)
        from pyarrow import orc

        return int(orc.ORCFile(io.BytesIO(data)).nrows)


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
