"""The S3 door: S3's REST-XML API over the lake's buckets, for boto3, the AWS CLI, s3fs
and presigned URLs.

A request signed for ``s3`` comes here instead of the JSON/query door, because S3 bodies
are objects, far larger than any other API's: the signature is checked on the headers
alone (``x-amz-content-sha256`` names the body's hash), then a body is streamed to a file
in the lake's metadata folder (``_lakebox/s3/incoming``, on the buckets' file system)
while its MD5 and SHA-256 are computed, checked against ``x-amz-content-sha256`` and
``Content-MD5``, and only then handed to the operation, which renames it into place. A
failed, refused or cut upload leaves nothing in any bucket. GetObject streams the file
back in pieces.

Addressing: path-style (``http://127.0.0.1:4566/bucket/key``) and virtual-hosted
(``Host: bucket.localhost:4566``, ``bucket.s3.localhost``, ``bucket.s3.<region>...``).
The operation is picked from the method, the bucket and key, and S3's sub-resources
(``?uploads``, ``?uploadId=``, ``?list-type=2``, ``?delete``, ``?location``); its members
are read with botocore's S3 model (``lakebox.server.s3xml``) and it is dispatched through
the API layer's S3 table (``lakebox.api.s3``), which authorizes it with IAM's S3 actions.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import time
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_to_bytes

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect
from starlette.responses import Response, StreamingResponse

from lakebox.api import AwsError, dispatch
from lakebox.api.s3 import MAX_PUT_BYTES, ObjectBody, StagedBody, staging_dir
from lakebox.errors import LakeboxError
from lakebox.iam.sigv4 import AuthError, SignedRequest, decode_chunked
from lakebox.server import s3xml
from lakebox.server.door import Door, Incoming, Outcome, credential_scope_service

if TYPE_CHECKING:
    from starlette.requests import Request

    from lakebox.iam.sigv4 import Caller

#: how long a client may pause while sending a body (the whole body may take longer)
BODY_IDLE_SECONDS = 30.0
#: aws-chunked bodies (``x-amz-content-sha256: STREAMING-...``) are decoded in memory:
#: the SDKs send them over HTTPS, not to a loopback endpoint, so they are small here
MAX_CHUNKED_BYTES = 64 * 1024**2
#: a staged body untouched this long is a stopped server's leftover
STALE_STAGED_SECONDS = 3600.0
#: objects up to this size are answered in one piece (larger ones stream)
SMALL_BODY = 1024 * 1024
#: bytes gathered before they are hashed and written on a worker thread
_FLUSH = 1024 * 1024

_HEX64 = re.compile(r"[0-9a-f]{64}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

#: S3's HTTP status of each error code the door answers (any other: 400)
STATUS = {
    "AccessDenied": 403,
    "InvalidAccessKeyId": 403,
    "SignatureDoesNotMatch": 403,
    "RequestTimeTooSkewed": 403,
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "BucketNotEmpty": 409,
    "BucketAlreadyOwnedByYou": 409,
    "BucketAlreadyExists": 409,
    "PreconditionFailed": 412,
    "InvalidRange": 416,
    "NotModified": 304,
    "MethodNotAllowed": 405,
    "NotImplemented": 501,
    "InternalError": 500,
    "ServiceUnavailable": 503,
}

#: operations whose body is an object (streamed to a file) or an XML document
_STREAMED = frozenset({"PutObject", "UploadPart"})
_XML = frozenset(
    {
        "CreateBucket",
        "DeleteObjects",
        "CompleteMultipartUpload",
        "PutBucketNotificationConfiguration",
    }
)


def wants(head: Incoming) -> bool:
    """Whether the request is for S3: its SigV4 signature is scoped to ``s3``, or it is
    signed with S3's old Signature Version 2 (refused, in S3's words)."""
    if credential_scope_service(head) == "s3":
        return True
    auth = head.header("authorization") or ""
    return auth.startswith("AWS ") or "AWSAccessKeyId=" in (head.query or "")


def address(head: Incoming) -> tuple[str, str]:
    """(bucket, key) of a request, virtual-hosted or path-style; the key percent-decoded
    (a key that is not UTF-8 is refused)."""
    host = (head.header("host") or "").strip().lower()
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    bucket_host = ""
    if host.endswith(".localhost"):
        name = host.removesuffix(".localhost").removesuffix(".s3")
        bucket_host = "" if name in ("", "s3") else name
    elif ".s3." in host and not _IPV4.fullmatch(host):
        bucket_host = host.split(".s3.", 1)[0]
    path = head.raw_path.split("?", 1)[0]
    rest = path[1:] if path.startswith("/") else path
    if bucket_host:
        bucket, key = bucket_host, rest
    else:
        bucket, _, key = rest.partition("/")
    try:
        return (
            unquote_to_bytes(bucket).decode("utf-8"),
            unquote_to_bytes(key).decode("utf-8"),
        )
    except UnicodeDecodeError:
        raise AwsError("InvalidURI", "Couldn't parse the specified URI (not UTF-8).") from None


def operation_of(
    method: str, bucket: str, key: str, query: dict[str, str], headers: dict[str, str]
) -> str | None:
    """The S3 operation a request asks for, None for one lakebox does not serve."""
    if not bucket:
        return "ListBuckets" if method == "GET" and not key else None
    if not key:
        if method == "GET":
            for sub, name in (
                ("location", "GetBucketLocation"),
                ("uploads", "ListMultipartUploads"),
                ("notification", "GetBucketNotificationConfiguration"),
            ):
                if sub in query:
                    return name
            if query.get("list-type") == "2":
                return "ListObjectsV2"
            return None if _subresource(query) else "ListObjects"
        if method == "HEAD":
            return "HeadBucket"
        if method == "PUT":
            if "notification" in query:
                return "PutBucketNotificationConfiguration"
            return None if _subresource(query) else "CreateBucket"
        if method == "DELETE":
            return None if _subresource(query) else "DeleteBucket"
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        return None
    if method == "GET":
        if "uploadId" in query:
            return "ListParts"
        return None if _subresource(query) else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return None if "x-amz-copy-source" in headers else "UploadPart"
        if _subresource(query):
            return None
        return "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return None
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return None if _subresource(query) else "DeleteObject"
    return None


#: query parameters that are not sub-resources (they only shape an answer)
_PLAIN = frozenset(
    {
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "encoding-type",
        "continuation-token",
        "start-after",
        "fetch-owner",
        "list-type",
        "versionId",
        "partNumber",
        "response-content-type",
        "response-content-disposition",
        "response-cache-control",
        "response-content-encoding",
        "response-content-language",
        "response-expires",
        "x-id",
        "max-uploads",
        "key-marker",
        "upload-id-marker",
        "max-parts",
        "part-number-marker",
    }
)


def _subresource(query: dict[str, str]) -> bool:
    return any(not k.startswith("X-Amz-") and k not in _PLAIN for k in query)


def _dispatch(name: str, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """The operation, on a worker thread; a small object's body is read there too (a
    streamed answer costs a thread hop per piece: not worth it below ``SMALL_BODY``)."""
    result = dispatch("s3", name, params, context)
    body = result.get("Body")
    if isinstance(body, ObjectBody) and body.length <= SMALL_BODY:
        result["Body"] = b"".join(body.chunks(SMALL_BODY))
    return result


class S3Door:
    """Answers S3 requests for the door's lake (its IAM service, its storage)."""

    def __init__(self, door: Door) -> None:
        self.door = door
        self.lake = door.lake
        self._sweep()

    def _sweep(self) -> None:
        """Remove staged bodies a stopped server left (a body being received is written to
        at least every ``BODY_IDLE_SECONDS``: one untouched for an hour is nobody's)."""
        folder = Path(self.lake.config.metadata_dir) / "s3" / "incoming"
        cutoff = time.time() - STALE_STAGED_SECONDS
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                continue

    async def serve(self, request: Request, head: Incoming, limiter: Any) -> Response:
        started = time.monotonic()
        outcome = Outcome(request_id=str(uuid.uuid4()), service="s3")
        try:
            response = await self._serve(request, head, outcome, limiter)
        except ClientDisconnect:
            outcome.code = "ClientDisconnected"
            response = Response(b"", 400)
        except Exception as exc:  # the last line of defence: never a traceback to a client
            self.door.log(
                {
                    "event": "internal-error",
                    "request_id": outcome.request_id,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(),
                }
            )
            response = self._error(
                head,
                outcome,
                "InternalError",
                f"internal error (request {outcome.request_id}; see the server's log)",
            )
        response.headers["x-amz-request-id"] = outcome.request_id
        response.headers["x-amz-id-2"] = outcome.request_id
        self.door.log(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "request_id": outcome.request_id,
                "method": head.method,
                "path": head.raw_path,
                "service": "s3",
                "operation": outcome.operation,
                "principal": outcome.principal,
                "status": response.status_code,
                "error": outcome.code or None,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
        )
        return response

    def _error(
        self, head: Incoming, outcome: Outcome, code: str, message: str, status: int | None = None
    ) -> Response:
        outcome.code = code
        status = status or STATUS.get(code, 400)
        if head.method == "HEAD" or status == 304:
            return Response(b"", status)  # S3 answers HEAD errors without a body
        body = s3xml.error_document(code, message, outcome.request_id)
        return Response(body, status, media_type="application/xml")

    def _authenticate(self, head: Incoming) -> Caller:
        return self.lake.iam.authenticate(
            SignedRequest(head.method, head.raw_path, head.query, head.headers, None),
            expected_service="s3",
        )

    async def _serve(
        self, request: Request, head: Incoming, outcome: Outcome, limiter: Any
    ) -> Response:
        try:
            caller = await anyio.to_thread.run_sync(self._authenticate, head, limiter=limiter)
        except AuthError as exc:
            exc = exc.for_protocol("s3")
            return self._error(head, outcome, exc.code, str(exc), exc.status)
        outcome.principal = caller.principal.arn
        headers = {k.lower(): v for k, v in head.headers}
        try:
            bucket, key = address(head)
            query = dict(parse_qsl(head.query, keep_blank_values=True, max_num_fields=1000))
        except ValueError:
            return self._error(head, outcome, "InvalidArgument", "too many query parameters")
        except AwsError as exc:
            return self._error(head, outcome, exc.code, str(exc))
        name = operation_of(head.method, bucket, key, query, headers)
        if name is None:
            return self._error(
                head,
                outcome,
                "NotImplemented",
                f"lakebox does not serve this S3 request ({head.method} with "
                f"{', '.join(sorted(query)) or 'no sub-resource'}); see docs/server.md",
            )
        outcome.operation = name
        staged: StagedBody | None = None
        try:
            op = s3xml.operation(name)
            payload = await self._small_body(request, head, caller) if name in _XML else None
            labels = {"Bucket": bucket, "Key": key} if key else {"Bucket": bucket}
            params = s3xml.parse_input(op, labels, query, headers, payload)
            if name in _STREAMED:
                staged = await self._stage(request, head, caller)
                params["Body"] = staged
            params["@stream"] = True
            context = self.door._context(caller)
            result = await anyio.to_thread.run_sync(
                _dispatch, name, params, context, limiter=limiter
            )
        except AuthError as exc:
            exc = exc.for_protocol("s3")
            return self._error(head, outcome, exc.code, str(exc), exc.status)
        except AwsError as exc:
            return self._error(head, outcome, exc.code, str(exc))
        except LakeboxError as exc:
            return self._error(head, outcome, exc.code, str(exc))
        except TimeoutError:
            return self._error(
                head,
                outcome,
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within "
                "the timeout period.",
            )
        finally:
            if staged is not None:
                staged.path.unlink(missing_ok=True)
        return self._answer(head, op, result)

    def _answer(self, head: Incoming, op: Any, result: dict[str, Any]) -> Response:
        if op.name == "GetBucketLocation":
            return Response(
                s3xml.location_document(result.get("LocationConstraint")),
                200,
                media_type="application/xml",
            )
        body_value = result.pop("Body", None)
        status, headers, body, _blob = s3xml.serialize_output(op, result)
        if op.name in ("GetObject", "HeadObject"):
            headers["Content-Length"] = str(result.get("ContentLength", 0))
            if "ContentRange" in result:
                status = 206
            if isinstance(body_value, bytes) and head.method != "HEAD":
                return Response(body_value, status, headers=headers)
            if head.method == "HEAD" or not isinstance(body_value, ObjectBody):
                return Response(b"", status, headers=headers)
            return StreamingResponse(body_value.chunks(), status, headers=headers)
        if body is None:
            body = b""
        if body:
            headers["Content-Type"] = "application/xml"
        return Response(body, status, headers=headers)

    # -- bodies ------------------------------------------------------------------------------
    async def _small_body(self, request: Request, head: Incoming, caller: Caller) -> bytes:
        """An XML request body, checked against the signed hash and Content-MD5."""
        data = bytearray()
        chunks = request.stream().__aiter__()
        while True:
            try:
                with anyio.fail_after(BODY_IDLE_SECONDS):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            data += chunk
            if len(data) > s3xml.MAX_XML_BYTES + 64 * 1024:
                raise AwsError("MaxMessageLengthExceeded", "Your request was too big.")
        body = bytes(data)
        body = self._unchunk(head, caller, body)
        self._check_sha256(head, hashlib.sha256(body).hexdigest())
        self._check_md5(head, hashlib.md5(body).hexdigest())
        return body

    @staticmethod
    def _declared(head: Incoming) -> str:
        return (head.header("x-amz-content-sha256") or "").strip()

    def _unchunk(self, head: Incoming, caller: Caller, body: bytes) -> bytes:
        if not self._declared(head).startswith("STREAMING-"):
            return body
        decoded = head.header("x-amz-decoded-content-length")
        length = int(decoded) if decoded is not None and decoded.strip().isdigit() else None
        payload, _trailers = decode_chunked(body, caller.chunks, decoded_length=length)
        return payload

    def _check_sha256(self, head: Incoming, sha_hex: str) -> None:
        declared = self._declared(head)
        if _HEX64.fullmatch(declared) and not hmac.compare_digest(declared, sha_hex):
            raise AuthError(
                "content-sha256-mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                "s3",
            )

    @staticmethod
    def _check_md5(head: Incoming, md5_hex: str) -> None:
        from lakebox.api.s3 import _check_md5

        given = head.header("content-md5")
        if given is not None:
            _check_md5({"ContentMD5": given.strip()}, md5_hex)

    async def _stage(self, request: Request, head: Incoming, caller: Caller) -> StagedBody:
        """Stream the body to a file in the staging folder, hashing it on the way; the
        file is removed on any failure (a cut upload leaves nothing)."""
        chunked = self._declared(head).startswith("STREAMING-")
        limit = MAX_CHUNKED_BYTES if chunked else MAX_PUT_BYTES
        length_text = (head.header("content-length") or "").strip()
        length = int(length_text) if length_text.isdigit() else None
        if length is not None and length > limit:
            raise AwsError(
                "EntityTooLarge",
                f"Your proposed upload exceeds the maximum allowed size ({limit} bytes"
                + (" for an aws-chunked body" if chunked else "")
                + "); use a multipart upload",
            )
        folder = staging_dir(self.lake.storage)
        fd, name = tempfile.mkstemp(prefix="put-", dir=folder)
        path = Path(name)
        md5, sha = hashlib.md5(), hashlib.sha256()
        hash_sha = bool(_HEX64.fullmatch(self._declared(head)))
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:

                def flush(block: bytes) -> None:
                    out.write(block)
                    md5.update(block)
                    if hash_sha:
                        sha.update(block)

                pending = bytearray()
                chunks = request.stream().__aiter__()
                while True:
                    try:
                        with anyio.fail_after(BODY_IDLE_SECONDS):
                            chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise AwsError(
                            "EntityTooLarge",
                            "Your proposed upload exceeds the maximum allowed size",
                        )
                    pending += chunk
                    if len(pending) >= _FLUSH:
                        await anyio.to_thread.run_sync(flush, bytes(pending))
                        pending.clear()
                if pending:
                    await anyio.to_thread.run_sync(flush, bytes(pending))
                out.flush()
                os.fsync(out.fileno())
            if length is not None and size != length:
                raise AwsError(
                    "IncompleteBody",
                    f"You did not provide the number of bytes specified by the Content-Length "
                    f"HTTP header ({size} of {length})",
                )
            if chunked:
                payload = self._unchunk(head, caller, path.read_bytes())
                path.write_bytes(payload)
                md5, size = hashlib.md5(payload), len(payload)
            elif hash_sha:
                self._check_sha256(head, sha.hexdigest())
            return StagedBody(path, size, md5.hexdigest())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
