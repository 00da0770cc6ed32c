"""The lakebox exception hierarchy.

One root, ``LakeboxError``; every error a user can cause derives from it and carries a
message that says what went wrong and, where it helps, what to do. The CLI prints these
without a traceback. ``transient`` marks errors worth retrying (workflow Retry, clients).
"""

from __future__ import annotations

import errno
import os


class LakeboxError(Exception):
    """Root of every error lakebox raises on purpose."""

    #: Athena / Glue style error code, used by API shells and workflow error names.
    code: str = "InternalServerException"
    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidRequestError(LakeboxError):
    """The request is well formed but not valid (bad property, wrong argument, ...)."""

    code = "InvalidRequestException"


class InvalidLocationError(InvalidRequestError):
    """A location refused by the storage boundary: a bad bucket name, a key that would
    climb out of its bucket, a path outside the lake or inside its metadata. ``s3_code`` is
    the error S3's API gives for it (``InvalidBucketName``, ``InvalidArgument``,
    ``AccessDenied``), used where lakebox answers as S3."""

    def __init__(self, message: str, s3_code: str = "AccessDenied") -> None:
        super().__init__(message)
        self.s3_code = s3_code


class SqlSyntaxError(InvalidRequestError):
    """A statement does not parse; ``line`` / ``column`` are 1-based when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        where = f"line {line}:{column}: " if line is not None and column is not None else ""
        super().__init__(f"{where}{message}")
        self.line = line
        self.column = column


class SemanticError(InvalidRequestError):
    """The statement parses but refers to something wrong (unknown column, bad type)."""


class UnsupportedError(InvalidRequestError):
    """Valid for AWS, not (yet) supported by lakebox; the message says what is missing."""


class EntityNotFoundError(LakeboxError):
    code = "EntityNotFoundException"


class AlreadyExistsError(LakeboxError):
    code = "AlreadyExistsException"


class ConcurrentModificationError(LakeboxError):
    """Someone else changed the same entity first; retrying is safe."""

    code = "ConcurrentModificationException"
    transient = True


class DataError(LakeboxError):
    """A data file could not be read; names the file and, for line formats, the line."""

    code = "HIVE_BAD_DATA"

    def __init__(self, message: str, uri: str | None = None, line: int | None = None) -> None:
        parts = [message]
        if uri:
            parts.append(f"file {uri}" + (f", line {line}" if line is not None else ""))
        super().__init__(" — ".join(parts) if uri else message)
        self.uri = uri
        self.line = line


class ResourceLimitError(LakeboxError):
    """The query needed more memory than the engine may use (``LAKEBOX_MEMORY_LIMIT``,
    Spark's heap); Athena fails such a query with ``EXCEEDED_LOCAL_MEMORY_LIMIT``."""


class StorageError(LakeboxError):
    code = "StorageException"


class ConfigError(LakeboxError):
    code = "ConfigurationException"


class LakeNotFoundError(ConfigError):
    """The lake home has no lake, and the command may not create one."""

    code = "LakeNotFound"


_OS_HINTS = {
    errno.ENOSPC: " (the disk is full: free some space and run the command again)",
    errno.EACCES: " (check the permissions of that file or folder)",
    errno.EPERM: " (check the permissions of that file or folder)",
    errno.ENOTDIR: " (a part of that path is a file, not a folder)",
    errno.EROFS: " (the file system is read-only)",
}


def os_error_text(err: OSError) -> str:
    """An OSError as one line naming the path: ``cannot access PATH: Permission denied``."""
    reason = (err.strerror or str(err)) + _OS_HINTS.get(err.errno or 0, "")
    if err.filename is None:
        return reason
    where = os.fsdecode(err.filename)
    if err.filename2 is not None:
        where += f" -> {os.fsdecode(err.filename2)}"
    return f"cannot access {where}: {reason}"
