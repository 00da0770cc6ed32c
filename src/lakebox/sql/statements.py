"""Typed statements: what a dialect front end's ``parse()`` returns and what the session
dispatches on, one handler per statement type.

Each dialect (``lakebox.sql.dialects``) turns text into these; everything after parsing
works on them, never on the text's first word. Queries and writes keep their sqlglot tree
(the planner's input) and their text (the plan cache's key).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from lakebox.catalog.model import Column, Table


@dataclass(frozen=True)
class Statement:
    """Base of every parsed statement."""


@dataclass(frozen=True)
class Use(Statement):
    """USE db: the session's current database."""

    database: str


# -- queries and writes (run by the query layer) ----------------------------------------------
@dataclass(frozen=True)
class Query(Statement):
    """SELECT / WITH / VALUES ..."""

    text: str
    tree: exp.Expression


@dataclass(frozen=True)
class CreateTableAs(Statement):
    """CREATE TABLE ... AS <query> (CTAS)."""

    text: str
    tree: exp.Create


@dataclass(frozen=True)
class InsertInto(Statement):
    text: str
    tree: exp.Insert


@dataclass(frozen=True)
class Unload(Statement):
    """UNLOAD (query) TO 'location' WITH (...); the writer splits the clauses."""

    text: str
    tree: exp.Command


@dataclass(frozen=True)
class Unsupported(Statement):
    """A statement the dialect parses but lakebox does not run (e.g. DELETE)."""

    text: str
    tree: exp.Expression

    @property
    def kind(self) -> str:
        return self.tree.key.upper()


# -- DDL (run by lakebox.sql.ddl_exec) --------------------------------------------------------
@dataclass(frozen=True)
class TableRef:
    """A table or view name; ``database`` is None when the statement did not qualify it."""

    database: str | None
    name: str

    def resolve(self, current_database: str) -> tuple[str, str]:
        return (self.database or current_database).lower(), self.name.lower()


@dataclass(frozen=True)
class DdlStatement(Statement):
    """Base of every parsed DDL statement."""


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
