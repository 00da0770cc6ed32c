"""STS's API over lakebox's identity service: GetCallerIdentity and AssumeRole.

AssumeRole checks the role's trust policy (and, when the trust policy names the caller's
account rather than the caller, or the role is in another account, the caller's own
policies must allow ``sts:AssumeRole`` on the role), and answers temporary credentials: an
``ASIA...`` key id, its secret, a session token and their expiry, ``DurationSeconds``
(900 up to the role's MaxSessionDuration, at most 43200; a role session assuming a role
gets at most 3600) after now. Session policies (``Policy``, ``PolicyArns``), tags and MFA
are refused with a message saying so; ``ExternalId`` is checked by the trust policy's
``sts:ExternalId`` condition. Errors keep STS's codes (``AccessDenied``,
``ValidationError``, ``MalformedPolicyDocument``); ``STATUS`` gives their HTTP status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.api.iam import timestamp
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.iam.errors import IamError

if TYPE_CHECKING:
    from lakebox.iam.service import IamService

INVALID = "ValidationError"
#: a role session assuming another role gets at most an hour (AWS's role chaining rule)
CHAINED_MAX_SECONDS = 3600

STATUS: dict[str, int] = {
    "AccessDenied": 403,
    "ValidationError": 400,
    "MalformedPolicyDocument": 400,
    "ExpiredTokenException": 400,
    "InternalFailure": 500,
}


class StsContext(ApiContext, Protocol):
    @property
    def iam(self) -> IamService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, IamError):
        if exc.code in ("NoSuchEntity", "InvalidInput"):
            return INVALID
        return exc.code if exc.code != "ServiceFailure" else "InternalFailure"
    if isinstance(exc, InvalidRequestError):
        return INVALID
    return "InternalFailure"


def get_caller_identity(request: Request, context: StsContext) -> Response:
    """Anyone may ask who they are (AWS needs no permission for it either)."""
    principal = context.principal
    return {
        "UserId": context.iam.caller_user_id(principal),
        "Account": principal.account_id,
        "Arn": principal.arn,
    }


def assume_role(request: Request, context: StsContext) -> Response:
    role_arn = request.get("RoleArn")
    session = request.get("RoleSessionName")
    for name, value in (("roleArn", role_arn), ("roleSessionName", session)):
        if not isinstance(value, str) or not value:
            raise AwsError(
                INVALID,
                f"1 validation error detected: Value at '{name}' failed to satisfy "
                "constraint: Member must not be null",
            )
    assert isinstance(role_arn, str) and isinstance(session, str)
    duration = request.get("DurationSeconds", 3600)
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not (900 <= duration <= 43200)
    ):
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value {duration!r} at 'durationSeconds' failed to "
            "satisfy constraint: Member must have value between 900 and 43200",
        )
    if context.principal.kind == "assumed-role" and duration > CHAINED_MAX_SECONDS:
        raise AwsError(
            INVALID,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles "
            "assumed by role chaining.",
        )
    unsupported = [
        name
        for name in (
            "Policy",
            "PolicyArns",
            "Tags",
            "TransitiveTagKeys",
            "SerialNumber",
            "TokenCode",
            "SourceIdentity",
            "ProvidedContexts",
        )
        if request.get(name)
    ]
    if unsupported:
        raise AwsError(
            INVALID, f"lakebox's AssumeRole does not support {', '.join(unsupported)} yet"
        )
    external_id = request.get("ExternalId")
    if external_id is not None and (
        not isinstance(external_id, str) or not 2 <= len(external_id) <= 1224
    ):
        raise AwsError(INVALID, "ExternalId must be a string of 2 to 1224 characters")
    creds = context.iam.assume_role(
        context.principal,
        role_arn,
        session,
        duration_seconds=duration,
        external_id=external_id,
    )
    return {
        "Credentials": {
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "SessionToken": creds.session_token,
            "Expiration": timestamp(creds.expiration),
        },
        "AssumedRoleUser": {
            "AssumedRoleId": creds.assumed_role_id,
            "Arn": creds.assumed_role_arn,
        },
    }


#: STS decides these itself: anyone may ask who they are, and AssumeRole checks the role's
#: trust policy and, where IAM requires it, the caller's own policies (a door that also
#: demanded an identity policy would refuse a caller the trust policy names directly)
SELF_AUTHORIZED = frozenset({"GetCallerIdentity", "AssumeRole"})

API = ServiceApi(
    "STS",
    operations(
        ("GetCallerIdentity", get_caller_identity),
        ("AssumeRole", assume_role),
    ),
    error_code,
    INVALID,
    prefix="sts",
    self_authorized=SELF_AUTHORIZED,
    denied="AccessDenied",
)

__all__ = ["API", "SELF_AUTHORIZED", "STATUS", "StsContext"]
