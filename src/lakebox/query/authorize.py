"""What Athena asks of IAM before it reads a table for a caller, asked of the lake's IAM.

A statement needs ``athena:StartQueryExecution`` on its workgroup. Athena reads the Data
Catalog and S3 with the caller's own permissions: ``glue:GetDatabase``
and ``glue:GetTable`` on every table a query names (views included: the caller reads the
tables under a view too), ``glue:GetPartitions`` on a partitioned table whose partitions
come from the catalog (not from partition projection), ``s3:ListBucket`` on the bucket of
every location it lists and ``s3:GetObject`` on every object it reads. A write needs the
Glue calls Athena makes for it (CTAS: ``glue:CreateTable``; INSERT INTO: ``glue:GetTable``
and, for a partitioned target whose partitions the catalog keeps, ``glue:BatchCreatePartition``)
and ``s3:ListBucket`` and ``s3:PutObject`` on the location it writes; the query service
needs ``s3:PutObject`` where it writes a statement's results. A refusal fails the
query with the reason naming the action and the resource, as Athena's does.

The catalog belongs to the lake's account: a principal of another account reads none of
it (lakebox has no Glue resource policies that could grant it).

Lake Formation decides at the same seam (``LakeFormationAccess``, over the IAM checks):
reading a table needs SELECT on it (and the planner reads only the columns and rows its
``table_view`` allows), DDL needs CREATE_DATABASE, CREATE_TABLE, ALTER or DROP, an INSERT
INTO needs INSERT, and a table over a registered location needs DATA_LOCATION_ACCESS on
it to be created or moved there. Athena reads a registered location with Lake Formation's
credentials, so the caller's own ``s3:ListBucket`` / ``s3:GetObject`` are not asked there:
only for the files under the table's (or catalog partition's) own registered location, not
for a symlink manifest's targets or a projection template pointing elsewhere. Every
location is checked in its canonical spelling (``lakebox.storage.locations.lake_uri``: a
local path into a bucket is that bucket's ``s3://`` location), a projection template's
fixed prefix is checked like a LOCATION, and a local folder outside the buckets can be
named only by the local administrator.
Every decision is recorded for the audit table. The local administrator is never checked,
and a lake whose Lake Formation is not ``active`` pays one attribute read per check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lakebox.catalog.model import Table
from lakebox.catalog.permissions import FULL_VIEW, LakePermissions, TableView
from lakebox.errors import EntityNotFoundError
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal
from lakebox.sql import statements as st
from lakebox.sql.access import REQUEST_ID, QueryAccessDenied, TableAccess, WriteRequest
from lakebox.sql.plan import PartitionFiles
from lakebox.sql.statements import DdlStatement
from lakebox.storage.locations import is_s3, lake_uri, template_prefix
from lakebox.storage.uri import parse_uri

if TYPE_CHECKING:
    from lakebox.catalog.store import CatalogStore
    from lakebox.config import LakeConfig
    from lakebox.iam.service import IamService


class IamTableAccess:
    """``TableAccess`` decided by the lake's IAM identity policies."""

    def __init__(
        self,
        iam: IamService,
        config: LakeConfig,
        governed: Callable[[str], bool] | None = None,
    ) -> None:
        self.iam = iam
        self.config = config
        #: whether a location is registered with Lake Formation: Athena reads it with Lake
        #: Formation's credentials, not the caller's (no S3 permission asked there)
        self.governed = governed
        #: (policy version, whether the lake has any user then)
        self._identities: tuple[int, bool] | None = None

    def _governed(self) -> bool:
        """Whether the lake has identities at all: one no one has made a user in has
        only its local administrator, and a principal a program names there is not
        checked (as the API layer's ``authorize`` does not check it)."""
        version = self.iam.policy_version()
        known = self._identities
        if known is None or known[0] != version:
            known = self._identities = (version, bool(self.iam.list_users(all_accounts=True)))
        return known[1]

    def _glue(self, resource: str) -> str:
        return self.config.arn("glue", resource)

    def _decide(
        self,
        principal: Principal,
        action: str,
        resource: str,
        reason: str,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        decision, why = self.iam.decide(principal, action, resource, context)
        if decision != "allow":
            raise QueryAccessDenied(
                f"{reason}User: {principal.arn} is not authorized to perform: {action} on "
                f"resource: {resource} {why}",
                action,
                resource,
            )

    def check_query(self, principal: Principal, workgroup: str) -> None:
        if not self._governed():
            return
        arn = self.config.arn("athena", f"workgroup/{workgroup}")
        self._decide(principal, "athena:StartQueryExecution", arn, "")

    def check_ddl(self, principal: Principal, statement: DdlStatement, database: str) -> None:
        if not self._governed():
            return
        action, db, table = _ddl_action(statement, database)
        catalog, database_arn = self._glue("catalog"), self._glue(f"database/{db}")
        resources = [catalog, database_arn]
        if table is not None:
            resources.append(self._glue(f"table/{db}/{table}"))
        checks: list[tuple[str, str]] = []
        if isinstance(statement, st.CreateTable | st.CreateView):
            # a new table is made in a database Athena looks up first
            checks += [("glue:GetDatabase", catalog), ("glue:GetDatabase", database_arn)]
        elif table not in (None, "*") and isinstance(statement, _ON_A_TABLE):
            # Athena reads the definition of the table it changes (or drops) first
            checks += [("glue:GetTable", r) for r in resources]
        if isinstance(statement, st.DropDatabase):
            # a delete needs the resource's descendants too: its tables and functions
            resources += [self._glue(f"table/{db}/*"), self._glue(f"userDefinedFunction/{db}/*")]
        checks += [(action, r) for r in resources]
        if isinstance(statement, st.DropDatabase) and statement.cascade:
            checks.append(("glue:DeleteTable", self._glue(f"table/{db}/*")))  # every table
        for act, resource in checks:
            self._decide(
                principal, act, resource, "Insufficient permissions to execute the query. "
            )
        if not principal.is_local_admin:
            for uri in ddl_locations(statement):
                require_s3(lake_uri(uri, self.config))

    def check_write(self, principal: Principal, write: WriteRequest) -> None:
        if not self._governed():
            return
        insufficient = "Insufficient permissions to execute the query. "
        checks: list[tuple[str, str]] = []
        if write.database is not None and write.table is not None:
            catalog = self._glue("catalog")
            database = self._glue(f"database/{write.database}")
            arn = self._glue(f"table/{write.database}/{write.table}")
            checks += [("glue:GetDatabase", catalog), ("glue:GetDatabase", database)]
            if write.kind == "CTAS":
                actions = ["glue:CreateTable"]
                if write.partitioned:
                    actions.append("glue:BatchCreatePartition")
            else:
                actions = ["glue:GetTable"]
                target = write.target
                if target is not None and target.partition_keys and not _projected(target):
                    actions.append("glue:BatchCreatePartition")
            checks += [(a, r) for a in actions for r in (catalog, database, arn)]
        for action, resource in checks:
            self._decide(principal, action, resource, insufficient)
        location = lake_uri(write.location, self.config)
        if write.kind != "UNLOAD" and self.governed is not None and self.governed(location):
            return  # a table's objects there are written with Lake Formation's credentials
        if not is_s3(location):
            if write.kind in ("CTAS", "UNLOAD") and not principal.is_local_admin:
                require_s3(location)
            return
        where = parse_uri(location)
        denied = f"Permission denied on S3 path: {write.location}. "
        prefix = where.as_prefix().key
        self._decide(
            principal,
            "s3:ListBucket",
            f"arn:aws:s3:::{where.bucket}",
            denied,
            {"s3:prefix": prefix},
        )
        self._decide(principal, "s3:PutObject", f"arn:aws:s3:::{where.bucket}/{prefix}*", denied)

    def check_results(self, principal: Principal, output_location: str) -> None:
        if not self._governed():
            return
        location = lake_uri(output_location, self.config)
        if not is_s3(location):
            if not principal.is_local_admin:
                require_s3(location)
            return
        where = parse_uri(location)
        self._decide(
            principal,
            "s3:PutObject",
            f"arn:aws:s3:::{where.bucket}/{where.as_prefix().key}*",
            f"Access denied when writing output to url: {output_location} . Please ensure "
            "you are allowed to access the S3 bucket. ",
        )

    def check_results_read(self, principal: Principal, result_uri: str) -> None:
        if not self._governed():
            return
        where = parse_uri(result_uri)
        if not where.is_s3:
            return
        self._decide(
            principal,
            "s3:GetObject",
            f"arn:aws:s3:::{where.bucket}/{where.key}",
            f"Access denied when reading the query results at {result_uri} . Please ensure "
            "you are allowed to access the S3 bucket. ",
        )

    def check_table(self, principal: Principal, table: Table) -> None:
        if not self._governed():
            return
        insufficient = "Insufficient permissions to execute the query. "
        catalog = self._glue("catalog")
        database = self._glue(f"database/{table.database}")
        arn = self._glue(f"table/{table.database}/{table.name}")
        checks = [
            ("glue:GetDatabase", catalog),
            ("glue:GetDatabase", database),
            ("glue:GetTable", catalog),
            ("glue:GetTable", database),
            ("glue:GetTable", arn),
        ]
        if table.partition_keys and not _projected(table):
            checks += [
                ("glue:GetPartitions", catalog),
                ("glue:GetPartitions", database),
                ("glue:GetPartitions", arn),
            ]
        for action, resource in checks:
            self._decide(principal, action, resource, insufficient)
        if table.is_view or not table.location:
            return
        location = lake_uri(table.location, self.config)
        if self.governed is not None and self.governed(location):
            return
        if is_s3(location):
            where = parse_uri(location)
            self._decide(
                principal,
                "s3:ListBucket",
                f"arn:aws:s3:::{where.bucket}",
                f"Permission denied on S3 path: {table.location}. ",
                {"s3:prefix": where.as_prefix().key},
            )

    def table_view(self, principal: Principal, table: Table) -> TableView:
        return FULL_VIEW

    def created(self, principal: Principal, database: str, table: str | None = None) -> None:
        return None

    def check_files(
        self, principal: Principal, table: Table, partitions: Sequence[PartitionFiles]
    ) -> None:
        if not self._governed():
            return
        governed = self.governed
        config = self.config
        table_root = lake_uri(table.location, config) if table.location else None
        for part in partitions:
            # Athena reads with Lake Formation's credentials only what the table's decision
            # covers: the files under the partition's own location (the table's, for a
            # projected table, whose partitions come from a template), where it is
            # registered. Anything else a partition lists (a manifest's targets, a
            # template pointing elsewhere) is read with the caller's own permissions.
            root = table_root
            if part.location and not _projected(table):
                root = lake_uri(part.location, config)
            # a root under a registered location: so is every file under it
            covered = root is not None and governed is not None and governed(root)
            for file in part.files:
                uri = lake_uri(file.uri, config)
                if not is_s3(uri):
                    continue  # a folder outside the lake's buckets, allowed by its config
                if covered and root is not None and _under(uri, root):
                    continue
                where = parse_uri(uri)
                self._decide(
                    principal,
                    "s3:GetObject",
                    f"arn:aws:s3:::{where.bucket}/{where.key}",
                    f"Permission denied on S3 path: {file.uri}. ",
                )


#: Lake Formation's permission names as its error messages spell them
_SPELLED = {
    "SELECT": "Select",
    "ALTER": "Alter",
    "DROP": "Drop",
    "INSERT": "Insert",
    "DELETE": "Delete",
    "CREATE_TABLE": "Create Table",
    "CREATE_DATABASE": "Create Database",
    "DATA_LOCATION_ACCESS": "Data Location Access",
    "DESCRIBE": "Describe",
}

#: the DDL that changes one existing table (Lake Formation's ALTER)
_ALTERS = (
    st.AddPartitions,
    st.MsckRepair,
    st.DropPartitions,
    st.RenamePartition,
    st.SetTableProperties,
    st.AddColumns,
    st.ReplaceColumns,
    st.ChangeColumn,
    st.SetLocation,
)


def _restricted_partitions(
    permissions: LakePermissions, principal: Principal, table: Table
) -> bool:
    """Whether ``table``'s partition values would show what ``principal``'s SELECT hides
    (a row filter, a hidden or cell-filtered partition key) and it holds no DESCRIBE (the
    metadata permission): Glue's GetPartitions refuses them then (``lf_doors.Gate.
    require_partition_values``), and so does SHOW PARTITIONS."""
    keys = {k.name.lower() for k in table.partition_keys}
    held = permissions.table_permissions(principal, table)
    if not keys or "DESCRIBE" in held or "ALL" in held or "SELECT" not in held:
        return False
    try:
        view = permissions.table_view(principal, table)
    except AccessDenied:
        return True
    hidden = view.columns is not None and not keys <= view.columns
    filtered = view.row_filter is not None or any(
        column.lower() in keys for column, _ in view.column_filters
    )
    return hidden or filtered


def _insufficient(permission: str, resource: str) -> QueryAccessDenied:
    return QueryAccessDenied(
        f"Insufficient Lake Formation permission(s): Required {_SPELLED[permission]} on {resource}",
        f"lakeformation:{permission}",
        resource,
    )


class LakeFormationAccess:
    """``TableAccess`` of a lake with Lake Formation: the IAM checks (``iam``, which skips
    S3 permissions on registered locations), then Lake Formation's permissions.
    ``permissions`` gives them, or None while the lake has never set Lake Formation up
    (its default mode with nothing stored: every check allows, nothing is made or
    recorded); ``make`` makes them, to tell them who created what."""

    def __init__(
        self,
        iam: TableAccess,
        permissions: Callable[[], LakePermissions | None],
        catalog: Callable[[], CatalogStore],
        make: Callable[[], LakePermissions] | None = None,
    ) -> None:
        self.iam = iam
        self._permissions = permissions
        self._catalog = catalog
        self._make = make

    def _on(self, principal: Principal) -> LakePermissions | None:
        """Lake Formation's answers when they apply to ``principal``, else None."""
        if principal.is_local_admin:
            return None
        permissions = self._permissions()
        return permissions if permissions is not None and permissions.active else None

    def _decide(
        self,
        permissions: LakePermissions,
        principal: Principal,
        permission: str,
        resource: str,
        allowed: bool,
        shown: str | None = None,
    ) -> None:
        permissions.record(principal, permission, resource, allowed, REQUEST_ID.get())
        if not allowed:
            raise _insufficient(permission, shown or resource)

    def _table(self, database: str, name: str) -> Table | None:
        try:
            return self._catalog().get_table(database, name)
        except EntityNotFoundError:
            return None  # the statement itself reports it missing

    def _on_table(
        self, permissions: LakePermissions, principal: Principal, permission: str, table: Table
    ) -> None:
        held = permissions.table_permissions(principal, table)
        self._decide(
            permissions,
            principal,
            permission,
            table.qualified_name,
            permission in held,
            table.name,
        )

    def _on_database(
        self, permissions: LakePermissions, principal: Principal, permission: str, database: str
    ) -> None:
        held = permissions.database_permissions(principal, database)
        self._decide(permissions, principal, permission, database, permission in held)

    def _location(self, permissions: LakePermissions, principal: Principal, uri: str) -> None:
        """DATA_LOCATION_ACCESS on ``uri`` in its canonical spelling (``lake_uri``): a
        location outside the lake's buckets cannot be registered, so only the local
        administrator names one."""
        uri = lake_uri(uri, getattr(self.iam, "config", None))
        if not is_s3(uri):
            permissions.record(principal, "DATA_LOCATION_ACCESS", uri, False, REQUEST_ID.get())
            require_s3(uri)
        allowed = permissions.location_access(principal, uri)
        self._decide(permissions, principal, "DATA_LOCATION_ACCESS", uri, allowed)

    # -- TableAccess ----------------------------------------------------------------------
    def check_query(self, principal: Principal, workgroup: str) -> None:
        self.iam.check_query(principal, workgroup)

    def check_results(self, principal: Principal, output_location: str) -> None:
        self.iam.check_results(principal, output_location)

    def check_results_read(self, principal: Principal, result_uri: str) -> None:
        self.iam.check_results_read(principal, result_uri)

    def check_ddl(self, principal: Principal, statement: DdlStatement, database: str) -> None:
        self.iam.check_ddl(principal, statement, database)
        permissions = self._on(principal)
        if permissions is None:
            return
        if isinstance(statement, st.CreateDatabase):
            allowed = permissions.can_create_database(principal)
            self._decide(permissions, principal, "CREATE_DATABASE", "Catalog", allowed)
            if statement.location:
                self._location(permissions, principal, statement.location)
            return
        if isinstance(statement, st.DropDatabase):
            db = statement.name.lower()
            self._on_database(permissions, principal, "DROP", db)
            if statement.cascade:
                # the cascade drops every table in it: each needs DROP of its own (the
                # database's creator does not hold it on a table someone else made there)
                try:
                    tables = self._catalog().list_tables(db)
                except EntityNotFoundError:
                    tables = []  # the statement itself reports it missing
                for inside in sorted(tables, key=lambda t: t.name):
                    self._on_table(permissions, principal, "DROP", inside)
            return
        if isinstance(statement, st.CreateTable):
            db = (statement.table.database or database).lower()
            self._on_database(permissions, principal, "CREATE_TABLE", db)
            for uri in ddl_locations(statement):
                self._location(permissions, principal, uri)
            return
        if isinstance(statement, st.CreateView):
            db, name = statement.ref.resolve(database)
            existing = self._table(db, name) if statement.or_replace else None
            if existing is not None:  # replacing a view changes it
                self._on_table(permissions, principal, "ALTER", existing)
            else:
                self._on_database(permissions, principal, "CREATE_TABLE", db)
            return
        permission = (
            "DROP"
            if isinstance(statement, st.DropTable | st.DropView)
            else "ALTER"
            if isinstance(statement, _ALTERS)
            else None
        )
        if isinstance(statement, st.ShowPartitions):
            found = self._table(*statement.ref.resolve(database))
            if found is not None and _restricted_partitions(permissions, principal, found):
                self._decide(
                    permissions, principal, "DESCRIBE", found.qualified_name, False, found.name
                )
            return
        if permission is None:
            return  # listings: what is shown is decided by the lake's visibility
        ref = statement.ref  # type: ignore[attr-defined]
        table = self._table(*ref.resolve(database))
        if table is None:
            return
        self._on_table(permissions, principal, permission, table)
        for uri in ddl_locations(statement):
            self._location(permissions, principal, uri)

    def check_write(self, principal: Principal, write: WriteRequest) -> None:
        self.iam.check_write(principal, write)
        permissions = self._on(principal)
        if permissions is None or write.database is None:
            return
        if write.kind == "CTAS":
            self._on_database(permissions, principal, "CREATE_TABLE", write.database)
            self._location(permissions, principal, write.location)
        elif write.kind == "INSERT":
            target = write.target
            if target is None and write.table is not None:
                target = self._table(write.database, write.table)
            if target is not None:
                self._on_table(permissions, principal, "INSERT", target)

    def check_table(self, principal: Principal, table: Table) -> None:
        self.iam.check_table(principal, table)
        permissions = self._on(principal)
        if permissions is not None:
            self._on_table(permissions, principal, "SELECT", table)

    def check_files(
        self, principal: Principal, table: Table, partitions: Sequence[PartitionFiles]
    ) -> None:
        self.iam.check_files(principal, table, partitions)

    def table_view(self, principal: Principal, table: Table) -> TableView:
        permissions = self._on(principal)
        if permissions is None:
            return FULL_VIEW
        try:
            return permissions.table_view(principal, table)
        except AccessDenied as err:
            raise _insufficient("SELECT", table.name) from err

    def created(self, principal: Principal, database: str, table: str | None = None) -> None:
        permissions = self._permissions()
        if permissions is None:
            if principal.is_local_admin or self._make is None:
                # nothing set up: the object holds the default permissions in force, and
                # the local administrator holds everything anyway
                return
            permissions = self._make()
        permissions.note_created(principal, database, table)


#: the Glue action each DDL statement amounts to, as Athena calls Glue for it
_DDL_ACTIONS: dict[type[DdlStatement], str] = {
    st.CreateDatabase: "glue:CreateDatabase",
    st.DropDatabase: "glue:DeleteDatabase",
    st.CreateTable: "glue:CreateTable",
    st.CreateView: "glue:CreateTable",
    st.DropTable: "glue:DeleteTable",
    st.DropView: "glue:DeleteTable",
    st.AddPartitions: "glue:BatchCreatePartition",
    st.MsckRepair: "glue:BatchCreatePartition",
    st.DropPartitions: "glue:BatchDeletePartition",
    st.RenamePartition: "glue:UpdatePartition",
    st.SetTableProperties: "glue:UpdateTable",
    st.AddColumns: "glue:UpdateTable",
    st.ReplaceColumns: "glue:UpdateTable",
    st.ChangeColumn: "glue:UpdateTable",
    st.SetLocation: "glue:UpdateTable",
    st.ShowDatabases: "glue:GetDatabases",
    st.ShowTables: "glue:GetTables",
    st.ShowViews: "glue:GetTables",
    st.ShowPartitions: "glue:GetPartitions",
    st.ShowCreateTable: "glue:GetTable",
    st.ShowColumns: "glue:GetTable",
    st.ShowTblProperties: "glue:GetTable",
    st.Describe: "glue:GetTable",
}


#: the DDL that changes, drops or describes one existing table
_ON_A_TABLE = (
    st.DropTable,
    st.DropView,
    st.AddPartitions,
    st.MsckRepair,
    st.DropPartitions,
    st.RenamePartition,
    st.SetTableProperties,
    st.AddColumns,
    st.ReplaceColumns,
    st.ChangeColumn,
    st.SetLocation,
)


def _ddl_action(statement: DdlStatement, database: str) -> tuple[str, str, str | None]:
    """(Glue action, database, table or ``*`` or None) of a DDL statement."""
    action = next((a for kind, a in _DDL_ACTIONS.items() if isinstance(statement, kind)), "glue:*")
    if isinstance(statement, st.CreateDatabase | st.DropDatabase):
        return action, statement.name.lower(), None
    if isinstance(statement, st.ShowDatabases):
        return action, "*", None
    if isinstance(statement, st.ShowTables | st.ShowViews):
        return action, (statement.database or database).lower(), "*"
    if isinstance(statement, st.CreateTable):
        return action, (statement.table.database or database).lower(), statement.table.name.lower()
    ref = getattr(statement, "ref", None)
    if isinstance(ref, st.TableRef):
        db, name = ref.resolve(database)
        return action, db, name
    return action, database, "*"


#: the table property partition projection reads its partitions' locations from
TEMPLATE = "storage.location.template"


def ddl_locations(statement: DdlStatement) -> list[str]:
    """The locations a DDL statement points a database or a table at: LOCATION, a
    partition's LOCATION, and the fixed part of a partition projection template (every
    projected partition lies under it)."""
    found: list[str] = []
    properties: Mapping[str, str] = {}
    if isinstance(statement, st.CreateDatabase) and statement.location:
        found.append(statement.location)
    elif isinstance(statement, st.CreateTable):
        if statement.table.location:
            found.append(statement.table.location)
        properties = statement.table.parameters
    elif isinstance(statement, st.SetLocation):
        found.append(statement.location)
    elif isinstance(statement, st.AddPartitions):
        found += [p.location for p in statement.partitions if p.location]
    elif isinstance(statement, st.SetTableProperties):
        properties = statement.properties
    template = next((v for k, v in properties.items() if k.lower() == TEMPLATE), None)
    if template:
        found.append(template_prefix(template) or template)
    return found


def require_s3(location: str) -> None:
    """Refuse a location outside the lake's buckets (canonical, ``lake_uri``): no S3
    permission nor Lake Formation registration can govern a local folder, so only the
    local administrator names one."""
    if not is_s3(location):
        raise QueryAccessDenied(
            f"Access denied: {location} is not an s3:// location in one of the lake's "
            "buckets; only the local administrator may name a local path",
            "s3:ListBucket",
            location,
        )


def _under(uri: str, prefix: str) -> bool:
    uri, prefix = uri.rstrip("/"), prefix.rstrip("/")
    return uri == prefix or uri.startswith(prefix + "/")


def _projected(table: Table) -> bool:
    """Partition projection enumerates partitions itself: Athena does not ask Glue."""
    return table.parameters.get("projection.enabled", "").strip().lower() == "true"


__all__ = ["IamTableAccess", "LakeFormationAccess"]
