"""What every AWS service module of the API layer is made of.

A service module holds one :class:`ServiceApi`: its operation table (the AWS operation name,
``StartQueryExecution``, mapped to a handler taking and returning AWS-shaped dictionaries,
botocore's shape names) and the mapping from lakebox's exceptions to that service's AWS error
codes. Doors (the Step Functions task resources, the coming HTTP server) call
:func:`dispatch` and see only AWS shapes and :class:`AwsError`; handlers call the typed
service APIs and get those services from the context they are given, never by building a
lake.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lakebox.errors import LakeboxError
from lakebox.iam.errors import AccessDenied
from lakebox.principal import Principal

Request = dict[str, Any]
Response = dict[str, Any]


class AwsError(LakeboxError):
    """An AWS error answer: ``code`` is the service's error code (``InvalidRequestException``,
    ``NoSuchKey``, ``ExportTaskNotFoundFault``), ``message`` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ApiContext(Protocol):
    """Who calls and in which lake; each service module extends it with the services its
    handlers need (``AthenaContext.queries``, ...)."""

    @property
    def principal(self) -> Principal: ...

    @property
    def account_id(self) -> str: ...

    @property
    def region(self) -> str: ...


Handler = Callable[[Request, Any], Response]

#: the ARNs an operation acts on, built from its own input members (and, for a member that
#: names a thing by id, what the context's services say of it); ``["*"]`` for none
Resources = Callable[[Request, Any], Sequence[str]]

#: an extra check an operation needs besides ``<prefix>:<Operation>`` on its resources:
#: ``(action, resource)`` pairs (``iam:PassRole`` on the role a state machine is given)
Extra = Callable[[Request, Any], Sequence[tuple[str, str]]]


def _anything(request: Request, context: Any) -> Sequence[str]:
    return ["*"]


def _nothing(request: Request, context: Any) -> Sequence[tuple[str, str]]:
    return []


@dataclass(frozen=True)
class Operation:
    """One AWS operation: its name, the handler answering it, and the resources it is
    authorized against (built from its own members, never guessed by a door)."""

    name: str
    handler: Handler
    resources: Resources = _anything
    extra: Extra = _nothing
    #: the IAM action's name when it is not the operation's (Lambda's Invoke is
    #: ``lambda:InvokeFunction``)
    action: str = ""


@dataclass(frozen=True)
class ServiceApi:
    """One AWS service: its operations by name and its error-code mapping. ``invalid`` is the
    code the service answers a malformed request with."""

    name: str
    operations: Mapping[str, Operation]
    error_code: Callable[[LakeboxError], str]
    invalid: str
    #: the IAM action prefix (``states`` for Step Functions); the name when empty
    prefix: str = ""
    #: operations that authorize themselves (IAM's, STS's AssumeRole): :func:`call` leaves
    #: them to their handler
    self_authorized: frozenset[str] = field(default_factory=frozenset)
    #: the code of an access-denied answer (``AccessDenied`` for the query services)
    denied: str = "AccessDeniedException"

    @property
    def action_prefix(self) -> str:
        return self.prefix or self.name

    def error(self, exc: LakeboxError) -> AwsError:
        if isinstance(exc, AwsError):
            return exc
        return AwsError(self.error_code(exc), str(exc))


def operations(
    *ops: tuple[str, Handler]
    | tuple[str, Handler, Resources]
    | tuple[str, Handler, Resources, Extra],
) -> dict[str, Operation]:
    """An operation table from ``(name, handler[, resources[, extra]])`` tuples."""
    return {op[0]: Operation(*op) for op in ops}


def arn(context: Any, service: str, resource: str, *, regional: bool = True) -> str:
    """``arn:aws:<service>:<region>:<account>:<resource>`` in the caller's account (the
    account a handler acts in: the principal's, as every door gives it)."""
    region = context.region if regional else ""
    principal = getattr(context, "principal", None)
    account = principal.account_id if principal is not None else context.account_id
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def require_unrestricted(context: Any, doing: str, because: str) -> None:
    """Refuse ``doing`` unless the caller may do anything in the lake's account
    (``IamService.unrestricted``): for work that runs with more power than an IAM policy can
    grant, such as code run as the lake's operating-system user. ``because`` says why, for
    the error message."""
    caller = context.principal
    if caller.is_local_admin:
        return
    try:
        iam = getattr(context, "iam", None)
    except AwsError:  # a door that offers no identity service: only the local admin passes
        iam = None
    if iam is not None and iam.unrestricted(caller):
        return
    raise AwsError(
        "AccessDeniedException",
        f"User: {caller.arn} may not {doing}: {because}, so only a principal of the lake's "
        "account allowed every action, with no Deny, may",
    )


def text(request: Any, name: str) -> str | None:
    """A string member, or None when it is absent or not a string (the handler refuses it)."""
    value = request.get(name) if isinstance(request, dict) else None
    return value if isinstance(value, str) and value else None


#: (identity service, its policy version) -> whether it knows any user; asked once per change
_IDENTITIES: dict[int, tuple[int, bool]] = {}
_IDENTITIES_LOCK = threading.Lock()


def _has_identities(iam: Any) -> bool:
    """Whether the lake has identities at all (a lake no one has made a user in has only
    its local administrator: a principal a program names there is not checked)."""
    version = iam.policy_version()
    with _IDENTITIES_LOCK:
        known = _IDENTITIES.get(id(iam))
    if known is not None and known[0] == version:
        return known[1]
    found = bool(iam.list_users(all_accounts=True))
    with _IDENTITIES_LOCK:
        if len(_IDENTITIES) > 64:
            _IDENTITIES.clear()
        _IDENTITIES[id(iam)] = (version, found)
    return found


def authorize(api: ServiceApi, op: Operation, request: Request, context: Any) -> None:
    """Raise the service's access-denied AwsError unless the context's principal may call
    ``op`` on every resource it declares, with the identity service the door gave the
    context (the HTTP server and Step Functions tasks always give one). Not checked: the
    local administrator (the embedded default), operations that authorize themselves, a
    context with no identity service (an in-process caller's own), and a lake with no
    identities."""
    principal = getattr(context, "principal", None)
    if principal is None or principal.is_local_admin or op.name in api.self_authorized:
        return
    try:
        iam = context.iam
    except (AttributeError, AwsError):
        return
    if not _has_identities(iam):
        return
    action = f"{api.action_prefix}:{op.action or op.name}"
    checks = [(action, r) for r in op.resources(request, context)]
    checks += list(op.extra(request, context))
    for action, resource in checks:
        try:
            iam.authorize(principal, action, resource)
        except AccessDenied as exc:
            raise AwsError(api.denied, str(exc)) from None


def call(api: ServiceApi, operation: str, request: Any, context: Any) -> Response:
    """Run ``operation`` of ``api``: lakebox errors leave as the service's AWS error codes."""
    op = api.operations.get(operation)
    if op is None:
        raise AwsError(
            "UnknownOperationException",
            f"{api.name} has no operation {operation!r} in lakebox "
            f"(known: {', '.join(sorted(api.operations))})",
        )
    if request is None:
        request = {}
    if not isinstance(request, dict):
        raise AwsError(api.invalid, "parameters must be an object")
    try:
        authorize(api, op, request, context)
        return op.handler(request, context)
    except LakeboxError as exc:
        raise api.error(exc) from exc


# -- request validation: the message names the bad field, as AWS's validation does ------------


def member(name: str) -> str:
    """AWS names a request member in camelCase in validation messages (``queryString``)."""
    return name[0].lower() + name[1:]


def required_str(request: Request, name: str, code: str) -> str:
    value = request.get(name)
    if not isinstance(value, str) or not value:
        raise AwsError(
            code,
            f"1 validation error detected: Value at '{member(name)}' failed to satisfy "
            "constraint: Member must not be null",
        )
    return value


def optional_int(request: Request, name: str, code: str, default: int) -> int:
    value = request.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AwsError(code, f"{name} must be an integer")
    try:
        return int(value)
    except ValueError:
        raise AwsError(code, f"{name} must be an integer") from None


def str_list(request: Request, name: str, code: str) -> list[str]:
    value = request.get(name)
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise AwsError(code, f"{name} must be a list of strings")
    return value
