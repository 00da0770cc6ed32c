"""The contract between Lake Formation (``lakebox.governance``) and everything that
enforces it: the planner, the catalog listings, the Glue and S3 doors, crawlers and jobs.

It lives here, below every door, so that each of them can ask the same questions without
importing the governance package (which sits above the query service). The Lakehouse
builds the one implementation and hands it on; a lake that never turned governance on
answers every question with "allowed" at the cost of one attribute read (``active``).

Lake Formation's rules (``../shared/AWS_FACTS.md`` section 2) are decided behind this
interface; the enforcers only apply the answers:

- ``table_view`` says which columns of a table a principal sees and which rows (a data
  cells filter's row filter); the planner replaces the table by a projection of those
  columns filtered by those rows before any other part of the query sees it.
- ``table_permissions`` / ``database_permissions`` give the Lake Formation permissions a
  principal holds on a resource (explicit grants, tag policies, implicit ones of admins and
  creators, ``IAMAllowedPrincipals`` while it holds the resource).
- ``location_access`` decides ``DATA_LOCATION_ACCESS`` for a location a table is created
  over or altered to; ``governed_location`` says whether a location is registered (reads
  of its objects must then go through the permissions, not around them).
- ``record`` keeps one access decision for the audit table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from lakebox.catalog.model import Table
from lakebox.principal import Principal

#: Lake Formation's permission names (``Permission`` enum of the API), as the API spells them
LfPermission = Literal[
    "ALL",
    "SELECT",
    "ALTER",
    "DROP",
    "DELETE",
    "INSERT",
    "DESCRIBE",
    "CREATE_DATABASE",
    "CREATE_TABLE",
    "DATA_LOCATION_ACCESS",
    "CREATE_LF_TAG",
    "ASSOCIATE",
    "GRANT_WITH_LF_TAG_EXPRESSION",
]


@dataclass(frozen=True)
class TableView:
    """What one principal may read of one table.

    ``columns`` holds the lower-case names (data columns and partition keys) the principal
    may select; None means every column. ``row_filter`` is a boolean SQL expression over
    the table's columns, in Athena's syntax (Lake Formation's PartiQL subset), that every
    row the principal reads must satisfy; None means every row. Several filters granted
    to one principal arrive here already combined (OR)."""

    columns: frozenset[str] | None = None
    row_filter: str | None = None
    #: (column, condition) pairs: the column's value is shown only in rows where its
    #: condition holds, NULL elsewhere (``CASE WHEN <condition> THEN col END``). Present
    #: only when several data cells filters with different rows and columns combine (Lake
    #: Formation's cell-level union): without it ``columns`` and ``row_filter`` alone
    #: would show a cell that no single filter grants. Empty in every other case.
    column_filters: tuple[tuple[str, str], ...] = ()

    @property
    def unrestricted(self) -> bool:
        return self.columns is None and self.row_filter is None and not self.column_filters


#: a principal that may read everything of a table
FULL_VIEW = TableView()


class LakePermissions(Protocol):
    """Lake Formation's answers for one lake; see the module docstring."""

    @property
    def active(self) -> bool:
        """False while the lake is in Lake Formation's default mode with nothing
        registered and no grant made: every check then allows, and enforcers skip them."""
        ...

    def policy_version(self) -> int:
        """Changes whenever any grant, tag, filter, setting or registration changes:
        caches of plans and results key on it with the principal."""
        ...

    def database_permissions(self, principal: Principal, database: str) -> frozenset[str]:
        """The permissions ``principal`` holds on ``database`` (``ALL`` spelled out as
        its members), including implicit ones."""
        ...

    def table_permissions(self, principal: Principal, table: Table) -> frozenset[str]:
        """The table-level permissions ``principal`` holds on ``table``. SELECT appears
        when any column (or a data cells filter) is granted; ``table_view`` says which."""
        ...

    def can_see_database(self, principal: Principal, database: str) -> bool:
        """Whether ``database`` is listed to ``principal``: any permission on it or on
        any table in it."""
        ...

    def can_see_table(self, principal: Principal, table: Table) -> bool:
        """Whether ``table`` is listed to ``principal``: any permission on it."""
        ...

    def table_view(self, principal: Principal, table: Table) -> TableView:
        """The columns and rows of ``table`` that ``principal`` may SELECT. Raises
        ``lakebox.iam.errors.AccessDenied`` when the principal may select nothing of it."""
        ...

    def is_admin(self, principal: Principal) -> bool:
        """Whether ``principal`` is a data lake administrator (or the local one)."""
        ...

    def can_create_database(self, principal: Principal) -> bool:
        """Whether ``principal`` may create a database (CREATE_DATABASE on the catalog)."""
        ...

    def note_created(self, principal: Principal, database: str, table: str | None = None) -> None:
        """Record that ``principal`` created ``database`` (or ``table`` in it): creators
        hold every permission on what they made, and the lake's create-database and
        create-table default permissions (``IAMAllowedPrincipals``) are applied to it."""
        ...

    def note_dropped(self, database: str, table: str | None = None) -> None:
        """``database`` (and every table in it) or ``table`` in it was dropped: its
        creator no longer holds anything through having made it (an object made later
        under the same name is not theirs). Grants made on it stay (AWS keeps them)."""
        ...

    def governed_location(self, uri: str) -> bool:
        """Whether ``uri`` lies under a registered (Lake Formation controlled) location."""
        ...

    def location_access(self, principal: Principal, uri: str) -> bool:
        """Whether ``principal`` may create or alter a table over ``uri``: True for an
        unregistered location, else DATA_LOCATION_ACCESS (granted or implicit)."""
        ...

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        allowed: bool,
        request_id: str | None = None,
    ) -> None:
        """Keep one access decision for the audit table."""
        ...


__all__ = ["FULL_VIEW", "LakePermissions", "LfPermission", "TableView"]
