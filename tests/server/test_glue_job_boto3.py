"""A Glue Python shell job written for AWS, with boto3 and no lakebox code, run by
`lakebox serve`: it reads a secret from Secrets Manager and an SQL file from S3, runs the
SQL through Athena and writes what it found back to S3 (the seed's "a Glue job that reads
a secret and an SQL file from S3"). The job acts with its role's temporary credentials,
against the serving lake (AWS_ENDPOINT_URL), never with the machine user's AWS keys."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from server.conftest import ClientFactory

pytestmark = pytest.mark.xdist_group("server")

_TRUST = json.dumps(
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

#: as a Glue Python shell script is written for AWS
_JOB = """
import json
import sys
import time

import boto3

secret = json.loads(
    boto3.client("secretsmanager").get_secret_value(SecretId="etl/warehouse")["SecretString"]
)
s3 = boto3.client("s3")
sql = s3.get_object(Bucket="etl-config", Key="sql/count.sql")["Body"].read().decode()
athena = boto3.client("athena")
qid = athena.start_query_execution(
    QueryString=sql, ResultConfiguration={"OutputLocation": "s3://etl-results/"}
)["QueryExecutionId"]
while True:
    state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
        break
    time.sleep(0.1)
rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
who = boto3.client("sts").get_caller_identity()["Arn"]
s3.put_object(
    Bucket="etl-results",
    Key="job/answer.json",
    Body=json.dumps(
        {"user": secret["user"], "state": state["State"], "answer": rows[1]["Data"][0]["VarCharValue"], "who": who}
    ).encode(),
)
"""


def _wait(glue: Any, name: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        run: dict[str, Any] = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


def test_a_glue_job_reads_a_secret_and_sql_from_s3_with_boto3(client: ClientFactory) -> None:
    iam = client("iam")
    role = iam.create_role(RoleName="etl-job", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="etl-job",
        PolicyName="etl",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "secretsmanager:GetSecretValue",
                            "s3:*",
                            "athena:*",
                            "glue:Get*",
                        ],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    client("secretsmanager").create_secret(
        Name="etl/warehouse", SecretString=json.dumps({"user": "loader", "password": "pw"})
    )
    s3 = client("s3")
    for bucket in ("etl-config", "etl-results"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="etl-config", Key="sql/count.sql", Body=b"SELECT 6 * 7 AS answer")
    s3.put_object(Bucket="etl-config", Key="jobs/count.py", Body=_JOB.encode())
    glue = client("glue")
    glue.create_job(
        Name="etl-count",
        Role=role,
        Command={"Name": "pythonshell", "ScriptLocation": "s3://etl-config/jobs/count.py"},
    )
    run = _wait(glue, "etl-count", glue.start_job_run(JobName="etl-count")["JobRunId"])
    assert run["JobRunState"] == "SUCCEEDED", run
    answer = json.loads(s3.get_object(Bucket="etl-results", Key="job/answer.json")["Body"].read())
    assert answer["user"] == "loader"
    assert (answer["state"], answer["answer"]) == ("SUCCEEDED", "42")
    assert ":assumed-role/etl-job/" in answer["who"]


def test_a_job_whose_role_denies_the_secret_fails(client: ClientFactory) -> None:
    iam = client("iam")
    role = iam.create_role(RoleName="etl-narrow", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="etl-narrow",
        PolicyName="s3-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    s3 = client("s3")
    s3.create_bucket(Bucket="etl-narrow")
    s3.put_object(Bucket="etl-narrow", Key="job.py", Body=_JOB.encode())
    glue = client("glue")
    glue.create_job(
        Name="etl-narrow",
        Role=role,
        Command={"Name": "pythonshell", "ScriptLocation": "s3://etl-narrow/job.py"},
    )
    run = _wait(glue, "etl-narrow", glue.start_job_run(JobName="etl-narrow")["JobRunId"])
    assert run["JobRunState"] == "FAILED", run
    assert "AccessDenied" in run.get("ErrorMessage", ""), run
