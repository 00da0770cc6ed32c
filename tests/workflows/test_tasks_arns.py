"""Every ARN a lake hands out names the lake's account and region (LAKEBOX_ACCOUNT_ID,
LAKEBOX_REGION): state machines, executions, schedules, the task answers of Lambda and ECS,
the history's TaskScheduled events, delivery streams and table exports."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakebox.config import LakeConfig
from lakebox.ingest.exports import TableExports
from lakebox.ingest.streams import DeliveryStreams
from lakebox.lakehouse import Lake
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START, machine

ACCOUNT, REGION = "123456789012", "eu-west-1"


@pytest.fixture
def eu_config(lake_home: Path, monkeypatch: pytest.MonkeyPatch) -> LakeConfig:
    monkeypatch.setenv("LAKEBOX_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("LAKEBOX_REGION", REGION)
    return LakeConfig.from_env(home=lake_home, storage="local")


@pytest.fixture
def eu_service(eu_config: LakeConfig) -> Iterator[WorkflowService]:
    svc = WorkflowService(eu_config, clock=ManualClock(START), stop_poll_seconds=0.05)
    yield svc
    svc.close()


def test_state_machine_execution_and_schedule_arns_name_the_lakes_account_and_region(
    eu_service: WorkflowService,
) -> None:
    created = eu_service.create_state_machine(
        "orders", machine({"P": {"Type": "Pass", "End": True}})
    )
    assert created.arn == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orders"
    out = eu_service.start_execution("orders", {}, name="first")
    assert out.arn == f"arn:aws:states:{REGION}:{ACCOUNT}:execution:orders:first"
    schedule = eu_service.create_schedule("nightly", "rate(1 day)", "orders")
    assert schedule.arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/nightly"


def test_context_object_and_task_answers_name_the_lakes_account_and_region(
    eu_service: WorkflowService,
) -> None:
    def whoami(event: Any, context: Any) -> Any:
        return {"arn": context.invoked_function_arn}

    eu_service.register_function("whoami", whoami)
    eu_service.register_command("etl", [sys.executable, "-c", "pass"])
    definition = machine(
        {
            "Ctx": {"Type": "Pass", "Parameters": {"role.$": "$$.Execution.RoleArn"}, "Next": "L"},
            "L": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "whoami", "Payload": {}},
                "ResultSelector": {"arn.$": "$.Payload.arn"},
                "ResultPath": "$.lambda",
                "Next": "E",
            },
            "E": {
                "Type": "Task",
                "Resource": "arn:aws:states:::ecs:runTask.sync",
                "Parameters": {"TaskDefinition": "etl", "Cluster": "main"},
                "ResultSelector": {"cluster.$": "$.ClusterArn"},
                "ResultPath": "$.ecs",
                "End": True,
            },
        }
    )
    eu_service.create_state_machine("who", definition)
    out = eu_service.start_execution("who", {})
    assert out.status == "SUCCEEDED", out.error
    assert out.output == {
        "role": f"arn:aws:iam::{ACCOUNT}:role/lakebox",
        "lambda": {"arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:whoami"},
        "ecs": {"cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/main"},
    }
    scheduled = [
        e for e in eu_service.get_execution_history(out.arn) if e["type"] == "TaskScheduled"
    ]
    assert scheduled and all(e["taskScheduledEventDetails"]["region"] == REGION for e in scheduled)


def test_streams_and_exports_name_the_lakes_account_and_region(
    eu_config: LakeConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEBOX_ALLOWED_PATHS", str(tmp_path))
    lake = Lake(LakeConfig.from_env(home=eu_config.home, storage="local"))
    try:
        streams = DeliveryStreams(lake)
        streams.create_delivery_stream("clicks", {"BucketARN": "arn:aws:s3:::raw"})
        arn = streams.create_delivery_stream("views", {"BucketARN": "arn:aws:s3:::raw"})
        assert arn == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/views"
        assert streams.describe_delivery_stream("clicks").arn == (
            f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/clicks"
        )
        source = tmp_path / "orders.jsonl"
        source.write_text(json.dumps({"id": "1"}) + "\n")
        exported = TableExports(lake).export_table_to_point_in_time(str(source), "exp")
        assert exported.arn.startswith(f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders/export/")
    finally:
        lake.close()
