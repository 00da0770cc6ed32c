"""Glue's operation table: crawlers and job runs in botocore's shapes, Glue's error codes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.catalog.model import Database
from lakebox.crawler.model import Crawler, Target
from lakebox.lakehouse import Lake


@pytest.fixture
def orders_crawler(lake: Lake, ctx: ServiceContext) -> str:
    lake.storage.write_bytes("s3://landing/orders/dt=2024-01-01/part.json", b'{"id": 1}\n')
    lake.catalog.create_database(Database("landing"))
    ctx.crawlers.create_crawler(Crawler("orders", "landing", [Target("s3://landing/orders/")]))
    return "orders"


def test_crawler_round_trip(ctx: ServiceContext, lake: Lake, orders_crawler: str) -> None:
    assert call(ctx, "glue", "StartCrawler", {"Name": orders_crawler}) == {}
    ctx.crawl_threads[orders_crawler].join(60)
    got = call(ctx, "glue", "GetCrawler", {"Name": orders_crawler})["Crawler"]
    assert (got["State"], got["LastCrawl"]["Status"]) == ("READY", "SUCCEEDED")
    assert got["Targets"]["S3Targets"] == [{"Path": "s3://landing/orders/", "Exclusions": []}]
    [metrics] = call(ctx, "glue", "GetCrawlerMetrics", {"CrawlerNameList": [orders_crawler]})[
        "CrawlerMetricsList"
    ]
    assert (metrics["CrawlerName"], metrics["TablesCreated"]) == (orders_crawler, 1)
    assert lake.catalog.get_table("landing", "orders").partition_keys


def test_a_running_crawler_cannot_start_again(ctx: ServiceContext, orders_crawler: str) -> None:
    release = threading.Event()
    busy = threading.Thread(target=release.wait, daemon=True)
    busy.start()
    ctx.crawl_threads[orders_crawler] = busy
    try:
        assert call(ctx, "glue", "GetCrawler", {"Name": orders_crawler})["Crawler"]["State"] == (
            "RUNNING"
        )
        with pytest.raises(AwsError) as info:
            dispatch("glue", "StartCrawler", {"Name": orders_crawler}, ctx)
        assert info.value.code == "CrawlerRunningException"
    finally:
        release.set()
        busy.join()
        del ctx.crawl_threads[orders_crawler]


def test_job_run_round_trip(ctx: ServiceContext, tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint(sys.argv[1:])\n")
    ctx.glue_jobs.register_job("hello", script, "python")
    run_id = call(
        ctx, "glue", "StartJobRun", {"JobName": "hello", "Arguments": {"--day": "2024-01-01"}}
    )["JobRunId"]
    assert ctx.glue_jobs.wait(run_id, 60).state == "SUCCEEDED"
    run = call(ctx, "glue", "GetJobRun", {"JobName": "hello", "RunId": run_id})["JobRun"]
    assert (run["Id"], run["JobRunState"]) == (run_id, "SUCCEEDED")
    runs = call(ctx, "glue", "GetJobRuns", {"JobName": "hello"})["JobRuns"]
    assert [r["Id"] for r in runs] == [run_id]
    stopped = call(ctx, "glue", "BatchStopJobRun", {"JobName": "hello", "JobRunIds": ["nope"]})
    assert stopped["SuccessfulSubmissions"] == []
    assert [e["JobRunId"] for e in stopped["Errors"]] == ["nope"]


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("StartCrawler", {"Name": "nope"}, "EntityNotFoundException"),
        ("GetCrawler", {}, "InvalidInputException"),
        ("GetCrawlerMetrics", {"CrawlerNameList": ["nope"]}, "EntityNotFoundException"),
        ("StartJobRun", {"JobName": "nope"}, "EntityNotFoundException"),
        ("StartJobRun", {"JobName": "x", "Arguments": ["a"]}, "InvalidInputException"),
        ("GetJobRun", {"JobName": "x"}, "InvalidInputException"),
    ],
)
def test_glue_error_codes(
    ctx: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("glue", operation, request_, ctx)
    assert info.value.code == code
