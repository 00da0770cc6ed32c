"""Lake Formation's permissions enforced in the query path (issue 16): the planner reads
only the columns and rows a principal's grants allow, listings hide what it may not see,
DDL and writes need Lake Formation's permissions, and every decision is recorded.

The lake's permissions here are a small in-memory implementation of the contract
(``lakebox.catalog.permissions.LakePermissions``): the dependency, standing in for the
governance service; the planner, listings, sessions and access checks under test are the
lake's own."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import lakebox
from lakebox.catalog.model import Table
from lakebox.catalog.permissions import FULL_VIEW, TableView
from lakebox.errors import LakeboxError
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal

ANALYST = Principal("000000000000", "arn:aws:iam::000000000000:user/analyst")
OTHER = Principal("000000000000", "arn:aws:iam::000000000000:user/other")

SALES = (
    "shop_id,item_id,region,price,secret\n"
    "25,1,eu,10.0,11\n"
    "25,2,us,20.0,leak\n"
    "26,3,eu,30.0,13\n"
    "27,4,us,40.0,notanumber\n"
)


@dataclass
class Permissions:
    """Lake Formation's answers, kept in memory: grants by (principal ARN, resource)."""

    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    views: dict[tuple[str, str], TableView] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)
    locations: set[tuple[str, str]] = field(default_factory=set)
    creators: set[str] = field(default_factory=set)
    created: list[tuple[str, str, str | None]] = field(default_factory=list)
    records: list[tuple[str, str, str, bool, str | None]] = field(default_factory=list)
    version: int = 1
    active: bool = True

    def grant(
        self, who: Principal, resource: str, *perms: str, view: TableView = FULL_VIEW
    ) -> None:
        self.grants.setdefault((who.arn, resource), set()).update(perms)
        if "SELECT" in perms:
            self.views[(who.arn, resource)] = view
        self.version += 1

    def revoke(self, who: Principal, resource: str) -> None:
        self.grants.pop((who.arn, resource), None)
        self.views.pop((who.arn, resource), None)
        self.version += 1

    # -- the contract ---------------------------------------------------------------
    def policy_version(self) -> int:
        return self.version

    def database_permissions(self, principal: Principal, database: str) -> frozenset[str]:
        return frozenset(self.grants.get((principal.arn, database), set()))

    def table_permissions(self, principal: Principal, table: Table) -> frozenset[str]:
        return frozenset(self.grants.get((principal.arn, table.qualified_name), set()))

    def can_see_database(self, principal: Principal, database: str) -> bool:
        return any(
            arn == principal.arn and (res == database or res.startswith(f"{database}."))
            for arn, res in self.grants
        )

    def can_see_table(self, principal: Principal, table: Table) -> bool:
        return bool(self.table_permissions(principal, table))

    def table_view(self, principal: Principal, table: Table) -> TableView:
        view = self.views.get((principal.arn, table.qualified_name))
        if view is None:
            raise AccessDenied(f"no SELECT on {table.qualified_name}")
        return view

    def can_create_database(self, principal: Principal) -> bool:
        return principal.arn in self.creators

    def note_created(self, principal: Principal, database: str, table: str | None = None) -> None:
        self.created.append((principal.arn, database, table))
        self.grant(
            principal,
            database if table is None else f"{database}.{table}",
            "ALL",
            "SELECT",
            "ALTER",
            "DROP",
            "INSERT",
            "DESCRIBE",
            "CREATE_TABLE",
        )

    def governed_location(self, uri: str) -> bool:
        return any(uri.startswith(r) for r in self.registered)

    def location_access(self, principal: Principal, uri: str) -> bool:
        if not self.governed_location(uri):
            return True
        return any(arn == principal.arn and uri.startswith(r) for arn, r in self.locations)

    def record(
        self,
        principal: Principal,
        action: str,
        resource: str,
        allowed: bool,
        request_id: str | None = None,
    ) -> None:
        self.records.append((principal.arn, action, resource, allowed, request_id))


@pytest.fixture
def lf(lake_home: Path) -> Iterator[tuple[lakebox.Session, Permissions]]:
    """An admin session over a lake holding ``sales`` (csv) and ``visits`` (partitioned by
    region), with Lake Formation active and nothing granted to anyone."""
    sales = lake_home / "data" / "sales" / "s.csv"
    sales.parent.mkdir(parents=True)
    sales.write_text(SALES)
    for region, rows in (("eu", "1,a\n2,b\n"), ("us", "3,c\n"), ("apac", "4,d\n")):
        part = lake_home / "data" / "visits" / f"region={region}" / "v.csv"
        part.parent.mkdir(parents=True)
        part.write_text(rows)
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
    permissions = Permissions()
    admin.lake._services["lakeformation"] = permissions
    try:
        yield admin, permissions
    finally:
        admin.lake.close()


def as_(admin: lakebox.Session, who: Principal = ANALYST) -> lakebox.Session:
    return admin.lake.session(principal=who)


def rows(session: lakebox.Session, sql: str) -> list[tuple[object, ...]]:
    return session.sql(sql).fetchall()


def columns(session: lakebox.Session, sql: str) -> list[str]:
    return list(session.sql(sql).to_arrow().column_names)


EU_ONLY = TableView(frozenset({"shop_id", "item_id", "price"}), "region = 'eu'")


# -- reading --------------------------------------------------------------------------
def test_no_select_fails_as_aws_does_and_is_recorded(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    with pytest.raises(AccessDenied) as info:
        as_(admin).sql("SELECT * FROM sales")
    assert str(info.value) == (
        "Insufficient Lake Formation permission(s): Required Select on sales"
    )
    assert (ANALYST.arn, "SELECT", "default.sales", False) in [r[:4] for r in perms.records]
    assert rows(admin, "SELECT count(*) FROM sales") == [(4,)]  # the local admin: unchecked


def test_star_shows_only_granted_columns(lf: tuple[lakebox.Session, Permissions]) -> None:
    admin, perms = lf
    perms.grant(ANALYST, "default.sales", "SELECT", view=TableView(frozenset({"shop_id", "price"})))
    analyst = as_(admin)
    assert columns(analyst, "SELECT * FROM sales") == ["shop_id", "price"]
    assert columns(analyst, "SELECT s.* FROM sales s") == ["shop_id", "price"]
    assert rows(analyst, "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10") == [
        (25, 10.0),
        (25, 20.0),
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
def test_a_hidden_column_fails_like_an_unknown_one(
    lf: tuple[lakebox.Session, Permissions], sql: str
) -> None:
    admin, perms = lf
    perms.grant(ANALYST, "default.sales", "SELECT", view=TableView(frozenset({"shop_id", "price"})))
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
            "SELECT count(*) FROM sales CROSS JOIN UNNEST(ARRAY[shop_id, item_id]) AS u(v)",
            [(4,)],
        ),
    ],
)
def test_rows_outside_the_filter_never_reach_the_query(
    lf: tuple[lakebox.Session, Permissions], sql: str, expected: list[tuple[object, ...]]
) -> None:
    admin, perms = lf
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    assert rows(as_(admin), sql) == expected


def test_errors_on_filtered_rows_do_not_happen(lf: tuple[lakebox.Session, Permissions]) -> None:
    """A cast or a division that would fail on a filtered row (the ``us`` rows with secrets
    'leak' and 'notanumber', price 40) must not fail: the row is never seen."""
    admin, perms = lf
    view = TableView(frozenset({"shop_id", "price", "secret"}), "region = 'eu'")
    perms.grant(ANALYST, "default.sales", "SELECT", view=view)
    analyst = as_(admin)
    assert rows(analyst, "SELECT count(*) FROM sales WHERE CAST(secret AS integer) > 0") == [(2,)]
    assert rows(analyst, "SELECT count(*) FROM sales WHERE 1 / (price - 40) < 100") == [(2,)]
    with pytest.raises(LakeboxError) as info:  # the admin's query does see it
        admin.sql("SELECT count(*) FROM sales WHERE CAST(secret AS integer) > 0")
    assert "leak" in str(info.value) or "notanumber" in str(info.value)


def test_views_cte_and_nested_views_keep_the_restriction(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    admin.sql("CREATE VIEW all_sales AS SELECT * FROM sales")
    admin.sql("CREATE VIEW pricey AS SELECT shop_id, price FROM all_sales WHERE price > 5")
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    perms.grant(ANALYST, "default.pricey", "SELECT")
    perms.grant(ANALYST, "default.all_sales", "SELECT")
    analyst = as_(admin)
    assert rows(analyst, "SELECT count(*), max(price) FROM pricey") == [(2, 30.0)]
    assert columns(analyst, "SELECT * FROM all_sales") == ["shop_id", "item_id", "price"]
    perms.revoke(ANALYST, "default.all_sales")
    with pytest.raises(AccessDenied, match="Required Select on all_sales"):
        analyst.sql("SELECT count(*) FROM all_sales")


def test_path_shows_only_files_of_visible_rows_and_partitions_are_pruned(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    view = TableView(None, "region IN ('eu', 'us')")
    perms.grant(ANALYST, "default.visits", "SELECT", view=view)
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


def test_revocation_applies_on_the_next_statement_and_plans_are_per_principal(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    sql = "SELECT count(*) FROM sales"
    assert rows(admin, sql) == [(4,)]
    assert rows(admin, sql) == [(4,)]  # a kept plan now
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    perms.grant(OTHER, "default.sales", "SELECT")
    analyst = as_(admin)
    assert rows(analyst, sql) == [(2,)]
    assert rows(analyst, sql) == [(2,)]
    assert rows(as_(admin, OTHER), sql) == [(4,)]
    perms.grant(ANALYST, "default.sales", "SELECT", view=TableView(None, "region = 'us'"))
    assert rows(analyst, sql) == [(2,)]  # a new filter: planned again
    assert rows(analyst, "SELECT min(price) FROM sales") == [(20.0,)]
    perms.revoke(ANALYST, "default.sales")
    with pytest.raises(AccessDenied):
        analyst.sql(sql)


def test_a_filter_outside_the_subset_fails_the_query(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    analyst = as_(admin)
    for bad in (
        "region IN (SELECT region FROM visits)",
        "lower(region) = 'eu'",
        "nosuch = 1",
        "sales.region = 'eu'",
        "region = 'eu' ) OR (1 = 1",
    ):
        perms.grant(ANALYST, "default.sales", "SELECT", view=TableView(None, bad))
        with pytest.raises(LakeboxError, match="row filter"):
            analyst.sql("SELECT count(*) FROM sales")


def test_compacted_copies_are_read_through_the_restriction(
    lf: tuple[lakebox.Session, Permissions], monkeypatch: pytest.MonkeyPatch
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
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    result = as_(admin).sql("SELECT * FROM sales ORDER BY price")
    assert result.stats.rewritten  # so does the analyst, restricted
    assert result.fetchall() == [(25, 1, 10.0), (26, 3, 30.0)]


# -- listings ---------------------------------------------------------------------------
def test_listings_hide_tables_and_columns(lf: tuple[lakebox.Session, Permissions]) -> None:
    admin, perms = lf
    analyst = as_(admin)
    with pytest.raises(LakeboxError, match="default"):
        analyst.sql("SHOW TABLES")  # no permission at all: not even the database is seen
    assert rows(analyst, "SELECT table_name FROM information_schema.tables") == []
    assert rows(analyst, "SHOW DATABASES") == []
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
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


def test_query_service_reuse_follows_the_principal_and_the_policy(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    queries = admin.lake.queries
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    perms.grant(OTHER, "default.sales", "SELECT")

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
    perms.grant(ANALYST, "default.sales", "SELECT", view=FULL_VIEW)
    assert count(ANALYST) == "4"  # the policy changed: not reused
    decided = [r for r in perms.records if r[0] == ANALYST.arn]
    assert decided and all(r[4] for r in decided)  # each names its query


# -- DDL and writes ---------------------------------------------------------------------
def test_ddl_needs_lake_formation_permissions(lf: tuple[lakebox.Session, Permissions]) -> None:
    admin, perms = lf
    analyst = as_(admin)
    with pytest.raises(AccessDenied, match="Required Create Database on Catalog"):
        analyst.sql("CREATE DATABASE mine")
    perms.creators.add(ANALYST.arn)
    analyst.sql("CREATE DATABASE mine")
    assert (ANALYST.arn, "mine", None) in perms.created
    analyst.sql("CREATE EXTERNAL TABLE mine.t (a int) LOCATION 's3://out/t/'")
    assert (ANALYST.arn, "mine", "t") in perms.created
    with pytest.raises(AccessDenied, match="Required Create Table on default"):
        analyst.sql("CREATE EXTERNAL TABLE t2 (a int) LOCATION 's3://out/t2/'")
    with pytest.raises(AccessDenied, match="Required Drop on sales"):
        analyst.sql("DROP TABLE sales")
    with pytest.raises(AccessDenied, match="Required Alter on sales"):
        analyst.sql("ALTER TABLE sales ADD COLUMNS (extra string)")
    perms.registered.append("s3://data/")
    perms.grant(ANALYST, "mine", "CREATE_TABLE")
    with pytest.raises(AccessDenied, match="Required Data Location Access on s3://data/x/"):
        analyst.sql("CREATE EXTERNAL TABLE mine.x (a int) LOCATION 's3://data/x/'")
    perms.locations.add((ANALYST.arn, "s3://data/"))
    analyst.sql("CREATE EXTERNAL TABLE mine.x (a int) LOCATION 's3://data/x/'")
    with pytest.raises(AccessDenied, match="Required Drop on mine"):
        as_(admin, OTHER).sql("DROP DATABASE mine")
    assert admin.lake.catalog.table_exists("default", "sales")


def test_writes_need_insert_and_copies_keep_the_restriction(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    admin.sql(
        "CREATE EXTERNAL TABLE sink (shop_id int, price double) STORED AS PARQUET "
        "LOCATION 's3://out/sink/'"
    )
    perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
    perms.grant(ANALYST, "default.sink", "SELECT")
    analyst = as_(admin)
    with pytest.raises(AccessDenied, match="Required Insert on sink"):
        analyst.sql("INSERT INTO sink SELECT shop_id, price FROM sales")
    perms.grant(ANALYST, "default.sink", "INSERT")
    analyst.sql("INSERT INTO sink SELECT shop_id, price FROM sales")
    assert rows(admin, "SELECT count(*) FROM sink") == [(2,)]
    with pytest.raises(AccessDenied, match="Required Create Table on default"):
        analyst.sql(
            "CREATE TABLE copy WITH (external_location = 's3://out/copy/') AS SELECT * FROM sales"
        )
    perms.grant(ANALYST, "default", "CREATE_TABLE")
    analyst.sql(
        "CREATE TABLE copy WITH (external_location = 's3://out/copy/') AS SELECT * FROM sales"
    )
    assert (ANALYST.arn, "default", "copy") in perms.created
    assert rows(admin, "SELECT * FROM copy ORDER BY price") == [(25, 1, 10.0), (26, 3, 30.0)]
    analyst.sql("UNLOAD (SELECT * FROM sales) TO 's3://out/unloaded/' WITH (format = 'JSON')")
    folder = admin.lake.config.home / "out" / "unloaded"
    unloaded = "".join(
        gzip.decompress(p.read_bytes()).decode() for p in folder.rglob("*") if p.is_file()
    )
    assert "26" in unloaded and "40" not in unloaded and "us" not in unloaded


def test_an_inactive_lake_and_the_local_admin_pay_nothing(
    lf: tuple[lakebox.Session, Permissions],
) -> None:
    admin, perms = lf
    perms.active = False
    assert rows(as_(admin), "SELECT count(*) FROM sales") == [(4,)]
    assert perms.records == []
    perms.active = True
    assert rows(admin, "SELECT count(*) FROM sales") == [(4,)]
    assert perms.records == []


def test_a_translation_kept_for_another_lake_never_serves_this_one(
    lf: tuple[lakebox.Session, Permissions], tmp_path: Path
) -> None:
    """Two lakes built alike, whose policies have the same version but restrict the
    analyst differently: each answers with its own restriction."""
    admin, perms = lf
    home = tmp_path / "second"
    shutil.copytree(admin.lake.config.home / "data", home / "data")
    second = lakebox.connect(home)
    try:
        for sql in (
            "CREATE EXTERNAL TABLE sales (shop_id int, item_id int, region string, "
            "price double, secret string) ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' "
            "LOCATION 's3://data/sales/' TBLPROPERTIES ('skip.header.line.count'='1')",
            "CREATE EXTERNAL TABLE visits (id int, who string) PARTITIONED BY (region string) "
            "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://data/visits/'",
            "MSCK REPAIR TABLE visits",
        ):
            second.sql(sql)
        assert second.lake.catalog.generation() == admin.lake.catalog.generation()
        other = Permissions()
        second.lake._services["lakeformation"] = other
        perms.grant(ANALYST, "default.sales", "SELECT", view=EU_ONLY)
        other.grant(ANALYST, "default.sales", "SELECT", view=TableView(None, "region = 'us'"))
        assert perms.policy_version() == other.policy_version()
        sql = "SELECT sum(price) FROM sales"
        assert rows(as_(admin), sql) == [(40.0,)]
        assert rows(as_(second), sql) == [(60.0,)]
    finally:
        second.lake.close()
