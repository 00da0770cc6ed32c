"""S3 mode for the formats Spark's executors read and write with the DuckDB engine's own
readers and writers (``python_readers``, ``write``): those open local files, so an
executor task copies each ``s3://`` object it reads to a private temporary file (streamed
to disk, deleted once read), and writes each file it makes to a local temporary file that
it then uploads to its staging key, where the commit moves it as any staged file.

The executors reach S3 with boto3 and what ``ExecutorS3`` carries in the task's closure:
the lake's endpoint (path-style addressing, as S3A is set up), region and credentials,
resolved on the driver as ``s3a.hadoop_settings`` resolves them for S3A. S3 refusing a
request is a ``StorageError`` naming the object by its ``s3://`` URI.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakebox.errors import StorageError
from lakebox.formats.base import DataFile

if TYPE_CHECKING:
    from lakebox.storage import Storage


@dataclass(frozen=True)
class ExecutorS3:
    """How an executor reaches the lake's S3 (pickled into the tasks' closures)."""

    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None
    session_token: str | None

    @classmethod
    def for_storage(cls, storage: Storage | None) -> ExecutorS3 | None:
        """The settings for a lake in S3 mode (credentials resolved now, on the driver,
        as for S3A), or None for a local lake."""
        if storage is None or storage.mode != "s3":
            return None
        s3 = storage.config.s3
        key, secret, token = s3.credentials()
        region = s3.region or _resolved_region(s3.profile)
        return cls(s3.endpoint_url, region, key, secret, token)

    def __repr__(self) -> str:  # no secrets in logs or tracebacks
        return f"ExecutorS3(endpoint_url={self.endpoint_url!r}, region={self.region!r})"

    def client(self) -> Any:
        """A boto3 S3 client for these settings, one per process (boto3's clients are
        thread-safe): a task does not pay a client per file."""
        return _client(self)

    def download(self, client: Any, uri: str, path: str) -> None:
        """The object at ``uri`` (``s3://bucket/key``) streamed into the local ``path``."""
        bucket, key = _split(uri)
        try:
            client.download_file(bucket, key, path)
        except Exception as err:
            raise _refused(err, "read", uri) from None

    def upload(self, client: Any, path: str, uri: str) -> None:
        """The local file ``path`` put at ``uri`` (``s3://bucket/key``)."""
        bucket, key = _split(uri)
        try:
            client.upload_file(path, bucket, key)
        except Exception as err:
            raise _refused(err, "write", uri) from None


@contextmanager
def local_copies(s3: ExecutorS3 | None) -> Iterator[Any]:
    """A function giving each file as a local file: an ``s3://`` one copied into a
    private temporary folder (the copy deleted when the next file is asked for, and the
    folder when the block ends), a local one as it is."""
    if s3 is None:
        yield lambda f: f
        return
    client = s3.client()
    with tempfile.TemporaryDirectory(prefix="lakebox-s3-read-") as folder:
        held: list[str] = []

        def local(f: DataFile) -> DataFile:
            for old in held:
                _remove(old)
            held.clear()
            if not f.engine_path.startswith("s3://"):
                return f
            # the object's own name: its extension says its compression to the readers
            path = os.path.join(folder, f.engine_path.rsplit("/", 1)[-1] or "object")
            held.append(path)
            s3.download(client, f.engine_path, path)
            return f._replace(engine_path=path)

        yield local


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _refused(err: Exception, action: str, uri: str) -> StorageError:
    """S3's answer to an executor's request, in lakebox's words."""
    found: BaseException | None = err
    while found is not None and not isinstance(getattr(found, "response", None), dict):
        # boto3's transfer errors (S3UploadFailedError) wrap S3's answer (a ClientError)
        found = found.__cause__ or found.__context__
    response = getattr(found, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code") or "error"
        advice = (
            ": check the lake's S3 credentials and what they allow"
            if status in (401, 403) or code in ("403", "401", "AccessDenied")
            else ""
        )
        answer = f"{status} {code}" if status and str(status) != code else str(code)
        return StorageError(f"S3 refused the executor's {action} of {uri}: {answer}{advice}")
    first = str(err).split("\n", 1)[0][:300]
    if "AccessDenied" in first or "Forbidden" in first or "(403)" in first:
        return StorageError(
            f"S3 refused the executor's {action} of {uri}: {first}: check the lake's S3 "
            "credentials and what they allow"
        )
    return StorageError(
        f"the executor cannot {action} {uri} in S3: {first}; check the lake's S3 endpoint "
        "(LAKEBOX_S3_ENDPOINT)"
    )


def _resolved_region(profile: str | None) -> str | None:
    import botocore.session

    try:
        region = botocore.session.Session(profile=profile).get_config_variable("region")
    except Exception:  # an unknown profile: the executors' boto3 resolves its own
        return None
    return str(region) if region else None


@functools.lru_cache(maxsize=4)
def _client(s3: ExecutorS3) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"} if s3.endpoint_url else {},
        retries={"max_attempts": 5, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=s3.endpoint_url,
        region_name=s3.region,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        aws_session_token=s3.session_token,
        config=config,
    )
