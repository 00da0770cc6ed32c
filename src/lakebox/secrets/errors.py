"""Secrets Manager's errors, each carrying the AWS error code it is answered with."""

from __future__ import annotations

from lakebox.errors import LakeboxError


class SecretsManagerError(LakeboxError):
    """Root of the secret store's errors."""

    code = "InternalServiceError"


class ResourceNotFound(SecretsManagerError):
    code = "ResourceNotFoundException"


class ResourceExists(SecretsManagerError):
    code = "ResourceExistsException"


class InvalidParameter(SecretsManagerError):
    code = "InvalidParameterException"


class InvalidRequest(SecretsManagerError):
    code = "InvalidRequestException"


class AccessDenied(SecretsManagerError):
    """A secret of another account (lakebox has no resource policies to share one)."""

    code = "AccessDeniedException"


class LimitExceeded(SecretsManagerError):
    code = "LimitExceededException"


class InvalidNextToken(SecretsManagerError):
    code = "InvalidNextTokenException"
