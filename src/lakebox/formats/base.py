"""What a scan reads, described without an engine: the files and the columns wanted.

Engines bind these to their own readers (``lakebox.engine.duckdb.formats`` turns them into
DuckDB SQL); a format plugin (``lakebox.formats.plugins``) says which binding a table needs.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from lakebox.catalog.model import Column, Table
from lakebox.formats import compression


class DataFile(NamedTuple):
    """One data file of a scan. ``engine_path`` is what the engine opens (local path or s3://).

    A NamedTuple: planning builds one per file, 10,000 for a small-file table, and a frozen
    dataclass costs several times more to construct."""

    uri: str
    engine_path: str
    size: int
    mtime: float
    #: inode change time of a local file (0 when unknown): part of its identity
    ctime: float = 0.0

    @property
    def codec(self) -> str | None:
        return compression.codec_for(self.uri)


@dataclass
class ReadRequest:
    table: Table
    files: list[DataFile]
    #: data columns wanted, a subset of ``table.columns`` in table order
    columns: list[Column]

    @property
    def serde_params(self) -> dict[str, str]:
        return self.table.serde_parameters

    @property
    def table_params(self) -> dict[str, str]:
        return self.table.parameters


class ScanMeter(Protocol):
    """What watches a query's reads (``lakebox.query.session.ExecutionControl``): planning
    passes over lake files run inside ``reading`` so a scan cutoff counts and stops them too."""

    cutoff_bytes: int | None

    def reading(self, nbytes: int | None = None) -> AbstractContextManager[None]: ...

    def check_stop(self) -> None: ...
