"""boto3 against a real ``lakebox serve``: each service's protocol end to end, signed with
keys the lake's IAM service made."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import urllib.request
from typing import Any

import boto3
import pytest

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")


def _run_query(athena: Any, sql: str, timeout: float = 60) -> dict[str, Any]:
    qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while True:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return qe
        assert time.monotonic() < deadline, f"{sql} did not finish: {qe['Status']}"
        time.sleep(0.05)


def _rows(result: dict[str, Any]) -> list[list[str | None]]:
    return [[d.get("VarCharValue") for d in row["Data"]] for row in result["ResultSet"]["Rows"]]


def test_health_answers_json_without_authentication(served: Served) -> None:
    with urllib.request.urlopen(served.url + "/_lakebox/health", timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("application/json")
        doc = json.loads(answer.read())
    assert doc["status"] == "ok"
    # whoever can reach the port learns nothing of the lake's place on disk
    assert "home" not in doc and str(served.home) not in json.dumps(doc)


def test_athena_select_one_round_trip(client: ClientFactory) -> None:
    athena = client("athena")
    qe = _run_query(athena, "SELECT 1 AS one, 'x' AS letter")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    # botocore parsed the epoch timestamps the server wrote into datetimes
    assert qe["Status"]["SubmissionDateTime"].year >= 2024
    result = athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
    assert _rows(result) == [["one", "letter"], ["1", "x"]]
    columns = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [("one", "integer"), ("letter", "varchar")]


def test_athena_table_query_and_catalog_listings(client: ClientFactory) -> None:
    athena = client("athena")
    made = _run_query(
        athena,
        "CREATE TABLE served_nums AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) "
        "AS t(id, name)",
    )
    assert made["Status"]["State"] == "SUCCEEDED", made["Status"]
    qe = _run_query(athena, "SELECT id, name FROM served_nums WHERE id >= 2 ORDER BY id")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    rows = _rows(athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"]))
    assert rows == [["id", "name"], ["2", "b"], ["3", "c"]]

    groups = athena.list_work_groups()["WorkGroups"]
    assert "primary" in [g["Name"] for g in groups]
    databases = athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    assert "default" in [d["Name"] for d in databases]
    tables = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default")
    found = {t["Name"]: t for t in tables["TableMetadataList"]}
    assert [c["Name"] for c in found["served_nums"]["Columns"]] == ["id", "name"]

    glue = client("glue")
    listed = glue.get_tables(DatabaseName="default")["TableList"]
    assert "served_nums" in [t["Name"] for t in listed]


def test_glue_databases(client: ClientFactory) -> None:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "served_sales", "Description": "from boto3"})
    databases = {d["Name"]: d for d in glue.get_databases()["DatabaseList"]}
    assert databases["served_sales"]["Description"] == "from boto3"
    assert glue.get_tables(DatabaseName="served_sales")["TableList"] == []
    with pytest.raises(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": "served_sales"})
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_tables(DatabaseName="no_such_db")


_PASS_MACHINE = json.dumps(
    {
        "StartAt": "Greet",
        "States": {
            "Greet": {
                "Type": "Pass",
                "Parameters": {"greeting.$": "States.Format('hello {}', $.who)"},
                "End": True,
            }
        },
    }
)
_ROLE = "arn:aws:iam::000000000000:role/served-states"


def test_step_functions_execution(client: ClientFactory) -> None:
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(name="served-greet", definition=_PASS_MACHINE, roleArn=_ROLE)[
        "stateMachineArn"
    ]
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"who": "boto3"}))
    deadline = time.monotonic() + 30
    while True:
        described = sfn.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"greeting": "hello boto3"}
    assert described["startDate"] <= described["stopDate"]


def test_step_functions_sync_execution_through_the_sync_host_prefix(
    served: Served, client: ClientFactory
) -> None:
    """boto3 sends StartSyncExecution to ``sync-<host>`` and signs that host; the name does
    not resolve here, so the request is sent to the server's address with the Host header
    boto3 signed, as a DNS name for sync-<host> would deliver it."""
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name="served-greet-sync", definition=_PASS_MACHINE, roleArn=_ROLE, type="EXPRESS"
    )["stateMachineArn"]
    seen: list[str] = []

    def to_server(request: Any, **_: Any) -> None:
        host = request.url.split("/")[2]
        seen.append(host)
        request.headers["Host"] = host
        request.url = request.url.replace(host, served.url.split("/")[2], 1)

    sfn.meta.events.register("before-send.sfn.StartSyncExecution", to_server)
    answer = sfn.start_sync_execution(stateMachineArn=arn, input=json.dumps({"who": "sync"}))
    assert seen == ["sync-" + served.url.split("/")[2]]
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"greeting": "hello sync"}

    # or with host prefix injection off (AWS_DISABLE_HOST_PREFIX_INJECTION=true)
    plain = client("stepfunctions", inject_host_prefix=False)
    answer = plain.start_sync_execution(stateMachineArn=arn, input=json.dumps({"who": "plain"}))
    assert json.loads(answer["output"]) == {"greeting": "hello plain"}


def test_firehose_put_record_batch_answers_per_record(client: ClientFactory) -> None:
    firehose = client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="served-clicks",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/served-firehose",
            "BucketARN": "arn:aws:s3:::served-landing",
            "Prefix": "clicks/",
        },
    )
    records = [{"Data": json.dumps({"n": i}).encode() + b"\n"} for i in range(3)]
    answer = firehose.put_record_batch(DeliveryStreamName="served-clicks", Records=records)
    assert answer["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in answer["RequestResponses"]]
    assert len(ids) == 3 and len(set(ids)) == 3
    described = firehose.describe_delivery_stream(DeliveryStreamName="served-clicks")
    assert described["DeliveryStreamDescription"]["DeliveryStreamName"] == "served-clicks"
    with pytest.raises(firehose.exceptions.ResourceNotFoundException):
        firehose.put_record_batch(DeliveryStreamName="no-such-stream", Records=records)


def test_scheduler_rest_json(client: ClientFactory) -> None:
    sfn = client("stepfunctions")
    target = sfn.create_state_machine(
        name="served-scheduled", definition=_PASS_MACHINE, roleArn=_ROLE
    )["stateMachineArn"]
    scheduler = client("scheduler")
    scheduler.create_schedule(
        Name="served-nightly",
        ScheduleExpression="cron(0 3 * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": _ROLE, "Input": json.dumps({"who": "cron"})},
    )
    got = scheduler.get_schedule(Name="served-nightly")
    assert got["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert got["Target"]["Arn"] == target
    names = [s["Name"] for s in scheduler.list_schedules()["Schedules"]]
    assert "served-nightly" in names
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name="no-such-schedule")
    # PUT with a body, GET with a query string, DELETE
    scheduler.update_schedule(
        Name="served-nightly",
        ScheduleExpression="rate(6 hours)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": _ROLE},
    )
    assert scheduler.get_schedule(Name="served-nightly")["ScheduleExpression"] == "rate(6 hours)"
    prefixed = scheduler.list_schedules(NamePrefix="served-night")["Schedules"]
    assert [s["Name"] for s in prefixed] == ["served-nightly"]
    scheduler.delete_schedule(Name="served-nightly")
    assert scheduler.list_schedules(NamePrefix="served-night")["Schedules"] == []


def test_requests_are_logged_one_json_line_each(served: Served, client: ClientFactory) -> None:
    client("athena").list_work_groups()
    deadline = time.monotonic() + 5
    while True:
        lines = [r for r in served.log_lines() if r.get("operation") == "ListWorkGroups"]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert lines, served.stderr.read_text()[-2000:]
    line = lines[-1]
    assert line["service"] == "athena" and line["status"] == 200
    assert line["principal"].endswith(":user/admin")
    assert line["request_id"] and line["duration_ms"] >= 0 and line["time"]


def test_boto3_finds_the_server_and_keys_from_the_environment(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", served.url)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(served.keys_file))
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    sts = boto3.session.Session().client("sts", region_name="us-east-1")
    assert sts.get_caller_identity()["Arn"].endswith(":user/admin")
    assert os.stat(served.keys_file).st_mode & 0o077 == 0  # readable by its owner only


def test_the_serving_process_delivers_buffers_when_their_interval_passes(
    served: Served, client: ClientFactory
) -> None:
    """Nothing but time passes after the put: the server's own delivery loop writes the
    buffer to the bucket (the folder ``<home>/served-ticker/`` in the embedded mode)."""
    firehose = client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="served-ticker",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/served-firehose",
            "BucketARN": "arn:aws:s3:::served-ticker",
            "Prefix": "events/",
            "BufferingHints": {"IntervalInSeconds": 1, "SizeInMBs": 5},
        },
    )
    firehose.put_record(DeliveryStreamName="served-ticker", Record={"Data": b'{"n": 1}\n'})
    bucket = served.home / "served-ticker"
    deadline = time.monotonic() + 30
    while not [p for p in bucket.rglob("*") if p.is_file()]:
        assert time.monotonic() < deadline, "the buffer was not delivered within 30 s"
        time.sleep(0.1)
    (delivered,) = [p for p in bucket.rglob("*") if p.is_file()]
    assert delivered.read_bytes() == b'{"n": 1}\n'


def test_the_serving_process_starts_scheduled_executions(client: ClientFactory) -> None:
    sfn = client("stepfunctions")
    target = sfn.create_state_machine(name="served-at", definition=_PASS_MACHINE, roleArn=_ROLE)[
        "stateMachineArn"
    ]
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    client("scheduler").create_schedule(
        Name="served-at-once",
        ScheduleExpression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": _ROLE, "Input": json.dumps({"who": "schedule"})},
    )
    deadline = time.monotonic() + 60
    while True:
        runs = sfn.list_executions(stateMachineArn=target)["executions"]
        if runs and runs[0]["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, "the schedule did not start its execution in 60 s"
        time.sleep(0.2)
    (run,) = runs
    assert run["status"] == "SUCCEEDED"
    output = sfn.describe_execution(executionArn=run["executionArn"])["output"]
    assert json.loads(output) == {"greeting": "hello schedule"}


def test_long_work_does_not_block_other_requests(served: Served, client: ClientFactory) -> None:
    """A synchronous execution that waits 3 s holds one worker thread; meanwhile the
    health check and other calls answer at once."""
    sfn = client("stepfunctions", inject_host_prefix=False, read_timeout=60)
    waiting = json.dumps(
        {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3, "End": True}}}
    )
    arn = sfn.create_state_machine(
        name="served-nap", definition=waiting, roleArn=_ROLE, type="EXPRESS"
    )["stateMachineArn"]
    done: list[str] = []
    slow = threading.Thread(
        target=lambda: done.append(sfn.start_sync_execution(stateMachineArn=arn)["status"])
    )
    started = time.monotonic()
    slow.start()
    try:
        time.sleep(0.5)
        athena = client("athena")
        for _ in range(5):
            t0 = time.monotonic()
            with urllib.request.urlopen(served.url + "/_lakebox/health", timeout=5) as answer:
                assert answer.status == 200
            assert athena.list_work_groups()["WorkGroups"]
            assert time.monotonic() - t0 < 2.0
        assert not done, "the execution should still be waiting"
    finally:
        slow.join(60)
    assert done == ["SUCCEEDED"]
    assert time.monotonic() - started >= 3.0


def test_a_table_made_through_glue_is_queried_through_athena(
    served: Served, client: ClientFactory
) -> None:
    folder = served.home / "served-data" / "people"
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_text("1,ann\n2,bob\n")
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "served_hr"})
    glue.create_table(
        DatabaseName="served_hr",
        TableInput={
            "Name": "people",
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "int"}, {"Name": "name", "Type": "string"}],
                "Location": "s3://served-data/people/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )
    table = glue.get_table(DatabaseName="served_hr", Name="people")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://served-data/people/"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "name"]
    assert glue.get_database(Name="served_hr")["Database"]["Name"] == "served_hr"

    athena = client("athena")
    qe = _run_query(athena, "SELECT name FROM served_hr.people ORDER BY id")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    rows = _rows(athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"]))
    assert rows == [["name"], ["ann"], ["bob"]]
    meta = athena.get_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName="served_hr", TableName="people"
    )["TableMetadata"]
    assert [c["Type"] for c in meta["Columns"]] == ["int", "string"]

    glue.delete_table(DatabaseName="served_hr", Name="people")
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName="served_hr", Name="people")
    glue.delete_database(Name="served_hr")
    assert "served_hr" not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    assert (folder / "part-0.csv").exists()  # an external table's files stay


def test_a_client_of_another_region_is_served_in_the_lakes_region(served: Served) -> None:
    """Scripts copied from AWS's docs name their own region; the lake serves its one."""
    session = boto3.session.Session()
    athena = session.client(
        "athena",
        endpoint_url=served.url,
        region_name="ap-northeast-1",
        aws_access_key_id=served.admin_key,
        aws_secret_access_key=served.admin_secret,
    )
    qe = _run_query(athena, "SELECT 'tokyo' AS city")
    assert qe["Status"]["State"] == "SUCCEEDED", qe["Status"]
    result = athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
    assert _rows(result)[1:] == [["tokyo"]]
    glue = session.client(
        "glue",
        endpoint_url=served.url,
        region_name="eu-west-1",
        aws_access_key_id=served.admin_key,
        aws_secret_access_key=served.admin_secret,
    )
    assert glue.get_databases()["DatabaseList"] is not None
