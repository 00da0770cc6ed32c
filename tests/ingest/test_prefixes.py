"""Firehose prefix templates."""

from __future__ import annotations

import datetime as dt

import pytest

from lakebox.ingest.errors import InvalidArgumentError
from lakebox.ingest.prefixes import parse_prefix, validate_prefixes

WHEN = dt.datetime(2024, 3, 5, 14, 7, 9, tzinfo=dt.UTC)


def test_plain_prefix_gets_default_time_layout() -> None:
    prefix, err = validate_prefixes("logs/", None, False)
    assert prefix.render(WHEN) == "logs/2024/03/05/14/"
    assert err is None


def test_empty_prefix_is_the_default_layout() -> None:
    prefix, _ = validate_prefixes("", None, False)
    assert prefix.render(WHEN) == "2024/03/05/14/"


def test_expressions_replace_the_default_layout() -> None:
    prefix, err = validate_prefixes(
        "d/dt=!{timestamp:yyyy-MM-dd}/c=!{partitionKeyFromQuery:c}/",
        "e/!{firehose:error-output-type}/!{timestamp:yyyy}/",
        True,
    )
    assert prefix.render(WHEN, {"partitionKeyFromQuery:c": "x"}) == "d/dt=2024-03-05/c=x/"
    assert err is not None
    assert err.render(WHEN, error_type="processing-failed") == "e/processing-failed/2024/"


def test_random_string_differs_per_render() -> None:
    t = parse_prefix("r/!{firehose:random-string}/")
    a, b = t.render(WHEN), t.render(WHEN)
    assert len(a) == len("r/") + 11 + 1 and a != b


@pytest.mark.parametrize(
    ("prefix", "error_prefix", "dynamic", "message"),
    [
        ("a/!{firehose:nope}/", "e/", False, "random-string or error-output-type"),
        ("a/!{timestamp:}/", "e/", False, "empty timestamp pattern"),
        ("a/!{timestamp:yyyy", "e/", False, "malformed"),
        ("a/", "e/!{partitionKeyFromQuery:k}/", False, "cannot contain dynamic partitioning"),
        ("a/!{partitionKeyFromQuery:k}/", None, True, "ErrorOutputPrefix"),
    ],
)
def test_invalid_prefixes(
    prefix: str, error_prefix: str | None, dynamic: bool, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        validate_prefixes(prefix, error_prefix, dynamic)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("yyyy 'open", 'unterminated quote in date pattern "yyyy \'open"'),
        ("yyyy/VV", "pattern letter 'V' in 'yyyy/VV' is not supported in a prefix"),
        ("bb", "pattern letter 'b' in 'bb' is not supported in a prefix"),
    ],
)
def test_timestamp_patterns_firehose_cannot_format_are_invalid_arguments(
    pattern: str, message: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        parse_prefix(f"a/!{{timestamp:{pattern}}}/")
    assert str(caught.value) == message
