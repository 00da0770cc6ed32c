"""The DDL statements a dialect front end returns (``lakebox.sql.statements``), run by
``lakebox.sql.ddl_exec``: in a module of their own, made only when a statement needs one
(see ``lakebox.sql.statements``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lakebox.catalog.model import Column, Table
from lakebox.sql.statements import DdlStatement

__all__ = [
    "AddColumns",
    "AddPartitions",
    "ChangeColumn",
    "CreateDatabase",
    "CreateTable",
    "CreateView",
    "DdlStatement",
    "Describe",
    "DropDatabase",
    "DropPartitions",
    "DropTable",
    "DropView",
    "MsckRepair",
    "PartitionSpec",
    "RenamePartition",
    "ReplaceColumns",
    "SetLocation",
    "SetTableProperties",
    "ShowColumns",
    "ShowCreateTable",
    "ShowDatabases",
    "ShowPartitions",
    "ShowTables",
    "ShowTblProperties",
    "ShowViews",
    "TableRef",
]


@dataclass(frozen=True)
class TableRef:
    """A table or view name; ``database`` is None when the statement did not qualify it."""

    database: str | None
    name: str

    def resolve(self, current_database: str) -> tuple[str, str]:
        return (self.database or current_database).lower(), self.name.lower()


@dataclass(frozen=True)
class CreateDatabase(DdlStatement):
    name: str
    if_not_exists: bool = False
    comment: str | None = None
    location: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DropDatabase(DdlStatement):
    name: str
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True)
class CreateTable(DdlStatement):
    """``table.database`` is empty when the name was unqualified."""

    table: Table
    if_not_exists: bool = False


@dataclass(frozen=True)
class CreateView(DdlStatement):
    ref: TableRef
    select_sql: str
    or_replace: bool = False


@dataclass(frozen=True)
class DropTable(DdlStatement):
    ref: TableRef
    if_exists: bool = False


@dataclass(frozen=True)
class DropView(DdlStatement):
    ref: TableRef
    if_exists: bool = False


@dataclass(frozen=True)
class PartitionSpec:
    """``k='v'`` pairs in statement order; keys lower-cased, values as strings."""

    values: dict[str, str]
    location: str | None = None


@dataclass(frozen=True)
class AddPartitions(DdlStatement):
    ref: TableRef
    partitions: list[PartitionSpec]
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropPartitions(DdlStatement):
    ref: TableRef
    partitions: list[PartitionSpec]
    if_exists: bool = False


@dataclass(frozen=True)
class SetTableProperties(DdlStatement):
    ref: TableRef
    properties: dict[str, str]


@dataclass(frozen=True)
class AddColumns(DdlStatement):
    ref: TableRef
    columns: list[Column]


@dataclass(frozen=True)
class ReplaceColumns(DdlStatement):
    ref: TableRef
    columns: list[Column]


@dataclass(frozen=True)
class ChangeColumn(DdlStatement):
    """ALTER TABLE t CHANGE [COLUMN] old new type [COMMENT ..] [FIRST | AFTER col]."""

    ref: TableRef
    old_name: str
    column: Column
    first: bool = False
    after: str | None = None


@dataclass(frozen=True)
class RenamePartition(DdlStatement):
    ref: TableRef
    old: PartitionSpec
    new: PartitionSpec


@dataclass(frozen=True)
class SetLocation(DdlStatement):
    ref: TableRef
    location: str
    partition: PartitionSpec | None = None


@dataclass(frozen=True)
class MsckRepair(DdlStatement):
    ref: TableRef


@dataclass(frozen=True)
class ShowDatabases(DdlStatement):
    pattern: str | None = None


@dataclass(frozen=True)
class ShowTables(DdlStatement):
    database: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ShowViews(DdlStatement):
    database: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ShowPartitions(DdlStatement):
    ref: TableRef


@dataclass(frozen=True)
class ShowCreateTable(DdlStatement):
    ref: TableRef
    view: bool = False


@dataclass(frozen=True)
class ShowColumns(DdlStatement):
    ref: TableRef


@dataclass(frozen=True)
class ShowTblProperties(DdlStatement):
    ref: TableRef
    prop: str | None = None


@dataclass(frozen=True)
class Describe(DdlStatement):
    ref: TableRef
    style: str | None = None  # EXTENDED | FORMATTED
    #: ``col`` or a path into it: ``col.field``, ``col.$elem$``, ``col.$key$``, ``col.$value$``
    column: str | None = None
    partition: PartitionSpec | None = None
