"""Glue task resources: crawlers (``aws-sdk:glue:startCrawler`` / ``getCrawler`` /
``getCrawlerMetrics``) over lakebox's CrawlerService, and jobs (``glue:startJobRun[.sync]``,
``aws-sdk:glue:startJobRun`` / ``getJobRun`` / ``getJobRuns`` / ``batchStopJobRun``) over the
job registry in ``lakebox.workflows.jobs``.

Crawlers: AWS's StartCrawler returns at once and workflows poll GetCrawler until ``State``
is ``READY`` again, reading ``LastCrawl.Status``. lakebox's ``start_crawler`` runs a crawl to
its end, so ``startCrawler`` runs it on a background thread and ``getCrawler`` reports
``RUNNING`` until the thread has finished (or while the newest run recorded in the crawler
store is still running, e.g. a crawl started by another process), then ``READY`` with the
run's outcome in ``LastCrawl``. There is no ``STOPPING`` phase.

Errors: ``Glue.EntityNotFoundException``, ``Glue.CrawlerRunningException``,
``Glue.ConcurrentRunsExceededException``, ``Glue.InvalidInputException``; a ``.sync`` job run
that ends FAILED / TIMEOUT / STOPPED / ERROR fails with ``States.TaskFailed`` and the JobRun as
the cause, as Step Functions reports it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.jobs import ACTIVE_STATES, SUCCEEDED, JobRegistry, JobRun
from lakebox.workflows.tasks.athena import (
    invalid,
    lake_of,
    params_of,
    queries_of,
    required_str,
    service_error,
    shared,
)
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, IntegrationPattern, TaskContext

if TYPE_CHECKING:
    from lakebox.crawler.model import Crawler, CrawlRun
    from lakebox.crawler.service import CrawlerService

OPTIMISED = "arn:aws:states:::glue:"
SDK = "arn:aws:states:::aws-sdk:glue:"
SYNC_POLL_SECONDS = 0.1

T = TypeVar("T")
_CRAWL_LOCK = threading.Lock()


def _call(fn: Callable[[], T], generic: str | None = None) -> T:
    try:
        return fn()
    except StatesError:
        raise
    except LakeboxError as exc:
        if exc.code == InvalidRequestError.code:
            raise invalid("Glue", str(exc)) from exc  # Glue calls it InvalidInputException
        raise service_error("Glue", exc, generic) from exc


def crawlers_of(ctx: TaskContext) -> CrawlerService:
    def make() -> CrawlerService:
        from lakebox.crawler.service import CrawlerService

        lake = lake_of(ctx, "Glue")
        return CrawlerService(lake.config, lake.storage, catalog=lake.catalog)

    return shared(ctx, "crawlers", make)


def jobs_of(ctx: TaskContext) -> JobRegistry:
    return shared(ctx, "glue_jobs", lambda: JobRegistry(lake_of(ctx, "Glue"), queries_of(ctx)))


def _crawls(ctx: TaskContext) -> dict[str, threading.Thread]:
    return shared(ctx, "glue_crawls", dict)


# -- crawlers -----------------------------------------------------------------------------------


def start_crawler(params: Any, ctx: TaskContext) -> Any:
    name = required_str(params_of(params, "Glue"), "Name", "Glue")
    service = crawlers_of(ctx)
    _call(lambda: service.get_crawler(name))
    crawls = _crawls(ctx)
    with _CRAWL_LOCK:
        if _running(service, crawls, name):
            raise StatesError(
                "Glue.CrawlerRunningException",
                f"Crawler with name {name} has already started",
            )
        thread = threading.Thread(
            target=_crawl, args=(service, name), name=f"lakebox-crawl-{name}", daemon=True
        )
        crawls[name] = thread
        thread.start()
    return {}


def _crawl(service: CrawlerService, name: str) -> None:
    # start_crawler records every outcome (also failures) as a run in the crawler store,
    # which getCrawler reads; nothing is lost by not raising here.
    try:
        service.start_crawler(name)
    except Exception:
        pass


def _last_run(service: CrawlerService, name: str) -> CrawlRun | None:
    runs = service.list_runs(name, 1)
    return runs[0] if runs else None


def _running(service: CrawlerService, crawls: dict[str, threading.Thread], name: str) -> bool:
    thread = crawls.get(name)
    if thread is not None and thread.is_alive():
        return True
    last = _last_run(service, name)
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


def get_crawler(params: Any, ctx: TaskContext) -> Any:
    name = required_str(params_of(params, "Glue"), "Name", "Glue")
    service = crawlers_of(ctx)
    crawler = _call(lambda: service.get_crawler(name))
    running = _running(service, _crawls(ctx), name)
    runs = service.list_runs(name, 2)
    # while a crawl runs, LastCrawl describes the one before it, as in Glue
    finished = [r for r in runs if r.state != "RUNNING"]
    last = runs[0] if running and runs else (finished[0] if finished else None)
    api = _crawler_api(crawler, "RUNNING" if running else "READY", last)
    if running and finished:
        api["LastCrawl"] = _crawler_api(crawler, "READY", finished[0])["LastCrawl"]
    return {"Crawler": api}


def get_crawler_metrics(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Glue")
    service = crawlers_of(ctx)
    names = p.get("CrawlerNameList") or [c.name for c in service.list_crawlers()]
    metrics = []
    for name in names:
        _call(partial(service.get_crawler, name))
        runs = [r for r in service.list_runs(name) if r.duration is not None]
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


def _arguments(p: dict[str, Any]) -> dict[str, str]:
    args = p.get("Arguments") or {}
    if not isinstance(args, dict):
        raise invalid("Glue", "Arguments must be an object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in args.items()}


def _start(p: dict[str, Any], ctx: TaskContext, generic: str | None) -> tuple[JobRegistry, str]:
    name = required_str(p, "JobName", "Glue")
    registry = jobs_of(ctx)
    timeout = p.get("Timeout")
    run_id = _call(
        lambda: registry.start_job_run(
            name, _arguments(p), int(timeout) if timeout is not None else None
        ),
        generic,
    )
    return registry, run_id


def _wait_run(ctx: TaskContext, registry: JobRegistry, run: JobRun) -> JobRun:
    last_beat = ctx.clock.now()
    while run.state in ACTIVE_STATES:
        if ctx.cancel.is_set():
            registry.stop_job_run(run.job_name, run.id)
            raise StatesError("States.Runtime", "the task was cancelled; the job run was stopped")
        run = registry.wait(run.id, SYNC_POLL_SECONDS)
        now = ctx.clock.now()
        if (now - last_beat).total_seconds() >= 0.5:
            ctx.heartbeat()
            last_beat = now
    return run


def start_job_run_optimised(params: Any, ctx: TaskContext) -> Any:
    """``glue:startJobRun``; with ``.sync`` the output is the finished JobRun itself."""
    registry, run_id = _start(params_of(params, "Glue"), ctx, "AWSGlueException")
    if ctx.pattern is not IntegrationPattern.RUN_JOB:
        return {"JobRunId": run_id}
    name = params["JobName"]
    run = _wait_run(ctx, registry, registry.get_job_run(name, run_id))
    out = run.to_api()
    if run.state != SUCCEEDED:
        raise StatesError("States.TaskFailed", json.dumps(out))
    return out


def start_job_run(params: Any, ctx: TaskContext) -> Any:
    _, run_id = _start(params_of(params, "Glue"), ctx, None)
    return {"JobRunId": run_id}


def get_job_run(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Glue")
    name = required_str(p, "JobName", "Glue")
    run_id = required_str(p, "RunId", "Glue")
    registry = jobs_of(ctx)
    return {"JobRun": _call(lambda: registry.get_job_run(name, run_id)).to_api()}


def get_job_runs(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Glue")
    name = required_str(p, "JobName", "Glue")
    registry = jobs_of(ctx)
    runs = _call(lambda: registry.get_job_runs(name, int(p.get("MaxResults", 100))))
    return {"JobRuns": [r.to_api() for r in runs]}


def batch_stop_job_run(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Glue")
    name = required_str(p, "JobName", "Glue")
    registry = jobs_of(ctx)
    ok, errors = [], []
    for run_id in p.get("JobRunIds") or []:
        try:
            registry.stop_job_run(name, run_id)
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


SDK_ACTIONS: dict[str, Callable[[Any, TaskContext], Any]] = {
    "startCrawler": start_crawler,
    "getCrawler": get_crawler,
    "getCrawlerMetrics": get_crawler_metrics,
    "startJobRun": start_job_run,
    "getJobRun": get_job_run,
    "getJobRuns": get_job_runs,
    "batchStopJobRun": batch_stop_job_run,
}

DEFAULT_REGISTRY.register(
    OPTIMISED + "startJobRun", start_job_run_optimised, sync=True, wait_for_task_token=False
)
for _action, _handler in SDK_ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
