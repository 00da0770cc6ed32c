"""Glue's API for crawlers (StartCrawler, GetCrawler, GetCrawlerMetrics) over the
CrawlerService and for jobs (StartJobRun, GetJobRun, GetJobRuns, BatchStopJobRun) over the
job registry of ``lakebox.workflows.jobs``.

Crawlers: AWS's StartCrawler returns at once and callers poll GetCrawler until ``State`` is
``READY`` again, reading ``LastCrawl.Status``. lakebox's ``start_crawler`` runs a crawl to
its end, so StartCrawler runs it on a background thread (kept in the context's
``crawl_threads``) and GetCrawler reports ``RUNNING`` until the thread has finished (or while
the newest run recorded in the crawler store is still running, e.g. a crawl started by
another process), then ``READY`` with the run's outcome in ``LastCrawl``. There is no
``STOPPING`` phase.

Errors: lakebox's codes pass through (``EntityNotFoundException``,
``CrawlerRunningException``, ``ConcurrentRunsExceededException``); an invalid request is
``InvalidInputException``, as Glue calls it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import (
    ApiContext,
    AwsError,
    Request,
    Response,
    ServiceApi,
    operations,
    optional_int,
    required_str,
)
from lakebox.errors import InvalidRequestError, LakeboxError

if TYPE_CHECKING:
    from lakebox.crawler.model import Crawler, CrawlRun
    from lakebox.crawler.service import CrawlerService
    from lakebox.principal import Principal
    from lakebox.workflows.jobs import JobRegistry

INVALID = "InvalidInputException"
_CRAWL_LOCK = threading.Lock()


class GlueContext(ApiContext, Protocol):
    @property
    def crawlers(self) -> CrawlerService: ...

    @property
    def glue_jobs(self) -> JobRegistry: ...

    @property
    def crawl_threads(self) -> dict[str, threading.Thread]:
        """The background crawls StartCrawler started, by crawler name."""
        ...


def error_code(exc: LakeboxError) -> str:
    return INVALID if exc.code == InvalidRequestError.code else exc.code


# -- crawlers -----------------------------------------------------------------------------------


def start_crawler(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "Name", INVALID)
    service = context.crawlers
    principal = context.principal
    service.get_crawler(name, principal=principal)
    crawls = context.crawl_threads
    with _CRAWL_LOCK:
        if _running(service, crawls, name, principal):
            raise AwsError(
                "CrawlerRunningException", f"Crawler with name {name} has already started"
            )
        thread = threading.Thread(
            target=_crawl,
            args=(service, name, principal),
            name=f"lakebox-crawl-{name}",
            daemon=True,
        )
        crawls[name] = thread
        thread.start()
    return {}


def _crawl(service: CrawlerService, name: str, principal: Principal) -> None:
    # start_crawler records every outcome (also failures) as a run in the crawler store,
    # which GetCrawler reads; nothing is lost by not raising here.
    try:
        service.start_crawler(name, principal=principal)
    except Exception:
        pass


def _last_run(service: CrawlerService, name: str, principal: Principal) -> CrawlRun | None:
    runs = service.list_runs(name, 1, principal=principal)
    return runs[0] if runs else None


def _running(
    service: CrawlerService,
    crawls: dict[str, threading.Thread],
    name: str,
    principal: Principal,
) -> bool:
    thread = crawls.get(name)
    if thread is not None and thread.is_alive():
        return True
    last = _last_run(service, name, principal)
    return last is not None and last.state == "RUNNING" and thread is None


def _crawler_api(crawler: Crawler, state: str, last: CrawlRun | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": crawler.name,
        "DatabaseName": crawler.database,
        "Description": crawler.description,
        "Targets": {
            "S3Targets": [
                {"Path": t.path, "Exclusions": list(t.exclusions)} for t in crawler.targets
            ]
        },
        "TablePrefix": crawler.table_prefix,
        "SchemaChangePolicy": {
            "UpdateBehavior": crawler.update_behavior,
            "DeleteBehavior": crawler.delete_behavior,
        },
        "RecrawlPolicy": {"RecrawlBehavior": crawler.recrawl_behavior},
        "State": state,
        "CreationTime": crawler.create_time,
        "LastUpdated": crawler.update_time,
        "Version": crawler.version,
    }
    if state == "RUNNING" and last is not None:
        out["CrawlElapsedTime"] = int((time.time() - last.start_time) * 1000)
    if last is not None and last.state != "RUNNING":
        crawl: dict[str, Any] = {
            "Status": last.state,
            "StartTime": last.start_time,
            "MessagePrefix": last.id,
        }
        if last.error:
            crawl["ErrorMessage"] = last.error
        out["LastCrawl"] = crawl
    return out


def get_crawler(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "Name", INVALID)
    service, principal = context.crawlers, context.principal
    crawler = service.get_crawler(name, principal=principal)
    running = _running(service, context.crawl_threads, name, principal)
    runs = service.list_runs(name, 2, principal=principal)
    # while a crawl runs, LastCrawl describes the one before it, as in Glue
    finished = [r for r in runs if r.state != "RUNNING"]
    last = runs[0] if running and runs else (finished[0] if finished else None)
    api = _crawler_api(crawler, "RUNNING" if running else "READY", last)
    if running and finished:
        api["LastCrawl"] = _crawler_api(crawler, "READY", finished[0])["LastCrawl"]
    return {"Crawler": api}


def get_crawler_metrics(request: Request, context: GlueContext) -> Response:
    service, principal = context.crawlers, context.principal
    names = request.get("CrawlerNameList") or [
        c.name for c in service.list_crawlers(principal=principal)
    ]
    metrics = []
    for name in names:
        service.get_crawler(name, principal=principal)
        runs = [r for r in service.list_runs(name, principal=principal) if r.duration is not None]
        durations = sorted(r.duration or 0.0 for r in runs)
        last = runs[0] if runs else None
        metrics.append(
            {
                "CrawlerName": name,
                "TimeLeftSeconds": 0.0,
                "StillEstimating": False,
                "LastRuntimeSeconds": last.duration if last else 0.0,
                "MedianRuntimeSeconds": durations[len(durations) // 2] if durations else 0.0,
                "TablesCreated": len(last.tables_created) if last else 0,
                "TablesUpdated": len(last.tables_updated) if last else 0,
                "TablesDeleted": len(last.tables_deleted) if last else 0,
            }
        )
    return {"CrawlerMetricsList": metrics}


# -- jobs ---------------------------------------------------------------------------------------


def _arguments(request: Request) -> dict[str, str]:
    args = request.get("Arguments") or {}
    if not isinstance(args, dict):
        raise AwsError(INVALID, "Arguments must be an object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in args.items()}


def start_job_run(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    timeout = request.get("Timeout")
    run_id = context.glue_jobs.start_job_run(
        name,
        _arguments(request),
        int(timeout) if timeout is not None else None,
        principal=context.principal,
    )
    return {"JobRunId": run_id}


def get_job_run(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    run_id = required_str(request, "RunId", INVALID)
    return {
        "JobRun": context.glue_jobs.get_job_run(name, run_id, principal=context.principal).to_api()
    }


def get_job_runs(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    runs = context.glue_jobs.get_job_runs(
        name, optional_int(request, "MaxResults", INVALID, 100), principal=context.principal
    )
    return {"JobRuns": [r.to_api() for r in runs]}


def batch_stop_job_run(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    registry = context.glue_jobs
    ok, errors = [], []
    for run_id in request.get("JobRunIds") or []:
        try:
            registry.stop_job_run(name, run_id, principal=context.principal)
            ok.append({"JobName": name, "JobRunId": run_id})
        except LakeboxError as exc:
            errors.append(
                {
                    "JobName": name,
                    "JobRunId": run_id,
                    "ErrorDetail": {"ErrorCode": exc.code, "ErrorMessage": str(exc)},
                }
            )
    return {"SuccessfulSubmissions": ok, "Errors": errors}


API = ServiceApi(
    "Glue",
    operations(
        ("StartCrawler", start_crawler),
        ("GetCrawler", get_crawler),
        ("GetCrawlerMetrics", get_crawler_metrics),
        ("StartJobRun", start_job_run),
        ("GetJobRun", get_job_run),
        ("GetJobRuns", get_job_runs),
        ("BatchStopJobRun", batch_stop_job_run),
    ),
    error_code,
    INVALID,
)
