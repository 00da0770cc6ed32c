"""ORC (OrcSerde / OrcInputFormat) with Athena's semantics.

DuckDB has no ORC reader on this machine, so files are read through pyarrow's dataset API:
the dataset is registered on the query's connection and DuckDB's Arrow scan pushes the
projection and filters into it, streaming record batches instead of materialising the
table. Files are opened through the lake's fsspec filesystem, so S3 mode works too.

Athena reads ORC columns by index by default (AWS "Handling schema updates": "By default,
Parquet will access columns by name and ORC by index"; Trino's hive.orc.use-column-names
is false): the n-th table column reads the n-th file column, which is what Hive's
``_col0``, ``_col1``, ... files need. With ``orc.column.index.access`` = false columns are
matched by name, case-insensitively. Files of one table may have different schemas; they
are grouped by schema and each group gets its own column mapping.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.orc as orc
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem
from pyarrow import fs as pafs

from lakebox.catalog.model import Table
from lakebox.engine.duckdb.formats.base import (
    DataFile,
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
)
from lakebox.engine.duckdb.formats.parquet import empty_scan, non_empty, select_list
from lakebox.errors import DataError, InvalidRequestError

INDEX_ACCESS = "orc.column.index.access"


def arrow_filesystem(fs: AbstractFileSystem) -> pafs.FileSystem:
    """pyarrow's own local filesystem for local files (faster), an fsspec wrapper otherwise."""
    if isinstance(fs, LocalFileSystem):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def orc_schema(filesystem: pafs.FileSystem, path: str, uri: str) -> pa.Schema:
    try:
        with filesystem.open_input_file(path) as fh:
            return orc.ORCFile(fh).schema
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"not a readable ORC file ({err})", uri) from err


class OrcReader(FormatReader):
    name = "orc"

    def validate(self, table: Table) -> None:
        for params in (table.serde_parameters, table.parameters):
            value = params.get(INDEX_ACCESS)
            if value is not None and value.lower() not in ("true", "false"):
                raise InvalidRequestError(
                    f"table {table.qualified_name}: {INDEX_ACCESS} must be true or false, "
                    f"not {value!r}"
                )

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        by_index = (
            request.serde_params.get(
                INDEX_ACCESS, request.table_params.get(INDEX_ACCESS, "true")
            ).lower()
            == "true"
        )
        files = non_empty(request.files)
        if not files:
            return empty_scan(request.columns)
        groups: dict[tuple[int, pa.Schema], tuple[pafs.FileSystem, list[str]]] = {}
        filesystems: dict[int, pafs.FileSystem] = {}
        for f in files:
            filesystem, path = self._locate(ctx, f, filesystems)
            schema = orc_schema(filesystem, path, f.uri)
            groups.setdefault((id(filesystem), schema), (filesystem, []))[1].append(path)
        selects = []
        for (_, schema), (filesystem, paths) in groups.items():
            dataset = ds.dataset(paths, schema=schema, format="orc", filesystem=filesystem)
            name = ctx.register(dataset, "orc")
            selects.append(self._select(ctx, request, name, by_index))
        return " UNION ALL ".join(selects)

    @staticmethod
    def _locate(
        ctx: ReadContext, f: DataFile, cache: dict[int, pafs.FileSystem]
    ) -> tuple[pafs.FileSystem, str]:
        fs, path = ctx.storage.fs_for(f.uri)
        if id(fs) not in cache:
            cache[id(fs)] = arrow_filesystem(fs)
        return cache[id(fs)], path

    @staticmethod
    def _select(ctx: ReadContext, request: ReadRequest, name: str, by_index: bool) -> str:
        described = ctx.con.sql(f"DESCRIBE SELECT * FROM {quote_ident(name)}").fetchall()
        file_cols = [(str(r[0]), str(r[1])) for r in described]
        return f"SELECT {select_list(file_cols, request, by_index)} FROM {quote_ident(name)}"
