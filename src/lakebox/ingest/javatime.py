"""Java ``DateTimeFormatter`` patterns (what Firehose's ``!{timestamp:...}`` and Athena's
partition projection use), formatted in Python.

Written here because no installed library formats Java patterns; only the pattern letters
that make sense in an object key are supported, others raise InvalidArgumentError.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from lakebox.ingest.errors import InvalidArgumentError

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

Token = tuple[str, int] | str  # (letter, count) or literal text


@lru_cache(maxsize=256)
def tokenize(pattern: str) -> tuple[Token, ...]:
    """Split a pattern into letter runs and literals (``'text'`` quoting, ``''`` = quote)."""
    out: list[Token] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            j, text = i + 1, []
            while True:
                if j >= n:
                    raise InvalidArgumentError(f"unterminated quote in date pattern {pattern!r}")
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            out.append("".join(text))
            i = j + 1
            continue
        if ch.isalpha():
            j = i
            while j < n and pattern[j] == ch:
                j += 1
            if ch not in "yuYMLdDHhkKmsSnaEeQwG":
                raise InvalidArgumentError(
                    f"pattern letter {ch!r} in {pattern!r} is not supported in a prefix"
                )
            out.append((ch, j - i))
            i = j
            continue
        out.append(ch)
        i += 1
    return tuple(out)


def _num(value: int, width: int) -> str:
    return str(value).zfill(width)


def _field(letter: str, count: int, t: dt.datetime) -> str:
    if letter in "yu":
        return _num(t.year % 100, 2) if count == 2 else _num(t.year, count)
    if letter == "Y":
        year = t.isocalendar()[0]
        return _num(year % 100, 2) if count == 2 else _num(year, count)
    if letter in "ML":
        if count >= 4:
            return _MONTHS[t.month - 1]
        if count == 3:
            return _MONTHS[t.month - 1][:3]
        return _num(t.month, count)
    if letter == "d":
        return _num(t.day, count)
    if letter == "D":
        return _num(t.timetuple().tm_yday, count)
    if letter == "H":
        return _num(t.hour, count)
    if letter == "k":
        return _num(t.hour or 24, count)
    if letter == "h":
        return _num(t.hour % 12 or 12, count)
    if letter == "K":
        return _num(t.hour % 12, count)
    if letter == "m":
        return _num(t.minute, count)
    if letter == "s":
        return _num(t.second, count)
    if letter == "S":
        return str(t.microsecond).zfill(6)[:count].ljust(count, "0")
    if letter == "n":
        return str(t.microsecond * 1000)
    if letter == "a":
        return "AM" if t.hour < 12 else "PM"
    if letter in "Ee":
        name = _DAYS[t.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "Q":
        return str((t.month - 1) // 3 + 1)
    if letter == "w":
        return _num(t.isocalendar()[1], count)
    return "AD"  # G


def format_java(pattern: str, when: dt.datetime) -> str:
    """``when`` formatted with a Java DateTimeFormatter pattern."""
    parts = []
    for tok in tokenize(pattern):
        parts.append(tok if isinstance(tok, str) else _field(tok[0], tok[1], when))
    return "".join(parts)
