"""Step Functions' ``aws-sdk:glue:*`` tasks over the lake's own Data Catalog, through a real
``lakebox serve``: a state machine reads a table and adds a partition Athena then sees."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

ROLE = "arn:aws:iam::000000000000:role/glue-states"
SDK = "arn:aws:states:::aws-sdk:glue:"

MACHINE = {
    "StartAt": "ReadTable",
    "States": {
        "ReadTable": {
            "Type": "Task",
            "Resource": SDK + "getTable",
            "Parameters": {"DatabaseName.$": "$.db", "Name.$": "$.table"},
            "ResultSelector": {
                "location.$": "$.Table.StorageDescriptor.Location",
                "keys.$": "$.Table.PartitionKeys[*].Name",
            },
            "ResultPath": "$.table_info",
            "Next": "AddPartition",
        },
        "AddPartition": {
            "Type": "Task",
            "Resource": SDK + "createPartition",
            "Parameters": {
                "DatabaseName.$": "$.db",
                "TableName.$": "$.table",
                "PartitionInput": {
                    "Values.$": "States.Array($.day)",
                    "StorageDescriptor": {
                        "Location.$": "States.Format('{}day={}/', $.table_info.location, $.day)"
                    },
                },
            },
            "ResultPath": None,
            "Next": "Check",
        },
        "Check": {
            "Type": "Task",
            "Resource": SDK + "getPartitions",
            "Parameters": {
                "DatabaseName.$": "$.db",
                "TableName.$": "$.table",
                "Expression.$": "States.Format('day = \\'{}\\'', $.day)",
            },
            "ResultSelector": {"values.$": "$.Partitions[*].Values"},
            "ResultPath": "$.found",
            "End": True,
        },
    },
    "QueryLanguage": "JSONPath",
}


def _run(sfn: Any, arn: str, given: dict[str, Any]) -> dict[str, Any]:
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))
    deadline = time.monotonic() + 60
    while True:
        described = sfn.describe_execution(executionArn=started["executionArn"])
        if described["status"] != "RUNNING":
            return dict(described)
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _query(athena: Any, sql: str) -> list[list[str | None]]:
    qid = athena.start_query_execution(QueryString=sql)["QueryExecutionId"]
    deadline = time.monotonic() + 60
    while True:
        state = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if state["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            assert state["State"] == "SUCCEEDED", state
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[d.get("VarCharValue") for d in r["Data"]] for r in rows[1:]]


def test_a_state_machine_reads_a_table_and_adds_a_partition(
    served: Served, client: ClientFactory
) -> None:
    folder = served.home / "gs-data" / "clicks" / "day=2024-06-01"
    folder.mkdir(parents=True)
    (folder / "part-0.csv").write_text("1,home\n2,cart\n")
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "gs"})
    glue.create_table(
        DatabaseName="gs",
        TableInput={
            "Name": "clicks",
            "PartitionKeys": [{"Name": "day", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "int"}, {"Name": "page", "Type": "string"}],
                "Location": "s3://gs-data/clicks/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )
    sfn = client("stepfunctions")
    arn = sfn.create_state_machine(
        name="glue-catalog", definition=json.dumps(MACHINE), roleArn=ROLE
    )["stateMachineArn"]
    done = _run(sfn, arn, {"db": "gs", "table": "clicks", "day": "2024-06-01"})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["table_info"] == {"location": "s3://gs-data/clicks/", "keys": ["day"]}
    assert output["found"] == {"values": [["2024-06-01"]]}
    rows = _query(client("athena"), "SELECT page FROM gs.clicks ORDER BY id")
    assert rows == [["home"], ["cart"]]

    # a Glue error is the task's error, named as Step Functions' SDK integration names it
    again = _run(sfn, arn, {"db": "gs", "table": "clicks", "day": "2024-06-01"})
    assert again["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=again["executionArn"])["events"]
    failed = next(e for e in history if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "Glue.AlreadyExistsException", failed
    missing = _run(sfn, arn, {"db": "gs", "table": "nope", "day": "2024-06-01"})
    assert missing["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=missing["executionArn"])["events"]
    failed = next(e for e in history if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "Glue.EntityNotFoundException", failed
