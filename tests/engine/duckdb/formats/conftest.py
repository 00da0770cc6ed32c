"""Fixtures for format readers: real files in a fresh lake, read through a reader's SQL."""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cramjam
import duckdb
import pytest

from lakebox.catalog.model import Column, Table
from lakebox.engine.duckdb.formats import json as json_format
from lakebox.engine.duckdb.formats.base import DataFile, ReadContext, ReadRequest, reader_for
from lakebox.storage import Storage

BUCKET = "data"


def hadoop_snappy(data: bytes) -> bytes:
    """Hadoop's SnappyCodec block stream, as Hive / Spark write ``.snappy`` text files."""
    raw = bytes(cramjam.snappy.compress_raw(data))
    return len(data).to_bytes(4, "big") + len(raw).to_bytes(4, "big") + raw


#: codec name -> (file extension, compressor); None = uncompressed
CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "none": ("", lambda d: d),
    "gzip": (".gz", gzip.compress),
    "gzip-long-ext": (".gzip", gzip.compress),
    "bzip2": (".bz2", bz2.compress),
    "zstd": (".zst", lambda d: bytes(cramjam.zstd.compress(d))),
    "zstd-long-ext": (".zstd", lambda d: bytes(cramjam.zstd.compress(d))),
    "snappy-hadoop": (".snappy", hadoop_snappy),
    "snappy-framed": (".snappy", lambda d: bytes(cramjam.snappy.compress(d))),
    "lz4": (".lz4", lambda d: bytes(cramjam.lz4.compress(d))),
    "deflate": (".deflate", zlib.compress),
}


class Lake:
    """Writes data files under one table location and reads them through its reader."""

    def __init__(self, storage: Storage, cache_dir: Path) -> None:
        self.storage = storage
        self.cache_dir = cache_dir
        self.con = duckdb.connect()
        self._tables = 0

    def location(self, name: str) -> str:
        return f"s3://{BUCKET}/{name}/"

    def write(self, table: Table, name: str, data: bytes | str, codec: str = "none") -> str:
        raw = data.encode() if isinstance(data, str) else data
        ext, compress = CODECS[codec]
        assert table.location is not None
        uri = table.location + name + ext
        self.storage.write_bytes(uri, compress(raw))
        return uri

    def table(
        self,
        columns: list[tuple[str, str]],
        serde: str | None = None,
        serde_params: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        input_format: str | None = None,
    ) -> Table:
        self._tables += 1
        name = f"t{self._tables}"
        return Table(
            database="db",
            name=name,
            columns=[Column(n, t) for n, t in columns],
            location=self.location(name),
            serde_library=serde,
            serde_parameters=dict(serde_params or {}),
            parameters=dict(params or {}),
            input_format=input_format,
        )

    def files(self, table: Table) -> list[DataFile]:
        assert table.location is not None
        return [
            DataFile(f.uri, self.storage.engine_path(f.uri), f.size, f.mtime)
            for f in self.storage.list_files(table.location)
        ]

    def context(self) -> ReadContext:
        return ReadContext(self.storage, self.con, self.cache_dir)

    def sql(self, table: Table, columns: list[str] | None = None) -> str:
        wanted = [c for c in table.columns if columns is None or c.name in columns]
        ctx = self.context()
        return reader_for(table).scan_sql(ctx, ReadRequest(table, self.files(table), wanted))

    def read(
        self, table: Table, columns: list[str] | None = None, order: bool = True
    ) -> list[tuple[Any, ...]]:
        """The reader's rows; a read that fails on bad data raises the DataError the engine
        would (the JSON reader's errors surface only when its scan runs)."""
        sql = self.sql(table, columns)
        try:
            rows = self.con.sql(sql).fetchall()
        except duckdb.Error as err:
            named = json_format.data_error(err, self.context(), self.files(table))
            if named is not None:
                raise named from err
            raise
        return sorted(rows, key=repr) if order else rows


@pytest.fixture
def lake(storage: Storage, tmp_path: Path) -> Iterator[Lake]:
    storage.ensure_bucket(BUCKET)
    lk = Lake(storage, tmp_path / "cache")
    yield lk
    lk.con.close()
