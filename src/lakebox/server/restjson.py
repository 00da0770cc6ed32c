"""The REST-JSON protocol (EventBridge Scheduler): each operation has an HTTP method and a
URI template in botocore's model (``POST /schedules/{Name}``); a request's members come from
the URI's labels, the query string, headers and the JSON body, as the model places them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from lakebox.server.models import BadRequest, Service, from_json
from lakebox.server.query import _scalar

if TYPE_CHECKING:
    from botocore.model import OperationModel, Shape


@dataclass(frozen=True)
class Route:
    """One operation's URI template, compiled."""

    operation: str
    method: str
    pattern: re.Pattern[str]
    literal: int  # characters of fixed text: more specific templates win
    required_query: tuple[str, ...]


def _compile(op: OperationModel) -> Route:
    uri = str(op.http.get("requestUri", "/"))
    path, _, query = uri.partition("?")
    regex = ""
    literal = 0
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            label = part[1:-1]
            if label.endswith("+"):
                regex += f"(?P<{label[:-1]}>.+)"
            else:
                regex += f"(?P<{label}>[^/]+)"
        else:
            regex += re.escape(part)
            literal += len(part)
    required = tuple(k for k, _ in parse_qsl(query, keep_blank_values=True))
    return Route(
        op.name, str(op.http.get("method", "POST")), re.compile(f"^{regex}/?$"), literal, required
    )


class RestJsonRoutes:
    """Finds the operation a method and path name, for one REST-JSON service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        ops = [service.model.operation_model(n) for n in service.model.operation_names]
        self.routes = sorted((_compile(op) for op in ops), key=lambda r: -r.literal)

    def match(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[str, dict[str, str]] | None:
        """``(operation, labels)`` for the request, or None when no operation has that
        method and path."""
        for route in self.routes:
            if route.method != method:
                continue
            found = route.pattern.match(path)
            if found is None or not all(k in query for k in route.required_query):
                continue
            return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


def _from_text(shape: Shape, text: str, where: str) -> Any:
    return _scalar(shape, text, where)


def parse_request(
    op: OperationModel,
    labels: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
    decode_json: Any,
) -> dict[str, Any]:
    """The request dict of a REST-JSON operation. ``decode_json`` reads the body (the door's
    reader, which turns malformed JSON into the service's validation error)."""
    shape = op.input_shape
    if shape is None:
        return {}
    out: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    #: body members by their name on the wire -> (member, shape)
    body_members: dict[str, tuple[str, Shape]] = {}
    for member, mshape in shape.members.items():
        where = mshape.serialization.get("location")
        name = str(mshape.serialization.get("name") or member)
        if where == "uri":
            if name in labels:
                out[member] = _from_text(mshape, labels[name], member)
        elif where == "querystring":
            if mshape.type_name == "list":
                if name in query:
                    out[member] = [_from_text(mshape.member, v, member) for v in query[name]]
            elif mshape.type_name == "map":
                out[member] = {k: v[-1] for k, v in query.items()}
            elif name in query:
                out[member] = _from_text(mshape, query[name][-1], member)
        elif where == "header":
            if name.lower() in headers:
                out[member] = _from_text(mshape, headers[name.lower()], member)
        elif where == "headers":
            prefix = name.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                out[member] = found
        elif payload is None or member == payload:
            body_members[name] = (member, mshape)
    if not body or not body_members:
        return out
    if payload is not None and shape.members[payload].type_name == "blob":
        out[payload] = body  # the body itself (Lambda's Invoke payload), not JSON around it
        return out
    doc = decode_json(body)
    if payload is not None:
        _, pshape = next(iter(body_members.values()))
        out[payload] = from_json(pshape, doc, payload)
        return out
    if not isinstance(doc, dict):
        raise BadRequest("the request body must be a JSON object")
    for key, value in doc.items():
        known = body_members.get(key)
        if known is None:
            # a member the body does not carry (or one the path does) is refused, as AWS
            # does: nothing the operation does not declare reaches its handler
            raise BadRequest(
                f"the request body has no member {key!r} (known: {', '.join(sorted(body_members))})"
            )
        member, mshape = known
        out[member] = from_json(mshape, value, member)
    return out
