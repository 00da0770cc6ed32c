"""Athena's API over the QueryService: StartQueryExecution, GetQueryExecution,
GetQueryResults, StopQueryExecution, ListQueryExecutions, BatchGetQueryExecution; the
workgroups (CreateWorkGroup, UpdateWorkGroup, DeleteWorkGroup, ListWorkGroups, GetWorkGroup,
with the engine each runs on: ``Configuration.EngineVersion``; ListEngineVersions) and the
metadata calls BI tools and PyAthena make
(ListDataCatalogs, ListDatabases, GetDatabase, ListTableMetadata, GetTableMetadata), which
show what the query service's visibility policy lets the caller see.

Errors: the codes Athena declares pass through; a missing workgroup or execution, or any
other mistake of the caller, is ``InvalidRequestException`` as in Athena; anything else is
``InternalServerException``.
"""

from __future__ import annotations

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
    str_list,
)
from lakebox.api.base import arn as _arn
from lakebox.api.base import text as _text
from lakebox.api.lf_doors import SERVICE, Gate, request_id
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.iam.errors import AccessDenied
from lakebox.sql.lexer import EOF, NUMBER, PARAM, STRING, scan
from lakebox.workflows.jobs import stop_query

if TYPE_CHECKING:
    from lakebox.catalog.model import Table
    from lakebox.query.service import QueryService

INVALID = "InvalidRequestException"
#: Error codes Athena's API declares.
CODES = frozenset(
    {
        "InternalServerException",
        "InvalidRequestException",
        "MetadataException",
        "ResourceNotFoundException",
        "TooManyRequestsException",
    }
)


class AthenaContext(ApiContext, Protocol):
    @property
    def queries(self) -> QueryService: ...


def error_code(exc: LakeboxError) -> str:
    if exc.code in CODES:
        return exc.code
    if isinstance(exc, EntityNotFoundError | AlreadyExistsError | InvalidRequestError):
        return INVALID
    if isinstance(exc, AccessDenied):  # GetQueryResults' checks of the result file
        return "AccessDeniedException"
    return "InternalServerException"


#: the words a typed literal starts with (``DATE '2024-01-02'``) in an execution parameter
_TYPED_LITERALS = frozenset(
    {"DATE", "TIME", "TIMESTAMP", "DECIMAL", "CHAR", "VARCHAR", "VARBINARY", "JSON", "X"}
)


def _literal(value: str, index: int) -> str:
    """``value`` if it is one SQL literal (a number, a string, TRUE, FALSE, NULL or a typed
    literal such as ``DATE '2024-01-02'``): Athena applies each execution parameter as a
    value, so text that would change the statement around it is refused, never spliced."""
    # a comment would swallow the rest of the query's line: no parameter holds one
    toks = [t for t in scan(value) if t.kind != EOF]
    if toks and toks[0].is_punct("-+") and len(toks) == 2:
        toks = toks[1:]
        numeric = True
    else:
        numeric = False
    ok = all(t.closed for t in toks) and (
        (len(toks) == 1 and toks[0].kind == NUMBER)
        or (
            not numeric
            and (
                (len(toks) == 1 and toks[0].kind == STRING)
                or (len(toks) == 1 and toks[0].is_kw("TRUE", "FALSE", "NULL"))
                or (len(toks) == 2 and toks[0].is_kw(*_TYPED_LITERALS) and toks[1].kind == STRING)
            )
        )
    )
    if not ok:
        raise AwsError(
            INVALID,
            f"ExecutionParameters[{index}] is not a literal value: {value!r} (a string "
            "parameter is quoted, 'text'; a number, TRUE, FALSE, NULL or DATE '2024-01-02' "
            "is written as in the query)",
        )
    return value.strip()


def bind_execution_parameters(query: str, values: list[str]) -> str:
    """The query with its ``?`` placeholders (outside strings, quoted names and comments)
    replaced, in order, by the execution parameters, as Athena applies them."""
    out: list[str] = []
    done = 0
    places = [t for t in scan(query) if t.kind == PARAM]
    if len(places) != len(values):
        raise AwsError(
            INVALID,
            f"The query has {len(places)} parameter placeholder(s) (?) but "
            f"{len(values)} ExecutionParameters were given",
        )
    for i, (tok, value) in enumerate(zip(places, values, strict=True)):
        # spaced, so a value never joins the text around it into another token (``5 -?``
        # with ``-1`` must not become the comment ``5 --1``)
        out += (query[done : tok.start], f" {_literal(value, i)} ")
        done = tok.end
    out.append(query[done:])
    return "".join(out)


def start_query_execution(request: Request, context: AthenaContext) -> Response:
    query = required_str(request, "QueryString", INVALID)
    if request.get("ExecutionParameters") is not None:
        query = bind_execution_parameters(query, str_list(request, "ExecutionParameters", INVALID))
    where = request.get("QueryExecutionContext") or {}
    results = request.get("ResultConfiguration") or {}
    reuse = (request.get("ResultReuseConfiguration") or {}).get(
        "ResultReuseByAgeConfiguration"
    ) or {}
    reuse_minutes = int(reuse.get("MaxAgeInMinutes", 60)) if reuse.get("Enabled") else None
    qid = context.queries.start_query_execution(
        query,
        database=where.get("Database"),
        workgroup=request.get("WorkGroup") or "primary",
        output_location=results.get("OutputLocation"),
        client_request_token=request.get("ClientRequestToken"),
        result_reuse_max_age_minutes=reuse_minutes,
        principal=context.principal,
    )
    return {"QueryExecutionId": qid}


def get_query_execution(request: Request, context: AthenaContext) -> Response:
    qid = required_str(request, "QueryExecutionId", INVALID)
    return {
        "QueryExecution": context.queries.get_query_execution(
            qid, principal=context.principal
        ).to_api()
    }


def get_query_results(request: Request, context: AthenaContext) -> Response:
    qid = required_str(request, "QueryExecutionId", INVALID)
    max_results = request.get("MaxResults", 1000)
    if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
        raise AwsError(INVALID, "MaxResults must be between 1 and 1000")
    result: dict[str, Any] = context.queries.get_query_results(
        qid, request.get("NextToken"), max_results, principal=context.principal
    )
    return result


def stop_query_execution(request: Request, context: AthenaContext) -> Response:
    qid = required_str(request, "QueryExecutionId", INVALID)
    # waits until the query has ended, repeating the stop: lakebox's engine can miss an
    # interrupt that arrives just before a statement starts executing
    stop_query(context.queries, qid, principal=context.principal)
    return {}


def list_query_executions(request: Request, context: AthenaContext) -> Response:
    ids, token = context.queries.list_query_executions(
        request.get("WorkGroup"),
        optional_int(request, "MaxResults", INVALID, 50),
        request.get("NextToken"),
        principal=context.principal,
    )
    out: dict[str, Any] = {"QueryExecutionIds": ids}
    if token:
        out["NextToken"] = token
    return out


def batch_get_query_execution(request: Request, context: AthenaContext) -> Response:
    ids = str_list(request, "QueryExecutionIds", INVALID)
    found, missing = context.queries.batch_get_query_execution(ids, principal=context.principal)
    return {
        "QueryExecutions": [qe.to_api() for qe in found],
        "UnprocessedQueryExecutionIds": missing,
    }


# -- workgroups and metadata ---------------------------------------------------------------

#: the one data catalog of a lake, as Athena names its default Glue catalog
DATA_CATALOG = "AwsDataCatalog"


def list_work_groups(request: Request, context: AthenaContext) -> Response:
    queries = context.queries
    groups = queries.list_work_groups(principal=context.principal)
    return {
        "WorkGroups": [
            {
                "Name": g.name,
                "State": g.state,
                "Description": g.description or "",
                "CreationTime": g.creation_time,
                "EngineVersion": g.engine_version_api(queries.default_engine),
            }
            for g in groups
        ]
    }


def get_work_group(request: Request, context: AthenaContext) -> Response:
    name = required_str(request, "WorkGroup", INVALID)
    queries = context.queries
    wg = queries.get_work_group(name, principal=context.principal)
    return {"WorkGroup": wg.to_api(queries.default_engine)}


def _struct(request: Request, name: str) -> dict[str, Any]:
    """A structure member ({} when absent), refused when it is not one."""
    value = request.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AwsError(INVALID, f"{name} must be a structure")
    return value


def _selected_engine_version(config: dict[str, Any]) -> str | None:
    """``EngineVersion.SelectedEngineVersion`` of a configuration (None when not given:
    EffectiveEngineVersion is read-only and ignored, as in Athena)."""
    selected = _struct(config, "EngineVersion").get("SelectedEngineVersion")
    if selected is None:
        return None
    if not isinstance(selected, str) or not 1 <= len(selected) <= 128:
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'engineVersion.selectedEngineVersion' "
            "failed to satisfy constraint: Member must have length between 1 and 128",
        )
    return selected


def _bool(config: dict[str, Any], name: str) -> bool | None:
    value = config.get(name)
    if value is not None and not isinstance(value, bool):
        raise AwsError(INVALID, f"{name} must be a boolean")
    return value


def _cutoff(config: dict[str, Any]) -> int | None:
    value = config.get("BytesScannedCutoffPerQuery")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise AwsError(INVALID, "BytesScannedCutoffPerQuery must be an integer")
    return value


def create_work_group(request: Request, context: AthenaContext) -> Response:
    name = required_str(request, "Name", INVALID)
    config = _struct(request, "Configuration")
    description = request.get("Description") or ""
    if not isinstance(description, str):
        raise AwsError(INVALID, "Description must be a string")
    context.queries.create_work_group(
        name,
        description,
        _struct(config, "ResultConfiguration").get("OutputLocation"),
        bool(_bool(config, "EnforceWorkGroupConfiguration")),
        _cutoff(config),
        engine_version=_selected_engine_version(config) or "AUTO",
        principal=context.principal,
    )
    return {}


def update_work_group(request: Request, context: AthenaContext) -> Response:
    name = required_str(request, "WorkGroup", INVALID)
    updates = _struct(request, "ConfigurationUpdates")
    changes: dict[str, Any] = {}
    if request.get("Description") is not None:
        changes["description"] = request["Description"]
    if request.get("State") is not None:
        changes["state"] = request["State"]
    enforce = _bool(updates, "EnforceWorkGroupConfiguration")
    if enforce is not None:
        changes["enforce_configuration"] = enforce
    results = _struct(updates, "ResultConfigurationUpdates")
    if _bool(results, "RemoveOutputLocation"):
        changes["output_location"] = None
    elif results.get("OutputLocation") is not None:
        changes["output_location"] = results["OutputLocation"]
    if _bool(updates, "RemoveBytesScannedCutoffPerQuery"):
        changes["bytes_scanned_cutoff_per_query"] = None
    elif _cutoff(updates) is not None:
        changes["bytes_scanned_cutoff_per_query"] = _cutoff(updates)
    selected = _selected_engine_version(updates)
    if selected is not None:
        changes["engine_version"] = selected
    context.queries.update_work_group(name, principal=context.principal, **changes)
    return {}


def delete_work_group(request: Request, context: AthenaContext) -> Response:
    name = required_str(request, "WorkGroup", INVALID)
    context.queries.delete_work_group(name, principal=context.principal)
    return {}


def list_engine_versions(request: Request, context: AthenaContext) -> Response:
    """The engine versions a workgroup may select besides AUTO: Athena's SQL engine
    (lakebox's DuckDB) and the Spark versions (lakebox's Spark engine)."""
    from lakebox.query.model import ENGINE_VERSIONS

    return {
        "EngineVersions": [
            {"SelectedEngineVersion": v, "EffectiveEngineVersion": v} for v in ENGINE_VERSIONS
        ]
    }


def list_data_catalogs(request: Request, context: AthenaContext) -> Response:
    return {"DataCatalogsSummary": [{"CatalogName": DATA_CATALOG, "Type": "GLUE"}]}


def _catalog_name(request: Request) -> None:
    name = required_str(request, "CatalogName", INVALID)
    if name.lower() != DATA_CATALOG.lower():
        raise AwsError(
            "MetadataException", f"Catalog {name} does not exist (lakebox has {DATA_CATALOG})"
        )


def _gate(context: AthenaContext) -> Gate | None:
    """Lake Formation's checks for the caller; the lake's own permissions when the door's
    context does not offer them (the query service knows its lake)."""
    gate = Gate.of(context)
    if gate is not None or context.principal.is_local_admin:
        return gate
    lf = getattr(context.queries.lake, SERVICE, None)
    if lf is None or not lf.active:
        return None
    return Gate(lf, context.principal, request_id(context))


def _databases(context: AthenaContext, action: str = "athena:ListDatabases") -> list[Any]:
    qs = context.queries
    dbs = qs.visibility.databases(context.principal, qs.lake.catalog.list_databases())
    gate = _gate(context)
    if gate is not None:
        gate.record(action, "catalog", True)
        dbs = [d for d in dbs if gate.sees_database(action, d.name)]
    return dbs


def _database_api(db: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": db.name, "Parameters": dict(db.parameters)}
    if db.description:
        out["Description"] = db.description
    return out


def list_databases(request: Request, context: AthenaContext) -> Response:
    _catalog_name(request)
    return {"DatabaseList": [_database_api(db) for db in _databases(context)]}


def get_database(request: Request, context: AthenaContext) -> Response:
    _catalog_name(request)
    name = required_str(request, "DatabaseName", INVALID)
    for db in _databases(context, "athena:GetDatabase"):
        if db.name == name.lower():
            return {"Database": _database_api(db)}
    raise AwsError("MetadataException", f"Database {name} does not exist")


def _table_api(
    context: AthenaContext, table: Table, action: str = "athena:GetTableMetadata"
) -> dict[str, Any]:
    visible = {c.name for c in context.queries.visibility.columns(context.principal, table)}
    gate = _gate(context)
    if gate is not None:
        visible &= gate.visible_columns(action, table)
    return {
        "Name": table.name,
        "CreateTime": table.create_time,
        "TableType": table.table_type,
        "Columns": [
            {"Name": c.name, "Type": c.type, **({"Comment": c.comment} if c.comment else {})}
            for c in table.columns
            if c.name in visible
        ],
        "PartitionKeys": [
            {"Name": c.name, "Type": c.type} for c in table.partition_keys if c.name in visible
        ],
        "Parameters": dict(table.parameters),
    }


def _tables(
    context: AthenaContext, database: str, action: str = "athena:ListTableMetadata"
) -> list[Table]:
    qs = context.queries
    if not any(db.name == database.lower() for db in _databases(context, action)):
        raise AwsError("MetadataException", f"Database {database} does not exist")
    tables = qs.visibility.tables(context.principal, qs.lake.catalog.list_tables(database.lower()))
    gate = _gate(context)
    if gate is not None:
        tables = [t for t in tables if gate.sees_table(action, t)]
    return tables


def list_table_metadata(request: Request, context: AthenaContext) -> Response:
    _catalog_name(request)
    database = required_str(request, "DatabaseName", INVALID)
    tables = _tables(context, database)
    return {
        "TableMetadataList": [_table_api(context, t, "athena:ListTableMetadata") for t in tables]
    }


def get_table_metadata(request: Request, context: AthenaContext) -> Response:
    _catalog_name(request)
    database = required_str(request, "DatabaseName", INVALID)
    name = required_str(request, "TableName", INVALID)
    for table in _tables(context, database, "athena:GetTableMetadata"):
        if table.name == name.lower():
            return {"TableMetadata": _table_api(context, table)}
    raise AwsError("MetadataException", f"Table {name} does not exist in database {database}")


# -- what each operation is authorized against: the workgroup it runs in or names, the data
# catalog it reads ---------------------------------------------------------------------------


def _workgroup(context: Any, name: str) -> str:
    return _arn(context, "athena", f"workgroup/{name}")


def _on_workgroup(request: Request, context: Any) -> list[str]:
    return [_workgroup(context, _text(request, "WorkGroup") or "primary")]


def _on_new_workgroup(request: Request, context: Any) -> list[str]:
    return [_workgroup(context, _text(request, "Name") or "*")]


def _query_workgroup(context: Any, query_id: str | None) -> str:
    """The workgroup a query ran in (a query id names no workgroup of its own); a query
    not found is authorized on no workgroup the caller could be allowed by name."""
    if query_id is not None:
        try:
            found = context.queries.get_query_execution(query_id, principal=context.principal)
        except LakeboxError:
            found = None
        group = getattr(found, "workgroup", None)
        if isinstance(group, str) and group:
            return _workgroup(context, group)
    return _workgroup(context, "*")


def _on_query(request: Request, context: Any) -> list[str]:
    return [_query_workgroup(context, _text(request, "QueryExecutionId"))]


def _on_queries(request: Request, context: Any) -> list[str]:
    ids = request.get("QueryExecutionIds")
    if not isinstance(ids, list) or not ids:
        return [_workgroup(context, "*")]
    return sorted({_query_workgroup(context, i if isinstance(i, str) else None) for i in ids})


def _on_catalog(request: Request, context: Any) -> list[str]:
    return [_arn(context, "athena", f"datacatalog/{_text(request, 'CatalogName') or '*'}")]


API = ServiceApi(
    "Athena",
    operations(
        ("StartQueryExecution", start_query_execution, _on_workgroup),
        ("GetQueryExecution", get_query_execution, _on_query),
        ("GetQueryResults", get_query_results, _on_query),
        ("StopQueryExecution", stop_query_execution, _on_query),
        ("ListQueryExecutions", list_query_executions, _on_workgroup),
        ("BatchGetQueryExecution", batch_get_query_execution, _on_queries),
        ("ListWorkGroups", list_work_groups),
        ("GetWorkGroup", get_work_group, _on_workgroup),
        ("CreateWorkGroup", create_work_group, _on_new_workgroup),
        ("UpdateWorkGroup", update_work_group, _on_workgroup),
        ("DeleteWorkGroup", delete_work_group, _on_workgroup),
        ("ListEngineVersions", list_engine_versions),
        ("ListDataCatalogs", list_data_catalogs),
        ("ListDatabases", list_databases, _on_catalog),
        ("GetDatabase", get_database, _on_catalog),
        ("ListTableMetadata", list_table_metadata, _on_catalog),
        ("GetTableMetadata", get_table_metadata, _on_catalog),
    ),
    error_code,
    INVALID,
    prefix="athena",
)
