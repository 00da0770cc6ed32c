"""Spark's error texts in Athena's words (``lakebox.engine.spark.messages``), from the
messages Spark 4.3 gives (copied from real failures)."""

from __future__ import annotations

import pytest
from sqlglot import exp

from lakebox.engine.spark.messages import engine_error
from lakebox.errors import DataError, LakeboxError, SemanticError
from lakebox.sql.plan import Plan, ScanStats


def _plan() -> Plan:
    return Plan(tree=exp.select("1"), scans=[], stats=ScanStats())


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 "
            'and return NULL instead. If necessary set "spark.sql.ansi.enabled" to "false" '
            "to bypass this error. SQLSTATE: 22012",
            SemanticError,
            "DIVISION_BY_ZERO: Division by zero",
        ),
        (
            "[CAST_INVALID_INPUT] The value 'x' of the type \"STRING\" cannot be cast to "
            '"INT" because it is malformed. Correct the value as per the syntax, or change '
            "its target type. Use `try_cast` to tolerate malformed input and return NULL "
            "instead. SQLSTATE: 22018",
            DataError,
            "INVALID_CAST_ARGUMENT: Cannot cast 'x' to integer",
        ),
        (
            "[UNRESOLVED_ROUTINE] Cannot resolve routine `reduce_agg` on search path "
            "[`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]. "
            "SQLSTATE: 42883",
            SemanticError,
            "FUNCTION_NOT_FOUND: Function 'reduce_agg' not registered",
        ),
        (
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `bit_count` requires 1 parameters but "
            "the actual number is 2. Please, refer to "
            "'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. "
            "SQLSTATE: 42605",
            SemanticError,
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION: The `bit_count` requires 1 parameters but "
            "the actual number is 2.",
        ),
    ],
)
def test_spark_errors_in_athenas_words(text: str, error: type[LakeboxError], message: str) -> None:
    found = engine_error(Exception(text), _plan())
    assert type(found) is error
    assert str(found) == message
