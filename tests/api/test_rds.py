"""RDS's snapshot-export operations: botocore-shaped round trips and RDS's error codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext


def _source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE items (id INTEGER, name TEXT)")
        con.exec_driver_sql("INSERT INTO items VALUES (1, 'pen')")
    engine.dispose()
    return url


def _request(url: str) -> dict[str, str]:
    return {
        "ExportTaskIdentifier": "nightly",
        "SourceArn": url,
        "S3BucketName": "snap",
        "IamRoleArn": "arn:aws:iam::000000000000:role/export",
        "KmsKeyId": "alias/lakebox",
    }


def test_export_task_round_trip(ctx: ServiceContext, tmp_path: Path) -> None:
    # lakebox reports the exported size as a fraction of a GB where RDS rounds to an integer
    sizes = frozenset({"TotalExtractedDataInGB"})
    task = call(ctx, "rds", "StartExportTask", _request(_source(tmp_path)), loose=sizes)
    assert (task["ExportTaskIdentifier"], task["Status"]) == ("nightly", "COMPLETE")
    described = call(
        ctx, "rds", "DescribeExportTasks", {"ExportTaskIdentifier": "nightly"}, loose=sizes
    )
    assert [t["Status"] for t in described["ExportTasks"]] == ["COMPLETE"]


def test_rds_error_codes(ctx: ServiceContext, tmp_path: Path) -> None:
    request = _request(_source(tmp_path))
    dispatch("rds", "StartExportTask", request, ctx)
    with pytest.raises(AwsError) as info:
        dispatch("rds", "StartExportTask", request, ctx)
    assert info.value.code == "ExportTaskAlreadyExistsFault"
    with pytest.raises(AwsError) as info:
        dispatch("rds", "DescribeExportTasks", {"ExportTaskIdentifier": "nope"}, ctx)
    assert info.value.code == "ExportTaskNotFoundFault"
    with pytest.raises(AwsError) as info:
        dispatch("rds", "StartExportTask", None, ctx)
    assert info.value.code != "InternalServerException"
