"""Engine failures reach the user in Athena's (Trino's) words, never with DuckDB advice:
each statement below really runs and really fails in DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

import lakebox
from lakebox.errors import LakeboxError


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT 1 / 0", "DIVISION_BY_ZERO: Division by zero"),
        ("SELECT 7 % 0", "DIVISION_BY_ZERO: Division by zero"),
        ("SELECT 1.5 / 0", "DIVISION_BY_ZERO: Division by zero"),
        ("SELECT CAST('x' AS integer)", "INVALID_CAST_ARGUMENT: Cannot cast 'x' to integer"),
        (
            "SELECT CAST(300 AS tinyint)",
            "NUMERIC_VALUE_OUT_OF_RANGE: Out of range for tinyint: 300",
        ),
        (
            "SELECT 9223372036854775807 * 2",
            "NUMERIC_VALUE_OUT_OF_RANGE: bigint multiplication overflow: 9223372036854775807 * 2",
        ),
        ("SELECT no_such_fn(1)", "FUNCTION_NOT_FOUND: Function 'no_such_fn' not registered"),
        ("SELECT abs('x')", "FUNCTION_NOT_FOUND: Unexpected parameters (varchar) for function abs"),
        ("SELECT 1 + 'a'", "TYPE_MISMATCH: Cannot apply operator: integer + varchar"),
        (
            "SELECT a FROM (VALUES (1, 2)) t(a, b) GROUP BY b",
            "EXPRESSION_NOT_AGGREGATE: 'a' must be an aggregate expression or appear in "
            "GROUP BY clause",
        ),
        (
            "SELECT from_big_endian_32(x'01')",
            "INVALID_FUNCTION_ARGUMENT: from_big_endian_32: the input must be exactly 4 bytes",
        ),
    ],
)
def test_engine_errors_use_athenas_words(lake_home: Path, statement: str, message: str) -> None:
    session = lakebox.connect(lake_home)
    try:
        with pytest.raises(LakeboxError) as info:
            session.sql(statement)
    finally:
        session.lake.close()
    assert str(info.value) == message
    for leak in ("SET ", "TRY(", "Consider", "Error: ", "INT32", "STRING_LITERAL"):
        assert leak not in str(info.value)
