"""S3's object operations over the lake's storage: GetObject, HeadObject, PutObject,
CopyObject, DeleteObject, ListObjectsV2 (what workflows' ``aws-sdk:s3:*`` tasks use).

Every bucket and key goes through the storage boundary: one S3 would refuse, or one that
would climb out of its bucket, is S3's error for it (``InvalidBucketName``,
``InvalidArgument``, ``AccessDenied``) and touches nothing. A missing object is
``NoSuchKey``; a request without a required member is ``InvalidRequest``; any other failure
is ``InternalError``. ``Body`` travels as text (a JSON value given as a body is stored as
its JSON text).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.api.base import text as _text
from lakebox.errors import InvalidLocationError, LakeboxError

if TYPE_CHECKING:
    from lakebox.principal import Principal
    from lakebox.storage import Storage

INVALID = "InvalidRequest"


class S3Context(ApiContext, Protocol):
    @property
    def storage(self) -> Storage: ...


class ObjectEvents(Protocol):
    """The lake's event bus as the S3 operations see it (``context.optional("events")``).

    ``name`` is S3's event name without the ``s3:`` prefix (``ObjectCreated:Put``,
    ``ObjectCreated:Copy``, ``ObjectCreated:CompleteMultipartUpload``,
    ``ObjectRemoved:Delete``); it is sent after the change is durable. A notification
    configuration is the ``NotificationConfiguration`` shape of botocore's S3 model
    (``TopicConfigurations``, ``QueueConfigurations``, ``LambdaFunctionConfigurations``,
    ``EventBridgeConfiguration``)."""

    def object_event(
        self,
        name: str,
        bucket: str,
        key: str,
        *,
        size: int | None,
        etag: str | None,
        principal: Principal,
        request_id: str | None = None,
    ) -> None: ...

    def put_bucket_notification_configuration(
        self, bucket: str, configuration: dict[str, Any], *, principal: Principal
    ) -> None: ...

    def get_bucket_notification_configuration(
        self, bucket: str, *, principal: Principal
    ) -> dict[str, Any]: ...


def object_event(
    context: Any, name: str, bucket: str, key: str, *, size: int | None, etag: str | None
) -> None:
    """Tell the lake's event bus, if the door has one, that an object changed."""
    optional = getattr(context, "optional", None)
    events: ObjectEvents | None = optional("events") if optional is not None else None
    if events is not None:
        events.object_event(name, bucket, key, size=size, etag=etag, principal=context.principal)


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, InvalidLocationError):
        return exc.s3_code
    return "InternalError"


def _need(request: Request, *names: str) -> Request:
    for name in names:
        if not isinstance(request.get(name), str) or not request[name]:
            raise AwsError(INVALID, f"{name} is required")
    return request


def _uri(bucket: str, key: str) -> str:
    from lakebox.storage.uri import object_uri

    return object_uri(bucket, key)


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def _missing(bucket: str, key: str) -> AwsError:
    return AwsError(
        "NoSuchKey", f"The specified key does not exist. (Bucket: {bucket}, Key: {key})"
    )


def _read(storage: Storage, bucket: str, key: str) -> bytes:
    uri = _uri(bucket, key)
    try:
        if not storage.exists(uri):
            raise _missing(bucket, key)
        data: bytes = storage.read_bytes(uri)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise _missing(bucket, key) from exc
    return data


def get_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    data = _read(context.storage, p["Bucket"], p["Key"])
    return {
        "Body": data.decode("utf-8", errors="replace"),
        "ContentLength": len(data),
        "ContentType": "application/octet-stream",
        "ETag": _etag(data),
    }


def head_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    data = _read(context.storage, p["Bucket"], p["Key"])
    return {"ContentLength": len(data), "ETag": _etag(data)}


def put_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    body = p.get("Body", "")
    if isinstance(body, bytes):
        data = body
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    context.storage.write_bytes(_uri(p["Bucket"], p["Key"]), data)
    etag = _etag(data)
    object_event(context, "ObjectCreated:Put", p["Bucket"], p["Key"], size=len(data), etag=etag)
    return {"ETag": etag}


def copy_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key", "CopySource")
    source_bucket, _, source_key = p["CopySource"].lstrip("/").partition("/")
    data = _read(context.storage, source_bucket, source_key)
    context.storage.write_bytes(_uri(p["Bucket"], p["Key"]), data)
    object_event(
        context, "ObjectCreated:Copy", p["Bucket"], p["Key"], size=len(data), etag=_etag(data)
    )
    return {
        "CopyObjectResult": {"ETag": _etag(data), "LastModified": datetime.now(UTC).isoformat()}
    }


def delete_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    uri = _uri(p["Bucket"], p["Key"])
    if context.storage.exists(uri):
        context.storage.delete(uri)
        object_event(context, "ObjectRemoved:Delete", p["Bucket"], p["Key"], size=None, etag=None)
    return {}


def list_objects_v2(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    bucket, prefix = p["Bucket"], str(p.get("Prefix", ""))
    max_keys = int(p.get("MaxKeys", 1000))
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    contents: list[dict[str, Any]] = []
    for info in context.storage.list_files(_uri(bucket, folder), include_hidden=True):
        key = info.uri.split("/", 3)[3] if info.uri.count("/") >= 3 else ""
        if key.startswith(prefix) and key > str(p.get("StartAfter", "")):
            contents.append(
                {
                    "Key": key,
                    "Size": info.size,
                    "StorageClass": "STANDARD",
                    "LastModified": datetime.fromtimestamp(info.mtime, UTC).isoformat(),
                }
            )
    page = contents[:max_keys]
    return {
        "Contents": page,
        "KeyCount": len(page),
        "IsTruncated": len(contents) > max_keys,
        "MaxKeys": max_keys,
        "Name": bucket,
        "Prefix": prefix,
    }


def _object(request: Request, context: Any) -> list[str]:
    bucket, key = _text(request, "Bucket") or "*", _text(request, "Key") or "*"
    return [f"arn:aws:s3:::{bucket}/{key}"]


def _bucket(request: Request, context: Any) -> list[str]:
    return [f"arn:aws:s3:::{_text(request, 'Bucket') or '*'}"]


def _copy(request: Request, context: Any) -> list[str]:
    source = (_text(request, "CopySource") or "*/*").lstrip("/").split("?", 1)[0]
    return [*_object(request, context), f"arn:aws:s3:::{source}"]


API = ServiceApi(
    "S3",
    operations(
        ("GetObject", get_object, _object),
        ("HeadObject", head_object, _object),
        ("PutObject", put_object, _object),
        ("CopyObject", copy_object, _copy),
        ("DeleteObject", delete_object, _object),
        ("ListObjectsV2", list_objects_v2, _bucket),
    ),
    error_code,
    INVALID,
    prefix="s3",
    denied="AccessDenied",
)
