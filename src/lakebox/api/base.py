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

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lakebox.errors import LakeboxError
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


@dataclass(frozen=True)
class Operation:
    """One AWS operation: its name and the handler answering it."""

    name: str
    handler: Handler


@dataclass(frozen=True)
class ServiceApi:
    """One AWS service: its operations by name and its error-code mapping. ``invalid`` is the
    code the service answers a malformed request with."""

    name: str
    operations: Mapping[str, Operation]
    error_code: Callable[[LakeboxError], str]
    invalid: str

    def error(self, exc: LakeboxError) -> AwsError:
        if isinstance(exc, AwsError):
            return exc
        return AwsError(self.error_code(exc), str(exc))


def operations(*ops: tuple[str, Handler]) -> dict[str, Operation]:
    """An operation table from ``(name, handler)`` pairs."""
    return {name: Operation(name, handler) for name, handler in ops}


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
