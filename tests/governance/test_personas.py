"""The seed's Lake Formation scenario, replayed from outside as AWS's developer guide tells
it: a data lake admin, a project leader and a data analyst (IAM users with their own keys),
buckets A and B, and a ``sales`` table, driven only through boto3's ``lakeformation``,
``glue``, ``athena``, ``s3`` and ``iam`` clients against a real ``lakebox serve``, and
through ``lakebox.connect`` with the same users' keys.

The tests of the walk-through run in file order (one lake per module): each step changes
the lake as the guide's admin would, then checks what each persona sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import lakebox
from governance.personas_fixtures import (
    ACCOUNT,
    LF_USER_BASE,
    Persona,
    client_factory,
    error_code,
    make_persona,
    principal,
    results_statements,
    s3_bucket_statements,
)
from server.conftest import ClientFactory, Served, serving

pytestmark = pytest.mark.xdist_group("server")

BUCKET_A = "lf-seed-a"
BUCKET_B = "lf-seed-b"
RESULTS = "lf-seed-results"
IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS"
COLUMNS = ["shop_id", "item_id", "date", "price", "payment_id", "region", "customer_email"]
ANALYST_COLUMNS = ["shop_id", "item_id", "date", "price"]


#: Lake Formation governs reads of registered data, not writes ("Lake Formation permissions
#: do not apply when writing objects to Amazon S3", Athena's guide): the leader's CTAS into
#: its own prefix of bucket A needs IAM permissions there
LEADER_WRITES: list[dict[str, Any]] = [
    {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{BUCKET_A}",
        "Condition": {"StringLike": {"s3:prefix": ["leader_work/*", "leader_work"]}},
    },
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        "Resource": f"arn:aws:s3:::{BUCKET_A}/leader_work/*",
    },
]


def _sales_rows() -> list[list[str]]:
    """200 sales: shops 20-27 (25 of them in shop 25), regions US / EU / APAC in turn."""
    rows = []
    for i in range(200):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i % 60)
        rows.append(
            [
                str(20 + i % 8),
                str(1000 + i),
                day.isoformat(),
                f"{1.5 * i + 0.25:.2f}",
                f"pay-{i:04d}",
                ("US", "EU", "APAC")[i % 3],
                f"customer{i}@example.com",
            ]
        )
    return rows


SALES = _sales_rows()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("lf-personas")) as (server, _):
        yield server


@pytest.fixture(scope="module")
def make(served: Served) -> ClientFactory:
    return client_factory(served)


@pytest.fixture(scope="module")
def people(make: ClientFactory) -> dict[str, Persona]:
    """The buckets, the sales data in bucket A, and the personas (made by the lake's
    first IAM administrator, who also names the data lake admin)."""
    s3 = make("s3")
    for bucket in (BUCKET_A, BUCKET_B, RESULTS):
        s3.create_bucket(Bucket=bucket)
    body = "".join(",".join(r) + "\n" for r in SALES).encode()
    s3.put_object(Bucket=BUCKET_A, Key="retail/sales/part-0.csv", Body=body)
    admin_policy = [
        {"Effect": "Allow", "Action": ["lakeformation:*", "glue:*", "athena:*"], "Resource": "*"},
        *s3_bucket_statements(BUCKET_A, BUCKET_B, RESULTS),
    ]
    people = {
        "admin": make_persona(make, "lf-admin", admin_policy, RESULTS),
        "leader": make_persona(
            make,
            "lf-leader",
            LF_USER_BASE + results_statements(RESULTS, "lf-leader") + LEADER_WRITES,
            RESULTS,
        ),
        "analyst": make_persona(
            make, "lf-analyst", LF_USER_BASE + results_statements(RESULTS, "lf-analyst"), RESULTS
        ),
        "rep": make_persona(
            make, "lf-rep-us", LF_USER_BASE + results_statements(RESULTS, "lf-rep-us"), RESULTS
        ),
    }
    return people


def _ok(persona: Persona, sql: str, database: str = "retail") -> list[list[str | None]]:
    out = persona.query(sql, database)
    assert out.ok, f"{persona.name}: {sql}: {out.state} {out.reason}"
    return out.rows


def _table(db: str = "retail", name: str = "sales") -> dict[str, Any]:
    return {"Table": {"CatalogId": ACCOUNT, "DatabaseName": db, "Name": name}}


def _database(db: str = "retail") -> dict[str, Any]:
    return {"Database": {"CatalogId": ACCOUNT, "Name": db}}


def _table_names(persona: Persona, database: str = "retail") -> list[str] | str:
    """GetTables' names, or the error code it answers."""
    try:
        found = persona.client("glue").get_tables(DatabaseName=database)["TableList"]
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return sorted(t["Name"] for t in found)


def _denied_reason(reason: str) -> bool:
    low = reason.lower()
    return any(
        words in low
        for words in (
            "insufficient lake formation permission",
            "not authorized",
            "does not exist",
            "access denied",
            "accessdenied",
        )
    )


# -- 1. default mode: IAMAllowedPrincipals holds everything ----------------------------------


def test_a_new_lake_is_in_default_mode(make: ClientFactory, people: dict[str, Persona]) -> None:
    """Before anyone changes a setting, the create-database and create-table defaults give
    ALL to IAM_ALLOWED_PRINCIPALS (the developer guide's "default settings")."""
    settings = make("lakeformation").get_data_lake_settings()["DataLakeSettings"]
    for key in ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions"):
        assert settings[key] == [{"Principal": principal(IAM_ALLOWED), "Permissions": ["ALL"]}], (
            settings
        )
    assert settings.get("DataLakeAdmins", []) == []
    creators = make("lakeformation").list_permissions(Resource={"Catalog": {}})
    held = {
        p["Principal"]["DataLakePrincipalIdentifier"]: p["Permissions"]
        for p in creators["PrincipalResourcePermissions"]
    }
    assert held.get(IAM_ALLOWED) == ["CREATE_DATABASE"], creators


def test_the_iam_admin_names_the_data_lake_admin(
    make: ClientFactory, people: dict[str, Persona]
) -> None:
    lf = make("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    settings["DataLakeAdmins"] = [principal(people["admin"].arn)]
    lf.put_data_lake_settings(DataLakeSettings=settings)
    got = people["admin"].client("lakeformation").get_data_lake_settings()["DataLakeSettings"]
    assert got["DataLakeAdmins"] == [principal(people["admin"].arn)]
    # an analyst cannot make itself an admin (only admins change the settings)
    code = error_code(
        lambda: (
            people["analyst"]
            .client("lakeformation")
            .put_data_lake_settings(
                DataLakeSettings={**got, "DataLakeAdmins": [principal(people["analyst"].arn)]}
            )
        )
    )
    assert code == "AccessDeniedException"


def test_the_admin_registers_both_buckets_and_builds_sales(people: dict[str, Persona]) -> None:
    admin = people["admin"]
    lf = admin.client("lakeformation")
    for bucket in (BUCKET_A, BUCKET_B):
        lf.register_resource(ResourceArn=f"arn:aws:s3:::{bucket}", UseServiceLinkedRole=True)
    listed = {r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]}
    assert {f"arn:aws:s3:::{BUCKET_A}", f"arn:aws:s3:::{BUCKET_B}"} <= listed
    _ok(admin, f"CREATE DATABASE retail LOCATION 's3://{BUCKET_A}/retail/'", "default")
    _ok(
        admin,
        "CREATE EXTERNAL TABLE sales (shop_id int, item_id int, `date` date, price double, "
        "payment_id string, region string, customer_email string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        f"LOCATION 's3://{BUCKET_A}/retail/sales/'",
    )
    assert _ok(admin, "SELECT count(*) FROM sales") == [["200"]]


def test_in_default_mode_the_analyst_reads_through_iam_allowed_principals(
    people: dict[str, Persona],
) -> None:
    """Default mode: the new database and table got ALL for IAM_ALLOWED_PRINCIPALS, so an
    IAM user with Athena and Glue permissions reads it (LF vends the data access: the
    analyst has no S3 permission on bucket A)."""
    admin, analyst = people["admin"], people["analyst"]
    granted = admin.client("lakeformation").list_permissions(Resource=_table())
    holders = {
        p["Principal"]["DataLakePrincipalIdentifier"]: p["Permissions"]
        for p in granted["PrincipalResourcePermissions"]
    }
    assert holders.get(IAM_ALLOWED) == ["ALL"], granted
    assert _ok(analyst, "SELECT count(*) FROM sales") == [["200"]]
    assert _table_names(analyst) == ["sales"]


# -- 2. governance on: empty defaults, IAM_ALLOWED_PRINCIPALS revoked -------------------------


def test_the_admin_turns_default_mode_off(people: dict[str, Persona]) -> None:
    lf = people["admin"].client("lakeformation")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    settings["CreateDatabaseDefaultPermissions"] = []
    settings["CreateTableDefaultPermissions"] = []
    lf.put_data_lake_settings(DataLakeSettings=settings)
    lf.revoke_permissions(Principal=principal(IAM_ALLOWED), Resource=_table(), Permissions=["ALL"])
    lf.revoke_permissions(
        Principal=principal(IAM_ALLOWED), Resource=_database(), Permissions=["ALL"]
    )
    # and IAMAllowedPrincipals is no longer a database creator (the catalog's CREATE_DATABASE)
    lf.revoke_permissions(
        Principal=principal(IAM_ALLOWED), Resource={"Catalog": {}}, Permissions=["CREATE_DATABASE"]
    )
    got = lf.get_data_lake_settings()["DataLakeSettings"]
    assert got["CreateDatabaseDefaultPermissions"] == []
    assert got["CreateTableDefaultPermissions"] == []


def test_the_analyst_first_sees_nothing(people: dict[str, Persona]) -> None:
    analyst = people["analyst"]
    assert _table_names(analyst) in ([], "AccessDeniedException", "EntityNotFoundException")
    names = [d["Name"] for d in analyst.client("glue").get_databases()["DatabaseList"]]
    assert "retail" not in names
    shown = analyst.query("SHOW TABLES IN retail", "default")
    assert not shown.ok or shown.rows == [], shown
    out = analyst.query("SELECT * FROM sales WHERE shop_id = 25 LIMIT 10", "retail")
    assert out.state == "FAILED" and _denied_reason(out.reason), out
    assert "pay-" not in out.text()


def test_with_describe_on_the_database_the_analyst_sees_it_but_no_tables(
    people: dict[str, Persona],
) -> None:
    admin, analyst = people["admin"], people["analyst"]
    admin.client("lakeformation").grant_permissions(
        Principal=principal(analyst.arn), Resource=_database(), Permissions=["DESCRIBE"]
    )
    names = [d["Name"] for d in analyst.client("glue").get_databases()["DatabaseList"]]
    assert "retail" in names
    assert _table_names(analyst) == []
    assert _ok(analyst, "SHOW TABLES IN retail", "default") == []
    out = analyst.query("SELECT * FROM sales WHERE shop_id = 25 LIMIT 10", "retail")
    assert out.state == "FAILED" and _denied_reason(out.reason), out


# -- 3. LF-tags ------------------------------------------------------------------------------


def test_tagging_sales_role_analyst_lets_the_analyst_query_it(people: dict[str, Persona]) -> None:
    admin, analyst = people["admin"], people["analyst"]
    lf = admin.client("lakeformation")
    lf.create_lf_tag(TagKey="role", TagValues=["analyst", "leader"])
    lf.add_lf_tags_to_resource(
        Resource=_table(), LFTags=[{"TagKey": "role", "TagValues": ["analyst"]}]
    )
    for who in ("analyst", "leader"):
        lf.grant_permissions(
            Principal=principal(people[who].arn),
            Resource={
                "LFTagPolicy": {
                    "CatalogId": ACCOUNT,
                    "ResourceType": "TABLE",
                    "Expression": [{"TagKey": "role", "TagValues": [who]}],
                }
            },
            Permissions=["SELECT", "DESCRIBE"],
        )
    tags = lf.get_resource_lf_tags(Resource=_table())["LFTagsOnTable"]
    assert tags == [{"CatalogId": ACCOUNT, "TagKey": "role", "TagValues": ["analyst"]}]
    assert _table_names(analyst) == ["sales"]
    out = analyst.query("SELECT * FROM sales WHERE shop_id = 25 LIMIT 10", "retail")
    assert out.ok, out
    assert out.columns == COLUMNS
    assert len(out.rows) == 10 and {r[0] for r in out.rows} == {"25"}
    every_25 = {tuple(r) for r in SALES if r[0] == "25"}
    assert {tuple(r) for r in out.rows} <= every_25


def test_retagging_the_table_leader_leaves_the_analyst_the_analyst_columns(
    people: dict[str, Persona],
) -> None:
    """The table's tag becomes ``leader``; four columns override it with ``analyst``.
    The analyst sees exactly those four; the leader sees the columns that still inherit
    ``leader`` from the table."""
    admin, analyst, leader = people["admin"], people["analyst"], people["leader"]
    lf = admin.client("lakeformation")
    lf.add_lf_tags_to_resource(
        Resource=_table(), LFTags=[{"TagKey": "role", "TagValues": ["leader"]}]
    )
    lf.add_lf_tags_to_resource(
        Resource={
            "TableWithColumns": {
                "CatalogId": ACCOUNT,
                "DatabaseName": "retail",
                "Name": "sales",
                "ColumnNames": ANALYST_COLUMNS,
            }
        },
        LFTags=[{"TagKey": "role", "TagValues": ["analyst"]}],
    )
    out = analyst.query("SELECT * FROM sales WHERE shop_id = 25 LIMIT 10", "retail")
    assert out.ok, out
    assert out.columns == ANALYST_COLUMNS
    assert len(out.rows) == 10
    assert "pay-" not in out.text() and "@example.com" not in out.text()
    described = [
        cell.split("\t")[0].strip()
        for cell in (r[0] or "" for r in _ok(analyst, "DESCRIBE sales"))
        if cell.strip() and not cell.startswith("#")
    ]
    assert described == ANALYST_COLUMNS
    table = analyst.client("glue").get_table(DatabaseName="retail", Name="sales")["Table"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ANALYST_COLUMNS
    hidden = analyst.query("SELECT payment_id FROM sales", "retail")
    assert hidden.state == "FAILED" and "cannot be resolved" in hidden.reason, hidden
    assert "pay-0" not in hidden.text()
    seen = leader.query("SELECT * FROM sales LIMIT 5", "retail")
    assert seen.ok, seen
    assert seen.columns == ["payment_id", "region", "customer_email"]


# -- 4. a salesperson limited to one region --------------------------------------------------


def test_a_data_cells_filter_keeps_the_salesperson_in_the_us(
    served: Served, people: dict[str, Persona]
) -> None:
    admin, rep = people["admin"], people["rep"]
    lf = admin.client("lakeformation")
    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "retail",
            "TableName": "sales",
            "Name": "us_sales",
            "RowFilter": {"FilterExpression": "region = 'US'"},
            "ColumnWildcard": {"ExcludedColumnNames": ["customer_email"]},
        }
    )
    lf.grant_permissions(
        Principal=principal(rep.arn),
        Resource={
            "DataCellsFilter": {
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "retail",
                "TableName": "sales",
                "Name": "us_sales",
            }
        },
        Permissions=["SELECT"],
    )
    us = [r for r in SALES if r[5] == "US"]
    assert _ok(rep, "SELECT region, count(*) FROM sales GROUP BY region") == [["US", str(len(us))]]
    out = rep.query("SELECT * FROM sales ORDER BY item_id", "retail")
    assert out.ok, out
    assert out.columns == COLUMNS[:-1]
    assert [r[1] for r in out.rows] == [r[1] for r in us]
    # the Python API with the same keys enforces exactly the same
    session = lakebox.connect(served.home, credentials=(rep.key, rep.secret), create=False)
    try:
        rows = session.sql("SELECT * FROM retail.sales ORDER BY item_id").fetchall()
        assert session.sql("SELECT * FROM retail.sales LIMIT 1").columns == COLUMNS[:-1]
    finally:
        session.lake.close()
    assert [str(r[1]) for r in rows] == [r[1] for r in us]


def test_the_python_api_shows_the_analyst_the_same_columns(
    served: Served, people: dict[str, Persona]
) -> None:
    analyst = people["analyst"]
    session = lakebox.connect(served.home, principal="lf-analyst", create=False)
    try:
        got = session.sql("SELECT * FROM retail.sales WHERE shop_id = 25 LIMIT 10")
        assert got.columns == ANALYST_COLUMNS and got.rowcount == 10
        with pytest.raises(lakebox.LakeboxError, match="cannot be resolved"):
            session.sql("SELECT payment_id FROM retail.sales")
    finally:
        session.lake.close()
    assert analyst.query("SELECT * FROM sales LIMIT 1", "retail").columns == ANALYST_COLUMNS


def test_a_revoked_tag_policy_grant_applies_to_the_next_statement(
    people: dict[str, Persona],
) -> None:
    admin, analyst = people["admin"], people["analyst"]
    assert _ok(analyst, "SELECT count(*) FROM sales") == [["200"]]
    policy = {
        "LFTagPolicy": {
            "CatalogId": ACCOUNT,
            "ResourceType": "TABLE",
            "Expression": [{"TagKey": "role", "TagValues": ["analyst"]}],
        }
    }
    lf = admin.client("lakeformation")
    lf.revoke_permissions(
        Principal=principal(analyst.arn), Resource=policy, Permissions=["SELECT", "DESCRIBE"]
    )
    out = analyst.query("SELECT count(*) FROM sales", "retail")
    assert out.state == "FAILED" and _denied_reason(out.reason), out
    assert _table_names(analyst) == []
    lf.grant_permissions(
        Principal=principal(analyst.arn), Resource=policy, Permissions=["SELECT", "DESCRIBE"]
    )
    assert _ok(analyst, "SELECT count(*) FROM sales") == [["200"]]


# -- 5. who may create a database over which location (the seed's table) ---------------------

#: (persona, where the database's LocationUri points, allowed?): the admin anywhere; the
#: leader with CREATE_DATABASE on the catalog and DATA_LOCATION_ACCESS on bucket A only;
#: the analyst nowhere (no CREATE_DATABASE).
LOCATION_TABLE = [
    ("admin", BUCKET_A, True),
    ("admin", BUCKET_B, True),
    ("admin", None, True),
    ("leader", BUCKET_A, True),
    ("leader", BUCKET_B, False),
    ("leader", None, True),
    ("analyst", BUCKET_A, False),
    ("analyst", BUCKET_B, False),
    ("analyst", None, False),
]


@pytest.fixture(scope="module")
def location_grants(people: dict[str, Persona]) -> dict[str, Persona]:
    lf = people["admin"].client("lakeformation")
    lf.grant_permissions(
        Principal=principal(people["leader"].arn),
        Resource={"Catalog": {}},
        Permissions=["CREATE_DATABASE"],
    )
    lf.grant_permissions(
        Principal=principal(people["leader"].arn),
        Resource={
            "DataLocation": {"CatalogId": ACCOUNT, "ResourceArn": f"arn:aws:s3:::{BUCKET_A}"}
        },
        Permissions=["DATA_LOCATION_ACCESS"],
    )
    return people


@pytest.mark.parametrize("door", ["glue", "athena"])
@pytest.mark.parametrize(("who", "bucket", "allowed"), LOCATION_TABLE)
def test_who_may_create_a_database_over_which_location(
    location_grants: dict[str, Persona], door: str, who: str, bucket: str | None, allowed: bool
) -> None:
    persona = location_grants[who]
    name = f"{door}_{who}_{bucket or 'nowhere'}".replace("-", "_")
    location = f"s3://{bucket}/{name}/" if bucket else None
    if door == "glue":
        database: dict[str, Any] = {"Name": name, **({"LocationUri": location} if location else {})}
        code = error_code(lambda: persona.client("glue").create_database(DatabaseInput=database))
        assert code == ("" if allowed else "AccessDeniedException")
    else:
        sql = f"CREATE DATABASE {name}" + (f" LOCATION '{location}'" if location else "")
        out = persona.query(sql, "default")
        if allowed:
            assert out.ok, out
        else:
            assert out.state == "FAILED" and _denied_reason(out.reason), out
    exists = error_code(lambda: location_grants["admin"].client("glue").get_database(Name=name))
    assert exists == ("" if allowed else "EntityNotFoundException")


def test_the_leader_owns_what_it_creates_over_bucket_a(
    location_grants: dict[str, Persona],
) -> None:
    """A creator holds every permission on its database and tables: the leader makes a
    table over bucket A in its own database and reads it; the analyst sees none of it."""
    leader, analyst = location_grants["leader"], location_grants["analyst"]
    _ok(leader, f"CREATE DATABASE leader_work LOCATION 's3://{BUCKET_A}/leader_work/'", "default")
    _ok(
        leader,
        "CREATE TABLE leader_work.copy WITH (format = 'PARQUET', "
        f"external_location = 's3://{BUCKET_A}/leader_work/copy/') AS "
        "SELECT payment_id, region FROM retail.sales",
        "default",
    )
    assert _ok(leader, "SELECT count(*) FROM leader_work.copy", "default") == [["200"]]
    assert _table_names(analyst, "leader_work") in (
        [],
        "AccessDeniedException",
        "EntityNotFoundException",
    )
    out = analyst.query("SELECT * FROM leader_work.copy", "default")
    assert out.state == "FAILED" and "pay-" not in out.text(), out
    # and the leader may not build over bucket B, where it has no DATA_LOCATION_ACCESS
    out = leader.query(
        f"CREATE EXTERNAL TABLE leader_work.elsewhere (a string) LOCATION 's3://{BUCKET_B}/x/'",
        "default",
    )
    assert out.state == "FAILED" and _denied_reason(out.reason), out


def test_the_data_stays_unreadable_through_s3_for_the_personas(
    people: dict[str, Persona], served: Served
) -> None:
    """Registering bucket A gives nobody S3 access: the analyst's own keys get nothing."""
    s3 = people["analyst"].client("s3")
    code = error_code(lambda: s3.get_object(Bucket=BUCKET_A, Key="retail/sales/part-0.csv"))
    assert code == "AccessDenied"
    assert (Path(served.home) / BUCKET_A / "retail" / "sales" / "part-0.csv").exists()
