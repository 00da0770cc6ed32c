"""Fixtures for the API layer: a context holding real services over a fresh lake."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lakebox.api.context import ServiceContext
from lakebox.crawler.service import CrawlerService
from lakebox.ingest.exports import TableExports
from lakebox.ingest.snapshots import SnapshotExports
from lakebox.ingest.streams import DeliveryStreams
from lakebox.lakehouse import Lake
from lakebox.principal import local_admin
from lakebox.query.service import QueryService
from lakebox.workflows.jobs import JobRegistry


@pytest.fixture
def lake(lake_session: Any) -> Lake:
    lake: Lake = lake_session.lake
    return lake


@pytest.fixture
def ctx(lake: Lake) -> Iterator[ServiceContext]:
    queries = QueryService(lake)
    jobs = JobRegistry(lake, queries)
    context = ServiceContext(
        principal=local_admin(lake.config.account_id),
        account_id=lake.config.account_id,
        region=lake.config.region,
        services={
            "queries": queries,
            "glue_jobs": jobs,
            "crawlers": CrawlerService(lake.config, lake.storage, catalog=lake.catalog),
            "streams": DeliveryStreams(lake),
            "exports": TableExports(lake),
            "snapshots": SnapshotExports(lake),
            "storage": lake.storage,
        },
    )
    yield context
    for thread in context.crawl_threads.values():
        thread.join(30)
    jobs.close()
    queries.close()
