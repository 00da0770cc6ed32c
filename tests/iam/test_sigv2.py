"""S3's Signature Version 2 verifier, against requests signed by botocore's own
HmacV1Auth (``Authorization: AWS key:sig``) and HmacV1QueryAuth (presigned URLs), and
against AWS's worked example from "Signing and authenticating REST requests"."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest

from iam.signing import ENDPOINT, Keys, from_prepared
from lakebox.iam import sigv2
from lakebox.iam.service import IamService
from lakebox.iam.sigv4 import AuthError, SignedRequest


def _header_signed(
    keys: Keys,
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    auth_path: str | None = None,
) -> SignedRequest:
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=b"")
    if auth_path is not None:
        request.auth_path = auth_path
    HmacV1Auth(keys.credentials).add_auth(request)
    return from_prepared(request, b"")


def _presigned(
    keys: Keys, url: str, method: str = "GET", expires: int = 3600, **headers: str
) -> SignedRequest:
    request = AWSRequest(method=method, url=url, headers=headers)
    HmacV1QueryAuth(keys.credentials, expires=expires).add_auth(request)
    # a presigned URL is all a user gets: it is sent with Host and the headers named
    # when it was made (no Date, no token header)
    parts = urlsplit(request.url)
    sent = (("Host", parts.netloc), *headers.items())
    return SignedRequest(method, parts.path, parts.query, sent, None)


def _reject(iam: IamService, request: SignedRequest, **kwargs: object) -> AuthError:
    with pytest.raises(AuthError) as exc:
        iam.authenticate_sigv2(request, **kwargs)  # type: ignore[arg-type]
    return exc.value


def _with_query(request: SignedRequest, name: str, value: str) -> SignedRequest:
    pairs = [(k, value if k == name else v) for k, v in parse_qsl(request.query, True)]
    return SignedRequest(
        request.method, request.path, urlencode(pairs), request.headers, request.body
    )


def test_aws_documented_example() -> None:
    """The S3 guide's "Object GET" example: its string to sign and signature."""
    request = SignedRequest(
        "GET",
        "/photos/puppy.jpg",
        "",
        (
            ("Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"),
            ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        ),
        None,
    )
    sig = sigv2.SignatureV2(
        "AKIAIOSFODNN7EXAMPLE",
        "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
        None,
        presigned=False,
        expires=None,
        time=None,
    )
    expected = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
    assert sigv2.string_to_sign(request, sig, "awsexamplebucket1") == expected
    sigv2.verify(request, sig, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "awsexamplebucket1")


@pytest.mark.parametrize(
    ("url", "method", "headers"),
    [
        (f"{ENDPOINT}/bucket/key.txt", "GET", {}),
        (f"{ENDPOINT}/bucket/a%20b/c%2Bd.txt", "PUT", {"Content-Type": "text/plain"}),
        (
            f"{ENDPOINT}/bucket/k?uploadId=abc&partNumber=2",
            "PUT",
            {"Content-MD5": "1B2M2Y8AsgTpgAmYjl+Ydw==", "x-amz-meta-Who": " me "},
        ),
        (f"{ENDPOINT}/bucket/k?uploads", "POST", {}),
        (f"{ENDPOINT}/bucket?delete", "POST", {}),
        (f"{ENDPOINT}/bucket?list-type=2&prefix=a%2F&encoding-type=url", "GET", {}),
        (
            f"{ENDPOINT}/bucket/k?response-content-disposition=attachment%3B%20filename%3Dx",
            "GET",
            {"x-amz-copy-source": "/other/key", "X-Amz-Meta-B": "2", "x-amz-meta-a": "1"},
        ),
        (f"{ENDPOINT}/", "GET", {}),
    ],
)
def test_botocore_header_signatures_verify(
    iam: IamService, alice: Keys, url: str, method: str, headers: dict[str, str]
) -> None:
    request = _header_signed(alice, url, method, headers)
    auth = request.header("authorization") or ""
    assert auth.startswith(f"AWS {alice.access_key_id}:")
    assert sigv2.is_sigv2(request)
    caller = iam.authenticate_sigv2(request, region="us-east-1")
    assert caller.principal.arn.endswith(":user/alice") and caller.service == "s3"


def test_virtual_hosted_requests_sign_the_bucket(iam: IamService, alice: Keys) -> None:
    request = _header_signed(alice, "http://photos.localhost:4566/a.jpg", auth_path="/photos/a.jpg")
    iam.authenticate_sigv2(request, bucket_host="photos")
    # the same signature for another bucket's object does not match
    assert _reject(iam, request, bucket_host="videos").code == "SignatureDoesNotMatch"


def test_header_signature_changes_are_refused(iam: IamService, alice: Keys) -> None:
    good = _header_signed(alice, f"{ENDPOINT}/bucket/key.txt", "PUT", {"x-amz-acl": "private"})
    iam.authenticate_sigv2(good)

    def changed(name: str, value: str) -> SignedRequest:
        headers = tuple((k, v) for k, v in good.headers if k.lower() != name.lower())
        return SignedRequest(good.method, good.path, good.query, (*headers, (name, value)), None)

    for bad in (
        changed("x-amz-acl", "public-read"),
        changed("x-amz-meta-extra", "1"),  # an x-amz-* header is signed, all of them
        changed("Content-Type", "text/html"),
        SignedRequest("DELETE", good.path, good.query, good.headers, None),
        SignedRequest(good.method, "/bucket/other.txt", good.query, good.headers, None),
        SignedRequest(good.method, good.path, "acl", good.headers, None),
    ):
        error = _reject(iam, bad)
        assert (error.code, error.status) == ("SignatureDoesNotMatch", 403)
    # a parameter that is not a sub-resource is not signed (as in S3)
    iam.authenticate_sigv2(SignedRequest(good.method, good.path, "x-id=1", good.headers, None))


def test_wrong_secret_and_unknown_key(iam: IamService, alice: Keys) -> None:
    wrong = _header_signed(Keys(alice.access_key_id, "x" * 40), f"{ENDPOINT}/b/k")
    assert _reject(iam, wrong).code == "SignatureDoesNotMatch"
    unknown = _header_signed(Keys("AKIAUNKNOWN000000000", "x" * 40), f"{ENDPOINT}/b/k")
    error = _reject(iam, unknown)
    assert (error.code, error.status) == ("InvalidAccessKeyId", 403)


def test_header_time_must_be_within_15_minutes(iam: IamService, alice: Keys) -> None:
    request = _header_signed(alice, f"{ENDPOINT}/b/k")
    now = dt.datetime.now(dt.UTC)
    iam.authenticate_sigv2(request, now=now + dt.timedelta(minutes=14))
    for skew in (16, -16):
        error = _reject(iam, request, now=now + dt.timedelta(minutes=skew))
        assert (error.code, error.status) == ("RequestTimeTooSkewed", 403)


def test_x_amz_date_replaces_date(iam: IamService, alice: Keys) -> None:
    """With x-amz-date, the Date line is empty and x-amz-date is signed among the
    x-amz-* headers (S3's rule; botocore signs whatever headers it is given)."""
    stamp = formatdate(usegmt=True)
    request = SignedRequest(
        "GET", "/b/k", "", (("Host", "h"), ("x-amz-date", stamp), ("Date", "junk")), None
    )
    sig = sigv2.SignatureV2(alice.access_key_id, "", None, False, None, None)
    to_sign = sigv2.string_to_sign(request, sig)
    assert to_sign == f"GET\n\n\n\nx-amz-date:{stamp}\n/b/k"
    signature = base64.b64encode(
        hmac.new(alice.secret_access_key.encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    signed = SignedRequest(
        request.method,
        request.path,
        "",
        (*request.headers, ("Authorization", f"AWS {alice.access_key_id}:{signature}")),
        None,
    )
    iam.authenticate_sigv2(signed)


def test_missing_date_and_malformed_headers(iam: IamService, alice: Keys) -> None:
    good = _header_signed(alice, f"{ENDPOINT}/b/k")
    no_date = SignedRequest(
        "GET", "/b/k", "", tuple((k, v) for k, v in good.headers if k != "Date"), None
    )
    assert _reject(iam, no_date).code == "AccessDenied"
    for auth in ("AWS nocolon", "AWS :sig", f"AWS {alice.access_key_id}:"):
        bad = SignedRequest(
            "GET", "/b/k", "", (("Date", formatdate()), ("Authorization", auth)), None
        )
        assert _reject(iam, bad).status == 400


def test_botocore_presigned_urls_verify(iam: IamService, alice: Keys) -> None:
    request = _presigned(alice, f"{ENDPOINT}/bucket/report.csv")
    params = dict(parse_qsl(request.query))
    assert {"AWSAccessKeyId", "Expires", "Signature"} <= set(params)
    iam.authenticate_sigv2(request)
    overrides = _presigned(
        alice,
        f"{ENDPOINT}/bucket/r.csv?response-content-type=text%2Fcsv"
        "&response-content-disposition=attachment%3B%20filename%3D%22r.csv%22",
    )
    iam.authenticate_sigv2(overrides)
    changed = _with_query(overrides, "response-content-type", "text/html")
    assert _reject(iam, changed).code == "SignatureDoesNotMatch"
    typed = _presigned(alice, f"{ENDPOINT}/bucket/t.json", "PUT", **{"Content-Type": "a/b"})
    assert "content-type=a%2Fb" in typed.query
    iam.authenticate_sigv2(typed)


def test_presigned_expiry_and_forgery(iam: IamService, alice: Keys) -> None:
    request = _presigned(alice, f"{ENDPOINT}/bucket/k", expires=60)
    now = dt.datetime.now(dt.UTC)
    iam.authenticate_sigv2(request, now=now + dt.timedelta(seconds=30))
    error = _reject(iam, request, now=now + dt.timedelta(seconds=120))
    assert (error.code, error.status) == ("AccessDenied", 403)
    assert "Request has expired" in str(error)
    later = _with_query(request, "Expires", str(int(time.time()) + 7200))
    assert _reject(iam, later).code == "SignatureDoesNotMatch"
    assert _reject(iam, _with_query(request, "Expires", "soon")).code == "AccessDenied"
    for name in ("Signature", "Expires", "AWSAccessKeyId"):
        pairs = [(k, v) for k, v in parse_qsl(request.query) if k != name]
        missing = SignedRequest("GET", request.path, urlencode(pairs), request.headers, None)
        assert _reject(iam, missing).code == "AccessDenied"
    both = SignedRequest(
        "GET",
        request.path,
        request.query,
        (*request.headers, ("Authorization", f"AWS {alice.access_key_id}:x")),
        None,
    )
    assert _reject(iam, both).status == 400


def test_session_token_is_signed_and_checked(iam: IamService, alice: Keys) -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:user/alice"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    iam.create_role("reader", json.dumps(trust))
    assumed = iam.assume_role(
        iam.user_principal("alice"), "arn:aws:iam::000000000000:role/reader", "s1"
    )
    keys = Keys(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)
    url = _presigned(keys, f"{ENDPOINT}/bucket/k")
    assert "x-amz-security-token=" in url.query
    caller = iam.authenticate_sigv2(url)
    assert ":assumed-role/reader/s1" in caller.principal.arn
    header = _header_signed(keys, f"{ENDPOINT}/bucket/k")
    assert header.header("x-amz-security-token") == keys.token
    iam.authenticate_sigv2(header)
    assert _reject(iam, _with_query(url, "x-amz-security-token", "other")).code == "InvalidToken"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    expired = _presigned(keys, f"{ENDPOINT}/bucket/k", expires=3 * 3600)
    iam.authenticate_sigv2(expired)
    assert _reject(iam, expired, now=later).code == "ExpiredToken"


def test_sigv4_and_unsigned_requests_are_not_sigv2(alice: Keys) -> None:
    parts = urlsplit(f"{ENDPOINT}/b/k")
    plain = SignedRequest("GET", parts.path, "", (("Host", parts.netloc),), None)
    assert not sigv2.is_sigv2(plain)
    v4 = SignedRequest(
        "GET",
        "/b/k",
        urlunsplit(("", "", "", "X-Amz-Signature=1&X-Amz-Credential=a", "")).lstrip("?"),
        (),
        None,
    )
    assert not sigv2.is_sigv2(v4)
