"""Parquet (ParquetHiveSerDe): columns matched by name, case-insensitively, as Athena does;
a column missing from a file reads as NULL."""

from __future__ import annotations

from lakebox.catalog.types import duckdb_type
from lakebox.formats.base import (
    FormatReader,
    ReadContext,
    ReadRequest,
    quote_ident,
    register_reader,
    sql_list,
)

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


class ParquetReader(FormatReader):
    name = "parquet"

    def scan_sql(self, ctx: ReadContext, request: ReadRequest) -> str:
        paths = [f.engine_path for f in request.files]
        cols = ", ".join(
            f"TRY_CAST({quote_ident(c.name)} AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
            for c in request.columns) or "NULL AS __lakebox_empty"
        # union_by_name: files written at different times may hold different column sets
        return f"SELECT {cols} FROM read_parquet({sql_list(paths)}, union_by_name = true)"


register_reader(ParquetReader, serdes=(PARQUET_SERDE,), input_formats=(PARQUET_INPUT,))
