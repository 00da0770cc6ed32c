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

Data Catalog: CreateDatabase, GetDatabase, GetDatabases, DeleteDatabase, CreateTable,
GetTable, GetTables, DeleteTable over the lake's catalog (``context.catalog``), listings
filtered by the lake's visibility policy for the caller.

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
    arn,
    operations,
    optional_int,
    required_str,
    text,
)
from lakebox.errors import InvalidRequestError, LakeboxError

if TYPE_CHECKING:
    from lakebox.catalog.model import Database, Table
    from lakebox.catalog.store import CatalogStore
    from lakebox.catalog.visibility import Visibility
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


# -- the Data Catalog -------------------------------------------------------------------------


def _catalog(context: Any) -> tuple[CatalogStore, Visibility]:
    """The catalog and visibility policy of a door that offers them (the HTTP server does;
    a state machine's task context does not, yet)."""
    catalog = getattr(context, "catalog", None)
    if catalog is None:
        raise AwsError("ServiceUnavailableException", "this door offers no Data Catalog")
    from lakebox.catalog.visibility import OPEN

    return catalog, getattr(context, "visibility", None) or OPEN


def _database_api(db: Database) -> Response:
    out: Response = {
        "Name": db.name,
        "Parameters": dict(db.parameters),
        "CreateTime": db.create_time,
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


def _table_api(table: Table, visible: set[str]) -> Response:
    out: Response = {
        "Name": table.name,
        "DatabaseName": table.database,
        "CreateTime": table.create_time,
        "UpdateTime": table.update_time,
        "TableType": table.table_type,
        "Parameters": dict(table.parameters),
        "PartitionKeys": _columns(c for c in table.partition_keys if c.name in visible),
        "StorageDescriptor": {
            "Columns": _columns(c for c in table.columns if c.name in visible),
            "Location": table.location or "",
            "InputFormat": table.input_format or "",
            "OutputFormat": table.output_format or "",
            "SerdeInfo": {
                "SerializationLibrary": table.serde_library or "",
                "Parameters": dict(table.serde_parameters),
            },
            "BucketColumns": list(table.bucket_columns),
            "NumberOfBuckets": table.num_buckets,
        },
    }
    if table.comment:
        out["Description"] = table.comment
    if table.view_original_text:
        out["ViewOriginalText"] = table.view_original_text
    if table.view_expanded_text:
        out["ViewExpandedText"] = table.view_expanded_text
    return out


def _visible_database(context: GlueContext, name: str) -> Database:
    catalog, visibility = _catalog(context)
    db = catalog.get_database(name.lower())
    if not visibility.databases(context.principal, [db]):
        raise AwsError("EntityNotFoundException", f"Database {name} not found.")
    return db


def create_database(request: Request, context: GlueContext) -> Response:
    from lakebox.catalog.model import Database

    given = request.get("DatabaseInput")
    if not isinstance(given, dict):
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'databaseInput' failed to satisfy "
            "constraint: Member must not be null",
        )
    name = required_str(given, "Name", INVALID)
    catalog, _ = _catalog(context)
    params = given.get("Parameters") or {}
    if not isinstance(params, dict):
        raise AwsError(INVALID, "DatabaseInput.Parameters must be a map of strings")
    catalog.create_database(
        Database(
            name,
            description=given.get("Description"),
            location=given.get("LocationUri"),
            parameters={str(k): str(v) for k, v in params.items()},
        )
    )
    return {}


def get_database(request: Request, context: GlueContext) -> Response:
    return {
        "Database": _database_api(
            _visible_database(context, required_str(request, "Name", INVALID))
        )
    }


def get_databases(request: Request, context: GlueContext) -> Response:
    catalog, visibility = _catalog(context)
    dbs = visibility.databases(context.principal, catalog.list_databases())
    return {"DatabaseList": [_database_api(db) for db in dbs]}


def delete_database(request: Request, context: GlueContext) -> Response:
    db = _visible_database(context, required_str(request, "Name", INVALID))
    catalog, _ = _catalog(context)
    catalog.drop_database(db.name, cascade=True)
    return {}


def _visible_tables(context: GlueContext, database: str) -> list[Table]:
    db = _visible_database(context, database)
    catalog, visibility = _catalog(context)
    return visibility.tables(context.principal, catalog.list_tables(db.name))


def _table_out(context: GlueContext, table: Table) -> Response:
    _, visibility = _catalog(context)
    return _table_api(table, {c.name for c in visibility.columns(context.principal, table)})


def get_tables(request: Request, context: GlueContext) -> Response:
    database = required_str(request, "DatabaseName", INVALID)
    tables = _visible_tables(context, database)
    expression = request.get("Expression")
    if isinstance(expression, str) and expression not in ("", "*"):
        import fnmatch

        tables = [t for t in tables if fnmatch.fnmatchcase(t.name, expression.lower())]
    return {"TableList": [_table_out(context, t) for t in tables]}


def get_table(request: Request, context: GlueContext) -> Response:
    database = required_str(request, "DatabaseName", INVALID)
    name = required_str(request, "Name", INVALID).lower()
    for table in _visible_tables(context, database):
        if table.name == name:
            return {"Table": _table_out(context, table)}
    raise AwsError("EntityNotFoundException", f"Table {name} not found.")


def create_table(request: Request, context: GlueContext) -> Response:
    from lakebox.catalog.model import Column, Table

    database = _visible_database(context, required_str(request, "DatabaseName", INVALID))
    given = request.get("TableInput")
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

    table = Table(
        database.name,
        name,
        columns=columns(sd.get("Columns"), "StorageDescriptor.Columns"),
        partition_keys=columns(given.get("PartitionKeys"), "PartitionKeys"),
        location=sd.get("Location") or None,
        input_format=sd.get("InputFormat") or None,
        output_format=sd.get("OutputFormat") or None,
        serde_library=serde.get("SerializationLibrary") or None,
        serde_parameters={str(k): str(v) for k, v in (serde.get("Parameters") or {}).items()},
        parameters={str(k): str(v) for k, v in (given.get("Parameters") or {}).items()},
        table_type=given.get("TableType") or "EXTERNAL_TABLE",
        comment=given.get("Description"),
        view_original_text=given.get("ViewOriginalText"),
        view_expanded_text=given.get("ViewExpandedText"),
    )
    catalog, _ = _catalog(context)
    catalog.create_table(table)
    return {}


def delete_table(request: Request, context: GlueContext) -> Response:
    database = required_str(request, "DatabaseName", INVALID)
    name = required_str(request, "Name", INVALID).lower()
    if not any(t.name == name for t in _visible_tables(context, database)):
        raise AwsError("EntityNotFoundException", f"Table {name} not found.")
    catalog, _ = _catalog(context)
    catalog.drop_table(database.lower(), name)
    return {}


# -- what each operation is authorized against (AWS: a table action needs the catalog, the
# database and the table; a database action the catalog and the database) --------------------


def _glue(context: Any, resource: str) -> str:
    return arn(context, "glue", resource)


def _database_arns(context: Any, database: str | None) -> list[str]:
    if database is None:
        return [_glue(context, "catalog"), _glue(context, "database/*")]
    return [_glue(context, "catalog"), _glue(context, f"database/{database.lower()}")]


def _table_arns(context: Any, database: str | None, table: str | None) -> list[str]:
    found = _database_arns(context, database)
    db = database.lower() if database is not None else "*"
    return [*found, _glue(context, f"table/{db}/{table.lower() if table is not None else '*'}")]


def _on_catalog(request: Request, context: Any) -> list[str]:
    return [_glue(context, "catalog")]


def _on_database(request: Request, context: Any) -> list[str]:
    return _database_arns(context, text(request, "Name"))


def _on_new_database(request: Request, context: Any) -> list[str]:
    given = request.get("DatabaseInput")
    return _database_arns(context, text(given, "Name"))


def _on_tables(request: Request, context: Any) -> list[str]:
    return _table_arns(context, text(request, "DatabaseName"), None)


def _on_table(request: Request, context: Any) -> list[str]:
    return _table_arns(context, text(request, "DatabaseName"), text(request, "Name"))


def _on_new_table(request: Request, context: Any) -> list[str]:
    given = request.get("TableInput")
    return _table_arns(context, text(request, "DatabaseName"), text(given, "Name"))


def _on_crawler(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"crawler/{text(request, 'Name') or '*'}")]


def _on_crawlers(request: Request, context: Any) -> list[str]:
    names = request.get("CrawlerNameList")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return [_glue(context, f"crawler/{n}") for n in names]
    return [_glue(context, "crawler/*")]


def _on_job(request: Request, context: Any) -> list[str]:
    return [_glue(context, f"job/{text(request, 'JobName') or '*'}")]


API = ServiceApi(
    "Glue",
    operations(
        ("StartCrawler", start_crawler, _on_crawler),
        ("GetCrawler", get_crawler, _on_crawler),
        ("GetCrawlerMetrics", get_crawler_metrics, _on_crawlers),
        ("StartJobRun", start_job_run, _on_job),
        ("GetJobRun", get_job_run, _on_job),
        ("GetJobRuns", get_job_runs, _on_job),
        ("BatchStopJobRun", batch_stop_job_run, _on_job),
        ("CreateDatabase", create_database, _on_new_database),
        ("GetDatabase", get_database, _on_database),
        ("GetDatabases", get_databases, _on_catalog),
        ("DeleteDatabase", delete_database, _on_database),
        ("CreateTable", create_table, _on_new_table),
        ("GetTable", get_table, _on_table),
        ("GetTables", get_tables, _on_tables),
        ("DeleteTable", delete_table, _on_table),
    ),
    error_code,
    INVALID,
    prefix="glue",
)
