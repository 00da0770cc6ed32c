"""EventBridge Scheduler's operation table over the WorkflowService's schedules."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.lakehouse import Lake
from lakebox.workflows.service import WorkflowService

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
ROLE = "arn:aws:iam::000000000000:role/scheduler"


@pytest.fixture
def sched(lake: Lake) -> Iterator[ServiceContext]:
    workflows = WorkflowService(lake.config)
    workflows.create_state_machine("nightly-job", PASS)
    try:
        yield ServiceContext(
            account_id=lake.config.account_id,
            region=lake.config.region,
            services={"workflows": workflows},
        )
    finally:
        workflows.close()


def _create(ctx: ServiceContext, name: str = "nightly") -> str:
    arn: str = call(
        ctx,
        "scheduler",
        "CreateSchedule",
        {
            "Name": name,
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Berlin",
            "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
            "Target": {
                "Arn": ctx.workflows.state_machine_arn("nightly-job"),
                "RoleArn": ROLE,
                "Input": '{"day": "today"}',
            },
        },
    )["ScheduleArn"]
    return arn


def test_schedule_round_trip(sched: ServiceContext) -> None:
    arn = _create(sched)
    assert arn == f"arn:aws:scheduler:{sched.region}:{sched.account_id}:schedule/default/nightly"
    got = call(sched, "scheduler", "GetSchedule", {"Name": "nightly"})
    assert (got["Arn"], got["ScheduleExpressionTimezone"], got["State"]) == (
        arn,
        "Europe/Berlin",
        "ENABLED",
    )
    assert json.loads(got["Target"]["Input"]) == {"day": "today"}
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    listed = call(sched, "scheduler", "ListSchedules", {"NamePrefix": "night"})
    assert [s["Name"] for s in listed["Schedules"]] == ["nightly"]
    call(
        sched,
        "scheduler",
        "UpdateSchedule",
        {
            "Name": "nightly",
            "ScheduleExpression": "rate(1 hour)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "DISABLED",
            "Target": {"Arn": got["Target"]["Arn"], "RoleArn": ROLE, "Input": "{}"},
        },
    )
    got = call(sched, "scheduler", "GetSchedule", {"Name": "nightly"})
    assert (got["ScheduleExpression"], got["State"]) == ("rate(1 hour)", "DISABLED")
    assert call(sched, "scheduler", "DeleteSchedule", {"Name": "nightly"}) == {}
    assert call(sched, "scheduler", "ListSchedules", {})["Schedules"] == []


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("GetSchedule", {"Name": "nope"}, "ResourceNotFoundException"),
        ("DeleteSchedule", {"Name": "nope"}, "ResourceNotFoundException"),
        ("GetSchedule", {"Name": "nightly", "GroupName": "other"}, "ResourceNotFoundException"),
        (
            "CreateSchedule",
            {
                "Name": "s",
                "ScheduleExpression": "every day",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": "nightly-job", "RoleArn": ROLE},
            },
            "ValidationException",
        ),
        (
            "CreateSchedule",
            {
                "Name": "s",
                "ScheduleExpression": "rate(1 day)",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {"Arn": "no-such-machine", "RoleArn": ROLE},
            },
            "ResourceNotFoundException",
        ),
        (
            "CreateSchedule",
            {"Name": "s", "ScheduleExpression": "rate(1 day)"},
            "ValidationException",
        ),
    ],
)
def test_scheduler_error_codes(
    sched: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("scheduler", operation, request_, sched)
    assert info.value.code == code


def test_creating_a_schedule_twice_is_a_conflict(sched: ServiceContext) -> None:
    _create(sched)
    with pytest.raises(AwsError) as info:
        _create(sched)
    assert info.value.code == "ConflictException"
