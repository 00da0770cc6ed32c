"""The one place that decides what of the catalog a principal can see.

Every catalog listing goes through ``Visibility``: SHOW DATABASES / TABLES / COLUMNS,
DESCRIBE and SHOW CREATE TABLE, ``information_schema`` and the query service's metadata
calls (ListDatabases, ListTableMetadata, GetTableMetadata). ``Visibility`` shows
everything to everyone (the embedded lake without governance); ``LakeFormationVisibility``
hides what Lake Formation's permissions (``lakebox.catalog.permissions``) do not let a
principal see: databases without any permission on them or their tables, tables without
any permission, and the columns a principal may not select.

``policy_version`` changes whenever what any principal may see changes; caches that hold
plans or results key on it together with the principal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from lakebox.catalog.model import Column, Database, Table
from lakebox.catalog.permissions import LakePermissions
from lakebox.principal import Principal


class Visibility:
    """Everything is visible to everyone: the embedded lake without governance."""

    def policy_version(self) -> int:
        return 0

    def databases(self, principal: Principal, databases: Iterable[Database]) -> list[Database]:
        return list(databases)

    def tables(self, principal: Principal, tables: Iterable[Table]) -> list[Table]:
        return list(tables)

    def columns(self, principal: Principal, table: Table) -> list[Column]:
        """The table's columns (data then partition keys) the principal can see."""
        return list(table.all_columns)

    def can_see(self, principal: Principal, table: Table) -> bool:
        return bool(self.tables(principal, [table]))


#: the default policy: no restrictions
OPEN = Visibility()


class LakeFormationVisibility(Visibility):
    """What Lake Formation lets each principal see, over ``base`` (what is visible at
    all). ``permissions`` gives the lake's Lake Formation, or None while the lake has
    never set it up (nothing stored: the default mode). The local administrator and a
    lake whose Lake Formation is not active see what ``base`` shows."""

    def __init__(
        self, permissions: Callable[[], LakePermissions | None], base: Visibility = OPEN
    ) -> None:
        self._permissions = permissions
        self.base = base

    def _on(self, principal: Principal) -> LakePermissions | None:
        if principal.is_local_admin:
            return None
        permissions = self._permissions()
        return permissions if permissions is not None and permissions.active else None

    def policy_version(self) -> int:
        # both versions only grow: this pairing is one-to-one and grows with each
        permissions = self._permissions()
        base = self.base.policy_version()
        lake = 0 if permissions is None else permissions.policy_version()
        total = base + lake
        return total * (total + 1) // 2 + lake

    def databases(self, principal: Principal, databases: Iterable[Database]) -> list[Database]:
        shown = self.base.databases(principal, databases)
        permissions = self._on(principal)
        if permissions is None:
            return shown
        return [d for d in shown if permissions.can_see_database(principal, d.name)]

    def tables(self, principal: Principal, tables: Iterable[Table]) -> list[Table]:
        shown = self.base.tables(principal, tables)
        permissions = self._on(principal)
        if permissions is None:
            return shown
        return [t for t in shown if permissions.can_see_table(principal, t)]

    def columns(self, principal: Principal, table: Table) -> list[Column]:
        shown = self.base.columns(principal, table)
        permissions = self._on(principal)
        if permissions is None:
            return shown
        held = permissions.table_permissions(principal, table)
        if not held:
            return []
        if "SELECT" not in held:
            # DESCRIBE (or another permission) without SELECT: the table's definition
            return shown
        view = permissions.table_view(principal, table)
        if view.columns is None:
            return shown
        return [c for c in shown if c.name.lower() in view.columns]
