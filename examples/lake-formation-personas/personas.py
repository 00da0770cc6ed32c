"""Lake Formation's personas, walked through with boto3 against ``lakebox serve``.

    lakebox serve --home /tmp/lf-lake &
    AWS_SHARED_CREDENTIALS_FILE=/tmp/lf-lake/_lakebox/iam/admin-credentials \\
        python examples/lake-formation-personas/personas.py --endpoint http://127.0.0.1:4566

The script acts first as the lake's IAM administrator (the keys of the credentials file),
who makes the users and names the data lake admin, then as each persona with its own
keys. Every step prints what the persona sees and checks it is what AWS's Lake Formation
developer guide says it should see; the script exits with status 1 at the first surprise.
Run it on a new lake (it creates buckets, users and tables with fixed names).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "000000000000"
BUCKET_A, BUCKET_B, RESULTS = "lf-example-a", "lf-example-b", "lf-example-results"


class Surprise(Exception):
    """What a persona saw is not what Lake Formation's rules say."""


def check(condition: bool, what: str) -> None:
    print(("  ok    " if condition else "  WRONG ") + what)
    if not condition:
        raise Surprise(what)


class Lake:
    """boto3 clients of one endpoint, signed with one identity's keys."""

    def __init__(self, endpoint: str, key: str | None = None, secret: str | None = None) -> None:
        self.session = boto3.session.Session(
            aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION
        )
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        return self.session.client(
            service,
            endpoint_url=self.endpoint,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def query(self, sql: str, database: str, output: str) -> tuple[str, str, list[list[str]]]:
        """Run ``sql`` with Athena: (state, reason, rows without the header)."""
        athena = self.client("athena")
        qid = athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": database},
            ResultConfiguration={"OutputLocation": output},
        )["QueryExecutionId"]
        while True:
            execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            status = execution["Status"]
            if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.1)
        if status["State"] != "SUCCEEDED":
            return status["State"], status.get("StateChangeReason", ""), []
        rows: list[list[str]] = []
        for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            rows.extend(
                [d.get("VarCharValue", "") for d in r["Data"]] for r in page["ResultSet"]["Rows"]
            )
        if execution.get("StatementType") == "DML":
            rows = rows[1:]
        return "SUCCEEDED", "", rows


def make_user(iam: Any, name: str, statements: list[dict[str, Any]]) -> tuple[str, str, str]:
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="persona",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, key["AccessKeyId"], key["SecretAccessKey"]


def code_of(call: Any) -> str:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return ""


def walk(endpoint: str) -> None:
    root = Lake(endpoint)  # the IAM administrator: keys from the environment / credentials file
    s3, iam = root.client("s3"), root.client("iam")

    print("1. The IAM administrator makes the buckets, the data and the users")
    for bucket in (BUCKET_A, BUCKET_B, RESULTS):
        s3.create_bucket(Bucket=bucket)
    rows = [
        f"{20 + i % 8},{1000 + i},2024-01-{1 + i % 28:02d},{1.5 * i:.2f},pay-{i:04d},"
        f"{('US', 'EU')[i % 2]}\n"
        for i in range(80)
    ]
    s3.put_object(Bucket=BUCKET_A, Key="retail/sales/part-0.csv", Body="".join(rows).encode())
    everything = {"Effect": "Allow", "Action": ["athena:*", "glue:*"], "Resource": "*"}
    read_lf = {
        "Effect": "Allow",
        "Action": ["lakeformation:GetDataAccess", "lakeformation:GetResourceLFTags"],
        "Resource": "*",
    }

    def results(name: str) -> list[dict[str, Any]]:
        return [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{RESULTS}"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{RESULTS}/{name}/*",
            },
        ]

    admin_arn, *admin_keys = make_user(
        iam,
        "lf-admin",
        [
            {**everything, "Action": ["athena:*", "glue:*", "lakeformation:*"]},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        ],
    )
    people = {"admin": (admin_arn, Lake(endpoint, *admin_keys))}
    for persona in ("leader", "analyst", "salesperson"):
        arn, key, secret = make_user(
            iam, f"lf-{persona}", [everything, read_lf, *results(f"lf-{persona}")]
        )
        people[persona] = (arn, Lake(endpoint, key, secret))
    admin, analyst, rep = people["admin"][1], people["analyst"][1], people["salesperson"][1]

    def principal(who: str) -> dict[str, str]:
        return {"DataLakePrincipalIdentifier": people[who][0]}

    def ask(who: str, sql: str, database: str = "retail") -> tuple[str, str, list[list[str]]]:
        return people[who][1].query(sql, database, f"s3://{RESULTS}/lf-{who}/")

    print("2. The IAM administrator names the data lake admin; governance is turned on")
    lf_root = root.client("lakeformation")
    lf_root.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [principal("admin")],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
        }
    )
    lf = admin.client("lakeformation")
    lf.revoke_permissions(  # IAMAllowedPrincipals is no longer a database creator
        Principal={"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
        Resource={"Catalog": {}},
        Permissions=["CREATE_DATABASE"],
    )
    for bucket in (BUCKET_A, BUCKET_B):
        lf.register_resource(ResourceArn=f"arn:aws:s3:::{bucket}", UseServiceLinkedRole=True)
    check(
        lf.get_data_lake_settings()["DataLakeSettings"]["DataLakeAdmins"] == [principal("admin")],
        "lf-admin is the data lake admin; buckets A and B are registered",
    )

    print("3. Who may create a database over which bucket")
    lf.grant_permissions(
        Principal=principal("leader"), Resource={"Catalog": {}}, Permissions=["CREATE_DATABASE"]
    )
    lf.grant_permissions(
        Principal=principal("leader"),
        Resource={"DataLocation": {"ResourceArn": f"arn:aws:s3:::{BUCKET_A}"}},
        Permissions=["DATA_LOCATION_ACCESS"],
    )
    for who, bucket, allowed in (
        ("admin", BUCKET_A, True),
        ("admin", BUCKET_B, True),
        ("leader", BUCKET_A, True),
        ("leader", BUCKET_B, False),
        ("analyst", BUCKET_A, False),
        ("analyst", BUCKET_B, False),
    ):
        name = f"{who}_{bucket[-1]}"
        code = code_of(
            lambda who=who, name=name, bucket=bucket: (
                people[who][1]
                .client("glue")
                .create_database(
                    DatabaseInput={"Name": name, "LocationUri": f"s3://{bucket}/{name}/"}
                )
            )
        )
        check(
            (code == "") == allowed,
            f"{who} creating a database over {bucket}: {'allowed' if code == '' else code}",
        )

    print("4. The admin builds retail.sales over bucket A")
    for sql in (
        f"CREATE DATABASE retail LOCATION 's3://{BUCKET_A}/retail/'",
        "CREATE EXTERNAL TABLE retail.sales (shop_id int, item_id int, `date` date, "
        "price double, payment_id string, region string) ROW FORMAT DELIMITED FIELDS "
        f"TERMINATED BY ',' LOCATION 's3://{BUCKET_A}/retail/sales/'",
    ):
        state, reason, _ = ask("admin", sql, "default")
        check(state == "SUCCEEDED", f"admin: {sql.split('(')[0].strip()} {reason}")

    print("5. The analyst first sees nothing")
    glue = analyst.client("glue")
    try:
        tables = [t["Name"] for t in glue.get_tables(DatabaseName="retail")["TableList"]]
    except ClientError as exc:
        tables = [exc.response["Error"]["Code"]]
    check("sales" not in tables, f"GetTables(retail): {tables}")
    state, reason, _ = ask("analyst", "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10")
    check(state == "FAILED", f"SELECT fails: {reason[:120]}")

    print("6. DESCRIBE on the database: the analyst sees retail, still no tables")
    lf.grant_permissions(
        Principal=principal("analyst"),
        Resource={"Database": {"Name": "retail"}},
        Permissions=["DESCRIBE"],
    )
    names = [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    check("retail" in names, f"GetDatabases: {names}")
    check(glue.get_tables(DatabaseName="retail")["TableList"] == [], "GetTables(retail): []")

    print("7. The LF-tag role=analyst on sales, and a tag policy for the analyst")
    lf.create_lf_tag(TagKey="role", TagValues=["analyst", "leader"])
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "retail", "Name": "sales"}},
        LFTags=[{"TagKey": "role", "TagValues": ["analyst"]}],
    )
    lf.grant_permissions(
        Principal=principal("analyst"),
        Resource={
            "LFTagPolicy": {
                "ResourceType": "TABLE",
                "Expression": [{"TagKey": "role", "TagValues": ["analyst"]}],
            }
        },
        Permissions=["SELECT", "DESCRIBE"],
    )
    state, reason, found = ask("analyst", "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10")
    check(state == "SUCCEEDED" and len(found) == 10, f"the query works: {len(found)} rows")
    check(len(found[0]) == 6, f"every column: {found[0]}")

    print("8. sales is retagged leader; only four columns keep role=analyst")
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "retail", "Name": "sales"}},
        LFTags=[{"TagKey": "role", "TagValues": ["leader"]}],
    )
    lf.add_lf_tags_to_resource(
        Resource={
            "TableWithColumns": {
                "DatabaseName": "retail",
                "Name": "sales",
                "ColumnNames": ["shop_id", "item_id", "date", "price"],
            }
        },
        LFTags=[{"TagKey": "role", "TagValues": ["analyst"]}],
    )
    state, reason, found = ask("analyst", "SELECT * FROM sales WHERE shop_id = 25 LIMIT 10")
    check(state == "SUCCEEDED" and all(len(r) == 4 for r in found), f"four columns: {found[:1]}")
    state, reason, _ = ask("analyst", "SELECT payment_id FROM sales")
    check(state == "FAILED", f"payment_id is unknown to the analyst: {reason[:100]}")

    print("9. A salesperson limited to the US by a data cells filter")
    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": ACCOUNT,
            "DatabaseName": "retail",
            "TableName": "sales",
            "Name": "us_only",
            "RowFilter": {"FilterExpression": "region = 'US'"},
            "ColumnWildcard": {},
        }
    )
    lf.grant_permissions(
        Principal=principal("salesperson"),
        Resource={
            "DataCellsFilter": {
                "TableCatalogId": ACCOUNT,
                "DatabaseName": "retail",
                "TableName": "sales",
                "Name": "us_only",
            }
        },
        Permissions=["SELECT"],
    )
    state, reason, found = ask("salesperson", "SELECT region, count(*) FROM sales GROUP BY 1")
    check(found == [["US", "40"]], f"only US rows: {found} {reason}")
    state, reason, found = ask("salesperson", "SELECT count(*) FROM sales WHERE region = 'EU'")
    check(found == [["0"]], f"EU rows do not exist for the salesperson: {found}")
    code = code_of(
        lambda: rep.client("s3").get_object(Bucket=BUCKET_A, Key="retail/sales/part-0.csv")
    )
    check(code == "AccessDenied", f"nor can the salesperson read the file through S3: {code}")
    print("done: every persona saw what Lake Formation's rules say")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:4566")
    args = parser.parse_args()
    try:
        walk(args.endpoint)
    except Surprise:
        return 1
    except ClientError as exc:
        print(f"  WRONG  {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
