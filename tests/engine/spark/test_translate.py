"""Athena SQL as Spark SQL (``lakebox.engine.spark.translate``): the rules that give
Athena's semantics where sqlglot's Spark output differs. No Spark runs here; the answers
Spark gives for them are checked against DuckDB's in ``test_end_to_end.py``."""

from __future__ import annotations

import pytest

from lakebox.engine.spark.translate import spark_type, to_spark
from lakebox.errors import UnsupportedError
from lakebox.sql.dialect import parse_query


def spark(sql: str, schema: dict[str, dict[str, str]] | None = None) -> str:
    return to_spark(parse_query(sql), schema)


def test_integer_division_truncates_in_the_operands_type() -> None:
    # Trino: 5 / 2 = 2 (integer), 5.0 / 2 = 2.5 (decimal)
    assert spark("SELECT 5 / 2, 5.0 / 2") == (
        "SELECT CAST(5 DIV 2 AS INT) AS `_col0`, 5.0 / 2 AS `_col1`"
    )


def test_integer_division_of_columns_uses_the_schema() -> None:
    schema = {"t": {"a": "bigint", "b": "int", "x": "double"}}
    assert spark("SELECT a / b, x / b FROM t", schema) == (
        "SELECT CAST(t.a DIV t.b AS BIGINT) AS `_col0`, t.x / t.b AS `_col1` FROM t"
    )


def test_result_names_are_athenas() -> None:
    assert spark('SELECT count(*), Id, v AS "Value" FROM t') == (
        "SELECT COUNT(*) AS `_col0`, id AS `id`, v AS `value` FROM t"
    )


def test_nulls_sort_last_as_in_trino() -> None:
    assert spark("SELECT a FROM t ORDER BY a, b DESC").endswith("ORDER BY a NULLS LAST, b DESC")


def test_bare_values_name_their_columns_like_athena() -> None:
    assert spark("VALUES (1, 'a')") == "SELECT * FROM VALUES (1, 'a') AS _values(_col0, _col1)"


def test_trino_functions_get_spark_names() -> None:
    sql = spark(
        "SELECT approx_distinct(x), cardinality(a), strpos(s, 'b'), "
        "date_add('day', 1, d), regexp_like(s, 'a+') FROM t"
    )
    assert "APPROX_COUNT_DISTINCT(x)" in sql
    assert "SIZE(a)" in sql
    assert "LOCATE('b', s)" in sql
    assert "DATE_ADD(d, 1)" in sql
    assert "s RLIKE 'a+'" in sql


@pytest.mark.parametrize(
    ("hive", "expected"),
    [
        ("int", "INT"),
        ("bigint", "BIGINT"),
        ("varchar(10)", "STRING"),
        ("char(2)", "STRING"),
        ("decimal(10,2)", "DECIMAL(10, 2)"),
        ("timestamp", "TIMESTAMP_NTZ"),
        ("array<struct<a:int,b:string>>", "ARRAY<STRUCT<a: INT, b: STRING>>"),
        ("map<string,bigint>", "MAP<STRING, BIGINT>"),
    ],
)
def test_hive_types_as_spark_types(hive: str, expected: str) -> None:
    assert spark_type(hive) == expected


def test_an_unknown_type_is_named() -> None:
    with pytest.raises(UnsupportedError, match="nonsense"):
        spark_type("nonsense<<")


def test_trino_bigint_results_stay_bigint() -> None:
    assert spark("SELECT length(s), cardinality(a), year(d) FROM t") == (
        "SELECT CAST(LENGTH(s) AS BIGINT) AS `_col0`, CAST(SIZE(a) AS BIGINT) AS `_col1`, "
        "CAST(YEAR(d) AS BIGINT) AS `_col2` FROM t"
    )
