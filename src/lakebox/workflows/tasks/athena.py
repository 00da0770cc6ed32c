"""Athena task resources over lakebox's QueryService, so definitions written for AWS run as
they are: the optimised ``arn:aws:states:::athena:<action>`` integration (with ``.sync`` for
``startQueryExecution``) and ``arn:aws:states:::aws-sdk:athena:<action>``.

Requests and responses keep Athena's shapes (``QueryExecutionContext.Database``,
``ResultConfiguration.OutputLocation``, ``{"QueryExecution": ...}``). A service error fails
the task with ``Athena.<ErrorCode>`` (``Athena.InvalidRequestException``) as Step Functions
reports it; a ``.sync`` query that ends FAILED or CANCELLED fails with ``States.TaskFailed``
and the GetQueryExecution response as the cause.

The module also holds what every lake-backed task module shares: one Lake and one
QueryService per WorkflowService, created on first use and kept in its ``services``.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar

from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)
from lakebox.workflows.errors import StatesError
from lakebox.workflows.jobs import stop_query
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, IntegrationPattern, TaskContext

if TYPE_CHECKING:
    from lakebox.lakehouse import Lake
    from lakebox.query.model import QueryExecution
    from lakebox.query.service import QueryService

OPTIMISED = "arn:aws:states:::athena:"
SDK = "arn:aws:states:::aws-sdk:athena:"
#: How long a ``.sync`` task blocks on the query between checks of cancel and heartbeat.
SYNC_POLL_SECONDS = 0.1

T = TypeVar("T")
_SHARED_LOCK = threading.RLock()


# -- shared by the lake-backed task modules ---------------------------------------------------


def shared(ctx: TaskContext, key: str, factory: Callable[[], T]) -> T:
    """``ctx.services[key]``, made by ``factory`` the first time: the WorkflowService's
    ``services`` dict lives as long as the service, so every task reuses one object."""
    services = ctx.services
    if key in services:
        return services[key]
    if not isinstance(services, MutableMapping):
        return factory()
    with _SHARED_LOCK:
        if key not in services:
            services[key] = factory()
        return services[key]


def lake_of(ctx: TaskContext, service: str) -> Lake:
    """The lake a task works on (``services["lake"]``, or one opened from the config)."""
    if ctx.config is None and "lake" not in ctx.services:
        raise StatesError(
            f"{service}.InvalidRequestException",
            f"{service} tasks need a lake: run them through WorkflowService(config)",
        )

    def open_lake() -> Lake:
        from lakebox.lakehouse import Lake

        assert ctx.config is not None
        return Lake(ctx.config)

    return shared(ctx, "lake", open_lake)


def queries_of(ctx: TaskContext, service: str = "Athena") -> QueryService:
    def open_queries() -> QueryService:
        from lakebox.query.service import QueryService

        return QueryService(lake_of(ctx, service))

    return shared(ctx, "queries", open_queries)


def error_name(service: str, exc: LakeboxError, generic: str | None = None) -> str:
    """``Service.ErrorCode``; AWS adds ``Exception`` to codes that lack it (``...Fault``)."""
    code = exc.code or "InternalServerException"
    if generic is not None and code == "InternalServerException":
        return f"{service}.{generic}"
    if not code.endswith("Exception"):
        code += "Exception"
    return f"{service}.{code}"


def service_error(service: str, exc: LakeboxError, generic: str | None = None) -> StatesError:
    code = error_name(service, exc, generic).split(".", 1)[1]
    return StatesError(
        error_name(service, exc, generic),
        f"{exc} (Service: {service}; Status Code: 400; Error Code: {code})",
    )


#: The code each service answers a malformed request with.
INVALID = {
    "Athena": "InvalidRequestException",
    "Glue": "InvalidInputException",
    "DynamoDb": "ValidationException",
    "Rds": "InvalidParameterValueException",
    "Firehose": "InvalidArgumentException",
}


def invalid(service: str, message: str) -> StatesError:
    code = INVALID.get(service, "InvalidRequestException")
    return StatesError(
        f"{service}.{code}",
        f"{message} (Service: {service}; Status Code: 400; Error Code: {code})",
    )


def params_of(params: Any, service: str) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise invalid(service, "parameters must be an object")
    return params


def required_str(p: dict[str, Any], name: str, service: str) -> str:
    value = p.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(
            service,
            f"1 validation error detected: Value at '{name[0].lower() + name[1:]}' failed to "
            "satisfy constraint: Member must not be null",
        )
    return value


# -- Athena -------------------------------------------------------------------------------------


#: Error codes Athena's API declares; lakebox errors outside them are named as Athena would.
ATHENA_CODES = frozenset(
    {
        "InternalServerException",
        "InvalidRequestException",
        "MetadataException",
        "ResourceNotFoundException",
        "TooManyRequestsException",
    }
)


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except StatesError:
        raise
    except LakeboxError as exc:
        if exc.code not in ATHENA_CODES:
            # Athena reports a missing workgroup or execution as InvalidRequestException;
            # anything it does not model surfaces as the SDK's base AmazonAthenaException.
            user = isinstance(exc, EntityNotFoundError | AlreadyExistsError | InvalidRequestError)
            name = "Athena.InvalidRequestException" if user else "Athena.AmazonAthenaException"
            code = name.split(".", 1)[1]
            raise StatesError(
                name, f"{exc} (Service: Athena; Status Code: 400; Error Code: {code})"
            ) from exc
        raise service_error("Athena", exc, "AmazonAthenaException") from exc


def _execution(qe: QueryExecution) -> dict[str, Any]:
    return {"QueryExecution": qe.to_api()}


def _wait(ctx: TaskContext, qs: QueryService, qid: str) -> QueryExecution:
    """Block until the query ends; stop it when the execution is stopped or the task times
    out, and heartbeat meanwhile so HeartbeatSeconds is met while the query runs."""
    last_beat = ctx.clock.now()
    while True:
        if ctx.cancel.is_set():
            stop_query(qs, qid)
            raise StatesError("States.Runtime", "the task was cancelled; the query was stopped")
        qe = qs.wait(qid, timeout=SYNC_POLL_SECONDS)
        if qe.done:
            return qe
        now = ctx.clock.now()
        if (now - last_beat).total_seconds() >= 0.5:
            ctx.heartbeat()
            last_beat = now


def start_query_execution(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Athena")
    query = required_str(p, "QueryString", "Athena")
    if p.get("ExecutionParameters"):
        raise invalid(
            "Athena",
            "ExecutionParameters (parameterised queries) are not supported by lakebox: "
            "put the values into QueryString with States.Format",
        )
    context = p.get("QueryExecutionContext") or {}
    results = p.get("ResultConfiguration") or {}
    reuse = (p.get("ResultReuseConfiguration") or {}).get("ResultReuseByAgeConfiguration") or {}
    reuse_minutes = int(reuse.get("MaxAgeInMinutes", 60)) if reuse.get("Enabled") else None
    qs = queries_of(ctx)
    qid = _call(
        lambda: qs.start_query_execution(
            query,
            database=context.get("Database"),
            workgroup=p.get("WorkGroup") or "primary",
            output_location=results.get("OutputLocation"),
            client_request_token=p.get("ClientRequestToken"),
            result_reuse_max_age_minutes=reuse_minutes,
        )
    )
    if ctx.pattern is not IntegrationPattern.RUN_JOB:
        return {"QueryExecutionId": qid}
    qe = _wait(ctx, qs, qid)
    out = _execution(qe)
    if qe.state != "SUCCEEDED":
        raise StatesError("States.TaskFailed", json.dumps(out))
    return out


def get_query_execution(params: Any, ctx: TaskContext) -> Any:
    qid = required_str(params_of(params, "Athena"), "QueryExecutionId", "Athena")
    qs = queries_of(ctx)
    return _execution(_call(lambda: qs.get_query_execution(qid)))


def get_query_results(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Athena")
    qid = required_str(p, "QueryExecutionId", "Athena")
    qs = queries_of(ctx)
    max_results = p.get("MaxResults", 1000)
    if not isinstance(max_results, int) or not 1 <= max_results <= 1000:
        raise StatesError("Athena.InvalidRequestException", "MaxResults must be between 1 and 1000")
    return _call(lambda: qs.get_query_results(qid, p.get("NextToken"), max_results))


def stop_query_execution(params: Any, ctx: TaskContext) -> Any:
    qid = required_str(params_of(params, "Athena"), "QueryExecutionId", "Athena")
    qs = queries_of(ctx)
    # waits until the query has ended, repeating the stop: lakebox's engine can miss an
    # interrupt that arrives just before a statement starts executing
    _call(lambda: stop_query(qs, qid))
    return {}


def list_query_executions(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Athena")
    qs = queries_of(ctx)
    ids, token = _call(
        lambda: qs.list_query_executions(
            p.get("WorkGroup"), int(p.get("MaxResults", 50)), p.get("NextToken")
        )
    )
    out: dict[str, Any] = {"QueryExecutionIds": ids}
    if token:
        out["NextToken"] = token
    return out


def batch_get_query_execution(params: Any, ctx: TaskContext) -> Any:
    p = params_of(params, "Athena")
    ids = p.get("QueryExecutionIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise invalid("Athena", "QueryExecutionIds must be a list of strings")
    qs = queries_of(ctx)
    found, missing = _call(lambda: qs.batch_get_query_execution(ids))
    return {
        "QueryExecutions": [qe.to_api() for qe in found],
        "UnprocessedQueryExecutionIds": missing,
    }


ACTIONS: dict[str, Callable[[Any, TaskContext], Any]] = {
    "startQueryExecution": start_query_execution,
    "getQueryExecution": get_query_execution,
    "getQueryResults": get_query_results,
    "stopQueryExecution": stop_query_execution,
    "listQueryExecutions": list_query_executions,
    "batchGetQueryExecution": batch_get_query_execution,
}

# The optimised integration: only startQueryExecution runs as a job; none takes a task token.
DEFAULT_REGISTRY.register(
    OPTIMISED + "startQueryExecution", start_query_execution, sync=True, wait_for_task_token=False
)
for _action in ("getQueryExecution", "getQueryResults", "stopQueryExecution"):
    DEFAULT_REGISTRY.register(OPTIMISED + _action, ACTIONS[_action], wait_for_task_token=False)
for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(SDK + _action, _handler)


def lake_call(module: str, function: str, service: str) -> Callable[[Any, TaskContext], Any]:
    """A handler calling ``<module>.<function>(lake, request)`` (AWS's request shape in and
    out); the module is imported on first use so loading the workflow package stays light.
    Lakebox errors become ``<service>.<Code>`` task errors that Retry / Catch can match."""

    def handler(params: Any, ctx: TaskContext) -> Any:
        target = getattr(importlib.import_module(module), function)
        lake = lake_of(ctx, service)
        try:
            result: dict[str, Any] = target(lake, params_of(params, service))
        except StatesError:
            raise
        except LakeboxError as exc:
            raise service_error(service, exc) from exc
        return result

    handler.__name__ = function
    return handler
