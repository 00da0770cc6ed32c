"""EventBridge Scheduler expressions: ``cron(...)``, ``rate(...)`` and ``at(...)``.

Our own cron evaluator rather than croniter: AWS's form has six fields with a year, day of
week numbered 1-7 from Sunday (croniter counts 0-6), ``?`` (exactly one of day-of-month /
day-of-week must be ``?``), ``L`` / ``W`` / ``#`` with AWS's meanings, and EventBridge's
daylight-saving rules: a local time that does not exist (spring forward) is skipped and a
repeated one (fall back) fires once. Evaluating day by day in the schedule's zone makes
those rules explicit instead of patching another library's output.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lakebox.workflows.errors import InvalidScheduleError

MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
MAX_YEAR = 2199


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidScheduleError(
            f"Invalid time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'"
        ) from exc


def _aws_dow(d: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (d.weekday() + 1) % 7 + 1


def _local(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant of a local wall time, or None in a spring-forward gap (skipped, as in
    EventBridge Scheduler). fold=0 picks the first of two repeated times (fires once)."""
    aware = naive.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive:
        return None
    return aware.astimezone(UTC)


# ----------------------------------------------------------------------------- cron


def _value(token: str, names: dict[str, int] | None, low: int, high: int, what: str) -> int:
    token = token.strip().upper()
    if names and token in names:
        return names[token]
    if not token.isdigit():
        raise InvalidScheduleError(f"Invalid {what} value {token!r} in the cron expression")
    value = int(token)
    if not low <= value <= high:
        raise InvalidScheduleError(f"{what} value {value} is outside {low}-{high}")
    return value


def _numeric_field(
    text: str, low: int, high: int, what: str, names: dict[str, int] | None = None
) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise InvalidScheduleError(f"Empty list item in the {what} field")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise InvalidScheduleError(f"Invalid step {step_text!r} in the {what} field")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names, low, high, what), _value(b, names, low, high, what)
            if start > end:
                raise InvalidScheduleError(f"Invalid range {base!r} in the {what} field")
        else:
            start = _value(base, names, low, high, what)
            end = high if step_text else start
        out.update(range(start, end + 1, step))
    return frozenset(out)


@dataclass(frozen=True)
class DomSpec:
    any: bool = False
    values: frozenset[int] = frozenset()
    last: bool = False  # L
    last_weekday: bool = False  # LW
    nearest_weekday: int | None = None  # nW

    def matches(self, d: date) -> bool:
        if self.any:
            return True
        days_in_month = calendar.monthrange(d.year, d.month)[1]
        if self.last:
            return d.day == days_in_month
        if self.last_weekday:
            return d == _nearest_weekday(d.year, d.month, days_in_month)
        if self.nearest_weekday is not None:
            target = min(self.nearest_weekday, days_in_month)
            return d == _nearest_weekday(d.year, d.month, target)
        return d.day in self.values


def _nearest_weekday(year: int, month: int, day: int) -> date:
    """Weekday closest to ``day`` without leaving the month (Quartz's W)."""
    d = date(year, month, day)
    if d.weekday() == 5:  # Saturday
        return d - timedelta(days=1) if day > 1 else d + timedelta(days=2)
    if d.weekday() == 6:  # Sunday
        last = calendar.monthrange(year, month)[1]
        return d + timedelta(days=1) if day < last else d - timedelta(days=2)
    return d


@dataclass(frozen=True)
class DowSpec:
    any: bool = False
    values: frozenset[int] = frozenset()
    last_of: int | None = None  # nL: last <day n> of the month
    nth: tuple[int, int] | None = None  # n#k: k-th <day n> of the month

    def matches(self, d: date) -> bool:
        if self.any:
            return True
        dow = _aws_dow(d)
        if self.last_of is not None:
            return dow == self.last_of and d.day + 7 > calendar.monthrange(d.year, d.month)[1]
        if self.nth is not None:
            day, k = self.nth
            return dow == day and (d.day - 1) // 7 + 1 == k
        return dow in self.values


def _dom(text: str) -> DomSpec:
    t = text.upper()
    if t in ("?", "*"):
        return DomSpec(any=True)
    if t == "L":
        return DomSpec(last=True)
    if t == "LW":
        return DomSpec(last_weekday=True)
    m = re.fullmatch(r"(\d{1,2})W", t)
    if m:
        return DomSpec(nearest_weekday=_value(m.group(1), None, 1, 31, "day-of-month"))
    return DomSpec(values=_numeric_field(t, 1, 31, "day-of-month"))


def _dow(text: str) -> DowSpec:
    t = text.upper()
    if t in ("?", "*"):
        return DowSpec(any=True)
    if t == "L":
        return DowSpec(values=frozenset({7}))
    m = re.fullmatch(r"([A-Z0-9]+)L", t)
    if m:
        return DowSpec(last_of=_value(m.group(1), DAYS, 1, 7, "day-of-week"))
    m = re.fullmatch(r"([A-Z0-9]+)#(\d)", t)
    if m:
        k = int(m.group(2))
        if not 1 <= k <= 5:
            raise InvalidScheduleError(f"Invalid '#' occurrence {k} in the day-of-week field")
        return DowSpec(nth=(_value(m.group(1), DAYS, 1, 7, "day-of-week"), k))
    return DowSpec(values=_numeric_field(t, 1, 7, "day-of-week", DAYS))


@dataclass(frozen=True)
class CronExpression:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: DomSpec
    months: frozenset[int]
    dow: DowSpec
    years: frozenset[int]

    @classmethod
    def parse(cls, body: str, text: str) -> CronExpression:
        fields = body.split()
        if len(fields) != 6:
            raise InvalidScheduleError(
                f"Invalid cron expression {text!r}: expected 6 fields (minutes hours "
                "day-of-month month day-of-week year)"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise InvalidScheduleError(
                f"Invalid cron expression {text!r}: exactly one of day-of-month and "
                "day-of-week must be '?'"
            )
        return cls(
            text,
            _numeric_field(minute, 0, 59, "minutes"),
            _numeric_field(hour, 0, 23, "hours"),
            _dom(dom),
            _numeric_field(month.upper(), 1, 12, "month", MONTHS),
            _dow(dow),
            _numeric_field(year, 1970, MAX_YEAR, "year"),
        )

    def _day_matches(self, d: date) -> bool:
        return (
            d.year in self.years
            and d.month in self.months
            and self.dom.matches(d)
            and self.dow.matches(d)
        )

    def next_after(self, after: datetime, tz: ZoneInfo) -> datetime | None:
        local = after.astimezone(tz).replace(tzinfo=None)
        day = local.date()
        hours, minutes = sorted(self.hours), sorted(self.minutes)
        last_year = max(self.years)
        while day.year <= last_year:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = (
                    date(day.year + 1, 1, 1)
                    if day.month == 12
                    else date(day.year, day.month + 1, 1)
                )
                continue
            if self._day_matches(day):
                for h in hours:
                    for m in minutes:
                        naive = datetime(day.year, day.month, day.day, h, m)
                        instant = _local(naive, tz)
                        if instant is not None and instant > after:
                            return instant
            day += timedelta(days=1)
        return None


# ----------------------------------------------------------------------------- rate / at

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RateExpression:
    text: str
    seconds: int

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        """Slots are anchor + k * period (a day is 24 hours, whatever DST does); None when
        the next slot is past the last representable date (``rate(99999999999 days)``)."""
        if after < anchor:
            return anchor
        k = int((after - anchor).total_seconds() // self.seconds) + 1
        try:
            return anchor + timedelta(seconds=k * self.seconds)
        except OverflowError:
            return None


@dataclass(frozen=True)
class AtExpression:
    text: str
    local: datetime

    def instant(self, tz: ZoneInfo) -> datetime:
        return _local(self.local, tz) or self.local.replace(tzinfo=tz).astimezone(UTC)


ScheduleExpression = CronExpression | RateExpression | AtExpression


def parse_expression(text: str) -> ScheduleExpression:
    expr = text.strip()
    if expr.startswith("cron(") and expr.endswith(")"):
        return CronExpression.parse(expr[5:-1], expr)
    m = _RATE.match(expr)
    if m:
        value, unit = int(m.group(1)), m.group(2)
        base = unit[:-1] if unit.endswith("s") else unit
        if base not in _UNITS or value <= 0:
            raise InvalidScheduleError(
                f"Invalid rate expression {text!r}: use rate(<positive integer> "
                "minute|minutes|hour|hours|day|days)"
            )
        if (value == 1) != (unit == base):
            raise InvalidScheduleError(
                f"Invalid rate expression {text!r}: the unit must be singular for 1 and plural "
                f"otherwise (rate(1 {base}), rate({max(value, 2)} {base}s))"
            )
        return RateExpression(expr, value * _UNITS[base])
    m = _AT.match(expr)
    if m:
        try:
            return AtExpression(expr, datetime.fromisoformat(m.group(1)))
        except ValueError as exc:
            raise InvalidScheduleError(f"Invalid at expression {text!r}: {exc}") from exc
    raise InvalidScheduleError(
        f"Invalid schedule expression {text!r}: use cron(min hour dom month dow year), "
        "rate(n unit) or at(yyyy-mm-ddThh:mm:ss)"
    )


#: how far in the past a recurring schedule's StartDate may lie (EventBridge Scheduler)
START_DATE_GRACE = timedelta(minutes=5)


def check_window(
    expression: str, start: datetime | None, end: datetime | None, now: datetime
) -> None:
    """EventBridge Scheduler's ValidationExceptions for StartDate / EndDate: the start must
    come before the end, and a recurring schedule's start may not lie more than 5 minutes
    in the past. A one-time ``at()`` schedule ignores both dates (as AWS does), so only
    their order is checked."""
    if start is not None and end is not None and start >= end:
        raise InvalidScheduleError(
            "The StartDate you specify must come before the EndDate. "
            f"(StartDate {start.isoformat()}, EndDate {end.isoformat()})"
        )
    recurring = not isinstance(parse_expression(expression), AtExpression)
    if start is not None and recurring and start < now - START_DATE_GRACE:
        raise InvalidScheduleError(
            "The StartDate you specify cannot be earlier than 5 minutes ago. "
            f"(StartDate {start.isoformat()}, now {now.isoformat()}); leave it out to "
            "start now"
        )


def window(
    expression: ScheduleExpression, start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """The StartDate / EndDate that apply: none for a one-time schedule, as in AWS."""
    if isinstance(expression, AtExpression):
        return None, None
    return start, end


def next_fire(
    expression: ScheduleExpression, after: datetime, tz: ZoneInfo, anchor: datetime
) -> datetime | None:
    """First slot strictly after ``after`` (UTC, aware); ``anchor`` starts rate slots."""
    if isinstance(expression, CronExpression):
        return expression.next_after(after, tz)
    if isinstance(expression, RateExpression):
        return expression.next_after(after, anchor)
    when = expression.instant(tz)
    return when if when > after else None


def fire_times(
    expression: ScheduleExpression, after: datetime, count: int, tz: ZoneInfo, anchor: datetime
) -> list[datetime]:
    out: list[datetime] = []
    cursor = after
    while len(out) < count:
        nxt = next_fire(expression, cursor, tz, anchor)
        if nxt is None:
            break
        out.append(nxt)
        cursor = nxt
    return out
