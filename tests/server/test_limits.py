"""What a hostile request costs the server: bounded bodies (refused in the routed service's
own error shape), signatures refused on their headers before a body is read, bounded
parameter names, and no lake path in the health check."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")


def _post(
    served: Served, body: bytes, headers: dict[str, str], service: str
) -> tuple[int, dict[str, str], bytes]:
    request = AWSRequest(method="POST", url=served.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(served.admin_key, served.admin_secret), service, REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST"
    )
    try:
        with urllib.request.urlopen(raw, timeout=60) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def _read_answer(sock: socket.socket) -> str:
    """An HTTP answer read off a raw socket: its head, and its body by its length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data.decode("latin-1")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return (head + b"\r\n\r\n" + rest).decode("latin-1")


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def test_a_parameter_name_of_many_parts_is_refused_at_once(served: Served) -> None:
    name = ".".join(["a"] * 12_000)
    body = f"Action=GetCallerIdentity&Version=2011-06-15&{name}=1".encode()
    started = time.monotonic()
    status, headers, text = _post(served, body, FORM, "sts")
    assert status == 400, text
    assert {k.lower(): v for k, v in headers.items()}["content-type"].startswith("text/xml")
    assert b"<Code>ValidationError</Code>" in text and b"characters" in text
    deep = ".".join(["a"] * 40)
    status, _, text = _post(
        served, f"Action=GetCallerIdentity&Version=2011-06-15&{deep}=1".encode(), FORM, "sts"
    )
    assert status == 400 and b"dotted parts" in text, text
    assert time.monotonic() - started < 10


def test_a_body_too_large_is_refused_in_the_services_protocol(served: Served) -> None:
    """Refused from its Content-Length, before 7 MiB are read, in STS's XML."""
    body = b"Action=GetCallerIdentity&Version=2011-06-15&Pad=" + b"a" * (7 * 1024 * 1024)
    request = AWSRequest(method="POST", url=served.url + "/", data=body, headers=FORM)
    SigV4Auth(Credentials(served.admin_key, served.admin_secret), "sts", REGION).add_auth(request)
    prepared = request.prepare()
    url = urlparse(served.url)
    head = "POST / HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in prepared.headers.items() if k.lower() != "content-length"
    )
    head += f"Host: {url.netloc}\r\nContent-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode() + body[:1024])
        answer = _read_answer(sock)
    assert answer.startswith("HTTP/1.1 413 "), answer
    assert "content-type: text/xml" in answer.lower(), answer
    assert "<Code>RequestEntityTooLarge</Code>" in answer


def test_a_stale_signature_is_refused_before_the_body_is_sent(served: Served) -> None:
    """The headers promise 5 MiB that never come: the answer must not wait for them."""
    url = urlparse(served.url)
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        "X-Amz-Target: AmazonAthena.ListWorkGroups\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        "X-Amz-Date: 20200101T000000Z\r\n"
        f"Authorization: AWS4-HMAC-SHA256 Credential={served.admin_key}/20200101/{REGION}/"
        "athena/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, "
        f"Signature={'0' * 64}\r\n"
        f"Content-Length: {5 * 1024 * 1024}\r\n"
        "\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = _read_answer(sock)
    status_line = answer.split("\r\n", 1)[0]
    assert " 403 " in status_line or " 400 " in status_line, answer
    assert "Signature" in answer or "expired" in answer.lower(), answer


def test_unserved_s3_request_is_not_implemented_in_s3s_own_error_shape(
    client: ClientFactory,
) -> None:
    s3 = client("s3")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_versioning(Bucket="lake")
    assert exc.value.response["Error"]["Code"] == "NotImplemented"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "lakebox does not serve this S3 request" in exc.value.response["Error"]["Message"]


def test_sync_executions_cannot_starve_other_calls(client: ClientFactory) -> None:
    """48 StartSyncExecution calls, each holding its worker for 4 s, more than the general
    pool has threads: GetCallerIdentity is still answered at once (they have a pool of
    their own)."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    sfn = client(
        "stepfunctions", inject_host_prefix=False, max_pool_connections=64, read_timeout=120
    )
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4, "End": True}}}
    role = "arn:aws:iam::000000000000:role/limits-runner"
    arn = sfn.create_state_machine(
        name="limits-slow", definition=json.dumps(definition), roleArn=role, type="EXPRESS"
    )["stateMachineArn"]
    sts = client("sts")
    sts.get_caller_identity()
    with ThreadPoolExecutor(48) as pool:
        runs = [pool.submit(sfn.start_sync_execution, stateMachineArn=arn) for _ in range(48)]
        time.sleep(1.0)  # every worker the general pool has would be taken by now
        started = time.monotonic()
        sts.get_caller_identity()
        waited = time.monotonic() - started
        outcomes = [run.result()["status"] for run in runs]
    assert waited < 2.0, f"GetCallerIdentity waited {waited:.1f} s behind sync executions"
    assert outcomes == ["SUCCEEDED"] * 48
