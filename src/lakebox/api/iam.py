"""IAM's API over lakebox's identity service (``lakebox.iam.service``): users, access
keys, roles, inline policies, AdministratorAccess attachments and login profiles.

Every call acts in the caller's account, and is authorized here, where the resource is
known: ``iam:CreateUser`` on ``arn:aws:iam::<account>:user/<name>``, and so on, checked
against the caller's identity policies (the local admin and an account's root may do
everything in their account). ``UserName`` left out means the calling user, as in IAM.

Answers are shaped as IAM's query protocol answers are after botocore's parsing, except
that policy documents are sent as IAM sends them: URL-encoded JSON text (botocore decodes
them into objects). Timestamps are ISO 8601 text. Pagination: ``Marker`` is an opaque
position, ``MaxItems`` 1-1000 (default 100). Errors keep IAM's codes (``NoSuchEntity``,
``EntityAlreadyExists``, ``MalformedPolicyDocument``, ``DeleteConflict``,
``LimitExceeded``, ``ValidationError``, ``AccessDenied``); ``STATUS`` gives their HTTP
status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.iam.errors import IamError
from lakebox.iam.model import ADMINISTRATOR_ACCESS, AccessKey, Role, User

if TYPE_CHECKING:
    from lakebox.iam.service import IamService

INVALID = "ValidationError"
T = TypeVar("T")

#: HTTP status of each error code this table answers with
STATUS: dict[str, int] = {
    "NoSuchEntity": 404,
    "EntityAlreadyExists": 409,
    "DeleteConflict": 409,
    "LimitExceeded": 409,
    "MalformedPolicyDocument": 400,
    "InvalidInput": 400,
    "PasswordPolicyViolation": 400,
    "PolicyNotAttachable": 400,
    "ValidationError": 400,
    "AccessDenied": 403,
    "ServiceFailure": 500,
}


class IamContext(ApiContext, Protocol):
    @property
    def iam(self) -> IamService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, IamError):
        return exc.code
    if isinstance(exc, InvalidRequestError):
        return "InvalidInput"
    return "ServiceFailure"


def timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def policy_text(document: str) -> str:
    """A policy document as IAM's answers carry it: URL-encoded JSON."""
    return quote(document, safe="")


def _opt(request: Request, name: str) -> str | None:
    """A string member that may be left out (``None``); any other type is refused."""
    value = request.get(name)
    if value is None:
        return None
    return _str(request, name)


def _str(request: Request, name: str) -> str:
    """A required, non-empty string member, named as IAM's validation names it."""
    value = request.get(name)
    if not isinstance(value, str) or not value:
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value at '{name[0].lower() + name[1:]}' failed to "
            "satisfy constraint: Member must not be null",
        )
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AwsError(
            INVALID,
            f"1 validation error detected: Value {value!r} at '{name[0].lower() + name[1:]}' "
            f"failed to satisfy constraint: Member must have value between {low} and {high}",
        )
    return value


def _page(request: Request, items: Sequence[T]) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` after ``Marker``, at most ``MaxItems``."""
    size = _int(request, "MaxItems", 100, 1, 1000)
    marker = request.get("Marker")
    start = 0
    if marker is not None:
        # ASCII digits, few of them: str.isdigit() passes "²", which int() then refuses
        if (
            not isinstance(marker, str)
            or not re.fullmatch(r"[0-9]{1,9}", marker)
            or int(marker) > len(items)
        ):
            raise AwsError(INVALID, f"Marker {marker!r} was not given by this listing")
        start = int(marker)
    page = list(items[start : start + size])
    more = start + size < len(items)
    extra: dict[str, Any] = {"IsTruncated": more}
    if more:
        extra["Marker"] = str(start + size)
    return page, extra


def _user_shape(user: User) -> dict[str, Any]:
    return {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": timestamp(user.created),
    }


def _role_shape(role: Role) -> dict[str, Any]:
    return {
        "Path": role.path,
        "RoleName": role.name,
        "RoleId": role.role_id,
        "Arn": role.arn,
        "CreateDate": timestamp(role.created),
        "AssumeRolePolicyDocument": policy_text(role.trust_policy),
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
    }


def _key_shape(key: AccessKey) -> dict[str, Any]:
    return {
        "UserName": key.user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": timestamp(key.created),
    }


def _account(context: IamContext) -> str:
    return context.principal.account_id


def _user_arn(context: IamContext, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{_account(context)}:user{path}{name}"


def _role_arn(context: IamContext, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{_account(context)}:role{path}{name}"


def _target_user(request: Request, context: IamContext) -> str:
    """``UserName``, or the calling user when it is left out (IAM's rule)."""
    name = _opt(request, "UserName")
    if name is not None:
        return name
    principal = context.principal
    if principal.kind == "user":
        return principal.name
    raise AwsError(
        INVALID,
        "give UserName: the caller is not an IAM user (lakebox keeps no access keys or "
        "passwords for an account's root or for role sessions)",
    )


def _allow(context: IamContext, action: str, resource: str) -> None:
    context.iam.authorize(context.principal, action, resource)


def _existing_user_arn(context: IamContext, name: str) -> str:
    """The ARN to authorize against: the user's own (with its path) when it exists."""
    try:
        return context.iam.get_user(name, account_id=_account(context)).arn
    except LakeboxError:
        return _user_arn(context, name)


def _existing_role_arn(context: IamContext, name: str) -> str:
    try:
        return context.iam.get_role(name, account_id=_account(context)).arn
    except LakeboxError:
        return _role_arn(context, name)


# -- users ----------------------------------------------------------------------------------


def create_user(request: Request, context: IamContext) -> Response:
    name = _str(request, "UserName")
    path = _opt(request, "Path") or "/"
    _allow(context, "iam:CreateUser", _user_arn(context, name, path))
    if request.get("PermissionsBoundary") or request.get("Tags"):
        raise AwsError(
            "InvalidInput", "lakebox does not support PermissionsBoundary or Tags on users yet"
        )
    user = context.iam.create_user(name, account_id=_account(context), path=path)
    return {"User": _user_shape(user)}


def get_user(request: Request, context: IamContext) -> Response:
    name = _opt(request, "UserName")
    principal = context.principal
    if name is None and principal.kind == "assumed-role":
        raise AwsError(INVALID, "Must specify userName when calling with non-User credentials")
    if name is None and principal.kind != "user":
        return {
            "User": {
                "Path": "/",
                "UserName": principal.name,
                "UserId": principal.account_id,
                "Arn": principal.arn,
                "CreateDate": timestamp(dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
            }
        }
    name = name or principal.name
    _allow(context, "iam:GetUser", _existing_user_arn(context, name))
    return {"User": _user_shape(context.iam.get_user(name, account_id=_account(context)))}


def list_users(request: Request, context: IamContext) -> Response:
    _allow(context, "iam:ListUsers", _user_arn(context, "*"))
    prefix = _opt(request, "PathPrefix") or "/"
    users = [
        u for u in context.iam.list_users(account_id=_account(context)) if u.path.startswith(prefix)
    ]
    page, extra = _page(request, users)
    return {"Users": [_user_shape(u) for u in page], **extra}


def delete_user(request: Request, context: IamContext) -> Response:
    name = _str(request, "UserName")
    _allow(context, "iam:DeleteUser", _existing_user_arn(context, name))
    context.iam.delete_user(name, account_id=_account(context))
    return {}


# -- access keys ----------------------------------------------------------------------------


def create_access_key(request: Request, context: IamContext) -> Response:
    name = _target_user(request, context)
    _allow(context, "iam:CreateAccessKey", _existing_user_arn(context, name))
    new = context.iam.create_access_key(name, account_id=_account(context))
    return {
        "AccessKey": {**_key_shape(new.key), "SecretAccessKey": new.secret_access_key},
    }


def list_access_keys(request: Request, context: IamContext) -> Response:
    name = _target_user(request, context)
    _allow(context, "iam:ListAccessKeys", _existing_user_arn(context, name))
    keys = context.iam.list_access_keys(name, account_id=_account(context))
    page, extra = _page(request, keys)
    return {"AccessKeyMetadata": [_key_shape(k) for k in page], **extra}


def delete_access_key(request: Request, context: IamContext) -> Response:
    key_id = _str(request, "AccessKeyId")
    name = _target_user(request, context)
    _allow(context, "iam:DeleteAccessKey", _existing_user_arn(context, name))
    context.iam.delete_access_key(key_id, user_name=name, account_id=_account(context))
    return {}


def update_access_key(request: Request, context: IamContext) -> Response:
    key_id = _str(request, "AccessKeyId")
    status = _str(request, "Status")
    name = _target_user(request, context)
    _allow(context, "iam:UpdateAccessKey", _existing_user_arn(context, name))
    keys = context.iam.list_access_keys(name, account_id=_account(context))
    if key_id not in {k.access_key_id for k in keys}:
        raise AwsError("NoSuchEntity", f"The Access Key with id {key_id} cannot be found.")
    context.iam.update_access_key(key_id, status, account_id=_account(context))
    return {}


# -- roles ----------------------------------------------------------------------------------


def create_role(request: Request, context: IamContext) -> Response:
    name = _str(request, "RoleName")
    document = _str(request, "AssumeRolePolicyDocument")
    path = _opt(request, "Path") or "/"
    _allow(context, "iam:CreateRole", _role_arn(context, name, path))
    if request.get("PermissionsBoundary") or request.get("Tags"):
        raise AwsError(
            "InvalidInput", "lakebox does not support PermissionsBoundary or Tags on roles yet"
        )
    description = request.get("Description", "")
    if not isinstance(description, str):
        raise AwsError(INVALID, "Description must be a string")
    role = context.iam.create_role(
        name,
        document,
        account_id=_account(context),
        path=path,
        description=description,
        max_session_duration=_int(request, "MaxSessionDuration", 3600, 3600, 43200),
    )
    return {"Role": _role_shape(role)}


def get_role(request: Request, context: IamContext) -> Response:
    name = _str(request, "RoleName")
    _allow(context, "iam:GetRole", _existing_role_arn(context, name))
    return {"Role": _role_shape(context.iam.get_role(name, account_id=_account(context)))}


def list_roles(request: Request, context: IamContext) -> Response:
    _allow(context, "iam:ListRoles", _role_arn(context, "*"))
    prefix = _opt(request, "PathPrefix") or "/"
    roles = [
        r for r in context.iam.list_roles(account_id=_account(context)) if r.path.startswith(prefix)
    ]
    page, extra = _page(request, roles)
    return {"Roles": [_role_shape(r) for r in page], **extra}


def delete_role(request: Request, context: IamContext) -> Response:
    name = _str(request, "RoleName")
    _allow(context, "iam:DeleteRole", _existing_role_arn(context, name))
    context.iam.delete_role(name, account_id=_account(context))
    return {}


# -- policies -------------------------------------------------------------------------------


def put_user_policy(request: Request, context: IamContext) -> Response:
    user, name, document = (
        _str(request, "UserName"),
        _str(request, "PolicyName"),
        _str(request, "PolicyDocument"),
    )
    _allow(context, "iam:PutUserPolicy", _existing_user_arn(context, user))
    context.iam.put_user_policy(user, name, document, account_id=_account(context))
    return {}


def put_role_policy(request: Request, context: IamContext) -> Response:
    role, name, document = (
        _str(request, "RoleName"),
        _str(request, "PolicyName"),
        _str(request, "PolicyDocument"),
    )
    _allow(context, "iam:PutRolePolicy", _existing_role_arn(context, role))
    context.iam.put_role_policy(role, name, document, account_id=_account(context))
    return {}


def get_user_policy(request: Request, context: IamContext) -> Response:
    user, name = _str(request, "UserName"), _str(request, "PolicyName")
    _allow(context, "iam:GetUserPolicy", _existing_user_arn(context, user))
    document = context.iam.get_user_policy(user, name, account_id=_account(context))
    found = context.iam.get_user(user, account_id=_account(context))
    return {"UserName": found.name, "PolicyName": name, "PolicyDocument": policy_text(document)}


def get_role_policy(request: Request, context: IamContext) -> Response:
    role, name = _str(request, "RoleName"), _str(request, "PolicyName")
    _allow(context, "iam:GetRolePolicy", _existing_role_arn(context, role))
    document = context.iam.get_role_policy(role, name, account_id=_account(context))
    found = context.iam.get_role(role, account_id=_account(context))
    return {"RoleName": found.name, "PolicyName": name, "PolicyDocument": policy_text(document)}


def list_user_policies(request: Request, context: IamContext) -> Response:
    user = _str(request, "UserName")
    _allow(context, "iam:ListUserPolicies", _existing_user_arn(context, user))
    names = context.iam.list_user_policies(user, account_id=_account(context))
    page, extra = _page(request, names)
    return {"PolicyNames": page, **extra}


def delete_user_policy(request: Request, context: IamContext) -> Response:
    user, name = _str(request, "UserName"), _str(request, "PolicyName")
    _allow(context, "iam:DeleteUserPolicy", _existing_user_arn(context, user))
    context.iam.delete_user_policy(user, name, account_id=_account(context))
    return {}


def list_role_policies(request: Request, context: IamContext) -> Response:
    role = _str(request, "RoleName")
    _allow(context, "iam:ListRolePolicies", _existing_role_arn(context, role))
    names = context.iam.list_role_policies(role, account_id=_account(context))
    page, extra = _page(request, names)
    return {"PolicyNames": page, **extra}


def delete_role_policy(request: Request, context: IamContext) -> Response:
    role, name = _str(request, "RoleName"), _str(request, "PolicyName")
    _allow(context, "iam:DeleteRolePolicy", _existing_role_arn(context, role))
    context.iam.delete_role_policy(role, name, account_id=_account(context))
    return {}


def detach_user_policy(request: Request, context: IamContext) -> Response:
    user, arn = _str(request, "UserName"), _str(request, "PolicyArn")
    _allow(context, "iam:DetachUserPolicy", _existing_user_arn(context, user))
    context.iam.detach_user_policy(user, arn, account_id=_account(context))
    return {}


def detach_role_policy(request: Request, context: IamContext) -> Response:
    role, arn = _str(request, "RoleName"), _str(request, "PolicyArn")
    _allow(context, "iam:DetachRolePolicy", _existing_role_arn(context, role))
    context.iam.detach_role_policy(role, arn, account_id=_account(context))
    return {}


def list_attached_role_policies(request: Request, context: IamContext) -> Response:
    role = _str(request, "RoleName")
    _allow(context, "iam:ListAttachedRolePolicies", _existing_role_arn(context, role))
    arns = context.iam.attached_role_policies(role, account_id=_account(context))
    page, extra = _page(request, arns)
    return {
        "AttachedPolicies": [
            {"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in page
        ],
        **extra,
    }


def attach_user_policy(request: Request, context: IamContext) -> Response:
    user, arn = _str(request, "UserName"), _str(request, "PolicyArn")
    _allow(context, "iam:AttachUserPolicy", _existing_user_arn(context, user))
    context.iam.attach_user_policy(user, arn, account_id=_account(context))
    return {}


def attach_role_policy(request: Request, context: IamContext) -> Response:
    role, arn = _str(request, "RoleName"), _str(request, "PolicyArn")
    _allow(context, "iam:AttachRolePolicy", _existing_role_arn(context, role))
    context.iam.attach_role_policy(role, arn, account_id=_account(context))
    return {}


def list_attached_user_policies(request: Request, context: IamContext) -> Response:
    user = _str(request, "UserName")
    _allow(context, "iam:ListAttachedUserPolicies", _existing_user_arn(context, user))
    arns = context.iam.attached_user_policies(user, account_id=_account(context))
    page, extra = _page(request, arns)
    return {
        "AttachedPolicies": [
            {"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in page
        ],
        **extra,
    }


# -- passwords ------------------------------------------------------------------------------


def create_login_profile(request: Request, context: IamContext) -> Response:
    name = _target_user(request, context)
    password = request.get("Password")
    if not isinstance(password, str):
        raise AwsError(INVALID, "Password must be given")
    reset = request.get("PasswordResetRequired", False)
    if not isinstance(reset, bool):
        raise AwsError(INVALID, "PasswordResetRequired must be a boolean")
    _allow(context, "iam:CreateLoginProfile", _existing_user_arn(context, name))
    try:
        profile = context.iam.create_login_profile(
            name, password, account_id=_account(context), password_reset_required=reset
        )
    except IamError as err:
        if err.code == "InvalidInput":
            raise AwsError("PasswordPolicyViolation", str(err)) from err
        raise
    return {
        "LoginProfile": _profile_shape(
            profile.user_name, profile.created, profile.password_reset_required
        )
    }


_EVAL = {"allow": "allowed", "deny": "explicitDeny", "implicit": "implicitDeny"}


def simulate_principal_policy(request: Request, context: IamContext) -> Response:
    """What the policies of a user or role decide for each action on each resource (IAM's
    policy simulator, for the identity policies lakebox evaluates)."""
    source = _str(request, "PolicySourceArn")
    actions = request.get("ActionNames")
    resources = request.get("ResourceArns", ["*"])
    for name, value in (("ActionNames", actions), ("ResourceArns", resources)):
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise AwsError(INVALID, f"{name} must be a non-empty list of strings")
    assert isinstance(actions, list) and isinstance(resources, list)
    unsupported = [
        n
        for n in (
            "PolicyInputList",
            "PermissionsBoundaryPolicyInputList",
            "ResourcePolicy",
            "CallerArn",
        )
        if request.get(n)
    ]
    if unsupported:
        raise AwsError(
            "InvalidInput", f"lakebox's simulator does not take {', '.join(unsupported)}"
        )
    keys: dict[str, Any] = {}
    for entry in request.get("ContextEntries") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("ContextKeyName"), str):
            raise AwsError(INVALID, "each ContextEntries item needs a ContextKeyName")
        values = entry.get("ContextKeyValues") or []
        if not isinstance(values, list):
            raise AwsError(INVALID, "ContextKeyValues must be a list")
        kind = str(entry.get("ContextKeyType", "string"))
        keys[entry["ContextKeyName"]] = (
            values if kind.endswith("List") else (values[0] if values else None)
        )
    _allow(context, "iam:SimulatePrincipalPolicy", source)
    principal = context.iam.principal_of_arn(source)
    if principal.account_id != _account(context):
        raise AwsError("AccessDenied", f"{source} belongs to another account")
    results = []
    for action in actions:
        for resource in resources:
            decision, _ = context.iam.decide(principal, action, resource, keys)
            results.append(
                {
                    "EvalActionName": action,
                    "EvalResourceName": resource,
                    "EvalDecision": _EVAL[decision],
                    "MatchedStatements": [],
                    "MissingContextValues": [],
                }
            )
    page, extra = _page(request, results)
    return {"EvaluationResults": page, **extra}


def _profile_shape(user_name: str, created: dt.datetime, reset: bool) -> dict[str, Any]:
    return {"UserName": user_name, "CreateDate": timestamp(created), "PasswordResetRequired": reset}


def get_login_profile(request: Request, context: IamContext) -> Response:
    name = _target_user(request, context)
    _allow(context, "iam:GetLoginProfile", _existing_user_arn(context, name))
    profile = context.iam.get_login_profile(name, account_id=_account(context))
    return {
        "LoginProfile": _profile_shape(
            profile.user_name, profile.created, profile.password_reset_required
        )
    }


def update_login_profile(request: Request, context: IamContext) -> Response:
    name = _str(request, "UserName")
    password = request.get("Password")
    reset = request.get("PasswordResetRequired")
    if password is not None and not isinstance(password, str):
        raise AwsError(INVALID, "Password must be a string")
    if reset is not None and not isinstance(reset, bool):
        raise AwsError(INVALID, "PasswordResetRequired must be a boolean")
    _allow(context, "iam:UpdateLoginProfile", _existing_user_arn(context, name))
    try:
        context.iam.update_login_profile(
            name, password=password, password_reset_required=reset, account_id=_account(context)
        )
    except IamError as err:
        if err.code == "InvalidInput":
            raise AwsError("PasswordPolicyViolation", str(err)) from err
        raise
    return {}


def delete_login_profile(request: Request, context: IamContext) -> Response:
    name = _target_user(request, context)
    _allow(context, "iam:DeleteLoginProfile", _existing_user_arn(context, name))
    context.iam.delete_login_profile(name, account_id=_account(context))
    return {}


_OPERATIONS = operations(
    ("CreateUser", create_user),
    ("GetUser", get_user),
    ("ListUsers", list_users),
    ("DeleteUser", delete_user),
    ("CreateAccessKey", create_access_key),
    ("ListAccessKeys", list_access_keys),
    ("DeleteAccessKey", delete_access_key),
    ("UpdateAccessKey", update_access_key),
    ("CreateRole", create_role),
    ("GetRole", get_role),
    ("ListRoles", list_roles),
    ("DeleteRole", delete_role),
    ("PutUserPolicy", put_user_policy),
    ("PutRolePolicy", put_role_policy),
    ("GetUserPolicy", get_user_policy),
    ("GetRolePolicy", get_role_policy),
    ("ListUserPolicies", list_user_policies),
    ("DeleteUserPolicy", delete_user_policy),
    ("AttachUserPolicy", attach_user_policy),
    ("AttachRolePolicy", attach_role_policy),
    ("ListAttachedUserPolicies", list_attached_user_policies),
    ("ListRolePolicies", list_role_policies),
    ("DeleteRolePolicy", delete_role_policy),
    ("DetachUserPolicy", detach_user_policy),
    ("DetachRolePolicy", detach_role_policy),
    ("ListAttachedRolePolicies", list_attached_role_policies),
    ("CreateLoginProfile", create_login_profile),
    ("GetLoginProfile", get_login_profile),
    ("UpdateLoginProfile", update_login_profile),
    ("DeleteLoginProfile", delete_login_profile),
    ("SimulatePrincipalPolicy", simulate_principal_policy),
)

#: every IAM operation authorizes itself against the resource it touches (with its path):
#: a door need not, and should not guess the resource for it
SELF_AUTHORIZED = frozenset(_OPERATIONS)

API = ServiceApi(
    "IAM",
    _OPERATIONS,
    error_code,
    INVALID,
    prefix="iam",
    self_authorized=SELF_AUTHORIZED,
    denied="AccessDenied",
)

__all__ = ["ADMINISTRATOR_ACCESS", "API", "SELF_AUTHORIZED", "STATUS", "IamContext"]
