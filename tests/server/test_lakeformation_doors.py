"""Lake Formation at every door other than SQL planning, through a real ``lakebox serve``
with boto3 and the lake's real Lake Formation service (``lake.lakeformation``): Glue's
catalog API, Athena's metadata API, the S3 API over a registered location, crawlers (which
act as their role), Glue Python shell jobs (which act with their role's credentials), and
the access log those doors write.

The lake is governed the way AWS's "switch to Lake Formation permissions" steps do it: the
create-database and create-table defaults are emptied, IAMAllowedPrincipals' grants on the
objects are revoked, and bucket ``lf-sales`` is registered."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lakebox.catalog.model import Column, Database, Table
from lakebox.governance.model import IAM_ALLOWED_PRINCIPALS, DataLakeSettings, Resource
from lakebox.lakehouse import Lakehouse
from lakebox.principal import LOCAL_ADMIN
from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
DB = "lfsales"
BUCKET = "lf-sales"
RESULTS = "s3://lf-results/"
SALES_CSV = b"shop_id,item_id,price,payment_id\n25,1,9.5,pay-SECRET-1\n26,2,3.0,pay-SECRET-2\n"
TRUST_GLUE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "glue.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _user(client: ClientFactory, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=_policy(statements))
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return made["AccessKeyId"], made["SecretAccessKey"]


def _table(name: str, columns: list[str], location: str) -> Table:
    return Table(
        DB,
        name,
        columns=[Column(c, "string") for c in columns],
        location=location,
        input_format="org.apache.hadoop.mapred.TextInputFormat",
        output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serde_library="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        serde_parameters={"field.delim": ","},
        parameters={"skip.header.line.count": "1", "classification": "csv"},
    )


class World:
    """The governed lake and its personas' clients."""

    def __init__(self, client: ClientFactory, lake: Lakehouse) -> None:
        self.lake = lake
        self.lf = lake.lakeformation
        admin_arn = client("sts").get_caller_identity()["Arn"]
        s3 = client("s3")
        for bucket in (BUCKET, "lf-results", "lf-jobs"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=BUCKET, Key="sales/part-0.csv", Body=SALES_CSV)
        s3.put_object(Bucket=BUCKET, Key="secret/part-0.csv", Body=b"ssn\n123-45-6789\n")
        catalog = lake.catalog
        catalog.create_database(Database(DB))
        catalog.create_table(
            _table("sales", ["shop_id", "item_id", "price", "payment_id"], f"s3://{BUCKET}/sales/")
        )
        catalog.create_table(_table("secret", ["ssn"], f"s3://{BUCKET}/secret/"))
        lf, admin = self.lf, LOCAL_ADMIN
        lf.put_settings(
            admin,
            DataLakeSettings(
                admins=(admin_arn,), create_database_default=(), create_table_default=()
            ),
        )
        lf.revoke(admin, IAM_ALLOWED_PRINCIPALS, Resource("CATALOG", ACCOUNT), ["CREATE_DATABASE"])
        lf.revoke(
            admin, IAM_ALLOWED_PRINCIPALS, Resource("DATABASE", ACCOUNT, database=DB), ["ALL"]
        )
        for name in ("sales", "secret"):
            lf.revoke(
                admin,
                IAM_ALLOWED_PRINCIPALS,
                Resource("TABLE", ACCOUNT, database=DB, table=name),
                ["ALL"],
            )
        lf.register(admin, f"arn:aws:s3:::{BUCKET}", use_service_linked_role=True)
        assert lf.active
        # IAM lets the analyst use Glue and Athena, and S3 only for query results
        analyst = _user(
            client,
            "lf-analyst",
            [
                {"Effect": "Allow", "Action": ["glue:*", "athena:*"], "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::lf-results", "arn:aws:s3:::lf-results/*"],
                },
            ],
        )
        self.analyst_arn = f"arn:aws:iam::{ACCOUNT}:user/lf-analyst"
        self.analyst = {s: client(s, *analyst) for s in ("glue", "athena", "s3")}
        # the engineer has every Glue and S3 action and may pass roles
        engineer = _user(
            client,
            "lf-engineer",
            [{"Effect": "Allow", "Action": ["glue:*", "s3:*", "iam:PassRole"], "Resource": "*"}],
        )
        self.engineer_arn = f"arn:aws:iam::{ACCOUNT}:user/lf-engineer"
        self.engineer = {s: client(s, *engineer) for s in ("glue", "s3")}

    def grant(self, principal: str, resource: Resource, *perms: str) -> None:
        self.lf.grant(LOCAL_ADMIN, principal, resource, list(perms))

    def table(self, name: str) -> Resource:
        return Resource("TABLE", ACCOUNT, database=DB, table=name)


@pytest.fixture(scope="module")
def world(client: ClientFactory, lake: Lakehouse) -> Iterator[World]:
    yield World(client, lake)


def _audit(served: Served) -> list[dict[str, Any]]:
    out = []
    for path in sorted((served.home / "lakebox-audit" / "access_log").glob("*.json")):
        out += [json.loads(line) for line in path.read_text().splitlines() if line]
    return out


# -- Glue's catalog API ----------------------------------------------------------------------


def test_an_analyst_without_grants_sees_nothing(world: World, served: Served) -> None:
    glue = world.analyst["glue"]
    names = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert DB not in names
    with pytest.raises(ClientError) as exc:
        glue.get_table(DatabaseName=DB, Name="sales")
    assert _code(exc) == "AccessDeniedException"
    assert _message(exc) == f"Insufficient Lake Formation permission(s) on {DB}"
    request_id = exc.value.response["ResponseMetadata"]["RequestId"]
    refused = [r for r in _audit(served) if r["request_id"] == request_id]
    assert refused and refused[0]["principal"] == world.analyst_arn
    assert refused[0]["allowed"] is False and refused[0]["action"] == "glue:GetTable"
    # Athena's metadata calls hide it the same way
    athena = world.analyst["athena"]
    listed = athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    assert DB not in [d["Name"] for d in listed]


def test_describe_on_the_database_then_select_on_some_columns(world: World) -> None:
    world.grant(world.analyst_arn, Resource("DATABASE", ACCOUNT, database=DB), "DESCRIBE")
    glue = world.analyst["glue"]
    assert DB in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert glue.get_tables(DatabaseName=DB)["TableList"] == []
    world.grant(
        world.analyst_arn,
        Resource(
            "TABLE_WITH_COLUMNS", ACCOUNT, database=DB, table="sales", columns=("shop_id", "price")
        ),
        "SELECT",
    )
    tables = glue.get_tables(DatabaseName=DB)["TableList"]
    assert [t["Name"] for t in tables] == ["sales"]
    table = glue.get_table(DatabaseName=DB, Name="sales")["Table"]
    for shown in (tables[0], table):
        assert [c["Name"] for c in shown["StorageDescriptor"]["Columns"]] == ["shop_id", "price"]
    with pytest.raises(ClientError) as exc:
        glue.get_table(DatabaseName=DB, Name="secret")
    assert _message(exc) == f"Insufficient Lake Formation permission(s) on {DB}.secret"
    athena = world.analyst["athena"]
    meta = athena.get_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName=DB, TableName="sales"
    )["TableMetadata"]
    assert [c["Name"] for c in meta["Columns"]] == ["shop_id", "price"]
    listed = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DB)
    assert [t["Name"] for t in listed["TableMetadataList"]] == ["sales"]


def test_ddl_needs_lake_formation_permissions_besides_iam(world: World) -> None:
    glue = world.engineer["glue"]  # IAM allows the engineer every Glue action
    with pytest.raises(ClientError) as exc:
        glue.create_database(DatabaseInput={"Name": "eng_db"})
    assert _code(exc) == "AccessDeniedException"
    table = {
        "Name": "eng_sales",
        "StorageDescriptor": {
            "Columns": [{"Name": "a", "Type": "int"}],
            "Location": f"s3://{BUCKET}/eng/",
        },
    }
    with pytest.raises(ClientError) as exc:
        glue.create_table(DatabaseName=DB, TableInput=table)
    assert _message(exc) == f"Insufficient Lake Formation permission(s) on {DB}"
    world.grant(world.engineer_arn, Resource("DATABASE", ACCOUNT, database=DB), "CREATE_TABLE")
    with pytest.raises(ClientError) as exc:
        glue.create_table(DatabaseName=DB, TableInput=table)
    assert _message(exc) == f"Insufficient Lake Formation permission(s) on s3://{BUCKET}/eng/"
    world.grant(
        world.engineer_arn,
        Resource("DATA_LOCATION", ACCOUNT, name=f"arn:aws:s3:::{BUCKET}"),
        "DATA_LOCATION_ACCESS",
    )
    glue.create_table(DatabaseName=DB, TableInput=table)
    # the creator holds ALL on it: it may read, alter and drop it
    assert glue.get_table(DatabaseName=DB, Name="eng_sales")["Table"]["Name"] == "eng_sales"
    glue.delete_table(DatabaseName=DB, Name="eng_sales")
    # another's table: no ALTER, no DROP
    for call in (
        lambda: glue.delete_table(DatabaseName=DB, Name="sales"),
        lambda: glue.update_table(
            DatabaseName=DB,
            TableInput={"Name": "sales", "StorageDescriptor": {"Location": f"s3://{BUCKET}/x/"}},
        ),
        lambda: glue.get_partitions(DatabaseName=DB, TableName="sales"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "AccessDeniedException"
    assert world.lake.catalog.table_exists(DB, "sales")


# -- the S3 door -------------------------------------------------------------------------------


def test_lake_formation_grants_do_not_open_s3_objects(world: World) -> None:
    """The analyst may SELECT sales' columns (Lake Formation) but holds no IAM S3 right on
    the registered bucket: the S3 API gives it no object, lists nothing, and its errors
    carry none of the data."""
    s3 = world.analyst["s3"]
    # not even DATA_LOCATION_ACCESS (a catalog permission) opens the bucket's objects
    world.grant(
        world.analyst_arn,
        Resource("DATA_LOCATION", ACCOUNT, name=f"arn:aws:s3:::{BUCKET}"),
        "DATA_LOCATION_ACCESS",
    )
    for call in (
        lambda: s3.get_object(Bucket=BUCKET, Key="sales/part-0.csv"),
        lambda: s3.head_object(Bucket=BUCKET, Key="sales/part-0.csv"),
        lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="sales/"),
        lambda: s3.get_object(Bucket=BUCKET, Key="sales/part-0.csv", Range="bytes=0-10"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) in ("AccessDenied", "403")
        assert "SECRET" not in str(exc.value.response) and "9.5" not in str(exc.value.response)
    # IAM's rule is the S3 door's rule: a principal IAM allows reads the object (as on AWS,
    # where Lake Formation does not guard direct S3 access)
    body = world.engineer["s3"].get_object(Bucket=BUCKET, Key="sales/part-0.csv")["Body"].read()
    assert body == SALES_CSV


# -- crawlers act as their role -------------------------------------------------------------------


def _crawl(glue: Any, name: str) -> dict[str, Any]:
    glue.start_crawler(Name=name)
    deadline = time.monotonic() + 120
    while True:
        crawler: dict[str, Any] = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return crawler
        assert time.monotonic() < deadline, crawler
        time.sleep(0.1)


def test_a_crawler_acts_as_its_role(world: World, client: ClientFactory) -> None:
    iam = client("iam")
    role = iam.create_role(RoleName="lf-crawler", AssumeRolePolicyDocument=TRUST_GLUE)["Role"]
    s3 = world.engineer["s3"]
    s3.put_object(Bucket=BUCKET, Key="crawl/orders/part-0.csv", Body=b"id,amount\n1,2.5\n")
    s3.put_object(Bucket=BUCKET, Key="crawl/shops/part-0.csv", Body=b"shop,city\na,Rome\n")
    glue = world.engineer["glue"]
    glue.create_crawler(
        Name="lf-crawl",
        Role=role["Arn"],
        DatabaseName=DB,
        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/crawl/"}]},
    )
    # IAM first: the role's own policies must allow what the crawl does (it has none)
    crawler = _crawl(glue, "lf-crawl")
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/lf-crawler/AWS-Crawler"
    assert crawler["LastCrawl"]["ErrorMessage"].startswith(
        f"User: {session} is not authorized to perform: glue:CreateTable"
    )
    iam.put_role_policy(
        RoleName="lf-crawler",
        PolicyName="crawl",
        PolicyDocument=_policy(
            [{"Effect": "Allow", "Action": ["glue:*", "s3:*"], "Resource": "*"}]
        ),
    )
    # the engineer holds CREATE_TABLE and location access; its crawler's role does not
    crawler = _crawl(glue, "lf-crawl")
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert crawler["LastCrawl"]["ErrorMessage"] == (
        f"Insufficient Lake Formation permission(s) on s3://{BUCKET}/crawl/"
    )
    assert not world.lake.catalog.table_exists(DB, "orders")
    world.grant(
        role["Arn"],
        Resource("DATA_LOCATION", ACCOUNT, name=f"arn:aws:s3:::{BUCKET}"),
        "DATA_LOCATION_ACCESS",
    )
    crawler = _crawl(glue, "lf-crawl")
    assert (
        crawler["LastCrawl"]["ErrorMessage"] == f"Insufficient Lake Formation permission(s) on {DB}"
    )
    assert not world.lake.catalog.table_exists(DB, "orders")
    world.grant(role["Arn"], Resource("DATABASE", ACCOUNT, database=DB), "CREATE_TABLE")
    crawler = _crawl(glue, "lf-crawl")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    assert world.lake.catalog.table_exists(DB, "orders")
    # the role made the tables, so it holds ALL on them; the engineer who started it does not
    orders = world.lake.catalog.get_table(DB, "orders")
    from lakebox.principal import Principal

    assert "DROP" in world.lf.table_permissions(Principal(ACCOUNT, session, "assumed-role"), orders)
    with pytest.raises(ClientError) as exc:
        glue.get_table(DatabaseName=DB, Name="orders")
    assert _code(exc) == "AccessDeniedException"


# -- Glue jobs act with their role's credentials, through the doors ----------------------------

_JOB = """
import json

import boto3
from botocore.exceptions import ClientError

glue = boto3.client("glue")
out = {}
for name in ("sales", "secret"):
    try:
        table = glue.get_table(DatabaseName="lfsales", Name=name)["Table"]
        out[name] = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    except ClientError as err:
        out[name] = err.response["Error"]["Code"]
boto3.client("s3").put_object(Bucket="lf-jobs", Key="out.json", Body=json.dumps(out).encode())
"""


def test_a_python_shell_job_sees_only_what_its_role_may(
    world: World, client: ClientFactory
) -> None:
    iam = client("iam")
    role = iam.create_role(RoleName="lf-job", AssumeRolePolicyDocument=TRUST_GLUE)["Role"]
    iam.put_role_policy(
        RoleName="lf-job",
        PolicyName="p",
        PolicyDocument=_policy(
            [{"Effect": "Allow", "Action": ["glue:*", "s3:*"], "Resource": "*"}]
        ),
    )
    world.grant(
        role["Arn"],
        Resource("TABLE_WITH_COLUMNS", ACCOUNT, database=DB, table="sales", columns=("item_id",)),
        "SELECT",
    )
    s3 = client("s3")
    s3.put_object(Bucket="lf-jobs", Key="job.py", Body=_JOB.encode())
    glue = client("glue")
    glue.create_job(
        Name="lf-job",
        Role=role["Arn"],
        Command={"Name": "pythonshell", "ScriptLocation": "s3://lf-jobs/job.py"},
    )
    run_id = glue.start_job_run(JobName="lf-job")["JobRunId"]
    deadline = time.monotonic() + 120
    while True:
        run = glue.get_job_run(JobName="lf-job", RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
    assert run["JobRunState"] == "SUCCEEDED", run
    out = json.loads(s3.get_object(Bucket="lf-jobs", Key="out.json")["Body"].read())
    assert out == {"sales": ["item_id"], "secret": "AccessDeniedException"}
