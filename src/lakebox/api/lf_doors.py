"""Lake Formation at the API doors: the checks Glue's catalog calls, Athena's metadata
calls and the S3 API make against the lake's permissions (``LakePermissions``, built by the
Lakehouse as ``lakeformation``), and the AWS error they answer.

A door asks ``permissions(context)``: None when the lake's governance is off (Lake
Formation's default mode, every check allowed) or the caller is the lake's local
administrator (the embedded default, who owns the lake); otherwise the permissions object
to ask. IAM's own checks stay: AWS checks both, IAM first.

Every decision taken here is recorded (``LakePermissions.record``) with the request's id,
when the door has one: the audit table shows who was allowed or refused what at which door.
A listing records the listing itself (allowed) and one refusal per item it hides; a
call on one database or table records its decision on it.

Errors are AWS's ``AccessDeniedException`` with Lake Formation's wording, "Insufficient Lake
Formation permission(s) on <name>": the name is the resource's own (a database, a table
``db.table``, a location), never a value of its data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from lakebox.api.base import AwsError
from lakebox.iam.errors import AccessDenied
from lakebox.storage.locations import is_s3, lake_uri, template_prefix

if TYPE_CHECKING:
    from lakebox.catalog.model import Column, Table
    from lakebox.catalog.permissions import LakePermissions
    from lakebox.principal import Principal

DENIED = "AccessDeniedException"
#: the name a lake's service has in the doors' contexts and the Lakehouse
SERVICE = "lakeformation"


def denied_message(name: str) -> str:
    return f"Insufficient Lake Formation permission(s) on {name}"


def lake_permissions(context: Any) -> LakePermissions | None:
    """The lake's permissions as the door's context offers them (None when it offers
    none, or when no one has set Lake Formation up in the lake yet: asking must not make
    its store), whatever the caller."""
    optional = getattr(context, "optional", None)
    if callable(optional):
        found = optional("lake_permissions")
        if found is not None:
            return cast("LakePermissions", found)
        given = getattr(context, "services", None)  # a door handed the service itself
        return given.get(SERVICE) if isinstance(given, dict) else None
    try:
        return cast("LakePermissions | None", getattr(context, SERVICE, None))
    except AwsError:
        return None


def permissions(context: Any) -> LakePermissions | None:
    """The permissions to check the context's caller against, or None when nothing is to be
    checked (no governance, or the lake's local administrator calls)."""
    principal = getattr(context, "principal", None)
    if principal is None or principal.is_local_admin:
        return None
    found = lake_permissions(context)
    if found is None or not found.active:
        return None
    return found


def request_id(context: Any) -> str | None:
    found = getattr(context, "request_id", None)
    return found if isinstance(found, str) and found else None


def _holds(held: Iterable[str], wanted: tuple[str, ...]) -> bool:
    have = set(held)
    return "ALL" in have or any(w in have for w in wanted)


class Gate:
    """One caller's checks at one door, each recorded with the request id."""

    def __init__(self, lf: LakePermissions, principal: Principal, rid: str | None) -> None:
        self.lf = lf
        self.principal = principal
        self.rid = rid

    @classmethod
    def of(cls, context: Any) -> Gate | None:
        lf = permissions(context)
        if lf is None:
            return None
        return cls(lf, context.principal, request_id(context))

    def record(self, action: str, resource: str, allowed: bool) -> None:
        self.lf.record(self.principal, action, resource, allowed, self.rid)

    def _decide(self, action: str, resource: str, allowed: bool) -> None:
        self.record(action, resource, allowed)
        if not allowed:
            raise AwsError(DENIED, denied_message(resource))

    # -- questions, recorded -------------------------------------------------------------
    def sees_database(self, action: str, database: str) -> bool:
        allowed = self.lf.can_see_database(self.principal, database)
        if not allowed:
            self.record(action, database, False)
        return allowed

    def sees_table(self, action: str, table: Table) -> bool:
        allowed = self.lf.can_see_table(self.principal, table)
        if not allowed:
            self.record(action, table.qualified_name, False)
        return allowed

    # -- requirements: raise AccessDeniedException when not met ---------------------------
    def require_database_visible(self, action: str, database: str) -> None:
        self._decide(action, database, self.lf.can_see_database(self.principal, database))

    def require_table_visible(self, action: str, table: Table) -> None:
        self._decide(action, table.qualified_name, self.lf.can_see_table(self.principal, table))

    def require_on_database(self, action: str, database: str, *wanted: str) -> None:
        held = self.lf.database_permissions(self.principal, database)
        self._decide(action, database, _holds(held, wanted))

    def require_on_table(self, action: str, table: Table, *wanted: str) -> None:
        held = self.lf.table_permissions(self.principal, table)
        self._decide(action, table.qualified_name, _holds(held, wanted))

    def require_create_database(self, action: str, database: str) -> None:
        self._decide(action, database, self.lf.can_create_database(self.principal))

    def require_location(self, action: str, uri: str | None, storage: Any = None) -> None:
        """DATA_LOCATION_ACCESS on ``uri`` however it is spelled (``lake_uri``: ``s3a://``,
        a local path into a bucket): on the registered location it lies in, and on every
        registered location below it; the audit bucket is refused to all but admins. A
        location outside the lake's buckets (a local folder) cannot be governed: only the
        local administrator names one."""
        if not uri:
            return
        uri = lake_uri(uri, getattr(storage, "config", None))
        if not is_s3(uri):
            self._decide(action, uri, False)
            return
        allowed = self.lf.location_access(self.principal, uri)
        if allowed and not self.lf.governed_location(uri):
            return
        self._decide(action, uri, allowed)

    def require_table_locations(self, action: str, table: Table, storage: Any = None) -> None:
        """``require_location`` on every place a table reads: its location and the fixed
        part of its partition projection template (``storage.location.template``)."""
        self.require_location(action, table.location, storage)
        template = table.parameters.get("storage.location.template")
        if template:
            self.require_location(action, template_prefix(template) or template, storage)

    def visible_columns(self, action: str, table: Table) -> set[str]:
        """The names of ``table``'s columns (data and partition keys) the caller is shown:
        with SELECT, those it may select (``table_view``: Lake Formation removes the
        others); with only DESCRIBE (or ALTER, DROP, ...), the table's definition; with no
        permission at all, none. As the SQL listings show them (``Visibility.columns``)."""
        names = [c.name for c in _all_columns(table)]
        held = self.lf.table_permissions(self.principal, table)
        if not held:
            self.record(action, f"{table.qualified_name} (columns)", False)
            return set()
        if "SELECT" not in held and "ALL" not in held:
            return set(names)
        try:
            view = self.lf.table_view(self.principal, table)
        except AccessDenied:
            self.record(action, f"{table.qualified_name} (columns)", False)
            return set()
        if view.columns is None:
            return set(names)
        return {n for n in names if n.lower() in view.columns}

    def require_partition_values(self, action: str, table: Table) -> None:
        """Partition values are values of the table's partition keys, and a partition's
        location names them: a caller that reads the table only through a restricted
        SELECT (a row filter, or a partition key it may not select) and holds no DESCRIBE
        on it (the metadata permission) is refused them, so they cannot show what its
        view hides (rows filtered out, a hidden column's values)."""
        held = self.lf.table_permissions(self.principal, table)
        if "DESCRIBE" in held or "ALL" in held or "SELECT" not in held:
            return
        try:
            view = self.lf.table_view(self.principal, table)
        except AccessDenied:
            self._decide(action, table.qualified_name, False)
            return
        keys = {k.name.lower() for k in table.partition_keys}
        hidden = view.columns is not None and not keys <= view.columns
        filtered = view.row_filter is not None or any(
            column.lower() in keys for column, _ in view.column_filters
        )
        if keys and (hidden or filtered):
            self._decide(action, table.qualified_name, False)

    def created(self, database: str, table: str | None = None) -> None:
        self.lf.note_created(self.principal, database, table)


def _all_columns(table: Table) -> list[Column]:
    return list(table.columns) + list(table.partition_keys)


__all__ = ["DENIED", "SERVICE", "Gate", "denied_message", "lake_permissions", "permissions"]
