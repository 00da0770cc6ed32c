"""DuckDB SQL for a plan's scans.

A files scan is the format reader's SELECT over the scan's files with partition columns
appended (``scan_sql``), unless a scan strategy serves it faster: compacted copies
(``lakebox.engine.duckdb.compaction``) for many small files or row formats. An inline scan
is an Arrow table registered under the placeholder's name.
"""

from __future__ import annotations

import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.catalog.types import duckdb_type
from lakebox.engine.duckdb import compaction
from lakebox.engine.duckdb.formats.base import FormatReader, ReadContext, quote_ident, reader_for
from lakebox.formats.base import ReadRequest
from lakebox.sql.plan import HIVE_DEFAULT_PARTITION, PartitionFiles, ScanSpec, ScanStats
from lakebox.sql.plan import partition_value as _value

FILE_COLUMN = "__lakebox_file"


def compile_scan(ctx: ReadContext, scan: ScanSpec, stats: ScanStats) -> str | None:
    """The SQL of a files scan (None for an inline scan, registered under its name); notes
    in ``stats`` a scan served from copies and the columnar files read as they are."""
    if scan.rows is not None:
        ctx.register_as(scan.name, scan.rows)
        return None
    table = scan.table
    assert table is not None
    sql = compaction.compacted_scan(ctx, table, scan.partitions, scan_sql)
    if sql is not None:
        stats.rewritten.append(table.qualified_name)
        return sql
    if reader_for(table).name in compaction.COLUMNAR_READERS:
        stats.columnar.extend(f.engine_path for f in scan.files)
    return scan_sql(ctx, table, scan.partitions)


def scan_sql(ctx: ReadContext, table: Table, partitions: list[PartitionFiles]) -> str:
    """The table's rows with partition columns appended: one scan over every file when
    the reader can name each row's file (partition values joined by file), otherwise one
    SELECT per partition with the values as constants."""
    parts: list[str] = []
    data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
    reader = reader_for(table)
    with_files = [p for p in partitions if p.files]
    if len(with_files) > 1:
        joined = _scan_by_file(ctx, table, reader, with_files)
        if joined is not None:
            return joined
    for part in partitions:
        if not part.files:
            continue
        scan = reader.scan_sql(ctx, ReadRequest(table, part.files, table.columns))
        consts = "".join(
            f", TRY_CAST({_literal(v)} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
            if v != HIVE_DEFAULT_PARTITION
            else f", CAST(NULL AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
            for k, v in zip(table.partition_keys, part.values, strict=True)
        )
        if not consts and len(partitions) == 1:
            parts.append(scan)  # the reader yields exactly the table's columns
        else:
            parts.append(f"SELECT {data_cols}{consts} FROM ({scan})")
    if not parts:
        cols = ", ".join(
            f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
            for c in table.all_columns
        )
        return f"SELECT {cols} WHERE false"
    return "\nUNION ALL BY NAME\n".join(parts) if len(parts) > 1 else parts[0]


def _scan_by_file(
    ctx: ReadContext, table: Table, reader: FormatReader, partitions: list[PartitionFiles]
) -> str | None:
    files = [f for p in partitions for f in p.files]
    found = reader.scan_sql_with_file(ctx, ReadRequest(table, files, table.columns), FILE_COLUMN)
    if found is None:
        return None
    scan, opened = found
    owner: list[list[str]] = [p.values for p in partitions for _ in p.files]
    arrays = {FILE_COLUMN: pa.array(opened, pa.string())}
    for i in range(len(table.partition_keys)):
        arrays[f"__k{i}"] = pa.array([_value(values[i]) for values in owner], pa.string())
    mapping = ctx.register(pa.table(arrays), "files")
    data_cols = ", ".join(f"s.{quote_ident(c.name)}" for c in table.columns)
    keys = "".join(
        f", TRY_CAST(p.__k{i} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
        for i, k in enumerate(table.partition_keys)
    )
    return (
        f"SELECT {data_cols}{keys} FROM ({scan}) AS s "
        f"JOIN {mapping} AS p ON s.{FILE_COLUMN} = p.{FILE_COLUMN}"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
