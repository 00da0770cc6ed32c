"""Who a program acts as when it opens a lake itself (``lakebox.connect(principal=...)``,
``lakebox --profile NAME``), rather than through a signed request to the server.

A name or ARN is taken on trust: whoever can open the lake's files is its owner and could
act as anyone anyway. Keys (``credentials=`` or a profile of a credentials file) are
checked with the lake's IAM, as the server checks a signature: a wrong secret or an
unknown key is refused with the code AWS would answer (``SignatureDoesNotMatch``,
``InvalidClientTokenId``, ``ExpiredToken``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lakebox.iam.errors import InvalidInput, NoSuchEntity
from lakebox.iam.profiles import find_credentials
from lakebox.iam.sigv4 import AuthError
from lakebox.principal import Principal

if TYPE_CHECKING:
    from lakebox.iam.service import IamService


def named_principal(iam: IamService, name: str) -> Principal:
    """The user or role ``name`` of the lake's account, or the principal an IAM ARN names
    (a user, a role, an account's root, in any account of the lake)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("principal must be a user or role name or an IAM ARN")
    name = name.strip()
    if name.startswith("arn:"):
        return iam.principal_of_arn(name)
    try:
        return iam.user_principal(name)
    except NoSuchEntity:
        pass
    try:
        role = iam.get_role(name)
    except (NoSuchEntity, InvalidInput, LookupError):
        raise NoSuchEntity(
            f"no user or role named {name!r} in account {iam.account_id} of this lake (see "
            "'lakebox iam list-users'; give an ARN for another account)"
        ) from None
    except Exception as err:  # a malformed role name: the user's name was not one either
        raise NoSuchEntity(f"no user or role named {name!r}: {err}") from None
    return Principal(role.account_id, role.arn, "role")


def keys_principal(iam: IamService, credentials: Sequence[str]) -> Principal:
    """The principal whose keys these are: ``(access_key_id, secret_access_key[,
    session_token])``, checked with the lake's IAM."""
    if (
        isinstance(credentials, str)
        or not 2 <= len(credentials) <= 3
        or not all(isinstance(c, str) and c for c in credentials)
    ):
        raise InvalidInput(
            "credentials must be (access_key_id, secret_access_key[, session_token])"
        )
    token = credentials[2] if len(credentials) == 3 else None
    try:
        return iam.principal_for(credentials[0], credentials[1], token)
    except AuthError as err:
        raise AuthError(
            err.reason, f"{err.code}: {err.message} (access key {credentials[0]})", "query"
        ) from None


def acting_principal(
    iam: IamService,
    principal: str | Principal | None = None,
    *,
    credentials: Sequence[str] | None = None,
    profile: str | None = None,
    credentials_file: Path | None = None,
) -> Principal | None:
    """Who to act as, from at most one of ``principal``, ``credentials`` and ``profile``
    (a profile of ``credentials_file``, else of the shared credentials file AWS tools
    use); None when none is given (the caller's default: the local administrator)."""
    given = [
        n
        for n, v in (("principal", principal), ("credentials", credentials), ("profile", profile))
        if v is not None
    ]
    if len(given) > 1:
        raise InvalidInput(f"give one of principal, credentials and profile, not {given}")
    if isinstance(principal, Principal):
        return principal
    if principal is not None:
        return named_principal(iam, principal)
    if credentials is not None:
        return keys_principal(iam, credentials)
    if profile is not None:
        found = find_credentials(profile, credentials_file)
        keys = [found.access_key_id, found.secret_access_key]
        if found.session_token:
            keys.append(found.session_token)
        return keys_principal(iam, keys)
    return None


__all__ = ["acting_principal", "keys_principal", "named_principal"]
