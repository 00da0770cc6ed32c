"""Holes a security review found in the verifier, each closed: unsigned x-amz-* headers on
presigned URLs, ``+`` in a signed query, payload markers the verifier does not check,
unsigned payloads outside S3, odd X-Amz-Expires values, and a signature scoped to another
service than the one the door serves."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs

import pytest

from iam.signing import ENDPOINT, Keys, sign
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError, SignedRequest


def _reject(iam: IamService, request: SignedRequest, **kwargs: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        iam.authenticate(request, **kwargs)  # type: ignore[arg-type]
    return caught.value


def _with_headers(request: SignedRequest, *extra: tuple[str, str]) -> SignedRequest:
    return dataclasses.replace(request, headers=(*request.headers, *extra))


@pytest.mark.parametrize(
    "header",
    [
        ("x-amz-copy-source", "secret-bucket/payroll.csv"),
        ("x-amz-acl", "public-read"),
        ("X-Amz-Metadata-Directive", "REPLACE"),
        ("x-amz-content-sha256", "0" * 64),
    ],
)
def test_a_presigned_url_refuses_unsigned_amz_headers(
    iam: IamService, alice: Keys, header: tuple[str, str]
) -> None:
    request = sign(alice, "s3", ENDPOINT + "/bkt/upload.txt", method="PUT", presign=300)
    iam.authenticate(request)
    error = _reject(iam, _with_headers(request, header))
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert error.message.startswith(
        "There were headers present in the request which were not signed: "
    )
    assert header[0].lower() in error.message


def test_a_presigned_url_may_say_its_payload_is_unsigned(iam: IamService, alice: Keys) -> None:
    request = sign(alice, "s3", ENDPOINT + "/bkt/upload.txt", method="PUT", presign=300)
    iam.authenticate(_with_headers(request, ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")))


def test_a_plus_in_a_signed_query_is_a_space(iam: IamService, alice: Keys) -> None:
    """botocore sends a plus as %2B and a space as %20; a door's parse_qs reads a raw + as
    a space, so the verifier does too: a + written over a signed %2B no longer verifies
    (the value the door would act on, "a b", is not the value signed, "a+b")."""
    plus = sign(alice, "s3", ENDPOINT + "/bkt?list-type=2&prefix=a%2Bb")
    assert "prefix=a%2Bb" in plus.query
    iam.authenticate(plus)
    swapped = dataclasses.replace(plus, query=plus.query.replace("a%2Bb", "a+b"))
    assert parse_qs(swapped.query)["prefix"] == ["a b"]
    error = _reject(iam, swapped)
    assert error.code == "SignatureDoesNotMatch"
    # a space signed as %20 and sent as + is the same value for the door and the verifier
    space = sign(alice, "s3", ENDPOINT + "/bkt?list-type=2&prefix=a%20b")
    iam.authenticate(dataclasses.replace(space, query=space.query.replace("a%20b", "a+b")))


@pytest.mark.parametrize(
    "marker",
    [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-V2",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-ANYTHING",
    ],
)
def test_only_the_streaming_markers_lakebox_checks_are_accepted(
    iam: IamService, alice: Keys, marker: str
) -> None:
    body = b"1;chunk-signature=zz\r\nA\r\n0;chunk-signature=zz\r\n\r\n"
    request = sign(
        alice,
        "s3",
        ENDPOINT + "/b/k",
        method="PUT",
        body=body,
        headers={"Content-Encoding": "aws-chunked"},
        payload_marker=marker,
    )
    assert request.header("x-amz-content-sha256") == marker
    error = _reject(iam, request)
    assert error.code == "XAmzContentSHA256Mismatch"
    assert marker in error.message


@pytest.mark.parametrize(
    "marker", ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]
)
def test_the_supported_streaming_markers_still_pass(
    iam: IamService, alice: Keys, marker: str
) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b/k", method="PUT", body=b"x", payload_marker=marker)
    caller = iam.authenticate(request)
    assert (caller.chunks is not None) == (marker == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")


@pytest.mark.parametrize("service", ["iam", "sts", "glue"])
def test_unsigned_payload_is_for_s3_only(iam: IamService, alice: Keys, service: str) -> None:
    body = b"Action=CreateAccessKey&UserName=alice&Version=2010-05-08"
    request = sign(
        alice,
        service,
        ENDPOINT + "/",
        method="POST",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD",
        },
    )
    assert request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
    error = _reject(iam, dataclasses.replace(request, body=body.replace(b"alice", b"admin")))
    assert "only for S3" in error.message
    assert error.code in ("SignatureDoesNotMatch", "InvalidSignatureException")


@pytest.mark.parametrize("expires", ["%C2%B2", "9" * 5000, "%EF%BC%93"])
def test_odd_expiry_values_are_refused_by_name(iam: IamService, alice: Keys, expires: str) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b/k", presign=300)
    bad = dataclasses.replace(
        request, query=request.query.replace("X-Amz-Expires=300", f"X-Amz-Expires={expires}")
    )
    error = _reject(iam, bad)
    assert (error.code, error.status) == ("AuthorizationQueryParametersError", 400)
    assert "X-Amz-Expires" in error.message
    assert len(error.message) < 200


def test_a_signature_for_another_service_is_refused(iam: IamService, alice: Keys) -> None:
    glue = sign(alice, "glue", ENDPOINT + "/", method="POST", body=b"{}")
    assert iam.authenticate(glue, expected_service="glue").service == "glue"
    error = _reject(iam, glue, expected_service="athena")
    assert error.code == "InvalidSignatureException"
    assert "'glue'" in error.message and "'athena'" in error.message
    presigned = sign(alice, "sts", ENDPOINT + "/?Action=GetCallerIdentity", presign=60)
    error = _reject(iam, presigned, expected_service="s3")
    assert error.code == "SignatureDoesNotMatch"
    assert iam.authenticate(presigned).service == "sts"  # no door expectation: as before
