"""The composition root: one ``Lakehouse`` per lake, built from its configuration. It
owns storage, the catalog, the engine and the caches; sessions and services get them
from it.
"""

from __future__ import annotations

import os
from pathlib import Path

from lakebox.catalog.model import Database
from lakebox.catalog.store import CatalogStore, SQLiteCatalogStore
from lakebox.catalog.visibility import OPEN, Visibility
from lakebox.config import LakeConfig, S3Settings
from lakebox.engine import DuckDBEngine
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.query.session import Session
from lakebox.sql import plancache
from lakebox.storage import Storage


class Lakehouse:
    """One lake: configuration, storage, catalog and engine. Thread-safe; open sessions
    with ``session()`` (or ``lakebox.connect``)."""

    def __init__(
        self, config: LakeConfig, catalog: CatalogStore | None = None, *, create: bool = True
    ) -> None:
        self.config = config
        config.open_home(create=create)
        self.storage = Storage(config)
        self.catalog = catalog or SQLiteCatalogStore(config.metadata_dir / "catalog.sqlite")
        self.engine = DuckDBEngine(self.storage)
        #: what each principal may see of the catalog (everything, until governance)
        self.visibility: Visibility = OPEN
        #: plans of repeated SELECTs, reused while their inputs are unchanged
        self.plans = plancache.PlanCache()
        if not self.catalog.database_exists(config.default_database):
            self.catalog.create_database(
                Database(config.default_database, description="Default database"),
                if_not_exists=True,
            )
        from lakebox.query.journal import recover_writes

        recover_writes(self)

    def session(self, database: str | None = None, principal: Principal = LOCAL_ADMIN) -> Session:
        return Session(self, database or self.config.default_database, principal)

    def close(self) -> None:
        self.engine.close()


def connect(
    home: str | os.PathLike[str] | None = None,
    *,
    database: str = "default",
    storage: str | None = None,
    s3_endpoint: str | None = None,
    region: str | None = None,
    create: bool = True,
) -> Session:
    """Open the lake at ``home`` (default ``$LAKEBOX_HOME`` or ``./.lakebox``) and return a
    session whose current database is ``database``. The lake is created if needed unless
    ``create`` is false (then a missing lake raises ``LakeNotFoundError``)."""
    s3 = S3Settings.from_env()
    if s3_endpoint or region:
        s3 = S3Settings(
            endpoint_url=s3_endpoint or s3.endpoint_url,
            region=region or s3.region,
            access_key_id=s3.access_key_id,
            secret_access_key=s3.secret_access_key,
            session_token=s3.session_token,
            profile=s3.profile,
        )
    config = LakeConfig.from_env(home=Path(home) if home else None, storage=storage, s3=s3)
    return Lake(config, create=create).session(database)


#: the name older code and the public API use
Lake = Lakehouse
