"""Firehose's operation table: the AWS-shaped control and data plane of delivery streams
(``DeliveryStreamName``, ``Record.Data``, ``RequestResponses``) and Firehose's error codes."""

from __future__ import annotations

import json

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
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


def test_json_data_given_by_a_state_machine_is_sent_as_json_text(
    ctx: ServiceContext, lake: Lake
) -> None:
    _create(ctx)
    dispatch(
        "firehose", "PutRecord", {"DeliveryStreamName": "clicks", "Record": {"Data": {"n": 1}}}, ctx
    )
    ctx.streams.flush("clicks")
    [written] = lake.storage.list_files("s3://raw/clicks/")
    assert lake.storage.read_bytes(written.uri) == b'{"n":1}'


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
