"""The one place that decides what of the catalog a principal can see.

Every catalog listing goes through ``Visibility``: SHOW DATABASES / TABLES / COLUMNS,
DESCRIBE and SHOW CREATE TABLE, ``information_schema`` and the query service's metadata
calls (ListDatabases, ListTableMetadata, GetTableMetadata). Today every principal sees
everything (there is no permission layer yet); the coming Lake Formation layer replaces
this class, and only it, to hide databases, tables and columns.

``policy_version`` changes whenever what any principal may see changes; caches that hold
plans or results key on it together with the principal.
"""

from __future__ import annotations

from collections.abc import Iterable

from lakebox.catalog.model import Column, Database, Table
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
