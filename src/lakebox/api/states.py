"""Step Functions' own API over the WorkflowService: state machines (Create, Describe,
Update, Delete, List, ValidateStateMachineDefinition), executions (StartExecution, StartSyncExecution, DescribeExecution,
StopExecution, ListExecutions, GetExecutionHistory, RedriveExecution) and task callbacks
(SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat).

StartExecution returns at once and the execution runs in the background, as in AWS;
``input`` and ``output`` travel as JSON text. Errors are Step Functions' codes
(``StateMachineDoesNotExist``, ``ExecutionDoesNotExist``, ``InvalidDefinition``,
``StateMachineAlreadyExists``, ``ExecutionAlreadyExists``, ``TaskDoesNotExist``,
``InvalidExecutionInput``, ``ValidationException``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import (
    ApiContext,
    AwsError,
    Request,
    Response,
    ServiceApi,
    operations,
    required_str,
)
from lakebox.api.base import arn as _arn
from lakebox.api.base import text as _text
from lakebox.errors import AlreadyExistsError, InvalidRequestError, LakeboxError
from lakebox.workflows.errors import InvalidDefinitionError

if TYPE_CHECKING:
    from lakebox.workflows.service import StateMachine, WorkflowService

INVALID = "ValidationException"


class StatesContext(ApiContext, Protocol):
    @property
    def workflows(self) -> WorkflowService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, InvalidDefinitionError):
        return "InvalidDefinition"
    if isinstance(exc, AlreadyExistsError):
        return "StateMachineAlreadyExists"
    if exc.code == InvalidRequestError.code:
        return INVALID
    return exc.code


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _json(request: Request, member: str, code: str) -> Any:
    text = request.get(member)
    if text is None:
        return None
    if not isinstance(text, str):
        raise AwsError(code, f"{member} must be JSON text")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AwsError(code, f"{member} is not valid JSON: {exc}") from None


def _execution_input(request: Request) -> Any:
    """StartExecution's ``input`` (absent: ``{}``), refused in AWS's words
    (``Invalid State Machine Execution Input: '...'``, AWS-recorded)."""
    text = request.get("input")
    if text is None:
        return {}
    if not isinstance(text, str) or not text.strip():
        raise AwsError(
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input: 'Invalid execution input.'",
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise AwsError(
            "InvalidExecutionInput", f"Invalid State Machine Execution Input: '{reason}'"
        ) from None


def _machine_item(sm: StateMachine) -> dict[str, Any]:
    return {
        "stateMachineArn": sm.arn,
        "name": sm.name,
        "type": sm.type,
        "creationDate": sm.creation_date.isoformat(),
    }


# -- state machines -----------------------------------------------------------------------------


def create_state_machine(request: Request, context: StatesContext) -> Response:
    sm = context.workflows.create_state_machine(
        required_str(request, "name", INVALID),
        required_str(request, "definition", INVALID),
        request.get("roleArn"),
        request.get("type") or "STANDARD",
        description=request.get("description") or "",
        principal=context.principal,
    )
    return {"stateMachineArn": sm.arn, "creationDate": sm.creation_date.isoformat()}


def describe_state_machine(request: Request, context: StatesContext) -> Response:
    sm = context.workflows.describe_state_machine(
        required_str(request, "stateMachineArn", INVALID), principal=context.principal
    )
    return sm.to_aws()


def update_state_machine(request: Request, context: StatesContext) -> Response:
    if all(request.get(k) is None for k in ("definition", "roleArn", "description")):
        # AWS's answer when nothing would change (AWS-recorded)
        raise AwsError(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, or the "
            "TracingConfiguration must be specified",
        )
    sm = context.workflows.update_state_machine(
        required_str(request, "stateMachineArn", INVALID),
        request.get("definition"),
        request.get("roleArn"),
        request.get("description"),
        principal=context.principal,
    )
    return {"updateDate": sm.update_date.isoformat(), "revisionId": sm.revision_id}


def validate_state_machine_definition(request: Request, context: StatesContext) -> Response:
    """ValidateStateMachineDefinition: the validator's problems as diagnostics (all of
    severity ERROR: lakebox has no warnings), at most ``maxResults`` (0 or absent: 100)."""
    definition = request.get("definition")
    if not isinstance(definition, str):
        raise AwsError(INVALID, "definition must be a string")
    kind = request.get("type") or "STANDARD"
    if kind not in ("STANDARD", "EXPRESS"):
        raise AwsError(INVALID, f"Invalid type {kind!r}: use STANDARD or EXPRESS")
    limit = request.get("maxResults") or 100
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 100:
        raise AwsError(INVALID, "maxResults must be an integer from 0 to 100")
    problems = context.workflows.validate(definition, kind, principal=context.principal)
    diagnostics = [
        {"severity": "ERROR", "code": p.code, "message": p.message, "location": p.location}
        for p in problems[:limit]
    ]
    return {
        "result": "FAIL" if problems else "OK",
        "diagnostics": diagnostics,
        "truncated": len(problems) > limit,
    }


def delete_state_machine(request: Request, context: StatesContext) -> Response:
    context.workflows.delete_state_machine(
        required_str(request, "stateMachineArn", INVALID), principal=context.principal
    )
    return {}


def list_state_machines(request: Request, context: StatesContext) -> Response:
    return {
        "stateMachines": [
            _machine_item(sm)
            for sm in context.workflows.list_state_machines(principal=context.principal)
        ]
    }


# -- executions ---------------------------------------------------------------------------------


def _start(request: Request, context: StatesContext, *, sync: bool) -> Any:
    machine = required_str(request, "stateMachineArn", INVALID)
    given = _execution_input(request)
    workflows = context.workflows
    try:
        if sync:
            return workflows.start_sync_execution(
                machine,
                given,
                request.get("name"),
                principal=context.principal,
            )
        return workflows.start_execution(
            machine,
            given,
            request.get("name"),
            wait=False,
            principal=context.principal,
        )
    except AlreadyExistsError as exc:
        raise AwsError("ExecutionAlreadyExists", str(exc)) from exc


def start_execution(request: Request, context: StatesContext) -> Response:
    execution = _start(request, context, sync=False)
    return {"executionArn": execution.arn, "startDate": execution.start_date.isoformat()}


def start_sync_execution(request: Request, context: StatesContext) -> Response:
    """StartSyncExecution (EXPRESS machines only): the outcome in StartSyncExecutionOutput's
    shape. As AWS answers, ``outputDetails`` is there even when a failed run has no output,
    and ``billingDetails`` comes with every answer: the run's duration rounded up to 100 ms
    and 64 MB, Express billing's units (an estimate: AWS bills memory from payload sizes
    lakebox does not weigh)."""
    execution = _start(request, context, sync=True)
    out: dict[str, Any] = execution.to_aws()
    out["outputDetails"] = {"included": True}
    stop = execution.stop_date or execution.start_date
    elapsed_ms = (stop - execution.start_date).total_seconds() * 1000
    out["billingDetails"] = {
        "billedDurationInMilliseconds": max(100, -(-int(elapsed_ms) // 100) * 100),
        "billedMemoryUsedInMB": 64,
    }
    return out


def describe_execution(request: Request, context: StatesContext) -> Response:
    arn = required_str(request, "executionArn", INVALID)
    return context.workflows.describe_execution(arn, principal=context.principal).to_aws()


def stop_execution(request: Request, context: StatesContext) -> Response:
    execution = context.workflows.stop_execution(
        required_str(request, "executionArn", INVALID),
        request.get("error"),
        request.get("cause"),
        principal=context.principal,
    )
    return {"stopDate": _iso(execution.stop_date) or context.workflows.clock.now().isoformat()}


def list_executions(request: Request, context: StatesContext) -> Response:
    found = context.workflows.list_executions(
        request.get("stateMachineArn"), request.get("statusFilter"), principal=context.principal
    )
    items = []
    for ex in found:
        item = {
            "executionArn": ex.arn,
            "stateMachineArn": ex.state_machine_arn,
            "name": ex.name,
            "status": ex.status,
            "startDate": ex.start_date.isoformat(),
        }
        if ex.stop_date is not None:
            item["stopDate"] = ex.stop_date.isoformat()
        items.append(item)
    return {"executions": items}


def get_execution_history(request: Request, context: StatesContext) -> Response:
    events = context.workflows.get_execution_history(
        required_str(request, "executionArn", INVALID),
        bool(request.get("reverseOrder")),
        principal=context.principal,
    )
    return {"events": events}


def redrive_execution(request: Request, context: StatesContext) -> Response:
    context.workflows.redrive_execution(
        required_str(request, "executionArn", INVALID), wait=False, principal=context.principal
    )
    return {"redriveDate": context.workflows.clock.now().isoformat()}


# -- task callbacks -----------------------------------------------------------------------------


def send_task_success(request: Request, context: StatesContext) -> Response:
    token = required_str(request, "taskToken", INVALID)
    output = _json(request, "output", "InvalidOutput")
    context.workflows.send_task_success(token, output, principal=context.principal)
    return {}


def send_task_failure(request: Request, context: StatesContext) -> Response:
    context.workflows.send_task_failure(
        required_str(request, "taskToken", INVALID),
        request.get("error") or "",
        request.get("cause") or "",
        principal=context.principal,
    )
    return {}


def send_task_heartbeat(request: Request, context: StatesContext) -> Response:
    context.workflows.send_task_heartbeat(
        required_str(request, "taskToken", INVALID), principal=context.principal
    )
    return {}


# -- what each operation is authorized against: the state machine or execution it names
# (AWS's ARN forms), and iam:PassRole on a role it hands the state machine -------------------


def _machine_arn(context: Any, ref: str | None) -> str:
    if ref is None:
        return _arn(context, "states", "stateMachine:*")
    if ref.startswith("arn:"):
        return ref
    return _arn(context, "states", f"stateMachine:{ref}")


def _on_new_machine(request: Request, context: Any) -> list[str]:
    return [_machine_arn(context, _text(request, "name"))]


def _on_machine(request: Request, context: Any) -> list[str]:
    return [_machine_arn(context, _text(request, "stateMachineArn"))]


def _on_execution(request: Request, context: Any) -> list[str]:
    ref = _text(request, "executionArn")
    if ref is None or not ref.startswith("arn:"):
        return [_arn(context, "states", f"execution:*:{ref or '*'}")]
    return [ref]


def _passes_role(request: Request, context: Any) -> list[tuple[str, str]]:
    role = _text(request, "roleArn")
    return [("iam:PassRole", role)] if role is not None else []


API = ServiceApi(
    "SFN",
    operations(
        ("CreateStateMachine", create_state_machine, _on_new_machine, _passes_role),
        ("DescribeStateMachine", describe_state_machine, _on_machine),
        ("UpdateStateMachine", update_state_machine, _on_machine, _passes_role),
        ("DeleteStateMachine", delete_state_machine, _on_machine),
        ("ValidateStateMachineDefinition", validate_state_machine_definition),
        ("ListStateMachines", list_state_machines),
        ("StartExecution", start_execution, _on_machine),
        ("StartSyncExecution", start_sync_execution, _on_machine),
        ("DescribeExecution", describe_execution, _on_execution),
        ("StopExecution", stop_execution, _on_execution),
        ("ListExecutions", list_executions, _on_machine),
        ("GetExecutionHistory", get_execution_history, _on_execution),
        ("RedriveExecution", redrive_execution, _on_execution),
        ("SendTaskSuccess", send_task_success),
        ("SendTaskFailure", send_task_failure),
        ("SendTaskHeartbeat", send_task_heartbeat),
    ),
    error_code,
    INVALID,
    prefix="states",
)
