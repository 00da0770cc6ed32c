"""Holes a security review found in Lake Formation's enforcement (issue 16), each pinned
by the case that reproduced it: another principal reading a query's results, a creator
record outliving the object it was made for, and a cascade dropping tables its caller
may not drop. Set up by ``test_lakeformation_enforcement``'s ``lf`` fixture."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lakebox
from lakebox.catalog.model import Database
from lakebox.governance.model import Resource
from lakebox.iam.errors import AccessDenied
from lakebox.principal import LOCAL_ADMIN, Principal

from . import test_lakeformation_enforcement as enforcement
from .test_lakeformation_enforcement import ANALYST, LF, OTHER, A, as_, rows

#: the lake the enforcement tests set up (``enforcement.lf``'s docstring)
lf = enforcement.lf

SALES_COLUMNS = (
    "(shop_id int, item_id int, region string, price double, secret string) "
    "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
)


# -- DROP DATABASE ... CASCADE ----------------------------------------------------------
def test_a_cascade_needs_drop_on_every_table_it_drops(lf: LF) -> None:
    """The database's creator holds DROP on the database, not on a table the admin made
    in it: the cascade would drop that table too, so it is refused (Lake Formation asks
    for DROP on each table)."""
    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    analyst.sql("CREATE DATABASE mine")
    analyst.sql("CREATE EXTERNAL TABLE mine.t (a int) LOCATION 's3://out/t/'")
    admin.sql(f"CREATE EXTERNAL TABLE mine.adm {SALES_COLUMNS} LOCATION 's3://data/sales/'")
    with pytest.raises(AccessDenied, match=r"Insufficient Lake Formation permission\(s\).*adm"):
        analyst.sql("DROP DATABASE mine CASCADE")
    assert admin.lake.catalog.table_exists("mine", "adm")
    assert admin.lake.catalog.table_exists("mine", "t")
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="adm"), "DROP")
    analyst.sql("DROP DATABASE mine CASCADE")
    assert not admin.lake.catalog.database_exists("mine")


def test_glue_delete_database_needs_drop_on_every_table(lf: LF) -> None:
    """Glue's DeleteDatabase deletes the tables in it: the same rule at the Glue door."""
    from lakebox.api.base import AwsError

    admin, perms = lf
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    as_(admin).sql("CREATE DATABASE mine")
    admin.sql(f"CREATE EXTERNAL TABLE mine.adm {SALES_COLUMNS} LOCATION 's3://data/sales/'")
    glue = _glue_door(admin, ANALYST)
    with pytest.raises(AwsError, match=r"Insufficient Lake Formation permission\(s\) on mine.adm"):
        glue("DeleteDatabase", {"Name": "mine"})
    assert admin.lake.catalog.table_exists("mine", "adm")
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="adm"), "DROP")
    glue("DeleteDatabase", {"Name": "mine"})
    assert not admin.lake.catalog.database_exists("mine")


def _glue_door(admin: lakebox.Session, who: Principal) -> Callable[[str, dict[str, Any]], Any]:
    """Glue's API as the server dispatches it, for ``who``, over the lake's own Lake
    Formation."""
    from lakebox.api import dispatch
    from lakebox.api.context import ServiceContext

    lake = admin.lake
    ctx = ServiceContext(
        principal=who,
        account_id=A,
        region=lake.config.region,
        services={
            "catalog": lake.catalog,
            "storage": lake.storage,
            "queries": lake.queries,
            "lakeformation": lake.lakeformation,
        },
        request_id="req-review",
    )
    return lambda operation, request: dispatch("glue", operation, request, ctx)


# -- creator records end with the object ------------------------------------------------
def _orders_like_sales(admin: lakebox.Session) -> None:
    """A catalog writer (an export, a snapshot: ``create_table(replace=True)`` as the
    local administrator) makes ``orders`` over the sales data: a copy of the sales
    table's definition, its ``create_time`` (from before Lake Formation's defaults
    changed) included, as the review's reproduction made it."""
    sales = admin.lake.catalog.get_table("default", "sales")
    admin.lake.catalog.create_table(dataclasses.replace(sales, name="orders"), replace=True)


def test_dropping_a_table_ends_its_creators_hold_on_the_name(lf: LF) -> None:
    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("DATABASE", A, database="default"), "CREATE_TABLE")
    analyst.sql("CREATE EXTERNAL TABLE orders (a int) LOCATION 's3://out/o/'")
    analyst.sql("DROP TABLE orders")
    _orders_like_sales(admin)
    with pytest.raises(AccessDenied, match="Required Select on orders"):
        analyst.sql("SELECT * FROM orders")
    # a view dropped the same way
    analyst.sql("CREATE VIEW v AS SELECT 1 AS x")
    analyst.sql("DROP VIEW v")
    admin.sql("CREATE VIEW v AS SELECT secret FROM sales")
    with pytest.raises(AccessDenied, match="Required Select on v"):
        analyst.sql("SELECT * FROM v")


def test_grants_survive_a_drop_and_recreate_as_on_aws(lf: LF) -> None:
    """AWS: "if you delete and recreate a resource with that same ARN, the resource
    maintains the permissions already granted"; only the creator's implicit hold ends."""
    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("DATABASE", A, database="default"), "CREATE_TABLE")
    analyst.sql("CREATE EXTERNAL TABLE orders (a int) LOCATION 's3://out/o/'")
    perms.grant(OTHER, Resource("TABLE", A, database="default", table="orders"), "SELECT")
    analyst.sql("DROP TABLE orders")
    _orders_like_sales(admin)
    assert len(rows(as_(admin, OTHER), "SELECT * FROM orders")) == 4
    with pytest.raises(AccessDenied):
        analyst.sql("SELECT * FROM orders")


def test_dropping_a_database_ends_its_creators_hold_on_it_and_its_tables(lf: LF) -> None:
    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    analyst.sql("CREATE DATABASE mine")
    analyst.sql("CREATE EXTERNAL TABLE mine.t (a int) LOCATION 's3://out/t/'")
    analyst.sql("DROP DATABASE mine CASCADE")
    # made anew by a writer that reports nothing (the catalog's own API)
    catalog = admin.lake.catalog
    catalog.create_database(Database("mine"))
    sales = catalog.get_table("default", "sales")
    catalog.create_table(
        dataclasses.replace(sales, database="mine", name="t", create_time=time.time())
    )
    with pytest.raises(AccessDenied, match="Required Select on t"):
        analyst.sql("SELECT * FROM mine.t")
    with pytest.raises(AccessDenied, match="Required Drop on mine"):
        analyst.sql("DROP DATABASE mine")


def test_glue_delete_table_and_database_end_the_creators_hold(lf: LF) -> None:
    admin, perms = lf
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    glue = _glue_door(admin, ANALYST)
    glue("CreateDatabase", {"DatabaseInput": {"Name": "mine"}})
    table = {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}]}}
    glue("CreateTable", {"DatabaseName": "mine", "TableInput": table})
    glue("DeleteTable", {"DatabaseName": "mine", "Name": "t"})
    admin.sql(f"CREATE EXTERNAL TABLE mine.t {SALES_COLUMNS} LOCATION 's3://data/sales/'")
    with pytest.raises(AccessDenied, match="Required Select on t"):
        as_(admin).sql("SELECT * FROM mine.t")
    admin.sql("DROP TABLE mine.t")
    glue("DeleteDatabase", {"Name": "mine"})
    noted = perms.lf.policy().objects
    creators = [creator for (db, _), creator in noted.items() if db == "mine"]
    assert creators and all(creator is None for creator in creators)


def test_an_export_records_the_local_administrator_as_the_creator(lf: LF) -> None:
    """A table dropped by a path that reports nothing (the catalog's own API) leaves its
    creator's record; the export that makes the name anew records itself instead."""
    from lakebox.ingest.exports import TableExports

    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("DATABASE", A, database="default"), "CREATE_TABLE")
    analyst.sql("CREATE EXTERNAL TABLE orders (a int) LOCATION 's3://out/o/'")
    admin.lake.catalog.drop_table("default", "orders")
    source = admin.lake.config.home / "data" / "orders.jsonl"
    source.write_text('{"id": 1, "secret": "leak"}\n')
    done = TableExports(admin.lake).export_table_to_point_in_time(
        str(source), "exp", current_manifest=True, catalog_table="default.orders"
    )
    assert done.status == "COMPLETED", done
    assert rows(admin, "SELECT count(*) FROM orders") == [(1,)]
    assert perms.lf.policy().objects[("default", "orders")] == LOCAL_ADMIN.arn
    with pytest.raises(AccessDenied, match="Required Select on orders"):
        analyst.sql("SELECT * FROM orders")


# -- another principal's query results --------------------------------------------------
def _ran(admin: lakebox.Session, sql: str, who: Principal, **options: Any) -> str:
    queries = admin.lake.queries
    qid = queries.start_query_execution(sql, "default", principal=who, **options)
    qe = queries.wait(qid, timeout=60)
    assert qe.state == "SUCCEEDED", qe.state_change_reason
    return qid


def _values(admin: lakebox.Session, qid: str, who: Principal) -> list[list[str | None]]:
    page = admin.lake.queries.get_query_results(qid, principal=who)
    return [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"][1:]]


def test_results_of_restricted_data_go_only_to_their_principal_and_admins(lf: LF) -> None:
    """The analyst may read ``secret``; the other principal may not. Results are what the
    analyst may see, never filtered again for another caller: another principal gets
    none of them; the analyst, the local administrator and a data lake administrator do."""
    from lakebox.governance.model import DataLakeSettings

    admin, perms = lf
    perms.select(ANALYST, "sales")
    qid = _ran(admin, "SELECT secret FROM sales ORDER BY item_id", ANALYST)
    secrets = [["11"], ["leak"], ["13"], ["notanumber"]]
    with pytest.raises(AccessDenied, match="may not read the results of query"):
        _values(admin, qid, OTHER)
    with pytest.raises(AccessDenied, match="may not read the results of query"):
        admin.lake.queries.result(qid, principal=OTHER)  # the in-memory Result too
    assert admin.lake.queries.result(qid, principal=ANALYST) is not None
    # the rule is kept with the execution: another service (a restart) applies it too
    from lakebox.query.service import QueryService

    again = QueryService(admin.lake)
    try:
        with pytest.raises(AccessDenied, match="may not read the results of query"):
            again.get_query_results(qid, principal=OTHER)
    finally:
        again.close()
    assert _values(admin, qid, ANALYST) == secrets
    assert _values(admin, qid, LOCAL_ADMIN) == secrets
    # the execution itself (its text too) is shown to whoever the workgroup allows, as on
    # AWS (athena:GetQueryExecution on the workgroup: checked at the API door)
    queries = admin.lake.queries
    assert queries.get_query_execution(qid, principal=OTHER).query.startswith("SELECT secret")
    settings = perms.lf.get_settings()
    perms.lf.put_settings(LOCAL_ADMIN, dataclasses.replace(settings, admins=(OTHER.arn,)))
    assert isinstance(perms.lf.get_settings(), DataLakeSettings)
    assert _values(admin, qid, OTHER) == secrets


def test_results_of_data_everyone_reads_are_shared_as_on_aws(lf: LF) -> None:
    """A table ``IAMAllowedPrincipals`` holds whole is no Lake Formation restriction:
    its results go to whoever the workgroup (and S3) allow, as on AWS."""
    from lakebox.governance.model import IAM_ALLOWED_PRINCIPALS

    admin, perms = lf
    everyone = Resource("TABLE", A, database="default", table="visits")
    perms.lf.grant(LOCAL_ADMIN, IAM_ALLOWED_PRINCIPALS, everyone, ["ALL"])
    qid = _ran(admin, "SELECT count(*) FROM visits", ANALYST)
    assert _values(admin, qid, OTHER) == [["4"]]
    assert _values(admin, _ran(admin, "SELECT 1", ANALYST), OTHER) == [["1"]]


def test_get_query_results_needs_s3_get_object_on_the_result(lake_home: Path) -> None:
    """Without Lake Formation: GetQueryResults reads the result file with the caller's
    own S3 permissions (s3:GetObject on it), as on AWS."""
    admin = lakebox.connect(lake_home)
    try:
        iam = admin.lake.iam
        writer = {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::out", "arn:aws:s3:::out/*"],
        }
        athena = {"Effect": "Allow", "Action": "athena:*", "Resource": "*"}
        for name, statements in (("analyst", [athena, writer]), ("other", [athena])):
            iam.create_user(name)
            policy = {"Version": "2012-10-17", "Statement": statements}
            iam.put_user_policy(name, "p", json.dumps(policy))
        qid = _ran(admin, "SELECT 42", ANALYST, output_location="s3://out/results/")
        assert _values(admin, qid, ANALYST) == [["42"]]
        with pytest.raises(AccessDenied, match="s3:GetObject"):
            _values(admin, qid, OTHER)
        reader = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::out/*"}
        policy = {"Version": "2012-10-17", "Statement": [athena, reader]}
        iam.put_user_policy("other", "p", json.dumps(policy))
        assert _values(admin, qid, OTHER) == [["42"]]
    finally:
        admin.lake.close()


def test_listing_without_a_workgroup_lists_the_primary_one(lf: LF) -> None:
    """AWS: "If a workgroup is not specified, returns a list of query execution IDs for
    the primary workgroup" (the workgroup the caller was authorized on at the door)."""
    admin, _ = lf
    queries = admin.lake.queries
    queries.create_work_group("team")
    elsewhere = _ran(admin, "SELECT 1", ANALYST, workgroup="team")
    primary = _ran(admin, "SELECT 2", ANALYST)
    listed, _ = queries.list_query_executions(principal=OTHER)
    assert primary in listed and elsewhere not in listed
    assert elsewhere in queries.list_query_executions("team", principal=OTHER)[0]
    assert elsewhere in queries.list_query_executions()[0]  # the local administrator's


def test_a_snapshot_export_records_the_local_administrator_as_the_creator(lf: LF) -> None:
    """The same for an RDS-style snapshot export registering its tables."""
    import sqlalchemy as sa

    from lakebox.ingest.snapshots import SnapshotExports

    admin, perms = lf
    analyst = as_(admin)
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    analyst.sql("CREATE DATABASE mine")
    analyst.sql("CREATE EXTERNAL TABLE mine.orders (a int) LOCATION 's3://out/o/'")
    admin.lake.catalog.drop_table("mine", "orders")  # reports nothing
    url = f"sqlite:///{admin.lake.config.home / 'data' / 'shop.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE orders (id INTEGER, secret TEXT)")
        con.exec_driver_sql("INSERT INTO orders VALUES (1, 'leak')")
    engine.dispose()
    task = SnapshotExports(admin.lake).start_export_task(
        {
            "ExportTaskIdentifier": "snap1",
            "SourceArn": url,
            "S3BucketName": "snap",
            "CatalogDatabase": "mine",
        }
    )
    assert task["Status"] == "COMPLETE", task
    assert rows(admin, "SELECT secret FROM mine.orders") == [("leak",)]
    assert perms.lf.policy().objects[("mine", "orders")] == LOCAL_ADMIN.arn
    with pytest.raises(AccessDenied, match="Required Select on orders"):
        analyst.sql("SELECT * FROM mine.orders")
