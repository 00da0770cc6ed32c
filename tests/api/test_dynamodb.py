"""DynamoDB's export operations: botocore-shaped round trips and DynamoDB's error codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext


@pytest.fixture(autouse=True)
def _sources_in_tmp_path_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON-lines source tables live in tmp_path, outside the lake: allow that folder
    before the lake is opened."""
    monkeypatch.setenv("LAKEBOX_ALLOWED_PATHS", str(tmp_path))


def test_export_round_trip(ctx: ServiceContext, tmp_path: Path) -> None:
    source = tmp_path / "orders.jsonl"
    source.write_text("".join(json.dumps({"id": i}) + "\n" for i in range(3)))
    desc = call(
        ctx,
        "dynamodb",
        "ExportTableToPointInTime",
        {"TableArn": str(source), "S3Bucket": "exp", "S3Prefix": "ddb"},
    )["ExportDescription"]
    assert (desc["ExportStatus"], desc["ItemCount"]) == ("COMPLETED", 3)
    assert desc["ExportArn"].startswith(
        f"arn:aws:dynamodb:{ctx.region}:{ctx.account_id}:table/orders/export/"
    )
    again = call(ctx, "dynamodb", "DescribeExport", {"ExportArn": desc["ExportArn"]})
    assert again["ExportDescription"]["ExportArn"] == desc["ExportArn"]
    listed = call(ctx, "dynamodb", "ListExports", {"MaxResults": 5})
    assert [s["ExportArn"] for s in listed["ExportSummaries"]] == [desc["ExportArn"]]


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("DescribeExport", {"ExportArn": "arn:aws:dynamodb:x"}, "ExportNotFoundException"),
        ("ExportTableToPointInTime", {"TableArn": "t.jsonl"}, "ValidationException"),
        (
            "ExportTableToPointInTime",
            {"TableArn": "t.jsonl", "S3Bucket": "b", "ExportFormat": "CSV"},
            "ValidationException",
        ),
    ],
)
def test_dynamodb_error_codes(
    ctx: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("dynamodb", operation, request_, ctx)
    assert info.value.code == code
