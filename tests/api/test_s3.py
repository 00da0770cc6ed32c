"""S3's object operations over the lake's storage: round trips and S3's error codes."""

from __future__ import annotations

import pytest

from api.helpers import call
from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext


def test_object_round_trip(ctx: ServiceContext) -> None:
    put = call(ctx, "s3", "PutObject", {"Bucket": "data", "Key": "in/a.txt", "Body": b"hello"})
    assert put["ETag"]
    got = dispatch("s3", "GetObject", {"Bucket": "data", "Key": "in/a.txt"}, ctx)
    assert (got["Body"], got["ContentLength"], got["ETag"]) == ("hello", 5, put["ETag"])
    head = call(ctx, "s3", "HeadObject", {"Bucket": "data", "Key": "in/a.txt"})
    assert head == {"ContentLength": 5, "ETag": put["ETag"]}
    call(
        ctx,
        "s3",
        "CopyObject",
        {"Bucket": "data", "Key": "out/a.txt", "CopySource": "data/in/a.txt"},
    )
    listed = call(ctx, "s3", "ListObjectsV2", {"Bucket": "data", "Prefix": "out/"})
    assert [o["Key"] for o in listed["Contents"]] == ["out/a.txt"]
    assert call(ctx, "s3", "DeleteObject", {"Bucket": "data", "Key": "in/a.txt"}) == {}
    listed = call(ctx, "s3", "ListObjectsV2", {"Bucket": "data", "Prefix": "in/"})
    assert listed["KeyCount"] == 0


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        ("GetObject", {"Bucket": "data", "Key": "missing"}, "NoSuchKey"),
        ("HeadObject", {"Bucket": "data", "Key": "missing"}, "NoSuchKey"),
        ("GetObject", {"Bucket": "Bad_Bucket", "Key": "k"}, "InvalidBucketName"),
        ("PutObject", {"Bucket": "data", "Key": "../../etc/passwd"}, "InvalidArgument"),
        ("GetObject", {"Bucket": "data"}, "InvalidRequest"),
    ],
)
def test_s3_error_codes(
    ctx: ServiceContext, operation: str, request_: dict[str, object], code: str
) -> None:
    ctx.storage.ensure_bucket("data")  # a missing key of a missing bucket is NoSuchBucket
    with pytest.raises(AwsError) as info:
        dispatch("s3", operation, request_, ctx)
    assert info.value.code == code
