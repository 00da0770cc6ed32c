"""Parsing and checking of the locations lakebox accepts: ``s3://bucket/key``,
``s3a://``/``s3n://`` (Hadoop spellings Athena accepts), ``file://`` URIs and plain paths.

This module is the first half of the storage boundary (the second half, which knows the
lake's folders, is ``Storage.resolve``): every ``s3://`` location is checked here before
anything is opened, listed, written or deleted.

- Bucket names follow S3's naming rules for general purpose buckets (lowercase letters,
  digits, ``.`` and ``-``; begin and end with a letter or digit; no ``..``; not shaped like
  an IP address; at most 63 characters). lakebox accepts names shorter than S3's minimum
  of 3 characters in local mode (see docs/differences.md); underscores, which S3 refuses,
  are refused, so the metadata folder ``_lakebox`` can never be named as a bucket.
- Keys are refused when a path segment would climb out of the bucket or resolve to another
  key on a file system: ``..`` and ``.`` segments, empty segments (``a//b``, a leading
  ``/``), backslashes, NUL and other control characters. S3 itself accepts such keys;
  lakebox refuses them on purpose, in both storage modes, so a lake behaves the same
  whether its buckets are folders or S3 buckets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lakebox.errors import InvalidLocationError, InvalidRequestError

S3_SCHEMES = ("s3", "s3a", "s3n")

#: S3's general purpose bucket rules, less the 3-character minimum (checked in S3 mode)
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?")
_IP_SHAPED = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
#: ``amzn-s3-demo-`` is reserved by S3 too, for its documentation's examples, which lakebox
#: runs unchanged: that prefix stays allowed
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: a NUL or another C0 control character, or DEL: no file system stores them faithfully
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_KEY_BYTES = 1024


def check_bucket(name: str, where: str = "") -> str:
    """``name`` if it is a bucket name lakebox accepts; else InvalidLocationError."""
    problem = bucket_problem(name)
    if problem:
        raise InvalidLocationError(
            f"invalid bucket name {name!r}{_at(where)}: {problem}",
            s3_code="InvalidBucketName",
        )
    return name


def bucket_problem(name: str) -> str:
    """Why ``name`` is not an acceptable bucket name, or "" when it is."""
    if not name:
        return "a bucket name cannot be empty"
    if len(name) > 63:
        return "bucket names are at most 63 characters long"
    if not _BUCKET.fullmatch(name):
        return (
            "bucket names use only lowercase letters, digits, '.' and '-', and begin and "
            "end with a letter or digit (S3's naming rules)"
        )
    if ".." in name:
        return "bucket names cannot contain two adjacent periods"
    if _IP_SHAPED.fullmatch(name):
        return "bucket names cannot be formatted as an IP address"
    if name.startswith(_RESERVED_BUCKET_PREFIXES) or name.endswith(_RESERVED_BUCKET_SUFFIXES):
        return "this prefix or suffix is reserved by S3"
    return ""


def check_key(key: str, where: str = "") -> str:
    """``key`` if no segment of it climbs out of its bucket; else InvalidLocationError."""
    problem = key_problem(key)
    if problem:
        raise InvalidLocationError(
            f"refused key {key!r}{_at(where)}: {problem}", s3_code="InvalidArgument"
        )
    return key


def key_problem(key: str) -> str:
    """Why ``key`` is refused, or "" when it is fine. A trailing ``/`` (a folder) is fine."""
    if not key:
        return ""
    if "\\" in key:
        return "backslashes are not allowed in keys (lakebox refuses them on purpose)"
    if _CONTROL.search(key):
        return "control characters (NUL, tab, newline, ...) are not allowed in keys"
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"keys are at most {MAX_KEY_BYTES} bytes long"
    if key.startswith("/"):
        return "a key cannot start with '/' (it would be an absolute path)"
    parts = key.split("/")
    if parts[-1] == "":
        parts.pop()  # a folder
    for part in parts:
        if part in ("..", "."):
            return (
                f"a '{part}' path segment would leave the bucket (lakebox refuses them on purpose)"
            )
        if part == "":
            return "empty path segments ('//') are not allowed in keys"
    return ""


def _at(where: str) -> str:
    return f" in {where}" if where else ""


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
        key = base + name.lstrip("/")
        if self.is_s3:
            check_key(key)
        else:
            _check_file_path(key)
        return ObjectURI(self.scheme, self.bucket, key)

    def as_prefix(self) -> ObjectURI:
        if self.key and not self.key.endswith("/"):
            return ObjectURI(self.scheme, self.bucket, self.key + "/")
        return self


def parse_uri(location: str) -> ObjectURI:
    """The location as an ObjectURI, with its bucket and key checked (see the module
    docstring). Whether a ``file://`` path may be used is the lake's decision
    (``Storage.resolve``)."""
    if not isinstance(location, str):
        raise InvalidRequestError(f"a location must be a string, not {type(location).__name__}")
    text = location.strip()
    if not text:
        raise InvalidRequestError("empty location: expected s3://bucket/key or a path")
    scheme, sep, rest = text.partition("://")
    if not sep:
        if _CONTROL.search(text):
            raise InvalidLocationError(f"refused path {text!r}: control characters")
        return ObjectURI(
            "file", "", str(Path(text).expanduser().resolve()) + ("/" if text.endswith("/") else "")
        )
    scheme = scheme.lower()
    if scheme in S3_SCHEMES:
        bucket, _, key = rest.partition("/")
        if not bucket:
            raise InvalidRequestError(f"location {location!r} has no bucket name")
        check_bucket(bucket, location)
        check_key(key, location)
        return ObjectURI("s3", bucket, key)
    if scheme == "file":
        path = unquote(rest)
        if not path.startswith("/"):
            raise InvalidRequestError(f"file URI {location!r} must hold an absolute path")
        _check_file_path(path, location)
        return ObjectURI("file", "", path)
    raise InvalidRequestError(
        f"unsupported location scheme {scheme!r} in {location!r}: use s3://, file:// or a path"
    )


def _check_file_path(path: str, where: str = "") -> None:
    problem = key_problem(path.lstrip("/")) if path.startswith("/") else "not an absolute path"
    if problem:
        raise InvalidLocationError(f"refused path {path!r}{_at(where)}: {problem}")


def object_uri(bucket: str, key: str) -> str:
    """``s3://bucket/key`` from an API's separate Bucket and Key members, both checked
    (a Bucket holding ``/`` must not shift part of itself into the key)."""
    check_bucket(bucket)
    check_key(key)
    return f"s3://{bucket}/{key}"


def join_uri(base: str, *parts: str) -> str:
    uri = parse_uri(base)
    for part in parts:
        uri = uri.child(part)
    return str(uri)
