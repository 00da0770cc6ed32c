"""aws-chunked uploads: the seed signature is verified with the request, each chunk's
signature by ``decode_chunked``. Checked against the worked example of AWS's S3 documentation
(its published key, seed and chunk signatures) and against what boto3 sends over HTTPS."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from iam.signing import Keys, from_prepared
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import (
    AuthError,
    SignedRequest,
    check_time,
    decode_chunked,
    read_signature,
    verify,
)

# the S3 developer guide's example of a signed streaming PUT (AWS's published test values)
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = (
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
)
EXAMPLE = SignedRequest(
    "PUT",
    "/examplebucket/chunkObject.txt",
    "",
    (
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request,SignedHeaders=content-encoding;content-length;host;"
            "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            f"x-amz-storage-class,Signature={SEED}",
        ),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ),
    None,
)


def _chunk(size: int, signature: str) -> bytes:
    return f"{size:x};chunk-signature={signature}\r\n".encode() + b"a" * size + b"\r\n"


def _example_body() -> bytes:
    sizes = (65536, 1024)
    body = b"".join(_chunk(n, s) for n, s in zip(sizes, CHUNK_SIGNATURES, strict=False))
    return body + f"0;chunk-signature={CHUNK_SIGNATURES[2]}\r\n\r\n".encode()


def _signing() -> Any:
    sig = read_signature(EXAMPLE)
    signing = verify(EXAMPLE, sig, EXAMPLE_SECRET)
    assert signing is not None and signing.seed_signature == SEED
    return signing


def test_the_aws_example_verifies_seed_and_every_chunk() -> None:
    body = _example_body()
    assert len(body) == 66824  # the example's Content-Length
    payload, trailers = decode_chunked(body, _signing(), decoded_length=66560)
    assert payload == b"a" * 66560 and trailers == {}


@pytest.mark.parametrize("change", ["byte", "drop", "swap", "extra", "signature"])
def test_changed_chunks_fail(change: str) -> None:
    body = _example_body()
    first, second = _chunk(65536, CHUNK_SIGNATURES[0]), _chunk(1024, CHUNK_SIGNATURES[1])
    last = f"0;chunk-signature={CHUNK_SIGNATURES[2]}\r\n\r\n".encode()
    if change == "byte":
        at = body.index(b"a" * 10) + 5000
        bad = body[:at] + b"b" + body[at + 1 :]
    elif change == "drop":
        bad = first + last
    elif change == "swap":
        bad = second + first + last
    elif change == "extra":
        bad = first + second + second + last
    else:
        bad = body.replace(CHUNK_SIGNATURES[1].encode(), b"0" * 64)
    with pytest.raises(AuthError) as caught:
        decode_chunked(bad, _signing())
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"zz;chunk-signature=00\r\n", "not hexadecimal"),
        (b"10\r\nabc", "cut short"),
        (b"3\r\nabcXX0\r\n\r\n", "CRLF"),
        (b"3\r\nabc\r\n", "no chunk header"),
        (b"0\r\nx-amz-checksum-crc32:AAAA\r\n", "empty line"),
        (b"3\r\nabc\r\n0\r\n\r\n", "decoded-content-length"),
    ],
)
def test_malformed_framing_is_named(body: bytes, fragment: str) -> None:
    with pytest.raises(AuthError) as caught:
        decode_chunked(body, None, decoded_length=99 if fragment.startswith("decoded") else None)
    assert caught.value.code == "IncompleteBody"
    assert fragment in caught.value.message


def test_the_example_signature_is_bound_to_its_time() -> None:
    with pytest.raises(AuthError) as caught:
        check_time(read_signature(EXAMPLE), dt.datetime.now(dt.UTC))
    assert caught.value.code == "RequestTimeTooSkewed"


def test_boto3_https_uploads_with_trailing_checksums_decode(iam: IamService, alice: Keys) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url="https://127.0.0.1:4566",
        region_name="us-east-1",
        aws_access_key_id=alice.access_key_id,
        aws_secret_access_key=alice.secret_access_key,
        config=Config(
            s3={"addressing_style": "path"}, request_checksum_calculation="when_supported"
        ),
    )
    seen: list[tuple[str, bytes]] = []

    def verify_and_answer(request: Any, **_: Any) -> AWSResponse:
        body = request.body
        raw = body.read() if hasattr(body, "read") else (body or b"")
        signed = from_prepared(request, raw)
        declared = signed.header("x-amz-content-sha256") or ""
        # a streamed body is not hashed whole: the door hands the verifier no body
        streamed = declared.startswith("STREAMING")
        caller = iam.authenticate(dataclasses.replace(signed, body=None) if streamed else signed)
        if "aws-chunked" in (signed.header("content-encoding") or ""):
            length = signed.header("x-amz-decoded-content-length")
            payload, trailers = decode_chunked(
                raw, caller.chunks, decoded_length=int(length) if length else None
            )
            assert any(k.startswith("x-amz-checksum-") for k in trailers)
        else:
            payload = raw
        seen.append((declared, payload))

        class Raw:
            def stream(self, *_: Any, **__: Any) -> Any:
                yield b""

        return AWSResponse(request.url, 200, {}, Raw())

    s3.meta.events.register("before-send.s3.PutObject", verify_and_answer)
    data = b"id,name\n1,ann\n" * 1000
    s3.put_object(Bucket="lake", Key="upload/a b.csv", Body=data)
    assert seen == [("STREAMING-UNSIGNED-PAYLOAD-TRAILER", data)]


def test_a_signed_stream_ends_at_its_final_chunk() -> None:
    """Trailing headers after the last chunk of a signed (non-trailer) stream are covered by
    no signature: a body carrying them is refused, not returned with them."""
    body = _example_body() + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    with pytest.raises(AuthError) as caught:
        decode_chunked(body[:-2], _signing())
    assert caught.value.code == "IncompleteBody"
    assert "final chunk" in caught.value.message
    # even a stray empty line
    with pytest.raises(AuthError):
        decode_chunked(_example_body() + b"\r\n", _signing())


@pytest.mark.parametrize("size", ["0_3", " 3", "+3", "0x3", "3 "])
def test_chunk_sizes_are_plain_hex_digits(size: str) -> None:
    with pytest.raises(AuthError) as caught:
        decode_chunked(f"{size}\r\nabc\r\n0\r\n\r\n".encode(), None)
    assert "not hexadecimal" in caught.value.message
