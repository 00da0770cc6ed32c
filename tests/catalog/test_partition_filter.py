"""Glue's partition filter (GetPartitions' Expression): the operators of Glue's docs, typed
by the partition key's type, and a clear error for what it cannot read."""

from __future__ import annotations

import pytest

from lakebox.catalog.model import HIVE_DEFAULT_PARTITION, Column
from lakebox.catalog.partition_filter import PartitionFilterError, compile_filter

#: the docs' two variables: "Assume 'variable a' holds 10 and 'variable b' holds 20."
AB = [Column("a", "int"), Column("b", "int")]
KEYS = [
    Column("year", "string"),
    Column("month", "int"),
    Column("day", "date"),
    Column("region", "string"),
]


def _matches(expression: str, values: list[str], keys: list[Column] = KEYS) -> bool:
    return compile_filter(expression, keys)(values)


ROW = ["2024", "3", "2024-03-15", "eu-west"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # verbatim from the AWS Glue GetPartitions Expression documentation
        ("(a = b)", False),
        ("(a < > b)", True),
        ("(a > b)", False),
        ("(a < b)", True),
        ("(a >= b)", False),
        ("(a <= b)", True),
    ],
)
def test_the_examples_of_the_glue_docs(expression: str, expected: bool) -> None:
    assert _matches(expression, ["10", "20"], AB) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year = '2024'", True),
        ("year <> '2024'", False),
        ("year != '2023'", True),
        ("month = 3", True),
        ("month = '3'", True),
        ("month > 2 AND month < 4", True),
        ("month >= 4 OR region = 'eu-west'", True),
        ("NOT month = 3", False),
        ("month IN (1, 2, 3)", True),
        ("month NOT IN (1, 2)", True),
        ("month BETWEEN 1 AND 3", True),
        ("month NOT BETWEEN 4 AND 12", True),
        ("region LIKE 'eu-%'", True),
        ("region LIKE 'eu_west'", True),
        ("region NOT LIKE 'us-%'", True),
        ("day = '2024-03-15'", True),
        ("day BETWEEN '2024-03-01' AND '2024-03-31'", True),
        ("day > '2024-12-01'", False),
        ("(year = '2023' OR year = '2024') AND (month = 3)", True),
        ("YEAR = '2024' and Month = 3", True),
        ("`year` = '2024' AND \"month\" = 3", True),
        ("month IS NOT NULL", True),
        ("month IS NULL", False),
    ],
)
def test_operators(expression: str, expected: bool) -> None:
    assert _matches(expression, ROW) is expected


def test_comparisons_are_typed_by_the_key() -> None:
    # an int key compares numbers: 10 > 9; a string key compares text: '10' < '9'
    assert _matches("month > 9", ["2024", "10", "2024-10-01", "x"])
    assert not _matches("year > '9'", ["10", "1", "2024-10-01", "x"])
    assert _matches("year > 9", ["9a", "1", "2024-10-01", "x"])


def test_a_default_partition_is_null() -> None:
    values = ["2024", HIVE_DEFAULT_PARTITION, "2024-03-15", "x"]
    assert not _matches("month = 3", values)
    assert not _matches("NOT month = 3", values)
    assert _matches("month IS NULL", values)
    assert _matches("month IS NULL OR month = 3", values)


def test_quotes_in_a_string_literal() -> None:
    assert _matches("region = 'it''s'", ["2024", "1", "2024-01-01", "it's"])


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("", "empty"),
        ("year = ", "expected a partition key or a literal at position 8"),
        ("year = '2024", "no closing quote"),
        ("nope = 1", "'nope' at position 1 is not a partition key"),
        ("month = 'x'", "'x' at position 9 is not a valid int value"),
        ("day = '2024-13-45'", "not a valid date value"),
        ("month LIKE '1%'", "LIKE compares strings"),
        ("month = 3 month = 4", "expected AND, OR or the end of the expression"),
        ("(month = 3", "expected ')'"),
        ("month IN 1, 2", "expected '(' after IN"),
        ("month BETWEEN 1 OR 2", "AND (of BETWEEN)"),
        ("month = 3;", "unexpected character ';'"),
        ("upper(year) = 'X'", "upper(...) at position 1: partition filters call no functions"),
        ("month 3", "expected a comparison"),
        ("month = NULL", "NULL at position 9 can only follow IS"),
        ("month NOT 3", "IN, BETWEEN or LIKE after NOT"),
    ],
)
def test_bad_expressions_name_the_problem(expression: str, names: str) -> None:
    with pytest.raises(PartitionFilterError) as exc:
        compile_filter(expression, KEYS)
    assert names in str(exc.value)
    assert exc.value.code == "InvalidRequestException"


def test_an_unsupported_key_type_is_refused_when_named() -> None:
    keys = [Column("flag", "boolean"), Column("year", "string")]
    assert compile_filter("year = '1'", keys)(["true", "1"])
    with pytest.raises(PartitionFilterError, match="flag is of type boolean"):
        compile_filter("flag = 'true'", keys)


def test_an_overlong_expression_is_refused() -> None:
    with pytest.raises(PartitionFilterError, match="more than the 2048"):
        compile_filter("month = 1 OR " * 200 + "month = 2", KEYS)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    assert _matches("(" * 64 + "month = 3" + ")" * 64, ROW)
    with pytest.raises(PartitionFilterError, match="more than 64 nested"):
        compile_filter("(" * 500 + "month = 3" + ")" * 500, KEYS)
    with pytest.raises(PartitionFilterError, match="more than 64 nested"):
        compile_filter("NOT " * 400 + "month = 3", KEYS)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("%", "", True),
        ("", "", True),
        ("", "a", False),
        ("a%", "abc", True),
        ("%c", "abc", True),
        ("%b%", "abc", True),
        ("a_c", "abc", True),
        ("a_c", "ac", False),
        ("a%%c", "ac", True),
        ("%a%b", "aXbYab", True),
        ("%a%b", "aXbYa", False),
        ("_%_", "a", False),
        ("eu-%-1", "eu-west-1", True),
        ("eu-%-1", "eu-west-2", False),
        ("a.c", "abc", False),  # no regular-expression meaning
        ("100%", "100%", True),
    ],
)
def test_like_patterns(pattern: str, value: str, expected: bool) -> None:
    keys = [Column("region", "string")]
    assert _matches(f"region LIKE '{pattern}'", [value], keys) is expected
    assert _matches(f"region NOT LIKE '{pattern}'", [value], keys) is (not expected)


def test_a_like_pattern_cannot_backtrack_for_ever() -> None:
    """``%`` once became ``.*`` of a regular expression: ``'%a' * 12 + '!'`` against 28
    ``a`` took seconds per partition. It is matched in at most pattern x value steps."""
    import time

    keys = [Column("region", "string")]
    started = time.monotonic()
    for n in (12, 200):
        assert not _matches(f"region LIKE '{'%a' * n}!'", ["a" * (n + 16)], keys)
    assert time.monotonic() - started < 0.5
