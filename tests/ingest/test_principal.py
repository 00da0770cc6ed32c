"""Who started an export or created a delivery stream is kept (its principal's ARN) and
comes back from the service, never in AWS's answers (none names the caller); records
kept before principals existed read as the local administrator, as do callers that name
no principal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from lakebox.api import dispatch
from lakebox.api.context import ServiceContext
from lakebox.ingest.exports import TableExports
from lakebox.ingest.snapshots import SnapshotExports
from lakebox.ingest.streams import DeliveryStreams
from lakebox.principal import LOCAL_ADMIN, Principal
from lakebox.session import Lake

ANALYST = Principal("123456789012", "arn:aws:iam::123456789012:user/analyst")


@pytest.fixture(autouse=True)
def _sources_in_tmp_path_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON-lines source table lives in tmp_path, outside the lake: allow that folder
    before the lake is opened."""
    monkeypatch.setenv("LAKEBOX_ALLOWED_PATHS", str(tmp_path))


def _jsonl(tmp_path: Path) -> str:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1}\n')
    return str(path)


def test_table_exports_record_who_started_them(lake: Lake, tmp_path: Path) -> None:
    exports = TableExports(lake)
    source = _jsonl(tmp_path)
    mine = exports.export_table_to_point_in_time(source, "exp", principal=ANALYST)
    theirs = exports.export_table_to_point_in_time(source, "exp")
    assert mine.status == theirs.status == "COMPLETED"
    assert exports.describe_export(mine.arn).principal_arn == ANALYST.arn
    assert exports.describe_export(theirs.arn).principal_arn == LOCAL_ADMIN.arn
    context = ServiceContext(principal=ANALYST, services={"exports": exports})
    answer = dispatch(
        "dynamodb", "ExportTableToPointInTime", {"TableArn": source, "S3Bucket": "exp"}, context
    )["ExportDescription"]
    assert exports.describe_export(answer["ExportArn"]).principal_arn == ANALYST.arn
    assert "principal" not in json.dumps(answer).lower()
    # a description kept before principals were recorded
    path = exports.root / "descriptions" / f"{mine.id}.json"
    doc = json.loads(path.read_text())
    del doc["LakeboxPrincipalArn"]
    path.write_text(json.dumps(doc))
    assert exports.describe_export(mine.arn).principal_arn == LOCAL_ADMIN.arn


def test_snapshot_exports_record_who_started_them(lake: Lake, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as con:
        con.exec_driver_sql("CREATE TABLE items (id INTEGER)")
        con.exec_driver_sql("INSERT INTO items VALUES (1)")
    engine.dispose()
    exports = SnapshotExports(lake)
    context = ServiceContext(principal=ANALYST, services={"snapshots": exports})
    request = {"ExportTaskIdentifier": "mine", "SourceArn": url, "S3BucketName": "snap"}
    task = dispatch("rds", "StartExportTask", request, context)
    assert task["Status"] == "COMPLETE"
    exports.start_export_task({**request, "ExportTaskIdentifier": "theirs"})
    assert exports.started_by("mine") == ANALYST.arn
    assert exports.started_by("theirs") == LOCAL_ADMIN.arn
    described = exports.describe_export_tasks()
    assert "principal" not in json.dumps([task, described]).lower()
    path = exports.root / "mine.json"
    doc = json.loads(path.read_text())
    del doc["LakeboxPrincipalArn"]
    path.write_text(json.dumps(doc))
    assert exports.started_by("mine") == LOCAL_ADMIN.arn


def test_delivery_streams_record_who_created_them(lake: Lake) -> None:
    streams = DeliveryStreams(lake)
    context = ServiceContext(principal=ANALYST, services={"streams": streams})
    dispatch(
        "firehose",
        "CreateDeliveryStream",
        {
            "DeliveryStreamName": "mine",
            "ExtendedS3DestinationConfiguration": {"BucketARN": "arn:aws:s3:::lake"},
        },
        context,
    )
    streams.create_delivery_stream("theirs", {"BucketARN": "arn:aws:s3:::lake"})
    assert streams.describe_delivery_stream("mine").created_by == ANALYST.arn
    assert streams.describe_delivery_stream("theirs").created_by == LOCAL_ADMIN.arn
    answer = dispatch("firehose", "DescribeDeliveryStream", {"DeliveryStreamName": "mine"}, context)
    assert "principal" not in json.dumps(answer, default=str).lower()
    assert "createdby" not in json.dumps(answer, default=str).lower()
