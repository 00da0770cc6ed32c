"""A query reads only what its caller may: the same policies decide through both doors, the
HTTP server (boto3's StartQueryExecution, signed with the caller's keys) and the Python
API (``lakebox.connect(principal=...)``), as Athena asks Glue and S3 with the caller's
own permissions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import lakebox
from lakebox.iam.errors import AccessDenied
from lakebox.iam.service import IamService
from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ACCOUNT = "000000000000"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT}"
RUN_QUERIES = {
    "Effect": "Allow",
    "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution"],
    "Resource": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary",
}
#: Athena writes a statement's results with its caller's permissions (where the query asks)
RESULTS = {"OutputLocation": "s3://authz-results/"}
WRITE_RESULTS = {
    "Effect": "Allow",
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::authz-results/*",
}
READ_SALES = [
    {
        "Effect": "Allow",
        "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
        "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/shop", f"{GLUE}:table/shop/sales"],
    },
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::authz-data"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::authz-data/sales/*"},
]
#: who may do what: the same policies for both doors
USERS: dict[str, list[dict[str, Any]]] = {
    "q-reader": [RUN_QUERIES, WRITE_RESULTS, *READ_SALES],
    "q-no-glue": [RUN_QUERIES, WRITE_RESULTS, *READ_SALES[1:]],
    "q-no-s3": [RUN_QUERIES, WRITE_RESULTS, READ_SALES[0], READ_SALES[1]],
    "q-no-athena": [WRITE_RESULTS, *READ_SALES],
    "q-no-results": [RUN_QUERIES, *READ_SALES],
    "q-ctas": [
        RUN_QUERIES,
        WRITE_RESULTS,
        *READ_SALES,
        {
            "Effect": "Allow",
            "Action": "glue:CreateTable",
            "Resource": [f"{GLUE}:catalog", f"{GLUE}:database/shop", f"{GLUE}:table/shop/copy"],
        },
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::authz-data/copy/*"},
    ],
    "q-no-partitions": [
        RUN_QUERIES,
        WRITE_RESULTS,
        {**READ_SALES[0], "Action": ["glue:GetDatabase", "glue:GetTable"]},
        *READ_SALES[1:],
    ],
}
#: GetQueryResults on the workgroup (the door's check) and the caller's s3:GetObject on the
#: result file (the query service's): another user of the account may read a query's results
#: with both, as on AWS
GET_RESULTS = {
    "Effect": "Allow",
    "Action": "athena:GetQueryResults",
    "Resource": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary",
}
READ_RESULTS = {
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::authz-results/*",
}
USERS["q-fetch"] = [RUN_QUERIES, GET_RESULTS, READ_RESULTS]
USERS["q-fetch-no-s3"] = [RUN_QUERIES, GET_RESULTS]
#: what each user's ``SELECT count(*) FROM shop.sales`` ends with: rows, or the denial
EXPECTED = {
    "q-reader": None,
    "q-ctas": None,
    "q-no-glue": "glue:GetDatabase on resource: " + f"{GLUE}:catalog",
    "q-no-s3": "Permission denied on S3 path: s3://authz-data/sales/day=1/part-0.csv",
    "q-no-athena": "athena:StartQueryExecution on resource: "
    + f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary",
    "q-no-partitions": "glue:GetPartitions on resource: " + f"{GLUE}:catalog",
    "q-no-results": "Access denied when writing output to url: s3://authz-results/",
}


def _wait(athena: Any, qid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        status: dict[str, Any] = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"][
            "Status"
        ]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@pytest.fixture(scope="module")
def users(client: ClientFactory, served: Served) -> dict[str, tuple[str, str]]:
    """The ``shop.sales`` table (partitioned, in bucket authz-data: a folder of the lake's
    home) and the users above."""
    data = Path(served.home) / "authz-data" / "sales" / "day=1" / "part-0.csv"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"1,ann\n2,bob\n")
    (Path(served.home) / "authz-results").mkdir()
    athena = client("athena")
    for sql in (
        "CREATE DATABASE shop",
        "CREATE EXTERNAL TABLE shop.sales (id int, name string) PARTITIONED BY (day int) "
        "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LOCATION 's3://authz-data/sales/'",
        "ALTER TABLE shop.sales ADD PARTITION (day=1)",
    ):
        qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
        assert _wait(athena, qid)["State"] == "SUCCEEDED", sql
    iam = client("iam")
    keys = {}
    for name, statements in USERS.items():
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name,
            PolicyName="scoped",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        made = iam.create_access_key(UserName=name)["AccessKey"]
        keys[name] = (made["AccessKeyId"], made["SecretAccessKey"])
    # a user of another account, allowed everything by its own policies (made in-process:
    # IAM's API acts in the caller's account)
    lake_iam = IamService(Path(served.home) / "_lakebox")
    try:
        lake_iam.create_account("222222222222")
        lake_iam.create_user("q-outsider", account_id="222222222222")
        everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        lake_iam.put_user_policy(
            "q-outsider",
            "all",
            json.dumps({"Version": "2012-10-17", "Statement": [everything]}),
            account_id="222222222222",
        )
        made_key = lake_iam.create_access_key("q-outsider", account_id="222222222222")
    finally:
        lake_iam.close()
    keys["q-outsider"] = (made_key.key.access_key_id, made_key.secret_access_key)
    return keys


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_a_query_through_the_server_reads_only_what_its_caller_may(
    client: ClientFactory, users: dict[str, tuple[str, str]], user: str
) -> None:
    athena = client("athena", *users[user])
    denied = EXPECTED[user]
    if denied is not None and denied.startswith("athena:"):
        # refused at the door, as Athena refuses StartQueryExecution itself
        with pytest.raises(ClientError) as refused:
            athena.start_query_execution(
                QueryString="SELECT count(*) FROM shop.sales", ResultConfiguration=RESULTS
            )
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert denied in str(refused.value)
        return
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) FROM shop.sales", ResultConfiguration=RESULTS
    )["QueryExecutionId"]
    status = _wait(athena, qid)
    if denied is None:
        assert status["State"] == "SUCCEEDED", status
        return
    assert status["State"] == "FAILED", status
    reason = status["StateChangeReason"]
    assert f"user/{user} is not authorized to perform: " in reason
    assert denied in reason
    assert status["AthenaError"]["ErrorType"] == "USER"


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_the_python_api_enforces_what_the_server_does(
    served: Served, users: dict[str, tuple[str, str]], user: str
) -> None:
    session = lakebox.connect(Path(served.home), create=False, credentials=users[user])
    try:
        # the Python API returns results without writing them: no results location to check
        denied = None if user == "q-no-results" else EXPECTED[user]
        if denied is None:
            assert session.sql("SELECT count(*) FROM shop.sales").fetchall() == [(2,)]
            return
        with pytest.raises(AccessDenied) as info:
            session.sql("SELECT count(*) FROM shop.sales")
        assert denied in str(info.value)
    finally:
        session.lake.close()


def test_another_accounts_user_is_refused_through_both_doors(
    client: ClientFactory, served: Served, users: dict[str, tuple[str, str]]
) -> None:
    keys = users["q-outsider"]
    athena = client("athena", *keys)
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) FROM shop.sales", ResultConfiguration=RESULTS
    )["QueryExecutionId"]
    status = _wait(athena, qid)
    assert status["State"] == "FAILED", status
    assert "belongs to another account" in status["StateChangeReason"]
    outsider = lakebox.connect(Path(served.home), create=False, credentials=keys)
    try:
        with pytest.raises(AccessDenied, match="belongs to another account"):
            outsider.sql("SELECT count(*) FROM shop.sales")
    finally:
        outsider.lake.close()


CTAS = (
    "CREATE TABLE shop.copy WITH (format = 'PARQUET', external_location = "
    "'s3://authz-data/copy/') AS SELECT id, name FROM shop.sales"
)


def test_a_reader_cannot_ctas_through_the_server_a_writer_can(
    client: ClientFactory, served: Served, users: dict[str, tuple[str, str]]
) -> None:
    reader = client("athena", *users["q-reader"])
    qid = reader.start_query_execution(QueryString=CTAS, ResultConfiguration=RESULTS)[
        "QueryExecutionId"
    ]
    status = _wait(reader, qid)
    assert status["State"] == "FAILED", status
    assert (
        "user/q-reader is not authorized to perform: glue:CreateTable on resource: "
        + (f"{GLUE}:catalog")
        in status["StateChangeReason"]
    )
    glue = client("glue")
    assert "copy" not in [t["Name"] for t in glue.get_tables(DatabaseName="shop")["TableList"]]
    assert not (Path(served.home) / "authz-data" / "copy").exists()

    writer = client("athena", *users["q-ctas"])
    qid = writer.start_query_execution(QueryString=CTAS, ResultConfiguration=RESULTS)[
        "QueryExecutionId"
    ]
    assert _wait(writer, qid)["State"] == "SUCCEEDED"
    assert glue.get_table(DatabaseName="shop", Name="copy")["Table"]["Name"] == "copy"


def test_another_users_results_need_get_query_results_and_s3_get_object(
    client: ClientFactory, users: dict[str, tuple[str, str]]
) -> None:
    reader = client("athena", *users["q-reader"])
    qid = reader.start_query_execution(
        QueryString="SELECT count(*) FROM shop.sales", ResultConfiguration=RESULTS
    )["QueryExecutionId"]
    assert _wait(reader, qid)["State"] == "SUCCEEDED"
    fetched = client("athena", *users["q-fetch"]).get_query_results(QueryExecutionId=qid)
    assert fetched["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == "2"
    for user, denied in (
        ("q-fetch-no-s3", "s3:GetObject on resource: arn:aws:s3:::authz-results/"),
        ("q-reader", "athena:GetQueryResults on resource: "),  # refused at the door
    ):
        with pytest.raises(ClientError) as refused:
            client("athena", *users[user]).get_query_results(QueryExecutionId=qid)
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException", user
        assert denied in str(refused.value), (user, str(refused.value))
