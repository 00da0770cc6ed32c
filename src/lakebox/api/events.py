"""EventBridge's API over the lake's event bus (``context.events``): rules with event
patterns on the default bus, their targets (state machines, delivery streams, functions)
and PutEvents. Errors are EventBridge's codes (``ResourceNotFoundException``,
``InvalidEventPatternException``, ``ValidationException``).
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
    require_unrestricted,
)
from lakebox.api.base import text as _text
from lakebox.errors import EntityNotFoundError, InvalidRequestError, LakeboxError

if TYPE_CHECKING:
    from lakebox.events.service import EventService

INVALID = "ValidationException"
MAX_ENTRIES = 10


class EventsContext(ApiContext, Protocol):
    @property
    def events(self) -> EventService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, EntityNotFoundError):
        return "ResourceNotFoundException"
    if isinstance(exc, InvalidRequestError):
        return (
            exc.code
            if exc.code.endswith("Exception") and exc.code != "InvalidRequestException"
            else INVALID
        )
    return "InternalException"


def lake_account(context: Any) -> str:
    """The account the bus and every rule belong to: the lake's (its event service's),
    whoever calls. Their ARNs are built in it, so IAM refuses a principal of another account
    whatever its own policies allow (a resource of another account)."""
    try:
        return str(context.events.account_id)
    except (AttributeError, AwsError):
        return str(context.account_id)


def _arn(context: Any, resource: str) -> str:
    return f"arn:aws:events:{context.region}:{lake_account(context)}:{resource}"


def _bus(request: Request, context: Any) -> None:
    bus = request.get("EventBusName")
    if bus not in (None, "default", _arn(context, "event-bus/default")):
        raise AwsError("ResourceNotFoundException", f"Event bus {bus} does not exist.")


def _name(request: Request, member: str = "Name") -> str:
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value null at '{member[0].lower() + member[1:]}' "
            "failed to satisfy constraint: Member must not be null",
        )
    return value


def put_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    if request.get("ScheduleExpression"):
        raise AwsError(
            INVALID,
            "lakebox rules take an EventPattern; for a schedule, use EventBridge Scheduler "
            "(CreateSchedule), which lakebox serves",
        )
    pattern = request.get("EventPattern")
    if not isinstance(pattern, str) or not pattern:
        raise AwsError(
            INVALID, "Parameter(s) EventPattern or ScheduleExpression must be specified."
        )
    rule = context.events.put_rule(
        _name(request),
        pattern,
        state=request.get("State") or "ENABLED",
        description=request.get("Description") or "",
        principal=context.principal,
    )
    return {"RuleArn": rule.arn}


def describe_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    rule = context.events.describe_rule(_name(request), principal=context.principal)
    return {**rule.describe(), "CreatedBy": lake_account(context)}


def list_rules(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    rules = context.events.list_rules(request.get("NamePrefix") or "", principal=context.principal)
    return {"Rules": [r.describe() for r in rules]}


def delete_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    context.events.delete_rule(_name(request), principal=context.principal)
    return {}


def enable_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    context.events.set_rule_state(_name(request), True, principal=context.principal)
    return {}


def disable_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    context.events.set_rule_state(_name(request), False, principal=context.principal)
    return {}


def _delivers_as_admin(context: EventsContext) -> None:
    """A rule's deliveries start executions and put records as the lake's local
    administrator (lakebox does not yet act with a target's RoleArn), so only a caller who
    could do all of that anyway may give a rule targets; anyone else could otherwise reach
    a state machine or stream with rights they lack."""
    require_unrestricted(
        context,
        "add targets to rules",
        "lakebox delivers a rule's events as the lake's administrator (it does not yet act "
        "with the target's RoleArn)",
    )


def put_targets(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    _delivers_as_admin(context)
    targets = request.get("Targets")
    if (
        not isinstance(targets, list)
        or not targets
        or not all(isinstance(t, dict) for t in targets)
    ):
        raise AwsError(INVALID, "Targets must be a non-empty list of targets")
    unsupported = {
        k for t in targets for k in t if k not in ("Id", "Arn", "Input", "InputPath", "RoleArn")
    }
    if unsupported:
        raise AwsError(
            INVALID,
            f"lakebox does not support target settings {', '.join(sorted(unsupported))} "
            "(it supports Id, Arn, Input, InputPath, RoleArn)",
        )
    failed = context.events.put_targets(
        _name(request, "Rule"), targets, principal=context.principal
    )
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def remove_targets(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    ids = request.get("Ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise AwsError(INVALID, "Ids must be a non-empty list of target ids")
    failed = context.events.remove_targets(_name(request, "Rule"), ids, principal=context.principal)
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


def list_targets_by_rule(request: Request, context: EventsContext) -> Response:
    _bus(request, context)
    targets = context.events.list_targets(_name(request, "Rule"), principal=context.principal)
    return {"Targets": targets}


def put_events(request: Request, context: EventsContext) -> Response:
    entries = request.get("Entries")
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        raise AwsError(INVALID, "Entries must be a non-empty list of events")
    if len(entries) > MAX_ENTRIES:
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ENTRIES}",
        )
    out = context.events.put_events(entries, principal=context.principal)
    return {"FailedEntryCount": sum(1 for e in out if "ErrorCode" in e), "Entries": out}


def _rule(member: str) -> Any:
    def resources(request: Request, context: Any) -> list[str]:
        return [_arn(context, f"rule/{_text(request, member) or '*'}")]

    return resources


def _bus_arn(request: Request, context: Any) -> list[str]:
    return [_arn(context, "event-bus/default")]


def _rules(request: Request, context: Any) -> list[str]:
    """ListRules lists the lake account's rules: another account has none here."""
    return [_arn(context, "rule/*")]


API = ServiceApi(
    "EventBridge",
    operations(
        ("PutRule", put_rule, _rule("Name")),
        ("DescribeRule", describe_rule, _rule("Name")),
        ("ListRules", list_rules, _rules),
        ("DeleteRule", delete_rule, _rule("Name")),
        ("EnableRule", enable_rule, _rule("Name")),
        ("DisableRule", disable_rule, _rule("Name")),
        ("PutTargets", put_targets, _rule("Rule")),
        ("RemoveTargets", remove_targets, _rule("Rule")),
        ("ListTargetsByRule", list_targets_by_rule, _rule("Rule")),
        ("PutEvents", put_events, _bus_arn),
    ),
    error_code,
    INVALID,
    prefix="events",
)
