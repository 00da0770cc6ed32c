"""DuckDB SQL for a plan's scans.

A files scan is the format reader's SELECT over the scan's files with partition columns
appended (``scan_sql``), unless a scan strategy serves it faster: compacted copies
(``lakebox.engine.duckdb.compaction``) for many small files or row formats. An inline scan
is an Arrow table registered under the placeholder's name.

The pseudo-columns a scan needs (``ScanSpec.pseudo``: ``"$path"``, ``"$file_size"``...)
are each file's values, joined to the reader's rows by the file each row came from: the
reader names it when it can (``FormatReader.scan_sql_with_file``), otherwise each file is
read on its own with its values as constants.
"""

from __future__ import annotations

import pyarrow as pa

from lakebox.catalog.model import Table, partition_path
from lakebox.catalog.types import duckdb_type
from lakebox.engine.duckdb import compaction, pseudo
from lakebox.engine.duckdb.formats.base import (
    FormatReader,
    ReadContext,
    quote_ident,
    reader_for,
    sql_string,
)
from lakebox.formats.base import DataFile, ReadRequest
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
    sql = compaction.compacted_scan(ctx, table, scan.partitions, scan_sql, scan.pseudo)
    if sql is not None:
        stats.rewritten.append(table.qualified_name)
        return sql
    if reader_for(table).name in compaction.COLUMNAR_READERS:
        stats.columnar.extend(f.engine_path for f in scan.files)
    return scan_sql(ctx, table, scan.partitions, scan.pseudo)


def scan_sql(
    ctx: ReadContext,
    table: Table,
    partitions: list[PartitionFiles],
    wanted: tuple[str, ...] = (),
) -> str:
    """The table's rows with partition columns (and the pseudo-columns ``wanted``)
    appended. Several partitions whose files lie in their Hive folders are read in one scan
    that takes the values from the paths (DuckDB's Hive partitioning); otherwise one scan
    over every file when the reader can name each row's file (values joined by file), else
    one SELECT per partition with the values as constants (per file, when a pseudo-column
    differs between files)."""
    parts: list[str] = []
    data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
    reader = reader_for(table)
    with_files = [p for p in partitions if p.files]
    per_file = bool(set(wanted) - {"$partition"})
    if len(with_files) > 1 and not per_file:
        by_folder = _scan_by_folder(ctx, table, reader, with_files, wanted)
        if by_folder is not None:
            return by_folder
    if len(with_files) > 1 or (per_file and with_files):
        joined = _scan_by_file(ctx, table, reader, with_files, wanted)
        if joined is not None:
            return joined
    for part in partitions:
        if not part.files:
            continue
        scan = reader.scan_sql(ctx, ReadRequest(table, part.files, table.columns))
        consts = partition_constants(table, part.values) + pseudo.constants(
            table, part.values, None, wanted
        )
        if not consts and len(partitions) == 1:
            parts.append(scan)  # the reader yields exactly the table's columns
        else:
            parts.append(f"SELECT {data_cols}{consts} FROM ({scan})")
    if not parts:
        cols = ", ".join(
            [
                *(
                    f"CAST(NULL AS {duckdb_type(c.type)}) AS {quote_ident(c.name)}"
                    for c in table.all_columns
                ),
                *(f"CAST(NULL AS {pseudo.DUCKDB_TYPES[n]}) AS {quote_ident(n)}" for n in wanted),
            ]
        )
        return f"SELECT {cols} WHERE false"
    return "\nUNION ALL BY NAME\n".join(parts) if len(parts) > 1 else parts[0]


def partition_constants(table: Table, values: list[str]) -> str:
    """``, <value> AS key...``: one partition's key values, typed as the keys declare."""
    return "".join(
        f", TRY_CAST({_literal(v)} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
        if v != HIVE_DEFAULT_PARTITION
        else f", CAST(NULL AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
        for k, v in zip(table.partition_keys, values, strict=True)
    )


def _scan_by_folder(
    ctx: ReadContext,
    table: Table,
    reader: FormatReader,
    partitions: list[PartitionFiles],
    wanted: tuple[str, ...],
) -> str | None:
    """The partitions whose files lie in their Hive folders, in one scan whose key columns
    come from the paths (DuckDB reads them as constants per file, typed here as the keys
    declare: a value that does not convert is NULL), the others read as ``scan_sql`` reads
    them; None when no partition qualifies or the reader cannot. ``wanted`` holds at most
    ``$partition``, which for these partitions is their folders' names."""
    keys = table.partition_keys
    if {k.name.lower() for k in keys} & {c.name.lower() for c in table.columns}:
        return None  # a file column would be shadowed by the folder's value
    inside = [_in_hive_folders(table, p) for p in partitions]
    if not any(inside):
        return None
    files = [f for p, ok in zip(partitions, inside, strict=True) if ok for f in p.files]
    names = [k.name for k in keys]
    scan = reader.scan_sql_with_hive_keys(ctx, ReadRequest(table, files, table.columns), names)
    if scan is None:
        return None
    data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
    typed = "".join(
        f", TRY_CAST({quote_ident(k.name)} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
        for k in keys
    )
    if "$partition" in wanted:
        # the folders need no escaping (``_in_hive_folders``): their names are the values
        name = " || '/' || ".join(f"{sql_string(k + '=')} || {quote_ident(k)}" for k in names)
        typed += f", CAST({name} AS VARCHAR) AS {quote_ident('$partition')}"
    sql = f"SELECT {data_cols}{typed} FROM ({scan})"
    rest = [p for p, ok in zip(partitions, inside, strict=True) if not ok]
    if not rest:
        return sql
    other = scan_sql(ctx, table, rest, wanted)
    return f"SELECT * FROM ({sql})\nUNION ALL BY NAME\nSELECT * FROM ({other})"


def _in_hive_folders(table: Table, part: PartitionFiles) -> bool:
    """Whether DuckDB's Hive partitioning reads exactly the partition's values from the
    paths of its files: every file's ``key=value`` folders are the keys in order with the
    values as written (no value Hive escapes, which DuckDB would decode; not the default
    partition, nor NULL, which DuckDB may read as NULL), and no other folder of its path
    holds a ``=``."""
    values = part.values
    if any(v == HIVE_DEFAULT_PARTITION or v.upper() == "NULL" for v in values):
        return False
    folders = [f"{k.name}={v}" for k, v in zip(table.partition_keys, values, strict=True)]
    if partition_path(table.partition_keys, values) != "".join(f"{f}/" for f in folders):
        return False
    return all([s for s in f.engine_path.split("/") if "=" in s] == folders for f in part.files)


def _scan_by_file(
    ctx: ReadContext,
    table: Table,
    reader: FormatReader,
    partitions: list[PartitionFiles],
    wanted: tuple[str, ...],
) -> str | None:
    """Every file in one scan, partition values and pseudo-columns joined by file; None
    when the reader cannot name each row's file (and no pseudo-column needs it)."""
    files = [f for p in partitions for f in p.files]
    owner: list[list[str]] = [p.values for p in partitions for _ in p.files]
    found = reader.scan_sql_with_file(ctx, ReadRequest(table, files, table.columns), FILE_COLUMN)
    if found is not None and len(set(found[1])) != len(files):
        found = None  # a file listed twice (manifests): its rows would be joined twice
    if found is None:
        if not wanted:
            return None
        found = _each_file(ctx, table, reader, files)
    scan, opened = found
    arrays = {FILE_COLUMN: pa.array(opened, pa.string())}
    for i in range(len(table.partition_keys)):
        arrays[f"__k{i}"] = pa.array([_value(values[i]) for values in owner], pa.string())
    rows = [pseudo.columns(table, v, f, wanted) for v, f in zip(owner, files, strict=True)]
    arrays.update(pseudo.arrays(rows, wanted))
    mapping = ctx.register(pa.table(arrays), "files")
    data_cols = ", ".join(f"s.{quote_ident(c.name)}" for c in table.columns)
    keys = "".join(
        f", TRY_CAST(p.__k{i} AS {duckdb_type(k.type)}) AS {quote_ident(k.name)}"
        for i, k in enumerate(table.partition_keys)
    )
    keys += "".join(f", p.{quote_ident(n)}" for n in wanted)
    return (
        f"SELECT {data_cols}{keys} FROM ({scan}) AS s "
        f"JOIN {mapping} AS p ON s.{FILE_COLUMN} = p.{FILE_COLUMN}"
    )


def _each_file(
    ctx: ReadContext, table: Table, reader: FormatReader, files: list[DataFile]
) -> tuple[str, list[str]]:
    """Each file read on its own, its rows tagged with its position: for readers that
    cannot name a row's file."""
    data_cols = ", ".join(quote_ident(c.name) for c in table.columns)
    scans = [
        f"SELECT {data_cols}, '{i}' AS {FILE_COLUMN} "
        f"FROM ({reader.scan_sql(ctx, ReadRequest(table, [f], table.columns))})"
        for i, f in enumerate(files)
    ]
    return "\nUNION ALL\n".join(scans), [str(i) for i in range(len(files))]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
