"""S3's REST-XML protocol, read and written with botocore's S3 model.

A request's members come from where the operation's input shape says (``location``:
``uri`` labels, ``querystring``, ``header``, ``headers`` prefix maps such as
``x-amz-meta-``, and the XML ``payload``); an answer's members go where the output shape
says (headers, status code, or the XML document). The XML is S3's: the namespace
``http://s3.amazonaws.com/doc/2006-03-01/``, members under their ``locationName``,
flattened lists repeated in place. The root element of an answer is not in the model
(botocore's parser skips it), so it is named here per operation, as S3 names it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from lakebox.api.base import AwsError
from lakebox.server.query import escape

if TYPE_CHECKING:
    from botocore.model import OperationModel, ServiceModel, Shape

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

#: the root element S3 gives each operation's XML answer
ROOTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListParts": "ListPartsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
}

#: the largest XML request body read (CompleteMultipartUpload of 10,000 parts is ~1 MiB)
MAX_XML_BYTES = 2 * 1024 * 1024


@functools.cache
def s3_model() -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model("s3")


def operation(name: str) -> OperationModel:
    return s3_model().operation_model(name)


# -- requests ------------------------------------------------------------------------------


def _scalar(shape: Shape, text: str, where: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidArgument", f"{where} must be an integer, not {text!r}") from None
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind == "timestamp":
        return parse_time(text, where)
    if kind == "blob":
        return text.encode("utf-8")
    return text


def parse_time(text: str, where: str) -> dt.datetime:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AwsError("InvalidArgument", f"{where} is not a date: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_input(
    op: OperationModel,
    labels: dict[str, str],
    query: dict[str, str],
    headers: dict[str, str],
    payload: bytes | None,
) -> dict[str, Any]:
    """The operation's input members from the request (a blob payload is left to the
    caller: it streams)."""
    shape = op.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    payload_name = shape.serialization.get("payload")
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = str(member.serialization.get("name") or name)
        if where == "uri":
            if wire in labels:
                params[name] = labels[wire]
        elif where == "querystring":
            if wire in query:
                params[name] = _scalar(member, query[wire], wire)
        elif where == "header":
            value = headers.get(wire.lower())
            if value is not None:
                params[name] = _scalar(member, value, wire)
        elif where == "headers":
            prefix = wire.lower()
            found = {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
            if found:
                params[name] = found
        elif name == payload_name and member.type_name == "structure" and payload:
            params[name] = parse_xml(member, payload)
    return params


def parse_xml(shape: Shape, body: bytes) -> dict[str, Any]:
    """An XML payload as the structure ``shape`` (unknown elements are ignored, as S3
    does)."""
    if len(body) > MAX_XML_BYTES:
        raise AwsError("MalformedXML", f"the XML body is larger than {MAX_XML_BYTES} bytes")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise AwsError(
            "MalformedXML",
            f"The XML you provided was not well-formed or did not validate against our "
            f"published schema ({exc})",
        ) from None
    value = _from_element(shape, root)
    return value if isinstance(value, dict) else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _from_element(shape: Shape, element: ElementTree.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        children = list(element)
        for name, member in shape.members.items():
            wire = str(member.serialization.get("name") or name)
            matches = [c for c in children if _local(c.tag) == wire]
            if not matches:
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                out[name] = [_from_element(member.member, c) for c in matches]
            else:
                out[name] = _from_element(member, matches[0])
        return out
    if kind == "list":
        item = shape.member
        return [_from_element(item, c) for c in element]
    if kind == "map":
        return {}
    return _scalar(shape, (element.text or "").strip(), _local(element.tag))


# -- answers -------------------------------------------------------------------------------


def iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def http_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return format_datetime(value.astimezone(dt.UTC), usegmt=True)
    return str(value)


def _text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return escape(iso(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode()
    return escape(str(value))


def _element(shape: Shape, name: str, value: Any) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"<{name}>{_members(shape, value)}</{name}>"
    if kind == "list":
        item = shape.member
        inner = str(item.serialization.get("name") or "member")
        return f"<{name}>" + "".join(_element(item, inner, v) for v in value) + f"</{name}>"
    return f"<{name}>{_text(shape, value)}</{name}>"


def _members(shape: Shape, value: dict[str, Any]) -> str:
    parts: list[str] = []
    for mname, member in shape.members.items():
        if mname not in value or value[mname] is None:
            continue
        if member.serialization.get("location"):
            continue
        wire = str(member.serialization.get("name") or mname)
        item = value[mname]
        if member.type_name == "list" and member.serialization.get("flattened"):
            parts.extend(_element(member.member, wire, v) for v in item)
        else:
            parts.append(_element(member, wire, item))
    return "".join(parts)


def serialize_output(
    op: OperationModel, result: dict[str, Any]
) -> tuple[int, dict[str, str], bytes | None, Any]:
    """(status, headers, XML body or None, the payload member's value when the payload is
    a blob) of an operation's result."""
    shape = op.output_shape
    status = int(op.http.get("responseCode", 200) or 200)
    headers: dict[str, str] = {}
    if shape is None:
        return status, headers, b"", None
    payload_name = shape.serialization.get("payload")
    body: bytes | None = None
    blob = None
    doc: dict[str, Any] = {}
    for name, value in result.items():
        member = shape.members.get(name)
        if member is None or value is None:
            continue
        where = member.serialization.get("location")
        wire = str(member.serialization.get("name") or name)
        if where == "header":
            if member.type_name == "timestamp":
                headers[wire] = http_date(value)
            elif member.type_name == "boolean":
                headers[wire] = "true" if value else "false"
            else:
                headers[wire] = str(value)
        elif where == "headers":
            for key, item in dict(value).items():
                headers[wire + str(key)] = str(item)
        elif where == "statusCode":
            status = int(value)
        elif name == payload_name:
            if member.type_name in ("blob", "string"):
                blob = value
            else:
                inner = _members(member, value)
                body = _document(wire, inner)
        else:
            doc[name] = value
    if body is None and payload_name is None and doc:
        root = ROOTS.get(op.name, f"{op.name}Result")
        body = _document(root, _members(shape, doc))
    elif body is None and payload_name is None and op.name in ROOTS:
        body = _document(ROOTS[op.name], "")
    return status, headers, body, blob


def _document(root: str, inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">{inner}</{root}>'
    ).encode()


def location_document(region: str | None) -> bytes:
    """GetBucketLocation's answer: the region as the element's text (empty for us-east-1)."""
    text = escape(region) if region else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<LocationConstraint xmlns="{NAMESPACE}">{text}</LocationConstraint>'
    ).encode()


def error_document(code: str, message: str, request_id: str, **extra: str) -> bytes:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{inner}"
        f"<RequestId>{escape(request_id)}</RequestId></Error>"
    ).encode()
