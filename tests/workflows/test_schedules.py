"""Schedule expressions (cron / rate / at), time zones, DST and the scheduler's slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakebox.config import LakeConfig
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.errors import InvalidScheduleError
from lakebox.workflows.schedules import fire_times, next_fire, parse_expression, zone
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START, machine


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def times(expression: str, after: datetime, count: int = 3, tz: str = "UTC") -> list[datetime]:
    return fire_times(parse_expression(expression), after, count, zone(tz), after)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", utc(2024, 3, 1, 12), [utc(2024, 3, 2, 10), utc(2024, 3, 3, 10)]),
        (
            "cron(0/15 * * * ? *)",
            utc(2024, 3, 1, 12, 7),
            [utc(2024, 3, 1, 12, 15), utc(2024, 3, 1, 12, 30)],
        ),
        (
            "cron(5,35 14 * * ? *)",
            utc(2024, 3, 1, 14, 5),
            [utc(2024, 3, 1, 14, 35), utc(2024, 3, 2, 14, 5)],
        ),
        ("cron(0 8 ? * MON-FRI *)", utc(2024, 3, 1, 9), [utc(2024, 3, 4, 8), utc(2024, 3, 5, 8)]),
        ("cron(0 0 ? * 1 *)", utc(2024, 3, 1), [utc(2024, 3, 3), utc(2024, 3, 10)]),
        ("cron(0 0 ? * SUN,7 *)", utc(2024, 3, 1), [utc(2024, 3, 2), utc(2024, 3, 3)]),
        (
            "cron(15 10 ? * 6L 2024)",
            utc(2024, 3, 1),
            [utc(2024, 3, 29, 10, 15), utc(2024, 4, 26, 10, 15)],
        ),
        ("cron(0 9 ? * 2#1 *)", utc(2024, 3, 1), [utc(2024, 3, 4, 9), utc(2024, 4, 1, 9)]),
        ("cron(0 9 ? * MON#5 *)", utc(2024, 3, 1), [utc(2024, 4, 29, 9), utc(2024, 7, 29, 9)]),
        ("cron(0 0 L * ? *)", utc(2024, 2, 1), [utc(2024, 2, 29), utc(2024, 3, 31)]),
        ("cron(0 0 LW * ? *)", utc(2024, 8, 1), [utc(2024, 8, 30), utc(2024, 9, 30)]),
        ("cron(0 0 15W * ? *)", utc(2024, 6, 1), [utc(2024, 6, 14), utc(2024, 7, 15)]),
        ("cron(0 0 1W * ? *)", utc(2024, 5, 15), [utc(2024, 6, 3), utc(2024, 7, 1)]),
        ("cron(0 0 29 2 ? *)", utc(2024, 3, 1), [utc(2028, 2, 29), utc(2032, 2, 29)]),
        (
            "cron(0 12 1 JAN-MAR ? 2025-2026)",
            utc(2024, 3, 1),
            [utc(2025, 1, 1, 12), utc(2025, 2, 1, 12), utc(2025, 3, 1, 12)],
        ),
        ("cron(0 12 * * ? 2023)", utc(2024, 3, 1), []),
        ("rate(5 minutes)", utc(2024, 3, 1, 12), [utc(2024, 3, 1, 12, 5), utc(2024, 3, 1, 12, 10)]),
        ("rate(1 hour)", utc(2024, 3, 1, 12), [utc(2024, 3, 1, 13), utc(2024, 3, 1, 14)]),
        ("rate(2 days)", utc(2024, 3, 1, 12), [utc(2024, 3, 3, 12), utc(2024, 3, 5, 12)]),
        ("at(2024-03-05T06:30:00)", utc(2024, 3, 1), [utc(2024, 3, 5, 6, 30)]),
        ("at(2024-03-05T06:30:00)", utc(2024, 3, 6), []),
    ],
)
def test_fire_times_utc(expression: str, after: datetime, expected: list[datetime]) -> None:
    assert times(expression, after, len(expected) or 1) == expected


@pytest.mark.parametrize(
    ("expression", "tz", "after", "expected"),
    [
        (
            "cron(0 9 * * ? *)",
            "America/New_York",
            utc(2024, 3, 1, 12),
            [utc(2024, 3, 1, 14), utc(2024, 3, 2, 14)],
        ),
        ("cron(0 9 * * ? *)", "Asia/Kolkata", utc(2024, 3, 1, 12), [utc(2024, 3, 2, 3, 30)]),
        # Spring forward: 02:30 does not exist on 2024-03-10 in New York and is skipped.
        (
            "cron(30 2 * * ? *)",
            "America/New_York",
            utc(2024, 3, 9, 8),
            [utc(2024, 3, 11, 6, 30), utc(2024, 3, 12, 6, 30)],
        ),
        # Fall back: 01:30 happens twice on 2024-11-03 and fires once, at the first.
        (
            "cron(30 1 * * ? *)",
            "America/New_York",
            utc(2024, 11, 3, 0),
            [utc(2024, 11, 3, 5, 30), utc(2024, 11, 4, 6, 30)],
        ),
        (
            "cron(0 * * * ? *)",
            "Europe/Paris",
            utc(2024, 3, 31, 0, 30),
            [utc(2024, 3, 31, 1), utc(2024, 3, 31, 2)],
        ),
        ("at(2024-07-01T15:00:00)", "Europe/Paris", utc(2024, 3, 1), [utc(2024, 7, 1, 13)]),
    ],
)
def test_fire_times_in_time_zones(
    expression: str, tz: str, after: datetime, expected: list[datetime]
) -> None:
    assert times(expression, after, len(expected), tz) == expected


def test_rate_in_days_is_24_hours_across_dst() -> None:
    anchor = utc(2024, 3, 9, 17)  # noon in New York, before spring forward
    expr = parse_expression("rate(1 day)")
    nxt = next_fire(expr, anchor, zone("America/New_York"), anchor)
    assert nxt == utc(2024, 3, 10, 17)  # 13:00 local: the day is 24 hours, not 23


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 10 * * * *)",
        "cron(0 10 ? * ? *)",
        "cron(0 10 * *)",
        "cron(60 10 * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * MON#6 *)",
        "cron(0 0 ? * FOO *)",
        "cron(0 0 5-1 * ? *)",
        "cron(0/0 * * * ? *)",
        "cron(0 0 * * ? 1969)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(5 weeks)",
        "rate(five minutes)",
        "at(2024-13-01T00:00:00)",
        "at(2024-01-01 00:00:00)",
        "every 5 minutes",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(InvalidScheduleError):
        parse_expression(expression)


def test_invalid_time_zone() -> None:
    with pytest.raises(InvalidScheduleError):
        zone("Mars/Olympus")


# ----------------------------------------------------------------------------- scheduler

ECHO = machine(
    {"P": {"Type": "Pass", "Parameters": {"in.$": "$", "name.$": "$$.Execution.Name"}, "End": True}}
)


@pytest.fixture
def svc(service: WorkflowService) -> WorkflowService:
    service.create_state_machine("job", ECHO)
    return service


def test_rate_schedule_fires_once_per_slot(svc: WorkflowService) -> None:
    svc.create_schedule("every5", "rate(5 minutes)", "job", {"k": 1})
    first = svc.run_due(START + timedelta(seconds=30))
    assert [f.slot for f in first] == [START]  # no StartDate: the first slot is creation time
    assert svc.run_due(START + timedelta(minutes=4)) == []
    fired = svc.run_due(START + timedelta(minutes=5, seconds=30))
    assert [(f.schedule, f.slot, f.skipped) for f in fired] == [
        ("every5", START + timedelta(minutes=5), 0)
    ]
    execution = svc.describe_execution(fired[0].execution_arn or "")
    assert execution.output == {"in": {"k": 1}, "name": "every5-20240301T120500Z"}
    assert svc.run_due(START + timedelta(minutes=6)) == []
    assert svc.get_schedule("every5").last_execution_arn == execution.arn


def test_slot_is_not_fired_again_by_a_new_service(
    config: LakeConfig, clock: ManualClock, svc: WorkflowService
) -> None:
    svc.create_schedule("hourly", "cron(0 * * * ? *)", "job")
    now = START + timedelta(hours=1, minutes=1)
    assert len(svc.run_due(now)) == 1
    other = WorkflowService(config, clock=clock)
    assert other.run_due(now) == []
    assert len(other.list_executions("job")) == 1
    other.close()


def test_missed_slots_fire_once_for_the_newest(svc: WorkflowService) -> None:
    svc.create_schedule("every5", "rate(5 minutes)", "job")
    fired = svc.run_due(START + timedelta(minutes=62))
    assert [(f.slot, f.skipped) for f in fired] == [(START + timedelta(minutes=60), 12)]
    assert fired[0].execution_arn is not None
    assert len(svc.list_executions("job")) == 1


@pytest.mark.parametrize(("window", "fires"), [(None, False), (60, True)])
def test_missed_slot_older_than_the_window_is_skipped(
    svc: WorkflowService, window: int | None, fires: bool
) -> None:
    svc.create_schedule("daily", "cron(0 13 * * ? *)", "job", flexible_window_minutes=window)
    fired = svc.run_due(utc(2024, 3, 1, 13, 30))
    assert len(fired) == 1
    assert (fired[0].execution_arn is not None) is fires
    assert svc.get_schedule("daily").last_fired_slot == utc(2024, 3, 1, 13)
    assert svc.run_due(utc(2024, 3, 1, 13, 31)) == []


def test_one_time_schedule(svc: WorkflowService) -> None:
    svc.create_schedule("once", "at(2024-03-01T14:00:00)", "job", timezone="Europe/Paris")
    assert svc.run_due(utc(2024, 3, 1, 12, 59)) == []
    assert len(svc.run_due(utc(2024, 3, 1, 13, 0, 10))) == 1
    assert svc.run_due(utc(2024, 3, 5)) == []


def test_disabled_start_and_end_dates(svc: WorkflowService) -> None:
    svc.create_schedule("off", "rate(1 minute)", "job", enabled=False)
    svc.create_schedule("later", "rate(1 minute)", "job", start_date=START + timedelta(hours=1))
    svc.create_schedule("ended", "rate(1 minute)", "job", end_date=START + timedelta(minutes=2))
    fired = svc.run_due(START + timedelta(minutes=10))
    assert [(f.schedule, f.slot) for f in fired] == [("ended", START + timedelta(minutes=2))]
    fired = svc.run_due(START + timedelta(hours=1, minutes=1))
    assert [(f.schedule, f.slot) for f in fired] == [
        ("later", START + timedelta(hours=1, minutes=1))
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START + timedelta(hours=2), START + timedelta(hours=1)),
        (START + timedelta(hours=1), START + timedelta(hours=1)),
    ],
)
@pytest.mark.parametrize("expression", ["rate(1 minute)", "at(2024-03-01T15:00:00)"])
def test_window_whose_end_is_not_after_its_start_is_rejected(
    svc: WorkflowService, start: datetime, end: datetime, expression: str
) -> None:
    with pytest.raises(InvalidScheduleError, match="must come before the EndDate") as err:
        svc.create_schedule("w", expression, "job", start_date=start, end_date=end)
    assert err.value.code == "ValidationException"
    assert svc.list_schedules() == []


def test_recurring_start_more_than_5_minutes_ago_is_rejected(svc: WorkflowService) -> None:
    with pytest.raises(InvalidScheduleError, match="cannot be earlier than 5 minutes ago"):
        svc.create_schedule("old", "rate(1 minute)", "job", start_date=START - timedelta(hours=1))
    svc.create_schedule("recent", "rate(1 minute)", "job", start_date=START - timedelta(minutes=4))


def test_one_time_schedule_ignores_start_and_end_dates(svc: WorkflowService) -> None:
    svc.create_schedule(
        "once",
        "at(2024-03-01T13:00:00)",
        "job",
        start_date=START + timedelta(hours=5),
        end_date=START + timedelta(hours=6),
    )
    assert svc.next_fire_times("once") == [utc(2024, 3, 1, 13)]
    assert [f.slot for f in svc.run_due(utc(2024, 3, 1, 13, 0, 30))] == [utc(2024, 3, 1, 13)]


def test_next_fire_times_and_crud(svc: WorkflowService) -> None:
    svc.create_schedule("nine", "cron(0 9 ? * MON-FRI *)", "job", timezone="Europe/London")
    assert svc.next_fire_times("nine", 3) == [
        utc(2024, 3, 4, 9),
        utc(2024, 3, 5, 9),
        utc(2024, 3, 6, 9),
    ]
    assert [s.name for s in svc.list_schedules()] == ["nine"]
    svc.delete_schedule("nine")
    assert svc.list_schedules() == []


@pytest.mark.parametrize(
    ("expression", "tz", "target"),
    [
        ("rate(1 minutes)", "UTC", "job"),
        ("rate(5 minutes)", "Nowhere/City", "job"),
        ("rate(5 minutes)", "UTC", "missing"),
    ],
)
def test_create_schedule_rejects(
    svc: WorkflowService, expression: str, tz: str, target: str
) -> None:
    with pytest.raises(Exception) as err:
        svc.create_schedule("s", expression, target, timezone=tz)
    assert type(err.value).__name__ in ("InvalidScheduleError", "StateMachineDoesNotExistError")


def test_input_context_attributes(svc: WorkflowService) -> None:
    svc.create_schedule(
        "ctx",
        "rate(1 hour)",
        "job",
        {
            "at": "<aws.scheduler.scheduled-time>",
            "by": "<aws.scheduler.schedule-arn>",
            "id": "<aws.scheduler.execution-id>",
        },
    )
    [fired] = svc.run_due(START + timedelta(minutes=1))
    output = svc.describe_execution(fired.execution_arn or "").output["in"]
    assert output == {
        "at": "2024-03-01T12:00:00Z",
        "by": "arn:aws:scheduler:us-east-1:000000000000:schedule/default/ctx",
        "id": "ctx-20240301T120000Z",
    }


def test_update_schedule(svc: WorkflowService, clock: ManualClock) -> None:
    svc.create_schedule("s", "cron(0 * * * ? *)", "job")
    svc.update_schedule("s", enabled=False)
    assert svc.run_due(START + timedelta(hours=1, minutes=1)) == []
    svc.update_schedule("s", enabled=True)
    assert [f.slot for f in svc.run_due(START + timedelta(hours=1, minutes=2))] == [
        START + timedelta(hours=1)
    ]
    clock.set(START + timedelta(hours=1, minutes=3))
    svc.update_schedule("s", expression="cron(30 * * * ? *)", input={"v": 2})
    fired = svc.run_due(START + timedelta(hours=1, minutes=31))
    assert [f.slot for f in fired] == [START + timedelta(hours=1, minutes=30)]
    assert svc.describe_execution(fired[0].execution_arn or "").output["in"] == {"v": 2}
    with pytest.raises(InvalidScheduleError):
        svc.update_schedule("s", expression="rate(2 minute)")


def test_scheduler_loop_sleeps_until_each_slot(svc: WorkflowService, clock: ManualClock) -> None:
    import threading

    svc.create_schedule("quarter", "cron(0/15 * * * ? *)", "job")
    fired = svc.run_scheduler(threading.Event(), poll_seconds=3600, max_rounds=4)
    assert [(f.slot, f.skipped) for f in fired] == [
        (START + timedelta(minutes=m), 0) for m in (0, 15, 30, 45)
    ]
    assert clock.slept == [900.0, 900.0, 900.0, 900.0]
    assert svc.next_due() == START + timedelta(hours=1)


def test_next_fire_of_a_new_rate_schedule_is_now(svc: WorkflowService) -> None:
    svc.create_schedule("r", "rate(10 minutes)", "job")
    assert svc.next_fire_times("r", 2) == [START, START + timedelta(minutes=10)]


@pytest.mark.parametrize(
    ("aws", "classic"),
    [
        ("cron(*/7 3-5 ? * 2-6 *)", "*/7 3-5 * * 1-5"),
        ("cron(0 0/6 1,15 * ? *)", "0 */6 1,15 * *"),
        ("cron(30 23 ? * SUN,WED *)", "30 23 * * 0,3"),
        ("cron(5 4 L * ? *)", "5 4 L * *"),
        ("cron(0 12 ? JUN-AUG 6#2 *)", "0 12 * 6-8 5#2"),
        ("cron(0 9-17/2 ? * MON-FRI *)", "0 9-17/2 * * 1-5"),
        ("cron(59 23 31 DEC ? *)", "59 23 31 12 *"),
    ],
)
def test_cron_agrees_with_croniter_on_the_shared_subset(aws: str, classic: str) -> None:
    """croniter is an independent evaluator for the part of the syntax both share (UTC,
    day of week shifted by one, '?' written as '*')."""
    from croniter import croniter

    start = utc(2024, 2, 27, 13, 14)
    it = croniter(classic, start)
    expected = [it.get_next(datetime) for _ in range(25)]
    assert times(aws, start, 25) == expected
