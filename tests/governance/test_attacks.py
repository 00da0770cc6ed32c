"""The attack catalogue: a salesperson ``rep`` holds SELECT on ``default.sales`` only
through a data cells filter (rows ``region = 'US'``, every column but ``card_number``),
SELECT on ``default.shops``, nothing on ``default.payroll``, and CREATE_TABLE in its own
sandbox database over its own bucket. Each test is one attempt to read what the filter,
the column exclusion or the missing grant hides, through a public interface (boto3 against
a real ``lakebox serve``, or ``lakebox.connect`` with the rep's keys), and asserts the
precise outcome: the error code, or an answer that holds only the visible rows and
columns and none of the hidden values (every hidden value carries ``SECRET`` or
``CARD-``).

Written from AWS's Lake Formation developer guide and Athena's documentation: LF is on
(empty create-database / create-table default permissions, so no new resource is held by
IAM_ALLOWED_PRINCIPALS), the data bucket is registered, and no persona but the data lake
admin has IAM permissions on it. docs/governance-attacks.md lists every attack.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import lakebox
from governance.personas_fixtures import (
    ACCOUNT,
    LF_USER_BASE,
    OTHER_ACCOUNT,
    Outcome,
    Persona,
    client_factory,
    error_code,
    make_persona,
    principal,
    results_statements,
    run_query,
    s3_bucket_statements,
    wait_crawler,
)
from server.conftest import REGION, ClientFactory, Served, serving

pytestmark = pytest.mark.xdist_group("server")

DATA = "atk-data"
RESULTS = "atk-results"
SANDBOX = "atk-rep"
ROLE = "atk-crawler-role"
#: the admin's own workgroup: Athena shares query history and results within a workgroup,
#: so AWS's advice is one workgroup per audience, and IAM keeps the rep out of this one
ADMIN_WORKGROUP = "atk-admin-wg"

US = [
    [str(20 + i), str(100 + i), "US", str(10 + i), str(1001 + i), f"CARD-4111-US-{i:04d}"]
    for i in range(6)
]
EU = [
    [str(30 + i), str(200 + i), "EU", str(900 + i), f"EU-SECRET-{i:04d}", f"CARD-4111-EU-{i:04d}"]
    for i in range(5)
]
APAC = [
    [
        str(40 + i),
        str(300 + i),
        "APAC",
        str(800 + i),
        f"APAC-SECRET-{i:04d}",
        f"CARD-4111-AP-{i:04d}",
    ]
    for i in range(4)
]
SALES_DDL = (
    "CREATE EXTERNAL TABLE default.sales (shop_id int, item_id int, region string, price int, "
    "payment_id string, card_number string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
    f"LOCATION 's3://{DATA}/sales/'"
)
#: what the rep may see of a sales row: every column but card_number
VISIBLE_COLUMNS = ["shop_id", "item_id", "region", "price", "payment_id"]
US_VISIBLE = [r[:5] for r in US]
US_IDS = sorted(r[4] for r in US)
MARKERS = ("SECRET", "CARD-")


def no_leak(text: str) -> None:
    """None of the hidden values (filtered rows, the hidden column, payroll) is in
    ``text``."""
    for marker in MARKERS:
        assert marker not in text, f"hidden value {marker!r} leaked: {text[:2000]}"


def no_hidden_column(text: str) -> None:
    no_leak(text)
    assert "card_number" not in text.lower(), f"the hidden column's name leaked: {text[:2000]}"


def denied(out: Outcome) -> None:
    """The statement failed (or was refused) and told nothing hidden."""
    assert out.state in ("FAILED", "REFUSED"), f"not refused: {out}"
    no_leak(out.text())


def unknown_column(out: Outcome) -> None:
    """Naming the hidden column fails as an unknown column would (Athena's
    COLUMN_NOT_FOUND: "Column 'card_number' cannot be resolved")."""
    assert out.state == "FAILED", f"hidden column was usable: {out}"
    assert "cannot be resolved" in out.reason, out.reason
    no_leak(out.text())


def no_such_table(out: Outcome) -> None:
    """A table without any grant: the query fails as if it were missing or unauthorized."""
    assert out.state == "FAILED", f"ungranted table was readable: {out}"
    low = out.reason.lower()
    assert any(
        w in low
        for w in ("insufficient lake formation permission", "does not exist", "not authorized")
    ), out.reason
    no_leak(out.text())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("lf-attacks")) as (server, _):
        yield server


@pytest.fixture(scope="module")
def make(served: Served) -> ClientFactory:
    return client_factory(served)


@pytest.fixture(scope="module")
def world(make: ClientFactory, served: Served) -> dict[str, Persona]:
    """The lake as the data lake admin leaves it (see the module docstring)."""
    s3 = make("s3")
    for bucket in (DATA, RESULTS, SANDBOX):
        s3.create_bucket(Bucket=bucket)
    for name, rows in (("us", US), ("eu", EU), ("apac", APAC)):
        body = "".join(",".join(r) + "\n" for r in rows).encode()
        s3.put_object(Bucket=DATA, Key=f"sales/{name}.csv", Body=body)
    shops = "".join(f"{r[0]},shop-{r[0]},{r[2]}\n" for r in US + EU + APAC)
    s3.put_object(Bucket=DATA, Key="shops/shops.csv", Body=shops.encode())
    s3.put_object(Bucket=DATA, Key="payroll/dept=SECRETDEPT/p.csv", Body=b"alice-SECRET,250000\n")
    s3.put_object(Bucket=DATA, Key="promo/promo.csv", Body=b"PROMO-1,5\n")
    s3.put_object(Bucket=DATA, Key="targets/t.csv", Body=b"T-1\n")
    s3.put_object(Bucket=DATA, Key="vault/v.csv", Body=b"VAULT-SECRET\n")
    s3.put_object(Bucket=DATA, Key="orders/dept=eng/a.csv", Body=b"o-1,10\n")
    s3.put_object(Bucket=DATA, Key="orders/dept=SECRETHR/b.csv", Body=b"SECRET-o-2,20\n")

    admin = make_persona(
        make,
        "atk-admin",
        [
            {
                "Effect": "Allow",
                "Action": ["lakeformation:*", "glue:*", "athena:*", "iam:PassRole"],
                "Resource": "*",
            },
            *s3_bucket_statements(DATA, RESULTS),
        ],
        RESULTS,
    )
    iam = make("iam")
    iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["glue.amazonaws.com", "states.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    # the crawler's role may read the data bucket as far as IAM goes: only LF refuses
    iam.put_role_policy(
        RoleName=ROLE,
        PolicyName="crawl",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["glue:*", "athena:*"], "Resource": "*"},
                    *s3_bucket_statements(DATA, SANDBOX),
                ],
            }
        ),
    )
    rep = make_persona(
        make,
        "atk-rep",
        [
            *LF_USER_BASE,
            *results_statements(RESULTS, "atk-rep"),
            *s3_bucket_statements(SANDBOX),
            {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "athena:*",
                "Resource": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{ADMIN_WORKGROUP}",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
            },
        ],
        RESULTS,
    )

    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "lakebox.cli",
            "workgroup",
            "create",
            ADMIN_WORKGROUP,
            "--home",
            str(served.home),
            "--output-location",
            f"s3://{RESULTS}/atk-admin/",
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))},
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    lf = make("lakeformation")
    lf.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [principal(admin.arn)],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
        }
    )
    lf = admin.client("lakeformation")
    # the guide's last step of leaving default mode: IAMAllowedPrincipals is no longer a
    # database creator
    lf.revoke_permissions(
        Principal=principal("IAM_ALLOWED_PRINCIPALS"),
        Resource={"Catalog": {}},
        Permissions=["CREATE_DATABASE"],
    )
    lf.register_resource(ResourceArn=f"arn:aws:s3:::{DATA}", UseServiceLinkedRole=True)
    for sql in (
        SALES_DDL,
        "CREATE EXTERNAL TABLE default.shops (shop_id int, shop_name string, region string) "
        f"ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://{DATA}/shops/'",
        "CREATE EXTERNAL TABLE default.payroll (name string, salary int) "
        "PARTITIONED BY (dept string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        f"LOCATION 's3://{DATA}/payroll/'",
        "ALTER TABLE default.payroll ADD PARTITION (dept='SECRETDEPT')",
        "CREATE EXTERNAL TABLE default.promo (code string, pct int) "
        f"ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://{DATA}/promo/'",
        f"CREATE EXTERNAL TABLE default.targets (code string) LOCATION 's3://{DATA}/targets/'",
        f"CREATE EXTERNAL TABLE default.vault (code string) LOCATION 's3://{DATA}/vault/'",
        "CREATE EXTERNAL TABLE default.orders (id string, amount int) PARTITIONED BY "
        "(dept string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        f"LOCATION 's3://{DATA}/orders/'",
        "MSCK REPAIR TABLE default.orders",
        "CREATE VIEW default.all_sales AS SELECT * FROM default.sales",
        "CREATE VIEW default.sales_ids AS SELECT payment_id, region FROM default.sales",
        "CREATE VIEW default.payroll_view AS SELECT * FROM default.payroll",
        "CREATE VIEW default.payroll_summary AS "
        "SELECT dept, max(name) AS top, sum(salary) AS total FROM default.payroll GROUP BY dept",
        f"CREATE DATABASE rep_sandbox LOCATION 's3://{SANDBOX}/sandbox/'",
    ):
        out = admin.query(sql)
        assert out.ok, f"setup: {sql}: {out.reason}"

    def table(name: str, db: str = "default") -> dict[str, Any]:
        return {"Table": {"CatalogId": ACCOUNT, "DatabaseName": db, "Name": name}}

    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "sales",
            "Name": "rep_us",
            "RowFilter": {"FilterExpression": "region = 'US'"},
            "ColumnWildcard": {"ExcludedColumnNames": ["card_number"]},
        }
    )
    lf.create_data_cells_filter(  # a row filter on the partition key
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "orders",
            "Name": "rep_eng",
            "RowFilter": {"FilterExpression": "dept = 'eng'"},
            "ColumnWildcard": {},
        }
    )
    grants: list[tuple[dict[str, Any], list[str]]] = [
        (
            {
                "DataCellsFilter": {
                    "TableCatalogId": ACCOUNT,
                    "DatabaseName": "default",
                    "TableName": "orders",
                    "Name": "rep_eng",
                }
            },
            ["SELECT"],
        ),
        (
            {
                "DataCellsFilter": {
                    "TableCatalogId": ACCOUNT,
                    "DatabaseName": "default",
                    "TableName": "sales",
                    "Name": "rep_us",
                }
            },
            ["SELECT"],
        ),
        (table("shops"), ["SELECT", "DESCRIBE"]),
        (table("targets"), ["SELECT", "DESCRIBE"]),
        (table("all_sales"), ["SELECT", "DESCRIBE"]),
        (table("sales_ids"), ["SELECT", "DESCRIBE"]),
        (table("payroll_summary"), ["SELECT", "DESCRIBE"]),
        ({"Database": {"CatalogId": ACCOUNT, "Name": "rep_sandbox"}}, ["CREATE_TABLE", "DESCRIBE"]),
    ]
    for resource, permissions in grants:
        lf.grant_permissions(
            Principal=principal(rep.arn), Resource=resource, Permissions=permissions
        )
    hr = make_persona(make, "atk-hr", LF_USER_BASE, RESULTS)
    lf.grant_permissions(
        Principal=principal(hr.arn), Resource=table("payroll"), Permissions=["SELECT"]
    )
    # the crawler's role may create tables in the sandbox, but holds no DATA_LOCATION_ACCESS
    lf.grant_permissions(
        Principal=principal(f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"),
        Resource={"Database": {"CatalogId": ACCOUNT, "Name": "rep_sandbox"}},
        Permissions=["CREATE_TABLE", "DESCRIBE"],
    )
    assert admin.query("SELECT count(*) FROM default.sales").rows == [["15"]]
    return {"admin": admin, "rep": rep}


@pytest.fixture(scope="module")
def rep(world: dict[str, Persona]) -> Persona:
    return world["rep"]


@pytest.fixture(scope="module")
def admin(world: dict[str, Persona]) -> Persona:
    return world["admin"]


def _visible(out: Outcome, expected: Sequence[Sequence[str | None]]) -> None:
    assert out.ok, f"{out.state}: {out.reason}"
    no_leak(out.text())
    assert out.rows == expected, out.rows


# -- 1. rows: statements that must answer from the US rows only ------------------------------

US_COUNT = str(len(US))
US_SUM = str(sum(int(r[3]) for r in US))
ROW_PROBES: list[tuple[str, str, list[list[str | None]]]] = [
    ("count_all", "SELECT count(*) FROM sales", [[US_COUNT]]),
    ("where_region_eu", "SELECT count(*) FROM sales WHERE region = 'EU'", [["0"]]),
    ("where_not_us", "SELECT payment_id FROM sales WHERE region <> 'US'", []),
    (
        "subquery_in_from",
        "SELECT count(*) FROM (SELECT * FROM sales) WHERE region IN ('EU', 'APAC')",
        [["0"]],
    ),
    (
        "exists_subquery",
        "SELECT count(*) FROM shops sh WHERE EXISTS "
        "(SELECT 1 FROM sales s WHERE s.shop_id = sh.shop_id AND s.region = 'EU')",
        [["0"]],
    ),
    (
        "in_subquery",
        "SELECT shop_name FROM shops WHERE shop_id IN (SELECT shop_id FROM sales) ORDER BY 1",
        [[f"shop-{r[0]}"] for r in US],
    ),
    ("scalar_subquery", "SELECT (SELECT max(price) FROM sales)", [[US[-1][3]]]),
    (
        "cte",
        "WITH s AS (SELECT * FROM sales) SELECT region, count(*) FROM s GROUP BY region",
        [["US", US_COUNT]],
    ),
    (
        "chained_ctes",
        "WITH a AS (SELECT * FROM sales), b AS (SELECT * FROM a WHERE region = 'EU') "
        "SELECT count(*) FROM b",
        [["0"]],
    ),
    (
        "union_all",
        "SELECT payment_id FROM sales WHERE region = 'EU' "
        "UNION ALL SELECT payment_id FROM sales WHERE region = 'APAC'",
        [],
    ),
    ("union_distinct", "SELECT region FROM sales UNION SELECT region FROM sales", [["US"]]),
    (
        "except",
        "SELECT payment_id FROM sales EXCEPT SELECT payment_id FROM sales WHERE region = 'US'",
        [],
    ),
    (
        "unnest_of_aggregated_array",
        "SELECT x.p FROM (SELECT array_agg(payment_id) AS a FROM sales) "
        "CROSS JOIN UNNEST(a) AS x(p) ORDER BY 1",
        [[i] for i in US_IDS],
    ),
    (
        "unnest_of_rows",
        "SELECT p, g FROM (SELECT array_agg(CAST(ROW(payment_id, region) AS "
        "ROW(p varchar, g varchar))) AS a FROM sales) CROSS JOIN UNNEST(a) AS t(p, g) ORDER BY 1",
        [[i, "US"] for i in US_IDS],
    ),
    (
        "join_with_visible_table",
        "SELECT s.payment_id, sh.shop_name FROM sales s JOIN shops sh "
        "ON s.shop_id = sh.shop_id ORDER BY 1",
        [[r[4], f"shop-{r[0]}"] for r in US],
    ),
    (
        "left_join_from_visible_table",
        "SELECT count(s.payment_id), count(*) FROM shops sh LEFT JOIN sales s "
        "ON s.shop_id = sh.shop_id",
        [[US_COUNT, str(len(US) + len(EU) + len(APAC))]],
    ),
    (
        "full_outer_self_join",
        "SELECT count(*) FROM sales a FULL JOIN sales b ON a.payment_id = b.payment_id",
        [[US_COUNT]],
    ),
    ("cross_self_join", "SELECT count(*) FROM sales a CROSS JOIN sales b", [[str(len(US) ** 2)]]),
    (
        "aggregates",
        "SELECT count(*), sum(price), min(payment_id), max(payment_id), "
        "count(DISTINCT region) FROM sales",
        [[US_COUNT, US_SUM, US_IDS[0], US_IDS[-1], "1"]],
    ),
    ("window_count_over_all", "SELECT DISTINCT count(*) OVER () FROM sales", [[US_COUNT]]),
    (
        "window_row_number",
        "SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY price) AS r FROM sales)",
        [[US_COUNT]],
    ),
    (
        "group_by_having",
        "SELECT region FROM sales GROUP BY region HAVING count(*) > 0",
        [["US"]],
    ),
    (
        "order_by_limit_top_price",
        "SELECT payment_id FROM sales ORDER BY price DESC LIMIT 1",
        [[US[-1][4]]],
    ),
    (
        "division_by_zero_in_where",
        "SELECT count(*) FROM sales WHERE 1 / (CASE WHEN region = 'EU' THEN 0 ELSE 1 END) = 1",
        [[US_COUNT]],
    ),
    (
        "division_by_zero_in_select",
        "SELECT 1 / (CASE WHEN region = 'EU' THEN 0 ELSE 1 END) FROM sales",
        [["1"]] * len(US),
    ),
    (
        "cast_error_probe",
        "SELECT sum(CAST(payment_id AS integer)) FROM sales",
        [[str(sum(int(i) for i in US_IDS))]],
    ),
    (
        "try_cast_probe",
        "SELECT count(*) FROM sales WHERE try(CAST(payment_id AS integer)) IS NULL",
        [["0"]],
    ),
    (
        "path_column",
        'SELECT DISTINCT "$path" FROM sales',
        [[f"s3://{DATA}/sales/us.csv"]],
    ),
    (
        "path_in_where",
        "SELECT count(*) FROM sales WHERE \"$path\" LIKE '%eu.csv' OR \"$path\" LIKE '%apac%'",
        [["0"]],
    ),
    (
        "values_left_join_probe",
        "SELECT v.r, count(s.shop_id) FROM (VALUES 'EU', 'US') AS v(r) "
        "LEFT JOIN sales s ON s.region = v.r GROUP BY v.r ORDER BY 1",
        [["EU", "0"], ["US", US_COUNT]],
    ),
    (
        "tablesample",
        "SELECT count(*) FROM sales TABLESAMPLE BERNOULLI (100)",
        [[US_COUNT]],
    ),
    (
        "in_subquery_qualified",
        "SELECT shop_name FROM shops sh WHERE sh.shop_id IN (SELECT s.shop_id FROM sales s) "
        "ORDER BY 1",
        [[f"shop-{r[0]}"] for r in US],
    ),
    (
        "exists_uncorrelated_qualified",
        "SELECT count(*) FROM shops sh WHERE EXISTS (SELECT 1 FROM sales s WHERE s.region = 'EU')",
        [["0"]],
    ),
    ("constant_projection", "SELECT 1 FROM sales", [["1"]] * len(US)),
    ("path_only_count", 'SELECT count(DISTINCT "$path") FROM sales', [["1"]]),
    (
        "cte_named_like_the_table",
        "WITH sales AS (SELECT * FROM default.sales) SELECT count(*) FROM sales",
        [[US_COUNT]],
    ),
    (
        "cte_shadowing_a_visible_table",
        "WITH shops AS (SELECT * FROM sales) SELECT count(*) FROM shops",
        [[US_COUNT]],
    ),
    (
        "catalog_qualified_in_exists",
        "SELECT count(*) FROM shops sh WHERE EXISTS "
        "(SELECT 1 FROM awsdatacatalog.default.sales s WHERE s.region = 'EU')",
        [["0"]],
    ),
    (
        "quoted_upper_name_in_exists",
        'SELECT count(*) FROM shops sh WHERE EXISTS (SELECT 1 FROM "SALES" s '
        "WHERE s.region = 'APAC')",
        [["0"]],
    ),
    (
        "rollup",
        "SELECT region, count(*) FROM sales GROUP BY ROLLUP (region) ORDER BY region NULLS LAST",
        [["US", US_COUNT], [None, US_COUNT]],
    ),
    ("max_by", "SELECT max_by(payment_id, price) FROM sales", [[US[-1][4]]]),
    (
        "not_in_subquery",
        "SELECT count(*) FROM shops WHERE shop_id NOT IN (SELECT shop_id FROM sales)",
        [[str(len(EU + APAC))]],
    ),
    (
        "in_subquery_in_select_list",
        "SELECT count_if(shop_id IN (SELECT shop_id FROM sales)) FROM shops",
        [[US_COUNT]],
    ),
    (
        "quantified_any",
        "SELECT shop_name FROM shops WHERE shop_id = ANY (SELECT shop_id FROM sales) ORDER BY 1",
        [[f"shop-{r[0]}"] for r in US],
    ),
    (
        "quantified_all",
        "SELECT count(*) FROM shops WHERE shop_id > ALL (SELECT shop_id FROM sales)",
        [[str(len(EU + APAC))]],
    ),
    (
        "scalar_subquery_in_where",
        "SELECT shop_name FROM shops WHERE shop_id = (SELECT max(shop_id) FROM sales)",
        [[f"shop-{US[-1][0]}"]],
    ),
    (
        "correlated_scalar_in_select",
        "SELECT sum((SELECT count(*) FROM sales s WHERE s.shop_id = sh.shop_id)) FROM shops sh",
        [[US_COUNT]],
    ),
    (
        "in_subquery_in_having",
        "SELECT region FROM shops GROUP BY region "
        "HAVING max(shop_id) IN (SELECT max(shop_id) FROM sales) ORDER BY 1",
        [["US"]],
    ),
    (
        "in_subquery_in_join_on",
        "SELECT count(*) FROM shops a JOIN shops b "
        "ON a.shop_id = b.shop_id AND a.shop_id IN (SELECT shop_id FROM sales)",
        [[US_COUNT]],
    ),
    (
        "in_subquery_inside_cte",
        "WITH x AS (SELECT shop_id FROM shops WHERE shop_id IN (SELECT shop_id FROM sales)) "
        "SELECT count(*) FROM x",
        [[US_COUNT]],
    ),
    (
        "exists_uncorrelated",
        "SELECT count(*) FROM shops WHERE EXISTS (SELECT 1 FROM sales WHERE region = 'EU')",
        [["0"]],
    ),
    (
        "in_subquery_on_sales_itself",
        "SELECT count(*) FROM sales WHERE payment_id IN "
        "(SELECT payment_id FROM sales WHERE region = 'EU')",
        [["0"]],
    ),
    (
        "lateral_subquery",
        "SELECT count(*) FROM shops sh CROSS JOIN LATERAL "
        "(SELECT payment_id FROM sales s WHERE s.shop_id = sh.shop_id)",
        [[US_COUNT]],
    ),
    (
        "intersect",
        "SELECT shop_id FROM shops INTERSECT SELECT shop_id FROM sales ORDER BY 1",
        [[r[0]] for r in US],
    ),
    (
        "visible_view_granted_by_admin",
        "SELECT payment_id, region FROM sales_ids ORDER BY 1",
        [[i, "US"] for i in US_IDS],
    ),
]


@pytest.mark.parametrize(
    ("sql", "expected"), [p[1:] for p in ROW_PROBES], ids=[p[0] for p in ROW_PROBES]
)
def test_row_filter_holds(rep: Persona, sql: str, expected: list[list[str | None]]) -> None:
    _visible(rep.query(sql), expected)


def test_select_star_shows_visible_columns_and_rows(rep: Persona) -> None:
    out = rep.query("SELECT * FROM sales ORDER BY item_id")
    assert out.columns == VISIBLE_COLUMNS, out
    _visible(out, US_VISIBLE)


def test_select_t_star(rep: Persona) -> None:
    out = rep.query("SELECT t.* FROM sales t ORDER BY t.item_id")
    assert out.columns == VISIBLE_COLUMNS, out
    _visible(out, US_VISIBLE)


#: names of the sales table that the rep might try (Athena identifiers are case-insensitive;
#: back-quotes are DDL-only quoting, a syntax error in a query)
NAME_TRICKS = [
    "sales",
    '"sales"',
    '"SALES"',
    '"Sales"',
    "SALES",
    "default.sales",
    '"default"."sales"',
    "DEFAULT.SALES",
    "awsdatacatalog.default.sales",
    '"AwsDataCatalog"."default"."sales"',
    "AWSDATACATALOG.DEFAULT.SALES",
]


@pytest.mark.parametrize("name", NAME_TRICKS)
def test_case_and_quoting_of_the_table_name(rep: Persona, name: str) -> None:
    out = rep.query(f"SELECT * FROM {name} ORDER BY item_id")
    assert out.columns == VISIBLE_COLUMNS, out
    _visible(out, US_VISIBLE)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM (TABLE sales)", [[US_COUNT]]),
        ('SELECT count(*) FROM "sales$partitions"', [["0"]]),
    ],
    ids=["table_statement", "partitions_metadata_table"],
)
def test_other_table_syntax(rep: Persona, sql: str, expected: list[list[str]]) -> None:
    """Trino's ``TABLE t`` and Athena's ``"t$partitions"``: refused (if not served), or
    the visible answer."""
    out = rep.query(sql)
    if out.ok:
        _visible(out, expected)
    else:
        denied(out)


def test_partitions_metadata_table_of_an_ungranted_table(rep: Persona) -> None:
    out = rep.query('SELECT * FROM "payroll$partitions"')
    denied(out)
    assert "SECRETDEPT" not in out.text()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; SELECT * FROM payroll",
        "SELECT * FROM shops; SELECT card_number FROM sales",
        "SELECT * FROM payroll -- ; SELECT 1",
        "SELECT * FROM /* sales */ payroll",
    ],
    ids=["two_statements", "two_statements_hidden_column", "comment_tail", "comment_inside"],
)
def test_statement_smuggling(rep: Persona, sql: str) -> None:
    """One query, one statement (Athena refuses several); comments change nothing."""
    out = rep.query(sql)
    denied(out)
    assert "250000" not in out.text()


def test_back_quoted_name_is_a_syntax_error(rep: Persona) -> None:
    out = rep.query("SELECT * FROM `default`.`sales`")
    assert out.state == "FAILED", out
    no_leak(out.text())


@pytest.mark.parametrize(
    "name", ["payroll", '"PAYROLL"', "default.payroll", "awsdatacatalog.default.payroll"]
)
def test_an_ungranted_table_under_any_name(rep: Persona, name: str) -> None:
    no_such_table(rep.query(f"SELECT * FROM {name}"))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM shops WHERE shop_id IN (SELECT salary FROM payroll)",
        "SELECT count(*) FROM shops WHERE EXISTS (SELECT 1 FROM payroll WHERE salary > 0)",
        "SELECT count(*) FROM shops WHERE shop_id < ALL (SELECT salary FROM payroll)",
        "SELECT (SELECT max(salary) FROM payroll)",
        "SELECT count(*) FROM shops sh CROSS JOIN LATERAL (SELECT name FROM payroll)",
    ],
    ids=["in", "exists", "all", "scalar", "lateral"],
)
def test_an_ungranted_table_inside_a_subquery(rep: Persona, sql: str) -> None:
    no_such_table(rep.query(sql))


def test_an_ungranted_partition_pseudo_column(rep: Persona) -> None:
    no_such_table(rep.query('SELECT "$partition", "$path" FROM payroll'))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT DISTINCT dept FROM orders", [["eng"]]),
        ("SELECT count(*), max(dept), min(dept) FROM orders", [["1", "eng", "eng"]]),
        ('SELECT DISTINCT "$partition" FROM orders', [["dept=eng"]]),
        ("SELECT count(*) FROM orders WHERE dept <> 'eng'", [["0"]]),
        ("SELECT id FROM orders", [["o-1"]]),
        ('SELECT DISTINCT "$path" FROM orders', [[f"s3://{DATA}/orders/dept=eng/a.csv"]]),
        ("SELECT count(*) FROM orders WHERE dept LIKE 'SECRET%'", [["0"]]),
    ],
    ids=[
        "distinct_key",
        "aggregates_of_key",
        "partition_column",
        "other_partitions",
        "rows",
        "path",
        "key_predicate",
    ],
)
def test_row_filter_on_the_partition_key(rep: Persona, sql: str, expected: list[list[str]]) -> None:
    """A filter on the partition key must hold where engines answer from partition
    metadata alone (DISTINCT / min / max of the key, "$partition")."""
    _visible(rep.query(sql), expected)


def test_show_partitions_of_a_filtered_table(rep: Persona) -> None:
    """SHOW PARTITIONS names partition values, which a filter on the key hides: refused,
    or only the visible partition (AWS's own answer here is unverified; the issue asks
    that no value of a filtered row leak)."""
    out = rep.query("SHOW PARTITIONS orders")
    no_leak(out.text())
    if out.ok:
        assert out.rows == [["dept=eng"]], out.rows


def test_glue_get_partitions_of_a_filtered_table(rep: Persona) -> None:
    try:
        found = rep.client("glue").get_partitions(DatabaseName="default", TableName="orders")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException", exc.response
        return
    assert [p["Values"] for p in found["Partitions"]] == [["eng"]], found["Partitions"]


def test_glue_get_partition_existence_oracle(rep: Persona) -> None:
    """GetPartition of the hidden partition answers exactly as for one that never existed
    (or refuses both): the error must not tell that ``dept=SECRETHR`` exists."""
    glue = rep.client("glue")

    def outcome(value: str) -> tuple[str, str]:
        try:
            got = glue.get_partition(
                DatabaseName="default", TableName="orders", PartitionValues=[value]
            )
        except ClientError as exc:
            err = exc.response["Error"]
            return str(err["Code"]), str(err.get("Message", "")).replace(value, "<v>")
        return "FOUND", json.dumps(got["Partition"]["Values"])

    hidden, missing = outcome("SECRETHR"), outcome("NOPE0000")
    assert hidden[0] != "FOUND", hidden
    assert hidden == missing, (hidden, missing)


# -- 2. the hidden column: naming it any way fails like an unknown column --------------------

COLUMN_PROBES = [
    ("plain", "SELECT card_number FROM sales"),
    ("quoted", 'SELECT "card_number" FROM sales'),
    ("upper_quoted", 'SELECT "CARD_NUMBER" FROM sales'),
    ("qualified_alias", "SELECT s.card_number FROM sales s"),
    ("fully_qualified", "SELECT default.sales.card_number FROM default.sales"),
    ("where_equals", "SELECT count(*) FROM sales WHERE card_number = 'CARD-4111-US-0000'"),
    ("where_like", "SELECT count(*) FROM sales WHERE card_number LIKE 'CARD-4111-EU%'"),
    ("count_distinct", "SELECT count(DISTINCT card_number) FROM sales"),
    ("max", "SELECT max(card_number) FROM sales"),
    ("order_by", "SELECT payment_id FROM sales ORDER BY card_number"),
    ("group_by", "SELECT count(*) FROM sales GROUP BY card_number"),
    ("window", "SELECT row_number() OVER (ORDER BY card_number) FROM sales"),
    ("case", "SELECT CASE WHEN card_number LIKE 'CARD%' THEN 1 END FROM sales"),
    (
        "row_constructor",
        "SELECT CAST(ROW(shop_id, card_number) AS ROW(a integer, b varchar)) FROM sales",
    ),
    (
        "row_field_access",
        "SELECT r.b FROM (SELECT CAST(ROW(shop_id, card_number) AS ROW(a integer, b varchar)) "
        "AS r FROM sales)",
    ),
    ("json", "SELECT json_format(CAST(ARRAY[card_number] AS JSON)) FROM sales"),
    ("unnest", "SELECT x FROM sales CROSS JOIN UNNEST(ARRAY[card_number]) AS t(x)"),
    ("cte", "WITH s AS (SELECT card_number FROM sales) SELECT * FROM s"),
    ("subquery", "SELECT c FROM (SELECT card_number AS c FROM sales)"),
    ("join_using", "SELECT count(*) FROM sales a JOIN sales b USING (card_number)"),
    ("length", "SELECT sum(length(card_number)) FROM sales"),
    (
        "in_subquery_predicate",
        "SELECT count(*) FROM shops WHERE shop_id IN "
        "(SELECT shop_id FROM sales WHERE card_number LIKE 'CARD-4111-EU%')",
    ),
    (
        "exists_predicate",
        "SELECT count(*) FROM shops sh WHERE EXISTS "
        "(SELECT 1 FROM sales s WHERE s.shop_id = sh.shop_id AND s.card_number LIKE 'CARD%')",
    ),
    (
        "any_subquery",
        "SELECT count(*) FROM shops WHERE shop_name = ANY (SELECT card_number FROM sales)",
    ),
]


#: a column sales never had, as long as the hidden one (so error positions match)
NO_SUCH = "cxrd_number"


def _same_error(out: Outcome, control: Outcome) -> None:
    """``out`` (naming card_number) fails exactly as ``control`` (naming a column that
    does not exist) does: same state, same message once the two names are swapped."""
    assert control.state == "FAILED", f"control statement did not fail: {control}"
    assert out.state == "FAILED", f"hidden column was usable: {out}"
    reason = out.reason.replace("card_number", NO_SUCH).replace("CARD_NUMBER", NO_SUCH.upper())
    assert reason == control.reason, f"distinguishable from a missing column: {out.reason!r}"
    no_leak(out.text())


@pytest.mark.parametrize("sql", [p[1] for p in COLUMN_PROBES], ids=[p[0] for p in COLUMN_PROBES])
def test_hidden_column_is_unknown(rep: Persona, sql: str) -> None:
    """Naming card_number fails word for word as naming a column that does not exist."""
    out = rep.query(sql)
    control = rep.query(sql.replace("card_number", NO_SUCH).replace("CARD_NUMBER", NO_SUCH.upper()))
    _same_error(out, control)


# -- 3. listings: SQL, information_schema, Glue and Athena metadata --------------------------


def test_information_schema_tables(rep: Persona) -> None:
    out = rep.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default' ORDER BY 1"
    )
    assert out.ok, out
    names = {r[0] for r in out.rows}
    assert {"sales", "shops"} <= names, names
    assert not names & {"payroll", "promo", "payroll_view"}, names


def test_information_schema_columns(rep: Persona) -> None:
    out = rep.query(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'default' AND table_name IN ('sales', 'payroll') ORDER BY 1"
    )
    assert out.ok, out
    no_hidden_column(out.text())
    assert [r[1] for r in out.rows if r[0] == "sales"] == VISIBLE_COLUMNS
    assert not [r for r in out.rows if r[0] == "payroll"]


def test_information_schema_views(rep: Persona) -> None:
    """Views the rep was granted are listed with their definitions (as DESCRIBE shows
    them); the admin's ungranted ``payroll_view`` is not."""
    out = rep.query(
        "SELECT table_name, view_definition FROM information_schema.views "
        "WHERE table_schema = 'default' ORDER BY 1"
    )
    assert out.ok, out
    assert [r[0] for r in out.rows] == ["all_sales", "payroll_summary", "sales_ids"], out.rows
    no_leak(out.text())


def test_show_tables(rep: Persona) -> None:
    out = rep.query("SHOW TABLES IN default")
    assert out.ok, out
    names = {r[0] for r in out.rows}
    assert {"sales", "shops"} <= names and "payroll" not in names, names


def test_show_columns(rep: Persona) -> None:
    out = rep.query("SHOW COLUMNS IN sales")
    assert out.ok, out
    no_hidden_column(out.text())
    assert [(r[0] or "").strip() for r in out.rows] == VISIBLE_COLUMNS


def test_describe_sales(rep: Persona) -> None:
    out = rep.query("DESCRIBE sales")
    assert out.ok, out
    no_hidden_column(out.text())


def test_show_create_table_sales(rep: Persona) -> None:
    out = rep.query("SHOW CREATE TABLE sales")
    assert out.ok, out
    no_hidden_column(out.text())
    assert "payment_id" in out.text()


@pytest.mark.parametrize(
    "sql",
    [
        "SHOW CREATE TABLE payroll",
        "DESCRIBE payroll",
        "SHOW COLUMNS IN payroll",
        "SHOW PARTITIONS payroll",
        "SHOW TBLPROPERTIES payroll",
        "SHOW CREATE VIEW payroll_view",
        "MSCK REPAIR TABLE payroll",
        "SHOW STATS FOR payroll",
        "SELECT * FROM payroll_view",
    ],
)
def test_ungranted_table_statements(rep: Persona, sql: str) -> None:
    denied(out := rep.query(sql))
    assert "SECRETDEPT" not in out.text() and "alice" not in out.text()


@pytest.mark.parametrize(
    "sql",
    [
        "EXPLAIN SELECT * FROM sales",
        "EXPLAIN ANALYZE SELECT * FROM sales",
        "EXPLAIN (TYPE LOGICAL) SELECT * FROM sales WHERE region = 'EU'",
    ],
)
def test_explain(rep: Persona, sql: str) -> None:
    """EXPLAIN must not show the hidden column or the filtered values (the row filter's
    predicate may appear; its values are the rep's own)."""
    no_hidden_column(rep.query(sql).text())


def test_describe_of_the_hidden_column(rep: Persona) -> None:
    _same_error(rep.query("DESCRIBE sales card_number"), rep.query(f"DESCRIBE sales {NO_SUCH}"))


def test_show_stats(rep: Persona) -> None:
    """Statistics (if served) must not describe the hidden column or the hidden rows."""
    out = rep.query("SHOW STATS FOR sales")
    no_hidden_column(out.text())
    if out.ok:
        assert str(len(US + EU + APAC)) not in [c for r in out.rows for c in r if c], out.rows


def test_glue_column_statistics_of_the_hidden_column(rep: Persona) -> None:
    glue = rep.client("glue")
    try:
        answer = glue.get_column_statistics_for_table(
            DatabaseName="default", TableName="sales", ColumnNames=["card_number"]
        )
    except ClientError as exc:
        no_leak(str(exc))
        return
    assert answer.get("ColumnStatisticsList", []) == [], answer


def test_explain_of_ungranted_table(rep: Persona) -> None:
    denied(rep.query("EXPLAIN SELECT * FROM payroll"))


def test_glue_get_table(rep: Persona) -> None:
    glue = rep.client("glue")
    table = glue.get_table(DatabaseName="default", Name="sales")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == VISIBLE_COLUMNS
    no_hidden_column(json.dumps(table, default=str))


def test_glue_get_table_of_ungranted_table(rep: Persona) -> None:
    code = error_code(lambda: rep.client("glue").get_table(DatabaseName="default", Name="payroll"))
    assert code == "AccessDeniedException"


def test_glue_get_tables(rep: Persona) -> None:
    found = rep.client("glue").get_tables(DatabaseName="default")["TableList"]
    names = {t["Name"] for t in found}
    assert {"sales", "shops"} <= names and not names & {"payroll", "promo"}, names
    no_leak(json.dumps(found, default=str))
    (sales,) = [t for t in found if t["Name"] == "sales"]
    no_hidden_column(json.dumps(sales, default=str))


def test_glue_get_partitions_of_ungranted_table(rep: Persona) -> None:
    glue = rep.client("glue")
    try:
        answer = glue.get_partitions(DatabaseName="default", TableName="payroll")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException"
        no_leak(str(exc))
        return
    pytest.fail(f"partitions of payroll listed: {answer.get('Partitions')}")


def test_glue_get_table_versions(rep: Persona) -> None:
    glue = rep.client("glue")
    try:
        versions = glue.get_table_versions(DatabaseName="default", TableName="sales")
    except ClientError as exc:
        no_hidden_column(str(exc))
        return
    no_hidden_column(json.dumps(versions["TableVersions"], default=str))
    code = error_code(lambda: glue.get_table_versions(DatabaseName="default", TableName="payroll"))
    assert code != ""


def test_glue_search_tables(rep: Persona) -> None:
    try:
        found = rep.client("glue").search_tables(SearchText="payroll")["TableList"]
    except ClientError as exc:
        no_leak(str(exc))
        return
    assert [t["Name"] for t in found if t["Name"] == "payroll"] == []


def test_athena_get_table_metadata(rep: Persona) -> None:
    athena = rep.client("athena")
    meta = athena.get_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName="default", TableName="sales"
    )["TableMetadata"]
    assert [c["Name"] for c in meta["Columns"]] == VISIBLE_COLUMNS
    no_hidden_column(json.dumps(meta, default=str))
    code = error_code(
        lambda: athena.get_table_metadata(
            CatalogName="AwsDataCatalog", DatabaseName="default", TableName="payroll"
        )
    )
    assert code in ("MetadataException", "AccessDeniedException"), code


def test_athena_list_table_metadata(rep: Persona) -> None:
    found = rep.client("athena").list_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName="default"
    )["TableMetadataList"]
    names = {t["Name"] for t in found}
    assert {"sales", "shops"} <= names and not names & {"payroll", "promo"}, names
    no_leak(json.dumps(found, default=str))
    (sales,) = [t for t in found if t["Name"] == "sales"]
    no_hidden_column(json.dumps(sales, default=str))


# -- 4. views ---------------------------------------------------------------------------------


def test_view_over_filtered_table(rep: Persona) -> None:
    made = rep.query("CREATE VIEW rep_sandbox.v1 AS SELECT * FROM default.sales")
    assert made.ok, made
    out = rep.query("SELECT * FROM rep_sandbox.v1 ORDER BY item_id")
    _visible(out, US_VISIBLE)


def test_nested_views(rep: Persona) -> None:
    for sql in (
        "CREATE VIEW rep_sandbox.n1 AS SELECT * FROM default.sales WHERE price > 0",
        "CREATE VIEW rep_sandbox.n2 AS SELECT payment_id, region FROM rep_sandbox.n1",
        "CREATE VIEW rep_sandbox.n3 AS SELECT * FROM rep_sandbox.n2 WHERE region <> 'US'",
    ):
        assert rep.query(sql).ok, sql
    _visible(rep.query("SELECT count(*) FROM rep_sandbox.n3"), [["0"]])
    _visible(rep.query("SELECT payment_id FROM rep_sandbox.n2 ORDER BY 1"), [[i] for i in US_IDS])


def test_view_naming_the_hidden_column(rep: Persona) -> None:
    made = rep.query("CREATE VIEW rep_sandbox.cards AS SELECT card_number FROM default.sales")
    if made.ok:
        unknown_column(rep.query("SELECT * FROM rep_sandbox.cards"))
    else:
        unknown_column(made)


def test_view_over_ungranted_table(rep: Persona) -> None:
    made = rep.query("CREATE VIEW rep_sandbox.pay AS SELECT * FROM default.payroll")
    if made.ok:
        no_such_table(rep.query("SELECT * FROM rep_sandbox.pay"))
    else:
        no_such_table(made)


def test_admin_view_with_hidden_column_does_not_escalate(rep: Persona) -> None:
    """``all_sales`` (made by the admin, SELECT * over sales, card_number included) is
    granted to the rep: Athena runs a view with the invoker's permissions on its tables,
    so the view either fails for the rep or shows only what the rep sees of sales."""
    for sql, expected in (
        ("SELECT * FROM all_sales ORDER BY item_id", US_VISIBLE),
        ("SELECT payment_id FROM all_sales ORDER BY 1", [[i] for i in US_IDS]),
    ):
        out = rep.query(sql)
        if out.ok:
            _visible(out, expected)
        else:
            denied(out)


def test_admin_view_over_ungranted_table_does_not_escalate(rep: Persona) -> None:
    """``payroll_summary`` (the admin's view over payroll, granted to the rep): an Athena
    view runs with its invoker's permissions, and the rep holds none on payroll."""
    out = rep.query("SELECT * FROM payroll_summary")
    denied(out)
    assert "250000" not in out.text() and "alice" not in out.text()


# -- 5. copies: CTAS, INSERT, UNLOAD; and what they wrote ------------------------------------


def _objects_text(persona: Persona, bucket: str, prefix: str) -> str:
    """Every object under ``prefix`` read back with the persona's keys, as text (gzip
    files decompressed: UNLOAD and CTAS write TEXTFILE gzip-compressed by default)."""
    s3 = persona.client("s3")
    texts = []
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        texts.append(body.decode("latin-1"))
    return "\n".join(texts)


def test_ctas_copy_holds_only_visible_rows(rep: Persona) -> None:
    made = rep.query(
        "CREATE TABLE rep_sandbox.copy WITH (format = 'TEXTFILE', field_delimiter = ',', "
        f"external_location = 's3://{SANDBOX}/copy/') AS SELECT * FROM default.sales"
    )
    assert made.ok, made
    out = rep.query("SELECT * FROM rep_sandbox.copy ORDER BY item_id")
    assert out.columns == VISIBLE_COLUMNS
    _visible(out, US_VISIBLE)
    no_leak(_objects_text(rep, SANDBOX, "copy/"))


def test_insert_select_copies_no_filtered_row(rep: Persona) -> None:
    made = rep.query(
        "CREATE TABLE rep_sandbox.ins WITH (format = 'TEXTFILE', field_delimiter = ',', "
        f"external_location = 's3://{SANDBOX}/ins/') AS "
        "SELECT payment_id, region FROM default.sales WHERE false"
    )
    assert made.ok, made
    inserted = rep.query(
        "INSERT INTO rep_sandbox.ins SELECT payment_id, region FROM default.sales "
        "WHERE region <> 'US'"
    )
    assert inserted.ok, inserted
    _visible(rep.query("SELECT count(*) FROM rep_sandbox.ins"), [["0"]])
    inserted = rep.query("INSERT INTO rep_sandbox.ins SELECT payment_id, region FROM default.sales")
    assert inserted.ok, inserted
    _visible(rep.query("SELECT count(*) FROM rep_sandbox.ins"), [[US_COUNT]])
    no_leak(_objects_text(rep, SANDBOX, "ins/"))


def test_unload_to_the_reps_bucket(rep: Persona) -> None:
    out = rep.query(
        f"UNLOAD (SELECT * FROM default.sales) TO 's3://{SANDBOX}/unload/' "
        "WITH (format = 'TEXTFILE', field_delimiter = ',')"
    )
    assert out.ok, out
    written = _objects_text(rep, SANDBOX, "unload/")
    no_leak(written)
    for row in US:
        assert row[4] in written


def test_unload_of_the_hidden_column(rep: Persona) -> None:
    unknown_column(
        rep.query(
            f"UNLOAD (SELECT card_number FROM default.sales) TO 's3://{SANDBOX}/unload2/' "
            "WITH (format = 'TEXTFILE')"
        )
    )
    assert _objects_text(rep, SANDBOX, "unload2/") == ""


# -- 6. caches: result reuse, the plan cache, compacted copies -------------------------------


def test_result_reuse_across_principals(admin: Persona, rep: Persona) -> None:
    sql = "SELECT * FROM sales ORDER BY item_id"
    first = admin.query(sql, reuse_minutes=60)
    assert first.ok and len(first.rows) == len(US + EU + APAC), first
    out = rep.query(sql, reuse_minutes=60)
    assert out.columns == VISIBLE_COLUMNS, out
    _visible(out, US_VISIBLE)


def test_plan_cache_across_principals(admin: Persona, rep: Persona) -> None:
    sql = "SELECT payment_id, region FROM sales WHERE price > 0 ORDER BY 1"
    for _ in range(3):
        assert len(admin.query(sql).rows) == len(US + EU + APAC)
    _visible(rep.query(sql), [[i, "US"] for i in US_IDS])


def test_reading_another_workgroups_results(admin: Persona, rep: Persona) -> None:
    """The admin's query runs in the admin's workgroup, which the rep's IAM policy denies:
    GetQueryResults and GetQueryExecution of its id are refused (within one workgroup
    Athena shares history and results, as AWS documents; hence the separate workgroup)."""
    done = run_query(
        admin.client("athena"),
        "SELECT payment_id, card_number FROM sales",
        "default",
        admin.results,
        workgroup=ADMIN_WORKGROUP,
    )
    assert done.ok, done
    athena = rep.client("athena")
    for call in (
        lambda: athena.get_query_results(QueryExecutionId=done.qid),
        lambda: athena.get_query_execution(QueryExecutionId=done.qid),
    ):
        try:
            answer = call()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDeniedException", exc.response
            no_leak(str(exc))
            continue
        pytest.fail(f"the admin's query was shown to the rep: {str(answer)[:500]}")


def test_reading_another_principals_result_file(admin: Persona, rep: Persona) -> None:
    done = admin.query("SELECT payment_id FROM sales")
    assert done.ok, done
    code = error_code(
        lambda: rep.client("s3").get_object(Bucket=RESULTS, Key=f"atk-admin/{done.qid}.csv")
    )
    assert code == "AccessDenied"


def test_compacted_copy_built_for_the_admin(admin: Persona, rep: Persona, served: Served) -> None:
    """The admin reads sales until the lake keeps a compacted copy of it (docs/benchmarks.md:
    built in the background after two reads), then the rep reads it."""
    cache = Path(served.home) / "_lakebox" / "cache" / "compacted"
    deadline = time.monotonic() + 60
    while not (cache.exists() and any(p.is_file() for p in cache.rglob("*"))):
        assert admin.query("SELECT sum(price) FROM sales").ok
        assert time.monotonic() < deadline, "no compacted copy was built"
        time.sleep(1)
    out = rep.query("SELECT * FROM sales ORDER BY item_id")
    _visible(out, US_VISIBLE)
    _visible(rep.query("SELECT sum(price) FROM sales"), [[US_SUM]])


# -- 7. around the engine: S3, crawlers, DDL over the location -------------------------------


def test_s3_get_object_of_the_registered_location(rep: Persona) -> None:
    code = error_code(lambda: rep.client("s3").get_object(Bucket=DATA, Key="sales/eu.csv"))
    assert code == "AccessDenied"


def test_s3_list_and_head_of_the_registered_location(rep: Persona) -> None:
    s3 = rep.client("s3")
    assert error_code(lambda: s3.list_objects_v2(Bucket=DATA, Prefix="sales/")) == "AccessDenied"
    # HEAD answers have no body: botocore names the status
    assert error_code(lambda: s3.head_object(Bucket=DATA, Key="sales/eu.csv")) in (
        "403",
        "AccessDenied",
    )


def test_s3_copy_into_the_reps_bucket(rep: Persona) -> None:
    code = error_code(
        lambda: rep.client("s3").copy_object(
            Bucket=SANDBOX, Key="stolen.csv", CopySource={"Bucket": DATA, "Key": "sales/eu.csv"}
        )
    )
    assert code == "AccessDenied"


def test_s3_presigned_url_by_the_rep(rep: Persona) -> None:
    url = rep.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": DATA, "Key": "sales/eu.csv"}, ExpiresIn=60
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=30)
    assert exc.value.code == 403
    no_leak(exc.value.read().decode("latin-1"))


def test_external_table_over_the_registered_location(rep: Persona) -> None:
    """Without DATA_LOCATION_ACCESS, no table of the rep's may point at the data."""
    out = rep.query(
        "CREATE EXTERNAL TABLE rep_sandbox.mirror (shop_id int, item_id int, region string, "
        "price int, payment_id string, card_number string) ROW FORMAT DELIMITED FIELDS "
        f"TERMINATED BY ',' LOCATION 's3://{DATA}/sales/'"
    )
    denied(out)
    assert (
        error_code(lambda: rep.client("glue").get_table(DatabaseName="rep_sandbox", Name="mirror"))
        == "EntityNotFoundException"
    )


def test_glue_create_table_over_the_registered_location(rep: Persona) -> None:
    code = error_code(
        lambda: rep.client("glue").create_table(
            DatabaseName="rep_sandbox",
            TableInput={
                "Name": "mirror2",
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {
                    "Columns": [{"Name": "card_number", "Type": "string"}],
                    "Location": f"s3://{DATA}/sales/",
                    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
                    },
                },
            },
        )
    )
    assert code == "AccessDeniedException"


def test_moving_own_table_onto_the_registered_location(rep: Persona) -> None:
    made = rep.query(
        "CREATE EXTERNAL TABLE rep_sandbox.mine (shop_id int, item_id int, region string, "
        "price int, payment_id string, card_number string) ROW FORMAT DELIMITED FIELDS "
        f"TERMINATED BY ',' LOCATION 's3://{SANDBOX}/mine/'"
    )
    assert made.ok, made
    denied(rep.query(f"ALTER TABLE rep_sandbox.mine SET LOCATION 's3://{DATA}/sales/'"))
    glue = rep.client("glue")
    table = glue.get_table(DatabaseName="rep_sandbox", Name="mine")["Table"]
    descriptor = table["StorageDescriptor"]
    code = error_code(
        lambda: glue.update_table(
            DatabaseName="rep_sandbox",
            TableInput={
                "Name": "mine",
                "TableType": table.get("TableType", "EXTERNAL_TABLE"),
                "StorageDescriptor": {**descriptor, "Location": f"s3://{DATA}/sales/"},
            },
        )
    )
    assert code == "AccessDeniedException"
    _visible(rep.query("SELECT count(*) FROM rep_sandbox.mine"), [["0"]])


def test_altering_or_dropping_a_granted_table(rep: Persona) -> None:
    """SELECT on ``targets`` gives no ALTER or DROP (a dedicated table, so that a
    successful attack spoils no other test)."""
    denied(rep.query(f"ALTER TABLE default.targets SET LOCATION 's3://{SANDBOX}/x/'"))
    denied(rep.query("ALTER TABLE default.targets SET TBLPROPERTIES ('x' = 'y')"))
    denied(rep.query("DROP TABLE default.targets"))
    glue = rep.client("glue")
    assert (
        error_code(lambda: glue.delete_table(DatabaseName="default", Name="targets"))
        == "AccessDeniedException"
    )
    table = glue.get_table(DatabaseName="default", Name="targets")["Table"]
    moved = {
        "Name": "targets",
        "TableType": table.get("TableType", "EXTERNAL_TABLE"),
        "StorageDescriptor": {**table["StorageDescriptor"], "Location": f"s3://{SANDBOX}/x/"},
    }
    code = error_code(lambda: glue.update_table(DatabaseName="default", TableInput=moved))
    assert code == "AccessDeniedException"
    _visible(rep.query("SELECT code FROM targets"), [["T-1"]])


def test_s3_put_into_the_registered_location(rep: Persona) -> None:
    """Planting a file among sales' files (for others to read as sales rows)."""
    code = error_code(
        lambda: rep.client("s3").put_object(
            Bucket=DATA, Key="sales/planted.csv", Body=b"1,1,US,1,PLANTED,x\n"
        )
    )
    assert code == "AccessDenied"


def test_lake_formation_table_credentials(rep: Persona) -> None:
    """GetTemporaryGlueTableCredentials is for engines LF trusts; if it answers the rep at
    all, the keys it gives must not read the filtered rows' file."""
    lf = rep.client("lakeformation")
    try:
        got = lf.get_temporary_glue_table_credentials(
            TableArn=f"arn:aws:glue:{REGION}:{ACCOUNT}:table/default/sales",
            Permissions=["SELECT"],
            SupportedPermissionTypes=["COLUMN_PERMISSION", "CELL_FILTER_PERMISSION"],
        )
    except ClientError as exc:
        no_leak(str(exc))
        return
    s3 = rep.make("s3", got["AccessKeyId"], got["SecretAccessKey"])
    code = error_code(lambda: s3.get_object(Bucket=DATA, Key="sales/eu.csv"))
    assert code != "", "the vended credentials read the EU file"


def _tables_over_data(glue: Any, database: str) -> list[str]:
    return [
        t["Name"]
        for t in glue.get_tables(DatabaseName=database)["TableList"]
        if t.get("StorageDescriptor", {}).get("Location", "").startswith(f"s3://{DATA}")
    ]


def test_crawler_owned_by_the_rep(rep: Persona) -> None:
    """The rep's crawler, as a role IAM lets read the bucket: refused at creation
    (lakebox asks the definer for the targets' S3 permissions, which the rep lacks), or
    run and kept by LF (the role holds no DATA_LOCATION_ACCESS) from making any table over
    the data."""
    glue = rep.client("glue")
    try:
        glue.create_crawler(
            Name="rep-crawler",
            Role=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
            DatabaseName="rep_sandbox",
            TablePrefix="crawled_",
            Targets={"S3Targets": [{"Path": f"s3://{DATA}/"}]},
        )
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException", exc.response
        no_leak(str(exc))
    else:
        code = error_code(lambda: glue.start_crawler(Name="rep-crawler"))
        if code == "":
            wait_crawler(glue, "rep-crawler")
        else:
            assert code == "AccessDeniedException", code
    assert _tables_over_data(glue, "rep_sandbox") == []


def test_crawler_role_without_data_location_access(admin: Persona, rep: Persona) -> None:
    """The admin defines and starts the crawl (so IAM passes everywhere), but it acts as
    the role, which has CREATE_TABLE in the sandbox and no DATA_LOCATION_ACCESS on the
    registered bucket: no table over the data appears for the rep to read."""
    glue = admin.client("glue")
    glue.create_crawler(
        Name="role-crawler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
        DatabaseName="rep_sandbox",
        TablePrefix="rolecrawl_",
        Targets={"S3Targets": [{"Path": f"s3://{DATA}/sales/"}]},
    )
    glue.start_crawler(Name="role-crawler")
    crawler = wait_crawler(glue, "role-crawler")
    assert _tables_over_data(glue, "rep_sandbox") == [], crawler.get("LastCrawl")
    for name in _tables_over_data(rep.client("glue"), "rep_sandbox"):
        no_leak(rep.query(f"SELECT * FROM rep_sandbox.{name}").text())


def test_state_machine_running_as_a_passable_role(rep: Persona) -> None:
    """The rep may pass the crawler role (IAM lets it read the bucket) to a state machine
    of its own; the machine's Athena task runs as that role, which holds no Lake Formation
    grant on sales: the execution fails, and nothing it reports holds a hidden value."""
    sfn = rep.client("stepfunctions")
    definition = {
        "StartAt": "Query",
        "States": {
            "Query": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
                "Parameters": {
                    "QueryString": "SELECT payment_id, card_number FROM default.sales",
                    "WorkGroup": "primary",
                    "ResultConfiguration": {"OutputLocation": f"s3://{SANDBOX}/sfn/"},
                },
                "Next": "Rows",
            },
            "Rows": {
                "Type": "Task",
                "Resource": "arn:aws:states:::athena:getQueryResults",
                "Parameters": {"QueryExecutionId.$": "$.QueryExecution.QueryExecutionId"},
                "End": True,
            },
        },
    }
    arn = sfn.create_state_machine(
        name="rep-machine",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{ROLE}",
    )["stateMachineArn"]
    run = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=run))["status"] == "RUNNING":
        assert time.monotonic() < deadline, described
        time.sleep(0.2)
    assert described["status"] == "FAILED", described
    no_leak(json.dumps(described, default=str))
    history = sfn.get_execution_history(executionArn=run)["events"]
    no_leak(json.dumps(history, default=str))
    no_leak(_objects_text(rep, SANDBOX, "sfn/"))


def test_the_access_log_is_not_the_reps(admin: Persona, rep: Persona) -> None:
    """The access log (``lakebox_audit.access_log``, queried like CloudTrail's table) names
    every principal's statements and resources; the rep holds no grant on it."""
    assert admin.query("SELECT payment_id FROM sales WHERE payment_id = 'EU-SECRET-0001'").ok
    for sql in (
        "SELECT * FROM lakebox_audit.access_log",
        "SELECT count(*) FROM lakebox_audit.access_log",
    ):
        out = rep.query(sql)
        denied(out)
    glue = rep.client("glue")
    found = glue.get_tables(DatabaseName="default")["TableList"]
    assert "access_log" not in {t["Name"] for t in found}


# -- 8. another account, revoked grants, the Python API -------------------------------------


@pytest.fixture(scope="module")
def intruder(served: Served, make: ClientFactory, world: dict[str, Persona]) -> Persona:
    """An administrator of a second account (allowed everything by IAM in its own)."""
    session = lakebox.connect(served.home, create=False)
    try:
        iam = session.lake.iam
        iam.create_account(OTHER_ACCOUNT, name="elsewhere")
        iam.create_user("intruder", account_id=OTHER_ACCOUNT, admin=True)
        made = iam.create_access_key("intruder", account_id=OTHER_ACCOUNT)
    finally:
        session.lake.close()
    return Persona(
        "intruder",
        f"arn:aws:iam::{OTHER_ACCOUNT}:user/intruder",
        made.key.access_key_id,
        made.secret_access_key,
        make,
        f"s3://{RESULTS}/intruder/",
    )


def test_second_account_glue(intruder: Persona) -> None:
    glue = intruder.client("glue")
    code = error_code(
        lambda: glue.get_table(CatalogId=ACCOUNT, DatabaseName="default", Name="sales")
    )
    assert code in ("AccessDeniedException", "EntityNotFoundException"), code


def test_second_account_query(intruder: Persona) -> None:
    for sql in ("SELECT * FROM sales", "SELECT * FROM awsdatacatalog.default.sales"):
        out = run_query(intruder.client("athena"), sql, "default", intruder.results)
        denied(out)
        assert "1001" not in out.text()


def test_second_account_lake_formation(intruder: Persona) -> None:
    lf = intruder.client("lakeformation")
    code = error_code(
        lambda: lf.grant_permissions(
            CatalogId=ACCOUNT,
            Principal=principal(intruder.arn),
            Resource={"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "sales"}},
            Permissions=["SELECT"],
        )
    )
    assert code == "AccessDeniedException"


def test_second_account_s3(intruder: Persona) -> None:
    code = error_code(lambda: intruder.client("s3").get_object(Bucket=DATA, Key="sales/eu.csv"))
    assert code == "AccessDenied"


def test_revoked_grant_applies_to_the_next_statement(
    admin: Persona, rep: Persona, served: Served
) -> None:
    lf = admin.client("lakeformation")
    promo = {"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "promo"}}
    lf.grant_permissions(Principal=principal(rep.arn), Resource=promo, Permissions=["SELECT"])
    _visible(rep.query("SELECT code FROM promo"), [["PROMO-1"]])
    session = lakebox.connect(served.home, credentials=(rep.key, rep.secret), create=False)
    try:
        assert session.sql("SELECT code FROM default.promo").fetchall() == [("PROMO-1",)]
        lf.revoke_permissions(Principal=principal(rep.arn), Resource=promo, Permissions=["SELECT"])
        no_such_table(rep.query("SELECT code FROM promo"))
        with pytest.raises(lakebox.LakeboxError):
            session.sql("SELECT code FROM default.promo")
    finally:
        session.lake.close()


def test_python_api_with_the_reps_keys(served: Served, rep: Persona) -> None:
    session = lakebox.connect(served.home, credentials=(rep.key, rep.secret), create=False)
    try:
        got = session.sql("SELECT * FROM default.sales ORDER BY item_id")
        assert got.columns == VISIBLE_COLUMNS
        assert [[str(v) for v in r] for r in got.fetchall()] == US_VISIBLE
        with pytest.raises(lakebox.LakeboxError, match="cannot be resolved"):
            session.sql("SELECT card_number FROM default.sales")
        with pytest.raises(lakebox.LakeboxError):
            session.sql("SELECT * FROM default.payroll")
    finally:
        session.lake.close()


# -- 9. prepared statements and parameters --------------------------------------------------


def test_execution_parameters(rep: Persona) -> None:
    out = rep.query("SELECT count(*) FROM sales WHERE region = ?", parameters=["'EU'"])
    _visible(out, [["0"]])


def test_prepare_and_execute_using(rep: Persona) -> None:
    """Athena's PREPARE / EXECUTE ... USING: if served, the filter holds; if not, the
    statement fails without telling anything."""
    made = rep.query("PREPARE eu_probe FROM SELECT payment_id FROM sales WHERE region = ?")
    if not made.ok:
        denied(made)
        return
    _visible(rep.query("EXECUTE eu_probe USING 'EU'"), [])


def test_prepared_statement_api(rep: Persona) -> None:
    athena = rep.client("athena")
    try:
        athena.create_prepared_statement(
            StatementName="card_probe",
            WorkGroup="primary",
            QueryStatement="SELECT card_number FROM sales WHERE shop_id = ?",
        )
    except ClientError as exc:
        no_leak(str(exc))
        return
    unknown_column(rep.query("EXECUTE card_probe USING 20"))


# -- 10. the other doors: DB-API and the CLI -------------------------------------------------


def test_dbapi_with_the_reps_keys(served: Served, rep: Persona) -> None:
    import lakebox.dbapi

    conn = lakebox.dbapi.connect(str(served.home), credentials=(rep.key, rep.secret), create=False)
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT * FROM sales ORDER BY item_id")
        assert [d[0] for d in cursor.description] == VISIBLE_COLUMNS
        assert [[str(v) for v in r] for r in cursor.fetchall()] == US_VISIBLE
        with pytest.raises(lakebox.dbapi.Error, match="cannot be resolved"):
            cursor.execute("SELECT card_number FROM sales")
    finally:
        conn.close()


def _cli(served: Served, rep: Persona, sql: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEBOX_"))}
    env.update(AWS_ACCESS_KEY_ID=rep.key, AWS_SECRET_ACCESS_KEY=rep.secret)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lakebox.cli",
            "--profile",
            "@env",
            "sql",
            sql,
            "--home",
            str(served.home),
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_with_the_reps_keys(served: Served, rep: Persona) -> None:
    proc = _cli(served, rep, "SELECT * FROM sales ORDER BY item_id")
    assert proc.returncode == 0, proc.stderr
    no_hidden_column(proc.stdout + proc.stderr)
    for row in US:
        assert row[4] in proc.stdout
    proc = _cli(served, rep, "SELECT count(*) FROM sales WHERE card_number LIKE 'CARD%'")
    assert proc.returncode != 0
    assert "cannot be resolved" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    no_leak(proc.stdout + proc.stderr)


# -- 11. Lake Formation's own API: no self-service escalation (last: a success would
# change what the tests after it see) --------------------------------


def test_rep_cannot_grant_itself_a_table(rep: Persona) -> None:
    lf = rep.client("lakeformation")
    code = error_code(
        lambda: lf.grant_permissions(
            Principal=principal(rep.arn),
            Resource={"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "vault"}},
            Permissions=["SELECT"],
        )
    )
    assert code == "AccessDeniedException"
    no_such_table(rep.query("SELECT * FROM vault"))


def test_rep_cannot_make_itself_admin(rep: Persona) -> None:
    lf = rep.client("lakeformation")
    code = error_code(
        lambda: lf.put_data_lake_settings(DataLakeSettings={"DataLakeAdmins": [principal(rep.arn)]})
    )
    assert code == "AccessDeniedException"


def test_rep_cannot_tag_its_way_in(admin: Persona, rep: Persona) -> None:
    """The rep may SELECT tables tagged ``tier=public``; tagging ``vault`` (where it holds
    nothing) so needs ASSOCIATE on the tag and ALTER on the table, which it lacks."""
    lf = admin.client("lakeformation")
    lf.create_lf_tag(TagKey="tier", TagValues=["public", "private"])
    lf.grant_permissions(
        Principal=principal(rep.arn),
        Resource={
            "LFTagPolicy": {
                "CatalogId": ACCOUNT,
                "ResourceType": "TABLE",
                "Expression": [{"TagKey": "tier", "TagValues": ["public"]}],
            }
        },
        Permissions=["SELECT", "DESCRIBE"],
    )
    code = error_code(
        lambda: rep.client("lakeformation").add_lf_tags_to_resource(
            Resource={"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "vault"}},
            LFTags=[{"TagKey": "tier", "TagValues": ["public"]}],
        )
    )
    assert code == "AccessDeniedException"
    no_such_table(rep.query("SELECT * FROM vault"))
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "payroll"}},
        LFTags=[{"TagKey": "tier", "TagValues": ["private"]}],
    )
    rep_lf = rep.client("lakeformation")
    try:
        found = rep_lf.search_tables_by_lf_tags(
            Expression=[{"TagKey": "tier", "TagValues": ["private", "public"]}]
        )["TableList"]
    except ClientError as exc:
        no_leak(str(exc))
    else:
        assert "payroll" not in json.dumps(found, default=str), found
    code = error_code(
        lambda: rep_lf.get_resource_lf_tags(
            Resource={"Table": {"CatalogId": ACCOUNT, "DatabaseName": "default", "Name": "payroll"}}
        )
    )
    assert code == "AccessDeniedException"


def test_rep_sees_no_permissions_on_what_it_cannot_see(rep: Persona) -> None:
    """ListPermissions by a non-admin is filtered by the caller's own permissions: the
    HR user's grant on payroll (where the rep holds nothing) is not shown, nor is the
    rep told payroll's columns through it."""
    lf = rep.client("lakeformation")
    try:
        listed = lf.list_permissions()["PrincipalResourcePermissions"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDeniedException"
        return
    holders = {p["Principal"]["DataLakePrincipalIdentifier"] for p in listed}
    assert not [h for h in holders if h.endswith("user/atk-hr")], holders
    about_payroll = [p for p in listed if p["Resource"].get("Table", {}).get("Name") == "payroll"]
    assert about_payroll == [], about_payroll


def test_rep_cannot_grant_itself_an_all_rows_filter(rep: Persona) -> None:
    lf = rep.client("lakeformation")
    error_code(  # creating may or may not be refused; granting it must be
        lambda: lf.create_data_cells_filter(
            TableData={
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "default",
                "TableName": "sales",
                "Name": "rep_all",
                "RowFilter": {"AllRowsWildcard": {}},
                "ColumnWildcard": {},
            }
        )
    )
    code = error_code(
        lambda: lf.grant_permissions(
            Principal=principal(rep.arn),
            Resource={
                "DataCellsFilter": {
                    "TableCatalogId": ACCOUNT,
                    "DatabaseName": "default",
                    "TableName": "sales",
                    "Name": "rep_all",
                }
            },
            Permissions=["SELECT"],
        )
    )
    assert code in ("AccessDeniedException", "EntityNotFoundException"), code
    _visible(rep.query("SELECT count(*) FROM sales"), [[US_COUNT]])


def test_insert_into_the_granted_table(rep: Persona, admin: Persona) -> None:
    """SELECT through a filter gives no INSERT: no row of the rep's reaches sales (last,
    as a success would change every count)."""
    denied(rep.query("INSERT INTO default.sales VALUES (99, 999, 'US', 1, '9999', 'x')"))
    out = rep.query(
        "CREATE TABLE rep_sandbox.planted WITH (format = 'TEXTFILE', "
        f"external_location = 's3://{DATA}/planted/') AS SELECT 1 AS x"
    )
    denied(out)
    assert admin.query("SELECT count(*) FROM sales").rows == [[str(len(US + EU + APAC))]]


def test_a_narrowed_filter_is_not_served_from_caches(admin: Persona, rep: Persona) -> None:
    """The rep's filter is swapped for a narrower one (US rows under price 12): the same
    statement, with result reuse on, must answer from the new filter at once (a kept plan
    or a reused result of the wider filter would show rows no longer granted)."""
    sql = "SELECT payment_id FROM sales ORDER BY 1"
    _visible(rep.query(sql, reuse_minutes=60), [[i] for i in US_IDS])
    _visible(rep.query(sql, reuse_minutes=60), [[i] for i in US_IDS])
    lf = admin.client("lakeformation")

    def cells(name: str) -> dict[str, Any]:
        return {
            "DataCellsFilter": {
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "default",
                "TableName": "sales",
                "Name": name,
            }
        }

    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "sales",
            "Name": "rep_us_cheap",
            "RowFilter": {"FilterExpression": "region = 'US' AND price < 12"},
            "ColumnWildcard": {"ExcludedColumnNames": ["card_number"]},
        }
    )
    lf.grant_permissions(
        Principal=principal(rep.arn), Resource=cells("rep_us_cheap"), Permissions=["SELECT"]
    )
    lf.revoke_permissions(
        Principal=principal(rep.arn), Resource=cells("rep_us"), Permissions=["SELECT"]
    )
    try:
        cheap = sorted(r[4] for r in US if int(r[3]) < 12)
        _visible(rep.query(sql, reuse_minutes=60), [[i] for i in cheap])
    finally:
        lf.grant_permissions(
            Principal=principal(rep.arn), Resource=cells("rep_us"), Permissions=["SELECT"]
        )
        lf.revoke_permissions(
            Principal=principal(rep.arn), Resource=cells("rep_us_cheap"), Permissions=["SELECT"]
        )
    _visible(rep.query(sql, reuse_minutes=60), [[i] for i in US_IDS])


def test_two_filters_combine_cell_by_cell(admin: Persona, rep: Persona) -> None:
    """A second filter gives the rep the EU rows' shop_id only. Lake Formation combines
    filters cell by cell: the EU rows appear, every other cell of theirs is NULL, and a
    predicate on a hidden cell cannot find them (it sees the NULL, not the value)."""
    lf = admin.client("lakeformation")
    eu_shop = {
        "DataCellsFilter": {
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "sales",
            "Name": "rep_eu_shop",
        }
    }
    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "sales",
            "Name": "rep_eu_shop",
            "RowFilter": {"FilterExpression": "region = 'EU'"},
            "ColumnNames": ["shop_id"],
        }
    )
    lf.grant_permissions(Principal=principal(rep.arn), Resource=eu_shop, Permissions=["SELECT"])
    try:
        _visible(rep.query("SELECT count(*) FROM sales"), [[str(len(US + EU))]])
        _visible(
            rep.query("SELECT shop_id FROM sales ORDER BY shop_id"),
            [[r[0]] for r in US + EU],
        )
        for probe in (
            "SELECT count(*) FROM sales WHERE payment_id LIKE 'EU%'",
            "SELECT count(*) FROM sales WHERE region = 'EU'",
            "SELECT count(*) FROM sales WHERE price >= 900",
        ):
            _visible(rep.query(probe), [["0"]])
        out = rep.query("SELECT * FROM sales WHERE shop_id >= 30 ORDER BY shop_id")
        assert out.columns == VISIBLE_COLUMNS, out
        _visible(out, [[r[0], None, None, None, None] for r in EU])
    finally:
        lf.revoke_permissions(
            Principal=principal(rep.arn), Resource=eu_shop, Permissions=["SELECT"]
        )
    _visible(rep.query("SELECT count(*) FROM sales"), [[US_COUNT]])


def test_a_filter_on_a_column_the_rep_cannot_see(admin: Persona, rep: Persona) -> None:
    """The filter's own column may be hidden: rows are filtered on ``region`` before the
    projection drops it, and naming ``region`` then fails like a missing column."""
    lf = admin.client("lakeformation")

    def cells(name: str) -> dict[str, Any]:
        return {
            "DataCellsFilter": {
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "default",
                "TableName": "sales",
                "Name": name,
            }
        }

    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "default",
            "TableName": "sales",
            "Name": "rep_us_no_region",
            "RowFilter": {"FilterExpression": "region = 'US'"},
            "ColumnWildcard": {"ExcludedColumnNames": ["card_number", "region"]},
        }
    )
    lf.grant_permissions(
        Principal=principal(rep.arn), Resource=cells("rep_us_no_region"), Permissions=["SELECT"]
    )
    lf.revoke_permissions(
        Principal=principal(rep.arn), Resource=cells("rep_us"), Permissions=["SELECT"]
    )
    try:
        out = rep.query("SELECT * FROM sales ORDER BY item_id")
        assert out.columns == ["shop_id", "item_id", "price", "payment_id"], out
        _visible(out, [[r[0], r[1], r[3], r[4]] for r in US])
        hidden = rep.query("SELECT count(*) FROM sales WHERE region = 'EU'")
        missing = rep.query("SELECT count(*) FROM sales WHERE rxgion = 'EU'")
        assert hidden.state == missing.state == "FAILED", (hidden, missing)
        assert hidden.reason.replace("region", "rxgion") == missing.reason, hidden.reason
    finally:
        lf.grant_permissions(
            Principal=principal(rep.arn), Resource=cells("rep_us"), Permissions=["SELECT"]
        )
        lf.revoke_permissions(
            Principal=principal(rep.arn),
            Resource=cells("rep_us_no_region"),
            Permissions=["SELECT"],
        )
    _visible(rep.query("SELECT count(*) FROM sales"), [[US_COUNT]])
