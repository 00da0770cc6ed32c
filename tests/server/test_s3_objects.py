"""S3 over ``lakebox serve`` with boto3: buckets, objects, listings and multipart uploads
against the lake's bucket folders, answered in S3's REST-XML shapes."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from server.conftest import ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

MiB = 1024 * 1024


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _status(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Any:
    return client("s3")


def _bucket(s3: Any, name: str) -> str:
    s3.create_bucket(Bucket=name)
    return name


def test_bucket_operations(s3: Any, served: Served) -> None:
    s3.create_bucket(Bucket="s3-buckets")
    assert (served.home / "s3-buckets").is_dir()
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "s3-buckets" in names and "_lakebox" not in names
    assert s3.head_bucket(Bucket="s3-buckets")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_location(Bucket="s3-buckets").get("LocationConstraint") is None
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket="s3-no-such-bucket")
    assert _status(exc) == 404
    with pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket="s3-no-such-bucket")
    assert _code(exc) == "NoSuchBucket"
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="Bad_Name")
    assert _code(exc) == "InvalidBucketName"
    s3.put_object(Bucket="s3-buckets", Key="a/b", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="s3-buckets")
    assert (_code(exc), _status(exc)) == ("BucketNotEmpty", 409)
    s3.delete_object(Bucket="s3-buckets", Key="a/b")
    s3.delete_bucket(Bucket="s3-buckets")
    assert not (served.home / "s3-buckets").exists()
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="s3-buckets")
    assert _code(exc) == "NoSuchBucket"


def test_object_round_trip_with_metadata(s3: Any, served: Served) -> None:
    bucket = _bucket(s3, "s3-objects")
    body = os.urandom(100_000)
    put = s3.put_object(
        Bucket=bucket,
        Key="dir/obj.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"Owner": "ada", "n": "1"},
    )
    md5 = hashlib.md5(body).hexdigest()
    assert put["ETag"] == f'"{md5}"'
    assert (served.home / bucket / "dir" / "obj.bin").read_bytes() == body
    got = s3.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "ada", "n": "1"}
    assert got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert (head["ContentLength"], head["ETag"]) == (len(body), put["ETag"])
    assert head["LastModified"].year >= 2024
    # a file written into the bucket folder by other means gets its MD5 as ETag
    (served.home / bucket / "dir" / "plain.txt").write_bytes(b"plain")
    head = s3.head_object(Bucket=bucket, Key="dir/plain.txt")
    assert head["ETag"] == f'"{hashlib.md5(b"plain").hexdigest()}"'
    # conditional requests
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin", IfNoneMatch=put["ETag"])
    assert _status(exc) == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="dir/obj.bin", IfMatch='"0000"')
    assert _status(exc) == 412
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=b"new", IfNoneMatch="*")
    assert _status(exc) == 412
    # missing things
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="dir/none")
    assert (_code(exc), _status(exc)) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="dir/none")
    assert _status(exc) == 404
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="s3-absent", Key="k", Body=b"x")
    assert _code(exc) == "NoSuchBucket"


def test_a_single_put_larger_than_other_apis_bodies(s3: Any, served: Served) -> None:
    """The JSON services' 6 MiB body limit is not S3's: a 9 MiB PutObject streams in."""
    bucket = _bucket(s3, "s3-large-put")
    body = os.urandom(9 * MiB)
    put = s3.put_object(Bucket=bucket, Key="large.bin", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert (served.home / bucket / "large.bin").stat().st_size == len(body)
    got = s3.get_object(Bucket=bucket, Key="large.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()


def test_content_md5_is_checked(s3: Any) -> None:
    bucket = _bucket(s3, "s3-md5")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5=wrong)
    assert _code(exc) == "BadDigest"
    right = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5=right)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"body"


def test_range_reads(s3: Any) -> None:
    bucket = _bucket(s3, "s3-ranges")
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    for spec, want in (
        ("bytes=0-9", body[:10]),
        ("bytes=1000-", body[1000:]),
        ("bytes=-24", body[-24:]),
        ("bytes=1000-5000", body[1000:]),
    ):
        got = s3.get_object(Bucket=bucket, Key="r", Range=spec)
        assert got["Body"].read() == want, spec
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"].endswith(f"/{len(body)}")
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=0-9")["ContentRange"] == (
        "bytes 0-9/1024"
    )
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-")
    assert (_code(exc), _status(exc)) == ("InvalidRange", 416)


def test_copy_and_delete(s3: Any, served: Served) -> None:
    bucket = _bucket(s3, "s3-copies")
    key = "in/with space+ü.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"copied", ContentType="text/x", Metadata={"a": "1"})
    done = s3.copy_object(Bucket=bucket, Key="out/c.txt", CopySource={"Bucket": bucket, "Key": key})
    assert done["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copied").hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="out/c.txt")
    assert (got["Body"].read(), got["ContentType"], got["Metadata"]) == (
        b"copied",
        "text/x",
        {"a": "1"},
    )
    s3.copy_object(
        Bucket=bucket,
        Key="out/d.txt",
        CopySource=f"{bucket}/{key}",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
    )
    assert s3.head_object(Bucket=bucket, Key="out/d.txt")["Metadata"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert _code(exc) == "InvalidRequest"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "nope"})
    assert _code(exc) == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="out/d.txt")
    s3.delete_object(Bucket=bucket, Key="out/never-there")  # S3 answers 204 all the same
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"many/{i}", Body=b"x")
    answer = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "many/0"}, {"Key": "many/1"}, {"Key": "many/none"}]},
    )
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["many/0", "many/1", "many/none"]
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "many/2"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert not (served.home / bucket / "many").exists()  # emptied folders go too
    assert s3.list_objects_v2(Bucket=bucket, Prefix="many/")["KeyCount"] == 0


def test_listings(s3: Any) -> None:
    bucket = _bucket(s3, "s3-listings")
    keys = ["a.txt", "b/1", "b/2", "b/c/3", "d e/%x", "z"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == keys
    assert listed["Contents"][0]["Size"] == 5 and listed["Contents"][0]["ETag"]
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["b/", "d e/"]
    under = s3.list_objects_v2(Bucket=bucket, Prefix="b/", Delimiter="/")
    assert [o["Key"] for o in under["Contents"]] == ["b/1", "b/2"]
    assert [p["Prefix"] for p in under["CommonPrefixes"]] == ["b/c/"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, StartAfter="b/2")["Contents"]] == [
        "b/c/3",
        "d e/%x",
        "z",
    ]
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=2, **token)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        assert page["KeyCount"] == 2
        token = {"ContinuationToken": page["NextContinuationToken"]}
    assert seen == keys
    paged = list(
        s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    items = [o["Key"] for p in paged for o in p.get("Contents", [])]
    items += [c["Prefix"] for p in paged for c in p.get("CommonPrefixes", [])]
    assert sorted(items) == ["a.txt", "b/", "d e/", "z"]
    v1 = s3.list_objects(Bucket=bucket, Marker="b/c/3")
    assert [o["Key"] for o in v1["Contents"]] == ["d e/%x", "z"]
    v1_pages = s3.get_paginator("list_objects").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 4}
    )
    assert [o["Key"] for p in v1_pages for o in p["Contents"]] == keys
    assert s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")["KeyCount"] == 0


def test_multipart_upload(s3: Any, served: Served) -> None:
    bucket = _bucket(s3, "s3-multipart")
    parts_data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(MiB + 7)]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big/file.bin", ContentType="x/big")
    uid = upload["UploadId"]
    etags = []
    for number, data in enumerate(parts_data, 1):
        etags.append(
            s3.upload_part(
                Bucket=bucket, Key="big/file.bin", UploadId=uid, PartNumber=number, Body=data
            )["ETag"]
        )
    listed = s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(d) for d in parts_data]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/file.bin", uid)]
    # parts are staged outside the bucket: nothing of them is in the bucket folder
    assert not (served.home / bucket / "big").exists()
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    parts = [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]
    for bad, code in (
        ([parts[1], parts[0], parts[2]], "InvalidPartOrder"),
        ([parts[0], {"PartNumber": 2, "ETag": '"0123"'}], "InvalidPart"),
        ([parts[0], {"PartNumber": 9, "ETag": etags[0]}], "InvalidPart"),
    ):
        with pytest.raises(ClientError) as exc:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="big/file.bin", UploadId=uid, MultipartUpload={"Parts": bad}
            )
        assert _code(exc) == code
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big/file.bin", UploadId=uid, MultipartUpload={"Parts": parts}
    )
    joined = hashlib.md5(b"".join(hashlib.md5(d).digest() for d in parts_data)).hexdigest()
    assert done["ETag"] == f'"{joined}-3"'
    whole = b"".join(parts_data)
    got = s3.get_object(Bucket=bucket, Key="big/file.bin")
    assert got["ETag"] == done["ETag"] and got["ContentType"] == "x/big"
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(whole).digest()
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="big/file.bin", UploadId=uid)
    assert (_code(exc), _status(exc)) == ("NoSuchUpload", 404)
    # every part but the last must be 5 MiB
    small = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=1, Body=b"a")
    e2 = s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=2, Body=b"b")
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="small",
            UploadId=small,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": 1, "ETag": e1["ETag"]},
                    {"PartNumber": 2, "ETag": e2["ETag"]},
                ]
            },
        )
    assert _code(exc) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
    with pytest.raises(ClientError) as exc:
        s3.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=3, Body=b"c")
    assert _code(exc) == "NoSuchUpload"
    with pytest.raises(ClientError) as exc:
        s3.abort_multipart_upload(Bucket=bucket, Key="small", UploadId="../../etc")
    assert _code(exc) == "NoSuchUpload"
    assert not (served.home / bucket / "small").exists()


def test_transfer_manager_round_trip(s3: Any, tmp_path: Any) -> None:
    """boto3's upload_file / download_file (multipart above its threshold, ranged GETs)."""
    from boto3.s3.transfer import TransferConfig

    bucket = _bucket(s3, "s3-transfers")
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(12 * MiB + 3))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(source), bucket, "t/src.bin", Config=config)
    target = tmp_path / "back.bin"
    s3.download_file(bucket, "t/src.bin", str(target), Config=config)
    assert target.read_bytes() == source.read_bytes()
    assert s3.head_object(Bucket=bucket, Key="t/src.bin")["ETag"].endswith('-3"')


def test_unserved_s3_request_is_not_implemented(s3: Any) -> None:
    bucket = _bucket(s3, "s3-unserved")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_versioning(Bucket=bucket)
    assert (_code(exc), _status(exc)) == ("NotImplemented", 501)
    assert (
        s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations") is None
    )
