"""What services below the composition root see of "the lake": its configuration, its
storage, catalog and engine, and sessions on it. ``lakebox.lakehouse.Lakehouse`` is one;
services take this Protocol so that they never import the root that builds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lakebox.catalog.store import CatalogStore
    from lakebox.config import LakeConfig
    from lakebox.engine import DuckDBEngine
    from lakebox.query.session import Session
    from lakebox.storage import Storage


class LakeParts(Protocol):
    """The pieces of one lake a service may use."""

    @property
    def config(self) -> LakeConfig: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def engine(self) -> DuckDBEngine: ...

    def session(self, database: str | None = None) -> Session: ...
