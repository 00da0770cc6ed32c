"""Firehose's operation table: the AWS-shaped control and data plane of delivery streams
(``DeliveryStreamName``, ``Record.Data``, ``RequestResponses``) and Firehose's error codes."""

from __future__ import annotations

import json

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.api.firehose import batch_response
from lakebox.ingest.streams import BatchResult, RecordResult
from lakebox.lakehouse import Lake


def _create(ctx: ServiceContext, name: str = "clicks") -> None:
    call(
        ctx,
        "firehose",
        "CreateDeliveryStream",
        {
            "DeliveryStreamName": name,
            "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": {
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::raw",
                "Prefix": "clicks/",
            },
        },
    )


def test_stream_round_trip(ctx: ServiceContext, lake: Lake) -> None:
    _create(ctx)
    desc = call(ctx, "firehose", "DescribeDeliveryStream", {"DeliveryStreamName": "clicks"})[
        "DeliveryStreamDescription"
    ]
    assert desc["DeliveryStreamARN"] == (
        f"arn:aws:firehose:{ctx.region}:{ctx.account_id}:deliverystream/clicks"
    )
    listed = call(ctx, "firehose", "ListDeliveryStreams", {"Limit": 10})
    assert listed["DeliveryStreamNames"] == ["clicks"]
    one = call(
        ctx,
        "firehose",
        "PutRecord",
        {"DeliveryStreamName": "clicks", "Record": {"Data": b'{"n": 1}\n'}},
    )
    assert one["RecordId"]
    batch = call(
        ctx,
        "firehose",
        "PutRecordBatch",
        {
            "DeliveryStreamName": "clicks",
            "Records": [{"Data": b'{"n": 2}\n'}, {"Data": b'{"n": 3}\n'}],
        },
    )
    assert batch["FailedPutCount"] == 0 and len(batch["RequestResponses"]) == 2
    ctx.streams.flush("clicks")
    [written] = lake.storage.list_files("s3://raw/clicks/")
    data = lake.storage.read_bytes(written.uri).decode()
    assert [json.loads(x)["n"] for x in data.splitlines()] == [1, 2, 3]
    call(
        ctx,
        "firehose",
        "DeleteDeliveryStream",
        {"DeliveryStreamName": "clicks", "AllowForceDelete": True},
    )
    assert call(ctx, "firehose", "ListDeliveryStreams", {})["DeliveryStreamNames"] == []


def test_describe_answers_the_destination_with_its_defaults(ctx: ServiceContext) -> None:
    _create(ctx)
    ctx.streams.put("clicks", b"abc")
    desc = call(ctx, "firehose", "DescribeDeliveryStream", {"DeliveryStreamName": "clicks"})[
        "DeliveryStreamDescription"
    ]
    [destination] = desc["Destinations"]
    assert destination["DestinationId"] == "destinationId-000000000001"
    described = destination["ExtendedS3DestinationDescription"]
    assert described["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}
    assert (described["CompressionFormat"], described["S3BackupMode"]) == (
        "UNCOMPRESSED",
        "Disabled",
    )
    assert (desc["DeliveryStreamStatus"], desc["VersionId"]) == ("ACTIVE", "1")
    status = ctx.streams.buffer_status("clicks")
    assert desc["LakeboxBufferedRecords"] == 1
    assert status.due_at is not None
    assert desc["LakeboxDeliveryDueAt"] == status.due_at.isoformat()


def test_list_pages_by_limit_and_exclusive_start(ctx: ServiceContext) -> None:
    for name in ("b", "a", "c"):
        _create(ctx, name)
    page = call(ctx, "firehose", "ListDeliveryStreams", {"Limit": 2})
    assert page == {"DeliveryStreamNames": ["a", "b"], "HasMoreDeliveryStreams": True}
    rest = call(ctx, "firehose", "ListDeliveryStreams", {"ExclusiveStartDeliveryStreamName": "b"})
    assert rest == {"DeliveryStreamNames": ["c"], "HasMoreDeliveryStreams": False}


def test_update_destination_checks_the_version(ctx: ServiceContext) -> None:
    _create(ctx)
    update = {
        "DeliveryStreamName": "clicks",
        "CurrentDeliveryStreamVersionId": "1",
        "DestinationId": "destinationId-000000000001",
        "ExtendedS3DestinationUpdate": {"Prefix": "v2/"},
    }
    assert call(ctx, "firehose", "UpdateDestination", update) == {}
    desc = call(ctx, "firehose", "DescribeDeliveryStream", {"DeliveryStreamName": "clicks"})
    assert desc["DeliveryStreamDescription"]["VersionId"] == "2"
    with pytest.raises(AwsError) as info:
        dispatch("firehose", "UpdateDestination", update, ctx)
    assert info.value.code == "ConcurrentModificationException"
    with pytest.raises(AwsError) as info:
        dispatch("firehose", "UpdateDestination", {**update, "DestinationId": "other"}, ctx)
    assert info.value.code == "InvalidArgumentException"


def test_a_batch_with_an_oversized_record_fails_whole_naming_the_member(
    ctx: ServiceContext,
) -> None:
    _create(ctx)
    records = [{"Data": b"ok"}, {"Data": b"x" * 1_024_001}, {"Data": b"ok"}]
    with pytest.raises(AwsError) as info:
        dispatch(
            "firehose", "PutRecordBatch", {"DeliveryStreamName": "clicks", "Records": records}, ctx
        )
    assert info.value.code == "ValidationException"
    assert "'records.2.member.data'" in str(info.value)
    with pytest.raises(AwsError) as info:
        dispatch("firehose", "PutRecord", {"DeliveryStreamName": "clicks", "Record": {}}, ctx)
    assert (info.value.code, "'record.data'" in str(info.value)) == ("ValidationException", True)
    assert ctx.streams.buffer_status("clicks").records == 0


def test_records_a_batch_could_not_store_are_answered_one_by_one() -> None:
    result = BatchResult(
        2,
        [
            RecordResult(error_code="ServiceUnavailableException", error_message="disk full"),
            RecordResult(error_code="ServiceUnavailableException", error_message="disk full"),
        ],
    )
    assert batch_response(result) == {
        "FailedPutCount": 2,
        "Encrypted": False,
        "RequestResponses": [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "disk full"}
        ]
        * 2,
    }
    stored = batch_response(BatchResult(0, [RecordResult(record_id="r1")]))
    assert stored["RequestResponses"] == [{"RecordId": "r1"}]


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        (
            "PutRecord",
            {"DeliveryStreamName": "nope", "Record": {"Data": "x"}},
            "ResourceNotFoundException",
        ),
        ("PutRecord", {"Record": {"Data": "x"}}, "InvalidArgumentException"),
        ("PutRecord", {"DeliveryStreamName": "clicks", "Record": "x"}, "InvalidArgumentException"),
        (
            "PutRecordBatch",
            {"DeliveryStreamName": "clicks", "Records": {}},
            "InvalidArgumentException",
        ),
        ("DescribeDeliveryStream", {"DeliveryStreamName": "nope"}, "ResourceNotFoundException"),
        ("DescribeDeliveryStream", {}, "InvalidArgumentException"),
        ("CreateDeliveryStream", {"DeliveryStreamName": "s"}, "InvalidArgumentException"),
    ],
)
def test_firehose_error_codes(
    ctx: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    with pytest.raises(AwsError) as info:
        dispatch("firehose", operation, request_, ctx)
    assert info.value.code == code


def test_creating_a_stream_twice_is_resource_in_use(ctx: ServiceContext) -> None:
    _create(ctx)
    with pytest.raises(AwsError) as info:
        _create(ctx)
    assert info.value.code == "ResourceInUseException"
