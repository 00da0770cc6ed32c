"""Java DateTimeFormatter patterns as Firehose evaluates them in prefixes."""

from __future__ import annotations

import datetime as dt

import pytest

from lakebox.ingest.errors import InvalidArgumentError
from lakebox.ingest.javatime import format_java

WHEN = dt.datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy/MM/dd/HH/", "2024/03/05/14/"),
        ("yyyy-MM-dd'T'HH:mm:ss", "2024-03-05T14:07:09"),
        ("yy", "24"),
        ("uuuu", "2024"),
        ("M/d/H", "3/5/14"),
        ("MMM MMMM", "Mar March"),
        ("EEE EEEE", "Tue Tuesday"),
        ("hh a", "02 PM"),
        ("DDD", "065"),
        ("SSS", "123"),
        ("'year='yyyy", "year=2024"),
        ("'it''s' yyyy", "it's 2024"),
        ("''", "'"),
        ("Q", "1"),
    ],
)
def test_patterns(pattern: str, expected: str) -> None:
    assert format_java(pattern, WHEN) == expected


@pytest.mark.parametrize("pattern", ["yyyy 'open", "yyyy/VV", "bb"])
def test_bad_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(InvalidArgumentError):
        format_java(pattern, WHEN)
