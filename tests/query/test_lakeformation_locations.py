"""Lake Formation's locations cannot be named around (issue 16 review): every location a
table, a partition, a projection template or a manifest names is checked in one canonical
spelling (``lakebox.storage.locations.lake_uri``), a table over a parent of a registered
location needs access to it, the audit bucket is reserved to admins, and IAM's S3 checks
are skipped only for the files a table's Lake Formation decision covers. Setup: the
``lf`` fixture of test_lakeformation_enforcement (``s3://data`` holds ``sales`` and
``visits``), with ``s3://data`` registered and the analyst reading ``sales`` through the
``eu`` data cells filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lakebox
from lakebox.config import LakeConfig
from lakebox.errors import LakeboxError
from lakebox.governance.model import Resource
from lakebox.principal import LOCAL_ADMIN

from .test_lakeformation_enforcement import ANALYST, EU_ONLY, LF, A, as_, lf

__all__ = ["lf"]

COLS = (
    "(shop_id int, item_id int, region string, price double, secret string) "
    "ROW FORMAT DELIMITED FIELDS TERMINATED BY ','"
)
SYMLINK = (
    "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' "
    "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'"
)


def home(admin: lakebox.Session) -> Path:
    return Path(admin.lake.config.home)


def governed(lf: LF, *, iam: bool = False, register: str = "arn:aws:s3:::data") -> lakebox.Session:
    """The analyst: ``eu`` filter on sales, CREATE_DATABASE, database ``mine`` made;
    ``register`` registered; with ``iam``, an IAM user allowed Athena and Glue, and S3 on
    ``out`` only."""
    admin, perms = lf
    perms.select(ANALYST, "sales", **EU_ONLY)  # type: ignore[arg-type]
    perms.lf.register(LOCAL_ADMIN, register, use_service_linked_role=True)
    perms.grant(ANALYST, Resource("CATALOG", A), "CREATE_DATABASE")
    if iam:
        admin.lake.iam.create_user("analyst")
        admin.lake.iam.put_user_policy(
            "analyst",
            "p",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["athena:*", "glue:*"], "Resource": "*"},
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::out", "arn:aws:s3:::out/*"],
                        },
                    ],
                }
            ),
        )
    analyst = as_(admin)
    analyst.sql("CREATE DATABASE mine")
    return analyst


def refused(session: lakebox.Session, sql: str) -> str:
    with pytest.raises(LakeboxError) as info:
        session.sql(sql).fetchall()
    return str(info.value)


def test_lake_uri_gives_one_spelling(tmp_path: Path) -> None:
    from lakebox.storage.locations import lake_uri, template_prefix

    config = LakeConfig.from_env(home=tmp_path)
    assert lake_uri("s3a://data/sales/", config) == "s3://data/sales/"
    assert lake_uri("S3://data/sales/", config) == "s3://data/sales/"
    assert lake_uri(" s3n://data/sales ", config) == "s3://data/sales"
    assert lake_uri(f"{tmp_path}/data/sales/", config) == "s3://data/sales/"
    assert lake_uri(f"file://{tmp_path}/data/sales/s.csv", config) == "s3://data/sales/s.csv"
    assert lake_uri("/elsewhere/x/", config) == "file:///elsewhere/x/"
    assert template_prefix("s3://data/${p}/") == "s3://data/"
    assert template_prefix("s3://data/sales-${p}/x") == "s3://data/"


@pytest.mark.parametrize(
    "location",
    [
        "s3a://data/sales/",
        "s3n://data/sales/",
        "S3://data/sales/",
        " s3://data/sales/",
        "s3://data/",
        "s3://data",
        "{home}/data/sales/",
        "file://{home}/data/sales/",
    ],
)
def test_no_spelling_of_a_registered_location_skips_its_check(lf: LF, location: str) -> None:
    admin, _ = lf
    analyst = governed(lf, register="arn:aws:s3:::data/sales")
    where = location.format(home=home(admin))
    message = refused(analyst, f"CREATE EXTERNAL TABLE mine.t {COLS} LOCATION '{where}'")
    assert "Data Location Access" in message or "only the local administrator" in message
    assert not admin.lake.catalog.table_exists("mine", "t")


def test_a_local_path_outside_the_buckets_is_the_local_admins_only(lf: LF, tmp_path: Path) -> None:
    analyst = governed(lf)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    message = refused(analyst, f"CREATE EXTERNAL TABLE mine.t (a int) LOCATION '{outside}/'")
    assert "only the local administrator may name a local path" in message
    analyst.sql("CREATE EXTERNAL TABLE mine.ok (a int) LOCATION 's3://out/ok/'")  # s3: fine


@pytest.mark.parametrize("spelling", ["{home}/data/sales/", "file://{home}/data/sales/"])
def test_iam_mode_local_path_needs_the_s3_permission(lf: LF, spelling: str) -> None:
    """The reviewer's case: a table over the registered folder by its local path read
    every row and hidden column. Now the path is ``s3://data/sales/``: refused at DDL."""
    admin, _ = lf
    analyst = governed(lf, iam=True)
    where = spelling.format(home=home(admin))
    refused(analyst, f"CREATE EXTERNAL TABLE mine.t {COLS} LOCATION '{where}'")
    # a table the admin made over the local path is read through IAM's S3 checks
    admin.sql(
        f"CREATE EXTERNAL TABLE mine.adm {COLS} LOCATION '{home(admin)}/lakebox-query-results/'"
    )
    perms = lf[1]
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="adm"), "SELECT")
    assert "s3:ListBucket" in refused(analyst, "SELECT * FROM mine.adm")


def test_projection_template_is_a_location(lf: LF) -> None:

    analyst = governed(lf)
    props = (
        "TBLPROPERTIES ('projection.enabled'='true','projection.p.type'='enum',"
        "'projection.p.values'='sales','storage.location.template'='s3://data/${p}/')"
    )
    cols = COLS.replace("ROW FORMAT", "PARTITIONED BY (p string) ROW FORMAT")
    message = refused(
        analyst,
        f"CREATE EXTERNAL TABLE mine.p {cols} LOCATION 's3://out/x/' {props}",
    )
    assert "Data Location Access on s3://data/" in message
    analyst.sql(f"CREATE EXTERNAL TABLE mine.q {cols} LOCATION 's3://out/q/'")
    message = refused(analyst, f"ALTER TABLE mine.q SET {props}")
    assert "Data Location Access on s3://data/" in message


def test_iam_skip_only_covers_files_under_the_tables_registered_location(lf: LF) -> None:
    """A projected table the admin made over ``s3://out/`` whose template points into the
    registered ``s3://data``, and a symlink manifest under ``out`` listing a registered
    file: Lake Formation's credentials do not cover them, so IAM's s3:GetObject is asked."""
    admin, perms = lf
    analyst = governed(lf, iam=True)
    cols = COLS.replace("ROW FORMAT", "PARTITIONED BY (p string) ROW FORMAT")
    admin.sql(
        f"CREATE EXTERNAL TABLE mine.p {cols} LOCATION 's3://out/p/' TBLPROPERTIES "
        "('projection.enabled'='true','projection.p.type'='enum','projection.p.values'='sales',"
        "'storage.location.template'='s3://data/${p}/')"
    )
    sym = home(admin) / "out" / "sym"
    sym.mkdir(parents=True)
    (sym / "manifest").write_text("s3://data/sales/s.csv\n")
    analyst.sql(f"CREATE EXTERNAL TABLE mine.sym {COLS} {SYMLINK} LOCATION 's3://out/sym/'")
    perms.grant(ANALYST, Resource("TABLE", A, database="mine", table="p"), "SELECT")
    for name in ("p", "sym"):
        message = refused(analyst, f"SELECT max(secret) FROM mine.{name}")
        assert "s3:GetObject" in message and "data/sales/s.csv" in message
    # the registered table itself is still read with Lake Formation's credentials
    assert len(analyst.sql("SELECT * FROM sales").fetchall()) == 2


def test_audit_and_results_buckets_are_reserved(lf: LF) -> None:
    admin, _ = lf
    analyst = governed(lf)
    for where in ("s3://lakebox-audit/access_log/", f"{home(admin)}/lakebox-audit/access_log/"):
        message = refused(
            analyst, f"CREATE EXTERNAL TABLE mine.a (principal string) LOCATION '{where}'"
        )
        assert "Data Location Access on s3://lakebox-audit/access_log/" in message
    where = f"{home(admin)}/lakebox-query-results/"
    message = refused(analyst, f"CREATE EXTERNAL TABLE mine.r (c string) LOCATION '{where}'")
    assert "Data Location Access on s3://lakebox-query-results/" in message
    message = refused(
        analyst,
        "CREATE TABLE mine.c WITH (external_location='s3://lakebox-query-results/c/') "
        "AS SELECT 1 AS x",
    )
    assert "Data Location Access on s3://lakebox-query-results/c/" in message


@pytest.mark.parametrize(
    ("location", "refused_on"),
    [
        ("s3://lakebox-audit/access_log/", "s3://lakebox-audit/access_log/"),
        ("s3://lakebox-query-results/", "s3://lakebox-query-results/"),
        ("s3a://data/", "s3://data/"),
        ("{home}/data/sales/", "s3://data/sales/"),
    ],
)
def test_glue_create_table_uses_the_same_location_rules(
    lf: LF, location: str, refused_on: str
) -> None:
    """Glue's CreateTable door asks the lake's own Lake Formation the same questions as
    the SQL DDL: the audit bucket is reserved, a parent of a registered location needs
    access to it, and a local path is its bucket's location."""
    from lakebox.api import AwsError, dispatch
    from lakebox.api.context import ServiceContext

    admin, _ = lf
    governed(lf, register="arn:aws:s3:::data/sales")
    lake = admin.lake
    ctx = ServiceContext(
        principal=ANALYST,
        account_id=A,
        region=lake.config.region,
        provider=lambda name: getattr(lake, name),
    )
    where = location.format(home=home(admin))
    table = {"Name": "t", "StorageDescriptor": {"Location": where}}
    with pytest.raises(AwsError) as err:
        dispatch("glue", "CreateTable", {"DatabaseName": "mine", "TableInput": table}, ctx)
    assert err.value.code == "AccessDeniedException"
    assert str(err.value) == f"Insufficient Lake Formation permission(s) on {refused_on}"
    assert not lake.catalog.table_exists("mine", "t")


def test_results_written_by_a_local_path_need_the_s3_permission(lf: LF) -> None:
    """An output location spelled as a local path into the registered folder is that
    folder's ``s3://`` location: IAM's s3:PutObject is asked there (the analyst has it
    only on ``out``), so results cannot be planted among the registered data."""
    admin, _ = lf
    governed(lf, iam=True)
    queries = admin.lake.queries
    into = f"{home(admin)}/data/sales/planted/"
    qid = queries.start_query_execution(
        "SELECT 1", "default", output_location=into, principal=ANALYST
    )
    state = queries.wait(qid, timeout=60)
    assert state.state == "FAILED"
    assert "s3:PutObject" in (state.state_change_reason or "")
    assert not (home(admin) / "data" / "sales" / "planted").exists()


@pytest.mark.parametrize("template", ["s3://${p}/sales/", "${p}/sales/"])
def test_a_template_whose_bucket_varies_is_the_local_admins_only(lf: LF, template: str) -> None:
    analyst = governed(lf)
    cols = COLS.replace("ROW FORMAT", "PARTITIONED BY (p string) ROW FORMAT")
    message = refused(
        analyst,
        f"CREATE EXTERNAL TABLE mine.p {cols} LOCATION 's3://out/p/' TBLPROPERTIES "
        "('projection.enabled'='true','projection.p.type'='enum','projection.p.values'='data',"
        f"'storage.location.template'='{template}')",
    )
    assert "only the local administrator may name a local path" in message


@pytest.mark.parametrize(
    ("target", "refused_on"),
    [
        ("s3://lakebox-audit/access_log/", "s3://lakebox-audit/access_log/"),
        ("s3://data/", "s3://data/"),
        ("{home}/data/sales/", "s3://data/sales/"),
    ],
)
def test_a_crawl_uses_the_same_location_rules(lf: LF, target: str, refused_on: str) -> None:
    """A crawler the analyst starts (no role: it acts as the analyst) may not make tables
    over the audit bucket, a parent of a registered location, or a registered location
    named by its local path."""
    from lakebox.crawler import Crawler, Target

    admin, _ = lf
    governed(lf, register="arn:aws:s3:::data/sales")
    crawlers = admin.lake.crawlers
    path = target.format(home=home(admin))
    crawlers.create_crawler(Crawler("c", "mine", [Target(path)]), principal=ANALYST)
    run = crawlers.start_crawler("c", principal=ANALYST)
    assert run.state == "FAILED"
    assert f"Insufficient Lake Formation permission(s) on {refused_on}" in (run.error or "")
    assert admin.lake.catalog.list_tables("mine") == []


def test_a_ctas_without_location_still_writes_under_the_results_location(lf: LF) -> None:
    """A CTAS with no external_location makes its table under ``<results>/tables/``:
    reserving the results location leaves that folder to IAM."""
    admin, _ = lf
    analyst = governed(lf)
    analyst.sql("CREATE TABLE mine.c AS SELECT 1 AS x")
    assert analyst.sql("SELECT x FROM mine.c").fetchall() == [(1,)]
    assert "lakebox-query-results/tables/" in admin.lake.catalog.get_table("mine", "c").location


def test_a_manifest_in_the_callers_registered_folder_cannot_list_others_files(lf: LF) -> None:
    """The analyst may use ``s3://data/analyst`` (DATA_LOCATION_ACCESS and S3 there): a
    symlink manifest it puts there listing ``s3://data/sales/s.csv`` lies under a
    registered location, but the file it lists does not lie under the table's: the
    caller's own s3:GetObject is asked for that file."""
    admin, perms = lf
    analyst = governed(lf, iam=True)
    perms.grant(
        ANALYST,
        Resource("DATA_LOCATION", A, name="arn:aws:s3:::data/analyst"),
        "DATA_LOCATION_ACCESS",
    )
    folder = home(admin) / "data" / "analyst" / "sym"
    folder.mkdir(parents=True)
    (folder / "manifest").write_text("s3://data/sales/s.csv\n")
    analyst.sql(
        f"CREATE EXTERNAL TABLE mine.sym {COLS} {SYMLINK} LOCATION 's3://data/analyst/sym/'"
    )
    message = refused(analyst, "SELECT max(secret) FROM mine.sym")
    assert "s3:GetObject" in message and "data/sales/s.csv" in message
