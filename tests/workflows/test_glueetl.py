"""Glue ETL jobs (``glueetl``): a PySpark script written as AWS's documentation writes
them, run by a real ``lakebox serve`` through Glue's CreateJob / StartJobRun / GetJobRun
with boto3, on the Spark engine, against the lake's catalog. One test, two job processes
(each starts a JVM: tens of seconds on a busy machine)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, Served, serving

pytestmark = pytest.mark.xdist_group("spark")

#: the shape of AWS's "code example: joining and relationalizing data" and of Glue
#: Studio's generated scripts: catalog source -> ApplyMapping -> ResolveChoice -> S3
SCRIPT = """
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.transforms import ApplyMapping, Relationalize, ResolveChoice
from awsglue.utils import getResolvedOptions
from awsglue.dynamicframe import DynamicFrame
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME", "target", "copies"])
sc = SparkContext()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
job = Job(glueContext)
job.init(args["JOB_NAME"], args)

orders = glueContext.create_dynamic_frame.from_catalog(
    database="sales", table_name="orders", transformation_ctx="orders_source"
)
print("read", orders.count())
mapped = ApplyMapping.apply(
    frame=orders,
    mappings=[
        ("id", "int", "order_id", "long"),
        ("amount", "string", "amount", "double"),
        ("region", "string", "region", "string"),
    ],
    transformation_ctx="mapped",
)
resolved = ResolveChoice.apply(frame=mapped, specs=[("order_id", "cast:int")])
glueContext.write_dynamic_frame.from_options(
    frame=resolved,
    connection_type="s3",
    connection_options={"path": args["target"], "partitionKeys": ["region"]},
    format="parquet",
)
glueContext.write_dynamic_frame.from_catalog(
    frame=resolved, database="sales", table_name="orders_copy"
)
written = glueContext.create_dynamic_frame.from_options(
    connection_type="s3", connection_options={"paths": [args["target"]]}, format="parquet"
)
print("written", written.count())
# JSON lines and CSV (with a header) written and read back
for fmt, write_options, read_options in (
    ("json", {}, {}),
    ("csv", {"writeHeader": True}, {"withHeader": True}),
):
    glueContext.write_dynamic_frame.from_options(
        frame=resolved, connection_type="s3", connection_options={"path": args["copies"] + fmt},
        format=fmt, format_options=write_options,
    )
    back = glueContext.create_dynamic_frame.from_options(
        connection_type="s3", connection_options={"paths": [args["copies"] + fmt]},
        format=fmt, format_options=read_options,
    )
    assert back.count() == written.count(), (fmt, back.count())
    assert sorted(back.toDF().columns) == ["amount", "order_id", "region"], back.toDF().columns

# a push-down predicate (Spark SQL over the partition keys) prunes partitions
eu = glueContext.create_dynamic_frame.from_catalog(
    database="sales", table_name="orders", push_down_predicate="(region == 'eu')"
)
assert [r[0] for r in eu.toDF().select("region").distinct().collect()] == ["eu"]
assert eu.count() == 2, eu.count()
# the DynamicFrame's own field methods
small = eu.select_fields(["id", "amount"]).rename_field("amount", "price")
assert small.toDF().columns == ["id", "price"], small.toDF().columns
assert small.drop_fields(["price"]).toDF().columns == ["id"]
assert small.filter(lambda r: r["id"] == 1).count() == 1

# Relationalize (the shape of AWS's legislators example): a struct flattened, each array
# in a frame of its own keyed by the parent's column
nested = DynamicFrame.fromDF(
    spark.createDataFrame(
        [(1, ("Ann", "Lee"), ["a", "b"], [("home", "555")]), (2, ("Bo", "Ng"), [], None)],
        "id INT, name STRUCT<first: STRING, last: STRING>, tags ARRAY<STRING>, "
        "contact_details ARRAY<STRUCT<type: STRING, value: STRING>>",
    ),
    glueContext,
    "nested",
)
frames = Relationalize.apply(frame=nested, staging_path="s3://data/tmp/", name="root")
assert sorted(frames.keys()) == ["root", "root_contact_details", "root_tags"], frames.keys()
root = frames.select("root").toDF()
assert root.columns == ["id", "name.first", "name.last", "tags", "contact_details"], root.columns
tags = frames.select("root_tags").toDF()
assert tags.columns == ["id", "index", "tags.val"], tags.columns
keys = {r["id"]: (r["tags"], r["contact_details"]) for r in root.collect()}
assert keys[2][1] is None, keys
joined = sorted((r[0], r[1], r[2]) for r in tags.collect())
assert joined == [(keys[1][0], 0, "a"), (keys[1][0], 1, "b")], (joined, keys)
contacts = frames.select("root_contact_details").toDF()
assert contacts.columns == [
    "id", "index", "contact_details.val.type", "contact_details.val.value"
], contacts.columns
assert [tuple(r) for r in contacts.collect()] == [(keys[1][1], 0, "home", "555")]
job.commit()
"""

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


def _allow(actions: str | list[str]) -> str:
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


#: the job's role: the data services, not everything (so Lake Formation applies to it)
DATA_ACCESS = _allow(["glue:*", "s3:*", "athena:*", "lakeformation:GetDataAccess"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("glueetl")) as (server, _):
        yield server


def _client(served: Served, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=served.url,
        region_name=REGION,
        aws_access_key_id=served.admin_key,
        aws_secret_access_key=served.admin_secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def _sql(athena: Any, text: str) -> list[list[str | None]]:
    qid = athena.start_query_execution(
        QueryString=text, ResultConfiguration={"OutputLocation": "s3://results/"}
    )["QueryExecutionId"]
    deadline = time.monotonic() + 120
    while True:
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert state["State"] == "SUCCEEDED", (text, state.get("StateChangeReason"))
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in r["Data"]] for r in rows[1:]]


def _run(glue: Any, name: str, arguments: dict[str, str] | None = None) -> dict[str, Any]:
    run_id = glue.start_job_run(JobName=name, Arguments=arguments or {})["JobRunId"]
    deadline = time.monotonic() + 600
    while True:
        run = glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING"):
            return dict(run)
        assert time.monotonic() < deadline, run
        time.sleep(0.5)


def _run_by_state_machine(served: Served, iam: Any, job: str) -> dict[str, Any]:
    """The job run by a ``glue:startJobRun.sync`` task; its JobRun is the task's output."""
    trust = TRUST_GLUE.replace("glue.amazonaws.com", "states.amazonaws.com")
    role = iam.create_role(RoleName="etl-machine", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="etl-machine", PolicyName="all", PolicyDocument=_allow("*"))
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": job},
                "End": True,
            }
        },
    }
    sfn = _client(served, "stepfunctions")
    machine = sfn.create_state_machine(name="etl", definition=json.dumps(definition), roleArn=role)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 600
    while True:
        ex = sfn.describe_execution(executionArn=execution)
        if ex["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, ex
        time.sleep(0.5)
    assert ex["status"] == "SUCCEEDED", (ex.get("error"), ex.get("cause"))
    output = json.loads(ex["output"])
    assert output["JobName"] == job
    run = _client(served, "glue").get_job_run(JobName=job, RunId=output["Id"])["JobRun"]
    return dict(run)


def _log(run: dict[str, Any]) -> str:
    return Path(run["LogGroupName"]).read_text()


def test_a_glueetl_job_reads_the_catalog_transforms_and_writes_with_bookmarks(
    served: Served,
) -> None:
    athena, glue, s3 = (_client(served, s) for s in ("athena", "glue", "s3"))
    s3.create_bucket(Bucket="results")
    s3.create_bucket(Bucket="data")
    s3.create_bucket(Bucket="scripts")
    _sql(athena, "CREATE DATABASE sales")
    _sql(
        athena,
        "CREATE TABLE sales.orders WITH (format = 'PARQUET', partitioned_by = ARRAY['region'], "
        "external_location = 's3://data/orders/') AS SELECT * FROM (VALUES "
        "(1, '10.50', 'eu'), (2, '3.25', 'us'), (3, 'n/a', 'eu')) AS t(id, amount, region)",
    )
    _sql(
        athena,
        "CREATE EXTERNAL TABLE sales.orders_copy (order_id int, amount double) "
        "PARTITIONED BY (region string) STORED AS PARQUET LOCATION 's3://data/orders_copy/'",
    )
    s3.put_object(Bucket="scripts", Key="etl.py", Body=SCRIPT.encode())
    # the job's role, trusting Glue: the script's process acts as a session of it
    iam = _client(served, "iam")
    role = iam.create_role(RoleName="glue-etl", AssumeRolePolicyDocument=TRUST_GLUE)["Role"]["Arn"]
    iam.put_role_policy(RoleName="glue-etl", PolicyName="data", PolicyDocument=DATA_ACCESS)
    glue.create_job(
        Name="etl",
        Role=role,
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
        DefaultArguments={
            "--job-bookmark-option": "job-bookmark-enable",
            "--target": "s3://data/out/",
            "--copies": "s3://data/copies/",
        },
        GlueVersion="4.0",
        WorkerType="G.1X",
        NumberOfWorkers=2,
    )
    job = glue.get_job(JobName="etl")["Job"]
    assert job["Command"]["Name"] == "glueetl"
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("4.0", "G.1X", 2)

    first = _run(glue, "etl")
    assert first["JobRunState"] == "SUCCEEDED", (first.get("ErrorMessage"), _log(first))
    assert "read 3" in _log(first) and "written 3" in _log(first)

    # more rows arrive: the second run, started by a state machine's
    # glue:startJobRun.sync task, reads only the new file (its bookmark)
    _sql(athena, "INSERT INTO sales.orders VALUES (4, '7', 'us')")
    second = _run_by_state_machine(served, iam, "etl")
    assert second["JobRunState"] == "SUCCEEDED", (second.get("ErrorMessage"), _log(second))
    assert "read 1" in _log(second) and "written 4" in _log(second)

    # the written files, as Athena reads them, hold the source's rows once each
    _sql(
        athena,
        "CREATE EXTERNAL TABLE sales.out (order_id int, amount double) "
        "PARTITIONED BY (region string) STORED AS PARQUET LOCATION 's3://data/out/'",
    )
    _sql(athena, "MSCK REPAIR TABLE sales.out")
    expected = _sql(
        athena,
        "SELECT region, count(*), sum(try_cast(amount AS double)), sum(id) FROM sales.orders "
        "GROUP BY region ORDER BY region",
    )
    assert expected == [["eu", "2", "10.5", "4"], ["us", "2", "10.25", "6"]]
    for table in ("out", "orders_copy"):
        got = _sql(
            athena,
            f"SELECT region, count(*), sum(amount), sum(order_id) FROM sales.{table} "
            "GROUP BY region ORDER BY region",
        )
        assert got == expected, table
    parts = glue.get_partitions(DatabaseName="sales", TableName="orders_copy")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["eu"], ["us"]]

    # Lake Formation: once IAM_ALLOWED_PRINCIPALS no longer holds SELECT on the table, the
    # role (granted nothing) may not read it, and the run fails saying so
    _client(served, "lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
        Resource={"Table": {"DatabaseName": "sales", "Name": "orders"}},
        Permissions=["ALL"],
    )
    denied = _run(glue, "etl")
    assert denied["JobRunState"] == "FAILED"
    assert denied["ErrorMessage"].endswith(
        "Insufficient Lake Formation permission(s): Required Select on orders"
    ), denied["ErrorMessage"]

    # a failing script ends FAILED with its error, not a traceback (the Python API:
    # the lake's job registry, the run in this process's thread)
    bad = served.home.parent / "bad.py"
    bad.write_text(
        "import sys\nfrom awsglue.utils import getResolvedOptions\n"
        "getResolvedOptions(sys.argv, ['JOB_NAME', 'day'])\n"
    )
    # a stopped run ends STOPPED, and what its script started (Spark's JVM) ends with it
    pid_file = served.home.parent / "child.pid"
    slow = served.home.parent / "slow.py"
    slow.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '300'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(300)\n"
    )
    lake = Lakehouse.open(LakeConfig.from_env(home=served.home), create=False)
    try:
        jobs = lake.glue_jobs
        jobs.register_job("bad", bad, "glueetl")
        failed = jobs.wait(jobs.start_job_run("bad"), 120)
        jobs.register_job("slow", slow, "glueetl")
        slow_run = jobs.start_job_run("slow")
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        jobs.stop_job_run("slow", slow_run)
        stopped = jobs.wait(slow_run, 60)
    finally:
        lake.close()
    assert failed.state == "FAILED"
    assert failed.error_message == (
        "awsglue.utils.GlueArgumentError: the following arguments are required: --day"
    )
    assert stopped.state == "STOPPED"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and "zombie" not in _status(child):
        assert time.monotonic() < deadline, f"the script's child {child} outlived its run"
        time.sleep(0.1)


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"
