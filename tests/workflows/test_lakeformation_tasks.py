"""Workflows administering Lake Formation: ``aws-sdk:lakeformation:*`` tasks grant, list
and tag through the same operation table as the server, and fail with the SDK's error
names (``LakeFormation.EntityNotFoundException``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lakebox.catalog.model import Column, Table
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.principal import Principal
from workflows.helpers import machine

LF = "arn:aws:states:::aws-sdk:lakeformation:"
ANALYST = "arn:aws:iam::000000000000:user/analyst"


@pytest.fixture
def lake(config: LakeConfig) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(config)
    opened.catalog.create_table(
        Table("default", "sales", columns=[Column("shop_id", "int")], location="s3://b/sales/")
    )
    try:
        yield opened
    finally:
        opened.close()


def _run(lake: Lakehouse, name: str, states: dict, input: object = None) -> object:
    lake.workflows.create_state_machine(name, machine(states))
    run = lake.workflows.start_execution(name, input)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    return run.output


def test_a_workflow_grants_and_lists_permissions(lake: Lakehouse) -> None:
    table = {"Table": {"DatabaseName": "default", "Name": "sales"}}
    output = _run(
        lake,
        "grants",
        {
            "Revoke": {
                "Type": "Task",
                "Resource": LF + "revokePermissions",
                "Parameters": {
                    "Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
                    "Resource": table,
                    "Permissions": ["ALL"],
                },
                "Next": "Grant",
            },
            "Grant": {
                "Type": "Task",
                "Resource": LF + "grantPermissions",
                "Parameters": {
                    "Principal": {"DataLakePrincipalIdentifier": ANALYST},
                    "Resource": table,
                    "Permissions": ["SELECT"],
                },
                "Next": "List",
            },
            "List": {
                "Type": "Task",
                "Resource": LF + "listPermissions",
                "Parameters": {
                    "Principal": {"DataLakePrincipalIdentifier": ANALYST},
                    "Resource": table,
                },
                "ResultSelector": {"perms.$": "$.PrincipalResourcePermissions[0].Permissions"},
                "End": True,
            },
        },
    )
    assert output == {"perms": ["SELECT"]}
    sales = lake.catalog.get_table("default", "sales")
    lf = lake.lakeformation
    assert lf.table_permissions(Principal("000000000000", ANALYST), sales) == {"SELECT"}
    other = Principal("000000000000", "arn:aws:iam::000000000000:user/other")
    assert lf.table_permissions(other, sales) == frozenset()


def test_a_missing_table_is_the_sdk_error(lake: Lakehouse) -> None:
    output = _run(
        lake,
        "missing",
        {
            "Grant": {
                "Type": "Task",
                "Resource": LF + "grantPermissions",
                "Parameters": {
                    "Principal": {"DataLakePrincipalIdentifier": ANALYST},
                    "Resource": {"Table": {"DatabaseName": "default", "Name": "nope"}},
                    "Permissions": ["SELECT"],
                },
                "Catch": [
                    {
                        "ErrorEquals": ["LakeFormation.EntityNotFoundException"],
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
    assert output["error"]["Error"] == "LakeFormation.EntityNotFoundException"
