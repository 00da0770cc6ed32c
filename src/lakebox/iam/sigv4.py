"""AWS Signature Version 4 verification, written from AWS's description of the scheme.

A signed request carries, in its ``Authorization`` header or in its query string
(a presigned URL), the access key id and the *credential scope*
(``<date>/<region>/<service>/aws4_request``), the names of the headers it signed and the
signature. The verifier rebuilds what the client signed:

1. the **canonical request**: method, canonical URI, canonical query string, canonical
   headers, signed header names and the payload hash, one per line;
2. the **string to sign**: ``AWS4-HMAC-SHA256``, the request time, the scope and the
   SHA-256 of the canonical request;
3. the **signing key**: HMAC-SHA256 chained from ``"AWS4" + secret`` over the date,
   region, service and ``aws4_request``;

and compares HMAC(signing key, string to sign) with the signature sent, in constant time.

Rules that differ by service:

- S3 (signing name ``s3``) signs the path as sent, encoded once and never normalised;
  every other service removes ``.`` / ``..`` segments and repeated slashes and encodes the
  path a second time.
- S3 requires ``x-amz-content-sha256`` with header signatures: the payload hash itself, or
  ``UNSIGNED-PAYLOAD`` / a ``STREAMING-...`` marker. When the door gives the body, a hex
  hash must match it (``XAmzContentSHA256Mismatch``). Other services hash the body
  themselves unless the header is present.
- Presigned URLs sign ``UNSIGNED-PAYLOAD`` (S3) and expire after ``X-Amz-Expires`` seconds
  (at most 7 days).

Errors are :class:`AuthError`. Its ``reason`` is neutral (``bad-signature``,
``unknown-key``, ...); ``code`` and ``status`` are AWS's for the *protocol family* of the
service the credential scope names: ``s3`` (REST-XML), ``query`` (IAM, STS) or ``json``
(every JSON and REST-JSON service). A door that knows better (a request with no signature
names no service) asks ``error.for_protocol("s3")``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import quote, unquote_to_bytes

from lakebox.errors import LakeboxError
from lakebox.principal import Principal

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: how far a header-signed request's time may be from the server's clock
MAX_SKEW = dt.timedelta(minutes=15)
#: the longest a presigned URL may live (``X-Amz-Expires``)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600

Protocol = Literal["s3", "query", "json"]

#: services signed under these names answer in the query protocol's error codes
_QUERY_SERVICES = frozenset({"iam", "sts", "sns", "sqs", "rds", "redshift", "ec2"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SCOPE_PART = re.compile(r"[a-z0-9-]{1,64}")
_EXPIRES = re.compile(r"[0-9]{1,6}")
_HEX_SIZE = re.compile(r"[0-9a-fA-F]{1,16}")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_UNRESERVED = "-_.~"


def protocol_of(service: str) -> Protocol:
    """The error family of a signing name: ``s3``, ``query`` (IAM, STS, ...) or ``json``."""
    if service == "s3":
        return "s3"
    return "query" if service in _QUERY_SERVICES else "json"


# reason -> {protocol: (code, HTTP status)}
_CODES: dict[str, dict[Protocol, tuple[str, int]]] = {
    "missing": {
        "s3": ("AccessDenied", 403),
        "query": ("MissingAuthenticationToken", 403),
        "json": ("MissingAuthenticationTokenException", 403),
    },
    "malformed": {
        "s3": ("AuthorizationHeaderMalformed", 400),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
    "malformed-query": {
        "s3": ("AuthorizationQueryParametersError", 400),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
    "unsupported": {
        "s3": ("InvalidRequest", 400),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
    "unknown-key": {
        "s3": ("InvalidAccessKeyId", 403),
        "query": ("InvalidClientTokenId", 403),
        "json": ("UnrecognizedClientException", 400),
    },
    "invalid-token": {
        "s3": ("InvalidToken", 400),
        "query": ("InvalidClientTokenId", 403),
        "json": ("UnrecognizedClientException", 400),
    },
    "expired-token": {
        "s3": ("ExpiredToken", 400),
        "query": ("ExpiredToken", 403),
        "json": ("ExpiredTokenException", 400),
    },
    "bad-signature": {
        "s3": ("SignatureDoesNotMatch", 403),
        "query": ("SignatureDoesNotMatch", 403),
        "json": ("InvalidSignatureException", 400),
    },
    "skewed": {
        "s3": ("RequestTimeTooSkewed", 403),
        "query": ("SignatureDoesNotMatch", 403),
        "json": ("InvalidSignatureException", 400),
    },
    "presign-expired": {
        "s3": ("AccessDenied", 403),
        "query": ("SignatureDoesNotMatch", 403),
        "json": ("InvalidSignatureException", 400),
    },
    "content-sha256-mismatch": {
        "s3": ("XAmzContentSHA256Mismatch", 400),
        "query": ("SignatureDoesNotMatch", 403),
        "json": ("InvalidSignatureException", 400),
    },
    "missing-content-sha256": {
        "s3": ("InvalidRequest", 400),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
    "unsigned-headers": {
        "s3": ("AccessDenied", 403),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
    "bad-chunks": {
        "s3": ("IncompleteBody", 400),
        "query": ("IncompleteSignature", 400),
        "json": ("IncompleteSignatureException", 400),
    },
}

AuthReason = str


class AuthError(LakeboxError):
    """A request that could not be authenticated. ``reason`` is neutral (one of the keys of
    the table above); ``code`` and ``status`` are AWS's answer for ``protocol``."""

    def __init__(self, reason: AuthReason, message: str, protocol: Protocol = "json") -> None:
        super().__init__(message)
        self.reason = reason
        self.protocol = protocol
        self.code, self.status = _CODES[reason][protocol]

    def for_protocol(self, protocol: Protocol) -> AuthError:
        """The same failure in another protocol family's codes."""
        return AuthError(self.reason, self.message, protocol)

    def __repr__(self) -> str:
        return f"AuthError({self.reason!r}, {self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class SignedRequest:
    """A request as the door received it. ``path`` is the raw path as sent
    (percent-encoded; a door holding bytes decodes them with ``"utf-8",
    "surrogateescape"``), ``query`` the raw query string without ``?``. ``body`` None
    means the door does not have it (streamed): the ``x-amz-content-sha256`` header is
    trusted, and a service that needs the body hashed cannot be verified."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


@dataclass(frozen=True)
class ChunkSigning:
    """What checking the chunks of a signed streaming upload needs: the request's signing
    key, time, scope and signature (each chunk's signature chains from the previous one)."""

    key: bytes = field(repr=False)
    amz_date: str
    scope: str
    seed_signature: str


@dataclass(frozen=True)
class Caller:
    """Who a verified request comes from, and the scope it was signed for. ``chunks`` is
    set for an aws-chunked upload whose chunks are signed
    (``x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD``): the door must read the
    body through :func:`decode_chunked` with it, which checks every chunk."""

    principal: Principal
    access_key_id: str
    service: str
    region: str
    chunks: ChunkSigning | None = None


@dataclass(frozen=True)
class Signature:
    """What a request says about its own signature (read, not yet verified)."""

    access_key_id: str
    date: str  # the scope's yyyymmdd
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    time: dt.datetime  # the request time (X-Amz-Date or Date), UTC
    amz_date: str  # the request time as it is signed (yyyymmddThhmmssZ)
    session_token: str | None
    presigned: bool
    expires: int | None  # X-Amz-Expires of a presigned URL

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    @property
    def protocol(self) -> Protocol:
        return protocol_of(self.service)


def _query_pairs(query: str) -> list[tuple[bytes, bytes]]:
    """The raw query string's parameters, percent-decoded; ``a`` and ``a=`` are both
    ``(a, "")``. A raw ``+`` is a space, as every door's form parser
    (``urllib.parse.parse_qs``) and S3 read it: SigV4 clients send a plus as ``%2B`` and a
    space as ``%20``, so a ``+`` written over a signed ``%2B`` canonicalises as ``%20``
    and no longer matches, and the value the signature covers is the value the door
    acts on."""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.replace("+", " ").partition("=")
        pairs.append((unquote_to_bytes(key), unquote_to_bytes(value)))
    return pairs


def _encode(data: bytes, safe: str = _UNRESERVED) -> str:
    """AWS's URI encoding: every byte but ``A-Z a-z 0-9 - _ . ~`` (and ``safe``) as %XY."""
    return quote(data, safe=safe)


def _find_params(query: str) -> dict[str, str]:
    """The X-Amz-* authentication parameters of a presigned URL (first of each)."""
    found: dict[str, str] = {}
    for key, value in _query_pairs(query):
        name = key.decode("utf-8", "replace")
        if name.startswith("X-Amz-") and name not in found:
            found[name] = value.decode("utf-8", "replace")
    return found


def _parse_amz_date(text: str, reason: AuthReason, protocol: Protocol) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, _AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError:
        raise AuthError(
            reason, f"X-Amz-Date {text!r} is not a date of the form 20260101T120000Z", protocol
        ) from None


def _split_credential(credential: str, reason: AuthReason) -> tuple[str, str, str, str]:
    """``<key>/<yyyymmdd>/<region>/<service>/aws4_request`` -> key, date, region, service."""
    parts = credential.split("/")
    service = parts[3] if len(parts) == 5 else ""
    protocol = protocol_of(service)
    if len(parts) != 5 or not all(parts):
        raise AuthError(
            reason,
            f"the Credential {credential!r} is not of the form "
            "<access key id>/<yyyymmdd>/<region>/<service>/aws4_request",
            protocol,
        )
    key, date, region, _, terminal = parts
    if terminal != "aws4_request":
        raise AuthError(
            reason,
            f"the Credential's scope must end in aws4_request, not {terminal!r}",
            protocol,
        )
    if not re.fullmatch(r"[0-9]{8}", date):
        raise AuthError(reason, f"the Credential's date {date!r} is not yyyymmdd", protocol)
    if not _SCOPE_PART.fullmatch(region) or not _SCOPE_PART.fullmatch(service):
        raise AuthError(
            reason,
            f"the Credential's region {region[:40]!r} and service {service[:40]!r} must be "
            "lower-case letters, digits and dashes",
            protocol,
        )
    return key, date, region, service


def read_signature(request: SignedRequest) -> Signature:
    """What ``request`` says about its signature: from the ``Authorization`` header, else
    from a presigned URL's query parameters. Raises AuthError (``missing``,
    ``malformed``, ``unsupported``) when it says too little to be checked."""
    auth = request.header("authorization")
    params = _find_params(request.query)
    if auth is not None:
        if "X-Amz-Signature" in params or "X-Amz-Credential" in params:
            raise AuthError(
                "malformed",
                "Only one auth mechanism allowed: the request is signed both in its "
                "Authorization header and in its query string",
                "s3",
            )
        return _from_header(request, auth)
    if "X-Amz-Algorithm" in params or "X-Amz-Credential" in params or "X-Amz-Signature" in params:
        return _from_query(params)
    raise AuthError(
        "missing",
        "Missing Authentication Token: the request is not signed (lakebox answers only "
        "requests signed with AWS Signature Version 4)",
    )


def _from_header(request: SignedRequest, auth: str) -> Signature:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthError(
            "unsupported",
            f"the authorization mechanism {algorithm!r} is not supported; "
            f"use {ALGORITHM} (Signature Version 4)",
            "s3" if algorithm == "AWS" else "json",
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if not eq:
            continue
        fields.setdefault(name.strip(), value.strip())
    credential = fields.get("Credential", "")
    key, date, region, service = (
        _split_credential(credential, "malformed") if credential else ("", "", "", "")
    )
    protocol = protocol_of(service)
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise AuthError(
            "malformed",
            f"Authorization header requires {', '.join(missing)} "
            "(AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...)",
            protocol,
        )
    amz_date = request.header("x-amz-date")
    if amz_date is not None:
        when = _parse_amz_date(amz_date.strip(), "malformed", protocol)
        signed_date = amz_date.strip()
    else:
        date_header = request.header("date")
        if date_header is None:
            raise AuthError(
                "malformed",
                "a signed request needs an X-Amz-Date (or Date) header",
                protocol,
            )
        try:
            parsed = parsedate_to_datetime(date_header)
            # "-0000" (what botocore writes) parses without a zone: it means UTC
            when = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
        except (TypeError, ValueError, IndexError):
            raise AuthError(
                "malformed", f"the Date header {date_header!r} is not a date", protocol
            ) from None
        signed_date = when.strftime(_AMZ_DATE)
    if signed_date[:8] != date:
        raise AuthError(
            "malformed",
            f"Invalid credential date {date}: it is not the date of X-Amz-Date {signed_date}",
            protocol,
        )
    return Signature(
        access_key_id=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(fields["SignedHeaders"].split(";")),
        signature=fields["Signature"],
        time=when,
        amz_date=signed_date,
        session_token=request.header("x-amz-security-token"),
        presigned=False,
        expires=None,
    )


def _from_query(params: dict[str, str]) -> Signature:
    credential = params.get("X-Amz-Credential", "")
    key, date, region, service = (
        _split_credential(credential, "malformed-query") if credential else ("", "", "", "")
    )
    protocol = protocol_of(service)
    needed = (
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
    )
    missing = [p for p in needed if not params.get(p)]
    if missing:
        raise AuthError(
            "malformed-query",
            f"Query-string authentication requires the {', '.join(missing)} parameter(s)",
            protocol,
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthError(
            "malformed-query",
            f"X-Amz-Algorithm {params['X-Amz-Algorithm']!r} is not supported; use {ALGORITHM}",
            protocol,
        )
    when = _parse_amz_date(params["X-Amz-Date"], "malformed-query", protocol)
    if params["X-Amz-Date"][:8] != date:
        raise AuthError(
            "malformed-query",
            f"Invalid credential date {date}: it is not the date of X-Amz-Date "
            f"{params['X-Amz-Date']}",
            protocol,
        )
    text = params["X-Amz-Expires"]
    # ASCII digits only, and few of them: str.isdigit() passes "²" (int() then fails)
    if not _EXPIRES.fullmatch(text) or not 1 <= int(text) <= MAX_PRESIGN_SECONDS:
        raise AuthError(
            "malformed-query",
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGN_SECONDS} "
            f"(7 days), not {text[:20]!r}",
            protocol,
        )
    return Signature(
        access_key_id=key,
        date=date,
        region=region,
        service=service,
        signed_headers=tuple(params["X-Amz-SignedHeaders"].split(";")),
        signature=params["X-Amz-Signature"],
        time=when,
        amz_date=params["X-Amz-Date"],
        session_token=params.get("X-Amz-Security-Token"),
        presigned=True,
        expires=int(text),
    )


def check_time(sig: Signature, now: dt.datetime) -> None:
    """A header signature must be within 15 minutes of ``now``; a presigned URL must not
    be used before its time (less the same allowance) nor after it expires."""
    stamp = now.strftime(_AMZ_DATE)
    if sig.presigned:
        assert sig.expires is not None
        if now < sig.time - MAX_SKEW:
            raise AuthError(
                "presign-expired",
                f"Request is not valid yet: it is signed for {sig.amz_date}, now is {stamp}",
                sig.protocol,
            )
        if now > sig.time + dt.timedelta(seconds=sig.expires):
            raise AuthError(
                "presign-expired",
                f"Request has expired: signed at {sig.amz_date} for {sig.expires} seconds, "
                f"now is {stamp}",
                sig.protocol,
            )
        return
    if abs(now - sig.time) > MAX_SKEW:
        if sig.protocol == "s3":
            message = (
                "The difference between the request time and the current time is too "
                f"large: the request says {sig.amz_date}, the server's time is {stamp} "
                "(at most 15 minutes apart)"
            )
        else:
            if sig.time < now:
                bound, relation, sign = now - MAX_SKEW, "earlier", "-"
            else:
                bound, relation, sign = now + MAX_SKEW, "later", "+"
            message = (
                f"Signature expired: {sig.amz_date} is now {relation} than "
                f"{bound.strftime(_AMZ_DATE)} ({stamp} {sign} 15 min.)"
            )
        raise AuthError("skewed", message, sig.protocol)


def canonical_uri(path: str, service: str) -> str:
    """The path as signed: for S3 each segment encoded once, as sent; for other services
    normalised (no ``.``, ``..`` or empty segments) and encoded twice."""
    raw = path.encode("utf-8", "surrogateescape") or b"/"
    segments = [_encode(unquote_to_bytes(seg)) for seg in raw.split(b"/")]
    if service == "s3":
        return "/".join(segments) or "/"
    kept: list[str] = []
    for seg in segments:
        if seg in ("", "."):
            continue
        if seg == "..":
            if kept:
                kept.pop()
        else:
            kept.append(seg)
    once = "/" + "/".join(kept) + ("/" if kept and raw.endswith(b"/") else "")
    return _encode(once.encode("ascii"), safe="/" + _UNRESERVED)


def canonical_query(query: str, presigned: bool) -> str:
    """The query string as signed: parameters decoded and re-encoded, sorted by name and
    then value; a presigned URL's ``X-Amz-Signature`` is left out."""
    pairs = []
    for key, value in _query_pairs(query):
        if presigned and key == b"X-Amz-Signature":
            continue
        pairs.append((_encode(key), _encode(value)))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(request: SignedRequest, names: tuple[str, ...]) -> str:
    """``name:value`` lines of the signed headers: names in lower case, values trimmed with
    inner runs of spaces made one, repeated headers joined with commas."""
    lines = []
    for name in names:
        values = request.header_values(name)
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    return "".join(lines)


def payload_hash(request: SignedRequest, sig: Signature) -> str:
    """The payload hash the client signed. S3 header signatures name it in
    ``x-amz-content-sha256`` (checked against the body when the door has it); presigned
    S3 URLs sign ``UNSIGNED-PAYLOAD``; other services sign the body's SHA-256."""
    declared = request.header("x-amz-content-sha256")
    if declared is not None:
        declared = declared.strip()
    if sig.presigned and sig.service == "s3" and declared is None:
        return UNSIGNED_PAYLOAD
    if declared is None:
        if sig.service == "s3":
            raise AuthError(
                "missing-content-sha256",
                "Missing required header for this request: x-amz-content-sha256",
                sig.protocol,
            )
        if request.body is None:
            raise AuthError(
                "missing-content-sha256",
                "the request's body was not given to the verifier and it carries no "
                "x-amz-content-sha256 header",
                sig.protocol,
            )
        return hashlib.sha256(request.body).hexdigest()
    if _HEX64.fullmatch(declared):
        if request.body is not None and not hmac.compare_digest(
            hashlib.sha256(request.body).hexdigest(), declared
        ):
            raise AuthError(
                "content-sha256-mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed",
                sig.protocol,
            )
        return declared
    if declared == STREAMING_SIGNED_TRAILER:
        raise AuthError(
            "missing-content-sha256",
            f"x-amz-content-sha256 {declared} (signed chunks with a signed trailer) is not "
            f"supported by lakebox; use {STREAMING_SIGNED} or {STREAMING_UNSIGNED_TRAILER}",
            sig.protocol,
        )
    if declared in (UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_UNSIGNED_TRAILER):
        # Only S3 reads a body it has not hashed; any other service would act on a body
        # the signature does not cover.
        if sig.service != "s3":
            raise AuthError(
                "content-sha256-mismatch",
                f"x-amz-content-sha256 {declared!r} is only for S3 requests; other "
                "services sign the body's SHA-256",
                sig.protocol,
            )
        return declared
    # Any other marker (STREAMING-...-V2, STREAMING-ECDSA-..., ...) names a body framing
    # whose chunks lakebox would not check: refused rather than passed through unchecked.
    raise AuthError(
        "content-sha256-mismatch",
        "x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD, "
        f"{STREAMING_SIGNED} or {STREAMING_UNSIGNED_TRAILER}, not {declared[:80]!r}",
        sig.protocol,
    )


def canonical_request(request: SignedRequest, sig: Signature) -> str:
    """The six lines the client signed, rebuilt from ``request``."""
    return "\n".join(
        (
            request.method.upper(),
            canonical_uri(request.path, sig.service),
            canonical_query(request.query, sig.presigned),
            canonical_headers(request, sig.signed_headers),
            ";".join(sig.signed_headers),
            payload_hash(request, sig),
        )
    )


def string_to_sign(sig: Signature, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{sig.amz_date}\n{sig.scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """HMAC-SHA256 chained from ``AWS4<secret>`` over the scope's four parts."""
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _check_signed_headers(request: SignedRequest, sig: Signature) -> None:
    names = sig.signed_headers
    if any(n != n.lower() or not n for n in names):
        raise AuthError(
            "malformed" if not sig.presigned else "malformed-query",
            f"SignedHeaders {';'.join(names)!r} must be lower-case header names separated by ;",
            sig.protocol,
        )
    if "host" not in names:
        raise AuthError(
            "malformed" if not sig.presigned else "malformed-query",
            "the host header must be signed (SignedHeaders must name host)",
            sig.protocol,
        )
    # Every x-amz-* header must be signed, in a presigned URL too: otherwise anyone
    # holding a presigned PUT could add x-amz-copy-source, x-amz-acl, ... to it. The one
    # exception is x-amz-content-sha256 saying UNSIGNED-PAYLOAD, which is what a presigned
    # S3 URL signs anyway.
    unsigned = sorted(
        {
            key.lower()
            for key, value in request.headers
            if key.lower().startswith("x-amz-")
            and key.lower() not in names
            and not (
                sig.presigned
                and key.lower() == "x-amz-content-sha256"
                and value.strip() == UNSIGNED_PAYLOAD
            )
        }
    )
    if unsigned:
        raise AuthError(
            "unsigned-headers",
            "There were headers present in the request which were not signed: "
            + ", ".join(unsigned),
            sig.protocol,
        )


_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)


def verify(request: SignedRequest, sig: Signature, secret: str) -> ChunkSigning | None:
    """Check ``sig`` against ``request`` with the key's ``secret``; raises AuthError.
    Returns what checking the chunks needs when the body is signed chunk by chunk."""
    _check_signed_headers(request, sig)
    canonical = canonical_request(request, sig)
    to_sign = string_to_sign(sig, canonical)
    key = signing_key(secret, sig.date, sig.region, sig.service)
    expected = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), sig.signature.strip().lower().encode()):
        raise AuthError("bad-signature", _MISMATCH, sig.protocol)
    declared = (request.header("x-amz-content-sha256") or "").strip()
    if declared == STREAMING_SIGNED:
        return ChunkSigning(key, sig.amz_date, sig.scope, expected)
    return None


def decode_chunked(
    body: bytes, signing: ChunkSigning | None, *, decoded_length: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The payload of an ``aws-chunked`` body and its trailing headers (``x-amz-checksum-*``).

    Each chunk is ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``, the last one
    empty. With ``signing`` (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) every chunk must carry
    the signature of ``AWS4-HMAC-SHA256-PAYLOAD``, the time, the scope, the previous
    signature (the request's for the first chunk), the hash of nothing and the hash of its
    data, so no chunk can be changed, dropped, reordered or added. Without it
    (``STREAMING-UNSIGNED-PAYLOAD-TRAILER``) only the framing is read. ``decoded_length``
    (``x-amz-decoded-content-length``) must match when given. Raises AuthError."""
    view = memoryview(body)
    pos = 0
    parts: list[bytes] = []
    previous = signing.seed_signature if signing is not None else ""
    trailers: dict[str, str] = {}

    def bad(why: str) -> AuthError:
        return AuthError("bad-chunks", f"the aws-chunked body is malformed: {why}", "s3")

    while True:
        end = body.find(b"\r\n", pos)
        if end < 0:
            raise bad(f"no chunk header at byte {pos}")
        header = bytes(view[pos:end]).decode("ascii", "replace")
        size_text, _, extension = header.partition(";")
        # hex digits only: int(..., 16) also takes "0_5", " 5", "+5", "0x5"
        if not _HEX_SIZE.fullmatch(size_text):
            raise bad(f"chunk size {size_text[:20]!r} at byte {pos} is not hexadecimal")
        size = int(size_text, 16)
        start = end + 2
        data = view[start : start + size]
        if len(data) != size:
            raise bad(f"a chunk of {size} bytes at byte {pos} is cut short")
        if signing is not None:
            name, _, given = extension.partition("=")
            if name.strip() != "chunk-signature" or not given:
                raise AuthError(
                    "bad-signature", f"the chunk at byte {pos} carries no chunk-signature", "s3"
                )
            to_sign = "\n".join(
                (
                    "AWS4-HMAC-SHA256-PAYLOAD",
                    signing.amz_date,
                    signing.scope,
                    previous,
                    EMPTY_SHA256,
                    hashlib.sha256(data).hexdigest(),
                )
            )
            expected = hmac.new(signing.key, to_sign.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
                raise AuthError("bad-signature", _MISMATCH + f" (the chunk at byte {pos})", "s3")
            previous = expected
        pos = start + size
        if size == 0:
            break
        parts.append(bytes(data))
        if body[pos : pos + 2] != b"\r\n":
            raise bad(f"the chunk ending at byte {pos} is not followed by CRLF")
        pos += 2
    # after the last chunk: CRLF, or (only in an unsigned stream, whose trailer the
    # door checks against the payload) trailing headers ending with an empty line
    rest = bytes(view[pos:])
    if rest != b"\r\n" and signing is not None:
        raise bad(
            "a signed stream must end right after its final chunk "
            "(0;chunk-signature=...\\r\\n\\r\\n); its trailing bytes are not signed"
        )
    if rest != b"\r\n":
        lines = rest.split(b"\r\n")
        if len(lines) < 2 or lines[-1] != b"" or lines[-2] != b"":
            raise bad("the trailing headers do not end with an empty line")
        for line in lines[:-2]:
            if not line:
                continue
            name, colon, value = line.decode("ascii", "replace").partition(":")
            if not colon:
                raise bad(f"trailing header {line[:40]!r} has no ':'")
            trailers[name.strip().lower()] = value.strip()
    payload = b"".join(parts)
    if decoded_length is not None and len(payload) != decoded_length:
        raise bad(
            f"x-amz-decoded-content-length says {decoded_length} bytes, the chunks hold "
            f"{len(payload)}"
        )
    return payload, trailers


__all__ = [
    "ALGORITHM",
    "MAX_SKEW",
    "UNSIGNED_PAYLOAD",
    "AuthError",
    "Caller",
    "ChunkSigning",
    "decode_chunked",
    "Signature",
    "SignedRequest",
    "check_time",
    "protocol_of",
    "read_signature",
    "verify",
]
