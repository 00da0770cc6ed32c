"""Fuzzing EventBridge schedule expressions: any text parses or raises a LakeboxError, and
what parses yields fire times that are strictly increasing and after the start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from fuzz.conftest import lakebox_outcome, scaled
from fuzz.mutate import mutated_text
from lakebox.workflows import schedules as sched

EXPRESSIONS = [
    "cron(0 12 * * ? *)",
    "cron(15 10 ? * 6L 2024-2030)",
    "cron(0/15 8-17 ? * MON-FRI *)",
    "cron(0 0 L * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(5,35 14 * JAN,JUL ? 2025)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(1 day)",
    "at(2026-03-29T02:30:00)",
]

FIELDS = [
    "*",
    "?",
    "L",
    "W",
    "#",
    "/",
    "-",
    ",",
    "0",
    "59",
    "60",
    "31",
    "32",
    "2199",
    "2200",
    "1969",
    "99999999999999999999",
    "MON",
    "FOO",
    "5L",
    "L-3",
    "0/0",
    "7#6",
    "1-0",
]

ZONES = st.sampled_from(
    [
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Tokyo",
        "Nope/Zone",
        "",
    ]
)


@st.composite
def generated_cron(draw: st.DrawFn) -> str:
    fields = draw(st.lists(st.sampled_from(FIELDS) | st.text(max_size=3), min_size=5, max_size=7))
    return f"cron({' '.join(fields)})"


EXPRESSION = (
    mutated_text(EXPRESSIONS, FIELDS, max_edits=3)
    | generated_cron()
    | st.builds(
        "rate({} {})".format,
        st.integers(-5, 10**30),
        st.sampled_from(["minute", "minutes", "hours", "day", "days", "weeks"]),
    )
    | st.text(max_size=30)
)


@given(
    text=EXPRESSION,
    zone=ZONES,
    after=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30)),
)
@example(text="rate(99999999999999999999 minutes)", zone="UTC", after=datetime(2024, 1, 1))
@settings(max_examples=scaled(200))
def test_expressions_parse_and_fire_in_order_or_raise_lakebox_error(
    text: str, zone: str, after: datetime
) -> None:
    def fire() -> list[datetime]:
        expression = sched.parse_expression(text)
        tz = sched.zone(zone)
        start = after.replace(tzinfo=UTC)
        return sched.fire_times(expression, start, 3, tz, start - timedelta(hours=1))

    times = lakebox_outcome(fire)
    if isinstance(times, list):
        start = after.replace(tzinfo=UTC)
        assert all(t > start for t in times)
        assert times == sorted(set(times))
