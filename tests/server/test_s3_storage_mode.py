"""The S3 door of a lake whose storage is a real S3-compatible server (S3 mode): the
door's operations go through the lake's storage, so objects land in the real bucket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from server.conftest import REGION, serving

pytestmark = pytest.mark.xdist_group("server")


@pytest.fixture(scope="module")
def s3_mode(aws_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """(a client of the lakebox door, a client of the S3 server behind it)."""
    env = {
        "LAKEBOX_STORAGE": "s3",
        "LAKEBOX_S3_ENDPOINT": aws_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    backing = boto3.client(
        "s3",
        endpoint_url=aws_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with serving(tmp_path_factory.mktemp("s3mode"), env=env) as (served, _):
        door = boto3.client(
            "s3",
            endpoint_url=served.url,
            region_name=REGION,
            aws_access_key_id=served.admin_key,
            aws_secret_access_key=served.admin_secret,
            config=Config(retries={"max_attempts": 1}),
        )
        yield door, backing


def test_put_get_list_reach_the_real_bucket(s3_mode: tuple[Any, Any], tmp_path: Path) -> None:
    door, backing = s3_mode
    bucket = f"lb-door-{uuid.uuid4().hex[:10]}"
    door.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in backing.list_buckets()["Buckets"]]
    put = door.put_object(Bucket=bucket, Key="d/obj.txt", Body=b"in s3 mode", Metadata={"m": "1"})
    assert backing.get_object(Bucket=bucket, Key="d/obj.txt")["Body"].read() == b"in s3 mode"
    got = door.get_object(Bucket=bucket, Key="d/obj.txt")
    assert (got["Body"].read(), got["ETag"], got["Metadata"]) == (
        b"in s3 mode",
        put["ETag"],
        {"m": "1"},
    )
    assert (
        door.get_object(Bucket=bucket, Key="d/obj.txt", Range="bytes=3-6")["Body"].read() == b"s3 m"
    )
    backing.put_object(Bucket=bucket, Key="d/other.txt", Body=b"from outside")
    listed = door.list_objects_v2(Bucket=bucket, Prefix="d/")
    assert [o["Key"] for o in listed["Contents"]] == ["d/obj.txt", "d/other.txt"]
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * (6 * 1024 * 1024))
    from boto3.s3.transfer import TransferConfig

    door.upload_file(
        str(source), bucket, "d/big.bin", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024)
    )
    assert backing.head_object(Bucket=bucket, Key="d/big.bin")["ContentLength"] == 6 * 1024 * 1024
    door.delete_object(Bucket=bucket, Key="d/obj.txt")
    with pytest.raises(ClientError):
        backing.head_object(Bucket=bucket, Key="d/obj.txt")
    with pytest.raises(ClientError) as exc:
        door.delete_bucket(Bucket=bucket)
    assert exc.value.response["Error"]["Code"] == "BucketNotEmpty"
