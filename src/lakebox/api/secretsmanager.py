"""Secrets Manager's API over lakebox's secret store (``lakebox.secrets``): CreateSecret,
GetSecretValue, PutSecretValue, UpdateSecret, DescribeSecret, ListSecrets,
ListSecretVersionIds, UpdateSecretVersionStage, DeleteSecret, RestoreSecret, TagResource,
UntagResource and GetRandomPassword.

Secrets belong to the caller's account: a name is looked up there, and an ARN of another
account is refused (lakebox has no resource policies to share a secret). Each operation is
authorized as ``secretsmanager:<Operation>`` on the secret's ARN (for a secret that does not
exist yet, ``secret:<name>-??????``, which a policy's ``secret:<name>-*`` matches). Rotation,
replication and resource policies are not served. Errors are Secrets Manager's codes
(``ResourceNotFoundException``, ``ResourceExistsException``,
``InvalidParameterException``, ``InvalidRequestException``).
"""

from __future__ import annotations

import datetime as dt
import secrets as _random
import string
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import ApiContext, AwsError, Request, Response, ServiceApi, operations
from lakebox.errors import InvalidRequestError, LakeboxError
from lakebox.secrets.errors import SecretsManagerError
from lakebox.secrets.service import (
    FILTER_KEYS,
    Filter,
    Secret,
    check_value,
)

if TYPE_CHECKING:
    from lakebox.secrets.service import SecretsService

INVALID = "InvalidParameterException"
#: what lakebox does not do of Secrets Manager, refused with a message saying so
_UNSUPPORTED = ("AddReplicaRegions", "RotationLambdaARN", "RotationRules")


class SecretsManagerContext(ApiContext, Protocol):
    @property
    def secrets(self) -> SecretsService: ...


def error_code(exc: LakeboxError) -> str:
    if isinstance(exc, SecretsManagerError):
        return exc.code
    if isinstance(exc, InvalidRequestError):
        return INVALID
    return "InternalServiceError"  # the key file or the store: the message says which


def _account(context: Any) -> str:
    principal = getattr(context, "principal", None)
    return str(principal.account_id if principal is not None else context.account_id)


def _secret_id(request: Request) -> Any:
    value = request.get("SecretId")
    if value is None:
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'secretId' failed to satisfy constraint: "
            "Member must not be null",
        )
    return value


def _refuse_unsupported(request: Request) -> None:
    given = [name for name in _UNSUPPORTED if request.get(name)]
    if given:
        raise AwsError(INVALID, f"lakebox's Secrets Manager does not support {', '.join(given)}")


def _value(request: Request) -> Any:
    return check_value(request.get("SecretString"), request.get("SecretBinary"))


def _when(value: dt.datetime | None) -> float | None:
    """A timestamp as epoch seconds: JSON as it is (a workflow task's result must be), and
    what the JSON protocol puts on the wire."""
    return None if value is None else value.timestamp()


def _tags(secret: Secret) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in secret.tags]


def _description(secret: Secret) -> Response:
    out: dict[str, Any] = {
        "ARN": secret.arn,
        "Name": secret.name,
        "Description": secret.description,
        "KmsKeyId": secret.kms_key_id,
        "RotationEnabled": False,
        "LastChangedDate": _when(secret.last_changed),
        "LastAccessedDate": _when(secret.last_accessed),
        "DeletedDate": _when(secret.deleted),
        "Tags": _tags(secret) if secret.tags else None,
        "VersionIdsToStages": secret.version_stages(),
        "CreatedDate": _when(secret.created),
    }
    return {k: v for k, v in out.items() if v is not None}


def create_secret(request: Request, context: SecretsManagerContext) -> Response:
    _refuse_unsupported(request)
    if request.get("Name") is None:
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'name' failed to satisfy constraint: "
            "Member must not be null",
        )
    secret, version = context.secrets.create_secret(
        _account(context),
        request.get("Name"),
        token=request.get("ClientRequestToken"),
        value=_value(request),
        description=request.get("Description"),
        kms_key_id=request.get("KmsKeyId"),
        tags=request.get("Tags"),
    )
    out: Response = {"ARN": secret.arn, "Name": secret.name}
    if version is not None:
        out["VersionId"] = version
    return out


def get_secret_value(request: Request, context: SecretsManagerContext) -> Response:
    found = context.secrets.get_secret_value(
        _account(context),
        _secret_id(request),
        version_id=request.get("VersionId"),
        stage=request.get("VersionStage"),
    )
    out: Response = {
        "ARN": found.secret.arn,
        "Name": found.secret.name,
        "VersionId": found.version_id,
        "VersionStages": list(found.stages),
        "CreatedDate": _when(found.created),
    }
    if found.value.binary is not None:
        out["SecretBinary"] = found.value.binary
    else:
        out["SecretString"] = found.value.string
    return out


def put_secret_value(request: Request, context: SecretsManagerContext) -> Response:
    secret, version, stages = context.secrets.put_secret_value(
        _account(context),
        _secret_id(request),
        _value(request),
        token=request.get("ClientRequestToken"),
        stages=request.get("VersionStages"),
    )
    return {
        "ARN": secret.arn,
        "Name": secret.name,
        "VersionId": version,
        "VersionStages": list(stages),
    }


def update_secret(request: Request, context: SecretsManagerContext) -> Response:
    secret, version = context.secrets.update_secret(
        _account(context),
        _secret_id(request),
        value=_value(request),
        token=request.get("ClientRequestToken"),
        description=request.get("Description"),
        kms_key_id=request.get("KmsKeyId"),
    )
    out: Response = {"ARN": secret.arn, "Name": secret.name}
    if version is not None:
        out["VersionId"] = version
    return out


def describe_secret(request: Request, context: SecretsManagerContext) -> Response:
    return _description(context.secrets.describe_secret(_account(context), _secret_id(request)))


def _filters(request: Request) -> list[Filter]:
    given = request.get("Filters")
    if given is None:
        return []
    if not isinstance(given, list) or len(given) > 10:
        raise AwsError(INVALID, "Filters must be a list of at most 10 filters")
    out = []
    for item in given:
        key = item.get("Key") if isinstance(item, dict) else None
        values = item.get("Values") if isinstance(item, dict) else None
        if key not in FILTER_KEYS:
            raise AwsError(
                INVALID,
                f"lakebox filters secrets by {', '.join(FILTER_KEYS)}, not {str(key)[:64]!r}",
            )
        if (
            not isinstance(values, list)
            or not 1 <= len(values) <= 10
            or not all(isinstance(v, str) and v for v in values)
        ):
            raise AwsError(INVALID, f"the {key} filter needs 1 to 10 non-empty Values")
        out.append(Filter(key, tuple(values)))
    return out


def list_secrets(request: Request, context: SecretsManagerContext) -> Response:
    order = request.get("SortOrder", "asc")
    if order not in ("asc", "desc"):
        raise AwsError(INVALID, "SortOrder must be asc or desc")
    page = context.secrets.list_secrets(
        _account(context),
        filters=_filters(request),
        include_deleted=bool(request.get("IncludePlannedDeletion")),
        max_results=request.get("MaxResults"),
        next_token=request.get("NextToken"),
        descending=order == "desc",
    )
    entries = []
    for secret in page.items:
        entry = _description(secret)
        entry["SecretVersionsToStages"] = entry.pop("VersionIdsToStages")
        entries.append(entry)
    out: Response = {"SecretList": entries}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def list_secret_version_ids(request: Request, context: SecretsManagerContext) -> Response:
    secret, page = context.secrets.list_versions(
        _account(context),
        _secret_id(request),
        include_deprecated=bool(request.get("IncludeDeprecated")),
        max_results=request.get("MaxResults"),
        next_token=request.get("NextToken"),
    )
    versions = []
    for v in page.items:
        item: dict[str, Any] = {
            "VersionId": v.version_id,
            "VersionStages": list(v.stages),
            "CreatedDate": _when(v.created),
        }
        if v.last_accessed is not None:
            item["LastAccessedDate"] = _when(v.last_accessed)
        versions.append(item)
    out: Response = {"Versions": versions, "ARN": secret.arn, "Name": secret.name}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def update_secret_version_stage(request: Request, context: SecretsManagerContext) -> Response:
    if request.get("VersionStage") is None:
        raise AwsError(
            INVALID,
            "1 validation error detected: Value at 'versionStage' failed to satisfy "
            "constraint: Member must not be null",
        )
    secret = context.secrets.update_version_stage(
        _account(context),
        _secret_id(request),
        request.get("VersionStage"),
        remove_from=request.get("RemoveFromVersionId"),
        move_to=request.get("MoveToVersionId"),
    )
    return {"ARN": secret.arn, "Name": secret.name}


def delete_secret(request: Request, context: SecretsManagerContext) -> Response:
    secret = context.secrets.delete_secret(
        _account(context),
        _secret_id(request),
        recovery_days=request.get("RecoveryWindowInDays"),
        force=request.get("ForceDeleteWithoutRecovery"),
    )
    return {"ARN": secret.arn, "Name": secret.name, "DeletionDate": _when(secret.purge_at)}


def restore_secret(request: Request, context: SecretsManagerContext) -> Response:
    secret = context.secrets.restore_secret(_account(context), _secret_id(request))
    return {"ARN": secret.arn, "Name": secret.name}


def tag_resource(request: Request, context: SecretsManagerContext) -> Response:
    context.secrets.tag_resource(_account(context), _secret_id(request), request.get("Tags"))
    return {}


def untag_resource(request: Request, context: SecretsManagerContext) -> Response:
    context.secrets.untag_resource(_account(context), _secret_id(request), request.get("TagKeys"))
    return {}


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def get_random_password(request: Request, context: Any) -> Response:
    """A password from the operating system's random source (``secrets``), with Secrets
    Manager's options: 32 characters by default, each included kind at least once."""
    length = request.get("PasswordLength", 32)
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 4096:
        raise AwsError(INVALID, "PasswordLength must be an integer from 1 to 4096")
    exclude = request.get("ExcludeCharacters") or ""
    if not isinstance(exclude, str):
        raise AwsError(INVALID, "ExcludeCharacters must be a string")
    kinds = []
    for flag, chars in (
        ("ExcludeLowercase", string.ascii_lowercase),
        ("ExcludeUppercase", string.ascii_uppercase),
        ("ExcludeNumbers", string.digits),
        ("ExcludePunctuation", _PUNCTUATION),
    ):
        if not request.get(flag):
            kinds.append("".join(c for c in chars if c not in exclude))
    if request.get("IncludeSpace") and " " not in exclude:
        kinds.append(" ")
    kinds = [k for k in kinds if k]
    if not kinds:
        raise AwsError(INVALID, "the options exclude every character a password could have")
    every = request.get("RequireEachIncludedType", True)
    if every and length < len(kinds):
        raise AwsError(
            INVALID, f"PasswordLength {length} is too short to include each of {len(kinds)} kinds"
        )
    alphabet = "".join(kinds)
    while True:
        password = "".join(_random.choice(alphabet) for _ in range(length))
        if not every or all(any(c in kind for c in password) for kind in kinds):
            return {"RandomPassword": password}


def _on_secret(request: Request, context: Any) -> list[str]:
    """The secret's ARN (by name or ARN, in the caller's account)."""
    secret_id = request.get("SecretId")
    try:
        return [context.secrets.resource_arn(_account(context), secret_id)]
    except LakeboxError:
        return [f"arn:aws:secretsmanager:{context.region}:{_account(context)}:secret:*"]


def _on_new(request: Request, context: Any) -> list[str]:
    name = request.get("Name")
    name = name if isinstance(name, str) else "*"
    return [f"arn:aws:secretsmanager:{context.region}:{_account(context)}:secret:{name}-??????"]


API = ServiceApi(
    "secretsmanager",
    operations(
        ("CreateSecret", create_secret, _on_new),
        ("GetSecretValue", get_secret_value, _on_secret),
        ("PutSecretValue", put_secret_value, _on_secret),
        ("UpdateSecret", update_secret, _on_secret),
        ("DescribeSecret", describe_secret, _on_secret),
        ("ListSecrets", list_secrets),
        ("ListSecretVersionIds", list_secret_version_ids, _on_secret),
        ("UpdateSecretVersionStage", update_secret_version_stage, _on_secret),
        ("DeleteSecret", delete_secret, _on_secret),
        ("RestoreSecret", restore_secret, _on_secret),
        ("TagResource", tag_resource, _on_secret),
        ("UntagResource", untag_resource, _on_secret),
        ("GetRandomPassword", get_random_password),
    ),
    error_code,
    INVALID,
    prefix="secretsmanager",
)

__all__ = ["API", "SecretsManagerContext"]
