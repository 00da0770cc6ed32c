"""Lake Formation for one lake: the ``LakePermissions`` the enforcers ask (planner,
listings, doors) and the typed administration API the HTTP API, the CLI and Step
Functions tasks call.

Every question is answered from a ``Policy`` built from one generation of the store
(``policy.py``); the generation is read on each question (one indexed SQLite read), so a
grant or revoke made by any process takes effect on the next statement. Administration
calls take the caller and apply Lake Formation's own rule on top of IAM's (which the API
layer checks): only data lake admins, or holders of the grant option, may grant.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lakebox.catalog.model import Table
from lakebox.catalog.permissions import TableView
from lakebox.catalog.store import CatalogStore
from lakebox.errors import LakeboxError
from lakebox.governance.audit import AUDIT_LOCATION, AuditLog, ensure_audit_table
from lakebox.governance.errors import (
    AccessDeniedLF,
    AlreadyExists,
    EntityNotFound,
    InvalidInput,
    LimitExceeded,
)
from lakebox.governance.model import (
    DATABASE_PERMISSIONS,
    IAM_ALLOWED_PRINCIPALS,
    MAX_FILTERS_PER_TABLE,
    MAX_TAG_VALUES,
    MAX_TAGS_PER_RESOURCE,
    TABLE_PERMISSIONS,
    DataCellsFilter,
    DataLakeSettings,
    Expression,
    Grant,
    LFTag,
    Registration,
    Resource,
    TagAssignment,
    allowed_permissions,
    check_location_arn,
    check_name,
    check_principal,
    check_tag_key,
    expand,
    expression_matches,
    location_arn,
    s3_uri,
    under,
)
from lakebox.governance.policy import (
    AUDIT_DATABASE,
    AUDIT_TABLE,
    Policy,
    canonical,
    identities,
)
from lakebox.governance.rowfilter import check_row_filter
from lakebox.governance.store import LakeFormationStore
from lakebox.metadata.sqlite import Connection
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.storage import Storage
from lakebox.storage.locations import lake_uri


@dataclass(frozen=True)
class BatchFailure:
    """One entry of a batch operation that failed: its index, code and message."""

    index: int
    code: str
    message: str


@dataclass(frozen=True)
class ResourceTags:
    """GetResourceLFTags' answer: the tags on a database, a table and its columns
    (inherited ones included: each pair says where it was assigned)."""

    database: list[tuple[str, str]]
    table: list[tuple[str, str]]
    columns: dict[str, list[tuple[str, str]]]


def _perm_kinds(resource: Resource) -> frozenset[str]:
    """The members ``ALL`` stands for on ``resource``."""
    if resource.kind == "DATABASE" or (
        resource.kind == "LF_TAG_POLICY" and resource.resource_type == "DATABASE"
    ):
        return DATABASE_PERMISSIONS
    if resource.kind in ("TABLE", "LF_TAG_POLICY"):
        return TABLE_PERMISSIONS
    return allowed_permissions(resource)


class LakeFormationService:
    """Lake Formation's store, rules and audit log for one lake (``lake.lakeformation``)."""

    def __init__(
        self,
        metadata_dir: Path,
        catalog: CatalogStore,
        storage: Storage,
        *,
        account_id: str,
        region: str,
        unrestricted: Callable[[Principal], bool] | None = None,
        audit_location: str = AUDIT_LOCATION,
        results_locations: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.store = LakeFormationStore(metadata_dir, account_id)
        self.catalog = catalog
        self.storage = storage
        self.account_id = account_id
        self.region = region
        self._unrestricted = unrestricted
        self._results_locations = results_locations
        self.audit = AuditLog(storage, audit_location)
        self._audit_ready = False
        self._policy_cache: Policy | None = None
        self._lock = threading.RLock()

    def close(self) -> None:
        self.audit.close()
        self.store.close()

    # -- the policy of the current generation -----------------------------------------------------
    def policy(self) -> Policy:
        generation = self.store.generation()
        cached = self._policy_cache
        if cached is not None and cached.generation == generation:
            return cached
        with self._lock:
            cached = self._policy_cache
            if cached is not None and cached.generation == generation:
                return cached
            fresh = Policy(self.store.load(), self.account_id, self._database_created)
            self._policy_cache = fresh
            return fresh

    # -- LakePermissions ---------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.policy().active

    def _database_created(self, database: str) -> float | None:
        try:
            return self.catalog.get_database(database).create_time
        except LakeboxError:
            return None

    def policy_version(self) -> int:
        return self.store.generation()

    def database_permissions(self, principal: Principal, database: str) -> frozenset[str]:
        policy = self.policy()
        if not policy.active:
            return DATABASE_PERMISSIONS
        return policy.database_permissions(principal, database)

    def table_permissions(self, principal: Principal, table: Table) -> frozenset[str]:
        policy = self.policy()
        if not policy.active:
            return TABLE_PERMISSIONS
        return policy.table_access(principal, table).permissions

    def can_see_database(self, principal: Principal, database: str) -> bool:
        policy = self.policy()
        if not policy.active or policy.database_permissions(principal, database):
            return True
        try:
            tables = self.catalog.list_tables(database)
        except Exception:
            return False
        return any(policy.table_access(principal, t).permissions for t in tables)

    def can_see_table(self, principal: Principal, table: Table) -> bool:
        policy = self.policy()
        return not policy.active or bool(policy.table_access(principal, table).permissions)

    def table_view(self, principal: Principal, table: Table) -> TableView:
        policy = self.policy()
        if not policy.active:
            return TableView()
        return policy.table_view(principal, table)

    def can_create_database(self, principal: Principal) -> bool:
        policy = self.policy()
        return not policy.active or policy.can_create_database(principal)

    def governed_location(self, uri: str) -> bool:
        return self.policy().governed_location(lake_uri(uri, self.storage.config))

    def location_access(self, principal: Principal, uri: str) -> bool:
        """DATA_LOCATION_ACCESS (``Policy.location_access``); a table over where queries
        write their results (every principal's) is refused to all but admins, as one
        over the audit bucket is: those locations cannot be registered, so nothing else
        would stand between the table and others' results. Its ``tables/`` folder, where
        a CTAS without ``external_location`` writes its table, is not reserved (IAM's S3
        permissions decide there)."""
        uri = lake_uri(uri, self.storage.config)
        policy = self.policy()
        if not policy.is_admin(principal) and any(
            under(uri, r) and not under(uri, f"{r}/tables") for r in self._results()
        ):
            return False  # (``tables/`` holds the tables CTAS makes without a location)
        return policy.location_access(principal, uri)

    def note_created(self, principal: Principal, database: str, table: str | None = None) -> None:
        """The creator holds ALL on what it made; the lake's create-database or
        create-table default permissions are granted on it. Grants made on an earlier
        object of the same name stay (AWS keeps them)."""
        db = database.lower()
        tbl = table.lower() if table is not None else None
        settings = self.policy().state.settings
        defaults = settings.create_table_default if tbl else settings.create_database_default
        with self.store.write() as con:
            # grants made on an object of the same name before stay, as in AWS ("if you
            # delete and recreate a resource with that same ARN, the resource maintains
            # the permissions already granted")
            self.store.note_object(con, db, tbl or "", canonical(principal))
            resource = (
                Resource("TABLE", self.account_id, database=db, table=tbl)
                if tbl
                else Resource("DATABASE", self.account_id, database=db)
            )
            for default in defaults:
                perms, grantable = self.store.grant_row(con, default.principal, resource)
                self.store.set_grant(
                    con,
                    default.principal,
                    resource,
                    perms | set(default.permissions),
                    grantable,
                    "lakebox:default-permissions",
                )

    def note_dropped(self, database: str, table: str | None = None) -> None:
        """``database`` (with every table in it) or ``table`` in it was dropped: forget
        who created it, so that whoever makes an object of the same name later (a writer
        that does not report itself included) is not taken for its creator. Grants made
        on it stay, as AWS keeps them for a resource recreated with the same ARN."""
        db = database.lower()
        tbl = table.lower() if table is not None else None
        objects = self.policy().objects
        if tbl is None:
            noted = any(key[0] == db and creator for key, creator in objects.items())
        else:
            noted = bool(objects.get((db, tbl)))
        if not noted:
            return  # no creator recorded: no write, no new policy version
        with self.store.write() as con:
            self.store.forget_creator(con, db, tbl)

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        allowed: bool,
        request_id: str | None = None,
    ) -> None:
        if not self._audit_ready:
            self._ensure_audit()
        self.audit.write(
            {
                "event_time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "principal": principal.arn,
                "account_id": principal.account_id,
                "action": action,
                "resource": resource,
                "allowed": bool(allowed),
                "request_id": request_id,
            }
        )

    def _ensure_audit(self) -> None:
        """The audit table, made by the local administrator on first use: no default
        permissions are applied to it, so only admins (and the local admin) read it."""
        with self._lock:
            if self._audit_ready:
                return
            if ensure_audit_table(
                self.catalog, AUDIT_DATABASE, AUDIT_TABLE, self.audit.location
            ) or not self._noted(AUDIT_DATABASE, AUDIT_TABLE):
                with self.store.write() as con:
                    for tbl in ("", AUDIT_TABLE):
                        self.store.drop_object_grants(con, AUDIT_DATABASE, tbl or None)
                        self.store.note_object(con, AUDIT_DATABASE, tbl, LOCAL_ADMIN.arn)
            self._audit_ready = True

    def _noted(self, db: str, tbl: str) -> bool:
        return (db, tbl) in self.policy().objects

    def ensure_audit_table(self) -> None:
        """Make ``lakebox_audit.access_log`` now (it is made on the first record anyway)."""
        self._ensure_audit()

    # -- who may administer ----------------------------------------------------------------------
    def is_admin(self, caller: Principal) -> bool:
        if caller.is_local_admin:
            return True
        if self._unrestricted is not None and self._unrestricted(caller):
            return True
        return self.policy().is_admin(caller)

    def _require_admin(self, caller: Principal, doing: str) -> None:
        if not self.is_admin(caller):
            raise AccessDeniedLF(
                f"{caller.arn} may not {doing}: only a data lake administrator may "
                "(PutDataLakeSettings DataLakeAdmins)"
            )

    def _can_grant(
        self, caller: Principal, policy: Policy, resource: Resource, wanted: set[str]
    ) -> bool:
        if self.is_admin(caller):
            return True
        ids = identities(caller)
        if resource.kind in ("DATABASE", "TABLE", "TABLE_WITH_COLUMNS", "DATA_CELLS_FILTER"):
            key = (resource.database, "" if resource.kind == "DATABASE" else resource.table)
            if policy.objects.get(key) in ids:
                return True  # creators may grant on what they made
        held: set[str] = set()
        for grant in policy.state.grants:
            if grant.principal in ids and grant.resource.key() == resource.key():
                held |= expand(grant.grantable, _perm_kinds(resource))
        return expand(tuple(wanted), _perm_kinds(resource)) <= held

    def _has_grant_option(self, caller: Principal, policy: Policy, resource: Resource) -> bool:
        """Whether ``caller`` may grant anything at all on ``resource`` (ListPermissions
        shows a non-admin the grants on such resources)."""
        ids = identities(caller)
        if resource.kind in ("DATABASE", "TABLE", "TABLE_WITH_COLUMNS", "DATA_CELLS_FILTER"):
            key = (resource.database, "" if resource.kind == "DATABASE" else resource.table)
            if policy.objects.get(key) in ids:
                return True
        return any(
            g.grantable and g.principal in ids and g.resource.key() == resource.key()
            for g in policy.state.grants
        )

    # -- settings ----------------------------------------------------------------------------------
    def get_settings(self) -> DataLakeSettings:
        return self.policy().state.settings

    def put_settings(self, caller: Principal, settings: DataLakeSettings) -> None:
        """AWS lets anyone IAM allows ``lakeformation:PutDataLakeSettings``; lakebox also
        asks that the caller be an admin already or the lake's unrestricted principal, so
        that no one can make themselves an admin with a narrow IAM grant."""
        self._require_admin(caller, "change the data lake settings")
        with self.store.write() as con:
            self.store.put_settings(con, settings)

    # -- grants ------------------------------------------------------------------------------------
    def _check_resource(self, resource: Resource, policy: Policy) -> None:
        """The resource exists (EntityNotFound) and its columns, values, location are valid."""
        kind = resource.kind
        if kind in (
            "DATABASE",
            "TABLE",
            "TABLE_WITH_COLUMNS",
            "DATA_CELLS_FILTER",
        ) and not self.catalog.database_exists(resource.database):
            raise EntityNotFound(f"Database {resource.database} not found.")
        if kind in ("TABLE_WITH_COLUMNS", "DATA_CELLS_FILTER") or (
            kind == "TABLE" and not resource.wildcard
        ):
            table = self._table(resource.database, resource.table)
            if kind == "TABLE_WITH_COLUMNS":
                names = resource.columns if resource.columns is not None else resource.excluded
                missing = [c for c in names or () if table.column(c) is None]
                if missing:
                    raise InvalidInput(
                        f"Table {resource.database}.{resource.table} has no column(s) "
                        f"{', '.join(missing)}"
                    )
            if kind == "DATA_CELLS_FILTER" and (
                (resource.database, resource.table, resource.name) not in policy.filters
            ):
                raise EntityNotFound(
                    f"Data cells filter {resource.name} on {resource.database}.{resource.table} "
                    "not found."
                )
        if kind == "DATA_LOCATION" and policy.registration(s3_uri(resource.name)) is None:
            raise InvalidInput(
                f"{resource.name} is not a registered location: register it first "
                "(RegisterResource) before granting DATA_LOCATION_ACCESS on it"
            )
        if kind == "LF_TAG":
            self._check_tag_values(policy, resource.name, resource.values)
        if kind == "LF_TAG_POLICY":
            for key, values in resource.expression:
                self._check_tag_values(policy, key, values)

    def _check_tag_values(self, policy: Policy, key: str, values: Sequence[str]) -> LFTag:
        tag = next((t for t in policy.state.tags if t.key == key), None)
        if tag is None:
            raise EntityNotFound(f"Tag key {key} not found.")
        bad = [v for v in values if v != "*" and v not in tag.values]
        if bad:
            raise InvalidInput(
                f"Tag value(s) {', '.join(bad)} are not values of the LF-tag {key} "
                f"(allowed: {', '.join(tag.values)})"
            )
        return tag

    def _table(self, database: str, table: str) -> Table:
        if not self.catalog.table_exists(database, table):
            raise EntityNotFound(f"Table {table} not found in database {database}.")
        return self.catalog.get_table(database, table)

    def _check_grant(
        self, principal: str, resource: Resource, perms: Sequence[str], grantable: Sequence[str]
    ) -> None:
        allowed = allowed_permissions(resource)
        bad = sorted((set(perms) | set(grantable)) - allowed)
        if bad:
            raise InvalidInput(
                f"Permissions {', '.join(bad)} cannot be granted on a {resource.kind} resource "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
        if not perms and not grantable:
            raise InvalidInput("Permissions must name at least one permission")
        if not set(grantable) <= set(perms) | ({"ALL"} if "ALL" in perms else set()):
            extra = sorted(set(grantable) - set(perms))
            if extra and "ALL" not in perms:
                raise InvalidInput(
                    f"PermissionsWithGrantOption {', '.join(extra)} must also be in Permissions"
                )
        if resource.kind == "TABLE_WITH_COLUMNS" and grantable and resource.columns is None:
            raise InvalidInput(
                "Grantable permissions on columns need an include list: give ColumnNames, "
                "not ColumnWildcard, with PermissionsWithGrantOption"
            )
        if principal == IAM_ALLOWED_PRINCIPALS and resource.kind not in (
            "CATALOG",
            "DATABASE",
            "TABLE",
        ):
            raise InvalidInput(
                "IAM_ALLOWED_PRINCIPALS can only hold permissions on the catalog, databases "
                "and tables"
            )

    def grant(
        self,
        caller: Principal,
        principal: str,
        resource: Resource,
        permissions: Sequence[str],
        grantable: Sequence[str] = (),
    ) -> None:
        """GrantPermissions: add ``permissions`` (and ``grantable``, the grant option) to
        what ``principal`` holds on ``resource``."""
        principal = check_principal(principal)
        policy = self.policy()
        self._check_grant(principal, resource, permissions, grantable)
        self._check_resource(resource, policy)
        if not self._can_grant(caller, policy, resource, set(permissions) | set(grantable)):
            raise AccessDeniedLF(
                f"Insufficient Lake Formation permission(s): {caller.arn} may not grant "
                f"{', '.join(sorted(set(permissions)))} on this resource (it needs the grant "
                "option on it, or to be a data lake administrator)"
            )
        with self.store.write() as con:
            if resource.kind == "DATA_CELLS_FILTER":
                self._check_filter_count(con, principal, resource)
            perms, grant_opt = self.store.grant_row(con, principal, resource)
            self.store.set_grant(
                con,
                principal,
                resource,
                perms | set(permissions),
                grant_opt | set(grantable),
                caller.arn,
            )

    def _check_filter_count(self, con: Connection, principal: str, resource: Resource) -> None:
        rows = con.execute(
            "SELECT resource_key FROM permissions WHERE principal = ? AND kind = "
            "'DATA_CELLS_FILTER' AND db = ? AND tbl = ?",
            (principal, resource.database, resource.table),
        ).fetchall()
        keys = {r[0] for r in rows}
        if resource.key() not in keys and len(keys) >= MAX_FILTERS_PER_TABLE:
            raise InvalidInput(
                f"{principal} already holds {MAX_FILTERS_PER_TABLE} data cells filters on "
                f"{resource.database}.{resource.table}, the most Lake Formation allows"
            )

    def revoke(
        self,
        caller: Principal,
        principal: str,
        resource: Resource,
        permissions: Sequence[str],
        grantable: Sequence[str] = (),
    ) -> None:
        """RevokePermissions: remove ``permissions`` (and the grant option on
        ``grantable``) from what ``principal`` holds on exactly ``resource``."""
        principal = check_principal(principal)
        policy = self.policy()
        self._check_grant(principal, resource, list(permissions) or list(grantable), [])
        if not self._can_grant(caller, policy, resource, set(permissions) | set(grantable)):
            raise AccessDeniedLF(
                f"Insufficient Lake Formation permission(s): {caller.arn} may not revoke "
                "permissions on this resource"
            )
        members = _perm_kinds(resource)
        with self.store.write() as con:
            self._materialise(con, principal, resource, policy)
            perms, grant_opt = self.store.grant_row(con, principal, resource)
            if not perms and not grant_opt:
                raise InvalidInput(
                    "No permissions revoked. Grantee has no permissions and no grantable "
                    "permissions on resource."
                )
            held = expand(tuple(perms), members) if "ALL" in perms else set(perms)
            held_grant = expand(tuple(grant_opt), members) if "ALL" in grant_opt else set(grant_opt)
            drop = expand(tuple(permissions), members) | (
                {"ALL"} if "ALL" in permissions else set()
            )
            drop_grant = expand(tuple(grantable), members) | (
                {"ALL"} if "ALL" in grantable else set()
            )
            # revoking a permission revokes its grant option with it
            new_perms = held - drop
            new_grant = held_grant - drop_grant - drop
            if new_perms == held and new_grant == held_grant:
                raise InvalidInput(
                    "No permissions revoked. Grantee has no permissions and no grantable "
                    "permissions on resource."
                )
            self.store.set_grant(con, principal, resource, new_perms, new_grant, caller.arn)

    def _materialise(
        self, con: Connection, principal: str, resource: Resource, policy: Policy
    ) -> None:
        """A database or table lakebox has no record of holds the default permissions in
        force when it was made (IAMAllowedPrincipals' ALL in AWS's default mode); a revoke
        on it first writes those grants down, then takes from them."""
        if resource.kind not in ("DATABASE", "TABLE") or resource.wildcard:
            return
        tbl = resource.table if resource.kind == "TABLE" else ""
        if self.store.has_object(con, resource.database, tbl):
            return
        for grant in self._unrecorded_defaults(policy, resource.database, tbl):
            perms, grantable = self.store.grant_row(con, grant.principal, resource)
            self.store.set_grant(
                con, grant.principal, resource, perms | set(grant.permissions), grantable, "lakebox"
            )
        self.store.note_object(con, resource.database, tbl, None)

    def _unrecorded_defaults(self, policy: Policy, db: str, tbl: str) -> list[Grant]:
        """The grants an object lakebox has no record of holds: the defaults in force when
        the catalog made it."""
        if tbl:
            try:
                created = self.catalog.get_table(db, tbl).create_time
            except LakeboxError:
                return []
            resource = Resource("TABLE", self.account_id, database=db, table=tbl)
            defaults = policy.defaults_at(created, table=True)
        else:
            resource = Resource("DATABASE", self.account_id, database=db)
            defaults = policy.defaults_at(policy.database_created(db), table=False)
        return [Grant(pp.principal, resource, pp.permissions) for pp in defaults]

    def batch(
        self,
        caller: Principal,
        entries: Sequence[tuple[str, Resource, Sequence[str], Sequence[str]] | Exception],
        *,
        revoke: bool,
    ) -> list[BatchFailure]:
        """BatchGrantPermissions / BatchRevokePermissions: each entry on its own; the
        failures come back (an entry that did not parse arrives as its exception)."""
        failures = []
        for i, entry in enumerate(entries):
            try:
                if isinstance(entry, Exception):
                    raise entry
                principal, resource, perms, grantable = entry
                if revoke:
                    self.revoke(caller, principal, resource, perms, grantable)
                else:
                    self.grant(caller, principal, resource, perms, grantable)
            except (InvalidInput, EntityNotFound, AccessDeniedLF, AlreadyExists) as err:
                failures.append(BatchFailure(i, err.code, str(err)))
        return failures

    def list_permissions(
        self,
        caller: Principal,
        *,
        principal: str | None = None,
        kinds: Sequence[str] | None = None,
        resource: Resource | None = None,
        resource_type: str | None = None,
    ) -> list[Grant]:
        """ListPermissions: admins see every grant; another caller sees the grants made
        to it and those on resources it may grant on."""
        policy = self.policy()
        admin = self.is_admin(caller) or policy.is_read_only_admin(caller)
        ids = identities(caller)
        grants = list(policy.state.grants)
        if resource is None or resource.kind in ("DATABASE", "TABLE"):
            grants += self._implicit_defaults(policy, resource)
        out = []
        for grant in grants:
            if principal is not None and grant.principal != principal:
                continue
            r = grant.resource
            if kinds is not None and r.kind not in kinds:
                continue
            if resource_type in ("LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE") and (
                r.resource_type != resource_type.rsplit("_", 1)[1]
            ):
                continue
            if resource is not None and not _same_object(r, resource):
                continue
            if (
                not admin
                and grant.principal not in ids
                and not self._has_grant_option(caller, policy, r)
            ):
                continue
            out.append(grant)
        return out

    def _implicit_defaults(self, policy: Policy, resource: Resource | None) -> list[Grant]:
        """The grants of the databases and tables lakebox has no record of (the defaults
        in force when they were made: IAMAllowedPrincipals' ALL in AWS's default mode), as
        ListPermissions shows them."""
        out = []
        dbs = (
            [resource.database]
            if resource is not None
            else [d.name for d in self.catalog.list_databases()]
        )
        for db in dbs:
            if not self.catalog.database_exists(db):
                continue
            if (db, "") not in policy.objects and (resource is None or resource.kind == "DATABASE"):
                out += self._unrecorded_defaults(policy, db, "")
            if resource is not None and resource.kind == "DATABASE":
                continue
            for table in self.catalog.list_tables(db):
                name = table.name.lower()
                if resource is not None and resource.table not in (name, "*"):
                    continue
                if (db, name) not in policy.objects:
                    defaults = policy.defaults_at(table.create_time, table=True)
                    r = Resource("TABLE", self.account_id, database=db, table=name)
                    out += [Grant(pp.principal, r, pp.permissions) for pp in defaults]
        return out

    def effective_permissions_for_path(self, caller: Principal, resource_arn: str) -> list[Grant]:
        """GetEffectivePermissionsForPath: the grants on the location ``resource_arn`` (or
        locations it lies under) and on the tables over it."""
        self._require_admin(caller, "read the effective permissions of a location")
        uri = s3_uri(check_location_arn(resource_arn))
        policy = self.policy()
        out = []
        for grant in policy.state.grants:
            r = grant.resource
            if r.kind == "DATA_LOCATION" and (
                under(uri, s3_uri(r.name)) or under(s3_uri(r.name), uri)
            ):
                out.append(grant)
            elif r.kind in ("TABLE", "TABLE_WITH_COLUMNS") and not r.wildcard:
                try:
                    table = self.catalog.get_table(r.database, r.table)
                except Exception:
                    continue
                if table.location and under(table.location.rstrip("/"), uri):
                    out.append(grant)
        return out

    # -- registered locations ----------------------------------------------------------------------
    def register(
        self,
        caller: Principal,
        resource_arn: str,
        *,
        role_arn: str | None = None,
        use_service_linked_role: bool = False,
        hybrid_access: bool = False,
        with_federation: bool = False,
    ) -> Registration:
        self._require_admin(caller, "register a location")
        arn = check_location_arn(resource_arn)
        uri = s3_uri(arn)
        if role_arn is None and not use_service_linked_role:
            raise InvalidInput("Give RoleArn or set UseServiceLinkedRole to register a location")
        if role_arn is not None and use_service_linked_role:
            raise InvalidInput("Give either RoleArn or UseServiceLinkedRole, not both")
        if role_arn is not None:
            check_principal(role_arn, "RoleArn")
            if ":role/" not in role_arn:
                raise InvalidInput(f"RoleArn {role_arn} is not an IAM role ARN")
        else:
            role_arn = (
                f"arn:aws:iam::{self.account_id}:role/aws-service-role/"
                "lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
            )
        for results in self._results():
            if under(uri, results) or under(results, uri):
                raise InvalidInput(
                    f"{arn} holds query results ({results}/): Athena's query result "
                    "locations cannot be registered with Lake Formation"
                )
        policy = self.policy()
        for prefix, _ in policy.locations:
            if prefix != uri and (under(uri, prefix) or under(prefix, uri)):
                raise AlreadyExists(
                    f"{arn} overlaps the registered location {location_arn(prefix)}: "
                    "deregister it first"
                )
        reg = Registration(
            arn, role_arn, use_service_linked_role, hybrid_access, with_federation, time.time()
        )
        with self.store.write() as con:
            if not self.store.put_location(con, reg, replace=False):
                raise AlreadyExists(f"Resource is already registered: {arn}")
        return reg

    def _results(self) -> list[str]:
        found = ["s3://lakebox-query-results"]
        if self._results_locations is not None:
            found += [r.rstrip("/") for r in self._results_locations() if r.startswith("s3://")]
        return found

    def update_registration(
        self,
        caller: Principal,
        resource_arn: str,
        *,
        role_arn: str,
        hybrid_access: bool | None = None,
        with_federation: bool | None = None,
    ) -> Registration:
        self._require_admin(caller, "update a registered location")
        arn = check_location_arn(resource_arn)
        check_principal(role_arn, "RoleArn")
        if ":role/" not in role_arn:
            raise InvalidInput(f"RoleArn {role_arn} is not an IAM role ARN")
        with self.store.write() as con:
            current = self.store.location(con, arn)
            if current is None:
                raise EntityNotFound(f"Entity not found: {arn} is not registered")
            reg = replace(
                current,
                role_arn=role_arn,
                use_service_linked_role=False,
                hybrid_access=current.hybrid_access if hybrid_access is None else hybrid_access,
                with_federation=(
                    current.with_federation if with_federation is None else with_federation
                ),
                last_modified=time.time(),
            )
            self.store.put_location(con, reg, replace=True)
        return reg

    def deregister(self, caller: Principal, resource_arn: str) -> None:
        self._require_admin(caller, "deregister a location")
        arn = check_location_arn(resource_arn)
        with self.store.write() as con:
            if not self.store.delete_location(con, arn):
                raise EntityNotFound(f"Entity not found: {arn} is not registered")

    def describe_resource(self, resource_arn: str) -> Registration:
        arn = check_location_arn(resource_arn)
        for _, reg in self.policy().locations:
            if reg.resource_arn == arn:
                return reg
        raise EntityNotFound(f"Entity not found: {arn} is not registered")

    def list_resources(self) -> list[Registration]:
        return [reg for _, reg in self.policy().locations]

    def opt_in(self, caller: Principal, principal: str, database: str, table: str = "*") -> None:
        """Hybrid access: ``principal`` is judged by its Lake Formation grants on the table
        (every table of ``database`` with ``*``) instead of by IAM alone."""
        self._require_admin(caller, "opt principals in to hybrid access")
        principal = check_principal(principal)
        db = check_name(database, "DatabaseName")
        tbl = table if table == "*" else check_name(table, "TableName")
        with self.store.write() as con:
            self.store.opt_in(con, principal, db, tbl)

    def opt_out(self, caller: Principal, principal: str, database: str, table: str = "*") -> None:
        self._require_admin(caller, "opt principals out of hybrid access")
        principal = check_principal(principal)
        db = database.lower()
        tbl = table if table == "*" else table.lower()
        with self.store.write() as con:
            if not self.store.opt_out(con, principal, db, tbl):
                raise EntityNotFound(f"{principal} is not opted in on {db}.{tbl}")

    # -- LF-tags -----------------------------------------------------------------------------------
    def _require_catalog(self, caller: Principal, permission: str, doing: str) -> None:
        if self.is_admin(caller):
            return
        if permission not in self.policy().catalog_permissions(caller):
            raise AccessDeniedLF(
                f"Insufficient Lake Formation permission(s): {caller.arn} may not {doing} "
                f"(needs {permission} on the catalog)"
            )

    def _require_tag(self, caller: Principal, key: str, permission: str, doing: str) -> None:
        if self.is_admin(caller):
            return
        if permission not in self.policy().tag_key_permissions(caller, key):
            raise AccessDeniedLF(
                f"Insufficient Lake Formation permission(s): {caller.arn} may not {doing} "
                f"(needs {permission} on the LF-tag {key})"
            )

    def create_tag(self, caller: Principal, key: str, values: Sequence[str]) -> LFTag:
        self._require_catalog(caller, "CREATE_LF_TAG", "create LF-tags")
        tag = LFTag(check_tag_key(key), tuple(dict.fromkeys(values)), canonical(caller))
        with self.store.write() as con:
            if self.store.tag(con, tag.key) is not None:
                raise AlreadyExists(f"Tag key already exists: {tag.key}")
            self.store.put_tag(con, tag)
        return tag

    def get_tag(self, key: str, caller: Principal | None = None) -> LFTag:
        key = check_tag_key(key)
        policy = self.policy()
        for tag in policy.state.tags:
            if tag.key == key:
                if (
                    caller is not None
                    and not self.is_admin(caller)
                    and not policy.is_read_only_admin(caller)
                    and not policy.tag_key_permissions(caller, key)
                ):
                    raise AccessDeniedLF(
                        f"Insufficient Lake Formation permission(s): {caller.arn} holds no "
                        f"permission on the LF-tag {key}"
                    )
                return tag
        raise EntityNotFound(f"Tag key {key} not found.")

    def list_tags(self, caller: Principal | None = None) -> list[LFTag]:
        tags = list(self.policy().state.tags)
        if caller is None or self.is_admin(caller):
            return tags
        policy = self.policy()
        return [
            t
            for t in tags
            if policy.is_read_only_admin(caller) or policy.tag_key_permissions(caller, t.key)
        ]

    def update_tag(
        self, caller: Principal, key: str, add: Sequence[str] = (), delete: Sequence[str] = ()
    ) -> LFTag:
        key = check_tag_key(key)
        self._require_tag(caller, key, "ALTER", "change LF-tags")
        if not add and not delete:
            raise InvalidInput("Give TagValuesToAdd or TagValuesToDelete")
        with self.store.write() as con:
            tag = self.store.tag(con, key)
            if tag is None:
                raise EntityNotFound(f"Tag key {key} not found.")
            missing = [v for v in delete if v not in tag.values]
            if missing:
                raise InvalidInput(f"Tag {key} has no value(s) {', '.join(missing)}")
            in_use = None
            for value in delete:
                in_use = (
                    in_use
                    or con.execute(
                        "SELECT value FROM tag_assignments WHERE key = ? AND value = ? LIMIT 1",
                        (key, value),
                    ).fetchone()
                )
            if in_use is not None:
                raise InvalidInput(
                    f"Tag value {in_use[0]} of {key} is assigned to resources: remove it from "
                    "them first"
                )
            values = tuple(dict.fromkeys([v for v in tag.values if v not in delete] + list(add)))
            if len(values) > MAX_TAG_VALUES:
                raise LimitExceeded(f"An LF-tag holds at most {MAX_TAG_VALUES} values")
            if not values:
                raise InvalidInput(f"Tag {key} would have no values left: delete the tag instead")
            updated = LFTag(key, values, tag.creator)
            self.store.put_tag(con, updated)
        return updated

    def delete_tag(self, caller: Principal, key: str) -> None:
        key = check_tag_key(key)
        self._require_tag(caller, key, "DROP", "delete LF-tags")
        with self.store.write() as con:
            if self.store.tag(con, key) is None:
                raise EntityNotFound(f"Tag key {key} not found.")
            used = con.execute(
                "SELECT resource_key FROM permissions WHERE kind IN ('LF_TAG', 'LF_TAG_POLICY')"
            ).fetchall()
            for (text,) in used:
                if f'"{key}"' in text:
                    raise InvalidInput(
                        f"Tag {key} is used in a grant: revoke the permissions that name it first"
                    )
            self.store.delete_tag(con, key)

    def _tag_target(self, resource: Resource) -> tuple[str, str, list[str]]:
        """(database, table, columns) a tag operation's resource names."""
        if resource.kind == "DATABASE":
            if not self.catalog.database_exists(resource.database):
                raise EntityNotFound(f"Database {resource.database} not found.")
            return resource.database, "", [""]
        if resource.kind == "TABLE" and not resource.wildcard:
            self._table(resource.database, resource.table)
            return resource.database, resource.table, [""]
        if resource.kind == "TABLE_WITH_COLUMNS" and resource.columns is not None:
            table = self._table(resource.database, resource.table)
            missing = [c for c in resource.columns if table.column(c) is None]
            if missing:
                raise InvalidInput(f"Table {table.name} has no column(s) {', '.join(missing)}")
            return resource.database, resource.table, list(resource.columns)
        raise InvalidInput(
            "LF-tags go on a Database, a Table (by Name) or TableWithColumns with ColumnNames"
        )

    def _require_tagging(
        self,
        caller: Principal,
        db: str,
        tbl: str,
        pairs: Sequence[tuple[str, Sequence[str]]],
        doing: str,
    ) -> None:
        """Lake Formation's rule for (un)tagging: ASSOCIATE on the LF-tag and ALTER on the
        resource, unless the caller is an admin."""
        if self.is_admin(caller):
            return
        policy = self.policy()
        if tbl:
            held = policy.table_access(caller, self.catalog.get_table(db, tbl)).permissions
        else:
            held = policy.database_permissions(caller, db)
        where = f"{db}.{tbl}" if tbl else db
        if "ALTER" not in held:
            raise AccessDeniedLF(
                f"Insufficient Lake Formation permission(s): {caller.arn} may not {doing} "
                f"{where} (needs ALTER on it)"
            )
        for key, _ in pairs:
            if "ASSOCIATE" not in policy.tag_key_permissions(caller, check_tag_key(key)):
                raise AccessDeniedLF(
                    f"Insufficient Lake Formation permission(s): {caller.arn} may not {doing} "
                    f"{where} (needs ASSOCIATE on the LF-tag {key})"
                )

    def add_tags(
        self, caller: Principal, resource: Resource, pairs: Sequence[tuple[str, Sequence[str]]]
    ) -> list[tuple[str, Sequence[str], str, str]]:
        """AddLFTagsToResource: each pair on its own; failures as (key, values, code,
        message). A key already on the resource gets the new value (one value per key).
        A caller other than an admin needs ALTER on the resource and ASSOCIATE on every
        key, or the whole call is refused."""
        db, tbl, columns = self._tag_target(resource)
        self._require_tagging(caller, db, tbl, pairs, "assign LF-tags to")
        policy = self.policy()
        failures: list[tuple[str, Sequence[str], str, str]] = []
        with self.store.write() as con:
            for key, values in pairs:
                try:
                    key = check_tag_key(key)
                    if len(values) != 1:
                        raise InvalidInput(
                            f"Give exactly one value of {key} to assign (one value per key on "
                            "a resource)"
                        )
                    self._check_tag_values(policy, key, values)
                    self._require_tag(caller, key, "ASSOCIATE", "assign LF-tags")
                    for col in columns:
                        current = self.store.assignments_of(con, db, tbl, col)
                        if key not in current and len(current) >= MAX_TAGS_PER_RESOURCE:
                            raise LimitExceeded(
                                f"A resource holds at most {MAX_TAGS_PER_RESOURCE} LF-tags"
                            )
                        self.store.assign(con, TagAssignment(db, tbl, col, key, values[0]))
                except (InvalidInput, EntityNotFound, AccessDeniedLF, LimitExceeded) as err:
                    failures.append((key, values, err.code, str(err)))
        return failures

    def remove_tags(
        self, caller: Principal, resource: Resource, pairs: Sequence[tuple[str, Sequence[str]]]
    ) -> list[tuple[str, Sequence[str], str, str]]:
        db, tbl, columns = self._tag_target(resource)
        self._require_tagging(caller, db, tbl, pairs, "remove LF-tags from")
        failures: list[tuple[str, Sequence[str], str, str]] = []
        with self.store.write() as con:
            for key, values in pairs:
                try:
                    key = check_tag_key(key)
                    self._require_tag(caller, key, "ASSOCIATE", "remove LF-tags")
                    for col in columns:
                        current = self.store.assignments_of(con, db, tbl, col)
                        if key not in current or (values and current[key] not in values):
                            raise EntityNotFound(
                                f"LF-tag {key} is not assigned to this resource with that value"
                            )
                        self.store.unassign(con, db, tbl, col, key)
                except (InvalidInput, EntityNotFound, AccessDeniedLF) as err:
                    failures.append((key, values, err.code, str(err)))
        return failures

    def resource_tags(self, resource: Resource) -> ResourceTags:
        """GetResourceLFTags: the effective tags of a database, a table and its columns."""
        db, tbl, columns = self._tag_target(resource)
        policy = self.policy()
        db_tags = sorted(policy.tags_of_database(db).items())
        if not tbl:
            return ResourceTags(db_tags, [], {})
        table_tags = sorted(policy.tags_of_table(db, tbl).items())
        names = (
            columns
            if columns != [""]
            else [c.name.lower() for c in self.catalog.get_table(db, tbl).all_columns]
        )
        return ResourceTags(
            db_tags,
            table_tags,
            {c: sorted(policy.tags_of_column(db, tbl, c).items()) for c in names},
        )

    def search_tables(
        self, caller: Principal, expression: Expression
    ) -> list[tuple[Table, dict[str, list[tuple[str, str]]]]]:
        """SearchTablesByLFTags: tables whose tags (or some column's) match, among those
        ``caller`` may see."""
        policy = self.policy()
        admin = self.is_admin(caller) or policy.is_read_only_admin(caller)
        out = []
        for database in self.catalog.list_databases():
            db = database.name.lower()
            for table in self.catalog.list_tables(db):
                tbl = table.name.lower()
                cols = [c.name.lower() for c in table.all_columns]
                matches = expression_matches(expression, policy.tags_of_table(db, tbl)) or any(
                    expression_matches(expression, policy.tags_of_column(db, tbl, c)) for c in cols
                )
                if matches and (admin or self.can_see_table(caller, table)):
                    out.append(
                        (
                            table,
                            {c: sorted(policy.tags_of_column(db, tbl, c).items()) for c in cols},
                        )
                    )
        return out

    def search_databases(self, caller: Principal, expression: Expression) -> list[str]:
        policy = self.policy()
        admin = self.is_admin(caller) or policy.is_read_only_admin(caller)
        return [
            d.name
            for d in self.catalog.list_databases()
            if expression_matches(expression, policy.tags_of_database(d.name.lower()))
            and (admin or self.can_see_database(caller, d.name))
        ]

    # -- data cells filters ------------------------------------------------------------------------
    def _check_filter(self, f: DataCellsFilter) -> DataCellsFilter:
        table = self._table(f.database, f.table)
        if table.is_view:
            raise InvalidInput(
                f"{f.database}.{f.table} is a view: data cells filters apply to tables only"
            )
        names = f.columns if f.columns is not None else f.excluded
        missing = [c for c in names or () if table.column(c) is None]
        if missing:
            raise InvalidInput(
                f"Table {f.database}.{f.table} has no column(s) {', '.join(missing)}"
            )
        if f.row_filter is not None:
            f = replace(f, row_filter=check_row_filter(f.row_filter, table, "TableData.RowFilter"))
        return f

    def _require_filter_admin(self, caller: Principal, database: str, table: str) -> None:
        if self.is_admin(caller):
            return
        if self.policy().objects.get((database, table)) in identities(caller):
            return
        raise AccessDeniedLF(
            f"Insufficient Lake Formation permission(s): {caller.arn} may not manage data "
            f"cells filters of {database}.{table} (admins and the table's creator may)"
        )

    def create_filter(self, caller: Principal, f: DataCellsFilter) -> DataCellsFilter:
        self._require_filter_admin(caller, f.database, f.table)
        f = self._check_filter(replace(f, catalog_id=self.account_id, version_id="0"))
        with self.store.write() as con:
            if not self.store.put_filter(con, f, replace=False):
                raise AlreadyExists(
                    f"A data cells filter named {f.name} already exists on {f.database}.{f.table}"
                )
        return f

    def update_filter(self, caller: Principal, f: DataCellsFilter) -> None:
        self._require_filter_admin(caller, f.database, f.table)
        f = self._check_filter(replace(f, catalog_id=self.account_id))
        with self.store.write() as con:
            if not self.store.put_filter(con, f, replace=True):
                raise EntityNotFound(f"Data cells filter {f.name} not found.")

    def get_filter(self, database: str, table: str, name: str) -> DataCellsFilter:
        key = (check_name(database, "DatabaseName"), check_name(table, "TableName"))
        name = check_name(name, "Name")
        found = self.policy().filters.get((*key, name))
        if found is None:
            raise EntityNotFound(f"Data cells filter {name} not found.")
        return found

    def delete_filter(self, caller: Principal, database: str, table: str, name: str) -> None:
        db, tbl = check_name(database, "DatabaseName"), check_name(table, "TableName")
        self._require_filter_admin(caller, db, tbl)
        with self.store.write() as con:
            if not self.store.delete_filter(con, db, tbl, check_name(name, "Name")):
                raise EntityNotFound(f"Data cells filter {name} not found.")

    def list_filters(
        self,
        database: str | None = None,
        table: str | None = None,
        caller: Principal | None = None,
    ) -> list[DataCellsFilter]:
        """The filters (of one table if asked); for ``caller`` other than an admin, those
        it holds a grant on or whose table it created (a filter's expression is itself
        information about the data)."""
        return [
            f
            for f in self.policy().state.filters
            if (database is None or f.database == database.lower())
            and (table is None or f.table == table.lower())
            and (caller is None or self.may_see_filter(caller, f))
        ]

    def may_see_filter(self, caller: Principal, f: DataCellsFilter) -> bool:
        policy = self.policy()
        if self.is_admin(caller) or policy.is_read_only_admin(caller):
            return True
        ids = identities(caller)
        if policy.objects.get((f.database, f.table)) in ids:
            return True
        key = Resource(
            "DATA_CELLS_FILTER", self.account_id, database=f.database, table=f.table, name=f.name
        ).key()
        return any(g.principal in ids and g.resource.key() == key for g in policy.state.grants)


def _same_object(granted: Resource, asked: Resource) -> bool:
    """ListPermissions' Resource filter: the grants on that object (a table's filter also
    matches its column and cell grants)."""
    if asked.kind in ("TABLE", "TABLE_WITH_COLUMNS"):
        return (
            granted.kind in ("TABLE", "TABLE_WITH_COLUMNS", "DATA_CELLS_FILTER")
            and granted.database == asked.database
            and (granted.table == asked.table or granted.table == "*" or asked.wildcard)
        )
    return granted.key() == asked.key()


__all__ = ["BatchFailure", "LakeFormationService", "ResourceTags"]
