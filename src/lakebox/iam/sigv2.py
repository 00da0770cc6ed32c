"""S3's legacy Signature Version 2, written from AWS's "Signing and authenticating REST
requests" (S3 developer guide).

AWS still serves it for S3 (only), and boto3 still makes it: a client with no
``signature_version`` configured presigns S3 URLs with it (``AWSAccessKeyId``,
``Expires``, ``Signature`` in the query string), and ``Config(signature_version="s3")``
signs every call with an ``Authorization: AWS <AccessKeyId>:<Signature>`` header. Scripts
copied from AWS's documentation do both, so lakebox checks them rather than refusing them.

The signature is ``Base64(HMAC-SHA1(secret, StringToSign))`` where::

    StringToSign = Verb "\\n" Content-MD5 "\\n" Content-Type "\\n"
                   (Date | Expires) "\\n"
                   CanonicalizedAmzHeaders CanonicalizedResource

- **Date** is the ``Date`` header, or the empty string when ``x-amz-date`` is sent (which
  is then signed among the ``x-amz-*`` headers); a presigned URL signs its ``Expires``
  (seconds since the epoch) in its place.
- **CanonicalizedAmzHeaders**: every ``x-amz-*`` header, its name lower-cased, repeated
  values joined with ``,``, sorted by name, one ``name:value`` line each. A presigned URL
  carries them (``x-amz-security-token`` above all) as query parameters.
- **CanonicalizedResource**: ``/bucket/key`` as sent (encoded, never normalised; a
  virtual-hosted request's bucket from its Host put in front), then the sub-resources
  and response overrides in :data:`SUBRESOURCES` present in the query, sorted by name,
  decoded, ``name`` or ``name=value``.

Nothing signs the body: a ``Content-MD5`` (signed when sent) is checked against the
body by the door, as for SigV4.

The access key, session token and their expiry are looked up as for SigV4
(``IamService.authenticate_sigv2``); errors are :class:`~lakebox.iam.sigv4.AuthError`
in S3's codes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_to_bytes

from lakebox.iam.sigv4 import MAX_SKEW, AuthError, SignedRequest

#: the query parameters that are part of the canonical resource (S3's sub-resources and
#: GetObject's response overrides); any other parameter is not signed
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "defaultObjectAcl",
        "delete",
        "inventory",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "partNumber",
        "policy",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "select",
        "select-type",
        "storageClass",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)

_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
_QUERY_PARAMS = ("AWSAccessKeyId", "Signature", "Expires")


@dataclass(frozen=True)
class SignatureV2:
    """What a SigV2 request says about its signature (read, not yet verified)."""

    access_key_id: str
    signature: str
    session_token: str | None
    presigned: bool
    #: a presigned URL's ``Expires`` (seconds since the epoch), as signed
    expires: str | None
    #: a header signature's request time (``x-amz-date`` or ``Date``), UTC
    time: dt.datetime | None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The raw query's parameters, decoded (``+`` a space, as the door's parser reads
    it); ``a`` and ``a=`` are both ``(a, "")``."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.replace("+", " ").partition("=")
        pairs.append(
            (
                unquote_to_bytes(key).decode("utf-8", "replace"),
                unquote_to_bytes(value).decode("utf-8", "replace"),
            )
        )
    return pairs


def is_sigv2(request: SignedRequest) -> bool:
    """Whether the request is signed with Signature Version 2 (its header or its query)."""
    auth = (request.header("authorization") or "").lstrip()
    if auth.startswith("AWS "):
        return True
    return any(key in ("AWSAccessKeyId", "Signature") for key, _ in _query_pairs(request.query))


def read_signature(request: SignedRequest) -> SignatureV2:
    """The SigV2 signature ``request`` carries; AuthError when it says too little."""
    auth = request.header("authorization")
    params: dict[str, str] = {}
    for key, value in _query_pairs(request.query):
        params.setdefault(key, value)
    if auth is not None:
        if any(name in params for name in _QUERY_PARAMS) or "X-Amz-Signature" in params:
            raise AuthError(
                "unsupported",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be "
                "specified",
                "s3",
            )
        scheme, _, rest = auth.strip().partition(" ")
        key_id, colon, signature = rest.strip().rpartition(":")
        if scheme != "AWS" or not colon or not key_id or not signature:
            raise AuthError(
                "unsupported",
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
                "s3",
            )
        return SignatureV2(
            access_key_id=key_id,
            signature=signature,
            session_token=request.header("x-amz-security-token"),
            presigned=False,
            expires=None,
            time=_request_time(request),
        )
    missing = [name for name in _QUERY_PARAMS if not params.get(name)]
    if missing:
        raise AuthError(
            "missing",
            "Query-string authentication requires the Signature, Expires and "
            f"AWSAccessKeyId parameters (missing: {', '.join(missing)})",
            "s3",
        )
    expires = params["Expires"]
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        raise AuthError(
            "presign-expired",
            f"Invalid date (should be seconds since epoch): {expires[:40]}",
            "s3",
        )
    token = params.get("x-amz-security-token")
    return SignatureV2(
        access_key_id=params["AWSAccessKeyId"],
        signature=params["Signature"],
        session_token=token if token is not None else request.header("x-amz-security-token"),
        presigned=True,
        expires=expires,
        time=None,
    )


def _request_time(request: SignedRequest) -> dt.datetime:
    text = request.header("x-amz-date") or request.header("date")
    if not text:
        raise AuthError(
            "missing",
            "AWS authentication requires a valid Date or x-amz-date header",
            "s3",
        )
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        raise AuthError(
            "missing",
            f"AWS authentication requires a valid Date or x-amz-date header, not {text[:60]!r}",
            "s3",
        )
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def check_time(sig: SignatureV2, now: dt.datetime) -> None:
    """A presigned URL must not be used after its ``Expires``; a header signature must
    be within 15 minutes of ``now``."""
    if sig.presigned:
        assert sig.expires is not None
        if now.timestamp() > int(sig.expires):
            raise AuthError(
                "presign-expired",
                f"Request has expired (Expires {sig.expires}, now {int(now.timestamp())})",
                "s3",
            )
        return
    assert sig.time is not None
    if abs(now - sig.time) > MAX_SKEW:
        raise AuthError(
            "skewed",
            "The difference between the request time and the current time is too large: "
            f"the request says {sig.time:%Y-%m-%dT%H:%M:%SZ}, the server's time is "
            f"{now:%Y-%m-%dT%H:%M:%SZ} (at most 15 minutes apart)",
            "s3",
        )


def canonical_resource(request: SignedRequest, bucket_host: str, bucket_slash: bool = False) -> str:
    """``/bucket/key`` as sent (``bucket_host`` the bucket a virtual-hosted request names
    in its Host, else empty) and the signed sub-resources. ``bucket_slash``: a path that
    names a bucket alone (``/bucket``) as ``/bucket/``, as botocore signs it."""
    path = request.path.split("?", 1)[0] or "/"
    if bucket_host:
        path = "/" + bucket_host + (path if path.startswith("/") else "/" + path)
    if bucket_slash and path.count("/") == 1 and len(path) > 1:
        path += "/"
    signed = []
    for part in request.query.split("&"):
        key, eq, value = part.partition("=")
        if key in SUBRESOURCES:
            text = unquote_to_bytes(value.replace("+", " ")).decode("utf-8", "replace")
            signed.append((key, f"{key}={text}" if eq else key))
    if not signed:
        return path
    signed.sort(key=lambda pair: pair[0])
    return path + "?" + "&".join(item for _, item in signed)


def _amz_headers(request: SignedRequest, sig: SignatureV2) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for key, value in request.headers:
        name = key.lower()
        if name.startswith("x-amz-"):
            found.setdefault(name, []).append(value.strip())
    if sig.presigned:
        for key, value in _query_pairs(request.query):
            name = key.lower()
            if name.startswith("x-amz-"):
                found.setdefault(name, []).append(value.strip())
    return found


def _standard(request: SignedRequest, sig: SignatureV2, name: str) -> str:
    value = request.header(name)
    if value is None and sig.presigned:
        # botocore moves a presigned request's Content-Type / Content-MD5 to its query
        value = next((v for k, v in _query_pairs(request.query) if k.lower() == name), None)
    return (value or "").strip()


def string_to_sign(
    request: SignedRequest, sig: SignatureV2, bucket_host: str = "", bucket_slash: bool = False
) -> str:
    """What the client signed, rebuilt from the request as received."""
    if sig.presigned:
        date = sig.expires or ""
    elif request.header("x-amz-date") is not None:
        date = ""
    else:
        date = (request.header("date") or "").strip()
    lines = [
        request.method.upper(),
        _standard(request, sig, "content-md5"),
        _standard(request, sig, "content-type"),
        date,
    ]
    amz = _amz_headers(request, sig)
    lines += [f"{name}:{','.join(amz[name])}" for name in sorted(amz)]
    lines.append(canonical_resource(request, bucket_host, bucket_slash))
    return "\n".join(lines)


def verify(request: SignedRequest, sig: SignatureV2, secret: str, bucket_host: str = "") -> None:
    """Check ``sig`` against ``request`` with the key's ``secret`` (constant time);
    raises AuthError ``bad-signature`` (S3's SignatureDoesNotMatch)."""
    given = sig.signature.strip().encode("utf-8", "replace")
    # a request for a bucket alone is signed as /bucket by AWS's description and as
    # /bucket/ by botocore; S3 takes both (the same resource)
    matched = False
    for bucket_slash in (False, True):
        to_sign = string_to_sign(request, sig, bucket_host, bucket_slash)
        digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
        matched |= hmac.compare_digest(base64.b64encode(digest), given)
    if not matched:
        raise AuthError("bad-signature", _MISMATCH, "s3")
