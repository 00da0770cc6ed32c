"""Lambda's API over the lake's functions (``context.events``): CreateFunction (a zip
package, ``Code.ZipFile``, for a ``python3.x`` runtime), UpdateFunctionCode,
UpdateFunctionConfiguration, GetFunction, ListFunctions, DeleteFunction and Invoke
(``RequestResponse``, ``Event``, ``DryRun``). A handler's error is Invoke's answer, not an API error: ``FunctionError: Unhandled`` and a payload with
``errorMessage`` / ``errorType``, as Lambda answers it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

from lakebox.api.base import (
    ApiContext,
    AwsError,
    Operation,
    Request,
    Response,
    ServiceApi,
    operations,
    require_unrestricted,
)
from lakebox.api.base import text as _text
from lakebox.errors import (
    AlreadyExistsError,
    EntityNotFoundError,
    InvalidRequestError,
    LakeboxError,
)

if TYPE_CHECKING:
    from lakebox.events.service import EventService

INVALID = "InvalidParameterValueException"


class LambdaContext(ApiContext, Protocol):
    @property
    def events(self) -> EventService: ...


def error_code(exc: LakeboxError) -> str:
    if exc.code == "TooManyRequestsException":  # throttled: the lake's concurrency cap
        return exc.code
    if isinstance(exc, AlreadyExistsError):
        return "ResourceConflictException"
    if isinstance(exc, EntityNotFoundError):
        return "ResourceNotFoundException"
    if isinstance(exc, InvalidRequestError):
        return INVALID
    return "ServiceException"


def _name(request: Request) -> str:
    value = request.get("FunctionName")
    if not isinstance(value, str) or not value:
        raise AwsError(INVALID, "FunctionName is required")
    return value


def _runs_code_as_lake_owner(context: LambdaContext, what: str) -> None:
    """A function's code runs in a process of the lake's operating-system user, with no
    sandbox around it: it could read every file of the lake, around IAM. So only a caller
    who could reach all of it anyway may give a function its code or its handler; a
    narrower ``lambda:CreateFunction`` grant is not enough."""
    require_unrestricted(
        context,
        what,
        "lakebox runs a function's code unsandboxed as the lake's own operating-system user",
    )


def create_function(request: Request, context: LambdaContext) -> Response:
    _runs_code_as_lake_owner(context, "create functions")
    code = request.get("Code")
    if not isinstance(code, dict) or not isinstance(code.get("ZipFile"), bytes | bytearray):
        raise AwsError(
            INVALID,
            "lakebox takes a function's code as Code.ZipFile (a zip archive); S3 locations "
            "and images are not supported",
        )
    if request.get("PackageType", "Zip") != "Zip":
        raise AwsError(INVALID, "lakebox runs Zip packages only")
    env = request.get("Environment") or {}
    function = context.events.create_function(
        _name(request),
        request.get("Handler") or "",
        zip_bytes=bytes(code["ZipFile"]),
        role=request.get("Role") or "",
        runtime=request.get("Runtime") or "",
        timeout=request.get("Timeout", 3),
        memory_size=request.get("MemorySize", 128),
        environment=env.get("Variables") if isinstance(env, dict) else None,
        description=request.get("Description") or "",
        principal=context.principal,
    )
    return function.configuration()


def update_function_code(request: Request, context: LambdaContext) -> Response:
    _runs_code_as_lake_owner(context, "change a function's code")
    code = request.get("ZipFile")
    if not isinstance(code, bytes | bytearray):
        raise AwsError(
            INVALID,
            "lakebox takes a function's new code as ZipFile (a zip archive); S3 locations "
            "and images are not supported",
        )
    function = context.events.update_function_code(
        _name(request), zip_bytes=bytes(code), principal=context.principal
    )
    return function.configuration()


def update_function_configuration(request: Request, context: LambdaContext) -> Response:
    _runs_code_as_lake_owner(context, "change a function's configuration")
    env = request.get("Environment")
    variables = env.get("Variables", {}) if isinstance(env, dict) else None
    function = context.events.update_function_configuration(
        _name(request),
        handler=request.get("Handler"),
        role=request.get("Role"),
        runtime=request.get("Runtime"),
        timeout=request.get("Timeout"),
        memory_size=request.get("MemorySize"),
        environment=variables,
        description=request.get("Description"),
        principal=context.principal,
    )
    return function.configuration()


def get_function(request: Request, context: LambdaContext) -> Response:
    function = context.events.get_function(_name(request), principal=context.principal)
    return {
        "Configuration": function.configuration(),
        "Code": {"RepositoryType": "S3", "Location": ""},
    }


def list_functions(request: Request, context: LambdaContext) -> Response:
    found = context.events.list_functions(principal=context.principal)
    return {"Functions": [f.configuration() for f in found]}


def delete_function(request: Request, context: LambdaContext) -> Response:
    context.events.delete_function(_name(request), principal=context.principal)
    return {}


def invoke(request: Request, context: LambdaContext) -> Response:
    raw = request.get("Payload")
    event: Any = None
    if raw:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes | bytearray) else raw
        if isinstance(text, str):
            try:
                event = json.loads(text)
            except ValueError:
                raise AwsError(
                    "InvalidRequestContentException", "Could not parse request body into json"
                ) from None
        else:
            event = text
    kind = request.get("InvocationType") or "RequestResponse"
    result = context.events.invoke(
        _name(request), event, invocation_type=kind, principal=context.principal
    )
    if kind == "Event":
        return {"StatusCode": 202, "Payload": b""}
    if kind == "DryRun":
        return {"StatusCode": 204, "Payload": b""}
    out: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": result.payload,
        "ExecutedVersion": "$LATEST",
    }
    if result.function_error is not None:
        out["FunctionError"] = result.function_error
    if request.get("LogType") == "Tail":
        out["LogResult"] = result.log_result
    return out


def lake_account(context: Any) -> str:
    """The account every function belongs to: the lake's (its event service's), whoever
    calls. A function's ARN is built in it, so IAM refuses a principal of another account
    whatever its own policies allow (a resource of another account)."""
    try:
        return str(context.events.account_id)
    except (AttributeError, AwsError):
        return str(context.account_id)


def _lake_arn(context: Any, resource: str) -> str:
    return f"arn:aws:lambda:{context.region}:{lake_account(context)}:{resource}"


def _function(request: Request, context: Any) -> list[str]:
    name = _text(request, "FunctionName") or "*"
    if name.startswith("arn:"):
        return [name]  # another account's ARN is refused by IAM, then by the service
    parts = name.split(":")
    if len(parts) == 3 and parts[1] == "function":  # account:function:name
        return [f"arn:aws:lambda:{context.region}:{parts[0]}:function:{parts[2]}"]
    return [_lake_arn(context, f"function:{name}")]


def _functions(request: Request, context: Any) -> list[str]:
    """ListFunctions lists the lake account's functions: another account has none here."""
    return [_lake_arn(context, "function:*")]


def _passes_role(request: Request, context: Any) -> list[tuple[str, str]]:
    role = _text(request, "Role")
    return [("iam:PassRole", role)] if role is not None else []


API = ServiceApi(
    "Lambda",
    operations(
        ("CreateFunction", create_function, _function, _passes_role),
        ("UpdateFunctionCode", update_function_code, _function),
        ("UpdateFunctionConfiguration", update_function_configuration, _function, _passes_role),
        ("GetFunction", get_function, _function),
        ("ListFunctions", list_functions, _functions),
        ("DeleteFunction", delete_function, _function),
    )
    | {"Invoke": Operation("Invoke", invoke, _function, action="InvokeFunction")},
    error_code,
    INVALID,
    prefix="lambda",
)
