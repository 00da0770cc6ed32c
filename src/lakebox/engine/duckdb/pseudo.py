"""Athena's pseudo-columns (``"$path"`` and co., ``lakebox.sql.plan.PSEUDO_COLUMNS``) in
DuckDB SQL: their DuckDB types, a file's values as constants, and a table of every file's
values that a scan joins by file.

The values come from the planner's listing (``DataFile``: the lake URI, size and
modification time), never from DuckDB: DuckDB's ``filename`` is the engine path (a local
file in the embedded mode), only good for telling files apart.
"""

from __future__ import annotations

import pyarrow as pa

from lakebox.catalog.model import Table
from lakebox.engine.duckdb.formats.base import quote_ident, sql_string
from lakebox.formats.base import DataFile
from lakebox.sql.plan import pseudo_values

#: DuckDB's type of each pseudo-column
DUCKDB_TYPES: dict[str, str] = {
    "$path": "VARCHAR",
    "$file_size": "BIGINT",
    "$file_modified_time": "TIMESTAMPTZ",
    "$partition": "VARCHAR",
}
#: their Arrow types, for the registered table of files
ARROW_TYPES: dict[str, pa.DataType] = {
    "$path": pa.string(),
    "$file_size": pa.int64(),
    "$file_modified_time": pa.timestamp("ms", tz="UTC"),
    "$partition": pa.string(),
}


def constants(table: Table, values: list[str], f: DataFile | None, pseudo: tuple[str, ...]) -> str:
    """``, <value> AS "$path"...`` for the rows of one file (``f``) of a partition; with
    ``f`` None only ``$partition`` may be asked for (the rows of several files)."""
    if f is None:
        assert set(pseudo) <= {"$partition"}, pseudo
        f = DataFile("", "", 0, 0.0)
    found = pseudo_values(table, values, f)
    out = []
    for name in pseudo:
        value = found[name]
        if name == "$file_modified_time":
            literal = f"TIMESTAMPTZ {sql_string(str(value))}"
        elif name == "$file_size":
            literal = f"CAST({int(str(value))} AS BIGINT)"
        else:
            literal = f"CAST({sql_string(str(value))} AS VARCHAR)"
        out.append(f", {literal} AS {quote_ident(name)}")
    return "".join(out)


def columns(table: Table, values: list[str], f: DataFile, pseudo: tuple[str, ...]) -> list[object]:
    """One file's pseudo-column values, in ``pseudo`` order, for the table of files."""
    found = pseudo_values(table, values, f)
    return [found[name] for name in pseudo]


def arrays(rows: list[list[object]], pseudo: tuple[str, ...]) -> dict[str, pa.Array]:
    """The pseudo-columns of the table of files, one row per file."""
    return {
        name: pa.array([row[i] for row in rows], ARROW_TYPES[name]) for i, name in enumerate(pseudo)
    }
