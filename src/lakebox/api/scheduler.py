"""EventBridge Scheduler's API over the WorkflowService's schedules: CreateSchedule,
GetSchedule, UpdateSchedule, DeleteSchedule, ListSchedules. A schedule's target is a state
machine (``Target.Arn``) started with ``Target.Input``; lakebox keeps every schedule in the
``default`` group. A schedule runs as the principal that made (or last updated) it, in
place of the role Scheduler would assume: its executions can do no more than that
principal may (``WorkflowService.create_schedule``). Errors are Scheduler's codes (``ResourceNotFoundException``,
``ConflictException``, ``ValidationException``).
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

if TYPE_CHECKING:
    from lakebox.workflows.service import Schedule, WorkflowService

INVALID = "ValidationException"
GROUP = "default"


class SchedulerContext(ApiContext, Protocol):
    @property
    def workflows(self) -> WorkflowService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, AlreadyExistsError):
        return "ConflictException"
    if isinstance(exc, InvalidRequestError) and exc.code == InvalidRequestError.code:
        return INVALID
    return exc.code if exc.code.endswith("Exception") else "ResourceNotFoundException"


def _group(request: Request) -> None:
    group = request.get("GroupName")
    if group not in (None, GROUP):
        raise AwsError("ResourceNotFoundException", f"Schedule group {group} does not exist.")


def _date(request: Request, member: str) -> datetime | None:
    value = request.get(member)
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise AwsError(INVALID, f"{member} {value!r} is not an ISO 8601 date") from None


def _target(request: Request) -> tuple[str, Any]:
    target = request.get("Target")
    if not isinstance(target, dict):
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'target' failed to "
            "satisfy constraint: Member must not be null",
        )
    arn = required_str(target, "Arn", INVALID)
    text = target.get("Input")
    try:
        payload = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        raise AwsError(INVALID, "Target.Input is not valid JSON") from None
    return arn, payload


def _window(request: Request) -> int | None:
    window = request.get("FlexibleTimeWindow") or {"Mode": "OFF"}
    if not isinstance(window, dict) or window.get("Mode") not in ("OFF", "FLEXIBLE"):
        raise AwsError(INVALID, "FlexibleTimeWindow.Mode must be OFF or FLEXIBLE")
    if window["Mode"] == "OFF":
        return None
    minutes = window.get("MaximumWindowInMinutes")
    if not isinstance(minutes, int):
        raise AwsError(INVALID, "FlexibleTimeWindow.MaximumWindowInMinutes is required")
    return minutes


def schedule_response(schedule: Schedule, role_arn: str) -> Response:
    out: dict[str, Any] = {
        "Arn": schedule.arn,
        "Name": schedule.name,
        "GroupName": GROUP,
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "State": schedule.state,
        "Description": schedule.description,
        "CreationDate": schedule.creation_date.isoformat(),
        "Target": {
            "Arn": schedule.target_arn,
            "RoleArn": role_arn,
            "Input": json.dumps(schedule.input, separators=(",", ":")),
        },
        "FlexibleTimeWindow": (
            {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": schedule.flexible_window_minutes}
            if schedule.flexible_window_minutes
            else {"Mode": "OFF"}
        ),
    }
    if schedule.start_date is not None:
        out["StartDate"] = schedule.start_date.isoformat()
    if schedule.end_date is not None:
        out["EndDate"] = schedule.end_date.isoformat()
    return out


def create_schedule(request: Request, context: SchedulerContext) -> Response:
    _group(request)
    target, payload = _target(request)
    schedule = context.workflows.create_schedule(
        required_str(request, "Name", INVALID),
        required_str(request, "ScheduleExpression", INVALID),
        target,
        payload,
        request.get("ScheduleExpressionTimezone") or "UTC",
        start_date=_date(request, "StartDate"),
        end_date=_date(request, "EndDate"),
        flexible_window_minutes=_window(request),
        enabled=(request.get("State") or "ENABLED") == "ENABLED",
        description=request.get("Description") or "",
        principal=context.principal,
    )
    return {"ScheduleArn": schedule.arn}


def get_schedule(request: Request, context: SchedulerContext) -> Response:
    _group(request)
    schedule = context.workflows.get_schedule(
        required_str(request, "Name", INVALID), principal=context.principal
    )
    return schedule_response(schedule, context.workflows.default_role_arn())


def update_schedule(request: Request, context: SchedulerContext) -> Response:
    """Scheduler replaces a schedule as a whole; lakebox changes its expression, zone,
    input and state (a new target needs a new schedule)."""
    _group(request)
    name = required_str(request, "Name", INVALID)
    target, payload = _target(request)
    current = context.workflows.get_schedule(name, principal=context.principal)
    if target not in (current.target_arn, current.target_arn.rsplit(":", 1)[-1]):
        raise AwsError(INVALID, "lakebox cannot change a schedule's target: create a new one")
    schedule = context.workflows.update_schedule(
        name,
        expression=required_str(request, "ScheduleExpression", INVALID),
        input=payload,
        timezone=request.get("ScheduleExpressionTimezone") or "UTC",
        enabled=(request.get("State") or "ENABLED") == "ENABLED",
        principal=context.principal,
    )
    return {"ScheduleArn": schedule.arn}


def delete_schedule(request: Request, context: SchedulerContext) -> Response:
    _group(request)
    context.workflows.delete_schedule(
        required_str(request, "Name", INVALID), principal=context.principal
    )
    return {}


def list_schedules(request: Request, context: SchedulerContext) -> Response:
    _group(request)
    prefix = request.get("NamePrefix") or ""
    state = request.get("State")
    items = [
        {
            "Arn": s.arn,
            "Name": s.name,
            "GroupName": GROUP,
            "State": s.state,
            "CreationDate": s.creation_date.isoformat(),
            "Target": {"Arn": s.target_arn},
        }
        for s in context.workflows.list_schedules(principal=context.principal)
        if s.name.startswith(prefix) and (state is None or s.state == state)
    ]
    return {"Schedules": items}


# -- what each operation is authorized against ------------------------------------------------


def _on_schedule(request: Request, context: Any) -> list[str]:
    group = _text(request, "GroupName") or GROUP
    return [_arn(context, "scheduler", f"schedule/{group}/{_text(request, 'Name') or '*'}")]


def _passes_role(request: Request, context: Any) -> list[tuple[str, str]]:
    target = request.get("Target")
    role = _text(target, "RoleArn") if isinstance(target, dict) else None
    return [("iam:PassRole", role)] if role is not None else []


API = ServiceApi(
    "Scheduler",
    operations(
        ("CreateSchedule", create_schedule, _on_schedule, _passes_role),
        ("GetSchedule", get_schedule, _on_schedule),
        ("UpdateSchedule", update_schedule, _on_schedule, _passes_role),
        ("DeleteSchedule", delete_schedule, _on_schedule),
        ("ListSchedules", list_schedules),
    ),
    error_code,
    INVALID,
    prefix="scheduler",
)
