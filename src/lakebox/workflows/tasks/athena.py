"""Athena task resources, so definitions written for AWS run as they are: the optimised
``arn:aws:states:::athena:<action>`` integration (with ``.sync`` for
``startQueryExecution``) and ``arn:aws:states:::aws-sdk:athena:<action>``, dispatched
through the Athena operation table of the API layer (``lakebox.api.athena``).

A service error fails the task with ``Athena.<ErrorCode>`` (``Athena.InvalidRequestException``)
as Step Functions reports it, an internal one with the SDK's ``Athena.AmazonAthenaException``;
a ``.sync`` query that ends FAILED or CANCELLED fails with ``States.TaskFailed`` and the
GetQueryExecution response as the cause.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lakebox.workflows.errors import StatesError
from lakebox.workflows.jobs import stop_query
from lakebox.workflows.tasks.aws import call_api, lake_of, operation_name, queries_of, sdk_task
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, IntegrationPattern, TaskContext

if TYPE_CHECKING:
    from lakebox.query.model import QueryExecution
    from lakebox.query.service import QueryService

OPTIMISED = "arn:aws:states:::athena:"
SDK = "arn:aws:states:::aws-sdk:athena:"
PREFIX = "Athena"
#: the SDK's base exception, which names an error Athena's model does not declare
GENERIC = "AmazonAthenaException"
#: How long a ``.sync`` task blocks on the query between checks of cancel and heartbeat.
SYNC_POLL_SECONDS = 0.1


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


def _athena(ctx: TaskContext, action: str, params: Any) -> dict[str, Any]:
    lake_of(ctx, PREFIX)
    return call_api(ctx, "athena", operation_name(action), params, prefix=PREFIX, generic=GENERIC)


def start_query_execution(params: Any, ctx: TaskContext) -> Any:
    started = _athena(ctx, "startQueryExecution", params)
    if ctx.pattern is not IntegrationPattern.RUN_JOB:
        return started
    qe = _wait(ctx, queries_of(ctx), started["QueryExecutionId"])
    out = _athena(ctx, "getQueryExecution", {"QueryExecutionId": started["QueryExecutionId"]})
    if qe.state != "SUCCEEDED":
        raise StatesError("States.TaskFailed", json.dumps(out))
    return out


ACTIONS = (
    "getQueryExecution",
    "getQueryResults",
    "stopQueryExecution",
    "listQueryExecutions",
    "batchGetQueryExecution",
)

# The optimised integration: only startQueryExecution runs as a job; none takes a task token.
DEFAULT_REGISTRY.register(
    OPTIMISED + "startQueryExecution", start_query_execution, sync=True, wait_for_task_token=False
)
DEFAULT_REGISTRY.register(SDK + "startQueryExecution", start_query_execution)
for _action in ACTIONS:
    _handler = sdk_task("athena", _action, prefix=PREFIX, generic=GENERIC)
    if _action in ("getQueryExecution", "getQueryResults", "stopQueryExecution"):
        DEFAULT_REGISTRY.register(OPTIMISED + _action, _handler, wait_for_task_token=False)
    DEFAULT_REGISTRY.register(SDK + _action, _handler)
