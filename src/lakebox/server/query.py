"""The AWS query protocol (IAM, STS, RDS): requests are form-encoded ``Action=...&Version=...``
with members flattened into dotted names (``Tags.member.1.Key``), answers are XML
(``<OpResponse><OpResult>...</OpResult><ResponseMetadata>``). Both directions are driven by
the operation's shapes in botocore's model, so every operation of a served service is read
and written the way botocore writes and reads it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as _escape

from lakebox.server.models import BadRequest, _timestamp_in, iso8601

if TYPE_CHECKING:
    from botocore.model import Shape

#: characters XML 1.0 cannot hold at all (not even escaped)
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    """``text`` as XML character data; characters XML cannot carry become U+FFFD."""
    return _escape(_NOT_XML.sub("\ufffd", text))


#: how many members one list or map of a request may have (a bound on hostile input)
MAX_ITEMS = 10_000
#: how many parameters one request may have
MAX_PARAMETERS = 100_000
#: how long one parameter name may be, and how many dotted parts it may have (the deepest
#: name botocore writes for a served operation has a handful; every prefix is indexed)
MAX_NAME_LENGTH = 1024
MAX_NAME_PARTS = 16


def _name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name") or default)


class Form(dict[str, str]):
    """A request's parameters, with every dotted prefix of their names indexed, so that
    "is anything under ``Tags.member.3``" is one look-up, not a scan (a hostile request
    may hold many thousands of parameters)."""

    def __init__(self, params: dict[str, str]) -> None:
        super().__init__(params)
        self.prefixes: set[str] = set()
        for name in params:
            if len(name) > MAX_NAME_LENGTH:
                raise BadRequest(
                    f"the parameter name {name[:64]!r}... is longer than {MAX_NAME_LENGTH} "
                    "characters"
                )
            parts = name.split(".", MAX_NAME_PARTS)
            if len(parts) > MAX_NAME_PARTS:
                raise BadRequest(
                    f"the parameter name {name[:64]!r}... has more than {MAX_NAME_PARTS} "
                    "dotted parts"
                )
            for i in range(1, len(parts) + 1):
                self.prefixes.add(".".join(parts[:i]))


def _present(params: Form, key: str) -> bool:
    return key in params.prefixes


def _scalar(shape: Shape, text: str, where: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            number = int(text) if len(text) <= 24 else None
        except ValueError:
            number = None
        if number is None:
            raise BadRequest(f"{where} must be an integer, not {text[:64]!r}")
        bits = 31 if kind == "integer" else 63
        if not -(2**bits) <= number < 2**bits:
            raise BadRequest(f"{where} is out of range for a {kind}: {text!r}")
        return number
    if kind in ("float", "double"):
        try:
            value = float(text) if len(text) <= 64 else None
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise BadRequest(f"{where} must be a finite number, not {text[:64]!r}")
        return value
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise BadRequest(f"{where} must be true or false, not {text!r}")
        return text.lower() == "true"
    if kind == "timestamp":
        return _timestamp_in(text, where)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(f"{where} is not valid base64") from None
    return text


def _value(shape: Shape, params: Form, key: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if not _present(params, key):
            return None
        return parse_structure(shape, params, key + ".")
    if kind == "list":
        if params.get(key) == "":
            return []
        member: Shape = shape.member
        flat = bool(shape.serialization.get("flattened"))
        base = key if flat else f"{key}.{_name(member, 'member')}"
        items = []
        for i in range(1, MAX_ITEMS + 1):
            item_key = f"{base}.{i}"
            if not _present(params, item_key):
                break
            items.append(_value(member, params, item_key))
        if _present(params, f"{base}.{MAX_ITEMS + 1}"):
            raise BadRequest(f"{key} has more than {MAX_ITEMS} members")
        return items if items or _present(params, key) else None
    if kind == "map":
        flat = bool(shape.serialization.get("flattened"))
        base = key if flat else f"{key}.entry"
        kname = _name(shape.key, "key")
        vname = _name(shape.value, "value")
        out: dict[str, Any] = {}
        for i in range(1, MAX_ITEMS + 1):
            k = params.get(f"{base}.{i}.{kname}")
            if k is None:
                break
            out[k] = _value(shape.value, params, f"{base}.{i}.{vname}")
        if _present(params, f"{base}.{MAX_ITEMS + 1}"):
            raise BadRequest(f"{key} has more than {MAX_ITEMS} entries")
        return out if out or _present(params, key) else None
    text = params.get(key)
    return None if text is None else _scalar(shape, text, key)


def parse_structure(
    shape: Shape | None, params: dict[str, str], prefix: str = ""
) -> dict[str, Any]:
    """The request dict of a query-protocol operation from its form parameters."""
    if shape is None:
        return {}
    form = params if isinstance(params, Form) else Form(params)
    out: dict[str, Any] = {}
    for member, mshape in shape.members.items():
        value = _value(mshape, form, prefix + _name(mshape, member))
        if value is not None:
            out[member] = value
    return out


# -- answers ----------------------------------------------------------------------------------


def _text(shape: Shape | None, value: Any) -> str:
    kind = shape.type_name if shape is not None else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "timestamp" or isinstance(value, dt.datetime):
        return escape(iso8601(value))
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return escape(str(value))


def _element(name: str, shape: Shape | None, value: Any, out: list[str]) -> None:
    kind = shape.type_name if shape is not None else ""
    if value is None:
        return
    if kind == "structure" or (shape is None and isinstance(value, dict)):
        out.append(f"<{name}>")
        structure_body(shape, value, out)
        out.append(f"</{name}>")
    elif kind == "list" or (shape is None and isinstance(value, list | tuple)):
        member = shape.member if shape is not None else None
        tag = _name(member, "member") if member is not None else "member"
        if shape is not None and shape.serialization.get("flattened"):
            for item in value:
                _element(name, member, item, out)
            return
        out.append(f"<{name}>")
        for item in value:
            _element(tag, member, item, out)
        out.append(f"</{name}>")
    elif shape is not None and kind == "map":
        kname = _name(shape.key, "key")
        vname = _name(shape.value, "value")
        out.append(f"<{name}>")
        for k, v in value.items():
            out.append(f"<entry><{kname}>{escape(str(k))}</{kname}>")
            _element(vname, shape.value, v, out)
            out.append("</entry>")
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_text(shape, value)}</{name}>")


def structure_body(shape: Shape | None, value: dict[str, Any], out: list[str]) -> None:
    members = shape.members if shape is not None else {}
    for key, item in value.items():
        mshape = members.get(key)
        _element(_name(mshape, key) if mshape is not None else key, mshape, item, out)


def response_xml(
    operation: str,
    shape: Shape | None,
    result: dict[str, Any],
    request_id: str,
    namespace: str | None,
) -> str:
    """``<OpResponse><OpResult>...</OpResult><ResponseMetadata>...`` as botocore reads it."""
    ns = f' xmlns="{escape(namespace)}"' if namespace else ""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response{ns}>']
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{operation}Result"
        out.append(f"<{wrapper}>")
        structure_body(shape, result, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
    out.append(f"</{operation}Response>")
    return "".join(out)


def error_xml(code: str, message: str, request_id: str, sender: bool = True) -> str:
    kind = "Sender" if sender else "Receiver"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
