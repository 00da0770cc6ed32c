"""IAM's errors: each carries the code IAM's API answers with (``NoSuchEntity``,
``EntityAlreadyExists``, ``MalformedPolicyDocument``, ...) so the operation tables pass
them through unchanged, and a message naming what is wrong."""

from __future__ import annotations

from lakebox.errors import LakeboxError


class IamError(LakeboxError):
    """Root of the identity errors; ``code`` is IAM's error code, ``status`` its HTTP status."""

    code = "ServiceFailure"
    status = 500


class NoSuchEntity(IamError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(IamError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(IamError):
    """An entity still owns others (keys, policies, a password) and cannot be deleted."""

    code = "DeleteConflict"
    status = 409


class LimitExceeded(IamError):
    code = "LimitExceeded"
    status = 409


class ValidationError(IamError):
    """A name, id or parameter breaks IAM's rules; the message names which and how."""

    code = "ValidationError"
    status = 400


class InvalidInput(IamError):
    code = "InvalidInput"
    status = 400


class MalformedPolicyDocument(IamError):
    """A policy document is not valid; the message says where (``Statement[1].Action``)."""

    code = "MalformedPolicyDocument"
    status = 400


class AccessDenied(IamError):
    """An identity may not perform ``action`` on ``resource``. Doors map it to their
    service's code (``AccessDeniedException`` for JSON services, ``AccessDenied`` for S3,
    IAM and STS)."""

    code = "AccessDenied"
    status = 403

    def __init__(self, message: str, action: str = "", resource: str = "") -> None:
        super().__init__(message)
        self.action = action
        self.resource = resource
