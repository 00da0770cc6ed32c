"""Glue task resources, dispatched through the Glue operation table of the API layer
(``lakebox.api.glue``): crawlers (``aws-sdk:glue:createCrawler`` / ``startCrawler`` /
``getCrawler`` / ...), jobs (``glue:startJobRun[.sync]``, ``aws-sdk:glue:createJob`` /
``startJobRun`` / ``getJobRun`` / ...) and the Data Catalog (``aws-sdk:glue:getTable`` /
``createPartition`` / ``getPartitions`` / ...) over the lake's own catalog.

Errors: ``Glue.EntityNotFoundException``, ``Glue.CrawlerRunningException``,
``Glue.ConcurrentRunsExceededException``, ``Glue.InvalidInputException``; the optimised
``glue:startJobRun`` names an internal error ``Glue.AWSGlueException``. A ``.sync`` job run
that ends FAILED / TIMEOUT / STOPPED / ERROR fails with ``States.TaskFailed`` and the JobRun
as the cause, as Step Functions reports it.
"""

from __future__ import annotations

import json
from typing import Any

from lakebox.workflows.errors import StatesError
from lakebox.workflows.jobs import ACTIVE_STATES, SUCCEEDED, JobRegistry, JobRun
from lakebox.workflows.tasks.aws import call_api, jobs_of, lake_of, register_sdk
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, IntegrationPattern, TaskContext

OPTIMISED = "arn:aws:states:::glue:"
PREFIX = "Glue"
SYNC_POLL_SECONDS = 0.1


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
    lake_of(ctx, PREFIX)
    started = call_api(
        ctx, "glue", "StartJobRun", params, prefix=PREFIX, generic="AWSGlueException"
    )
    if ctx.pattern is not IntegrationPattern.RUN_JOB:
        return started
    registry = jobs_of(ctx)
    run = registry.get_job_run(params["JobName"], started["JobRunId"])
    run = _wait_run(ctx, registry, run)
    out = run.to_api()
    if run.state != SUCCEEDED:
        raise StatesError("States.TaskFailed", json.dumps(out))
    return out


DEFAULT_REGISTRY.register(
    OPTIMISED + "startJobRun", start_job_run_optimised, sync=True, wait_for_task_token=False
)
register_sdk(
    "glue",
    (
        "createCrawler",
        "updateCrawler",
        "deleteCrawler",
        "getCrawlers",
        "listCrawlers",
        "startCrawler",
        "stopCrawler",
        "getCrawler",
        "getCrawlerMetrics",
        "listCrawls",
        "createJob",
        "updateJob",
        "deleteJob",
        "getJob",
        "getJobs",
        "listJobs",
        "startJobRun",
        "getJobRun",
        "getJobRuns",
        "batchStopJobRun",
        # the Data Catalog: the lake's catalog, as Athena sees it
        "createDatabase",
        "updateDatabase",
        "getDatabase",
        "getDatabases",
        "deleteDatabase",
        "createTable",
        "updateTable",
        "getTable",
        "getTables",
        "deleteTable",
        "searchTables",
        "getTableVersions",
        "getTableVersion",
        "createPartition",
        "batchCreatePartition",
        "getPartition",
        "getPartitions",
        "batchGetPartition",
        "updatePartition",
        "batchUpdatePartition",
        "deletePartition",
        "batchDeletePartition",
    ),
    prefix=PREFIX,
)
