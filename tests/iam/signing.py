"""Requests signed by botocore's own signers, turned into what a door hands the verifier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lakebox.iam.sigv4 import SignedRequest

ENDPOINT = "http://127.0.0.1:4566"


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    token: str | None = None

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.access_key_id, self.secret_access_key, self.token)


def from_prepared(
    prepared: AWSPreparedRequest | AWSRequest, body: bytes | None = None
) -> SignedRequest:
    """The request as a door receives it: raw path and query of the URL that is sent, the
    headers (with Host, which the HTTP client adds), the body."""
    parts = urlsplit(prepared.url)
    headers = [(k, v if isinstance(v, str) else v.decode()) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", parts.netloc))
    if body is None:
        raw = prepared.body
        body = raw if isinstance(raw, bytes) else (raw or "").encode()
    return SignedRequest(prepared.method, parts.path or "/", parts.query, tuple(headers), body)


class _MarkerSigner(S3SigV4Auth):
    """botocore's S3 signer with the payload hash it signs (and sends) chosen by a test."""

    marker = ""

    def payload(self, request: AWSRequest) -> str:
        return self.marker


def sign(
    keys: Keys,
    service: str,
    url: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    presign: int | None = None,
    region: str = "us-east-1",
    unsigned_payload: bool = False,
    payload_marker: str | None = None,
) -> SignedRequest:
    """``url`` signed as botocore signs it for ``service`` (S3's rules for ``s3``); with
    ``presign``, as a presigned URL valid for that many seconds. ``payload_marker`` makes
    botocore's S3 signer sign that ``x-amz-content-sha256`` (``STREAMING-...``) instead of
    the body's hash, as it does for the markers it knows."""
    request = AWSRequest(method, url, data=body, headers=dict(headers or {}))
    if unsigned_payload:  # as boto3 does for S3 when told not to sign payloads
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    signer: Any
    if presign is not None:
        cls = S3SigV4QueryAuth if service == "s3" else SigV4QueryAuth
        signer = cls(keys.credentials, service, region, expires=presign)
    elif payload_marker is not None:
        signer = _MarkerSigner(keys.credentials, service, region)
        signer.marker = payload_marker
    else:
        cls = S3SigV4Auth if service == "s3" else SigV4Auth
        signer = cls(keys.credentials, service, region)
    signer.add_auth(request)
    return from_prepared(request.prepare(), body)


def later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
