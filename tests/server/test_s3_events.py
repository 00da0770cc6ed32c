"""The S3 operations call the lake's event bus seam (``context.optional("events")``) after
every durable object change, and hand it bucket notification configurations; without a
bus, GetBucketNotificationConfiguration is empty and Put is NotImplemented."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lakebox.api import AwsError, dispatch
from lakebox.api.context import ServiceContext
from lakebox.config import LakeConfig
from lakebox.principal import Principal
from lakebox.storage import Storage


@dataclass
class Recorder:
    """An event bus that keeps what it is told (the bus itself is another module's)."""

    events: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    configurations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def object_event(
        self,
        name: str,
        bucket: str,
        key: str,
        *,
        size: int | None,
        etag: str | None,
        principal: Principal,
        request_id: str | None = None,
    ) -> None:
        self.events.append((name, bucket, key, size))

    def put_bucket_notification_configuration(
        self, bucket: str, configuration: dict[str, Any], *, principal: Principal
    ) -> None:
        self.configurations[bucket] = configuration

    def get_bucket_notification_configuration(
        self, bucket: str, *, principal: Principal
    ) -> dict[str, Any]:
        return self.configurations.get(bucket, {})


def _context(home: Path, events: Recorder | None) -> ServiceContext:
    storage = Storage(LakeConfig.from_env(home=home))
    services: dict[str, Any] = {"storage": storage}
    if events is not None:
        services["events"] = events
    return ServiceContext(services=services)


def test_each_durable_change_is_an_event(tmp_path: Path) -> None:
    bus = Recorder()
    ctx = _context(tmp_path, bus)
    s3 = {"@stream": True}
    dispatch("s3", "CreateBucket", {"Bucket": "ev", **s3}, ctx)
    dispatch("s3", "PutObject", {"Bucket": "ev", "Key": "a", "Body": b"abc", **s3}, ctx)
    dispatch("s3", "CopyObject", {"Bucket": "ev", "Key": "b", "CopySource": "ev/a", **s3}, ctx)
    made = dispatch("s3", "CreateMultipartUpload", {"Bucket": "ev", "Key": "m", **s3}, ctx)
    part = {"Bucket": "ev", "Key": "m", "UploadId": made["UploadId"], **s3}
    etag = dispatch("s3", "UploadPart", {**part, "PartNumber": 1, "Body": b"xy"}, ctx)["ETag"]
    done = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    dispatch("s3", "CompleteMultipartUpload", {**part, "MultipartUpload": done}, ctx)
    dispatch("s3", "DeleteObject", {"Bucket": "ev", "Key": "a", **s3}, ctx)
    dispatch("s3", "DeleteObject", {"Bucket": "ev", "Key": "never", **s3}, ctx)  # no event
    dispatch("s3", "DeleteObjects", {"Bucket": "ev", "Delete": {"Objects": [{"Key": "b"}]}}, ctx)
    assert bus.events == [
        ("ObjectCreated:Put", "ev", "a", 3),
        ("ObjectCreated:Copy", "ev", "b", 3),
        ("ObjectCreated:CompleteMultipartUpload", "ev", "m", 2),
        ("ObjectRemoved:Delete", "ev", "a", None),
        ("ObjectRemoved:Delete", "ev", "b", None),
    ]
    config = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:0:q", "Events": []}]}
    dispatch(
        "s3",
        "PutBucketNotificationConfiguration",
        {"Bucket": "ev", "NotificationConfiguration": config},
        ctx,
    )
    got = dispatch("s3", "GetBucketNotificationConfiguration", {"Bucket": "ev"}, ctx)
    assert got == config


def test_without_a_bus(tmp_path: Path) -> None:
    ctx = _context(tmp_path, None)
    dispatch("s3", "CreateBucket", {"Bucket": "quiet"}, ctx)
    dispatch("s3", "PutObject", {"Bucket": "quiet", "Key": "a", "Body": b"x"}, ctx)
    assert dispatch("s3", "GetBucketNotificationConfiguration", {"Bucket": "quiet"}, ctx) == {}
    with pytest.raises(AwsError) as exc:
        dispatch(
            "s3",
            "PutBucketNotificationConfiguration",
            {"Bucket": "quiet", "NotificationConfiguration": {}},
            ctx,
        )
    assert exc.value.code == "NotImplemented"
