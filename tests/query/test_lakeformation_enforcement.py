"""Lake Formation's permissions enforced in the query path (issue 16): the planner reads
only the columns and rows a principal's grants allow, listings hide what it may not see,
DDL and writes need Lake Formation's permissions, and every decision is recorded in the
audit table. The lake's own Lake Formation service decides (grants, LF-tags, data cells
filters made through its typed API); nothing of lakebox is replaced."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import lakebox
from lakebox.errors import LakeboxError
from lakebox.governance.model import (
    IAM_ALLOWED_PRINCIPALS,
    DataCellsFilter,
    DataLakeSettings,
    Resource,
    check_expression,
)
from lakebox.governance.service import LakeFormationService
from lakebox.iam.errors import AccessDenied
from lakebox.principal import LOCAL_ADMIN, Principal

A = "000000000000"
ANALYST = Principal(A, f"arn:aws:iam::{A}:user/analyst")
OTHER = Principal(A, f"arn:aws:iam::{A}:user/other")

SALES = (
    "shop_id,item_id,region,price,secret\n"
    "25,1,eu,10.0,11\n"
    "25,2,us,20.0,leak\n"
    "26,3,eu,30.0,13\n"
    "27,4,us,40.0,notanumber\n"
)


def table(name: str, db: str = "default") -> Resource:
    return Resource("TABLE", A, database=db, table=name)


class Perms:
    """The grants the tests make, through the lake's Lake Formation service."""

    def __init__(self, service: LakeFormationService) -> None:
        self.lf = service
        self._filters = 0

    def select(
        self,
        who: Principal,
        name: str,
        columns: tuple[str, ...] | None = None,
        row_filter: str | None = None,
    ) -> Resource:
        """SELECT on table ``name``: whole, on ``columns``, or through a data cells
        filter when ``row_filter`` is given."""
        if row_filter is not None:
            self._filters += 1
            f = DataCellsFilter("default", name, f"f{self._filters}", row_filter, columns, None)
            self.lf.create_filter(LOCAL_ADMIN, f)
            resource = Resource("DATA_CELLS_FILTER", A, database="default", table=name, name=f.name)
        elif columns is not None:
            resource = Resource(
                "TABLE_WITH_COLUMNS", A, database="default", table=name, columns=columns
            )
        else:
            resource = table(name)
        self.lf.grant(LOCAL_ADMIN, who.arn, resource, ["SELECT"])
        return resource

    def grant(self, who: Principal, resource: Resource, *permissions: str) -> None:
        self.lf.grant(LOCAL_ADMIN, who.arn, resource, list(permissions))

    def revoke(self, who: Principal, resource: Resource, *permissions: str) -> None:
        self.lf.revoke(LOCAL_ADMIN, who.arn, resource, list(permissions or ("SELECT",)))


EU_ONLY = {"columns": ("shop_id", "item_id", "price"), "row_filter": "region = 'eu'"}


@pytest.fixture
def lf(lake_home: Path) -> Iterator[tuple[lakebox.Session, Perms]]:
    """An admin session over a lake holding ``sales`` (csv) and ``visits`` (partitioned by
    region), whose Lake Formation left the default mode: no default permissions for new
    objects, IAMAllowedPrincipals revoked on both tables, the database and the catalog."""
    sales = lake_home / "data" / "sales" / "s.csv"
    sales.parent.mkdir(parents=True)
    sales.write_text(SALES)
    for region, lines in (("eu", "1,a\n2,b\n"), ("us", "3,c\n"), ("apac", "4,d\n")):
        part = lake_home / "data" / "visits" / f"region={region}" / "v.csv"
        part.parent.mkdir(parents=True)
        part.write_text(lines)
    (lake_home / "out").mkdir()
    admin = lakebox.connect(lake_home)
    admin.sql(
        "CREATE EXTERNAL TABLE sales (shop_id int, item_id int, region string, price double, "
        "secret string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
        "LOCATION 's3://data/sales/' TBLPROPERTIES ('skip.header.line.count'='1')"
    )
    admin.sql(
        "CREATE EXTERNAL TABLE visits (id int, who string) PARTITIONED BY (region string) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://data/visits/'"
    )
    admin.sql("MSCK REPAIR TABLE visits")
    service = admin.lake.lakeformation
    service.put_settings(
        LOCAL_ADMIN, DataLakeSettings(create_database_default=(), create_table_default=())
    )
    for name in ("sales", "visits"):
        service.revoke(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, table(name), ["ALL"])
    default = Resource("DATABASE", A, database="default")
    service.revoke(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, default, ["ALL"])
    service.revoke(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, Resource("CATALOG", A), ["CREATE_DATABASE"])
    assert service.active
    try:
        yield admin, Perms(service)
    finally:
        admin.lake.close()


def audit(admin: lakebox.Session, who: Principal = ANALYST) -> list[tuple[object, ...]]:
    return admin.sql(
        "SELECT action, resource, allowed, request_id FROM lakebox_audit.access_log "
        f"WHERE principal = '{who.arn}'"
    ).fetchall()


def as_(admin: lakebox.Session, who: Principal = ANALYST) -> lakebox.Session:
    return admin.lake.session(principal=who)


def rows(session: lakebox.Session, sql: str) -> list[tuple[object, ...]]:
    return session.sql(sql).fetchall()


def columns(session: lakebox.Session, sql: str) -> list[str]:
    return list(session.sql(sql).to_arrow().column_names)


LF = tuple[lakebox.Session, Perms]


# -- reading --------------------------------------------------------------------------
def test_no_select_fails_as_aws_does_and_is_recorded(lf: LF) -> None:
    admin, _ = lf
    with pytest.raises(AccessDenied) as info:
        as_(admin).sql("SELECT * FROM sales")
    assert str(info.value) == (
        "Insufficient Lake Formation permission(s): Required Select on sales"
    )
    decided = audit(admin)
    assert [r[:3] for r in decided] == [("SELECT", "default.sales", False)]
    assert decided[0][3]  # the statement's query id
    assert rows(admin, "SELECT count(*) FROM sales") == [(4,)]  # the local admin: unchecked


def test_star_shows_only_granted_columns(lf: LF) -> None:
    admin, perms = lf
    perms.select(ANALYST, "sales", columns=("shop_id", "price"))
    analyst = as_(admin)
    assert columns(analyst, "SELECT * FROM sales") == ["shop_id", "price"]
    assert columns(analyst, "SELECT s.* FROM sales s") == ["shop_id", "price"]
    assert rows(analyst, "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10") == [
        (25, 10.0),
        (25, 20.0),
    ]


def test_tags_decide_tables_and_columns(lf: LF) -> None:
    """The seed's analyst: the table tagged ``role=analyst`` is readable whole; once the
    table is the leader's and only some columns carry ``analyst``, only they come back."""
    admin, perms = lf
    service = perms.lf
    service.create_tag(LOCAL_ADMIN, "role", ["analyst", "leader"])
    expression = check_expression([{"TagKey": "role", "TagValues": ["analyst"]}])
    tag_policy = Resource("LF_TAG_POLICY", A, resource_type="TABLE", expression=expression)
    perms.grant(ANALYST, tag_policy, "SELECT", "DESCRIBE")
    analyst = as_(admin)
    with pytest.raises(AccessDenied):
        analyst.sql("SELECT * FROM sales WHERE shop_id = 25 LIMIT 10")
    service.add_tags(LOCAL_ADMIN, table("sales"), [("role", ["analyst"])])
    assert len(rows(analyst, "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10")[0]) == 5
    service.add_tags(LOCAL_ADMIN, table("sales"), [("role", ["leader"])])
    shown = Resource(
        "TABLE_WITH_COLUMNS", A, database="default", table="sales", columns=("shop_id", "price")
    )
    service.add_tags(LOCAL_ADMIN, shown, [("role", ["analyst"])])
    assert columns(analyst, "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10") == [
        "shop_id",
        "price",
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT secret FROM sales",
        "SELECT s.secret FROM sales s",
        'SELECT "SECRET" FROM sales',
        "SELECT price FROM sales WHERE secret = '11'",
        "SELECT count(*) FROM sales GROUP BY secret",
        "SELECT price FROM sales ORDER BY secret",
        "WITH c AS (SELECT * FROM sales) SELECT secret FROM c",
        "SELECT x.secret FROM (SELECT * FROM sales) x",
    ],
)
def test_a_hidden_column_fails_like_an_unknown_one(lf: LF, sql: str) -> None:
    admin, perms = lf
    perms.select(ANALYST, "sales", columns=("shop_id", "price"))
    analyst = as_(admin)
    with pytest.raises(LakeboxError) as hidden:
        analyst.sql(sql)
    with pytest.raises(LakeboxError) as unknown:
        analyst.sql(sql.replace("secret", "nosuch").replace("SECRET", "NOSUCH"))
    assert str(hidden.value).startswith("COLUMN_NOT_FOUND")
    assert str(hidden.value).lower() == str(unknown.value).lower().replace("nosuch", "secret")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT shop_id, price FROM sales ORDER BY price", [(25, 10.0), (26, 30.0)]),
        ("SELECT count(*), sum(price) FROM sales", [(2, 40.0)]),
        ("SELECT count(*) FROM sales WHERE shop_id = 25", [(1,)]),
        ("WITH c AS (SELECT * FROM sales) SELECT count(*) FROM c", [(2,)]),
        ("SELECT count(*) FROM (SELECT price FROM sales WHERE price > 0) t", [(2,)]),
        (
            "SELECT count(*) FROM (SELECT shop_id FROM sales UNION ALL SELECT shop_id FROM sales)",
            [(4,)],
        ),
        ("SELECT count(*) FROM sales a JOIN sales b ON a.item_id = b.item_id", [(2,)]),
        ("SELECT max(price) FROM sales WHERE price IN (SELECT price FROM sales)", [(30.0,)]),
        (
            "SELECT count(*) FROM (VALUES 25, 26, 27) t(x) WHERE x IN (SELECT shop_id FROM sales)",
            [(2,)],
        ),
        (
            "SELECT count(*) FROM (VALUES 1, 2) t(x) WHERE EXISTS "
            "(SELECT 1 FROM sales WHERE price > 35)",
            [(0,)],
        ),
        ("SELECT (SELECT max(price) FROM sales)", [(30.0,)]),
        (
            "SELECT count(*) FROM sales CROSS JOIN UNNEST(ARRAY[shop_id, item_id]) AS u(v)",
            [(4,)],
        ),
    ],
)
def test_rows_outside_the_filter_never_reach_the_query(
    lf: LF, sql: str, expected: list[tuple[object, ...]]
) -> None:
    admin, perms = lf
    perms.select(ANALYST, "sales", **EU_ONLY)
    assert rows(as_(admin), sql) == expected


def test_errors_on_filtered_rows_do_not_happen(lf: LF) -> None:
    """A cast or a division that would fail on a filtered row (the ``us`` rows with secrets
    'leak' and 'notanumber', price 40) must not fail: the row is never seen."""
    admin, perms = lf
    perms.select(ANALYST, "sales", ("shop_id", "price", "secret"), "region = 'eu'")
    analyst = as_(admin)
    assert rows(analyst, "SELECT count(*) FROM sales WHERE CAST(secret AS integer) > 0") == [(2,)]
    assert rows(analyst, "SELECT count(*) FROM sales WHERE 1 / (price - 40) < 100") == [(2,)]
    with pytest.raises(LakeboxError) as info:  # the admin's query does see them
        admin.sql("SELECT count(*) FROM sales WHERE CAST(secret AS integer) > 0")
    assert "leak" in str(info.value) or "notanumber" in str(info.value)


def test_views_and_nested_views_keep_the_restriction(lf: LF) -> None:
    admin, perms = lf
    admin.sql("CREATE VIEW all_sales AS SELECT * FROM sales")
    admin.sql("CREATE VIEW pricey AS SELECT shop_id, price FROM all_sales WHERE price > 5")
    perms.select(ANALYST, "sales", **EU_ONLY)
    perms.select(ANALYST, "pricey")
    granted = perms.select(ANALYST, "all_sales")
    analyst = as_(admin)
    assert rows(analyst, "SELECT count(*), max(price) FROM pricey") == [(2, 30.0)]
    assert columns(analyst, "SELECT * FROM all_sales") == ["shop_id", "item_id", "price"]
    perms.revoke(ANALYST, granted)
    with pytest.raises(AccessDenied, match="Required Select on all_sales"):
        analyst.sql("SELECT count(*) FROM all_sales")


def test_path_shows_only_files_of_visible_rows_and_partitions_are_pruned(lf: LF) -> None:
    admin, perms = lf
    perms.select(ANALYST, "visits", row_filter="region IN ('eu', 'us')")
    analyst = as_(admin)
    result = analyst.sql('SELECT DISTINCT "$path" FROM visits WHERE "$path" LIKE \'%\'')
    paths = sorted(r[0] for r in result.fetchall())
    assert len(paths) == 2 and not any("apac" in p for p in paths)
    assert columns(analyst, "SELECT * FROM visits") == ["id", "who", "region"]
    scanned = analyst.sql("SELECT count(*) FROM visits")
    assert scanned.fetchall() == [(3,)]
    assert scanned.stats.partitions == 2  # the filter pruned apac
    one = analyst.sql("SELECT count(*) FROM visits WHERE region = 'eu'")
    assert one.fetchall() == [(2,)]
    assert one.stats.partitions == 1  # and the query's predicate still prunes
    assert rows(analyst, "SELECT count(*) FROM visits WHERE region = 'apac'") == [(0,)]


def test_revocation_applies_on_the_next_statement_and_plans_are_per_principal(lf: LF) -> None:
    admin, perms = lf
    sql = "SELECT count(*) FROM sales"
    assert rows(admin, sql) == [(4,)]
    assert rows(admin, sql) == [(4,)]  # a kept plan now
    eu = perms.select(ANALYST, "sales", **EU_ONLY)
    perms.select(OTHER, "sales")
    analyst = as_(admin)
    assert rows(analyst, sql) == [(2,)]
    assert rows(analyst, sql) == [(2,)]
    assert rows(as_(admin, OTHER), sql) == [(4,)]
    perms.revoke(ANALYST, eu)
    perms.select(ANALYST, "sales", row_filter="region = 'us'")
    assert rows(analyst, "SELECT min(price) FROM sales") == [(20.0,)]  # planned again
    assert rows(analyst, sql) == [(2,)]
    perms.lf.delete_filter(LOCAL_ADMIN, "default", "sales", "f2")
    with pytest.raises(AccessDenied):
        analyst.sql(sql)


def test_compacted_copies_are_read_through_the_restriction(
    lf: LF, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakebox.engine.duckdb import compaction

    admin, perms = lf
    monkeypatch.setenv("LAKEBOX_COMPACTION", "always")
    old = time.time() - 3600
    for path in (admin.lake.config.home / "data" / "sales").iterdir():
        os.utime(path, (old, old))
    time.sleep(compaction.RACY_SECONDS + 0.1)  # the change time too must be old enough
    sql = "SELECT shop_id, price FROM sales"
    for _ in range(compaction.BUILD_AFTER_READS):
        admin.sql(sql)
    assert admin.lake.engine.copies.wait_idle(60)
    assert admin.sql(sql).stats.rewritten  # the admin reads the copy
    perms.select(ANALYST, "sales", **EU_ONLY)
    result = as_(admin).sql("SELECT * FROM sales ORDER BY price")
    assert result.stats.rewritten  # so does the analyst, restricted
    assert result.fetchall() == [(25, 1, 10.0), (26, 3, 30.0)]


# -- listings ---------------------------------------------------------------------------
def test_listings_hide_tables_and_columns(lf: LF) -> None:
    admin, perms = lf
    analyst = as_(admin)
    with pytest.raises(LakeboxError, match="default"):
        analyst.sql("SHOW TABLES")  # no permission at all: not even the database is seen
    assert rows(analyst, "SELECT table_name FROM information_schema.tables") == []
    assert rows(analyst, "SHOW DATABASES") == []
    perms.select(ANALYST, "sales", **EU_ONLY)
    assert rows(analyst, "SHOW TABLES") == [("sales",)]
    assert rows(analyst, "SHOW DATABASES") == [("default",)]
    shown = [r[0].strip() for r in rows(analyst, "SHOW COLUMNS IN sales")]
    assert shown == ["shop_id", "item_id", "price"]
    described = " ".join(str(r) for r in rows(analyst, "DESCRIBE sales"))
    assert "secret" not in described and "region" not in described and "price" in described
    assert rows(
        analyst,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'sales' "
        "ORDER BY ordinal_position",
    ) == [("shop_id",), ("item_id",), ("price",)]
    create = " ".join(str(r) for r in rows(analyst, "SHOW CREATE TABLE sales"))
    assert "secret" not in create and "price" in create
    with pytest.raises(LakeboxError):
        analyst.sql("DESCRIBE visits")


def test_query_service_reuse_follows_the_principal_and_the_policy(lf: LF) -> None:
    admin, perms = lf
    queries = admin.lake.queries
    eu = perms.select(ANALYST, "sales", **EU_ONLY)
    perms.select(OTHER, "sales")

    def count(who: Principal) -> str:
        qid = queries.start_query_execution(
            "SELECT count(*) FROM sales", "default", result_reuse_max_age_minutes=60, principal=who
        )
        qe = queries.wait(qid, timeout=60)
        assert qe.state == "SUCCEEDED", qe.state_change_reason
        page = queries.get_query_results(qid, principal=who)
        value: str = page["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"]
        return value

    assert count(ANALYST) == "2"
    assert count(OTHER) == "4"  # not the analyst's result
    assert count(ANALYST) == "2"
    perms.revoke(ANALYST, eu)
    perms.select(ANALYST, "sales")
    assert count(ANALYST) == "4"  # the policy changed: not reused
    decided = audit(admin)
    assert decided and all(r[3] for r in decided)  # each names its query


# -- DDL and writes ---------------------------------------------------------------------
def test_ddl_needs_lake_formation_permissions(lf: LF) -> None:
    admin, perms = lf
    analyst = as_(admin)
    with pytest.raises(AccessDenied, match="Required Create Database on Catalog"):
        analyst.sql("CREATE DATABASE mine")
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    analyst.sql("CREATE DATABASE mine")
    # the creator holds everything on what it made
    analyst.sql("CREATE EXTERNAL TABLE mine.t (a int) LOCATION 's3://out/t/'")
    assert rows(analyst, "SELECT count(*) FROM mine.t") == [(0,)]
    with pytest.raises(AccessDenied, match="Required Create Table on default"):
        analyst.sql("CREATE EXTERNAL TABLE t2 (a int) LOCATION 's3://out/t2/'")
    perms.select(ANALYST, "sales")
    with pytest.raises(AccessDenied, match="Required Drop on sales"):
        analyst.sql("DROP TABLE sales")
    with pytest.raises(AccessDenied, match="Required Alter on sales"):
        analyst.sql("ALTER TABLE sales ADD COLUMNS (extra string)")
    perms.lf.register(LOCAL_ADMIN, "arn:aws:s3:::data", use_service_linked_role=True)
    with pytest.raises(AccessDenied, match="Required Data Location Access on s3://data/x/"):
        analyst.sql("CREATE EXTERNAL TABLE mine.x (a int) LOCATION 's3://data/x/'")
    perms.grant(
        ANALYST, Resource("DATA_LOCATION", A, name="arn:aws:s3:::data"), "DATA_LOCATION_ACCESS"
    )
    analyst.sql("CREATE EXTERNAL TABLE mine.x (a int) LOCATION 's3://data/x/'")
    with pytest.raises(AccessDenied, match="Required Drop on mine"):
        as_(admin, OTHER).sql("DROP DATABASE mine")
    analyst.sql("DROP TABLE mine.x")
    assert admin.lake.catalog.table_exists("default", "sales")


def test_writes_need_insert_and_copies_keep_the_restriction(lf: LF) -> None:
    admin, perms = lf
    admin.sql(
        "CREATE EXTERNAL TABLE sink (shop_id int, price double) STORED AS PARQUET "
        "LOCATION 's3://out/sink/'"
    )
    perms.select(ANALYST, "sales", **EU_ONLY)
    analyst = as_(admin)
    with pytest.raises(AccessDenied, match="Required Insert on sink"):
        analyst.sql("INSERT INTO sink SELECT shop_id, price FROM sales")
    perms.grant(ANALYST, table("sink"), "INSERT")
    analyst.sql("INSERT INTO sink SELECT shop_id, price FROM sales")
    assert rows(admin, "SELECT count(*) FROM sink") == [(2,)]
    ctas = "CREATE TABLE copy WITH (external_location = 's3://out/copy/') AS SELECT * FROM sales"
    with pytest.raises(AccessDenied, match="Required Create Table on default"):
        analyst.sql(ctas)
    perms.grant(ANALYST, Resource("DATABASE", A, database="default"), "CREATE_TABLE")
    analyst.sql(ctas)
    assert rows(admin, "SELECT * FROM copy ORDER BY price") == [(25, 1, 10.0), (26, 3, 30.0)]
    assert rows(analyst, "SELECT count(*) FROM copy") == [(2,)]  # its creator reads it
    analyst.sql("UNLOAD (SELECT * FROM sales) TO 's3://out/unloaded/' WITH (format = 'JSON')")
    folder = admin.lake.config.home / "out" / "unloaded"
    unloaded = "".join(
        gzip.decompress(p.read_bytes()).decode() for p in folder.rglob("*") if p.is_file()
    )
    assert "26" in unloaded and "40" not in unloaded and "us" not in unloaded


def test_the_default_mode_and_the_local_admin_pay_nothing(lake_home: Path) -> None:
    """A lake that never set Lake Formation up does not make its store (a file and its
    schema) for the local administrator's statements nor for another principal's reads;
    once another process sets it up, the next statement here obeys it."""
    from lakebox.governance.store import FILE

    store = lake_home / "_lakebox" / FILE
    (lake_home / "data" / "t").mkdir(parents=True)
    (lake_home / "data" / "t" / "t.csv").write_text("1\n2\n")
    session = lakebox.connect(lake_home)
    try:
        session.sql("CREATE DATABASE d")
        session.sql("CREATE EXTERNAL TABLE t (a int) LOCATION 's3://data/t/'")
        assert rows(session, "SELECT count(*) FROM t") == [(2,)]
        analyst = as_(session)
        assert rows(analyst, "SELECT count(*) FROM t") == [(2,)]
        assert rows(analyst, "SHOW TABLES") == [("t",)]
        assert not store.exists()
        assert not session.lake.catalog.database_exists("lakebox_audit")  # nothing recorded
        other = lakebox.connect(lake_home)  # another process's lake, setting it up
        try:
            lf = other.lake.lakeformation
            lf.put_settings(
                LOCAL_ADMIN, DataLakeSettings(create_database_default=(), create_table_default=())
            )
            lf.revoke(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, table("t"), ["ALL"])
        finally:
            other.lake.close()
        assert store.exists()
        with pytest.raises(AccessDenied, match="Required Select on t"):
            analyst.sql("SELECT count(*) FROM t")
        assert rows(session, "SELECT count(*) FROM t") == [(2,)]
    finally:
        session.lake.close()


def test_a_translation_kept_for_another_lake_never_serves_this_one(lf: LF, tmp_path: Path) -> None:
    """Two lakes built alike, whose policies have the same version but restrict the
    analyst differently: each answers with its own restriction."""
    admin, perms = lf
    home = tmp_path / "second"
    shutil.copytree(admin.lake.config.home / "data", home / "data")
    shutil.copytree(admin.lake.config.metadata_dir, home / admin.lake.config.metadata_dir.name)
    second = lakebox.connect(home)
    try:
        other = Perms(second.lake.lakeformation)
        perms.select(ANALYST, "sales", row_filter="region = 'eu'")
        other.select(ANALYST, "sales", row_filter="region = 'us'")
        assert perms.lf.policy_version() == other.lf.policy_version()
        assert admin.lake.catalog.generation() == second.lake.catalog.generation()
        sql = "SELECT sum(price) FROM sales"
        assert rows(as_(admin), sql) == [(40.0,)]
        assert rows(as_(second), sql) == [(60.0,)]
    finally:
        second.lake.close()


def test_filters_combine_cell_by_cell(lf: LF) -> None:
    """Two data cells filters: Europe's rows with the prices, America's with the items.
    Every row shows, and each cell only where one filter grants it (Lake Formation's
    cell-level union): never the price of an American sale or the item of a European."""
    admin, perms = lf
    perms.select(ANALYST, "sales", ("shop_id", "price"), "region = 'eu'")
    perms.select(ANALYST, "sales", ("shop_id", "item_id"), "region = 'us'")
    analyst = as_(admin)
    assert columns(analyst, "SELECT * FROM sales") == ["shop_id", "item_id", "price"]
    assert rows(analyst, "SELECT * FROM sales ORDER BY shop_id, coalesce(item_id, 0)") == [
        (25, None, 10.0),
        (25, 2, None),
        (26, None, 30.0),
        (27, 4, None),
    ]
    assert rows(analyst, "SELECT count(*) FROM sales WHERE price > 15") == [(1,)]


def test_a_column_grant_on_a_view_hides_its_other_columns(lf: LF) -> None:
    admin, perms = lf
    admin.sql("CREATE VIEW v AS SELECT shop_id, price, secret FROM sales")
    perms.select(ANALYST, "sales")
    perms.select(ANALYST, "v", columns=("shop_id", "price"))
    analyst = as_(admin)
    assert columns(analyst, "SELECT * FROM v") == ["shop_id", "price"]
    with pytest.raises(LakeboxError, match="COLUMN_NOT_FOUND"):
        analyst.sql("SELECT secret FROM v")


def test_a_registered_location_is_read_with_lake_formations_credentials(lf: LF) -> None:
    """Athena reads a registered location with Lake Formation's credentials: a user whose
    IAM policy grants the catalog reads but no S3 permission reads the table once the
    location is registered and SELECT granted, and not before."""
    admin, perms = lf
    iam = admin.lake.iam
    iam.create_user("analyst")
    glue = f"arn:aws:glue:us-east-1:{A}"
    iam.put_user_policy(
        "analyst",
        "read",
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "athena:StartQueryExecution",
                        "Resource": f"arn:aws:athena:us-east-1:{A}:workgroup/primary",
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["glue:GetDatabase", "glue:GetTable"],
                        "Resource": [
                            f"{glue}:catalog",
                            f"{glue}:database/default",
                            f"{glue}:table/default/sales",
                        ],
                    },
                ],
            }
        ),
    )
    perms.select(ANALYST, "sales")
    analyst = as_(admin)
    with pytest.raises(AccessDenied, match="Permission denied on S3 path: s3://data/sales/"):
        analyst.sql("SELECT count(*) FROM sales")
    perms.lf.register(LOCAL_ADMIN, "arn:aws:s3:::data/sales", use_service_linked_role=True)
    assert rows(analyst, "SELECT count(*) FROM sales") == [(4,)]
    perms.revoke(ANALYST, table("sales"))
    with pytest.raises(AccessDenied, match="Required Select on sales"):
        analyst.sql("SELECT count(*) FROM sales")


def _reader_policy(tables: list[str]) -> str:
    """What Athena needs of IAM to read ``tables`` (the catalog reads, the S3 reads)."""
    glue = f"arn:aws:glue:us-east-1:{A}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "athena:StartQueryExecution",
                    "Resource": f"arn:aws:athena:us-east-1:{A}:workgroup/primary",
                },
                {
                    "Effect": "Allow",
                    "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                    "Resource": [f"{glue}:catalog", f"{glue}:database/default"]
                    + [f"{glue}:table/default/{t}" for t in tables],
                },
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"},
            ],
        }
    )


def test_the_db_api_door_enforces_what_the_python_api_does(lf: LF) -> None:
    """A DB-API connection opened as a user (its own lake object over the same home) reads
    through the same restriction, and a revoke made by the admin's process applies to it
    on its next statement."""
    from lakebox import dbapi

    admin, perms = lf
    admin.lake.iam.create_user("analyst")
    admin.lake.iam.put_user_policy("analyst", "read", _reader_policy(["sales"]))
    granted = perms.select(ANALYST, "sales", **EU_ONLY)
    conn = dbapi.connect(str(admin.lake.config.home), principal="analyst")
    try:
        cur = conn.cursor()
        cur.execute("SELECT * FROM sales ORDER BY price")
        assert [d[0] for d in cur.description] == ["shop_id", "item_id", "price"]
        assert cur.fetchall() == [(25, 1, 10.0), (26, 3, 30.0)]
        perms.revoke(ANALYST, granted)
        with pytest.raises(Exception, match="Required Select on sales"):
            cur.execute("SELECT count(*) FROM sales")
    finally:
        conn.close()


def test_a_view_the_analyst_creates_reads_only_what_the_analyst_may(lf: LF) -> None:
    admin, perms = lf
    perms.select(ANALYST, "sales", **EU_ONLY)
    perms.grant(ANALYST, Resource("DATABASE", A, database="default"), "CREATE_TABLE")
    analyst = as_(admin)
    with pytest.raises(LakeboxError, match="COLUMN_NOT_FOUND"):
        analyst.sql("CREATE VIEW leaky AS SELECT secret FROM sales")
    analyst.sql("CREATE VIEW mine AS SELECT * FROM sales")
    assert rows(analyst, "SELECT count(*) FROM mine") == [(2,)]  # its creator reads it
    assert rows(admin, "SELECT count(*) FROM mine") == [(4,)]  # the admin reads every row


PROBE = "SELECT count(*) FROM visits WHERE 1 / (CASE WHEN region = 'apac' THEN 0 ELSE 1 END) = 1"


def test_partition_pruning_never_evaluates_the_query_on_filtered_partitions(lf: LF) -> None:
    """A division that fails only on the ``apac`` partition: the admin's query fails, the
    analyst's (whose filter keeps eu and us) answers from its two partitions, and a query
    naming the key the analyst may not see fails as an unknown column. (The engine's
    partition matching keeps every partition when a predicate fails, so pruning itself
    never reports the error; the planner also never asks it about a filtered partition
    or a hidden key.)"""
    admin, perms = lf
    with pytest.raises(LakeboxError, match="DIVISION_BY_ZERO"):
        admin.sql(PROBE)
    granted = perms.select(ANALYST, "visits", row_filter="region IN ('eu', 'us')")
    analyst = as_(admin)
    probed = analyst.sql(PROBE)
    assert probed.fetchall() == [(3,)]
    assert probed.stats.partitions == 2
    perms.revoke(ANALYST, granted)
    perms.select(ANALYST, "visits", columns=("id", "who"))
    with pytest.raises(LakeboxError) as info:
        analyst.sql(PROBE)
    assert str(info.value).startswith("COLUMN_NOT_FOUND")


def test_star_next_to_a_pseudo_column_and_explain(lf: LF) -> None:
    admin, perms = lf
    perms.select(ANALYST, "visits", ("id", "region"), "region = 'eu'")
    analyst = as_(admin)
    result = analyst.sql('SELECT *, "$path" FROM visits ORDER BY id')
    assert result.to_arrow().column_names == ["id", "region", "$path"]
    assert [r[:2] for r in result.fetchall()] == [(1, "eu"), (2, "eu")]
    # lakebox does not run EXPLAIN yet: nothing of the plan (nor the filter) is shown
    with pytest.raises(LakeboxError, match="not supported"):
        analyst.sql("EXPLAIN SELECT who FROM visits")


def test_an_insert_into_a_registered_location_needs_no_s3_permission(lf: LF) -> None:
    admin, perms = lf
    admin.sql(
        "CREATE EXTERNAL TABLE sink (shop_id int, price double) STORED AS PARQUET "
        "LOCATION 's3://data/sink/'"
    )
    iam = admin.lake.iam
    iam.create_user("analyst")
    policy = json.loads(_reader_policy(["sales", "sink"]))
    policy["Statement"][2]["Action"] = ["s3:ListBucket", "s3:GetObject"]  # no PutObject
    iam.put_user_policy("analyst", "read", json.dumps(policy))
    perms.select(ANALYST, "sales", **EU_ONLY)
    perms.grant(ANALYST, table("sink"), "INSERT")
    analyst = as_(admin)
    insert = "INSERT INTO sink SELECT shop_id, price FROM sales"
    with pytest.raises(AccessDenied, match="s3:PutObject"):
        analyst.sql(insert)
    perms.lf.register(LOCAL_ADMIN, "arn:aws:s3:::data", use_service_linked_role=True)
    analyst.sql(insert)
    assert rows(admin, "SELECT count(*) FROM sink") == [(2,)]
    perms.revoke(ANALYST, table("sink"), "INSERT")
    with pytest.raises(AccessDenied, match="Required Insert on sink"):
        analyst.sql(insert)


def test_a_subquery_over_a_derived_table_binds_its_own_columns(lf: LF) -> None:
    """``region`` inside the EXISTS names the subquery's table (a restricted table is a
    derived table, as a view is), never the outer query's ``visits.region``: bound to the
    outer table it would test every visit instead of the sales the analyst may read."""
    admin, perms = lf
    admin.sql("CREATE VIEW eu_sales AS SELECT region FROM sales WHERE region = 'eu'")
    probe = "SELECT count(*) FROM visits WHERE EXISTS (SELECT 1 FROM {} WHERE region = 'us')"
    assert rows(admin, probe.format("eu_sales")) == [(0,)]  # a view, no Lake Formation
    perms.select(ANALYST, "sales", ("shop_id", "region", "price"), "region = 'eu'")
    perms.select(ANALYST, "visits")
    analyst = as_(admin)
    assert rows(analyst, probe.format("sales")) == [(0,)]
    assert rows(
        analyst,
        "SELECT count(*) FROM visits WHERE region IN (SELECT region FROM sales)",
    ) == [(2,)]


# -- partition metadata under a restricted SELECT (review of issue 16) -------------------
def test_partition_pseudo_columns_are_unknown_when_a_key_is_hidden(lf: LF) -> None:
    """``$partition`` and ``$path`` spell the partition key's values (``region=eu``): with
    ``region`` hidden they cannot be resolved, as ``region`` itself cannot."""
    admin, perms = lf
    perms.select(ANALYST, "visits", columns=("id", "who"), row_filter="id < 3")
    analyst = as_(admin)
    for pseudo in ('"$partition"', '"$path"', 'v."$partition"'):
        with pytest.raises(LakeboxError) as info:
            rows(analyst, f"SELECT id, {pseudo} FROM visits v")
        assert "COLUMN_NOT_FOUND" in str(info.value)
    assert rows(analyst, 'SELECT id, "$file_size" > 0 FROM visits ORDER BY id') == [
        (1, True),
        (2, True),
    ]
    perms.select(ANALYST, "visits", row_filter="id < 3")  # every column: region shown
    assert rows(analyst, 'SELECT DISTINCT "$partition" FROM visits') == [("region=eu",)]


def test_show_partitions_needs_describe_under_a_row_filter(lf: LF) -> None:
    """SHOW PARTITIONS would list partitions the row filter leaves out (apac, us): as
    Glue's GetPartitions, it is refused unless the caller holds DESCRIBE."""
    admin, perms = lf
    perms.select(ANALYST, "visits", row_filter="region = 'eu'")
    analyst = as_(admin)
    with pytest.raises(AccessDenied) as info:
        rows(analyst, "SHOW PARTITIONS visits")
    assert str(info.value) == (
        "Insufficient Lake Formation permission(s): Required Describe on visits"
    )
    perms.grant(ANALYST, table("visits"), "DESCRIBE")
    assert rows(analyst, "SHOW PARTITIONS visits") == [
        ("region=apac",),
        ("region=eu",),
        ("region=us",),
    ]


def test_a_row_filter_cannot_cast_a_column(lf: LF) -> None:
    """``CAST(secret AS integer) > 0`` would fail on the row holding ``leak`` and print
    it ("Cannot cast 'leak' to integer"): a filter may cast literals only."""
    admin, perms = lf
    with pytest.raises(LakeboxError) as info:
        perms.select(ANALYST, "sales", row_filter="CAST(secret AS integer) > 0")
    assert "CAST may only convert a literal" in str(info.value)
    perms.select(ANALYST, "sales", row_filter="price > CAST('15' AS double)")
    assert rows(as_(admin), "SELECT count(*) FROM sales") == [(3,)]
