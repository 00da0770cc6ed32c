"""Record transforms with Firehose's Lambda contract.

A transform is a Python callable ``fn(event, context) -> {"records": [...]}`` receiving
``{"invocationId", "deliveryStreamArn", "region", "records": [{"recordId",
"approximateArrivalTimestamp", "data" (base64)}]}`` and returning one entry per record with
``recordId``, ``result`` (``Ok`` | ``Dropped`` | ``ProcessingFailed``), ``data`` (base64)
and optionally ``metadata.partitionKeys`` (for ``!{partitionKeyFromLambda:...}``).

Functions are found by name in a registry, by ``module:function`` import path (so a CLI
process can load them), or by a Lambda ARN whose function name is registered.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from lakebox.errors import InvalidRequestError

Transform = Callable[[dict[str, Any], Any], dict[str, Any]]

_REGISTRY: dict[str, Transform] = {}
FLATTEN_JSON = "lakebox-flatten-json"


def register_transform(name: str, fn: Transform) -> None:
    _REGISTRY[name] = fn


def unregister_transform(name: str) -> None:
    _REGISTRY.pop(name, None)


def resolve_transform(ref: str) -> Transform:
    """A registered name, ``arn:aws:lambda:...:function:NAME[:qualifier]`` or
    ``package.module:function``."""
    name = ref
    if ref.startswith("arn:aws:lambda:"):
        parts = ref.split(":")
        name = parts[6] if len(parts) > 6 else ref
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in ref and not ref.startswith("arn:"):
        module, _, attr = ref.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise InvalidRequestError(f"transform {ref!r} cannot be imported: {err}") from err
        if not callable(fn):
            raise InvalidRequestError(f"transform {ref!r} is not callable")
        return fn
    raise InvalidRequestError(
        f"no transform named {name!r}: register it with "
        "lakebox.ingest.register_transform(name, fn) or use 'module:function'"
    )


def flatten(doc: dict[str, Any], sep: str = "_") -> dict[str, Any]:
    """Nested objects become one level: ``{"a": {"b": 1}}`` -> ``{"a_b": 1}``; arrays stay
    values (flattening them would make the column set depend on the data)."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}{sep}{key}" if prefix else str(key), inner)
        else:
            out[prefix] = value

    for key, value in doc.items():
        walk(str(key), value)
    return out


def flatten_json_transform(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Built-in transform: flattens each JSON object record; other records fail."""
    results = []
    # Fractional numbers travel as marked strings and are unquoted again, so a 38-digit
    # decimal keeps its exact text (json would round it through a float).
    token = uuid.uuid4().hex
    marked = re.compile(r'"\\u0000' + token + r':([^"]*)"')
    for rec in event["records"]:
        try:
            doc = json.loads(
                base64.b64decode(rec["data"]), parse_float=lambda s: f"\x00{token}:{s}"
            )
            if not isinstance(doc, dict):
                raise ValueError("record is not a JSON object")
            text = json.dumps(flatten(doc), separators=(",", ":"))
            data = marked.sub(r"\1", text).encode() + b"\n"
            results.append(
                {
                    "recordId": rec["recordId"],
                    "result": "Ok",
                    "data": base64.b64encode(data).decode(),
                }
            )
        except ValueError:
            results.append(
                {"recordId": rec["recordId"], "result": "ProcessingFailed", "data": rec["data"]}
            )
    return {"records": results}


register_transform(FLATTEN_JSON, flatten_json_transform)
