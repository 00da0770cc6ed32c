"""What the server knows of each AWS service it serves, read from botocore's own service
models (the same files boto3 serialises requests with): protocol, ``X-Amz-Target`` prefix,
signing name, operations with their HTTP bindings, and the HTTP status of each error code.

The wire is converted to and from the Python shapes the API layer's handlers take and
give (botocore's shapes as boto3 users see them: ``datetime`` for timestamps, ``bytes``
for blobs), so a handler never sees a protocol.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.model import OperationModel, ServiceModel, Shape

#: the services the server answers: the SigV4 signing name (credential scope) -> botocore's
#: service name (the API layer's key). The signing name is also the IAM action prefix.
SERVED: dict[str, str] = {
    "athena": "athena",
    "glue": "glue",
    "states": "stepfunctions",
    "firehose": "firehose",
    "dynamodb": "dynamodb",
    "scheduler": "scheduler",
    "iam": "iam",
    "sts": "sts",
    "rds": "rds",
    "secretsmanager": "secretsmanager",
    "sns": "sns",
    "events": "events",
    "lambda": "lambda",
    "lakeformation": "lakeformation",
}

#: the ``X-Amz-Target`` prefix of each served JSON service -> its signing name (the models'
#: ``metadata.targetPrefix``; a test checks them), so routing needs no model loaded
TARGETS: dict[str, str] = {
    "AmazonAthena": "athena",
    "AWSGlue": "glue",
    "AWSStepFunctions": "states",
    "Firehose_20150804": "firehose",
    "DynamoDB_20120810": "dynamodb",
    "secretsmanager": "secretsmanager",
    "AWSEvents": "events",
}

#: codes whose HTTP status is not 400 when the model does not say
_STATUS_BY_CODE = {
    "InternalServerException": 500,
    "InternalFailure": 500,
    "InternalServiceError": 500,
    "InternalServerError": 500,
    "ServiceUnavailableException": 503,
    "ServiceUnavailable": 503,
    "AccessDeniedException": 400,
    "AccessDenied": 403,
    "UnknownOperationException": 400,
    "ResourceNotFoundException": 400,
}


class BadRequest(Exception):
    """The request's wire form cannot be read against the model (a value of the wrong
    type, a timestamp or blob that does not decode); the door answers it with the
    service's validation error."""


@dataclass
class Service:
    """One served service: its botocore model and what routing needs from it."""

    signing_name: str
    name: str
    model: ServiceModel
    _statuses: dict[str, int] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        return str(self.model.metadata.get("protocol", ""))

    @property
    def target_prefix(self) -> str | None:
        prefix = self.model.metadata.get("targetPrefix")
        return str(prefix) if prefix else None

    @property
    def xml_namespace(self) -> str | None:
        ns = self.model.metadata.get("xmlNamespace")
        return str(ns) if ns else None

    def operation(self, name: str) -> OperationModel | None:
        if name not in self.model.operation_names:
            return None
        return self.model.operation_model(name)

    def status(self, code: str) -> int:
        """The HTTP status AWS answers error ``code`` with (the model's, else 400)."""
        if not self._statuses:
            for shape in self.model.error_shapes:
                error = shape.metadata.get("error") or {}
                status = error.get("httpStatusCode")
                if isinstance(status, int):
                    self._statuses[error.get("code") or shape.name] = status
                    self._statuses[shape.name] = status
                elif shape.metadata.get("fault"):
                    self._statuses[shape.name] = 500
            self._statuses.setdefault("", 400)
        return self._statuses.get(code) or _STATUS_BY_CODE.get(code, 400)


class Catalogue:
    """The served services, their models loaded once (botocore's loader is not cheap)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[str, Service] = {}

    def by_signing_name(self, signing_name: str) -> Service | None:
        name = SERVED.get(signing_name)
        if name is None:
            return None
        with self._lock:
            found = self._services.get(signing_name)
            if found is None:
                import botocore.session

                model = botocore.session.get_session().get_service_model(name)
                found = self._services[signing_name] = Service(signing_name, name, model)
            return found

    def by_target(self, target: str) -> Service | None:
        """The service an ``X-Amz-Target`` header (``AmazonAthena.StartQueryExecution``)
        names by its prefix."""
        found = TARGETS.get(target.rsplit(".", 1)[0])
        return self.by_signing_name(found) if found else None

    def load_all(self) -> None:
        """Load every model now (the server does it in the background at start-up, so
        the first request of a service seldom pays for it)."""
        for signing in SERVED:
            self.by_signing_name(signing)


# -- wire values -> handler values ------------------------------------------------------------


def _timestamp_in(value: Any, where: str) -> dt.datetime:
    if isinstance(value, bool):
        raise BadRequest(f"{where} must be a timestamp")
    if isinstance(value, int | float):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise BadRequest(f"{where} is not a valid timestamp: {value!r}") from None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            try:
                return dt.datetime.fromtimestamp(number, dt.UTC)
            except (OverflowError, OSError, ValueError):
                raise BadRequest(f"{where} is not a valid timestamp: {value!r}") from None
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"{where} is not a valid timestamp: {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise BadRequest(f"{where} must be a timestamp")


def _blob_in(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be base64-encoded binary data")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{where} is not valid base64") from None


#: how deeply a request's values may nest (DynamoDB allows 32 levels of attribute values,
#: each two JSON levels deep; no other served operation comes near)
MAX_DEPTH = 80

#: the range of the models' integer types (AWS's are Java's int and long)
_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


_SPECIAL_FLOATS = ("NaN", "Infinity", "-Infinity")


def _scalar_in(kind: str, value: Any, where: str) -> Any:
    """A JSON scalar checked against its shape's type, as AWS's deserialisers check it."""
    name = where or "the request"
    if kind == "string":
        if not isinstance(value, str):
            raise BadRequest(f"{name} must be a string, not {_json_kind(value)}")
    elif kind in _INT_RANGE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{name} must be an integer, not {_json_kind(value)}")
        low, high = _INT_RANGE[kind]
        if not low <= value <= high:
            raise BadRequest(f"{name} is out of range for a {kind} ({low} to {high})")
    elif kind in ("float", "double"):
        if value in _SPECIAL_FLOATS:
            return float(value)  # how botocore (Smithy) writes them: JSON has no NaN
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{name} must be a number, not {_json_kind(value)}")
        if isinstance(value, int) and abs(value) > 2**1023:
            raise BadRequest(f"{name} is out of range for a {kind}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false, not {_json_kind(value)}")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def missing_required(shape: Shape | None, value: Any, where: str = "") -> str | None:
    """The first required member (``Tags[0].Key``) a parsed request lacks, if any: AWS
    refuses such a request before the operation sees it."""
    if shape is None or not isinstance(value, dict) or shape.type_name != "structure":
        return None
    for name in shape.required_members:
        if value.get(name) is None:
            return f"{where}.{name}" if where else name
    for name, mshape in shape.members.items():
        item = value.get(name)
        path = f"{where}.{name}" if where else name
        if mshape.type_name == "structure":
            found = missing_required(mshape, item, path)
        elif mshape.type_name == "list" and isinstance(item, list):
            found = next(
                (
                    f
                    for i, v in enumerate(item)
                    if (f := missing_required(mshape.member, v, f"{path}[{i}]")) is not None
                ),
                None,
            )
        else:
            found = None
        if found is not None:
            return found
    return None


def from_json(shape: Shape | None, value: Any, where: str = "", depth: int = 0) -> Any:
    """A JSON-protocol request value as the handler takes it: timestamps become aware
    ``datetime``, blobs ``bytes``. A member the model does not know is refused (as AWS
    does), so nothing the operation does not declare reaches its handler; a value of the
    wrong type, an integer out of its type's range, or nesting deeper than ``MAX_DEPTH``
    is refused too."""
    if shape is None or value is None:
        return value
    if depth > MAX_DEPTH:
        raise BadRequest(f"{where} is nested more than {MAX_DEPTH} levels deep")
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise BadRequest(f"{where or 'the request'} must be an object")
        members = shape.members
        unknown = [k for k in value if k not in members]
        if unknown:
            raise BadRequest(
                f"{where or 'the request'} has no member {unknown[0]!r} "
                f"(known: {', '.join(sorted(members)) or 'none'})"
            )
        return {
            k: from_json(members[k], v, f"{where}.{k}" if where else k, depth + 1)
            for k, v in value.items()
        }
    if kind == "list":
        if not isinstance(value, list):
            raise BadRequest(f"{where} must be a list, not {_json_kind(value)}")
        member = shape.member
        return [from_json(member, v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise BadRequest(f"{where} must be an object, not {_json_kind(value)}")
        vshape = shape.value
        return {k: from_json(vshape, v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    if kind == "timestamp":
        return _timestamp_in(value, where)
    if kind == "blob":
        return _blob_in(value, where)
    return _scalar_in(kind, value, where)


def _timestamp_out(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return when
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            return _timestamp_in(value, "")
        except BadRequest:
            return value
    return value


def _epoch(value: Any) -> Any:
    when = _timestamp_out(value)
    return when.timestamp() if isinstance(when, dt.datetime) else when


def to_json(shape: Shape | None, value: Any) -> Any:
    """A handler's answer as the JSON protocols put it on the wire: timestamps as epoch
    seconds, blobs base64; members the model does not know pass through."""
    if isinstance(value, dict):
        if shape is not None and shape.type_name == "structure":
            members = shape.members
            return {k: to_json(members.get(k), v) for k, v in value.items() if v is not None}
        vshape = shape.value if shape is not None and shape.type_name == "map" else None
        return {k: to_json(vshape, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        member = shape.member if shape is not None and shape.type_name == "list" else None
        return [to_json(member, v) for v in value]
    if shape is not None and shape.type_name == "timestamp":
        return _epoch(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def iso8601(value: Any) -> str:
    """A timestamp as the query / XML protocols write it."""
    when = _timestamp_out(value)
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return str(value)
