"""A ready-made context for API handlers: the caller, the lake's account and region, and
the services a door was given (the Lakehouse builds them; this module builds nothing). A
handler that reaches a service the door did not provide gets an AWS error saying so.

A door that serves many callers from one lake (the HTTP server) makes one context per
request, carrying that request's verified principal, and hands its lake's services in
through ``provider`` (a service by name, made by the Lakehouse on first use) rather than
building each one up front."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakebox.api.base import AwsError
from lakebox.principal import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, LOCAL_ADMIN, Principal

if TYPE_CHECKING:
    from lakebox.catalog.store import CatalogStore
    from lakebox.catalog.visibility import Visibility
    from lakebox.crawler.service import CrawlerService
    from lakebox.events.service import EventService
    from lakebox.governance.service import LakeFormationService
    from lakebox.iam.service import IamService
    from lakebox.ingest.exports import TableExports
    from lakebox.ingest.snapshots import SnapshotExports
    from lakebox.ingest.streams import DeliveryStreams
    from lakebox.query.service import QueryService
    from lakebox.secrets.service import SecretsService
    from lakebox.sns.service import TopicService
    from lakebox.storage import Storage
    from lakebox.workflows.jobs import JobRegistry
    from lakebox.workflows.service import WorkflowService


@dataclass
class ServiceContext:
    """Satisfies every service module's context Protocol (``AthenaContext``, ...)."""

    principal: Principal = LOCAL_ADMIN
    account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    services: dict[str, Any] = field(default_factory=dict)
    crawl_threads: dict[str, threading.Thread] = field(default_factory=dict)
    #: where services not in ``services`` come from (``lambda name: getattr(lake, name)``);
    #: it raises LookupError or AttributeError for a service it does not have
    provider: Callable[[str], Any] | None = None

    def _service(self, name: str) -> Any:
        found = self.services.get(name)
        if found is None and self.provider is not None:
            try:
                found = self.provider(name)
            except (LookupError, AttributeError):
                found = None
        if found is None:
            raise AwsError("ServiceUnavailableException", f"this door offers no {name} service")
        return found

    @property
    def queries(self) -> QueryService:
        return self._service("queries")

    @property
    def crawlers(self) -> CrawlerService:
        return self._service("crawlers")

    @property
    def glue_jobs(self) -> JobRegistry:
        return self._service("glue_jobs")

    @property
    def streams(self) -> DeliveryStreams:
        return self._service("streams")

    @property
    def exports(self) -> TableExports:
        return self._service("exports")

    @property
    def snapshots(self) -> SnapshotExports:
        return self._service("snapshots")

    @property
    def storage(self) -> Storage:
        return self._service("storage")

    @property
    def workflows(self) -> WorkflowService:
        return self._service("workflows")

    @property
    def catalog(self) -> CatalogStore:
        return self._service("catalog")

    @property
    def visibility(self) -> Visibility:
        """What of the catalog the principal may see (everything, if the door gave none)."""
        try:
            found: Visibility = self._service("visibility")
        except AwsError:
            from lakebox.catalog.visibility import OPEN

            return OPEN
        return found

    @property
    def events(self) -> EventService:
        return self._service("events")

    @property
    def iam(self) -> IamService:
        return self._service("iam")

    @property
    def secrets(self) -> SecretsService:
        return self._service("secrets")

    @property
    def sns(self) -> TopicService:
        return self._service("sns")

    @property
    def lakeformation(self) -> LakeFormationService:
        return self._service("lakeformation")

    def optional(self, name: str) -> Any | None:
        """A service the door may or may not offer (the lake's event bus, say): None if not."""
        try:
            return self._service(name)
        except AwsError:
            return None
