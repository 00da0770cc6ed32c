"""Executions from the States Language specification and the Step Functions developer guide
(``states/*.json``, see ``corpus.py``), each run through the Step Functions API and compared
with what AWS returns: STANDARD machines through StartExecution and DescribeExecution,
EXPRESS machines through StartSyncExecution."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.corpus import StatesCase, states_files
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.workflows.clock import ManualClock
from lakebox.workflows.service import WorkflowService
from workflows.helpers import START

CASES = [case for cases in states_files().values() for case in cases]
ROLE = "arn:aws:iam::000000000000:role/conformance"


@pytest.fixture
def sfn(config: LakeConfig) -> Iterator[ServiceContext]:
    # the bucket the recorded S3 cases used existed in the recording account
    (Path(config.home) / "conformance").mkdir(parents=True, exist_ok=True)
    workflows = WorkflowService(config, clock=ManualClock(START), stop_poll_seconds=0.05)
    # the Lambda function cases call: it returns its event, like AWS-recorded identity functions
    workflows.register_function("Identity", lambda event: event)
    try:
        yield ServiceContext(
            account_id=config.account_id,
            region=config.region,
            services={"workflows": workflows},
        )
    finally:
        workflows.close()


def execute(context: ServiceContext, case: StatesCase) -> dict[str, Any]:
    """DescribeExecution's answer (StartSyncExecution's for EXPRESS), or the API error of
    CreateStateMachine / StartExecution as {"status": "API_ERROR", "error": code}."""
    try:
        created = dispatch(
            "stepfunctions",
            "CreateStateMachine",
            {
                "name": "conformance",
                "definition": json.dumps(case.definition),
                "roleArn": ROLE,
                "type": case.type,
            },
            context,
        )
        start = {"stateMachineArn": created["stateMachineArn"], "input": json.dumps(case.input)}
        if case.type == "EXPRESS":
            answer: dict[str, Any] = dispatch("stepfunctions", "StartSyncExecution", start, context)
            return answer
        arn = dispatch("stepfunctions", "StartExecution", start, context)["executionArn"]
        deadline = time.monotonic() + 30
        while True:
            described: dict[str, Any] = dispatch(
                "stepfunctions", "DescribeExecution", {"executionArn": arn}, context
            )
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.01)
    except AwsError as err:
        return {"status": "API_ERROR", "error": err.code, "cause": str(err)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_recorded_execution(sfn: ServiceContext, case: StatesCase) -> None:
    got = execute(sfn, case)
    expect = case.expect
    assert got["status"] == expect["status"], got
    if "executionArn" in expect:  # optional: a regex (Express ARNs)
        assert re.search(expect["executionArn"]["match"], got.get("executionArn", "")), got
    for key in ("output", "error", "cause"):
        if key not in expect:
            if case.expect["status"] != "API_ERROR":
                assert key not in got, f"{key} should be absent: {got}"
            continue
        want = expect[key]
        have = got.get(key)
        if key == "output":
            assert have is not None and json.loads(have) == want, got
        elif isinstance(want, dict):
            assert have is not None and re.search(want["match"], have), got
        else:
            assert have == want, got
