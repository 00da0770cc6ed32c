"""The engine-neutral plan of a query: what the planner hands an engine.

A ``Plan`` is the resolved Athena AST (views expanded) in which every table the query reads
is replaced by a named placeholder, plus one ``ScanSpec`` per placeholder saying what to
read there: a catalog table's surviving partitions with their files and sizes, the columns
needed, the format (the table's SerDe, input format and their parameters) and the leftover
partition filter; or, for ``information_schema``, the rows themselves (an Arrow table). An
engine (``lakebox.engine.base.Engine``) compiles it and runs it; the planner knows nothing
of any engine beyond ``PartitionFilter``.

Every scan of a catalog table also offers Athena's hidden pseudo-columns (``PSEUDO_COLUMNS``):
the plan names those a query reads (``ScanSpec.pseudo``) and says what each takes for a
file (``pseudo_values``); the engine supplies them next to the data columns.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa
from sqlglot import exp

from lakebox.catalog.model import Column, Table, partition_path
from lakebox.formats.base import DataFile
from lakebox.storage.watch import derived


@dataclass
class ScanStats:
    """What a query read: files opened and their bytes, per table."""

    files: int = 0
    bytes: int = 0
    partitions: int = 0
    tables: list[str] = field(default_factory=list)
    file_uris: list[str] = field(default_factory=list)
    data_files: list[DataFile] = field(default_factory=list, repr=False)
    #: tables whose scan the engine served another way (e.g. from a compacted copy)
    rewritten: list[str] = field(default_factory=list)
    #: engine paths of columnar files (Parquet, ORC) read as they are: their bytes are
    #: counted from the engine's file reads while it runs (its progress is per file)
    columnar: list[str] = field(default_factory=list)

    def add(self, table: str, files: list[DataFile], partitions: int, size: int) -> None:
        self.tables.append(table)
        self.files += len(files)
        self.bytes += size
        self.partitions += partitions
        self.file_uris.extend(f.uri for f in files)
        self.data_files.extend(files)

    def copy(self) -> ScanStats:
        """An independent copy (a cached plan hands one to every run)."""
        return ScanStats(
            self.files,
            self.bytes,
            self.partitions,
            list(self.tables),
            list(self.file_uris),
            list(self.data_files),
            list(self.rewritten),
            list(self.columnar),
        )


@dataclass
class PartitionFiles:
    values: list[str]
    #: shared with other plans of the same listing: never mutate
    files: list[DataFile]
    #: the listing version these files come from (``lakebox.storage.watch``), None when
    #: the listing is not kept current; lets callers remember what they derive from it
    version: int | None = None
    #: where the partition's files were listed (None for files named by manifests)
    location: str | None = None
    #: the files are only those of the listing a filter on pseudo-columns kept
    subset: bool = False

    @property
    def total_size(self) -> int:
        return derived(self.version, "size", lambda: sum(f.size for f in self.files))


@dataclass(frozen=True)
class ListingDependency:
    """A plan read this listing; the plan is current while the listing's version is."""

    location: str
    version: int


@dataclass
class ScanSpec:
    """One placeholder of a plan and what an engine reads there.

    A "files" scan reads ``partitions`` of the catalog ``table`` (partition values
    appended as columns, typed as the keys declare); an "inline" scan reads ``rows``."""

    #: the placeholder's table name in ``Plan.tree``
    name: str
    table: Table | None = None
    partitions: list[PartitionFiles] = field(default_factory=list)
    #: data columns the query needs (today every data column, in table order)
    columns: list[Column] = field(default_factory=list)
    #: the partition predicate implied by the query (already applied to ``partitions``);
    #: an engine may apply it again, it never changes the rows
    predicate: exp.Expression | None = None
    #: the rows of an inline scan (``information_schema``)
    rows: pa.Table | None = None
    #: the pseudo-columns the query reads from this scan, in ``PSEUDO_COLUMNS`` order
    pseudo: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "inline" if self.rows is not None else "files"

    @property
    def files(self) -> list[DataFile]:
        parts = self.partitions
        return parts[0].files if len(parts) == 1 else [f for p in parts for f in p.files]

    @property
    def serde(self) -> str | None:
        return self.table.serde_library if self.table is not None else None

    @property
    def input_format(self) -> str | None:
        return self.table.input_format if self.table is not None else None

    @property
    def serde_parameters(self) -> dict[str, str]:
        return dict(self.table.serde_parameters) if self.table is not None else {}


@dataclass
class Plan:
    """A resolved query over named scans, and what it depends on."""

    #: the query with catalog tables replaced by scan placeholders
    tree: exp.Expression
    scans: list[ScanSpec]
    stats: ScanStats
    #: placeholder -> {column: Hive type} of every files scan (type-dependent translation)
    schema: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what the plan depends on beyond the statement and the catalog; ``reusable`` is
    #: false when it depends on something nobody can check cheaply (an S3 listing, the
    #: clock of partition projection, information_schema)
    listings: list[ListingDependency] = field(default_factory=list)
    reusable: bool = False
    #: what ``tree`` is a function of (statement text, database, catalog generation, scan
    #: columns, principal and policy version), so an engine can keep its translation of
    #: it; None when the tree cannot be reused (information_schema)
    key: tuple[object, ...] | None = None

    def unresolved_column(self) -> str | None:
        """Athena's message for a column the query names but no table has, or None.

        Only asked after the engine failed to bind: engines' messages for an unknown
        column are confusing when a select alias has the same name."""
        from sqlglot.errors import OptimizeError
        from sqlglot.optimizer.qualify import qualify

        schema: dict[str, object] = {
            view: dict.fromkeys(cols, "INT") for view, cols in self.schema.items()
        }
        try:
            qualify(
                self.tree.copy(), schema=schema, dialect="athena", validate_qualify_columns=True
            )
        except OptimizeError as err:
            text = str(err)
            found = re.search(r"Column '([^']+)' could not be resolved", text) or re.search(
                r"Unknown column: (\S+)", text
            )
            if found:
                return f"COLUMN_NOT_FOUND: Column '{found.group(1)}' cannot be resolved"
        except Exception:
            return None
        return None


class PartitionFilter(Protocol):
    """Decides which partitions satisfy a predicate on partition keys (an engine evaluates
    it over the typed values, exactly as the query would). The planner asks it about files
    too: the pseudo-columns a predicate names are then extra keys of ``table``, typed as
    ``PSEUDO_COLUMNS`` says, with one list of values per file."""

    def matching(
        self, table: Table, predicate: exp.Expression, values: list[list[str]]
    ) -> set[int]:
        """Indexes of ``values`` (one list of raw partition values each) that satisfy
        ``predicate``; every index when it cannot be decided."""
        ...


#: the folder name Hive writes for a NULL partition value
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def partition_value(raw: str) -> str | None:
    """A partition value as queries see it: Hive's default partition is NULL."""
    return None if raw == HIVE_DEFAULT_PARTITION else raw


#: Athena's hidden columns of a Hive table (Trino's Hive connector), with their types:
#: the URI of the file a row comes from, its size in bytes, its last modification time
#: (milliseconds, UTC) and, for a partitioned table only, the partition's name
#: (``year=2020/month=01``). They are not part of ``SELECT *`` nor of DESCRIBE.
PSEUDO_COLUMNS: dict[str, str] = {
    "$path": "string",
    "$file_size": "bigint",
    "$file_modified_time": "timestamp with time zone",
    "$partition": "string",
}


def pseudo_columns_of(table: Table) -> list[str]:
    """The pseudo-columns ``table`` offers: ``$partition`` only when it is partitioned, and
    none that a real column of the same name hides."""
    own = {c.name.lower() for c in table.all_columns}
    return [
        name
        for name in PSEUDO_COLUMNS
        if name not in own and (name != "$partition" or table.partition_keys)
    ]


def partition_name(table: Table, values: list[str]) -> str:
    """Hive's name of a partition, as ``$partition`` and SHOW PARTITIONS give it."""
    return partition_path(table.partition_keys, values).rstrip("/")


def modified_time(mtime: float) -> dt.datetime:
    """A file's modification time as ``$file_modified_time`` holds it: whole milliseconds
    (truncated), in UTC."""
    millis = math.floor(mtime * 1000)
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)


def pseudo_values(table: Table, values: list[str], file: DataFile) -> dict[str, object]:
    """What each pseudo-column holds for the rows of ``file`` in the partition ``values``."""
    out: dict[str, object] = {
        "$path": file.uri,
        "$file_size": file.size,
        "$file_modified_time": modified_time(file.mtime),
    }
    if table.partition_keys:
        out["$partition"] = partition_name(table, values)
    return out
