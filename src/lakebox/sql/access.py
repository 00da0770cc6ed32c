"""The one seam where a query's reads are authorized for its principal.

A session asks ``check_query`` before it runs a statement for a principal (Athena's
``athena:StartQueryExecution`` on the workgroup), for DDL ``check_ddl`` (the Glue
action the statement amounts to), for a CTAS, INSERT INTO or UNLOAD ``check_write``
(the catalog change and the objects written, before anything is), and the query service
``check_results`` (where it writes the statement's results). The planner hands every
catalog table (and view) a statement names to a ``TableAccess`` twice: when the name is resolved, before anything of the table is listed
(``check_table``: the catalog reads and the listing of its location), and once its files
are planned (``check_files``: the objects the engine will read). The lake's IAM decides
today (``lakebox.query.authorize``, as Athena asks Glue and S3 on the caller's behalf);
the coming Lake Formation layer plugs in here too, with the same two calls.

Lake Formation answers through the same seam: ``table_view`` says which columns and rows
of a table the principal reads (the planner replaces the table by that projection before
the rest of the query sees it), and ``created`` hands on who created a database or table
(creators hold every permission on what they made). ``REQUEST_ID`` carries the statement's
query id to whoever records the decisions (Lake Formation's audit).

The planner never calls it for the local administrator: the embedded default pays nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, Protocol

from lakebox.catalog.model import Table
from lakebox.catalog.permissions import FULL_VIEW, TableView
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal
from lakebox.sql.plan import PartitionFiles
from lakebox.sql.statements import DdlStatement


class QueryAccessDenied(AccessDenied):
    """A statement reads (or writes) something its principal may not: the message is the
    reason Athena gives, naming the action and the resource."""


#: the query id of the statement being decided for (audit records name it)
REQUEST_ID: ContextVar[str | None] = ContextVar("lakebox_request_id", default=None)


@contextmanager
def request(query_id: str | None) -> Iterator[None]:
    """Decisions made inside the block belong to the statement ``query_id``."""
    token = REQUEST_ID.set(query_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


@dataclass(frozen=True)
class WriteRequest:
    """What a CTAS, INSERT INTO or UNLOAD will write, known before anything is written."""

    kind: Literal["CTAS", "INSERT", "UNLOAD"]
    #: the folder the files go to (``s3://bucket/prefix/``)
    location: str
    #: the table made (CTAS) or written (INSERT); None for UNLOAD
    database: str | None = None
    table: str | None = None
    #: the INSERT's target as the catalog has it (its partitioning decides the Glue calls)
    target: Table | None = None
    #: a CTAS's ``partitioned_by``: its partitions are registered in the catalog
    partitioned: bool = False


class TableAccess(Protocol):
    """Decides whether a principal may run a statement and read the tables it names."""

    def check_query(self, principal: Principal, workgroup: str) -> None:
        """Raise QueryAccessDenied unless ``principal`` may run statements in
        ``workgroup`` (Athena's ``athena:StartQueryExecution``)."""
        ...

    def check_ddl(self, principal: Principal, statement: DdlStatement, database: str) -> None:
        """Raise QueryAccessDenied unless ``principal`` may make the catalog change (or
        read the listing) ``statement`` asks for; ``database`` is the session's."""
        ...

    def check_write(self, principal: Principal, write: WriteRequest) -> None:
        """Raise QueryAccessDenied unless ``principal`` may make the catalog change and
        write the objects ``write`` amounts to (checked before anything is written)."""
        ...

    def check_results(self, principal: Principal, output_location: str) -> None:
        """Raise QueryAccessDenied unless ``principal`` may write a statement's results
        (and an UNLOAD's manifest) under ``output_location``."""
        ...

    def check_results_read(self, principal: Principal, result_uri: str) -> None:
        """Raise QueryAccessDenied unless ``principal`` may read the result object at
        ``result_uri`` (GetQueryResults reads it with the caller's ``s3:GetObject``)."""
        ...

    def check_table(self, principal: Principal, table: Table) -> None:
        """Raise QueryAccessDenied unless ``principal`` may read ``table``'s definition
        (and, for a partitioned table, its partitions) and list its location."""
        ...

    def check_files(
        self, principal: Principal, table: Table, partitions: Sequence[PartitionFiles]
    ) -> None:
        """Raise QueryAccessDenied unless ``principal`` may read every planned file."""
        ...

    def table_view(self, principal: Principal, table: Table) -> TableView:
        """The columns and rows of ``table`` that ``principal`` reads (asked after
        ``check_table`` passed); ``FULL_VIEW`` when nothing is withheld."""
        ...

    def created(self, principal: Principal, database: str, table: str | None = None) -> None:
        """``principal`` just created ``database`` (or ``table`` in it)."""
        ...


class _Open:
    """Every principal reads everything: a lake without identities."""

    def check_query(self, principal: Principal, workgroup: str) -> None:
        return None

    def check_ddl(self, principal: Principal, statement: DdlStatement, database: str) -> None:
        return None

    def check_write(self, principal: Principal, write: WriteRequest) -> None:
        return None

    def check_results(self, principal: Principal, output_location: str) -> None:
        return None

    def check_results_read(self, principal: Principal, result_uri: str) -> None:
        return None

    def check_table(self, principal: Principal, table: Table) -> None:
        return None

    def check_files(
        self, principal: Principal, table: Table, partitions: Sequence[PartitionFiles]
    ) -> None:
        return None

    def table_view(self, principal: Principal, table: Table) -> TableView:
        return FULL_VIEW

    def created(self, principal: Principal, database: str, table: str | None = None) -> None:
        return None


#: no checks at all
OPEN_ACCESS: TableAccess = _Open()

#: one planner check as made: (table, None) for ``check_table``, (table, its planned
#: partitions) for ``check_files``
PlanCheck = tuple[Table, tuple[PartitionFiles, ...] | None]


class RecordingAccess:
    """A ``TableAccess`` that passes every planner check on and keeps it, in order, so a
    kept plan can be authorized again without planning: while the plan is current (same
    catalog generation, same listings) it names the same tables and files, so asking
    ``replay_checks`` gives the decisions planning would give now."""

    def __init__(self, access: TableAccess) -> None:
        self.access = access
        self.checks: list[PlanCheck] = []

    def check_query(self, principal: Principal, workgroup: str) -> None:
        self.access.check_query(principal, workgroup)

    def check_ddl(self, principal: Principal, statement: DdlStatement, database: str) -> None:
        self.access.check_ddl(principal, statement, database)

    def check_write(self, principal: Principal, write: WriteRequest) -> None:
        self.access.check_write(principal, write)

    def check_results(self, principal: Principal, output_location: str) -> None:
        self.access.check_results(principal, output_location)

    def check_results_read(self, principal: Principal, result_uri: str) -> None:
        self.access.check_results_read(principal, result_uri)

    def check_table(self, principal: Principal, table: Table) -> None:
        self.access.check_table(principal, table)
        self.checks.append((table, None))

    def check_files(
        self, principal: Principal, table: Table, partitions: Sequence[PartitionFiles]
    ) -> None:
        self.access.check_files(principal, table, partitions)
        self.checks.append((table, tuple(partitions)))

    def table_view(self, principal: Principal, table: Table) -> TableView:
        # a kept plan holds the view it was planned with: plans are kept per principal
        # and policy version (``Visibility.policy_version``), so it is not asked again
        return self.access.table_view(principal, table)

    def created(self, principal: Principal, database: str, table: str | None = None) -> None:
        self.access.created(principal, database, table)


def replay_checks(access: TableAccess, principal: Principal, checks: Sequence[PlanCheck]) -> None:
    """Ask ``access`` the planner checks a ``RecordingAccess`` kept, in their order."""
    for table, partitions in checks:
        if partitions is None:
            access.check_table(principal, table)
        else:
            access.check_files(principal, table, partitions)


__all__ = [
    "OPEN_ACCESS",
    "REQUEST_ID",
    "PlanCheck",
    "QueryAccessDenied",
    "RecordingAccess",
    "TableAccess",
    "WriteRequest",
    "replay_checks",
    "request",
]
