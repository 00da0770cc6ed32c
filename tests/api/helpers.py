"""Checks of request and response shapes against botocore's service models."""

from __future__ import annotations

from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import validate_parameters

from lakebox.api import dispatch
from lakebox.api.context import ServiceContext

#: lakebox's documented additions to AWS's responses are named with this prefix
EXTENSION = "Lakebox"
_BOTOCORE = botocore.session.get_session()
_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (str, int, float),
    "blob": (str, bytes),
}


def _check(shape: Shape, value: Any, where: str, loose: frozenset[str]) -> None:
    if isinstance(shape, StructureShape):
        assert isinstance(value, dict), f"{where}: {value!r} is not an object"
        for key, item in value.items():
            if key.startswith(EXTENSION) or item is None:  # null: an absent member
                continue
            assert key in shape.members, f"{where}.{key} is not a member of {shape.name}"
            if key not in loose:
                _check(shape.members[key], item, f"{where}.{key}", loose)
    elif isinstance(shape, ListShape):
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for i, item in enumerate(value):
            _check(shape.member, item, f"{where}[{i}]", loose)
    elif isinstance(shape, MapShape):
        assert isinstance(value, dict), f"{where}: {value!r} is not a map"
        for key, item in value.items():
            _check(shape.value, item, f"{where}[{key!r}]", loose)
    else:
        types = _SCALARS[shape.type_name]
        assert isinstance(value, types), f"{where}: {value!r} is not a {shape.type_name}"
        if shape.type_name in ("integer", "long", "double", "float"):
            assert not isinstance(value, bool), f"{where}: {value!r} is not a number"


def call(
    ctx: ServiceContext,
    service: str,
    operation: str,
    request: dict[str, Any],
    *,
    loose: frozenset[str] = frozenset(),
) -> Any:
    """Dispatch a request after checking it against botocore's input shape, and check the
    response against the output shape: the round trip a boto3 client would make. Members
    named in ``loose`` are checked for presence only (a known difference of lakebox's)."""
    model = _BOTOCORE.get_service_model(service).operation_model(operation)
    if model.input_shape is not None:
        validate_parameters(request, model.input_shape)
    response = dispatch(service, operation, request, ctx)
    if model.output_shape is not None:
        _check(model.output_shape, response, operation, loose)
    else:
        assert response == {}
    return response
