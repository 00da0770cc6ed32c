"""Shared helpers for the binary format tests: build a table over files the test wrote and
run its reader's scan through a real DuckDB connection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lakebox.catalog.model import Column, Table
from lakebox.catalog.types import duckdb_type
from lakebox.engine.duckdb.formats.base import DataFile, ReadContext, ReadRequest, reader_for
from lakebox.storage import Storage

LOCATION = "s3://lake/tbl/"


def make_table(
    columns: list[tuple[str, str]],
    serde: str | None = None,
    input_format: str | None = None,
    serde_params: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    location: str = LOCATION,
) -> Table:
    return Table(
        database="db",
        name="tbl",
        columns=[Column(n, t) for n, t in columns],
        location=location,
        serde_library=serde,
        input_format=input_format,
        serde_parameters=serde_params or {},
        parameters=params or {},
    )


def local_path(storage: Storage, uri: str) -> Path:
    path = storage.local_path(uri)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class ScanResult:
    sql: str
    table: pa.Table
    duck_types: list[str]
    #: DuckDB's physical plan, to check what was pushed into the scan
    plan: str

    def rows(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    def column(self, name: str) -> list[Any]:
        return self.table.column(name).to_pylist()


def scan(
    storage: Storage,
    tmp_path: Path,
    table: Table,
    columns: list[str] | None = None,
    where: str | None = None,
    setup: str | None = None,
    known_mtime: bool = True,
) -> ScanResult:
    """Validate the table, plan its scan over every file under its location and run it;
    checks the result has exactly the requested columns with their declared types."""
    reader = reader_for(table)
    reader.validate(table)
    assert table.location is not None
    files = [
        DataFile(f.uri, storage.engine_path(f.uri), f.size, f.mtime if known_mtime else 0.0)
        for f in storage.list_files(table.location)
    ]
    wanted = [c for c in table.columns if columns is None or c.name in columns]
    request = ReadRequest(table=table, files=files, columns=wanted)
    ctx = ReadContext(storage, duckdb.connect(), tmp_path / "cache")
    if setup:
        ctx.con.execute(setup)
    try:
        sql = reader.scan_sql(ctx, request)
        query = f"SELECT * FROM ({sql}) AS t" + (f" WHERE {where}" if where else "")
        described = ctx.con.sql(f"DESCRIBE {query}").fetchall()
        if not wanted:  # a count(*) scan: one placeholder column, rows still counted
            described = []
        assert [r[0] for r in described] == [c.name for c in wanted]
        duck_types = [str(r[1]) for r in described]
        expected = [duckdb_type(c.type).replace('"', "") for c in wanted]
        assert [t.replace('"', "") for t in duck_types] == expected, duck_types
        plan = "\n".join(str(r[1]) for r in ctx.con.sql(f"EXPLAIN {query}").fetchall())
        result = ctx.con.sql(query).to_arrow_table()
    finally:
        ctx.release()
        ctx.con.close()
    return ScanResult(sql, result, duck_types, plan)


def _zigzag(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def enable_avro_zstd_writer() -> None:
    """fastavro writes zstandard blocks only with an optional package; test files are
    written with cramjam instead (the reader under test never uses this)."""
    import cramjam
    import fastavro._write as avro_write  # type: ignore[import-not-found]

    def zstd_block(fo: Any, block: bytes, level: int | None) -> None:
        data = bytes(cramjam.zstd.compress(block))
        fo.write(_zigzag(len(data)))
        fo.write(data)

    avro_write.BLOCK_WRITERS["zstandard"] = zstd_block
