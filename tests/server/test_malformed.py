"""A corpus of malformed requests (``corpus/malformed.json``, and the transport-level cases
below that need a raw socket) sent to a real server: every one gets a clean AWS-shaped
4xx answer in the routed service's error shape (as botocore's own parser reads it), with
no Python text in it; afterwards the server still serves and nothing in the lake changed."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import select
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlparse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.parsers import create_parser

from lakebox.server.protocol import HEADER_SECONDS
from server.conftest import REGION, ClientFactory, Served

pytestmark = pytest.mark.xdist_group("server")

CORPUS = json.loads((Path(__file__).parent / "corpus" / "malformed.json").read_text())["cases"]

#: signing name -> (X-Amz-Target prefix, JSON version) of the JSON services
JSON_SERVICES = {
    "athena": ("AmazonAthena", "1.1"),
    "glue": ("AWSGlue", "1.1"),
    "states": ("AWSStepFunctions", "1.0"),
    "firehose": ("Firehose_20150804", "1.1"),
    "dynamodb": ("DynamoDB_20120810", "1.0"),
}
#: the botocore protocol each signing name's answers are parsed with
PROTOCOLS = {**dict.fromkeys(JSON_SERVICES, "json"), "scheduler": "rest-json"}
PROTOCOLS.update(iam="query", sts="query")

#: what must never reach a client: Python's own words
PYTHON_TEXT = re.compile(
    r"Traceback|File \"|\.py\b|site-packages|object at 0x|<class '|"
    r"(?:Key|Type|Attribute|Value|Index|Name|Recursion|Unicode\w*)Error\b"
)


def _snapshot(home: Path) -> dict[str, Any]:
    """What the lake holds: each metadata store's tables' row counts and every other file
    (name and size). SQLite's journal files and lock files are left out."""
    out: dict[str, Any] = {}
    for path in sorted(home.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal", ".lock")):
            continue
        rel = str(path.relative_to(home))
        with open(path, "rb") as f:
            head = f.read(16)
        if head == b"SQLite format 3\x00":
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                tables = [
                    r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                ]
                out[rel] = {
                    t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables
                }
            finally:
                con.close()
        elif "/query-slots/" not in f"/{rel}":
            out[rel] = path.stat().st_size
    return out


@pytest.fixture(scope="module")
def before(served: Served, client: ClientFactory) -> dict[str, Any]:
    """The lake before the first malformed request (every test of the module asks for
    it), once a read of each service has made the stores a first read makes."""
    client("athena").list_work_groups()
    client("glue").get_databases()
    client("firehose").list_delivery_streams()
    client("iam").list_users()
    return _snapshot(served.home)


def _sign(case: dict[str, Any], served: Served, request: AWSRequest) -> None:
    how = case.get("sign", "admin")
    service, region = case["service"], REGION
    credentials = Credentials(served.admin_key, served.admin_secret)
    if how == "none":
        return
    if how.startswith("header:"):
        request.headers["Authorization"] = how.removeprefix("header:")
        return
    if how == "forged":
        credentials = Credentials(served.admin_key, "not-the-secret")
    elif how == "unknown-key":
        credentials = Credentials("AKIAUNKNOWNKEY000000", "whatever")
    elif how == "fake-session":
        credentials = Credentials("ASIAFAKESESSION00000", "whatever", "made-up-token")
    elif how.startswith("scope-service:"):
        service = how.removeprefix("scope-service:")
    elif how.startswith("region:"):
        region = how.removeprefix("region:")
    if how.startswith("skew:"):
        when = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(
            seconds=int(how.removeprefix("skew:"))
        )
        # the client's clock is wrong, not the server's
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            SigV4Auth(credentials, service, region).add_auth(request)
        return
    SigV4Auth(credentials, service, region).add_auth(request)


def _request(case: dict[str, Any], served: Served) -> tuple[str, str, list[tuple[str, str]], bytes]:
    """The case as (method, path?query, headers, body), signed as it says."""
    service = case["service"]
    headers: dict[str, str] = {}
    if "body_repeat" in case:
        prefix, unit, times, suffix = case["body_repeat"]
        body = (prefix + unit * times + suffix).encode()
    elif "body_hex" in case:
        body = bytes.fromhex(case["body_hex"])
    elif "form_hex" in case:
        body = bytes.fromhex(case["form_hex"])
    elif "form" in case:
        body = case["form"].encode()
    else:
        body = case.get("body", "").encode()
    if service in JSON_SERVICES:
        prefix, version = JSON_SERVICES[service]
        target = case.get("raw_target", f"{prefix}.{case.get('target')}")
        if target is not None:
            headers["X-Amz-Target"] = target
        headers["Content-Type"] = f"application/x-amz-json-{version}"
    elif service in ("iam", "sts"):
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    elif body:
        headers["Content-Type"] = "application/json"
    if "content_type" in case:
        headers["Content-Type"] = case["content_type"]
    method = case.get("method", "POST")
    target_path = case.get("path", "/") + (f"?{case['query']}" if case.get("query") else "")
    request = AWSRequest(method=method, url=served.url + target_path, data=body, headers=headers)
    _sign(case, served, request)
    out = [(k, v if isinstance(v, str) else v.decode()) for k, v in request.headers.items()]
    out += [(k, v) for k, v in case.get("extra_headers", [])]
    return method, target_path, out, body


def _send(
    served: Served, method: str, path: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    url = urlparse(served.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def _error_code(service: str, status: int, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """The answer's error as botocore's parser for the service's protocol reads it (the
    shape AWS's clients understand)."""
    protocol = PROTOCOLS.get(service, "json")
    parsed = create_parser(protocol).parse(
        {"status_code": status, "headers": headers, "body": body}, None
    )
    return dict(parsed["Error"])


def _check_error(
    service: str, status: int, headers: dict[str, str], body: bytes, code: str
) -> dict[str, str]:
    text = body.decode("utf-8")
    assert not PYTHON_TEXT.search(text), text
    error = _error_code(service, status, headers, body)
    assert error.get("Code") == code, (error, text)
    if PROTOCOLS.get(service) == "query" and code not in (
        "MissingAuthenticationToken",
        "InvalidClientTokenId",
    ):
        root = ET.fromstring(body)
        assert root.tag == "ErrorResponse", text
    elif PROTOCOLS.get(service) != "query":
        assert json.loads(body)["__type"] == code, text
        assert headers.get("x-amzn-errortype") == code, headers
    assert headers.get("x-amzn-requestid"), headers
    return error


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_a_malformed_request_gets_a_clean_aws_error(
    served: Served, before: dict[str, Any], case: dict[str, Any]
) -> None:
    status, headers, body = _send(served, *_request(case, served))
    assert status == case["status"], (status, body)
    error = _check_error(case["service"], status, headers, body, case["code"])
    if "says" in case:
        assert case["says"].lower() in error.get("Message", "").lower(), error


# -- cases that need the transport itself ------------------------------------------------------


def _head(served: Served, body: bytes, length: int | None, extra: str = "") -> bytes:
    """A request head for Athena's ListWorkGroups, signed over ``body``."""
    request = AWSRequest(
        method="POST",
        url=served.url + "/",
        data=body,
        headers={
            "X-Amz-Target": "AmazonAthena.ListWorkGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials(served.admin_key, served.admin_secret), "athena", REGION).add_auth(
        request
    )
    url = urlparse(served.url)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head += f"Host: {url.netloc}\r\n"
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    return (head + extra + "\r\n").encode()


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the connection closed without an answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def _connect(served: Served) -> socket.socket:
    url = urlparse(served.url)
    return socket.create_connection((url.hostname, url.port), timeout=30)


def test_a_body_larger_than_its_content_length_says_is_cut_there(served: Served) -> None:
    """The server reads Content-Length bytes: the signature (over the whole body) fails."""
    body = b'{"MaxResults": 5}'
    with _connect(served) as sock:
        sock.sendall(_head(served, body, 2) + body)
        status, headers, answer = _read_answer(sock)
    assert status == 400
    _check_error("athena", status, headers, answer, "InvalidSignatureException")


def test_a_body_shorter_than_its_content_length_leaves_nothing_behind(served: Served) -> None:
    """The client promises 1000 bytes, sends 10 and goes away: nothing is done, and the
    server goes on serving (see the last test)."""
    body = b"{" + b" " * 8 + b"}"
    with _connect(served) as sock:
        sock.sendall(_head(served, body, 1000) + body)
    time.sleep(0.5)


@pytest.mark.slow
def test_a_body_that_never_comes_in_full_times_out(served: Served) -> None:
    """The client promises 1000 bytes, sends 10 and waits: after the body deadline the
    answer is a 408 in the service's shape, and the request was not run."""
    from lakebox.server.app import BODY_SECONDS

    body = b"{" + b" " * 8 + b"}"
    started = time.monotonic()
    with _connect(served) as sock:
        sock.settimeout(BODY_SECONDS + 30)
        sock.sendall(_head(served, body, 1000) + body)
        status, headers, answer = _read_answer(sock)
    assert status == 408
    assert time.monotonic() - started >= BODY_SECONDS - 1
    _check_error("athena", status, headers, answer, "RequestTimeout")


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_a_body_over_the_limit_is_refused_from_its_length(served: Served, signed: bool) -> None:
    size = 7 * 1024 * 1024 if signed else 100 * 1024
    body = b" " * size
    head = _head(served, b"{}", size)
    if not signed:
        head = b"\r\n".join(
            line for line in head.split(b"\r\n") if not line.lower().startswith(b"authorization")
        )
    with _connect(served) as sock:
        sock.sendall(head + body[:1024])
        status, headers, answer = _read_answer(sock)
    assert status == 413
    _check_error("athena", status, headers, answer, "RequestEntityTooLarge")


def test_boto3_sending_a_body_over_the_limit_reads_the_413(client: ClientFactory) -> None:
    """urllib3 sends the whole 9 MiB before it reads the answer: the server discards the
    rest of the body after answering, so the client sees the error, not a reset."""
    from botocore.exceptions import ClientError

    firehose = client("firehose")
    with pytest.raises(ClientError) as exc:
        firehose.put_record(DeliveryStreamName="nope", Record={"Data": b"x" * (7 * 1024 * 1024)})
    assert exc.value.response["Error"]["Code"] == "RequestEntityTooLarge"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(served: Served) -> None:
    """No Content-Length to refuse it by: the server stops reading past 6 MiB."""
    head = _head(served, b"{}", None, "Transfer-Encoding: chunked\r\n")
    chunk = b" " * 65536
    answer: list[tuple[int, dict[str, str], bytes]] = []
    with _connect(served) as sock:
        sock.sendall(head)
        reader = threading.Thread(target=lambda: answer.append(_read_answer(sock)), daemon=True)
        reader.start()
        try:
            for _ in range(7 * 16):  # 7 MiB
                if answer:
                    break
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        reader.join(30)
    assert answer, "no answer to a 7 MiB chunked body"
    status, headers, body = answer[0]
    assert status == 413
    _check_error("athena", status, headers, body, "RequestEntityTooLarge")


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_048_576 + b"\r\n\r\n",
    ],
    ids=[
        "no-request-line",
        "header-without-colon",
        "two-lengths",
        "negative-length",
        "huge-header",
    ],
)
def test_broken_http_gets_a_400_from_the_http_layer(served: Served, raw: bytes) -> None:
    """Requests HTTP itself cannot read are refused before any service sees them (a plain
    400: there is no request to route)."""
    with _connect(served) as sock:
        sock.sendall(raw)
        status, _, answer = _read_answer(sock)
    assert status == 400
    assert not PYTHON_TEXT.search(answer.decode("utf-8", "replace")), answer


def test_an_unknown_access_key_is_refused_before_the_body_is_sent(served: Served) -> None:
    """The headers promise 5 MiB signed with a key the lake does not know: the answer
    comes at once, without waiting for (or reading) the body."""
    request = AWSRequest(
        method="POST",
        url=served.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials("AKIAUNKNOWNKEY000000", "whatever"), "firehose", REGION).add_auth(request)
    url = urlparse(served.url)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head += f"Host: {url.netloc}\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n"
    with _connect(served) as sock:
        sock.settimeout(10)  # the body deadline is 30 s: an answer within 10 s did not wait
        sock.sendall(head.encode())
        status, headers, answer = _read_answer(sock)
    assert status == 400
    _check_error("firehose", status, headers, answer, "UnrecognizedClientException")


def test_a_body_sent_on_after_an_early_answer_is_cut_off(served: Served) -> None:
    """A chunked body, refused from its headers (an unknown key): the client gets its
    answer, and if it goes on sending, the connection is closed once MAX_DISCARD_BYTES
    came, not read and thrown away for ever."""
    request = AWSRequest(
        method="POST",
        url=served.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "AmazonAthena.ListWorkGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(Credentials("AKIAUNKNOWNKEY000000", "whatever"), "athena", REGION).add_auth(request)
    url = urlparse(served.url)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items())
    head += f"Host: {url.netloc}\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b" " * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with _connect(served) as sock:
        sock.sendall(head.encode())
        status, _, _ = _read_answer(sock)
        assert status == 400
        sock.settimeout(10)
        try:
            while sent < 128 * 1024 * 1024:
                sock.sendall(framed)
                sent += len(chunk)
            closed = not sock.recv(1)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    # (the kernel buffers a few MiB on loopback beyond what the server read)
    assert closed and sent < 64 * 1024 * 1024, f"{sent} bytes sent after the answer"


def test_a_chunked_body_within_the_limit_is_read(served: Served) -> None:
    body = b'{"MaxResults": 5}'
    head = _head(served, body, None, "Transfer-Encoding: chunked\r\n")
    with _connect(served) as sock:
        sock.sendall(head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        status, _, answer = _read_answer(sock)
    assert status == 200, answer
    assert "WorkGroups" in json.loads(answer)


def test_headers_sent_byte_by_byte_are_cut_off(served: Served) -> None:
    """Slowloris: a client that sends its head a byte a second, and one that sends
    nothing, are answered 408 and disconnected after HEADER_SECONDS, not held forever."""
    head = _head(served, b"{}", 2)
    started = time.monotonic()
    with _connect(served) as slow, _connect(served) as silent:
        sent = 0
        answer = b""
        closed = False
        while not closed and time.monotonic() - started < HEADER_SECONDS + 10:
            readable, _, _ = select.select([slow], [], [], 1.0)
            try:
                if readable:
                    chunk = slow.recv(65536)
                    answer += chunk
                    closed = not chunk
                elif sent < len(head):
                    slow.sendall(head[sent : sent + 1])
                    sent += 1
            except (ConnectionResetError, BrokenPipeError):
                # a byte sent as the server closed: the kernel may drop the 408 for a reset
                closed = True
        took = time.monotonic() - started
        silent.settimeout(5)
        quiet = b""
        while chunk := silent.recv(65536):
            quiet += chunk
    assert closed and sent < len(head), (sent, answer)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer
    assert HEADER_SECONDS - 1 < took < HEADER_SECONDS + 5, took
    assert quiet.startswith(b"HTTP/1.1 408 "), quiet
    assert b'"__type": "RequestTimeout"' in quiet, quiet


def test_an_expired_presigned_url_is_refused(client: ClientFactory, served: Served) -> None:
    """A presigned CreateUser made an hour ago for 60 s: refused, no user made."""
    iam = client("iam")
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past):
        url = iam.generate_presigned_url(
            "create_user", Params={"UserName": "presigned-late"}, ExpiresIn=60, HttpMethod="GET"
        )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=30)
    assert exc.value.code == 403
    _check_error(
        "iam",
        403,
        {k.lower(): v for k, v in exc.value.headers.items()},
        exc.value.read(),
        "SignatureDoesNotMatch",
    )


def test_a_presigned_url_replayed_after_it_expired_is_refused(client: ClientFactory) -> None:
    url = client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=1, HttpMethod="GET")
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.status == 200
    time.sleep(2.2)
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url, timeout=30)
    assert exc.value.code == 403
    assert b"expired" in exc.value.read()


def test_the_server_still_serves_and_the_lake_did_not_change(
    served: Served, before: dict[str, Any], client: ClientFactory
) -> None:
    """After the whole corpus: healthy, answering, nothing written, no internal error."""
    with urllib.request.urlopen(served.url + "/_lakebox/health", timeout=10) as answer:
        assert json.loads(answer.read())["status"] == "ok"
    assert client("athena").list_work_groups()["WorkGroups"]
    assert client("sts").get_caller_identity()["Arn"].endswith(":user/admin")
    after = _snapshot(served.home)
    assert after == before
    events = [line.get("event") for line in served.log_lines()]
    assert "internal-error" not in events
    assert "before-body-error" not in events
    assert "Traceback" not in served.stderr.read_text()


@pytest.fixture(autouse=True)
def _snapshot_first(before: dict[str, Any]) -> Iterator[None]:
    """Every test of the module needs the snapshot taken before it runs."""
    yield


def test_doubles_read_the_special_values_as_botocore_writes_them() -> None:
    """JSON has no NaN: botocore writes a double's NaN and infinities as strings, which
    are read back; any other string for a number is refused."""
    import math

    import botocore.session

    from lakebox.server.models import BadRequest, from_json

    shape = (
        botocore.session.get_session()
        .get_service_model("glue")
        .shape_for("BinaryColumnStatisticsData")
    )
    doc = {"MaximumLength": 1, "NumberOfNulls": 0}
    assert math.isnan(from_json(shape, {**doc, "AverageLength": "NaN"})["AverageLength"])
    assert from_json(shape, {**doc, "AverageLength": "-Infinity"})["AverageLength"] == -math.inf
    assert from_json(shape, {**doc, "AverageLength": 2})["AverageLength"] == 2
    with pytest.raises(BadRequest, match="AverageLength must be a number"):
        from_json(shape, {**doc, "AverageLength": "2.5"})
    with pytest.raises(BadRequest, match="MaximumLength must be an integer"):
        from_json(shape, {**doc, "MaximumLength": "NaN", "AverageLength": 1})
