"""Lake Formation's errors, each carrying the code its API answers with."""

from __future__ import annotations

from lakebox.errors import LakeboxError


class LakeFormationError(LakeboxError):
    """Root of the governance errors."""

    code = "InternalServiceException"


class InvalidInput(LakeFormationError):
    """A request member breaks Lake Formation's rules; the message names which."""

    code = "InvalidInputException"


class EntityNotFound(LakeFormationError):
    code = "EntityNotFoundException"


class AlreadyExists(LakeFormationError):
    code = "AlreadyExistsException"


class AccessDeniedLF(LakeFormationError):
    """The caller may not change Lake Formation's settings or grants (not an admin, no
    grant option)."""

    code = "AccessDeniedException"


class LimitExceeded(LakeFormationError):
    code = "ResourceNumberLimitExceededException"
