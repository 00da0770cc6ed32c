"""Row filters of Lake Formation's data cells filters, as the planner reads them: Lake
Formation's PartiQL WHERE subset over the table's own columns, every column bound to the
scan, anything else refused (never dropped)."""

from __future__ import annotations

import pytest

from lakebox.catalog.model import Column, Table
from lakebox.sql.restriction import RowFilterError, parse_row_filter

SALES = Table(
    "shop",
    "sales",
    columns=[Column("shop_id", "int"), Column("region", "string"), Column("price", "double")],
    partition_keys=[Column("dt", "string")],
    location="s3://b/sales/",
)


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("region = 'eu'", '"q"."region" = \'eu\''),
        (
            "shop_id IN (1, 2) AND NOT price < 10",
            '"q"."shop_id" IN (1, 2) AND NOT "q"."price" < 10',
        ),
        (
            "dt BETWEEN '2024-01-01' AND '2024-12-31'",
            "\"q\".\"dt\" BETWEEN '2024-01-01' AND '2024-12-31'",
        ),
        ("REGION LIKE 'e%' OR price IS NULL", '"q"."region" LIKE \'e%\' OR "q"."price" IS NULL'),
        ("dt >= DATE '2024-01-01'", '"q"."dt" >= CAST(\'2024-01-01\' AS DATE)'),
        ('"shop_id" * 2 + 1 > -3', '"q"."shop_id" * 2 + 1 > -3'),
        ("TRUE", "TRUE"),
        ("price > CAST(-1 AS double)", '"q"."price" > CAST(-1 AS DOUBLE)'),
    ],
)
def test_the_subset_is_accepted_and_bound_to_the_scan(text: str, sql: str) -> None:
    assert parse_row_filter(SALES, text, "q").sql() == sql


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("region IN (SELECT region FROM other)", "subquery"),
        ("EXISTS (SELECT 1)", "only compare"),
        ("lower(region) = 'eu'", "only compare"),
        ("nosuch = 1", "not a column"),
        ("\"$path\" LIKE '%'", "not a column"),
        ("sales.region = 'eu'", "own columns"),
        ("other.t.region = 'eu'", "own columns"),
        ("region = 'eu') OR (1 = 1", "not a valid expression"),
        ("region = 'eu' UNION SELECT 1", "single boolean expression"),
        ("region = 'eu' GROUP BY region", "single boolean expression"),
        ("region = 'eu' LIMIT 1", "single boolean expression"),
        ("", "not a valid expression"),
        # a cast of a column fails on the rows it cannot convert, printing their cells
        ("CAST(region AS integer) > 0", "only CAST literals"),
        ("CAST(price + 1 AS varchar) = '2'", "only CAST literals"),
    ],
)
def test_anything_else_is_refused_naming_the_table(text: str, why: str) -> None:
    with pytest.raises(RowFilterError) as info:
        parse_row_filter(SALES, text, "q")
    assert "the row filter of shop.sales" in str(info.value)
    assert why in str(info.value)


def test_each_use_gets_its_own_tree() -> None:
    first = parse_row_filter(SALES, "region = 'eu'", "q")
    first.set("this", None)
    assert parse_row_filter(SALES, "region = 'eu'", "q").sql() == '"q"."region" = \'eu\''
