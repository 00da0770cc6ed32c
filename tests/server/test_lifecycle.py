"""Stopping ``lakebox serve``: a request in flight when SIGTERM arrives still gets its
answer, then the lake is closed and the process ends."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from server.conftest import REGION, serving

pytestmark = pytest.mark.xdist_group("server")


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    with serving(tmp_path) as (served, proc):
        sfn = boto3.session.Session().client(
            "stepfunctions",
            endpoint_url=served.url,
            region_name=REGION,
            aws_access_key_id=served.admin_key,
            aws_secret_access_key=served.admin_secret,
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                inject_host_prefix=False,
                read_timeout=60,
            ),
        )
        nap = json.dumps(
            {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 2, "End": True}}}
        )
        arn = sfn.create_state_machine(
            name="nap", definition=nap, roleArn="arn:aws:iam::000000000000:role/r", type="EXPRESS"
        )["stateMachineArn"]
        answers: list[Any] = []
        call = threading.Thread(
            target=lambda: answers.append(sfn.start_sync_execution(stateMachineArn=arn))
        )
        call.start()
        time.sleep(0.7)  # the execution is waiting in the server
        proc.send_signal(signal.SIGTERM)
        call.join(60)
        assert [a["status"] for a in answers] == ["SUCCEEDED"]
        proc.wait(60)
        assert proc.returncode in (0, -signal.SIGTERM)
    # the lake was closed cleanly: it is served again and still knows the state machine
    with serving(tmp_path / "again", served.home) as (again, _):
        sfn = boto3.session.Session().client(
            "stepfunctions",
            endpoint_url=again.url,
            region_name=REGION,
            aws_access_key_id=served.admin_key,
            aws_secret_access_key=served.admin_secret,
        )
        names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
        assert names == ["nap"]
    log = [json.loads(line) for line in served.stderr.read_text().splitlines()]
    assert [r.get("operation") for r in log if r.get("operation")] == [
        "CreateStateMachine",
        "StartSyncExecution",
    ]
