"""Glue's API over the lake: crawlers (Create/Update/Delete/Get/GetCrawlers/ListCrawlers,
Start/StopCrawler, GetCrawlerMetrics, ListCrawls) over the CrawlerService, jobs
(Create/Update/Delete/Get/GetJobs/ListJobs, StartJobRun, GetJobRun, GetJobRuns,
BatchStopJobRun) over the job registry of ``lakebox.workflows.jobs``, and the Data Catalog
(databases, tables, partitions one by one and in batches) over the lake's catalog.

Crawlers: AWS's StartCrawler returns at once and callers poll GetCrawler until ``State`` is
``READY`` again, reading ``LastCrawl.Status``. lakebox's ``start_crawler`` runs a crawl to
its end, so StartCrawler runs it on a background thread (kept in the context's
``crawl_threads``) and GetCrawler reports ``RUNNING`` until the thread has finished (or while
the newest run recorded in the crawler store is still running, e.g. a crawl started by
another process), then ``READY`` with the run's outcome in ``LastCrawl``. StopCrawler sets
the thread's stop event, which the crawl's progress callback turns into CrawlStopped at the
next file or table: ``STOPPING`` until then, and the run is ``CANCELLED``.

Data Catalog: the lake's catalog (``context.catalog``), what Athena reads; listings are
filtered by the lake's visibility policy for the caller, then by Lake Formation
(``lakebox.api.lf_doors``): what the caller holds no permission on is not listed, reading
it is AccessDeniedException, columns it may not SELECT are removed from what is returned,
and changes need Lake Formation's permission besides IAM's. GetPartitions' Expression is
``lakebox.catalog.partition_filter``. Listings page with a NextToken naming the last item
given. Every Glue ARN is in the catalog's account (the lake's, or the request's
CatalogId), so a principal of another account is refused by IAM.

Errors: lakebox's codes pass through (``EntityNotFoundException``,
``AlreadyExistsException``, ``CrawlerRunningException``,
``ConcurrentRunsExceededException``); an invalid request is ``InvalidInputException``, as
Glue calls it. What lakebox cannot do is refused by name, never ignored.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import (
    ApiContext,
    AwsError,
    Request,
    Response,
    ServiceApi,
    _has_identities,
    member,
    operations,
    optional_int,
    require_unrestricted,
    required_str,
    text,
)
from lakebox.api.lf_doors import Gate, lake_permissions
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.storage.locations import lake_uri

if TYPE_CHECKING:
    from lakebox.catalog.model import Database, Partition, Table
    from lakebox.catalog.permissions import LakePermissions
    from lakebox.catalog.store import CatalogStore
    from lakebox.catalog.visibility import Visibility
    from lakebox.crawler.model import Crawler, CrawlRun
    from lakebox.crawler.service import CrawlerService
    from lakebox.principal import Principal
    from lakebox.workflows.jobs import Job, JobRegistry, JobRun

INVALID = "InvalidInputException"
_CRAWL_LOCK = threading.Lock()
_JOB_LOCK = threading.Lock()
#: the stop request of each crawl StartCrawler started (StopCrawler sets it)
_STOPS: weakref.WeakKeyDictionary[threading.Thread, threading.Event] = weakref.WeakKeyDictionary()


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
        stop = threading.Event()
        crawler = service.get_crawler(name, principal=principal)
        thread = threading.Thread(
            target=_crawl,
            args=(
                service,
                name,
                principal,
                stop,
                lake_permissions(context),
                _role_iam(context, crawler),
            ),
            name=f"lakebox-crawl-{name}",
            daemon=True,
        )
        _STOPS[thread] = stop
        crawls[name] = thread
        thread.start()
    return {}


def _crawl(
    service: CrawlerService,
    name: str,
    principal: Principal,
    stop: threading.Event,
    permissions: LakePermissions | None,
    authorize: Callable[[Principal], None] | None = None,
) -> None:
    # start_crawler records every outcome (also failures) as a run in the crawler store,
    # which GetCrawler reads; nothing is lost by not raising here. The crawl acts as the
    # crawler's role, checked by the lake's Lake Formation permissions.
    from lakebox.crawler.service import CrawlStopped

    def progress(_: object) -> None:
        if stop.is_set():
            raise CrawlStopped("stopped by StopCrawler")

    try:
        service.start_crawler(
            name, progress, principal=principal, permissions=permissions, authorize=authorize
        )
    except Exception:
        pass


def _role_iam(context: Any, crawler: Crawler) -> Callable[[Principal], None] | None:
    """IAM's check of the principal a crawl acts as (a session of the crawler's role):
    the role's policies must allow what the crawl does (``_crawl_needs``), as on AWS. A
    role the lake's IAM does not know, and a crawl acting as its starter (a crawler with
    no role), are left to the starter's own check (``_starts_crawl``), as before roles
    were acted as."""
    try:
        iam = context.iam
    except (AttributeError, AwsError):
        return None
    if iam is None or not _has_identities(iam):
        return None
    paths = [t.path for t in crawler.targets]
    needs = _crawl_needs(context, crawler.database, paths, crawler.delete_behavior)

    def check(acting: Principal) -> None:
        if acting.kind != "assumed-role" or ":assumed-role/" not in acting.arn:
            return
        role = acting.arn.split(":assumed-role/", 1)[1].split("/")[0]
        try:
            iam.get_role(role, account_id=acting.account_id)
        except LakeboxError:
            return
        for action, resource in needs:
            iam.authorize(acting, action, resource)

    return check


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
        "Role": crawler.role,
        "DatabaseName": crawler.database,
        "Description": crawler.description,
        "Targets": {
            "S3Targets": [
                {
                    "Path": t.path,
                    "Exclusions": list(t.exclusions),
                    **({"SampleSize": t.sample_size} if t.sample_size else {}),
                }
                for t in crawler.targets
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
    configuration = _configuration_out(crawler)
    if configuration:
        out["Configuration"] = configuration
    if state in ("RUNNING", "STOPPING") and last is not None:
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
    thread = context.crawl_threads.get(name)
    stop = _STOPS.get(thread) if thread is not None else None
    state = (
        ("STOPPING" if stop is not None and stop.is_set() else "RUNNING") if running else "READY"
    )
    api = _crawler_api(crawler, state, last)
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


# -- crawler definitions (CreateCrawler, UpdateCrawler, DeleteCrawler, GetCrawlers, ...) -------

#: CreateCrawler members lakebox has no counterpart for: refused when given, never ignored
_CRAWLER_UNSUPPORTED = (
    "Schedule",
    "Classifiers",
    "LineageConfiguration",
    "LakeFormationConfiguration",
    "CrawlerSecurityConfiguration",
    "Tags",
    "CatalogId",
)
_TARGET_KINDS_UNSUPPORTED = (
    "JdbcTargets",
    "MongoDBTargets",
    "DynamoDBTargets",
    "CatalogTargets",
    "DeltaTargets",
    "IcebergTargets",
    "HudiTargets",
)


def _refuse_unsupported(request: Request, names: tuple[str, ...], what: str) -> None:
    for name in names:
        value = request.get(name)
        if value not in (None, "", [], {}):
            hint = (
                " (start crawls with StartCrawler, from a Scheduler schedule or a state "
                "machine, instead)"
                if name == "Schedule"
                else ""
            )
            raise AwsError(INVALID, f"{what}: lakebox does not support {name}{hint}")


def _crawler_changes(request: Request) -> dict[str, Any]:
    """The crawler fields a CreateCrawler / UpdateCrawler request sets."""
    _refuse_unsupported(request, _CRAWLER_UNSUPPORTED, "Crawler")
    out: dict[str, Any] = {}
    if "Role" in request:
        out["role"] = required_str(request, "Role", INVALID)
    if "DatabaseName" in request:
        out["database"] = required_str(request, "DatabaseName", INVALID).lower()
    if "Description" in request:
        out["description"] = str(request.get("Description") or "")
    if "TablePrefix" in request:
        out["table_prefix"] = str(request.get("TablePrefix") or "")
    targets = request.get("Targets")
    if targets is not None:
        if not isinstance(targets, dict):
            raise AwsError(INVALID, "Targets must be an object")
        _refuse_unsupported(targets, _TARGET_KINDS_UNSUPPORTED, "Targets")
        found = []
        for i, t in enumerate(targets.get("S3Targets") or []):
            if not isinstance(t, dict):
                raise AwsError(INVALID, f"Targets.S3Targets[{i}] must be an object")
            _refuse_unsupported(
                t, ("ConnectionName", "EventQueueArn", "DlqEventQueueArn"), "S3Target"
            )
            exclusions = t.get("Exclusions") or []
            if not isinstance(exclusions, list) or not all(isinstance(e, str) for e in exclusions):
                raise AwsError(INVALID, f"Targets.S3Targets[{i}].Exclusions must be strings")
            size = t.get("SampleSize")
            if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
                raise AwsError(INVALID, f"Targets.S3Targets[{i}].SampleSize must be an integer")
            path = required_str(t, "Path", INVALID)
            found.append({"path": path, "exclusions": list(exclusions), "sample_size": size})
        out["targets"] = found
    policy = request.get("SchemaChangePolicy")
    if isinstance(policy, dict):
        if policy.get("UpdateBehavior"):
            out["update_behavior"] = policy["UpdateBehavior"]
        if policy.get("DeleteBehavior"):
            out["delete_behavior"] = policy["DeleteBehavior"]
    recrawl = request.get("RecrawlPolicy")
    if isinstance(recrawl, dict) and recrawl.get("RecrawlBehavior"):
        out["recrawl_behavior"] = recrawl["RecrawlBehavior"]
    if "Configuration" in request:
        out.update(_configuration(request.get("Configuration")))
    return out


def _configuration(given: Any) -> dict[str, Any]:
    """Glue's crawler Configuration (a JSON string): ``Grouping.TableGroupingPolicy``
    ``CombineCompatibleSchemas`` and ``Grouping.TableLevelConfiguration``; other settings
    are refused by name."""
    if given in (None, ""):
        return {"combine_compatible_schemas": False, "table_level": None}
    try:
        doc = json.loads(given) if isinstance(given, str) else None
    except json.JSONDecodeError as exc:
        raise AwsError(INVALID, f"Configuration is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise AwsError(INVALID, "Configuration must be a JSON object")
    grouping = doc.get("Grouping") or {}
    unknown = [k for k in doc if k not in ("Version", "Grouping")]
    if not isinstance(grouping, dict):
        raise AwsError(INVALID, "Configuration.Grouping must be an object")
    unknown += [
        f"Grouping.{k}"
        for k in grouping
        if k not in ("TableGroupingPolicy", "TableLevelConfiguration")
    ]
    if unknown:
        raise AwsError(INVALID, f"Configuration: lakebox does not support {', '.join(unknown)}")
    policy = grouping.get("TableGroupingPolicy")
    if policy not in (None, "CombineCompatibleSchemas"):
        raise AwsError(INVALID, f"Configuration: TableGroupingPolicy {policy!r} is not known")
    level = grouping.get("TableLevelConfiguration")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int)):
        raise AwsError(INVALID, "Configuration: TableLevelConfiguration must be an integer")
    return {"combine_compatible_schemas": policy is not None, "table_level": level}


def _configuration_out(crawler: Crawler) -> str | None:
    grouping: dict[str, Any] = {}
    if crawler.combine_compatible_schemas:
        grouping["TableGroupingPolicy"] = "CombineCompatibleSchemas"
    if crawler.table_level is not None:
        grouping["TableLevelConfiguration"] = crawler.table_level
    return json.dumps({"Version": 1.0, "Grouping": grouping}) if grouping else None


def create_crawler(request: Request, context: GlueContext) -> Response:
    from lakebox.crawler.model import Crawler

    name = required_str(request, "Name", INVALID)
    required_str(request, "Role", INVALID)
    if not isinstance(request.get("Targets"), dict):
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'targets' failed to satisfy constraint: "
            "Member must not be null",
        )
    changes = _crawler_changes(request)
    base = Crawler(name, changes.pop("database", ""), [])
    crawler = Crawler.from_dict({**base.to_dict(), **changes})
    context.crawlers.create_crawler(crawler, principal=context.principal)
    return {}


def update_crawler(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "Name", INVALID)
    service, principal = context.crawlers, context.principal
    service.get_crawler(name, principal=principal)
    if _running(service, context.crawl_threads, name, principal):
        raise AwsError("CrawlerRunningException", f"Crawler with name {name} is running")
    changes = _crawler_changes(request)
    if changes:
        service.update_crawler(name, principal=principal, **changes)
    return {}


def delete_crawler(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "Name", INVALID)
    service, principal = context.crawlers, context.principal
    service.get_crawler(name, principal=principal)
    if _running(service, context.crawl_threads, name, principal):
        raise AwsError("CrawlerRunningException", f"Crawler with name {name} is running")
    service.delete_crawler(name, principal=principal)
    context.crawl_threads.pop(name, None)
    return {}


def _crawler_state(context: GlueContext, name: str) -> Response:
    """GetCrawler's ``Crawler`` for one crawler."""
    return get_crawler({"Name": name}, context)["Crawler"]


def get_crawlers(request: Request, context: GlueContext) -> Response:
    crawlers = context.crawlers.list_crawlers(principal=context.principal)
    page, more = _paged(request, crawlers, [c.name for c in crawlers], 1000)
    return {"Crawlers": [_crawler_state(context, c.name) for c in page], **more}


def list_crawlers(request: Request, context: GlueContext) -> Response:
    if request.get("Tags"):
        raise AwsError(INVALID, "ListCrawlers: lakebox keeps no tags to filter by")
    crawlers = context.crawlers.list_crawlers(principal=context.principal)
    page, more = _paged(request, crawlers, [c.name for c in crawlers], 1000)
    return {"CrawlerNames": [c.name for c in page], **more}


def stop_crawler(request: Request, context: GlueContext) -> Response:
    """Ask a crawl this process started to stop: it ends at its next file or table (the run
    is then CANCELLED) and GetCrawler says STOPPING until then."""
    name = required_str(request, "Name", INVALID)
    service, principal = context.crawlers, context.principal
    service.get_crawler(name, principal=principal)
    crawls = context.crawl_threads
    with _CRAWL_LOCK:
        thread = crawls.get(name)
        stop = _STOPS.get(thread) if thread is not None and thread.is_alive() else None
        if stop is None:
            if _running(service, crawls, name, principal):
                raise AwsError(
                    INVALID,
                    f"Crawler {name} is running in another process; only the process that "
                    "started a crawl can stop it",
                )
            raise AwsError("CrawlerNotRunningException", f"Crawler with name {name} isn't running")
        if stop.is_set():
            raise AwsError("CrawlerStoppingException", f"Crawler with name {name} is stopping")
        stop.set()
    return {}


_CRAWL_STATES = {
    "RUNNING": "RUNNING",
    "SUCCEEDED": "COMPLETED",
    "FAILED": "FAILED",
    "CANCELLED": "STOPPED",
}


def list_crawls(request: Request, context: GlueContext) -> Response:
    """The crawler's runs, newest first (Glue's ListCrawls); Filters are not supported."""
    name = required_str(request, "CrawlerName", INVALID)
    if request.get("Filters"):
        raise AwsError(INVALID, "ListCrawls: lakebox does not support Filters")
    runs = context.crawlers.list_runs(name, principal=context.principal)
    # newest first; a token names a run by its place counted from the oldest (inverted to
    # sort ascending), so runs started between two calls do not shift a page
    n = len(runs)
    keys = [f"{10**10 - 1 - (n - 1 - i):010d}" for i in range(n)]
    start, end, token = _page(request, keys, 1000)
    out = []
    for run in runs[start:end]:
        item: dict[str, Any] = {
            "CrawlId": run.id,
            "State": _CRAWL_STATES.get(run.state, "FAILED"),
            "StartTime": run.start_time,
            "MessagePrefix": run.id,
            "Summary": json.dumps(
                {
                    "TABLE": {
                        "ADD": {"Count": len(run.tables_created)},
                        "UPDATE": {"Count": len(run.tables_updated)},
                        "DELETE": {"Count": len(run.tables_deleted)},
                    },
                    "PARTITION": {
                        "ADD": {"Count": run.partitions_added},
                        "DELETE": {"Count": run.partitions_deleted},
                    },
                }
            ),
        }
        if run.end_time is not None:
            item["EndTime"] = run.end_time
        if run.error:
            item["ErrorMessage"] = run.error
        out.append(item)
    return {"Crawls": out, **({"NextToken": token} if token else {})}


# -- job definitions (CreateJob, UpdateJob, DeleteJob, GetJob, GetJobs, ListJobs) --------------

#: Command.Name -> the JobRegistry kind running it
_COMMANDS = {"pythonshell": "python", "lakebox-sql": "sql", "glueetl": "glueetl"}
#: members that size or route a job on AWS and mean nothing to a local run: accepted,
#: not kept
_JOB_SIZING = (
    "AllocatedCapacity",
    "MaxCapacity",
    "ExecutionClass",
    "LogUri",
    "JobMode",
)
#: members that would change what a run does: refused when given
_JOB_UNSUPPORTED = (
    "NonOverridableArguments",
    "Connections",
    "SecurityConfiguration",
    "NotificationProperty",
    "CodeGenConfigurationNodes",
    "SourceControlDetails",
    "MaintenanceWindow",
    "JobRunQueuingEnabled",
    "Tags",
)


def _job_definition(given: Request, current: Job | None) -> dict[str, Any]:
    """register_job's arguments from a CreateJob request or a JobUpdate."""
    _refuse_unsupported(given, _JOB_UNSUPPORTED, "Job")
    if given.get("MaxRetries") not in (None, 0):
        raise AwsError(INVALID, "Job: lakebox does not retry job runs (MaxRetries must be 0)")
    command = given.get("Command")
    if command is None and current is not None:
        kind, script = current.kind, current.script_location
    else:
        if not isinstance(command, dict):
            raise AwsError(
                INVALID,
                "1 validation error detected: Value at 'command' failed to satisfy "
                "constraint: Member must not be null",
            )
        command_name = command.get("Name") or "glueetl"
        found = _COMMANDS.get(command_name)
        if found is None:
            raise AwsError(
                INVALID,
                f"Command.Name {command_name!r} is not supported by lakebox (supported: "
                f"{', '.join(sorted(_COMMANDS))})",
            )
        kind = found
        script = required_str(command, "ScriptLocation", INVALID)
        if not script.startswith("s3://"):
            raise AwsError(
                INVALID,
                f"Command.ScriptLocation {script!r} must be an s3:// URI in the lake",
            )
    execution = given.get("ExecutionProperty") or {}
    if not isinstance(execution, dict):
        raise AwsError(INVALID, "ExecutionProperty must be an object")
    return {
        "script_path": script,
        "kind": kind,
        "default_arguments": _string_map(given.get("DefaultArguments"), "DefaultArguments"),
        "description": str(given.get("Description") or ""),
        "max_concurrent_runs": _int(
            execution.get("MaxConcurrentRuns"), "ExecutionProperty.MaxConcurrentRuns", 1, 1
        ),
        "timeout_minutes": _int(given.get("Timeout"), "Timeout", 2880, 1),
        "role": str(given.get("Role") or (current.role if current is not None else "")),
        # recorded and shown by GetJob (a glueetl run uses the lake's Spark master)
        "glue_version": str(given.get("GlueVersion") or ""),
        "worker_type": str(given.get("WorkerType") or ""),
        "number_of_workers": _int(given.get("NumberOfWorkers"), "NumberOfWorkers", 0, 0),
    }


def _runs_script_as_lake_owner(context: Any, kind: str, doing: str) -> None:
    """A pythonshell job's script runs in a process of the lake's operating-system user,
    unsandboxed, with the server's environment: it could read every file of the lake, around
    IAM. So only a caller who could reach all of it anyway may define, change or start one;
    ``glue:*`` is not enough. A lakebox-sql job's statements run through the query service
    as the principal who started the run, which IAM bounds: no guard."""
    if kind in ("python", "glueetl"):
        command = "pythonshell" if kind == "python" else "glueetl"
        require_unrestricted(
            context,
            doing.format(command=command),
            f"lakebox runs a {command} job's script unsandboxed as the lake's own "
            "operating-system user",
        )


def _check_script(context: Any, location: str) -> None:
    storage = getattr(context, "storage", None)
    if storage is not None:
        storage.check(location)


def create_job(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "Name", INVALID)
    required_str(request, "Role", INVALID)
    registry, principal = context.glue_jobs, context.principal
    definition = _job_definition(request, None)
    _runs_script_as_lake_owner(context, definition["kind"], "create {command} jobs")
    _check_script(context, definition["script_path"])
    with _JOB_LOCK:
        try:
            registry.get_job(name, principal=principal)
        except LakeboxError:
            pass
        else:
            raise AwsError("AlreadyExistsException", f"Job {name} already exists.")
        registry.register_job(name, principal=principal, **definition)
    return {"Name": name}


def update_job(request: Request, context: GlueContext) -> Response:
    """JobUpdate overwrites the job's definition, as Glue's UpdateJob does (a member left
    out is back to its default); a JobUpdate without Command keeps the job's script."""
    name = required_str(request, "JobName", INVALID)
    given = request.get("JobUpdate")
    if not isinstance(given, dict):
        raise AwsError(INVALID, "JobUpdate must be an object")
    registry, principal = context.glue_jobs, context.principal
    current = registry.get_job(name, principal=principal)
    definition = _job_definition(given, current)
    _runs_script_as_lake_owner(context, current.kind, "change a {command} job")
    _runs_script_as_lake_owner(context, definition["kind"], "change a {command} job")
    _check_script(context, definition["script_path"])
    registry.register_job(name, principal=principal, **definition)
    return {"JobName": name}


def delete_job(request: Request, context: GlueContext) -> Response:
    """Idempotent, as Glue's DeleteJob: a job that does not exist is not an error."""
    name = required_str(request, "JobName", INVALID)
    context.glue_jobs.delete_job(name, principal=context.principal)
    return {"JobName": name}


def _job_api(job: Job) -> Response:
    """GetJob's ``Job``, its times in seconds (the JSON protocol's epoch seconds)."""
    out = job.to_api()
    out["CreatedOn"] = job.created_on
    out["LastModifiedOn"] = job.last_modified_on
    out["MaxRetries"] = 0
    if job.role:
        out["Role"] = job.role
    return out


def get_job(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    return {"Job": _job_api(context.glue_jobs.get_job(name, principal=context.principal))}


def get_jobs(request: Request, context: GlueContext) -> Response:
    jobs = context.glue_jobs.list_jobs(principal=context.principal)
    page, more = _paged(request, jobs, [j.name for j in jobs], 1000)
    return {"Jobs": [_job_api(j) for j in page], **more}


def list_jobs(request: Request, context: GlueContext) -> Response:
    if request.get("Tags"):
        raise AwsError(INVALID, "ListJobs: lakebox keeps no tags to filter by")
    jobs = context.glue_jobs.list_jobs(principal=context.principal)
    page, more = _paged(request, jobs, [j.name for j in jobs], 1000)
    return {"JobNames": [j.name for j in page], **more}


# -- jobs ---------------------------------------------------------------------------------------


def _arguments(request: Request) -> dict[str, str]:
    args = request.get("Arguments") or {}
    if not isinstance(args, dict):
        raise AwsError(INVALID, "Arguments must be an object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in args.items()}


def start_job_run(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    timeout = request.get("Timeout")
    try:
        minutes = int(timeout) if timeout is not None else None
    except (TypeError, ValueError):
        raise AwsError(INVALID, "Timeout must be an integer (minutes)") from None
    arguments = _arguments(request)
    job = context.glue_jobs.get_job(name, principal=context.principal)
    _runs_script_as_lake_owner(context, job.kind, "start {command} job runs")
    run_id = context.glue_jobs.start_job_run(name, arguments, minutes, principal=context.principal)
    return {"JobRunId": run_id}


def _job_run_api(run: JobRun) -> Response:
    """GetJobRun's ``JobRun``, its times in seconds (the JSON protocol's epoch seconds; the
    optimised ``glue:startJobRun.sync`` task keeps Step Functions' milliseconds)."""
    out = run.to_api()
    out["StartedOn"] = run.started_on
    out["LastModifiedOn"] = run.last_modified_on
    if run.completed_on is not None:
        out["CompletedOn"] = run.completed_on
    return out


def get_job_run(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    run_id = required_str(request, "RunId", INVALID)
    run = context.glue_jobs.get_job_run(name, run_id, principal=context.principal)
    return {"JobRun": _job_run_api(run)}


def get_job_runs(request: Request, context: GlueContext) -> Response:
    name = required_str(request, "JobName", INVALID)
    runs = context.glue_jobs.get_job_runs(
        name, optional_int(request, "MaxResults", INVALID, 100), principal=context.principal
    )
    return {"JobRuns": [_job_run_api(r) for r in runs]}


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


# -- the Data Catalog -------------------------------------------------------------------------


def _catalog(context: Any) -> tuple[CatalogStore, Visibility]:
    """The catalog and visibility policy of the door's lake (the HTTP server's and a state
    machine task's context both offer them)."""
    catalog = getattr(context, "catalog", None)
    if catalog is None:
        raise AwsError("ServiceUnavailableException", "this door offers no Data Catalog")
    from lakebox.catalog.visibility import OPEN

    return catalog, getattr(context, "visibility", None) or OPEN


def lake_account(context: Any) -> str:
    """The account the lake's Data Catalog belongs to: the identity service's own account
    (the lake's), else the context's. Glue's ARNs are built in it, so a principal of another
    account is refused by IAM (a resource of another account), whatever its policies."""
    try:
        iam = context.iam
    except (AttributeError, AwsError):
        iam = None
    found = getattr(iam, "account_id", None)
    return found if isinstance(found, str) else str(context.account_id)


def _check_catalog_id(request: Request, context: Any) -> None:
    given = request.get("CatalogId")
    if given is not None and given != lake_account(context):
        raise AwsError("EntityNotFoundException", f"Catalog {given} not found.")


def _database_api(db: Database, account: str) -> Response:
    out: Response = {
        "Name": db.name,
        "Parameters": dict(db.parameters),
        "CreateTime": db.create_time,
        "CatalogId": account,
    }
    if db.description:
        out["Description"] = db.description
    if db.location:
        out["LocationUri"] = db.location
    return out


def _columns(columns: Any) -> list[dict[str, Any]]:
    return [
        {"Name": c.name, "Type": c.type, **({"Comment": c.comment} if c.comment else {})}
        for c in columns
    ]


def _storage_api(table: Table, visible: set[str], location: str | None) -> Response:
    return {
        "Columns": _columns(c for c in table.columns if c.name in visible),
        "Location": location or "",
        "InputFormat": table.input_format or "",
        "OutputFormat": table.output_format or "",
        "SerdeInfo": {
            "SerializationLibrary": table.serde_library or "",
            "Parameters": dict(table.serde_parameters),
        },
        "BucketColumns": list(table.bucket_columns),
        "NumberOfBuckets": table.num_buckets,
    }


def _table_api(table: Table, visible: set[str], account: str) -> Response:
    out: Response = {
        "Name": table.name,
        "DatabaseName": table.database,
        "CreateTime": table.create_time,
        "UpdateTime": table.update_time,
        "TableType": table.table_type,
        "Parameters": dict(table.parameters),
        "PartitionKeys": _columns(c for c in table.partition_keys if c.name in visible),
        "StorageDescriptor": _storage_api(table, visible, table.location),
        "VersionId": str(table.version),
        "CatalogId": account,
    }
    if table.comment:
        out["Description"] = table.comment
    if table.view_original_text:
        out["ViewOriginalText"] = table.view_original_text
    if table.view_expanded_text:
        out["ViewExpandedText"] = table.view_expanded_text
    return out


def _visible_database(
    context: GlueContext, name: str, action: str = "glue:GetDatabase"
) -> Database:
    """The database ``name``, if the caller may see it (the lake's visibility policy, then
    Lake Formation: any permission on it or on a table in it)."""
    catalog, visibility = _catalog(context)
    db = catalog.get_database(name.lower())
    gate = Gate.of(context)
    if gate is not None:  # Lake Formation's refusal is Glue's answer, before the listing's
        gate.require_database_visible(action, db.name)
    if not visibility.databases(context.principal, [db]):
        raise AwsError("EntityNotFoundException", f"Database {name} not found.")
    return db


def _database_input(request: Request) -> dict[str, Any]:
    given = request.get("DatabaseInput")
    if not isinstance(given, dict):
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'databaseInput' failed to satisfy "
            "constraint: Member must not be null",
        )
    return given


def _int(value: Any, where: str, default: int, least: int = 0) -> int:
    """An integer member (``default`` when absent), refused by name when it is not one."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise AwsError(INVALID, f"{where} must be an integer of at least {least}")
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AwsError(INVALID, f"{where} must be a map of strings")
    return {str(k): str(v) for k, v in value.items()}


def _database_from_input(given: dict[str, Any]) -> Database:
    from lakebox.catalog.model import Database

    return Database(
        required_str(given, "Name", INVALID),
        description=given.get("Description"),
        location=given.get("LocationUri"),
        parameters=_string_map(given.get("Parameters"), "DatabaseInput.Parameters"),
    )


def create_database(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    db = _database_from_input(_database_input(request))
    gate = Gate.of(context)
    if gate is not None:
        gate.require_create_database("glue:CreateDatabase", db.name.lower())
        gate.require_location("glue:CreateDatabase", db.location, _storage(context))
    catalog, _ = _catalog(context)
    catalog.create_database(db)
    if gate is not None:
        gate.created(db.name.lower())
    return {}


def update_database(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    name = required_str(request, "Name", INVALID)
    current = _visible_database(context, name, "glue:UpdateDatabase")
    db = _database_from_input(_database_input(request))
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_database("glue:UpdateDatabase", current.name, "ALTER")
        if db.location != current.location:
            gate.require_location("glue:UpdateDatabase", db.location, _storage(context))
    if db.name.lower() != current.name:
        raise AwsError(
            INVALID,
            f"DatabaseInput.Name {db.name} differs from Name {name}: Glue does not rename "
            "databases",
        )
    catalog, _ = _catalog(context)
    catalog.update_database(db)
    return {}


def get_database(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    db = _visible_database(context, required_str(request, "Name", INVALID))
    return {"Database": _database_api(db, lake_account(context))}


# -- pagination: a token names the last item given, so a page is not shifted by a change
# made between two calls --------------------------------------------------------------------


def _max_results(request: Request, most: int) -> int:
    value = request.get("MaxResults", most)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value between 1 and {most}",
        )
    return value


def _page(request: Request, keys: list[str], most: int) -> tuple[int, int, str | None]:
    """The slice ``[start, end)`` of items sorted by ``keys`` this request asks for, and the
    NextToken of the page after it (None at the end)."""
    limit = _max_results(request, most)
    token = request.get("NextToken")
    start = 0
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(str(token).encode()))["after"]
            if not isinstance(after, str):
                raise ValueError(after)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise AwsError(INVALID, "NextToken is not a token this operation gave") from None
        start = bisect.bisect_right(keys, after)
    end = min(start + limit, len(keys))
    if end >= len(keys):
        return start, end, None
    nxt = base64.urlsafe_b64encode(json.dumps({"after": keys[end - 1]}).encode()).decode()
    return start, end, nxt


def _paged(
    request: Request, items: list[Any], keys: list[str], most: int
) -> tuple[list[Any], Response]:
    """``items`` (sorted by ``keys``) of this page and the ``NextToken`` member, if any."""
    start, end, token = _page(request, keys, most)
    return items[start:end], ({"NextToken": token} if token else {})


def get_databases(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    catalog, visibility = _catalog(context)
    dbs = visibility.databases(context.principal, catalog.list_databases())
    gate = Gate.of(context)
    if gate is not None:
        gate.record("glue:GetDatabases", "catalog", True)
        dbs = [d for d in dbs if gate.sees_database("glue:GetDatabases", d.name)]
    page, more = _paged(request, dbs, [d.name for d in dbs], 100)
    account = lake_account(context)
    return {"DatabaseList": [_database_api(db, account) for db in page], **more}


def delete_database(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    db = _visible_database(context, required_str(request, "Name", INVALID), "glue:DeleteDatabase")
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_database("glue:DeleteDatabase", db.name, "DROP")
    catalog, _ = _catalog(context)
    if gate is not None:
        # DeleteDatabase deletes every table in it: each needs DROP of its own
        for table in sorted(catalog.list_tables(db.name), key=lambda t: t.name):
            gate.require_on_table("glue:DeleteDatabase", table, "DROP")
    catalog.drop_database(db.name, cascade=True)
    _note_dropped(context, db.name)
    return {}


def _note_dropped(context: GlueContext, database: str, table: str | None = None) -> None:
    """Whoever dropped it: its creator's record goes with it (an object made later under
    the same name is not theirs)."""
    found = lake_permissions(context)
    if found is not None:
        found.note_dropped(database.lower(), None if table is None else table.lower())


def _visible_tables(context: GlueContext, database: str) -> list[Table]:
    db = _visible_database(context, database, "glue:GetTables")
    catalog, visibility = _catalog(context)
    tables = visibility.tables(context.principal, catalog.list_tables(db.name))
    gate = Gate.of(context)
    if gate is not None:
        tables = [t for t in tables if gate.sees_table("glue:GetTables", t)]
    return tables


def _visible_table(
    context: GlueContext, database: str, name: str, action: str = "glue:GetTable"
) -> Table:
    """The table, if the caller may see it: the lake's visibility policy (else it is not
    found), then Lake Formation (else AccessDeniedException, as Glue answers)."""
    db = _visible_database(context, database, action)
    catalog, visibility = _catalog(context)
    try:
        table = catalog.get_table(db.name, name.lower())
    except LakeboxError:
        table = None
    if table is None:
        raise AwsError("EntityNotFoundException", f"Table {name.lower()} not found.")
    gate = Gate.of(context)
    if gate is not None:  # Lake Formation's refusal is Glue's answer, before the listing's
        gate.require_table_visible(action, table)
    if not visibility.can_see(context.principal, table):
        raise AwsError("EntityNotFoundException", f"Table {name.lower()} not found.")
    return table


def _visible_columns(context: GlueContext, table: Table, action: str = "glue:GetTable") -> set[str]:
    """The columns of ``table`` the caller is shown: the visibility policy's, less those
    Lake Formation does not let it SELECT (Lake Formation removes them from GetTable)."""
    _, visibility = _catalog(context)
    shown = {c.name for c in visibility.columns(context.principal, table)}
    gate = Gate.of(context)
    if gate is not None:
        shown &= gate.visible_columns(action, table)
    return shown


def _table_out(context: GlueContext, table: Table, action: str = "glue:GetTable") -> Response:
    return _table_api(table, _visible_columns(context, table, action), lake_account(context))


_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


def _name_pattern(expression: str) -> re.Pattern[str]:
    """GetTables' Expression: a regular expression on the table's name (Glue's docs), in
    which ``*`` alone means every table; a name that is not a valid pattern is refused."""
    if _NESTED_QUANTIFIER.search(expression):
        # (a+)+ backtracks for ever on a long name: a request must not hold a thread
        raise AwsError(
            INVALID, f"Expression {expression!r}: a repeated group that repeats is not allowed"
        )
    try:
        return re.compile(expression.lower())
    except re.error as exc:
        raise AwsError(
            INVALID, f"Expression {expression!r} is not a valid pattern: {exc}"
        ) from None


def get_tables(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    database = required_str(request, "DatabaseName", INVALID)
    tables = _visible_tables(context, database)
    expression = request.get("Expression")
    if isinstance(expression, str) and expression not in ("", "*"):
        pattern = _name_pattern(re.sub(r"(?<!\.)\*", ".*", expression))
        tables = [t for t in tables if pattern.fullmatch(t.name)]
    page, more = _paged(request, tables, [t.name for t in tables], 100)
    return {"TableList": [_table_out(context, t, "glue:GetTables") for t in page], **more}


def get_table(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    database = required_str(request, "DatabaseName", INVALID)
    name = required_str(request, "Name", INVALID)
    return {"Table": _table_out(context, _visible_table(context, database, name))}


# -- SearchTables, GetTableVersions ----------------------------------------------------------

#: SearchTables' Filters keys lakebox filters on (a string property of the table)
_SEARCH_KEYS = ("DatabaseName", "Name", "Description", "TableType")
#: SortCriteria field names lakebox sorts by
_SORT_FIELDS = ("DatabaseName", "Name", "CreateTime", "UpdateTime")
_TOKENS = re.compile(r"[\s\-:#_./,;|@+=]+")


def _search_property(table: Table, key: str) -> str:
    if key == "DatabaseName":
        return table.database
    if key == "Name":
        return table.name
    if key == "Description":
        return table.comment or ""
    return table.table_type


def _search_filters(request: Request) -> list[tuple[str, str]]:
    given = request.get("Filters") or []
    if not isinstance(given, list):
        raise AwsError(INVALID, "Filters must be a list of {Key, Value} predicates")
    out = []
    for i, f in enumerate(given):
        if not isinstance(f, dict):
            raise AwsError(INVALID, f"Filters[{i}] must be an object")
        key, value = f.get("Key"), f.get("Value")
        if key not in _SEARCH_KEYS:
            raise AwsError(
                INVALID,
                f"Filters[{i}].Key {key!r}: lakebox filters SearchTables on "
                f"{', '.join(_SEARCH_KEYS)}",
            )
        if f.get("Comparator") not in (None, "EQUALS"):
            raise AwsError(
                INVALID,
                f"Filters[{i}].Comparator: {key} is not a time field; only EQUALS applies",
            )
        if not isinstance(value, str) or not value:
            raise AwsError(INVALID, f"Filters[{i}].Value must be a non-empty string")
        out.append((key, value.lower()))
    return out


def _search_fields(table: Table, visible: set[str]) -> list[str]:
    """What SearchText is looked for in: the table's and its database's names, its
    description and parameter values, and the names and comments of the columns the
    caller may see (Lake Formation: hidden columns are not searched)."""
    fields = [table.name, table.database, table.comment or "", *table.parameters.values()]
    for c in table.all_columns:
        if c.name in visible:
            fields += [c.name, c.comment or ""]
    return [f.lower() for f in fields if f]


def search_tables(request: Request, context: GlueContext) -> Response:
    """Glue's SearchTables over the tables the caller may see: ``SearchText`` is a
    case-insensitive substring of a searched field (in double quotes: equal to one),
    ``Filters`` match a token of the property (its value split on punctuation, as Glue's
    documentation describes), ``SortCriteria`` orders by a name or time. lakebox shares no
    tables across accounts, so ``ResourceShareType`` FOREIGN finds none."""
    _check_catalog_id(request, context)
    filters = _search_filters(request)
    text_given = request.get("SearchText")
    if text_given is not None and not isinstance(text_given, str):
        raise AwsError(INVALID, "SearchText must be a string")
    search = (text_given or "").strip().lower()
    exact = len(search) >= 2 and search.startswith('"') and search.endswith('"')
    if exact:
        search = search[1:-1]
    share = request.get("ResourceShareType")
    if share not in (None, "ALL", "FOREIGN"):
        raise AwsError(INVALID, f"ResourceShareType {share!r} is not FOREIGN or ALL")
    sort = request.get("SortCriteria") or []
    if not isinstance(sort, list) or len(sort) > 1:
        raise AwsError(INVALID, "SortCriteria must be a list of at most one criterion")
    found: list[tuple[Table, set[str]]] = []
    if share != "FOREIGN":
        catalog, visibility = _catalog(context)
        gate = Gate.of(context)
        if gate is not None:
            gate.record("glue:SearchTables", "catalog", True)
        dbs = visibility.databases(context.principal, catalog.list_databases())
        for db in dbs:
            if gate is not None and not gate.sees_database("glue:SearchTables", db.name):
                continue
            for table in visibility.tables(context.principal, catalog.list_tables(db.name)):
                if gate is not None and not gate.sees_table("glue:SearchTables", table):
                    continue
                visible = _visible_columns(context, table, "glue:SearchTables")
                if filters and not all(
                    value in _TOKENS.split(_search_property(table, key).lower())
                    for key, value in filters
                ):
                    continue
                if search:
                    fields = _search_fields(table, visible)
                    hit = search in fields if exact else any(search in f for f in fields)
                    if not hit:
                        continue
                found.append((table, visible))
    if sort:
        criterion = sort[0] if isinstance(sort[0], dict) else {}
        field = criterion.get("FieldName")
        if field not in _SORT_FIELDS:
            raise AwsError(
                INVALID,
                f"SortCriteria FieldName {field!r}: lakebox sorts by {', '.join(_SORT_FIELDS)}",
            )
        order = criterion.get("Sort") or "ASC"
        if order not in ("ASC", "DESC"):
            raise AwsError(INVALID, f"SortCriteria Sort {order!r} is not ASC or DESC")
        attr = {"DatabaseName": "database", "Name": "name"}.get(field)

        def sort_key(entry: tuple[Table, set[str]]) -> tuple[Any, ...]:
            t = entry[0]
            first = (
                getattr(t, attr)
                if attr
                else (t.create_time if field == "CreateTime" else t.update_time)
            )
            return (first, t.database, t.name)

        found.sort(key=sort_key, reverse=order == "DESC")
    limit = _max_results(request, 1000)
    start = _offset_token(request.get("NextToken"))
    page = found[start : start + limit]
    out: Response = {
        "TableList": [_table_api(table, visible, lake_account(context)) for table, visible in page]
    }
    if start + limit < len(found):
        out["NextToken"] = base64.urlsafe_b64encode(
            json.dumps({"offset": start + limit}).encode()
        ).decode()
    return out


def _offset_token(token: Any) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise AwsError(INVALID, "NextToken is not a token this operation gave") from None
    return offset


def get_table_versions(request: Request, context: GlueContext) -> Response:
    """The table's versions: lakebox's catalog keeps only the current definition (its
    ``VersionId`` counts the changes made), so that is the one version listed."""
    _check_catalog_id(request, context)
    table = _visible_table(
        context,
        required_str(request, "DatabaseName", INVALID),
        required_str(request, "TableName", INVALID),
        "glue:GetTableVersions",
    )
    _max_results(request, 100)
    out = _table_out(context, table, "glue:GetTableVersions")
    return {"TableVersions": [{"Table": out, "VersionId": str(table.version)}]}


def get_table_version(request: Request, context: GlueContext) -> Response:
    """One version of the table: the current one (lakebox keeps no older definitions, so
    asking for another is EntityNotFoundException)."""
    _check_catalog_id(request, context)
    table = _visible_table(
        context,
        required_str(request, "DatabaseName", INVALID),
        required_str(request, "TableName", INVALID),
        "glue:GetTableVersion",
    )
    version = request.get("VersionId")
    if version is not None and str(version) != str(table.version):
        raise AwsError(
            "EntityNotFoundException",
            f"Version {version} of table {table.qualified_name} not found: lakebox keeps only "
            f"the current version ({table.version})",
        )
    out = _table_out(context, table, "glue:GetTableVersion")
    return {"TableVersion": {"Table": out, "VersionId": str(table.version)}}


def _table_from_input(database: str, given: Any) -> Table:
    from lakebox.catalog.model import Column, Table

    if not isinstance(given, dict):
        raise AwsError(INVALID, "TableInput must be an object")
    name = required_str(given, "Name", INVALID)
    sd = given.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {} if isinstance(sd, dict) else {}
    if not isinstance(sd, dict) or not isinstance(serde, dict):
        raise AwsError(INVALID, "TableInput.StorageDescriptor must be an object")

    def columns(items: Any, where: str) -> list[Column]:
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise AwsError(INVALID, f"{where} must be a list of columns")
        return [
            Column(
                required_str(c, "Name", INVALID), str(c.get("Type") or "string"), c.get("Comment")
            )
            for c in items
        ]

    return Table(
        database,
        name,
        columns=columns(sd.get("Columns"), "StorageDescriptor.Columns"),
        partition_keys=columns(given.get("PartitionKeys"), "PartitionKeys"),
        location=sd.get("Location") or None,
        input_format=sd.get("InputFormat") or None,
        output_format=sd.get("OutputFormat") or None,
        serde_library=serde.get("SerializationLibrary") or None,
        serde_parameters=_string_map(serde.get("Parameters"), "SerdeInfo.Parameters"),
        parameters=_string_map(given.get("Parameters"), "TableInput.Parameters"),
        table_type=given.get("TableType") or "EXTERNAL_TABLE",
        comment=given.get("Description"),
        view_original_text=given.get("ViewOriginalText"),
        view_expanded_text=given.get("ViewExpandedText"),
        bucket_columns=[str(c) for c in sd.get("BucketColumns") or []],
        # -1 is Glue's "not bucketed" (awswrangler sends it with every table it registers)
        num_buckets=max(
            0, _int(sd.get("NumberOfBuckets"), "StorageDescriptor.NumberOfBuckets", 0, least=-1)
        ),
    )


def _check_location(context: Any, location: str | None) -> None:
    """A location stored now and read by later queries must be one the lake may read."""
    if location:
        storage = getattr(context, "storage", None)
        if storage is not None:
            storage.check(location)


def create_table(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    database = _visible_database(
        context, required_str(request, "DatabaseName", INVALID), "glue:CreateTable"
    )
    table = _table_from_input(database.name, request.get("TableInput"))
    _check_location(context, table.location)
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_database("glue:CreateTable", database.name, "CREATE_TABLE")
        gate.require_table_locations("glue:CreateTable", table, _storage(context))
    catalog, _ = _catalog(context)
    catalog.create_table(table)
    if gate is not None:
        gate.created(database.name, table.name.lower())
    return {}


def update_table(request: Request, context: GlueContext) -> Response:
    """Replace a table's definition with TableInput (Glue's UpdateTable: what TableInput
    leaves out is gone, but the table's partitions are kept). ``VersionId``, when given,
    must be the table's current one (optimistic concurrency)."""
    _check_catalog_id(request, context)
    database = required_str(request, "DatabaseName", INVALID)
    given = request.get("TableInput")
    name = request.get("Name") or (given.get("Name") if isinstance(given, dict) else None)
    if not isinstance(name, str) or not name:
        raise AwsError(INVALID, "TableInput.Name is required")
    current = _visible_table(context, database, name, "glue:UpdateTable")
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_table("glue:UpdateTable", current, "ALTER")
    table = _table_from_input(current.database, given)
    if table.name.lower() != current.name:
        raise AwsError(
            INVALID,
            f"TableInput.Name {table.name} differs from Name {name}: Glue does not rename tables",
        )
    version = request.get("VersionId")
    if version is not None and str(version) != str(current.version):
        raise AwsError(
            "ConcurrentModificationException",
            f"Table {current.qualified_name} is at version {current.version}, not {version}",
        )
    _check_location(context, table.location)
    template = "storage.location.template"
    if gate is not None and (
        (table.location or None) != (current.location or None)
        or table.parameters.get(template) != current.parameters.get(template)
    ):
        gate.require_table_locations("glue:UpdateTable", table, _storage(context))
    table.create_time, table.version = current.create_time, current.version
    catalog, _ = _catalog(context)
    catalog.update_table(table)
    return {}


def delete_table(request: Request, context: GlueContext) -> Response:
    _check_catalog_id(request, context)
    database = required_str(request, "DatabaseName", INVALID)
    table = _visible_table(
        context, database, required_str(request, "Name", INVALID), "glue:DeleteTable"
    )
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_table("glue:DeleteTable", table, "DROP")
    catalog, _ = _catalog(context)
    catalog.drop_table(table.database, table.name)
    _note_dropped(context, table.database, table.name)
    return {}


# -- partitions ---------------------------------------------------------------------------------


def _partition_api(
    table: Table, part: Partition, visible: set[str], account: str, *, schema: bool = True
) -> Response:
    storage = _storage_api(table, visible if schema else set(), part.location)
    if not schema:
        del storage["Columns"]
    return {
        "Values": list(part.values),
        "DatabaseName": table.database,
        "TableName": table.name,
        "CreationTime": part.create_time,
        "StorageDescriptor": storage,
        "Parameters": dict(part.parameters),
        "CatalogId": account,
    }


def _values(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value at '{member(where)}' failed to satisfy "
            "constraint: Member must be a list of strings",
        )
    return list(value)


def _check_arity(table: Table, values: list[str]) -> None:
    if len(values) != len(table.partition_keys):
        raise AwsError(
            INVALID,
            f"The number of partition keys do not match the number of partition values: "
            f"table {table.qualified_name} has {len(table.partition_keys)} partition keys "
            f"({', '.join(k.name for k in table.partition_keys) or 'none'}), "
            f"{len(values)} values were given",
        )


def _partition_from_input(
    context: Any, table: Table, given: Any, action: str = "glue:CreatePartition"
) -> Partition:
    from lakebox.catalog.model import Partition

    if not isinstance(given, dict):
        raise AwsError(INVALID, "PartitionInput must be an object")
    values = _values(given.get("Values"), "Values")
    _check_arity(table, values)
    sd = given.get("StorageDescriptor") or {}
    if not isinstance(sd, dict):
        raise AwsError(INVALID, "PartitionInput.StorageDescriptor must be an object")
    location = sd.get("Location") or None
    if location is not None and not isinstance(location, str):
        raise AwsError(INVALID, "StorageDescriptor.Location must be a string")
    _check_location(context, location)
    gate = Gate.of(context)
    if gate is not None and location is not None and not _below(context, location, table.location):
        # a partition elsewhere than under its table points the table at that location:
        # DATA_LOCATION_ACCESS there, as for a table created over it
        gate.require_location(action, location, _storage(context))
    return Partition(
        table.database,
        table.name,
        values,
        location,
        _string_map(given.get("Parameters"), "PartitionInput.Parameters"),
    )


#: the Lake Formation permissions a partition operation needs on its table (any one of
#: them): reading partitions needs SELECT or DESCRIBE; adding or changing them ALTER, or
#: INSERT for adding; removing them ALTER or DELETE
_PARTITION_NEEDS: dict[str, tuple[str, ...]] = {
    "GetPartition": ("SELECT", "DESCRIBE"),
    "GetPartitions": ("SELECT", "DESCRIBE"),
    "BatchGetPartition": ("SELECT", "DESCRIBE"),
    "CreatePartition": ("ALTER", "INSERT"),
    "BatchCreatePartition": ("ALTER", "INSERT"),
    "UpdatePartition": ("ALTER",),
    "BatchUpdatePartition": ("ALTER",),
    "DeletePartition": ("ALTER", "DELETE"),
    "BatchDeletePartition": ("ALTER", "DELETE"),
}


def _storage(context: Any) -> Any:
    try:
        return getattr(context, "storage", None)
    except AwsError:  # a door that offers no storage
        return None


def _below(context: Any, location: str, parent: str | None) -> bool:
    if not parent:
        return False
    config = getattr(_storage(context), "config", None)
    location, parent = lake_uri(location, config), lake_uri(parent, config)
    return (location.rstrip("/") + "/").startswith(parent.rstrip("/") + "/")


def _partition_table(request: Request, context: GlueContext, operation: str) -> Table:
    _check_catalog_id(request, context)
    action = f"glue:{operation}"
    table = _visible_table(
        context,
        required_str(request, "DatabaseName", INVALID),
        required_str(request, "TableName", INVALID),
        action,
    )
    gate = Gate.of(context)
    if gate is not None:
        gate.require_on_table(action, table, *_PARTITION_NEEDS[operation])
        if operation in _PARTITION_READS:
            gate.require_partition_values(action, table)
    return table


#: the partition operations that return partition values
_PARTITION_READS = frozenset({"GetPartition", "GetPartitions", "BatchGetPartition"})


def _error_detail(exc: LakeboxError) -> dict[str, str]:
    return {"ErrorCode": error_code(exc), "ErrorMessage": str(exc)}


def create_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "CreatePartition")
    part = _partition_from_input(context, table, request.get("PartitionInput"))
    catalog, _ = _catalog(context)
    catalog.add_partitions([part])
    return {}


def batch_create_partition(request: Request, context: GlueContext) -> Response:
    """Each entry is added on its own (Glue's BatchCreatePartition): an entry that exists or
    is malformed is reported in Errors and the others are still added."""
    table = _partition_table(request, context, "BatchCreatePartition")
    given = request.get("PartitionInputList")
    if not isinstance(given, list) or len(given) > 100:
        raise AwsError(INVALID, "PartitionInputList must be a list of at most 100 partitions")
    catalog, _ = _catalog(context)
    errors = []
    for entry in given:
        values = entry.get("Values") if isinstance(entry, dict) else None
        try:
            catalog.add_partitions([_partition_from_input(context, table, entry)])
        except LakeboxError as exc:
            errors.append(
                {
                    "PartitionValues": values if isinstance(values, list) else [],
                    "ErrorDetail": _error_detail(exc),
                }
            )
    return {"Errors": errors}


def get_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "GetPartition")
    values = _values(request.get("PartitionValues"), "PartitionValues")
    catalog, _ = _catalog(context)
    try:
        part = catalog.get_partition(table.database, table.name, values)
    except LakeboxError:
        raise AwsError("EntityNotFoundException", "Cannot find partition.") from None
    account = lake_account(context)
    return {"Partition": _partition_api(table, part, _visible_columns(context, table), account)}


def _segment(request: Request) -> tuple[int, int]:
    segment = request.get("Segment")
    if segment is None:
        return 0, 1
    if not isinstance(segment, dict):
        raise AwsError(INVALID, "Segment must be an object")
    number, total = segment.get("SegmentNumber"), segment.get("TotalSegments")
    if (
        not isinstance(number, int)
        or not isinstance(total, int)
        or not 1 <= total <= 10
        or not 0 <= number < total
    ):
        raise AwsError(
            INVALID,
            "Segment: TotalSegments must be 1 to 10 and SegmentNumber 0 to TotalSegments - 1",
        )
    return number, total


def get_partitions(request: Request, context: GlueContext) -> Response:
    from lakebox.catalog.partition_filter import compile_filter

    table = _partition_table(request, context, "GetPartitions")
    expression = request.get("Expression")
    if expression is not None and not isinstance(expression, str):
        raise AwsError(INVALID, "Expression must be a string")
    number, total = _segment(request)
    catalog, _ = _catalog(context)
    parts = catalog.get_partitions(table.database, table.name)
    if total > 1:
        parts = [p for i, p in enumerate(parts) if i % total == number]
    if expression and expression.strip():
        matches = compile_filter(expression, table.partition_keys)
        parts = [p for p in parts if matches(p.values)]
    page, more = _paged(request, parts, [json.dumps(p.values) for p in parts], 1000)
    visible, account = _visible_columns(context, table), lake_account(context)
    schema = not request.get("ExcludeColumnSchema")
    return {
        "Partitions": [_partition_api(table, p, visible, account, schema=schema) for p in page],
        **more,
    }


def _values_list(request: Request, name: str, most: int) -> list[list[str]]:
    given = request.get(name)
    if not isinstance(given, list) or len(given) > most:
        raise AwsError(INVALID, f"{name} must be a list of at most {most} partition value lists")
    out = []
    for i, entry in enumerate(given):
        if not isinstance(entry, dict):
            raise AwsError(INVALID, f"{name}[{i}] must be an object with Values")
        out.append(_values(entry.get("Values"), f"{name}[{i}].Values"))
    return out


def batch_get_partition(request: Request, context: GlueContext) -> Response:
    """The partitions asked for that exist (a missing one is left out, as Glue does);
    UnprocessedKeys is always empty, lakebox never gives up part way."""
    table = _partition_table(request, context, "BatchGetPartition")
    wanted = _values_list(request, "PartitionsToGet", 1000)
    catalog, _ = _catalog(context)
    found = {tuple(p.values): p for p in catalog.get_partitions(table.database, table.name)}
    visible, account = _visible_columns(context, table), lake_account(context)
    return {
        "Partitions": [
            _partition_api(table, found[tuple(v)], visible, account)
            for v in wanted
            if tuple(v) in found
        ],
        "UnprocessedKeys": [],
    }


def _update_one(context: Any, table: Table, values: list[str], given: Any) -> None:
    _check_arity(table, values)
    new = _partition_from_input(context, table, given, "glue:UpdatePartition")
    catalog, _ = _catalog(context)
    catalog.update_partition(table.database, table.name, values, new)


def update_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "UpdatePartition")
    values = _values(request.get("PartitionValueList"), "PartitionValueList")
    _update_one(context, table, values, request.get("PartitionInput"))
    return {}


def batch_update_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "BatchUpdatePartition")
    entries = request.get("Entries")
    if not isinstance(entries, list) or not 1 <= len(entries) <= 100:
        raise AwsError(INVALID, "Entries must be a list of 1 to 100 entries")
    errors = []
    for entry in entries:
        values = entry.get("PartitionValueList") if isinstance(entry, dict) else None
        try:
            if not isinstance(entry, dict):
                raise AwsError(INVALID, "each entry must be an object")
            _update_one(
                context,
                table,
                _values(values, "PartitionValueList"),
                entry.get("PartitionInput"),
            )
        except LakeboxError as exc:
            errors.append(
                {
                    "PartitionValueList": values if isinstance(values, list) else [],
                    "ErrorDetail": _error_detail(exc),
                }
            )
    return {"Errors": errors}


def delete_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "DeletePartition")
    values = _values(request.get("PartitionValues"), "PartitionValues")
    catalog, _ = _catalog(context)
    try:
        catalog.drop_partitions(table.database, table.name, [values])
    except LakeboxError:
        raise AwsError("EntityNotFoundException", "Cannot find partition.") from None
    return {}


def batch_delete_partition(request: Request, context: GlueContext) -> Response:
    table = _partition_table(request, context, "BatchDeletePartition")
    catalog, _ = _catalog(context)
    errors = []
    for values in _values_list(request, "PartitionsToDelete", 25):
        try:
            catalog.drop_partitions(table.database, table.name, [values])
        except LakeboxError:
            errors.append(
                {
                    "PartitionValues": values,
                    "ErrorDetail": {
                        "ErrorCode": "EntityNotFoundException",
                        "ErrorMessage": "Cannot find partition.",
                    },
                }
            )
    return {"Errors": errors}


# -- what each operation is authorized against (AWS: a table action needs the catalog, the
# database and the table; a database action the catalog and the database), in the account of
# the catalog the request names (CatalogId) or else the lake's --------------------------------


def _glue(context: Any, resource: str, request: Request | None = None) -> str:
    given = request.get("CatalogId") if isinstance(request, dict) else None
    account = given if isinstance(given, str) and given else lake_account(context)
    return f"arn:aws:glue:{context.region}:{account}:{resource}"


def _database_arns(context: Any, request: Request, database: str | None) -> list[str]:
    db = database.lower() if database is not None else "*"
    return [_glue(context, "catalog", request), _glue(context, f"database/{db}", request)]


def _table_arns(
    context: Any, request: Request, database: str | None, table: str | None
) -> list[str]:
    found = _database_arns(context, request, database)
    db = database.lower() if database is not None else "*"
    name = table.lower() if table is not None else "*"
    return [*found, _glue(context, f"table/{db}/{name}", request)]


def _on_catalog(request: Request, context: Any) -> list[str]:
    return [_glue(context, "catalog", request)]


def _on_database(request: Request, context: Any) -> list[str]:
    return _database_arns(context, request, text(request, "Name"))


def _on_new_database(request: Request, context: Any) -> list[str]:
    return _database_arns(context, request, text(request.get("DatabaseInput"), "Name"))


def _on_tables(request: Request, context: Any) -> list[str]:
    return _table_arns(context, request, text(request, "DatabaseName"), None)


def _on_table(request: Request, context: Any) -> list[str]:
    return _table_arns(context, request, text(request, "DatabaseName"), text(request, "Name"))


def _on_table_named(request: Request, context: Any) -> list[str]:
    table = text(request, "TableName")
    return _table_arns(context, request, text(request, "DatabaseName"), table)


def _on_every_table(request: Request, context: Any) -> list[str]:
    return _table_arns(context, request, None, None)


def _on_new_table(request: Request, context: Any) -> list[str]:
    given = request.get("TableInput")
    return _table_arns(context, request, text(request, "DatabaseName"), text(given, "Name"))


def _on_changed_table(request: Request, context: Any) -> list[str]:
    name = text(request, "Name") or text(request.get("TableInput"), "Name")
    return _table_arns(context, request, text(request, "DatabaseName"), name)


def _on_partitions(request: Request, context: Any) -> list[str]:
    """Glue authorizes a partition action on the catalog, the database and the table."""
    return _table_arns(context, request, text(request, "DatabaseName"), text(request, "TableName"))


def _on_crawler(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"crawler/{text(request, 'Name') or '*'}")]


def _on_crawler_named(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"crawler/{text(request, 'CrawlerName') or '*'}")]


def _on_crawlers(request: Request, context: Any) -> list[str]:
    names = request.get("CrawlerNameList")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return [_glue(context, f"crawler/{n}") for n in names]
    return [_glue(context, "crawler/*")]


def _on_any_crawler(request: Request, context: Any) -> list[str]:
    return [_glue(context, "crawler/*")]


def _role_arn(context: Any, role: str) -> str:
    """Glue takes a crawler's role by name or by ARN."""
    if role.startswith("arn:"):
        return role
    return f"arn:aws:iam::{lake_account(context)}:role/{role}"


def _crawl_needs(
    context: Any, database: str, paths: list[str], delete_behavior: str
) -> list[tuple[str, str]]:
    """What a crawl does, as the caller's own actions: it writes tables and partitions of
    its database (and deletes them when its DeleteBehavior says so) and lists and reads its
    S3 targets. Lake Formation judges a crawl's changes as the crawler's role
    (``lakebox.crawler.service.crawl_principal``), but the crawl reads and writes with the
    lake's own access, so whoever defines or starts one must also be allowed all of it by
    IAM; ``glue:*Crawler`` on the crawler alone is not enough."""
    from lakebox.crawler.model import DELETE_FROM_DATABASE

    db = _table_arns(context, {}, database or None, None)
    actions = ["glue:CreateTable", "glue:UpdateTable", "glue:BatchCreatePartition"]
    if delete_behavior == DELETE_FROM_DATABASE:
        actions += ["glue:DeleteTable", "glue:BatchDeletePartition"]
    needs = [(action, resource) for action in actions for resource in db]
    for path in paths:
        if path.startswith("s3://"):
            bucket, _, prefix = path[len("s3://") :].partition("/")
            needs.append(("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
            needs.append(("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}*"))
        else:  # a local folder of the lake: any bucket's files, so every bucket's
            needs += [("s3:ListBucket", "arn:aws:s3:::*"), ("s3:GetObject", "arn:aws:s3:::*")]
    return needs


def _request_paths(request: Request) -> list[str] | None:
    targets = request.get("Targets")
    if not isinstance(targets, dict):
        return None
    given = targets.get("S3Targets") or []
    if not isinstance(given, list):
        return []
    return [t["Path"] for t in given if isinstance(t, dict) and isinstance(t.get("Path"), str)]


def _request_delete_behavior(request: Request) -> str | None:
    policy = request.get("SchemaChangePolicy")
    if isinstance(policy, dict) and isinstance(policy.get("DeleteBehavior"), str):
        return str(policy["DeleteBehavior"])
    return None


def _defines_crawl(request: Request, context: Any) -> list[tuple[str, str]]:
    """CreateCrawler / UpdateCrawler: the crawl the crawler will do once changed (members
    the request leaves out are the stored crawler's), and iam:PassRole on a Role given."""
    from lakebox.crawler.model import DEPRECATE_IN_DATABASE

    stored: Crawler | None = None
    name = text(request, "Name")
    if name is not None:
        try:
            stored = context.crawlers.get_crawler(name, principal=context.principal)
        except LakeboxError:
            stored = None
    database = text(request, "DatabaseName")
    if database is None:
        database = stored.database if stored is not None else "*"
    paths = _request_paths(request)
    if paths is None:
        paths = [t.path for t in stored.targets] if stored is not None else []
    behavior = _request_delete_behavior(request)
    if behavior is None:
        behavior = stored.delete_behavior if stored is not None else DEPRECATE_IN_DATABASE
    needs = _crawl_needs(context, database.lower(), paths, behavior)
    role = text(request, "Role")
    if role is not None:
        needs.append(("iam:PassRole", _role_arn(context, role)))
    return needs


def _starts_crawl(request: Request, context: Any) -> list[tuple[str, str]]:
    """StartCrawler: the starter must be allowed the stored crawler's crawl."""
    name = text(request, "Name")
    if name is None:
        return []
    try:
        crawler = context.crawlers.get_crawler(name, principal=context.principal)
    except LakeboxError:  # the handler answers EntityNotFoundException
        return []
    paths = [t.path for t in crawler.targets]
    return _crawl_needs(context, crawler.database, paths, crawler.delete_behavior)


def _on_job(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"job/{text(request, 'JobName') or '*'}")]


def _on_new_job(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"job/{text(request, 'Name') or '*'}")]


def _job_needs(given: Any, context: Any) -> list[tuple[str, str]]:
    """CreateJob / UpdateJob: ``iam:PassRole`` on the job's Role, as in Glue, and
    ``s3:GetObject`` on its script (the lake reads it for the run, so a caller must not
    name one it could not read itself)."""
    if not isinstance(given, dict):
        return []
    needs = []
    role = text(given, "Role")
    if role is not None:
        needs.append(("iam:PassRole", _role_arn(context, role)))
    script = text(given.get("Command"), "ScriptLocation")
    if script is not None and script.startswith("s3://"):
        needs.append(("s3:GetObject", f"arn:aws:s3:::{script[len('s3://') :]}"))
    return needs


def _defines_job(request: Request, context: Any) -> list[tuple[str, str]]:
    return _job_needs(request, context)


def _changes_job(request: Request, context: Any) -> list[tuple[str, str]]:
    return _job_needs(request.get("JobUpdate"), context)


def _on_any_job(request: Request, context: Any) -> list[str]:
    return [_glue(context, "job/*")]


API = ServiceApi(
    "Glue",
    operations(
        ("CreateCrawler", create_crawler, _on_crawler, _defines_crawl),
        ("UpdateCrawler", update_crawler, _on_crawler, _defines_crawl),
        ("DeleteCrawler", delete_crawler, _on_crawler),
        ("GetCrawlers", get_crawlers, _on_any_crawler),
        ("ListCrawlers", list_crawlers, _on_any_crawler),
        ("StartCrawler", start_crawler, _on_crawler, _starts_crawl),
        ("StopCrawler", stop_crawler, _on_crawler),
        ("GetCrawler", get_crawler, _on_crawler),
        ("GetCrawlerMetrics", get_crawler_metrics, _on_crawlers),
        ("ListCrawls", list_crawls, _on_crawler_named),
        ("CreateJob", create_job, _on_new_job, _defines_job),
        ("UpdateJob", update_job, _on_job, _changes_job),
        ("DeleteJob", delete_job, _on_job),
        ("GetJob", get_job, _on_job),
        ("GetJobs", get_jobs, _on_any_job),
        ("ListJobs", list_jobs, _on_any_job),
        ("StartJobRun", start_job_run, _on_job),
        ("GetJobRun", get_job_run, _on_job),
        ("GetJobRuns", get_job_runs, _on_job),
        ("BatchStopJobRun", batch_stop_job_run, _on_job),
        ("CreateDatabase", create_database, _on_new_database),
        ("UpdateDatabase", update_database, _on_database),
        ("GetDatabase", get_database, _on_database),
        ("GetDatabases", get_databases, _on_catalog),
        ("DeleteDatabase", delete_database, _on_database),
        ("CreateTable", create_table, _on_new_table),
        ("UpdateTable", update_table, _on_changed_table),
        ("GetTable", get_table, _on_table),
        ("GetTables", get_tables, _on_tables),
        ("DeleteTable", delete_table, _on_table),
        ("SearchTables", search_tables, _on_every_table),
        ("GetTableVersions", get_table_versions, _on_table_named),
        ("GetTableVersion", get_table_version, _on_table_named),
        ("CreatePartition", create_partition, _on_partitions),
        ("BatchCreatePartition", batch_create_partition, _on_partitions),
        ("GetPartition", get_partition, _on_partitions),
        ("GetPartitions", get_partitions, _on_partitions),
        ("BatchGetPartition", batch_get_partition, _on_partitions),
        ("UpdatePartition", update_partition, _on_partitions),
        ("BatchUpdatePartition", batch_update_partition, _on_partitions),
        ("DeletePartition", delete_partition, _on_partitions),
        ("BatchDeletePartition", batch_delete_partition, _on_partitions),
    ),
    error_code,
    INVALID,
    prefix="glue",
)
