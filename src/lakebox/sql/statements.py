"""Typed statements: what a dialect front end's ``parse()`` returns and what the session
dispatches on, one handler per statement type.

Each dialect (``lakebox.sql.dialects``) turns text into these; everything after parsing
works on them, never on the text's first word. Queries and writes keep their sqlglot tree
(the planner's input) and their text (the plan cache's key).

The DDL statements live in ``lakebox.sql.ddl_statements`` and are importable from here
too: about 30 frozen dataclasses, whose creation is ~5 % of a first ``lakebox sql
"SELECT 1"`` (issue 14 item 5), so they are made when a statement first needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from lakebox.util import lazy_exports


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


@dataclass(frozen=True)
class DdlStatement(Statement):
    """Base of every parsed DDL statement (``lakebox.sql.ddl_statements``; run by
    ``lakebox.sql.ddl_exec``)."""


#: the DDL statements, imported when one is first asked for
_DDL = (
    "TableRef",
    "CreateDatabase",
    "DropDatabase",
    "CreateTable",
    "CreateView",
    "DropTable",
    "DropView",
    "PartitionSpec",
    "AddPartitions",
    "DropPartitions",
    "SetTableProperties",
    "AddColumns",
    "ReplaceColumns",
    "ChangeColumn",
    "RenamePartition",
    "SetLocation",
    "MsckRepair",
    "ShowDatabases",
    "ShowTables",
    "ShowViews",
    "ShowPartitions",
    "ShowCreateTable",
    "ShowColumns",
    "ShowTblProperties",
    "Describe",
)
__getattr__ = lazy_exports(__name__, dict.fromkeys(_DDL, "lakebox.sql.ddl_statements"))
