"""Athena's API over the QueryService: StartQueryExecution, GetQueryExecution,
GetQueryResults, StopQueryExecution, ListQueryExecutions, BatchGetQueryExecution.

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
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.workflows.jobs import stop_query

if TYPE_CHECKING:
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
    return "InternalServerException"


def start_query_execution(request: Request, context: AthenaContext) -> Response:
    query = required_str(request, "QueryString", INVALID)
    if request.get("ExecutionParameters"):
        raise AwsError(
            INVALID,
            "ExecutionParameters (parameterised queries) are not supported by lakebox: "
            "put the values into QueryString with States.Format",
        )
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


API = ServiceApi(
    "Athena",
    operations(
        ("StartQueryExecution", start_query_execution),
        ("GetQueryExecution", get_query_execution),
        ("GetQueryResults", get_query_results),
        ("StopQueryExecution", stop_query_execution),
        ("ListQueryExecutions", list_query_executions),
        ("BatchGetQueryExecution", batch_get_query_execution),
    ),
    error_code,
    INVALID,
)
