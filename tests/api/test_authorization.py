"""The API layer authorizes every door the same way: a Step Functions task calls the
operation table as the execution's principal, and that principal's policies decide, as
they do over HTTP. The local administrator (the embedded default) is not checked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakebox.api import dispatch
from lakebox.api.base import AwsError
from lakebox.api.context import ServiceContext
from lakebox.lakehouse import Lake

QUERY = {
    "StartAt": "Q",
    "States": {
        "Q": {
            "Type": "Task",
            "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
            "Parameters": {"QueryString": "SELECT 42 AS answer"},
            "End": True,
        }
    },
}


def _bob(lake: Lake, statements: list[dict[str, Any]]) -> Any:
    lake.iam.create_user("bob")
    lake.iam.put_user_policy(
        "bob", "scoped", json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    return lake.iam.user_principal("bob")


def test_a_task_runs_as_the_execution_principal_and_is_denied_what_it_may_not(
    lake: Lake,
) -> None:
    bob = _bob(
        lake,
        [
            {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "athena:*", "Resource": "*"},
        ],
    )
    flows = lake.workflows
    machine = flows.create_state_machine("authz-query", QUERY)
    denied = flows.start_execution(machine.arn, {}, principal=bob)
    assert denied.status == "FAILED", denied
    assert "AccessDenied" in (denied.error or ""), denied
    assert "athena:StartQueryExecution" in (denied.cause or "")
    # the local administrator, as before
    done = flows.start_execution(machine.arn, {})
    assert done.status == "SUCCEEDED", done


def test_dispatch_checks_the_declared_resources(lake: Lake) -> None:
    bob = _bob(
        lake,
        [
            {
                "Effect": "Allow",
                "Action": "glue:GetDatabase",
                "Resource": [
                    f"arn:aws:glue:{lake.config.region}:{lake.config.account_id}:catalog",
                    f"arn:aws:glue:{lake.config.region}:{lake.config.account_id}:database/default",
                ],
            }
        ],
    )
    context = ServiceContext(
        principal=bob,
        account_id=lake.config.account_id,
        region=lake.config.region,
        provider=lambda name: getattr(lake, name),
    )
    assert dispatch("glue", "GetDatabase", {"Name": "default"}, context)["Database"]
    with pytest.raises(AwsError) as exc:
        # a member the operation does not read cannot move the check elsewhere
        dispatch(
            "glue",
            "GetDatabase",
            {"Name": "other", "DatabaseName": "default", "ResourceArn": "*"},
            context,
        )
    assert exc.value.code == "AccessDeniedException"
    assert "database/other" in str(exc.value)
