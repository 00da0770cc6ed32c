"""One canonical spelling of a location, for every access check.

Lake Formation's registered locations, its DATA_LOCATION_ACCESS grants and IAM's S3
resources are all written ``s3://bucket/key`` (``arn:aws:s3:::bucket/key``). A location
that a caller names in a table, a partition, a template or a manifest may be spelled
otherwise and still reach the same objects: ``s3a://`` / ``s3n://`` / ``S3://``, leading or
trailing blanks, a local path or ``file://`` URI into one of the lake's bucket folders (in
local storage mode a bucket is a folder of the lake's home). ``lake_uri`` turns each of
these into the ``s3://`` URI it reaches, so no check can be named around; anything else
(a folder outside the lake's buckets) is returned as a ``file://`` URI, and an unparsable
location is returned as given (the statement itself reports it).
"""

from __future__ import annotations

import os
from typing import Any

from lakebox.errors import LakeboxError
from lakebox.storage.uri import parse_uri


def lake_uri(location: str, config: Any = None) -> str:
    """``location`` in its canonical form (see the module docstring). ``config`` is the
    lake's ``LakeConfig`` (its ``home`` and ``storage`` mode), or None to canonicalise the
    ``s3`` spellings only."""
    try:
        uri = parse_uri(location)
    except LakeboxError:
        return location
    if uri.is_s3:
        return f"s3://{uri.bucket}/{uri.key}"
    if config is None or getattr(config, "storage", "local") == "s3":
        return str(uri)
    home = os.path.realpath(config.home)
    real = os.path.realpath(uri.key)
    if not real.startswith(home + os.sep):
        return f"file://{real}" + ("/" if uri.key.endswith("/") else "")
    bucket, _, key = real[len(home) + 1 :].partition(os.sep)
    key = key.replace(os.sep, "/")
    if key and uri.key.endswith("/"):
        key += "/"
    return f"s3://{bucket}/{key}"


def is_s3(location: str) -> bool:
    """Whether a canonical location (``lake_uri``) names an S3 object or prefix of a
    valid bucket (``s3://`` alone, or a bucket spelled with a template's ``${``, is not
    one: no check could name what it reaches)."""
    if not location.startswith("s3://"):
        return False
    try:
        return parse_uri(location).is_s3
    except LakeboxError:
        return False


def template_prefix(template: str) -> str:
    """The fixed part of a partition projection ``storage.location.template``: what comes
    before its first ``${`` (the folder every projected partition lies under)."""
    fixed = template.split("${", 1)[0]
    if "/" in fixed and not fixed.endswith("/"):
        fixed = fixed[: fixed.rindex("/") + 1]
    return fixed


__all__ = ["is_s3", "lake_uri", "template_prefix"]
