"""A small implementation of ``LakePermissions`` for the doors' tests: explicit grants by
principal ARN (a role's sessions hold their role's grants), registered locations, column
lists, creators' implicit permissions, and every decision recorded. It is not Lake
Formation (lakebox.governance is); it answers the contract's questions simply, so the
doors can be tested on their own."""

from __future__ import annotations

from dataclasses import dataclass, field

from lakebox.catalog.model import Table
from lakebox.catalog.permissions import FULL_VIEW, TableView
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal

TABLE_ALL = frozenset({"ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"})
DATABASE_ALL = frozenset({"ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"})


def identity(principal: Principal) -> str:
    """The ARN grants are made to: a role's session holds its role's grants."""
    arn = principal.arn
    if principal.kind == "assumed-role" and ":assumed-role/" in arn:
        role = arn.split(":assumed-role/", 1)[1].split("/")[0]
        return f"arn:aws:iam::{principal.account_id}:role/{role}"
    return arn


@dataclass
class Decision:
    principal: str
    action: str
    resource: str
    allowed: bool
    request_id: str | None


@dataclass
class ToyPermissions:
    active: bool = True
    #: (principal ARN, "db" or "db.table") -> permissions
    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: (principal ARN, "db.table") -> the columns granted SELECT (absent: all)
    columns: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: principal ARNs allowed CREATE_DATABASE
    creators: set[str] = field(default_factory=set)
    #: registered locations, and (principal ARN, location) with DATA_LOCATION_ACCESS
    registered: list[str] = field(default_factory=list)
    location_grants: set[tuple[str, str]] = field(default_factory=set)
    decisions: list[Decision] = field(default_factory=list)
    version: int = 0
    #: who was told of each creation and drop, in order: ("created", principal ARN,
    #: "db" or "db.table") and ("dropped", "", "db" or "db.table")
    noted: list[tuple[str, str, str]] = field(default_factory=list)

    # -- granting (the test's side) ------------------------------------------------------
    def grant(self, who: str, resource: str, *perms: str, columns: set[str] | None = None) -> None:
        self.grants.setdefault((who, resource), set()).update(perms)
        if columns is not None:
            self.columns[(who, resource)] = {c.lower() for c in columns}
        self.version += 1

    # -- the contract -------------------------------------------------------------------
    def policy_version(self) -> int:
        return self.version

    def database_permissions(self, principal: Principal, database: str) -> frozenset[str]:
        held = self.grants.get((identity(principal), database), set())
        return DATABASE_ALL if "ALL" in held else frozenset(held)

    def table_permissions(self, principal: Principal, table: Table) -> frozenset[str]:
        held = self.grants.get((identity(principal), table.qualified_name), set())
        return TABLE_ALL if "ALL" in held else frozenset(held)

    def can_see_database(self, principal: Principal, database: str) -> bool:
        who = identity(principal)
        return any(
            w == who and (r == database or r.startswith(database + ".")) and p
            for (w, r), p in self.grants.items()
        )

    def can_see_table(self, principal: Principal, table: Table) -> bool:
        return bool(self.table_permissions(principal, table))

    def table_view(self, principal: Principal, table: Table) -> TableView:
        if "SELECT" not in self.table_permissions(principal, table):
            raise AccessDenied(
                f"Insufficient Lake Formation permission(s) on {table.qualified_name}",
                "SELECT",
                table.qualified_name,
            )
        cols = self.columns.get((identity(principal), table.qualified_name))
        return FULL_VIEW if cols is None else TableView(columns=frozenset(cols))

    def can_create_database(self, principal: Principal) -> bool:
        return identity(principal) in self.creators

    def note_created(self, principal: Principal, database: str, table: str | None = None) -> None:
        name = database if table is None else f"{database}.{table}"
        self.noted.append(("created", principal.arn, name))
        self.grant(identity(principal), database if table is None else f"{database}.{table}", "ALL")

    def is_admin(self, principal: Principal) -> bool:
        return principal.is_local_admin

    def note_dropped(self, database: str, table: str | None = None) -> None:
        self.noted.append(("dropped", "", database if table is None else f"{database}.{table}"))

    def governed_location(self, uri: str) -> bool:
        return any(uri.rstrip("/").startswith(r.rstrip("/")) for r in self.registered)

    def location_access(self, principal: Principal, uri: str) -> bool:
        if not self.governed_location(uri):
            return True
        who = identity(principal)
        return any(
            w == who and uri.rstrip("/").startswith(loc.rstrip("/"))
            for w, loc in self.location_grants
        )

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        allowed: bool,
        request_id: str | None = None,
    ) -> None:
        self.decisions.append(Decision(principal.arn, action, resource, allowed, request_id))
