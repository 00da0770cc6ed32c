"""Lake Formation's rules, evaluated over one generation of the store (``PolicyState``).

A ``Policy`` is immutable once built; answers are memoised in it per principal, so the
planner's questions cost a dictionary look-up after the first (the service builds a new
``Policy`` when the generation changes, which drops every memo at once).

The rules (AWS_FACTS section 2, docs/governance.md):

- ``IAM_ALLOWED_PRINCIPALS`` holding a permission on a resource gives it to every
  principal of the lake's account (IAM alone decides). A database or table lakebox has no
  record of (made before governance, or by a door that did not report it) holds the
  implicit ``ALL`` of AWS's default mode, until a revoke makes it explicit. A principal
  opted in to hybrid access on a table over a hybrid location is judged by its grants only.
  More generally, an object lakebox has no record of holds the default permissions that
  were in force when it was made (its catalog creation time against the history of the
  settings).
- Data lake admins: DESCRIBE on everything, DATA_LOCATION_ACCESS everywhere, may create
  databases and grant anything; not ALTER / DROP / SELECT of others' objects. Read-only
  admins: DESCRIBE on everything.
- Creators hold ALL on what they made; a table's creator may also see its database.
- Grants name a principal ARN (an assumed role's session is judged as its role) or a whole
  account id.
- Tag policies: ResourceType DATABASE gives database permissions on the databases whose
  tags match; TABLE gives table permissions on matching tables, and SELECT on each column
  whose (inherited or overridden) tags match.
- Columns: ``TableWithColumns`` include or exclude lists; data cells filters add a row
  filter. Several grants combine cell by cell, as Lake Formation combines them: the
  columns are the union, the rows the OR of the filters (an unfiltered grant lifts the row
  filter), and a column that only some of the grants include is shown only in their rows
  (``TableView.column_filters``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakebox.catalog.model import Table
from lakebox.catalog.permissions import FULL_VIEW, TableView
from lakebox.governance.audit import AUDIT_LOCATION
from lakebox.governance.model import (
    DATABASE_PERMISSIONS,
    IAM_ALLOWED_PRINCIPALS,
    TABLE_PERMISSIONS,
    DataCellsFilter,
    DataLakeSettings,
    Grant,
    PrincipalPermissions,
    expand,
    expression_matches,
    s3_uri,
    under,
)
from lakebox.governance.store import PolicyState
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal
from lakebox.storage.locations import is_s3, lake_uri

AUDIT_DATABASE = "lakebox_audit"
AUDIT_TABLE = "access_log"
#: the bucket the audit table's objects are written in: reserved to lakebox
AUDIT_BUCKET = "s3://" + AUDIT_LOCATION[len("s3://") :].split("/", 1)[0]

#: (columns or None for all, row filter or None for all rows): one grant's share of a table
Share = tuple[frozenset[str] | None, str | None]
_FULL: Share = (None, None)
_MEMO_LIMIT = 50_000


def _disjunction(filters: list[str | None]) -> str | None:
    """The OR of row filters (None, every row, when any of them is None)."""
    if not filters or any(f is None for f in filters):
        return None
    distinct = sorted({f for f in filters if f is not None})
    if len(distinct) == 1:
        return f"({distinct[0]})"
    return " OR ".join(f"({f})" for f in distinct)


def identities(principal: Principal) -> frozenset[str]:
    """The identifiers a grant may name ``principal`` by: its ARN, its role's ARN for an
    assumed role's session, and its account id."""
    out = {principal.arn, principal.account_id}
    if principal.kind == "assumed-role" or ":assumed-role/" in principal.arn:
        parts = principal.arn.split(":assumed-role/", 1)
        if len(parts) == 2:
            role = parts[1].split("/", 1)[0]
            out.add(f"arn:aws:iam::{principal.account_id}:role/{role}")
    return frozenset(out)


def canonical(principal: Principal) -> str:
    """The identifier a creator is kept as: an assumed role's session is its role (the
    next session of the role is the same creator)."""
    ids = identities(principal) - {principal.arn, principal.account_id}
    return next(iter(ids)) if ids else principal.arn


@dataclass(frozen=True)
class Access:
    """What one principal holds on one table."""

    permissions: frozenset[str]
    shares: tuple[Share, ...]


class Policy:
    """The rules over one generation; see the module docstring."""

    def __init__(
        self,
        state: PolicyState,
        account_id: str,
        database_created: Callable[[str], float | None] | None = None,
    ) -> None:
        self.state = state
        self._database_created = database_created
        self.generation = state.generation
        self.account_id = account_id
        settings = state.settings
        self.admins = frozenset(settings.admins)
        self.read_only_admins = frozenset(settings.read_only_admins)
        self.catalog_grants: list[Grant] = []
        self.db_grants: dict[str, list[Grant]] = {}
        self.table_grants: dict[tuple[str, str], list[Grant]] = {}
        self.location_grants: list[Grant] = []
        self.tag_policies: list[Grant] = []
        self.tag_key_grants: list[Grant] = []
        for grant in state.grants:
            r = grant.resource
            if r.kind == "CATALOG":
                self.catalog_grants.append(grant)
            elif r.kind == "DATABASE":
                self.db_grants.setdefault(r.database, []).append(grant)
            elif r.kind in ("TABLE", "TABLE_WITH_COLUMNS", "DATA_CELLS_FILTER"):
                self.table_grants.setdefault((r.database, r.table), []).append(grant)
            elif r.kind == "DATA_LOCATION":
                self.location_grants.append(grant)
            elif r.kind == "LF_TAG_POLICY":
                self.tag_policies.append(grant)
            elif r.kind == "LF_TAG":
                self.tag_key_grants.append(grant)
        self.filters: dict[tuple[str, str, str], DataCellsFilter] = {
            (f.database, f.table, f.name): f for f in state.filters
        }
        self.db_tags: dict[str, dict[str, str]] = {}
        self.table_tags: dict[tuple[str, str], dict[str, str]] = {}
        self.column_tags: dict[tuple[str, str, str], dict[str, str]] = {}
        for a in state.assignments:
            if not a.table:
                self.db_tags.setdefault(a.database, {})[a.key] = a.value
            elif not a.column:
                self.table_tags.setdefault((a.database, a.table), {})[a.key] = a.value
            else:
                self.column_tags.setdefault((a.database, a.table, a.column), {})[a.key] = a.value
        self.locations = tuple((reg.uri, reg) for reg in state.locations)
        self.objects = state.objects
        self.table_creators: dict[str, set[str]] = {}
        for (db, tbl), creator in state.objects.items():
            if tbl and creator:
                self.table_creators.setdefault(db, set()).add(creator)
        self.active = self._active()
        self._memo: dict[Any, Any] = {}
        self._lock = threading.Lock()

    # -- default mode ----------------------------------------------------------------------------
    def _active(self) -> bool:
        state = self.state
        if not state.settings.is_default or state.locations:
            return True
        if any(not settings.is_default for _, settings in state.history):
            return True  # objects made meanwhile hold the defaults of that time
        if any(g.principal != IAM_ALLOWED_PRINCIPALS for g in state.grants):
            return True
        if not any(
            g.resource.kind == "CATALOG" and "CREATE_DATABASE" in g.permissions
            for g in self.catalog_grants
        ):
            return True
        for (db, tbl), _ in state.objects.items():
            if db == AUDIT_DATABASE:
                continue
            if "ALL" not in self._iap_explicit(db, tbl):
                return True
        return False

    def _iap_explicit(self, db: str, tbl: str) -> set[str]:
        grants = self.db_grants.get(db, []) if not tbl else self.table_grants.get((db, tbl), [])
        out: set[str] = set()
        for g in grants:
            if g.principal == IAM_ALLOWED_PRINCIPALS and g.resource.kind in ("DATABASE", "TABLE"):
                out |= set(g.permissions)
        return out

    def defaults_at(self, when: float, *, table: bool) -> tuple[PrincipalPermissions, ...]:
        """The create-table (or create-database) default permissions in force at ``when``:
        what an object no door reported was given when it was made (AWS's own default,
        IAMAllowedPrincipals' ALL, before any settings were put)."""
        settings = DataLakeSettings()
        for since, put in self.state.history:
            if since > when:
                break
            settings = put
        return settings.create_table_default if table else settings.create_database_default

    def database_created(self, db: str) -> float:
        """When ``db`` was made (0 when unknown: before any settings)."""
        lookup = self._database_created
        if lookup is None:
            return 0.0
        found: float = self._memoised(("dbtime", db), lambda: lookup(db) or 0.0)
        return found

    def _defaults_held(
        self, principal: Principal, defaults: tuple[PrincipalPermissions, ...], iap: bool
    ) -> set[str]:
        ids = identities(principal)
        out: set[str] = set()
        for pp in defaults:
            if pp.principal in ids or (iap and pp.principal == IAM_ALLOWED_PRINCIPALS):
                out |= set(pp.permissions)
        return out

    # -- who --------------------------------------------------------------------------------------
    def is_admin(self, principal: Principal) -> bool:
        return principal.is_local_admin or not self.admins.isdisjoint(identities(principal))

    def is_read_only_admin(self, principal: Principal) -> bool:
        return not self.read_only_admins.isdisjoint(identities(principal))

    def _iap_applies(self, principal: Principal) -> bool:
        return principal.account_id == self.account_id

    def _memoised(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = make()
        with self._lock:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = value
        return value

    def _held(self, principal: Principal, grants: list[Grant]) -> list[Grant]:
        ids = identities(principal)
        iap = self._iap_applies(principal)
        return [
            g
            for g in grants
            if g.principal in ids or (iap and g.principal == IAM_ALLOWED_PRINCIPALS)
        ]

    # -- tags -------------------------------------------------------------------------------------
    def tags_of_database(self, db: str) -> dict[str, str]:
        return dict(self.db_tags.get(db, {}))

    def tags_of_table(self, db: str, tbl: str) -> dict[str, str]:
        return {**self.db_tags.get(db, {}), **self.table_tags.get((db, tbl), {})}

    def tags_of_column(self, db: str, tbl: str, col: str) -> dict[str, str]:
        return {**self.tags_of_table(db, tbl), **self.column_tags.get((db, tbl, col), {})}

    # -- databases --------------------------------------------------------------------------------
    def database_permissions(self, principal: Principal, db: str) -> frozenset[str]:
        db = db.lower()
        return self._memoised(("db", principal.key, db), lambda: self._database(principal, db))

    def _database(self, principal: Principal, db: str) -> frozenset[str]:
        if principal.is_local_admin:
            return DATABASE_PERMISSIONS
        ids = identities(principal)
        out: set[str] = set()
        if self.is_admin(principal) or self.is_read_only_admin(principal):
            out.add("DESCRIBE")
        if (db, "") in self.objects:
            if self.objects[(db, "")] in ids:
                out |= DATABASE_PERMISSIONS
        else:  # made before governance, or by a door that did not report it
            defaults = self.defaults_at(self.database_created(db), table=False)
            held = self._defaults_held(principal, defaults, self._iap_applies(principal))
            out |= expand(tuple(held), DATABASE_PERMISSIONS)
        if not ids.isdisjoint(self.table_creators.get(db, set())):
            out.add("DESCRIBE")
        for g in self._held(principal, self.db_grants.get(db, [])):
            out |= expand(g.permissions, DATABASE_PERMISSIONS)
        if self.tag_policies:
            tags = self.tags_of_database(db)
            for g in self._held(principal, self.tag_policies):
                r = g.resource
                if r.resource_type == "DATABASE" and expression_matches(r.expression, tags):
                    out |= expand(g.permissions, DATABASE_PERMISSIONS)
        return frozenset(out & DATABASE_PERMISSIONS)

    # -- tables -----------------------------------------------------------------------------------
    def table_access(self, principal: Principal, table: Table) -> Access:
        db, tbl = table.database.lower(), table.name.lower()
        key = ("tbl", principal.key, db, tbl, table.version, len(table.all_columns))
        return self._memoised(key, lambda: self._table(principal, table, db, tbl))

    def _opted_in(self, principal: Principal, table: Table, db: str, tbl: str) -> bool:
        """A principal opted in to hybrid access on a table over a hybrid location is
        judged by Lake Formation's grants, not by IAM alone."""
        location = table.location
        if not location or not self.state.opt_ins:
            return False
        hybrid = any(
            reg.hybrid_access and under(location, uri)
            for uri, reg in self.locations
            if location.startswith("s3://")
        )
        if not hybrid:
            return False
        ids = identities(principal)
        return any((ident, db, t) in self.state.opt_ins for ident in ids for t in (tbl, "*"))

    def _table(self, principal: Principal, table: Table, db: str, tbl: str) -> Access:
        if principal.is_local_admin:
            return Access(TABLE_PERMISSIONS, (_FULL,))
        ids = identities(principal)
        columns = [c.name.lower() for c in table.all_columns]
        everything = frozenset(columns)
        perms: set[str] = set()
        shares: list[Share] = []
        admin = self.is_admin(principal) or self.is_read_only_admin(principal)
        if admin:
            perms.add("DESCRIBE")
            if (db, tbl) == (AUDIT_DATABASE, AUDIT_TABLE):
                perms.add("SELECT")
                shares.append(_FULL)
        created = (db, tbl) in self.objects
        if created and self.objects[(db, tbl)] in ids:
            perms |= TABLE_PERMISSIONS
            shares.append(_FULL)
        iap = self._iap_applies(principal) and not self._opted_in(principal, table, db, tbl)
        if not created:  # made before governance, or by a door that did not report it
            defaults = self.defaults_at(table.create_time, table=True)
            held = expand(tuple(self._defaults_held(principal, defaults, iap)), TABLE_PERMISSIONS)
            perms |= held
            if "SELECT" in held:
                shares.append(_FULL)
        grants = self.table_grants.get((db, tbl), []) + self.table_grants.get((db, "*"), [])
        for g in grants:
            if g.principal not in ids and not (iap and g.principal == IAM_ALLOWED_PRINCIPALS):
                continue
            r = g.resource
            if r.kind == "TABLE":
                held = expand(g.permissions, TABLE_PERMISSIONS)
                perms |= held
                if "SELECT" in held:
                    shares.append(_FULL)
            elif r.kind == "TABLE_WITH_COLUMNS" and "SELECT" in g.permissions:
                if r.columns is not None:
                    cols = everything & frozenset(r.columns)
                else:
                    cols = everything - frozenset(r.excluded or ())
                if cols:
                    perms.add("SELECT")
                    shares.append((None if cols == everything else cols, None))
            elif r.kind == "DATA_CELLS_FILTER":
                f = self.filters.get((db, tbl, r.name))
                if f is None:
                    continue
                if "DESCRIBE" in g.permissions:
                    perms.add("DESCRIBE")
                if "SELECT" not in g.permissions:
                    continue
                if f.columns is not None:
                    cols = everything & frozenset(f.columns)
                else:
                    cols = everything - frozenset(f.excluded or ())
                if cols:
                    perms.add("SELECT")
                    shares.append((None if cols == everything else cols, f.row_filter))
        if self.tag_policies:
            table_tags = self.tags_of_table(db, tbl)
            for g in self._held(principal, self.tag_policies):
                r = g.resource
                if r.resource_type != "TABLE":
                    continue
                held = expand(g.permissions, TABLE_PERMISSIONS)
                if expression_matches(r.expression, table_tags):
                    perms |= held - {"SELECT"}
                if "SELECT" in held:
                    cols = frozenset(
                        c
                        for c in columns
                        if expression_matches(r.expression, self.tags_of_column(db, tbl, c))
                    )
                    if cols:
                        perms.add("SELECT")
                        shares.append((None if cols == everything else cols, None))
        return Access(frozenset(perms & TABLE_PERMISSIONS), tuple(shares))

    def table_view(self, principal: Principal, table: Table) -> TableView:
        access = self.table_access(principal, table)
        key = ("view", principal.key, table.database.lower(), table.name.lower(), table.version)
        return self._memoised(key, lambda: self._view(principal, table, access))

    def _view(self, principal: Principal, table: Table, access: Access) -> TableView:
        shares = access.shares
        if not shares:
            raise AccessDenied(
                f"Insufficient Lake Formation permission(s): {principal.arn} has no SELECT "
                f"on {table.database}.{table.name}",
                "lakeformation:SELECT",
                f"{table.database}.{table.name}",
            )
        if _FULL in shares:
            return FULL_VIEW
        everything = frozenset(c.name.lower() for c in table.all_columns)
        columns: set[str] = set()
        for cols, _ in shares:
            columns |= everything if cols is None else cols
        row_filter = _disjunction([rows for _, rows in shares])
        # Lake Formation unites filters cell by cell: a column shows its value only in
        # the rows of the grants that include it
        column_filters = []
        for column in sorted(columns):
            rows_of = [rows for cols, rows in shares if cols is None or column in cols]
            condition = _disjunction(rows_of)
            if condition != row_filter:
                column_filters.append((column, condition or "TRUE"))
        return TableView(
            None if columns >= everything else frozenset(columns),
            row_filter,
            tuple(column_filters),
        )

    # -- catalog and locations --------------------------------------------------------------------
    def can_create_database(self, principal: Principal) -> bool:
        if self.is_admin(principal):
            return True
        return any(
            "CREATE_DATABASE" in g.permissions for g in self._held(principal, self.catalog_grants)
        )

    def catalog_permissions(self, principal: Principal) -> frozenset[str]:
        out: set[str] = set()
        if self.is_admin(principal):
            out |= {"CREATE_DATABASE", "CREATE_LF_TAG", "DESCRIBE"}
        for g in self._held(principal, self.catalog_grants):
            out |= set(g.permissions)
        return frozenset(out)

    def registration(self, uri: str) -> Any:
        """The registered location ``uri`` lies under (the longest), or None."""
        best = None
        for prefix, reg in self.locations:
            if under(uri, prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, reg)
        return None if best is None else best[1]

    def governed_location(self, uri: str) -> bool:
        """Whether ``uri`` (any spelling of it: ``lake_uri``) lies under a registered
        location."""
        uri = lake_uri(uri)
        return is_s3(uri) and self.registration(uri) is not None

    def registered_below(self, uri: str) -> list[str]:
        """The registered locations strictly below ``uri``: a table over a parent of them
        reads what they govern."""
        uri = lake_uri(uri).rstrip("/")
        return [prefix for prefix, _ in self.locations if prefix != uri and under(prefix, uri)]

    def reserved_location(self, uri: str) -> bool:
        """Whether ``uri`` is (or holds) the audit table's location: every principal's
        decisions, which only data lake admins read and only lakebox writes."""
        uri = lake_uri(uri).rstrip("/")
        return is_s3(uri) and (under(uri, AUDIT_BUCKET) or under(AUDIT_BUCKET, uri))

    def location_access(self, principal: Principal, uri: str) -> bool:
        """DATA_LOCATION_ACCESS on ``uri`` (any spelling of it): on the registered
        location it lies under, and on every registered location below it (a table over
        a parent reads them too). The audit location is refused to all but admins."""
        if self.is_admin(principal):
            return True
        uri = lake_uri(uri)
        if self.reserved_location(uri):
            return False
        wanted = self.registered_below(uri)
        if self.governed_location(uri):
            wanted.append(uri)
        if not wanted:
            return True
        ids = identities(principal)
        granted = [
            s3_uri(g.resource.name)
            for g in self.location_grants
            if g.principal in ids and "DATA_LOCATION_ACCESS" in g.permissions
        ]
        return all(any(under(w, g) for g in granted) for w in wanted)

    def tag_key_permissions(self, principal: Principal, key: str) -> frozenset[str]:
        out: set[str] = set()
        if self.is_admin(principal):
            out |= {"ASSOCIATE", "DESCRIBE", "ALTER", "DROP", "GRANT_WITH_LF_TAG_EXPRESSION"}
        elif self.is_read_only_admin(principal):
            out.add("DESCRIBE")
        for tag in self.state.tags:
            if tag.key == key and tag.creator in identities(principal):
                out |= {"DESCRIBE", "ALTER", "DROP"}  # its creator changes and deletes it
        for g in self._held(principal, self.tag_key_grants):
            if g.resource.name == key:
                out |= set(g.permissions)
        return frozenset(out)
