"""The composition root: one ``Lakehouse`` per lake, built from its configuration. It
owns storage, the catalog, the engine, the caches, the visibility policy and every
service (queries and workgroups, crawlers, Glue jobs, workflows and schedules, delivery
streams, exports, snapshots); the CLI, DB-API, workflow tasks and the coming server get
services from it and never build their own.

Building a ``Lakehouse`` does no work: ``start()`` (or ``Lakehouse.open``) checks the
home, creates the default database, recovers interrupted writes and restores query
results a power loss took. Services are made on
first use, receive exactly the pieces they need, and are closed with the lake.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from lakebox.catalog.model import Database
from lakebox.catalog.store import CatalogStore, SQLiteCatalogStore
from lakebox.catalog.visibility import LakeFormationVisibility, Visibility
from lakebox.config import ENGINES, LakeConfig, S3Settings
from lakebox.engine import DuckDBEngine
from lakebox.errors import ConfigError
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.query.session import Session
from lakebox.sql import plancache
from lakebox.storage import Storage

if TYPE_CHECKING:
    from lakebox.catalog.permissions import LakePermissions
    from lakebox.crawler.service import CrawlerService
    from lakebox.engine.spark import SparkEngine
    from lakebox.events.service import EventService
    from lakebox.governance.service import LakeFormationService
    from lakebox.iam.service import IamService
    from lakebox.ingest.exports import TableExports
    from lakebox.ingest.snapshots import SnapshotExports
    from lakebox.ingest.streams import DeliveryStreams
    from lakebox.query.service import QueryService
    from lakebox.secrets.service import SecretsService
    from lakebox.sns.service import TopicService
    from lakebox.sql.access import TableAccess
    from lakebox.workflows.jobs import JobRegistry
    from lakebox.workflows.service import WorkflowService

T = TypeVar("T")

#: the order services are closed in: each before the services it uses
_CLOSE_ORDER = (
    "events",
    "workflows",
    "glue_jobs",
    "crawlers",
    "streams",
    "exports",
    "snapshots",
    "queries",
    "sns",
    "secrets",
    "lakeformation",
    "iam",
)

#: the services workflow tasks reach by name (``TaskContext.services``), all the lake's own
TASK_SERVICES = frozenset({"lake", "queries", "crawlers", "glue_jobs", "delivery_streams"})


def _engine(name: str, storage: Storage) -> DuckDBEngine | SparkEngine:
    """The engine called ``name`` over ``storage``; pyspark is imported only for Spark."""
    if name == "spark":
        from lakebox.engine.spark import SparkEngine

        return SparkEngine(storage)
    return DuckDBEngine(storage)


def check_engine(name: str) -> str:
    """``name`` when it is one of lakebox's engines, else a ConfigError naming them."""
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    return name


class Lakehouse:
    """One lake: configuration, storage, catalog, engines, caches and services.
    Thread-safe; open sessions with ``session()`` (or ``lakebox.connect``).

    ``engine`` is the lake's own (``LakeConfig.engine``); a workgroup or a session that
    chooses the other one gets it from ``engine_for``, which makes it on first use (so a
    DuckDB lake whose every workgroup and session stay on DuckDB never imports pyspark).
    Both share the catalog, storage (its listings), the plan cache (keyed by engine) and
    the query service."""

    def __init__(
        self,
        config: LakeConfig,
        catalog: CatalogStore | None = None,
        *,
        visibility: Visibility | None = None,
    ) -> None:
        self.config = config
        #: the one place that decides what of the catalog a principal sees: Lake
        #: Formation's permissions unless a policy is given
        self.visibility = (
            visibility
            if visibility is not None
            else LakeFormationVisibility(self._lake_permissions)
        )
        self.storage = Storage(config)
        #: the lake's default engine (``LAKEBOX_ENGINE``)
        self.engine: DuckDBEngine | SparkEngine = _engine(config.engine, self.storage)
        #: the other engine, once a workgroup or session asked for it (``engine_for``)
        self._engines: dict[str, DuckDBEngine | SparkEngine] = {config.engine: self.engine}
        #: plans of repeated SELECTs, reused while their inputs are unchanged
        self.plans = plancache.PlanCache()
        self._catalog = catalog
        self._lock = threading.RLock()
        #: services made so far, by name
        self._services: dict[str, Any] = {}
        #: where Lake Formation's store is (once asked)
        self._lf_store: str | None = None
        self.started = False
        #: where the lake is served (``lakebox serve`` sets it): functions' AWS_ENDPOINT_URL
        self.endpoint_url: str | None = None

    @classmethod
    def open(
        cls,
        config: LakeConfig,
        catalog: CatalogStore | None = None,
        *,
        create: bool = True,
        visibility: Visibility | None = None,
    ) -> Lakehouse:
        """A started lake: see ``start``."""
        return cls(config, catalog, visibility=visibility).start(create=create)

    def start(self, *, create: bool = True) -> Lakehouse:
        """The lake's start-up work: check (or, with ``create``, make) its home, create the
        default database and finish or roll back writes a dead process left behind."""
        self.config.open_home(create=create)
        default = self.config.default_database
        if not self.catalog.database_exists(default):
            self.catalog.create_database(
                Database(default, description="Default database"), if_not_exists=True
            )
        from lakebox.query.journal import recover_writes

        recover_writes(self)
        self._restore_results()
        self.started = True
        return self

    def _restore_results(self) -> None:
        """Small query results are committed with their execution and fsynced a little
        later (docs/query-service.md, "What survives a crash"): after a power loss, files
        written again from their committed bytes before anything reads the results
        bucket, not when the query service is first used (it is made on demand, and a
        client may read result files through storage without it). One read-only query
        when nothing is owed, the common case."""
        path = self.config.metadata_dir / "queries.sqlite"
        if not _has_unsynced_results(path):
            return
        from lakebox.query.service import restore_results
        from lakebox.query.store import QueryStore

        restore_results(QueryStore(path), self.storage)

    @property
    def catalog(self) -> CatalogStore:
        """The Data Catalog (the SQLite store in the metadata folder unless one was given),
        opened on first use."""
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = SQLiteCatalogStore(self.config.metadata_dir / "catalog.sqlite")
        return self._catalog

    def engine_for(self, name: str | None = None) -> DuckDBEngine | SparkEngine:
        """The engine called ``name`` (``duckdb`` or ``spark``; None: the lake's own), made
        on first use over the lake's storage."""
        if name is None or name == self.config.engine:
            return self.engine
        found = self._engines.get(name)
        if found is not None:
            return found
        check_engine(name)
        with self._lock:
            if name not in self._engines:
                self._engines[name] = _engine(name, self.storage)
            return self._engines[name]

    def session(
        self,
        database: str | None = None,
        principal: Principal = LOCAL_ADMIN,
        *,
        engine: str | None = None,
    ) -> Session:
        """A session whose statements run on ``engine`` (default: the lake's own)."""
        if engine is not None:
            engine = check_engine(engine.strip().lower())
        return Session(self, database or self.config.default_database, principal, engine=engine)

    # -- services ----------------------------------------------------------------------------
    def _service(self, name: str, make: Callable[[], T]) -> T:
        """The lake's one ``name`` service, made by ``make`` the first time it is asked for."""
        with self._lock:
            if name not in self._services:
                self._services[name] = make()
            service: T = self._services[name]
            return service

    @property
    def queries(self) -> QueryService:
        """Athena query executions and workgroups."""

        def make() -> QueryService:
            from lakebox.query.service import QueryService

            return QueryService(self, visibility=self.visibility)

        return self._service("queries", make)

    @property
    def workgroups(self) -> QueryService:
        """Workgroups live in the query service (their limits govern its executions)."""
        return self.queries

    @property
    def crawlers(self) -> CrawlerService:
        def make() -> CrawlerService:
            from lakebox.crawler.service import CrawlerService

            # a crawl acts as its crawler's role, checked by Lake Formation
            return CrawlerService(
                self.catalog,
                self.storage,
                self.config.metadata_dir,
                permissions=self._lake_permissions,
            )

        return self._service("crawlers", make)

    @property
    def glue_jobs(self) -> JobRegistry:
        def make() -> JobRegistry:
            from lakebox.workflows.jobs import JobRegistry

            return JobRegistry(self, self.queries)

        return self._service("glue_jobs", make)

    @property
    def workflows(self) -> WorkflowService:
        """State machines, executions and schedules; their tasks use this lake's services."""

        def make() -> WorkflowService:
            from lakebox.workflows.service import WorkflowService

            return WorkflowService(
                self.config, lookup=self.task_service, lookup_names=TASK_SERVICES
            )

        return self._service("workflows", make)

    @property
    def streams(self) -> DeliveryStreams:
        """Firehose-style delivery streams."""

        def make() -> DeliveryStreams:
            from lakebox.ingest.streams import DeliveryStreams

            return DeliveryStreams(
                storage=self.storage, catalog=self.catalog, metadata_dir=self.config.metadata_dir
            )

        return self._service("streams", make)

    @property
    def exports(self) -> TableExports:
        """DynamoDB-style table exports."""

        def make() -> TableExports:
            from lakebox.ingest.exports import TableExports

            return TableExports(
                storage=self.storage, catalog=self.catalog, metadata_dir=self.config.metadata_dir
            )

        return self._service("exports", make)

    @property
    def snapshots(self) -> SnapshotExports:
        """RDS / Aurora-style snapshot exports."""

        def make() -> SnapshotExports:
            from lakebox.ingest.snapshots import SnapshotExports

            return SnapshotExports(
                storage=self.storage, catalog=self.catalog, metadata_dir=self.config.metadata_dir
            )

        return self._service("snapshots", make)

    @property
    def iam(self) -> IamService:
        """Accounts, users, roles, keys and policies; request authentication."""

        def make() -> IamService:
            from lakebox.iam.service import IamService

            return IamService(self.config.metadata_dir, account_id=self.config.account_id)

        return self._service("iam", make)

    # Secrets Manager and SNS (their stores are made on first use, like every service's)
    @property
    def secrets(self) -> SecretsService:
        """Secrets Manager's secrets, sealed with the lake's secrets key."""

        def make() -> SecretsService:
            from lakebox.secrets.service import SecretsService

            return SecretsService(self.config.metadata_dir, region=self.config.region)

        return self._service("secrets", make)

    @property
    def sns(self) -> TopicService:
        """SNS topics and subscriptions; Publish delivers on the service's own threads."""

        def make() -> TopicService:
            from lakebox.sns.service import TopicService

            return TopicService(self.config.metadata_dir, region=self.config.region)

        return self._service("sns", make)

    @property
    def events(self) -> EventService:
        """The event bus: S3 bucket notifications, functions and EventBridge rules."""

        def make() -> EventService:
            from lakebox.events.service import EventService

            return EventService(
                self.config.metadata_dir,
                account_id=self.config.account_id,
                region=self.config.region,
                iam=lambda: self.iam,
                workflows=lambda: self.workflows,
                streams=lambda: self.streams,
                endpoint_url=lambda: self.endpoint_url,
            )

        return self._service("events", make)

    @property
    def lakeformation(self) -> LakeFormationService:
        """Lake Formation: settings, grants, LF-tags, data cells filters, registered
        locations and the access log; the ``LakePermissions`` every enforcer asks."""

        def make() -> LakeFormationService:
            from lakebox.governance.service import LakeFormationService

            def unrestricted(principal: Principal) -> bool:
                return principal.is_local_admin or self.iam.unrestricted(principal)

            def results_locations() -> list[str]:
                """Where queries write results: Lake Formation refuses to register them."""
                return [
                    wg.output_location
                    for wg in self.queries.list_work_groups()
                    if wg.output_location
                ]

            return LakeFormationService(
                self.config.metadata_dir,
                self.catalog,
                self.storage,
                account_id=self.config.account_id,
                region=self.config.region,
                unrestricted=unrestricted,
                results_locations=results_locations,
            )

        return self._service("lakeformation", make)

    @property
    def lake_permissions(self) -> LakePermissions | None:
        """Lake Formation for the enforcers at the doors: None until someone set it up in
        this lake (see ``_lake_permissions``)."""
        return self._lake_permissions()

    def _lake_permissions(self) -> LakePermissions | None:
        """Lake Formation, for the enforcers: None while no one has ever set it up in
        this lake (no store on disk: the default mode, nothing granted), so a lake that
        never uses it does not make it (a file and its schema) on its first statement."""
        made = self._services.get("lakeformation")
        if made is not None:
            return cast("LakePermissions", made)
        if self._lf_store is None:
            from lakebox.governance import FILE

            self._lf_store = str(self.config.metadata_dir / FILE)
        if not os.path.exists(self._lf_store):  # one stat per statement until it exists
            return None
        return self.lakeformation

    def table_access(self) -> TableAccess:
        """What a principal other than the local administrator may read and change in a
        query: the lake's IAM, then its Lake Formation (``lakebox.query.authorize``)."""

        def make() -> TableAccess:
            from lakebox.query.authorize import IamTableAccess, LakeFormationAccess

            def governed(uri: str) -> bool:
                permissions = self._lake_permissions()
                return permissions is not None and (
                    permissions.active and permissions.governed_location(uri)
                )

            iam = IamTableAccess(self.iam, self.config, governed)
            return LakeFormationAccess(
                iam, self._lake_permissions, lambda: self.catalog, lambda: self.lakeformation
            )

        return self._service("table_access", make)

    def task_service(self, name: str) -> Any:
        """The service a workflow task asks for by name (one of ``TASK_SERVICES``)."""
        if name == "lake":
            return self
        if name == "delivery_streams":
            return self.streams
        if name not in TASK_SERVICES:
            raise KeyError(name)
        return getattr(self, name)

    def close(self) -> None:
        """Close the services made so far, users before what they use (workflows run
        Glue jobs and queries), then the engine."""
        with self._lock:
            services = [self._services.pop(n) for n in _CLOSE_ORDER if n in self._services]
        for service in services:
            close = getattr(service, "close", None)
            if close is not None:
                close()
        with self._lock:
            engines = list(self._engines.values())
        for engine in engines:
            engine.close()


def _has_unsynced_results(path: Path) -> bool:
    """Whether the query store at ``path`` holds result files committed with their
    execution and perhaps not yet fsynced (``QueryStore.unsynced``). One read-only query,
    without opening the store (its schema check, its migrations, the modules it imports:
    a lake's start must not pay for them); a read-only connection never checkpoints the
    log either. 0.1-0.25 ms. False when there is no store, when it predates the table,
    or when it cannot be read: then the query service restores the files when it starts,
    and reports what is wrong with the store."""
    if not path.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return False
    try:
        return con.execute("SELECT 1 FROM unsynced_results LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        con.close()


class Lake(Lakehouse):
    """A ``Lakehouse`` started by its constructor: the name older code and the public API
    use (``Lake(config)`` opens the lake and recovers its writes, as it always has)."""

    def __init__(
        self,
        config: LakeConfig,
        catalog: CatalogStore | None = None,
        *,
        create: bool = True,
        visibility: Visibility | None = None,
    ) -> None:
        super().__init__(config, catalog, visibility=visibility)
        self.start(create=create)


def connect(
    home: str | os.PathLike[str] | None = None,
    *,
    database: str = "default",
    storage: str | None = None,
    s3_endpoint: str | None = None,
    region: str | None = None,
    create: bool = True,
    principal: str | Principal | None = None,
    credentials: tuple[str, str] | tuple[str, str, str] | None = None,
    profile: str | None = None,
    engine: str | None = None,
) -> Session:
    """Open the lake at ``home`` (default ``$LAKEBOX_HOME`` or ``./.lakebox``) and return a
    session whose current database is ``database``. The lake is created if needed unless
    ``create`` is false (then a missing lake raises ``LakeNotFoundError``).

    The session acts as the local administrator unless one of these says otherwise (see
    docs/identity.md): ``principal``, a user or role name of the lake's account or an IAM
    ARN (taken on trust: whoever opens the lake's files owns it); ``credentials``,
    ``(access_key_id, secret_access_key[, session_token])``; ``profile``, a profile of
    the shared credentials file. Keys are checked with the lake's IAM.

    ``engine`` (``"duckdb"`` or ``"spark"``) runs this session's statements on that engine
    whatever the lake's default (``LAKEBOX_ENGINE``); see docs/scale-out.md."""
    if engine is not None:
        engine = check_engine(engine.strip().lower())
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
    lake = Lakehouse.open(config, create=create)
    acting: Principal | None = None
    if principal is not None or credentials is not None or profile is not None:
        from lakebox.iam.acting import acting_principal

        try:
            acting = acting_principal(lake.iam, principal, credentials=credentials, profile=profile)
        except BaseException:
            lake.close()
            raise
    session = lake.session(database, acting or LOCAL_ADMIN, engine=engine)
    chosen = lake.engine_for(session.engine_name)
    if isinstance(chosen, DuckDBEngine):
        # a session is for queries: its database opens here, as duckdb.connect opens
        # DuckDB's, so the first query neither waits for it nor shares the CPU with it
        chosen.open()
    else:
        chosen.warm()  # Spark (a JVM: seconds) starts while the caller goes on
    return session
