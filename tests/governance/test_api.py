"""Lake Formation's operation table in process (``lakebox.api.dispatch``): every input is
checked and refused with AWS's code and a message naming the member, for callers the
server and Step Functions tasks would pass on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.catalog.model import Column, Table
from lakebox.config import LakeConfig
from lakebox.lakehouse import Lakehouse
from lakebox.principal import Principal

A = "000000000000"
ANALYST = {"DataLakePrincipalIdentifier": f"arn:aws:iam::{A}:user/analyst"}
TABLE = {"Table": {"DatabaseName": "default", "Name": "sales"}}


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lakehouse]:
    opened = Lakehouse.open(LakeConfig(home=tmp_path / "lake"))
    opened.catalog.create_table(
        Table(
            "default",
            "sales",
            columns=[Column("shop_id", "int"), Column("region", "string")],
            location="s3://bucket-a/sales/",
        )
    )
    try:
        yield opened
    finally:
        opened.close()


def call(lake: Lakehouse, operation: str, request: dict[str, Any], **who: Any) -> Any:
    context = ServiceContext(provider=lambda name: getattr(lake, name), **who)
    return dispatch("lakeformation", operation, request, context)


def refused(lake: Lakehouse, operation: str, request: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(AwsError) as exc:
        call(lake, operation, request)
    return exc.value.code, str(exc.value)


@pytest.mark.parametrize(
    ("request_", "code", "names"),
    [
        (
            {"Principal": ANALYST, "Resource": {}, "Permissions": ["SELECT"]},
            "InvalidInputException",
            "exactly one",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {**TABLE, "Database": {"Name": "default"}},
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "exactly one",
        ),
        (
            {"Principal": ANALYST, "Resource": TABLE, "Permissions": ["READ"]},
            "InvalidInputException",
            "READ",
        ),
        (
            {"Principal": ANALYST, "Resource": TABLE, "Permissions": []},
            "InvalidInputException",
            "at least one",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {"Table": {"DatabaseName": "default"}},
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "Name and TableWildcard",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {
                    "Table": {
                        "DatabaseName": "default",
                        "Name": "sales",
                        "CatalogId": "123456789012",
                    }
                },
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "CatalogId",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": TABLE,
                "Permissions": ["SELECT"],
                "Condition": {"Expression": "x"},
            },
            "InvalidInputException",
            "Condition",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": TABLE,
                "Permissions": ["SELECT"],
                "PermissionsWithGrantOption": ["DROP"],
            },
            "InvalidInputException",
            "PermissionsWithGrantOption",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {"LFTagPolicy": {"ResourceType": "COLUMN", "Expression": []}},
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "ResourceType",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {
                    "LFTagPolicy": {
                        "ResourceType": "TABLE",
                        "Expression": [
                            {"TagKey": "k", "TagValues": ["a"]},
                            {"TagKey": "K", "TagValues": ["b"]},
                        ],
                    }
                },
                "Permissions": ["SELECT"],
            },
            "InvalidInputException",
            "twice",
        ),
        (
            {
                "Principal": ANALYST,
                "Resource": {"DataLocation": {"ResourceArn": "arn:aws:s3:::bkt/../x"}},
                "Permissions": ["DATA_LOCATION_ACCESS"],
            },
            "InvalidInputException",
            "relative",
        ),
    ],
)
def test_grant_inputs_are_checked(
    lake: Lakehouse, request_: dict[str, Any], code: str, names: str
) -> None:
    got, message = refused(lake, "GrantPermissions", request_)
    assert got == code and names in message, message


def test_settings_inputs_are_checked(lake: Lakehouse) -> None:
    for settings, names in [
        ({"DataLakeAdmins": [{"DataLakePrincipalIdentifier": A}]}, "not 000000000000"),
        ({"TrustedResourceOwners": ["123456789012"]}, "TrustedResourceOwners"),
        (
            {
                "CreateTableDefaultPermissions": [
                    {"Principal": ANALYST, "Permissions": ["CREATE_TABLE"]}
                ]
            },
            "cannot be a default",
        ),
        ({"Parameters": {"a": 1}}, "Parameters"),
    ]:
        code, message = refused(lake, "PutDataLakeSettings", {"DataLakeSettings": settings})
        assert code == "InvalidInputException" and names in message, message


def test_paging_inputs_are_checked(lake: Lakehouse) -> None:
    assert refused(lake, "ListPermissions", {"MaxResults": 0})[0] == "InvalidInputException"
    assert refused(lake, "ListPermissions", {"NextToken": "x"})[0] == "InvalidInputException"
    code, message = refused(lake, "ListPermissions", {"Principal": ANALYST})
    assert code == "InvalidInputException" and "Resource is required" in message
    code, message = refused(lake, "ListPermissions", {"ResourceType": "COLUMN"})
    assert code == "InvalidInputException" and "ResourceType" in message


def test_filter_inputs_are_checked(lake: Lakehouse) -> None:
    base = {"DatabaseName": "default", "TableName": "sales", "Name": "f"}
    for data, names in [
        ({**base, "ColumnWildcard": {}}, "RowFilter is required"),
        (
            {
                **base,
                "RowFilter": {"FilterExpression": "x", "AllRowsWildcard": {}},
                "ColumnWildcard": {},
            },
            "exactly one",
        ),
        ({**base, "RowFilter": {"AllRowsWildcard": {}}}, "ColumnNames and ColumnWildcard"),
        ({**base, "RowFilter": {"AllRowsWildcard": {}}, "ColumnNames": []}, "at least one"),
        ({**base, "RowFilter": {"AllRowsWildcard": {}}, "ColumnNames": ["nope"]}, "no column"),
    ]:
        code, message = refused(lake, "CreateDataCellsFilter", {"TableData": data})
        assert code == "InvalidInputException" and names in message, message


def test_lake_formation_rules_answer_access_denied(lake: Lakehouse) -> None:
    """A principal the lake's IAM does not know (no identities: IAM is not asked) is
    still judged by Lake Formation's own rule: only admins grant."""
    who = Principal(A, f"arn:aws:iam::{A}:user/someone")
    with pytest.raises(AwsError) as exc:
        call(
            lake,
            "GrantPermissions",
            {"Principal": ANALYST, "Resource": TABLE, "Permissions": ["SELECT"]},
            principal=who,
        )
    assert exc.value.code == "AccessDeniedException"
    with pytest.raises(AwsError) as exc:
        call(
            lake,
            "RegisterResource",
            {"ResourceArn": "arn:aws:s3:::bkt", "UseServiceLinkedRole": True},
            principal=who,
        )
    assert exc.value.code == "AccessDeniedException"


def test_tag_responses_have_aws_shapes(lake: Lakehouse) -> None:
    call(lake, "CreateLFTag", {"TagKey": "Role", "TagValues": ["analyst"]})
    assert call(lake, "GetLFTag", {"TagKey": "role"}) == {
        "CatalogId": A,
        "TagKey": "role",
        "TagValues": ["analyst"],
    }
    call(
        lake,
        "AddLFTagsToResource",
        {
            "Resource": {
                "TableWithColumns": {
                    "DatabaseName": "default",
                    "Name": "sales",
                    "ColumnNames": ["region"],
                }
            },
            "LFTags": [{"TagKey": "role", "TagValues": ["analyst"]}],
        },
    )
    answer = call(lake, "GetResourceLFTags", {"Resource": TABLE})
    assert answer["LFTagOnDatabase"] == [] and answer["LFTagsOnTable"] == []
    assert answer["LFTagsOnColumns"] == [
        {"Name": "shop_id", "LFTags": []},
        {
            "Name": "region",
            "LFTags": [{"CatalogId": A, "TagKey": "role", "TagValues": ["analyst"]}],
        },
    ]
