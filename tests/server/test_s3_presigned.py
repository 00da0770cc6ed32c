"""S3's legacy Signature Version 2, as boto3 makes it with AWS's documented code
unchanged: ``generate_presigned_url`` with no ``signature_version`` configured presigns
with SigV2 (``AWSAccessKeyId``, ``Expires``, ``Signature``), and
``Config(signature_version="s3")`` signs every call with ``Authorization: AWS key:sig``.
The door checks them as AWS does; other services keep refusing SigV2."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import boto3
import pytest
import requests
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from lakebox.lakehouse import Lakehouse
from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

BUCKET = "sigv2"


@pytest.fixture(scope="module")
def s3(client: ClientFactory) -> Any:
    """A client as AWS's docs write it: no signature version configured."""
    made = client("s3")
    made.create_bucket(Bucket=BUCKET)
    return made


def _open(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _params(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def _replace_param(url: str, name: str, value: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [
        (k, value if k == name else v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def test_default_presigned_urls_are_sigv2_and_work(s3: Any, served: Served) -> None:
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "docs/a b.txt"}, ExpiresIn=3600
    )
    assert {"AWSAccessKeyId", "Expires", "Signature"} <= set(_params(put_url))
    answer = requests.put(put_url, data=b"made with AWS's example", timeout=30)
    assert answer.status_code == 200, answer.text
    assert (served.home / BUCKET / "docs" / "a b.txt").read_bytes() == b"made with AWS's example"
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "docs/a b.txt"}, ExpiresIn=3600
    )
    assert "AWSAccessKeyId=" in get_url
    assert _open(get_url) == (200, b"made with AWS's example")
    assert requests.get(get_url, timeout=30).content == b"made with AWS's example"


def test_presigned_put_with_a_content_type(s3: Any, served: Served) -> None:
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": BUCKET, "Key": "typed.json", "ContentType": "application/json"},
        ExpiresIn=600,
    )
    answer = requests.put(url, data=b"{}", headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert s3.head_object(Bucket=BUCKET, Key="typed.json")["ContentType"] == "application/json"
    # the signed type is part of the signature: another one does not match
    other = requests.put(url, data=b"{}", headers={"Content-Type": "text/plain"}, timeout=30)
    assert other.status_code == 403 and b"SignatureDoesNotMatch" in other.content


def test_response_overrides_are_signed(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="report.csv", Body=b"a,b\n")
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": BUCKET,
            "Key": "report.csv",
            "ResponseContentType": "text/csv",
            "ResponseContentDisposition": 'attachment; filename="r.csv"',
        },
        ExpiresIn=600,
    )
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.read() == b"a,b\n"
        assert answer.headers["Content-Type"] == "text/csv"
        assert answer.headers["Content-Disposition"] == 'attachment; filename="r.csv"'
    # an override is a signed sub-resource: changing it breaks the signature
    changed = _replace_param(url, "response-content-type", "text/html")
    status, body = _open(changed)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_expired_sigv2_url_is_refused(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="old.txt", Body=b"x")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "old.txt"}, ExpiresIn=1
    )
    assert "Expires=" in url
    time.sleep(2.1)
    status, body = _open(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"Request has expired" in body
    # pushing Expires forward is a forgery
    later = _replace_param(url, "Expires", str(int(time.time()) + 3600))
    status, body = _open(later)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_tampered_urls_are_refused(s3: Any, served: Served) -> None:
    s3.put_object(Bucket=BUCKET, Key="mine.txt", Body=b"mine")
    s3.put_object(Bucket=BUCKET, Key="other.txt", Body=b"other")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "mine.txt"}, ExpiresIn=600
    )
    assert _open(url) == (200, b"mine")
    signature = _params(url)["Signature"]
    forged = _replace_param(url, "Signature", ("B" if signature[0] != "B" else "C") + signature[1:])
    for bad in (url.replace("mine.txt", "other.txt"), forged):
        status, body = _open(bad)
        assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
    # a GET URL does not delete
    status, body = _open(url, "DELETE")
    assert status == 403 and b"SignatureDoesNotMatch" in body
    assert (served.home / BUCKET / "mine.txt").exists()
    # another known key with this signature does not match; an unknown key is named
    unknown = _replace_param(url, "AWSAccessKeyId", "AKIAUNKNOWNKEY000000")
    status, body = _open(unknown)
    assert status == 403 and b"<Code>InvalidAccessKeyId</Code>" in body


def test_another_keys_signature_does_not_match(
    s3: Any, client: ClientFactory, lake: Lakehouse
) -> None:
    s3.put_object(Bucket=BUCKET, Key="k.txt", Body=b"k")
    lake.iam.create_user("sigv2-mallory", admin=True)
    made = lake.iam.create_access_key("sigv2-mallory")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "k.txt"}, ExpiresIn=600
    )
    swapped = _replace_param(url, "AWSAccessKeyId", made.key.access_key_id)
    status, body = _open(swapped)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_another_accounts_presigned_url_is_refused(
    s3: Any, client: ClientFactory, lake: Lakehouse, served: Served
) -> None:
    s3.put_object(Bucket=BUCKET, Key="private.txt", Body=b"private")
    lake.iam.create_account("222222222222", "sigv2-other")
    lake.iam.create_user("sigv2-eve", account_id="222222222222", admin=True)
    made = lake.iam.create_access_key("sigv2-eve", account_id="222222222222")
    eve = client("s3", key=made.key.access_key_id, secret=made.secret_access_key)
    get_url = eve.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "private.txt"}, ExpiresIn=600
    )
    assert "AWSAccessKeyId=" in get_url
    status, body = _open(get_url)
    # the signature is good (eve is who signed), her account owns none of the buckets
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b"arn:aws:iam::222222222222:user/sigv2-eve" in body
    put_url = eve.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "eve.txt"}, ExpiresIn=600
    )
    assert requests.put(put_url, data=b"x", timeout=30).status_code == 403
    assert not (served.home / BUCKET / "eve.txt").exists()


def test_session_credentials_presign(s3: Any, client: ClientFactory, served: Served) -> None:
    account = client("sts").get_caller_identity()["Account"]
    admin = client("sts").get_caller_identity()["Arn"]
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "sts:AssumeRole"}]
    }
    iam = client("iam")
    role = iam.create_role(RoleName="sigv2-reader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="sigv2-reader",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": f"arn:aws:s3:::{BUCKET}/*",
                    }
                ]
            }
        ),
    )
    assert account in role["Role"]["Arn"]
    creds = client("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="sigv2")[
        "Credentials"
    ]
    s3.put_object(Bucket=BUCKET, Key="shared.txt", Body=b"shared")
    session = boto3.session.Session().client(
        "s3",
        endpoint_url=served.url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    url = session.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=600
    )
    assert "x-amz-security-token=" in url and "AWSAccessKeyId=ASIA" in url
    assert _open(url) == (200, b"shared")
    # the token is signed: another one is refused
    status, body = _open(_replace_param(url, "x-amz-security-token", "not-the-token"))
    assert status in (400, 403) and b"InvalidToken" in body
    put_url = session.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "by-role.txt"}, ExpiresIn=600
    )
    assert requests.put(put_url, data=b"role", timeout=30).status_code == 200
    assert (served.home / BUCKET / "by-role.txt").read_bytes() == b"role"


def test_sigv2_header_signed_client(client: ClientFactory, served: Served) -> None:
    legacy = client("s3", signature_version="s3")
    legacy.put_object(Bucket=BUCKET, Key="hdr/one.txt", Body=b"one", ContentType="text/plain")
    got = legacy.get_object(Bucket=BUCKET, Key="hdr/one.txt")
    assert got["Body"].read() == b"one" and got["ContentType"] == "text/plain"
    keys = [o["Key"] for o in legacy.list_objects_v2(Bucket=BUCKET, Prefix="hdr/")["Contents"]]
    assert keys == ["hdr/one.txt"]
    upload = legacy.create_multipart_upload(Bucket=BUCKET, Key="hdr/multi.bin")["UploadId"]
    part = legacy.upload_part(
        Bucket=BUCKET, Key="hdr/multi.bin", UploadId=upload, PartNumber=1, Body=b"p1"
    )
    legacy.complete_multipart_upload(
        Bucket=BUCKET,
        Key="hdr/multi.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert (served.home / BUCKET / "hdr" / "multi.bin").read_bytes() == b"p1"
    legacy.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "hdr/multi.bin"}]})
    assert not (served.home / BUCKET / "hdr" / "multi.bin").exists()
    wrong = client("s3", secret="x" * 40, signature_version="s3")
    with pytest.raises(ClientError) as exc:
        wrong.list_objects_v2(Bucket=BUCKET)
    assert exc.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_other_services_still_refuse_sigv2(client: ClientFactory) -> None:
    # a SigV2 header is S3's alone: the request is taken for S3's, which serves no such
    # call, and it is not answered as STS
    legacy = client("sts", signature_version="s3")
    with pytest.raises(ClientError) as exc:
        legacy.get_caller_identity()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501)
    glue = client("glue", signature_version="s3")
    with pytest.raises(ClientError) as exc:
        glue.create_database(DatabaseInput={"Name": "sigv2_db"})
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501)
    assert client("glue").get_databases()["DatabaseList"] == [] or all(
        d["Name"] != "sigv2_db" for d in client("glue").get_databases()["DatabaseList"]
    )


def test_virtual_hosted_sigv2_request(s3: Any, served: Served) -> None:
    """A virtual-hosted request signs its bucket (from the Host) in front of the path."""
    s3.put_object(Bucket=BUCKET, Key="vh/x.txt", Body=b"hosted")
    port = urllib.parse.urlsplit(served.url).port
    host = f"{BUCKET}.localhost:{port}"

    def get(auth_path: str) -> tuple[int, bytes]:
        request = AWSRequest(method="GET", url=f"http://{host}/vh/x.txt")
        request.auth_path = auth_path
        HmacV1Auth(Credentials(served.admin_key, served.admin_secret)).add_auth(request)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.putrequest("GET", "/vh/x.txt", skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host)
            for name, value in request.headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    assert get(f"/{BUCKET}/vh/x.txt") == (200, b"hosted")
    status, body = get("/vh/x.txt")  # signed without its bucket: not what S3 signs
    assert status == 403 and b"SignatureDoesNotMatch" in body
