"""Shared pieces of the Lake Formation outside-view tests: users made through IAM's API,
their boto3 clients against a real ``lakebox serve``, and an Athena runner that returns
what a client sees (state, reason, rows).

Everything here uses public interfaces only (boto3's ``iam``, ``lakeformation``, ``glue``,
``athena``, ``s3`` clients and ``lakebox.connect``), as the issue's checker will: the
personas and rules follow AWS's Lake Formation developer guide, not lakebox's code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from server.conftest import REGION, ClientFactory, Served

ACCOUNT = "000000000000"
OTHER_ACCOUNT = "222222222222"
GLUE_ARN = f"arn:aws:glue:{REGION}"

#: IAM permissions every persona holds besides its LF grants: the developer guide's "data
#: analyst" persona (Athena, the Glue catalog, lakeformation:GetDataAccess and the
#: read-only LF calls), widened on purpose with Glue writes and the LF calls that change
#: grants, tags, filters and settings, so that only Lake Formation (its grants, grant
#: options and admins) stands between a user and what it may not do. No persona but the
#: data lake admin has IAM permissions on the data buckets.
LF_USER_BASE: list[dict[str, Any]] = [
    {"Effect": "Allow", "Action": ["athena:*"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["glue:*"], "Resource": "*"},
    {
        "Effect": "Allow",
        "Action": [
            "lakeformation:GetDataAccess",
            "lakeformation:GetResourceLFTags",
            "lakeformation:ListLFTags",
            "lakeformation:GetLFTag",
            "lakeformation:SearchTablesByLFTags",
            "lakeformation:SearchDatabasesByLFTags",
            "lakeformation:ListPermissions",
            "lakeformation:GrantPermissions",
            "lakeformation:RevokePermissions",
            "lakeformation:AddLFTagsToResource",
            "lakeformation:PutDataLakeSettings",
            "lakeformation:GetDataLakeSettings",
            "lakeformation:CreateDataCellsFilter",
            "lakeformation:DeleteDataCellsFilter",
            "lakeformation:ListDataCellsFilter",
            "lakeformation:RegisterResource",
        ],
        "Resource": "*",
    },
]


def results_statements(bucket: str, name: str) -> list[dict[str, Any]]:
    """Athena's query results of user ``name``: its own prefix of ``bucket`` only."""
    return [
        {
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": f"arn:aws:s3:::{bucket}",
        },
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{bucket}/{name}/*",
        },
    ]


def client_factory(served: Served) -> ClientFactory:
    """``make("athena")``: a boto3 client of the served lake, signed with the first
    administrator's keys unless ``key`` / ``secret`` are given; no retries."""

    def make(service: str, key: str | None = None, secret: str | None = None) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=served.url,
            region_name=REGION,
            aws_access_key_id=key or served.admin_key,
            aws_secret_access_key=secret or served.admin_secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    return make


def s3_bucket_statements(*buckets: str) -> list[dict[str, Any]]:
    """Full S3 access to ``buckets`` (and nothing else)."""
    return [
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{b}" for b in buckets]
            + [f"arn:aws:s3:::{b}/*" for b in buckets],
        }
    ]


@dataclass
class Outcome:
    """What an Athena client sees of one statement."""

    state: str
    reason: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    qid: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "SUCCEEDED"

    def text(self) -> str:
        """Everything the caller was told, as one string (for leak checks)."""
        return json.dumps([self.reason, self.columns, self.rows])

    def column(self, name: str) -> list[str | None]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


@dataclass
class Persona:
    """One IAM user of the lake and its clients."""

    name: str
    arn: str
    key: str
    secret: str
    make: ClientFactory
    results: str

    def client(self, service: str) -> Any:
        return self.make(service, self.key, self.secret)

    def query(
        self,
        sql: str,
        database: str = "default",
        reuse_minutes: int | None = None,
        parameters: list[str] | None = None,
        workgroup: str | None = None,
    ) -> Outcome:
        return run_query(
            self.client("athena"), sql, database, self.results, reuse_minutes, parameters, workgroup
        )


def run_query(
    athena: Any,
    sql: str,
    database: str,
    output: str,
    reuse_minutes: int | None = None,
    parameters: list[str] | None = None,
    workgroup: str | None = None,
) -> Outcome:
    """StartQueryExecution, wait, and read every page of GetQueryResults (the header row
    of a SELECT dropped). A request refused outright is a FAILED outcome with its code."""
    request: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "ResultConfiguration": {"OutputLocation": output},
    }
    if reuse_minutes is not None:
        request["ResultReuseConfiguration"] = {
            "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": reuse_minutes}
        }
    if parameters is not None:
        request["ExecutionParameters"] = parameters
    if workgroup is not None:
        request["WorkGroup"] = workgroup
    try:
        qid = athena.start_query_execution(**request)["QueryExecutionId"]
    except ClientError as exc:
        err = exc.response["Error"]
        return Outcome("REFUSED", f"{err.get('Code')}: {err.get('Message')}")
    deadline = time.monotonic() + 120
    while True:
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        status = execution["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline, f"query still {status['State']}: {sql}"
        time.sleep(0.05)
    if status["State"] != "SUCCEEDED":
        return Outcome(status["State"], status.get("StateChangeReason", ""), qid=qid)
    columns: list[str] = []
    rows: list[list[str | None]] = []
    token: str | None = None
    first = True
    while True:
        page = athena.get_query_results(
            QueryExecutionId=qid, **({"NextToken": token} if token else {})
        )
        if first:
            columns = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        data = [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if first and execution.get("StatementType") == "DML" and data:
            data = data[1:]
        rows.extend(data)
        first = False
        token = page.get("NextToken")
        if not token:
            break
    return Outcome("SUCCEEDED", "", columns, rows, qid)


def make_persona(
    make: ClientFactory,
    name: str,
    statements: list[dict[str, Any]],
    results_bucket: str,
    account: str = ACCOUNT,
) -> Persona:
    """An IAM user ``name`` with one inline policy of ``statements`` and an access key,
    made through IAM's API by the lake's first administrator."""
    iam = make("iam")
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="persona",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    made = iam.create_access_key(UserName=name)["AccessKey"]
    return Persona(
        name,
        user["Arn"],
        made["AccessKeyId"],
        made["SecretAccessKey"],
        make,
        f"s3://{results_bucket}/{name}/",
    )


def error_code(call: Any) -> str:
    """The AWS error code ``call()`` fails with ("" when it succeeds)."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return ""


def principal(arn: str) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": arn}


def wait_crawler(glue: Any, name: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    time.sleep(0.2)
    while True:
        crawler: dict[str, Any] = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY":
            return crawler
        assert time.monotonic() < deadline, crawler
        time.sleep(0.1)


__all__ = [
    "ACCOUNT",
    "LF_USER_BASE",
    "OTHER_ACCOUNT",
    "Outcome",
    "client_factory",
    "Persona",
    "Served",
    "error_code",
    "make_persona",
    "principal",
    "run_query",
    "results_statements",
    "s3_bucket_statements",
    "wait_crawler",
]
