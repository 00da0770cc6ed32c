"""S3's operations over the lake's storage: buckets (the lake's bucket folders, or the
real buckets in S3 mode), objects, listings and multipart uploads. The HTTP door
(``lakebox.server.s3``) and workflows' ``aws-sdk:s3:*`` tasks both dispatch here.

Every bucket and key goes through the storage boundary: one S3 would refuse, or one that
would climb out of its bucket, is S3's error for it (``InvalidBucketName``,
``InvalidArgument``, ``AccessDenied``) and touches nothing. A missing object is
``NoSuchKey``; a request without a required member is ``InvalidRequest``; any other failure
is ``InternalError``. ``Body`` travels as text for workflows (a JSON value given as a body
is stored as its JSON text); the HTTP door gives a :class:`StagedBody` (the request body
already on disk) and asks for a :class:`ObjectBody` back (``"@stream"``), so objects of any
size stream through. The door also gets S3's strictness about buckets (NoSuchBucket for
a bucket that was never made); workflow tasks keep the embedded mode's buckets, made by the
first write.

What S3 keeps beside an object and a file system does not (its ETag, Content-Type,
``x-amz-meta-*``, a multipart ETag) is kept in a sidecar under the lake's metadata folder,
``_lakebox/s3/objects/<bucket>/<sha256(key)>.json``, which no query lists; a sidecar counts
only while the object's size and modification time are those it recorded (an object
rewritten by a query or by hand gets its MD5 ETag recomputed). Multipart parts are staged
under ``_lakebox/s3/uploads/<upload id>/`` and the finished object is renamed into place.

Authorization uses IAM's S3 action names, which are not the operation names:
``ListObjectsV2`` is ``s3:ListBucket`` on the bucket, ``HeadObject`` is ``s3:GetObject``,
the multipart steps are ``s3:PutObject``, ``CopyObject`` is ``s3:GetObject`` on the
source and ``s3:PutObject`` on the target.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.api.base import text as _text
from lakebox.errors import InvalidLocationError, LakeboxError, StorageError

if TYPE_CHECKING:
    from lakebox.principal import Principal
    from lakebox.storage import Storage

INVALID = "InvalidRequest"

#: S3's largest single PUT, and its smallest part but the last of a multipart upload
MAX_PUT_BYTES = 5 * 1024**3
MIN_PART_BYTES = 5 * 1024**2
MAX_PART_NUMBER = 10_000
#: the largest object whose MD5 is computed to answer its ETag in a listing (larger ones
#: written other than through S3 are listed without one)
LIST_ETAG_BYTES = 16 * 1024**2

_UPLOAD_ID = re.compile(r"[0-9a-f]{40}")


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


def _events(context: Any) -> ObjectEvents | None:
    optional = getattr(context, "optional", None)
    return optional("events") if optional is not None else None


def object_event(
    context: Any, name: str, bucket: str, key: str, *, size: int | None, etag: str | None
) -> None:
    """Tell the lake's event bus, if the door has one, that an object changed."""
    events = _events(context)
    if events is not None:
        events.object_event(name, bucket, key, size=size, etag=etag, principal=context.principal)


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, InvalidLocationError):
        return exc.s3_code
    return "InternalError"


@dataclass(frozen=True)
class StagedBody:
    """A request body the door has already written to ``path`` (a file in the lake's
    metadata folder, on the buckets' file system): its size and MD5 (hex)."""

    path: Path
    size: int
    md5: str


@dataclass(frozen=True)
class ObjectBody:
    """What GetObject gives a door that streams: ``length`` bytes of the object from
    ``start``, read in ``chunk``-sized pieces."""

    storage: Storage
    uri: str
    start: int
    length: int

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        left = self.length
        with self.storage.open(self.uri) as fh:
            if self.start:
                fh.seek(self.start)
            while left > 0:
                data = fh.read(min(size, left))
                if not data:
                    break
                left -= len(data)
                yield data


def _need(request: Request, *names: str) -> Request:
    for name in names:
        if not isinstance(request.get(name), str) or not request[name]:
            raise AwsError(INVALID, f"{name} is required")
    return request


def _uri(bucket: str, key: str) -> str:
    from lakebox.storage.uri import object_uri

    return object_uri(bucket, key)


def _quoted(md5_hex: str) -> str:
    return f'"{md5_hex}"'


def _missing(bucket: str, key: str) -> AwsError:
    return AwsError(
        "NoSuchKey", f"The specified key does not exist. (Bucket: {bucket}, Key: {key})"
    )


def _no_bucket(bucket: str) -> AwsError:
    return AwsError("NoSuchBucket", f"The specified bucket does not exist: {bucket}")


# -- the lake's S3 area: sidecars, staging, uploads --------------------------------------------


def s3_area(storage: Storage) -> Path:
    """lakebox's own S3 folder in the lake's metadata folder (never a bucket)."""
    return Path(storage.config.metadata_dir) / "s3"


def staging_dir(storage: Storage) -> Path:
    """Where request bodies are written before they are renamed into place: on the
    buckets' file system, outside every bucket."""
    path = s3_area(storage) / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sidecar(storage: Storage, bucket: str, key: str) -> Path:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return s3_area(storage) / "objects" / bucket / digest[:2] / f"{digest}.json"


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class Stat:
    size: int
    mtime: float


def _stat(storage: Storage, bucket: str, key: str) -> Stat | None:
    """The object's size and modification time, None when there is no such object (a
    folder is not an object)."""
    uri = _uri(bucket, key)
    if key.endswith("/") or not key:
        return None
    local = storage.local_path(uri)
    if local is not None:
        try:
            st = os.stat(local)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return Stat(st.st_size, st.st_mtime)
    try:
        info = storage.info(uri)
    except (StorageError, FileNotFoundError):
        return None
    return Stat(info.size, info.mtime)


def _md5_of(storage: Storage, uri: str) -> str:
    digest = hashlib.md5()
    with storage.open(uri) as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Described:
    """An object as S3 describes it."""

    size: int
    mtime: float
    etag: str
    content_type: str
    metadata: dict[str, str]

    @property
    def last_modified(self) -> datetime:
        return datetime.fromtimestamp(int(self.mtime), UTC)


def _record(storage: Storage, bucket: str, key: str, st: Stat) -> dict[str, Any] | None:
    doc = _read_json(_sidecar(storage, bucket, key))
    if doc is None or doc.get("key") != key:
        return None
    if doc.get("size") != st.size or abs(float(doc.get("mtime", -1)) - st.mtime) > 1e-6:
        return None  # rewritten since, other than through S3
    return doc


def describe(
    storage: Storage, bucket: str, key: str, *, etag_limit: int | None = None
) -> Described:
    st = _stat(storage, bucket, key)
    if st is None:
        _check_bucket_exists(storage, bucket)
        raise _missing(bucket, key)
    doc = _record(storage, bucket, key, st)
    if doc is None:
        etag = ""
        if etag_limit is None or st.size <= etag_limit:
            etag = _quoted(_md5_of(storage, _uri(bucket, key)))
            _remember(storage, bucket, key, st, etag, "binary/octet-stream", {})
        return Described(st.size, st.mtime, etag, "binary/octet-stream", {})
    return Described(
        st.size,
        st.mtime,
        str(doc.get("etag", "")),
        str(doc.get("content_type") or "binary/octet-stream"),
        dict(doc.get("metadata") or {}),
    )


def _remember(
    storage: Storage,
    bucket: str,
    key: str,
    st: Stat,
    etag: str,
    content_type: str,
    metadata: dict[str, str],
) -> None:
    with contextlib.suppress(OSError):
        _write_json(
            _sidecar(storage, bucket, key),
            {
                "key": key,
                "size": st.size,
                "mtime": st.mtime,
                "etag": etag,
                "content_type": content_type,
                "metadata": metadata,
            },
        )


def _forget(storage: Storage, bucket: str, key: str) -> None:
    _sidecar(storage, bucket, key).unlink(missing_ok=True)


# -- buckets -------------------------------------------------------------------------------


def _bucket_exists(storage: Storage, bucket: str) -> bool:
    from lakebox.storage.uri import check_bucket

    check_bucket(bucket)
    if storage.mode == "s3":
        return bool(storage.s3fs.exists(bucket))
    folder = storage.local_path(f"s3://{bucket}/")
    return folder is not None and folder.is_dir()


def _check_bucket_exists(storage: Storage, bucket: str) -> None:
    if not _bucket_exists(storage, bucket):
        raise _no_bucket(bucket)


def list_buckets(request: Request, context: S3Context) -> Response:
    from lakebox.storage.uri import bucket_problem

    storage = context.storage
    found: list[dict[str, Any]] = []
    if storage.mode == "s3":
        answer = storage.s3fs.call_s3("list_buckets")
        for item in answer.get("Buckets", []):
            found.append({"Name": item["Name"], "CreationDate": item.get("CreationDate")})
    else:
        home = Path(storage.config.home)
        for entry in sorted(os.scandir(home), key=lambda e: e.name):
            if not entry.is_dir() or bucket_problem(entry.name):
                continue
            if entry.is_symlink() and not storage._link_allowed(entry.path):
                continue
            created = datetime.fromtimestamp(int(entry.stat().st_mtime), UTC)
            found.append({"Name": entry.name, "CreationDate": created})
    return {"Buckets": found, "Owner": _owner(context)}


def _owner(context: Any) -> dict[str, str]:
    account = getattr(context, "account_id", "")
    return {"DisplayName": str(account), "ID": hashlib.sha256(str(account).encode()).hexdigest()}


def create_bucket(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    bucket = p["Bucket"]
    storage = context.storage
    if _bucket_exists(storage, bucket):
        if context.region == "us-east-1":
            return {"Location": f"/{bucket}"}  # S3's legacy answer in us-east-1
        raise AwsError(
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
    config = p.get("CreateBucketConfiguration") or {}
    wanted = config.get("LocationConstraint") if isinstance(config, dict) else None
    if wanted and wanted != context.region:
        raise AwsError(
            "IllegalLocationConstraintException",
            f"The {wanted} location constraint is incompatible for the region specific "
            f"endpoint this request was sent to ({context.region}).",
        )
    storage.ensure_bucket(bucket)
    return {"Location": f"/{bucket}"}


def head_bucket(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    _check_bucket_exists(context.storage, p["Bucket"])
    return {"BucketRegion": context.region}


def get_bucket_location(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    _check_bucket_exists(context.storage, p["Bucket"])
    return {"LocationConstraint": None if context.region == "us-east-1" else context.region}


def delete_bucket(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    bucket = p["Bucket"]
    storage = context.storage
    _check_bucket_exists(storage, bucket)
    not_empty = AwsError("BucketNotEmpty", "The bucket you tried to delete is not empty")
    if storage.mode == "s3":
        if storage.list_files(f"s3://{bucket}/", include_hidden=True):
            raise not_empty
        storage.s3fs.call_s3("delete_bucket", Bucket=bucket)
        storage.s3fs.invalidate_cache()
    else:
        folder = storage.local_path(f"s3://{bucket}/")
        assert folder is not None
        for _root, _dirs, files in os.walk(folder):
            if files:
                raise not_empty
        shutil.rmtree(folder)
    shutil.rmtree(s3_area(storage) / "objects" / bucket, ignore_errors=True)
    return {}


def put_bucket_notification_configuration(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    _check_bucket_exists(context.storage, p["Bucket"])
    events = _events(context)
    if events is None:
        raise AwsError("NotImplemented", "this lakebox has no event bus for S3 notifications")
    config = p.get("NotificationConfiguration") or {}
    events.put_bucket_notification_configuration(
        p["Bucket"], config if isinstance(config, dict) else {}, principal=context.principal
    )
    return {}


def get_bucket_notification_configuration(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    _check_bucket_exists(context.storage, p["Bucket"])
    events = _events(context)
    if events is None:
        return {}  # S3's answer for a bucket with no notifications
    return dict(
        events.get_bucket_notification_configuration(p["Bucket"], principal=context.principal)
    )


# -- objects -------------------------------------------------------------------------------


def _check_conditions(request: Request, etag: str) -> None:
    if_match = request.get("IfMatch")
    if isinstance(if_match, str) and if_match.strip() not in ("*", etag):
        raise AwsError(
            "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
        )
    if_none = request.get("IfNoneMatch")
    if isinstance(if_none, str) and if_none.strip() in ("*", etag):
        raise AwsError("NotModified", "Not Modified")


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(text: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a ``Range: bytes=a-b | a- | -n`` header; None to send the
    whole object (a header S3 ignores); InvalidRange when no byte of it exists."""
    found = _RANGE.fullmatch(text.strip())
    if found is None or (not found.group(1) and not found.group(2)):
        return None  # S3 ignores a Range it cannot read (several ranges, other units)
    first, last = found.group(1), found.group(2)
    if not first:
        count = int(last)
        if count == 0 or size == 0:
            raise _bad_range(size)
        return max(0, size - count), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise _bad_range(size)
    return start, min(end, size - 1)


def _bad_range(size: int) -> AwsError:
    return AwsError("InvalidRange", f"The requested range is not satisfiable (object size {size})")


def _object_headers(found: Described) -> Response:
    return {
        "ETag": found.etag or None,
        "LastModified": found.last_modified,
        "ContentType": found.content_type,
        "Metadata": found.metadata or None,
        "AcceptRanges": "bytes",
    }


#: GetObject's ``response-*`` query parameters and the answer headers they set
_RESPONSE_OVERRIDES = (
    ("ResponseContentType", "ContentType"),
    ("ResponseContentDisposition", "ContentDisposition"),
    ("ResponseCacheControl", "CacheControl"),
    ("ResponseContentEncoding", "ContentEncoding"),
    ("ResponseContentLanguage", "ContentLanguage"),
)


def get_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    storage = context.storage
    bucket, key = p["Bucket"], p["Key"]
    found = describe(storage, bucket, key)
    _check_conditions(p, found.etag)
    start, length = 0, found.size
    out = _object_headers(found)
    if isinstance(p.get("Range"), str):
        span = parse_range(p["Range"], found.size)
        if span is not None:
            start, length = span[0], span[1] - span[0] + 1
            out["ContentRange"] = f"bytes {span[0]}-{span[1]}/{found.size}"
    out["ContentLength"] = length
    for asked, header in _RESPONSE_OVERRIDES:  # a presigned download's response-* parameters
        if isinstance(p.get(asked), str) and p[asked]:
            out[header] = p[asked]
    uri = _uri(bucket, key)
    if p.get("@stream"):
        out["Body"] = ObjectBody(storage, uri, start, length)
        return {k: v for k, v in out.items() if v is not None}
    with storage.open(uri) as fh:
        fh.seek(start)
        data = fh.read(length)
    return {
        "Body": data.decode("utf-8", errors="replace"),
        "ContentLength": len(data),
        "ContentType": "application/octet-stream",
        "ETag": found.etag,
    }


def head_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    found = describe(context.storage, p["Bucket"], p["Key"])
    _check_conditions(p, found.etag)
    if not p.get("@stream"):
        return {"ContentLength": found.size, "ETag": found.etag}
    out = _object_headers(found)
    out["ContentLength"] = found.size
    return {k: v for k, v in out.items() if v is not None}


def _user_metadata(request: Request) -> dict[str, str]:
    meta = request.get("Metadata")
    if not isinstance(meta, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in meta.items()}


def _content_type(request: Request) -> str:
    value = request.get("ContentType")
    return value if isinstance(value, str) and value else "binary/octet-stream"


def _check_md5(request: Request, md5_hex: str) -> None:
    given = request.get("ContentMD5")
    if not isinstance(given, str):
        return
    try:
        raw = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.") from None
    if len(raw) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if raw.hex() != md5_hex:
        raise AwsError("BadDigest", "The Content-MD5 you specified did not match what we received.")


def _place(storage: Storage, bucket: str, key: str, source: Path | bytes) -> Stat:
    """Put the object in place in one step (a rename of a staged file, or an atomic
    write); S3's folder-shaped keys end in ``/`` and are folders here."""
    uri = _uri(bucket, key)
    try:
        if key.endswith("/"):
            size = source.stat().st_size if isinstance(source, Path) else len(source)
            if size:
                raise AwsError(
                    "InvalidArgument",
                    f"key {key!r} ends in '/': lakebox keeps such keys as empty folders only",
                )
            storage.makedirs(uri)
            if isinstance(source, Path):
                source.unlink(missing_ok=True)
            return Stat(0, 0.0)
        if isinstance(source, Path):
            storage.move_in(uri, source)
        else:
            storage.write_bytes(uri, source)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        raise AwsError(
            "InvalidArgument",
            f"key {key!r} cannot be stored: lakebox keeps keys as files, and a key cannot be "
            "both an object and a prefix of other objects' folders ('a' and 'a/b')",
        ) from None
    st = _stat(storage, bucket, key)
    if st is None:
        raise AwsError("InternalError", f"{uri} was written but cannot be read back")
    return st


def put_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    storage = context.storage
    bucket, key = p["Bucket"], p["Key"]
    _uri(bucket, key)  # checked before anything is read or written
    body = p.get("Body", "")
    streamed = isinstance(body, StagedBody)
    if streamed:
        _check_bucket_exists(storage, bucket)
        md5_hex, size = body.md5, body.size
        if size > MAX_PUT_BYTES:
            raise AwsError(
                "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
            )
        source: Path | bytes = body.path
    else:
        if isinstance(body, bytes):
            data = body
        else:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        md5_hex, size, source = hashlib.md5(data).hexdigest(), len(data), data
    _check_md5(p, md5_hex)
    if p.get("IfNoneMatch") is not None or p.get("IfMatch") is not None:
        current = _stat(storage, bucket, key)
        if isinstance(p.get("IfNoneMatch"), str) and current is not None:
            raise AwsError(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            )
        if isinstance(p.get("IfMatch"), str):
            if current is None:
                raise _missing(bucket, key)
            if p["IfMatch"].strip() not in ("*", describe(storage, bucket, key).etag):
                raise AwsError(
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                )
    st = _place(storage, bucket, key, source)
    etag = _quoted(md5_hex)
    _remember(storage, bucket, key, st, etag, _content_type(p), _user_metadata(p))
    object_event(context, "ObjectCreated:Put", bucket, key, size=size, etag=etag)
    return {"ETag": etag}


def _copy_source(text: str) -> tuple[str, str]:
    source = unquote(text.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise AwsError("InvalidArgument", f"Invalid copy source: {text!r} (expected bucket/key)")
    return bucket, key


def copy_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key", "CopySource")
    storage = context.storage
    source_bucket, source_key = _copy_source(p["CopySource"])
    bucket, key = p["Bucket"], p["Key"]
    if p.get("@stream"):
        _check_bucket_exists(storage, bucket)
    found = describe(storage, source_bucket, source_key)
    replace = str(p.get("MetadataDirective") or "COPY").upper() == "REPLACE"
    if (source_bucket, source_key) == (bucket, key) and not replace:
        raise AwsError(
            INVALID,
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    content_type = _content_type(p) if replace else found.content_type
    metadata = _user_metadata(p) if replace else found.metadata
    fd, tmp = tempfile.mkstemp(prefix="copy-", dir=staging_dir(storage))
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out:
            for block in ObjectBody(
                storage, _uri(source_bucket, source_key), 0, found.size
            ).chunks():
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        st = _place(storage, bucket, key, Path(tmp))
    finally:
        Path(tmp).unlink(missing_ok=True)
    etag = found.etag if "-" in found.etag else _quoted(digest.hexdigest())
    _remember(storage, bucket, key, st, etag, content_type, metadata)
    object_event(context, "ObjectCreated:Copy", bucket, key, size=found.size, etag=etag)
    return {
        "CopyObjectResult": {
            "ETag": etag,
            "LastModified": datetime.fromtimestamp(int(st.mtime), UTC)
            if p.get("@stream")
            else datetime.fromtimestamp(int(st.mtime), UTC).isoformat(),
        }
    }


def _delete_one(context: S3Context, bucket: str, key: str) -> None:
    storage = context.storage
    uri = _uri(bucket, key)
    if _stat(storage, bucket, key) is not None:
        storage.delete(uri)
        _forget(storage, bucket, key)
        _prune(storage, bucket, key)
        object_event(context, "ObjectRemoved:Delete", bucket, key, size=None, etag=None)


def _prune(storage: Storage, bucket: str, key: str) -> None:
    """Remove the folders a deleted key leaves empty (S3 has no folders: ``a/`` stops
    being listed once ``a/b`` is gone), up to the bucket."""
    if storage.mode == "s3":
        return
    root = storage.local_path(f"s3://{bucket}/")
    path = storage.local_path(_uri(bucket, key))
    if root is None or path is None:
        return
    folder = path.parent
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def delete_object(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    if p.get("@stream"):
        _check_bucket_exists(context.storage, p["Bucket"])
    _delete_one(context, p["Bucket"], p["Key"])
    return {}


def delete_objects(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    bucket = p["Bucket"]
    _check_bucket_exists(context.storage, bucket)
    spec = p.get("Delete") if isinstance(p.get("Delete"), dict) else {}
    assert isinstance(spec, dict)
    objects = spec.get("Objects") or []
    if not objects:
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    if len(objects) > 1000:
        raise AwsError("MalformedXML", "a DeleteObjects request names at most 1000 keys")
    deleted: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for item in objects:
        key = item.get("Key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            errors.append({"Key": "", "Code": "InvalidArgument", "Message": "a Key is required"})
            continue
        try:
            _delete_one(context, bucket, key)
        except LakeboxError as exc:
            code = exc.code if isinstance(exc, AwsError) else error_code(exc)
            errors.append({"Key": key, "Code": code, "Message": str(exc)})
            continue
        deleted.append({"Key": key})
    out: Response = {"Errors": errors} if errors else {}
    if not spec.get("Quiet") and deleted:
        out["Deleted"] = deleted
    return out


# -- listings ------------------------------------------------------------------------------


def _token(after: str) -> str:
    return base64.urlsafe_b64encode(after.encode("utf-8", "surrogatepass")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError):
        raise AwsError("InvalidArgument", "The continuation token provided is incorrect") from None


def _max_keys(request: Request, name: str = "MaxKeys") -> int:
    value = request.get(name, 1000)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AwsError("InvalidArgument", f"{name} must be a non-negative integer")
    return min(value, 1000)


def _entries(context: S3Context, bucket: str, prefix: str, after: str) -> Iterator[tuple[str, Any]]:
    storage = context.storage
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    base = f"s3://{bucket}/"
    location = _uri(bucket, folder)  # a prefix that would climb out is refused here
    try:
        found = storage.list_files(location, include_hidden=True)
    except InvalidLocationError:
        return  # a folder that is a link leading out of the lake holds no object
    for info in found:
        key = info.uri[len(base) :] if info.uri.startswith(base) else ""
        if key and key.startswith(prefix) and key > after:
            yield key, info


def _list(
    request: Request, context: S3Context, after: str, max_keys: int
) -> tuple[list[dict[str, Any]], list[str], bool, str]:
    """(objects, common prefixes, truncated, the last key or prefix returned)."""
    p = request
    bucket = p["Bucket"]
    storage = context.storage
    if p.get("@stream"):
        _check_bucket_exists(storage, bucket)
    prefix = str(p.get("Prefix") or "")
    delimiter = str(p.get("Delimiter") or "")
    contents: list[dict[str, Any]] = []
    prefixes: list[str] = []
    last = ""
    truncated = False
    count = 0
    for key, info in _entries(context, bucket, prefix, after):
        if prefixes and key.startswith(prefixes[-1]):
            continue  # inside the common prefix just rolled up
        rolled = ""
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                rolled = key[: at + len(delimiter)]
        if count >= max_keys:
            truncated = True
            break
        count += 1
        if rolled:
            prefixes.append(rolled)
            last = rolled
            continue
        st = Stat(info.size, info.mtime)
        doc = _record(storage, bucket, key, st)
        etag = str(doc["etag"]) if doc else ""
        if not etag and info.size <= LIST_ETAG_BYTES:
            etag = describe(storage, bucket, key, etag_limit=LIST_ETAG_BYTES).etag
        entry: dict[str, Any] = {
            "Key": key,
            "LastModified": datetime.fromtimestamp(int(info.mtime), UTC),
            "Size": info.size,
            "StorageClass": "STANDARD",
        }
        if etag:
            entry["ETag"] = etag
        contents.append(entry)
        last = key
    return contents, prefixes, truncated, last


def _after_rolled(last: str, delimiter: str) -> str:
    """The listing position after ``last``: past every key under it when it is a common
    prefix (ending in the delimiter)."""
    if delimiter and last.endswith(delimiter):
        return last + "\U0010ffff"
    return last


def _encode_keys(
    request: Request, out: Response, contents: list[dict[str, Any]], prefixes: list[str]
) -> None:
    from urllib.parse import quote

    if str(request.get("EncodingType") or "") != "url":
        return
    for entry in contents:
        entry["Key"] = quote(entry["Key"], safe="/")
    out["CommonPrefixes"] = [{"Prefix": quote(x, safe="/")} for x in prefixes] or None
    for name in ("Prefix", "Delimiter", "StartAfter", "Marker", "NextMarker"):
        if isinstance(out.get(name), str) and out[name]:
            out[name] = quote(out[name], safe="/")
    out["EncodingType"] = "url"


def list_objects_v2(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    max_keys = _max_keys(p)
    token = p.get("ContinuationToken")
    delimiter = str(p.get("Delimiter") or "")
    after = str(p.get("StartAfter") or "")
    if isinstance(token, str) and token:
        after = max(after, _after_rolled(_untoken(token), delimiter))
    contents, prefixes, truncated, last = _list(p, context, after, max_keys)
    stream = bool(p.get("@stream"))
    if not stream:
        for entry in contents:
            entry["LastModified"] = entry["LastModified"].isoformat()
    out: Response = {
        "Contents": contents,
        "CommonPrefixes": [{"Prefix": x} for x in prefixes] or None,
        "KeyCount": len(contents) + len(prefixes),
        "IsTruncated": truncated,
        "MaxKeys": max_keys,
        "Name": p["Bucket"],
        "Prefix": str(p.get("Prefix") or ""),
        "Delimiter": delimiter or None,
        "StartAfter": p.get("StartAfter") or None,
        "ContinuationToken": token or None,
        "NextContinuationToken": _token(last) if truncated else None,
    }
    _encode_keys(p, out, contents, prefixes)
    if not stream:
        out = {k: v for k, v in out.items() if v is not None}
    return out


def list_objects(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    max_keys = _max_keys(p)
    marker = str(p.get("Marker") or "")
    delimiter = str(p.get("Delimiter") or "")
    contents, prefixes, truncated, last = _list(
        p, context, _after_rolled(marker, delimiter), max_keys
    )
    out: Response = {
        "Contents": contents,
        "CommonPrefixes": [{"Prefix": x} for x in prefixes] or None,
        "IsTruncated": truncated,
        "MaxKeys": max_keys,
        "Name": p["Bucket"],
        "Prefix": str(p.get("Prefix") or ""),
        "Marker": marker,
        "Delimiter": delimiter or None,
        # S3 gives NextMarker only with a delimiter; clients use the last key otherwise
        "NextMarker": last if truncated and delimiter else None,
    }
    _encode_keys(p, out, contents, prefixes)
    return out


# -- multipart uploads ---------------------------------------------------------------------


def _uploads(storage: Storage) -> Path:
    return s3_area(storage) / "uploads"


def _upload(storage: Storage, request: Request) -> tuple[Path, dict[str, Any]]:
    upload_id = request.get("UploadId")
    missing = AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
    )
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise missing
    folder = _uploads(storage) / upload_id
    doc = _read_json(folder / "upload.json")
    if (
        doc is None
        or doc.get("bucket") != request.get("Bucket")
        or doc.get("key") != request.get("Key")
    ):
        raise missing
    return folder, doc


def create_multipart_upload(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    storage = context.storage
    bucket, key = p["Bucket"], p["Key"]
    _uri(bucket, key)
    _check_bucket_exists(storage, bucket)
    upload_id = secrets.token_hex(20)
    folder = _uploads(storage) / upload_id
    folder.mkdir(parents=True)
    _write_json(
        folder / "upload.json",
        {
            "bucket": bucket,
            "key": key,
            "initiated": datetime.now(UTC).timestamp(),
            "content_type": _content_type(p),
            "metadata": _user_metadata(p),
            "initiator": context.principal.arn,
        },
    )
    return {"Bucket": bucket, "Key": key, "UploadId": upload_id}


def _part_number(request: Request) -> int:
    number = request.get("PartNumber")
    if (
        isinstance(number, bool)
        or not isinstance(number, int)
        or not 1 <= number <= MAX_PART_NUMBER
    ):
        raise AwsError(
            "InvalidArgument",
            f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
        )
    return number


def upload_part(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    storage = context.storage
    folder, _doc = _upload(storage, p)
    number = _part_number(p)
    body = p.get("Body", b"")
    if isinstance(body, StagedBody):
        md5_hex, size = body.md5, body.size
        _check_md5(p, md5_hex)
        os.replace(body.path, folder / f"part-{number:05d}")
    else:
        data = body if isinstance(body, bytes) else str(body).encode()
        md5_hex, size = hashlib.md5(data).hexdigest(), len(data)
        _check_md5(p, md5_hex)
        (folder / f"part-{number:05d}").write_bytes(data)
    _write_json(
        folder / f"part-{number:05d}.json",
        {"etag": _quoted(md5_hex), "size": size, "modified": datetime.now(UTC).timestamp()},
    )
    return {"ETag": _quoted(md5_hex)}


def _parts(folder: Path) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for entry in folder.glob("part-*.json"):
        doc = _read_json(entry)
        number = entry.name[5:10]
        if doc is not None and number.isdigit() and (folder / entry.stem).is_file():
            found[int(number)] = doc
    return found


def complete_multipart_upload(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    storage = context.storage
    bucket, key = p["Bucket"], p["Key"]
    folder, doc = _upload(storage, p)
    spec = p.get("MultipartUpload") if isinstance(p.get("MultipartUpload"), dict) else {}
    assert isinstance(spec, dict)
    asked = spec.get("Parts") or []
    if not asked:
        raise AwsError("MalformedXML", "You must specify at least one part")
    stored = _parts(folder)
    previous = 0
    chosen: list[tuple[int, dict[str, Any]]] = []
    for item in asked:
        number = item.get("PartNumber") if isinstance(item, dict) else None
        if not isinstance(number, int) or number <= previous:
            raise AwsError(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
        previous = number
        part = stored.get(number)
        etag = str(item.get("ETag") or "").strip().strip('"')
        if part is None or etag != str(part["etag"]).strip('"'):
            raise AwsError(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity tag.",
            )
        chosen.append((number, part))
    for number, part in chosen[:-1]:
        if int(part["size"]) < MIN_PART_BYTES:
            raise AwsError(
                "EntityTooSmall",
                f"Your proposed upload is smaller than the minimum allowed size (part {number} "
                f"has {part['size']} bytes; every part but the last needs {MIN_PART_BYTES})",
            )
    fd, tmp = tempfile.mkstemp(prefix="complete-", dir=staging_dir(storage))
    md5s = b""
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for number, part in chosen:
                with open(folder / f"part-{number:05d}", "rb") as fh:
                    shutil.copyfileobj(fh, out, 1024 * 1024)
                md5s += bytes.fromhex(str(part["etag"]).strip('"'))
                size += int(part["size"])
            out.flush()
            os.fsync(out.fileno())
        st = _place(storage, bucket, key, Path(tmp))
    finally:
        Path(tmp).unlink(missing_ok=True)
    etag = _quoted(f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}")
    _remember(
        storage,
        bucket,
        key,
        st,
        etag,
        str(doc.get("content_type") or "binary/octet-stream"),
        dict(doc.get("metadata") or {}),
    )
    shutil.rmtree(folder, ignore_errors=True)
    object_event(
        context, "ObjectCreated:CompleteMultipartUpload", bucket, key, size=size, etag=etag
    )
    return {"Bucket": bucket, "Key": key, "ETag": etag, "Location": f"/{bucket}/{key}"}


def abort_multipart_upload(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    folder, _doc = _upload(context.storage, p)
    shutil.rmtree(folder, ignore_errors=True)
    return {}


def list_parts(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket", "Key")
    folder, doc = _upload(context.storage, p)
    max_parts = _max_keys(p, "MaxParts")
    marker = p.get("PartNumberMarker") or 0
    marker = int(marker) if str(marker).isdigit() else 0
    parts = [
        {
            "PartNumber": n,
            "ETag": part["etag"],
            "Size": int(part["size"]),
            "LastModified": datetime.fromtimestamp(float(part.get("modified", 0)), UTC),
        }
        for n, part in sorted(_parts(folder).items())
        if n > marker
    ]
    page = parts[:max_parts]
    return {
        "Bucket": p["Bucket"],
        "Key": p["Key"],
        "UploadId": p["UploadId"],
        "PartNumberMarker": marker,
        "NextPartNumberMarker": page[-1]["PartNumber"] if page else None,
        "MaxParts": max_parts,
        "IsTruncated": len(parts) > max_parts,
        "Parts": page,
        "StorageClass": "STANDARD",
        "Initiator": {"ID": doc.get("initiator", ""), "DisplayName": doc.get("initiator", "")},
        "Owner": _owner(context),
    }


def list_multipart_uploads(request: Request, context: S3Context) -> Response:
    p = _need(request, "Bucket")
    storage = context.storage
    bucket = p["Bucket"]
    _check_bucket_exists(storage, bucket)
    prefix = str(p.get("Prefix") or "")
    max_uploads = _max_keys(p, "MaxUploads")
    found: list[dict[str, Any]] = []
    root = _uploads(storage)
    if root.is_dir():
        for entry in os.scandir(root):
            doc = _read_json(Path(entry.path) / "upload.json")
            if (
                doc is None
                or doc.get("bucket") != bucket
                or not str(doc.get("key", "")).startswith(prefix)
            ):
                continue
            found.append(
                {
                    "UploadId": entry.name,
                    "Key": doc["key"],
                    "Initiated": datetime.fromtimestamp(float(doc.get("initiated", 0)), UTC),
                    "StorageClass": "STANDARD",
                    "Initiator": {
                        "ID": doc.get("initiator", ""),
                        "DisplayName": doc.get("initiator", ""),
                    },
                    "Owner": _owner(context),
                }
            )
    found.sort(key=lambda u: (u["Key"], u["Initiated"]))
    return {
        "Bucket": bucket,
        "Prefix": prefix,
        "MaxUploads": max_uploads,
        "IsTruncated": len(found) > max_uploads,
        "Uploads": found[:max_uploads],
    }


# -- ownership: the lake's buckets belong to the lake's account ------------------------------


def _foreign(context: Any) -> bool:
    """Whether the caller is a principal of another account than the lake's (lakebox has
    no bucket policies: such a principal reaches no bucket, whatever its own policies
    allow, as in AWS without a bucket policy granting it)."""
    principal = getattr(context, "principal", None)
    storage = getattr(context, "storage", None)
    if principal is None or principal.is_local_admin or storage is None:
        return False
    return str(principal.account_id) != str(storage.config.account_id)


def _owned(handler: Any) -> Any:
    def checked(request: Request, context: Any) -> Response:
        if _foreign(context):
            if handler is list_buckets:
                return {"Buckets": [], "Owner": _owner(context)}
            raise AwsError(
                "AccessDenied",
                f"Access Denied: {context.principal.arn} is not of account "
                f"{context.storage.config.account_id}, which owns this lake's buckets",
            )
        result: Response = handler(request, context)
        return result

    checked.__name__ = checked.__qualname__ = getattr(handler, "__name__", "handler")
    checked.__doc__ = handler.__doc__
    return checked


# -- authorization: IAM's S3 actions on S3's resource ARNs ------------------------------------


def _none(request: Request, context: Any) -> Sequence[str]:
    return []


def _object_arn(request: Request) -> str:
    bucket, key = _text(request, "Bucket") or "*", _text(request, "Key") or "*"
    return f"arn:aws:s3:::{bucket}/{key}"


def _bucket_arn(request: Request) -> str:
    return f"arn:aws:s3:::{_text(request, 'Bucket') or '*'}"


def _on_object(action: str) -> Any:
    def checks(request: Request, context: Any) -> Sequence[tuple[str, str]]:
        return [(action, _object_arn(request))]

    return checks


def _on_bucket(action: str) -> Any:
    def checks(request: Request, context: Any) -> Sequence[tuple[str, str]]:
        return [(action, _bucket_arn(request))]

    return checks


def _on_all(action: str) -> Any:
    def checks(request: Request, context: Any) -> Sequence[tuple[str, str]]:
        return [(action, "*")]

    return checks


def _copy_checks(request: Request, context: Any) -> Sequence[tuple[str, str]]:
    source = (_text(request, "CopySource") or "*/*").split("?", 1)[0]
    source = unquote(source).lstrip("/")
    return [("s3:GetObject", f"arn:aws:s3:::{source}"), ("s3:PutObject", _object_arn(request))]


def _delete_checks(request: Request, context: Any) -> Sequence[tuple[str, str]]:
    bucket = _text(request, "Bucket") or "*"
    spec = request.get("Delete") if isinstance(request.get("Delete"), dict) else {}
    keys = [
        o.get("Key")
        for o in (spec or {}).get("Objects") or []
        if isinstance(o, dict) and isinstance(o.get("Key"), str)
    ]
    return [("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{k}") for k in keys] or [
        ("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*")
    ]


API = ServiceApi(
    "S3",
    operations(
        ("ListBuckets", _owned(list_buckets), _none, _on_all("s3:ListAllMyBuckets")),
        ("CreateBucket", _owned(create_bucket), _none, _on_bucket("s3:CreateBucket")),
        ("HeadBucket", _owned(head_bucket), _none, _on_bucket("s3:ListBucket")),
        ("DeleteBucket", _owned(delete_bucket), _none, _on_bucket("s3:DeleteBucket")),
        (
            "GetBucketLocation",
            _owned(get_bucket_location),
            _none,
            _on_bucket("s3:GetBucketLocation"),
        ),
        (
            "PutBucketNotificationConfiguration",
            _owned(put_bucket_notification_configuration),
            _none,
            _on_bucket("s3:PutBucketNotification"),
        ),
        (
            "GetBucketNotificationConfiguration",
            _owned(get_bucket_notification_configuration),
            _none,
            _on_bucket("s3:GetBucketNotification"),
        ),
        ("GetObject", _owned(get_object), _none, _on_object("s3:GetObject")),
        ("HeadObject", _owned(head_object), _none, _on_object("s3:GetObject")),
        ("PutObject", _owned(put_object), _none, _on_object("s3:PutObject")),
        ("CopyObject", _owned(copy_object), _none, _copy_checks),
        ("DeleteObject", _owned(delete_object), _none, _on_object("s3:DeleteObject")),
        ("DeleteObjects", _owned(delete_objects), _none, _delete_checks),
        ("ListObjectsV2", _owned(list_objects_v2), _none, _on_bucket("s3:ListBucket")),
        ("ListObjects", _owned(list_objects), _none, _on_bucket("s3:ListBucket")),
        (
            "CreateMultipartUpload",
            _owned(create_multipart_upload),
            _none,
            _on_object("s3:PutObject"),
        ),
        ("UploadPart", _owned(upload_part), _none, _on_object("s3:PutObject")),
        (
            "CompleteMultipartUpload",
            _owned(complete_multipart_upload),
            _none,
            _on_object("s3:PutObject"),
        ),
        (
            "AbortMultipartUpload",
            _owned(abort_multipart_upload),
            _none,
            _on_object("s3:AbortMultipartUpload"),
        ),
        ("ListParts", _owned(list_parts), _none, _on_object("s3:ListMultipartUploadParts")),
        (
            "ListMultipartUploads",
            _owned(list_multipart_uploads),
            _none,
            _on_bucket("s3:ListBucketMultipartUploads"),
        ),
    ),
    error_code,
    INVALID,
    prefix="s3",
    denied="AccessDenied",
)

__all__ = ["API", "ObjectBody", "StagedBody"]
