"""Secrets Manager's store: secrets with versions and staging labels, sealed at rest
(``lakebox.secrets.service``). The API layer's ``lakebox.api.secretsmanager`` answers it
over AWS's shapes."""

from __future__ import annotations

from lakebox.secrets.errors import (
    AccessDenied,
    InvalidParameter,
    InvalidRequest,
    ResourceExists,
    ResourceNotFound,
    SecretsManagerError,
)

__all__ = [
    "AccessDenied",
    "InvalidParameter",
    "InvalidRequest",
    "ResourceExists",
    "ResourceNotFound",
    "SecretsManagerError",
]
