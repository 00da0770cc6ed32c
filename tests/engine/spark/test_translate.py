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


# Trino functions Spark has under another name or shape; their answers on Spark are
# checked by the Trino documentation's examples (tests/conformance/test_trino.py, engine
# "spark"): bitwise.sqltest, array.sqltest's *_match / ngrams / trim_array, aggregate.sqltest's
# map_agg / reduce_agg, binary.sqltest's sha*, datetime.sqltest's date_trunc_*.


def test_bitwise_shifts_by_the_width_or_more_give_zero_or_minus_one() -> None:
    assert spark(
        "SELECT bitwise_left_shift(1, 2), bitwise_right_shift(x, 64), "
        "bitwise_right_shift_arithmetic(x, s) FROM t",
        {"t": {"x": "bigint", "s": "int"}},
    ) == (
        "SELECT IF(2 >= 32, 0, SHIFTLEFT(1, 2)) AS `_col0`, "
        "IF(64 >= 64, 0, SHIFTRIGHTUNSIGNED(t.x, 64)) AS `_col1`, "
        "IF(t.s >= 64, IF(t.x < 0, -1, 0), SHIFTRIGHT(t.x, t.s)) AS `_col2` FROM t"
    )


def test_a_shift_of_a_small_integer_is_left_as_written() -> None:
    # Spark would shift a TINYINT as an INT: a different answer for negative values
    assert "BITWISE_LEFT_SHIFT" in spark("SELECT bitwise_left_shift(CAST(1 AS TINYINT), 2)")


def test_array_matches_are_exists_and_forall() -> None:
    assert spark(
        "SELECT any_match(a, x -> x > 0), all_match(a, x -> x > 0), none_match(a, x -> x > 0) "
        "FROM t"
    ) == (
        "SELECT EXISTS(a, x -> x > 0) AS `_col0`, FORALL(a, x -> x > 0) AS `_col1`, "
        "NOT EXISTS(a, x -> x > 0) AS `_col2` FROM t"
    )


def test_map_agg_and_reduce_agg_fold_a_list_of_the_values() -> None:
    sql = spark("SELECT map_agg(k, v), reduce_agg(v, 0, (a, b) -> a + b, (a, b) -> a + b) FROM t")
    assert "MAP_FROM_ENTRIES(COLLECT_LIST(STRUCT(k AS __0, v AS __1)))" in sql
    assert "AGGREGATE(COLLECT_LIST(v), 0, (a, b) -> a + b)" in sql


def test_ngrams_and_trim_array_are_slices() -> None:
    sql = spark("SELECT ngrams(a, 2), trim_array(a, 1) FROM t")
    assert "TRANSFORM(SEQUENCE(1, GREATEST(SIZE(a) - 2 + 1, 1)), i -> SLICE(a, i, 2))" in sql
    assert "SLICE(a, 1, SIZE(a) - 1)" in sql


def test_date_trunc_keeps_a_timestamp_without_time_zone() -> None:
    assert spark("SELECT date_trunc('day', TIMESTAMP '2001-08-22 03:04:05.321')") == (
        "SELECT CAST(DATE_TRUNC('DAY', CAST('2001-08-22 03:04:05.321' AS TIMESTAMP)) "
        "AS TIMESTAMP_NTZ) AS `_col0`"
    )


def test_digests_are_varbinary_and_if_has_a_null_else() -> None:
    assert spark("SELECT sha256(b), sha1(b), IF(c, 1) FROM t") == (
        "SELECT UNHEX(SHA2(b, 256)) AS `_col0`, UNHEX(SHA(b)) AS `_col1`, "
        "IF(c, 1, NULL) AS `_col2` FROM t"
    )


def test_functions_spark_answers_differently_under_the_same_name() -> None:
    sql = spark(
        "SELECT repeat('a', 3), greatest(x, y), arbitrary(x), sign(5), split_part(s, ',', 3), "
        "regexp_position(s, 'b') FROM t"
    )
    assert "ARRAY_REPEAT('a', 3)" in sql  # Trino's repeat makes an array
    assert "IF(x IS NULL OR y IS NULL, NULL, GREATEST(x, y))" in sql
    assert "ANY_VALUE(x) IGNORE NULLS" in sql
    assert "CAST(SIGN(5) AS INT)" in sql
    assert (
        "IF(3 > (LENGTH(s) - LENGTH(REPLACE(s, ',', ''))) DIV LENGTH(',') + 1, NULL, "
        "SPLIT_PART(s, ',', 3))"
    ) in sql
    assert "IF(REGEXP_INSTR(s, 'b') = 0, -1, REGEXP_INSTR(s, 'b'))" in sql


def test_logarithms_of_zero_and_negatives_are_not_null() -> None:
    sql = spark("SELECT ln(x), log10(x) FROM t")
    assert sql.startswith(
        "SELECT CASE WHEN x = 0 THEN CAST('-Infinity' AS DOUBLE) "
        "WHEN x < 0 THEN CAST('NaN' AS DOUBLE) ELSE LN(x) END AS `_col0`"
    )
    assert "ELSE LOG10(x) END AS `_col1`" in sql


def test_a_timestamp_as_text_has_its_precisions_digits() -> None:
    # Spark's CAST drops trailing zeros ('...05.32'); Trino prints the type's digits
    assert spark(
        "SELECT CAST(localtimestamp(6) AS varchar), "
        "CAST(TIMESTAMP '2001-08-22 03:04:05.320' AS varchar)"
    ) == (
        "SELECT DATE_FORMAT(LOCALTIMESTAMP(6), 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS `_col0`, "
        "DATE_FORMAT(CAST('2001-08-22 03:04:05.320' AS TIMESTAMP), 'yyyy-MM-dd HH:mm:ss.SSS') "
        "AS `_col1`"
    )
