"""Task resources that are AWS API calls: a Task's ``Resource`` names a service and an
operation (``arn:aws:states:::athena:startQueryExecution``,
``arn:aws:states:::aws-sdk:s3:getObject``), the task dispatches the operation through the
AWS API layer's operation tables and names a failure as Step Functions' SDK integration does
(``Athena.InvalidRequestException``, ``S3.NoSuchKeyException``).

The workflow package sits below the API layer, so it never imports it: the dispatcher is a
callable handed in as ``services["aws_api"]`` (the Lakehouse wires ``lakebox.api.dispatch``).
A WorkflowService built without one loads the layer's dispatcher by name, on first use.

The services the handlers reach (queries, crawlers, Glue jobs, streams, exports, storage)
are made once per WorkflowService and kept in its ``services``; the Data Catalog and its
visibility policy are the lake's own (``aws-sdk:glue:getTable`` reads what Athena reads).
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from lakebox.errors import LakeboxError
from lakebox.principal import Principal, local_admin
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.registry import (
    DEFAULT_REGISTRY,
    TaskContext,
    TaskHandler,
    lake_account,
    lake_region,
)

if TYPE_CHECKING:
    from lakebox.catalog.store import CatalogStore
    from lakebox.catalog.visibility import Visibility
    from lakebox.crawler.service import CrawlerService
    from lakebox.iam.service import IamService
    from lakebox.ingest.exports import TableExports
    from lakebox.ingest.snapshots import SnapshotExports
    from lakebox.ingest.streams import DeliveryStreams
    from lakebox.lakehouse import Lake
    from lakebox.query.service import QueryService
    from lakebox.storage import Storage
    from lakebox.workflows.jobs import JobRegistry

T = TypeVar("T")
#: the task services whose calls act as the state machine's role
ROLE_SERVICES = frozenset({"Athena", "Glue"})
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
_SESSION = re.compile(r"[^\w+=,.@-]")
_SHARED_LOCK = threading.RLock()


class ApiDispatch(Protocol):
    """``lakebox.api.dispatch``: AWS-shaped request in, AWS-shaped response out; a failure
    raises an exception with the AWS error ``code`` and its message."""

    def __call__(
        self, service: str, operation: str, request: Any, context: Any
    ) -> dict[str, Any]: ...


def shared(ctx: TaskContext, key: str, factory: Callable[[], T]) -> T:
    """``ctx.services[key]``, made by ``factory`` the first time: the WorkflowService's
    ``services`` dict lives as long as the service, so every task reuses one object."""
    services = ctx.services
    if key in services:
        return services[key]
    if not isinstance(services, MutableMapping):
        return factory()
    with _SHARED_LOCK:
        if key not in services:
            services[key] = factory()
        return services[key]


def lake_of(ctx: TaskContext, service: str) -> Lake:
    """The lake a task works on (``services["lake"]``, or one opened from the config)."""
    if ctx.config is None and "lake" not in ctx.services:
        raise StatesError(
            f"{service}.InvalidRequestException",
            f"{service} tasks need a lake: run them through WorkflowService(config)",
        )

    def open_lake() -> Lake:
        from lakebox.lakehouse import Lake

        assert ctx.config is not None
        return Lake(ctx.config)

    return shared(ctx, "lake", open_lake)


def queries_of(ctx: TaskContext, service: str = "Athena") -> QueryService:
    def open_queries() -> QueryService:
        from lakebox.query.service import QueryService

        return QueryService(lake_of(ctx, service))

    return shared(ctx, "queries", open_queries)


def jobs_of(ctx: TaskContext) -> JobRegistry:
    def make() -> JobRegistry:
        from lakebox.workflows.jobs import JobRegistry

        return JobRegistry(lake_of(ctx, "Glue"), queries_of(ctx, "Glue"))

    return shared(ctx, "glue_jobs", make)


class TaskApiContext:
    """What an API handler run by a task may use: the caller (the execution's principal),
    the lake's account and region, and the services, made on first use."""

    def __init__(self, ctx: TaskContext, prefix: str) -> None:
        self._ctx = ctx
        self._prefix = prefix

    @property
    def principal(self) -> Principal:
        """Who the call acts as: for Athena and Glue tasks, a session of the state
        machine's role when the lake's IAM knows that role (as Step Functions assumes it;
        its policies and Lake Formation's grants apply to the queries and catalog calls),
        else whoever started the execution."""
        if self._prefix in ROLE_SERVICES:
            role = self._role_session()
            if role is not None:
                return role
        started_by = self._ctx.principal
        if started_by is not None and not started_by.is_local_admin:
            return started_by
        given = self._ctx.services.get("principal")
        return given if isinstance(given, Principal) else local_admin(self.account_id)

    def _role_session(self) -> Principal | None:
        arn = self._ctx.role_arn
        found = _ROLE_ARN.match(arn) if arn else None
        if found is None:
            return None
        account, name = found.group(1), found.group(2)
        try:
            lake = lake_of(self._ctx, self._prefix)
            lake.iam.get_role(name, account_id=account)
        except (LakeboxError, AttributeError):
            return None
        session = _SESSION.sub("-", self._ctx.execution_arn.rsplit(":", 1)[-1])[:64]
        return Principal(
            account,
            f"arn:aws:sts::{account}:assumed-role/{name}/{session or 'states'}",
            "assumed-role",
        )

    @property
    def account_id(self) -> str:
        return lake_account(self._ctx.config)

    @property
    def region(self) -> str:
        return lake_region(self._ctx.config)

    @property
    def queries(self) -> QueryService:
        return queries_of(self._ctx, self._prefix)

    @property
    def crawlers(self) -> CrawlerService:
        def make() -> CrawlerService:
            from lakebox.crawler.service import CrawlerService

            lake = lake_of(self._ctx, self._prefix)
            return CrawlerService(lake.config, lake.storage, catalog=lake.catalog)

        return shared(self._ctx, "crawlers", make)

    @property
    def glue_jobs(self) -> JobRegistry:
        return jobs_of(self._ctx)

    @property
    def crawl_threads(self) -> dict[str, threading.Thread]:
        return shared(self._ctx, "glue_crawls", dict)

    @property
    def streams(self) -> DeliveryStreams:
        def make() -> DeliveryStreams:
            from lakebox.ingest.streams import DeliveryStreams

            return DeliveryStreams(lake_of(self._ctx, self._prefix))

        return shared(self._ctx, "delivery_streams", make)

    @property
    def exports(self) -> TableExports:
        from lakebox.ingest.exports import TableExports

        return TableExports(lake_of(self._ctx, self._prefix))

    @property
    def snapshots(self) -> SnapshotExports:
        from lakebox.ingest.snapshots import SnapshotExports

        return SnapshotExports(lake_of(self._ctx, self._prefix))

    @property
    def catalog(self) -> CatalogStore:
        """The lake's Data Catalog (Glue's catalog operations: ``aws-sdk:glue:getTable``)."""
        return lake_of(self._ctx, self._prefix).catalog

    @property
    def visibility(self) -> Visibility:
        """What of the catalog the execution's principal may see: the lake's own policy."""
        return lake_of(self._ctx, self._prefix).visibility

    @property
    def iam(self) -> IamService:
        """The lake's identity service: the API layer authorizes a task's call with it when
        the execution's principal is not the local administrator."""
        return lake_of(self._ctx, self._prefix).iam

    def optional(self, name: str) -> Any | None:
        """The lake's event bus (``events``: an S3 task's object events reach it) or its
        Lake Formation permissions (``lakeformation``; ``lake_permissions`` is None until
        someone set Lake Formation up in the lake), when the task's lake has them; None
        for any other name."""
        if name not in ("events", "lakeformation", "lake_permissions"):
            return None
        given = self._ctx.services.get("lakeformation" if name == "lake_permissions" else name)
        if given is not None:
            return given
        try:
            return getattr(lake_of(self._ctx, self._prefix), name, None)
        except LakeboxError:
            return None

    @property
    def secrets(self) -> Any:
        """The lake's Secrets Manager store (``lakebox.secrets``, a layer above this one)."""
        return lake_of(self._ctx, self._prefix).secrets

    @property
    def sns(self) -> Any:
        """The lake's SNS topics (``lakebox.sns``, a layer above this one)."""
        return lake_of(self._ctx, self._prefix).sns

    @property
    def lakeformation(self) -> Any:
        """The lake's Lake Formation service (``lakebox.governance``)."""
        return lake_of(self._ctx, self._prefix).lakeformation

    @property
    def storage(self) -> Storage:
        from lakebox.storage import Storage

        assert self._ctx.config is not None, "checked by the S3 task before it dispatches"
        return Storage(self._ctx.config)


def dispatcher(ctx: TaskContext) -> ApiDispatch:
    given = ctx.services.get("aws_api")
    if given is not None:
        return given
    dispatch: ApiDispatch = importlib.import_module("lakebox.api").dispatch
    return dispatch


def states_error(prefix: str, exc: LakeboxError, generic: str | None = None) -> StatesError:
    """The error a state machine sees: ``<Service>.<Code>`` with ``Exception`` added to codes
    that lack it (``Rds.ExportTaskNotFoundFaultException``), the SDK's base exception for an
    internal error when ``generic`` is given (``Athena.AmazonAthenaException``), and the
    SDK's cause text."""
    if isinstance(exc, StatesError):
        return exc
    code = exc.code or "InternalServerException"
    if generic is not None and code == "InternalServerException":
        code = generic
    if not code.endswith("Exception"):
        code += "Exception"
    return StatesError(
        f"{prefix}.{code}",
        f"{exc} (Service: {prefix}; Status Code: 400; Error Code: {code})",
    )


ErrorNamer = Callable[[str, LakeboxError], StatesError]


def call_api(
    ctx: TaskContext,
    service: str,
    operation: str,
    request: Any,
    *,
    prefix: str,
    generic: str | None = None,
    namer: ErrorNamer | None = None,
) -> dict[str, Any]:
    """Dispatch one AWS operation for a task; failures become the task's error."""
    try:
        return dispatcher(ctx)(service, operation, request, TaskApiContext(ctx, prefix))
    except LakeboxError as exc:
        if isinstance(exc, StatesError):
            raise
        raise (namer(prefix, exc) if namer else states_error(prefix, exc, generic)) from exc


def operation_name(action: str) -> str:
    """``startQueryExecution`` (a Resource's spelling) -> ``StartQueryExecution``."""
    return action[0].upper() + action[1:]


def sdk_task(
    service: str,
    action: str,
    *,
    prefix: str,
    generic: str | None = None,
    namer: ErrorNamer | None = None,
    requires: Callable[[TaskContext, str], object] | None = lake_of,
) -> TaskHandler:
    """A task handler calling ``operation_name(action)`` of ``service`` with the task's
    parameters as the request and answering its response."""
    operation = operation_name(action)

    def handler(params: Any, ctx: TaskContext) -> Any:
        if requires is not None:  # fails the task when what the service needs is missing
            requires(ctx, prefix)
        return call_api(
            ctx, service, operation, params, prefix=prefix, generic=generic, namer=namer
        )

    handler.__name__ = action
    return handler


def register_sdk(
    service: str,
    actions: tuple[str, ...],
    *,
    prefix: str,
    namer: ErrorNamer | None = None,
    requires: Callable[[TaskContext, str], object] | None = lake_of,
    wait_for_task_token: bool = True,
) -> None:
    """``arn:aws:states:::aws-sdk:<service>:<action>`` for each action."""
    for action in actions:
        DEFAULT_REGISTRY.register(
            f"arn:aws:states:::aws-sdk:{service}:{action}",
            sdk_task(service, action, prefix=prefix, namer=namer, requires=requires),
            wait_for_task_token=wait_for_task_token,
        )
