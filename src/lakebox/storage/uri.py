"""Parsing of the locations lakebox accepts: ``s3://bucket/key``, ``s3a://``/``s3n://``
(Hadoop spellings Athena accepts), ``file://`` URIs and plain paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lakebox.errors import InvalidRequestError

S3_SCHEMES = ("s3", "s3a", "s3n")


@dataclass(frozen=True)
class ObjectURI:
    """``scheme`` is ``s3`` or ``file``; for ``file`` the bucket is empty and ``key`` is
    an absolute path."""

    scheme: str
    bucket: str
    key: str

    @property
    def is_s3(self) -> bool:
        return self.scheme == "s3"

    def __str__(self) -> str:
        if self.is_s3:
            return f"s3://{self.bucket}/{self.key}"
        return f"file://{self.key}"

    def child(self, name: str) -> ObjectURI:
        base = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        return ObjectURI(self.scheme, self.bucket, base + name.lstrip("/"))

    def as_prefix(self) -> ObjectURI:
        if self.key and not self.key.endswith("/"):
            return ObjectURI(self.scheme, self.bucket, self.key + "/")
        return self


def parse_uri(location: str) -> ObjectURI:
    text = location.strip()
    if not text:
        raise InvalidRequestError("empty location: expected s3://bucket/key or a path")
    scheme, sep, rest = text.partition("://")
    if not sep:
        return ObjectURI(
            "file", "", str(Path(text).expanduser().resolve()) + ("/" if text.endswith("/") else "")
        )
    scheme = scheme.lower()
    if scheme in S3_SCHEMES:
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise InvalidRequestError(f"location {location!r} has no bucket name")
        return ObjectURI("s3", bucket, key)
    if scheme == "file":
        path = unquote(rest)
        if not path.startswith("/"):
            raise InvalidRequestError(f"file URI {location!r} must hold an absolute path")
        return ObjectURI("file", "", path)
    raise InvalidRequestError(
        f"unsupported location scheme {scheme!r} in {location!r}: use s3://, file:// or a path"
    )


def join_uri(base: str, *parts: str) -> str:
    uri = parse_uri(base)
    for part in parts:
        uri = uri.child(part)
    return str(uri)
