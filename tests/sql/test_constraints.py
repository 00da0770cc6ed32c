"""Partition-column constraints extracted from Athena WHERE clauses."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp

from lakebox.catalog.constraints import (
    HIVE_NULL_PARTITION,
    Bound,
    ColumnConstraint,
    partition_matches,
)
from lakebox.sql.constraints import extract_constraints

COLUMNS = {
    "year": "int",
    "n": "bigint",
    "dt": "string",
    "region": "varchar(20)",
    "day": "date",
    "ts": "timestamp",
    "amount": "decimal(10,2)",
    "flag": "boolean",
}


def where(sql: str) -> exp.Expression:
    tree = sqlglot.parse_one(f"SELECT * FROM t WHERE {sql}", read="athena")
    return tree.args["where"].this


def constraints(sql: str) -> dict[str, ColumnConstraint]:
    return extract_constraints(where(sql), COLUMNS)


# (predicate, column, partition values allowed, partition values rejected)
ALLOWS_CASES = [
    ("dt = '2024/01/02'", "dt", ["2024/01/02"], ["2024/01/03", "2024/1/2"]),
    ("year = 2024", "year", ["2024", "02024"], ["2023", "2025"]),
    ("year IN (2023, 2024)", "year", ["2023", "2024"], ["2022", "2025"]),
    ("year BETWEEN 2020 AND 2022", "year", ["2020", "2021", "2022"], ["2019", "2023"]),
    ("year > 2020", "year", ["2021", "3000"], ["2020", "1999"]),
    ("year >= 2020", "year", ["2020", "2021"], ["2019"]),
    ("year < 2020", "year", ["2019", "-5"], ["2020", "2021"]),
    ("year <= 2020", "year", ["2020", "10"], ["2021"]),
    ("2020 < year", "year", ["2021"], ["2020", "2019"]),
    ("2020 >= year", "year", ["2020", "2019"], ["2021"]),
    ("-5 < n", "n", ["-4", "0"], ["-5", "-6"]),
    ("n = -5", "n", ["-5"], ["5"]),
    ("amount = 1.50", "amount", ["1.5", "1.50"], ["1.51"]),
    (
        "(region = 'us-east-1' OR region = 'eu-west-1')",
        "region",
        ["us-east-1", "eu-west-1"],
        ["us-west-2"],
    ),
    ("region = 'a' OR region IN ('b', 'c')", "region", ["a", "b", "c"], ["d"]),
    ("year > 2000 AND year < 2003", "year", ["2001", "2002"], ["2000", "2003"]),
    (
        "year BETWEEN 2000 AND 2010 AND year IN (1999, 2005, 2011)",
        "year",
        ["2005"],
        ["1999", "2011", "2000"],
    ),
    ("dt > '2024/01/02'", "dt", ["2024/01/03", "2024/12"], ["2024/01/02", "2024/01/01"]),
    ("dt = '7'", "dt", ["7"], ["07"]),
    (
        "dt LIKE '2024/01/02/%'",
        "dt",
        ["2024/01/02/00", "2024/01/02/23"],
        ["2024/01/03/00", "2024/01/01/23", "2024/01/020"],
    ),
    ("dt LIKE '2024/01/02'", "dt", ["2024/01/02"], ["2024/01/02/00"]),
    ("day = DATE '2024-01-01'", "day", ["2024-01-01"], ["2024-01-02"]),
    ("day >= '2024-01-01'", "day", ["2024-01-01", "2025-06-30"], ["2023-12-31"]),
    ("day BETWEEN DATE '2024-01-01' AND DATE '2024-01-31'", "day", ["2024-01-15"], ["2024-02-01"]),
    ("day = CAST('2024-03-01' AS date)", "day", ["2024-03-01"], ["2024-03-02"]),
    (
        "ts >= TIMESTAMP '2024-01-01 10:00:00'",
        "ts",
        ["2024-01-01 10:00:00", "2024-01-02 00:00:00"],
        ["2024-01-01 09:59:59"],
    ),
    ("day >= TIMESTAMP '2024-01-01 10:00:00'", "day", ["2024-01-02"], ["2024-01-01"]),
    ("dt = CAST('x' AS varchar)", "dt", ["x"], ["y"]),
    ("year = CAST('2024' AS integer)", "year", ["2024"], ["2023"]),
    ("year = TRY_CAST('2024' AS integer)", "year", ["2024"], ["2023"]),
    ("flag = true", "flag", ["true", "TRUE"], ["false"]),
    ('"Year" = 1', "year", ["1"], ["2"]),
    ("(year = 1 AND dt = 'a') OR (year = 2 AND dt = 'b')", "year", ["1", "2"], ["3"]),
    ("(year BETWEEN 1 AND 3) OR year = 9", "year", ["1", "5", "9"], ["0", "10"]),
    ("(year > 5) OR (year > 2 AND x = 1)", "year", ["3", "6"], ["2"]),
]


@pytest.mark.parametrize(("predicate", "column", "allowed", "rejected"), ALLOWS_CASES)
def test_constraint_admits_exactly_the_matching_partition_values(
    predicate: str, column: str, allowed: list[str], rejected: list[str]
) -> None:
    found = constraints(predicate)
    assert column in found, f"{predicate!r} should constrain {column}"
    constraint = found[column]
    for value in allowed:
        assert constraint.allows(value), f"{predicate!r} should keep {value!r}"
    for value in rejected:
        assert not constraint.allows(value), f"{predicate!r} should drop {value!r}"


IGNORED = [
    "year <> 5",
    "NOT year = 5",
    "year NOT IN (1, 2)",
    "year IN (SELECT y FROM other)",
    "year = other_column",
    "year + 1 = 5",
    "lower(region) = 'x'",
    "year IS NULL",
    "year IS NOT NULL",
    "t.year = 5",
    "x = 5",
    "year = NULL",
    "year = 1 OR x = 2",
    "year = 1 OR region = 'a'",
    "dt NOT LIKE '2024%'",
    "dt LIKE '%01'",
    "dt LIKE '2024%' ESCAPE '!'",
    "year NOT BETWEEN 1 AND 5",
    "year IN (1, other_column)",
    "year = 'abc'",
    "day = 5",
    "CAST(year AS varchar) = '5'",
    "year > 1 OR year < 0 OR x = 1",
]


@pytest.mark.parametrize("predicate", IGNORED)
def test_conjuncts_that_are_not_partition_comparisons_with_literals_are_ignored(
    predicate: str,
) -> None:
    assert constraints(predicate) == {}


def test_missing_predicate_gives_no_constraints() -> None:
    assert extract_constraints(None, COLUMNS) == {}


def test_non_partition_filters_leave_partition_conjuncts_intact() -> None:
    found = constraints("eventname = 'ConsoleLogin' AND (col1 > 0 OR col2 < 10) AND dt = 'a'")
    assert set(found) == {"dt"}
    assert found["dt"].values == frozenset({"a"})


def test_range_keeps_bounds_and_inclusivity() -> None:
    found = constraints("year > 2000 AND year <= 2010 AND year >= 1990")
    assert found["year"].low == Bound(Decimal(2000), False)
    assert found["year"].high == Bound(Decimal(2010), True)
    assert found["year"].values is None


def test_equal_bounds_with_one_exclusive_end_is_empty() -> None:
    assert constraints("year >= 5 AND year < 5")["year"].is_empty
    assert not constraints("year >= 5 AND year <= 5")["year"].is_empty


@pytest.mark.parametrize(
    "predicate",
    ["year = 1 AND year = 2", "year IN (1, 2) AND year > 5", "year > 5 AND year < 3"],
)
def test_contradictions_allow_nothing(predicate: str) -> None:
    constraint = constraints(predicate)["year"]
    assert constraint.is_empty
    assert not any(constraint.allows(str(v)) for v in range(-10, 10))


def test_dates_compare_by_parsed_value_not_text() -> None:
    constraint = constraints("day >= DATE '2024-01-09'")["day"]
    assert constraint.low == Bound(datetime(2024, 1, 9), True)
    # As text '2024-01-10' < '2024-1-9'; as dates it is later.
    assert constraint.allows("2024-01-10")


def test_integers_compare_numerically_not_as_text() -> None:
    constraint = constraints("year < 10")["year"]
    assert constraint.allows("9")
    assert not constraint.allows("100")


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("device_id = 'b6319dc2-48c1-4cd5-a0a3-a1969f7b48f7'", True),
        ("device_id IN ('a', 'b')", True),
        ("device_id = 'a' OR device_id = 'b'", True),
        ("device_id = 'a' AND device_id > 'A'", True),
        ("device_id > 'a'", False),
        ("device_id LIKE 'a%'", False),
        ("device_id = 'a' OR col1 = 1", False),
        ("col1 > 0", False),
    ],
)
def test_has_equality_reports_static_equality_filters(predicate: str, expected: bool) -> None:
    found = extract_constraints(where(predicate), {"device_id": "string"})
    assert found.has_equality("device_id") is expected
    assert found.has_equality("DEVICE_ID") is expected


def test_null_partition_is_dropped_only_when_the_column_is_constrained() -> None:
    constraint = constraints("year > 1")["year"]
    assert not constraint.allows(HIVE_NULL_PARTITION)
    assert ColumnConstraint("year", "int").allows(HIVE_NULL_PARTITION)


def test_unconvertible_partition_values_are_kept_for_the_engine_to_decide() -> None:
    assert constraints("year = 5")["year"].allows("not-a-number")


def test_columns_without_comparable_type_are_never_constrained() -> None:
    found = extract_constraints(where("tags = 'a'"), {"tags": "array<string>"})
    assert found == {}


QUERY_START = datetime(2026, 11, 22, 6, 42, 17)

# (predicate, column, expected low bound or equality value)
CLOCK_CASES = [
    ("dt >= date_format(current_date - INTERVAL '7' DAY, '%Y/%m/%d')", "dt", "2026/11/15"),
    ("dt >= date_format(now() - INTERVAL '3' HOUR, '%Y/%m/%d/%H')", "dt", "2026/11/22/03"),
    ("dt >= date_format(current_timestamp, '%Y-%m-%d %H:%i')", "dt", "2026-11-22 06:42"),
    ("dt >= format_datetime(current_timestamp, 'yyyy/MM/dd/HH')", "dt", "2026/11/22/06"),
    ("dt >= CAST(current_date AS varchar)", "dt", "2026-11-22"),
    ("dt >= CAST(date_trunc('hour', now()) AS varchar)", "dt", "2026-11-22 06:00:00.000"),
    ("day >= current_date - INTERVAL '1' MONTH", "day", datetime(2026, 10, 22)),
    ("day >= INTERVAL '2' DAY + current_date", "day", datetime(2026, 11, 24)),
    ("day >= date_add('day', -1, current_date)", "day", datetime(2026, 11, 21)),
    ("day >= date_trunc('month', current_date)", "day", datetime(2026, 11, 1)),
    ("ts >= now() - INTERVAL '90' MINUTE", "ts", datetime(2026, 11, 22, 5, 12, 17)),
    ("ts >= date_add('hour', 3, current_timestamp)", "ts", datetime(2026, 11, 22, 9, 42, 17)),
    ("ts >= CAST(current_date AS timestamp)", "ts", datetime(2026, 11, 22)),
    ("year >= year(current_date)", "year", None),
    ("dt >= current_date", "dt", None),
    ("day >= current_date - INTERVAL '1.5' DAY", "day", None),
]


@pytest.mark.parametrize(("predicate", "column", "expected"), CLOCK_CASES)
def test_current_date_and_time_arithmetic_fold_into_bounds_given_the_query_start(
    predicate: str, column: str, expected: object
) -> None:
    found = extract_constraints(where(predicate), COLUMNS, now=QUERY_START)
    if expected is None:
        assert column not in found
        return
    assert found[column].low == Bound(expected, True)
    # Without a clock the same predicate cannot be evaluated and is ignored.
    assert column not in extract_constraints(where(predicate), COLUMNS)


def test_month_arithmetic_clamps_to_the_end_of_the_month() -> None:
    found = extract_constraints(
        where("day = current_date - INTERVAL '1' MONTH"), COLUMNS, now=datetime(2024, 3, 31, 12)
    )
    assert found["day"].values == frozenset({datetime(2024, 2, 29)})


def test_aware_query_start_is_read_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    found = extract_constraints(
        where("day = current_date"), COLUMNS, now=datetime(2026, 11, 22, 8, 0, tzinfo=tokyo)
    )
    assert found["day"].values == frozenset({datetime(2026, 11, 21)})


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024", "us-east-1"], True),
        (["2024", "eu-west-1"], False),
        (["2023", "us-east-1"], False),
        (["02024", "us-east-1"], True),
        ([HIVE_NULL_PARTITION, "us-east-1"], False),
    ],
)
def test_catalog_partitions_are_pruned_by_every_constrained_key(
    values: list[str], expected: bool
) -> None:
    found = constraints("year = 2024 AND region = 'us-east-1' AND payload LIKE '%x%'")
    assert partition_matches(found, ["Year", "region"], values) is expected
    assert partition_matches({}, ["year", "region"], values) is True


@pytest.mark.parametrize("connector", ["OR", "AND"])
def test_very_long_predicate_chains_do_not_exhaust_the_stack(connector: str) -> None:
    predicate = f" {connector} ".join(f"(year >= {i})" for i in range(3000))
    found = constraints(predicate)["year"]
    assert found.low == Bound(Decimal(0 if connector == "OR" else 2999), True)
