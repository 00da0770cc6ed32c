"""A crawl acts as its crawler's role, not as whoever starts it: with Lake Formation on, the
role needs DATA_LOCATION_ACCESS on registered targets, CREATE_TABLE on the database for a
new table, ALTER on a table it updates and DROP on one it deletes; without them the run
fails with Lake Formation's message in its record and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.lf_toy import ToyPermissions
from lakebox.config import LakeConfig
from lakebox.crawler import Crawler, CrawlerService, Target
from lakebox.crawler.model import DELETE_FROM_DATABASE
from lakebox.crawler.service import crawl_principal
from lakebox.principal import LOCAL_ADMIN, Principal

from .conftest import tables, write

ACCOUNT = "000000000000"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/GlueCrawlerRole"
ROLE_ID = f"arn:aws:iam::{ACCOUNT}:role/GlueCrawlerRole"
STARTER = Principal(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/engineer", "user")


@pytest.fixture
def lf() -> ToyPermissions:
    return ToyPermissions(registered=["s3://data/"])


@pytest.fixture
def governed(config: LakeConfig, service: CrawlerService, lf: ToyPermissions) -> CrawlerService:
    svc = CrawlerService(config, permissions=lf)
    svc.create_crawler(Crawler("c", "db", [Target("s3://data/")], role=ROLE))
    return svc


def _orders(bucket_dir: Path) -> None:
    write(bucket_dir / "orders" / "part-0.csv", "id,amount\n1,2.5\n2,3.0\n")
    write(bucket_dir / "shops" / "part-0.csv", "shop,city\na,Paris\nb,Rome\n")


def test_the_crawl_acts_as_a_session_of_its_role() -> None:
    crawler = Crawler("c", "db", [], role=ROLE)
    acting = crawl_principal(crawler, STARTER)
    assert acting.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/GlueCrawlerRole/AWS-Crawler"
    assert acting.kind == "assumed-role"
    by_name = crawl_principal(Crawler("c", "db", [], role="GlueCrawlerRole"), STARTER)
    assert by_name.arn == acting.arn
    assert crawl_principal(Crawler("c", "db", []), STARTER) == STARTER


def test_a_role_without_location_access_fails_and_changes_nothing(
    governed: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    _orders(bucket_dir)
    lf.grant(ROLE_ID, "db", "CREATE_TABLE")
    # the starter's own rights do not matter: even the lake's administrator starting it
    run = governed.start_crawler("c", principal=LOCAL_ADMIN)
    assert run.state == "FAILED"
    assert run.error == "Insufficient Lake Formation permission(s) on s3://data/"
    assert tables(governed) == {}
    [last] = governed.list_runs("c", 1)
    assert last.error == run.error
    refused = [d for d in lf.decisions if not d.allowed]
    assert refused and refused[0].principal.endswith("assumed-role/GlueCrawlerRole/AWS-Crawler")
    assert refused[0].request_id == run.id


def test_a_role_without_create_table_fails_and_changes_nothing(
    governed: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    _orders(bucket_dir)
    lf.location_grants.add((ROLE_ID, "s3://data/"))
    lf.grant(STARTER.arn, "db", "ALL")  # the starter's grants are not the crawl's
    run = governed.start_crawler("c", principal=STARTER)
    assert run.state == "FAILED"
    assert run.error == "Insufficient Lake Formation permission(s) on db"
    assert tables(governed) == {}


def test_a_role_with_its_grants_crawls_and_owns_what_it_made(
    governed: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    _orders(bucket_dir)
    lf.location_grants.add((ROLE_ID, "s3://data/"))
    lf.grant(ROLE_ID, "db", "CREATE_TABLE")
    run = governed.start_crawler("c", principal=STARTER)
    assert run.state == "SUCCEEDED", run.error
    assert sorted(tables(governed)) == ["orders", "shops"]
    assert "ALL" in lf.grants[(ROLE_ID, "db.orders")]
    assert (STARTER.arn, "db.orders") not in lf.grants


def test_updating_and_dropping_need_alter_and_drop_on_the_table(
    governed: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    _orders(bucket_dir)
    lf.location_grants.add((ROLE_ID, "s3://data/"))
    lf.grant(ROLE_ID, "db", "CREATE_TABLE")
    assert governed.start_crawler("c").state == "SUCCEEDED"
    # another session made the table: the role now holds only CREATE_TABLE on the database
    del lf.grants[(ROLE_ID, "db.orders")]
    write(bucket_dir / "orders" / "part-1.csv", "id,amount,note\n3,1.0,x\n")
    write(bucket_dir / "items" / "part-0.csv", "sku,qty,ok\na,1,true\n")
    run = governed.start_crawler("c")
    assert run.state == "FAILED"
    assert run.error == "Insufficient Lake Formation permission(s) on db.orders"
    assert sorted(tables(governed)) == ["orders", "shops"]  # items was not created either
    assert [c.name for c in tables(governed)["orders"].columns] == ["id", "amount"]
    lf.grant(ROLE_ID, "db.orders", "ALTER")
    assert governed.start_crawler("c").state == "SUCCEEDED"
    assert sorted(tables(governed)) == ["items", "orders", "shops"]
    # files gone, DeleteBehavior DELETE_FROM_DATABASE: DROP on the table
    governed.update_crawler("c", delete_behavior=DELETE_FROM_DATABASE)
    for f in (bucket_dir / "items").iterdir():
        f.unlink()
    del lf.grants[(ROLE_ID, "db.items")]
    lf.grant(ROLE_ID, "db.items", "ALTER")
    run = governed.start_crawler("c")
    assert run.error == "Insufficient Lake Formation permission(s) on db.items"
    assert "items" in tables(governed)
    lf.grant(ROLE_ID, "db.items", "DROP")
    assert governed.start_crawler("c").state == "SUCCEEDED"
    assert sorted(tables(governed)) == ["orders", "shops"]


def test_governance_off_crawls_as_before(
    governed: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    lf.active = False
    _orders(bucket_dir)
    assert governed.start_crawler("c", principal=STARTER).state == "SUCCEEDED"
    assert lf.decisions == []


def test_the_lakes_own_crawlers_are_checked_by_its_lake_formation(
    config: LakeConfig, bucket_dir: Path
) -> None:
    """``lake.crawlers`` (the Python API's and the CLI's) is built with the lake's real
    Lake Formation service: registering the bucket is enough to hold its crawls to it."""
    from lakebox.catalog.model import Database
    from lakebox.governance.model import Resource
    from lakebox.lakehouse import Lake

    _orders(bucket_dir)
    lake = Lake(config)
    try:
        lake.catalog.create_database(Database("db"))
        lf = lake.lakeformation
        lf.register(LOCAL_ADMIN, "arn:aws:s3:::data", use_service_linked_role=True)
        lake.crawlers.create_crawler(Crawler("c", "db", [Target("s3://data/")], role=ROLE))
        run = lake.crawlers.start_crawler("c")
        assert run.state == "FAILED"
        assert run.error == "Insufficient Lake Formation permission(s) on s3://data/"
        assert lake.catalog.list_tables("db") == []
        location = Resource("DATA_LOCATION", ACCOUNT, name="arn:aws:s3:::data")
        lf.grant(LOCAL_ADMIN, ROLE_ID, location, ["DATA_LOCATION_ACCESS"])
        # the database holds IAMAllowedPrincipals' ALL (made before governance): the role
        # may create tables in it, as on AWS
        run = lake.crawlers.start_crawler("c")
        assert run.state == "SUCCEEDED", run.error
        assert sorted(t.name for t in lake.catalog.list_tables("db")) == ["orders", "shops"]
    finally:
        lake.close()


def test_a_local_path_into_a_registered_bucket_is_that_location(
    config: LakeConfig, service: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    _orders(bucket_dir)
    svc = CrawlerService(config, permissions=lf)
    svc.create_crawler(Crawler("local", "db", [Target(f"{bucket_dir}/")], role=ROLE))
    lf.grant(ROLE_ID, "db", "CREATE_TABLE")
    run = svc.start_crawler("local")
    assert run.error == "Insufficient Lake Formation permission(s) on s3://data/"
    assert tables(svc) == {}


def test_the_local_administrators_crawl_reports_what_it_makes_and_drops(
    config: LakeConfig, service: CrawlerService, lf: ToyPermissions, bucket_dir: Path
) -> None:
    """A crawl run as the local administrator (no role) still tells Lake Formation who
    made each new table and which it deleted: a record left by an earlier table of the
    same name must not make that table's creator this one's."""
    svc = CrawlerService(config, permissions=lf)
    svc.create_crawler(
        Crawler("mine", "db", [Target("s3://data/")], delete_behavior=DELETE_FROM_DATABASE)
    )
    _orders(bucket_dir)
    assert svc.start_crawler("mine").state == "SUCCEEDED"
    assert sorted(lf.noted) == [
        ("created", LOCAL_ADMIN.arn, "db.orders"),
        ("created", LOCAL_ADMIN.arn, "db.shops"),
    ]
    for f in (bucket_dir / "shops").iterdir():
        f.unlink()
    assert svc.start_crawler("mine").state == "SUCCEEDED"
    assert lf.noted[-1] == ("dropped", "", "db.shops")
