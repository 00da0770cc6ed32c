"""Errors of the ingestion services, carrying the AWS error codes Firehose, DynamoDB and
RDS return so API shells and workflow tasks can surface them unchanged."""

from __future__ import annotations

from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)


class InvalidArgumentError(InvalidRequestError):
    """Firehose's InvalidArgumentException (a configuration that is not allowed)."""

    code = "InvalidArgumentException"


class ValidationError(InvalidRequestError):
    """An AWS API constraint failed (``1 validation error detected: ...``)."""

    code = "ValidationException"


class ResourceInUseError(AlreadyExistsError):
    code = "ResourceInUseException"


class ResourceNotFoundError(EntityNotFoundError):
    code = "ResourceNotFoundException"


class ExportNotFoundError(EntityNotFoundError):
    code = "ExportNotFoundException"


def constraint_error(value: object, member: str, constraint: str) -> ValidationError:
    """AWS's wording for one failed member constraint."""
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


class ServiceUnavailableError(LakeboxError):
    """The stream could not store the records (its log is unwritable): Firehose's
    ServiceUnavailableException. Nothing of the failed call was kept, so resending is safe."""

    code = "ServiceUnavailableException"
