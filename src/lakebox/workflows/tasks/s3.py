"""``arn:aws:states:::aws-sdk:s3:<action>`` over the lake's storage, so definitions that
move objects around run unchanged against local buckets (or the configured S3 endpoint).

Responses follow the SDK's shapes (``Body`` as text, ``Contents`` lists, ``ETag``) and
failures use the SDK integration's error names (``S3.NoSuchKeyException``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from lakebox.errors import InvalidLocationError, LakeboxError
from lakebox.workflows.errors import StatesError
from lakebox.workflows.tasks.registry import DEFAULT_REGISTRY, TaskContext

PREFIX = "arn:aws:states:::aws-sdk:s3:"


def _storage(ctx: TaskContext) -> Any:
    if ctx.config is None:
        raise StatesError("S3.S3Exception", "S3 tasks need a lake: run through WorkflowService")
    from lakebox.storage import Storage

    return Storage(ctx.config)


def _need(params: Any, *names: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise StatesError("S3.S3Exception", "parameters must be an object")
    for name in names:
        if not isinstance(params.get(name), str) or not params[name]:
            raise StatesError("S3.S3Exception", f"{name} is required")
    return params


def _uri(bucket: str, key: str) -> str:
    """The object's URI through the storage boundary: a bucket or key that S3 would refuse,
    or that would climb out of its bucket, fails the task as S3's error (for example
    ``S3.InvalidBucketNameException``) and touches nothing."""
    from lakebox.storage.uri import object_uri

    try:
        return object_uri(bucket, key)
    except InvalidLocationError as exc:
        raise _s3_error(exc) from exc


def _s3_error(exc: LakeboxError) -> StatesError:
    if isinstance(exc, StatesError):
        return exc
    if isinstance(exc, InvalidLocationError):
        return StatesError(f"S3.{exc.s3_code}Exception", str(exc))
    return StatesError("S3.S3Exception", str(exc))


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def _missing(bucket: str, key: str) -> StatesError:
    return StatesError(
        "S3.NoSuchKeyException", f"The specified key does not exist. (Bucket: {bucket}, Key: {key})"
    )


def _read(ctx: TaskContext, bucket: str, key: str) -> bytes:
    storage = _storage(ctx)
    try:
        if not storage.exists(_uri(bucket, key)):
            raise _missing(bucket, key)
        data: bytes = storage.read_bytes(_uri(bucket, key))
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise _missing(bucket, key) from exc
    except LakeboxError as exc:
        raise _s3_error(exc) from exc
    return data


def get_object(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket", "Key")
    data = _read(ctx, p["Bucket"], p["Key"])
    return {
        "Body": data.decode("utf-8", errors="replace"),
        "ContentLength": len(data),
        "ContentType": "application/octet-stream",
        "ETag": _etag(data),
    }


def head_object(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket", "Key")
    data = _read(ctx, p["Bucket"], p["Key"])
    return {"ContentLength": len(data), "ETag": _etag(data)}


def _write(ctx: TaskContext, bucket: str, key: str, data: bytes) -> None:
    try:
        _storage(ctx).write_bytes(_uri(bucket, key), data)
    except LakeboxError as exc:
        raise _s3_error(exc) from exc


def put_object(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket", "Key")
    body = p.get("Body", "")
    data = (body if isinstance(body, str) else json.dumps(body)).encode()
    _write(ctx, p["Bucket"], p["Key"], data)
    return {"ETag": _etag(data)}


def copy_object(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket", "Key", "CopySource")
    source_bucket, _, source_key = p["CopySource"].lstrip("/").partition("/")
    data = _read(ctx, source_bucket, source_key)
    _write(ctx, p["Bucket"], p["Key"], data)
    return {
        "CopyObjectResult": {"ETag": _etag(data), "LastModified": datetime.now(UTC).isoformat()}
    }


def delete_object(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket", "Key")
    storage = _storage(ctx)
    uri = _uri(p["Bucket"], p["Key"])
    try:
        if storage.exists(uri):
            storage.delete(uri)
    except LakeboxError as exc:
        raise _s3_error(exc) from exc
    return {}


def list_objects_v2(params: Any, ctx: TaskContext) -> Any:
    p = _need(params, "Bucket")
    bucket, prefix = p["Bucket"], str(p.get("Prefix", ""))
    max_keys = int(p.get("MaxKeys", 1000))
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    contents = []
    try:
        found = _storage(ctx).list_files(_uri(bucket, folder), include_hidden=True)
    except LakeboxError as exc:
        raise _s3_error(exc) from exc
    for info in found:
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


ACTIONS = {
    "getObject": get_object,
    "headObject": head_object,
    "putObject": put_object,
    "copyObject": copy_object,
    "deleteObject": delete_object,
    "listObjectsV2": list_objects_v2,
}

for _action, _handler in ACTIONS.items():
    DEFAULT_REGISTRY.register(PREFIX + _action, _handler, wait_for_task_token=False)
