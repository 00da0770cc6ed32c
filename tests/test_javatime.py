"""Java DateTimeFormatter patterns: formatted as Firehose evaluates them in prefixes, and
formatted and parsed as Athena's date partition projection does."""

from __future__ import annotations

import datetime as dt
from datetime import datetime

import pytest

from lakebox.javatime import JavaDateFormat, JavaPatternError, add_months, format_java

# -- formatting (Firehose prefixes) -----------------------------------------------------------
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
    with pytest.raises(JavaPatternError):
        format_java(pattern, WHEN)


# -- formatting and parsing (partition projection) --------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "instant", "text", "strftime", "ordered"),
    [
        ("yyyy/MM/dd", datetime(2024, 1, 2), "2024/01/02", "%Y/%m/%d", True),
        ("yyyy-MM-dd-HH", datetime(2024, 1, 2, 5), "2024-01-02-05", "%Y-%m-%d-%H", True),
        ("yyyyMMdd", datetime(2024, 1, 2), "20240102", "%Y%m%d", True),
        (
            "yyyy-MM-dd'T'HH:mm:ss",
            datetime(2024, 1, 2, 3, 4, 5),
            "2024-01-02T03:04:05",
            "%Y-%m-%dT%H:%M:%S",
            True,
        ),
        ("yy-M-d", datetime(2024, 1, 2), "24-1-2", None, False),
        ("dd-MM-yyyy", datetime(2024, 1, 2), "02-01-2024", "%d-%m-%Y", False),
        ("yyyy-MMMM", datetime(2024, 9, 1), "2024-September", None, False),
        ("HH 'o''clock' yyyy", datetime(2024, 1, 1, 7), "07 o'clock 2024", "%H o'clock %Y", False),
        ("uuuu/MM", datetime(2024, 3, 1), "2024/03", "%Y/%m", True),
        (
            "yyyy-MM-dd HH:mm:ss.SSS",
            datetime(2024, 1, 2, 3, 4, 5, 678000),
            "2024-01-02 03:04:05.678",
            None,
            True,
        ),
        ("'100%' yyyy", datetime(2024, 1, 1), "100% 2024", "100%% %Y", True),
    ],
)
def test_java_date_format_renders_parses_and_converts(
    pattern: str, instant: datetime, text: str, strftime: str | None, ordered: bool
) -> None:
    fmt = JavaDateFormat(pattern)
    assert fmt.format(instant) == text
    assert fmt.parse(text) == instant
    assert fmt.strftime == strftime
    if strftime is not None:
        assert instant.strftime(strftime) == text
    assert fmt.order_preserving is ordered


@pytest.mark.parametrize("text", ["2024/1/02", "2024/01/32", "2024/01/02 ", "24/01/02", "x"])
def test_java_date_format_parse_is_strict(text: str) -> None:
    assert JavaDateFormat("yyyy/MM/dd").parse(text) is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("yyyy/ww", "pattern letter 'w' is not supported"),
        ("yyyy[MM]", r"'\[' \(optional sections / reserved\) is not supported"),
        ("yyyy/ddd", "too many pattern letters 'ddd'"),
        ("'day'", "the pattern has no date or time field"),
        ("yyyy 'open", "unterminated quoted text"),
    ],
)
def test_projection_formats_refuse_what_they_cannot_parse_back(pattern: str, message: str) -> None:
    with pytest.raises(JavaPatternError, match=message):
        JavaDateFormat(pattern)


def test_reserved_characters_format_as_themselves_in_a_prefix() -> None:
    assert format_java("yyyy[#]", WHEN) == "2024[#]"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("''''", "'"), ("'''a'", "'a"), ("'a''' yyyy", "a' 2024"), ("yyyyé", "2024é")],
)
def test_quotes_and_non_ascii_text_follow_java_time(pattern: str, expected: str) -> None:
    assert format_java(pattern, WHEN) == expected


def test_unsupported_letters_are_named_on_the_error() -> None:
    with pytest.raises(JavaPatternError) as caught:
        format_java("yyyy/VV", WHEN)
    assert caught.value.letter == "V"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2024, 1, 31), 1, datetime(2024, 2, 29)),
        (datetime(2023, 1, 31), 1, datetime(2023, 2, 28)),
        (datetime(2024, 3, 15, 6), -14, datetime(2023, 1, 15, 6)),
        (datetime(2024, 12, 1), 1, datetime(2025, 1, 1)),
    ],
)
def test_month_arithmetic_clamps_to_the_month_end(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_months(start, months) == expected
