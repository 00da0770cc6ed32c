"""SigV4 verification against botocore's own signers: requests they sign pass; any change
to what was signed, a wrong secret, an unknown key, a stale clock, an expired URL or token
fails with the code AWS answers for that kind of service."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from iam.signing import ENDPOINT, Keys, from_prepared, later, sign
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError, SignedRequest, canonical_uri

JSON_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AmazonAthena.ListWorkGroups",
}
QUERY_HEADERS = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

#: object keys and query strings that trip naive canonicalisation
ODD_S3_URLS = [
    "/bucket/plain.txt",
    "/bucket/with%20space.txt",
    "/bucket/caf%C3%A9/%E2%82%AC%20euro.csv",
    "/bucket/a%2Bb%2Bc",
    "/bucket/slash%2Fin%2Fkey",
    "/bucket/dir//double/",
    "/bucket/dots/../x/./y",
    "/bucket/%21%24%26%27%28%29%2A%2C%3B%3D%3A%40",
    "/bucket?list-type=2&prefix=a%2Fb&delimiter=%2F",
    "/bucket?prefix=&delimiter=",
    "/bucket/k?tagging",
    "/bucket/k?x-id=PutObject&a=2&a=1&a=",
    "/bucket?prefix=%E2%82%AC%20%2B",
]


def _reject(iam: IamService, request: SignedRequest, now: dt.datetime | None = None) -> AuthError:
    with pytest.raises(AuthError) as caught:
        iam.authenticate(request, now=now)
    return caught.value


# -- requests botocore signs are accepted --------------------------------------------------


@pytest.mark.parametrize("path", ODD_S3_URLS)
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_s3_header_signatures_pass_for_odd_paths_and_queries(
    iam: IamService, alice: Keys, path: str, method: str
) -> None:
    body = b"some bytes" if method == "PUT" else b""
    caller = iam.authenticate(sign(alice, "s3", ENDPOINT + path, method=method, body=body))
    assert caller.principal.arn == "arn:aws:iam::000000000000:user/alice"
    assert (caller.service, caller.region, caller.access_key_id) == (
        "s3",
        "us-east-1",
        alice.access_key_id,
    )


@pytest.mark.parametrize("path", ODD_S3_URLS)
def test_s3_presigned_urls_pass_for_odd_paths(iam: IamService, alice: Keys, path: str) -> None:
    assert iam.authenticate(sign(alice, "s3", ENDPOINT + path, presign=300)).service == "s3"


@pytest.mark.parametrize(
    ("service", "headers", "body"),
    [
        ("athena", JSON_HEADERS, b'{"MaxResults": 5}'),
        ("glue", {**JSON_HEADERS, "X-Amz-Target": "AWSGlue.GetDatabases"}, b"{}"),
        ("states", {"Content-Type": "application/x-amz-json-1.0"}, b'{"name": "m"}'),
        ("sts", QUERY_HEADERS, b"Action=GetCallerIdentity&Version=2011-06-15"),
        ("iam", QUERY_HEADERS, b"Action=ListUsers&Version=2010-05-08&PathPrefix=%2F"),
        ("lakeformation", {"Content-Type": "application/json"}, b"{}"),
    ],
)
def test_header_signatures_of_other_services_pass(
    iam: IamService, alice: Keys, service: str, headers: dict[str, str], body: bytes
) -> None:
    request = sign(alice, service, ENDPOINT + "/", method="POST", body=body, headers=headers)
    assert iam.authenticate(request).service == service


@pytest.mark.parametrize(
    "path",
    ["/memberships/m-1/protectedQueries", "/a%20b/c%2Fd", "/x/./y/../z", "//double//slash"],
)
def test_rest_json_paths_are_normalised_and_encoded_twice(
    iam: IamService, alice: Keys, path: str
) -> None:
    request = sign(alice, "cleanrooms", ENDPOINT + path, method="POST", body=b"{}")
    assert iam.authenticate(request).service == "cleanrooms"


def test_canonical_uri_rules_differ_for_s3() -> None:
    assert canonical_uri("/b/a%20b/./c", "s3") == "/b/a%20b/./c"
    assert canonical_uri("/b/a%20b/./c", "glue") == "/b/a%2520b/c"
    assert canonical_uri("/b/%7e+$", "s3") == "/b/~%2B%24"
    assert canonical_uri("", "glue") == "/"


def test_a_date_header_instead_of_x_amz_date_is_accepted(iam: IamService, alice: Keys) -> None:
    request = sign(
        alice, "s3", ENDPOINT + "/b/k", headers={"Date": "Tue, 01 Dec 2026 00:00:00 GMT"}
    )
    assert request.header("x-amz-date") is None
    iam.authenticate(request)


def test_presigned_urls_of_query_services_pass(iam: IamService, alice: Keys) -> None:
    url = ENDPOINT + "/?Action=GetCallerIdentity&Version=2011-06-15"
    assert iam.authenticate(sign(alice, "sts", url, presign=60)).service == "sts"


def test_boto3_generate_presigned_url_passes(iam: IamService, alice: Keys) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="eu-west-1",
        aws_access_key_id=alice.access_key_id,
        aws_secret_access_key=alice.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    for method, params in (
        ("get_object", {"Bucket": "lake", "Key": "dir/a b+c/€uro.parquet"}),
        ("put_object", {"Bucket": "lake", "Key": "x%2Fy"}),
        ("list_objects_v2", {"Bucket": "lake", "Prefix": "a/", "Delimiter": "/"}),
    ):
        url = s3.generate_presigned_url(method, Params=params, ExpiresIn=120)
        parts = urlsplit(url)
        request = SignedRequest(
            "PUT" if method == "put_object" else "GET",
            parts.path,
            parts.query,
            (("Host", parts.netloc),),
            b"whatever the uploader sends",
        )
        caller = iam.authenticate(request)
        assert (caller.service, caller.region) == ("s3", "eu-west-1")
        expired = _reject(iam, request, now=later(3))
        assert (expired.code, expired.status) == ("AccessDenied", 403)
        assert "expired" in expired.message


class _Verifying:
    """A botocore ``before-send`` hook: every request boto3 sends is verified by lakebox
    and answered with an empty 200 (nothing else reaches the network)."""

    def __init__(self, iam: IamService) -> None:
        self.iam = iam
        self.seen: list[str] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        signed = from_prepared(request, body if isinstance(body, bytes) else (body or b""))
        if signed.header("x-amz-content-sha256") is None or not signed.header(
            "x-amz-content-sha256"
        ).startswith("STREAMING"):
            self.iam.authenticate(signed)
        else:  # an aws-chunked body: the seed signature covers headers, not the chunks
            self.iam.authenticate(dataclasses.replace(signed, body=None))
        self.seen.append(f"{signed.method} {signed.header('x-amz-content-sha256')}")

        class Raw:
            def stream(self, *_: Any, **__: Any) -> Any:
                yield b""

        return AWSResponse(request.url, 200, {}, Raw())


def test_boto3_s3_requests_are_verified_end_to_end(iam: IamService, alice: Keys) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=alice.access_key_id,
        aws_secret_access_key=alice.secret_access_key,
        config=Config(s3={"addressing_style": "path"}),
    )
    hook = _Verifying(iam)
    s3.meta.events.register("before-send.s3.*", hook)
    s3.put_object(Bucket="lake", Key="dir/a b+c/€uro.csv", Body=b"1,2\n")
    s3.delete_object(Bucket="lake", Key="x%2Fy z")
    s3.head_object(Bucket="lake", Key="k")
    assert len(hook.seen) == 3, hook.seen


# -- anything changed fails ---------------------------------------------------------------


def _tampered(request: SignedRequest, **changes: Any) -> SignedRequest:
    return dataclasses.replace(request, **changes)


def _set_header(request: SignedRequest, name: str, value: str) -> SignedRequest:
    headers = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    return _tampered(request, headers=(*headers, (name, value)))


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "SignatureDoesNotMatch", 403),
        ("sts", "SignatureDoesNotMatch", 403),
        ("athena", "InvalidSignatureException", 400),
    ],
)
@pytest.mark.parametrize(
    "change",
    ["method", "path", "query-value", "query-added", "header", "body", "date", "secret"],
)
def test_tampered_requests_fail_with_the_services_code(
    iam: IamService, alice: Keys, service: str, code: str, status: int, change: str
) -> None:
    url = ENDPOINT + "/bucket/key%20one?versionId=1&a=b"
    body = b'{"n": 1}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Meta-Owner": "alice"}
    good = sign(alice, service, url, method="PUT", body=body, headers=headers)
    iam.authenticate(good)
    if change == "method":
        bad = _tampered(good, method="POST")
    elif change == "path":
        bad = _tampered(good, path="/bucket/key%20two")
    elif change == "query-value":
        bad = _tampered(good, query=good.query.replace("versionId=1", "versionId=2"))
    elif change == "query-added":
        bad = _tampered(good, query=good.query + "&extra=1")
    elif change == "header":
        bad = _set_header(good, "X-Amz-Meta-Owner", "mallory")
    elif change == "body":
        if service == "s3":  # S3 names the body's hash in a header: both change together
            body2 = b'{"n": 2}'
            bad = _set_header(
                _tampered(good, body=body2),
                "X-Amz-Content-SHA256",
                hashlib.sha256(body2).hexdigest(),
            )
        else:
            bad = _tampered(good, body=b'{"n": 2}')
    elif change == "date":
        stamp = good.header("X-Amz-Date")
        assert stamp is not None
        bad = _set_header(
            good, "X-Amz-Date", stamp[:-3] + ("00Z" if stamp[-3:] != "00Z" else "01Z")
        )
    else:
        wrong = Keys(alice.access_key_id, "x" * 40)
        bad = sign(wrong, service, url, method="PUT", body=body, headers=headers)
    error = _reject(iam, bad)
    assert (error.code, error.status) == (code, status), error
    assert error.reason == "bad-signature"


def test_s3_body_that_does_not_match_its_declared_hash_fails(iam: IamService, alice: Keys) -> None:
    good = sign(alice, "s3", ENDPOINT + "/b/k", method="PUT", body=b"original")
    error = _reject(iam, _tampered(good, body=b"replaced"))
    assert (error.code, error.status) == ("XAmzContentSHA256Mismatch", 400)


def test_unsigned_payload_accepts_any_body(iam: IamService, alice: Keys) -> None:
    request = sign(
        alice, "s3", ENDPOINT + "/b/k", method="PUT", body=b"data", unsigned_payload=True
    )
    assert request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"
    iam.authenticate(request)
    iam.authenticate(_tampered(request, body=b"other data"))
    iam.authenticate(_tampered(request, body=None))


def test_a_body_the_door_streams_is_trusted_to_its_declared_hash(
    iam: IamService, alice: Keys
) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b/k", method="PUT", body=b"data")
    iam.authenticate(_tampered(request, body=None))
    # a service that hashes the body itself cannot be verified without it
    glue = sign(alice, "glue", ENDPOINT + "/", method="POST", body=b"{}")
    error = _reject(iam, _tampered(glue, body=None))
    assert error.reason == "missing-content-sha256"


def test_s3_header_signature_needs_the_content_hash_header(iam: IamService, alice: Keys) -> None:
    good = sign(alice, "s3", ENDPOINT + "/b/k")
    headers = tuple((k, v) for k, v in good.headers if k.lower() != "x-amz-content-sha256")
    error = _reject(iam, _tampered(good, headers=headers))
    assert error.code == "InvalidRequest"
    assert "x-amz-content-sha256" in error.message


def test_an_unsigned_amz_header_is_refused(iam: IamService, alice: Keys) -> None:
    good = sign(alice, "s3", ENDPOINT + "/b/k")
    error = _reject(iam, _tampered(good, headers=(*good.headers, ("x-amz-acl", "public-read"))))
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert "x-amz-acl" in error.message


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "InvalidAccessKeyId", 403),
        ("sts", "InvalidClientTokenId", 403),
        ("iam", "InvalidClientTokenId", 403),
        ("glue", "UnrecognizedClientException", 400),
    ],
)
def test_unknown_and_inactive_keys_fail(
    iam: IamService, alice: Keys, service: str, code: str, status: int
) -> None:
    stranger = Keys("AKIAUNKNOWNUNKNOWN00", alice.secret_access_key)
    error = _reject(iam, sign(stranger, service, ENDPOINT + "/"))
    assert (error.code, error.status, error.reason) == (code, status, "unknown-key")
    iam.update_access_key(alice.access_key_id, "Inactive")
    assert _reject(iam, sign(alice, service, ENDPOINT + "/")).code == code
    iam.update_access_key(alice.access_key_id, "Active")
    iam.authenticate(sign(alice, service, ENDPOINT + "/"))


def test_a_deleted_key_stops_working(iam: IamService, alice: Keys) -> None:
    iam.authenticate(sign(alice, "s3", ENDPOINT + "/b"))
    iam.delete_access_key(alice.access_key_id)
    assert _reject(iam, sign(alice, "s3", ENDPOINT + "/b")).code == "InvalidAccessKeyId"


@pytest.mark.parametrize(
    ("service", "code", "status", "text"),
    [
        ("s3", "RequestTimeTooSkewed", 403, "too large"),
        ("sts", "SignatureDoesNotMatch", 403, "Signature expired"),
        ("athena", "InvalidSignatureException", 400, "Signature expired"),
    ],
)
@pytest.mark.parametrize("minutes", [16, -16])
def test_clock_skew_beyond_15_minutes_fails(
    iam: IamService, alice: Keys, service: str, code: str, status: int, text: str, minutes: int
) -> None:
    request = sign(alice, service, ENDPOINT + "/")
    iam.authenticate(request, now=later(14 if minutes > 0 else -14))
    error = _reject(iam, request, now=later(minutes))
    assert (error.code, error.status) == (code, status)
    assert text in error.message


@pytest.mark.parametrize(
    ("service", "code"), [("s3", "AccessDenied"), ("sts", "SignatureDoesNotMatch")]
)
def test_presigned_urls_expire(iam: IamService, alice: Keys, service: str, code: str) -> None:
    request = sign(alice, service, ENDPOINT + "/b/k", presign=60)
    iam.authenticate(request, now=later(0.9))
    error = _reject(iam, request, now=later(1.1))
    assert error.code == code
    assert "expired" in error.message
    assert _reject(iam, request, now=later(-20)).reason == "presign-expired"


def test_presigned_url_with_changed_query_or_signature_fails(iam: IamService, alice: Keys) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b/k?versionId=1", presign=60)
    bad_query = _tampered(request, query=request.query.replace("versionId=1", "versionId=2"))
    assert _reject(iam, bad_query).code == "SignatureDoesNotMatch"
    longer = _tampered(
        request, query=request.query.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
    )
    assert _reject(iam, longer).code == "SignatureDoesNotMatch"
    flipped = request.query[:-1] + ("0" if request.query[-1] != "0" else "1")
    assert _reject(iam, _tampered(request, query=flipped)).code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("expires", "fragment"), [("0", "X-Amz-Expires"), ("604801", "7 days"), ("x", "X-Amz-Expires")]
)
def test_presigned_expiry_out_of_bounds_is_refused(
    iam: IamService, alice: Keys, expires: str, fragment: str
) -> None:
    request = sign(alice, "s3", ENDPOINT + "/b/k", presign=60)
    bad = _tampered(
        request, query=request.query.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}")
    )
    error = _reject(iam, bad)
    assert error.code == "AuthorizationQueryParametersError"
    assert fragment in error.message


# -- temporary credentials ------------------------------------------------------------------


def _role_session(iam: IamService, seconds: int = 900) -> Keys:
    iam.create_role(
        "reader",
        '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", '
        '"Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"}, '
        '"Action": "sts:AssumeRole"}}',
    )
    creds = iam.assume_role(
        iam.user_principal("alice"),
        "arn:aws:iam::000000000000:role/reader",
        "s1",
        duration_seconds=seconds,
    )
    return Keys(creds.access_key_id, creds.secret_access_key, creds.session_token)


@pytest.mark.parametrize("presign", [None, 300])
def test_session_credentials_work_as_the_assumed_role(
    iam: IamService, alice: Keys, presign: int | None
) -> None:
    session = _role_session(iam)
    assert session.access_key_id.startswith("ASIA")
    caller = iam.authenticate(sign(session, "s3", ENDPOINT + "/b/k", presign=presign))
    assert caller.principal.arn == "arn:aws:sts::000000000000:assumed-role/reader/s1"
    assert caller.principal.kind == "assumed-role"


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "ExpiredToken", 400),
        ("sts", "ExpiredToken", 403),
        ("glue", "ExpiredTokenException", 400),
    ],
)
def test_header_signed_request_with_an_expired_token_fails(
    iam: IamService, alice: Keys, service: str, code: str, status: int
) -> None:
    past = IamService(
        iam.metadata_dir, clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    )
    try:
        session = _role_session(past)  # made 20 minutes ago for 15 minutes
    finally:
        past.close()
    error = _reject(iam, sign(session, service, ENDPOINT + "/"))
    assert (error.code, error.status, error.reason) == (code, status, "expired-token")


def test_expired_token_gets_expired_token_code(iam: IamService, alice: Keys) -> None:
    session = _role_session(iam)
    request = sign(session, "sts", ENDPOINT + "/", presign=3600)
    error = _reject(iam, request, now=later(15.5))
    assert (error.code, error.status, error.reason) == ("ExpiredToken", 403, "expired-token")
    assert error.for_protocol("json").code == "ExpiredTokenException"
    assert error.for_protocol("s3").code == "ExpiredToken"


def test_session_token_must_match(iam: IamService, alice: Keys) -> None:
    session = _role_session(iam)
    forged = Keys(session.access_key_id, session.secret_access_key, session.token[:-2] + "AA")
    error = _reject(iam, sign(forged, "sts", ENDPOINT + "/"))
    assert (error.code, error.reason) == ("InvalidClientTokenId", "invalid-token")
    without = Keys(session.access_key_id, session.secret_access_key)
    assert _reject(iam, sign(without, "s3", ENDPOINT + "/b")).code == "InvalidToken"
    with_long_term = Keys(alice.access_key_id, alice.secret_access_key, session.token)
    assert _reject(iam, sign(with_long_term, "glue", ENDPOINT + "/")).code == (
        "UnrecognizedClientException"
    )


# -- malformed or missing -------------------------------------------------------------------


def test_unsigned_request_is_missing_authentication(iam: IamService) -> None:
    request = SignedRequest("GET", "/b/k", "", (("Host", "x"),), b"")
    error = _reject(iam, request)
    assert error.reason == "missing"
    assert error.for_protocol("s3").code == "AccessDenied"
    assert error.for_protocol("query").code == "MissingAuthenticationToken"
    assert error.for_protocol("json").code == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/glue/aws4_request",
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/2026/us-east-1/glue/aws4_request, SignedHeaders=host, Signature=00",
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request, SignedHeaders=host",
            "AuthorizationHeaderMalformed",
        ),
        ("AWS AKIA:abc=", "InvalidRequest"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/nope, SignedHeaders=host, Signature=00",
            "AuthorizationHeaderMalformed",
        ),
    ],
)
def test_malformed_authorization_headers_are_named(
    iam: IamService, authorization: str, code: str
) -> None:
    request = SignedRequest(
        "GET",
        "/",
        "",
        (("Host", "x"), ("Authorization", authorization), ("X-Amz-Date", "20260101T000000Z")),
        b"",
    )
    assert _reject(iam, request).code == code


def test_host_must_be_signed(iam: IamService, alice: Keys) -> None:
    good = sign(alice, "glue", ENDPOINT + "/", method="POST", body=b"{}")
    auth = good.header("Authorization")
    assert auth is not None
    bad = _set_header(good, "Authorization", auth.replace("SignedHeaders=host;", "SignedHeaders="))
    assert "host" in _reject(iam, bad).message


def test_a_request_signed_two_ways_is_refused(iam: IamService, alice: Keys) -> None:
    header = sign(alice, "s3", ENDPOINT + "/b/k")
    query = sign(alice, "s3", ENDPOINT + "/b/k", presign=60)
    both = dataclasses.replace(header, query=query.query)
    assert "Only one auth mechanism" in _reject(iam, both).message


# the S3 developer guide's worked examples (AWS's published key, requests and signatures)
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_EXAMPLES = [
    SignedRequest(
        "GET",
        "/test.txt",
        "",
        (
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", hashlib.sha256(b"").hexdigest()),
            ("x-amz-date", "20130524T000000Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
        ),
        b"",
    ),
    SignedRequest(
        "GET",
        "/test.txt",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
        "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
        "X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        (("Host", "examplebucket.s3.amazonaws.com"),),
        None,
    ),
]


@pytest.mark.parametrize("request_", AWS_EXAMPLES, ids=["header", "presigned"])
def test_the_aws_documentation_examples_verify(request_: SignedRequest) -> None:
    from lakebox.iam.sigv4 import read_signature, verify

    sig = read_signature(request_)
    verify(request_, sig, AWS_EXAMPLE_SECRET)
    with pytest.raises(AuthError):
        verify(request_, sig, AWS_EXAMPLE_SECRET[:-1] + "X")


@pytest.mark.parametrize("scope", ["us-east-1/S3", "../x/s3", "us east/s3", "us-east-1/s3;x"])
def test_credential_scope_parts_are_plain_names(iam: IamService, scope: str) -> None:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/{scope}/aws4_request, "
        "SignedHeaders=host, Signature=00"
    )
    request = SignedRequest(
        "GET",
        "/",
        "",
        (("Host", "x"), ("Authorization", authorization), ("X-Amz-Date", "20260101T000000Z")),
        b"",
    )
    assert _reject(iam, request).reason == "malformed"


def test_a_date_header_without_a_zone_is_utc_whatever_the_local_zone(
    iam: IamService, alice: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        request = sign(alice, "s3", ENDPOINT + "/b/k", headers={"Date": "x"})
        assert (request.header("date") or "").endswith("-0000")
        iam.authenticate(request)
    finally:
        monkeypatch.undo()
        time.tzset()
