"""The S3 door refuses what it must: expired or forged presigned URLs, bad keys and
signatures, other accounts' principals, users their policies do not allow, keys that
would climb out of a bucket, symbolic links leading out of the lake, bodies that do not
match their signed hash; and a cut upload leaves nothing behind."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served, serving

pytestmark = pytest.mark.xdist_group("server")


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Any:
    made = client("s3", signature_version="s3v4")
    made.create_bucket(Bucket="sec")
    return made


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _send(
    served: Served,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    host: str | None = None,
    signed_body: bytes | None = None,
    keys: tuple[str, str] | None = None,
    sign_path: str | None = None,
    headers: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A request signed with S3's SigV4, sent with ``path`` exactly as written (boto3
    would normalise or quote it) and ``Host: host`` if given. ``sign_path`` is the path
    botocore signs when it differs (botocore encodes what it signs once more: a path sent
    with ``%2e`` is signed as ``.``, as S3 decodes each segment before encoding it)."""
    port = urllib.parse.urlsplit(served.url).port
    netloc = host or f"127.0.0.1:{port}"
    request = AWSRequest(
        method=method,
        url=f"http://{netloc}{sign_path or path}",
        data=body if signed_body is None else signed_body,
        headers=headers,
    )
    request.context.update(context or {})
    S3SigV4Auth(
        Credentials(*(keys or (served.admin_key, served.admin_secret))), "s3", REGION
    ).add_auth(request)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", netloc)
        for name, value in request.headers.items():
            if name.lower() != "host":
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def _open(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_presigned_get_and_put(s3: Any, served: Served) -> None:
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "sec", "Key": "pre/signed.txt"}, ExpiresIn=60
    )
    assert _open(put_url, "PUT", b"presigned body")[0] == 200
    assert (served.home / "sec" / "pre" / "signed.txt").read_bytes() == b"presigned body"
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "sec", "Key": "pre/signed.txt"}, ExpiresIn=60
    )
    assert _open(get_url) == (200, b"presigned body")
    download = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": "sec",
            "Key": "pre/signed.txt",
            "ResponseContentType": "text/plain",
            "ResponseContentDisposition": 'attachment; filename="s.txt"',
        },
        ExpiresIn=60,
    )
    with urllib.request.urlopen(download, timeout=30) as answer:
        assert answer.headers["Content-Type"] == "text/plain"
        assert answer.headers["Content-Disposition"] == 'attachment; filename="s.txt"'
    # forged: the signature of another request
    forged = get_url.replace("pre/signed.txt", "pre/other.txt")
    status, body = _open(forged)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    tampered = get_url[:-1] + ("0" if get_url[-1] != "0" else "1")
    assert b"SignatureDoesNotMatch" in _open(tampered)[1]


def test_expired_presigned_url_is_refused(s3: Any) -> None:
    s3.put_object(Bucket="sec", Key="pre/old.txt", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "sec", "Key": "pre/old.txt"}, ExpiresIn=1
    )
    time.sleep(2.1)
    status, body = _open(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"xpired" in body


def test_bad_keys_and_signatures(client: ClientFactory, served: Served) -> None:
    unknown = client("s3", key="AKIAUNKNOWNKEY000000", secret="x" * 40)
    with pytest.raises(ClientError) as exc:
        unknown.list_buckets()
    assert _code(exc) == "InvalidAccessKeyId"
    wrong = client("s3", key=served.admin_key, secret="wrong" * 8)
    with pytest.raises(ClientError) as exc:
        wrong.get_object(Bucket="sec", Key="k")
    assert _code(exc) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as exc:
        wrong.head_object(Bucket="sec", Key="k")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_body_must_match_its_signed_hash(s3: Any, served: Served) -> None:
    status, _, body = _send(served, "PUT", "/sec/hash.txt", b"sent body", signed_body=b"signed")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in body
    assert not (served.home / "sec" / "hash.txt").exists()
    assert _send(served, "PUT", "/sec/hash.txt", b"sent body")[0] == 200


def test_aws_chunked_upload_with_a_trailer(s3: Any, served: Served) -> None:
    """What the SDKs send over HTTPS: ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, the body in
    aws-chunked framing with its checksum in a trailer; the payload alone is stored."""
    payload = b"chunked payload " * 5000
    framed = b"".join(
        f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        for piece in (payload[:65536], payload[65536:])
    )
    framed += b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    status, _, answer = _send(
        served,
        "PUT",
        "/sec/chunked.bin",
        framed,
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-trailer": "x-amz-checksum-crc32",
        },
        context={"checksum": {"request_algorithm": {"in": "trailer"}}},
    )
    assert status == 200, answer
    assert (served.home / "sec" / "chunked.bin").read_bytes() == payload
    status, _, answer = _send(
        served,
        "PUT",
        "/sec/chunked-bad.bin",
        framed[:-40],
        headers={
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(payload)),
        },
        context={"checksum": {"request_algorithm": {"in": "trailer"}}},
    )
    assert status == 400 and b"<Code>IncompleteBody</Code>" in answer, answer
    assert not (served.home / "sec" / "chunked-bad.bin").exists()


def test_another_accounts_principal_is_refused(
    s3: Any, client: ClientFactory, lake: Lakehouse, served: Served
) -> None:
    s3.put_object(Bucket="sec", Key="mine.txt", Body=b"mine")
    lake.iam.create_account("111111111111", "other")
    lake.iam.create_user("s3-eve", account_id="111111111111", admin=True)
    made = lake.iam.create_access_key("s3-eve", account_id="111111111111")
    eve = client("s3", key=made.key.access_key_id, secret=made.secret_access_key)
    assert eve.list_buckets()["Buckets"] == []
    for call in (
        lambda: eve.get_object(Bucket="sec", Key="mine.txt"),
        lambda: eve.put_object(Bucket="sec", Key="eve.txt", Body=b"x"),
        lambda: eve.list_objects_v2(Bucket="sec"),
        lambda: eve.delete_object(Bucket="sec", Key="mine.txt"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "AccessDenied"
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert not (served.home / "sec" / "eve.txt").exists()
    assert (served.home / "sec" / "mine.txt").exists()


def test_policies_scope_a_user_to_keys(s3: Any, client: ClientFactory) -> None:
    s3.put_object(Bucket="sec", Key="public/a.txt", Body=b"a")
    s3.put_object(Bucket="sec", Key="private/b.txt", Body=b"b")
    iam = client("iam")
    iam.create_user(UserName="s3-bob")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::sec/public/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::sec"},
        ],
    }
    iam.put_user_policy(UserName="s3-bob", PolicyName="p", PolicyDocument=json.dumps(policy))
    made = iam.create_access_key(UserName="s3-bob")["AccessKey"]
    bob = client("s3", key=made["AccessKeyId"], secret=made["SecretAccessKey"])
    assert bob.get_object(Bucket="sec", Key="public/a.txt")["Body"].read() == b"a"
    assert bob.list_objects_v2(Bucket="sec", Prefix="public/")["KeyCount"] == 1
    for call in (
        lambda: bob.get_object(Bucket="sec", Key="private/b.txt"),
        lambda: bob.put_object(Bucket="sec", Key="public/new.txt", Body=b"x"),
        lambda: bob.list_buckets(),
        lambda: bob.delete_object(Bucket="sec", Key="public/a.txt"),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "AccessDenied"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/sec/../escape.txt", "InvalidArgument"),
        ("/sec/a/%2e%2e/%2e%2e/escape.txt", "InvalidArgument"),
        ("/sec/%2E%2E/escape.txt", "InvalidArgument"),
        ("/sec/a%5c..%5cescape.txt", "InvalidArgument"),
        ("/sec/a%00b", "InvalidArgument"),
        ("/sec//tmp/escape.txt", "InvalidArgument"),
        ("/sec/./escape.txt", "InvalidArgument"),
        ("/%2e%2e/escape.txt", "InvalidBucketName"),
        ("/_lakebox/iam/admin-credentials", "InvalidBucketName"),
    ],
)
def test_keys_cannot_climb_out_of_their_bucket(
    s3: Any, served: Served, path: str, code: str
) -> None:
    # what the client signs: each segment URI-encoded once (SigV4's rule for S3)
    signed = "/".join(
        urllib.parse.quote(urllib.parse.unquote(seg), safe="-_.~") for seg in path.split("/")
    )
    for method, body in (("PUT", b"escaped"), ("GET", b"")):
        status, _, answer = _send(served, method, path, body, sign_path=signed)
        assert status == 400, answer
        assert f"<Code>{code}</Code>".encode() in answer, answer
    assert not (served.home / "escape.txt").exists()
    assert not (served.home.parent / "escape.txt").exists()
    assert not Path("/tmp/escape.txt").exists()


def test_symbolic_links_leading_out_are_not_followed(
    s3: Any, served: Served, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (served.home / "sec" / "link").symlink_to(outside)
    try:
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="sec", Key="link/secret.txt")
        assert _code(exc) == "AccessDenied"
        with pytest.raises(ClientError) as exc:
            s3.put_object(Bucket="sec", Key="link/planted.txt", Body=b"x")
        assert _code(exc) == "AccessDenied"
        assert not (outside / "planted.txt").exists()
        listed = s3.list_objects_v2(Bucket="sec", Prefix="link/")
        assert listed["KeyCount"] == 0
    finally:
        (served.home / "sec" / "link").unlink()


def test_virtual_hosted_addressing(s3: Any, served: Served) -> None:
    port = urllib.parse.urlsplit(served.url).port
    for host in (f"sec.localhost:{port}", f"sec.s3.localhost:{port}"):
        assert _send(served, "PUT", "/vh/obj.txt", b"hosted", host=host)[0] == 200
        status, _, body = _send(served, "GET", "/vh/obj.txt", host=host)
        assert (status, body) == (200, b"hosted")
        status, _, body = _send(served, "GET", "/?list-type=2&prefix=vh%2F", host=host)
        assert status == 200 and b"<Key>vh/obj.txt</Key>" in body
    assert (served.home / "sec" / "vh" / "obj.txt").read_bytes() == b"hosted"


def test_errors_are_s3_xml_and_head_errors_have_no_body(s3: Any, served: Served) -> None:
    status, headers, body = _send(served, "GET", "/sec/none.txt")
    assert status == 404 and headers["content-type"].startswith("application/xml")
    assert b"<Error><Code>NoSuchKey</Code>" in body and b"<RequestId>" in body
    status, _, body = _send(served, "HEAD", "/sec/none.txt")
    assert (status, body) == (404, b"")


def test_cut_upload_leaves_nothing(s3: Any, served: Served) -> None:
    url = urllib.parse.urlsplit(
        s3.generate_presigned_url(
            "put_object", Params={"Bucket": "sec", "Key": "cut/big.bin"}, ExpiresIn=60
        )
    )
    head = (
        f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Length: {8 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"x" * (2 * 1024 * 1024))
        time.sleep(0.5)
    staging = served.home / "_lakebox" / "s3" / "incoming"
    deadline = time.monotonic() + 10
    while any(staging.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(staging.iterdir()) == []
    assert not (served.home / "sec" / "cut").exists()
    with pytest.raises(ClientError):
        s3.head_object(Bucket="sec", Key="cut/big.bin")
    # the server still answers
    s3.put_object(Bucket="sec", Key="cut/ok.bin", Body=b"ok")


def test_stale_staged_bodies_are_swept_at_start(tmp_path: Path) -> None:
    """A body a killed server left in the staging folder is removed by the next start;
    a recent one (another server's upload in progress) is kept."""
    with serving(tmp_path / "first") as (served, _):
        home = served.home
    staging = home / "_lakebox" / "s3" / "incoming"
    staging.mkdir(parents=True, exist_ok=True)
    (staging / "put-stale").write_bytes(b"left over")
    os.utime(staging / "put-stale", (time.time() - 7200, time.time() - 7200))
    (staging / "put-recent").write_bytes(b"in progress")
    with serving(tmp_path / "second", home=home):
        assert sorted(p.name for p in staging.iterdir()) == ["put-recent"]


def test_a_listing_prefix_cannot_climb_out(s3: Any, served: Served) -> None:
    status, _, answer = _send(served, "GET", "/sec?list-type=2&prefix=..%2F..%2F")
    assert status == 400 and b"<Code>InvalidArgument</Code>" in answer, answer
