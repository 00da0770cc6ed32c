"""Workflows reading Secrets Manager and publishing to SNS topics of their lake:
``aws-sdk:secretsmanager:getSecretValue`` and ``sns:publish`` (a topic made with
CreateTopic first, the sinks registered with ``register_topic`` otherwise, as before)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakebox.api import dispatch
from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.workflows.tasks.notify import LogFileSink
from workflows.helpers import machine

SECRETS = "arn:aws:states:::aws-sdk:secretsmanager:"
PUBLISH = "arn:aws:states:::sns:publish"


@pytest.fixture
def lake(config: LakeConfig) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(config)
    try:
        yield opened
    finally:
        opened.close()


def _api(lake: Lakehouse, service: str, operation: str, request: dict) -> dict:
    return dispatch(
        service, operation, request, ServiceContext(provider=lambda n: getattr(lake, n))
    )


def _run(lake: Lakehouse, name: str, states: dict, input: object = None) -> object:
    lake.workflows.create_state_machine(name, machine(states))
    run = lake.workflows.start_execution(name, input)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    return run.output


def test_a_workflow_reads_a_secret(lake: Lakehouse) -> None:
    _api(lake, "secretsmanager", "CreateSecret", {"Name": "etl/db", "SecretString": '{"pw":"s3"}'})
    output = _run(
        lake,
        "reads-secret",
        {
            "Read": {
                "Type": "Task",
                "Resource": SECRETS + "getSecretValue",
                "Parameters": {"SecretId": "etl/db"},
                "ResultSelector": {"pw.$": "States.StringToJson($.SecretString)"},
                "End": True,
            }
        },
    )
    assert output == {"pw": {"pw": "s3"}}


def test_a_missing_secret_is_the_sdk_error(lake: Lakehouse) -> None:
    output = _run(
        lake,
        "missing-secret",
        {
            "Read": {
                "Type": "Task",
                "Resource": SECRETS + "getSecretValue",
                "Parameters": {"SecretId": "nope"},
                "Catch": [
                    {
                        "ErrorEquals": ["SecretsManager.ResourceNotFoundException"],
                        "Next": "Missing",
                        "ResultPath": "$.error",
                    }
                ],
                "End": True,
            },
            "Missing": {"Type": "Pass", "End": True},
        },
        {},
    )
    assert isinstance(output, dict)
    assert output["error"]["Error"] == "SecretsManager.ResourceNotFoundException"


def test_sns_publish_reaches_the_lakes_topic(lake: Lakehouse, tmp_path: Path) -> None:
    arn = _api(lake, "sns", "CreateTopic", {"Name": "done"})["TopicArn"]
    _api(lake, "sns", "Subscribe", {"TopicArn": arn, "Protocol": "file", "Endpoint": "done.jsonl"})
    registered = tmp_path / "registered.jsonl"
    lake.workflows.register_topic("elsewhere", LogFileSink(registered))
    output = _run(
        lake,
        "publishes",
        {
            "ToTopic": {
                "Type": "Task",
                "Resource": PUBLISH,
                "Parameters": {"TopicArn": arn, "Message": {"rows": 3}, "Subject": "Done"},
                "ResultPath": "$.first",
                "Next": "ToSink",
            },
            "ToSink": {
                "Type": "Task",
                "Resource": PUBLISH,
                "Parameters": {"TopicArn": "elsewhere", "Message": "registered sink"},
                "ResultPath": "$.second",
                "End": True,
            },
        },
        {},
    )
    lake.sns.drain()
    assert isinstance(output, dict)
    path = lake.config.metadata_dir / "sns" / "files" / lake.config.account_id / "done.jsonl"
    [note] = [json.loads(x) for x in path.read_text().splitlines()]
    assert note["MessageId"] == output["first"]["MessageId"]
    assert (note["Message"], note["Subject"]) == ('{"rows": 3}', "Done")
    [kept] = [json.loads(x) for x in registered.read_text().splitlines()]
    assert kept["MessageId"] == output["second"]["MessageId"]
    assert kept["Message"] == "registered sink"
